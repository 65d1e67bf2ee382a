//! `futures_sink::Sink` for [`Sender`] (feature `sink`): one message in flight per handle, in a
//! waiter node the handle allocates on first use.
//!
//! The rendezvous rule carries over: `poll_ready` is ready only once the previous message was
//! taken by a receive, and `poll_flush` resolves only when the message in flight was taken.

use alloc::boxed::Box;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures_sink::Sink;

use crate::error::SendError;
use crate::lock::Lock;
use crate::message::SendNode;
use crate::waiter::{Owner, Sending};
use crate::Sender;

impl<T, L: Lock> Sender<T, L> {
    /// Drives the sink's message in flight, if any, until a receive takes it.
    fn poll_in_flight(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SendError<T>>> {
        let Some(node) = &self.sink else {
            return Poll::Ready(Ok(()));
        };
        if !node.is_registered() {
            // SAFETY: unregistered, so this handle (its owner, reached through `&mut self`) has
            // the only access to the slot.
            if unsafe { node.state() } == Sending::Done {
                return Poll::Ready(Ok(()));
            }
        }
        self.shared.core.poll_send(node.as_ref(), cx)
    }
}

/// A `Sender` is a [`Sink`] of messages: each one is sent as by [`Sender::send`], so
/// `poll_flush` resolves once a receive has taken it.
///
/// `poll_close` only flushes: the channel stays open for the other handles (drop the `Sender`, or
/// call [`Sender::close`], to close it). The error gives back the message that could not be sent.
///
/// # Cancel safety
///
/// Dropping a `SinkExt::send` or `StreamExt::forward` future leaves its message in flight in the
/// `Sender`: the next `poll_ready` / `poll_flush` goes on sending it, and dropping the `Sender`
/// withdraws it (unless a receive already took it, it is dropped undelivered).
///
/// ```
/// use futures::{stream, SinkExt, StreamExt};
/// # futures::executor::block_on(async {
/// let (mut tx, rx) = rendez::channel::<u32>();
/// let send_all = async move {
///     tx.send_all(&mut stream::iter([1, 2, 3]).map(Ok)).await.unwrap();
/// };
/// let (_, got) = futures::join!(send_all, rx.take(3).collect::<Vec<_>>());
/// assert_eq!(got, [1, 2, 3]);
/// # });
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "sink")))]
impl<T, L: Lock> Sink<T> for Sender<T, L> {
    type Error = SendError<T>;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().poll_in_flight(cx)
    }

    /// # Panics
    ///
    /// If a message is still in flight (call `poll_ready` first, as the `Sink` contract says).
    fn start_send(self: Pin<&mut Self>, msg: T) -> Result<(), Self::Error> {
        let this = self.get_mut();
        if this.is_closed() {
            return Err(SendError(msg));
        }
        let node = this
            .sink
            .get_or_insert_with(|| Box::pin(SendNode::empty(Owner::Task)));
        let idle = !node.is_registered() && {
            // SAFETY: unregistered, so this handle has the only access to the slot.
            (unsafe { node.state() }) == Sending::Done
        };
        assert!(
            idle,
            "rendez: start_send while a message is in flight; call poll_ready first"
        );
        // SAFETY: as above (and `Done`); the node stays unregistered until it is polled.
        unsafe { node.put(msg) };
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().poll_in_flight(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().poll_in_flight(cx)
    }
}
