//! The critical sections of the send and receive polls: what a poll does to the exchange under
//! the lock (registering, taking an offer, waiting again first in line, reading a finished
//! send's outcome). Moved out of `exchange.rs`, which keeps the state, the invariant and how
//! offers move (`take_offer`, the handoff to a blocked receive, `dispatch`); `operations.rs`
//! runs these under the lock.

use core::ptr::NonNull;
use core::task::{Context, Poll, Waker};

#[cfg(doc)]
use super::RawCore;
use super::{Exchange, Unsent};
use crate::error::RecvError;
use crate::message::Msgs;
use crate::waiter::{Receiving, RecvWaiter, SendWaiter, Sending, Waiter};
use crate::wake::{NeedWaker, WakeBatch};

impl Exchange {
    /// [`RawCore::poll_send`]'s critical section, for the send whose node is `node` (a
    /// [`SendNode`](crate::message::SendNode)'s pointer). `Err(NeedWaker)` (nothing changed) if
    /// the send must go on waiting with a waker it has no clone of.
    ///
    /// # Safety
    ///
    /// `node` is a pinned send node of this channel's type, with the whole node's provenance,
    /// that its owner withdraws (`cancel_send`) before dropping it; the caller holds the lock.
    pub(super) unsafe fn poll_send(
        &mut self,
        node: NonNull<SendWaiter>,
        cx: &Context<'_>,
        spare: &mut Option<Waker>,
        msgs: Msgs,
        wakes: &mut WakeBatch,
    ) -> Result<Poll<Result<(), Unsent>>, NeedWaker> {
        // SAFETY: per the caller.
        let waiter = unsafe { node.as_ref() };
        // SAFETY: we hold the lock, and the owner or we alone reach the node.
        let state = unsafe { waiter.state() };
        if state == Sending::Init {
            // The owner put its waker in before the lock (a first poll is unregistered).
            // SAFETY: as above; the slot access ends with the statement.
            wakes.register(&mut unsafe { waiter.slot() }.waker, cx.waker(), spare)?;
            // The message moves out of the node only to leave the send; offered, it stays put.
            if self.closed {
                // SAFETY: as above.
                unsafe { waiter.set_state(Sending::Done) };
                return Ok(Poll::Ready(Err(Unsent)));
            }
            if self.senders.is_empty() {
                // SAFETY: as above.
                let claim = unsafe { waiter.slot() }.select;
                // SAFETY: an `Init` send's cell is full; the caller gave the whole node.
                if unsafe {
                    self.hand_to_blocked_receiver(msgs.send_cell(node), claim, msgs, wakes)
                } {
                    // SAFETY: as above.
                    unsafe { waiter.set_state(Sending::Done) };
                    return Ok(Poll::Ready(Ok(())));
                }
            }
            // SAFETY: as above.
            unsafe { waiter.set_state(Sending::WaitingForReceiver) };
            // SAFETY: the node is pinned, in no list, and its owner unlinks it (in `cancel_send`)
            // before it can be dropped.
            unsafe { self.senders.push_back(node) };
            waiter.set_registered(true);
            // An earlier send may now go to a blocked receive, or a receive is woken; either way
            // this send, not first in line for a blocked receive, keeps waiting.
            self.dispatch(msgs, wakes);
            tell_place_in_line(waiter, self.senders.front() == Some(node));
            return Ok(Poll::Pending);
        }
        match state {
            Sending::WaitingForReceiver => {
                // SAFETY: as above.
                wakes.register(&mut unsafe { waiter.slot() }.waker, cx.waker(), spare)?;
                Ok(Poll::Pending)
            }
            // A receive or `close` finished it (and released it) since the owner's check.
            Sending::ReceiverFinishedFirst => {
                // SAFETY: as above.
                unsafe { waiter.set_state(Sending::Done) };
                Ok(Poll::Ready(Ok(())))
            }
            Sending::Disconnected => {
                // SAFETY: as above.
                unsafe { waiter.set_state(Sending::Done) };
                Ok(Poll::Ready(Err(Unsent)))
            }
            Sending::Init | Sending::Done => {
                unreachable!("rendez: a started send is waiting or finished")
            }
        }
    }

    /// [`RawCore::poll_recv`]'s critical section, for the receive whose node is `node` (a
    /// [`RecvNode`](crate::message::RecvNode)'s pointer), taking a message into the empty cell
    /// `out` (`Ready(Ok(()))`). `Err(NeedWaker)` (nothing changed that matters: a notified receive
    /// is notified again) if the receive must wait with a waker it has no clone of.
    ///
    /// # Safety
    ///
    /// As for [`Exchange::poll_send`], for a receive node; `out` is an empty cell of this
    /// channel's type that the caller may fill.
    pub(super) unsafe fn poll_recv(
        &mut self,
        node: NonNull<RecvWaiter>,
        out: NonNull<u8>,
        cx: &Context<'_>,
        spare: &mut Option<Waker>,
        msgs: Msgs,
        wakes: &mut WakeBatch,
    ) -> Result<Poll<Result<(), RecvError>>, NeedWaker> {
        // SAFETY: per the caller.
        let waiter = unsafe { node.as_ref() };
        // `Notified` or `Alerted` if it was woken for an offer (and so is first in line).
        let mut was_notified = None;
        if waiter.is_registered() {
            // SAFETY: we hold the lock, and the node is ours to touch in it.
            match unsafe { waiter.state() } {
                Receiving::WaitingForSender => {
                    // Still linked, and by the invariant nothing is offered to it yet.
                    // SAFETY: as above.
                    wakes.register(&mut unsafe { waiter.slot() }.waker, cx.waker(), spare)?;
                    return Ok(Poll::Pending);
                }
                Receiving::SenderFinishedFirst => {
                    // SAFETY: as above; the sender filled the node's cell.
                    unsafe {
                        msgs.move_msg(msgs.recv_cell(node), out);
                        waiter.set_state(Receiving::Init);
                    }
                    waiter.set_registered(false);
                    return Ok(Poll::Ready(Ok(())));
                }
                Receiving::Notified => {
                    self.notified -= 1;
                    was_notified = Some(Receiving::Notified);
                }
                Receiving::Alerted => was_notified = Some(Receiving::Alerted),
                Receiving::Disconnected | Receiving::Init => {}
            }
            // SAFETY: as above.
            unsafe { waiter.set_state(Receiving::Init) };
            waiter.set_registered(false);
        }
        // Not linked now: take an offer no earlier receive is waiting for, or wait. An alerted
        // stream takes any offer: the receive notified with it finds none and waits again, first
        // in line. (The offers counted may all turn out to be pruned select arms: then there is
        // none.)
        let alerted = was_notified == Some(Receiving::Alerted);
        if self.has_unclaimed_offer() || (alerted && self.offered() > 0) {
            // SAFETY: as above.
            let claim = unsafe { waiter.slot() }.select;
            // SAFETY: `out` is empty and ours, per the caller.
            if unsafe { self.take_offer(claim, out, msgs, wakes) } {
                return Ok(Poll::Ready(Ok(())));
            }
        }
        if self.closed {
            // No receive may report the disconnection while the held message is undelivered
            // (rule 6), so after close whoever polls first takes it; the receive that was woken
            // for it then finds nothing and reports the disconnection itself.
            if !self.held {
                return Ok(Poll::Ready(Err(RecvError)));
            }
            self.held = false;
            // SAFETY: the held cell is full while `held` was set; `out` is empty and ours.
            unsafe { msgs.move_msg(msgs.held(), out) };
            return Ok(Poll::Ready(Ok(())));
        }
        // SAFETY: as above.
        if let Err(need) = wakes.register(&mut unsafe { waiter.slot() }.waker, cx.waker(), spare) {
            if let Some(state) = was_notified {
                // Back as it was: woken, unlinked (and counted if notified). Pruning offers above
                // changed nothing it could have taken.
                if state == Receiving::Notified {
                    self.notified += 1;
                }
                // SAFETY: as above.
                unsafe { waiter.set_state(state) };
                waiter.set_registered(true);
            }
            return Err(need);
        }
        // SAFETY: as above.
        unsafe { waiter.set_state(Receiving::WaitingForSender) };
        // SAFETY: the node is pinned, in no list, and its owner unlinks it (in `cancel_recv`)
        // before it can be dropped.
        unsafe {
            if was_notified.is_some() {
                // The offer it was woken for was withdrawn or taken by another; it keeps its
                // place in line.
                self.receivers.push_front(node);
            } else {
                self.receivers.push_back(node);
            }
        }
        waiter.set_registered(true);
        // A select's receive arm may have passed over offers that are its own select's sends; a
        // receive behind it may take those (and normally there is nothing to do here).
        self.dispatch(msgs, wakes);
        tell_place_in_line(waiter, self.receivers.front() == Some(node));
        Ok(Poll::Pending)
    }
}

/// Tells a blocked thread that just registered `waiter` whether it is first in line: only the
/// waiter a peer serves next can gain by spinning (`crate::spin`). Nothing without `std`, where
/// no thread blocks.
#[inline]
fn tell_place_in_line<S>(waiter: &Waiter<S>, first: bool) {
    #[cfg(all(feature = "std", not(rendez_loom)))]
    if waiter.is_blocking() {
        crate::spin::note_place_in_line(first);
    }
    let _ = (waiter, first);
}
