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

use core::pin::Pin;
use core::ptr::NonNull;
use core::task::{Context, Poll, Waker};

use crate::error::{RecvError, SendError};
use crate::list::{CountedList, WaitList};
use crate::select::claim::Claim;
use crate::waiter::{CloseWaiter, Receiving, RecvWaiter, SendWaiter, Sending, Watching};
use crate::wake::{NeedWaker, WakeBatch, CLOSE_BATCH};

mod operations;
mod select_arms;
pub(crate) use operations::Core;
use select_arms::claim_of;

/// The state every party shares, guarded by the channel lock.
pub(crate) struct Exchange<T> {
    /// Sends waiting for a receive, each with its message in its node, oldest first.
    senders: CountedList<Sending<T>>,
    /// Receives waiting for a message, oldest first.
    receivers: WaitList<Receiving<T>>,
    /// `closed()` futures waiting for the channel to close.
    watchers: WaitList<Watching>,
    /// A message from `try_send`, kept for the async receive that was woken for it (rule 5).
    held: Option<T>,
    /// Receives in [`Receiving::Notified`]: woken for an offer, not yet polled.
    notified: usize,
    /// Set once by `close` (or the last drop of either side); never cleared.
    closed: bool,
}

// SAFETY: the exchange holds pointers to waiter nodes, which are only followed under the lock,
// and messages of type `T`, which move between threads (hence `T: Send`).
unsafe impl<T: Send> Send for Exchange<T> {}

impl<T> Exchange<T> {
    /// Messages on offer: waiting sends plus the held `try_send` message.
    fn offered(&self) -> usize {
        self.senders.len() + usize::from(self.held.is_some())
    }

    /// Whether a receive that is not already counted in `notified` may take a message now.
    fn has_unclaimed_offer(&self) -> bool {
        self.offered() > self.notified
    }

    /// Takes the next message on offer: the held one first, else the first waiting send's, which is
    /// unlinked, completed and queued to be woken. A send that is a select's arm is taken only if
    /// the select's claim is won for it; otherwise it is pruned (see [`Exchange::prune_send`]) and
    /// the next one is tried. `taker` is the claim of a receive arm taking: a select never pairs
    /// with itself, so its own send arms are passed over (left in place). `None` if nothing is
    /// left on offer for the taker.
    fn take_offer(&mut self, taker: Option<NonNull<Claim>>, wakes: &mut WakeBatch) -> Option<T> {
        // (`take` only when there is one: it copies the whole `Option`, message-sized, either way.)
        if self.held.is_some() {
            return self.held.take();
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
            let msg = {
                // SAFETY: as above.
                let mut slot = unsafe { sender.as_ref().slot() };
                wakes.push(slot.waker.take());
                slot.state.take_msg(Sending::ReceiverFinishedFirst)
            };
            debug_assert!(msg.is_some(), "rendez: a linked send holds its message");
            // SAFETY: `sender` was linked, so it is valid, and nothing here touches it again.
            unsafe { SendWaiter::release(sender) };
            return msg;
        }
        None
    }

    /// Hands `msg` straight to the first waiting receive if that is a blocked thread (which cannot
    /// be cancelled, so it may take the message at once). Gives `msg` back otherwise. `sender` is
    /// the claim of a select's send arm: the select's own receive arms are passed over.
    fn hand_to_blocked_receiver(
        &mut self,
        msg: T,
        sender: Option<NonNull<Claim>>,
        wakes: &mut WakeBatch,
    ) -> Result<(), T> {
        match self.blocked_receiver_for(sender) {
            Some(receiver) => {
                self.hand_to(receiver, msg, wakes);
                Ok(())
            }
            None => Err(msg),
        }
    }

    /// The first waiting receive, if it is a blocked thread that a send (a select's arm if
    /// `sender` is its claim) may hand its message to: see [`Exchange::hand_to_blocked_receiver`].
    fn blocked_receiver_for(
        &mut self,
        sender: Option<NonNull<Claim>>,
    ) -> Option<NonNull<RecvWaiter<T>>> {
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
    /// [`Exchange::blocked_receiver_for`], hands it `msg` and queues its wake-up.
    fn hand_to(&mut self, receiver: NonNull<RecvWaiter<T>>, msg: T, wakes: &mut WakeBatch) {
        // SAFETY: `receiver` is linked (found just now under this lock), so it is valid.
        unsafe { self.receivers.remove(receiver) };
        // SAFETY: it was linked, so it is valid and registered, and we hold the lock.
        let mut slot = unsafe { receiver.as_ref().slot() };
        slot.state = Receiving::SenderFinishedFirst(msg);
        wakes.push(slot.waker.take());
    }

    /// Restores the invariant after an offer was added or a notified receive left: wakes waiting
    /// receives, oldest first, while offers outnumber notified receives.
    fn dispatch(&mut self, wakes: &mut WakeBatch) {
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
            if unsafe { receiver.as_ref() }.is_blocking() {
                // Select arms are never blocking nodes, so only the sender can be a select's.
                let Some(msg) = self.take_offer(None, wakes) else {
                    // Every offer left was a pruned select arm: the receive keeps its place.
                    // SAFETY: it was first in line a moment ago and is in no list now.
                    unsafe { self.receivers.push_front(receiver) };
                    return;
                };
                // SAFETY: as above.
                let mut slot = unsafe { receiver.as_ref().slot() };
                slot.state = Receiving::SenderFinishedFirst(msg);
                wakes.push(slot.waker.take());
            } else {
                // SAFETY: as above.
                let mut slot = unsafe { receiver.as_ref().slot() };
                // A stream may not be polled for a long time, so it is only alerted: the loop goes
                // on and notifies the next receive too, and whoever polls first takes the offer.
                // (While the batch has room for that receive's wakes; past that, a stream is
                // notified and holds the turn like any receive.)
                // SAFETY: as above.
                if unsafe { receiver.as_ref() }.is_stream() && wakes.room() > 2 {
                    slot.state = Receiving::Alerted;
                } else {
                    slot.state = Receiving::Notified;
                    self.notified += 1;
                }
                wakes.push(slot.waker.take());
            }
        }
    }

    /// [`Core::poll_send`]'s critical section. `Err(NeedWaker)` (nothing changed) if the send must
    /// go on waiting with a waker it has no clone of.
    fn poll_send(
        &mut self,
        waiter: Pin<&SendWaiter<T>>,
        cx: &Context<'_>,
        spare: &mut Option<Waker>,
        wakes: &mut WakeBatch,
    ) -> Result<Poll<Result<(), SendError<T>>>, NeedWaker> {
        // SAFETY: we hold the lock, and this is the only reference to the slot in this section.
        let mut slot = unsafe { waiter.slot() };
        if let Sending::Init(_) = slot.state {
            // The owner put its waker in before the lock (a first poll is unregistered).
            wakes.register(&mut slot.waker, cx.waker(), spare)?;
            // The message moves out of the node only to leave the send; offered, it stays put.
            if self.closed {
                let msg = slot
                    .state
                    .take_msg(Sending::Done)
                    .expect("rendez: matched above");
                return Ok(Poll::Ready(Err(SendError(msg))));
            }
            if self.senders.is_empty() {
                if let Some(receiver) = self.blocked_receiver_for(slot.select) {
                    let msg = slot
                        .state
                        .take_msg(Sending::Done)
                        .expect("rendez: matched above");
                    self.hand_to(receiver, msg, wakes);
                    return Ok(Poll::Ready(Ok(())));
                }
            }
            slot.state.relabel(true);
            // The walks below may reach this node: end this access first.
            drop(slot);
            // SAFETY: the node is pinned, in no list, and its owner unlinks it (in `cancel_send`)
            // before it can be dropped.
            unsafe { self.senders.push_back(NonNull::from(&*waiter)) };
            waiter.set_registered(true);
            // An earlier send may now go to a blocked receive, or a receive is woken; either way
            // this send, not first in line for a blocked receive, keeps waiting.
            self.dispatch(wakes);
            return Ok(Poll::Pending);
        }
        if let Sending::WaitingForReceiver(_) = slot.state {
            wakes.register(&mut slot.waker, cx.waker(), spare)?;
            return Ok(Poll::Pending);
        }
        // A receive or `close` finished it (and released it) since the owner's check.
        Ok(match core::mem::replace(&mut slot.state, Sending::Done) {
            Sending::ReceiverFinishedFirst => Poll::Ready(Ok(())),
            Sending::Disconnected(msg) => Poll::Ready(Err(SendError(msg))),
            _ => unreachable!("rendez: a started send is waiting or finished"),
        })
    }

    /// [`Core::poll_recv`]'s critical section. `Err(NeedWaker)` (nothing changed that matters:
    /// a notified receive is notified again) if the receive must wait with a waker it has no
    /// clone of.
    fn poll_recv(
        &mut self,
        waiter: Pin<&RecvWaiter<T>>,
        cx: &Context<'_>,
        spare: &mut Option<Waker>,
        wakes: &mut WakeBatch,
    ) -> Result<Poll<Result<T, RecvError>>, NeedWaker> {
        // SAFETY: we hold the lock, and this is the only reference to the slot in this section.
        let mut slot = unsafe { waiter.slot() };
        // `Notified` or `Alerted` if it was woken for an offer (and so is first in line).
        let mut was_notified = None;
        if waiter.is_registered() {
            match core::mem::replace(&mut slot.state, Receiving::Init) {
                Receiving::WaitingForSender => {
                    // Still linked, and by the invariant nothing is offered to it yet.
                    slot.state = Receiving::WaitingForSender;
                    wakes.register(&mut slot.waker, cx.waker(), spare)?;
                    return Ok(Poll::Pending);
                }
                Receiving::SenderFinishedFirst(msg) => {
                    waiter.set_registered(false);
                    return Ok(Poll::Ready(Ok(msg)));
                }
                Receiving::Notified => {
                    self.notified -= 1;
                    was_notified = Some(Receiving::Notified);
                }
                Receiving::Alerted => was_notified = Some(Receiving::Alerted),
                Receiving::Disconnected | Receiving::Init => {}
            }
            waiter.set_registered(false);
        }
        // Not linked now: take an offer no earlier receive is waiting for, or wait. An alerted
        // stream takes any offer: the receive notified with it finds none and waits again, first
        // in line. (The offers counted may all turn out to be pruned select arms: then there is
        // none.)
        let alerted = matches!(was_notified, Some(Receiving::Alerted));
        if self.has_unclaimed_offer() || (alerted && self.offered() > 0) {
            if let Some(msg) = self.take_offer(slot.select, wakes) {
                return Ok(Poll::Ready(Ok(msg)));
            }
        }
        if self.closed {
            // No receive may report the disconnection while the held message is undelivered
            // (rule 6), so after close whoever polls first takes it; the receive that was woken
            // for it then finds nothing and reports the disconnection itself.
            return Ok(Poll::Ready(self.held.take().ok_or(RecvError)));
        }
        if let Err(need) = wakes.register(&mut slot.waker, cx.waker(), spare) {
            if let Some(state) = was_notified {
                // Back as it was: woken, unlinked (and counted if notified). Pruning offers above
                // changed nothing it could have taken.
                if let Receiving::Notified = state {
                    self.notified += 1;
                }
                slot.state = state;
                waiter.set_registered(true);
            }
            return Err(need);
        }
        slot.state = Receiving::WaitingForSender;
        // The walks below may reach this node: end this access first.
        drop(slot);
        let node = NonNull::from(&*waiter);
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
        self.dispatch(wakes);
        Ok(Poll::Pending)
    }

    /// [`Core::poll_closed`]'s critical section.
    fn poll_closed(
        &mut self,
        waiter: Pin<&CloseWaiter>,
        cx: &Context<'_>,
        spare: &mut Option<Waker>,
        wakes: &mut WakeBatch,
    ) -> Result<Poll<()>, NeedWaker> {
        // SAFETY: we hold the lock, and this is the only reference to the slot in this section.
        let mut slot = unsafe { waiter.slot() };
        match slot.state {
            // `close` released it since the owner's check.
            Watching::Closed => return Ok(Poll::Ready(())),
            Watching::WaitingForClose => {
                wakes.register(&mut slot.waker, cx.waker(), spare)?;
                return Ok(Poll::Pending);
            }
            Watching::Init if self.closed => {
                slot.state = Watching::Closed;
                return Ok(Poll::Ready(()));
            }
            Watching::Init => {}
        }
        // The owner put its waker in before the lock (a first poll is unregistered).
        wakes.register(&mut slot.waker, cx.waker(), spare)?;
        slot.state = Watching::WaitingForClose;
        drop(slot);
        // SAFETY: the node is pinned, in no list, and its owner unlinks it (in `cancel_closed`)
        // before it can be dropped.
        unsafe { self.watchers.push_back(NonNull::from(&*waiter)) };
        waiter.set_registered(true);
        Ok(Poll::Pending)
    }

    /// Unlinks every waiter, marking it disconnected, until `wakes` is full. Returns whether no
    /// waiter is left.
    fn disconnect_waiters(&mut self, wakes: &mut WakeBatch<CLOSE_BATCH>) -> bool {
        while !wakes.is_full() {
            if let Some(sender) = self.senders.pop_front() {
                {
                    // SAFETY: `sender` was linked, so it is valid and registered; we hold the lock.
                    let mut slot = unsafe { sender.as_ref().slot() };
                    let state = core::mem::replace(&mut slot.state, Sending::Done);
                    slot.state = match state {
                        Sending::WaitingForReceiver(msg) => Sending::Disconnected(msg),
                        _ => unreachable!("rendez: a linked send holds its message"),
                    };
                    wakes.push(slot.waker.take());
                }
                // SAFETY: `sender` was linked, so it is valid, and nothing here touches it again.
                unsafe { SendWaiter::release(sender) };
            } else if let Some(receiver) = self.receivers.pop_front() {
                // SAFETY: as above, for a receive.
                let mut slot = unsafe { receiver.as_ref().slot() };
                slot.state = Receiving::Disconnected;
                wakes.push(slot.waker.take());
            } else if let Some(watcher) = self.watchers.pop_front() {
                {
                    // SAFETY: as above, for a watcher.
                    let mut slot = unsafe { watcher.as_ref().slot() };
                    slot.state = Watching::Closed;
                    wakes.push(slot.waker.take());
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
