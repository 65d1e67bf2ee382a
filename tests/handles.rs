//! What issue 10 added to the handles and futures, one section per point:
//!
//! 1. `SendFut` / `RecvFut` are `FusedFuture`s: `futures::select!` takes them without `.fuse()`.
//! 2. `send_owned` / `recv_owned`: `'static`, `Send` futures that can be spawned, with the same
//!    rendezvous, cancel safety and counting as the handles.
//! 3. Blocking iteration: `iter`, `try_iter`, `for msg in &rx`, `for msg in rx`.
//! 4. Weak handles: `downgrade` / `upgrade`, which never keeps or reopens a channel.
//! 5. `send_deadline` / `recv_deadline` on `Sender`, `Receiver` and `Channel`.
//! 6. `Channel::stream`: a static channel as a `Stream` + `FusedStream`.
//!
//! and, for points 2, 4 and 6, that they allocate nothing (a counting global allocator that
//! counts only on threads that switched it on, as in `tests/no_alloc.rs`).
#![cfg(feature = "std")]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use common::{join, scaled, wait_until, watchdog, DropLog, TestWaker, Tracked};
use futures::executor::block_on;
use futures::future::{self, FusedFuture};
use futures::stream::{FusedStream, Stream, StreamExt};
use rendez::{
    Channel, RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};

/// Compiles only for a future that `tokio::spawn` and friends accept.
fn assert_spawnable<F>(_: &F)
where
    F: Future + Send + 'static,
    F::Output: Send,
{
}

/// Compiles only for a `FusedFuture`.
fn assert_fused<F: FusedFuture>(_: &F) {}

/// Compiles only for a type that may be shared and sent between threads.
fn assert_send_sync<T: Send + Sync>() {}

// === 1. FusedFuture ===

#[test]
fn futures_select_takes_send_and_recv_futures_without_fuse() {
    block_on(async {
        let (tx, rx) = rendez::channel();
        // No peer is waiting, so the ready arm wins; the dropped send withdrew its message and
        // the dropped receive took nothing.
        futures::select! {
            _ = tx.send(1) => panic!("no receive is waiting"),
            () = future::ready(()) => {}
        }
        futures::select! {
            _ = rx.recv() => panic!("no send is waiting"),
            () = future::ready(()) => {}
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));

        // Both ends in one select, pinned and polled until each has resolved: a resolved future
        // is skipped (polling it again would panic), the other one is polled on.
        let mut send = pin!(tx.send(2));
        let mut recv = pin!(rx.recv());
        let (mut sent, mut got) = (None, None);
        while sent.is_none() || got.is_none() {
            futures::select! {
                res = send.as_mut() => sent = Some(res),
                res = recv.as_mut() => got = Some(res),
            }
        }
        assert_eq!((sent, got), (Some(Ok(())), Some(Ok(2))));
        assert!(send.is_terminated() && recv.is_terminated());
    });
}

#[test]
fn send_and_recv_futures_are_terminated_once_they_resolve() {
    let (ws, wr) = (TestWaker::new(), TestWaker::new());
    let (tx, rx) = rendez::channel();
    let mut send = pin!(tx.send(1));
    let mut recv = pin!(rx.recv());
    assert!(!send.is_terminated() && !recv.is_terminated());
    assert!(ws.poll(send.as_mut()).is_pending());
    assert!(!send.is_terminated(), "pending");
    assert_eq!(wr.poll(recv.as_mut()), Poll::Ready(Ok(1)));
    assert!(recv.is_terminated());
    assert!(
        !send.is_terminated(),
        "taken, but the send has not been polled since"
    );
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
    assert!(send.is_terminated());
}

#[test]
fn a_cancelled_send_is_terminated() {
    let w = TestWaker::new();
    let (tx, _rx) = rendez::channel();
    let mut unstarted = pin!(tx.send(1));
    assert_eq!(unstarted.as_mut().cancel(), Some(1));
    assert!(unstarted.is_terminated());

    let mut waiting = pin!(tx.send(2));
    assert!(w.poll(waiting.as_mut()).is_pending());
    assert_eq!(waiting.as_mut().cancel(), Some(2));
    assert!(waiting.is_terminated());
}

#[test]
fn futures_that_fail_on_a_closed_channel_are_terminated() {
    let w = TestWaker::new();
    let (tx, rx) = rendez::channel::<u8>();
    rx.close();
    let mut send = pin!(tx.send(1));
    let mut recv = pin!(rx.recv());
    assert_eq!(w.poll(send.as_mut()), Poll::Ready(Err(SendError(1))));
    assert_eq!(w.poll(recv.as_mut()), Poll::Ready(Err(RecvError)));
    assert!(send.is_terminated() && recv.is_terminated());
}

// === 2. send_owned / recv_owned ===

#[test]
fn owned_futures_are_spawnable_and_fused() {
    let (tx, rx) = rendez::channel::<String>();
    let send = tx.send_owned(String::from("x"));
    let recv = rx.recv_owned();
    assert_spawnable(&send);
    assert_spawnable(&recv);
    assert_fused(&send);
    assert_fused(&recv);
    assert_send_sync::<rendez::SendOwned<String>>();
    assert_send_sync::<rendez::RecvOwned<String>>();
    // They borrow nothing: the handles can go while the futures live on.
    drop((tx, rx));
    assert!(format!("{send:?}").starts_with("SendOwned"));
    assert!(format!("{recv:?}").starts_with("RecvOwned"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_owned_futures_deliver_every_message_once() {
    let (tx, rx) = rendez::channel::<usize>();
    let n = scaled(200);
    let receives: Vec<_> = (0..n).map(|_| tokio::spawn(rx.recv_owned())).collect();
    let sends: Vec<_> = (0..n).map(|i| tokio::spawn(tx.send_owned(i))).collect();
    for send in sends {
        assert_eq!(watchdog(send).await.unwrap(), Ok(()));
    }
    let mut got = Vec::new();
    for recv in receives {
        got.push(watchdog(recv).await.unwrap().unwrap());
    }
    got.sort_unstable();
    assert_eq!(got, (0..n).collect::<Vec<_>>());
}

#[tokio::test(flavor = "current_thread")]
async fn a_spawned_send_owned_completes_only_after_a_receive_took_its_message() {
    let (tx, rx) = rendez::channel();
    let send = tokio::spawn(tx.send_owned(7));
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!send.is_finished(), "no receive has taken the message");
    assert_eq!(rx.recv().await, Ok(7));
    assert_eq!(watchdog(send).await.unwrap(), Ok(()));
}

#[test]
fn owned_futures_meet_strictly_by_hand() {
    let (ws, wr) = (TestWaker::new(), TestWaker::new());
    let (tx, rx) = rendez::channel();
    let mut recv = pin!(rx.recv_owned());
    let mut send = pin!(tx.send_owned(7));
    assert!(wr.poll(recv.as_mut()).is_pending());
    assert!(
        ws.poll(send.as_mut()).is_pending(),
        "the receive has not taken it yet"
    );
    assert!(wr.is_woken(), "the waiting receive is woken for the offer");
    assert!(!ws.is_woken());
    assert_eq!(wr.poll(recv.as_mut()), Poll::Ready(Ok(7)));
    assert!(ws.is_woken(), "taking the message wakes the send");
    assert!(!send.is_terminated());
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
    assert!(send.is_terminated() && recv.is_terminated());
}

#[test]
fn dropping_a_pending_send_owned_drops_its_message_undelivered() {
    let w = TestWaker::new();
    let log = DropLog::new();
    let (tx, rx) = rendez::channel();
    let mut send = Box::pin(tx.send_owned(Tracked::new(1, &log)));
    assert!(w.poll(send.as_mut()).is_pending());
    drop(send);
    assert_eq!(log.dropped(), 1);
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "no receive sees it"
    );
}

#[test]
fn send_owned_cancel_tells_whether_the_message_was_delivered() {
    let (ws, wr) = (TestWaker::new(), TestWaker::new());
    let (tx, rx) = rendez::channel();
    let mut withdrawn = pin!(tx.send_owned(1));
    assert!(ws.poll(withdrawn.as_mut()).is_pending());
    assert_eq!(withdrawn.as_mut().cancel(), Some(1));
    assert!(withdrawn.is_terminated());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));

    let mut delivered = pin!(tx.send_owned(2));
    assert!(ws.poll(delivered.as_mut()).is_pending());
    assert_eq!(wr.poll(pin!(rx.recv())), Poll::Ready(Ok(2)));
    assert_eq!(delivered.as_mut().cancel(), None, "a receive took it");
}

#[test]
fn dropping_a_woken_recv_owned_passes_its_turn_on() {
    let (wa, wb, ws) = (TestWaker::new(), TestWaker::new(), TestWaker::new());
    let (tx, rx) = rendez::channel();
    let mut first = Box::pin(rx.recv_owned());
    let mut second = pin!(rx.recv());
    assert!(wa.poll(first.as_mut()).is_pending());
    assert!(wb.poll(second.as_mut()).is_pending());
    let mut send = pin!(tx.send(5));
    assert!(ws.poll(send.as_mut()).is_pending());
    assert!(
        wa.is_woken() && !wb.is_woken(),
        "the first in line is woken"
    );
    drop(first);
    assert!(wb.is_woken(), "its turn passed on");
    assert_eq!(wb.poll(second.as_mut()), Poll::Ready(Ok(5)));
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn owned_futures_count_as_handles_and_keep_the_channel_open_until_dropped() {
    let (tx, rx) = rendez::channel::<u32>();
    let send = tx.send_owned(1);
    assert_eq!(tx.sender_count(), 2);
    drop(tx);
    assert!(!rx.is_closed(), "the send_owned future is a sender");
    drop(send);
    assert!(rx.is_closed());
    assert_eq!(rx.sender_count(), 0);

    let (tx, rx) = rendez::channel::<u32>();
    let recv = rx.recv_owned();
    assert_eq!(rx.receiver_count(), 2);
    drop(rx);
    assert!(!tx.is_closed(), "the recv_owned future is a receiver");
    drop(recv);
    assert!(tx.is_closed());
    assert_eq!(tx.receiver_count(), 0);
}

#[tokio::test(flavor = "current_thread")]
async fn a_recv_owned_outlives_its_receiver() {
    let (tx, rx) = rendez::channel();
    let recv = tokio::spawn(rx.recv_owned());
    drop(rx);
    assert_eq!(tx.send(3).await, Ok(()));
    assert_eq!(watchdog(recv).await.unwrap(), Ok(3));
    assert!(tx.is_closed(), "the finished future was the last receiver");
}

#[test]
fn the_last_recv_owned_drops_a_held_try_send_message() {
    let w = TestWaker::new();
    let log = DropLog::new();
    let (tx, rx) = rendez::channel();
    let mut recv = Box::pin(rx.recv_owned());
    assert!(w.poll(recv.as_mut()).is_pending());
    drop(rx);
    assert!(
        tx.try_send(Tracked::new(1, &log)).is_ok(),
        "held for the waiting receive"
    );
    drop(recv);
    assert!(tx.is_closed());
    assert_eq!(log.dropped(), 1, "no receiver is left to take it");
}

#[test]
fn owned_futures_fail_on_a_closed_channel() {
    block_on(async {
        let (tx, rx) = rendez::channel::<u8>();
        tx.close();
        assert_eq!(tx.send_owned(1).await, Err(SendError(1)));
        assert_eq!(rx.recv_owned().await, Err(RecvError));
    });
}

#[test]
fn recv_owned_takes_the_receivers_stream_out_of_line() {
    let (wn, wr, ws) = (TestWaker::new(), TestWaker::new(), TestWaker::new());
    let (tx, mut rx) = rendez::channel();
    // The stream waits, then its `next()` is abandoned: it stays registered.
    assert!(Pin::new(&mut rx)
        .poll_next(&mut Context::from_waker(wn.waker()))
        .is_pending());
    let mut recv = pin!(rx.recv_owned());
    assert!(wr.poll(recv.as_mut()).is_pending());
    let mut send = pin!(tx.send(4));
    assert!(ws.poll(send.as_mut()).is_pending());
    assert!(!wn.is_woken(), "the stream was taken out of line");
    assert!(wr.is_woken(), "the owned receive is first in line");
    assert_eq!(wr.poll(recv.as_mut()), Poll::Ready(Ok(4)));
}

// === 3. blocking iteration ===

#[test]
fn iter_receives_until_the_channel_is_closed() {
    let (tx, rx) = rendez::channel();
    let n = scaled(100);
    let producer = thread::spawn(move || {
        for i in 0..n {
            tx.send_blocking(i).unwrap();
        }
    });
    assert_eq!(rx.iter().collect::<Vec<_>>(), (0..n).collect::<Vec<_>>());
    join(producer);
}

#[test]
fn for_loops_over_a_borrowed_and_an_owned_receiver() {
    let (tx, rx) = rendez::channel();
    let tx2 = tx.clone();
    let producer = thread::spawn(move || {
        for i in 0..3 {
            tx2.send_blocking(i).unwrap();
        }
    });
    let mut got = Vec::new();
    for n in &rx {
        got.push(n);
        if got.len() == 3 {
            break; // the channel is still open: one Sender is left
        }
    }
    join(producer);
    assert_eq!(got, [0, 1, 2]);

    let rx2 = rx.clone();
    let consumer = thread::spawn(move || {
        let mut got = Vec::new();
        for n in rx2 {
            got.push(n);
        }
        got
    });
    for i in 3..6 {
        tx.send_blocking(i).unwrap();
    }
    drop(tx);
    assert_eq!(join(consumer), [3, 4, 5]);
    assert_eq!(
        rx.receiver_count(),
        1,
        "the owning iterator dropped its Receiver"
    );
}

#[test]
fn iterators_stay_ended_once_the_channel_is_closed() {
    let (tx, rx) = rendez::channel::<u8>();
    drop(tx);
    let mut iter = rx.iter();
    assert_eq!(iter.next(), None);
    assert_eq!(iter.next(), None);
    let mut owned = rx.into_iter();
    assert_eq!(owned.next(), None);
    assert_eq!(owned.next(), None);
}

#[test]
fn try_iter_takes_the_waiting_sends_in_order_and_never_blocks() {
    let w = TestWaker::new();
    let (tx, rx) = rendez::channel();
    assert_eq!(rx.try_iter().next(), None, "no send is waiting");
    let mut sends: Vec<_> = (0..3).map(|i| Box::pin(tx.send(i))).collect();
    for send in &mut sends {
        assert!(w.poll(send.as_mut()).is_pending());
    }
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(rx.try_iter().next(), None, "nothing more is waiting");
    for send in &mut sends {
        assert_eq!(w.poll(send.as_mut()), Poll::Ready(Ok(())));
    }
    // A later `try_iter` (or `next`) finds new sends.
    let mut late = pin!(tx.send(3));
    assert!(w.poll(late.as_mut()).is_pending());
    assert_eq!(rx.try_iter().next(), Some(3));
    tx.close();
    assert_eq!(rx.try_iter().next(), None, "closed");
}

#[test]
fn iterators_are_debug() {
    let (_tx, rx) = rendez::channel::<u8>();
    assert!(format!("{:?}", rx.iter()).starts_with("Iter"));
    assert!(format!("{:?}", rx.try_iter()).starts_with("TryIter"));
    assert!(format!("{:?}", rx.into_iter()).starts_with("IntoIter"));
}

// === 4. weak handles ===

#[test]
fn a_weak_sender_does_not_keep_the_channel_open() {
    let (tx, rx) = rendez::channel::<u8>();
    let weak = tx.downgrade();
    assert_eq!(
        (weak.sender_count(), tx.sender_count()),
        (1, 1),
        "weak ones are not counted"
    );
    let upgraded = weak.upgrade().expect("a Sender is alive");
    assert_eq!(tx.sender_count(), 2);
    assert!(upgraded.same_channel(&tx));
    drop(tx);
    assert!(!rx.is_closed(), "the upgraded Sender keeps it open");
    drop(upgraded);
    assert!(rx.is_closed());
    assert!(weak.upgrade().is_none());
    assert!(weak.clone().upgrade().is_none());
    assert_eq!(
        rx.sender_count(),
        0,
        "a failed upgrade leaves the count at 0"
    );
}

#[test]
fn a_weak_receiver_does_not_keep_the_channel_open() {
    let (tx, rx) = rendez::channel::<u8>();
    let weak = rx.downgrade();
    let upgraded = weak.upgrade().expect("a Receiver is alive");
    assert_eq!(rx.receiver_count(), 2);
    drop(rx);
    assert!(!tx.is_closed());
    let t = thread::spawn(move || upgraded.recv_blocking());
    tx.send_blocking(9).unwrap();
    assert_eq!(join(t), Ok(9));
    assert!(tx.is_closed(), "the upgraded Receiver was the last");
    assert!(weak.upgrade().is_none());
    assert_eq!(tx.try_send(1), Err(TrySendError::Disconnected(1)));
}

#[test]
fn an_upgrade_never_reopens_a_closed_channel() {
    // Upgrades race the drop of the last Sender. Whoever upgrades holds a count above 0, so the
    // channel cannot have closed while it holds it; once the count reached 0, every upgrade
    // fails.
    for _ in 0..scaled(200) {
        let (tx, rx) = rendez::channel::<u8>();
        let weak = tx.downgrade();
        let start = Arc::new(AtomicBool::new(false));
        let upgraders: Vec<_> = (0..2)
            .map(|_| {
                let (weak, start) = (weak.clone(), start.clone());
                thread::spawn(move || {
                    while !start.load(Ordering::Acquire) {
                        std::hint::spin_loop();
                    }
                    let mut upgrades = 0;
                    while let Some(tx) = weak.upgrade() {
                        assert!(!tx.is_closed(), "upgraded into a closed channel");
                        upgrades += 1;
                        if upgrades == 1000 {
                            break;
                        }
                    }
                    upgrades
                })
            })
            .collect();
        start.store(true, Ordering::Release);
        drop(tx);
        for upgrader in upgraders {
            join(upgrader);
        }
        // Every upgraded Sender is gone again: the count is 0 and stays there.
        assert!(rx.is_closed());
        assert!(weak.upgrade().is_none());
        assert_eq!(rx.sender_count(), 0);
    }
}

#[test]
fn weak_handles_are_clone_debug_send_and_sync() {
    assert_send_sync::<rendez::WeakSender<String>>();
    assert_send_sync::<rendez::WeakReceiver<String>>();
    let (tx, rx) = rendez::channel::<u8>();
    let (ws, wr) = (tx.downgrade(), rx.downgrade());
    assert_eq!(
        format!("{:?}", ws.clone()),
        "WeakSender { senders: 1, receivers: 1 }"
    );
    assert_eq!(
        format!("{:?}", wr.clone()),
        "WeakReceiver { senders: 1, receivers: 1 }"
    );
    assert_eq!((wr.sender_count(), wr.receiver_count()), (1, 1));
}

// === 5. deadlines ===

#[test]
fn send_deadline_times_out_with_the_message() {
    let log = DropLog::new();
    let (tx, rx) = rendez::channel();
    let deadline = Instant::now() + Duration::from_millis(20);
    match tx.send_deadline(Tracked::new(1, &log), deadline) {
        Err(SendTimeoutError::Timeout(msg)) => assert_eq!(msg.id, 1),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(Instant::now() >= deadline);
    assert_eq!(log.dropped(), 1, "given back, then dropped here");
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "nothing was left behind"
    );
}

#[test]
fn recv_deadline_times_out() {
    let (_tx, rx) = rendez::channel::<u8>();
    let deadline = Instant::now() + Duration::from_millis(20);
    assert_eq!(rx.recv_deadline(deadline), Err(RecvTimeoutError::Timeout));
    assert!(Instant::now() >= deadline);
}

#[test]
fn deadlines_meet_a_peer_that_comes_in_time() {
    let (tx, rx) = rendez::channel();
    let far = || Instant::now() + common::WATCHDOG;
    let t = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        tx.send_deadline(1, far())
    });
    assert_eq!(rx.recv_deadline(far()), Ok(1));
    assert_eq!(join(t), Ok(()));
}

#[test]
fn a_passed_deadline_still_takes_a_waiting_peer() {
    let w = TestWaker::new();
    let (tx, rx) = rendez::channel();
    // A waiting send: a receive with a deadline already passed takes its message.
    let mut send = pin!(tx.send(1));
    assert!(w.poll(send.as_mut()).is_pending());
    assert_eq!(rx.recv_deadline(Instant::now()), Ok(1));
    assert_eq!(w.poll(send.as_mut()), Poll::Ready(Ok(())));

    // A blocked receive: a send with a deadline already passed hands it the message.
    let t = thread::spawn(move || rx.recv_blocking());
    let mut msg = Some(2);
    wait_until(
        "a send with a passed deadline met the blocked receive",
        || {
            match tx.send_deadline(msg.take().unwrap(), Instant::now()) {
                Ok(()) => true,
                Err(SendTimeoutError::Timeout(back)) => {
                    msg = Some(back); // the receive is not waiting yet
                    false
                }
                Err(SendTimeoutError::Disconnected(_)) => panic!("the receiver is alive"),
            }
        },
    );
    assert_eq!(join(t), Ok(2));
}

#[test]
fn static_channel_deadlines() {
    static CH: Channel<u32> = Channel::new();
    let soon = || Instant::now() + Duration::from_millis(10);
    assert_eq!(
        CH.send_deadline(1, soon()),
        Err(SendTimeoutError::Timeout(1))
    );
    assert_eq!(CH.recv_deadline(soon()), Err(RecvTimeoutError::Timeout));
    let far = Instant::now() + common::WATCHDOG;
    let t = thread::spawn(move || CH.recv_deadline(far));
    assert_eq!(CH.send_deadline(2, far), Ok(()));
    assert_eq!(join(t), Ok(2));
    CH.close();
    assert_eq!(
        CH.send_deadline(3, far),
        Err(SendTimeoutError::Disconnected(3))
    );
    assert_eq!(CH.recv_deadline(far), Err(RecvTimeoutError::Disconnected));
}

// === 6. Channel::stream ===

#[test]
fn a_channel_stream_yields_messages_and_ends_when_the_channel_closes() {
    let ch = Channel::<u32>::new();
    let mut stream = pin!(ch.stream());
    block_on(async {
        let producer = async {
            for n in 0..5 {
                ch.send(n).await.unwrap();
            }
            ch.close();
        };
        let consumer = async {
            let mut got = Vec::new();
            while let Some(n) = stream.next().await {
                got.push(n);
            }
            got
        };
        let ((), got) = futures::join!(producer, consumer);
        assert_eq!(got, [0, 1, 2, 3, 4]);
    });
    assert!(stream.is_terminated());
    assert_eq!(block_on(stream.next()), None, "fused: it stays ended");
}

#[test]
fn a_dropped_channel_stream_withdraws_its_node() {
    let w = TestWaker::new();
    let ch = Channel::<u32>::new();
    let mut cx = Context::from_waker(w.waker());
    {
        let mut stream = pin!(ch.stream());
        assert!(stream.as_mut().poll_next(&mut cx).is_pending());
        assert_eq!(
            ch.try_send(1),
            Ok(()),
            "the stream waits: the message is held for it"
        );
        assert!(w.is_woken());
        assert_eq!(stream.as_mut().poll_next(&mut cx), Poll::Ready(Some(1)));
        assert!(stream.as_mut().poll_next(&mut cx).is_pending());
    }
    assert_eq!(
        ch.try_send(2),
        Err(TrySendError::Full(2)),
        "nobody waits any more"
    );
}

#[test]
fn dropping_a_channel_streams_next_future_loses_nothing() {
    let ch = Channel::<u32>::new();
    let mut stream = pin!(ch.stream());
    block_on(async {
        futures::select! {
            _ = stream.next() => panic!("no send is waiting"),
            () = future::ready(()) => {}
        }
        let (got, sent) = futures::join!(stream.next(), ch.send(3));
        assert_eq!((got, sent), (Some(3), Ok(())));
    });
}

#[test]
fn a_waiting_channel_stream_holds_no_other_receive_back() {
    let (wn, wr, ws) = (TestWaker::new(), TestWaker::new(), TestWaker::new());
    let ch = Channel::<u32>::new();
    let mut stream = pin!(ch.stream());
    assert!(stream
        .as_mut()
        .poll_next(&mut Context::from_waker(wn.waker()))
        .is_pending());
    let mut recv = pin!(ch.recv());
    assert!(wr.poll(recv.as_mut()).is_pending());
    let mut send = pin!(ch.send(8));
    assert!(ws.poll(send.as_mut()).is_pending());
    // The stream is first in line but not polled: the receive behind it may take the message.
    assert!(wr.is_woken(), "the receive behind the stream is woken too");
    assert_eq!(wr.poll(recv.as_mut()), Poll::Ready(Ok(8)));
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn channel_streams_are_send_sync_and_debug() {
    assert_send_sync::<rendez::ChannelStream<'static, String>>();
    let ch = Channel::<u8>::new();
    let stream = ch.stream();
    assert_eq!(
        format!("{stream:?}"),
        "ChannelStream { waiting: false, terminated: false, .. }"
    );
}

// === no allocation (points 2, 4 and 6) ===

struct CountingAlloc;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to `System`; counting touches no allocator state
// (`const` thread-locals without destructors: reading them never allocates).
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = COUNTING.try_with(|on| {
            if on.get() {
                let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
            }
        });
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// How many heap allocations this thread made while running `f` (`realloc` and
/// `alloc_zeroed` go through `alloc` by default).
fn count_allocs(f: impl FnOnce()) -> usize {
    ALLOCS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCS.with(Cell::get)
}

#[test]
fn the_counter_counts() {
    assert_eq!(count_allocs(|| drop(std::hint::black_box(Box::new(1)))), 1);
}

#[test]
fn owned_futures_allocate_nothing() {
    let (ws, wr) = (TestWaker::new(), TestWaker::new());
    let (tx, rx) = rendez::channel::<u32>();
    let allocs = count_allocs(|| {
        for i in 0..10 {
            let mut recv = pin!(rx.recv_owned());
            let mut send = pin!(tx.send_owned(i));
            assert!(wr.poll(recv.as_mut()).is_pending());
            assert!(ws.poll(send.as_mut()).is_pending());
            assert_eq!(wr.poll(recv.as_mut()), Poll::Ready(Ok(i)));
            assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
        }
    });
    assert_eq!(allocs, 0);
}

#[test]
fn weak_senders_allocate_nothing() {
    let (tx, rx) = rendez::channel::<u32>();
    let allocs = count_allocs(|| {
        let weak = tx.downgrade();
        let upgraded = weak.upgrade().unwrap();
        drop((weak.clone(), upgraded));
        // (Upgrading a `WeakReceiver` allocates, as `Receiver::clone` does: its stream node.)
        drop(rx.downgrade().clone());
    });
    assert_eq!(allocs, 0);
}

#[test]
fn channel_streams_allocate_nothing() {
    let (wn, ws) = (TestWaker::new(), TestWaker::new());
    let ch = Channel::<u32>::new();
    let allocs = count_allocs(|| {
        let mut stream = pin!(ch.stream());
        let mut cx = Context::from_waker(wn.waker());
        for i in 0..10 {
            assert!(stream.as_mut().poll_next(&mut cx).is_pending());
            let mut send = pin!(ch.send(i));
            assert!(ws.poll(send.as_mut()).is_pending());
            assert_eq!(stream.as_mut().poll_next(&mut cx), Poll::Ready(Some(i)));
            assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
        }
    });
    assert_eq!(allocs, 0);
}
