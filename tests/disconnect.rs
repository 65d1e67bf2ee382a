//! CONTRACT rule 6: disconnection.
//!
//! `close()` (from either side) or the last drop of either side: every pending and future send
//! returns its message; every pending and future receive returns `RecvError` / `Disconnected`,
//! except that a held `try_send` message is still returned first. Waiting tasks are woken.
//! `close()` returns `true` only for the call that closed it. The static `Channel` closes only by
//! `close()`.
#![cfg(feature = "std")]

mod common;

use std::pin::pin;
use std::sync::{Arc, Barrier};
use std::task::Poll;
use std::thread;
use std::time::Duration;

use common::{scaled, DropLog, TestWaker, Tracked};
use rendez::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};

/// How a channel gets disconnected in the parameterised tests below.
#[derive(Clone, Copy, Debug)]
enum Close {
    TxCloses,
    RxCloses,
    DropHandles,
}

const ALL: [Close; 3] = [Close::TxCloses, Close::RxCloses, Close::DropHandles];

// === close() return value ===

#[test]
fn close_returns_true_only_for_the_call_that_closed_it() {
    let (tx, rx) = rendez::channel::<u32>();
    assert!(!tx.is_closed());
    assert!(!rx.is_closed());
    assert!(tx.close());
    assert!(!tx.close());
    assert!(!rx.close());
    assert!(tx.is_closed());
    assert!(rx.is_closed());

    let (tx, rx) = rendez::channel::<u32>();
    assert!(rx.close());
    assert!(!rx.close());
    assert!(!tx.close());
    assert!(tx.clone().is_closed());
}

#[test]
fn close_after_the_last_drop_closed_it_returns_false() {
    let (tx, rx) = rendez::channel::<u32>();
    drop(tx);
    assert!(rx.is_closed());
    assert!(!rx.close());

    let (tx, rx) = rendez::channel::<u32>();
    drop(rx);
    assert!(tx.is_closed());
    assert!(!tx.close());
}

#[test]
fn dropping_a_clone_does_not_close() {
    let (tx, rx) = rendez::channel::<u32>();
    let tx2 = tx.clone();
    let rx2 = rx.clone();
    drop(tx2);
    drop(rx2);
    assert!(!tx.is_closed());
    assert!(!rx.is_closed());
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn concurrent_close_returns_true_exactly_once() {
    for _ in 0..scaled(50) {
        let (tx, rx) = rendez::channel::<u32>();
        let barrier = Arc::new(Barrier::new(4));
        let mut hs = Vec::new();
        for i in 0..4 {
            let (tx, rx, barrier) = (tx.clone(), rx.clone(), barrier.clone());
            hs.push(thread::spawn(move || {
                barrier.wait();
                if i % 2 == 0 {
                    tx.close()
                } else {
                    rx.close()
                }
            }));
        }
        let trues = hs
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|&closed| closed)
            .count();
        assert_eq!(trues, 1);
        assert!(!tx.close());
        assert!(!rx.close());
    }
}

// === future operations after disconnection ===

#[test]
fn sends_after_receiver_side_disconnect_return_the_message() {
    for how in ALL {
        let log = DropLog::new();
        let (tx, rx) = rendez::channel::<Tracked>();
        let rx_keep = match how {
            Close::TxCloses => {
                assert!(tx.close());
                Some(rx)
            }
            Close::RxCloses => {
                assert!(rx.close());
                Some(rx)
            }
            Close::DropHandles => {
                drop(rx);
                None
            }
        };
        assert!(tx.is_closed());

        let w = TestWaker::new();
        let mut send = pin!(tx.send(Tracked::new(1, &log)));
        match w.poll(send.as_mut()) {
            Poll::Ready(Err(SendError(m))) => assert_eq!(m.id, 1, "{how:?}"),
            other => panic!("{how:?}: send after close: {:?}", other.is_ready()),
        }
        match tx.try_send(Tracked::new(2, &log)) {
            Err(TrySendError::Disconnected(m)) => assert_eq!(m.id, 2),
            other => panic!("{how:?}: try_send after close: {other:?}"),
        }
        match tx.send_blocking(Tracked::new(3, &log)) {
            Err(SendError(m)) => assert_eq!(m.id, 3),
            other => panic!("{how:?}: send_blocking after close: {other:?}"),
        }
        // A long timeout: a closed channel must not wait for it.
        match tx.send_timeout(Tracked::new(4, &log), Duration::from_secs(30)) {
            Err(SendTimeoutError::Disconnected(m)) => assert_eq!(m.id, 4),
            other => panic!("{how:?}: send_timeout after close: {other:?}"),
        }
        match tx.send_timeout(Tracked::new(5, &log), Duration::MAX) {
            Err(SendTimeoutError::Disconnected(m)) => assert_eq!(m.id, 5),
            other => panic!("{how:?}: send_timeout(MAX) after close: {other:?}"),
        }
        // Every message came back and was dropped by us, exactly once.
        assert_eq!(log.dropped(), 5, "{how:?}");
        drop(rx_keep);
    }
}

#[test]
fn receives_after_sender_side_disconnect_fail() {
    for how in ALL {
        let (tx, rx) = rendez::channel::<u32>();
        let tx_keep = match how {
            Close::TxCloses => {
                assert!(tx.close());
                Some(tx)
            }
            Close::RxCloses => {
                assert!(rx.close());
                Some(tx)
            }
            Close::DropHandles => {
                drop(tx);
                None
            }
        };
        assert!(rx.is_closed());
        let w = TestWaker::new();
        let mut recv = pin!(rx.recv());
        assert_eq!(
            w.poll(recv.as_mut()),
            Poll::Ready(Err(RecvError)),
            "{how:?}"
        );
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected), "{how:?}");
        assert_eq!(rx.recv_blocking(), Err(RecvError), "{how:?}");
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(30)),
            Err(RecvTimeoutError::Disconnected),
            "{how:?}"
        );
        assert_eq!(
            rx.recv_timeout(Duration::MAX),
            Err(RecvTimeoutError::Disconnected),
            "{how:?}"
        );
        // Again: disconnection is permanent.
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        drop(tx_keep);
    }
}

// === pending operations are woken and fail ===

#[test]
fn pending_async_sends_are_woken_and_get_their_message_back() {
    for how in ALL {
        let log = DropLog::new();
        let (tx, rx) = rendez::channel::<Tracked>();
        let tx2 = tx.clone();
        let (w1, w2) = (TestWaker::new(), TestWaker::new());
        let mut s1 = pin!(tx.send(Tracked::new(1, &log)));
        let mut s2 = pin!(tx2.send(Tracked::new(2, &log)));
        assert!(w1.poll(s1.as_mut()).is_pending());
        assert!(w2.poll(s2.as_mut()).is_pending());
        match how {
            Close::TxCloses => assert!(tx.close()),
            Close::RxCloses => assert!(rx.close()),
            Close::DropHandles => {}
        }
        drop(rx);
        assert!(w1.is_woken(), "{how:?}: pending send 1 woken");
        assert!(w2.is_woken(), "{how:?}: pending send 2 woken");
        assert_eq!(log.dropped(), 0, "{how:?}: the channel dropped no message");
        match w1.poll(s1.as_mut()) {
            Poll::Ready(Err(SendError(m))) => assert_eq!(m.id, 1),
            _ => panic!("{how:?}: send 1 did not fail with its message"),
        }
        match w2.poll(s2.as_mut()) {
            Poll::Ready(Err(SendError(m))) => assert_eq!(m.id, 2),
            _ => panic!("{how:?}: send 2 did not fail with its message"),
        }
        assert_eq!(log.dropped(), 2);
    }
}

#[test]
fn pending_async_receives_are_woken_and_fail() {
    for how in ALL {
        let (tx, rx) = rendez::channel::<u32>();
        let rx2 = rx.clone();
        let (w1, w2) = (TestWaker::new(), TestWaker::new());
        let mut r1 = pin!(rx.recv());
        let mut r2 = pin!(rx2.recv());
        assert!(w1.poll(r1.as_mut()).is_pending());
        assert!(w2.poll(r2.as_mut()).is_pending());
        match how {
            Close::TxCloses => assert!(tx.close()),
            Close::RxCloses => assert!(rx.close()),
            Close::DropHandles => {}
        }
        drop(tx);
        assert!(w1.is_woken(), "{how:?}: pending receive 1 woken");
        assert!(w2.is_woken(), "{how:?}: pending receive 2 woken");
        assert_eq!(w1.poll(r1.as_mut()), Poll::Ready(Err(RecvError)));
        assert_eq!(w2.poll(r2.as_mut()), Poll::Ready(Err(RecvError)));
    }
}

#[test]
fn close_wakes_more_waiters_than_one_batch() {
    // `close` wakes waiters in batches; every one of many must be woken.
    let n = 37;
    let log = DropLog::new();
    let (tx, rx) = rendez::channel::<Tracked>();
    let wakers: Vec<TestWaker> = (0..n).map(|_| TestWaker::new()).collect();
    let mut sends: Vec<_> = (0..n)
        .map(|i| Box::pin(tx.send(Tracked::new(i, &log))))
        .collect();
    for (s, w) in sends.iter_mut().zip(&wakers) {
        assert!(w.poll(s.as_mut()).is_pending());
    }
    assert!(rx.close());
    for (i, (s, w)) in sends.iter_mut().zip(&wakers).enumerate() {
        assert!(w.is_woken(), "send {i} woken");
        match w.poll(s.as_mut()) {
            Poll::Ready(Err(SendError(m))) => assert_eq!(m.id, i),
            _ => panic!("send {i} did not fail with its message"),
        }
    }
    drop(sends);
    assert_eq!(log.dropped(), n);

    let (tx, rx) = rendez::channel::<u32>();
    let wakers: Vec<TestWaker> = (0..n).map(|_| TestWaker::new()).collect();
    let mut recvs: Vec<_> = (0..n).map(|_| Box::pin(rx.recv())).collect();
    for (r, w) in recvs.iter_mut().zip(&wakers) {
        assert!(w.poll(r.as_mut()).is_pending());
    }
    drop(tx);
    for (i, (r, w)) in recvs.iter_mut().zip(&wakers).enumerate() {
        assert!(w.is_woken(), "receive {i} woken");
        assert_eq!(w.poll(r.as_mut()), Poll::Ready(Err(RecvError)));
    }
}

#[test]
fn close_returns_the_message_a_woken_receive_had_not_taken_yet() {
    // Strict rendezvous: a receive woken for a send has not taken its message; close gives it back
    // to the send, and the receive fails. Exactly once: never both.
    let log = DropLog::new();
    let (tx, rx) = rendez::channel::<Tracked>();
    let wr = TestWaker::new();
    let mut recv = pin!(rx.recv());
    assert!(wr.poll(recv.as_mut()).is_pending());
    let ws = TestWaker::new();
    let mut send = pin!(tx.send(Tracked::new(1, &log)));
    assert!(ws.poll(send.as_mut()).is_pending());
    assert!(wr.is_woken());
    assert!(tx.close());
    assert!(ws.is_woken());
    match ws.poll(send.as_mut()) {
        Poll::Ready(Err(SendError(m))) => assert_eq!(m.id, 1),
        _ => panic!("the send did not get its message back"),
    }
    assert!(matches!(
        wr.poll(recv.as_mut()),
        Poll::Ready(Err(RecvError))
    ));
    assert_eq!(log.dropped(), 1);
}

#[test]
fn blocked_sender_thread_gets_its_message_back() {
    for how in ALL {
        let (tx, rx) = rendez::channel::<u32>();
        let tx2 = tx.clone();
        let t = thread::spawn(move || tx2.send_blocking(5));
        // Let the thread block (it may also see the channel closed already: same outcome).
        thread::sleep(Duration::from_millis(10));
        match how {
            Close::TxCloses => {
                tx.close();
            }
            Close::RxCloses => {
                rx.close();
            }
            Close::DropHandles => {}
        }
        drop(rx);
        assert_eq!(t.join().unwrap(), Err(SendError(5)), "{how:?}");
    }
}

#[test]
fn blocked_receiver_threads_fail() {
    for how in ALL {
        let (tx, rx) = rendez::channel::<u32>();
        let rx2 = rx.clone();
        let t1 = thread::spawn(move || rx2.recv_blocking());
        let rx3 = rx.clone();
        let t2 = thread::spawn(move || rx3.recv_timeout(Duration::from_secs(30)));
        thread::sleep(Duration::from_millis(10));
        match how {
            Close::TxCloses => {
                tx.close();
            }
            Close::RxCloses => {
                rx.close();
            }
            Close::DropHandles => {}
        }
        drop(tx);
        assert_eq!(t1.join().unwrap(), Err(RecvError), "{how:?}");
        assert_eq!(
            t2.join().unwrap(),
            Err(RecvTimeoutError::Disconnected),
            "{how:?}"
        );
    }
}

#[test]
fn blocked_send_timeout_is_disconnected_not_timeout() {
    let (tx, rx) = rendez::channel::<u32>();
    let t = thread::spawn(move || tx.send_timeout(8, Duration::from_secs(30)));
    thread::sleep(Duration::from_millis(10));
    drop(rx);
    assert_eq!(t.join().unwrap(), Err(SendTimeoutError::Disconnected(8)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awaiting_tasks_are_woken_by_close() {
    let (tx, rx) = rendez::channel::<u32>();
    let mut receivers = Vec::new();
    for _ in 0..4 {
        let rx = rx.clone();
        receivers.push(tokio::spawn(async move { rx.recv().await }));
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    drop(tx);
    for r in receivers {
        assert_eq!(r.await.unwrap(), Err(RecvError));
    }

    let (tx, rx) = rendez::channel::<u32>();
    let mut senders = Vec::new();
    for i in 0..4 {
        let tx = tx.clone();
        senders.push(tokio::spawn(async move { tx.send(i).await }));
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(rx.close());
    for (i, s) in senders.into_iter().enumerate() {
        assert_eq!(s.await.unwrap(), Err(SendError(i as u32)));
    }
}

// === the held try_send message survives disconnection ===

/// A receive waits, a message is held for it, and then `how` disconnects the sending side.
#[test]
fn held_message_is_returned_to_the_woken_receive_after_close() {
    for how in ALL {
        let (tx, rx) = rendez::channel::<u32>();
        let w = TestWaker::new();
        let mut recv = pin!(rx.recv());
        assert!(w.poll(recv.as_mut()).is_pending());
        assert_eq!(tx.try_send(1), Ok(()));
        match how {
            Close::TxCloses => assert!(tx.close()),
            Close::RxCloses => assert!(rx.close()),
            Close::DropHandles => {}
        }
        drop(tx);
        assert_eq!(w.poll(recv.as_mut()), Poll::Ready(Ok(1)), "{how:?}");
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected), "{how:?}");
    }
}

#[test]
fn held_message_is_returned_first_by_every_kind_of_receive_after_close() {
    for kind in 0..5 {
        let (tx, mut rx) = rendez::channel::<u32>();
        {
            let w = TestWaker::new();
            let mut recv = Box::pin(rx.recv());
            assert!(w.poll(recv.as_mut()).is_pending());
            assert_eq!(tx.try_send(1), Ok(()));
            // Every waiting receive is cancelled: the next receive gets it.
            drop(recv);
        }
        drop(tx);
        assert!(rx.is_closed());
        match kind {
            0 => {
                assert_eq!(rx.try_recv(), Ok(1));
                assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
            }
            1 => {
                assert_eq!(rx.recv_blocking(), Ok(1));
                assert_eq!(rx.recv_blocking(), Err(RecvError));
            }
            2 => {
                assert_eq!(rx.recv_timeout(Duration::from_millis(20)), Ok(1));
                assert_eq!(
                    rx.recv_timeout(Duration::from_millis(20)),
                    Err(RecvTimeoutError::Disconnected)
                );
            }
            3 => {
                let w = TestWaker::new();
                let mut r = pin!(rx.recv());
                assert_eq!(w.poll(r.as_mut()), Poll::Ready(Ok(1)));
                let mut r = pin!(rx.recv());
                assert_eq!(w.poll(r.as_mut()), Poll::Ready(Err(RecvError)));
            }
            _ => {
                use futures::StreamExt;
                let got =
                    futures::executor::block_on(async { (&mut rx).collect::<Vec<_>>().await });
                assert_eq!(got, vec![1]);
            }
        }
    }
}

#[test]
fn no_receive_reports_disconnection_while_a_held_message_is_undelivered() {
    // Rule 6: after close "every pending and future receive returns RecvError / Disconnected; only
    // a message held from try_send is still returned first".
    let (tx, rx) = rendez::channel::<u32>();
    let w1 = TestWaker::new();
    let mut r1 = Box::pin(rx.recv());
    assert!(w1.poll(r1.as_mut()).is_pending());
    assert_eq!(tx.try_send(1), Ok(()));
    assert!(tx.close());
    // r1 was woken for the held message but has not been polled yet. A new receive starts now.
    let w2 = TestWaker::new();
    let mut r2 = pin!(rx.recv());
    let r2_first = w2.poll(r2.as_mut());
    // r1 is cancelled: its turn passes on, and the message is still in the channel.
    drop(r1);
    let r2_then = if r2_first.is_ready() {
        r2_first
    } else {
        w2.poll(r2.as_mut())
    };
    // The held message must be returned before any receive reports disconnection: r2 must get it
    // (at once or once r1 is gone), not `RecvError` while `try_recv` would still return `Ok(1)`.
    let leftover = rx.try_recv();
    assert_eq!(
        (r2_then, leftover),
        (Poll::Ready(Ok(1)), Err(TryRecvError::Disconnected))
    );
}

// === the static Channel ===

#[test]
fn static_channel_disconnects_only_by_close() {
    static CH: rendez::Channel<u32> = rendez::Channel::new();
    // Any amount of traffic and cancelled operations leaves it open: no handle counts.
    for i in 0..3 {
        let w = TestWaker::new();
        let mut s = Box::pin(CH.send(i));
        assert!(w.poll(s.as_mut()).is_pending());
        drop(s);
        let mut r = Box::pin(CH.recv());
        assert!(w.poll(r.as_mut()).is_pending());
        drop(r);
    }
    let t = thread::spawn(|| CH.recv_blocking());
    CH.send_blocking(4).unwrap();
    assert_eq!(t.join().unwrap(), Ok(4));
    assert!(!CH.is_closed());

    // A pending receive is woken by close.
    let w = TestWaker::new();
    let mut r = pin!(CH.recv());
    assert!(w.poll(r.as_mut()).is_pending());
    assert!(CH.close());
    assert!(!CH.close());
    assert!(CH.is_closed());
    assert!(w.is_woken());
    assert_eq!(w.poll(r.as_mut()), Poll::Ready(Err(RecvError)));

    let mut s = pin!(CH.send(5));
    assert_eq!(w.poll(s.as_mut()), Poll::Ready(Err(SendError(5))));
    assert_eq!(CH.try_send(6), Err(TrySendError::Disconnected(6)));
    assert_eq!(CH.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(CH.send_blocking(7), Err(SendError(7)));
    assert_eq!(CH.recv_blocking(), Err(RecvError));
    assert_eq!(
        CH.send_timeout(8, Duration::from_secs(30)),
        Err(SendTimeoutError::Disconnected(8))
    );
    assert_eq!(
        CH.recv_timeout(Duration::from_secs(30)),
        Err(RecvTimeoutError::Disconnected)
    );
}

#[test]
fn static_channel_close_wakes_pending_sends_and_keeps_the_held_message() {
    static CH: rendez::Channel<u32> = rendez::Channel::new();
    let w = TestWaker::new();
    let mut r = Box::pin(CH.recv());
    assert!(w.poll(r.as_mut()).is_pending());
    assert_eq!(CH.try_send(1), Ok(()));
    drop(r);
    let ws = TestWaker::new();
    let mut s = pin!(CH.send(2));
    assert!(ws.poll(s.as_mut()).is_pending());
    assert!(CH.close());
    assert!(ws.is_woken());
    assert_eq!(ws.poll(s.as_mut()), Poll::Ready(Err(SendError(2))));
    assert_eq!(CH.try_recv(), Ok(1));
    assert_eq!(CH.try_recv(), Err(TryRecvError::Disconnected));
}

// === exactly once across a racing close ===

#[test]
fn racing_close_delivers_or_returns_every_message_exactly_once() {
    for _ in 0..scaled(20) {
        let (tx, rx) = rendez::channel::<usize>();
        let per = 200;
        let mut senders = Vec::new();
        for p in 0..2 {
            let tx = tx.clone();
            senders.push(thread::spawn(move || {
                let mut returned = Vec::new();
                for i in 0..per {
                    if let Err(SendError(m)) = tx.send_blocking(p * per + i) {
                        returned.push(m);
                    }
                }
                returned
            }));
        }
        let mut receivers = Vec::new();
        for _ in 0..2 {
            let rx = rx.clone();
            receivers.push(thread::spawn(move || {
                let mut got = Vec::new();
                while let Ok(m) = rx.recv_blocking() {
                    got.push(m);
                }
                got
            }));
        }
        thread::sleep(Duration::from_micros(300));
        rx.close();
        drop((tx, rx));
        let mut all: Vec<usize> = senders
            .into_iter()
            .chain(receivers)
            .flat_map(|h| h.join().unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..2 * per).collect::<Vec<_>>());
    }
}
