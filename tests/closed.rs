//! `closed()`: a future on `Sender`, `Receiver` and the static `Channel` that resolves once the
//! channel is closed. Cancel safe (dropping it withdraws it), any number may wait, re-polling
//! with another waker moves the registration (CONTRACT rule 7); on tokio, async-std and threads.

#![cfg(feature = "std")]

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use common::{join, scaled, wait_until, watchdog, TestWaker};

#[test]
fn sender_closed_waits_while_a_receiver_lives_and_resolves_when_the_last_one_drops() {
    let (tx, rx) = rendez::channel::<u32>();
    let rx2 = rx.clone();
    let w = TestWaker::new();
    let mut closed = pin!(tx.closed());
    assert!(w.poll(closed.as_mut()).is_pending());
    drop(rx);
    assert!(!w.is_woken(), "one receiver is still alive");
    assert!(w.poll(closed.as_mut()).is_pending());
    drop(rx2);
    assert_eq!(w.wakes(), 1);
    assert_eq!(w.poll(closed.as_mut()), Poll::Ready(()));
    // Closed stays closed: polling again is allowed and resolves again.
    assert_eq!(w.poll(closed.as_mut()), Poll::Ready(()));
}

#[test]
fn receiver_closed_resolves_when_the_last_sender_drops_and_a_held_message_is_still_received() {
    let (tx, rx) = rendez::channel::<u32>();
    let (wc, wr) = (TestWaker::new(), TestWaker::new());
    let mut closed = pin!(rx.closed());
    assert!(wc.poll(closed.as_mut()).is_pending());
    // An async receive waits, so `try_send` holds its message for it (rule 5).
    let mut recv = pin!(rx.recv());
    assert!(wr.poll(recv.as_mut()).is_pending());
    tx.try_send(7).unwrap();
    drop(tx);
    assert!(wc.is_woken());
    assert_eq!(wc.poll(closed.as_mut()), Poll::Ready(()));
    assert_eq!(wr.poll(recv.as_mut()), Poll::Ready(Ok(7)));
    assert_eq!(rx.try_recv(), Err(rendez::TryRecvError::Disconnected));
}

#[test]
fn closed_on_a_closed_channel_resolves_on_its_first_poll() {
    let (tx, rx) = rendez::channel::<u32>();
    assert!(rx.close());
    let w = TestWaker::new();
    assert_eq!(w.poll(pin!(tx.closed())), Poll::Ready(()));
    assert_eq!(w.poll(pin!(rx.closed())), Poll::Ready(()));
    assert!(!w.is_woken());
}

#[test]
fn close_from_either_side_resolves_both_sides_watchers() {
    for close_with_sender in [true, false] {
        let (tx, rx) = rendez::channel::<u32>();
        let (ws, wr) = (TestWaker::new(), TestWaker::new());
        let mut on_tx = pin!(tx.closed());
        let mut on_rx = pin!(rx.closed());
        assert!(ws.poll(on_tx.as_mut()).is_pending());
        assert!(wr.poll(on_rx.as_mut()).is_pending());
        if close_with_sender {
            assert!(tx.close());
        } else {
            assert!(rx.close());
        }
        assert!(ws.is_woken() && wr.is_woken());
        assert_eq!(ws.poll(on_tx.as_mut()), Poll::Ready(()));
        assert_eq!(wr.poll(on_rx.as_mut()), Poll::Ready(()));
    }
}

#[test]
fn more_watchers_than_one_close_batch_are_all_woken() {
    let (tx, rx) = rendez::channel::<u32>();
    let wakers: Vec<TestWaker> = (0..50).map(|_| TestWaker::new()).collect();
    let mut watchers: Vec<_> = (0..50).map(|_| Box::pin(tx.closed())).collect();
    for (w, f) in wakers.iter().zip(&mut watchers) {
        assert!(w.poll(f.as_mut()).is_pending());
    }
    // Waiting sends and receives are unlinked first, the watchers after them.
    let mut send = pin!(tx.send(1));
    let ws = TestWaker::new();
    assert!(ws.poll(send.as_mut()).is_pending());
    drop(rx);
    assert!(ws.is_woken());
    for (w, f) in wakers.iter().zip(&mut watchers) {
        assert_eq!(w.wakes(), 1);
        assert_eq!(w.poll(f.as_mut()), Poll::Ready(()));
    }
    assert_eq!(
        ws.poll(send.as_mut()),
        Poll::Ready(Err(rendez::SendError(1)))
    );
}

#[test]
fn a_dropped_watcher_is_withdrawn_and_the_others_still_resolve() {
    let (tx, rx) = rendez::channel::<u32>();
    let wakers: Vec<TestWaker> = (0..5).map(|_| TestWaker::new()).collect();
    let mut watchers: Vec<_> = (0..5).map(|_| Some(Box::pin(rx.closed()))).collect();
    for (w, f) in wakers.iter().zip(&mut watchers) {
        assert!(w.poll(f.as_mut().unwrap().as_mut()).is_pending());
    }
    // Withdraw the first, a middle one and the last: the list stays whole.
    for i in [0, 2, 4] {
        watchers[i] = None;
    }
    drop(tx);
    for (i, (w, f)) in wakers.iter().zip(&mut watchers).enumerate() {
        match f {
            None => assert!(!w.is_woken(), "withdrawn watcher {i} was woken"),
            Some(f) => {
                assert_eq!(w.wakes(), 1, "watcher {i}");
                assert_eq!(w.poll(f.as_mut()), Poll::Ready(()));
            }
        }
    }
}

#[test]
fn re_polled_with_another_waker_wakes_the_latest_one() {
    let (tx, rx) = rendez::channel::<u32>();
    let (first, second) = (TestWaker::new(), TestWaker::new());
    let mut closed = pin!(tx.closed());
    assert!(first.poll(closed.as_mut()).is_pending());
    assert!(second.poll(closed.as_mut()).is_pending());
    drop(rx);
    assert!(!first.is_woken());
    assert_eq!(second.wakes(), 1);
}

#[test]
fn weak_handles_do_not_keep_a_watched_channel_open() {
    let (tx, rx) = rendez::channel::<u32>();
    let weak = rx.downgrade();
    let w = TestWaker::new();
    let mut closed = pin!(tx.closed());
    assert!(w.poll(closed.as_mut()).is_pending());
    drop(rx);
    assert!(w.is_woken());
    assert_eq!(w.poll(closed.as_mut()), Poll::Ready(()));
    assert!(weak.upgrade().is_none());
}

#[test]
fn static_channel_closed_works_in_futures_select_without_fuse() {
    static CH: rendez::Channel<u32> = rendez::Channel::new();
    futures::executor::block_on(async {
        // Open: the other arm wins, and the dropped watcher leaves nothing behind.
        let open = futures::select! {
            () = CH.closed() => false,
            () = futures::future::ready(()) => true,
        };
        assert!(open);
        let close = async {
            CH.close();
        };
        futures::join!(CH.closed(), close);
        let mut closed = pin!(CH.closed());
        assert!(!futures::future::FusedFuture::is_terminated(&closed));
        closed.as_mut().await;
        assert!(futures::future::FusedFuture::is_terminated(&closed));
    });
}

/// The pattern `closed()` is for: a producer that waits for work watches for the consumers
/// going away meanwhile; a send in progress learns it from its own `SendError`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_producer_stops_when_its_consumer_goes_away_on_tokio() {
    let (tx, rx) = rendez::channel::<u32>();
    let producer = tokio::spawn(async move {
        let mut sent = 0;
        loop {
            tokio::select! {
                () = tx.closed() => return sent,
                () = tokio::time::sleep(Duration::from_micros(100)) => {} // "work arrives"
            }
            match tx.send(sent).await {
                Ok(()) => sent += 1,
                Err(_) => return sent,
            }
        }
    });
    for expect in 0..10 {
        assert_eq!(rx.recv().await, Ok(expect));
    }
    drop(rx);
    assert_eq!(watchdog(producer).await.unwrap(), 10);
}

#[test]
#[cfg_attr(miri, ignore = "async-std's reactor (timerfd) is unsupported by Miri")]
fn closed_resolves_on_async_std_when_the_last_sender_drops() {
    async_std::task::block_on(async {
        let (tx, rx) = rendez::channel::<u32>();
        let watcher = async_std::task::spawn(async move { rx.closed().await });
        async_std::task::sleep(Duration::from_millis(5)).await;
        drop(tx);
        async_std::future::timeout(common::WATCHDOG, watcher)
            .await
            .expect("the watcher was never woken");
    });
}

#[test]
fn a_thread_blocked_on_closed_is_woken_by_a_drop_on_another_thread() {
    let (tx, rx) = rendez::channel::<u32>();
    let watching = Arc::new(AtomicUsize::new(0));
    let seen = watching.clone();
    let watcher = thread::spawn(move || {
        seen.store(1, Ordering::SeqCst);
        futures::executor::block_on(tx.closed());
    });
    wait_until("the watcher started", || {
        watching.load(Ordering::SeqCst) == 1
    });
    thread::sleep(Duration::from_millis(5));
    drop(rx);
    join(watcher);
}

/// Watchers registering, re-polling and dropping on two threads while a third closes: each
/// watcher either was withdrawn or resolves; none hangs, none is woken after it was dropped (which
/// Miri and the sanitizers would see as a use after free).
#[test]
fn watchers_racing_close_all_resolve_or_withdraw() {
    for _ in 0..scaled(200) {
        let (tx, rx) = rendez::channel::<u32>();
        let watchers: Vec<_> = (0..2)
            .map(|k| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for round in 0.. {
                        let w = TestWaker::new();
                        let mut closed = Box::pin(tx.closed());
                        if w.poll(closed.as_mut()).is_ready() {
                            return round;
                        }
                        if (round + k) % 3 == 0 {
                            continue; // dropped while registered
                        }
                        wait_until("the close woke the watcher", || {
                            w.is_woken() || tx.is_closed()
                        });
                        if tx.is_closed() {
                            wait_until("the watcher was woken", || w.is_woken());
                            assert_eq!(w.poll(closed.as_mut()), Poll::Ready(()));
                            return round;
                        }
                    }
                    unreachable!()
                })
            })
            .collect();
        thread::yield_now();
        rx.close();
        for w in watchers {
            join(w);
        }
    }
}

#[test]
fn closed_future_is_send_sync_and_debug() {
    fn assert_send_sync<F: Future + Send + Sync + std::fmt::Debug>(_: &F) {}
    let (tx, rx) = rendez::channel::<u32>();
    let f = tx.closed();
    assert_send_sync(&f);
    let text = format!("{f:?}");
    assert!(text.starts_with("ClosedFut"), "{text}");
    drop(rx);
}
