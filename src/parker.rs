//! Waiting on the current thread until its waker is woken: spin while spinning pays off, then
//! park (see [`crate::wait`] for the policy as users see it).
//!
//! The spin comes first: [`crate::spin::wait_briefly`] decides how long (the policy has its own
//! file, `spin.rs`); this file is the mechanism: the waker a blocked call registers, the flag it
//! sets, and the park.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::time::Instant;

use crate::wait::{wait_policy, WaitPolicy};

#[cfg(rendez_loom)]
use loom::thread::{self, Thread};
#[cfg(not(rendez_loom))]
use std::thread::{self, Thread};

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
        #[cfg(not(rendez_loom))]
        crate::spin::refresh_cpus();
        Parker {
            unparker: Arc::new(Unparker {
                thread: thread::current(),
                woken: AtomicBool::new(false),
            }),
        }
    }

    /// The current thread's parker: made once per thread, so blocking calls allocate nothing per
    /// message; only a call made while the thread's locals are being destroyed allocates one.
    #[cfg(not(rendez_loom))]
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
    #[cfg(rendez_loom)]
    pub(crate) fn current() -> Self {
        Parker::new()
    }

    /// A waker that wakes this thread.
    pub(crate) fn waker(&self) -> Waker {
        Waker::from(self.unparker.clone())
    }

    /// Forgets earlier wake-ups, and where the last registration stood in line. Called before
    /// each poll, so that a wake-up seen while waiting is one that came after the poll, and the
    /// place the wait goes by is the one this poll's registration noted.
    pub(crate) fn prepare(&self) {
        self.unparker.woken.store(false, Ordering::Relaxed);
        #[cfg(not(rendez_loom))]
        crate::spin::forget_place_in_line();
    }

    /// Whether a wake-up came since [`Parker::prepare`].
    #[cfg(not(rendez_loom))]
    fn woken(&self) -> bool {
        self.unparker.woken.load(Ordering::Acquire)
    }

    /// Waits until this thread's waker is woken (or spuriously): returns `true`; or until
    /// `deadline` passes: returns `false`.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> bool {
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return false;
        }
        if wait_policy() == WaitPolicy::Park {
            return park_until(deadline);
        }
        self.wait_briefly() || park_until(deadline)
    }

    /// Spins for as long as the spin policy allows, watching for a wake-up.
    #[cfg(not(rendez_loom))]
    fn wait_briefly(&self) -> bool {
        crate::spin::wait_briefly(|| self.woken())
    }

    /// Under loom, waiting is parking: spinning would only multiply the interleavings.
    #[cfg(rendez_loom)]
    fn wait_briefly(&self) -> bool {
        false
    }
}

/// Parks this thread until it is unparked (or spuriously) or `deadline` passes. Returns `false`
/// if the deadline had passed before parking.
#[cfg(not(rendez_loom))]
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
#[cfg(rendez_loom)]
fn park_until(deadline: Option<Instant>) -> bool {
    if deadline.is_some() {
        return false;
    }
    thread::park();
    true
}
