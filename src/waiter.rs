//! The waiter node: one per waiting operation, living inside its future (or on the stack of a
//! blocked thread), pinned, and linked into one of the channel's wait lists while it waits.
//!
//! Who may touch what:
//! - `links` belong to the [`WaitList`](crate::list::WaitList) the node is in, under the channel lock.
//! - `slot` (the state and the waker) is touched under the channel lock while the node is
//!   *registered*; before registration and after its owner has seen the outcome, only the owner
//!   touches it.
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

use core::marker::PhantomPinned;
use core::ptr::NonNull;
use core::task::Waker;

use crate::select::claim::Claim;
use crate::sync::{const_fn_unless_loom, AtomicBool, CellMut, Ordering, UnsafeCell};

/// The state of a send, the sender's half of the seed's exchange slot.
pub(crate) enum Sending<T> {
    /// Not yet offered: the future alone holds the message.
    /// → `WaitingForReceiver` when it registers; → `Done` if the channel is closed.
    Init(T),
    /// In the senders' list with its message, waiting for a receive to take it.
    /// → `ReceiverFinishedFirst` when a receive takes it; → `Disconnected` on close.
    WaitingForReceiver(T),
    /// A receive took the message, unlinked the node and released it to its owner; the send
    /// completes on its next poll, without the lock. → `Done`.
    ReceiverFinishedFirst,
    /// The channel closed while the message waited; unlinked and released, the message goes back
    /// to the sender. → `Done`.
    Disconnected(T),
    /// The outcome was returned (or the future was cancelled); nothing is left.
    Done,
}

impl<T> Sending<T> {
    /// Moves the message out of a state that holds one and leaves `next` in its place; `None`,
    /// with the state unchanged, if it holds none.
    ///
    /// Unlike `mem::replace` and a match, which copy the whole state to a temporary and then the
    /// message out of it, this moves the message once, straight into the result: messages are
    /// moved by value, and a large one costs a copy per move.
    pub(crate) fn take_msg(&mut self, next: Sending<T>) -> Option<T> {
        let msg = match self {
            // SAFETY: `msg` is an initialised message; the state it is in is overwritten below
            // without being dropped, so the message is moved out, not duplicated.
            Sending::Init(msg) | Sending::WaitingForReceiver(msg) | Sending::Disconnected(msg) => unsafe {
                core::ptr::read(msg)
            },
            Sending::ReceiverFinishedFirst | Sending::Done => return None,
        };
        // SAFETY: the only owned part of the old state, its message, was moved out above, so
        // overwriting it without a drop loses nothing; nothing between the two can panic.
        unsafe { core::ptr::write(self, next) };
        Some(msg)
    }

    /// `Init(msg)` becomes `WaitingForReceiver(msg)` and back, as `offer` says, the message moved
    /// as little as the compiler can manage (the two have the same shape). Other states stay.
    pub(crate) fn relabel(&mut self, offer: bool) {
        let msg = match (&mut *self, offer) {
            // SAFETY: as in `take_msg`: moved out here, its old place overwritten without a drop.
            (Sending::Init(msg), true) | (Sending::WaitingForReceiver(msg), false) => unsafe {
                core::ptr::read(msg)
            },
            _ => return,
        };
        let next = if offer {
            Sending::WaitingForReceiver(msg)
        } else {
            Sending::Init(msg)
        };
        // SAFETY: as in `take_msg`.
        unsafe { core::ptr::write(self, next) };
    }
}

/// The state of a receive, the receiver's half of the seed's exchange slot.
pub(crate) enum Receiving<T> {
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
    /// Blocking receivers only: a sender handed the message over directly and unlinked the node.
    /// → `Init` when the owner takes it.
    SenderFinishedFirst(T),
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
    /// The node before this one, nearer the front.
    pub(crate) prev: Option<NonNull<Waiter<S>>>,
    /// The node after this one, nearer the back.
    pub(crate) next: Option<NonNull<Waiter<S>>>,
}

/// What a waiter shares with the channel: its state, the waker to wake it with, and the select
/// it is an arm of.
pub(crate) struct Slot<S> {
    /// Where the operation stands (a [`Sending`] or a [`Receiving`]).
    pub(crate) state: S,
    /// The waker of the latest poll; taken by whoever completes or notifies the waiter.
    pub(crate) waker: Option<Waker>,
    /// For an arm of a select, its claim: a peer completes this node only after winning the
    /// claim for it, and prunes it otherwise (see [`crate::select::claim`]). Set by the owner
    /// while the node is unregistered; valid while it is registered.
    pub(crate) select: Option<NonNull<Claim>>,
}

/// A pinned node for one waiting operation.
pub(crate) struct Waiter<S> {
    /// List links, owned by the list the node is in.
    links: UnsafeCell<Links<S>>,
    /// State and waker; see the module docs for who may touch them when.
    slot: UnsafeCell<Slot<S>>,
    /// Whether the channel may hold a pointer to this node. While `false` the owner has exclusive
    /// access to `slot`.
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

/// A waiting send.
pub(crate) type SendWaiter<T> = Waiter<Sending<T>>;
/// A waiting receive.
pub(crate) type RecvWaiter<T> = Waiter<Receiving<T>>;
/// A `closed()` future's node. It does not depend on the message type.
pub(crate) type CloseWaiter = Waiter<Watching>;

impl<S> Waiter<S> {
    const_fn_unless_loom! {
        /// A node in `state`, not registered with any channel.
        pub(crate) fn new(state: S, blocking: bool) -> Self {
            Self::with_owner(state, if blocking { Owner::Thread } else { Owner::Task })
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
                slot: UnsafeCell::new(Slot {
                    state,
                    waker: None,
                    select: None,
                }),
                registered: AtomicBool::new(false),
                owner,
                _pinned: PhantomPinned,
            }
        }
    }

    /// Whether the owner of this node is a blocked thread.
    pub(crate) fn is_blocking(&self) -> bool {
        self.owner == Owner::Thread
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

    /// The node's state and waker.
    ///
    /// # Safety
    ///
    /// The caller holds the channel lock, or owns the node while it is not registered, and no
    /// other reference to the slot is alive while the returned one is.
    pub(crate) unsafe fn slot(&self) -> CellMut<'_, Slot<S>> {
        // SAFETY: exclusivity is the caller's obligation, stated above.
        unsafe { self.slot.borrow_mut() }
    }
}
