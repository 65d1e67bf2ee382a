//! Waiting on the current thread until its waker is woken: a short spin, then the OS.
//!
//! A rendezvous partner on another core usually answers within a microsecond or two, far sooner
//! than a park/unpark round trip (two system calls and two context switches). So a blocked call
//! first spins briefly on a flag its waker sets, then yields a few times (which lets the partner
//! run when threads outnumber cores), and only then parks.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::time::Instant;

#[cfg(loom)]
use loom::thread::{self, Thread};
#[cfg(not(loom))]
use std::thread::{self, Thread};

/// Spin rounds before yielding; round `k` spins `2^k` times (4095 spins in all, about 35 µs
/// here). Long enough to cover a parked partner's wake-up: with a shorter spin, one side that
/// parks makes the other's spin run out too, and both stay in the slow park/unpark regime.
/// Measured (criterion, blocking, 10k messages): 10 rounds 11.5-14.7 ms for SPSC and 11.4-12.7 ms
/// for 2k ping-pong round trips; 12 rounds 5.1-7.2 ms and 2.2-3.2 ms; 13 and 14 no better.
#[cfg(not(loom))]
const SPIN_ROUNDS: u32 = 12;
/// `yield_now` calls after spinning, before parking.
#[cfg(not(loom))]
const YIELDS: u32 = 4;

/// What a thread's waker holds: the thread, and a flag for a waiter that has not parked yet.
struct Unparker {
    /// The thread to unpark.
    thread: Thread,
    /// Set by every wake; cleared by the thread before each poll.
    woken: AtomicBool,
}

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        // Cheap when the thread is still spinning (an atomic swap); a system call only if parked.
        self.thread.unpark();
    }
}

/// The current thread's way to wait for its waker.
pub(crate) struct Parker {
    /// Shared with every waker made by [`Parker::waker`].
    unparker: Arc<Unparker>,
}

impl Parker {
    /// A parker for a thread with no cached one.
    fn new() -> Self {
        Parker {
            unparker: Arc::new(Unparker {
                thread: thread::current(),
                woken: AtomicBool::new(false),
            }),
        }
    }

    /// The current thread's parker: made once per thread, so blocking calls allocate nothing per
    /// message; only a call made while the thread's locals are being destroyed allocates one.
    #[cfg(not(loom))]
    pub(crate) fn current() -> Self {
        std::thread_local! {
            static UNPARKER: Arc<Unparker> = Parker::new().unparker;
        }
        UNPARKER
            .try_with(|unparker| Parker {
                unparker: unparker.clone(),
            })
            .unwrap_or_else(|_| Parker::new())
    }

    /// The current thread's parker. loom runs its threads on one OS thread: nothing is cached.
    #[cfg(loom)]
    pub(crate) fn current() -> Self {
        Parker::new()
    }

    /// A waker that wakes this thread.
    pub(crate) fn waker(&self) -> Waker {
        Waker::from(self.unparker.clone())
    }

    /// Forgets earlier wake-ups. Called before each poll, so that a wake-up seen while waiting
    /// is one that came after the poll.
    pub(crate) fn prepare(&self) {
        self.unparker.woken.store(false, Ordering::Relaxed);
    }

    /// Waits until this thread's waker is woken (or spuriously): returns `true`; or until
    /// `deadline` passes: returns `false`.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> bool {
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return false;
        }
        self.wait_briefly() || park_until(deadline)
    }

    /// Spins, then yields, watching for a wake-up. Returns whether one came.
    #[cfg(not(loom))]
    fn wait_briefly(&self) -> bool {
        let woken = || self.unparker.woken.load(Ordering::Acquire);
        for round in 0..SPIN_ROUNDS {
            for _ in 0..1u32 << round {
                core::hint::spin_loop();
            }
            if woken() {
                return true;
            }
        }
        for _ in 0..YIELDS {
            thread::yield_now();
            if woken() {
                return true;
            }
        }
        false
    }

    /// Under loom, waiting is parking: spinning would only multiply the interleavings.
    #[cfg(loom)]
    fn wait_briefly(&self) -> bool {
        false
    }
}

/// Parks this thread until it is unparked (or spuriously) or `deadline` passes. Returns `false`
/// if the deadline had passed before parking.
#[cfg(not(loom))]
fn park_until(deadline: Option<Instant>) -> bool {
    match deadline {
        None => thread::park(),
        Some(deadline) => {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            thread::park_timeout(deadline - now);
        }
    }
    true
}

/// loom has no clock: a timed wait times out the first time it would park, so that models
/// explore the race between a timeout's withdrawal and a peer's handoff.
#[cfg(loom)]
fn park_until(deadline: Option<Instant>) -> bool {
    if deadline.is_some() {
        return false;
    }
    thread::park();
    true
}
