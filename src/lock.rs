//! Lock strategies: the portable form of the Theseus channel's `DeadlockPrevention` parameter.
//!
//! The channel keeps all of its shared state behind one short critical section. *How* that
//! section excludes other parties is chosen by a type parameter `L: Lock`:
//!
//! | strategy | pick it when | default |
//! |---|---|---|
//! | [`StdLock`] | you have `std`: a futex-backed mutex that parks under contention | with `std` |
//! | [`SpinLock`] | no `std`, and no interrupt handler uses the channel; needs compare-and-swap | without `std` |
//! | `CriticalSectionLock` | an interrupt handler uses the channel (`try_send` from an ISR), or a single-core MCU | only on [targets without compare-and-swap](#targets-without-compare-and-swap) (feature `critical-section`) |
//!
//! A spin lock taken by a task and then wanted by an interrupt handler on the same core can never
//! be released: the handler spins forever. The critical-section lock masks interrupts (on a
//! single-core target; multi-core `critical-section` implementations add a hardware lock), so a
//! handler can never preempt a holder. Its sections are a few dozen instructions long, so the
//! added interrupt latency is small.
//!
//! The critical sections never call user code (no waker is woken and no message is dropped while
//! the lock is held), so they are short and a panic elsewhere cannot leave the lock held.
//!
//! # Targets without compare-and-swap
//!
//! Some microcontrollers have atomic loads and stores but no atomic read-modify-write:
//! `thumbv6m-none-eabi` (Cortex-M0/M0+), `riscv32imc-unknown-none-elf` and other RISC-V cores
//! without the A extension (`cfg(target_has_atomic = "8")` and `"ptr"` are false there). A spin
//! lock cannot be built on them, so there:
//!
//! - build with `default-features = false, features = ["critical-section"]`, and link a
//!   `critical-section` implementation (`cortex-m`'s `critical-section-single-core`, `riscv`'s
//!   `critical-section-single-hart`, or your HAL's);
//! - [`DefaultLock`] is `CriticalSectionLock`, so `Channel<T>` is `Channel<T, CriticalSectionLock>`;
//! - the rest of the channel needs no compare-and-swap: flags that are written only under the
//!   lock are plain atomic loads and stores, and a select's claim does its read-modify-write steps
//!   inside `critical_section::with` (the same single-core argument that makes the lock sound);
//! - naming [`SpinLock`] as a lock, building without the `critical-section` feature, or enabling
//!   `alloc` (its `Arc` needs compare-and-swap) is a compile error that says so.

use crate::sync::{const_fn_unless_loom, CellMut, UnsafeCell};
#[cfg(target_has_atomic = "8")]
use crate::sync::{AtomicBool, Ordering};

/// A way to run a closure with mutual exclusion.
///
/// # Safety
///
/// Implementations must guarantee that, for one value of the implementing type, no two calls of
/// [`Lock::with`] run their closures at the same time (on any thread or interrupt level), and that
/// everything a closure wrote is visible to every closure that runs after it (acquire/release).
/// The channel builds its `Sync` guarantee on this promise.
#[cfg_attr(
    not(target_has_atomic = "8"),
    diagnostic::on_unimplemented(
        message = "rendez: `{Self}` is not a lock strategy on this target",
        label = "not a `rendez::lock::Lock` here",
        note = "this target has no atomic compare-and-swap, so `SpinLock` cannot work on it: \
                enable rendez's `critical-section` feature and use `CriticalSectionLock`"
    )
)]
pub unsafe trait Lock {
    /// An unlocked lock. A constant so that a channel can be built in a `const fn`.
    #[cfg(not(rendez_loom))]
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self;

    /// An unlocked lock (loom's primitives cannot be built in a constant).
    #[cfg(rendez_loom)]
    fn new() -> Self;

    /// Runs `f` while holding the lock, and releases it afterwards, also when `f` panics.
    fn with<R>(&self, f: impl FnOnce() -> R) -> R;
}

/// The lock used when no lock strategy is named: [`StdLock`] with the `std` feature, otherwise
/// [`SpinLock`] (`CriticalSectionLock` on a target without compare-and-swap).
#[cfg(feature = "std")]
pub type DefaultLock = StdLock;
/// The lock used when no lock strategy is named: [`StdLock`] with the `std` feature, otherwise
/// [`SpinLock`] (`CriticalSectionLock` on a target without compare-and-swap).
///
/// Also with the `critical-section` feature it stays [`SpinLock`] (a feature must not silently
/// change a public type): name `CriticalSectionLock` in the channel's type when an interrupt
/// handler uses it.
#[cfg(all(not(feature = "std"), target_has_atomic = "8"))]
pub type DefaultLock = SpinLock;
/// The lock used when no lock strategy is named: on this target, which has no compare-and-swap
/// and so no [`SpinLock`], `CriticalSectionLock`.
#[cfg(all(
    not(feature = "std"),
    not(target_has_atomic = "8"),
    feature = "critical-section"
))]
pub type DefaultLock = CriticalSectionLock;
/// A target without compare-and-swap and without the `critical-section` feature is an error
/// (`lib.rs` says so); this alias only keeps that error from being buried under others.
#[cfg(all(
    not(feature = "std"),
    not(target_has_atomic = "8"),
    not(feature = "critical-section")
))]
pub type DefaultLock = SpinLock;

// === impl SpinLock ===

/// A test-and-test-and-set spin lock. Works on every target with atomic compare-and-swap.
///
/// It never parks: pick it where there is no OS to park on. Do not use it from an interrupt
/// handler that can preempt a holder of the same lock on the same core (that deadlocks).
#[cfg(target_has_atomic = "8")]
#[derive(Debug)]
pub struct SpinLock {
    /// `true` while some party is inside [`Lock::with`].
    locked: AtomicBool,
}

/// Not a lock on this target, which has no atomic compare-and-swap: it exists only so that
/// naming it fails with an error that names the fix (`Lock`'s diagnostic). Enable the
/// `critical-section` feature and use `CriticalSectionLock`.
#[cfg(not(target_has_atomic = "8"))]
#[derive(Debug)]
pub struct SpinLock {
    /// Never built.
    _unavailable: core::convert::Infallible,
}

/// Releases a [`SpinLock`] when dropped, so that a panicking closure does not leave it held.
#[cfg(target_has_atomic = "8")]
struct SpinGuard<'a>(&'a AtomicBool);

#[cfg(target_has_atomic = "8")]
impl Drop for SpinGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

// SAFETY: `with` enters only after a successful Acquire compare-exchange from `false` to `true`,
// and the guard stores `false` with Release when the closure returns or unwinds, so closures are
// mutually exclusive and each sees the writes of the previous one.
#[cfg(target_has_atomic = "8")]
unsafe impl Lock for SpinLock {
    #[cfg(not(rendez_loom))]
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = SpinLock {
        locked: AtomicBool::new(false),
    };

    #[cfg(rendez_loom)]
    fn new() -> Self {
        SpinLock {
            locked: AtomicBool::new(false),
        }
    }

    fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            // Spin on a plain load so the cache line stays shared until the holder releases it.
            while self.locked.load(Ordering::Relaxed) {
                crate::sync::spin_loop();
            }
        }
        let _guard = SpinGuard(&self.locked);
        f()
    }
}

// === impl StdLock ===

/// A lock backed by [`std::sync::Mutex`]: threads that contend for it park instead of spinning.
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct StdLock {
    /// The mutex; it guards no data of its own, only the channel's critical sections.
    mutex: crate::sync::StdMutex<()>,
}

// SAFETY: `std::sync::Mutex` provides mutual exclusion with acquire/release ordering; the guard is
// held for the whole closure and dropped (unlocking) when it returns or unwinds.
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
#[cfg(feature = "std")]
unsafe impl Lock for StdLock {
    #[cfg(not(rendez_loom))]
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = StdLock {
        mutex: crate::sync::StdMutex::new(()),
    };

    #[cfg(rendez_loom)]
    fn new() -> Self {
        StdLock {
            mutex: crate::sync::StdMutex::new(()),
        }
    }

    // Inlined so that the critical section's result (a message, for a receive) is built in
    // place, not copied out through this call: callgrind counted 160 instructions per message
    // fewer for async SPSC (1907 -> 1746), 230 for a 256-byte message.
    #[inline]
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

// === impl CriticalSectionLock ===

/// A lock that runs each critical section inside [`critical_section::with`]: on a single-core
/// microcontroller it masks interrupts, so an interrupt handler may use the channel (`try_send`
/// from an ISR) without deadlocking against the task it preempted.
///
/// The program must link a `critical-section` implementation (`cortex-m` with its
/// `critical-section-single-core` feature, `embassy`'s, or `critical-section`'s `std` feature on
/// a host).
#[cfg_attr(docsrs, doc(cfg(feature = "critical-section")))]
#[cfg(feature = "critical-section")]
#[derive(Debug)]
pub struct CriticalSectionLock {
    /// Not constructible outside this module except through `INIT`.
    _private: (),
}

// SAFETY: `critical_section::with` runs the closure with every other critical section excluded
// (interrupts masked on a single core; an implementation-provided lock on several), and its
// implementations are required to order memory across the section boundaries. Nested sections are
// allowed, but the channel never nests its own lock.
#[cfg_attr(docsrs, doc(cfg(feature = "critical-section")))]
#[cfg(feature = "critical-section")]
unsafe impl Lock for CriticalSectionLock {
    #[cfg(not(rendez_loom))]
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = CriticalSectionLock { _private: () };

    #[cfg(rendez_loom)]
    fn new() -> Self {
        CriticalSectionLock { _private: () }
    }

    fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        critical_section::with(|_| f())
    }
}

// === impl Mutex ===

/// Data guarded by a [`Lock`]: the only way in is [`Mutex::with`]. On hosts `repr(C)`, the lock
/// first: it and the start of the data share a cache line (see `exchange::Exchange`).
#[cfg_attr(not(target_os = "none"), repr(C))]
pub(crate) struct Mutex<L, T> {
    /// The lock strategy that excludes other parties.
    lock: L,
    /// The guarded data; touched only inside `lock.with`.
    data: UnsafeCell<T>,
}

impl<L: Lock, T> Mutex<L, T> {
    const_fn_unless_loom! {
        /// A mutex holding `data`, unlocked.
        pub(crate) fn new(data: T) -> Self {
            Mutex {
                #[cfg(not(rendez_loom))]
                lock: L::INIT,
                #[cfg(rendez_loom)]
                lock: L::new(),
                data: UnsafeCell::new(data),
            }
        }
    }

    /// Runs `f` with exclusive access to the data.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        self.lock.with(|| {
            // SAFETY: `Lock`'s contract makes this closure the only one running for this lock, and
            // `data` is reached only through this method, so this is the only reference to it.
            let mut data: CellMut<'_, T> = unsafe { self.data.borrow_mut() };
            f(&mut data)
        })
    }
}

// SAFETY: the data is reached only inside `with`, which the lock makes exclusive, so sharing the
// mutex shares no `&T` between threads; the data itself moves between threads, hence `T: Send`.
unsafe impl<L: Lock + Sync, T: Send> Sync for Mutex<L, T> {}
