//! The waiter node: one per waiting operation, living inside its future (or on the stack of a
//! blocked thread), pinned, and linked into one of the channel's wait lists while it waits.
//!
//! Who may touch what:
//! - `links` belong to the [`WaitList`](crate::list::WaitList) the node is in, under the channel lock.
//! - `slot` (the waker and the claim) and `state` are touched under the channel lock while the
//!   node is *registered*; before registration and after its owner has seen the outcome, only the
//!   owner touches them. The message cell next to a send's or receive's node follows the same
//!   rule (see [`crate::message`]).
//! - `registered` is written by the owner, inside the channel's critical sections once the node
//!   may be shared (an atomic, so that a `Receiver` may withdraw its stream node through `&self`).
//!   A peer that finishes a *send* clears it instead ([`Waiter::release`]), as its last access:
//!   the send's owner then reads the outcome without taking the lock. `close` does the same for
//!   the watchers of `closed()` futures. `owner` never changes.
//! - A peer also clears it when it *prunes* a select's node: it unlinks a node whose select it
//!   may not complete, resets it to its unstarted state and releases it the same way.
//!
//! Select reshaped this node: a node now says which select it belongs to (`Slot::select`), and
//! a receive node can be released by a peer, not only by its owner. The states stayed the same;
//! a pruned node is simply back in `Init`.
//!
//! Compiling the exchange once for every message type reshaped it again: the states no longer
//! carry the message (`Sending::Init(T)` became `Sending::Init` and a full message cell), so this
//! node, the lists and the whole exchange are the same code for every `T`; the typed nodes in
//! `message.rs` put a message cell next to it.

use core::marker::PhantomPinned;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;
use core::task::Waker;

use crate::select::claim::Claim;
use crate::sync::{const_fn_unless_loom, AtomicBool, CellMut, Ordering, UnsafeCell};

/// The state of a send, the sender's half of the seed's exchange slot. The message itself is in
/// the node's message cell ([`SendNode`](crate::message::SendNode)), which is full exactly in the
/// states that [`Sending::holds_msg`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sending {
    /// Not yet offered: the future alone holds the message.
    /// → `WaitingForReceiver` when it registers; → `Disconnected` if the channel is closed.
    Init,
    /// In the senders' list with its message, waiting for a receive to take it.
    /// → `ReceiverFinishedFirst` when a receive takes it; → `Disconnected` on close.
    WaitingForReceiver,
    /// A receive took the message, unlinked the node and released it to its owner; the send
    /// completes on its next poll, without the lock. → `Done`.
    ReceiverFinishedFirst,
    /// The channel closed while the message waited (or before it was offered); the message goes
    /// back to the sender. → `Done`.
    Disconnected,
    /// The outcome was returned (or the future was cancelled); the cell is empty.
    Done,
}

impl Sending {
    /// Whether the node's message cell holds the message in this state.
    pub(crate) fn holds_msg(self) -> bool {
        matches!(
            self,
            Sending::Init | Sending::WaitingForReceiver | Sending::Disconnected
        )
    }
}

/// The state of a receive, the receiver's half of the seed's exchange slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Receiving {
    /// Not waiting. → `WaitingForSender` when it registers.
    Init,
    /// In the receivers' list, waiting for a message to be offered.
    /// → `Notified` (async) or `SenderFinishedFirst` (blocking) when one is; → `Disconnected`.
    WaitingForSender,
    /// Unlinked and woken because a message is offered (a waiting send or the held `try_send`
    /// message). The receive takes it on its next poll; counted in `Exchange::notified`.
    /// → `Init` when polled or cancelled (the turn passes on).
    Notified,
    /// Streams only: unlinked and woken for an offer *without* reserving it, so that a stream
    /// that is not being polled holds no one back: the next receive was notified as well, and
    /// whoever polls first takes the offer. → `Init` when polled or cancelled (no turn to pass).
    Alerted,
    /// Blocking receivers only: a sender handed the message over directly, into the node's
    /// message cell ([`RecvNode`](crate::message::RecvNode)), and unlinked the node.
    /// → `Init` when the owner takes it.
    SenderFinishedFirst,
    /// Unlinked because the channel closed. → `Init`.
    Disconnected,
}

/// The state of a `closed()` future: a watcher that waits for the channel to close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Watching {
    /// Not waiting. → `WaitingForClose` when it registers; → `Closed` if the channel is closed.
    Init,
    /// In the watchers' list. → `Closed` when the channel closes.
    WaitingForClose,
    /// The channel closed: unlinked and released by `close` (or found closed). Final.
    Closed,
}

/// The links of a node in a [`WaitList`](crate::list::WaitList).
pub(crate) struct Links<S> {
    /// The node before this one, nearer the front; stale while this node is the list's head.
    pub(crate) prev: Option<NonNull<Waiter<S>>>,
    /// The node after this one, nearer the back.
    pub(crate) next: Option<NonNull<Waiter<S>>>,
}

/// What a waiter shares with the channel besides its state: the waker to wake it with, and the
/// select it is an arm of.
pub(crate) struct Slot {
    /// The waker of the latest poll; taken by whoever completes or notifies the waiter.
    pub(crate) waker: Option<Waker>,
    /// For an arm of a select, its claim: a peer completes this node only after winning the
    /// claim for it, and prunes it otherwise (see [`crate::select::claim`]). Set by the owner
    /// while the node is unregistered; valid while it is registered.
    pub(crate) select: Option<NonNull<Claim>>,
}

/// A pinned node for one waiting operation. It does not depend on the message type: a send's or
/// receive's message is in a cell next to it (see [`crate::message`]).
pub(crate) struct Waiter<S> {
    /// List links, owned by the list the node is in.
    links: UnsafeCell<Links<S>>,
    /// Waker and claim; see the module docs for who may touch them when. Dropped by
    /// [`drop_slot`], one function for every node, rather than by drop glue in every future.
    slot: UnsafeCell<ManuallyDrop<Slot>>,
    /// Where the operation stands (a [`Sending`], [`Receiving`] or [`Watching`]); touched like
    /// `slot`. A cell of its own, so that the one-byte state packs with the flags below instead of
    /// padding the slot.
    state: UnsafeCell<S>,
    /// Whether the channel may hold a pointer to this node. While `false` the owner has exclusive
    /// access to `slot` and `state`.
    registered: AtomicBool,
    /// Who waits on the node, which decides how a peer may serve it.
    owner: Owner,
    /// Nodes are linked by address, so they must not move.
    _pinned: PhantomPinned,
}

/// Who waits on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// A future polled by some task.
    Task,
    /// A thread parked in a blocking call: it cannot be cancelled between polls, so a sender may
    /// hand it the message directly (CONTRACT rule 1).
    Thread,
    /// A `Receiver`'s stream, which stays registered after a `next()` future is dropped and may
    /// not be polled again for a long time: it is alerted ([`Receiving::Alerted`]) rather than
    /// notified, so it reserves no offer (CONTRACT rule 7).
    Stream,
}

impl<S> Drop for Waiter<S> {
    fn drop(&mut self) {
        drop_slot(&mut self.slot);
    }
}

/// Drops a node's slot (the waker of its last poll): out of line, so that each future's drop is
/// a call rather than a copy of the waker's drop (flash on a microcontroller).
#[inline(never)]
fn drop_slot(slot: &mut UnsafeCell<ManuallyDrop<Slot>>) {
    // SAFETY: `&mut` to a node being dropped: no one else can reach it (a registered node is
    // withdrawn by its owner before it is dropped), and the slot is dropped only here, once.
    unsafe { ManuallyDrop::drop(&mut slot.borrow_mut()) };
}

impl Owner {
    /// A blocked thread's if `blocking`, else a task's.
    pub(crate) const fn task_or_thread(blocking: bool) -> Owner {
        if blocking {
            Owner::Thread
        } else {
            Owner::Task
        }
    }
}

/// A waiting send's node (its message is next to it, in a [`SendNode`](crate::message::SendNode)).
pub(crate) type SendWaiter = Waiter<Sending>;
/// A waiting receive's node (in a [`RecvNode`](crate::message::RecvNode)).
pub(crate) type RecvWaiter = Waiter<Receiving>;
/// A `closed()` future's node. It does not depend on the message type.
pub(crate) type CloseWaiter = Waiter<Watching>;

impl<S> Waiter<S> {
    const_fn_unless_loom! {
        /// A node in `state`, not registered with any channel.
        pub(crate) fn new(state: S, blocking: bool) -> Self {
            Self::with_owner(state, Owner::task_or_thread(blocking))
        }
    }

    const_fn_unless_loom! {
        /// A node in `state` waited on by `owner`, not registered with any channel.
        pub(crate) fn with_owner(state: S, owner: Owner) -> Self {
            Waiter {
                links: UnsafeCell::new(Links {
                    prev: None,
                    next: None,
                }),
                slot: UnsafeCell::new(ManuallyDrop::new(Slot {
                    waker: None,
                    select: None,
                })),
                state: UnsafeCell::new(state),
                registered: AtomicBool::new(false),
                owner,
                _pinned: PhantomPinned,
            }
        }
    }

    /// Whether the owner of this node is a blocked thread.
    pub(crate) fn is_blocking(&self) -> bool {
        // Without `std` no thread blocks (the blocking calls need it): saying so here lets the
        // compiler drop the exchange's handoff paths from a microcontroller's flash.
        cfg!(feature = "std") && self.owner == Owner::Thread
    }

    /// Whether the node is a `Receiver`'s stream.
    pub(crate) fn is_stream(&self) -> bool {
        self.owner == Owner::Stream
    }

    /// Whether the channel may hold a pointer to this node.
    pub(crate) fn is_registered(&self) -> bool {
        // Acquire: pairs with `release`, so an owner that finds its send released sees its outcome.
        self.registered.load(Ordering::Acquire)
    }

    /// Records whether the channel may hold a pointer to this node (the owner, under the lock).
    pub(crate) fn set_registered(&self, registered: bool) {
        self.registered.store(registered, Ordering::Relaxed);
    }

    /// This node's address: how a select's claim names the arm a peer completed.
    pub(crate) fn addr(&self) -> usize {
        core::ptr::from_ref(self) as usize
    }

    /// Hands a finished (or pruned) node back to its owner: the channel's last access to it. From the moment
    /// of the store the owner may read the outcome without the lock, and drop the node.
    ///
    /// # Safety
    ///
    /// `node` is valid, unlinked and registered, the caller holds the lock, and nothing touches
    /// the node after this call.
    pub(crate) unsafe fn release(node: NonNull<Self>) {
        // SAFETY: valid per the caller. The store goes through a raw pointer, so no reference to
        // the node outlives the moment the owner may free it.
        let registered = unsafe { core::ptr::addr_of!((*node.as_ptr()).registered) };
        // SAFETY: the field is valid until the store makes the node the owner's again.
        unsafe { &*registered }.store(false, Ordering::Release);
    }

    /// The node's links.
    ///
    /// # Safety
    ///
    /// The caller holds the channel lock (or owns the node while it is in no list), and no other
    /// reference to the links is alive while the returned one is.
    pub(crate) unsafe fn links(&self) -> CellMut<'_, Links<S>> {
        // SAFETY: exclusivity is the caller's obligation, stated above.
        unsafe { self.links.borrow_mut() }
    }

    /// The node's waker and claim.
    ///
    /// # Safety
    ///
    /// The caller holds the channel lock, or owns the node while it is not registered, and no
    /// other reference to the slot is alive while the returned one is.
    pub(crate) unsafe fn slot(&self) -> CellMut<'_, ManuallyDrop<Slot>> {
        // SAFETY: exclusivity is the caller's obligation, stated above.
        unsafe { self.slot.borrow_mut() }
    }
}

impl<S: Copy> Waiter<S> {
    /// The node's state.
    ///
    /// # Safety
    ///
    /// As for [`Waiter::slot`]: the caller holds the channel lock, or owns the unregistered node.
    pub(crate) unsafe fn state(&self) -> S {
        // SAFETY: per the caller; the access ends with this statement.
        *unsafe { self.state.borrow_mut() }
    }

    /// Sets the node's state.
    ///
    /// # Safety
    ///
    /// As for [`Waiter::state`].
    pub(crate) unsafe fn set_state(&self, state: S) {
        // SAFETY: per the caller; the access ends with this statement.
        *unsafe { self.state.borrow_mut() } = state;
    }
}
