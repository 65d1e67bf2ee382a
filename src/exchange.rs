//! The shared core: the exchange where sends and receives meet, behind one lock.
//!
//! # How a message moves
//!
//! A send that finds no receive to take its message registers its node, message inside, at the
//! back of the senders' list ([`Sending::WaitingForReceiver`]). A receive *takes* a message only
//! inside the poll that returns it: it moves the message out of the first sender's node, unlinks
//! it ([`Sending::ReceiverFinishedFirst`]) and wakes it. So a send completes only after a receive
//! has taken its message (CONTRACT rule 1).
//!
//! A receive that finds nothing to take registers at the back of the receivers' list
//! ([`Receiving::WaitingForSender`]). When a message is offered, [`Exchange::dispatch`] pops the
//! first waiting receive: an async one is woken ([`Receiving::Notified`]) and takes a message on
//! its next poll; a blocked thread cannot be cancelled, so it is handed the message at once
//! ([`Receiving::SenderFinishedFirst`]).
//!
//! # The invariant
//!
//! *offered* = waiting senders + the held `try_send` message; *notified* = receives woken for an
//! offer that have not polled yet. After every critical section:
//!
//! > `offered <= notified` or no receive is waiting.
//!
//! So every offer has a receive on its way, receives are served in the order they waited (a new
//! receive may take a message only when `offered > notified`, which means no one is waiting), and
//! a notified receive that is cancelled passes its turn on by re-running `dispatch`.
//!
//! Two takers go ahead of a notified receive on purpose: `try_recv`, which cannot wait, and, once
//! the channel is closed, any receive finding the held message (no receive may report the
//! disconnection while it is undelivered). The notified receive then finds nothing and waits
//! again, first in line, or reports the disconnection.
//!
//! The exchange's files, one role each:
//! - this file: the state under the lock, the invariant, and how offers move (`take_offer`, the
//!   handoff to a blocked receive, `dispatch`);
//! - `exchange/polls.rs`: the critical sections of the send and receive polls;
//! - `exchange/select_arms.rs`: what only select needs (claiming and pruning a select's arms,
//!   counting the offers an arm may take);
//! - `exchange/close.rs`: closing, both layers: the `closed()` watchers and the disconnect;
//! - `exchange/operations.rs`: the lock-taking side, [`RawCore`] (each operation clones wakers
//!   before the lock, runs one critical section under it, and wakes after it);
//! - `exchange/typed.rs`: the typed [`Core`] every handle and future holds.
//!
//! # Compiled once for every message type
//!
//! Nothing here depends on the message type: the nodes' states carry no message, and a message
//! moves between *message cells* (a send's node, a blocked receive's node, the held cell, the
//! receiving call's stack) through the [`Msgs`] a critical section is given (see
//! `message.rs`). `Exchange` and `RawCore` are generic over the lock at most; the typed `Core`
//! in `exchange/typed.rs` is what every handle and future holds, and its methods are the few
//! instructions that put a message in and take it out. On a microcontroller that is the difference
//! between one copy of the exchange per message type and one per program.
//!
//! The same code serves hosts, where speed counts more than size: there the hot helpers that the
//! polls and drops call (`take_offer`, `dispatch`, a future's drop) are marked
//! `#[cfg_attr(not(target_os = "none"), inline)]`, so the compiler copies them into each caller as
//! it did when everything was generic; on bare metal (`target_os = "none"`) they stay single
//! functions, which is where the flash is saved. A few more are kept out of line on bare metal
//! only (`#[cfg_attr(target_os = "none", inline(never))]`): the receive's lock-taking poll and
//! the send's withdrawal, which the compiler would otherwise copy into every message type's
//! futures, and the list's `remove` and the waker registration, which several critical sections
//! share. Each was kept only where `.ci/flash-size` showed it pay.

use core::ptr::NonNull;

use crate::list::{CountedList, WaitList};
use crate::message::Msgs;
use crate::select::claim::Claim;
use crate::waiter::{Receiving, RecvWaiter, SendWaiter, Sending, Watching};
use crate::wake::WakeBatch;

mod close;
mod operations;
mod polls;
mod select_arms;
mod typed;
pub(crate) use operations::RawCore;
use select_arms::claim_of;
pub(crate) use typed::Core;

/// A send the channel closed on: it is over (`Done`), and its message is still in its node's cell,
/// for the owner to take back.
#[derive(Debug)]
pub(crate) struct Unsent;

/// The state every party shares, guarded by the channel lock.
///
/// On hosts `repr(C)`, the fields every operation touches first: with the lock before them (see
/// `lock::Mutex`) they share one cache line when the channel starts on one, as the counted
/// handles' allocation does (`channel::Shared`), and the `closed()` watchers, which few operations
/// touch, come last. (Not on bare metal, where no other core shares the line and the compiler's
/// own order made the further message types' code smaller: `.ci/flash-size`.)
#[cfg_attr(not(target_os = "none"), repr(C))]
pub(crate) struct Exchange {
    /// Sends waiting for a receive, each with its message in its node, oldest first.
    senders: CountedList<Sending>,
    /// Receives waiting for a message, oldest first.
    receivers: WaitList<Receiving>,
    /// Receives in [`Receiving::Notified`]: woken for an offer, not yet polled.
    notified: usize,
    /// Whether the channel's held cell holds a message from `try_send`, kept for the async
    /// receive that was woken for it (rule 5).
    held: bool,
    /// Set once by `close` (or the last drop of either side); never cleared.
    closed: bool,
    /// `closed()` futures waiting for the channel to close.
    watchers: WaitList<Watching>,
}

// SAFETY: the exchange holds pointers to waiter nodes, which are only followed under the lock.
// (Messages move between threads through it: the typed `Core` is `Send` only if `T: Send`.)
unsafe impl Send for Exchange {}

impl Exchange {
    /// Messages on offer: waiting sends plus the held `try_send` message.
    fn offered(&self) -> usize {
        self.senders.len() + usize::from(self.held)
    }

    /// Whether a receive that is not already counted in `notified` may take a message now.
    fn has_unclaimed_offer(&self) -> bool {
        self.offered() > self.notified
    }

    /// Takes the next message on offer into the empty cell `to`: the held one first, else the
    /// first waiting send's, which is unlinked, completed and queued to be woken. A send that is
    /// a select's arm is taken only if the select's claim is won for it; otherwise it is pruned
    /// (see [`Exchange::prune_send`]) and the next one is tried. `taker` is the claim of a receive
    /// arm taking: a select never pairs with itself, so its own send arms are passed over (left in
    /// place). `false`, with `to` still empty, if nothing is left on offer for the taker.
    ///
    /// # Safety
    ///
    /// `to` is an empty cell of this channel's type that the caller may fill.
    #[cfg_attr(not(target_os = "none"), inline)]
    unsafe fn take_offer(
        &mut self,
        taker: Option<NonNull<Claim>>,
        to: NonNull<u8>,
        msgs: Msgs,
        wakes: &mut WakeBatch,
    ) -> bool {
        if self.held {
            self.held = false;
            // SAFETY: the held cell is full while `held` was set, and we hold the lock.
            unsafe { msgs.move_msg(msgs.held(), to) };
            return true;
        }
        let mut cursor = self.senders.front();
        while let Some(sender) = cursor {
            // SAFETY: `sender` is linked, so it is valid and registered, and we hold the lock.
            cursor = unsafe { self.senders.next(sender) };
            if taker.is_some() && unsafe { claim_of(sender) } == taker {
                continue;
            }
            // SAFETY: as above.
            unsafe { self.senders.remove(sender) };
            // SAFETY: as above (now unlinked, still registered).
            if !unsafe { Self::claim_send(sender) } {
                // SAFETY: as above.
                unsafe { Self::prune_send(sender) };
                continue;
            }
            // SAFETY: as above; a linked send's cell is full (`WaitingForReceiver`), and the
            // linked pointer has the whole node's provenance.
            unsafe {
                wakes.push(sender.as_ref().slot().waker.take());
                msgs.move_msg(msgs.send_cell(sender), to);
                sender.as_ref().set_state(Sending::ReceiverFinishedFirst);
            }
            // SAFETY: `sender` was linked, so it is valid, and nothing here touches it again.
            unsafe { SendWaiter::release(sender) };
            return true;
        }
        false
    }

    /// Moves the message in cell `from` straight to the first waiting receive if that is a
    /// blocked thread (which cannot be cancelled, so it may take the message at once): `true`.
    /// `false`, the message left in `from`, otherwise. `sender` is the claim of a select's send
    /// arm: the select's own receive arms are passed over.
    ///
    /// # Safety
    ///
    /// `from` is a full cell of this channel's type that the caller may empty.
    #[inline]
    unsafe fn hand_to_blocked_receiver(
        &mut self,
        from: NonNull<u8>,
        sender: Option<NonNull<Claim>>,
        msgs: Msgs,
        wakes: &mut WakeBatch,
    ) -> bool {
        match self.blocked_receiver_for(sender) {
            Some(receiver) => {
                // SAFETY: per the caller.
                unsafe { self.hand_to(receiver, from, msgs, wakes) };
                true
            }
            None => false,
        }
    }

    /// The first waiting receive, if it is a blocked thread that a send (a select's arm if
    /// `sender` is its claim) may hand its message to: see [`Exchange::hand_to_blocked_receiver`].
    #[inline]
    fn blocked_receiver_for(
        &mut self,
        sender: Option<NonNull<Claim>>,
    ) -> Option<NonNull<RecvWaiter>> {
        if !cfg!(feature = "std") {
            // No thread blocks without `std`, so there is none to hand a message to (and the
            // handoff compiles away).
            return None;
        }
        self.prune_decided_receivers();
        let mut first = self.receivers.front();
        while let Some(node) = first {
            // SAFETY: `node` is linked, so it is valid and registered, and we hold the lock.
            if sender.is_none() || unsafe { claim_of(node) } != sender {
                break;
            }
            // SAFETY: as above.
            first = unsafe { self.receivers.next(node) };
        }
        // SAFETY: `first` is linked, so it is valid.
        first.filter(|first| unsafe { first.as_ref() }.is_blocking())
    }

    /// Unlinks `receiver`, a blocked thread's receive found by
    /// [`Exchange::blocked_receiver_for`], moves the message in cell `from` into it and queues its
    /// wake-up.
    ///
    /// # Safety
    ///
    /// As for [`Exchange::hand_to_blocked_receiver`].
    unsafe fn hand_to(
        &mut self,
        receiver: NonNull<RecvWaiter>,
        from: NonNull<u8>,
        msgs: Msgs,
        wakes: &mut WakeBatch,
    ) {
        // SAFETY: `receiver` is linked (found just now under this lock), so it is valid.
        unsafe { self.receivers.remove(receiver) };
        // SAFETY: it was linked, so it is valid and registered, and we hold the lock; a waiting
        // receive's cell is empty; `from` is full, per the caller.
        unsafe {
            msgs.move_msg(from, msgs.recv_cell(receiver));
            receiver.as_ref().set_state(Receiving::SenderFinishedFirst);
            wakes.push(receiver.as_ref().slot().waker.take());
        }
    }

    /// Restores the invariant after an offer was added or a notified receive left: wakes waiting
    /// receives, oldest first, while offers outnumber notified receives.
    #[cfg_attr(not(target_os = "none"), inline)]
    fn dispatch(&mut self, msgs: Msgs, wakes: &mut WakeBatch) {
        while self.has_unclaimed_offer() {
            // An arm of a select that another arm already won is being withdrawn by its owner: the
            // offer goes to the next receive instead of waiting for that.
            self.prune_decided_receivers();
            let Some(receiver) = self.first_receiver_for_offers() else {
                return;
            };
            // SAFETY: `receiver` is linked, so it is valid and registered, and we hold the lock.
            unsafe { self.receivers.remove(receiver) };
            // SAFETY: as above.
            let node = unsafe { receiver.as_ref() };
            if node.is_blocking() {
                // Select arms are never blocking nodes, so only the sender can be a select's.
                // SAFETY: a waiting receive's cell is empty, and we hold the lock.
                if !unsafe { self.take_offer(None, msgs.recv_cell(receiver), msgs, wakes) } {
                    // Every offer left was a pruned select arm: the receive keeps its place.
                    // SAFETY: it was first in line a moment ago and is in no list now.
                    unsafe { self.receivers.push_front(receiver) };
                    return;
                }
                // SAFETY: as above.
                unsafe { node.set_state(Receiving::SenderFinishedFirst) };
            } else if node.is_stream() && wakes.room() > 2 {
                // A stream may not be polled for a long time, so it is only alerted: the loop goes
                // on and notifies the next receive too, and whoever polls first takes the offer.
                // (While the batch has room for that receive's wakes; past that, a stream is
                // notified and holds the turn like any receive.)
                // SAFETY: as above.
                unsafe { node.set_state(Receiving::Alerted) };
            } else {
                // SAFETY: as above.
                unsafe { node.set_state(Receiving::Notified) };
                self.notified += 1;
            }
            // SAFETY: as above.
            wakes.push(unsafe { node.slot() }.waker.take());
        }
    }
}
