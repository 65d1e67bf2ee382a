//! The receiving half of a counted channel, also a `Stream`.

use alloc::boxed::Box;
use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures_core::{FusedStream, Stream};

use crate::channel::{check_count, Shared};
use crate::error::TryRecvError;
use crate::lock::{DefaultLock, Lock};
use crate::recv::RecvFut;
use crate::sync::{Arc, Ordering};
use crate::waiter::{Owner, Receiving, RecvWaiter};

/// The receiving half of a channel made by [`channel`](crate::channel). Clone it to receive from
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
pub struct Receiver<T, L: Lock = DefaultLock> {
    /// The channel, shared with every other handle.
    shared: Arc<Shared<T, L>>,
    /// The waiter node `poll_next` uses, allocated with the handle so that streaming allocates
    /// nothing per message. It stays registered between `poll_next` calls that return `Pending`.
    stream: Pin<Box<RecvWaiter<T>>>,
    /// Whether the stream has returned `None`.
    terminated: bool,
}

impl<T, L: Lock> Receiver<T, L> {
    /// A handle that was already counted in `shared.receivers`.
    pub(crate) fn new(shared: Arc<Shared<T, L>>) -> Self {
        Receiver {
            shared,
            stream: Box::pin(RecvWaiter::with_owner(Receiving::Init, Owner::Stream)),
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

    /// Takes this handle's stream out of line before it receives another way: a `next()` future
    /// dropped while waiting leaves the stream registered, and a receive on the same handle must
    /// not wait behind it. A turn the stream was woken for passes on.
    fn withdraw_stream(&self) {
        // `cancel_recv` returns at once for an unregistered node; an async node is never handed a
        // message, so nothing comes back.
        drop(self.shared.core.cancel_recv(self.stream.as_ref()));
    }
}

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
        check_count(self.shared.receivers.fetch_add(1, Ordering::Relaxed));
        Receiver::new(self.shared.clone())
    }
}

impl<T, L: Lock> Drop for Receiver<T, L> {
    fn drop(&mut self) {
        self.withdraw_stream();
        if self.shared.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            // No receiver is left to take a held `try_send` message (and none can wait for a new
            // one). Taken first so that it is dropped, outside the lock, even if a waker panics
            // in `close`.
            let held = self.shared.core.take_held();
            self.shared.core.close();
            drop(held);
        }
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
