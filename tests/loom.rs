//! loom models of the exchange: every interleaving of a few parties, up to a preemption bound.
//!
//! Run with `RUSTFLAGS="--cfg rendez_loom" cargo test --release --test loom` (`.ci/run` does). The bound
//! defaults to 3 and can be changed with `LOOM_MAX_PREEMPTIONS`.
//!
//! Each model asserts exactly-once delivery (a message is received once, or comes back in an
//! error, or is dropped with a cancelled send: counted by [`Msg`]'s `Drop`) and that no waiter is
//! left unwoken: every party that waits does so in `loom::future::block_on` or a blocking call,
//! and loom fails a model in which every thread is parked for good.
#![cfg(rendez_loom)]

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use loom::future::block_on;
use loom::thread;
use rendez::lock::SpinLock;
use rendez::{channel, channel_with, RecvError, SendError, TryRecvError, TrySendError};

/// Runs `f` under loom with a preemption bound (3 unless `LOOM_MAX_PREEMPTIONS` says otherwise).
fn model(f: impl Fn() + Sync + Send + 'static) {
    model_bounded(usize::MAX, f);
}

/// [`model`] with the preemption bound capped at `max`, for a model whose interleavings grow too
/// fast past it.
fn model_bounded(max: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    let bound = builder.preemption_bound.unwrap_or(3);
    builder.preemption_bound = Some(bound.min(max));
    builder.check(f);
}

/// A message that counts its drops, so a model can tell "dropped undelivered" from "received".
#[derive(Debug)]
struct Msg {
    id: u32,
    drops: StdArc<AtomicUsize>,
}

impl Msg {
    /// Message `id`, counting its drops in `drops`.
    fn new(id: u32, drops: &StdArc<AtomicUsize>) -> Self {
        Msg {
            id,
            drops: drops.clone(),
        }
    }

    /// Consumes a delivered message without counting it as dropped; returns its id.
    fn take(self) -> u32 {
        let id = self.id;
        std::mem::forget(self);
        id
    }
}

impl Drop for Msg {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

/// A waker for futures polled by hand; a model that needs it woken drives the future with
/// `block_on` afterwards, which re-registers that waker (rule 7).
struct Ignore;

impl Wake for Ignore {
    fn wake(self: StdArc<Self>) {}
}

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    let waker = Waker::from(StdArc::new(Ignore));
    fut.poll(&mut Context::from_waker(&waker))
}

// === handoffs ===

#[test]
fn async_send_meets_async_recv_in_either_order() {
    model(|| {
        let (tx, rx) = channel::<u32>();
        let sender = thread::spawn(move || block_on(tx.send(7)));
        assert_eq!(block_on(rx.recv()), Ok(7));
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}

#[test]
fn spin_lock_channel_hands_over_in_either_order() {
    model(|| {
        let (tx, rx) = channel_with::<u32, SpinLock>();
        let sender = thread::spawn(move || block_on(tx.send(7)));
        assert_eq!(block_on(rx.recv()), Ok(7));
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}

#[test]
fn blocking_send_meets_async_recv() {
    model(|| {
        let (tx, rx) = channel::<u32>();
        let sender = thread::spawn(move || tx.send_blocking(7));
        assert_eq!(block_on(rx.recv()), Ok(7));
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}

#[test]
fn async_send_meets_blocking_recv() {
    model(|| {
        let (tx, rx) = channel::<u32>();
        let receiver = thread::spawn(move || rx.recv_blocking());
        assert_eq!(block_on(tx.send(7)), Ok(()));
        assert_eq!(receiver.join().unwrap(), Ok(7));
    });
}

#[test]
fn static_channel_hands_over() {
    model(|| {
        let ch = StdArc::new(rendez::Channel::<u32>::new());
        let ch2 = ch.clone();
        let sender = thread::spawn(move || block_on(ch2.send(7)));
        assert_eq!(block_on(ch.recv()), Ok(7));
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}

// === FIFO ===

#[test]
fn two_waiting_sends_are_taken_in_the_order_they_registered() {
    model(|| {
        let (tx, rx) = channel::<u32>();
        let tx2 = tx.clone();
        let mut first = pin!(tx.send(1));
        assert!(poll_once(first.as_mut()).is_pending()); // registered first
        let second = thread::spawn(move || block_on(tx2.send(2)));
        let receiver = thread::spawn(move || (block_on(rx.recv()), block_on(rx.recv())));
        assert_eq!(block_on(first), Ok(()));
        assert_eq!(second.join().unwrap(), Ok(()));
        assert_eq!(receiver.join().unwrap(), (Ok(1), Ok(2)));
    });
}

// === cancellation ===

#[test]
fn send_dropped_while_a_receive_races_to_take_it_is_delivered_or_dropped_once() {
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (tx, rx) = channel::<Msg>();
        let receiver = thread::spawn(move || block_on(rx.recv()).map(Msg::take));
        {
            let mut send = pin!(tx.send(Msg::new(1, &drops)));
            let _ = poll_once(send.as_mut());
        } // dropped here, before or after the receive took the message
        tx.close(); // release the receive if it found nothing
        match receiver.join().unwrap() {
            Ok(id) => {
                assert_eq!(id, 1);
                assert_eq!(drops.load(Ordering::Relaxed), 0);
            }
            Err(RecvError) => assert_eq!(drops.load(Ordering::Relaxed), 1),
        }
    });
}

#[test]
fn receive_dropped_while_a_send_arrives_passes_the_message_to_the_next_receive() {
    model(|| {
        let (tx, rx) = channel::<u32>();
        let rx2 = rx.clone();
        let mut first = Box::pin(rx.recv());
        assert!(poll_once(first.as_mut()).is_pending());
        let mut second = pin!(rx2.recv());
        assert!(poll_once(second.as_mut()).is_pending()); // in line behind `first`
        let sender = thread::spawn(move || block_on(tx.send(5)));
        drop(first); // before the send, or after it notified `first`: the turn passes on
        assert_eq!(block_on(second), Ok(5));
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}

#[test]
fn notified_receive_dropped_on_another_thread_passes_its_turn() {
    model(|| {
        let (tx, rx) = channel::<u32>();
        let rx2 = rx.clone();
        let canceller = thread::spawn(move || {
            let mut first = pin!(rx2.recv());
            // Finds the send waiting and takes the message, or waits first in line (and may be
            // notified) and is dropped without being polled again.
            match poll_once(first.as_mut()) {
                Poll::Ready(got) => Some(got),
                Poll::Pending => None,
            }
        });
        let sender = thread::spawn(move || block_on(tx.send(5)));
        let taken_by_first = canceller.join().unwrap();
        let got = block_on(rx.recv());
        match taken_by_first {
            Some(first) => assert_eq!((first, got), (Ok(5), Err(RecvError))),
            // The dropped receive never returned the message, so it is still on offer.
            None => assert_eq!(got, Ok(5)),
        }
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}

#[test]
fn timed_out_receive_either_took_the_message_or_left_it_with_its_send() {
    // Under loom a timed wait times out the first time it would park.
    model(|| {
        let (tx, rx) = channel::<u32>();
        let sender = thread::spawn(move || tx.send_blocking(3));
        let got = match rx.recv_timeout(std::time::Duration::from_secs(1)) {
            Ok(n) => n,
            Err(_) => block_on(rx.recv()).unwrap(),
        };
        assert_eq!(got, 3);
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}

#[test]
fn timed_out_send_either_was_taken_or_gets_its_message_back() {
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (tx, rx) = channel::<Msg>();
        let receiver = thread::spawn(move || rx.recv_blocking().map(Msg::take));
        let outcome = tx.send_timeout(Msg::new(1, &drops), std::time::Duration::from_secs(1));
        let returned = outcome.map_err(|e| e.into_inner().take()).err();
        drop(tx); // the last sender: a receive still waiting reports the disconnection
        match (returned, receiver.join().unwrap()) {
            (None, Ok(1)) | (Some(1), Err(RecvError)) => {}
            other => panic!("message neither delivered nor returned once: {other:?}"),
        }
        assert_eq!(drops.load(Ordering::Relaxed), 0);
    });
}

// === disconnection ===

#[test]
fn close_racing_a_handoff_delivers_or_returns_the_message_once() {
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (tx, rx) = channel::<Msg>();
        let closer = tx.clone();
        let msg = Msg::new(1, &drops);
        let sender = thread::spawn(move || block_on(tx.send(msg)).map_err(|e| e.0.take()));
        let receiver = thread::spawn(move || block_on(rx.recv()).map(Msg::take));
        closer.close();
        match (sender.join().unwrap(), receiver.join().unwrap()) {
            (Ok(()), Ok(1)) | (Err(1), Err(RecvError)) => {}
            other => panic!("not exactly once: {other:?}"),
        }
        assert_eq!(drops.load(Ordering::Relaxed), 0);
    });
}

#[test]
fn last_receiver_dropped_racing_a_send_delivers_or_returns_the_message_once() {
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (tx, rx) = channel::<Msg>();
        // The only receiver looks once, then goes away (closing the channel).
        let receiver = thread::spawn(move || rx.try_recv().map(Msg::take));
        let sent = block_on(tx.send(Msg::new(9, &drops))).map_err(|e| e.0.take());
        match (sent, receiver.join().unwrap()) {
            (Ok(()), Ok(9)) | (Err(9), Err(TryRecvError::Empty)) => {}
            other => panic!("not exactly once: {other:?}"),
        }
        assert_eq!(drops.load(Ordering::Relaxed), 0);
    });
}

#[test]
fn last_sender_dropped_racing_a_send_from_a_clone() {
    model(|| {
        let (tx, rx) = channel::<u32>();
        let tx2 = tx.clone();
        let sender = thread::spawn(move || block_on(tx2.send(4)));
        let dropper = thread::spawn(move || drop(tx));
        let got = block_on(rx.recv());
        dropper.join().unwrap();
        // `tx2` is alive until its send finished, so the channel cannot close before the handoff.
        assert_eq!(got, Ok(4));
        assert_eq!(sender.join().unwrap(), Ok(()));
        assert_eq!(block_on(rx.recv()), Err(RecvError));
    });
}

#[test]
fn close_wakes_a_waiting_send_and_a_waiting_receive() {
    model(|| {
        let (tx, rx) = channel::<u32>();
        let (tx2, rx2) = (tx.clone(), rx.clone());
        let sender = thread::spawn(move || block_on(tx2.send(1)).map_err(SendError::into_inner));
        let receiver = thread::spawn(move || block_on(rx2.recv()));
        assert!(rx.close());
        let sent = sender.join().unwrap();
        let got = receiver.join().unwrap();
        match (sent, got) {
            (Ok(()), Ok(1)) | (Err(1), Err(RecvError)) => {}
            other => panic!("not exactly once: {other:?}"),
        }
        drop(tx);
    });
}

#[test]
fn closed_watcher_is_woken_by_the_last_receiver_dropped_on_another_thread() {
    model(|| {
        let (tx, rx) = channel::<u32>();
        let dropper = thread::spawn(move || drop(rx));
        block_on(tx.closed());
        assert!(tx.is_closed());
        dropper.join().unwrap();
    });
}

#[test]
fn closed_watcher_dropped_while_the_channel_closes_leaves_the_others_whole() {
    model(|| {
        let (tx, rx) = channel::<u32>();
        let tx2 = tx.clone();
        // One watcher registers and is withdrawn while the close runs; another waits for it.
        let withdrawn = thread::spawn(move || {
            let mut closed = pin!(tx2.closed());
            let _ = poll_once(closed.as_mut());
        });
        let closer = thread::spawn(move || assert!(rx.close()));
        block_on(tx.closed());
        withdrawn.join().unwrap();
        closer.join().unwrap();
    });
}

// === a Receiver's stream ===

/// Polls `rx` as a `Stream` once with a waker that does nothing.
fn poll_next_once(rx: &mut rendez::Receiver<u32>) -> Poll<Option<u32>> {
    let waker = Waker::from(StdArc::new(Ignore));
    futures_core::Stream::poll_next(Pin::new(rx), &mut Context::from_waker(&waker))
}

#[test]
fn a_stream_that_is_not_polled_again_holds_no_other_receive_back() {
    model(|| {
        let (tx, mut rx) = channel::<u32>();
        let rx2 = rx.clone();
        // Registered first in line, then never polled again (a `next()` dropped in a select).
        assert_eq!(poll_next_once(&mut rx), Poll::Pending);
        let receiver = thread::spawn(move || block_on(rx2.recv()));
        let sender = thread::spawn(move || block_on(tx.send(5)));
        // Whether the clone waited before the offer or came after it, it gets the message.
        assert_eq!(receiver.join().unwrap(), Ok(5));
        assert_eq!(sender.join().unwrap(), Ok(()));
        drop(rx);
    });
}

#[test]
fn an_alerted_stream_and_a_receive_race_for_one_message_and_one_of_them_gets_it() {
    model_bounded(2, || {
        let (tx, mut rx) = channel::<u32>();
        let rx2 = rx.clone();
        assert_eq!(poll_next_once(&mut rx), Poll::Pending);
        let streamer = thread::spawn(move || {
            block_on(std::future::poll_fn(|cx| {
                futures_core::Stream::poll_next(Pin::new(&mut rx), cx)
            }))
        });
        let receiver = thread::spawn(move || block_on(rx2.recv()));
        let sent = block_on(tx.send(5));
        drop(tx); // closes: the one that did not get the message ends
        let got = (streamer.join().unwrap(), receiver.join().unwrap());
        assert!(
            got == (Some(5), Err(RecvError)) || got == (None, Ok(5)),
            "delivered {got:?}"
        );
        assert_eq!(sent, Ok(()));
    });
}

// === the held try_send message ===

#[test]
fn try_send_to_a_waiting_receive_is_returned_by_it() {
    model(|| {
        let (tx, rx) = channel::<u32>();
        let mut recv = pin!(rx.recv());
        assert!(poll_once(recv.as_mut()).is_pending()); // waiting before the try_send
        let sender = thread::spawn(move || tx.try_send(8));
        assert_eq!(sender.join().unwrap(), Ok(()));
        assert_eq!(block_on(recv), Ok(8));
    });
}

#[test]
fn held_message_goes_to_the_next_receive_when_the_woken_one_is_dropped() {
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (tx, rx) = channel::<Msg>();
        let rx2 = rx.clone();
        let mut first = Box::pin(rx.recv());
        assert!(poll_once(first.as_mut()).is_pending());
        let msg = Msg::new(1, &drops);
        let sender = thread::spawn(move || tx.try_send(msg).map_err(|e| e.into_inner().take()));
        drop(first); // before or after the try_send
        let sent = sender.join().unwrap();
        // `tx` is gone, so a receive finds the held message or the disconnection.
        let got = block_on(rx2.recv()).map(Msg::take);
        match (sent, got) {
            (Ok(()), Ok(1)) | (Err(1), Err(RecvError)) => {}
            other => panic!("not exactly once: {other:?}"),
        }
        assert_eq!(drops.load(Ordering::Relaxed), 0);
    });
}

#[test]
fn held_message_is_dropped_once_when_every_receiver_is_gone() {
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (tx, rx) = channel::<Msg>();
        let msg = Msg::new(1, &drops);
        let receiver = thread::spawn(move || {
            let mut recv = pin!(rx.recv());
            // Nothing is on offer yet, so it waits (and the try_send may find it) or is gone.
            assert!(poll_once(recv.as_mut()).is_pending());
        });
        let sent = tx.try_send(msg).map_err(|e| e.into_inner().take());
        receiver.join().unwrap();
        match sent {
            // Held for the receive that then dropped: dropped with the last receiver.
            Ok(()) => assert_eq!(drops.load(Ordering::Relaxed), 1),
            Err(id) => {
                assert_eq!(id, 1);
                assert_eq!(drops.load(Ordering::Relaxed), 0);
            }
        }
        assert!(tx.is_closed());
    });
}

#[test]
fn try_recv_races_a_waiting_receive_for_a_send() {
    model(|| {
        let (tx, rx) = channel::<u32>();
        let rx2 = rx.clone();
        let sender = thread::spawn(move || block_on(tx.send(6)));
        let grabber = thread::spawn(move || rx2.try_recv());
        let grabbed = grabber.join().unwrap();
        match grabbed {
            Ok(6) => assert_eq!(block_on(rx.recv()), Err(RecvError)),
            Err(TryRecvError::Empty) => assert_eq!(block_on(rx.recv()), Ok(6)),
            other => panic!("unexpected try_recv: {other:?}"),
        }
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}

#[test]
fn try_send_full_without_a_waiting_receive_registers_nothing() {
    model(|| {
        let (tx, rx) = channel::<u32>();
        let sender = thread::spawn(move || match tx.try_send(2) {
            Ok(()) => None,
            Err(TrySendError::Full(n)) => Some(n),
            Err(e) => panic!("unexpected {e:?}"),
        });
        let mut recv = pin!(rx.recv());
        let first = poll_once(recv.as_mut());
        let returned = sender.join().unwrap();
        match (first, returned) {
            // The try_send found the receive waiting: it was held for it.
            (Poll::Pending, None) => assert_eq!(block_on(recv), Ok(2)),
            // It found no one waiting and got its message back; the receive waits on, or, polled
            // after the only sender was gone, reports the disconnection.
            (Poll::Pending, Some(2)) => assert_eq!(block_on(recv), Err(RecvError)),
            (Poll::Ready(got), Some(2)) => assert_eq!(got, Err(RecvError)),
            other => panic!("unexpected outcome: {other:?}"),
        }
    });
}

// === select ===
//
// Every select here is `biased;`: a fair select starts its pass at a pseudo-random arm drawn from
// a process-wide generator, which loom cannot replay, so a fair select makes a model
// nondeterministic.

#[test]
fn two_receives_race_for_the_two_send_arms_of_one_select() {
    // Three threads and two channels: bound 2 already takes minutes at most (379 s at bound 3).
    model_bounded(2, || {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (tx1, rx1) = channel::<Msg>();
        let (tx2, rx2) = channel::<Msg>();
        let first = thread::spawn(move || block_on(rx1.recv()).map(Msg::take));
        let second = thread::spawn(move || block_on(rx2.recv()).map(Msg::take));
        let (m1, m2) = (Msg::new(1, &drops), Msg::new(2, &drops));
        let selected = block_on(async {
            rendez::select! {
                biased;
                send(tx1, m1) -> res => res.map(|()| 1).map_err(|e| e.0.take()),
                send(tx2, m2) -> res => res.map(|()| 2).map_err(|e| e.0.take()),
            }
        });
        // The select is over: the receive that lost finds nothing, and learns so from the close.
        tx1.close();
        tx2.close();
        let got = (first.join().unwrap(), second.join().unwrap());
        match (selected, got) {
            (Ok(1), (Ok(1), Err(RecvError))) | (Ok(2), (Err(RecvError), Ok(2))) => {}
            other => panic!("not exactly one send arm: {other:?}"),
        }
        // The message of the arm not selected was dropped with the select.
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    });
}

#[test]
fn two_selects_that_send_where_the_other_receives_both_complete_and_agree() {
    // Bounded at 2 preemptions: 1.4 s there, but 160 s at 3 (each select can prune the other's
    // send arm while it is busy, and each prune means another pass).
    model_bounded(2, || {
        let (tx1, rx1) = channel::<u32>();
        let (tx2, rx2) = channel::<u32>();
        // The peer sends on 1 or receives on 2; this thread receives on 1 or sends on 2.
        let peer = thread::spawn(move || {
            block_on(async {
                rendez::select! {
                    biased;
                    send(tx1, 10) -> res => res.map(|()| None).map_err(|e| e.0),
                    recv(rx2) -> res => res.map(Some).map_err(|_| 0),
                }
            })
        });
        let mine = block_on(async {
            rendez::select! {
                biased;
                recv(rx1) -> res => res.map(Some).map_err(|_| 0),
                send(tx2, 20) -> res => res.map(|()| None).map_err(|e| e.0),
            }
        });
        match (mine, peer.join().unwrap()) {
            (Ok(Some(10)), Ok(None)) | (Ok(None), Ok(Some(20))) => {}
            other => panic!("the selects disagree: {other:?}"),
        }
    });
}

#[test]
fn select_dropped_while_a_receive_takes_one_of_its_send_arms_delivers_it_or_drops_it_once() {
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (tx1, rx1) = channel::<Msg>();
        let (tx2, _rx2) = channel::<Msg>(); // open, but nobody receives
        let receiver = thread::spawn(move || block_on(rx1.recv()).map(Msg::take));
        let polled = {
            let (m1, m2) = (Msg::new(1, &drops), Msg::new(2, &drops));
            let mut select = pin!(async {
                rendez::select! {
                    biased;
                    send(tx1, m1) -> res => res.map(|()| 1).map_err(|e| e.0.take()),
                    send(tx2, m2) -> res => res.map(|()| 2).map_err(|e| e.0.take()),
                }
            });
            poll_once(select.as_mut())
        }; // dropped here: withdrawn, before or after the receive took the first message
        tx1.close(); // releases the receive if it found nothing
        let got = receiver.join().unwrap();
        let dropped = drops.load(Ordering::Relaxed);
        match (polled, got, dropped) {
            // The receive was waiting at the first poll: selected.
            (Poll::Ready(Ok(1)), Ok(1), 1) => {}
            // Taken just before the drop: delivered once, only the outcome is lost.
            (Poll::Pending, Ok(1), 1) => {}
            // Withdrawn first: both messages dropped, none received.
            (Poll::Pending, Err(RecvError), 2) => {}
            other => panic!("not exactly once: {other:?}"),
        }
    });
}

/// What the select of the close model returned.
#[derive(Debug, PartialEq)]
enum SendOrRecv {
    /// The send arm: `Err(id)` with the message back.
    Sent(Result<(), u32>),
    /// The receive arm: the id received.
    Got(Result<u32, RecvError>),
}

#[test]
fn close_racing_a_select_with_a_send_and_a_recv_arm_completes_one_arm() {
    // 4 s at bound 3, 267 s at bound 5.
    model_bounded(3, || {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (tx1, rx1) = channel::<Msg>(); // the select sends here; a closer closes it
        let (tx2, rx2) = channel::<Msg>(); // the select receives here, from a sender
        let m2 = Msg::new(2, &drops);
        let closer = thread::spawn(move || assert!(rx1.close()));
        let sender = thread::spawn(move || tx2.send_blocking(m2).map_err(|e| e.0.take()));
        let m1 = Msg::new(1, &drops);
        let out = block_on(async {
            rendez::select! {
                biased;
                send(tx1, m1) -> res => SendOrRecv::Sent(res.map_err(|e| e.0.take())),
                recv(rx2) -> res => SendOrRecv::Got(res.map(Msg::take)),
            }
        });
        rx2.close(); // releases the sender if its message was not taken
        closer.join().unwrap();
        let sent = sender.join().unwrap();
        let dropped = drops.load(Ordering::Relaxed);
        match (out, sent, dropped) {
            // Received the sender's message; the send arm's message dropped with the select.
            (SendOrRecv::Got(Ok(2)), Ok(()), 1) => {}
            // The closed channel's arm: its message came back, and the sender's too.
            (SendOrRecv::Sent(Err(1)), Err(2), 0) => {}
            other => panic!("not exactly one arm, or not exactly once: {other:?}"),
        }
    });
}

#[test]
fn blocking_select_receives_from_a_blocking_sender() {
    model(|| {
        let (tx1, rx1) = channel::<u32>();
        let (_tx2, rx2) = channel::<u32>(); // open, but nobody sends
        let sender = thread::spawn(move || tx1.send_blocking(5));
        let got = rendez::select_blocking! {
            biased;
            recv(rx1) -> res => (1, res),
            recv(rx2) -> res => (2, res),
        };
        assert_eq!(got, (1, Ok(5)));
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}

#[test]
fn timed_out_blocking_select_delivered_its_send_arm_or_dropped_it() {
    // Under loom a timed wait times out the first time it would park: the timeout's withdrawal
    // races the receive.
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (tx1, rx1) = channel::<Msg>();
        let (_tx2, rx2) = channel::<Msg>(); // open, but nobody sends
        let receiver = thread::spawn(move || rx1.recv_blocking().map(Msg::take));
        let m1 = Msg::new(1, &drops);
        let delivered = rendez::select_blocking! {
            biased;
            send(tx1, m1) -> res => res.map_err(|e| e.0.take()) == Ok(()),
            recv(rx2) -> res => panic!("nobody sends on 2: {res:?}"),
            default(std::time::Duration::from_secs(1)) => false,
        };
        tx1.close(); // releases the receive if the select timed out
        match (
            delivered,
            receiver.join().unwrap(),
            drops.load(Ordering::Relaxed),
        ) {
            (true, Ok(1), 0) | (false, Err(RecvError), 1) => {}
            other => panic!("not exactly once: {other:?}"),
        }
    });
}

#[test]
fn timed_out_blocking_select_leaves_the_message_with_its_send() {
    model(|| {
        let (tx1, rx1) = channel::<u32>();
        let (_tx2, rx2) = channel::<u32>(); // open, but nobody sends
        let sender = thread::spawn(move || tx1.send_blocking(3));
        let got = rendez::select_blocking! {
            biased;
            recv(rx1) -> res => res.ok(),
            recv(rx2) -> res => panic!("nobody sends on 2: {res:?}"),
            default(std::time::Duration::from_secs(1)) => None,
        };
        // Timed out: the receive arm took nothing, so the send still offers its message.
        let got = got.unwrap_or_else(|| rx1.recv_blocking().unwrap());
        assert_eq!(got, 3);
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}
