//! Seeded, randomized cancellation storms (issue 3; CONTRACT rules 1, 3, 4, 5, 6 and 8).
//!
//! Each test runs rounds. A round puts producers and consumers on one channel: tasks on a tokio
//! multi-thread runtime (2 workers) and/or plain threads with the blocking calls. Every operation
//! is picked at random: a plain send / receive, one raced in `tokio::select!` against a short
//! sleep or `yield_now`, one under `tokio::time::timeout`, one polled once by hand and dropped,
//! `try_send` / `try_recv`, `Stream::next`, `send_timeout` / `recv_timeout` with tiny timeouts.
//! Some rounds close the channel midway: `close()` on a random handle, or every sender / every
//! receiver leaves.
//!
//! Every message records its fate in a per-round [`Ledger`], one byte per id: received,
//! returned in an error, dropped with a cancelled send (its `Drop` ran inside the drop of the send
//! future that held it), or dropped anywhere else. At the end of a round, with every party
//! finished, each id created has exactly one fate, and:
//!
//! - a send that returned `Ok(())` (async, blocking or timed) had its message received (rule 1),
//! - a `try_send` that returned `Ok(())` had its message received, unless every receiver left
//!   while it was held (rule 5),
//! - a message dropped with its send belongs to a send that was cancelled before it resolved,
//! - nothing else was dropped (rule 3): no receive lost a message, nothing was left behind,
//! - within one consumer, the messages of one producer arrive in order (those that went through
//!   `try_send` excepted: a held message may be taken after a later one).
//!
//! A message received after its send was cancelled (a receive took it just before the drop) counts
//! as received: that is the documented race, and the summary line reports how often it happened.
//!
//! The select storm (rule 11) puts 2-4 selectors, plain senders and plain receivers, tasks and
//! threads, on a pool of 3-4 channels. A selector runs `select!`, `select_blocking!` or a `Select`
//! over 2-4 send and receive arms on random channels, withdrawn by tiny timeouts, `default`, or a
//! drop after one poll. Besides the rules above:
//!
//! - the message of a send arm not selected (another arm won, or `default`) is never received;
//!   it is dropped with the select, or given back by `Select::take_unsent`,
//! - of the send arms of a withdrawn select, at most one was received,
//! - a receive arm of a withdrawn select loses nothing (a message it took would be dropped
//!   outside any send),
//! - an arm selected with `Err` is on a closed channel, and a send arm gives back its own message,
//! - the parties' own counts of received, returned and delivered messages equal the ledger's.
//!
//! A round ends when the parties stop making progress (those left wait for peers that will not
//! come): the channels are then closed, in a random order.
//!
//! The random decisions come from a splitmix64 generator seeded from `RENDEZ_SEED` (decimal or
//! `0x` hex) or the clock; the seed is printed, and is part of every failure message. Threads
//! interleave as they like, so a seed replays the decisions (shapes, operations, timings, closes),
//! not the interleaving. Round counts scale with `RENDEZ_STRESS` (see `common::scaled`); run with
//! `-- --nocapture` to see one summary line per test.

#![cfg(feature = "std")]

mod common;

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::ops::{ControlFlow, RangeInclusive};
use std::panic::{self, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU8, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use futures::task::noop_waker_ref;
use futures::StreamExt;
use rendez::{
    Receiver, RecvError, RecvTimeoutError, Select, Selected, SendError, SendTimeoutError, Sender,
    TryRecvError, TrySendError,
};

use common::{scaled, watchdog, WATCHDOG};

// ================================================================================================
// Seed and generator.
// ================================================================================================

/// The seed of this run: `RENDEZ_SEED` if set, else taken from the clock (one per process, so
/// that the printed seed replays every test of the file).
fn base_seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| match std::env::var("RENDEZ_SEED") {
        Ok(s) => {
            let s = s.trim();
            let parsed = match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => s.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("RENDEZ_SEED={s:?} is not a u64"))
        }
        // Miri's isolation hides the clock; any fixed seed will do there.
        Err(_) if cfg!(miri) => 0x5EED,
        Err(_) => SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    })
}

/// splitmix64: tiny, fast, and good enough to pick operations.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// A generator for `name` under `seed` (FNV-1a of the name, so every test has its own stream).
    fn for_test(seed: u64, name: &str) -> Self {
        let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        Rng::new(seed ^ hash)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// An independent generator, for a round or an actor.
    fn fork(&mut self) -> Rng {
        Rng::new(self.next_u64())
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    fn in_range(&mut self, range: RangeInclusive<usize>) -> usize {
        range.start() + self.below(range.end() - range.start() + 1)
    }

    /// True with probability `percent` / 100.
    fn percent(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }

    /// A duration of `0..=max` microseconds.
    fn micros(&mut self, max: usize) -> Duration {
        Duration::from_micros(self.in_range(0..=max) as u64)
    }
}

// ================================================================================================
// The ledger: one byte per message id.
// ================================================================================================

// The fate, in the low three bits; set once.
const FATE: u8 = 0b111;
const RECEIVED: u8 = 1;
const RETURNED: u8 = 2;
/// Dropped inside the drop of the send future that held it.
const DROPPED_WITH_SEND: u8 = 3;
/// Dropped anywhere else (only a held `try_send` message, when every receiver left, may be).
const DROPPED_ELSEWHERE: u8 = 4;
// Flags.
const CREATED: u8 = 1 << 3;
/// `send`, `send_blocking` or `send_timeout` returned `Ok(())`.
const SEND_OK: u8 = 1 << 4;
/// `try_send` returned `Ok(())`.
const TRY_OK: u8 = 1 << 5;
/// Its send future (or the select holding it) was dropped before it resolved.
const CANCELLED: u8 = 1 << 6;
/// It belonged to a send arm of a select that completed with another arm (or its `default`): it
/// must never be received.
const UNSELECTED: u8 = 1 << 7;

/// Whether the select storm notes what happens to each message (for its failure messages).
const NOTES: bool = true;

/// An id no message has: producer ids are small.
const NO_ID: u64 = u64::MAX;

/// The most send arms a select of the select storm has.
const MAX_ARMS: usize = 4;

thread_local! {
    /// The ids of the messages whose send (a send future, or the send arms of a select) this
    /// thread is dropping or polling, if any: a message dropped meanwhile was dropped with its
    /// cancelled send or its unselected arm.
    static DROPPING_SEND: Cell<[u64; MAX_ARMS]> = const { Cell::new([NO_ID; MAX_ARMS]) };
}

/// While alive, attributes the drop of messages `ids` on this thread to their sends.
struct DroppingSends {
    outer: [u64; MAX_ARMS],
}

impl DroppingSends {
    fn enter(ids: [u64; MAX_ARMS]) -> Self {
        DroppingSends {
            outer: DROPPING_SEND.replace(ids),
        }
    }

    fn one(id: u64) -> Self {
        let mut ids = [NO_ID; MAX_ARMS];
        ids[0] = id;
        Self::enter(ids)
    }
}

impl Drop for DroppingSends {
    fn drop(&mut self) {
        DROPPING_SEND.set(self.outer);
    }
}

/// The fate of every message of a round, and what went wrong.
struct Ledger {
    per_producer: usize,
    states: Vec<AtomicU8>,
    violations: Mutex<Vec<String>>,
    violation_count: AtomicUsize,
    /// The send arms of each select withdrawn before it resolved: at most one of each may have
    /// been received.
    withdrawn_selects: Mutex<Vec<Vec<u64>>>,
    /// What happened to each message, for the failure messages (the select storm writes them).
    notes: Mutex<HashMap<u64, Vec<String>>>,
}

impl Ledger {
    fn new(producers: usize, per_producer: usize) -> Arc<Self> {
        Arc::new(Ledger {
            per_producer,
            states: (0..producers * per_producer)
                .map(|_| AtomicU8::new(0))
                .collect(),
            violations: Mutex::new(Vec::new()),
            violation_count: AtomicUsize::new(0),
            withdrawn_selects: Mutex::new(Vec::new()),
            notes: Mutex::new(HashMap::new()),
        })
    }

    /// Notes what happened to message `id`, for the failure messages.
    fn note(&self, id: u64, what: impl FnOnce() -> String) {
        if NOTES {
            self.notes
                .lock()
                .unwrap()
                .entry(id)
                .or_default()
                .push(what());
        }
    }

    /// The message and its notes.
    fn describe(&self, id: u64) -> String {
        let notes = self.notes.lock().unwrap();
        match notes.get(&id) {
            Some(notes) => format!("{} [{}]", show(id), notes.join("; ")),
            None => show(id),
        }
    }

    /// Records a broken rule; checked at the end of the round (a `Drop` must not panic).
    fn violation(&self, what: String) {
        if self.violation_count.fetch_add(1, Ordering::SeqCst) < 20 {
            self.violations.lock().unwrap().push(what);
        }
    }

    fn slot(&self, id: u64) -> Option<&AtomicU8> {
        let (producer, seq) = ((id >> 32) as usize, (id & 0xffff_ffff) as usize);
        if seq >= self.per_producer {
            return None;
        }
        self.states.get(producer * self.per_producer + seq)
    }

    fn create(self: &Arc<Self>, producer: usize, seq: usize) -> Msg {
        let id = (producer as u64) << 32 | seq as u64;
        let prev = self
            .slot(id)
            .expect("id in range")
            .swap(CREATED, Ordering::SeqCst);
        assert_eq!(prev, 0, "{} created twice", show(id));
        Msg {
            id,
            unordered: false,
            settled: false,
            ledger: self.clone(),
        }
    }

    /// Records the send arms of a select that was dropped before it resolved (each flagged
    /// [`CANCELLED`]).
    fn withdrawn_select(&self, ids: &[u64]) {
        for &id in ids {
            self.flag(id, CANCELLED);
        }
        if ids.len() > 1 {
            self.withdrawn_selects.lock().unwrap().push(ids.to_vec());
        }
    }

    fn flag(&self, id: u64, flag: u8) {
        self.slot(id)
            .expect("id in range")
            .fetch_or(flag, Ordering::SeqCst);
    }

    /// Records `fate` for `id`, which must not have one yet.
    fn settle(&self, id: u64, fate: u8) {
        let Some(slot) = self.slot(id) else {
            return self.violation(format!("{} was never sent (fate {fate})", show(id)));
        };
        let mut state = slot.load(Ordering::SeqCst);
        loop {
            if state & CREATED == 0 || state & FATE != 0 {
                return self.violation(format!(
                    "{}: fate {} recorded on top of state {state:#010b}",
                    show(id),
                    fate_name(fate)
                ));
            }
            match slot.compare_exchange(state, state | fate, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => return,
                Err(now) => state = now,
            }
        }
    }

    /// Checks every id once all parties are done. Up to `max_held_dropped` held `try_send`
    /// messages may have been dropped with the channel (at most one per channel whose receivers
    /// all left while it was held).
    fn audit(&self, max_held_dropped: usize) -> Tally {
        let mut t = Tally::default();
        for (i, slot) in self.states.iter().enumerate() {
            let state = slot.load(Ordering::SeqCst);
            let id = ((i / self.per_producer) as u64) << 32 | (i % self.per_producer) as u64;
            if state & CREATED == 0 {
                if state != 0 {
                    self.violation(format!(
                        "{} has state {state:#010b} but was never sent",
                        show(id)
                    ));
                }
                continue;
            }
            t.created += 1;
            t.send_ok += usize::from(state & SEND_OK != 0);
            t.try_ok += usize::from(state & TRY_OK != 0);
            t.cancelled_sends += usize::from(state & CANCELLED != 0);
            let fate = state & FATE;
            let broken = match fate {
                RECEIVED if state & UNSELECTED != 0 => {
                    Some("was received, but its select arm was not the one selected")
                }
                RECEIVED => {
                    t.received += 1;
                    t.received_after_cancel += usize::from(state & CANCELLED != 0);
                    None
                }
                0 => Some("was lost: neither received, returned nor dropped"),
                _ if state & SEND_OK != 0 => Some("send returned Ok but it was not received"),
                RETURNED if state & TRY_OK != 0 => {
                    Some("try_send returned Ok and it came back too")
                }
                RETURNED => {
                    t.returned += 1;
                    None
                }
                DROPPED_WITH_SEND if state & (CANCELLED | UNSELECTED) == 0 => {
                    Some("dropped by a send future that had resolved")
                }
                DROPPED_WITH_SEND => {
                    t.dropped_with_send += 1;
                    t.dropped_unselected += usize::from(state & UNSELECTED != 0);
                    None
                }
                DROPPED_ELSEWHERE if state & TRY_OK != 0 && max_held_dropped > 0 => {
                    t.held_dropped += 1;
                    None
                }
                DROPPED_ELSEWHERE if state & TRY_OK != 0 => {
                    Some("try_send returned Ok but it was dropped while receivers remained")
                }
                DROPPED_ELSEWHERE => Some("dropped outside a cancelled send: lost"),
                _ => Some("unknown fate"),
            };
            if let Some(what) = broken {
                self.violation(format!(
                    "{} {what} (state {state:#010b})",
                    self.describe(id)
                ));
            }
        }
        if t.held_dropped > max_held_dropped {
            self.violation(format!(
                "{} held try_send messages dropped, but at most {max_held_dropped} can be",
                t.held_dropped
            ));
        }
        for ids in self.withdrawn_selects.lock().unwrap().iter() {
            let received: Vec<String> = ids
                .iter()
                .filter(|&&id| self.slot(id).unwrap().load(Ordering::SeqCst) & FATE == RECEIVED)
                .map(|&id| show(id))
                .collect();
            if received.len() > 1 {
                self.violation(format!(
                    "a withdrawn select delivered {} of its send arms: {}",
                    received.len(),
                    received.join(", ")
                ));
            }
        }
        t
    }

    /// Panics with the recorded violations, if any.
    fn assert_clean(&self) {
        let count = self.violation_count.load(Ordering::SeqCst);
        if count > 0 {
            let list = self.violations.lock().unwrap().join("\n  ");
            panic!("{count} violation(s):\n  {list}");
        }
    }
}

/// `p<producer>#<seq>`.
fn show(id: u64) -> String {
    format!("message p{}#{}", id >> 32, id & 0xffff_ffff)
}

fn fate_name(fate: u8) -> &'static str {
    match fate {
        RECEIVED => "received",
        RETURNED => "returned",
        DROPPED_WITH_SEND => "dropped with its send",
        DROPPED_ELSEWHERE => "dropped elsewhere",
        _ => "?",
    }
}

/// A message: its `Drop` records it as dropped unless it was settled (received or returned).
struct Msg {
    id: u64,
    /// Sent with `try_send` (it may be held) or by a reused `Select` (whose send operations
    /// stay on offer across selects): it may be taken after a later message of its producer.
    unordered: bool,
    settled: bool,
    ledger: Arc<Ledger>,
}

impl Msg {
    /// Records `fate` and retires the message without counting a drop.
    fn settle(mut self, fate: u8) {
        self.ledger.settle(self.id, fate);
        self.settled = true;
    }
}

impl Drop for Msg {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let dropping_send = DROPPING_SEND
            .try_with(Cell::get)
            .unwrap_or([NO_ID; MAX_ARMS]);
        let fate = if dropping_send.contains(&self.id) {
            DROPPED_WITH_SEND
        } else {
            DROPPED_ELSEWHERE
        };
        self.ledger.settle(self.id, fate);
    }
}

/// A send future that, dropped before it resolved, flags its message as cancelled; a message
/// dropped while the future is dropped is attributed to it.
struct CancellableSend<'a, F> {
    ledger: &'a Ledger,
    id: u64,
    // Boxed so that the wrapper is `Unpin` (for `futures::poll!`) and can drop it early.
    fut: Option<Pin<Box<F>>>,
    resolved: bool,
}

impl<'a, F> CancellableSend<'a, F> {
    fn new(ledger: &'a Ledger, id: u64, fut: F) -> Self {
        CancellableSend {
            ledger,
            id,
            fut: Some(Box::pin(fut)),
            resolved: false,
        }
    }
}

impl<F: Future> Future for CancellableSend<'_, F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let fut = self.fut.as_mut().expect("polled after it was dropped");
        let poll = fut.as_mut().poll(cx);
        self.resolved = poll.is_ready();
        poll
    }
}

impl<F> Drop for CancellableSend<'_, F> {
    fn drop(&mut self) {
        if !self.resolved {
            self.ledger.flag(self.id, CANCELLED);
        }
        let _dropping = DroppingSends::one(self.id);
        self.fut = None;
    }
}

// ================================================================================================
// A round: its plan and shared state.
// ================================================================================================

/// What a test varies from round to round.
#[derive(Clone, Debug)]
struct Shape {
    async_producers: RangeInclusive<usize>,
    async_consumers: RangeInclusive<usize>,
    thread_producers: RangeInclusive<usize>,
    thread_consumers: RangeInclusive<usize>,
    per_producer: RangeInclusive<usize>,
    /// How likely an operation is `try_send` / `try_recv`.
    try_percent: u32,
    /// The ways a round may end; one is picked per round.
    endings: &'static [Ending],
}

/// How a round ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    /// The producers finish and drop their senders.
    Natural,
    /// A party calls `close()` on its handle midway.
    CloseHandle,
    /// A party tells every producer to stop: the last sender dropped closes the channel.
    DropAllSenders,
    /// A party tells every consumer to stop: the last receiver dropped closes the channel.
    DropAllReceivers,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Producer,
    Consumer,
}

/// Who ends the round midway, and when: party `index` on `side`, at its `step`-th operation.
#[derive(Clone, Debug)]
struct Closer {
    ending: Ending,
    side: Side,
    index: usize,
    step: usize,
}

#[derive(Clone, Debug)]
struct Plan {
    async_producers: usize,
    async_consumers: usize,
    thread_producers: usize,
    thread_consumers: usize,
    per_producer: usize,
    try_percent: u32,
    /// How likely a party pauses before an operation, so that the others' timers run out.
    dawdle_percent: u32,
    closer: Option<Closer>,
}

impl Plan {
    fn draw(shape: &Shape, rng: &mut Rng) -> Plan {
        let mut plan = Plan {
            async_producers: rng.in_range(shape.async_producers.clone()),
            async_consumers: rng.in_range(shape.async_consumers.clone()),
            thread_producers: rng.in_range(shape.thread_producers.clone()),
            thread_consumers: rng.in_range(shape.thread_consumers.clone()),
            per_producer: rng.in_range(shape.per_producer.clone()),
            try_percent: shape.try_percent,
            dawdle_percent: if rng.percent(50) {
                0
            } else {
                rng.in_range(1..=10) as u32
            },
            closer: None,
        };
        // At least one party on each side.
        if plan.producers() == 0 {
            plan.thread_producers = 1;
        }
        if plan.consumers() == 0 {
            plan.thread_consumers = 1;
        }
        let ending = shape.endings[rng.below(shape.endings.len())];
        if ending != Ending::Natural {
            let side = if rng.percent(50) {
                Side::Producer
            } else {
                Side::Consumer
            };
            let parties = match side {
                Side::Producer => plan.producers(),
                Side::Consumer => plan.consumers(),
            };
            plan.closer = Some(Closer {
                ending,
                side,
                index: rng.below(parties),
                step: rng.below(plan.per_producer),
            });
        }
        plan
    }

    fn producers(&self) -> usize {
        self.async_producers + self.thread_producers
    }

    fn consumers(&self) -> usize {
        self.async_consumers + self.thread_consumers
    }
}

/// What every party of a round shares.
struct Round {
    plan: Plan,
    ledger: Arc<Ledger>,
    stop_producers: AtomicBool,
    stop_consumers: AtomicBool,
    /// Whether the closer acted (it may finish before its step comes).
    closed_midway: AtomicBool,
    /// Receives that ended without a message: cancelled, timed out or empty.
    missed_receives: AtomicUsize,
}

impl Round {
    /// Ends the round if party `index` on `side` is the closer and this is its step; `close`
    /// closes the party's own handle.
    fn maybe_close(&self, side: Side, index: usize, step: usize, close: impl FnOnce()) {
        let Some(c) = &self.plan.closer else { return };
        if (c.side, c.index, c.step) != (side, index, step) {
            return;
        }
        self.closed_midway.store(true, Ordering::SeqCst);
        match c.ending {
            Ending::CloseHandle => close(),
            Ending::DropAllSenders => self.stop_producers.store(true, Ordering::SeqCst),
            Ending::DropAllReceivers => self.stop_consumers.store(true, Ordering::SeqCst),
            Ending::Natural => unreachable!("a natural ending has no closer"),
        }
    }
}

/// How a send attempt ended.
enum Sent {
    /// `send`, `send_blocking` or `send_timeout` returned `Ok(())`.
    Delivered,
    /// `try_send` returned `Ok(())`.
    TryDelivered,
    /// Came back without the channel being closed: `Full` or a timeout.
    Refused(Msg),
    /// Came back because the channel is closed.
    Disconnected(Msg),
    /// The send future was dropped before it resolved.
    Cancelled,
}

impl From<Result<(), SendError<Msg>>> for Sent {
    fn from(r: Result<(), SendError<Msg>>) -> Self {
        match r {
            Ok(()) => Sent::Delivered,
            Err(SendError(msg)) => Sent::Disconnected(msg),
        }
    }
}

impl From<Result<(), TrySendError<Msg>>> for Sent {
    fn from(r: Result<(), TrySendError<Msg>>) -> Self {
        match r {
            Ok(()) => Sent::TryDelivered,
            Err(TrySendError::Full(msg)) => Sent::Refused(msg),
            Err(TrySendError::Disconnected(msg)) => Sent::Disconnected(msg),
        }
    }
}

impl From<Result<(), SendTimeoutError<Msg>>> for Sent {
    fn from(r: Result<(), SendTimeoutError<Msg>>) -> Self {
        match r {
            Ok(()) => Sent::Delivered,
            Err(SendTimeoutError::Timeout(msg)) => Sent::Refused(msg),
            Err(SendTimeoutError::Disconnected(msg)) => Sent::Disconnected(msg),
        }
    }
}

/// How a receive attempt ended.
enum Got {
    Msg(Msg),
    /// Cancelled, timed out or empty.
    Missed,
    Closed,
}

impl<E> From<Result<Msg, E>> for Got {
    fn from(r: Result<Msg, E>) -> Self {
        r.map_or(Got::Closed, Got::Msg)
    }
}

impl From<Option<Msg>> for Got {
    fn from(m: Option<Msg>) -> Self {
        m.map_or(Got::Closed, Got::Msg)
    }
}

/// The bookkeeping every producer does, whatever it runs on.
struct Producer<'a> {
    index: usize,
    seq: usize,
    round: &'a Round,
}

impl<'a> Producer<'a> {
    fn new(index: usize, round: &'a Round) -> Self {
        Producer {
            index,
            seq: 0,
            round,
        }
    }

    /// The next message to send, or `None` when this producer is done.
    fn next_msg(&mut self, tx: &Sender<Msg>) -> Option<Msg> {
        let round = self.round;
        if self.seq == round.plan.per_producer {
            return None;
        }
        round.maybe_close(Side::Producer, self.index, self.seq, || {
            tx.close();
        });
        if round.stop_producers.load(Ordering::SeqCst) {
            return None;
        }
        let msg = round.ledger.create(self.index, self.seq);
        self.seq += 1;
        Some(msg)
    }

    /// Records how a send of message `id` ended; `Break` once the channel is closed.
    fn record(&self, id: u64, sent: Sent) -> ControlFlow<()> {
        let ledger = &self.round.ledger;
        match sent {
            Sent::Delivered => ledger.flag(id, SEND_OK),
            Sent::TryDelivered => ledger.flag(id, TRY_OK),
            Sent::Refused(msg) => msg.settle(RETURNED),
            Sent::Disconnected(msg) => {
                msg.settle(RETURNED);
                return ControlFlow::Break(());
            }
            Sent::Cancelled => {}
        }
        ControlFlow::Continue(())
    }
}

/// What one consumer has received so far: per producer, the last sequence number other than
/// that of an unordered message.
struct Order(Vec<Option<u64>>);

impl Order {
    fn new(producers: usize) -> Self {
        Order(vec![None; producers])
    }

    /// Checks that `msg`, received by `who`, comes after the earlier messages of its producer. A
    /// producer's messages are taken in order: each send (or select) resolves, or is withdrawn,
    /// before the next starts. Only an unordered message (a held `try_send` one, or one a reused
    /// `Select` kept on offer) may be taken later.
    fn check(&mut self, ledger: &Ledger, who: impl fmt::Display, msg: &Msg) {
        if msg.unordered {
            return;
        }
        let (producer, seq) = ((msg.id >> 32) as usize, msg.id & 0xffff_ffff);
        if let Some(last) = self.0.get_mut(producer) {
            if let Some(prev) = last.filter(|&l| l >= seq) {
                let earlier = msg.id & !0xffff_ffff | prev;
                ledger.violation(format!(
                    "{who} received {} after {}",
                    ledger.describe(msg.id),
                    ledger.describe(earlier)
                ));
            }
            *last = Some(seq);
        }
    }
}

/// The bookkeeping every consumer does, whatever it runs on.
struct Consumer<'a> {
    index: usize,
    ops: usize,
    round: &'a Round,
    order: Order,
}

impl<'a> Consumer<'a> {
    fn new(index: usize, round: &'a Round) -> Self {
        Consumer {
            index,
            ops: 0,
            round,
            order: Order::new(round.plan.producers()),
        }
    }

    /// Whether to make another receive attempt.
    fn go_on(&mut self, rx: &Receiver<Msg>) -> bool {
        let round = self.round;
        round.maybe_close(Side::Consumer, self.index, self.ops, || {
            rx.close();
        });
        self.ops += 1;
        !round.stop_consumers.load(Ordering::SeqCst)
    }

    /// Records how a receive ended; `Break` once the channel is closed.
    fn record(&mut self, got: Got) -> ControlFlow<()> {
        match got {
            Got::Msg(msg) => {
                let who = format_args!("consumer {}", self.index);
                self.order.check(&self.round.ledger, who, &msg);
                msg.settle(RECEIVED);
            }
            Got::Missed => {
                self.round.missed_receives.fetch_add(1, Ordering::Relaxed);
            }
            Got::Closed => return ControlFlow::Break(()),
        }
        ControlFlow::Continue(())
    }
}

// ================================================================================================
// Async parties (tokio tasks).
// ================================================================================================

/// The ways a task sends.
#[derive(Clone, Copy, Debug)]
enum AsyncSend {
    Await,
    RaceSleep,
    RaceYield,
    Timeout,
    PollOnceThenDrop,
    /// Polled once with a no-op waker, then awaited: re-polling with another waker (rule 7).
    NoopPollThenAwait,
    Try,
}

impl AsyncSend {
    const WAITING: [AsyncSend; 6] = [
        AsyncSend::Await,
        AsyncSend::RaceSleep,
        AsyncSend::RaceYield,
        AsyncSend::Timeout,
        AsyncSend::PollOnceThenDrop,
        AsyncSend::NoopPollThenAwait,
    ];
}

/// The ways a task receives.
#[derive(Clone, Copy, Debug)]
enum AsyncRecv {
    Await,
    RaceSleep,
    RaceYield,
    Timeout,
    PollOnceThenDrop,
    NoopPollThenAwait,
    StreamNext,
    /// `next()` raced against `yield_now`: a dropped `next()` leaves the stream registered.
    StreamNextRaceYield,
    Try,
}

impl AsyncRecv {
    const WAITING: [AsyncRecv; 8] = [
        AsyncRecv::Await,
        AsyncRecv::RaceSleep,
        AsyncRecv::RaceYield,
        AsyncRecv::Timeout,
        AsyncRecv::PollOnceThenDrop,
        AsyncRecv::NoopPollThenAwait,
        AsyncRecv::StreamNext,
        AsyncRecv::StreamNextRaceYield,
    ];
}

/// Picks `Try` with `try_percent`, else one of `waiting`.
fn pick<T: Copy>(rng: &mut Rng, try_percent: u32, try_op: T, waiting: &[T]) -> T {
    if rng.percent(try_percent) {
        try_op
    } else {
        waiting[rng.below(waiting.len())]
    }
}

/// The longest a race against a timer waits: about tokio's 1 ms timer tick.
const MAX_NAP_MICROS: usize = 1_000;

/// The longest pause of a dawdling party: longer than most naps, so that those run out.
const MAX_DAWDLE_MICROS: usize = 2_000;

async fn async_send(tx: &Sender<Msg>, msg: Msg, op: AsyncSend, rng: &mut Rng) -> Sent {
    let ledger = msg.ledger.clone();
    let id = msg.id;
    let send = |msg| CancellableSend::new(&ledger, id, tx.send(msg));
    match op {
        AsyncSend::Await => send(msg).await.into(),
        AsyncSend::RaceSleep => {
            let nap = rng.micros(MAX_NAP_MICROS);
            tokio::select! {
                biased;
                r = send(msg) => r.into(),
                () = tokio::time::sleep(nap) => Sent::Cancelled,
            }
        }
        AsyncSend::RaceYield => tokio::select! {
            biased;
            r = send(msg) => r.into(),
            () = tokio::task::yield_now() => Sent::Cancelled,
        },
        AsyncSend::Timeout => {
            let nap = rng.micros(MAX_NAP_MICROS);
            match tokio::time::timeout(nap, send(msg)).await {
                Ok(r) => r.into(),
                Err(_elapsed) => Sent::Cancelled,
            }
        }
        AsyncSend::PollOnceThenDrop => {
            let mut fut = send(msg);
            match futures::poll!(&mut fut) {
                Poll::Ready(r) => r.into(),
                Poll::Pending => Sent::Cancelled,
            }
        }
        AsyncSend::NoopPollThenAwait => {
            let mut fut = send(msg);
            let first = Pin::new(&mut fut).poll(&mut Context::from_waker(noop_waker_ref()));
            match first {
                Poll::Ready(r) => r.into(),
                Poll::Pending => fut.await.into(),
            }
        }
        AsyncSend::Try => {
            let mut msg = msg;
            msg.unordered = true;
            tx.try_send(msg).into()
        }
    }
}

async fn async_recv(rx: &mut Receiver<Msg>, op: AsyncRecv, rng: &mut Rng) -> Got {
    match op {
        AsyncRecv::Await => rx.recv().await.into(),
        AsyncRecv::RaceSleep => {
            let nap = rng.micros(MAX_NAP_MICROS);
            tokio::select! {
                biased;
                r = rx.recv() => r.into(),
                () = tokio::time::sleep(nap) => Got::Missed,
            }
        }
        AsyncRecv::RaceYield => tokio::select! {
            biased;
            r = rx.recv() => r.into(),
            () = tokio::task::yield_now() => Got::Missed,
        },
        AsyncRecv::Timeout => {
            let nap = rng.micros(MAX_NAP_MICROS);
            match tokio::time::timeout(nap, rx.recv()).await {
                Ok(r) => r.into(),
                Err(_elapsed) => Got::Missed,
            }
        }
        AsyncRecv::PollOnceThenDrop => {
            let mut fut = pin!(rx.recv());
            match futures::poll!(fut.as_mut()) {
                Poll::Ready(r) => r.into(),
                Poll::Pending => Got::Missed,
            }
        }
        AsyncRecv::NoopPollThenAwait => {
            let mut fut = pin!(rx.recv());
            let first = fut
                .as_mut()
                .poll(&mut Context::from_waker(noop_waker_ref()));
            match first {
                Poll::Ready(r) => r.into(),
                Poll::Pending => fut.await.into(),
            }
        }
        AsyncRecv::StreamNext => rx.next().await.into(),
        AsyncRecv::StreamNextRaceYield => tokio::select! {
            biased;
            m = rx.next() => m.into(),
            () = tokio::task::yield_now() => Got::Missed,
        },
        AsyncRecv::Try => match rx.try_recv() {
            Ok(msg) => Got::Msg(msg),
            Err(TryRecvError::Empty) => {
                // Let the other tasks on this worker run before trying again.
                tokio::task::yield_now().await;
                Got::Missed
            }
            Err(TryRecvError::Disconnected) => Got::Closed,
        },
    }
}

async fn async_producer(index: usize, tx: Sender<Msg>, round: Arc<Round>, mut rng: Rng) {
    let mut me = Producer::new(index, &round);
    while let Some(msg) = me.next_msg(&tx) {
        let id = msg.id;
        if rng.percent(round.plan.dawdle_percent) {
            tokio::time::sleep(rng.micros(MAX_DAWDLE_MICROS)).await;
        }
        let op = pick(
            &mut rng,
            round.plan.try_percent,
            AsyncSend::Try,
            &AsyncSend::WAITING,
        );
        let sent = async_send(&tx, msg, op, &mut rng).await;
        if me.record(id, sent).is_break() {
            break;
        }
    }
}

async fn async_consumer(index: usize, mut rx: Receiver<Msg>, round: Arc<Round>, mut rng: Rng) {
    let mut me = Consumer::new(index, &round);
    while me.go_on(&rx) {
        if rng.percent(round.plan.dawdle_percent) {
            tokio::time::sleep(rng.micros(MAX_DAWDLE_MICROS)).await;
        }
        let op = pick(
            &mut rng,
            round.plan.try_percent,
            AsyncRecv::Try,
            &AsyncRecv::WAITING,
        );
        let got = async_recv(&mut rx, op, &mut rng).await;
        if me.record(got).is_break() {
            break;
        }
    }
}

// ================================================================================================
// Thread parties (blocking calls).
// ================================================================================================

/// The ways a thread sends.
#[derive(Clone, Copy, Debug)]
enum ThreadSend {
    Blocking,
    /// `send_timeout` with a timeout of 0..=20 µs: mostly times out.
    TinyTimeout,
    /// `send_timeout` with a timeout of 0..=1000 µs.
    ShortTimeout,
    /// The async send polled once with a no-op waker, then dropped.
    PollOnceThenDrop,
    /// The async send driven by `futures::executor::block_on`.
    BlockOn,
    Try,
}

impl ThreadSend {
    const WAITING: [ThreadSend; 5] = [
        ThreadSend::Blocking,
        ThreadSend::TinyTimeout,
        ThreadSend::ShortTimeout,
        ThreadSend::PollOnceThenDrop,
        ThreadSend::BlockOn,
    ];
}

/// The ways a thread receives.
#[derive(Clone, Copy, Debug)]
enum ThreadRecv {
    Blocking,
    TinyTimeout,
    ShortTimeout,
    PollOnceThenDrop,
    BlockOn,
    /// `Stream::next` driven by `futures::executor::block_on`.
    BlockOnStreamNext,
    Try,
}

impl ThreadRecv {
    const WAITING: [ThreadRecv; 6] = [
        ThreadRecv::Blocking,
        ThreadRecv::TinyTimeout,
        ThreadRecv::ShortTimeout,
        ThreadRecv::PollOnceThenDrop,
        ThreadRecv::BlockOn,
        ThreadRecv::BlockOnStreamNext,
    ];
}

fn thread_send(tx: &Sender<Msg>, msg: Msg, op: ThreadSend, rng: &mut Rng) -> Sent {
    let ledger = msg.ledger.clone();
    let id = msg.id;
    let send = |msg| CancellableSend::new(&ledger, id, tx.send(msg));
    match op {
        ThreadSend::Blocking => tx.send_blocking(msg).into(),
        ThreadSend::TinyTimeout => tx.send_timeout(msg, rng.micros(20)).into(),
        ThreadSend::ShortTimeout => tx.send_timeout(msg, rng.micros(MAX_NAP_MICROS)).into(),
        ThreadSend::PollOnceThenDrop => {
            let mut fut = send(msg);
            match Pin::new(&mut fut).poll(&mut Context::from_waker(noop_waker_ref())) {
                Poll::Ready(r) => r.into(),
                Poll::Pending => Sent::Cancelled,
            }
        }
        ThreadSend::BlockOn => futures::executor::block_on(send(msg)).into(),
        ThreadSend::Try => {
            let mut msg = msg;
            msg.unordered = true;
            tx.try_send(msg).into()
        }
    }
}

fn thread_recv(rx: &mut Receiver<Msg>, op: ThreadRecv, rng: &mut Rng) -> Got {
    let timed = |r: Result<Msg, RecvTimeoutError>| match r {
        Ok(msg) => Got::Msg(msg),
        Err(RecvTimeoutError::Timeout) => Got::Missed,
        Err(RecvTimeoutError::Disconnected) => Got::Closed,
    };
    match op {
        ThreadRecv::Blocking => rx.recv_blocking().into(),
        ThreadRecv::TinyTimeout => timed(rx.recv_timeout(rng.micros(20))),
        ThreadRecv::ShortTimeout => timed(rx.recv_timeout(rng.micros(MAX_NAP_MICROS))),
        ThreadRecv::PollOnceThenDrop => {
            let fut = pin!(rx.recv());
            match fut.poll(&mut Context::from_waker(noop_waker_ref())) {
                Poll::Ready(r) => r.into(),
                Poll::Pending => Got::Missed,
            }
        }
        ThreadRecv::BlockOn => futures::executor::block_on(rx.recv()).into(),
        ThreadRecv::BlockOnStreamNext => futures::executor::block_on(rx.next()).into(),
        ThreadRecv::Try => match rx.try_recv() {
            Ok(msg) => Got::Msg(msg),
            Err(TryRecvError::Empty) => {
                thread::yield_now();
                Got::Missed
            }
            Err(TryRecvError::Disconnected) => Got::Closed,
        },
    }
}

fn thread_producer(index: usize, tx: Sender<Msg>, round: Arc<Round>, mut rng: Rng) {
    let mut me = Producer::new(index, &round);
    while let Some(msg) = me.next_msg(&tx) {
        let id = msg.id;
        if rng.percent(round.plan.dawdle_percent) {
            thread::sleep(rng.micros(MAX_DAWDLE_MICROS));
        }
        let op = pick(
            &mut rng,
            round.plan.try_percent,
            ThreadSend::Try,
            &ThreadSend::WAITING,
        );
        let sent = thread_send(&tx, msg, op, &mut rng);
        if me.record(id, sent).is_break() {
            break;
        }
    }
}

fn thread_consumer(index: usize, mut rx: Receiver<Msg>, round: Arc<Round>, mut rng: Rng) {
    let mut me = Consumer::new(index, &round);
    while me.go_on(&rx) {
        if rng.percent(round.plan.dawdle_percent) {
            thread::sleep(rng.micros(MAX_DAWDLE_MICROS));
        }
        let op = pick(
            &mut rng,
            round.plan.try_percent,
            ThreadRecv::Try,
            &ThreadRecv::WAITING,
        );
        let got = thread_recv(&mut rx, op, &mut rng);
        if me.record(got).is_break() {
            break;
        }
    }
}

/// Threads of a round, joined under the watchdog.
struct Threads {
    handles: Vec<thread::JoinHandle<()>>,
    done_tx: mpsc::Sender<()>,
    done_rx: mpsc::Receiver<()>,
}

/// Signals a thread's end, also when it panics.
struct SignalOnDrop(mpsc::Sender<()>);

impl Drop for SignalOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

impl Threads {
    fn new() -> Self {
        let (done_tx, done_rx) = mpsc::channel();
        Threads {
            handles: Vec::new(),
            done_tx,
            done_rx,
        }
    }

    fn spawn(&mut self, f: impl FnOnce() + Send + 'static) {
        let signal = SignalOnDrop(self.done_tx.clone());
        self.handles.push(thread::spawn(move || {
            let _signal = signal;
            f();
        }));
    }

    /// Waits for every thread (parked, not spinning: the parties need the cores), failing instead
    /// of hanging.
    fn join(self) {
        let deadline = Instant::now() + WATCHDOG;
        for _ in 0..self.handles.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            self.done_rx
                .recv_timeout(left)
                .expect("hang: a thread party did not finish (lost wake-up or stuck turn?)");
        }
        for handle in self.handles {
            if let Err(panic) = handle.join() {
                panic::resume_unwind(panic);
            }
        }
    }
}

// ================================================================================================
// Running a storm.
// ================================================================================================

/// What a test did, summed over its rounds.
#[derive(Default, Debug)]
struct Tally {
    created: usize,
    received: usize,
    returned: usize,
    dropped_with_send: usize,
    /// Of those, dropped with a select arm that was not selected.
    dropped_unselected: usize,
    held_dropped: usize,
    send_ok: usize,
    try_ok: usize,
    cancelled_sends: usize,
    received_after_cancel: usize,
    missed_receives: usize,
    rounds: usize,
    closed_midway: usize,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.created += other.created;
        self.received += other.received;
        self.returned += other.returned;
        self.dropped_with_send += other.dropped_with_send;
        self.dropped_unselected += other.dropped_unselected;
        self.held_dropped += other.held_dropped;
        self.send_ok += other.send_ok;
        self.try_ok += other.try_ok;
        self.cancelled_sends += other.cancelled_sends;
        self.received_after_cancel += other.received_after_cancel;
        self.missed_receives += other.missed_receives;
        self.rounds += other.rounds;
        self.closed_midway += other.closed_midway;
    }
}

/// Runs one round and checks its ledger.
fn run_round(plan: Plan, rng: &mut Rng, runtime: Option<&tokio::runtime::Runtime>) -> Tally {
    let ledger = Ledger::new(plan.producers(), plan.per_producer);
    let round = Arc::new(Round {
        plan: plan.clone(),
        ledger: ledger.clone(),
        stop_producers: AtomicBool::new(false),
        stop_consumers: AtomicBool::new(false),
        closed_midway: AtomicBool::new(false),
        missed_receives: AtomicUsize::new(0),
    });
    let (tx, rx) = rendez::channel::<Msg>();
    let mut tasks = Vec::new();
    let mut threads = Threads::new();

    // Producers 0.. are tasks, then threads; the same for consumers.
    for index in 0..plan.producers() {
        let (tx, round, rng) = (tx.clone(), round.clone(), rng.fork());
        if index < plan.async_producers {
            let rt = runtime.expect("async parties need the runtime");
            tasks.push(rt.spawn(async_producer(index, tx, round, rng)));
        } else {
            threads.spawn(move || thread_producer(index, tx, round, rng));
        }
    }
    for index in 0..plan.consumers() {
        let (rx, round, rng) = (rx.clone(), round.clone(), rng.fork());
        if index < plan.async_consumers {
            let rt = runtime.expect("async parties need the runtime");
            tasks.push(rt.spawn(async_consumer(index, rx, round, rng)));
        } else {
            threads.spawn(move || thread_consumer(index, rx, round, rng));
        }
    }
    // Only the parties hold handles, so the channel closes when they leave.
    drop((tx, rx));

    if let Some(rt) = runtime {
        rt.block_on(watchdog(async {
            for task in tasks {
                if let Err(e) = task.await {
                    panic::resume_unwind(e.into_panic());
                }
            }
        }));
    }
    threads.join();

    let held_may_drop = round.closed_midway.load(Ordering::SeqCst)
        && plan.closer.as_ref().map(|c| c.ending) == Some(Ending::DropAllReceivers);
    let mut tally = ledger.audit(usize::from(held_may_drop));
    tally.missed_receives = round.missed_receives.load(Ordering::SeqCst);
    tally.rounds = 1;
    tally.closed_midway = usize::from(round.closed_midway.load(Ordering::SeqCst));
    ledger.assert_clean();
    tally
}

/// Runs `rounds` rounds of `shape`, prints a summary, and puts the seed in any failure.
fn storm(name: &str, rounds: usize, shape: Shape) {
    let seed = base_seed();
    eprintln!("rendez stress seed: {seed} (RENDEZ_SEED={seed} to replay)");
    let start = Instant::now();
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        let needs_runtime = *shape.async_producers.end() > 0 || *shape.async_consumers.end() > 0;
        let runtime = needs_runtime.then(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_time()
                .build()
                .expect("tokio runtime")
        });
        let mut rng = Rng::for_test(seed, name);
        let mut total = Tally::default();
        for r in 0..rounds {
            let mut round_rng = rng.fork();
            let plan = Plan::draw(&shape, &mut round_rng);
            let tally = panic::catch_unwind(AssertUnwindSafe(|| {
                run_round(plan.clone(), &mut round_rng, runtime.as_ref())
            }))
            .unwrap_or_else(|e| panic!("round {r} of {plan:?}: {}", panic_text(&*e)));
            total.add(&tally);
        }
        total
    }));
    match outcome {
        Ok(t) => eprintln!(
            "stress {name}: {} rounds ({} closed midway), {} messages: {} received ({} after \
             their send was cancelled), {} returned, {} dropped with a cancelled send, {} held \
             dropped with the last receiver; {} send Ok, {} try_send Ok, {} sends cancelled, {} \
             receives missed; {:.2?}",
            t.rounds,
            t.closed_midway,
            t.created,
            t.received,
            t.received_after_cancel,
            t.returned,
            t.dropped_with_send,
            t.held_dropped,
            t.send_ok,
            t.try_ok,
            t.cancelled_sends,
            t.missed_receives,
            start.elapsed(),
        ),
        Err(e) => panic!(
            "stress {name} failed: {}\nrendez stress seed: {seed} (RENDEZ_SEED={seed} to replay)",
            panic_text(&*e)
        ),
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(non-string panic)".into())
}

/// Messages per producer in a round: tiny under Miri.
fn per_producer(max: usize) -> RangeInclusive<usize> {
    if cfg!(miri) {
        1..=4
    } else {
        1..=max
    }
}

const ALL_ENDINGS: &[Ending] = &[
    Ending::Natural,
    Ending::CloseHandle,
    Ending::DropAllSenders,
    Ending::DropAllReceivers,
];

const MIDWAY_ENDINGS: &[Ending] = &[
    Ending::CloseHandle,
    Ending::DropAllSenders,
    Ending::DropAllReceivers,
];

// ================================================================================================
// The select storm: selects over a small pool of channels.
// ================================================================================================

/// The arms of a select, receive arms first. The macros need the shape at compile time, so it is
/// one of these; the channel of each arm is drawn at run time.
#[derive(Clone, Copy, Debug)]
enum Layout {
    R2,
    R1S1,
    S2,
    R2S1,
    R1S2,
    R3S1,
    R2S2,
    R1S3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arm {
    Recv,
    Send,
}

impl Layout {
    const ALL: [Layout; 8] = [
        Layout::R2,
        Layout::R1S1,
        Layout::S2,
        Layout::R2S1,
        Layout::R1S2,
        Layout::R3S1,
        Layout::R2S2,
        Layout::R1S3,
    ];

    fn arms(self) -> &'static [Arm] {
        use Arm::{Recv as R, Send as S};
        match self {
            Layout::R2 => &[R, R],
            Layout::R1S1 => &[R, S],
            Layout::S2 => &[S, S],
            Layout::R2S1 => &[R, R, S],
            Layout::R1S2 => &[R, S, S],
            Layout::R3S1 => &[R, R, R, S],
            Layout::R2S2 => &[R, R, S, S],
            Layout::R1S3 => &[R, S, S, S],
        }
    }
}

/// The channels of a select round. Every party has clones of all the handles, so that a channel
/// closes only by `close()`.
#[derive(Clone)]
struct Pool {
    txs: Vec<Sender<Msg>>,
    rxs: Vec<Receiver<Msg>>,
}

impl Pool {
    fn new(channels: usize) -> Self {
        let (txs, rxs) = (0..channels).map(|_| rendez::channel()).unzip();
        Pool { txs, rxs }
    }

    fn len(&self) -> usize {
        self.txs.len()
    }

    /// Whether every channel is closed: the round is over.
    fn all_closed(&self) -> bool {
        self.txs.iter().all(Sender::is_closed)
    }
}

/// One select's arms: its layout and the channel of each arm (two arms may share a channel, also
/// a send arm and a receive arm).
struct Arms<'p> {
    pool: &'p Pool,
    layout: Layout,
    channels: [usize; MAX_ARMS],
}

impl<'p> Arms<'p> {
    fn draw(pool: &'p Pool, rng: &mut Rng) -> Self {
        let mut channels = [0; MAX_ARMS];
        for c in &mut channels {
            *c = rng.below(pool.len());
        }
        Arms {
            pool,
            layout: Layout::ALL[rng.below(Layout::ALL.len())],
            channels,
        }
    }

    fn rx(&self, arm: usize) -> &'p Receiver<Msg> {
        &self.pool.rxs[self.channels[arm]]
    }

    fn tx(&self, arm: usize) -> &'p Sender<Msg> {
        &self.pool.txs[self.channels[arm]]
    }

    /// The channels of the send arms, and of the receive arms.
    fn channels_of(&self, kind: Arm) -> impl Iterator<Item = usize> + '_ {
        let arms = self.layout.arms().iter().enumerate();
        arms.filter(move |(_, k)| **k == kind)
            .map(|(arm, _)| self.channels[arm])
    }

    /// `recv ch1, send ch0, ..`, for the notes.
    fn describe(&self) -> String {
        let arms: Vec<String> = (self.layout.arms().iter().enumerate())
            .map(|(arm, kind)| format!("{kind:?} ch{}", self.channels[arm]))
            .collect();
        arms.join(", ")
    }
}

/// What a select returned: the arm (by position) and its result, or its `default`.
enum Out {
    Recv(usize, Result<Msg, RecvError>),
    Sent(usize, Result<(), SendError<Msg>>),
    Default,
}

/// The message of send arm `arm` (the macros evaluate it once, as the select starts).
fn arm_msg(msgs: &mut [Option<Msg>; MAX_ARMS], arm: usize) -> Msg {
    msgs[arm].take().expect("a send arm has a message")
}

/// A `match` over the layouts of `$arms`, each arm list handed to `$flavors!($($args)* { .. })`,
/// which wraps it in one of the select macros.
macro_rules! by_layout {
    ($arms:ident, $msgs:ident, $flavors:ident!($($args:tt)*)) => {
        match $arms.layout {
            Layout::R2 => $flavors!($($args)* {
                recv($arms.rx(0)) -> r => Out::Recv(0, r),
                recv($arms.rx(1)) -> r => Out::Recv(1, r),
            }),
            Layout::R1S1 => $flavors!($($args)* {
                recv($arms.rx(0)) -> r => Out::Recv(0, r),
                send($arms.tx(1), arm_msg(&mut $msgs, 1)) -> r => Out::Sent(1, r),
            }),
            Layout::S2 => $flavors!($($args)* {
                send($arms.tx(0), arm_msg(&mut $msgs, 0)) -> r => Out::Sent(0, r),
                send($arms.tx(1), arm_msg(&mut $msgs, 1)) -> r => Out::Sent(1, r),
            }),
            Layout::R2S1 => $flavors!($($args)* {
                recv($arms.rx(0)) -> r => Out::Recv(0, r),
                recv($arms.rx(1)) -> r => Out::Recv(1, r),
                send($arms.tx(2), arm_msg(&mut $msgs, 2)) -> r => Out::Sent(2, r),
            }),
            Layout::R1S2 => $flavors!($($args)* {
                recv($arms.rx(0)) -> r => Out::Recv(0, r),
                send($arms.tx(1), arm_msg(&mut $msgs, 1)) -> r => Out::Sent(1, r),
                send($arms.tx(2), arm_msg(&mut $msgs, 2)) -> r => Out::Sent(2, r),
            }),
            Layout::R3S1 => $flavors!($($args)* {
                recv($arms.rx(0)) -> r => Out::Recv(0, r),
                recv($arms.rx(1)) -> r => Out::Recv(1, r),
                recv($arms.rx(2)) -> r => Out::Recv(2, r),
                send($arms.tx(3), arm_msg(&mut $msgs, 3)) -> r => Out::Sent(3, r),
            }),
            Layout::R2S2 => $flavors!($($args)* {
                recv($arms.rx(0)) -> r => Out::Recv(0, r),
                recv($arms.rx(1)) -> r => Out::Recv(1, r),
                send($arms.tx(2), arm_msg(&mut $msgs, 2)) -> r => Out::Sent(2, r),
                send($arms.tx(3), arm_msg(&mut $msgs, 3)) -> r => Out::Sent(3, r),
            }),
            Layout::R1S3 => $flavors!($($args)* {
                recv($arms.rx(0)) -> r => Out::Recv(0, r),
                send($arms.tx(1), arm_msg(&mut $msgs, 1)) -> r => Out::Sent(1, r),
                send($arms.tx(2), arm_msg(&mut $msgs, 2)) -> r => Out::Sent(2, r),
                send($arms.tx(3), arm_msg(&mut $msgs, 3)) -> r => Out::Sent(3, r),
            }),
        }
    };
}

/// The forms of the async `select!`.
#[derive(Clone, Copy, Debug)]
enum AsyncFlavor {
    Fair,
    Biased,
    /// With `default =>`: returns at once if no arm is ready.
    Default,
    BiasedDefault,
}

impl AsyncFlavor {
    const ALL: [AsyncFlavor; 4] = [
        AsyncFlavor::Fair,
        AsyncFlavor::Biased,
        AsyncFlavor::Default,
        AsyncFlavor::BiasedDefault,
    ];

    /// With `default =>`: a send arm completes only by the `try_send` rule.
    fn now(self) -> bool {
        matches!(self, AsyncFlavor::Default | AsyncFlavor::BiasedDefault)
    }
}

macro_rules! async_flavors {
    ($flavor:expr, { $($arms:tt)* }) => {
        match $flavor {
            AsyncFlavor::Fair => rendez::select! { $($arms)* },
            AsyncFlavor::Biased => rendez::select! { biased; $($arms)* },
            AsyncFlavor::Default => rendez::select! { $($arms)* default => Out::Default, },
            AsyncFlavor::BiasedDefault => {
                rendez::select! { biased; $($arms)* default => Out::Default, }
            }
        }
    };
}

/// The forms of `select_blocking!`.
#[derive(Clone, Copy, Debug)]
enum BlockingFlavor {
    Fair,
    Biased,
    /// With `default =>`: returns at once if no arm is ready.
    Default,
    /// With `default(timeout) =>`, a tiny timeout.
    Timeout,
    BiasedTimeout,
}

impl BlockingFlavor {
    const ALL: [BlockingFlavor; 5] = [
        BlockingFlavor::Fair,
        BlockingFlavor::Biased,
        BlockingFlavor::Default,
        BlockingFlavor::Timeout,
        BlockingFlavor::BiasedTimeout,
    ];
}

macro_rules! blocking_flavors {
    ($flavor:expr, $wait:expr, { $($arms:tt)* }) => {
        match $flavor {
            BlockingFlavor::Fair => rendez::select_blocking! { $($arms)* },
            BlockingFlavor::Biased => rendez::select_blocking! { biased; $($arms)* },
            BlockingFlavor::Default => {
                rendez::select_blocking! { $($arms)* default => Out::Default, }
            }
            BlockingFlavor::Timeout => {
                rendez::select_blocking! { $($arms)* default($wait) => Out::Default, }
            }
            BlockingFlavor::BiasedTimeout => {
                rendez::select_blocking! { biased; $($arms)* default($wait) => Out::Default, }
            }
        }
    };
}

/// `rendez::select!` over `arms`; `msgs` holds the message of each send arm.
async fn async_select(
    arms: &Arms<'_>,
    mut msgs: [Option<Msg>; MAX_ARMS],
    flavor: AsyncFlavor,
) -> Out {
    by_layout!(arms, msgs, async_flavors!(flavor,))
}

/// `rendez::select_blocking!` over `arms`; `wait` is the timeout of the `default(..)` forms.
fn blocking_select(
    arms: &Arms<'_>,
    mut msgs: [Option<Msg>; MAX_ARMS],
    flavor: BlockingFlavor,
    wait: Duration,
) -> Out {
    by_layout!(arms, msgs, blocking_flavors!(flavor, wait,))
}

/// An async select that attributes the drop of its send arms' messages to them (while it is
/// polled and dropped), and records itself as withdrawn if it is dropped before it resolved.
struct GuardedSelect<'l, F> {
    ledger: &'l Ledger,
    /// The message ids of its send arms, `NO_ID` for the receive arms.
    ids: [u64; MAX_ARMS],
    // Boxed so that the wrapper is `Unpin` and can drop it early.
    fut: Option<Pin<Box<F>>>,
    resolved: bool,
}

impl<'l, F> GuardedSelect<'l, F> {
    fn new(ledger: &'l Ledger, ids: [u64; MAX_ARMS], fut: F) -> Self {
        GuardedSelect {
            ledger,
            ids,
            fut: Some(Box::pin(fut)),
            resolved: false,
        }
    }
}

impl<F: Future> Future for GuardedSelect<'_, F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _dropping = DroppingSends::enter(self.ids);
        let fut = self.fut.as_mut().expect("polled after it was dropped");
        let poll = fut.as_mut().poll(cx);
        self.resolved = poll.is_ready();
        poll
    }
}

impl<F> Drop for GuardedSelect<'_, F> {
    fn drop(&mut self) {
        if !self.resolved {
            let sends: Vec<u64> = self.ids.iter().copied().filter(|&id| id != NO_ID).collect();
            self.ledger.withdrawn_select(&sends);
        }
        let _dropping = DroppingSends::enter(self.ids);
        self.fut = None;
    }
}

/// What a party of a select round plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Selects over 2-4 arms on random channels: the macros or the `Select` builder.
    Selector,
    /// Sends on a random channel per message, every way the other storms send.
    Sender,
    /// Receives from a random channel each time, every way the other storms receive.
    Receiver,
}

#[derive(Clone, Copy, Debug)]
struct PartyPlan {
    role: Role,
    /// A plain thread (blocking calls) rather than a tokio task.
    on_thread: bool,
}

/// Party `party` closes channel `channel` (through its sender or its receiver) at its `step`-th
/// operation.
#[derive(Clone, Debug)]
struct MidwayClose {
    party: usize,
    step: usize,
    channel: usize,
    via_receiver: bool,
}

#[derive(Clone, Debug)]
struct SelectPlan {
    channels: usize,
    parties: Vec<PartyPlan>,
    /// Operations per party.
    ops: usize,
    dawdle_percent: u32,
    midway: Option<MidwayClose>,
    /// The longest pause between the closes that end the round, in µs.
    end_gap_micros: usize,
}

impl SelectPlan {
    fn draw(rng: &mut Rng) -> Self {
        let channels = rng.in_range(3..=4);
        let mut parties = Vec::new();
        for (role, count) in [
            (Role::Selector, rng.in_range(2..=4)),
            (Role::Sender, rng.in_range(0..=2)),
            (Role::Receiver, rng.in_range(0..=2)),
        ] {
            for _ in 0..count {
                let on_thread = rng.percent(50);
                parties.push(PartyPlan { role, on_thread });
            }
        }
        let ops = rng.in_range(10..=40);
        let dawdle_percent = if rng.percent(50) {
            0
        } else {
            rng.in_range(1..=10) as u32
        };
        let midway = rng.percent(35).then(|| MidwayClose {
            party: rng.below(parties.len()),
            step: rng.below(ops),
            channel: rng.below(channels),
            via_receiver: rng.percent(50),
        });
        let end_gap_micros = if rng.percent(50) { 0 } else { 200 };
        SelectPlan {
            channels,
            parties,
            ops,
            dawdle_percent,
            midway,
            end_gap_micros,
        }
    }
}

/// What the parties of the select storm did and saw (their side of the books).
#[derive(Clone, Default, Debug)]
struct SelectCounts {
    selects: usize,
    won_by_recv: usize,
    won_by_send: usize,
    /// Selected with `Err`: the arm's channel was closed.
    won_by_closed: usize,
    /// `default`, a timed-out `default(..)`, `try_select` or `select_timeout` finding nothing.
    nothing_ready: usize,
    /// Select futures dropped before they resolved.
    withdrawn: usize,
    plain_ops: usize,
    received: usize,
    returned: usize,
    send_ok: usize,
    try_ok: usize,
}

impl SelectCounts {
    fn add(&mut self, o: &SelectCounts) {
        self.selects += o.selects;
        self.won_by_recv += o.won_by_recv;
        self.won_by_send += o.won_by_send;
        self.won_by_closed += o.won_by_closed;
        self.nothing_ready += o.nothing_ready;
        self.withdrawn += o.withdrawn;
        self.plain_ops += o.plain_ops;
        self.received += o.received;
        self.returned += o.returned;
        self.send_ok += o.send_ok;
        self.try_ok += o.try_ok;
    }
}

/// What every party of a select round shares.
struct SelectRound {
    plan: SelectPlan,
    ledger: Arc<Ledger>,
    /// Operations finished by any party: the round ends once this stops growing.
    progress: AtomicUsize,
    /// Parties that did all their operations.
    done: AtomicUsize,
    closed_midway: AtomicBool,
    counts: Mutex<SelectCounts>,
    /// Per party, the channels its operation under way may send on (low byte) and receive from
    /// (high byte): for the lost wake-up check.
    waits: Vec<AtomicU16>,
    /// Per party, that operation, for the failure message.
    ways: Vec<Mutex<String>>,
}

/// The bookkeeping of one party of a select round (its handles are kept apart, for borrowing).
struct Party<'r> {
    index: usize,
    seq: usize,
    round: &'r SelectRound,
    order: Order,
    counts: SelectCounts,
    /// The operation under way, for the notes.
    way: String,
}

impl<'r> Party<'r> {
    fn new(index: usize, round: &'r SelectRound) -> Self {
        Party {
            index,
            seq: 0,
            round,
            order: Order::new(round.plan.parties.len()),
            counts: SelectCounts::default(),
            way: String::new(),
        }
    }

    fn ledger(&self) -> &'r Ledger {
        &self.round.ledger
    }

    fn violation(&self, what: impl fmt::Display) {
        self.ledger()
            .violation(format!("party {}: {what}", self.index));
    }

    /// Closes a channel if this party is the one to do so at `step`.
    fn maybe_close(&self, step: usize, pool: &Pool) {
        let Some(c) = &self.round.plan.midway else {
            return;
        };
        if (c.party, c.step) == (self.index, step) {
            self.round.closed_midway.store(true, Ordering::SeqCst);
            if c.via_receiver {
                pool.rxs[c.channel].close();
            } else {
                pool.txs[c.channel].close();
            }
        }
    }

    /// A new message from this party.
    fn make(&mut self) -> Msg {
        let msg = self.round.ledger.create(self.index, self.seq);
        self.seq += 1;
        msg
    }

    /// Messages for the send arms of `arms`, and their ids (`NO_ID` for the receive arms).
    /// Under `default` a send arm follows the `try_send` rule: its message may be held, and taken
    /// after a later one (`unordered`).
    fn arm_msgs(
        &mut self,
        arms: &Arms<'_>,
        unordered: bool,
    ) -> ([Option<Msg>; MAX_ARMS], [u64; MAX_ARMS]) {
        let mut msgs = [None, None, None, None];
        let mut ids = [NO_ID; MAX_ARMS];
        for (arm, kind) in arms.layout.arms().iter().enumerate() {
            if *kind == Arm::Send {
                let mut msg = self.make();
                msg.unordered = unordered;
                ids[arm] = msg.id;
                msgs[arm] = Some(msg);
            }
        }
        (msgs, ids)
    }

    /// Describes the operation under way (for the notes).
    fn doing(&mut self, what: impl FnOnce() -> String) {
        if NOTES {
            self.way = what();
        }
    }

    /// Publishes the channels the operation about to start may send on and receive from (for
    /// the lost wake-up check); [`Party::done_waiting`] clears them.
    fn waiting(
        &mut self,
        sends: impl IntoIterator<Item = usize>,
        recvs: impl IntoIterator<Item = usize>,
    ) {
        let mask = sends.into_iter().fold(0u16, |m, c| m | 1 << c)
            | recvs.into_iter().fold(0u16, |m, c| m | 1 << (8 + c));
        *self.round.ways[self.index].lock().unwrap() = self.way.clone();
        self.round.waits[self.index].store(mask, Ordering::SeqCst);
    }

    fn done_waiting(&self) {
        self.round.waits[self.index].store(0, Ordering::SeqCst);
    }

    /// Notes `what` for message `id`, prefixed with the operation under way.
    fn note(&self, id: u64, what: impl fmt::Display) {
        self.ledger()
            .note(id, || format!("p{} {}: {what}", self.index, self.way));
    }

    fn received(&mut self, msg: Msg) {
        self.note(msg.id, "received it");
        let who = format_args!("party {}", self.index);
        self.order.check(self.ledger(), who, &msg);
        self.counts.received += 1;
        msg.settle(RECEIVED);
    }

    /// A message of this party that came back: it must be message `expected`.
    fn returned(&mut self, msg: Msg, expected: u64, what: &str) {
        if msg.id != expected {
            self.violation(format_args!(
                "{what} gave back {} instead of {}",
                show(msg.id),
                show(expected)
            ));
        }
        self.counts.returned += 1;
        msg.settle(RETURNED);
    }

    /// Flags a disconnection reported on a channel that is still open.
    fn check_closed(&self, closed: bool, what: &str) {
        if !closed {
            self.violation(format_args!(
                "{what} reported a disconnection on an open channel"
            ));
        }
    }

    /// Books a select (over `arms`, with send arms `ids`) that returned `out`; `now` if it had a
    /// `default =>` (a send arm then completes by the `try_send` rule).
    fn selected(&mut self, arms: &Arms<'_>, ids: &[u64; MAX_ARMS], out: Out, now: bool) {
        let chosen = match &out {
            Out::Recv(arm, _) | Out::Sent(arm, _) => Some(*arm),
            Out::Default => None,
        };
        for (arm, &id) in ids.iter().enumerate() {
            if id != NO_ID && chosen != Some(arm) {
                self.note(id, format_args!("arm {arm} not selected"));
                self.ledger().flag(id, UNSELECTED);
            }
        }
        match &out {
            Out::Recv(arm, r) => {
                self.note_all(ids, format_args!("recv arm {arm}: {:?}", r.is_ok()))
            }
            Out::Sent(arm, r) => {
                self.note_all(ids, format_args!("send arm {arm}: {:?}", r.is_ok()))
            }
            Out::Default => self.note_all(ids, "default"),
        }
        match out {
            Out::Recv(_, Ok(msg)) => {
                self.counts.won_by_recv += 1;
                self.received(msg);
            }
            Out::Recv(arm, Err(RecvError)) => {
                self.counts.won_by_closed += 1;
                self.check_closed(arms.rx(arm).is_closed(), "a select's recv arm");
            }
            Out::Sent(arm, Ok(())) => {
                self.counts.won_by_send += 1;
                self.delivered(ids[arm], now);
            }
            Out::Sent(arm, Err(SendError(msg))) => {
                self.counts.won_by_closed += 1;
                self.check_closed(arms.tx(arm).is_closed(), "a select's send arm");
                self.returned(msg, ids[arm], "a select's send arm");
            }
            Out::Default => self.counts.nothing_ready += 1,
        }
    }

    /// Flags message `id` as delivered: received already, or (by the `try_send` rule, `held`)
    /// received unless its channel's receivers all leave.
    fn delivered(&mut self, id: u64, held: bool) {
        if held {
            self.counts.try_ok += 1;
            self.ledger().flag(id, TRY_OK);
        } else {
            self.counts.send_ok += 1;
            self.ledger().flag(id, SEND_OK);
        }
    }

    /// Notes `what` for every send arm of a select.
    fn note_all(&self, ids: &[u64; MAX_ARMS], what: impl fmt::Display) {
        for &id in ids.iter().filter(|&&id| id != NO_ID) {
            self.note(id, format_args!("the select returned {what}"));
        }
    }

    /// Books a plain send of message `id` on `tx`.
    fn sent(&mut self, tx: &Sender<Msg>, id: u64, sent: Sent) {
        self.counts.plain_ops += 1;
        self.note(
            id,
            match &sent {
                Sent::Delivered => "Ok",
                Sent::TryDelivered => "try Ok",
                Sent::Refused(_) => "refused",
                Sent::Disconnected(_) => "disconnected",
                Sent::Cancelled => "cancelled",
            },
        );
        match sent {
            Sent::Delivered => self.delivered(id, false),
            Sent::TryDelivered => self.delivered(id, true),
            Sent::Refused(msg) => self.returned(msg, id, "a send"),
            Sent::Disconnected(msg) => {
                self.check_closed(tx.is_closed(), "a send");
                self.returned(msg, id, "a send");
            }
            Sent::Cancelled => {}
        }
    }

    /// Books a plain receive on `rx`.
    fn got(&mut self, rx: &Receiver<Msg>, got: Got) {
        self.counts.plain_ops += 1;
        match got {
            Got::Msg(msg) => self.received(msg),
            Got::Missed => {}
            Got::Closed => self.check_closed(rx.is_closed(), "a receive"),
        }
    }

    /// Hands this party's counts to the round.
    fn finish(self) {
        self.round.counts.lock().unwrap().add(&self.counts);
        self.round.done.fetch_add(1, Ordering::SeqCst);
    }
}

/// How one select of a `Select` builder ended.
enum Attempt {
    /// The outcome, and whether it came from `try_select`.
    Done(Option<(usize, Selected<Msg>)>, bool),
    /// Its future was dropped before it resolved.
    Withdrawn,
}

/// A `Select` built over a draw of arms (operation `i` is arm `i`), selected from up to three
/// times: a receive operation re-arms, a selected send operation is spent, an unselected one
/// stays on offer (its message marked unordered: a later select may deliver it after a later
/// message of this party).
struct BuilderRun<'p> {
    select: Select<'p, Msg>,
    /// The message id of each send operation, `NO_ID` for a receive operation.
    ids: Vec<u64>,
    /// Whether each send operation is spent.
    spent: Vec<bool>,
}

impl<'p> BuilderRun<'p> {
    fn new(me: &mut Party<'_>, arms: &Arms<'p>, biased: bool) -> Self {
        let mut select = if biased {
            Select::new_biased()
        } else {
            Select::new()
        };
        let mut ids = Vec::new();
        for (arm, kind) in arms.layout.arms().iter().enumerate() {
            let index = match kind {
                Arm::Recv => {
                    ids.push(NO_ID);
                    select.recv(arms.rx(arm))
                }
                Arm::Send => {
                    let mut msg = me.make();
                    msg.unordered = true;
                    ids.push(msg.id);
                    select.send(arms.tx(arm), msg)
                }
            };
            if index != arm {
                me.violation(format_args!("Select numbered operation {arm} as {index}"));
            }
        }
        if select.len() != ids.len() {
            me.violation(format_args!(
                "Select::len() is {}, not {}",
                select.len(),
                ids.len()
            ));
        }
        let spent = vec![false; ids.len()];
        BuilderRun { select, ids, spent }
    }

    /// The channels of the send operations not spent yet, and of the receive operations.
    fn channels(&self, arms: &Arms<'_>) -> (Vec<usize>, Vec<usize>) {
        let (mut sends, mut recvs) = (Vec::new(), Vec::new());
        for (i, &id) in self.ids.iter().enumerate() {
            match (id, self.spent[i]) {
                (NO_ID, _) => recvs.push(arms.channels[i]),
                (_, false) => sends.push(arms.channels[i]),
                (_, true) => {}
            }
        }
        (sends, recvs)
    }

    /// Whether an operation is armed: a receive always is, a send until it is spent.
    fn armed(&self) -> bool {
        self.ids
            .iter()
            .zip(&self.spent)
            .any(|(&id, &spent)| id == NO_ID || !spent)
    }

    /// Books one select's outcome.
    /// Books one select's outcome; `now` for `try_select` (a send completes by the `try_send`
    /// rule).
    fn outcome(
        &mut self,
        me: &mut Party<'_>,
        arms: &Arms<'_>,
        outcome: Option<(usize, Selected<Msg>)>,
        now: bool,
    ) {
        let Some((index, selected)) = outcome else {
            me.counts.nothing_ready += 1;
            return;
        };
        let Some(&id) = self.ids.get(index) else {
            return me.violation(format_args!("Select selected operation {index}, not added"));
        };
        let is_send = id != NO_ID;
        if is_send && self.spent[index] {
            me.violation(format_args!("Select selected spent send operation {index}"));
        }
        match selected {
            Selected::Received(r) if is_send => {
                me.violation(format_args!("Select's send operation {index} received"));
                drop(r);
            }
            Selected::Sent(r) if !is_send => {
                me.violation(format_args!("Select's recv operation {index} sent"));
                drop(r);
            }
            Selected::Received(Ok(msg)) => {
                me.counts.won_by_recv += 1;
                me.received(msg);
            }
            Selected::Received(Err(RecvError)) => {
                me.counts.won_by_closed += 1;
                me.check_closed(arms.rx(index).is_closed(), "Select's recv operation");
            }
            Selected::Sent(Ok(())) => {
                me.note(id, "Select selected it Ok");
                self.spent[index] = true;
                me.counts.won_by_send += 1;
                me.delivered(id, now);
            }
            Selected::Sent(Err(SendError(msg))) => {
                self.spent[index] = true;
                me.counts.won_by_closed += 1;
                me.check_closed(arms.tx(index).is_closed(), "Select's send operation");
                me.returned(msg, id, "Select's send operation");
            }
        }
    }

    /// Ends the run: each unspent send operation's message is taken back with `take_unsent` or
    /// dropped with the builder. After a withdrawn select, one of them may have been delivered.
    fn finish(mut self, me: &mut Party<'_>, withdrawn: bool, rng: &mut Rng) {
        let unspent: Vec<usize> = (0..self.ids.len())
            .filter(|&i| self.ids[i] != NO_ID && !self.spent[i])
            .collect();
        if withdrawn {
            let ids: Vec<u64> = unspent.iter().map(|&i| self.ids[i]).collect();
            me.ledger().withdrawn_select(&ids);
        }
        let mut delivered = 0;
        let mut left = [NO_ID; MAX_ARMS];
        for (k, &i) in unspent.iter().enumerate() {
            let id = self.ids[i];
            if rng.percent(50) {
                match self.select.take_unsent(i) {
                    Some(msg) => me.returned(msg, id, "Select::take_unsent"),
                    None if withdrawn => {
                        // Taken just before its select was dropped: delivered.
                        delivered += 1;
                        me.delivered(id, false);
                    }
                    None => me.violation(format_args!(
                        "take_unsent({i}) found nothing, but no select took {}",
                        show(id)
                    )),
                }
            } else {
                left[k] = id;
                if !withdrawn {
                    me.ledger().flag(id, UNSELECTED);
                }
            }
        }
        if delivered > 1 {
            me.violation(format_args!(
                "a withdrawn Select::select delivered {delivered} send operations"
            ));
        }
        let _dropping = DroppingSends::enter(left);
        drop(self.select);
    }
}

/// How a task drives an async select.
#[derive(Clone, Copy, Debug)]
enum TaskWay {
    Await,
    /// Under `tokio::time::timeout` of 0..=200 µs.
    Timeout,
    PollOnceThenDrop,
    /// Raced against `yield_now` in a biased `tokio::select!`.
    RaceYield,
    /// Polled once with a no-op waker, then awaited (re-polling with another waker).
    NoopPollThenAwait,
}

impl TaskWay {
    const ALL: [TaskWay; 5] = [
        TaskWay::Await,
        TaskWay::Timeout,
        TaskWay::PollOnceThenDrop,
        TaskWay::RaceYield,
        TaskWay::NoopPollThenAwait,
    ];
}

/// Drives `fut` the way `way` says; `None` if it was dropped before it resolved.
async fn drive<F: Future + Unpin>(mut fut: F, way: TaskWay, rng: &mut Rng) -> Option<F::Output> {
    match way {
        TaskWay::Await => Some(fut.await),
        TaskWay::Timeout => tokio::time::timeout(rng.micros(200), fut).await.ok(),
        TaskWay::PollOnceThenDrop => match futures::poll!(&mut fut) {
            Poll::Ready(out) => Some(out),
            Poll::Pending => None,
        },
        TaskWay::RaceYield => tokio::select! {
            biased;
            out = &mut fut => Some(out),
            () = tokio::task::yield_now() => None,
        },
        TaskWay::NoopPollThenAwait => {
            let first = Pin::new(&mut fut).poll(&mut Context::from_waker(noop_waker_ref()));
            match first {
                Poll::Ready(out) => Some(out),
                Poll::Pending => Some(fut.await),
            }
        }
    }
}

/// One select by a task: `rendez::select!` (driven every way of [`TaskWay`]), or a `Select`.
async fn task_select(me: &mut Party<'_>, pool: &Pool, rng: &mut Rng) {
    let arms = Arms::draw(pool, rng);
    if rng.percent(25) {
        return task_builder(me, &arms, rng).await;
    }
    me.counts.selects += 1;
    let flavor = AsyncFlavor::ALL[rng.below(AsyncFlavor::ALL.len())];
    let (msgs, ids) = me.arm_msgs(&arms, flavor.now());
    let way = TaskWay::ALL[rng.below(TaskWay::ALL.len())];
    me.doing(|| format!("task select! {flavor:?} {way:?} {:?}", arms.describe()));
    me.waiting(arms.channels_of(Arm::Send), arms.channels_of(Arm::Recv));
    let fut = GuardedSelect::new(me.ledger(), ids, async_select(&arms, msgs, flavor));
    let out = drive(fut, way, rng).await;
    me.done_waiting();
    match out {
        Some(out) => me.selected(&arms, &ids, out, flavor.now()),
        None => {
            me.note_all(&ids, "nothing: withdrawn");
            me.counts.withdrawn += 1;
        }
    }
}

/// A task's `Select`: `select().await` (every way of [`TaskWay`]) or `try_select`, up to three
/// times.
async fn task_builder(me: &mut Party<'_>, arms: &Arms<'_>, rng: &mut Rng) {
    let mut run = BuilderRun::new(me, arms, rng.percent(30));
    let mut withdrawn = false;
    for call in 0..rng.in_range(1..=3) {
        if !run.armed() {
            break;
        }
        me.counts.selects += 1;
        let way = (!rng.percent(20)).then(|| TaskWay::ALL[rng.below(TaskWay::ALL.len())]);
        me.doing(|| format!("task Select call {call} {way:?} {:?}", arms.describe()));
        let (sends, recvs) = run.channels(arms);
        me.waiting(sends, recvs);
        let attempt = if let Some(way) = way {
            match drive(Box::pin(run.select.select()), way, rng).await {
                Some(out) => Attempt::Done(Some(out), false),
                None => Attempt::Withdrawn,
            }
        } else {
            Attempt::Done(run.select.try_select(), true)
        };
        me.done_waiting();
        match attempt {
            Attempt::Done(outcome, now) => run.outcome(me, arms, outcome, now),
            Attempt::Withdrawn => {
                me.counts.withdrawn += 1;
                withdrawn = true;
                break;
            }
        }
    }
    run.finish(me, withdrawn, rng);
}

/// The timeout of a blocking select: mostly 0..=50 µs, sometimes up to a millisecond.
fn select_wait(rng: &mut Rng) -> Duration {
    if rng.percent(80) {
        rng.micros(50)
    } else {
        rng.micros(MAX_NAP_MICROS)
    }
}

/// One select by a thread: `select_blocking!`, the async `select!` driven by `block_on` or polled
/// once and dropped, or a `Select`.
fn thread_select(me: &mut Party<'_>, pool: &Pool, rng: &mut Rng) {
    let arms = Arms::draw(pool, rng);
    if rng.percent(25) {
        return thread_builder(me, &arms, rng);
    }
    me.counts.selects += 1;
    let blocking = BlockingFlavor::ALL[rng.below(BlockingFlavor::ALL.len())];
    let flavor = AsyncFlavor::ALL[rng.below(AsyncFlavor::ALL.len())];
    let kind = rng.below(10);
    let now = if kind <= 6 {
        matches!(blocking, BlockingFlavor::Default)
    } else {
        flavor.now()
    };
    let (msgs, ids) = me.arm_msgs(&arms, now);
    let wait = select_wait(rng);
    me.doing(|| match kind {
        0..=6 => format!(
            "select_blocking! {blocking:?} {wait:?} {:?}",
            arms.describe()
        ),
        7..=8 => format!("thread block_on select! {flavor:?} {:?}", arms.describe()),
        _ => format!("thread poll-once select! {flavor:?} {:?}", arms.describe()),
    });
    me.waiting(arms.channels_of(Arm::Send), arms.channels_of(Arm::Recv));
    let out = match kind {
        0..=6 => {
            let flavor = blocking;
            let _dropping = DroppingSends::enter(ids);
            Some(blocking_select(&arms, msgs, flavor, wait))
        }
        7..=8 => {
            let fut = GuardedSelect::new(me.ledger(), ids, async_select(&arms, msgs, flavor));
            Some(futures::executor::block_on(fut))
        }
        _ => {
            let mut fut = GuardedSelect::new(me.ledger(), ids, async_select(&arms, msgs, flavor));
            match Pin::new(&mut fut).poll(&mut Context::from_waker(noop_waker_ref())) {
                Poll::Ready(out) => Some(out),
                Poll::Pending => None,
            }
        }
    };
    me.done_waiting();
    match out {
        Some(out) => me.selected(&arms, &ids, out, now),
        None => {
            me.note_all(&ids, "nothing: withdrawn");
            me.counts.withdrawn += 1;
        }
    }
}

/// A thread's `Select`: `select_blocking`, `select_timeout`, `select_deadline`, `try_select`,
/// `select()` under `block_on` or polled once and dropped, up to three times.
fn thread_builder(me: &mut Party<'_>, arms: &Arms<'_>, rng: &mut Rng) {
    let mut run = BuilderRun::new(me, arms, rng.percent(30));
    let mut withdrawn = false;
    for call in 0..rng.in_range(1..=3) {
        if !run.armed() {
            break;
        }
        me.counts.selects += 1;
        let kind = rng.below(6);
        let name = [
            "select_blocking",
            "select_timeout",
            "select_deadline",
            "try_select",
        ];
        let name = name
            .get(kind)
            .copied()
            .unwrap_or(["block_on", "poll once"][kind % 2]);
        me.doing(|| format!("thread Select call {call} {name} {:?}", arms.describe()));
        let (sends, recvs) = run.channels(arms);
        me.waiting(sends, recvs);
        let attempt = match kind {
            0 => Attempt::Done(Some(run.select.select_blocking()), false),
            1 => Attempt::Done(run.select.select_timeout(select_wait(rng)), false),
            2 => {
                let deadline = Instant::now() + select_wait(rng);
                Attempt::Done(run.select.select_deadline(deadline), false)
            }
            3 => Attempt::Done(run.select.try_select(), true),
            4 => {
                let out = futures::executor::block_on(run.select.select());
                Attempt::Done(Some(out), false)
            }
            _ => {
                let fut = pin!(run.select.select());
                match fut.poll(&mut Context::from_waker(noop_waker_ref())) {
                    Poll::Ready(out) => Attempt::Done(Some(out), false),
                    Poll::Pending => Attempt::Withdrawn,
                }
            }
        };
        me.done_waiting();
        match attempt {
            Attempt::Done(outcome, now) => run.outcome(me, arms, outcome, now),
            Attempt::Withdrawn => {
                me.counts.withdrawn += 1;
                withdrawn = true;
                break;
            }
        }
    }
    run.finish(me, withdrawn, rng);
}

/// How likely a plain party's operation is `try_send` / `try_recv`.
const PLAIN_TRY_PERCENT: u32 = 8;

/// A task party of a select round.
async fn select_round_task(index: usize, mut pool: Pool, round: Arc<SelectRound>, mut rng: Rng) {
    let mut me = Party::new(index, &round);
    for step in 0..round.plan.ops {
        if pool.all_closed() {
            break;
        }
        me.maybe_close(step, &pool);
        if rng.percent(round.plan.dawdle_percent) {
            tokio::time::sleep(rng.micros(MAX_DAWDLE_MICROS)).await;
        }
        let c = rng.below(pool.len());
        match round.plan.parties[index].role {
            Role::Selector => task_select(&mut me, &pool, &mut rng).await,
            Role::Sender => {
                let msg = me.make();
                let id = msg.id;
                let op = pick(
                    &mut rng,
                    PLAIN_TRY_PERCENT,
                    AsyncSend::Try,
                    &AsyncSend::WAITING,
                );
                me.doing(|| format!("task {op:?} ch{c}"));
                me.waiting([c], []);
                let sent = async_send(&pool.txs[c], msg, op, &mut rng).await;
                me.done_waiting();
                me.sent(&pool.txs[c], id, sent);
            }
            Role::Receiver => {
                let op = pick(
                    &mut rng,
                    PLAIN_TRY_PERCENT,
                    AsyncRecv::Try,
                    &AsyncRecv::WAITING,
                );
                me.doing(|| format!("task {op:?} ch{c}"));
                me.waiting([], [c]);
                let got = async_recv(&mut pool.rxs[c], op, &mut rng).await;
                me.done_waiting();
                me.got(&pool.rxs[c], got);
            }
        }
        round.progress.fetch_add(1, Ordering::SeqCst);
    }
    me.finish();
}

/// A thread party of a select round.
fn select_round_thread(index: usize, mut pool: Pool, round: Arc<SelectRound>, mut rng: Rng) {
    let mut me = Party::new(index, &round);
    for step in 0..round.plan.ops {
        if pool.all_closed() {
            break;
        }
        me.maybe_close(step, &pool);
        if rng.percent(round.plan.dawdle_percent) {
            thread::sleep(rng.micros(MAX_DAWDLE_MICROS));
        }
        let c = rng.below(pool.len());
        match round.plan.parties[index].role {
            Role::Selector => thread_select(&mut me, &pool, &mut rng),
            Role::Sender => {
                let msg = me.make();
                let id = msg.id;
                let op = pick(
                    &mut rng,
                    PLAIN_TRY_PERCENT,
                    ThreadSend::Try,
                    &ThreadSend::WAITING,
                );
                me.doing(|| format!("thread {op:?} ch{c}"));
                me.waiting([c], []);
                let sent = thread_send(&pool.txs[c], msg, op, &mut rng);
                me.done_waiting();
                me.sent(&pool.txs[c], id, sent);
            }
            Role::Receiver => {
                let op = pick(
                    &mut rng,
                    PLAIN_TRY_PERCENT,
                    ThreadRecv::Try,
                    &ThreadRecv::WAITING,
                );
                me.doing(|| format!("thread {op:?} ch{c}"));
                me.waiting([], [c]);
                let got = thread_recv(&mut pool.rxs[c], op, &mut rng);
                me.done_waiting();
                me.got(&pool.rxs[c], got);
            }
        }
        round.progress.fetch_add(1, Ordering::SeqCst);
    }
    me.finish();
}

/// A select round ends once no party has finished an operation for this long: the rest wait for
/// peers that will not come.
const STALL: Duration = Duration::from_millis(5);

/// The longest a select round runs before its channels are closed.
const ROUND_BUDGET: Duration = Duration::from_millis(100);

/// How long a stall in which two parties wait on opposite ends of one channel may last before it
/// counts as a lost wake-up. Long, so that a busy machine does not trip it.
const LOST_WAKE_UP: Duration = Duration::from_millis(500);

/// Waits until every party of `round` is done, or they stall, or the round's budget is spent.
///
/// A stall is expected: those left wait for peers that will not come. But if one party waits to
/// send on a channel and another to receive from it, they should meet: if that lasts for
/// [`LOST_WAKE_UP`], a wake-up was lost (or a registration), and it is a violation.
fn wait_for_stall(round: &SelectRound) {
    let start = Instant::now();
    let (mut seen, mut since) = (usize::MAX, start);
    while round.done.load(Ordering::SeqCst) < round.plan.parties.len() {
        thread::sleep(Duration::from_micros(200));
        let now = Instant::now();
        let progress = round.progress.load(Ordering::SeqCst);
        if progress != seen {
            (seen, since) = (progress, now);
            continue;
        }
        let stalled = now - since;
        match waiting_pair(round) {
            None if stalled >= STALL => return,
            Some(pair) if stalled >= LOST_WAKE_UP => {
                round.ledger.violation(format!(
                    "lost wake-up: no progress for {stalled:?} although {pair}"
                ));
                return;
            }
            // Within the budget, unless a suspicious stall is being watched.
            _ if now - start >= ROUND_BUDGET + LOST_WAKE_UP => return,
            _ => {}
        }
    }
}

/// Two parties that wait on opposite ends of one channel, described; `None` if there are none.
fn waiting_pair(round: &SelectRound) -> Option<String> {
    let waits: Vec<u16> = (round.waits.iter())
        .map(|w| w.load(Ordering::SeqCst))
        .collect();
    for (p, &pw) in waits.iter().enumerate() {
        for (q, &qw) in waits.iter().enumerate() {
            let common = pw & 0xff & (qw >> 8);
            if p != q && common != 0 {
                let way = |i: usize| round.ways[i].lock().unwrap().clone();
                return Some(format!(
                    "party {p} waits to send on ch{} ({}, mask {pw:#06x}) and party {q} to \
                     receive from it ({}, mask {qw:#06x})",
                    common.trailing_zeros(),
                    way(p),
                    way(q)
                ));
            }
        }
    }
    None
}

/// Runs one select round, closes its channels at the end (in a random order, through random
/// handles), and checks its ledger and the parties' books.
fn run_select_round(
    plan: SelectPlan,
    rng: &mut Rng,
    runtime: &tokio::runtime::Runtime,
) -> (Tally, SelectCounts) {
    let ledger = Ledger::new(plan.parties.len(), plan.ops * MAX_ARMS);
    let round = Arc::new(SelectRound {
        plan: plan.clone(),
        ledger: ledger.clone(),
        progress: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        closed_midway: AtomicBool::new(false),
        counts: Mutex::new(SelectCounts::default()),
        waits: (0..plan.parties.len()).map(|_| AtomicU16::new(0)).collect(),
        ways: (0..plan.parties.len()).map(|_| Mutex::default()).collect(),
    });
    let pool = Pool::new(plan.channels);
    let mut tasks = Vec::new();
    let mut threads = Threads::new();
    for (index, party) in plan.parties.iter().enumerate() {
        let (pool, round, rng) = (pool.clone(), round.clone(), rng.fork());
        if party.on_thread {
            threads.spawn(move || select_round_thread(index, pool, round, rng));
        } else {
            tasks.push(runtime.spawn(select_round_task(index, pool, round, rng)));
        }
    }

    wait_for_stall(&round);
    let mut order: Vec<usize> = (0..plan.channels).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    for c in order {
        if rng.percent(50) {
            pool.rxs[c].close();
        } else {
            pool.txs[c].close();
        }
        if plan.end_gap_micros > 0 {
            thread::sleep(rng.micros(plan.end_gap_micros));
        }
    }

    runtime.block_on(watchdog(async {
        for task in tasks {
            if let Err(e) = task.await {
                panic::resume_unwind(e.into_panic());
            }
        }
    }));
    threads.join();
    // The last handles: a held `try_send` message no receive came for is dropped with its channel.
    drop(pool);

    let mut tally = ledger.audit(plan.channels);
    tally.rounds = 1;
    tally.closed_midway = usize::from(round.closed_midway.load(Ordering::SeqCst));
    ledger.assert_clean();
    let counts = round.counts.lock().unwrap().clone();
    // Every message has exactly one fate, and the parties' books agree with the ledger's.
    assert_eq!(
        tally.created,
        tally.received + tally.returned + tally.dropped_with_send + tally.held_dropped,
        "fates do not add up: {tally:?}"
    );
    assert_eq!(
        counts.received, tally.received,
        "received: {counts:?} vs {tally:?}"
    );
    assert_eq!(
        counts.returned, tally.returned,
        "returned: {counts:?} vs {tally:?}"
    );
    assert_eq!(
        counts.send_ok, tally.send_ok,
        "delivered: {counts:?} vs {tally:?}"
    );
    assert_eq!(counts.try_ok, tally.try_ok, "held: {counts:?} vs {tally:?}");
    (tally, counts)
}

/// Runs `rounds` select rounds, prints a summary, and puts the seed in any failure.
fn select_storm(name: &str, rounds: usize) {
    let seed = base_seed();
    eprintln!("rendez stress seed: {seed} (RENDEZ_SEED={seed} to replay)");
    let start = Instant::now();
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .expect("tokio runtime");
        let mut rng = Rng::for_test(seed, name);
        let mut total = Tally::default();
        let mut counts = SelectCounts::default();
        for r in 0..rounds {
            let mut round_rng = rng.fork();
            let plan = SelectPlan::draw(&mut round_rng);
            let (tally, c) = panic::catch_unwind(AssertUnwindSafe(|| {
                run_select_round(plan.clone(), &mut round_rng, &runtime)
            }))
            .unwrap_or_else(|e| panic!("round {r} of {plan:?}: {}", panic_text(&*e)));
            total.add(&tally);
            counts.add(&c);
        }
        (total, counts)
    }));
    match outcome {
        Ok((t, c)) => eprintln!(
            "stress {name}: {} rounds ({} with a channel closed midway); {} selects: {} won by a \
             receive arm, {} by a send arm, {} by a closed channel's arm, {} found nothing ready, \
             {} withdrawn; {} plain operations; {} messages: {} received ({} after their send or \
             select was withdrawn), {} returned, {} dropped with an unselected arm, {} dropped \
             with a withdrawn send or select, {} held dropped with their channel; {:.2?}",
            t.rounds,
            t.closed_midway,
            c.selects,
            c.won_by_recv,
            c.won_by_send,
            c.won_by_closed,
            c.nothing_ready,
            c.withdrawn,
            c.plain_ops,
            t.created,
            t.received,
            t.received_after_cancel,
            t.returned,
            t.dropped_unselected,
            t.dropped_with_send - t.dropped_unselected,
            t.held_dropped,
            start.elapsed(),
        ),
        Err(e) => panic!(
            "stress {name} failed: {}\nrendez stress seed: {seed} (RENDEZ_SEED={seed} to replay)",
            panic_text(&*e)
        ),
    }
}

// ================================================================================================
// The tests.
// ================================================================================================

#[test]
#[cfg_attr(miri, ignore = "tokio timers are too slow under Miri")]
fn storm_of_tokio_tasks() {
    storm(
        "storm_of_tokio_tasks",
        scaled(200),
        Shape {
            async_producers: 1..=4,
            async_consumers: 1..=4,
            thread_producers: 0..=0,
            thread_consumers: 0..=0,
            per_producer: per_producer(120),
            try_percent: 8,
            endings: ALL_ENDINGS,
        },
    );
}

#[test]
fn storm_of_blocking_threads() {
    storm(
        "storm_of_blocking_threads",
        scaled(200),
        Shape {
            async_producers: 0..=0,
            async_consumers: 0..=0,
            thread_producers: 1..=3,
            thread_consumers: 1..=3,
            per_producer: per_producer(120),
            try_percent: 8,
            endings: ALL_ENDINGS,
        },
    );
}

#[test]
#[cfg_attr(miri, ignore = "tokio timers are too slow under Miri")]
fn storm_of_tasks_and_threads_closed_midway() {
    storm(
        "storm_of_tasks_and_threads_closed_midway",
        scaled(200),
        Shape {
            async_producers: 0..=3,
            async_consumers: 0..=3,
            thread_producers: 1..=2,
            thread_consumers: 1..=2,
            per_producer: per_producer(120),
            try_percent: 8,
            endings: MIDWAY_ENDINGS,
        },
    );
}

#[test]
#[cfg_attr(miri, ignore = "tokio timers are too slow under Miri")]
fn storm_of_try_ops_among_waiting_parties() {
    // Half the operations are try_send / try_recv: they succeed only against the waiting ones, so
    // held messages, `Full` and `Empty` are all frequent.
    storm(
        "storm_of_try_ops_among_waiting_parties",
        scaled(200),
        Shape {
            async_producers: 1..=3,
            async_consumers: 1..=3,
            thread_producers: 0..=2,
            thread_consumers: 0..=2,
            per_producer: per_producer(120),
            try_percent: 50,
            endings: ALL_ENDINGS,
        },
    );
}

#[test]
#[cfg_attr(miri, ignore = "tokio timers are too slow under Miri")]
fn storm_of_selects() {
    // Tasks and threads select over 2-4 send and receive arms on 3-4 shared channels (the
    // macros and the `Select` builder, every blocking and async form, withdrawn by timeouts,
    // `default`, dropped futures), among plain senders and receivers; channels close midway and
    // at the end of each round.
    select_storm("storm_of_selects", scaled(150));
}
