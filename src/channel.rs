//! The counted handles' shared allocation and the constructors.

use crate::exchange::Core;
use crate::lock::{DefaultLock, Lock};
use crate::sync::{Arc, AtomicUsize};
use crate::{Receiver, Sender};

/// What every `Sender` and `Receiver` of one channel points to.
pub(crate) struct Shared<T, L> {
    /// The exchange where sends and receives meet.
    pub(crate) core: Core<T, L>,
    /// Live `Sender`s; the last one to drop closes the channel.
    pub(crate) senders: AtomicUsize,
    /// Live `Receiver`s; the last one to drop closes the channel and drops a held message.
    pub(crate) receivers: AtomicUsize,
}

/// Creates a rendezvous channel: a send completes only when a receive has taken its message.
///
/// Both halves can be cloned (MPMC). The channel closes when every `Sender` or every `Receiver` is
/// dropped, or when either side calls `close`.
///
/// ```
/// # futures::executor::block_on(async {
/// let (tx, rx) = rendez::channel();
/// let send = async { tx.send("hello").await.unwrap() };
/// let recv = async { assert_eq!(rx.recv().await, Ok("hello")) };
/// futures::join!(send, recv);
/// # });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    channel_with::<T, DefaultLock>()
}

/// Creates a rendezvous channel whose critical sections use the lock strategy `L` (see
/// [`crate::lock`]).
///
/// ```
/// let (tx, rx) = rendez::channel_with::<u32, rendez::lock::SpinLock>();
/// std::thread::spawn(move || tx.send_blocking(7).unwrap());
/// assert_eq!(rx.recv_blocking(), Ok(7));
/// ```
pub fn channel_with<T, L: Lock>() -> (Sender<T, L>, Receiver<T, L>) {
    let shared = Arc::new(Shared {
        core: Core::new(),
        senders: AtomicUsize::new(1),
        receivers: AtomicUsize::new(1),
    });
    (Sender::new(shared.clone()), Receiver::new(shared))
}

/// Panics on a handle count so large that it would soon wrap (as `Arc` aborts).
pub(crate) fn check_count(previous: usize) {
    assert!(previous < isize::MAX as usize, "rendez: too many handles");
}
