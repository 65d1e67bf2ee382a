//! [`Core`]: the typed face of the exchange, which every handle and future holds. It owns the
//! channel's held cell and turns the type-independent answers of [`RawCore`] (a message moved into
//! a cell, or left in one) into messages. Each method is a call into `RawCore` and a read or write
//! of one cell: this is all that is compiled once per message type.

use core::pin::Pin;
use core::task::{Context, Poll};

use super::{RawCore, Unsent};
use crate::error::{RecvError, SendError, TryRecvError, TrySendError};
use crate::lock::Lock;
use crate::message::{empty_cell, MsgCell, Msgs, OutCell, RecvNode, SendNode};
use crate::sync::const_fn_unless_loom;
use crate::waiter::CloseWaiter;
use crate::wake::{WakeBatch, PASS};

/// A rendezvous channel's core for messages of type `T`. Both the counted handles and the
/// static `Channel` are thin wrappers around it, and every future works on it.
pub(crate) struct Core<T, L> {
    /// The exchange and its lock, for any message type.
    raw: RawCore<L>,
    /// The message `try_send` left for a notified receive, while the exchange says `held`;
    /// touched only under the exchange's lock. Both owners of a `Core` (the static `Channel`
    /// and the handles' shared allocation) take it back with [`Core::take_held`] when they are
    /// dropped, so the cell needs no `Drop` of its own.
    held: MsgCell<T>,
}

// SAFETY: the held cell is touched only under the lock, like the rest of the exchange, and its
// message moves between threads with the channel (hence `T: Send`).
unsafe impl<T: Send, L: Lock + Send> Send for Core<T, L> {}
// SAFETY: every access through `&Core` goes through the lock (`L: Sync` shares it), and messages
// move from the thread that sends to the one that receives (hence `T: Send`).
unsafe impl<T: Send, L: Lock + Sync> Sync for Core<T, L> {}

impl<T, L: Lock> Core<T, L> {
    const_fn_unless_loom! {
        /// An open channel with no one waiting.
        pub(crate) fn new() -> Self {
            Core {
                raw: RawCore::new(),
                held: empty_cell(),
            }
        }
    }

    /// What the exchange is told about this channel's messages.
    fn msgs(&self) -> Msgs {
        Msgs::new(&self.held)
    }

    // === sending ===

    /// Drives a send whose node is `node`. For the owned send and the `Sink`; `SendFut` calls
    /// [`Core::poll_send_in`] itself.
    #[cfg(feature = "alloc")]
    pub(crate) fn poll_send(
        &self,
        node: Pin<&SendNode<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError<T>>> {
        self.poll_send_in(node, cx, None)
    }

    /// [`Core::poll_send`], with the wake-ups it causes moved into `later` if given (a select's
    /// pass wakes its peers only once the pass is over).
    pub(crate) fn poll_send_in(
        &self,
        node: Pin<&SendNode<T>>,
        cx: &mut Context<'_>,
        later: Option<&mut WakeBatch<PASS>>,
    ) -> Poll<Result<(), SendError<T>>> {
        // SAFETY: the node is pinned, of this channel's type, ours (the future's), and every
        // future withdraws its send (`cancel_send`) before its node is dropped.
        match unsafe { self.raw.poll_send(node.as_ptr(), cx, later, self.msgs()) } {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            // SAFETY: a send the channel closed on is over, its message left in the node.
            Poll::Ready(Err(Unsent)) => Poll::Ready(Err(SendError(unsafe { node.take_left() }))),
        }
    }

    /// Withdraws a send: returns its message unless a receive took it. Called when the future is
    /// dropped or a blocking send times out; afterwards the node is unregistered and `Done`.
    #[inline]
    pub(crate) fn cancel_send(&self, node: Pin<&SendNode<T>>) -> Option<T> {
        // SAFETY: the node is ours.
        unsafe { self.raw.end_send(node.as_ptr()) }
            // SAFETY: `true`: the send is over, its message left in the node.
            .then(|| unsafe { node.take_left() })
    }

    /// Hands `msg` to a receive that is waiting right now (CONTRACT rule 5).
    pub(crate) fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        let cell = OutCell::with(msg);
        // SAFETY: the cell is full, of this channel's type, and ours.
        let result = unsafe { self.raw.try_send(cell.ptr(), self.msgs()) };
        // SAFETY (each arm): `Err` left the message in the cell; `Ok` moved it out.
        match result {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(())) => Err(TrySendError::Full(unsafe { cell.take() })),
            Err(TrySendError::Disconnected(())) => {
                Err(TrySendError::Disconnected(unsafe { cell.take() }))
            }
        }
    }

    // === receiving ===

    /// Drives a receive whose node is `node`. On `Ready` the node is back in `Init`, ready for
    /// another receive (the `Stream` reuses it).
    pub(crate) fn poll_recv(
        &self,
        node: Pin<&RecvNode<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, RecvError>> {
        self.poll_recv_in(node, cx, None)
    }

    /// [`Core::poll_recv`], with the wake-ups it causes moved into `later` if given.
    pub(crate) fn poll_recv_in(
        &self,
        node: Pin<&RecvNode<T>>,
        cx: &mut Context<'_>,
        later: Option<&mut WakeBatch<PASS>>,
    ) -> Poll<Result<T, RecvError>> {
        let out = OutCell::empty();
        // SAFETY: as in `poll_send_in`, for a receive (withdrawn with `cancel_recv`); `out` is an
        // empty cell of this type, ours.
        let poll = unsafe {
            self.raw
                .poll_recv(node.as_ptr(), out.ptr(), cx, later, self.msgs())
        };
        // SAFETY: `Ok` moved a message into `out`.
        poll.map(|got| got.map(|()| unsafe { out.take() }))
    }

    /// Withdraws a receive. Returns a message that was already handed to it (blocking receives
    /// only); a notified receive passes its turn on. Afterwards the node is unregistered, `Init`.
    pub(crate) fn cancel_recv(&self, node: Pin<&RecvNode<T>>) -> Option<T> {
        let out = OutCell::empty();
        // SAFETY: the node is ours (or the `Receiver`'s, shared by its threads), of this type;
        // `out` is empty and ours.
        unsafe { self.raw.cancel_recv(node.as_ptr(), out.ptr(), self.msgs()) }
            // SAFETY: `true` moved the handed message into `out`.
            .then(|| unsafe { out.take() })
    }

    /// Takes a message from a waiting send, or the held `try_send` message (CONTRACT rule 5).
    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        let out = OutCell::empty();
        // SAFETY: `out` is an empty cell of this type, ours.
        unsafe { self.raw.try_recv(out.ptr(), self.msgs()) }
            // SAFETY: `Ok` moved a message into `out`.
            .map(|()| unsafe { out.take() })
    }

    /// Takes back the held `try_send` message, for when no receiver is left to take it. The
    /// caller drops it outside the lock.
    pub(crate) fn take_held(&self) -> Option<T> {
        let out = OutCell::empty();
        // SAFETY: as in `try_recv`.
        unsafe { self.raw.take_held(out.ptr(), self.msgs()) }
            // SAFETY: `true` moved the held message into `out`.
            .then(|| unsafe { out.take() })
    }

    // === closing: no message moves ===

    /// Drives a `closed()` future whose node is `waiter`: `Ready` once the channel is closed.
    pub(crate) fn poll_closed(&self, waiter: Pin<&CloseWaiter>, cx: &mut Context<'_>) -> Poll<()> {
        self.raw.poll_closed(waiter, cx)
    }

    /// Withdraws a `closed()` future's node; afterwards it is unregistered.
    pub(crate) fn cancel_closed(&self, waiter: Pin<&CloseWaiter>) {
        self.raw.cancel_closed(waiter);
    }

    /// Closes the channel and wakes every waiter. Returns `true` if this call closed it.
    pub(crate) fn close(&self) -> bool {
        self.raw.close()
    }

    /// Whether the channel is closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.raw.is_closed()
    }
}

impl<T, L: Lock> core::fmt::Debug for Core<T, L> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.raw.fmt(f)
    }
}
