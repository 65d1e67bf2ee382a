//! rendez as firmware uses it: `cargo test --no-default-features --test no_std` runs these
//! against the `#![no_std]` crate with no allocator (they pass with the default features too).
//!
//! Only the static [`Channel`] with the [`SpinLock`], and no runtime: a hand-written executor
//! with a no-op waker polls the tasks in turn, as a bare-metal main loop would. Nothing here
//! allocates or needs `std` from rendez (the test harness itself runs on `std`).

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use futures::future::FusedFuture;
use futures::stream::{FusedStream, Stream};
use rendez::lock::SpinLock;
use rendez::{Channel, RecvError, SendError, TryRecvError, TrySendError};

// === a main-loop executor ===

/// The vtable of [`noop_waker`]: every function ignores the data pointer.
static NOOP_VTABLE: RawWakerVTable = RawWakerVTable::new(noop_clone, noop, noop, noop);

fn noop_raw_waker() -> RawWaker {
    RawWaker::new(core::ptr::null(), &NOOP_VTABLE)
}

unsafe fn noop_clone(_: *const ()) -> RawWaker {
    noop_raw_waker()
}

unsafe fn noop(_: *const ()) {}

/// A waker that does nothing: the executor polls every task in turn anyway.
fn noop_waker() -> Waker {
    // SAFETY: the vtable's functions ignore the (null) data pointer and do nothing, and cloning
    // returns the same waker: the `RawWaker` contract holds trivially.
    unsafe { Waker::from_raw(noop_raw_waker()) }
}

/// Polls `a` and `b` in turn until both are done, like a firmware main loop with two tasks.
/// Panics if they do not finish within `ROUNDS` rounds: they would hang a real executor.
fn run_two<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    const ROUNDS: usize = 10_000;
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut out_a, mut out_b) = (None, None);
    for _ in 0..ROUNDS {
        if out_a.is_none() {
            if let Poll::Ready(out) = a.as_mut().poll(&mut cx) {
                out_a = Some(out);
            }
        }
        if out_b.is_none() {
            if let Poll::Ready(out) = b.as_mut().poll(&mut cx) {
                out_b = Some(out);
            }
        }
        if let (Some(_), Some(_)) = (&out_a, &out_b) {
            return (out_a.unwrap(), out_b.unwrap());
        }
    }
    panic!("the tasks did not finish in {ROUNDS} rounds");
}

/// Polls `fut` once.
fn poll_once<F: Future + ?Sized>(fut: core::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(&noop_waker()))
}

// === the tests ===

/// Without `std`, `Channel<T>` means `Channel<T, SpinLock>`.
#[cfg(not(feature = "std"))]
#[test]
fn without_std_the_default_lock_is_the_spin_lock() {
    let _: Channel<u32, SpinLock> = Channel::<u32>::new();
}

#[test]
fn two_tasks_exchange_every_message_through_a_static_channel() {
    static CH: Channel<u32, SpinLock> = Channel::new();
    let producer = async {
        for n in 1..=100 {
            CH.send(n).await.unwrap();
        }
        CH.close(); // a static channel ends only when it is closed
    };
    let consumer = async {
        let (mut count, mut sum, mut last) = (0, 0, 0);
        while let Ok(n) = CH.recv().await {
            assert!(n > last, "in order");
            (count, sum, last) = (count + 1, sum + n, n);
        }
        (count, sum)
    };
    let ((), (count, sum)) = run_two(producer, consumer);
    assert_eq!((count, sum), (100, 5050));
}

#[test]
fn a_send_completes_only_after_the_receive_took_its_message() {
    let ch = Channel::<u32, SpinLock>::new();
    let mut send = pin!(ch.send(7));
    let mut recv = pin!(ch.recv());
    assert!(poll_once(recv.as_mut()).is_pending());
    assert!(
        poll_once(send.as_mut()).is_pending(),
        "offered, not yet taken"
    );
    assert!(!send.is_terminated());
    assert_eq!(poll_once(recv.as_mut()), Poll::Ready(Ok(7)));
    assert!(recv.is_terminated());
    assert_eq!(poll_once(send.as_mut()), Poll::Ready(Ok(())));
    assert!(send.is_terminated());
}

#[test]
fn try_send_and_try_recv_need_a_waiting_peer() {
    let ch = Channel::<u32, SpinLock>::new();
    assert_eq!(ch.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(ch.try_recv(), Err(TryRecvError::Empty));

    let mut send = pin!(ch.send(2));
    assert!(poll_once(send.as_mut()).is_pending());
    assert_eq!(ch.try_recv(), Ok(2));
    assert_eq!(poll_once(send.as_mut()), Poll::Ready(Ok(())));

    let mut recv = pin!(ch.recv());
    assert!(poll_once(recv.as_mut()).is_pending());
    assert_eq!(ch.try_send(3), Ok(()), "held for the waiting receive");
    assert_eq!(poll_once(recv.as_mut()), Poll::Ready(Ok(3)));
}

#[test]
fn close_fails_waiting_and_later_operations() {
    let ch = Channel::<u32, SpinLock>::new();
    let mut send = pin!(ch.send(1));
    assert!(poll_once(send.as_mut()).is_pending());
    assert!(ch.close());
    assert!(!ch.close());
    assert_eq!(poll_once(send.as_mut()), Poll::Ready(Err(SendError(1))));
    assert_eq!(poll_once(pin!(ch.recv())), Poll::Ready(Err(RecvError)));
    assert_eq!(ch.try_send(2), Err(TrySendError::Disconnected(2)));
    assert_eq!(ch.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn a_cancelled_send_gives_its_message_back() {
    let ch = Channel::<u32, SpinLock>::new();
    let mut send = pin!(ch.send(5));
    assert!(poll_once(send.as_mut()).is_pending());
    assert_eq!(send.as_mut().cancel(), Some(5));
    assert!(send.is_terminated());
    assert_eq!(ch.try_recv(), Err(TryRecvError::Empty), "withdrawn");
}

#[test]
fn a_static_channel_is_a_stream() {
    static CH: Channel<u32, SpinLock> = Channel::new();
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut stream = pin!(CH.stream());
    assert!(stream.as_mut().poll_next(&mut cx).is_pending());
    let mut send = pin!(CH.send(1));
    assert!(poll_once(send.as_mut()).is_pending());
    assert_eq!(stream.as_mut().poll_next(&mut cx), Poll::Ready(Some(1)));
    assert_eq!(poll_once(send.as_mut()), Poll::Ready(Ok(())));
    CH.close();
    assert_eq!(stream.as_mut().poll_next(&mut cx), Poll::Ready(None));
    assert!(stream.is_terminated());
    assert_eq!(stream.as_mut().poll_next(&mut cx), Poll::Ready(None));
}

#[test]
fn a_task_waiting_on_closed_ends_when_another_closes_the_channel() {
    static CH: Channel<u8, SpinLock> = Channel::new();
    let watcher = async {
        CH.closed().await;
        CH.is_closed()
    };
    let closer = async {
        assert_eq!(CH.try_send(1), Err(TrySendError::Full(1)));
        CH.close()
    };
    assert_eq!(run_two(watcher, closer), (true, true));
    // A new watcher of the closed channel resolves on its first poll.
    let ((), ()) = run_two(CH.closed(), async {});
}
