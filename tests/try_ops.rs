//! CONTRACT rule 5: `try_send` / `try_recv`.
//!
//! `try_send` succeeds only if a receive is waiting right now: a blocked thread takes the message at
//! once; for async receives the message is *held* (one per channel), the first waiting receive is
//! woken and returns it, ahead of waiting sends. `try_recv` succeeds only if a send is waiting or a
//! message is held. With no peer waiting both return at once without registering anything.
#![cfg(feature = "std")]

mod common;

use std::pin::pin;
use std::task::Poll;
use std::thread;

use common::{scaled, DropLog, TestWaker, Tracked};
use rendez::{TryRecvError, TrySendError};

/// Calls `try_send` until a receive is waiting (e.g. a thread that is about to block).
fn try_send_until_taken<T>(tx: &rendez::Sender<T>, mut msg: T) {
    loop {
        match tx.try_send(msg) {
            Ok(()) => return,
            Err(TrySendError::Full(back)) => {
                msg = back;
                thread::yield_now();
            }
            Err(TrySendError::Disconnected(_)) => panic!("channel closed unexpectedly"),
        }
    }
}

/// Calls `try_recv` until a send is waiting.
fn try_recv_until_some<T>(rx: &rendez::Receiver<T>) -> T {
    loop {
        match rx.try_recv() {
            Ok(msg) => return msg,
            Err(TryRecvError::Empty) => thread::yield_now(),
            Err(TryRecvError::Disconnected) => panic!("channel closed unexpectedly"),
        }
    }
}

// === no peer waiting ===

#[test]
fn try_send_without_waiting_receive_is_full_and_returns_the_message() {
    let log = DropLog::new();
    let (tx, rx) = rendez::channel::<Tracked>();
    let err = tx.try_send(Tracked::new(7, &log)).unwrap_err();
    assert!(err.is_full());
    assert!(!err.is_disconnected());
    let msg = err.into_inner();
    assert_eq!(msg.id, 7);
    assert_eq!(log.dropped(), 0, "the message came back intact");
    drop(msg);
    assert_eq!(log.dropped(), 1);
    // Nothing was held or registered: there is nothing to receive.
    assert_eq!(rx.try_recv().map(|m| m.id), Err(TryRecvError::Empty));
}

#[test]
fn try_send_full_registers_nothing() {
    let (tx, rx) = rendez::channel::<u32>();
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    // A receive that starts afterwards finds nothing to take: the failed try_send left no message.
    let w = TestWaker::new();
    let mut recv = pin!(rx.recv());
    assert!(w.poll(recv.as_mut()).is_pending());
    assert!(!w.is_woken());
    // A later send is the one received.
    let ws = TestWaker::new();
    let mut send = pin!(tx.send(2));
    assert!(ws.poll(send.as_mut()).is_pending());
    assert!(w.is_woken());
    assert_eq!(w.poll(recv.as_mut()), Poll::Ready(Ok(2)));
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn try_send_is_full_when_only_senders_wait() {
    let (tx, _rx) = rendez::channel::<u32>();
    let w = TestWaker::new();
    let mut send = pin!(tx.send(1));
    assert!(w.poll(send.as_mut()).is_pending());
    assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    assert!(!w.is_woken());
}

#[test]
fn try_recv_without_waiting_send_is_empty() {
    let (_tx, rx) = rendez::channel::<u32>();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(rx.try_recv().unwrap_err().is_empty());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn try_recv_empty_registers_nothing() {
    let (tx, rx) = rendez::channel::<u32>();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    // A send that starts afterwards is not handed to a phantom receive: it waits.
    let ws = TestWaker::new();
    let mut send = pin!(tx.send(5));
    assert!(ws.poll(send.as_mut()).is_pending());
    assert!(!ws.is_woken());
    assert!(ws.poll(send.as_mut()).is_pending());
    // And a try_send still finds no receive waiting.
    assert_eq!(tx.try_send(6), Err(TrySendError::Full(6)));
    assert_eq!(rx.try_recv(), Ok(5));
    assert!(ws.is_woken());
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn try_recv_is_empty_when_only_receives_wait() {
    let (_tx, rx) = rendez::channel::<u32>();
    let w = TestWaker::new();
    let mut recv = pin!(rx.recv());
    assert!(w.poll(recv.as_mut()).is_pending());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(!w.is_woken());
}

// === try_recv with a waiting send ===

#[test]
fn try_recv_takes_from_a_waiting_async_send_and_completes_it() {
    let (tx, rx) = rendez::channel::<u32>();
    let ws = TestWaker::new();
    let mut send = pin!(tx.send(9));
    assert!(ws.poll(send.as_mut()).is_pending());
    assert_eq!(rx.try_recv(), Ok(9));
    assert!(ws.is_woken(), "the send whose message was taken is woken");
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn try_recv_serves_waiting_sends_in_order() {
    let (tx, rx) = rendez::channel::<u32>();
    let w: Vec<TestWaker> = (0..3).map(|_| TestWaker::new()).collect();
    let mut sends: Vec<_> = (0..3).map(|i| Box::pin(tx.send(i))).collect();
    for (s, w) in sends.iter_mut().zip(&w) {
        assert!(w.poll(s.as_mut()).is_pending());
    }
    for i in 0..3 {
        assert_eq!(rx.try_recv(), Ok(i));
        assert!(w[i as usize].is_woken());
        assert_eq!(
            w[i as usize].poll(sends[i as usize].as_mut()),
            Poll::Ready(Ok(()))
        );
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn try_recv_takes_from_a_blocked_sender_thread() {
    let (tx, rx) = rendez::channel::<u32>();
    let t = thread::spawn(move || tx.send_blocking(42));
    assert_eq!(try_recv_until_some(&rx), 42);
    assert_eq!(t.join().unwrap(), Ok(()));
}

// === try_send to a blocked receiving thread ===

#[test]
fn try_send_hands_the_message_to_a_blocked_receiver_thread() {
    let (tx, rx) = rendez::channel::<u32>();
    let t = thread::spawn(move || rx.recv_blocking());
    try_send_until_taken(&tx, 11);
    // Nothing else is needed for the thread to get it: it took the message at once.
    assert_eq!(t.join().unwrap(), Ok(11));
}

#[test]
fn try_send_to_a_blocked_receiver_does_not_occupy_the_held_slot() {
    let (tx, rx) = rendez::channel::<u32>();
    let rx2 = rx.clone();
    let t = thread::spawn(move || rx2.recv_blocking());
    try_send_until_taken(&tx, 1);
    assert_eq!(t.join().unwrap(), Ok(1));
    // If message 1 had been held instead of handed over, this try_send would get `Full`.
    let w = TestWaker::new();
    let mut recv = pin!(rx.recv());
    assert!(w.poll(recv.as_mut()).is_pending());
    assert_eq!(tx.try_send(2), Ok(()));
    assert!(w.is_woken());
    assert_eq!(w.poll(recv.as_mut()), Poll::Ready(Ok(2)));
}

#[test]
fn blocked_receiver_takes_a_try_send_even_while_a_message_is_held() {
    let (tx, rx) = rendez::channel::<u32>();
    // An async receive waits first; try_send(1) is held for it.
    let w = TestWaker::new();
    let mut recv = pin!(rx.recv());
    assert!(w.poll(recv.as_mut()).is_pending());
    assert_eq!(tx.try_send(1), Ok(()));
    assert!(w.is_woken());
    // A blocked thread starts waiting behind it: it takes the next try_send at once.
    let rx2 = rx.clone();
    let t = thread::spawn(move || rx2.recv_blocking());
    try_send_until_taken(&tx, 2);
    assert_eq!(t.join().unwrap(), Ok(2));
    assert_eq!(w.poll(recv.as_mut()), Poll::Ready(Ok(1)));
}

// === the held message ===

#[test]
fn try_send_to_waiting_async_receive_holds_the_message_and_wakes_it() {
    let (tx, rx) = rendez::channel::<u32>();
    let w = TestWaker::new();
    let mut recv = pin!(rx.recv());
    assert!(w.poll(recv.as_mut()).is_pending());
    assert!(!w.is_woken());
    assert_eq!(tx.try_send(3), Ok(()));
    assert!(w.is_woken());
    assert_eq!(w.poll(recv.as_mut()), Poll::Ready(Ok(3)));
    // The held slot is free again; with no receive waiting, try_send is Full.
    assert_eq!(tx.try_send(4), Err(TrySendError::Full(4)));
}

#[test]
fn only_one_message_is_held_at_a_time() {
    let (tx, rx) = rendez::channel::<u32>();
    let (w1, w2) = (TestWaker::new(), TestWaker::new());
    let mut r1 = pin!(rx.recv());
    let mut r2 = pin!(rx.recv());
    assert!(w1.poll(r1.as_mut()).is_pending());
    assert!(w2.poll(r2.as_mut()).is_pending());
    assert_eq!(tx.try_send(1), Ok(()));
    assert!(w1.is_woken(), "the first waiting receive is woken");
    assert!(!w2.is_woken(), "only one receive is woken for one message");
    // A receive is still waiting, but a message is already held.
    assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    assert_eq!(w1.poll(r1.as_mut()), Poll::Ready(Ok(1)));
    // Now the slot is free and r2 still waits.
    assert_eq!(tx.try_send(2), Ok(()));
    assert!(w2.is_woken());
    assert_eq!(w2.poll(r2.as_mut()), Poll::Ready(Ok(2)));
}

#[test]
fn held_message_goes_to_the_woken_receive_not_a_later_one() {
    let (tx, rx) = rendez::channel::<u32>();
    let (w1, w2) = (TestWaker::new(), TestWaker::new());
    let mut r1 = pin!(rx.recv());
    let mut r2 = pin!(rx.recv());
    assert!(w1.poll(r1.as_mut()).is_pending());
    assert!(w2.poll(r2.as_mut()).is_pending());
    assert_eq!(tx.try_send(1), Ok(()));
    // r2 waited later and was not woken: polling it does not jump the line.
    assert!(w2.poll(r2.as_mut()).is_pending());
    // Nor does a receive that starts now.
    let w3 = TestWaker::new();
    let mut r3 = pin!(rx.recv());
    assert!(w3.poll(r3.as_mut()).is_pending());
    assert_eq!(w1.poll(r1.as_mut()), Poll::Ready(Ok(1)));
    assert!(w2.poll(r2.as_mut()).is_pending());
    assert!(w3.poll(r3.as_mut()).is_pending());
}

#[test]
fn held_message_is_returned_ahead_of_waiting_sends() {
    let (tx, rx) = rendez::channel::<u32>();
    let w = TestWaker::new();
    let mut recv = pin!(rx.recv());
    assert!(w.poll(recv.as_mut()).is_pending());
    assert_eq!(tx.try_send(1), Ok(()));
    // A send starts waiting after the message was held.
    let ws = TestWaker::new();
    let mut send = pin!(tx.send(2));
    assert!(ws.poll(send.as_mut()).is_pending());
    assert_eq!(w.poll(recv.as_mut()), Poll::Ready(Ok(1)));
    assert!(!ws.is_woken(), "the waiting send was not taken");
    assert!(ws.poll(send.as_mut()).is_pending());
    // The next receive takes the waiting send.
    let w2 = TestWaker::new();
    let mut recv2 = pin!(rx.recv());
    assert_eq!(w2.poll(recv2.as_mut()), Poll::Ready(Ok(2)));
    assert!(ws.is_woken());
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn try_recv_returns_the_held_message_before_waiting_sends() {
    let (tx, rx) = rendez::channel::<u32>();
    let w = TestWaker::new();
    let mut recv = Box::pin(rx.recv());
    assert!(w.poll(recv.as_mut()).is_pending());
    assert_eq!(tx.try_send(1), Ok(()));
    let ws = TestWaker::new();
    let mut send = pin!(tx.send(2));
    assert!(ws.poll(send.as_mut()).is_pending());
    drop(recv);
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(!ws.is_woken());
    assert_eq!(rx.try_recv(), Ok(2));
    assert!(ws.is_woken());
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn held_message_passes_to_the_next_receive_when_the_woken_one_is_cancelled() {
    let (tx, rx) = rendez::channel::<u32>();
    let (w1, w2) = (TestWaker::new(), TestWaker::new());
    let mut r1 = Box::pin(rx.recv());
    let mut r2 = pin!(rx.recv());
    assert!(w1.poll(r1.as_mut()).is_pending());
    assert!(w2.poll(r2.as_mut()).is_pending());
    assert_eq!(tx.try_send(1), Ok(()));
    assert!(w1.is_woken());
    assert!(!w2.is_woken());
    drop(r1);
    assert!(w2.is_woken(), "the cancelled receive passed its turn on");
    assert_eq!(w2.poll(r2.as_mut()), Poll::Ready(Ok(1)));
}

#[test]
fn held_message_goes_to_the_next_receive_when_every_waiting_one_is_cancelled() {
    let (tx, rx) = rendez::channel::<u32>();
    let w1 = TestWaker::new();
    let mut r1 = Box::pin(rx.recv());
    assert!(w1.poll(r1.as_mut()).is_pending());
    assert_eq!(tx.try_send(1), Ok(()));
    drop(r1);
    // A new async receive returns it at once.
    let w2 = TestWaker::new();
    let mut r2 = pin!(rx.recv());
    assert_eq!(w2.poll(r2.as_mut()), Poll::Ready(Ok(1)));
}

#[test]
fn held_message_after_cancel_goes_to_try_recv_or_a_blocking_receive() {
    let (tx, rx) = rendez::channel::<u32>();
    for (i, how) in ["try_recv", "recv_blocking", "recv_timeout"]
        .iter()
        .enumerate()
    {
        let w = TestWaker::new();
        let mut r = Box::pin(rx.recv());
        assert!(w.poll(r.as_mut()).is_pending());
        assert_eq!(tx.try_send(i as u32), Ok(()));
        drop(r);
        let got = match *how {
            "try_recv" => rx.try_recv().ok(),
            "recv_blocking" => rx.recv_blocking().ok(),
            _ => rx.recv_timeout(std::time::Duration::from_secs(10)).ok(),
        };
        assert_eq!(got, Some(i as u32), "{how}");
    }
}

#[test]
fn held_message_is_not_dropped_while_a_receiver_remains() {
    let log = DropLog::new();
    let (tx, rx) = rendez::channel::<Tracked>();
    let rx2 = rx.clone();
    {
        let w = TestWaker::new();
        let mut r = Box::pin(rx2.recv());
        assert!(w.poll(r.as_mut()).is_pending());
        assert!(tx.try_send(Tracked::new(1, &log)).is_ok());
        drop(r);
    }
    drop(rx2);
    drop(tx);
    assert_eq!(
        log.dropped(),
        0,
        "a receiver is left, so the held message is kept"
    );
    let msg = rx.try_recv().expect("the held message is still there");
    assert_eq!(msg.id, 1);
    drop(msg);
    assert_eq!(log.dropped(), 1);
    assert_eq!(rx.try_recv().map(|m| m.id), Err(TryRecvError::Disconnected));
}

#[test]
fn held_message_is_dropped_exactly_once_when_every_receiver_is_gone() {
    let log = DropLog::new();
    let (tx, rx) = rendez::channel::<Tracked>();
    let rx2 = rx.clone();
    {
        let w = TestWaker::new();
        let mut r = Box::pin(rx.recv());
        assert!(w.poll(r.as_mut()).is_pending());
        assert!(tx.try_send(Tracked::new(1, &log)).is_ok());
        drop(r);
    }
    drop(rx);
    assert_eq!(log.dropped(), 0);
    drop(rx2);
    assert_eq!(
        log.dropped(),
        1,
        "the last receiver took the held message with it"
    );
    drop(tx);
    assert_eq!(log.dropped(), 1);
}

#[test]
fn held_message_for_a_notified_stream_is_dropped_with_the_last_receiver() {
    use futures::StreamExt;
    let log = DropLog::new();
    let (tx, mut rx) = rendez::channel::<Tracked>();
    let w = TestWaker::new();
    {
        let mut next = rx.next();
        assert!(w.poll(std::pin::Pin::new(&mut next)).is_pending());
    }
    assert!(tx.try_send(Tracked::new(1, &log)).is_ok());
    assert!(w.is_woken());
    drop(rx);
    assert_eq!(log.dropped(), 1);
    assert!(tx.is_closed());
}

#[test]
fn held_message_in_a_local_static_style_channel_is_dropped_with_it() {
    let log = DropLog::new();
    let ch = rendez::Channel::<Tracked>::new();
    {
        let w = TestWaker::new();
        let mut r = Box::pin(ch.recv());
        assert!(w.poll(r.as_mut()).is_pending());
        assert!(ch.try_send(Tracked::new(1, &log)).is_ok());
        drop(r);
    }
    assert_eq!(log.dropped(), 0);
    drop(ch);
    assert_eq!(log.dropped(), 1);
}

#[test]
fn static_channel_try_ops() {
    static CH: rendez::Channel<u32> = rendez::Channel::new();
    assert_eq!(CH.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(CH.try_recv(), Err(TryRecvError::Empty));
    let w = TestWaker::new();
    let mut r = pin!(CH.recv());
    assert!(w.poll(r.as_mut()).is_pending());
    assert_eq!(CH.try_send(2), Ok(()));
    assert!(w.is_woken());
    assert_eq!(w.poll(r.as_mut()), Poll::Ready(Ok(2)));
    let ws = TestWaker::new();
    let mut s = pin!(CH.send(3));
    assert!(ws.poll(s.as_mut()).is_pending());
    assert_eq!(CH.try_recv(), Ok(3));
    assert_eq!(ws.poll(s.as_mut()), Poll::Ready(Ok(())));
}

// === interplay with notified receives ===

#[test]
fn try_recv_may_take_the_offer_a_woken_receive_was_woken_for_and_it_keeps_its_place() {
    let (tx, rx) = rendez::channel::<u32>();
    let (w1, w2) = (TestWaker::new(), TestWaker::new());
    let mut r1 = pin!(rx.recv());
    let mut r2 = pin!(rx.recv());
    assert!(w1.poll(r1.as_mut()).is_pending());
    assert!(w2.poll(r2.as_mut()).is_pending());
    let ws = TestWaker::new();
    let mut s1 = pin!(tx.send(1));
    assert!(ws.poll(s1.as_mut()).is_pending());
    assert!(w1.is_woken());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(ws.poll(s1.as_mut()), Poll::Ready(Ok(())));
    // r1 finds nothing and waits again, still first in line.
    assert!(w1.poll(r1.as_mut()).is_pending());
    let w1_before = w1.wakes();
    let ws2 = TestWaker::new();
    let mut s2 = pin!(tx.send(2));
    assert!(ws2.poll(s2.as_mut()).is_pending());
    assert!(w1.wakes() > w1_before);
    assert!(!w2.is_woken());
    assert_eq!(w1.poll(r1.as_mut()), Poll::Ready(Ok(2)));
    assert_eq!(ws2.poll(s2.as_mut()), Poll::Ready(Ok(())));
}

// === across threads and executors ===

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_send_to_an_awaiting_tokio_task() {
    let (tx, rx) = rendez::channel::<u32>();
    let n = scaled(200) as u32;
    let task = tokio::spawn(async move {
        let mut got = Vec::new();
        for _ in 0..n {
            got.push(rx.recv().await.unwrap());
        }
        got
    });
    for i in 0..n {
        let mut msg = i;
        loop {
            match tx.try_send(msg) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) => {
                    msg = back;
                    tokio::task::yield_now().await;
                }
                Err(TrySendError::Disconnected(_)) => panic!("closed"),
            }
        }
    }
    assert_eq!(task.await.unwrap(), (0..n).collect::<Vec<_>>());
}

#[test]
fn try_ops_under_contention_deliver_exactly_once() {
    let (tx, rx) = rendez::channel::<usize>();
    let per = scaled(500);
    let producers = 3;
    let mut hs = Vec::new();
    for p in 0..producers {
        let tx = tx.clone();
        hs.push(thread::spawn(move || {
            for i in 0..per {
                let msg = p * per + i;
                // Alternate between try_send retries and plain blocking sends.
                if i % 2 == 0 {
                    try_send_until_taken(&tx, msg);
                } else {
                    tx.send_blocking(msg).unwrap();
                }
            }
        }));
    }
    drop(tx);
    let mut consumers = Vec::new();
    for c in 0..3 {
        let rx = rx.clone();
        consumers.push(thread::spawn(move || {
            let mut got = Vec::new();
            loop {
                let r = match c {
                    // An async receive on a futures executor: makes try_send hold messages.
                    0 => futures::executor::block_on(rx.recv()).map_err(|_| ()),
                    1 => rx.recv_blocking().map_err(|_| ()),
                    _ => match rx.try_recv() {
                        Ok(m) => Ok(m),
                        Err(TryRecvError::Empty) => {
                            thread::yield_now();
                            continue;
                        }
                        Err(TryRecvError::Disconnected) => Err(()),
                    },
                };
                match r {
                    Ok(m) => got.push(m),
                    Err(()) => return got,
                }
            }
        }));
    }
    drop(rx);
    for h in hs {
        h.join().unwrap();
    }
    let mut all: Vec<usize> = consumers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..producers * per).collect::<Vec<_>>());
}
