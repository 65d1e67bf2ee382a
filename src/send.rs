//! The send future.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::ptr::NonNull;
use core::task::{Context, Poll};

use futures_core::future::FusedFuture;
use pin_project_lite::pin_project;

use crate::error::{SendError, TrySendError};
use crate::exchange::Core;
use crate::lock::{DefaultLock, Lock};
use crate::message::SendNode;
use crate::select::claim::Claim;
use crate::waiter::{Owner, Sending};
use crate::wake::{WakeBatch, PASS};

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
    /// Like every future it does nothing until it is polled: `.await` it
    /// (`tx.send(msg).await.unwrap()`), or on a thread call `send_blocking`. Calling a `Result`
    /// method on the future itself does not compile, and the error says to `.await` it:
    ///
    /// ```compile_fail,E0277
    /// async fn give(ch: &rendez::Channel<u32>) {
    ///     ch.send(7).unwrap(); // error: `SendFut<'_, u32>` is a future: `.await` it first ...
    /// }
    /// ```
    ///
    /// # Panics
    ///
    /// Polling it again after it resolved panics. It is a [`FusedFuture`]: `is_terminated` tells
    /// whether it resolved (or was [cancelled](SendFut::cancel)), so `futures::select!` takes it
    /// without `.fuse()`.
    #[must_use = "futures do nothing unless you `.await` them; on a thread, use `send_blocking`"]
    pub struct SendFut<'a, T, L: Lock = DefaultLock> {
        core: &'a Core<T, L>,
        // Whether it resolved or was cancelled: the owner's copy of "the node is `Done`", which
        // `is_terminated(&self)` may read without touching the node.
        done: bool,
        #[pin]
        waiter: SendNode<T>,
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
            done: false,
            waiter: SendNode::new(msg, Owner::task_or_thread(blocking)),
        }
    }

    /// Withdraws the send and tells whether it was delivered: `Some(msg)` gives back a message
    /// that no receive took (and none ever will), `None` means a receive already took it. The
    /// future is finished afterwards: polling it again panics, dropping it does nothing more.
    ///
    /// Dropping a pending send loses this answer when a receive took the message just before;
    /// `cancel` on the pinned future does not.
    ///
    /// ```
    /// use std::pin::pin;
    /// use futures::FutureExt;
    /// let ch = rendez::Channel::<&str>::new();
    /// let mut send = pin!(ch.send("job"));
    /// assert!(send.as_mut().now_or_never().is_none()); // no receive is waiting: pending
    /// assert_eq!(send.as_mut().cancel(), Some("job")); // withdrawn, the message is ours again
    /// assert!(ch.try_recv().is_err()); // and no receive will see it
    /// ```
    pub fn cancel(self: Pin<&mut Self>) -> Option<T> {
        let this = self.project();
        *this.done = true;
        this.core.cancel_send(this.waiter.as_ref())
    }
}

// What a select needs of a send arm (see `crate::select`).
impl<T, L: Lock> SendFut<'_, T, L> {
    /// Makes this unstarted (or withdrawn) send an arm of the select owning `claim`.
    pub(crate) fn join(self: Pin<&mut Self>, claim: Option<NonNull<Claim>>) {
        let waiter = self.project().waiter;
        assert!(
            !waiter.is_registered(),
            "rendez: select over a send that is already waiting"
        );
        // SAFETY: unregistered, so the owner (us) has the only access to the slot.
        unsafe { waiter.slot() }.select = claim;
    }

    /// A select's `default` pass: sends now if a receive is waiting (as `try_send` does), leaving
    /// the message in place otherwise. `None` if it did not complete (or has no message left).
    pub(crate) fn try_now(self: Pin<&mut Self>) -> Option<Result<(), SendError<T>>> {
        let this = self.project();
        assert!(
            !this.waiter.is_registered(),
            "rendez: select arm is waiting"
        );
        // SAFETY: unregistered, so the owner (us) has the only access to the node.
        if unsafe { this.waiter.state() } != Sending::Init {
            return None; // spent: it has no message to send
        }
        // SAFETY: as above; `Init` holds the message, and `put` below gives it back.
        let msg =
            unsafe { this.waiter.take() }.expect("rendez: an unstarted send holds its message");
        let result = match this.core.try_send(msg) {
            Ok(()) => Ok(()),
            Err(TrySendError::Disconnected(msg)) => Err(SendError(msg)),
            Err(TrySendError::Full(msg)) => {
                // SAFETY: as above; `take` left it `Done`.
                unsafe { this.waiter.put(msg) };
                return None;
            }
        };
        *this.done = true;
        Some(result)
    }

    /// Polls it; as a select's arm (`later` given), the wake-ups it causes wait in `later` until
    /// the pass is over.
    pub(crate) fn poll_in(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        later: Option<&mut WakeBatch<PASS>>,
    ) -> Poll<Result<(), SendError<T>>> {
        let this = self.project();
        let poll = this.core.poll_send_in(this.waiter.as_ref(), cx, later);
        *this.done = poll.is_ready();
        poll
    }

    /// Withdraws an arm that was not selected, keeping its message in the future, unstarted.
    /// Afterwards it is unregistered; dropping it drops the message.
    pub(crate) fn withdraw(self: Pin<&mut Self>) {
        let this = self.project();
        if let Some(msg) = this.core.cancel_send(this.waiter.as_ref()) {
            // SAFETY: `cancel_send` left the node unregistered and `Done`: the owner has the only
            // access.
            unsafe { this.waiter.put(msg) };
        }
    }

    /// Takes the message of an arm that was not selected (withdrawn and unstarted), disarming it.
    #[cfg(feature = "alloc")]
    pub(crate) fn take_unsent(self: Pin<&mut Self>) -> Option<T> {
        let this = self.project();
        *this.done = true;
        this.core.cancel_send(this.waiter.as_ref())
    }

    /// Whether it can still be selected: it has not completed (a peer may have finished it, or
    /// `close` returned its message, and its poll has not collected that yet).
    pub(crate) fn is_armed(self: Pin<&mut Self>) -> bool {
        if self.waiter.is_registered() {
            return true;
        }
        // SAFETY: unregistered, so the owner (us) has the only access to the slot.
        (unsafe { self.waiter.state() }) != Sending::Done
    }

    /// The node, as the select's claim names it.
    pub(crate) fn node(&self) -> &SendNode<T> {
        &self.waiter
    }
}

impl<T, L: Lock> Future for SendFut<'_, T, L> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.poll_in(cx, None)
    }
}

/// `is_terminated` is `true` once the send resolved or was [cancelled](SendFut::cancel), so
/// `futures::select!` takes the future as it is, without `.fuse()`, and skips it once it is done.
///
/// ```
/// use std::pin::pin;
/// use futures::future::FusedFuture;
/// # futures::executor::block_on(async {
/// let ch = rendez::Channel::<u32>::new();
/// let mut send = pin!(ch.send(1));
/// let mut recv = pin!(ch.recv());
/// let (mut sent, mut got) = (None, None);
/// // Each round runs the arm of a future that resolved; a finished one is not polled again.
/// while sent.is_none() || got.is_none() {
///     futures::select! {
///         res = send.as_mut() => sent = Some(res),
///         res = recv.as_mut() => got = Some(res),
///     }
/// }
/// assert_eq!((sent, got), (Some(Ok(())), Some(Ok(1))));
/// assert!(send.is_terminated());
/// # });
/// ```
impl<T, L: Lock> FusedFuture for SendFut<'_, T, L> {
    fn is_terminated(&self) -> bool {
        self.done
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
// SAFETY: `&SendFut` exposes nothing but `Debug` and `is_terminated`, which read only the
// owner-only flags (`done` and the node's atomic one); polling needs `Pin<&mut SendFut>`.
unsafe impl<T: Send, L: Lock + Sync> Sync for SendFut<'_, T, L> {}
