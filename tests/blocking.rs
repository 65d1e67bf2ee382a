//! CONTRACT rule 8 (mixing blocking and async ends on one channel) and the blocking calls'
//! timeouts: `Timeout` with the message back when no peer comes, success when one comes in time,
//! and `Duration::MAX` waits forever without panicking.
//!
//! Timeouts on the success path are generous (10 s), on the timeout path short (20 ms); no test
//! asserts on elapsed time.
#![cfg(feature = "std")]

mod common;

use std::pin::pin;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use common::{scaled, DropLog, TestWaker, Tracked};
use rendez::{RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};

const LONG: Duration = Duration::from_secs(10);
const SHORT: Duration = Duration::from_millis(20);

// === blocking ends among themselves ===

#[test]
fn send_blocking_to_recv_blocking_in_order() {
    let (tx, rx) = rendez::channel::<usize>();
    let n = scaled(1000);
    let t = thread::spawn(move || {
        for i in 0..n {
            tx.send_blocking(i).unwrap();
        }
    });
    for i in 0..n {
        assert_eq!(rx.recv_blocking(), Ok(i));
    }
    t.join().unwrap();
    assert_eq!(rx.recv_blocking(), Err(rendez::RecvError));
}

#[test]
fn blocking_calls_on_the_static_channel() {
    static CH: rendez::Channel<usize> = rendez::Channel::new();
    let n = scaled(200);
    let t = thread::spawn(move || {
        for i in 0..n {
            CH.send_blocking(i).unwrap();
        }
    });
    for i in 0..n {
        assert_eq!(CH.recv_timeout(LONG), Ok(i));
    }
    t.join().unwrap();
    let t = thread::spawn(|| CH.recv_blocking());
    assert_eq!(CH.send_timeout(1, LONG), Ok(()));
    assert_eq!(t.join().unwrap(), Ok(1));
    assert_eq!(CH.recv_timeout(SHORT), Err(RecvTimeoutError::Timeout));
    assert_eq!(CH.send_timeout(2, SHORT), Err(SendTimeoutError::Timeout(2)));
}

// === rule 8: mixing blocking and async ends ===

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_send_blocking_to_tokio_task_recv() {
    let (tx, rx) = rendez::channel::<usize>();
    let n = scaled(1000);
    let t = thread::spawn(move || {
        for i in 0..n {
            tx.send_blocking(i).unwrap();
        }
    });
    let task = tokio::spawn(async move {
        let mut got = Vec::new();
        while let Ok(m) = rx.recv().await {
            got.push(m);
        }
        got
    });
    assert_eq!(task.await.unwrap(), (0..n).collect::<Vec<_>>());
    t.join().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_task_send_to_thread_recv_blocking() {
    let (tx, rx) = rendez::channel::<usize>();
    let n = scaled(1000);
    let t = thread::spawn(move || {
        let mut got = Vec::new();
        while let Ok(m) = rx.recv_blocking() {
            got.push(m);
        }
        got
    });
    let task = tokio::spawn(async move {
        for i in 0..n {
            tx.send(i).await.unwrap();
        }
    });
    task.await.unwrap();
    assert_eq!(
        tokio::task::spawn_blocking(move || t.join().unwrap())
            .await
            .unwrap(),
        (0..n).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "current_thread")]
async fn current_thread_runtime_with_blocking_peers() {
    // The single executor thread only awaits; the blocking ends run on their own threads.
    let (tx, rx) = rendez::channel::<usize>();
    let n = scaled(300);
    let tx2 = tx.clone();
    let sender = thread::spawn(move || {
        for i in 0..n {
            tx2.send_blocking(i).unwrap();
        }
    });
    for i in 0..n {
        assert_eq!(rx.recv().await, Ok(i));
    }
    sender.join().unwrap();
    let rx2 = rx.clone();
    let receiver =
        thread::spawn(move || (0..n).map(|_| rx2.recv_blocking().unwrap()).sum::<usize>());
    for i in 0..n {
        tx.send(i).await.unwrap();
    }
    assert_eq!(receiver.join().unwrap(), (0..n).sum::<usize>());
}

#[test]
#[cfg_attr(miri, ignore = "async-std's reactor (timerfd) is unsupported by Miri")]
fn async_std_task_and_blocking_thread_both_ways() {
    let (tx, rx) = rendez::channel::<usize>();
    let n = scaled(500);
    let tx2 = tx.clone();
    let t = thread::spawn(move || {
        for i in 0..n {
            tx2.send_blocking(i).unwrap();
        }
    });
    async_std::task::block_on(async {
        for i in 0..n {
            assert_eq!(rx.recv().await, Ok(i));
        }
    });
    t.join().unwrap();

    let rx2 = rx.clone();
    let t = thread::spawn(move || {
        (0..n)
            .map(|_| rx2.recv_blocking().unwrap())
            .collect::<Vec<_>>()
    });
    let task = async_std::task::spawn(async move {
        for i in 0..n {
            tx.send(i).await.unwrap();
        }
    });
    async_std::task::block_on(task);
    assert_eq!(t.join().unwrap(), (0..n).collect::<Vec<_>>());
}

#[test]
fn futures_executor_and_blocking_thread_both_ways() {
    let (tx, rx) = rendez::channel::<usize>();
    let n = scaled(500);
    let tx2 = tx.clone();
    let t = thread::spawn(move || {
        for i in 0..n {
            tx2.send_blocking(i).unwrap();
        }
    });
    for i in 0..n {
        assert_eq!(futures::executor::block_on(rx.recv()), Ok(i));
    }
    t.join().unwrap();

    let rx2 = rx.clone();
    let t = thread::spawn(move || {
        (0..n)
            .map(|_| rx2.recv_timeout(LONG).unwrap())
            .collect::<Vec<_>>()
    });
    for i in 0..n {
        futures::executor::block_on(tx.send(i)).unwrap();
    }
    assert_eq!(t.join().unwrap(), (0..n).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_mpmc_blocking_and_async_exactly_once() {
    let (tx, rx) = rendez::channel::<usize>();
    let per = scaled(500);
    // Four producers (two threads, two tasks), four consumers (two threads, two tasks).
    let mut threads = Vec::new();
    for p in 0..2 {
        let tx = tx.clone();
        threads.push(thread::spawn(move || {
            for i in 0..per {
                if i % 3 == 0 {
                    let mut m = p * per + i;
                    loop {
                        match tx.send_timeout(m, Duration::from_millis(1)) {
                            Ok(()) => break,
                            Err(SendTimeoutError::Timeout(back)) => m = back,
                            Err(SendTimeoutError::Disconnected(_)) => panic!("closed"),
                        }
                    }
                } else {
                    tx.send_blocking(p * per + i).unwrap();
                }
            }
            Vec::new()
        }));
    }
    let mut tasks = Vec::new();
    for p in 2..4 {
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                tx.send(p * per + i).await.unwrap();
            }
            Vec::new()
        }));
    }
    drop(tx);
    for c in 0..2 {
        let rx = rx.clone();
        threads.push(thread::spawn(move || {
            let mut got = Vec::new();
            loop {
                let r = if c == 0 {
                    rx.recv_blocking().ok()
                } else {
                    match rx.recv_timeout(Duration::from_millis(1)) {
                        Ok(m) => Some(m),
                        Err(RecvTimeoutError::Timeout) => continue,
                        Err(RecvTimeoutError::Disconnected) => None,
                    }
                };
                match r {
                    Some(m) => got.push(m),
                    None => return got,
                }
            }
        }));
    }
    for _ in 0..2 {
        let rx = rx.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Ok(m) = rx.recv().await {
                got.push(m);
            }
            got
        }));
    }
    drop(rx);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let from_threads = tokio::task::spawn_blocking(move || {
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    all.extend(from_threads);
    all.sort_unstable();
    assert_eq!(all, (0..4 * per).collect::<Vec<_>>());
}

// === timeouts: no peer comes ===

#[test]
fn recv_timeout_times_out_without_a_sender() {
    let (tx, rx) = rendez::channel::<u32>();
    let err = rx.recv_timeout(SHORT).unwrap_err();
    assert_eq!(err, RecvTimeoutError::Timeout);
    assert!(err.is_timeout());
    assert!(!err.is_disconnected());
    // The timed-out receive withdrew: a try_send finds no receive waiting.
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    assert!(!rx.is_closed());
}

#[test]
fn send_timeout_times_out_and_returns_the_message() {
    let log = DropLog::new();
    let (tx, rx) = rendez::channel::<Tracked>();
    let err = tx.send_timeout(Tracked::new(3, &log), SHORT).unwrap_err();
    assert!(err.is_timeout());
    assert!(!err.is_disconnected());
    let msg = err.into_inner();
    assert_eq!(msg.id, 3);
    assert_eq!(log.dropped(), 0, "the message came back, not dropped");
    // The timed-out send withdrew: nothing is left to receive.
    assert_eq!(rx.try_recv().map(|m| m.id), Err(TryRecvError::Empty));
    drop(msg);
    assert_eq!(log.dropped(), 1);
}

#[test]
fn zero_timeouts_time_out_without_a_peer() {
    let (tx, rx) = rendez::channel::<u32>();
    assert_eq!(
        rx.recv_timeout(Duration::ZERO),
        Err(RecvTimeoutError::Timeout)
    );
    assert_eq!(
        tx.send_timeout(1, Duration::ZERO),
        Err(SendTimeoutError::Timeout(1))
    );
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
}

#[test]
fn send_timeout_with_only_senders_waiting_times_out() {
    let (tx, _rx) = rendez::channel::<u32>();
    let w = TestWaker::new();
    let mut other = pin!(tx.send(1));
    assert!(w.poll(other.as_mut()).is_pending());
    assert_eq!(tx.send_timeout(2, SHORT), Err(SendTimeoutError::Timeout(2)));
    assert!(w.poll(other.as_mut()).is_pending());
}

// === timeouts: a peer comes in time ===

#[test]
fn recv_timeout_succeeds_when_a_sender_comes() {
    let (tx, rx) = rendez::channel::<u32>();
    let t = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        tx.send_blocking(5)
    });
    assert_eq!(rx.recv_timeout(LONG), Ok(5));
    assert_eq!(t.join().unwrap(), Ok(()));
}

#[test]
fn send_timeout_succeeds_when_a_receiver_comes() {
    let (tx, rx) = rendez::channel::<u32>();
    let t = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        rx.recv_blocking()
    });
    assert_eq!(tx.send_timeout(6, LONG), Ok(()));
    assert_eq!(t.join().unwrap(), Ok(6));
}

#[test]
fn recv_timeout_takes_a_send_that_is_already_waiting_even_with_zero_timeout() {
    let (tx, rx) = rendez::channel::<u32>();
    let w = TestWaker::new();
    let mut send = pin!(tx.send(7));
    assert!(w.poll(send.as_mut()).is_pending());
    assert_eq!(rx.recv_timeout(Duration::ZERO), Ok(7));
    assert!(w.is_woken());
    assert_eq!(w.poll(send.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn send_timeout_to_a_blocked_receiver_thread_succeeds() {
    let (tx, rx) = rendez::channel::<u32>();
    let t = thread::spawn(move || rx.recv_blocking());
    // Retry with a zero timeout until the thread waits; then the handoff is immediate.
    let mut m = 8;
    loop {
        match tx.send_timeout(m, Duration::ZERO) {
            Ok(()) => break,
            Err(SendTimeoutError::Timeout(back)) => {
                m = back;
                thread::yield_now();
            }
            Err(SendTimeoutError::Disconnected(_)) => panic!("closed"),
        }
    }
    assert_eq!(t.join().unwrap(), Ok(8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_timeout_to_an_awaiting_tokio_task() {
    let (tx, rx) = rendez::channel::<u32>();
    let task = tokio::spawn(async move { rx.recv().await });
    let sent = tokio::task::spawn_blocking(move || tx.send_timeout(9, LONG))
        .await
        .unwrap();
    assert_eq!(sent, Ok(()));
    assert_eq!(task.await.unwrap(), Ok(9));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recv_timeout_from_a_sending_tokio_task() {
    let (tx, rx) = rendez::channel::<u32>();
    let task = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        tx.send(10).await
    });
    let got = tokio::task::spawn_blocking(move || rx.recv_timeout(LONG))
        .await
        .unwrap();
    assert_eq!(got, Ok(10));
    assert_eq!(task.await.unwrap(), Ok(()));
}

#[test]
fn duration_max_timeouts_wait_for_a_peer_without_panicking() {
    let (tx, rx) = rendez::channel::<u32>();
    let tx2 = tx.clone();
    let t = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        tx2.send_blocking(1)
    });
    assert_eq!(rx.recv_timeout(Duration::MAX), Ok(1));
    assert_eq!(t.join().unwrap(), Ok(()));

    let rx2 = rx.clone();
    let t = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        rx2.recv_blocking()
    });
    assert_eq!(tx.send_timeout(2, Duration::MAX), Ok(()));
    assert_eq!(t.join().unwrap(), Ok(2));

    // Also against an async peer.
    let rx2 = rx.clone();
    let t = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        futures::executor::block_on(rx2.recv())
    });
    assert_eq!(tx.send_timeout(3, Duration::MAX), Ok(()));
    assert_eq!(t.join().unwrap(), Ok(3));
}

#[test]
fn duration_max_timeout_ends_on_close() {
    let (tx, rx) = rendez::channel::<u32>();
    let t = thread::spawn(move || rx.recv_timeout(Duration::MAX));
    thread::sleep(Duration::from_millis(20));
    drop(tx);
    assert_eq!(t.join().unwrap(), Err(RecvTimeoutError::Disconnected));
}

// === timeouts never lose or duplicate a message ===

#[test]
fn timeout_retry_loops_deliver_every_message_exactly_once() {
    let (tx, rx) = rendez::channel::<usize>();
    let per = scaled(300);
    let producers = 3;
    let mut senders = Vec::new();
    for p in 0..producers {
        let tx = tx.clone();
        senders.push(thread::spawn(move || {
            for i in 0..per {
                let mut m = p * per + i;
                loop {
                    match tx.send_timeout(m, Duration::from_micros(200)) {
                        Ok(()) => break,
                        Err(SendTimeoutError::Timeout(back)) => m = back,
                        Err(SendTimeoutError::Disconnected(_)) => panic!("closed"),
                    }
                }
            }
        }));
    }
    drop(tx);
    let mut receivers = Vec::new();
    for _ in 0..3 {
        let rx = rx.clone();
        receivers.push(thread::spawn(move || {
            let mut got = Vec::new();
            loop {
                match rx.recv_timeout(Duration::from_micros(200)) {
                    Ok(m) => got.push(m),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return got,
                }
            }
        }));
    }
    drop(rx);
    for s in senders {
        s.join().unwrap();
    }
    let mut all: Vec<usize> = receivers
        .into_iter()
        .flat_map(|r| r.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..producers * per).collect::<Vec<_>>());
}

#[test]
fn timed_out_tracked_messages_are_never_dropped_by_the_channel() {
    let log = DropLog::new();
    let (tx, rx) = rendez::channel::<Tracked>();
    let n = scaled(200);
    let r = thread::spawn(move || {
        let mut ids = Vec::new();
        while ids.len() < n {
            match rx.recv_timeout(Duration::from_micros(100)) {
                Ok(m) => ids.push(m.id),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        ids
    });
    let mut retries = 0;
    for i in 0..n {
        let mut m = Tracked::new(i, &log);
        loop {
            match tx.send_timeout(m, Duration::from_micros(100)) {
                Ok(()) => break,
                Err(SendTimeoutError::Timeout(back)) => {
                    assert_eq!(back.id, i);
                    m = back;
                    retries += 1;
                }
                Err(SendTimeoutError::Disconnected(_)) => panic!("closed"),
            }
        }
    }
    let ids = r.join().unwrap();
    assert_eq!(ids, (0..n).collect::<Vec<_>>());
    // Each message was dropped once, by the receiver; none was dropped on a timeout.
    assert_eq!(log.dropped(), n, "after {retries} retries");
}
