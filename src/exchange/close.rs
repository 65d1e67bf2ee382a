//! Closing, both layers: the `closed()` futures' watchers and the disconnect of every waiter
//! (`Exchange`, under the lock), and the operations that take the lock for them (`RawCore`).
//! Moved out of `exchange.rs` and `operations.rs`, which keep the handoff; nothing here moves a
//! message (a send's stays in its node, for its owner to take back).

use core::pin::Pin;
use core::ptr::NonNull;
use core::task::{Context, Poll, Waker};

use super::{Exchange, RawCore};
use crate::lock::Lock;
use crate::waiter::{CloseWaiter, Receiving, SendWaiter, Sending, Watching};
use crate::wake::{set_waker, NeedWaker, WakeBatch, CLOSE_BATCH};

impl Exchange {
    /// [`RawCore::poll_closed`]'s critical section.
    ///
    /// # Safety
    ///
    /// As for [`Exchange::poll_send`], for a watcher's node (it holds no message).
    pub(super) unsafe fn poll_closed(
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
    pub(super) fn disconnect_waiters(&mut self, wakes: &mut WakeBatch<CLOSE_BATCH>) -> bool {
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

impl<L: Lock> RawCore<L> {
    /// Drives a `closed()` future whose node is `waiter`: `Ready` once the channel is closed.
    pub(crate) fn poll_closed(&self, waiter: Pin<&CloseWaiter>, cx: &mut Context<'_>) -> Poll<()> {
        if !waiter.is_registered() {
            // SAFETY: unregistered, so the owner (our caller) has the only access to the node;
            // `close` released it last if it ended it.
            if unsafe { waiter.state() } == Watching::Closed {
                return Poll::Ready(());
            }
            // The waker goes in now, outside the lock.
            // SAFETY: as above.
            set_waker(&mut unsafe { waiter.slot() }.waker, cx.waker());
        }
        let node = NonNull::from(&*waiter);
        let mut wakes = WakeBatch::new();
        let poll = self.with_waker(cx, &mut wakes, |ex, cx, spare, wakes| {
            // SAFETY: the node is pinned and its owner withdraws it (`cancel_closed`) before it is
            // dropped; we hold the lock.
            unsafe { ex.poll_closed(node, cx, spare, wakes) }
        });
        wakes.wake_all();
        poll
    }

    /// Withdraws a `closed()` future's node; afterwards it is unregistered.
    pub(crate) fn cancel_closed(&self, waiter: Pin<&CloseWaiter>) {
        if !waiter.is_registered() {
            return;
        }
        let node = NonNull::from(&*waiter);
        self.exchange.with(|ex| {
            // SAFETY: we hold the lock; the node is ours to touch in it.
            if unsafe { waiter.state() } == Watching::WaitingForClose {
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
        struct Rest<'a, L: Lock>(&'a RawCore<L>);
        impl<L: Lock> Drop for Rest<'_, L> {
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
}
