//! The counted handles' shared allocation and the constructors.

use crate::exchange::Core;
use crate::lock::{DefaultLock, Lock};
use crate::sync::{Arc, AtomicUsize, Ordering};
use crate::{Receiver, Sender};

/// What every `Sender` and `Receiver` of one channel points to.
///
/// Aligned to a cache line on hosts (`std`), so that the channel's lock and the state every
/// operation touches share one (see `exchange::Exchange`), and the `Arc`'s counts, which change
/// only as handles are cloned and dropped, sit on another. (Not without `std`: a single-core
/// microcontroller with a heap shares no cache line and would only lose the padding.)
#[cfg_attr(feature = "std", repr(align(64)))]
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
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
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
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
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

// === the handle counts ===
//
// Everything that keeps the channel open holds one count: a `Sender` or a `SendOwned` one of
// `senders`, a `Receiver` or a `RecvOwned` one of `receivers`. Weak handles hold none. A count
// that reached 0 stays 0: the channel is closed then, and only a live holder may add one
// (`add_*`), or a weak handle that finds the count above 0 (`upgrade_*`).

impl<T, L: Lock> Shared<T, L> {
    /// Counts one more sender, for a holder of a live one.
    pub(crate) fn add_sender(&self) {
        check_count(self.senders.fetch_add(1, Ordering::Relaxed));
    }

    /// Counts one more sender unless none is left; `false` if the count had reached 0.
    pub(crate) fn upgrade_sender(&self) -> bool {
        increment_unless_zero(&self.senders)
    }

    /// Gives a sender's count back; the last one closes the channel.
    pub(crate) fn remove_sender(&self) {
        if self.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.core.close();
        }
    }

    /// Counts one more receiver, for a holder of a live one.
    pub(crate) fn add_receiver(&self) {
        check_count(self.receivers.fetch_add(1, Ordering::Relaxed));
    }

    /// Counts one more receiver unless none is left; `false` if the count had reached 0.
    pub(crate) fn upgrade_receiver(&self) -> bool {
        increment_unless_zero(&self.receivers)
    }

    /// Gives a receiver's count back; the last one closes the channel and drops a held
    /// `try_send` message, which no receiver is left to take.
    pub(crate) fn remove_receiver(&self) {
        if self.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            // Taken first so that it is dropped, outside the lock, even if a waker panics in
            // `close`.
            let held = self.core.take_held();
            self.core.close();
            drop(held);
        }
    }
}

/// Adds one to `count` unless it is 0, in one compare-exchange loop, so that an upgrade never
/// revives a count that reached 0 (the channel closed then). Returns whether it added one.
fn increment_unless_zero(count: &AtomicUsize) -> bool {
    let mut current = count.load(Ordering::Relaxed);
    loop {
        if current == 0 {
            return false;
        }
        check_count(current);
        // Relaxed, as for `Clone`: the count only decides who closes the channel, and every
        // change to it is in its one modification order.
        match count.compare_exchange_weak(
            current,
            current + 1,
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            Ok(_) => return true,
            Err(actual) => current = actual,
        }
    }
}
