//! Blocking calls: the same async state machine, driven on the current thread (no second copy of
//! the logic). The thread parks between polls and is unparked by its waker.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

#[cfg(loom)]
use loom::thread::{self, Thread};
#[cfg(not(loom))]
use std::thread::{self, Thread};

use crate::error::{RecvError, RecvTimeoutError, SendError, SendTimeoutError};
use crate::exchange::Core;
use crate::lock::Lock;
use crate::recv::RecvFut;
use crate::send::SendFut;

/// Wakes a parked thread.
struct Unparker(Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// A waker that unparks the current thread.
fn new_thread_waker() -> Waker {
    Waker::from(Arc::new(Unparker(thread::current())))
}

#[cfg(not(loom))]
std::thread_local! {
    /// This thread's waker, made once per thread so blocking calls allocate nothing per message.
    static THREAD_WAKER: Waker = new_thread_waker();
}

/// The current thread's waker. Cloning the cached one bumps a reference count; only a call made
/// while this thread's locals are being destroyed has to build (allocate) a waker of its own.
#[cfg(not(loom))]
fn thread_waker() -> Waker {
    THREAD_WAKER
        .try_with(Waker::clone)
        .unwrap_or_else(|_| new_thread_waker())
}

/// The current thread's waker. loom runs its threads on one OS thread, so nothing is cached.
#[cfg(loom)]
fn thread_waker() -> Waker {
    new_thread_waker()
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

/// When a wait of `timeout` from now ends; `None` (wait forever) if that is too far to represent.
fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// Polls `fut` on this thread, parking between polls, until it resolves (`Some`) or `deadline`
/// passes (`None`; the caller then withdraws the operation).
fn block_on<F: Future>(fut: Pin<&mut F>, deadline: Option<Instant>) -> Option<F::Output> {
    poll_until(fut, &thread_waker(), deadline)
}

/// The park/poll loop of [`block_on`].
fn poll_until<F: Future>(
    mut fut: Pin<&mut F>,
    waker: &Waker,
    deadline: Option<Instant>,
) -> Option<F::Output> {
    let mut cx = Context::from_waker(waker);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return Some(out);
        }
        // A wake-up may be spurious (or a leftover unpark token): the loop re-polls, and the
        // state machine only says Ready when the operation really completed.
        if !park_until(deadline) {
            return None;
        }
    }
}

// === the blocking calls, for every handle ===

impl<T, L: Lock> Core<T, L> {
    /// Sends `msg`, parking this thread until a receive takes it or the channel closes.
    pub(crate) fn send_blocking(&self, msg: T) -> Result<(), SendError<T>> {
        let fut = core::pin::pin!(SendFut::new(self, msg, true));
        block_on(fut, None).expect("rendez: no deadline, so no timeout")
    }

    /// Sends `msg`, parking this thread for at most `timeout`.
    pub(crate) fn send_timeout(
        &self,
        msg: T,
        timeout: Duration,
    ) -> Result<(), SendTimeoutError<T>> {
        let mut fut = core::pin::pin!(SendFut::new(self, msg, true));
        match block_on(fut.as_mut(), deadline_after(timeout)) {
            Some(result) => result.map_err(Into::into),
            // Withdraw atomically: a receive may have taken it since the last poll.
            None => match fut.cancel() {
                None => Ok(()),
                Some(msg) => Err(SendTimeoutError::Timeout(msg)),
            },
        }
    }

    /// Receives, parking this thread until a message is handed over or the channel closes.
    pub(crate) fn recv_blocking(&self) -> Result<T, RecvError> {
        let fut = core::pin::pin!(RecvFut::new(self, true));
        block_on(fut, None).expect("rendez: no deadline, so no timeout")
    }

    /// Receives, parking this thread for at most `timeout`.
    pub(crate) fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        let mut fut = core::pin::pin!(RecvFut::new(self, true));
        match block_on(fut.as_mut(), deadline_after(timeout)) {
            Some(result) => result.map_err(Into::into),
            // Withdraw atomically: a send may have handed a message over since the last poll.
            None => fut.cancel().ok_or(RecvTimeoutError::Timeout),
        }
    }
}
