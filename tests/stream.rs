//! `Receiver` as a `futures_core::Stream` + `FusedStream`: it yields messages, ends with `None`
//! once the channel is closed (after the last `Sender` drops), stays ended, and dropping a `next()`
//! future after `Pending` loses nothing (CONTRACT rule 4 for streams).
#![cfg(feature = "std")]

mod common;

use std::pin::{pin, Pin};
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use common::{scaled, DropLog, TestWaker, Tracked};
use futures::stream::{FusedStream, Stream, StreamExt};
use rendez::{TryRecvError, TrySendError};

/// Polls `rx`'s stream once by hand with `w`.
fn poll_next<T>(w: &TestWaker, rx: &mut rendez::Receiver<T>) -> Poll<Option<T>> {
    Pin::new(rx).poll_next(&mut Context::from_waker(w.waker()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_yields_messages_then_none_after_last_sender_drops() {
    let (tx, mut rx) = rendez::channel::<usize>();
    let n = scaled(200);
    let tx2 = tx.clone();
    let producer = tokio::spawn(async move {
        for i in 0..n {
            tx2.send(i).await.unwrap();
        }
    });
    assert!(!rx.is_terminated());
    for i in 0..n {
        assert_eq!(rx.next().await, Some(i));
    }
    producer.await.unwrap();
    assert!(!rx.is_terminated(), "one Sender is still alive");
    drop(tx);
    assert_eq!(rx.next().await, None);
    assert!(rx.is_terminated());
    // Fused: stays None.
    assert_eq!(rx.next().await, None);
    assert_eq!(rx.next().await, None);
    assert!(rx.is_terminated());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collect_with_a_producer_task() {
    let (tx, rx) = rendez::channel::<usize>();
    let n = scaled(500);
    let producer = tokio::spawn(async move {
        for i in 0..n {
            tx.send(i).await.unwrap();
        }
        // `tx` drops here: the stream ends.
    });
    let got: Vec<usize> = rx.collect().await;
    assert_eq!(got, (0..n).collect::<Vec<_>>());
    producer.await.unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "async-std's reactor (timerfd) is unsupported by Miri")]
fn collect_on_async_std_with_a_blocking_producer() {
    let (tx, rx) = rendez::channel::<usize>();
    let n = scaled(300);
    let t = thread::spawn(move || {
        for i in 0..n {
            tx.send_blocking(i).unwrap();
        }
    });
    let got: Vec<usize> = async_std::task::block_on(rx.collect());
    assert_eq!(got, (0..n).collect::<Vec<_>>());
    t.join().unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn stream_combinators_on_current_thread() {
    let (tx, rx) = rendez::channel::<u32>();
    let producer = async move {
        for i in 0..10 {
            tx.send(i).await.unwrap();
        }
    };
    let consumer = rx
        .filter(|x| futures::future::ready(x % 2 == 0))
        .collect::<Vec<_>>();
    let ((), got) = futures::join!(producer, consumer);
    assert_eq!(got, vec![0, 2, 4, 6, 8]);
}

#[test]
fn stream_ends_on_close_from_either_side() {
    // Receiver side.
    let (tx, mut rx) = rendez::channel::<u32>();
    assert!(rx.close());
    assert_eq!(futures::executor::block_on(rx.next()), None);
    assert!(rx.is_terminated());
    drop(tx);

    // Sender side, while the stream is waiting: it is woken and ends.
    let (tx, mut rx) = rendez::channel::<u32>();
    let w = TestWaker::new();
    assert!(poll_next(&w, &mut rx).is_pending());
    assert!(!rx.is_terminated());
    assert!(tx.close());
    assert!(w.is_woken());
    assert_eq!(poll_next(&w, &mut rx), Poll::Ready(None));
    assert!(rx.is_terminated());
    assert_eq!(poll_next(&w, &mut rx), Poll::Ready(None));
}

#[test]
fn waiting_stream_is_woken_when_the_last_sender_drops() {
    let (tx, mut rx) = rendez::channel::<u32>();
    let tx2 = tx.clone();
    let w = TestWaker::new();
    assert!(poll_next(&w, &mut rx).is_pending());
    drop(tx);
    assert!(!w.is_woken(), "a Sender is still alive");
    assert!(poll_next(&w, &mut rx).is_pending());
    drop(tx2);
    assert!(w.is_woken());
    assert_eq!(poll_next(&w, &mut rx), Poll::Ready(None));
    assert!(rx.is_terminated());
}

#[test]
fn terminated_stream_stays_none_even_for_a_clone() {
    let (tx, mut rx) = rendez::channel::<u32>();
    drop(tx);
    assert_eq!(futures::executor::block_on(rx.next()), None);
    assert!(rx.is_terminated());
    // A clone made afterwards is a fresh stream over a closed channel: it ends at once.
    let mut rx2 = rx.clone();
    assert!(!rx2.is_terminated());
    assert_eq!(futures::executor::block_on(rx2.next()), None);
    assert!(rx2.is_terminated());
}

#[test]
fn stream_is_woken_by_a_send_and_yields_it() {
    let (tx, mut rx) = rendez::channel::<u32>();
    let w = TestWaker::new();
    assert!(poll_next(&w, &mut rx).is_pending());
    let ws = TestWaker::new();
    let mut send = pin!(tx.send(1));
    assert!(ws.poll(send.as_mut()).is_pending());
    assert!(w.is_woken());
    // The send is not complete until the stream took the message.
    assert!(ws.poll(send.as_mut()).is_pending());
    assert_eq!(poll_next(&w, &mut rx), Poll::Ready(Some(1)));
    assert!(ws.is_woken());
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn stream_receives_a_try_send_message() {
    let (tx, mut rx) = rendez::channel::<u32>();
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    let w = TestWaker::new();
    assert!(poll_next(&w, &mut rx).is_pending());
    assert_eq!(tx.try_send(2), Ok(()));
    assert!(w.is_woken());
    // Held for the stream even after close; then the stream ends.
    drop(tx);
    assert_eq!(poll_next(&w, &mut rx), Poll::Ready(Some(2)));
    assert_eq!(poll_next(&w, &mut rx), Poll::Ready(None));
}

#[test]
fn dropping_next_after_pending_loses_nothing() {
    let log = DropLog::new();
    let (tx, mut rx) = rendez::channel::<Tracked>();
    let w = TestWaker::new();
    {
        let mut next = rx.next();
        assert!(w.poll(Pin::new(&mut next)).is_pending());
        // `next` dropped here, after Pending.
    }
    let ws = TestWaker::new();
    let mut send = pin!(tx.send(Tracked::new(1, &log)));
    assert!(ws.poll(send.as_mut()).is_pending());
    assert_eq!(log.dropped(), 0);
    // A new next() returns the message.
    let w2 = TestWaker::new();
    {
        let mut next = rx.next();
        match w2.poll(Pin::new(&mut next)) {
            Poll::Ready(Some(m)) => assert_eq!(m.id, 1),
            other => panic!(
                "expected the message, got {:?}",
                other.map(|o| o.map(|m| m.id))
            ),
        }
    }
    assert_eq!(log.dropped(), 1);
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn dropping_next_after_being_woken_loses_nothing() {
    let (tx, mut rx) = rendez::channel::<u32>();
    let w = TestWaker::new();
    {
        let mut next = rx.next();
        assert!(w.poll(Pin::new(&mut next)).is_pending());
    }
    let ws = TestWaker::new();
    let mut send = pin!(tx.send(1));
    assert!(ws.poll(send.as_mut()).is_pending());
    assert!(w.is_woken());
    // The woken next() was already dropped. Nothing is lost: another way to receive gets it.
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn a_woken_stream_holds_no_other_receiver_back() {
    let (tx, rx) = rendez::channel::<u32>();
    let mut rx_stream = rx.clone();
    let ws_ = TestWaker::new();
    assert!(poll_next(&ws_, &mut rx_stream).is_pending());
    let w = TestWaker::new();
    let mut recv = pin!(rx.recv());
    assert!(w.poll(recv.as_mut()).is_pending());
    let wsend = TestWaker::new();
    let mut send = pin!(tx.send(1));
    assert!(wsend.poll(send.as_mut()).is_pending());
    assert!(ws_.is_woken(), "the stream waited first");
    assert!(
        w.is_woken(),
        "a stream reserves no offer: the receive behind it is notified too (rule 7)"
    );
    drop(rx_stream);
    assert_eq!(w.poll(recv.as_mut()), Poll::Ready(Ok(1)));
    assert_eq!(wsend.poll(send.as_mut()), Poll::Ready(Ok(())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_under_timeout_and_select_loses_nothing() {
    let (tx, mut rx) = rendez::channel::<usize>();
    let n = scaled(300);
    let producer = tokio::spawn(async move {
        for i in 0..n {
            tx.send(i).await.unwrap();
            if i % 7 == 0 {
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
        }
    });
    let mut got = Vec::new();
    let mut round = 0u32;
    loop {
        round += 1;
        // Alternate cancellation styles: timeout and select!.
        let item = if round % 2 == 0 {
            match tokio::time::timeout(Duration::from_micros(100), rx.next()).await {
                Ok(item) => item,
                Err(_) => continue,
            }
        } else {
            tokio::select! {
                item = rx.next() => item,
                () = tokio::task::yield_now() => continue,
            }
        };
        match item {
            Some(i) => got.push(i),
            None => break,
        }
    }
    producer.await.unwrap();
    assert_eq!(got, (0..n).collect::<Vec<_>>());
    assert!(rx.is_terminated());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_streams_share_the_messages_exactly_once() {
    let (tx, rx) = rendez::channel::<usize>();
    let n = scaled(1000);
    let mut consumers = Vec::new();
    for _ in 0..3 {
        let rx = rx.clone();
        consumers.push(tokio::spawn(rx.collect::<Vec<_>>()));
    }
    drop(rx);
    let mut producers = Vec::new();
    for p in 0..2 {
        let tx = tx.clone();
        producers.push(tokio::spawn(async move {
            for i in 0..n {
                tx.send(p * n + i).await.unwrap();
            }
        }));
    }
    drop(tx);
    for p in producers {
        p.await.unwrap();
    }
    let mut all = Vec::new();
    for c in consumers {
        let got = c.await.unwrap();
        // Each producer's messages reach each stream in send order (FIFO per sender).
        for p in 0..2 {
            let mine: Vec<_> = got.iter().filter(|&&m| m / n == p).collect();
            assert!(mine.windows(2).all(|w| w[0] < w[1]));
        }
        all.extend(got);
    }
    all.sort_unstable();
    assert_eq!(all, (0..2 * n).collect::<Vec<_>>());
}

// === a receive on the same handle withdraws an abandoned stream wait ===

#[test]
fn each_receive_method_withdraws_the_abandoned_stream_and_takes_its_turn() {
    // For every receive method: the handle's stream waits (its `next()` future dropped), a send
    // arrives and the stream is woken for it; the receive on the same handle must get the message
    // instead of waiting behind the abandoned stream.
    for method in 0..4 {
        let (tx, mut rx) = rendez::channel::<usize>();
        let (wn, ws) = (TestWaker::new(), TestWaker::new());
        assert!(poll_next(&wn, &mut rx).is_pending());
        let mut send = pin!(tx.send(method));
        assert!(ws.poll(send.as_mut()).is_pending());
        assert_eq!(wn.wakes(), 1, "the stream was woken for the send");
        let got = match method {
            0 => rx.try_recv().ok(),
            // On a thread, so that a receive stuck behind the stream fails the watchdog.
            1 => common::join(thread::spawn(move || rx.recv_blocking().ok())),
            2 => rx.recv_timeout(Duration::from_secs(10)).ok(),
            _ => match TestWaker::new().poll(pin!(rx.recv())) {
                Poll::Ready(r) => r.ok(),
                Poll::Pending => None,
            },
        };
        assert_eq!(got, Some(method), "receive method {method}");
        assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
    }
}

#[test]
fn threads_sharing_one_receiver_withdraw_its_stream_once() {
    // Several threads call receive methods through `&Receiver` at once while the handle's stream is
    // registered: exactly one withdraws it, and every message is received exactly once.
    let rounds = scaled(50);
    for _ in 0..rounds {
        let (tx, mut rx) = rendez::channel::<usize>();
        assert!(poll_next(&TestWaker::new(), &mut rx).is_pending());
        let rx = std::sync::Arc::new(rx);
        let takers: Vec<_> = (0..3)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || rx.recv_blocking().ok())
            })
            .collect();
        for i in 0..3 {
            let sent = tx.send_timeout(i, common::WATCHDOG);
            assert!(sent.is_ok(), "hang: no receive took {i}");
        }
        let mut got: Vec<_> = takers
            .into_iter()
            .map(|t| common::join(t).expect("a message"))
            .collect();
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2]);
    }
}
