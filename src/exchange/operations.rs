//! [`Core`]: the exchange behind its lock, and the operations every handle and future calls.
//!
//! Each operation takes the lock for one critical section of `exchange.rs` (or reads an outcome a
//! peer left in its own node without it). Around it: the task's waker is cloned before the lock
//! (a section that needs a clone it lacks says so, and is run again), and the wake-ups it
//! collected go out after the lock is released, or into a select's batch. So no user code runs
//! under the lock (CONTRACT rule 10). Split from `exchange.rs`, which keeps the state under the
//! lock.

use core::pin::Pin;
use core::ptr::NonNull;
use core::task::{Context, Poll, Waker};

use super::Exchange;
use crate::error::{RecvError, SendError, TryRecvError, TrySendError};
use crate::list::{CountedList, WaitList};
use crate::lock::{Lock, Mutex};
use crate::sync::const_fn_unless_loom;
use crate::waiter::{CloseWaiter, Receiving, RecvWaiter, SendWaiter, Sending, Watching};
use crate::wake::{set_waker, NeedWaker, WakeBatch, CLOSE_BATCH, PASS};

/// A rendezvous channel's core: the exchange and its lock. Both the counted handles and the
/// static `Channel` are thin wrappers around it, and every future works on it.
pub(crate) struct Core<T, L> {
    /// The exchange, reached only under the lock.
    exchange: Mutex<L, Exchange<T>>,
}

impl<T, L: Lock> Core<T, L> {
    const_fn_unless_loom! {
        /// An open channel with no one waiting.
        pub(crate) fn new() -> Self {
            Core {
                exchange: Mutex::new(Exchange {
                    senders: CountedList::new(),
                    receivers: WaitList::new(),
                    watchers: WaitList::new(),
                    held: None,
                    notified: 0,
                    closed: false,
                }),
            }
        }
    }

    // === sending ===

    /// Drives a send whose node is `waiter` (see [`Sending`] for its states). For the owned send
    /// and the `Sink`; `SendFut` calls [`Core::poll_send_in`] itself.
    #[cfg(feature = "alloc")]
    pub(crate) fn poll_send(
        &self,
        waiter: Pin<&SendWaiter<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError<T>>> {
        self.poll_send_in(waiter, cx, None)
    }

    /// [`Core::poll_send`], with the wake-ups it causes moved into `later` if given (a select's
    /// pass wakes its peers only once the pass is over).
    pub(crate) fn poll_send_in(
        &self,
        waiter: Pin<&SendWaiter<T>>,
        cx: &mut Context<'_>,
        later: Option<&mut WakeBatch<PASS>>,
    ) -> Poll<Result<(), SendError<T>>> {
        if !waiter.is_registered() {
            // SAFETY: unregistered, so the owner (our caller) has the only access to the slot; a
            // peer that finished the send released the node last (see `SendWaiter::release`).
            let mut slot = unsafe { waiter.slot() };
            // The outcome of a send a peer finished is read here, without the lock. (Matched by
            // reference first, so that an unstarted send's message is not moved needlessly.)
            match slot.state {
                Sending::Init(_) => {}
                Sending::ReceiverFinishedFirst | Sending::Disconnected(_) => {
                    return match core::mem::replace(&mut slot.state, Sending::Done) {
                        Sending::Disconnected(msg) => Poll::Ready(Err(SendError(msg))),
                        _ => Poll::Ready(Ok(())),
                    };
                }
                Sending::Done | Sending::WaitingForReceiver(_) => {
                    panic!("rendez: send future polled after it completed")
                }
            }
            // Still the owner's alone: the waker goes in now, outside the lock. If its `clone`
            // panics, the message is still in the future, unsent.
            set_waker(&mut slot.waker, cx.waker());
        }
        self.with_waker(cx, later, |ex, cx, spare, wakes| {
            ex.poll_send(waiter, cx, spare, wakes)
        })
    }

    /// Withdraws a send: returns its message unless a receive took it. Called when the future is
    /// dropped or a blocking send times out; afterwards the node is unregistered and `Done`.
    #[inline]
    pub(crate) fn cancel_send(&self, waiter: Pin<&SendWaiter<T>>) -> Option<T> {
        // Every send future is dropped, most of them after they resolved: keep that cheap.
        if !waiter.is_registered() {
            // SAFETY: unregistered, so the owner (our caller) has the only access to the slot.
            return take_unsent(&mut unsafe { waiter.slot() }.state);
        }
        self.cancel_registered_send(waiter)
    }

    /// [`Core::cancel_send`] for a node the channel may hold.
    fn cancel_registered_send(&self, waiter: Pin<&SendWaiter<T>>) -> Option<T> {
        let node = NonNull::from(&*waiter);
        let msg = self.exchange.with(|ex| {
            // SAFETY: we hold the lock; this is the only reference to the slot in this section.
            let mut slot = unsafe { waiter.slot() };
            if let Sending::WaitingForReceiver(_) = slot.state {
                // SAFETY: a started send in this state is linked in `senders`.
                unsafe { ex.senders.remove(node) };
                // Fewer offers: the invariant still holds; a receive notified for this message
                // finds none and waits again, first in line.
            }
            waiter.set_registered(false);
            take_unsent(&mut slot.state)
        });
        msg
    }

    /// Hands `msg` to a receive that is waiting right now (CONTRACT rule 5).
    pub(crate) fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        let mut wakes = WakeBatch::new();
        let result = self.exchange.with(|ex| {
            if ex.closed {
                return Err(TrySendError::Disconnected(msg));
            }
            ex.prune_decided_receivers();
            if ex.receivers.is_empty() {
                return Err(TrySendError::Full(msg));
            }
            let Err(msg) = ex.hand_to_blocked_receiver(msg, None, &mut wakes) else {
                return Ok(());
            };
            if ex.held.is_some() {
                return Err(TrySendError::Full(msg));
            }
            ex.held = Some(msg);
            ex.dispatch(&mut wakes);
            Ok(())
        });
        wakes.wake_all();
        result
    }

    // === receiving ===

    /// Drives a receive whose node is `waiter` (see [`Receiving`] for its states). On `Ready` the
    /// node is back in `Init`, ready for another receive (the `Stream` reuses it).
    pub(crate) fn poll_recv(
        &self,
        waiter: Pin<&RecvWaiter<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, RecvError>> {
        self.poll_recv_in(waiter, cx, None)
    }

    /// [`Core::poll_recv`], with the wake-ups it causes moved into `later` if given.
    pub(crate) fn poll_recv_in(
        &self,
        waiter: Pin<&RecvWaiter<T>>,
        cx: &mut Context<'_>,
        later: Option<&mut WakeBatch<PASS>>,
    ) -> Poll<Result<T, RecvError>> {
        if !waiter.is_registered() {
            // SAFETY: unregistered, so the owner (our caller) has the only access to the slot.
            // The waker goes in now, outside the lock.
            set_waker(&mut unsafe { waiter.slot() }.waker, cx.waker());
        }
        self.with_waker(cx, later, |ex, cx, spare, wakes| {
            ex.poll_recv(waiter, cx, spare, wakes)
        })
    }

    /// Runs the critical section `step` of a poll until it no longer asks for a waker: each time
    /// it does (`NeedWaker`, having changed nothing), the task's waker is cloned here, outside the
    /// lock, and handed to the next try. The wake-ups go out after each try, or into `later`.
    fn with_waker<R>(
        &self,
        cx: &Context<'_>,
        mut later: Option<&mut WakeBatch<PASS>>,
        mut step: impl FnMut(
            &mut Exchange<T>,
            &Context<'_>,
            &mut Option<Waker>,
            &mut WakeBatch,
        ) -> Result<R, NeedWaker>,
    ) -> R {
        let mut spare = None;
        loop {
            let mut wakes = WakeBatch::new();
            let result = self
                .exchange
                .with(|ex| step(ex, cx, &mut spare, &mut wakes));
            match later.as_deref_mut() {
                Some(later) => wakes.defer_to(later),
                None => wakes.wake_all(),
            }
            match result {
                Ok(result) => return result,
                Err(NeedWaker) => spare = Some(cx.waker().clone()),
            }
        }
    }

    /// Withdraws a receive. Returns a message that was already handed to it (blocking receives
    /// only); a notified receive passes its turn on. Afterwards the node is unregistered, `Init`.
    #[inline]
    pub(crate) fn cancel_recv(&self, waiter: Pin<&RecvWaiter<T>>) -> Option<T> {
        // Every receive future is dropped, most of them after they resolved: keep that cheap.
        if !waiter.is_registered() {
            return None;
        }
        self.cancel_registered_recv(waiter)
    }

    /// [`Core::cancel_recv`] for a node the channel may hold.
    fn cancel_registered_recv(&self, waiter: Pin<&RecvWaiter<T>>) -> Option<T> {
        let node = NonNull::from(&*waiter);
        let mut wakes = WakeBatch::new();
        let msg = self.exchange.with(|ex| {
            // Checked again under the lock: a `Receiver` may withdraw its stream node from several
            // threads through `&self`, and only the first to get here finds it registered.
            if !waiter.is_registered() {
                return None;
            }
            // SAFETY: we hold the lock; this is the only reference to the slot in this section.
            let mut slot = unsafe { waiter.slot() };
            waiter.set_registered(false);
            match core::mem::replace(&mut slot.state, Receiving::Init) {
                Receiving::WaitingForSender => {
                    // SAFETY: a registered receive in this state is linked in `receivers`.
                    unsafe { ex.receivers.remove(node) };
                    None
                }
                Receiving::Notified => {
                    ex.notified -= 1;
                    ex.dispatch(&mut wakes);
                    None
                }
                Receiving::SenderFinishedFirst(msg) => Some(msg),
                // An alerted stream reserved nothing: there is no turn to pass on.
                Receiving::Alerted | Receiving::Disconnected | Receiving::Init => None,
            }
        });
        wakes.wake_all();
        msg
    }

    /// Takes a message from a waiting send, or the held `try_send` message (CONTRACT rule 5).
    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut wakes = WakeBatch::new();
        let result = self
            .exchange
            .with(|ex| match ex.take_offer(None, &mut wakes) {
                // A receive notified for this offer will find none and wait again, first in line.
                Some(msg) => Ok(msg),
                None if ex.closed => Err(TryRecvError::Disconnected),
                None => Err(TryRecvError::Empty),
            });
        wakes.wake_all();
        result
    }

    // === closing ===

    /// Drives a `closed()` future whose node is `waiter`: `Ready` once the channel is closed.
    pub(crate) fn poll_closed(&self, waiter: Pin<&CloseWaiter>, cx: &mut Context<'_>) -> Poll<()> {
        if !waiter.is_registered() {
            // SAFETY: unregistered, so the owner (our caller) has the only access to the slot;
            // `close` released the node last if it ended it.
            let mut slot = unsafe { waiter.slot() };
            if slot.state == Watching::Closed {
                return Poll::Ready(());
            }
            // The waker goes in now, outside the lock.
            set_waker(&mut slot.waker, cx.waker());
        }
        self.with_waker(cx, None, |ex, cx, spare, wakes| {
            ex.poll_closed(waiter, cx, spare, wakes)
        })
    }

    /// Withdraws a `closed()` future's node; afterwards it is unregistered.
    pub(crate) fn cancel_closed(&self, waiter: Pin<&CloseWaiter>) {
        if !waiter.is_registered() {
            return;
        }
        let node = NonNull::from(&*waiter);
        self.exchange.with(|ex| {
            // SAFETY: we hold the lock; this is the only reference to the slot in this section.
            let slot = unsafe { waiter.slot() };
            if slot.state == Watching::WaitingForClose {
                // SAFETY: a registered watcher in this state is linked in `watchers`.
                unsafe { ex.watchers.remove(node) };
            }
            waiter.set_registered(false);
        });
    }

    /// Closes the channel and wakes every waiter. Returns `true` if this call closed it.
    pub(crate) fn close(&self) -> bool {
        // From here on no operation registers, so the waiters unlinked below are all there are.
        let closed_now = self
            .exchange
            .with(|ex| !core::mem::replace(&mut ex.closed, true));
        self.disconnect_all();
        closed_now
    }

    /// Unlinks and wakes every waiter of a closed channel, a batch at a time, with the lock
    /// released while each batch is woken. If a `wake` panics, the remaining batches are still
    /// unlinked and woken while the panic unwinds, so no waiter is left hanging.
    fn disconnect_all(&self) {
        /// Finishes the job if waking the current batch unwinds.
        struct Rest<'a, T, L: Lock>(&'a Core<T, L>);
        impl<T, L: Lock> Drop for Rest<'_, T, L> {
            fn drop(&mut self) {
                self.0.disconnect_all();
            }
        }

        loop {
            let mut wakes = WakeBatch::<CLOSE_BATCH>::new();
            let done = self.exchange.with(|ex| ex.disconnect_waiters(&mut wakes));
            let rest = Rest(self);
            wakes.wake_all();
            core::mem::forget(rest);
            if done {
                return;
            }
        }
    }

    /// Whether the channel is closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.exchange.with(|ex| ex.closed)
    }

    /// Takes back the held `try_send` message, for when no receiver is left to take it. The
    /// caller drops it outside the lock.
    pub(crate) fn take_held(&self) -> Option<T> {
        self.exchange.with(|ex| ex.held.take())
    }
}

/// Ends a withdrawn send: its message, unless a receive took it. Leaves the state `Done`.
fn take_unsent<T>(state: &mut Sending<T>) -> Option<T> {
    let msg = state.take_msg(Sending::Done);
    *state = Sending::Done;
    msg
}

impl<T, L: Lock> core::fmt::Debug for Core<T, L> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Copy out under the lock; format (user code: the formatter's writer) after releasing it.
        let (senders, receivers, held, closed) = self.exchange.with(|ex| {
            (
                ex.senders.len(),
                ex.receivers.count(),
                ex.held.is_some(),
                ex.closed,
            )
        });
        f.debug_struct("Core")
            .field("waiting_senders", &senders)
            .field("waiting_receivers", &receivers)
            .field("holds_try_send_message", &held)
            .field("closed", &closed)
            .finish()
    }
}
