//! Weak handles: they reach a channel without keeping it open.
//!
//! A weak handle holds the channel's allocation but none of its handle counts. Upgrading adds a
//! count only while the count is above 0 (see [`Shared::upgrade_sender`]): once the last strong
//! handle of a side is gone the channel is closed, and no upgrade brings that side back.

use core::fmt;

use crate::channel::Shared;
use crate::lock::{DefaultLock, Lock};
use crate::sync::{Arc, Ordering};
use crate::{Receiver, Sender};

/// A [`Sender`] that does not keep the channel open, made by [`Sender::downgrade`].
///
/// [`upgrade`](WeakSender::upgrade) gives a `Sender` back while at least one `Sender` (or a
/// pending [`send_owned`](Sender::send_owned) future) is alive; once the last one is dropped the
/// channel is closed and `upgrade` returns `None`. A weak handle keeps the channel's memory
/// allocated, nothing else.
///
/// ```
/// let (tx, rx) = rendez::channel::<u32>();
/// let weak = tx.downgrade();
/// assert!(weak.upgrade().is_some()); // `tx` is alive
/// drop(tx);
/// assert!(rx.is_closed()); // the weak handle did not keep the channel open
/// assert!(weak.upgrade().is_none());
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub struct WeakSender<T, L: Lock = DefaultLock> {
    /// The channel, without a count in `senders`.
    shared: Arc<Shared<T, L>>,
}

impl<T, L: Lock> WeakSender<T, L> {
    /// A weak handle to the channel of `sender`.
    pub(crate) fn new(sender: &Sender<T, L>) -> Self {
        WeakSender {
            shared: sender.shared.clone(),
        }
    }

    /// A `Sender` of the channel, if any `Sender` is still alive; `None` once the last one was
    /// dropped (the channel is closed then, for good). If the channel was closed by `close()`
    /// while senders are alive, the upgraded `Sender` is one of a closed channel.
    ///
    /// ```
    /// let (tx, rx) = rendez::channel();
    /// let weak = tx.downgrade();
    /// let tx2 = weak.upgrade().unwrap();
    /// drop(tx);
    /// assert!(!rx.is_closed()); // `tx2` keeps it open
    /// std::thread::spawn(move || tx2.send_blocking(1).unwrap());
    /// assert_eq!(rx.recv_blocking(), Ok(1));
    /// ```
    pub fn upgrade(&self) -> Option<Sender<T, L>> {
        self.shared
            .upgrade_sender()
            .then(|| Sender::new(self.shared.clone()))
    }

    /// How many `Sender`s of this channel exist (weak ones not counted).
    pub fn sender_count(&self) -> usize {
        self.shared.senders.load(Ordering::Acquire)
    }

    /// How many `Receiver`s of this channel exist (weak ones not counted).
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(Ordering::Acquire)
    }
}

impl<T, L: Lock> Clone for WeakSender<T, L> {
    fn clone(&self) -> Self {
        WeakSender {
            shared: self.shared.clone(),
        }
    }
}

impl<T, L: Lock> fmt::Debug for WeakSender<T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSender")
            .field("senders", &self.sender_count())
            .field("receivers", &self.receiver_count())
            .finish()
    }
}

/// A [`Receiver`] that does not keep the channel open, made by [`Receiver::downgrade`].
///
/// [`upgrade`](WeakReceiver::upgrade) gives a `Receiver` back while at least one `Receiver` (or
/// a pending [`recv_owned`](Receiver::recv_owned) future) is alive; once the last one is dropped
/// the channel is closed and `upgrade` returns `None`. A weak handle keeps the channel's memory
/// allocated, nothing else.
///
/// ```
/// use rendez::TrySendError;
/// let (tx, rx) = rendez::channel::<u32>();
/// let weak = rx.downgrade();
/// drop(rx);
/// assert!(matches!(tx.try_send(1), Err(TrySendError::Disconnected(1))));
/// assert!(weak.upgrade().is_none());
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub struct WeakReceiver<T, L: Lock = DefaultLock> {
    /// The channel, without a count in `receivers`.
    shared: Arc<Shared<T, L>>,
}

impl<T, L: Lock> WeakReceiver<T, L> {
    /// A weak handle to the channel of `receiver`.
    pub(crate) fn new(receiver: &Receiver<T, L>) -> Self {
        WeakReceiver {
            shared: receiver.shared.clone(),
        }
    }

    /// A `Receiver` of the channel, if any `Receiver` is still alive; `None` once the last one
    /// was dropped (the channel is closed then, for good). If the channel was closed by `close()`
    /// while receivers are alive, the upgraded `Receiver` is one of a closed channel. Like
    /// `Receiver::clone`, a successful upgrade allocates the new handle's stream node.
    ///
    /// ```
    /// let (tx, rx) = rendez::channel();
    /// let weak = rx.downgrade();
    /// std::thread::spawn(move || tx.send_blocking("hi").unwrap());
    /// let rx2 = weak.upgrade().unwrap();
    /// drop(rx);
    /// assert_eq!(rx2.recv_blocking(), Ok("hi"));
    /// ```
    pub fn upgrade(&self) -> Option<Receiver<T, L>> {
        self.shared
            .upgrade_receiver()
            .then(|| Receiver::new(self.shared.clone()))
    }

    /// How many `Sender`s of this channel exist (weak ones not counted).
    pub fn sender_count(&self) -> usize {
        self.shared.senders.load(Ordering::Acquire)
    }

    /// How many `Receiver`s of this channel exist (weak ones not counted).
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(Ordering::Acquire)
    }
}

impl<T, L: Lock> Clone for WeakReceiver<T, L> {
    fn clone(&self) -> Self {
        WeakReceiver {
            shared: self.shared.clone(),
        }
    }
}

impl<T, L: Lock> fmt::Debug for WeakReceiver<T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakReceiver")
            .field("senders", &self.sender_count())
            .field("receivers", &self.receiver_count())
            .finish()
    }
}
