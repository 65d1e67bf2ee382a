//! Owned futures, for spawning: [`Sender::send_owned`] and [`Receiver::recv_owned`].
//!
//! They are [`SendFut`](crate::SendFut) and [`RecvFut`](crate::RecvFut) with the borrow of the
//! channel replaced by a counted share of it (what a handle clone holds), so they are `'static`
//! whenever `T` is. The operation is the same: the same `Core` calls on a waiter node pinned
//! inside the future, so strict rendezvous, FIFO order and cancel safety are the same code.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures_core::future::FusedFuture;
use pin_project_lite::pin_project;

use crate::channel::Shared;
use crate::error::{RecvError, SendError};
use crate::lock::{DefaultLock, Lock};
use crate::message::{RecvNode, SendNode};
use crate::sync::Arc;
use crate::waiter::Owner;
use crate::{Receiver, Sender};

// === sending ===

pin_project! {
    /// A send in progress that owns a share of its channel, returned by
    /// [`Sender::send_owned`]. It borrows nothing, so it can be spawned.
    ///
    /// It resolves as a [`SendFut`](crate::SendFut) does: to `Ok(())` once a receive has taken
    /// the message, or to [`SendError`] with the message if the channel closes first. Until it is
    /// dropped it counts as a `Sender` (in [`Sender::sender_count`]) and keeps the channel open.
    ///
    /// # Cancel safety
    ///
    /// Dropping it before it resolves withdraws the message: if no receive has taken it yet, it is
    /// dropped with the future and no receive will ever see it. If a receive took it just before
    /// the drop, the message was delivered and only the `Ok(())` is lost; [`SendOwned::cancel`]
    /// tells the two apart.
    ///
    /// # Panics
    ///
    /// Polling it again after it resolved panics. It is a [`FusedFuture`], so `futures::select!`
    /// takes it without `.fuse()`.
    #[must_use = "futures do nothing unless you `.await` or spawn them; on a thread, use `send_blocking`"]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub struct SendOwned<T, L: Lock = DefaultLock> {
        // The channel, with one count in `senders`.
        shared: Arc<Shared<T, L>>,
        // Whether it resolved or was cancelled.
        done: bool,
        #[pin]
        waiter: SendNode<T>,
    }

    impl<T, L: Lock> PinnedDrop for SendOwned<T, L> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            let unsent = this.shared.core.cancel_send(this.waiter.as_ref());
            this.shared.remove_sender();
            // Dropped last, outside the lock and after the count is settled, so a panicking
            // `Drop` of `T` cannot keep the channel open.
            drop(unsent);
        }
    }
}

impl<T, L: Lock> SendOwned<T, L> {
    /// A send of `msg` on the channel of `sender`, counted as one more sender.
    pub(crate) fn new(sender: &Sender<T, L>, msg: T) -> Self {
        sender.shared.add_sender();
        SendOwned {
            shared: sender.shared.clone(),
            done: false,
            waiter: SendNode::new(msg, Owner::Task),
        }
    }

    /// Withdraws the send and tells whether it was delivered, as [`SendFut::cancel`] does:
    /// `Some(msg)` gives back a message that no receive took (and none ever will), `None` means a
    /// receive already took it. The future is finished afterwards: polling it again panics.
    ///
    /// [`SendFut::cancel`]: crate::SendFut::cancel
    ///
    /// ```
    /// use std::pin::pin;
    /// use futures::FutureExt;
    /// # futures::executor::block_on(async {
    /// let (tx, rx) = rendez::channel();
    /// let mut send = pin!(tx.send_owned("job"));
    /// assert!(send.as_mut().now_or_never().is_none()); // no receive is waiting: pending
    /// assert_eq!(send.as_mut().cancel(), Some("job")); // withdrawn, the message is ours again
    /// assert!(rx.try_recv().is_err()); // and no receive will see it
    /// # });
    /// ```
    pub fn cancel(self: Pin<&mut Self>) -> Option<T> {
        let this = self.project();
        *this.done = true;
        this.shared.core.cancel_send(this.waiter.as_ref())
    }
}

impl<T, L: Lock> Future for SendOwned<T, L> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let poll = this.shared.core.poll_send(this.waiter.as_ref(), cx);
        *this.done = poll.is_ready();
        poll
    }
}

/// `is_terminated` is `true` once the send resolved or was [cancelled](SendOwned::cancel).
impl<T, L: Lock> FusedFuture for SendOwned<T, L> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<T, L: Lock> fmt::Debug for SendOwned<T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendOwned")
            .field("waiting", &self.waiter.is_registered())
            .field("terminated", &self.done)
            .finish_non_exhaustive()
    }
}

// SAFETY: as for `SendFut`: the node inside is reached by other threads only under the channel
// lock and carries a `T` between threads (hence `T: Send`); the share is an `Arc` of the channel,
// which is `Send + Sync` under these bounds (as for `Sender`).
unsafe impl<T: Send, L: Lock + Send + Sync> Send for SendOwned<T, L> {}
// SAFETY: `&SendOwned` exposes only `Debug` and `is_terminated`, which read the owner-only flag
// and the node's atomic flag; polling needs `Pin<&mut SendOwned>`.
unsafe impl<T: Send, L: Lock + Send + Sync> Sync for SendOwned<T, L> {}

// === receiving ===

pin_project! {
    /// A receive in progress that owns a share of its channel, returned by
    /// [`Receiver::recv_owned`]. It borrows nothing, so it can be spawned.
    ///
    /// It resolves as a [`RecvFut`](crate::RecvFut) does: to the next message, or to
    /// [`RecvError`] once the channel is closed and no `try_send` message is held. Until it is
    /// dropped it counts as a `Receiver` (in [`Receiver::receiver_count`]) and keeps the channel
    /// open.
    ///
    /// # Cancel safety
    ///
    /// Dropping it at any point loses no message: it takes one only inside the poll that returns
    /// it. If it was woken for a message and is dropped before taking it, the next waiting receive
    /// is woken in its place.
    ///
    /// # Panics
    ///
    /// Polling it again after it resolved panics. It is a [`FusedFuture`], so `futures::select!`
    /// takes it without `.fuse()`.
    #[must_use = "futures do nothing unless you `.await` or spawn them; on a thread, use `recv_blocking`"]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub struct RecvOwned<T, L: Lock = DefaultLock> {
        // The channel, with one count in `receivers`.
        shared: Arc<Shared<T, L>>,
        // Whether it has resolved; a resolved receive must not start another one.
        done: bool,
        #[pin]
        waiter: RecvNode<T>,
    }

    impl<T, L: Lock> PinnedDrop for RecvOwned<T, L> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // An async node is never handed a message; a turn it was woken for passes on.
            let handed = this.shared.core.cancel_recv(this.waiter.as_ref());
            this.shared.remove_receiver();
            drop(handed);
        }
    }
}

impl<T, L: Lock> RecvOwned<T, L> {
    /// A receive on the channel of `receiver`, counted as one more receiver.
    pub(crate) fn new(receiver: &Receiver<T, L>) -> Self {
        receiver.shared.add_receiver();
        RecvOwned {
            shared: receiver.shared.clone(),
            done: false,
            waiter: RecvNode::new(Owner::Task),
        }
    }
}

impl<T, L: Lock> Future for RecvOwned<T, L> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        assert!(
            !*this.done,
            "rendez: receive future polled after it completed"
        );
        let poll = this.shared.core.poll_recv(this.waiter.as_ref(), cx);
        *this.done = poll.is_ready();
        poll
    }
}

/// `is_terminated` is `true` once the receive resolved.
impl<T, L: Lock> FusedFuture for RecvOwned<T, L> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<T, L: Lock> fmt::Debug for RecvOwned<T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvOwned")
            .field("waiting", &self.waiter.is_registered())
            .field("terminated", &self.done)
            .finish_non_exhaustive()
    }
}

// SAFETY: as for `RecvFut`: the node is reached by other threads only under the channel lock;
// messages of type `T` move between threads; the share is an `Arc` of the channel, which is
// `Send + Sync` under these bounds (as for `Receiver`).
unsafe impl<T: Send, L: Lock + Send + Sync> Send for RecvOwned<T, L> {}
// SAFETY: `&RecvOwned` exposes only `Debug` and `is_terminated`, which read the owner-only flag
// and the node's atomic flag.
unsafe impl<T: Send, L: Lock + Send + Sync> Sync for RecvOwned<T, L> {}
