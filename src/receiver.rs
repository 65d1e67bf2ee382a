//! The receiving half of a counted channel, also a `Stream`.

use alloc::boxed::Box;
use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures_core::{FusedStream, Stream};

use crate::channel::Shared;
use crate::closed::ClosedFut;
use crate::error::TryRecvError;
#[cfg(feature = "std")]
use crate::iter::{Iter, TryIter};
use crate::lock::{DefaultLock, Lock};
use crate::message::RecvNode;
use crate::owned::RecvOwned;
use crate::recv::RecvFut;
use crate::sync::{Arc, Ordering};
use crate::waiter::Owner;
use crate::weak::WeakReceiver;

/// The receiving half of a channel made by [`channel`](fn@crate::channel). Clone it to receive from
/// many tasks or threads; the channel closes when the last `Receiver` is dropped.
///
/// It is also a [`Stream`] of messages that ends when the channel is closed.
///
/// # Cancel safety
///
/// Dropping a `StreamExt::next()` future loses no message, as with [`Receiver::recv`]. The
/// handle's stream keeps its place in line until it is polled again, another receive method is
/// called on the handle, or the handle is dropped.
///
/// ```
/// use futures::{future, FutureExt, StreamExt};
/// # futures::executor::block_on(async {
/// let (tx, mut rx) = rendez::channel();
/// futures::select! {
///     _ = rx.next() => unreachable!(),
///     _ = future::ready(()).fuse() => {}
/// }
/// let (got, _) = futures::join!(rx.next(), tx.send(5));
/// assert_eq!(got, Some(5));
/// drop(tx);
/// assert_eq!(rx.next().await, None); // closed: the stream ends
/// # });
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub struct Receiver<T, L: Lock = DefaultLock> {
    /// The channel, shared with every other handle.
    pub(crate) shared: Arc<Shared<T, L>>,
    /// The waiter node `poll_next` uses, allocated with the handle so that streaming allocates
    /// nothing per message. It stays registered between `poll_next` calls that return `Pending`.
    stream: Pin<Box<RecvNode<T>>>,
    /// Whether the stream has returned `None`.
    terminated: bool,
}

impl<T, L: Lock> Receiver<T, L> {
    /// A handle that was already counted in `shared.receivers`.
    pub(crate) fn new(shared: Arc<Shared<T, L>>) -> Self {
        Receiver {
            shared,
            stream: Box::pin(RecvNode::new(Owner::Stream)),
            terminated: false,
        }
    }

    /// Receives a message, waiting until a send offers one.
    ///
    /// Resolves to `Err(RecvError)` once the channel is closed and no held `try_send` message is
    /// left.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future loses no message: it takes one only in the poll that returns it. If it
    /// was woken for a message and is dropped instead, the next waiting receive is woken. Safe in
    /// `select!` and under timeouts.
    ///
    /// ```
    /// use futures::{future, FutureExt};
    /// # futures::executor::block_on(async {
    /// let (tx, rx) = rendez::channel();
    /// // Nothing is sent yet, so the receive loses the race; dropped, it held nothing.
    /// futures::select! {
    ///     _ = rx.recv().fuse() => unreachable!(),
    ///     _ = future::ready(()).fuse() => {}
    /// }
    /// let (got, _) = futures::join!(rx.recv(), tx.send('x'));
    /// assert_eq!(got, Ok('x'));
    /// # });
    /// ```
    pub fn recv(&self) -> RecvFut<'_, T, L> {
        self.withdraw_stream();
        RecvFut::new(&self.shared.core, false)
    }

    /// Receives a message as [`recv`](Receiver::recv) does, in a future that owns a share of the
    /// channel instead of borrowing this handle: it is `'static` (when `T` is) and `Send` (when
    /// `T` is), so it can be spawned.
    ///
    /// The future counts as a `Receiver` until it is dropped, so it keeps the channel open. It
    /// allocates nothing. Cancel safety is that of `recv`: dropped at any point, it loses no
    /// message. (To spawn a task that receives many messages, move a `Receiver` clone into it.)
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (tx, rx) = rendez::channel();
    /// let recv = tokio::spawn(rx.recv_owned());
    /// tx.send(7).await.unwrap(); // returns once the spawned receive took the message
    /// assert_eq!(recv.await.unwrap(), Ok(7));
    /// # }
    /// ```
    pub fn recv_owned(&self) -> RecvOwned<T, L> {
        self.withdraw_stream();
        RecvOwned::new(self)
    }

    /// Takes a message from a send that is waiting right now (or a held `try_send` message), or
    /// returns at once.
    ///
    /// ```
    /// use rendez::TryRecvError;
    /// let (_tx, rx) = rendez::channel::<u8>();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty)); // no send is waiting
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.withdraw_stream();
        self.shared.core.try_recv()
    }

    /// Closes the channel: pending and future sends fail with their message, and receives fail once
    /// a held `try_send` message (if any) is taken. Returns `true` if this call closed it.
    ///
    /// ```
    /// let (tx, rx) = rendez::channel::<u8>();
    /// assert!(rx.close());
    /// assert!(tx.try_send(1).unwrap_err().is_disconnected());
    /// ```
    pub fn close(&self) -> bool {
        self.shared.core.close()
    }

    /// Whether the channel is closed.
    pub fn is_closed(&self) -> bool {
        self.shared.core.is_closed()
    }

    /// A future that resolves once the channel is closed: every `Sender` was dropped, or `close`
    /// was called on any handle. A message held from `try_send` may still be received after it
    /// resolved (`recv` returns it before it reports the disconnection). It takes nothing,
    /// allocates nothing, and dropping it at any point just withdraws it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (tx, rx) = rendez::channel::<u32>();
    /// let watcher = tokio::spawn(async move { rx.closed().await });
    /// tx.close();
    /// watcher.await.unwrap(); // resolved: the channel is closed
    /// # }
    /// ```
    pub fn closed(&self) -> ClosedFut<'_, T, L> {
        ClosedFut::new(&self.shared.core)
    }

    /// How many `Sender`s of this channel exist.
    pub fn sender_count(&self) -> usize {
        self.shared.senders.load(Ordering::Acquire)
    }

    /// How many `Receiver`s of this channel exist.
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(Ordering::Acquire)
    }

    /// Whether `other` receives from the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// A [`WeakReceiver`]: a handle that does not keep the channel open, and gives a `Receiver`
    /// back while any other `Receiver` is alive.
    ///
    /// ```
    /// let (tx, rx) = rendez::channel::<u8>();
    /// let weak = rx.downgrade();
    /// assert_eq!(rx.receiver_count(), 1); // weak handles are not counted
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn downgrade(&self) -> WeakReceiver<T, L> {
        WeakReceiver::new(self)
    }

    /// Takes this handle's stream out of line before it receives another way: a `next()` future
    /// dropped while waiting leaves the stream registered, and a receive on the same handle must
    /// not wait behind it. A turn the stream was woken for passes on.
    fn withdraw_stream(&self) {
        // `cancel_recv` returns at once for an unregistered node; an async node is never handed a
        // message, so nothing comes back.
        drop(self.shared.core.cancel_recv(self.stream.as_ref()));
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
#[cfg(feature = "std")]
impl<T, L: Lock> Receiver<T, L> {
    /// Receives a message, blocking this thread until one is handed over or the channel closes.
    ///
    /// Do not call it from inside an async task: it parks the whole executor thread.
    ///
    /// ```
    /// let (tx, rx) = rendez::channel();
    /// std::thread::spawn(move || tx.send_blocking("hi").unwrap());
    /// assert_eq!(rx.recv_blocking(), Ok("hi"));
    /// ```
    pub fn recv_blocking(&self) -> Result<T, crate::RecvError> {
        self.withdraw_stream();
        self.shared.core.recv_blocking()
    }

    /// Receives a message, blocking for at most `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use rendez::RecvTimeoutError;
    /// let (_tx, rx) = rendez::channel::<u8>();
    /// assert_eq!(rx.recv_timeout(Duration::from_millis(10)), Err(RecvTimeoutError::Timeout));
    /// ```
    pub fn recv_timeout(
        &self,
        timeout: core::time::Duration,
    ) -> Result<T, crate::RecvTimeoutError> {
        self.withdraw_stream();
        self.shared.core.recv_timeout(timeout)
    }

    /// Receives a message, blocking until `deadline` at the latest. A deadline that already
    /// passed still takes a message that a send offers right now.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use rendez::RecvTimeoutError;
    /// let (_tx, rx) = rendez::channel::<u8>();
    /// let deadline = Instant::now() + Duration::from_millis(10);
    /// assert_eq!(rx.recv_deadline(deadline), Err(RecvTimeoutError::Timeout));
    /// ```
    pub fn recv_deadline(
        &self,
        deadline: std::time::Instant,
    ) -> Result<T, crate::RecvTimeoutError> {
        self.withdraw_stream();
        self.shared.core.recv_deadline(Some(deadline))
    }

    /// A blocking iterator over the messages received on this handle; it ends once the channel
    /// is closed. Each step blocks as [`recv_blocking`](Receiver::recv_blocking) does, so use it
    /// on a thread, not inside an async task (there, use the `Receiver` as a `Stream`).
    ///
    /// ```
    /// let (tx, rx) = rendez::channel();
    /// std::thread::spawn(move || {
    ///     tx.send_blocking("a").unwrap();
    ///     tx.send_blocking("b").unwrap();
    /// });
    /// assert_eq!(rx.iter().collect::<Vec<_>>(), ["a", "b"]);
    /// ```
    pub fn iter(&self) -> Iter<'_, T, L> {
        Iter::new(self)
    }

    /// An iterator over the messages on offer right now: it takes messages from waiting sends
    /// (as [`try_recv`](Receiver::try_recv) does) until none is waiting, and never blocks.
    ///
    /// ```
    /// let (_tx, rx) = rendez::channel::<u8>();
    /// assert_eq!(rx.try_iter().count(), 0); // no send is waiting
    /// ```
    pub fn try_iter(&self) -> TryIter<'_, T, L> {
        TryIter::new(self)
    }
}

impl<T, L: Lock> Stream for Receiver<T, L> {
    type Item = T;

    /// Polls for the next message; `None` once the channel is closed and drained.
    ///
    /// The stream's waiter stays registered while `Pending`, until the next `poll_next`, until
    /// another receive method is called on this `Receiver`, or until it is dropped; dropping a
    /// `next()` future loses no message. While it stays registered it keeps its place in line: if
    /// you stop using this `Receiver` for good, drop it so that other receivers are not kept
    /// waiting behind it.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        if this.terminated {
            return Poll::Ready(None);
        }
        match this.shared.core.poll_recv(this.stream.as_ref(), cx) {
            Poll::Ready(Ok(msg)) => Poll::Ready(Some(msg)),
            Poll::Ready(Err(_)) => {
                this.terminated = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T, L: Lock> FusedStream for Receiver<T, L> {
    fn is_terminated(&self) -> bool {
        self.terminated
    }
}

impl<T, L: Lock> Clone for Receiver<T, L> {
    fn clone(&self) -> Self {
        self.shared.add_receiver();
        Receiver::new(self.shared.clone())
    }
}

impl<T, L: Lock> Drop for Receiver<T, L> {
    fn drop(&mut self) {
        self.withdraw_stream();
        self.shared.remove_receiver();
    }
}

impl<T, L: Lock> fmt::Debug for Receiver<T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("senders", &self.sender_count())
            .field("receivers", &self.receiver_count())
            .field("closed", &self.is_closed())
            .finish()
    }
}

// SAFETY: the stream node is reached by other threads only under the channel lock (its flag is an
// atomic). Messages of type `T` move between threads, hence `T: Send`; the rest is an `Arc` of a
// `Sync` core.
unsafe impl<T: Send, L: Lock + Send + Sync> Send for Receiver<T, L> {}
// SAFETY: through `&Receiver` the stream node is only withdrawn, which reads its atomic flag and
// touches the rest under the channel lock; everything else it reaches is the `Sync` core.
unsafe impl<T: Send, L: Lock + Send + Sync> Sync for Receiver<T, L> {}
