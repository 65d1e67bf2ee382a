//! Blocking iteration over a [`Receiver`] (feature `std`): [`Receiver::iter`],
//! [`Receiver::try_iter`] and `for msg in rx` / `for msg in &rx`.

use core::fmt;
use core::iter::FusedIterator;

use crate::lock::{DefaultLock, Lock};
use crate::Receiver;

/// A blocking iterator over the messages of a [`Receiver`], made by [`Receiver::iter`] or
/// `for msg in &rx`. Each `next` blocks as [`Receiver::recv_blocking`] does; it returns `None`
/// once the channel is closed, and from then on always.
///
/// ```
/// let (tx, rx) = rendez::channel();
/// std::thread::spawn(move || {
///     for n in 0..3 {
///         tx.send_blocking(n).unwrap();
///     }
///     // `tx` is dropped here: the channel closes and the iteration ends
/// });
/// let mut got = Vec::new();
/// for n in &rx {
///     got.push(n);
/// }
/// assert_eq!(got, [0, 1, 2]);
/// ```
#[must_use = "iterators are lazy and do nothing unless consumed"]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub struct Iter<'a, T, L: Lock = DefaultLock> {
    /// The handle it receives with.
    receiver: &'a Receiver<T, L>,
}

impl<'a, T, L: Lock> Iter<'a, T, L> {
    /// An iterator receiving with `receiver`.
    pub(crate) fn new(receiver: &'a Receiver<T, L>) -> Self {
        Iter { receiver }
    }
}

impl<T, L: Lock> Iterator for Iter<'_, T, L> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.receiver.recv_blocking().ok()
    }
}

// A closed channel stays closed, and a closed channel offers no new message.
impl<T, L: Lock> FusedIterator for Iter<'_, T, L> {}

impl<T, L: Lock> fmt::Debug for Iter<'_, T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("receiver", self.receiver)
            .finish()
    }
}

/// An iterator over the messages that are on offer right now, made by [`Receiver::try_iter`].
/// Each `next` is a [`Receiver::try_recv`]: it never blocks, and returns `None` as soon as no
/// send is waiting (or the channel is closed). A later `next` may find a message again.
///
/// ```
/// use std::time::Duration;
/// let (tx, rx) = rendez::channel();
/// assert_eq!(rx.try_iter().next(), None); // no send is waiting
/// let sender = std::thread::spawn(move || tx.send_timeout(1, Duration::from_secs(10)));
/// while rx.try_iter().next().is_none() {
///     std::thread::yield_now(); // until the send waits, then it is taken
/// }
/// assert_eq!(sender.join().unwrap(), Ok(()));
/// ```
#[must_use = "iterators are lazy and do nothing unless consumed"]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub struct TryIter<'a, T, L: Lock = DefaultLock> {
    /// The handle it receives with.
    receiver: &'a Receiver<T, L>,
}

impl<'a, T, L: Lock> TryIter<'a, T, L> {
    /// An iterator receiving with `receiver`.
    pub(crate) fn new(receiver: &'a Receiver<T, L>) -> Self {
        TryIter { receiver }
    }
}

impl<T, L: Lock> Iterator for TryIter<'_, T, L> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.receiver.try_recv().ok()
    }
}

impl<T, L: Lock> fmt::Debug for TryIter<'_, T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryIter")
            .field("receiver", self.receiver)
            .finish()
    }
}

/// A blocking iterator that owns a [`Receiver`], made by `for msg in rx` (`IntoIterator`). It
/// receives as [`Iter`] does and drops the `Receiver` with itself.
///
/// ```
/// let (tx, rx) = rendez::channel();
/// let consumer = std::thread::spawn(move || rx.into_iter().sum::<u32>());
/// for n in 1..=3 {
///     tx.send_blocking(n).unwrap();
/// }
/// drop(tx); // closes the channel: the consumer's iteration ends
/// assert_eq!(consumer.join().unwrap(), 6);
/// ```
#[must_use = "iterators are lazy and do nothing unless consumed"]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub struct IntoIter<T, L: Lock = DefaultLock> {
    /// The handle it receives with.
    receiver: Receiver<T, L>,
}

impl<T, L: Lock> Iterator for IntoIter<T, L> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.receiver.recv_blocking().ok()
    }
}

// As for `Iter`.
impl<T, L: Lock> FusedIterator for IntoIter<T, L> {}

impl<T, L: Lock> fmt::Debug for IntoIter<T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter")
            .field("receiver", &self.receiver)
            .finish()
    }
}

/// `for msg in &rx` iterates as [`Receiver::iter`] does.
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<'a, T, L: Lock> IntoIterator for &'a Receiver<T, L> {
    type Item = T;
    type IntoIter = Iter<'a, T, L>;

    fn into_iter(self) -> Iter<'a, T, L> {
        self.iter()
    }
}

/// `for msg in rx` iterates as [`Receiver::iter`] does, and drops the `Receiver` at the end.
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<T, L: Lock> IntoIterator for Receiver<T, L> {
    type Item = T;
    type IntoIter = IntoIter<T, L>;

    fn into_iter(self) -> IntoIter<T, L> {
        IntoIter { receiver: self }
    }
}
