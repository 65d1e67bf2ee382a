//! How often the async scenarios poll each send and receive future, per peer: the work a peer's
//! send semantics make a task do, apart from the speed of its code. `compare --polls` prints it.
//!
//! A strict rendezvous send cannot complete in its first poll unless a blocked thread waits: it
//! must return `Pending`, be woken when a receive has taken its message, and be polled again. A
//! channel whose send completes as soon as the message is handed over (kanal's, flume's) often
//! finishes in one poll, so one task can send many messages without yielding. Each poll past the
//! first is a wake-up and a trip through the scheduler; on a multi-thread runtime that trip may
//! also wake an idle worker thread.
//!
//! [`Counted`] wraps a peer: its futures count their polls into global counters (the scenarios
//! run one at a time). Counting costs a few atomic adds per poll, so the rates printed with the
//! counts are a little below `compare`'s.

use std::future::{poll_fn, Future};
use std::marker::PhantomData;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use tokio::runtime::Runtime;

use crate::peers::{self, AsyncPeer, AsyncScenario, Flume, Kanal, Msg, Peer, Rendez, StrictRef};

/// What one kind of operation (send or receive) did over a run.
struct Tally {
    /// Operations that completed.
    done: AtomicUsize,
    /// Polls of those operations.
    polls: AtomicUsize,
    /// Operations that completed in their first poll.
    at_once: AtomicUsize,
}

impl Tally {
    const fn new() -> Self {
        Tally {
            done: AtomicUsize::new(0),
            polls: AtomicUsize::new(0),
            at_once: AtomicUsize::new(0),
        }
    }

    /// Zeroes the counters before a run.
    fn reset(&self) {
        self.done.store(0, Relaxed);
        self.polls.store(0, Relaxed);
        self.at_once.store(0, Relaxed);
    }

    /// (polls per operation, share of operations done in one poll).
    fn read(&self) -> (f64, f64) {
        let done = self.done.load(Relaxed).max(1) as f64;
        (
            self.polls.load(Relaxed) as f64 / done,
            self.at_once.load(Relaxed) as f64 / done,
        )
    }
}

static SENDS: Tally = Tally::new();
static RECVS: Tally = Tally::new();

/// Awaits `fut`, counting its polls into `tally`.
async fn counted<F: Future>(fut: F, tally: &'static Tally) -> F::Output {
    let mut fut = pin!(fut);
    let mut polls = 0;
    poll_fn(|cx| {
        polls += 1;
        let out = fut.as_mut().poll(cx);
        if out.is_ready() {
            tally.done.fetch_add(1, Relaxed);
            tally.polls.fetch_add(polls, Relaxed);
            if polls == 1 {
                tally.at_once.fetch_add(1, Relaxed);
            }
        }
        out
    })
    .await
}

/// Peer `P` with every send and receive future counted.
pub struct Counted<P>(PhantomData<P>);

impl<P: Peer> Peer for Counted<P> {
    const NAME: &'static str = P::NAME;
    const ZERO_CAPACITY: bool = P::ZERO_CAPACITY;
    const ONE_SENDER: bool = P::ONE_SENDER;
}

impl<P: AsyncPeer> AsyncPeer for Counted<P> {
    type Tx<T: Msg> = P::Tx<T>;
    type Rx<T: Msg> = P::Rx<T>;
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>) {
        P::channel()
    }
    fn clone_rx<T: Msg>(rx: &Self::Rx<T>) -> Option<Self::Rx<T>> {
        P::clone_rx(rx)
    }
    fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> impl Future<Output = bool> + Send + '_ {
        counted(P::send(tx, msg), &SENDS)
    }
    fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> impl Future<Output = Option<T>> + Send + '_ {
        counted(P::recv(rx), &RECVS)
    }
}

/// One row of the table: a scenario for one peer.
pub struct PollRow {
    pub scenario: &'static str,
    pub peer: &'static str,
    /// Polls per send and the share of sends done in their first poll.
    pub send: (f64, f64),
    /// The same for receives.
    pub recv: (f64, f64),
    /// Messages (round trips) per second of the counted run.
    pub rate: f64,
}

/// The scenarios measured: (name, scenario, on the multi-thread runtime?).
const SCENARIOS: [(&str, AsyncScenario, bool); 6] = [
    ("async_spsc_mt", AsyncScenario::Spsc, true),
    ("async_spsc_ct", AsyncScenario::Spsc, false),
    ("async_mpmc4x4_mt", AsyncScenario::Mpmc, true),
    ("async_mpmc4x4_ct", AsyncScenario::Mpmc, false),
    ("async_mpsc4x1_mt", AsyncScenario::Mpsc, true),
    ("pingpong_async_mt", AsyncScenario::PingPong, true),
];

/// Runs every scenario once per peer, `n` messages (round trips) each, and counts the polls.
pub fn measure(n: usize) -> Vec<PollRow> {
    let multi = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("tokio runtime"),
    );
    let current = Arc::new(
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("tokio runtime"),
    );
    let mut rows = Vec::new();
    for (name, scenario, mt) in SCENARIOS {
        let rt = if mt { &multi } else { &current };
        rows.extend(row::<Rendez>(name, scenario, rt, n));
        rows.extend(row::<StrictRef>(name, scenario, rt, n));
        rows.extend(row::<Flume>(name, scenario, rt, n));
        rows.extend(row::<Kanal>(name, scenario, rt, n));
    }
    rows
}

/// One scenario for `P` (the benchmarks' own case), counted; `None` if `P` cannot take part.
fn row<P: AsyncPeer>(
    name: &'static str,
    scenario: AsyncScenario,
    rt: &Arc<Runtime>,
    n: usize,
) -> Option<PollRow> {
    let case = peers::async_case::<Counted<P>, usize>(scenario, rt, n)?;
    (case.run)(); // warm-up, not counted
    SENDS.reset();
    RECVS.reset();
    let elapsed = (case.run)();
    Some(PollRow {
        scenario: name,
        peer: P::NAME,
        send: SENDS.read(),
        recv: RECVS.read(),
        rate: n as f64 / elapsed.as_secs_f64(),
    })
}
