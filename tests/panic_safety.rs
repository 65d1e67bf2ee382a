//! CONTRACT rule 10: a waker whose `wake` panics, or a message whose `Drop` panics, leaves the
//! channel usable and consistent for the other parties.
//!
//! The panic itself propagates out of the call that ran the user code (a poll, `try_send`,
//! `close`, a drop); these tests catch it and then check that every other party still completes.
#![cfg(all(feature = "std", not(rendez_loom)))]

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Poll, Wake, Waker};

use common::{DropLog, TestWaker, Tracked};
use rendez::{channel, Channel, RecvError, SendError, TrySendError};

/// A waker whose `wake` panics (an executor bug the channel must survive).
struct PanicOnWake;

impl Wake for PanicOnWake {
    fn wake(self: Arc<Self>) {
        panic!("PanicOnWake: wake");
    }
}

fn panicking_waker() -> Waker {
    Waker::from(Arc::new(PanicOnWake))
}

/// Polls `fut` once with `waker`, turning a panic into `Err`.
fn poll_with<F: std::future::Future>(
    fut: std::pin::Pin<&mut F>,
    waker: &Waker,
) -> Result<Poll<F::Output>, ()> {
    let mut cx = std::task::Context::from_waker(waker);
    catch_unwind(AssertUnwindSafe(|| fut.poll(&mut cx))).map_err(|_| ())
}

/// A message whose `Drop` panics; counts how many times it was dropped.
struct PanicOnDrop(Arc<AtomicUsize>);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("PanicOnDrop: drop");
    }
}

// === a panicking wake ===

#[test]
fn send_that_wakes_a_receive_with_a_panicking_waker_panics_but_the_exchange_completes() {
    let (tx, rx) = channel::<u32>();
    let mut recv = pin!(rx.recv());
    assert!(matches!(
        poll_with(recv.as_mut(), &panicking_waker()),
        Ok(Poll::Pending)
    ));

    let w = TestWaker::new();
    let mut send = pin!(tx.send(5));
    // The send registered its message, then waking the receive panicked in its poll.
    assert!(poll_with(send.as_mut(), w.waker()).is_err());

    // The receive was notified all the same: polled with a sound waker it takes the message.
    assert_eq!(TestWaker::new().poll(recv.as_mut()), Poll::Ready(Ok(5)));
    assert!(w.is_woken());
    assert_eq!(w.poll(send.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn receive_that_wakes_a_send_with_a_panicking_waker_panics_and_the_send_completes() {
    let log = DropLog::new();
    let (tx, rx) = channel::<Tracked>();
    let mut send = pin!(tx.send(Tracked::new(1, &log)));
    assert!(matches!(
        poll_with(send.as_mut(), &panicking_waker()),
        Ok(Poll::Pending)
    ));

    // The receive took the message, then waking its send panicked: the panic comes out of the
    // receive's poll and the message it had taken is dropped while unwinding (documented).
    let mut recv = pin!(rx.recv());
    assert!(poll_with(recv.as_mut(), TestWaker::new().waker()).is_err());
    assert_eq!(log.dropped(), 1);
    // The send completed: a receive took its message, exactly once.
    assert_eq!(TestWaker::new().poll(send.as_mut()), Poll::Ready(Ok(())));

    // Everyone else carries on.
    let w = TestWaker::new();
    let mut recv2 = pin!(rx.recv());
    assert!(w.poll(recv2.as_mut()).is_pending());
    let mut send2 = pin!(tx.send(Tracked::new(2, &log)));
    assert!(TestWaker::new().poll(send2.as_mut()).is_pending());
    assert!(w.is_woken());
    assert_eq!(
        w.poll(recv2.as_mut()).map(|r| r.map(|t| t.id)),
        Poll::Ready(Ok(2))
    );
    assert_eq!(log.dropped(), 2);
}

#[test]
fn try_recv_that_wakes_a_send_with_a_panicking_waker_drops_the_message_it_took_exactly_once() {
    let log = DropLog::new();
    let (tx, rx) = channel::<Tracked>();
    let mut send = pin!(tx.send(Tracked::new(1, &log)));
    assert!(matches!(
        poll_with(send.as_mut(), &panicking_waker()),
        Ok(Poll::Pending)
    ));

    // `try_recv` took the message, then waking its send panicked: the message it was about to
    // return is dropped while unwinding, once, and not left behind in the channel.
    assert!(catch_unwind(AssertUnwindSafe(|| rx.try_recv())).is_err());
    assert_eq!(log.dropped(), 1);
    assert_eq!(TestWaker::new().poll(send.as_mut()), Poll::Ready(Ok(())));
    assert!(rx.try_recv().is_err());
    drop(rx);
    assert_eq!(log.dropped(), 1);
}

#[test]
fn try_send_that_wakes_a_panicking_waker_still_holds_its_message_for_the_receive() {
    let (tx, rx) = channel::<u32>();
    let mut recv = pin!(rx.recv());
    assert!(matches!(
        poll_with(recv.as_mut(), &panicking_waker()),
        Ok(Poll::Pending)
    ));

    // The message was held before the wake panicked: the call's effect stands.
    assert!(catch_unwind(AssertUnwindSafe(|| tx.try_send(3))).is_err());
    assert_eq!(tx.try_send(4), Err(TrySendError::Full(4)));
    assert_eq!(TestWaker::new().poll(recv.as_mut()), Poll::Ready(Ok(3)));
}

#[test]
fn close_with_a_panicking_waker_still_wakes_and_disconnects_every_other_waiter() {
    // More waiters than one wake batch holds, so that close needs several batches; the panicking
    // waker is in the first one.
    let (tx, rx) = channel::<usize>();
    let wakers: Vec<TestWaker> = (0..20).map(|_| TestWaker::new()).collect();
    let mut recvs: Vec<_> = (0..20).map(|_| Box::pin(rx.recv())).collect();
    assert!(matches!(
        poll_with(recvs[0].as_mut(), &panicking_waker()),
        Ok(Poll::Pending)
    ));
    for (recv, w) in recvs.iter_mut().zip(&wakers).skip(1) {
        assert!(w.poll(recv.as_mut()).is_pending());
    }

    assert!(catch_unwind(AssertUnwindSafe(|| tx.close())).is_err());
    assert!(tx.is_closed());
    for (recv, w) in recvs.iter_mut().zip(&wakers).skip(1) {
        assert!(w.is_woken(), "a waiter was left unwoken");
        assert_eq!(w.poll(recv.as_mut()), Poll::Ready(Err(RecvError)));
    }
    assert_eq!(
        TestWaker::new().poll(recvs[0].as_mut()),
        Poll::Ready(Err(RecvError))
    );
    assert!(rx.is_closed());
}

#[test]
fn close_with_a_panicking_send_waker_still_returns_every_other_message() {
    let (tx, rx) = channel::<usize>();
    let mut sends: Vec<_> = (0..20).map(|i| Box::pin(tx.send(i))).collect();
    let wakers: Vec<TestWaker> = (0..20).map(|_| TestWaker::new()).collect();
    assert!(matches!(
        poll_with(sends[0].as_mut(), &panicking_waker()),
        Ok(Poll::Pending)
    ));
    for (send, w) in sends.iter_mut().zip(&wakers).skip(1) {
        assert!(w.poll(send.as_mut()).is_pending());
    }
    assert!(catch_unwind(AssertUnwindSafe(|| rx.close())).is_err());
    for (i, (send, w)) in sends.iter_mut().zip(&wakers).enumerate().skip(1) {
        assert!(w.is_woken(), "send {i} was left unwoken");
        assert_eq!(w.poll(send.as_mut()), Poll::Ready(Err(SendError(i))));
    }
    assert_eq!(
        TestWaker::new().poll(sends[0].as_mut()),
        Poll::Ready(Err(SendError(0)))
    );
}

#[test]
fn notified_receive_dropped_passes_its_turn_even_if_the_next_waker_panics() {
    let (tx, rx) = channel::<u32>();
    let mut first = Box::pin(rx.recv());
    assert!(TestWaker::new().poll(first.as_mut()).is_pending());
    let mut second = pin!(rx.recv());
    assert!(matches!(
        poll_with(second.as_mut(), &panicking_waker()),
        Ok(Poll::Pending)
    ));
    let mut third = pin!(rx.recv());
    let w3 = TestWaker::new();
    assert!(w3.poll(third.as_mut()).is_pending());

    let mut send = pin!(tx.send(8));
    assert!(TestWaker::new().poll(send.as_mut()).is_pending()); // notifies `first`
                                                                // Dropping `first` passes the turn to `second`, whose waker panics out of the drop.
    assert!(catch_unwind(AssertUnwindSafe(move || drop(first))).is_err());
    // `second` holds the turn; polled with a sound waker it takes the message.
    assert_eq!(TestWaker::new().poll(second.as_mut()), Poll::Ready(Ok(8)));
    assert!(w3.poll(third.as_mut()).is_pending());
}

#[test]
fn waker_whose_clone_panics_leaves_nothing_registered() {
    /// A waker whose `clone` panics: registering it must fail before the channel changes.
    fn raw(_: *const ()) -> std::task::RawWaker {
        panic!("clone");
    }
    fn noop(_: *const ()) {}
    static VTABLE: std::task::RawWakerVTable =
        std::task::RawWakerVTable::new(raw, noop, noop, noop);
    // SAFETY: the vtable's functions ignore the data pointer, and none of them is unsound.
    let waker = unsafe { Waker::from_raw(std::task::RawWaker::new(std::ptr::null(), &VTABLE)) };

    let (tx, rx) = channel::<u32>();
    let mut recv = pin!(rx.recv());
    assert!(poll_with(recv.as_mut(), &waker).is_err());
    assert_eq!(
        tx.try_send(1),
        Err(TrySendError::Full(1)),
        "nothing may be waiting"
    );
    let mut send = pin!(tx.send(2));
    assert!(poll_with(send.as_mut(), &waker).is_err());
    assert_eq!(
        rx.try_recv(),
        Err(rendez::TryRecvError::Empty),
        "no offer may be left"
    );
    std::mem::forget(waker);
}

// === a panicking message drop ===

#[test]
fn cancelled_send_whose_message_panics_on_drop_leaves_the_channel_usable() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel::<Result<u32, PanicOnDrop>>();
    let mut send = Box::pin(tx.send(Err(PanicOnDrop(drops.clone()))));
    assert!(TestWaker::new().poll(send.as_mut()).is_pending());
    assert!(catch_unwind(AssertUnwindSafe(move || drop(send))).is_err());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(
        rx.try_recv().err(),
        Some(rendez::TryRecvError::Empty),
        "the send was withdrawn"
    );

    let (sent, got) =
        futures::executor::block_on(async { futures::join!(tx.send(Ok(7)), rx.recv()) });
    assert!(sent.is_ok());
    assert!(matches!(got, Ok(Ok(7))));
}

#[test]
fn held_message_that_panics_on_drop_is_dropped_once_when_the_last_receiver_goes() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel::<PanicOnDrop>();
    let mut recv = Box::pin(rx.recv());
    assert!(TestWaker::new().poll(recv.as_mut()).is_pending());
    assert!(tx.try_send(PanicOnDrop(drops.clone())).is_ok());
    drop(recv);
    assert!(catch_unwind(AssertUnwindSafe(move || drop(rx))).is_err());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert!(
        tx.is_closed(),
        "the last receiver's drop closed the channel before the panic"
    );
    let back = tx.try_send(PanicOnDrop(Arc::new(AtomicUsize::new(0))));
    let back = back.unwrap_err();
    assert!(back.is_disconnected());
    let msg = back.into_inner();
    assert!(catch_unwind(AssertUnwindSafe(move || drop(msg))).is_err());
}

#[test]
fn static_channel_dropped_with_a_held_message_that_panics_drops_it_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let ch = Box::new(Channel::<PanicOnDrop>::new());
    {
        let mut recv = pin!(ch.recv());
        assert!(TestWaker::new().poll(recv.as_mut()).is_pending());
        assert!(ch.try_send(PanicOnDrop(drops.clone())).is_ok());
    }
    assert!(catch_unwind(AssertUnwindSafe(move || drop(ch))).is_err());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}
