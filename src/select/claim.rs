//! The claim: the one word a select and its peers race on, so that exactly one arm takes effect.
//!
//! Every node a select registers points to its claim (`Slot::select`). The claim holds:
//!
//! - [`WAITING`]: the select is parked; a peer about to *complete* one of its arms (a receive
//!   about to take a send arm's message) must first win the claim for that arm's node with
//!   [`Claim::try_claim`]. Only sends are ever completed by a peer: a select's receive arms are
//!   notified like any async receive and take their message in the select's own poll.
//! - [`BUSY`]: the select's owner is polling its arms (or has finished or given up). No peer may
//!   complete an arm; a peer that finds such a node unlinks it and hands it back to the owner
//!   ("prunes" it), and the owner registers it again if it goes on waiting.
//! - [`PRUNED_BUSY`]: busy, and a peer pruned a node meanwhile; [`Claim::end_pass`] reports it.
//! - any other value: the address of the node whose arm a peer completed. Final.
//!
//! The owner moves WAITING → BUSY with a compare-exchange before it polls its arms, so at any
//! moment at most one party (the owner, or the one peer that won) may complete an arm. That is
//! the whole of select's atomicity; no two channel locks are ever held at once.
//!
//! On a target without atomic compare-and-swap (`thumbv6m`, `riscv32imc`: no
//! `target_has_atomic = "ptr"`), each read-modify-write of the word is a load and a store inside
//! `critical_section::with` instead (the `critical-section` feature, which such a target needs
//! anyway). Every write of the word is such a step and the only other access is a plain load
//! ([`Claim::winner`]), so the steps stay atomic with respect to each other: on one core because
//! the section masks interrupts, on several because a multi-core implementation excludes the
//! other cores too. Every other target keeps the hardware's compare-and-swap (loom checks it).
//! `--cfg rendez_no_cas` (with the `critical-section` feature) takes the no-CAS path on a host,
//! so that CI runs the select tests through it: `.ci/run` does.

use crate::sync::{AtomicUsize, Ordering};

/// The select is waiting: a peer may claim one of its arms.
const WAITING: usize = 0;
/// The owner is polling, or is done: nobody else may complete an arm.
const BUSY: usize = 1;
/// `BUSY`, marked by a peer that pruned one of the owner's nodes during the pass, so that the
/// owner's `end_pass` learns of it. It has to be in the claim word itself: the owner's check
/// and the peer's prune are otherwise a store-then-load on each side, which the hardware may
/// reorder (x86 does), and the owner could miss a prune and wait on a node no longer linked.
const PRUNED_BUSY: usize = BUSY | 2;

/// A select's decision word; see the module docs. Lives in the select future (or on the blocked
/// thread's stack), pinned, for as long as any of its nodes may be registered.
#[doc(hidden)]
pub struct Claim {
    /// `WAITING`, `BUSY` or the address of the node a peer completed.
    state: AtomicUsize,
}

impl core::fmt::Debug for Claim {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Claim").finish_non_exhaustive()
    }
}

impl Claim {
    /// A claim owned by its select (BUSY), before any arm is registered.
    pub(crate) fn new() -> Self {
        Claim {
            state: AtomicUsize::new(BUSY),
        }
    }

    /// The owner starts a pass over its arms: `Ok` if no peer claimed an arm (the claim is now
    /// BUSY), or `Err(node)` with the address of the node a peer completed.
    pub(crate) fn begin_pass(&self) -> Result<(), usize> {
        // Acquire: a peer's claim happened under that arm's channel lock; the owner then goes
        // through the same lock to collect the outcome, but ordering here costs nothing extra.
        match self.compare_exchange(WAITING, BUSY) {
            Ok(_) => Ok(()),
            Err(BUSY | PRUNED_BUSY) => unreachable!("rendez: only the owner makes a claim busy"),
            Err(node) => Err(node),
        }
    }

    /// The owner ends a pass that completed nothing: peers may claim again. Returns whether a
    /// peer pruned one of its nodes during the pass (the owner must register it again).
    pub(crate) fn end_pass(&self) -> bool {
        self.swap(WAITING) == PRUNED_BUSY
    }

    /// The owner gives up waiting (its future is dropped, or a blocking wait timed out): from now
    /// on no peer may complete an arm. Returns the node a peer completed before that, if any.
    pub(crate) fn give_up(&self) -> Option<usize> {
        match self.swap(BUSY) {
            WAITING | BUSY | PRUNED_BUSY => None,
            node => Some(node),
        }
    }

    /// Whether the claim was decided by a peer (the owner, between passes).
    pub(crate) fn winner(&self) -> Option<usize> {
        match self.state.load(Ordering::Acquire) {
            WAITING | BUSY | PRUNED_BUSY => None,
            node => Some(node),
        }
    }

    /// A peer, under the lock of `node`'s channel: wins the select for `node`'s arm, so it may
    /// complete it. `false`: the owner is busy or another arm was completed; the node must be
    /// pruned instead.
    pub(crate) fn try_claim(&self, node: usize) -> bool {
        debug_assert!(node > PRUNED_BUSY, "rendez: node addresses are aligned");
        let mut seen = WAITING;
        loop {
            // Every outcome that matters is a read-modify-write, so it is ordered against the
            // owner's `begin_pass` / `end_pass` on this one word.
            let next = match seen {
                WAITING => node,
                BUSY | PRUNED_BUSY => PRUNED_BUSY, // the caller prunes: tell the owner
                _ => return false,                 // decided: the owner withdraws every arm
            };
            match self.compare_exchange(seen, next) {
                Ok(_) => return next == node,
                Err(actual) => seen = actual,
            }
        }
    }

    /// A peer, under a channel lock: whether a select recv node should be pruned rather than
    /// notified, because its select already has a winner (its owner is about to withdraw it).
    pub(crate) fn is_decided(&self) -> bool {
        self.winner().is_some()
    }

    /// `state.compare_exchange(current, new, AcqRel, Acquire)`: the hardware's.
    #[cfg(all(target_has_atomic = "ptr", not(rendez_no_cas)))]
    #[inline]
    fn compare_exchange(&self, current: usize, new: usize) -> Result<usize, usize> {
        self.state
            .compare_exchange(current, new, Ordering::AcqRel, Ordering::Acquire)
    }

    /// `state.swap(new, AcqRel)`: the hardware's.
    #[cfg(all(target_has_atomic = "ptr", not(rendez_no_cas)))]
    #[inline]
    fn swap(&self, new: usize) -> usize {
        self.state.swap(new, Ordering::AcqRel)
    }

    /// `compare_exchange` without compare-and-swap: a load and a store inside one critical
    /// section, which no other write of the word can interleave (see the module docs).
    #[cfg(any(not(target_has_atomic = "ptr"), rendez_no_cas))]
    fn compare_exchange(&self, current: usize, new: usize) -> Result<usize, usize> {
        critical_section::with(|_| {
            let seen = self.state.load(Ordering::Acquire);
            if seen == current {
                self.state.store(new, Ordering::Release);
                Ok(seen)
            } else {
                Err(seen)
            }
        })
    }

    /// `swap` without compare-and-swap: a load and a store inside one critical section.
    #[cfg(any(not(target_has_atomic = "ptr"), rendez_no_cas))]
    fn swap(&self, new: usize) -> usize {
        critical_section::with(|_| {
            let seen = self.state.load(Ordering::Acquire);
            self.state.store(new, Ordering::Release);
            seen
        })
    }
}
