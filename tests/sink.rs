//! `Sink` for `Sender` (feature `sink`): `cargo test --features sink --test sink`.
#![cfg(all(feature = "sink", not(rendez_loom)))]

mod common;

use std::pin::Pin;
use std::task::Poll;

use common::{DropLog, TestWaker, Tracked};
use futures::{stream, Sink, SinkExt, StreamExt};
use rendez::{channel, RecvError, SendError, Sender, TryRecvError};

/// Polls one of the sink's methods once with a fresh test waker.
fn poll_sink<T>(
    tx: &mut Sender<T>,
    f: impl FnOnce(Pin<&mut Sender<T>>, &mut std::task::Context<'_>) -> Poll<Result<(), SendError<T>>>,
) -> Poll<Result<(), SendError<T>>> {
    let w = TestWaker::new();
    f(Pin::new(tx), &mut std::task::Context::from_waker(w.waker()))
}

#[test]
fn forward_sends_every_item_in_order() {
    let (tx, rx) = channel::<u32>();
    let n = common::scaled(1000) as u32;
    futures::executor::block_on(async {
        let forward = stream::iter(0..n).map(Ok).forward(tx);
        let collect = rx.take(n as usize).collect::<Vec<_>>();
        let (sent, got) = futures::join!(forward, collect);
        assert_eq!(sent, Ok(()));
        assert_eq!(got, (0..n).collect::<Vec<_>>());
    });
}

#[test]
fn forward_between_threads_and_tasks_on_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (tx, rx) = channel::<u32>();
    let n = common::scaled(2000) as u32;
    let consumer = std::thread::spawn(move || {
        (0..n)
            .map(|_| rx.recv_blocking().unwrap())
            .collect::<Vec<_>>()
    });
    rt.block_on(common::watchdog(async move {
        stream::iter(0..n).map(Ok).forward(tx).await.unwrap();
    }));
    assert_eq!(common::join(consumer), (0..n).collect::<Vec<_>>());
}

#[test]
fn flush_resolves_only_after_a_receive_took_the_message() {
    let (mut tx, rx) = channel::<u32>();
    assert_eq!(poll_sink(&mut tx, Sink::poll_ready), Poll::Ready(Ok(())));
    Pin::new(&mut tx).start_send(4).unwrap();
    assert!(
        poll_sink(&mut tx, Sink::poll_flush).is_pending(),
        "nothing took it yet"
    );
    assert!(
        poll_sink(&mut tx, Sink::poll_ready).is_pending(),
        "one message in flight at a time"
    );
    assert_eq!(rx.try_recv(), Ok(4));
    assert_eq!(poll_sink(&mut tx, Sink::poll_flush), Poll::Ready(Ok(())));
    assert_eq!(poll_sink(&mut tx, Sink::poll_ready), Poll::Ready(Ok(())));
}

#[test]
fn sink_send_and_plain_sends_from_clones_all_arrive() {
    let (mut tx, rx) = channel::<u32>();
    let tx2 = tx.clone();
    futures::executor::block_on(async {
        let a = async {
            tx.send(1).await.unwrap(); // SinkExt::send: start_send + flush
            tx.feed(2).await.unwrap();
            tx.flush().await.unwrap();
        };
        let b = async { Sender::send(&tx2, 3).await.unwrap() };
        let c = async {
            let mut got = vec![];
            for _ in 0..3 {
                got.push(rx.recv().await.unwrap());
            }
            got.sort();
            got
        };
        let ((), (), got) = futures::join!(a, b, c);
        assert_eq!(got, [1, 2, 3]);
    });
}

#[test]
fn closed_channel_returns_the_message_from_start_send_or_flush() {
    let (mut tx, rx) = channel::<u32>();
    Pin::new(&mut tx).start_send(1).unwrap();
    assert!(poll_sink(&mut tx, Sink::poll_flush).is_pending());
    drop(rx); // the message in flight comes back
    assert_eq!(
        poll_sink(&mut tx, Sink::poll_flush),
        Poll::Ready(Err(SendError(1)))
    );
    assert_eq!(poll_sink(&mut tx, Sink::poll_ready), Poll::Ready(Ok(())));
    assert_eq!(Pin::new(&mut tx).start_send(2), Err(SendError(2)));
}

#[test]
fn dropping_the_sender_withdraws_its_message_in_flight_and_closes_the_channel() {
    let log = DropLog::new();
    let (mut tx, rx) = channel::<Tracked>();
    Pin::new(&mut tx).start_send(Tracked::new(1, &log)).unwrap();
    assert!(poll_sink(&mut tx, Sink::poll_flush).is_pending());
    drop(tx);
    assert_eq!(log.dropped(), 1, "dropped undelivered with its handle");
    assert_eq!(rx.try_recv().err(), Some(TryRecvError::Disconnected));
    assert_eq!(
        futures::executor::block_on(rx.recv()).err(),
        Some(RecvError)
    );
}

#[test]
fn dropped_sink_send_future_leaves_the_message_in_flight() {
    let (mut tx, rx) = channel::<u32>();
    {
        let mut send = SinkExt::send(&mut tx, 9);
        assert!(TestWaker::new().poll(Pin::new(&mut send)).is_pending());
    }
    // The next flush goes on sending it.
    let (flushed, got) =
        futures::executor::block_on(async { futures::join!(tx.flush(), rx.recv()) });
    assert_eq!((flushed, got), (Ok(()), Ok(9)));
}

#[test]
#[should_panic(expected = "start_send while a message is in flight")]
fn start_send_without_poll_ready_panics() {
    let (mut tx, _rx) = channel::<u32>();
    Pin::new(&mut tx).start_send(1).unwrap();
    assert!(poll_sink(&mut tx, Sink::poll_flush).is_pending());
    let _ = Pin::new(&mut tx).start_send(2);
}

#[test]
fn sender_with_the_sink_feature_is_still_send_sync_unpin() {
    fn check<T: Send + Sync + Unpin + Clone>() {}
    check::<Sender<u32>>();
}
