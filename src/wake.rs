//! Wakers collected under the lock and woken after it is released.
//!
//! Waking outside the critical section keeps it short (the woken task does not run into a held
//! lock) and means no user code (a waker's `wake` or `drop`) ever runs while the lock is held.

use core::mem::MaybeUninit;
use core::task::Waker;

/// A registration needs a clone of the task's waker, to be made outside the lock.
#[derive(Debug)]
pub(crate) struct NeedWaker;

/// Before the lock, for a node that only its owner can reach (not registered): makes `waker` the
/// one in `slot`, cloning it only if the slot's waker would wake another task. The clone and the
/// drop of the replaced waker run here, outside every critical section.
///
/// The common case (the same task's waker again) is a comparison where it is called; the clone
/// and drop are out of line, as [`WakeBatch::wake_all`]'s waking is: every operation has them,
/// and a copy of the waker calls in each would cost a microcontroller's flash more than the call
/// costs anyone.
#[inline]
pub(crate) fn set_waker(slot: &mut Option<Waker>, waker: &Waker) {
    if !slot
        .as_ref()
        .is_some_and(|current| current.will_wake(waker))
    {
        replace_waker(slot, waker);
    }
}

/// [`set_waker`]'s clone and drop.
#[inline(never)]
fn replace_waker(slot: &mut Option<Waker>, waker: &Waker) {
    // Cloned first: if a user's `clone` panics, the slot is unchanged.
    let new = waker.clone();
    drop(slot.replace(new));
}

/// How many wakers one operation's batch holds: an operation serves at most one offer, which
/// wakes at most two parties (a blocked receive handed a waiting send's message wakes both; see
/// `Exchange::dispatch`), plus up to two streams alerted on the way. Kept small because every
/// operation builds and drops a batch.
pub(crate) const OPERATION: usize = 4;

/// How many wakers a select's pass holds back until the pass ends (see `select::engine`).
pub(crate) const PASS: usize = 16;

/// How many waiters `close` wakes per critical section; it releases the lock between batches.
pub(crate) const CLOSE_BATCH: usize = 8;

/// Wakers to wake once the lock is released. Dropping the batch wakes them.
///
/// The wakers sit in `MaybeUninit` slots, `len` saying how many are filled: every operation builds
/// and drops a batch, and `Option` slots would make each drop test every slot again after
/// `wake_all` emptied them.
pub(crate) struct WakeBatch<const N: usize = OPERATION> {
    /// The wakers to wake: `wakers[..len]` are initialised, the rest are not.
    wakers: [MaybeUninit<Waker>; N],
    /// How many entries of `wakers` are filled.
    len: usize,
    /// A waker replaced by a newer one: dropped, not woken, after the lock is released.
    displaced: Option<Waker>,
}

impl<const N: usize> WakeBatch<N> {
    /// An empty batch.
    pub(crate) const fn new() -> Self {
        WakeBatch {
            wakers: [const { MaybeUninit::uninit() }; N],
            len: 0,
            displaced: None,
        }
    }

    /// How many more wakers fit.
    pub(crate) fn room(&self) -> usize {
        N - self.len
    }

    /// Whether another waker still fits.
    pub(crate) fn is_full(&self) -> bool {
        self.len == N
    }

    /// Adds `waker` (if any) to be woken.
    ///
    /// # Panics
    ///
    /// If the batch is full; callers that add many check [`WakeBatch::is_full`] first.
    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        if let Some(waker) = waker {
            assert!(!self.is_full(), "rendez: wake batch overflow");
            // `wakers[len]` is not initialised (nothing to drop); it is once `len` counts it.
            self.wakers[self.len].write(waker);
            self.len += 1;
        }
    }

    /// Takes the last collected waker out of the batch.
    fn pop(&mut self) -> Option<Waker> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        // SAFETY: `wakers[..len]` were initialised (by `push`), so the one at the old `len - 1`
        // is; with `len` lowered it no longer counts as filled, so it is read out exactly once.
        Some(unsafe { self.wakers[self.len].assume_init_read() })
    }

    /// Under the lock: makes `waker` the one registered in `slot`. Nothing to do if the slot's
    /// waker already wakes the same task; otherwise `spare` (a clone the caller made before taking
    /// the lock) goes in and the replaced waker is kept to be dropped after the lock is released.
    /// `Err(NeedWaker)` if a clone is needed and there is no spare: the caller leaves the critical
    /// section without having changed anything, clones, and tries again. So a waker's `clone` and
    /// `drop` never run under the lock (CONTRACT rule 10).
    // A call on bare metal: a send's poll registers in two places and a receive's in two more,
    // and each copy of the comparison and the replacement costs flash.
    #[cfg_attr(target_os = "none", inline(never))]
    pub(crate) fn register(
        &mut self,
        slot: &mut Option<Waker>,
        waker: &Waker,
        spare: &mut Option<Waker>,
    ) -> Result<(), NeedWaker> {
        if slot
            .as_ref()
            .is_some_and(|current| current.will_wake(waker))
        {
            return Ok(());
        }
        let new = spare.take().ok_or(NeedWaker)?;
        if let Some(old) = slot.replace(new) {
            debug_assert!(self.displaced.is_none());
            self.displaced = Some(old);
        }
        Ok(())
    }

    /// Moves the collected wakers into `later`, to be woken with it; if it is full, wakes them
    /// now. Moving a waker runs no user code.
    pub(crate) fn defer_to<const M: usize>(&mut self, later: &mut WakeBatch<M>) {
        while let Some(waker) = self.pop() {
            if later.is_full() {
                waker.wake();
            } else {
                later.push(Some(waker));
            }
        }
    }

    /// Wakes every collected waker; call it once the lock is released (dropping the batch does
    /// too). If one `wake` panics, the rest are still woken while the panic unwinds (a second panic
    /// during that aborts, as any panic during unwinding does).
    ///
    /// Taking `&mut self` rather than consuming the batch spares a copy of it per operation. An
    /// empty batch (most of them: every operation and every drop calls this) is a test here; the
    /// waking is out of line (see [`set_waker`]).
    #[inline]
    pub(crate) fn wake_all(&mut self) {
        if self.len != 0 {
            self.wake_collected();
        }
    }

    /// [`WakeBatch::wake_all`]'s waking.
    #[inline(never)]
    fn wake_collected(&mut self) {
        /// Wakes whatever is left if the current `wake` call unwinds.
        struct Rest<'a, const N: usize>(&'a mut WakeBatch<N>);
        impl<const N: usize> Drop for Rest<'_, N> {
            fn drop(&mut self) {
                self.0.wake_all();
            }
        }

        while let Some(waker) = self.pop() {
            let rest = Rest(self);
            waker.wake();
            core::mem::forget(rest);
        }
    }
}

impl<const N: usize> Drop for WakeBatch<N> {
    fn drop(&mut self) {
        self.wake_all();
        // Every slot is uninitialised again (`len` is 0): nothing of `wakers` is left to drop.
        // `displaced` drops after the wakers are woken, outside the lock.
    }
}
