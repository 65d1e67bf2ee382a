//! The receive future.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::ptr::NonNull;
use core::task::{Context, Poll};

use futures_core::future::FusedFuture;
use pin_project_lite::pin_project;

use crate::error::{RecvError, TryRecvError};
use crate::exchange::Core;
use crate::lock::{DefaultLock, Lock};
use crate::message::RecvNode;
use crate::select::claim::Claim;
use crate::waiter::Owner;
use crate::wake::{WakeBatch, PASS};

pin_project! {
    /// A receive in progress, returned by `recv`. It resolves to the next message, or to
    /// [`RecvError`] once the channel is closed and no `try_send` message is held.
    ///
    /// # Cancel safety
    ///
    /// Dropping it at any point loses no message: it takes one only inside the poll that returns
    /// it. If it was woken for a message and is dropped before taking it, the next waiting receive
    /// is woken in its place.
    ///
    /// # A woken receive holds its turn
    ///
    /// Receives are served in the order they started waiting (CONTRACT rule 2): when a message is
    /// offered, the receive that has waited longest is woken, and the message is kept for it
    /// until that future is polled again or dropped. So a receive future that was woken but is
    /// neither polled nor dropped (kept in a struct, or in a `select!` branch that is no longer
    /// polled) holds that message, and every receive behind it, back for as long as it lives.
    /// One that is leaked (`mem::forget`, a leaked `Box`) holds one offer for ever: from then on
    /// each send waits until the next one is offered.
    ///
    /// Instead, drop a receive future you stop polling: a dropped one passes its turn on (as
    /// `select!` branches and timeouts do). To receive across the iterations of a `select!` loop,
    /// poll the [`Receiver`](crate::Receiver) as a `Stream` (`rx.next()`): a stream that is not
    /// polled reserves nothing. For only what is ready now, use `try_recv`.
    ///
    /// Like every future it does nothing until it is polled: in async code, `.await` it
    /// (`rx.recv().await.unwrap()`, not `rx.recv().unwrap()`); on a thread outside async code, call
    /// `recv_blocking` instead. Calling a `Result` method on the future itself (`unwrap`,
    /// `expect`, `ok`, `is_ok`, `is_err`) does not compile, and the error says so:
    ///
    /// ```compile_fail,E0277
    /// async fn first(ch: &rendez::Channel<u32>) -> u32 {
    ///     // error: `RecvFut<'_, u32>` is a future: `.await` it first (`rx.recv().await.unwrap()`, ...)
    ///     ch.recv().unwrap()
    /// }
    /// ```
    ///
    /// # Panics
    ///
    /// Polling it again after it resolved panics. It is a [`FusedFuture`]: `is_terminated` tells
    /// whether it resolved, so `futures::select!` takes it without `.fuse()`.
    #[must_use = "futures do nothing unless you `.await` them; on a thread, use `recv_blocking`"]
    pub struct RecvFut<'a, T, L: Lock = DefaultLock> {
        core: &'a Core<T, L>,
        // Whether it has resolved; a resolved receive must not start another one.
        done: bool,
        #[pin]
        waiter: RecvNode<T>,
    }

    impl<'a, T, L: Lock> PinnedDrop for RecvFut<'a, T, L> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // Only a blocked thread's receive is handed messages; its owner collects them before
            // dropping. Anything here is dropped after the lock is released.
            drop(this.core.cancel_recv(this.waiter.as_ref()));
        }
    }
}

impl<'a, T, L: Lock> RecvFut<'a, T, L> {
    /// A receive on `core`; `blocking` marks a thread that parks until it is done, which may be
    /// handed a message directly.
    pub(crate) fn new(core: &'a Core<T, L>, blocking: bool) -> Self {
        RecvFut {
            core,
            done: false,
            waiter: RecvNode::new(Owner::task_or_thread(blocking)),
        }
    }

    /// Withdraws the receive: returns a message already handed to it (blocking receives only).
    #[cfg(feature = "std")]
    pub(crate) fn cancel(self: Pin<&mut Self>) -> Option<T> {
        let this = self.project();
        *this.done = true;
        this.core.cancel_recv(this.waiter.as_ref())
    }
}

// What a select needs of a receive arm (see `crate::select`). Select arms are never blocking
// nodes: they are notified and take their message in the select's own poll, also when the select
// blocks a thread, so no peer ever completes one.
impl<T, L: Lock> RecvFut<'_, T, L> {
    /// Makes this unstarted receive an arm of the select owning `claim`, ready to receive again
    /// (a builder's receive arm is selected many times).
    pub(crate) fn join(self: Pin<&mut Self>, claim: Option<NonNull<Claim>>) {
        let this = self.project();
        assert!(
            !this.waiter.is_registered() && !this.waiter.is_blocking(),
            "rendez: select over a receive that is already waiting"
        );
        *this.done = false;
        // SAFETY: unregistered, so the owner (us) has the only access to the slot.
        unsafe { this.waiter.slot() }.select = claim;
    }

    /// A select's `default` pass: takes a message now if a send is waiting (as `try_recv` does).
    pub(crate) fn try_now(self: Pin<&mut Self>) -> Option<Result<T, RecvError>> {
        let this = self.project();
        let result = match this.core.try_recv() {
            Ok(msg) => Ok(msg),
            Err(TryRecvError::Disconnected) => Err(RecvError),
            Err(TryRecvError::Empty) => return None,
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
    ) -> Poll<Result<T, RecvError>> {
        let this = self.project();
        assert!(
            !*this.done,
            "rendez: receive future polled after it completed"
        );
        let poll = this.core.poll_recv_in(this.waiter.as_ref(), cx, later);
        *this.done = poll.is_ready();
        poll
    }

    /// Withdraws an arm that was not selected. An async node is never handed a message, so
    /// nothing is lost; a turn it was notified for passes on.
    pub(crate) fn withdraw(self: Pin<&mut Self>) {
        let this = self.project();
        let handed = this.core.cancel_recv(this.waiter.as_ref());
        debug_assert!(handed.is_none(), "rendez: select arms are async nodes");
    }

    /// The node, as the select's claim names it.
    pub(crate) fn node(&self) -> &RecvNode<T> {
        &self.waiter
    }
}

impl<T, L: Lock> Future for RecvFut<'_, T, L> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.poll_in(cx, None)
    }
}

/// `is_terminated` is `true` once the receive resolved, so `futures::select!` takes the future as
/// it is, without `.fuse()`.
///
/// ```
/// use futures::future;
/// # futures::executor::block_on(async {
/// let ch = rendez::Channel::<u32>::new();
/// // No send is waiting: the other arm wins, and the dropped receive took nothing.
/// let got = futures::select! {
///     msg = ch.recv() => msg.ok(),
///     () = future::ready(()) => None,
/// };
/// assert_eq!(got, None);
/// # });
/// ```
impl<T, L: Lock> FusedFuture for RecvFut<'_, T, L> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<T, L: Lock> fmt::Debug for RecvFut<'_, T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvFut")
            .field("waiting", &self.waiter.is_registered())
            .finish_non_exhaustive()
    }
}

// SAFETY: as for `SendFut`: the node is reached by other threads only under the channel lock.
unsafe impl<T: Send, L: Lock + Sync> Send for RecvFut<'_, T, L> {}
// SAFETY: `&RecvFut` exposes only `Debug` and `is_terminated`, which read the owner-only flags
// (`done` and the node's atomic one).
unsafe impl<T: Send, L: Lock + Sync> Sync for RecvFut<'_, T, L> {}
