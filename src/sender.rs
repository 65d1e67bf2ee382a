//! The sending half of a counted channel.

use core::fmt;

use crate::channel::Shared;
use crate::closed::ClosedFut;
use crate::error::TrySendError;
use crate::lock::{DefaultLock, Lock};
use crate::owned::SendOwned;
use crate::send::SendFut;
use crate::sync::{Arc, Ordering};
use crate::weak::WeakSender;

/// The sending half of a channel made by [`channel`](fn@crate::channel). Clone it to send from many
/// tasks or threads; the channel closes when the last `Sender` is dropped.
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub struct Sender<T, L: Lock = DefaultLock> {
    /// The channel, shared with every other handle.
    pub(crate) shared: Arc<Shared<T, L>>,
    /// The `Sink`'s message in flight; allocated on the handle's first `start_send`.
    #[cfg(feature = "sink")]
    pub(crate) sink: Option<core::pin::Pin<alloc::boxed::Box<crate::message::SendNode<T>>>>,
}

impl<T, L: Lock> Sender<T, L> {
    /// A handle that was already counted in `shared.senders`.
    pub(crate) fn new(shared: Arc<Shared<T, L>>) -> Self {
        Sender {
            shared,
            #[cfg(feature = "sink")]
            sink: None,
        }
    }

    /// Sends `msg`, waiting until a receive takes it.
    ///
    /// Resolves to `Ok(())` only after a receive has taken the message, or to
    /// [`SendError`](crate::SendError) with the message if the channel closes first.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it resolves withdraws the message: unless a receive already took
    /// it, it is dropped with the future and never received. Safe in `select!` and under timeouts.
    ///
    /// ```
    /// use futures::{future, FutureExt};
    /// # futures::executor::block_on(async {
    /// let (tx, rx) = rendez::channel();
    /// // No receive is waiting, so the send loses the race and is dropped with its message.
    /// futures::select! {
    ///     _ = tx.send(1).fuse() => unreachable!(),
    ///     _ = future::ready(()).fuse() => {}
    /// }
    /// assert!(rx.try_recv().is_err()); // nothing was left behind
    /// let (sent, got) = futures::join!(tx.send(2), rx.recv());
    /// assert_eq!((sent, got), (Ok(()), Ok(2)));
    /// # });
    /// ```
    pub fn send(&self, msg: T) -> SendFut<'_, T, L> {
        SendFut::new(&self.shared.core, msg, false)
    }

    /// Sends `msg` as [`send`](Sender::send) does, in a future that owns a share of the channel
    /// instead of borrowing this handle: it is `'static` (when `T` is) and `Send` (when `T` is),
    /// so it can be spawned.
    ///
    /// The future counts as a `Sender` until it is dropped, so it keeps the channel open. It
    /// allocates nothing. Rendezvous and cancel safety are those of `send`: it resolves only once
    /// a receive took the message, and dropped before that, it withdraws the message.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (tx, rx) = rendez::channel();
    /// let send = tokio::spawn(tx.send_owned("from a task"));
    /// assert_eq!(rx.recv().await, Ok("from a task"));
    /// assert_eq!(send.await.unwrap(), Ok(()));
    /// # }
    /// ```
    pub fn send_owned(&self, msg: T) -> SendOwned<T, L> {
        SendOwned::new(self, msg)
    }

    /// Hands `msg` to a receive that is waiting right now, or gives it back at once.
    ///
    /// A blocked thread takes the message immediately; for waiting async receives the message is
    /// held (one at a time per channel) and the first of them to be polled returns it.
    ///
    /// ```
    /// use rendez::TrySendError;
    /// let (tx, _rx) = rendez::channel();
    /// assert_eq!(tx.try_send(1), Err(TrySendError::Full(1))); // no receive is waiting
    /// ```
    pub fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        self.shared.core.try_send(msg)
    }

    /// Closes the channel: pending and future sends fail with their message, and receives fail once
    /// a held `try_send` message (if any) is taken. Returns `true` if this call closed it.
    ///
    /// ```
    /// let (tx, rx) = rendez::channel::<u8>();
    /// assert!(tx.close());
    /// assert!(!rx.close());
    /// assert!(tx.is_closed());
    /// ```
    pub fn close(&self) -> bool {
        self.shared.core.close()
    }

    /// Whether the channel is closed.
    pub fn is_closed(&self) -> bool {
        self.shared.core.is_closed()
    }

    /// A future that resolves once the channel is closed: every `Receiver` was dropped, or
    /// `close` was called on any handle. It is how a producer learns that no one listens any
    /// more while it has nothing to send (tokio's `Sender::closed`). It takes nothing, allocates
    /// nothing, and dropping it at any point just withdraws it.
    ///
    /// A send learns of the close by itself (it fails with [`SendError`](crate::SendError)), so
    /// do not race `closed()` against a `send` of the same channel in `tokio::select!`: a receive
    /// may take the message and then close the channel before the select's next poll, and the
    /// `closed()` branch then wins over a send that was delivered.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (tx, rx) = rendez::channel::<u32>();
    /// let producer = tokio::spawn(async move {
    ///     tokio::select! {
    ///         () = tx.closed() => "no one listens",
    ///         _ = std::future::pending::<()>() => unreachable!(),
    ///     }
    /// });
    /// drop(rx);
    /// assert_eq!(producer.await.unwrap(), "no one listens");
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

    /// Whether `other` sends on the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// A [`WeakSender`]: a handle that does not keep the channel open, and gives a `Sender`
    /// back while any other `Sender` is alive.
    ///
    /// ```
    /// let (tx, rx) = rendez::channel::<u8>();
    /// let weak = tx.downgrade();
    /// assert_eq!(tx.sender_count(), 1); // weak handles are not counted
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn downgrade(&self) -> WeakSender<T, L> {
        WeakSender::new(self)
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
#[cfg(feature = "std")]
impl<T, L: Lock> Sender<T, L> {
    /// Sends `msg`, blocking this thread until a receive takes it or the channel closes.
    ///
    /// Do not call it from inside an async task: it parks the whole executor thread.
    ///
    /// ```
    /// let (tx, rx) = rendez::channel();
    /// let t = std::thread::spawn(move || rx.recv_blocking());
    /// tx.send_blocking(5).unwrap();
    /// assert_eq!(t.join().unwrap(), Ok(5));
    /// ```
    pub fn send_blocking(&self, msg: T) -> Result<(), crate::SendError<T>> {
        self.shared.core.send_blocking(msg)
    }

    /// Sends `msg`, blocking for at most `timeout` until a receive takes it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use rendez::SendTimeoutError;
    /// let (tx, _rx) = rendez::channel();
    /// let res = tx.send_timeout(1, Duration::from_millis(10));
    /// assert_eq!(res, Err(SendTimeoutError::Timeout(1)));
    /// ```
    pub fn send_timeout(
        &self,
        msg: T,
        timeout: core::time::Duration,
    ) -> Result<(), crate::SendTimeoutError<T>> {
        self.shared.core.send_timeout(msg, timeout)
    }

    /// Sends `msg`, blocking until `deadline` at the latest until a receive takes it. A deadline
    /// that already passed still hands the message to a receive that is waiting right now.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use rendez::SendTimeoutError;
    /// let (tx, _rx) = rendez::channel();
    /// let deadline = Instant::now() + Duration::from_millis(10);
    /// assert_eq!(tx.send_deadline(1, deadline), Err(SendTimeoutError::Timeout(1)));
    /// ```
    pub fn send_deadline(
        &self,
        msg: T,
        deadline: std::time::Instant,
    ) -> Result<(), crate::SendTimeoutError<T>> {
        self.shared.core.send_deadline(msg, Some(deadline))
    }
}

impl<T, L: Lock> Clone for Sender<T, L> {
    fn clone(&self) -> Self {
        self.shared.add_sender();
        Sender::new(self.shared.clone())
    }
}

impl<T, L: Lock> Drop for Sender<T, L> {
    fn drop(&mut self) {
        // The sink's message in flight is withdrawn first and dropped last, outside the lock and
        // after the count is settled, so a panicking `Drop` of it cannot keep the channel open.
        #[cfg(feature = "sink")]
        let in_flight = self
            .sink
            .as_ref()
            .and_then(|node| self.shared.core.cancel_send(node.as_ref()));
        self.shared.remove_sender();
        #[cfg(feature = "sink")]
        drop(in_flight);
    }
}

impl<T, L: Lock> fmt::Debug for Sender<T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("senders", &self.sender_count())
            .field("receivers", &self.receiver_count())
            .field("closed", &self.is_closed())
            .finish()
    }
}

// SAFETY: the sink's node is reached by other threads only under the channel lock (its flag is an
// atomic), and by this handle only through `&mut self` or its drop. Messages of type `T` move
// between threads, hence `T: Send`; the rest is an `Arc` of a `Sync` core.
// (Not marked `sink`-only in the docs: without `sink` the same impl is the automatic one.)
#[cfg(feature = "sink")]
#[cfg_attr(docsrs, doc(auto_cfg = false))]
unsafe impl<T: Send, L: Lock + Send + Sync> Send for Sender<T, L> {}
// SAFETY: through `&Sender` the sink's node is never touched; everything else it reaches is the
// `Sync` core.
#[cfg(feature = "sink")]
#[cfg_attr(docsrs, doc(auto_cfg = false))]
unsafe impl<T: Send, L: Lock + Send + Sync> Sync for Sender<T, L> {}
