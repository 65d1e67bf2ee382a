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
//! What only select needs (claiming and pruning a select's arms, counting the offers an arm may
//! take) is in `exchange/select_arms.rs`. The lock-taking side, [`Core`] (each operation clones
//! wakers before the lock, runs one critical section of this file under it, and wakes after it),
//! is in `exchange/operations.rs`: it grew to half of this file with `closed()`, the owned
//! futures and select's deferred wake-ups. This file keeps the state under the lock: the lists,
//! dispatch and the critical sections of the polls.
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
//! functions, which is where the flash is saved.

use core::ptr::NonNull;
use core::task::{Context, Poll, Waker};

use crate::error::RecvError;
use crate::list::{CountedList, WaitList};
use crate::message::Msgs;
use crate::select::claim::Claim;
use crate::waiter::{CloseWaiter, Receiving, RecvWaiter, SendWaiter, Sending, Watching};
use crate::wake::{NeedWaker, WakeBatch, CLOSE_BATCH};

mod operations;
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
pub(crate) struct Exchange {
    /// Sends waiting for a receive, each with its message in its node, oldest first.
    senders: CountedList<Sending>,
    /// Receives waiting for a message, oldest first.
    receivers: WaitList<Receiving>,
    /// `closed()` futures waiting for the channel to close.
    watchers: WaitList<Watching>,
    /// Whether the channel's held cell holds a message from `try_send`, kept for the async
    /// receive that was woken for it (rule 5).
    held: bool,
    /// Receives in [`Receiving::Notified`]: woken for an offer, not yet polled.
    notified: usize,
    /// Set once by `close` (or the last drop of either side); never cleared.
    closed: bool,
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

    /// [`RawCore::poll_send`]'s critical section, for the send whose node is `node` (a
    /// [`SendNode`](crate::message::SendNode)'s pointer). `Err(NeedWaker)` (nothing changed) if
    /// the send must go on waiting with a waker it has no clone of.
    ///
    /// # Safety
    ///
    /// `node` is a pinned send node of this channel's type, with the whole node's provenance,
    /// that its owner withdraws (`cancel_send`) before dropping it; the caller holds the lock.
    unsafe fn poll_send(
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
    unsafe fn poll_recv(
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
        Ok(Poll::Pending)
    }

    /// [`RawCore::poll_closed`]'s critical section.
    ///
    /// # Safety
    ///
    /// As for [`Exchange::poll_send`], for a watcher's node (it holds no message).
    unsafe fn poll_closed(
        &mut self,
        node: NonNull<CloseWaiter>,
        cx: &Context<'_>,
        spare: &mut Option<Waker>,
        wakes: &mut WakeBatch,
    ) -> Result<Poll<()>, NeedWaker> {
        // SAFETY: per the caller.
        let waiter = unsafe { node.as_ref() };
        // SAFETY: we hold the lock, and the node is ours to touch in it.
        match unsafe { waiter.state() } {
            // `close` released it since the owner's check.
            Watching::Closed => return Ok(Poll::Ready(())),
            Watching::WaitingForClose => {
                // SAFETY: as above.
                wakes.register(&mut unsafe { waiter.slot() }.waker, cx.waker(), spare)?;
                return Ok(Poll::Pending);
            }
            Watching::Init if self.closed => {
                // SAFETY: as above.
                unsafe { waiter.set_state(Watching::Closed) };
                return Ok(Poll::Ready(()));
            }
            Watching::Init => {}
        }
        // The owner put its waker in before the lock (a first poll is unregistered).
        // SAFETY: as above.
        wakes.register(&mut unsafe { waiter.slot() }.waker, cx.waker(), spare)?;
        // SAFETY: as above.
        unsafe { waiter.set_state(Watching::WaitingForClose) };
        // SAFETY: the node is pinned, in no list, and its owner unlinks it (in `cancel_closed`)
        // before it can be dropped.
        unsafe { self.watchers.push_back(node) };
        waiter.set_registered(true);
        Ok(Poll::Pending)
    }

    /// Unlinks every waiter, marking it disconnected, until `wakes` is full. Returns whether no
    /// waiter is left. A send's message stays in its node, for its owner to take back.
    fn disconnect_waiters(&mut self, wakes: &mut WakeBatch<CLOSE_BATCH>) -> bool {
        while !wakes.is_full() {
            if let Some(sender) = self.senders.pop_front() {
                // SAFETY: `sender` was linked, so it is valid and registered; we hold the lock.
                unsafe {
                    debug_assert_eq!(sender.as_ref().state(), Sending::WaitingForReceiver);
                    sender.as_ref().set_state(Sending::Disconnected);
                    wakes.push(sender.as_ref().slot().waker.take());
                }
                // SAFETY: `sender` was linked, so it is valid, and nothing here touches it again.
                unsafe { SendWaiter::release(sender) };
            } else if let Some(receiver) = self.receivers.pop_front() {
                // SAFETY: as above, for a receive.
                unsafe {
                    receiver.as_ref().set_state(Receiving::Disconnected);
                    wakes.push(receiver.as_ref().slot().waker.take());
                }
            } else if let Some(watcher) = self.watchers.pop_front() {
                // SAFETY: as above, for a watcher.
                unsafe {
                    watcher.as_ref().set_state(Watching::Closed);
                    wakes.push(watcher.as_ref().slot().waker.take());
                }
                // SAFETY: as above; released like a finished send, so that its owner sees the
                // close without the lock.
                unsafe { CloseWaiter::release(watcher) };
            } else {
                return true;
            }
        }
        false
    }
}
