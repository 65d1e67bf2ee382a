//! The least work a strict rendezvous can do: a lower-bound reference for the async SPSC and
//! ping-pong rows, not a public API and not a channel anyone should use.
//!
//! One slot, one atomic state and two `AtomicWaker`s (the atomic-waker crate). Strict as rendez
//! is: a send completes only after the receive's own `poll` took the message out of the slot, and
//! a cancelled send whose message was not taken gets it back. It has no queues, no lock, no MPMC,
//! no select and no stream: one sender and one receiver, each with at most one operation in
//! flight (the handles are `Clone` only because the benchmark trait asks for it; using two
//! senders at once panics).
//!
//! States of the slot: `EMPTY` → (send stores the message) `FULL` → (receive claims it)
//! `READING` → (receive moved it out) `TAKEN` → (the send sees it) `EMPTY`. A send cancelled in
//! `FULL` takes its message back with a CAS `FULL` → `EMPTY`; a receive claims with a CAS
//! `FULL` → `READING`, so exactly one of them gets the message.

use std::cell::UnsafeCell;
use std::future::Future;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use atomic_waker::AtomicWaker;

const EMPTY: u8 = 0;
const FULL: u8 = 1;
const READING: u8 = 2;
const TAKEN: u8 = 3;

/// The one slot both halves share.
struct Slot<T> {
    state: AtomicU8,
    msg: UnsafeCell<MaybeUninit<T>>,
    /// Woken when the slot becomes `FULL` (or the sender leaves).
    receiver: AtomicWaker,
    /// Woken when the slot becomes `TAKEN` (or the receiver leaves).
    sender: AtomicWaker,
    /// A send is in flight (catches a second concurrent sender).
    sending: AtomicBool,
    sender_gone: AtomicBool,
    receiver_gone: AtomicBool,
}

// SAFETY: the message is moved in by the one sender while the state is `EMPTY` and moved out by
// exactly one party that won the CAS out of `FULL`; the state's Release/Acquire pairs order those
// moves. `T: Send` suffices: the slot never hands out a shared `&T`.
unsafe impl<T: Send> Sync for Slot<T> {}

impl<T> Drop for Slot<T> {
    fn drop(&mut self) {
        // A leaked send future can leave its message behind.
        if *self.state.get_mut() == FULL {
            // SAFETY: `FULL` means the slot holds an initialised message nobody moved out.
            unsafe { self.msg.get_mut().assume_init_drop() }
        }
    }
}

/// The sending half.
pub struct StrictTx<T>(Arc<Slot<T>>);
/// The receiving half.
pub struct StrictRx<T>(Arc<Slot<T>>);

impl<T> Clone for StrictTx<T> {
    fn clone(&self) -> Self {
        StrictTx(self.0.clone())
    }
}

/// Drops of the last handle close the channel: the flag is set by whichever handle's `Arc` is
/// about to go (the benchmarks never clone a half they use, so a drop is the half's end).
impl<T> Drop for StrictTx<T> {
    fn drop(&mut self) {
        // A clone that lives on (the trait's `Clone`) keeps the channel open.
        if Arc::strong_count(&self.0) <= 2 {
            self.0.sender_gone.store(true, Ordering::Release);
            self.0.receiver.wake();
        }
    }
}

impl<T> Drop for StrictRx<T> {
    fn drop(&mut self) {
        self.0.receiver_gone.store(true, Ordering::Release);
        self.0.sender.wake();
    }
}

/// A fresh channel.
pub fn channel<T>() -> (StrictTx<T>, StrictRx<T>) {
    let slot = Arc::new(Slot {
        state: AtomicU8::new(EMPTY),
        msg: UnsafeCell::new(MaybeUninit::uninit()),
        receiver: AtomicWaker::new(),
        sender: AtomicWaker::new(),
        sending: AtomicBool::new(false),
        sender_gone: AtomicBool::new(false),
        receiver_gone: AtomicBool::new(false),
    });
    (StrictTx(slot.clone()), StrictRx(slot))
}

impl<T> StrictTx<T> {
    /// Sends `msg`: `Ok` once the receiver's poll took it, `Err(msg)` if the receiver is gone.
    pub fn send(&self, msg: T) -> SendFut<'_, T> {
        SendFut {
            slot: &self.0,
            msg: Some(msg),
            offered: false,
        }
    }
}

impl<T> StrictRx<T> {
    /// Receives a message; `None` once the sender is gone and the slot is empty.
    pub fn recv(&mut self) -> RecvFut<'_, T> {
        RecvFut { slot: &self.0 }
    }
}

/// [`StrictTx::send`].
pub struct SendFut<'a, T> {
    slot: &'a Slot<T>,
    /// The message until it is stored in the slot.
    msg: Option<T>,
    /// The message is in the slot (`FULL` or later).
    offered: bool,
}

impl<T> Unpin for SendFut<'_, T> {}

impl<T> SendFut<'_, T> {
    /// Takes the message back if no receive claimed it; `None` if one did (it is delivered or
    /// about to be: waits out `READING`).
    fn withdraw(&mut self) -> Option<T> {
        let slot = self.slot;
        if slot
            .state
            .compare_exchange(FULL, EMPTY, Ordering::Acquire, Ordering::Acquire)
            .is_ok()
        {
            self.offered = false;
            slot.sending.store(false, Ordering::Release);
            // SAFETY: the CAS out of `FULL` made this side the only one to move the message.
            return Some(unsafe { (*slot.msg.get()).assume_init_read() });
        }
        // A receive claimed it: wait the few instructions until it moved the message out.
        while slot.state.load(Ordering::Acquire) == READING {
            std::hint::spin_loop();
        }
        self.finish();
        None
    }

    /// The receive took the message: free the slot for the next send.
    fn finish(&mut self) {
        self.offered = false;
        self.slot.state.store(EMPTY, Ordering::Release);
        self.slot.sending.store(false, Ordering::Release);
    }
}

impl<T> Future for SendFut<'_, T> {
    type Output = Result<(), T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), T>> {
        let this = self.get_mut();
        let slot = this.slot;
        if let Some(msg) = this.msg.take() {
            if slot.receiver_gone.load(Ordering::Acquire) {
                return Poll::Ready(Err(msg));
            }
            assert!(
                !slot.sending.swap(true, Ordering::AcqRel),
                "the strict reference takes one sender at a time"
            );
            slot.sender.register(cx.waker());
            // SAFETY: `sending` makes this the only send, and the state is `EMPTY` (the previous
            // send reset it before it completed), so nobody else touches the slot.
            unsafe { (*slot.msg.get()).write(msg) };
            this.offered = true;
            slot.state.store(FULL, Ordering::Release);
            slot.receiver.wake();
        } else {
            slot.sender.register(cx.waker());
        }
        if slot.state.load(Ordering::Acquire) == TAKEN {
            this.finish();
            return Poll::Ready(Ok(()));
        }
        if slot.receiver_gone.load(Ordering::Acquire) {
            return Poll::Ready(match this.withdraw() {
                Some(msg) => Err(msg),
                None => Ok(()),
            });
        }
        Poll::Pending
    }
}

impl<T> Drop for SendFut<'_, T> {
    fn drop(&mut self) {
        if self.offered {
            drop(self.withdraw());
        }
    }
}

/// [`StrictRx::recv`].
pub struct RecvFut<'a, T> {
    slot: &'a Slot<T>,
}

impl<T> RecvFut<'_, T> {
    /// Moves the message out if the slot is `FULL`.
    fn take(&self) -> Option<T> {
        let slot = self.slot;
        slot.state
            .compare_exchange(FULL, READING, Ordering::Acquire, Ordering::Relaxed)
            .ok()?;
        // SAFETY: the CAS out of `FULL` made this side the only one to move the message.
        let msg = unsafe { (*slot.msg.get()).assume_init_read() };
        slot.state.store(TAKEN, Ordering::Release);
        slot.sender.wake();
        Some(msg)
    }
}

impl<T> Future for RecvFut<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if let Some(msg) = self.take() {
            return Poll::Ready(Some(msg));
        }
        self.slot.receiver.register(cx.waker());
        if let Some(msg) = self.take() {
            return Poll::Ready(Some(msg));
        }
        if self.slot.sender_gone.load(Ordering::Acquire) {
            // The sender's last act before leaving may have been an offer.
            return Poll::Ready(self.take());
        }
        Poll::Pending
    }
}
