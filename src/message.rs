//! Where messages live, and all that the exchange knows of their type.
//!
//! The exchange (lists, dispatch, registration, waking, close) is compiled once, not once per
//! message type: its nodes and states carry no message. A message sits in a *message cell*: one in
//! every send's node ([`SendNode`]), one in every receive's node ([`RecvNode`], filled when a
//! sender hands a blocked thread its message), the channel's held cell (a `try_send` message) and
//! one on the stack of the typed call that receives ([`OutCell`]). The exchange moves a message
//! from one cell to another through a [`MsgType`]: where the cell is in each kind of node, and a
//! function, compiled per type, that moves one message.
//!
//! Which cells are full is said by the states, under the rules the states follow (`waiter.rs`):
//! a send's cell is full in the states [`Sending::holds_msg`] names, a receive's in
//! [`Receiving::SenderFinishedFirst`], the held cell while the exchange's `held` is set. Whoever
//! may change a state may move the message with it; nobody else touches the cell.

use core::marker::PhantomData;
use core::mem::{offset_of, MaybeUninit};
use core::ops::Deref;
use core::pin::Pin;
use core::ptr::NonNull;

use crate::sync::{const_fn_unless_loom, UnsafeCell};
use crate::waiter::{Owner, Receiving, RecvWaiter, SendWaiter, Sending};

/// A cell that may hold one message; whether it does is said elsewhere (module docs).
pub(crate) type MsgCell<T> = UnsafeCell<MaybeUninit<T>>;

const_fn_unless_loom! {
    /// An empty message cell.
    pub(crate) fn empty_cell<T>() -> MsgCell<T> {
        UnsafeCell::new(MaybeUninit::uninit())
    }
}

/// What the type-independent exchange knows of a message type.
pub(crate) struct MsgType {
    /// Moves the message out of the full cell `from` into the empty cell `to`, both `MsgCell<T>`.
    move_msg: unsafe fn(from: NonNull<u8>, to: NonNull<u8>),
    /// Drops the message in the full cell it is given (a `MsgCell<T>`), leaving it empty.
    drop_msg: unsafe fn(cell: NonNull<u8>),
    /// Where a `SendNode<T>`'s message cell is, in bytes from the node's start (its waiter).
    send_cell: usize,
    /// Where a `RecvNode<T>`'s message cell is, in bytes from the node's start.
    recv_cell: usize,
}

/// The [`MsgType`] of `T`, one constant per type.
struct TypeOf<T>(PhantomData<T>);

impl<T> TypeOf<T> {
    const MSG_TYPE: &'static MsgType = &MsgType {
        move_msg: move_msg::<T>,
        drop_msg: drop_msg::<T>,
        send_cell: offset_of!(SendNode<T>, msg),
        recv_cell: offset_of!(RecvNode<T>, msg),
    };
}

/// Moves one `T` from cell to cell.
///
/// # Safety
///
/// `from` and `to` point to distinct `MsgCell<T>`s, `from` full and `to` empty, and the caller
/// may touch both (module docs). Afterwards `from` is empty and `to` full.
unsafe fn move_msg<T>(from: NonNull<u8>, to: NonNull<u8>) {
    // SAFETY: per the caller: two distinct cells, so the two accesses do not overlap. A copy that
    // says so, not a read and a write, which the compiler may join into a `memmove` (a kilobyte
    // of flash on Cortex-M0 that nothing else needs).
    unsafe {
        let from = from.cast::<MsgCell<T>>().as_ref().borrow_mut();
        let mut to = to.cast::<MsgCell<T>>().as_ref().borrow_mut();
        core::ptr::copy_nonoverlapping(&*from, &mut *to, 1);
    }
}

/// Drops the `T` in a cell.
///
/// # Safety
///
/// `cell` points to a full `MsgCell<T>` that the caller may empty.
unsafe fn drop_msg<T>(cell: NonNull<u8>) {
    // SAFETY: per the caller.
    unsafe {
        cell.cast::<MsgCell<T>>()
            .as_ref()
            .borrow_mut()
            .assume_init_drop()
    };
}

/// What a critical section that moves messages is given: the message type and the channel's held
/// cell. Two words, passed by value.
#[derive(Clone, Copy)]
pub(crate) struct Msgs {
    /// The type of the channel's messages.
    ty: &'static MsgType,
    /// The channel's held cell (full while the exchange's `held` is set).
    held: NonNull<u8>,
}

impl Msgs {
    /// The messages of a channel whose held cell is `held`.
    pub(crate) fn new<T>(held: &MsgCell<T>) -> Self {
        Msgs {
            ty: TypeOf::<T>::MSG_TYPE,
            held: cell_ptr(held),
        }
    }

    /// The channel's held cell.
    pub(crate) fn held(self) -> NonNull<u8> {
        self.held
    }

    /// The message cell of the send whose node is `node`.
    ///
    /// # Safety
    ///
    /// `node` points to a live `SendNode<T>` of this `T`, with the provenance of the whole node
    /// ([`SendNode::as_ptr`]).
    pub(crate) unsafe fn send_cell(self, node: NonNull<SendWaiter>) -> NonNull<u8> {
        // SAFETY: the offset is that of the cell inside the node, per the caller.
        unsafe { node.cast::<u8>().add(self.ty.send_cell) }
    }

    /// The message cell of the receive whose node is `node`.
    ///
    /// # Safety
    ///
    /// As for [`Msgs::send_cell`], for a `RecvNode<T>`.
    pub(crate) unsafe fn recv_cell(self, node: NonNull<RecvWaiter>) -> NonNull<u8> {
        // SAFETY: as in `send_cell`.
        unsafe { node.cast::<u8>().add(self.ty.recv_cell) }
    }

    /// Moves the message in cell `from` to cell `to`.
    ///
    /// # Safety
    ///
    /// Both are distinct cells of this channel's type, `from` full and `to` empty, and the caller
    /// may touch both (it holds the lock, or owns them).
    pub(crate) unsafe fn move_msg(self, from: NonNull<u8>, to: NonNull<u8>) {
        // SAFETY: per the caller.
        unsafe { (self.ty.move_msg)(from, to) }
    }

    /// A guard that drops the message in the full cell `cell` if it is dropped itself: while
    /// wake-ups run (user code that may panic) after a message was moved into a caller's cell,
    /// so that a panic drops the message instead of losing it there. [`core::mem::forget`] it
    /// once they ran.
    ///
    /// # Safety
    ///
    /// `cell` is a full cell of this type that the caller may empty, and stays valid while the
    /// guard lives.
    pub(crate) unsafe fn drop_on_unwind(self, cell: NonNull<u8>) -> DropOnUnwind {
        DropOnUnwind { msgs: self, cell }
    }
}

/// See [`Msgs::drop_on_unwind`].
pub(crate) struct DropOnUnwind {
    /// The message type.
    msgs: Msgs,
    /// The full cell.
    cell: NonNull<u8>,
}

impl Drop for DropOnUnwind {
    fn drop(&mut self) {
        // SAFETY: the cell is full and ours to empty, per `drop_on_unwind`'s caller.
        unsafe { (self.msgs.ty.drop_msg)(self.cell) };
    }
}

/// A cell's address, as the exchange takes it.
pub(crate) fn cell_ptr<T>(cell: &MsgCell<T>) -> NonNull<u8> {
    NonNull::from(cell).cast()
}

/// A message cell on the stack of a typed call, for the exchange to move a message into (a
/// receive's) or out of (a `try_send`'s).
pub(crate) struct OutCell<T> {
    /// The cell; whether it is full, the exchange's answer says.
    cell: MsgCell<T>,
}

impl<T> OutCell<T> {
    /// An empty cell.
    pub(crate) fn empty() -> Self {
        OutCell { cell: empty_cell() }
    }

    /// A cell holding `msg`.
    pub(crate) fn with(msg: T) -> Self {
        OutCell {
            cell: UnsafeCell::new(MaybeUninit::new(msg)),
        }
    }

    /// The cell's address, for the exchange.
    pub(crate) fn ptr(&self) -> NonNull<u8> {
        cell_ptr(&self.cell)
    }

    /// The message the cell holds.
    ///
    /// # Safety
    ///
    /// The cell is full (the exchange said it moved a message in, or did not move it out), and
    /// this is called once per message.
    pub(crate) unsafe fn take(self) -> T {
        // SAFETY: full, per the caller; the cell is ours alone again.
        unsafe { self.cell.borrow_mut().assume_init_read() }
    }
}

/// A send's node: the waiter the exchange links, and the message it offers.
///
/// `repr(C)` with the waiter first: the exchange's pointer to the waiter is a pointer to the node,
/// and the cell is at [`MsgType`]'s offset from it.
#[repr(C)]
pub(crate) struct SendNode<T> {
    /// What the exchange links and serves.
    waiter: SendWaiter,
    /// The message, while the state holds one.
    msg: MsgCell<T>,
}

impl<T> SendNode<T> {
    /// A node waited on by `owner`, holding `msg` (`Init`). (It takes `T`, not an `Option<T>`:
    /// building the `Option` first cost a copy of the message.)
    pub(crate) fn new(msg: T, owner: Owner) -> Self {
        SendNode {
            waiter: SendWaiter::with_owner(Sending::Init, owner),
            msg: UnsafeCell::new(MaybeUninit::new(msg)),
        }
    }

    /// A node waited on by `owner`, holding nothing (`Done`) until [`SendNode::put`].
    #[cfg(feature = "sink")]
    pub(crate) fn empty(owner: Owner) -> Self {
        SendNode {
            waiter: SendWaiter::with_owner(Sending::Done, owner),
            msg: empty_cell(),
        }
    }

    /// The pointer the exchange links and moves the message through: to the whole node, so that
    /// it may reach the cell too (a pointer made from the waiter field alone may not).
    pub(crate) fn as_ptr(self: Pin<&Self>) -> NonNull<SendWaiter> {
        NonNull::from(self.get_ref()).cast()
    }

    /// Puts `msg` into the emptied node: `Done` becomes `Init`.
    ///
    /// # Safety
    ///
    /// The node is unregistered (the owner has the only access) and `Done`.
    pub(crate) unsafe fn put(&self, msg: T) {
        // SAFETY: per the caller.
        unsafe {
            debug_assert_eq!(self.waiter.state(), Sending::Done);
            self.msg.borrow_mut().write(msg);
            self.waiter.set_state(Sending::Init);
        }
    }

    /// Ends the send: takes its message if the node still holds one, and leaves it `Done`.
    ///
    /// # Safety
    ///
    /// The node is unregistered (the owner has the only access).
    pub(crate) unsafe fn take(&self) -> Option<T> {
        // SAFETY: per the caller; the state says whether the cell is full.
        unsafe {
            let msg = self
                .waiter
                .state()
                .holds_msg()
                .then(|| self.msg.borrow_mut().assume_init_read());
            self.waiter.set_state(Sending::Done);
            msg
        }
    }
}

impl<T> SendNode<T> {
    /// The message an ended send left in its cell (the exchange said so: `Unsent`, or `end_send`
    /// returned `true`); the node is `Done` already.
    ///
    /// # Safety
    ///
    /// The node is unregistered and `Done`, its cell full; called once for that message.
    pub(crate) unsafe fn take_left(&self) -> T {
        // SAFETY: per the caller.
        unsafe { self.msg.borrow_mut().assume_init_read() }
    }
}

impl<T> Deref for SendNode<T> {
    type Target = SendWaiter;

    fn deref(&self) -> &SendWaiter {
        &self.waiter
    }
}

/// A receive's node: the waiter the exchange links, and a cell for a message handed to a blocked
/// thread. Laid out as [`SendNode`] is.
#[repr(C)]
pub(crate) struct RecvNode<T> {
    /// What the exchange links and serves.
    waiter: RecvWaiter,
    /// A message handed over, in `SenderFinishedFirst`.
    msg: MsgCell<T>,
}

impl<T> RecvNode<T> {
    /// An unregistered receive node waited on by `owner`.
    pub(crate) fn new(owner: Owner) -> Self {
        RecvNode {
            waiter: RecvWaiter::with_owner(Receiving::Init, owner),
            msg: empty_cell(),
        }
    }

    /// The pointer the exchange links and moves messages through; see [`SendNode::as_ptr`].
    pub(crate) fn as_ptr(self: Pin<&Self>) -> NonNull<RecvWaiter> {
        NonNull::from(self.get_ref()).cast()
    }
}

impl<T> Deref for RecvNode<T> {
    type Target = RecvWaiter;

    fn deref(&self) -> &RecvWaiter {
        &self.waiter
    }
}
