//! Blocking calls: the same async state machine, driven on the current thread (no second copy of
//! the logic). Between polls the thread waits for its waker (see [`crate::parker`]).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::error::{RecvError, RecvTimeoutError, SendError, SendTimeoutError};
use crate::exchange::Core;
use crate::lock::Lock;
use crate::parker::Parker;
use crate::recv::RecvFut;
use crate::send::SendFut;

/// When a wait of `timeout` from now ends; `None` (wait forever) if that is too far to represent.
pub(crate) fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// Polls `fut` on this thread, waiting between polls, until it resolves (`Some`) or `deadline`
/// passes (`None`; the caller then withdraws the operation).
pub(crate) fn block_on<F: Future>(
    mut fut: Pin<&mut F>,
    deadline: Option<Instant>,
) -> Option<F::Output> {
    let parker = Parker::current();
    let waker = parker.waker();
    let mut cx = Context::from_waker(&waker);
    loop {
        parker.prepare();
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return Some(out);
        }
        // A wake-up may be spurious (or a leftover unpark token): the loop re-polls, and the
        // state machine only says Ready when the operation really completed.
        if !parker.wait(deadline) {
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
        self.send_deadline(msg, deadline_after(timeout))
    }

    /// Sends `msg`, parking this thread until `deadline` at the latest (`None`: no deadline). A
    /// deadline that already passed still takes a receive that is waiting right now.
    pub(crate) fn send_deadline(
        &self,
        msg: T,
        deadline: Option<Instant>,
    ) -> Result<(), SendTimeoutError<T>> {
        let mut fut = core::pin::pin!(SendFut::new(self, msg, true));
        match block_on(fut.as_mut(), deadline) {
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
        self.recv_deadline(deadline_after(timeout))
    }

    /// Receives, parking this thread until `deadline` at the latest (`None`: no deadline). A
    /// deadline that already passed still takes a message a send offers right now.
    pub(crate) fn recv_deadline(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        let mut fut = core::pin::pin!(RecvFut::new(self, true));
        match block_on(fut.as_mut(), deadline) {
            Some(result) => result.map_err(Into::into),
            // Withdraw atomically: a send may have handed a message over since the last poll.
            None => fut.cancel().ok_or(RecvTimeoutError::Timeout),
        }
    }
}
