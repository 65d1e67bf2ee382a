//! The future that waits for a channel to close, returned by `closed()`.
//!
//! Its node waits in the exchange's list of watchers, which `close` (or the last drop of either
//! side) empties, as it does the senders' and receivers' lists: each watcher is unlinked, marked
//! [`Watching::Closed`], released and woken. The node does not depend on the message type.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures_core::future::FusedFuture;
use pin_project_lite::pin_project;

use crate::exchange::Core;
use crate::lock::{DefaultLock, Lock};
use crate::waiter::{CloseWaiter, Watching};

pin_project! {
    /// A future that resolves once the channel is closed, returned by `closed()` on a
    /// [`Sender`](crate::Sender), a [`Receiver`](crate::Receiver) or a
    /// [`Channel`](crate::Channel).
    ///
    /// A channel closes when [`close`](crate::Channel::close) is called on any of its handles, or
    /// when the last sender or the last receiver of a counted channel is dropped. It resolves at
    /// once if the channel is already closed, and again each time it is polled afterwards.
    ///
    /// It takes nothing from the channel and allocates nothing: dropping it at any point just
    /// withdraws it (cancel safe), and any number of them can wait at once.
    #[must_use = "futures do nothing unless you `.await` them"]
    pub struct ClosedFut<'a, T, L: Lock = DefaultLock> {
        core: &'a Core<T, L>,
        // Whether it has resolved (for `is_terminated`).
        done: bool,
        #[pin]
        waiter: CloseWaiter,
    }

    impl<'a, T, L: Lock> PinnedDrop for ClosedFut<'a, T, L> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.core.cancel_closed(this.waiter.as_ref());
        }
    }
}

impl<'a, T, L: Lock> ClosedFut<'a, T, L> {
    /// A watcher of `core`.
    pub(crate) fn new(core: &'a Core<T, L>) -> Self {
        ClosedFut {
            core,
            done: false,
            waiter: CloseWaiter::new(Watching::Init, false),
        }
    }
}

impl<T, L: Lock> Future for ClosedFut<'_, T, L> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let poll = this.core.poll_closed(this.waiter.as_ref(), cx);
        *this.done |= poll.is_ready();
        poll
    }
}

/// `is_terminated` is `true` once it resolved, so `futures::select!` takes it without `.fuse()`.
impl<T, L: Lock> FusedFuture for ClosedFut<'_, T, L> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<T, L: Lock> fmt::Debug for ClosedFut<'_, T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClosedFut")
            .field("resolved", &self.done)
            .finish_non_exhaustive()
    }
}

// SAFETY: the node is reached by other threads only under the channel lock (and released by
// `close` with a release store the owner acquires); it holds a waker and no message.
unsafe impl<T: Send, L: Lock + Sync> Send for ClosedFut<'_, T, L> {}
// SAFETY: `&ClosedFut` exposes only `Debug` and `is_terminated`, which read the owner-only `done`.
unsafe impl<T: Send, L: Lock + Sync> Sync for ClosedFut<'_, T, L> {}
