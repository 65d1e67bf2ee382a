//! Helpers shared by the integration tests: a waker that counts its wake-ups, hand polling, and a
//! message that counts its drops.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

/// How long a test waits for another thread or task before calling it a hang. Only a watchdog: no
/// test asserts on elapsed time.
pub const WATCHDOG: Duration = Duration::from_secs(20);

/// Spins (yielding) until `cond` holds; panics if it never does.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + WATCHDOG;
    while !cond() {
        assert!(Instant::now() < deadline, "gave up waiting until {what}");
        thread::yield_now();
    }
}

/// Joins `handle`, failing instead of hanging if the thread does not finish (a thread parked in a
/// blocking call that is never woken would otherwise hang the test).
pub fn join<T>(handle: thread::JoinHandle<T>) -> T {
    wait_until("the thread finished", || handle.is_finished());
    handle.join().unwrap()
}

/// Awaits `fut` under the watchdog (on a tokio runtime with time enabled).
pub async fn watchdog<F: Future>(fut: F) -> F::Output {
    tokio::time::timeout(WATCHDOG, fut)
        .await
        .expect("hang: lost wake-up or stuck turn?")
}

/// Scales a stress-loop count: tiny under Miri, multiplied by `RENDEZ_STRESS` (default 1).
pub fn scaled(n: usize) -> usize {
    if cfg!(miri) {
        return (n / 100).clamp(2, 20);
    }
    let factor = std::env::var("RENDEZ_STRESS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1);
    n * factor.max(1)
}

/// A waker that counts how often it was woken.
#[derive(Default)]
pub struct CountingWaker {
    wakes: AtomicUsize,
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }
}

/// A counting waker and the `Waker` made from it.
pub struct TestWaker {
    counter: Arc<CountingWaker>,
    waker: Waker,
}

impl TestWaker {
    pub fn new() -> Self {
        let counter = Arc::new(CountingWaker::default());
        let waker = Waker::from(counter.clone());
        TestWaker { counter, waker }
    }

    /// How many times it has been woken so far.
    pub fn wakes(&self) -> usize {
        self.counter.wakes.load(Ordering::SeqCst)
    }

    /// Whether it has been woken at least once.
    pub fn is_woken(&self) -> bool {
        self.wakes() > 0
    }

    pub fn waker(&self) -> &Waker {
        &self.waker
    }

    /// Polls `fut` once with this waker.
    pub fn poll<F: Future + ?Sized>(&self, fut: Pin<&mut F>) -> Poll<F::Output> {
        fut.poll(&mut Context::from_waker(&self.waker))
    }
}

impl Default for TestWaker {
    fn default() -> Self {
        Self::new()
    }
}

/// Counts live and dropped values of [`Tracked`].
#[derive(Default, Debug)]
pub struct DropLog {
    dropped: AtomicUsize,
}

impl DropLog {
    pub fn new() -> Arc<Self> {
        Arc::new(DropLog::default())
    }
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }
}

/// A message that records its drop in a shared [`DropLog`].
#[derive(Debug)]
pub struct Tracked {
    pub id: usize,
    log: Arc<DropLog>,
}

impl Tracked {
    pub fn new(id: usize, log: &Arc<DropLog>) -> Self {
        Tracked {
            id,
            log: log.clone(),
        }
    }
}

impl PartialEq for Tracked {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.log.dropped.fetch_add(1, Ordering::SeqCst);
    }
}
