//! Lock strategies: the portable form of the Theseus channel's `DeadlockPrevention` parameter.
//!
//! The channel keeps all of its shared state behind one short critical section. *How* that
//! section excludes other parties is chosen by a type parameter `L: Lock`:
//!
//! | strategy | pick it when | default |
//! |---|---|---|
//! | [`StdLock`] | you have `std`: a futex-backed mutex that parks under contention | with `std` |
//! | [`SpinLock`] | no `std` and no interrupts touch the channel (or multi-core without an OS) | without `std` |
//!
//! The critical sections never call user code (no waker is woken and no message is dropped while
//! the lock is held), so they are short and a panic elsewhere cannot leave the lock held.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

/// A way to run a closure with mutual exclusion.
///
/// # Safety
///
/// Implementations must guarantee that, for one value of the implementing type, no two calls of
/// [`Lock::with`] run their closures at the same time (on any thread or interrupt level), and that
/// everything a closure wrote is visible to every closure that runs after it (acquire/release).
/// The channel builds its `Sync` guarantee on this promise.
pub unsafe trait Lock {
    /// An unlocked lock. A constant so that a channel can be built in a `const fn`.
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self;

    /// Runs `f` while holding the lock, and releases it afterwards, also when `f` panics.
    fn with<R>(&self, f: impl FnOnce() -> R) -> R;
}

/// The lock used when no lock strategy is named: [`StdLock`] with the `std` feature, otherwise
/// [`SpinLock`].
#[cfg(feature = "std")]
pub type DefaultLock = StdLock;
/// The lock used when no lock strategy is named: [`StdLock`] with the `std` feature, otherwise
/// [`SpinLock`].
#[cfg(not(feature = "std"))]
pub type DefaultLock = SpinLock;

// === impl SpinLock ===

/// A test-and-test-and-set spin lock. Works on every target with atomic compare-and-swap.
///
/// It never parks: pick it where there is no OS to park on. Do not use it from an interrupt
/// handler that can preempt a holder of the same lock on the same core (that deadlocks).
#[derive(Debug)]
pub struct SpinLock {
    /// `true` while some party is inside [`Lock::with`].
    locked: AtomicBool,
}

/// Releases a [`SpinLock`] when dropped, so that a panicking closure does not leave it held.
struct SpinGuard<'a>(&'a AtomicBool);

impl Drop for SpinGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

// SAFETY: `with` enters only after a successful Acquire compare-exchange from `false` to `true`,
// and the guard stores `false` with Release when the closure returns or unwinds, so closures are
// mutually exclusive and each sees the writes of the previous one.
unsafe impl Lock for SpinLock {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = SpinLock {
        locked: AtomicBool::new(false),
    };

    fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            // Spin on a plain load so the cache line stays shared until the holder releases it.
            while self.locked.load(Ordering::Relaxed) {
                core::hint::spin_loop();
            }
        }
        let _guard = SpinGuard(&self.locked);
        f()
    }
}

// === impl StdLock ===

/// A lock backed by [`std::sync::Mutex`]: threads that contend for it park instead of spinning.
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct StdLock {
    /// The mutex; it guards no data of its own, only the channel's critical sections.
    mutex: std::sync::Mutex<()>,
}

// SAFETY: `std::sync::Mutex` provides mutual exclusion with acquire/release ordering; the guard is
// held for the whole closure and dropped (unlocking) when it returns or unwinds.
#[cfg(feature = "std")]
unsafe impl Lock for StdLock {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = StdLock {
        mutex: std::sync::Mutex::new(()),
    };

    fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        // The channel's critical sections do not run user code, so a poisoned mutex can only come
        // from a bug already reported by its own panic; the guarded state is still consistent.
        let _guard = self
            .mutex
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f()
    }
}

// === impl Mutex ===

/// Data guarded by a [`Lock`]: the only way in is [`Mutex::with`].
pub(crate) struct Mutex<L, T> {
    /// The lock strategy that excludes other parties.
    lock: L,
    /// The guarded data; touched only inside `lock.with`.
    data: UnsafeCell<T>,
}

impl<L: Lock, T> Mutex<L, T> {
    /// A mutex holding `data`, unlocked.
    pub(crate) const fn new(data: T) -> Self {
        Mutex {
            lock: L::INIT,
            data: UnsafeCell::new(data),
        }
    }

    /// Runs `f` with exclusive access to the data.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        self.lock.with(|| {
            // SAFETY: `Lock`'s contract makes this closure the only one running for this lock, and
            // `data` is reached only through this method, so this is the only reference to it.
            let data = unsafe { &mut *self.data.get() };
            f(data)
        })
    }
}

// SAFETY: the data is reached only inside `with`, which the lock makes exclusive, so sharing the
// mutex shares no `&T` between threads; the data itself moves between threads, hence `T: Send`.
unsafe impl<L: Lock + Sync, T: Send> Sync for Mutex<L, T> {}
