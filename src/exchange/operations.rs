//! [`RawCore`]: the exchange behind its lock, and the operations the typed `Core` (`typed.rs`)
//! calls for every handle and future. Like the exchange it does not depend on the message type:
//! messages are named by their cells (see `message.rs`).
//!
//! Each operation takes the lock for one critical section of `exchange.rs` (or reads an outcome a
//! peer left in its own node without it). Around it: the task's waker is cloned before the lock
//! (a section that needs a clone it lacks says so, and is run again), and the wake-ups it
//! collected go out after the lock is released, or into a select's batch. So no user code runs
//! under the lock (CONTRACT rule 10). Split from `exchange.rs`, which keeps the state under the
//! lock; the closing operations are in `close.rs`.

use core::ptr::NonNull;
use core::task::{Context, Poll, Waker};

use super::{Exchange, Unsent};
use crate::error::{RecvError, TryRecvError, TrySendError};
use crate::list::{CountedList, WaitList};
use crate::lock::{Lock, Mutex};
use crate::message::{DropOnUnwind, Msgs};
use crate::sync::const_fn_unless_loom;
use crate::waiter::{Receiving, RecvWaiter, SendWaiter, Sending};
use crate::wake::{set_waker, NeedWaker, WakeBatch, PASS};

/// A rendezvous channel's exchange and its lock, for any message type.
pub(crate) struct RawCore<L> {
    /// The exchange, reached only under the lock.
    pub(super) exchange: Mutex<L, Exchange>,
}

impl<L: Lock> RawCore<L> {
    const_fn_unless_loom! {
        /// An open channel with no one waiting.
        pub(crate) fn new() -> Self {
            RawCore {
                exchange: Mutex::new(Exchange {
                    senders: CountedList::new(),
                    receivers: WaitList::new(),
                    watchers: WaitList::new(),
                    held: false,
                    notified: 0,
                    closed: false,
                }),
            }
        }
    }

    // === sending ===

    /// Drives a send whose node is `node` (see [`Sending`] for its states), with the wake-ups it
    /// causes moved into `later` if given (a select's pass wakes its peers only once the pass is
    /// over). `Ready(Err(Unsent))`: the channel closed; the node is `Done`, its message still in
    /// its cell for the owner to take.
    ///
    /// # Safety
    ///
    /// `node` is a pinned [`SendNode`](crate::message::SendNode)'s pointer
    /// ([`as_ptr`](crate::message::SendNode::as_ptr)) of the type `msgs` names, the caller is its
    /// owner, and it withdraws the send ([`RawCore::cancel_send`]) before dropping the node.
    pub(crate) unsafe fn poll_send(
        &self,
        node: NonNull<SendWaiter>,
        cx: &mut Context<'_>,
        later: Option<&mut WakeBatch<PASS>>,
        msgs: Msgs,
    ) -> Poll<Result<(), Unsent>> {
        // SAFETY: per the caller.
        let waiter = unsafe { node.as_ref() };
        if !waiter.is_registered() {
            // SAFETY: unregistered, so the owner (our caller) has the only access to the node; a
            // peer that finished the send released it last (see `SendWaiter::release`). The
            // outcome of a send a peer finished is read here, without the lock.
            match unsafe { waiter.state() } {
                Sending::Init => {}
                Sending::ReceiverFinishedFirst => {
                    // SAFETY: as above.
                    unsafe { waiter.set_state(Sending::Done) };
                    return Poll::Ready(Ok(()));
                }
                Sending::Disconnected => {
                    // SAFETY: as above.
                    unsafe { waiter.set_state(Sending::Done) };
                    return Poll::Ready(Err(Unsent));
                }
                Sending::Done | Sending::WaitingForReceiver => {
                    panic!("rendez: send future polled after it completed")
                }
            }
            // Still the owner's alone: the waker goes in now, outside the lock. If its `clone`
            // panics, the message is still in the future, unsent.
            // SAFETY: as above.
            set_waker(&mut unsafe { waiter.slot() }.waker, cx.waker());
        }
        let mut wakes = WakeBatch::new();
        let poll = self.with_waker(cx, &mut wakes, |ex, cx, spare, wakes| {
            // SAFETY: per our caller; we hold the lock.
            unsafe { ex.poll_send(node, cx, spare, msgs, wakes) }
        });
        // (An unsent message stays in the node: if a wake-up panics, the future's drop gets it
        // back and drops it.)
        wake_or_defer(&mut wakes, later);
        poll
    }

    /// Ends a send whose future is dropped or withdrawn (withdrawing it first if it is waiting):
    /// `true` if its message is still in its cell, for the owner to take. Afterwards the node is
    /// unregistered and `Done`.
    ///
    /// # Safety
    ///
    /// `node` is a send node whose owner is the caller.
    // Inline on a host, where every future's drop runs it; a call on bare metal, where the
    // compiler would otherwise copy it into each exit of every message type's send.
    #[cfg_attr(not(target_os = "none"), inline)]
    #[cfg_attr(target_os = "none", inline(never))]
    pub(crate) unsafe fn end_send(&self, node: NonNull<SendWaiter>) -> bool {
        // SAFETY: per the caller.
        let waiter = unsafe { node.as_ref() };
        // Every send future is dropped, most of them after they resolved: keep that cheap.
        if waiter.is_registered() {
            // SAFETY: per the caller.
            unsafe { self.cancel_send(node) };
        }
        // SAFETY: unregistered now, so the owner has the only access to the node.
        unsafe {
            let holds = waiter.state().holds_msg();
            waiter.set_state(Sending::Done);
            holds
        }
    }

    /// Withdraws a registered send: afterwards the node is unregistered and its message, unless a
    /// receive took it, still in it (the state says which).
    ///
    /// # Safety
    ///
    /// `node` is a send node whose owner is the caller.
    unsafe fn cancel_send(&self, node: NonNull<SendWaiter>) {
        self.exchange.with(|ex| {
            // SAFETY: per the caller.
            let waiter = unsafe { node.as_ref() };
            // SAFETY: we hold the lock; the node is ours to touch in it.
            if unsafe { waiter.state() } == Sending::WaitingForReceiver {
                // SAFETY: a started send in this state is linked in `senders`.
                unsafe { ex.senders.remove(node) };
                // Fewer offers: the invariant still holds; a receive notified for this message
                // finds none and waits again, first in line. The state stays: it holds the
                // message, which the owner takes back.
            }
            waiter.set_registered(false);
        });
    }

    /// Hands the message in cell `from` to a receive that is waiting right now (CONTRACT rule
    /// 5). `Ok`: moved out of `from`; `Err`: still in it.
    ///
    /// # Safety
    ///
    /// `from` is a full cell of the type `msgs` names, the caller's alone.
    pub(crate) unsafe fn try_send(
        &self,
        from: NonNull<u8>,
        msgs: Msgs,
    ) -> Result<(), TrySendError<()>> {
        let mut wakes = WakeBatch::new();
        let result = self.exchange.with(|ex| {
            if ex.closed {
                return Err(TrySendError::Disconnected(()));
            }
            ex.prune_decided_receivers();
            if ex.receivers.is_empty() {
                return Err(TrySendError::Full(()));
            }
            // SAFETY: per the caller.
            if unsafe { ex.hand_to_blocked_receiver(from, None, msgs, &mut wakes) } {
                return Ok(());
            }
            if ex.held {
                return Err(TrySendError::Full(()));
            }
            // SAFETY: the held cell is empty while `held` is clear; we hold the lock.
            unsafe { msgs.move_msg(from, msgs.held()) };
            ex.held = true;
            ex.dispatch(msgs, &mut wakes);
            Ok(())
        });
        wakes.wake_all();
        result
    }

    // === receiving ===

    /// Drives a receive whose node is `node` (see [`Receiving`] for its states), taking a message
    /// into the empty cell `out` (`Ready(Ok(()))`), with the wake-ups it causes moved into `later`
    /// if given. If a wake-up panics after a message was taken, the message is dropped while the
    /// panic unwinds. On `Ready` the node is back in `Init`, ready for another receive (the
    /// `Stream` reuses it).
    ///
    /// # Safety
    ///
    /// As for [`RawCore::poll_send`], for a [`RecvNode`](crate::message::RecvNode) withdrawn with
    /// [`RawCore::cancel_recv`]; `out` is an empty cell of the type `msgs` names, the caller's.
    // A call on bare metal: inlined, the lock, the wake batch and the waker's clone would be
    // copied into every message type's receive.
    #[cfg_attr(target_os = "none", inline(never))]
    pub(crate) unsafe fn poll_recv(
        &self,
        node: NonNull<RecvWaiter>,
        out: NonNull<u8>,
        cx: &mut Context<'_>,
        later: Option<&mut WakeBatch<PASS>>,
        msgs: Msgs,
    ) -> Poll<Result<(), RecvError>> {
        // SAFETY: per the caller.
        let waiter = unsafe { node.as_ref() };
        if !waiter.is_registered() {
            // SAFETY: unregistered, so the owner (our caller) has the only access to the slot.
            // The waker goes in now, outside the lock.
            set_waker(&mut unsafe { waiter.slot() }.waker, cx.waker());
        }
        let mut wakes = WakeBatch::new();
        let poll = self.with_waker(cx, &mut wakes, |ex, cx, spare, wakes| {
            // SAFETY: per our caller; we hold the lock.
            unsafe { ex.poll_recv(node, out, cx, spare, msgs, wakes) }
        });
        // SAFETY: `out` was filled if the receive took a message, and the caller's until then.
        wake_taking(
            &mut wakes,
            later,
            matches!(poll, Poll::Ready(Ok(()))).then(|| unsafe { msgs.drop_on_unwind(out) }),
        );
        poll
    }

    /// Runs the critical section `step` of a poll until it no longer asks for a waker: each time
    /// it does (`NeedWaker`, having changed nothing), the wake-ups collected are sent and the
    /// task's waker is cloned here, outside the lock, and handed to the next try. The wake-ups of
    /// the last try are left in `wakes`, for the caller to send.
    pub(super) fn with_waker<R>(
        &self,
        cx: &Context<'_>,
        wakes: &mut WakeBatch,
        mut step: impl FnMut(
            &mut Exchange,
            &Context<'_>,
            &mut Option<Waker>,
            &mut WakeBatch,
        ) -> Result<R, NeedWaker>,
    ) -> R {
        let mut spare = None;
        loop {
            let result = self.exchange.with(|ex| step(ex, cx, &mut spare, wakes));
            match result {
                Ok(result) => return result,
                Err(NeedWaker) => {
                    wakes.wake_all();
                    spare = Some(cx.waker().clone());
                }
            }
        }
    }

    /// Withdraws a registered receive. `true` if a message was already handed to it (blocking
    /// receives only): it is moved into the empty cell `out`. A notified receive passes its turn
    /// on. Afterwards the node is unregistered, `Init`.
    ///
    /// # Safety
    ///
    /// `node` is a receive node of the type `msgs` names whose owner is the caller (a `Receiver`'s
    /// stream node: one of the threads sharing it), and `out` is an empty cell of that type.
    // As for `end_send`.
    #[cfg_attr(not(target_os = "none"), inline)]
    pub(crate) unsafe fn cancel_recv(
        &self,
        node: NonNull<RecvWaiter>,
        out: NonNull<u8>,
        msgs: Msgs,
    ) -> bool {
        // Every receive future is dropped, most of them after they resolved: keep that cheap.
        // SAFETY: per the caller.
        if !unsafe { node.as_ref() }.is_registered() {
            return false;
        }
        // SAFETY: per the caller.
        unsafe { self.cancel_registered_recv(node, out, msgs) }
    }

    /// [`RawCore::cancel_recv`] for a node the channel may hold.
    ///
    /// # Safety
    ///
    /// As for [`RawCore::cancel_recv`].
    unsafe fn cancel_registered_recv(
        &self,
        node: NonNull<RecvWaiter>,
        out: NonNull<u8>,
        msgs: Msgs,
    ) -> bool {
        let mut wakes = WakeBatch::new();
        let handed = self.exchange.with(|ex| {
            // SAFETY: per the caller.
            let waiter = unsafe { node.as_ref() };
            // Checked again under the lock: a `Receiver` may withdraw its stream node from several
            // threads through `&self`, and only the first to get here finds it registered.
            if !waiter.is_registered() {
                return false;
            }
            waiter.set_registered(false);
            // SAFETY: we hold the lock; the node is ours to touch in it.
            let state = unsafe { waiter.state() };
            // SAFETY: as above.
            unsafe { waiter.set_state(Receiving::Init) };
            match state {
                Receiving::WaitingForSender => {
                    // SAFETY: a registered receive in this state is linked in `receivers`.
                    unsafe { ex.receivers.remove(node) };
                    false
                }
                Receiving::Notified => {
                    ex.notified -= 1;
                    ex.dispatch(msgs, &mut wakes);
                    false
                }
                Receiving::SenderFinishedFirst => {
                    // SAFETY: the sender filled the node's cell; `out` is empty, per the caller.
                    unsafe { msgs.move_msg(msgs.recv_cell(node), out) };
                    true
                }
                // An alerted stream reserved nothing: there is no turn to pass on.
                Receiving::Alerted | Receiving::Disconnected | Receiving::Init => false,
            }
        });
        wakes.wake_all();
        handed
    }

    /// Takes a message from a waiting send, or the held `try_send` message, into the empty cell
    /// `out` (CONTRACT rule 5). As in [`RawCore::poll_recv`], a wake-up that panics drops the
    /// message taken.
    ///
    /// # Safety
    ///
    /// `out` is an empty cell of the type `msgs` names, the caller's alone.
    pub(crate) unsafe fn try_recv(&self, out: NonNull<u8>, msgs: Msgs) -> Result<(), TryRecvError> {
        let mut wakes = WakeBatch::new();
        let got = self.exchange.with(|ex| {
            // SAFETY: per the caller.
            if unsafe { ex.take_offer(None, out, msgs, &mut wakes) } {
                // A receive notified for this offer will find none and wait again, first in line.
                Ok(())
            } else if ex.closed {
                Err(TryRecvError::Disconnected)
            } else {
                Err(TryRecvError::Empty)
            }
        });
        // SAFETY: as in `poll_recv`.
        wake_taking(
            &mut wakes,
            None,
            got.is_ok().then(|| unsafe { msgs.drop_on_unwind(out) }),
        );
        got
    }

    /// Takes back the held `try_send` message into the empty cell `out`, for when no receiver is
    /// left to take it: `true` if there was one. The caller drops it outside the lock.
    ///
    /// # Safety
    ///
    /// As for [`RawCore::try_recv`].
    pub(crate) unsafe fn take_held(&self, out: NonNull<u8>, msgs: Msgs) -> bool {
        self.exchange.with(|ex| {
            let held = core::mem::replace(&mut ex.held, false);
            if held {
                // SAFETY: full while `held` was set; `out` is empty, per the caller.
                unsafe { msgs.move_msg(msgs.held(), out) };
            }
            held
        })
    }
}

/// Sends the wake-ups in `wakes` now, or moves them into a select's `later` if given (the pass
/// wakes its peers once it is over).
// Inline: where `later` is known to be `None` (every plain send and receive) this is
// `wake_all`'s test; as a call it cost every operation some 20-40 instructions (callgrind).
#[inline]
fn wake_or_defer(wakes: &mut WakeBatch, later: Option<&mut WakeBatch<PASS>>) {
    match later {
        Some(later) => wakes.defer_to(later),
        None => wakes.wake_all(),
    }
}

/// [`wake_or_defer`] after a receive, with `taken` guarding the message it took, if any: a
/// panicking wake-up drops it while unwinding (as it would a message already returned).
#[inline]
fn wake_taking(
    wakes: &mut WakeBatch,
    later: Option<&mut WakeBatch<PASS>>,
    taken: Option<DropOnUnwind>,
) {
    wake_or_defer(wakes, later);
    core::mem::forget(taken);
}

impl<L: Lock> core::fmt::Debug for RawCore<L> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Copy out under the lock; format (user code: the formatter's writer) after releasing it.
        let (senders, receivers, held, closed) = self
            .exchange
            .with(|ex| (ex.senders.len(), ex.receivers.count(), ex.held, ex.closed));
        f.debug_struct("Core")
            .field("waiting_senders", &senders)
            .field("waiting_receivers", &receivers)
            .field("holds_try_send_message", &held)
            .field("closed", &closed)
            .finish()
    }
}
