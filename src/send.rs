//! The send future.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::error::SendError;
use crate::exchange::Core;
use crate::lock::{DefaultLock, Lock};
use crate::waiter::{SendWaiter, Sending};

pin_project! {
    /// A send in progress, returned by `send`. It resolves to `Ok(())` once a receive has taken the
    /// message, or to [`SendError`] with the message if the channel is closed first.
    ///
    /// # Cancel safety
    ///
    /// Dropping it before it resolves withdraws the message: if no receive has taken it yet, it is
    /// dropped with the future and no receive will ever see it. If a receive took it just before
    /// the drop, the message was delivered (exactly once) and only the `Ok(())` is lost.
    ///
    /// # Panics
    ///
    /// Polling it again after it resolved panics.
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct SendFut<'a, T, L: Lock = DefaultLock> {
        core: &'a Core<T, L>,
        #[pin]
        waiter: SendWaiter<T>,
    }

    impl<'a, T, L: Lock> PinnedDrop for SendFut<'a, T, L> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // Dropped after the lock is released, so a panicking `Drop` of `T` cannot hurt it.
            drop(this.core.cancel_send(this.waiter.as_ref()));
        }
    }
}

impl<'a, T, L: Lock> SendFut<'a, T, L> {
    /// A send of `msg` on `core`; `blocking` marks a thread that parks until it is done.
    pub(crate) fn new(core: &'a Core<T, L>, msg: T, blocking: bool) -> Self {
        SendFut {
            core,
            waiter: SendWaiter::new(Sending::Init(msg), blocking),
        }
    }

    /// Withdraws the send: returns the message unless a receive already took it. The future is
    /// finished afterwards.
    #[cfg(feature = "std")]
    pub(crate) fn cancel(self: Pin<&mut Self>) -> Option<T> {
        let this = self.project();
        this.core.cancel_send(this.waiter.as_ref())
    }
}

impl<T, L: Lock> Future for SendFut<'_, T, L> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        this.core.poll_send(this.waiter.as_ref(), cx)
    }
}

impl<T, L: Lock> fmt::Debug for SendFut<'_, T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFut")
            .field("waiting", &self.waiter.is_registered())
            .finish_non_exhaustive()
    }
}

// SAFETY: the node inside is reached by other threads only under the channel lock, and carries a
// `T` between threads (hence `T: Send`); the core is shared (`Core: Sync` needs the same bounds).
unsafe impl<T: Send, L: Lock + Sync> Send for SendFut<'_, T, L> {}
// SAFETY: `&SendFut` exposes nothing but `Debug`, which reads only the owner-only flag; polling
// needs `Pin<&mut SendFut>`.
unsafe impl<T: Send, L: Lock + Sync> Sync for SendFut<'_, T, L> {}
