//! Every synchronization primitive the channel uses, in one place, so that a build with
//! `RUSTFLAGS="--cfg rendez_loom"` swaps in loom's model-checked versions (see `tests/loom.rs`).
//!
//! Under loom the primitives cannot be built in a `const` context, so the constructors that are
//! `const fn` in normal builds are declared with [`const_fn_unless_loom!`].

#[cfg(rendez_loom)]
pub(crate) use loom::hint::spin_loop;
#[cfg(rendez_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

// The spin lock's, which exists only where compare-and-swap does.
#[cfg(all(not(rendez_loom), target_has_atomic = "8"))]
pub(crate) use core::hint::spin_loop;
#[cfg(not(rendez_loom))]
pub(crate) use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

// The counted handles' allocation.
#[cfg(all(feature = "alloc", not(rendez_loom)))]
pub(crate) use alloc::sync::Arc;
#[cfg(all(feature = "alloc", rendez_loom))]
pub(crate) use loom::sync::Arc;

#[cfg(all(feature = "std", rendez_loom))]
pub(crate) use loom::sync::Mutex as StdMutex;
#[cfg(all(feature = "std", not(rendez_loom)))]
pub(crate) use std::sync::Mutex as StdMutex;

/// Declares a `const fn` in normal builds and a plain `fn` under loom.
macro_rules! const_fn_unless_loom {
    ($(#[$attr:meta])* $vis:vis fn $($rest:tt)*) => {
        #[cfg(not(rendez_loom))]
        $(#[$attr])* $vis const fn $($rest)*
        #[cfg(rendez_loom)]
        $(#[$attr])* $vis fn $($rest)*
    };
}
pub(crate) use const_fn_unless_loom;

/// An `UnsafeCell` whose accesses loom checks: under loom, two accesses that are not ordered by
/// the lock or an atomic (a data race) fail the model.
pub(crate) struct UnsafeCell<T> {
    #[cfg(not(rendez_loom))]
    inner: core::cell::UnsafeCell<T>,
    #[cfg(rendez_loom)]
    inner: loom::cell::UnsafeCell<T>,
}

impl<T> UnsafeCell<T> {
    const_fn_unless_loom! {
        /// A cell holding `value`.
        pub(crate) fn new(value: T) -> Self {
            UnsafeCell {
                #[cfg(not(rendez_loom))]
                inner: core::cell::UnsafeCell::new(value),
                #[cfg(rendez_loom)]
                inner: loom::cell::UnsafeCell::new(value),
            }
        }
    }

    /// Mutable access to the contents for as long as the returned guard lives.
    ///
    /// # Safety
    ///
    /// No other access to the contents happens while the guard lives (the caller holds the lock
    /// that guards them, or otherwise owns them exclusively).
    pub(crate) unsafe fn borrow_mut(&self) -> CellMut<'_, T> {
        CellMut {
            #[cfg(not(rendez_loom))]
            // SAFETY: exclusivity is the caller's obligation, stated above.
            value: unsafe { &mut *self.inner.get() },
            #[cfg(rendez_loom)]
            ptr: self.inner.get_mut(),
            _cell: core::marker::PhantomData,
        }
    }
}

/// Exclusive access to the contents of an [`UnsafeCell`]; see [`UnsafeCell::borrow_mut`].
pub(crate) struct CellMut<'a, T> {
    #[cfg(not(rendez_loom))]
    value: &'a mut T,
    #[cfg(rendez_loom)]
    ptr: loom::cell::MutPtr<T>,
    _cell: core::marker::PhantomData<&'a UnsafeCell<T>>,
}

impl<T> core::ops::Deref for CellMut<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        #[cfg(not(rendez_loom))]
        return self.value;
        #[cfg(rendez_loom)]
        // SAFETY: `borrow_mut`'s caller promised exclusive access while this guard lives.
        return unsafe { self.ptr.deref() };
    }
}

/// Dropping the guard ends the access (under loom, the tracked one). Code that follows a node's
/// neighbours in a list drops the guard of its own node first, so that no two guards of one cell
/// ever live at once, also when the walk comes back to that node.
impl<T> Drop for CellMut<'_, T> {
    fn drop(&mut self) {}
}

impl<T> core::ops::DerefMut for CellMut<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        #[cfg(not(rendez_loom))]
        return self.value;
        #[cfg(rendez_loom)]
        // SAFETY: as for `deref`.
        return unsafe { self.ptr.deref() };
    }
}
