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
//! The random decisions come from a splitmix64 generator seeded from `RENDEZ_SEED` (decimal or
//! `0x` hex) or the clock; the seed is printed, and is part of every failure message. Threads
//! interleave as they like, so a seed replays the decisions (shapes, operations, timings, closes),
//! not the interleaving. Round counts scale with `RENDEZ_STRESS` (see `common::scaled`); run with
//! `-- --nocapture` to see one summary line per test.

mod common;

use std::cell::Cell;
use std::future::Future;
use std::ops::{ControlFlow, RangeInclusive};
use std::panic::{self, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use futures::task::noop_waker_ref;
use futures::StreamExt;
use rendez::{
    Receiver, RecvTimeoutError, SendError, SendTimeoutError, Sender, TryRecvError, TrySendError,
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
/// Its send future was dropped before it resolved.
const CANCELLED: u8 = 1 << 6;

/// An id no message has: producer ids are small.
const NO_ID: u64 = u64::MAX;

thread_local! {
    /// The id of the message whose send future this thread is dropping, if any: a message dropped
    /// meanwhile was dropped with its cancelled send.
    static DROPPING_SEND: Cell<u64> = const { Cell::new(NO_ID) };
}

/// The fate of every message of a round, and what went wrong.
struct Ledger {
    per_producer: usize,
    states: Vec<AtomicU8>,
    violations: Mutex<Vec<String>>,
    violation_count: AtomicUsize,
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
        })
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
            via_try: false,
            settled: false,
            ledger: self.clone(),
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

    /// Checks every id once all parties are done; `held_may_drop` when every receiver left midway
    /// (a held `try_send` message is then dropped with the last one).
    fn audit(&self, held_may_drop: bool) -> Tally {
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
                DROPPED_WITH_SEND if state & CANCELLED == 0 => {
                    Some("dropped by a send future that had resolved")
                }
                DROPPED_WITH_SEND => {
                    t.dropped_with_send += 1;
                    None
                }
                DROPPED_ELSEWHERE if state & TRY_OK != 0 && held_may_drop => {
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
                self.violation(format!("{} {what} (state {state:#010b})", show(id)));
            }
        }
        if t.held_dropped > 1 {
            self.violation(format!(
                "{} held try_send messages dropped, but at most one is held at a time",
                t.held_dropped
            ));
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
    /// Sent with `try_send`: it may be held, and taken after a later message of its producer.
    via_try: bool,
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
        let dropping_send = DROPPING_SEND.try_with(Cell::get).unwrap_or(NO_ID);
        let fate = if dropping_send == self.id {
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
        let outer = DROPPING_SEND.replace(self.id);
        self.fut = None;
        DROPPING_SEND.set(outer);
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

/// The bookkeeping every consumer does, whatever it runs on.
struct Consumer<'a> {
    index: usize,
    ops: usize,
    round: &'a Round,
    /// Per producer, the last sequence number received other than through `try_send`.
    last_seq: Vec<Option<u64>>,
}

impl<'a> Consumer<'a> {
    fn new(index: usize, round: &'a Round) -> Self {
        Consumer {
            index,
            ops: 0,
            round,
            last_seq: vec![None; round.plan.producers()],
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
                let (producer, seq) = ((msg.id >> 32) as usize, msg.id & 0xffff_ffff);
                // A producer's messages are taken in order: each send resolves (or is withdrawn)
                // before the next starts. Only a held `try_send` message may be taken later.
                if !msg.via_try {
                    if let Some(last) = self.last_seq.get_mut(producer) {
                        if last.is_some_and(|l| l >= seq) {
                            self.round.ledger.violation(format!(
                                "consumer {} received {} after seq {}",
                                self.index,
                                show(msg.id),
                                last.unwrap_or_default()
                            ));
                        }
                        *last = Some(seq);
                    }
                }
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
            msg.via_try = true;
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
            msg.via_try = true;
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
    let mut tally = ledger.audit(held_may_drop);
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
