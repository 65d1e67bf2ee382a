//! The exchange's part that only select needs: a node may be an arm of a select, which a peer
//! completes only after winning the select's claim (see [`crate::select::claim`]). Moved out of
//! `exchange.rs` so that the core there reads as the plain handoff: the two lists, dispatch and
//! the poll state machines call these where a node may belong to a select.

use core::ptr::NonNull;

use super::Exchange;
use crate::select::claim::Claim;
use crate::waiter::{Receiving, RecvWaiter, SendWaiter, Sending, Waiter};

impl Exchange {
    /// Offers a receive arm of the select owning `claim` could take: the held message and every
    /// waiting send that is not an arm of the same select.
    pub(super) fn offers_for(&self, claim: NonNull<Claim>) -> usize {
        let mut count = usize::from(self.held);
        let mut cursor = self.senders.front();
        while let Some(sender) = cursor {
            // SAFETY: `sender` is linked, so it is valid and registered, and we hold the lock.
            if unsafe { claim_of(sender) } != Some(claim) {
                count += 1;
            }
            // SAFETY: as above.
            cursor = unsafe { self.senders.next(sender) };
        }
        count
    }

    /// The first waiting receive that an unclaimed offer should go to. A select's receive arm is
    /// passed over (it keeps its place) while the only offers are its own select's sends.
    pub(super) fn first_receiver_for_offers(&self) -> Option<NonNull<RecvWaiter>> {
        let mut cursor = self.receivers.front();
        while let Some(receiver) = cursor {
            // SAFETY: `receiver` is linked, so it is valid and registered, and we hold the lock.
            match unsafe { claim_of(receiver) } {
                // Only its own select's sends on offer: nothing for it. (With any other offer it
                // is notified, even if that offer may go to a receive notified earlier: a spare
                // wake-up is harmless, a missing one is not.)
                Some(claim) if self.offers_for(claim) == 0 => {}
                _ => return Some(receiver),
            }
            // SAFETY: as above.
            cursor = unsafe { self.receivers.next(receiver) };
        }
        None
    }

    /// Whether a receive may complete `sender`: yes for a plain send; for a select's arm, only if
    /// the select's claim is won for it.
    ///
    /// # Safety
    ///
    /// `sender` is valid and registered, and the caller holds the lock.
    pub(super) unsafe fn claim_send(sender: NonNull<SendWaiter>) -> bool {
        // SAFETY: per the caller.
        let (node, claim) = unsafe { (sender.as_ref(), sender.as_ref().slot().select) };
        match claim {
            None => true,
            // SAFETY: a registered arm's claim is valid (a select withdraws its arms before its
            // claim goes away).
            Some(claim) => unsafe { claim.as_ref() }.try_claim(node.addr()),
        }
    }

    /// Hands an unlinked select send arm back to its owner unstarted, message inside: its select
    /// is busy or already decided, so it may not complete now. An owner that goes on waiting
    /// registers it again; one that is done withdraws it and gets the message back.
    ///
    /// # Safety
    ///
    /// `sender` is valid, registered and no longer linked, and the caller holds the lock.
    pub(super) unsafe fn prune_send(sender: NonNull<SendWaiter>) {
        // SAFETY: per the caller. The message stays in the node's cell: `Init` holds it too.
        unsafe {
            debug_assert_eq!(sender.as_ref().state(), Sending::WaitingForReceiver);
            sender.as_ref().set_state(Sending::Init);
        }
        // SAFETY: per the caller; nothing touches the node after this.
        unsafe { SendWaiter::release(sender) };
    }

    /// Unlinks, from the front of the receivers' list, the arms of selects that another arm already
    /// won (their owners are withdrawing them), so that the front is a receive that may still take
    /// a message. Such arms further back are pruned when `dispatch` reaches them.
    pub(super) fn prune_decided_receivers(&mut self) {
        while let Some(first) = self.receivers.front() {
            // SAFETY: `first` is linked, so it is valid and registered, and we hold the lock.
            let claim = unsafe { claim_of(first) };
            // SAFETY: a registered arm's claim is valid.
            if !claim.is_some_and(|claim| unsafe { claim.as_ref() }.is_decided()) {
                return;
            }
            // SAFETY: as above.
            unsafe { first.as_ref().set_state(Receiving::Init) };
            self.receivers.pop_front();
            // SAFETY: it was linked and registered; nothing touches it after this.
            unsafe { RecvWaiter::release(first) };
        }
    }
}

/// The claim of the select `node` is an arm of, if any.
///
/// # Safety
///
/// `node` is valid and registered, and the caller holds the lock.
pub(super) unsafe fn claim_of<S>(node: NonNull<Waiter<S>>) -> Option<NonNull<Claim>> {
    // SAFETY: per the caller.
    unsafe { node.as_ref().slot() }.select
}
