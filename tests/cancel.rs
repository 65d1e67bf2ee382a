//! CONTRACT rules 3 (exactly once), 4 (cancel safety) and 7 (a woken receive that is dropped passes
//! its turn on).
//!
//! The hand-polled tests drop a send or a receive future at each point where it can be `Pending`
//! and check, with drop-counting messages and counting wakers, that nothing is lost, duplicated or
//! left stuck. The concurrent tests cancel sends and receives with `tokio::select!`,
//! `futures::select!`, `tokio::time::timeout` and dropped `Stream::next` futures, and account for
//! every message: each one is received exactly once or dropped exactly once with its send.
#![cfg(feature = "std")]

mod common;

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use common::{join, scaled, watchdog, DropLog, TestWaker, Tracked};
use futures::{FutureExt, StreamExt};
use rendez::{Receiver, RecvError, Sender, TryRecvError};

/// One drop log per message, so that the fate of each message is known.
struct Ledger {
    logs: Vec<Arc<DropLog>>,
}

/// What the sending side saw: the ids whose send returned `Ok`, and the ids whose send was
/// cancelled, each with whether the message had been dropped right after the cancellation.
#[derive(Default)]
struct SendReport {
    ok: Vec<usize>,
    cancelled: Vec<(usize, bool)>,
}

impl Ledger {
    fn new(n: usize) -> Arc<Self> {
        Arc::new(Ledger {
            logs: (0..n).map(|_| DropLog::new()).collect(),
        })
    }

    fn len(&self) -> usize {
        self.logs.len()
    }

    /// Message `id`, counted in its own log.
    fn msg(&self, id: usize) -> Tracked {
        Tracked::new(id, &self.logs[id])
    }

    /// How many times message `id` has been dropped.
    fn dropped(&self, id: usize) -> usize {
        self.logs[id].dropped()
    }

    /// Records that the send of `id` was cancelled (its future is already dropped), noting whether
    /// the message is gone, which it must be unless a receive took it.
    fn note_cancelled(&self, report: &mut SendReport, id: usize) {
        report.cancelled.push((id, self.dropped(id) == 1));
    }

    /// Checks rule 3 while the test still holds every received message in `received`:
    /// - no message was received twice, and no received message was also dropped;
    /// - every other message was dropped exactly once (undelivered, with its send);
    /// - every send that returned `Ok` was received;
    /// - every cancelled send either was received, or had its message dropped by the time the
    ///   cancellation returned (not later, by the channel).
    ///
    /// Then drops `received` and checks that every message was dropped exactly once. Returns how
    /// many messages were dropped undelivered.
    fn check(&self, received: Vec<Tracked>, report: &SendReport) -> usize {
        let mut ids: Vec<usize> = received.iter().map(|m| m.id).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before, "a message was received twice");
        let mut was_received = vec![false; self.len()];
        for &id in &ids {
            was_received[id] = true;
        }
        let mut undelivered = 0;
        for (id, &received) in was_received.iter().enumerate() {
            let dropped = self.dropped(id);
            if received {
                assert_eq!(dropped, 0, "message {id} was received and also dropped");
            } else {
                assert_eq!(
                    dropped, 1,
                    "message {id} was neither received nor dropped once"
                );
                undelivered += 1;
            }
        }
        for &id in &report.ok {
            assert!(
                was_received[id],
                "send({id}) returned Ok but nobody received it"
            );
        }
        for &(id, gone) in &report.cancelled {
            assert!(
                was_received[id] != gone,
                "cancelled send({id}): received {}, dropped at cancellation {gone}",
                was_received[id]
            );
        }
        drop(received);
        for id in 0..self.len() {
            assert_eq!(self.dropped(id), 1, "message {id} dropped more than once");
        }
        undelivered
    }
}

/// A future that is `Pending` once (waking itself) and then ready: the cheapest way to make
/// `select!` cancel the other branch often, on any executor.
fn yield_once() -> impl Future<Output = ()> {
    let mut yielded = false;
    poll_fn(move |cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
}

/// Sends every message of `ledger` with a plain `send().await`.
async fn send_all(tx: Sender<Tracked>, ledger: Arc<Ledger>) -> SendReport {
    let mut report = SendReport::default();
    for id in 0..ledger.len() {
        tx.send(ledger.msg(id)).await.unwrap();
        report.ok.push(id);
        if id % 64 == 0 {
            tokio::task::yield_now().await;
        }
    }
    report
}

// ================================================================================================
// Dropping a send future (rules 3, 4).
// ================================================================================================

#[test]
fn rule4_unpolled_send_dropped_drops_its_message() {
    let log = DropLog::new();
    let (tx, rx) = rendez::channel();
    drop(tx.send(Tracked::new(1, &log)));
    assert_eq!(log.dropped(), 1);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn rule4_pending_send_dropped_drops_its_message_exactly_once() {
    let log = DropLog::new();
    let (tx, rx) = rendez::channel();
    let ws = TestWaker::new();
    let mut send = Box::pin(tx.send(Tracked::new(1, &log)));
    assert!(ws.poll(send.as_mut()).is_pending());
    assert!(ws.poll(send.as_mut()).is_pending());
    assert_eq!(log.dropped(), 0);
    drop(send);
    assert_eq!(log.dropped(), 1, "dropped with its future");

    // The channel holds nothing: a receive waits, and then gets the next message.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    let wr = TestWaker::new();
    let mut recv = pin!(rx.recv());
    assert!(wr.poll(recv.as_mut()).is_pending());
    let mut send2 = pin!(tx.send(Tracked::new(2, &log)));
    assert!(ws.poll(send2.as_mut()).is_pending());
    assert!(wr.is_woken());
    match wr.poll(recv.as_mut()) {
        Poll::Ready(Ok(m)) => assert_eq!(m.id, 2),
        other => panic!("expected message 2, got {other:?}"),
    }
    assert_eq!(ws.poll(send2.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(log.dropped(), 2);
}

#[test]
fn rule4_send_dropped_after_a_receive_was_notified_the_receive_waits_again_first_in_line() {
    let log = DropLog::new();
    let (tx, rx) = rendez::channel();
    let (w1, w2, ws) = (TestWaker::new(), TestWaker::new(), TestWaker::new());
    let mut r1 = pin!(rx.recv());
    assert!(w1.poll(r1.as_mut()).is_pending());
    let mut s1 = Box::pin(tx.send(Tracked::new(1, &log)));
    assert!(ws.poll(s1.as_mut()).is_pending());
    assert_eq!(w1.wakes(), 1, "r1 notified");

    drop(s1);
    assert_eq!(log.dropped(), 1, "the message went with its send");
    // A receive arriving now is behind r1, which still holds its turn.
    let mut r2 = pin!(rx.recv());
    assert!(w2.poll(r2.as_mut()).is_pending());
    assert!(
        w1.poll(r1.as_mut()).is_pending(),
        "the offer is gone: r1 waits again (no error, no message)"
    );
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));

    let mut s2 = pin!(tx.send(Tracked::new(2, &log)));
    assert!(ws.poll(s2.as_mut()).is_pending());
    assert_eq!(
        (w1.wakes(), w2.wakes()),
        (2, 0),
        "r1 is still first in line"
    );
    assert!(w2.poll(r2.as_mut()).is_pending());
    match w1.poll(r1.as_mut()) {
        Poll::Ready(Ok(m)) => assert_eq!(m.id, 2),
        other => panic!("expected message 2, got {other:?}"),
    }
    assert_eq!(ws.poll(s2.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(log.dropped(), 2);
    assert!(w2.poll(r2.as_mut()).is_pending());
    assert_eq!(w2.wakes(), 0);
}

#[test]
fn rule4_send_dropped_while_notified_receive_has_not_polled_then_a_new_send_is_taken() {
    // The notified receive does not poll between the withdrawal and the next offer: it takes the
    // new message on its (single, still due) wake-up.
    let log = DropLog::new();
    let (tx, rx) = rendez::channel();
    let (wr, ws) = (TestWaker::new(), TestWaker::new());
    let mut r = pin!(rx.recv());
    assert!(wr.poll(r.as_mut()).is_pending());
    let mut s1 = Box::pin(tx.send(Tracked::new(1, &log)));
    assert!(ws.poll(s1.as_mut()).is_pending());
    drop(s1);
    let mut s2 = pin!(tx.send(Tracked::new(2, &log)));
    assert!(ws.poll(s2.as_mut()).is_pending());
    assert!(wr.is_woken());
    match wr.poll(r.as_mut()) {
        Poll::Ready(Ok(m)) => assert_eq!(m.id, 2),
        other => panic!("expected message 2, got {other:?}"),
    }
    assert_eq!(ws.poll(s2.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(
        log.dropped(),
        2,
        "message 1 with its send, message 2 after receipt"
    );
}

#[test]
fn rule4_first_waiting_send_dropped_the_notified_receive_takes_the_next_one() {
    let log = DropLog::new();
    let (tx, rx) = rendez::channel();
    let (wr, w1, w2) = (TestWaker::new(), TestWaker::new(), TestWaker::new());
    let mut r = pin!(rx.recv());
    assert!(wr.poll(r.as_mut()).is_pending());
    let mut s1 = Box::pin(tx.send(Tracked::new(1, &log)));
    let mut s2 = pin!(tx.send(Tracked::new(2, &log)));
    assert!(w1.poll(s1.as_mut()).is_pending());
    assert!(w2.poll(s2.as_mut()).is_pending());
    drop(s1);
    assert_eq!(log.dropped(), 1);
    match wr.poll(r.as_mut()) {
        Poll::Ready(Ok(m)) => assert_eq!(m.id, 2),
        other => panic!("expected message 2, got {other:?}"),
    }
    assert_eq!(w2.wakes(), 1);
    assert_eq!(w2.poll(s2.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(log.dropped(), 2);
}

#[test]
fn rule4_a_dropped_send_in_the_middle_of_the_line_leaves_the_others_in_order() {
    let log = DropLog::new();
    let (tx, rx) = rendez::channel();
    let ws = TestWaker::new();
    let mut s1 = pin!(tx.send(Tracked::new(1, &log)));
    let mut s2 = Box::pin(tx.send(Tracked::new(2, &log)));
    let mut s3 = pin!(tx.send(Tracked::new(3, &log)));
    assert!(ws.poll(s1.as_mut()).is_pending());
    assert!(ws.poll(s2.as_mut()).is_pending());
    assert!(ws.poll(s3.as_mut()).is_pending());
    drop(s2);
    assert_eq!(log.dropped(), 1);
    assert_eq!(rx.try_recv().map(|m| m.id), Ok(1));
    assert_eq!(rx.try_recv().map(|m| m.id), Ok(3));
    assert_eq!(rx.try_recv().map(|m| m.id), Err(TryRecvError::Empty));
    assert_eq!(ws.poll(s1.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(ws.poll(s3.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(log.dropped(), 3);
}

#[test]
fn rule3_send_dropped_after_its_message_was_taken_drops_nothing() {
    // The receive took the message; the send is dropped before it saw Ok. The message was
    // delivered exactly once: the dropped future must not drop (or give back) a copy.
    let log = DropLog::new();
    let (tx, rx) = rendez::channel();
    let (ws, wr) = (TestWaker::new(), TestWaker::new());
    let mut send = Box::pin(tx.send(Tracked::new(1, &log)));
    assert!(ws.poll(send.as_mut()).is_pending());
    let msg = match wr.poll(pin!(rx.recv())) {
        Poll::Ready(Ok(m)) => m,
        other => panic!("expected message 1, got {other:?}"),
    };
    assert!(ws.is_woken());
    drop(send);
    assert_eq!(
        log.dropped(),
        0,
        "the delivered message is still alive, once"
    );
    drop(msg);
    assert_eq!(log.dropped(), 1);
}

// ================================================================================================
// Dropping a receive future (rules 3, 4, 7).
// ================================================================================================

#[test]
fn rule4_unpolled_receive_dropped_loses_nothing() {
    let log = DropLog::new();
    let (tx, rx) = rendez::channel();
    let ws = TestWaker::new();
    let mut send = pin!(tx.send(Tracked::new(1, &log)));
    assert!(ws.poll(send.as_mut()).is_pending());
    drop(rx.recv());
    assert_eq!(log.dropped(), 0);
    assert_eq!(ws.wakes(), 0);
    assert!(ws.poll(send.as_mut()).is_pending());
    let got = TestWaker::new().poll(pin!(rx.recv()));
    assert!(
        matches!(got, Poll::Ready(Ok(ref m)) if m.id == 1),
        "{got:?}"
    );
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn rule4_registered_receive_dropped_leaves_the_line_and_loses_nothing() {
    let log = DropLog::new();
    let (tx, rx) = rendez::channel();
    let (w1, w2, ws) = (TestWaker::new(), TestWaker::new(), TestWaker::new());
    let mut r1 = Box::pin(rx.recv());
    let mut r2 = pin!(rx.recv());
    assert!(w1.poll(r1.as_mut()).is_pending());
    assert!(w2.poll(r2.as_mut()).is_pending());
    drop(r1);
    let mut send = pin!(tx.send(Tracked::new(1, &log)));
    assert!(ws.poll(send.as_mut()).is_pending());
    assert_eq!((w1.wakes(), w2.wakes()), (0, 1), "r2 is now first");
    match w2.poll(r2.as_mut()) {
        Poll::Ready(Ok(m)) => assert_eq!(m.id, 1),
        other => panic!("expected message 1, got {other:?}"),
    }
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(log.dropped(), 1);
}

#[test]
fn rule4_the_only_registered_receive_dropped_the_send_waits_for_a_new_one() {
    let log = DropLog::new();
    let (tx, rx) = rendez::channel();
    let (w1, ws) = (TestWaker::new(), TestWaker::new());
    let mut r1 = Box::pin(rx.recv());
    assert!(w1.poll(r1.as_mut()).is_pending());
    drop(r1);
    let mut send = pin!(tx.send(Tracked::new(1, &log)));
    assert!(ws.poll(send.as_mut()).is_pending());
    assert_eq!(w1.wakes(), 0, "the dropped receive is not notified");
    assert!(ws.poll(send.as_mut()).is_pending());
    let got = TestWaker::new().poll(pin!(rx.recv()));
    assert!(
        matches!(got, Poll::Ready(Ok(ref m)) if m.id == 1),
        "{got:?}"
    );
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn rule7_notified_receive_dropped_passes_its_turn_to_the_next_waiting_receive() {
    let log = DropLog::new();
    let (tx, rx) = rendez::channel();
    let (w1, w2, w3, ws) = (
        TestWaker::new(),
        TestWaker::new(),
        TestWaker::new(),
        TestWaker::new(),
    );
    let mut r1 = Box::pin(rx.recv());
    let mut r2 = pin!(rx.recv());
    let mut r3 = pin!(rx.recv());
    assert!(w1.poll(r1.as_mut()).is_pending());
    assert!(w2.poll(r2.as_mut()).is_pending());
    assert!(w3.poll(r3.as_mut()).is_pending());
    let mut send = pin!(tx.send(Tracked::new(1, &log)));
    assert!(ws.poll(send.as_mut()).is_pending());
    assert_eq!((w1.wakes(), w2.wakes(), w3.wakes()), (1, 0, 0));

    drop(r1);
    assert_eq!(
        (w2.wakes(), w3.wakes()),
        (1, 0),
        "the turn passes to r2, and only r2"
    );
    assert_eq!(log.dropped(), 0, "nothing lost");
    assert!(w3.poll(r3.as_mut()).is_pending(), "r3 cannot overtake r2");
    match w2.poll(r2.as_mut()) {
        Poll::Ready(Ok(m)) => assert_eq!(m.id, 1),
        other => panic!("expected message 1, got {other:?}"),
    }
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(log.dropped(), 1);
    assert!(w3.poll(r3.as_mut()).is_pending());
}

#[test]
fn rule7_turn_passes_along_a_chain_of_dropped_notified_receives() {
    let log = DropLog::new();
    let (tx, rx) = rendez::channel();
    let w: Vec<TestWaker> = (0..4).map(|_| TestWaker::new()).collect();
    let wakes = |w: &[TestWaker]| w.iter().map(TestWaker::wakes).collect::<Vec<_>>();
    let mut rs: Vec<_> = (0..4).map(|_| Some(Box::pin(rx.recv()))).collect();
    for (r, w) in rs.iter_mut().zip(&w) {
        assert!(w.poll(r.as_mut().unwrap().as_mut()).is_pending());
    }
    let ws = TestWaker::new();
    let mut send = pin!(tx.send(Tracked::new(1, &log)));
    assert!(ws.poll(send.as_mut()).is_pending());
    assert_eq!(wakes(&w), [1, 0, 0, 0]);
    rs[0] = None;
    assert_eq!(wakes(&w), [1, 1, 0, 0]);
    rs[1] = None;
    assert_eq!(wakes(&w), [1, 1, 1, 0]);
    let r2 = rs[2].as_mut().unwrap().as_mut();
    match w[2].poll(r2) {
        Poll::Ready(Ok(m)) => assert_eq!(m.id, 1),
        other => panic!("expected message 1, got {other:?}"),
    }
    assert_eq!(wakes(&w), [1, 1, 1, 0], "r4 never notified");
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(log.dropped(), 1);
}

#[test]
fn rule7_notified_receive_dropped_with_nobody_behind_leaves_the_offer_for_the_next_receive() {
    let log = DropLog::new();
    let (tx, rx) = rendez::channel();
    let (w1, ws) = (TestWaker::new(), TestWaker::new());
    let mut r1 = Box::pin(rx.recv());
    assert!(w1.poll(r1.as_mut()).is_pending());
    let mut send = pin!(tx.send(Tracked::new(1, &log)));
    assert!(ws.poll(send.as_mut()).is_pending());
    drop(r1);
    assert_eq!(log.dropped(), 0);
    assert!(ws.poll(send.as_mut()).is_pending(), "nobody took it");
    let got = TestWaker::new().poll(pin!(rx.recv()));
    assert!(
        matches!(got, Poll::Ready(Ok(ref m)) if m.id == 1),
        "{got:?}"
    );
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn rule7_notified_receive_dropped_while_two_offers_wait_notifies_the_next_receive() {
    let (tx, rx) = rendez::channel();
    let w: Vec<TestWaker> = (0..3).map(|_| TestWaker::new()).collect();
    let mut r1 = Box::pin(rx.recv());
    let mut r2 = pin!(rx.recv());
    let mut r3 = pin!(rx.recv());
    assert!(w[0].poll(r1.as_mut()).is_pending());
    assert!(w[1].poll(r2.as_mut()).is_pending());
    assert!(w[2].poll(r3.as_mut()).is_pending());
    let ws = TestWaker::new();
    let mut s1 = pin!(tx.send(1));
    let mut s2 = pin!(tx.send(2));
    assert!(ws.poll(s1.as_mut()).is_pending());
    assert!(ws.poll(s2.as_mut()).is_pending());
    assert_eq!((w[0].wakes(), w[1].wakes(), w[2].wakes()), (1, 1, 0));
    drop(r1);
    assert_eq!(w[2].wakes(), 1, "r3 inherits r1's turn");
    assert_eq!(w[2].poll(r3.as_mut()), Poll::Ready(Ok(1)));
    assert_eq!(w[1].poll(r2.as_mut()), Poll::Ready(Ok(2)));
    assert_eq!(ws.poll(s1.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(ws.poll(s2.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn rule4_receive_dropped_after_it_returned_drops_nothing_more() {
    let log = DropLog::new();
    let (tx, rx) = rendez::channel();
    let ws = TestWaker::new();
    let mut send = pin!(tx.send(Tracked::new(1, &log)));
    assert!(ws.poll(send.as_mut()).is_pending());
    let mut recv = Box::pin(rx.recv());
    let msg = match TestWaker::new().poll(recv.as_mut()) {
        Poll::Ready(Ok(m)) => m,
        other => panic!("expected message 1, got {other:?}"),
    };
    drop(recv);
    assert_eq!(log.dropped(), 0);
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
    drop(msg);
    assert_eq!(log.dropped(), 1);
}

// ================================================================================================
// Stream::next (rules 4, 7).
// ================================================================================================

#[test]
fn rule4_stream_next_dropped_while_pending_loses_nothing() {
    let log = DropLog::new();
    let (tx, mut rx) = rendez::channel();
    let (w1, w2, ws) = (TestWaker::new(), TestWaker::new(), TestWaker::new());
    {
        let mut next = rx.next();
        assert!(w1.poll(Pin::new(&mut next)).is_pending());
    }
    let mut send = pin!(tx.send(Tracked::new(1, &log)));
    assert!(ws.poll(send.as_mut()).is_pending());
    assert_eq!(log.dropped(), 0);
    {
        let mut next = rx.next();
        match w2.poll(Pin::new(&mut next)) {
            Poll::Ready(Some(m)) => assert_eq!(m.id, 1),
            other => panic!("expected message 1, got {other:?}"),
        }
    }
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(log.dropped(), 1);
}

#[test]
fn rule4_stream_next_dropped_after_it_was_notified_loses_nothing() {
    let log = DropLog::new();
    let (tx, mut rx) = rendez::channel();
    let (w1, w2, ws) = (TestWaker::new(), TestWaker::new(), TestWaker::new());
    let mut send = pin!(tx.send(Tracked::new(1, &log)));
    {
        let mut next = rx.next();
        assert!(w1.poll(Pin::new(&mut next)).is_pending());
        assert!(ws.poll(send.as_mut()).is_pending());
        assert_eq!(w1.wakes(), 1, "next() notified");
        // Dropped here, woken but not polled again.
    }
    assert_eq!(log.dropped(), 0);
    assert!(
        ws.poll(send.as_mut()).is_pending(),
        "nobody took the message"
    );
    {
        let mut next = rx.next();
        match w2.poll(Pin::new(&mut next)) {
            Poll::Ready(Some(m)) => assert_eq!(m.id, 1),
            other => panic!("expected message 1, got {other:?}"),
        }
    }
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(log.dropped(), 1);
}

#[test]
fn rule7_receiver_dropped_while_its_stream_was_alerted_leaves_the_offer_to_the_other() {
    let log = DropLog::new();
    let (tx, mut rx) = rendez::channel();
    let rx2 = rx.clone();
    let (w1, w2, ws) = (TestWaker::new(), TestWaker::new(), TestWaker::new());
    {
        let mut next = rx.next();
        assert!(w1.poll(Pin::new(&mut next)).is_pending());
    }
    let mut r2 = pin!(rx2.recv());
    assert!(w2.poll(r2.as_mut()).is_pending());
    let mut send = pin!(tx.send(Tracked::new(1, &log)));
    assert!(ws.poll(send.as_mut()).is_pending());
    assert_eq!(
        (w1.wakes(), w2.wakes()),
        (1, 1),
        "the stream is alerted, the receive behind it notified"
    );
    drop(rx);
    assert_eq!(w2.wakes(), 1, "the other receive needs no second wake");
    match w2.poll(r2.as_mut()) {
        Poll::Ready(Ok(m)) => assert_eq!(m.id, 1),
        other => panic!("expected message 1, got {other:?}"),
    }
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(log.dropped(), 1);
}

#[test]
fn rule4_recv_on_the_same_receiver_after_a_dropped_stream_next_gets_the_message() {
    // `select! { m = rx.next() => .., _ = tick => .. }` and later `rx.recv().await` on the same
    // receiver: a user of tokio/flume expects the recv to get the next message.
    let log = DropLog::new();
    let (tx, mut rx) = rendez::channel();
    let (w1, w2, ws) = (TestWaker::new(), TestWaker::new(), TestWaker::new());
    {
        let mut next = rx.next();
        assert!(w1.poll(Pin::new(&mut next)).is_pending());
    }
    let mut send = pin!(tx.send(Tracked::new(1, &log)));
    assert!(ws.poll(send.as_mut()).is_pending());
    let mut recv = pin!(rx.recv());
    let first = w2.poll(recv.as_mut());
    let got = match first {
        Poll::Ready(r) => r,
        Poll::Pending => {
            assert!(
                w2.is_woken(),
                "recv() waits behind the abandoned stream, never woken"
            );
            match w2.poll(recv.as_mut()) {
                Poll::Ready(r) => r,
                Poll::Pending => panic!("recv() still pending after its wake-up"),
            }
        }
    };
    assert_eq!(got.map(|m| m.id), Ok(1));
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
}

// ================================================================================================
// Concurrent cancellation: tokio::select!, futures::select!, timeouts (rules 3, 4, 7).
// ================================================================================================

/// Receives until the channel closes, each receive raced against a fresh `tokio::time::sleep`.
async fn recv_racing_sleep(rx: Receiver<Tracked>, nap: Duration) -> Vec<Tracked> {
    let mut got = Vec::new();
    loop {
        tokio::select! {
            r = rx.recv() => match r {
                Ok(m) => got.push(m),
                Err(RecvError) => return got,
            },
            _ = tokio::time::sleep(nap) => {}
        }
    }
}

/// Receives until the channel closes, each receive raced against `yield_now`.
async fn recv_racing_yield(rx: Receiver<Tracked>) -> Vec<Tracked> {
    let mut got = Vec::new();
    loop {
        tokio::select! {
            r = rx.recv() => match r {
                Ok(m) => got.push(m),
                Err(RecvError) => return got,
            },
            _ = tokio::task::yield_now() => {}
        }
    }
}

/// Sends every message, pausing now and then so that racing receives time out.
async fn send_all_with_pauses(tx: Sender<Tracked>, ledger: Arc<Ledger>) -> SendReport {
    let mut report = SendReport::default();
    for id in 0..ledger.len() {
        tx.send(ledger.msg(id)).await.unwrap();
        report.ok.push(id);
        if id % 50 == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    report
}

async fn select_recv_against_sleep() {
    let ledger = Ledger::new(scaled(1_000));
    let (tx, rx) = rendez::channel();
    let r1 = tokio::spawn(recv_racing_sleep(rx.clone(), Duration::from_micros(300)));
    let r2 = tokio::spawn(recv_racing_sleep(rx, Duration::from_millis(1)));
    let s = tokio::spawn(send_all_with_pauses(tx, ledger.clone()));
    let (report, mut got) = watchdog(async {
        let report = s.await.unwrap();
        let mut got = r1.await.unwrap();
        got.extend(r2.await.unwrap());
        (report, got)
    })
    .await;
    assert_eq!(report.ok.len(), ledger.len());
    got.sort_unstable_by_key(|m| m.id);
    assert_eq!(ledger.check(got, &report), 0, "no send was cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule4_tokio_select_recv_against_sleep_loses_nothing() {
    select_recv_against_sleep().await;
}

#[tokio::test(flavor = "current_thread")]
async fn rule4_tokio_select_recv_against_sleep_loses_nothing_current_thread() {
    select_recv_against_sleep().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule4_tokio_select_recv_against_yield_loses_nothing_with_many_receivers() {
    // Receives are cancelled almost every time they wait, including after being notified: each
    // cancelled notified receive must pass its turn on, or the senders hang.
    let ledger = Ledger::new(scaled(2_000));
    let (tx, rx) = rendez::channel();
    let receivers: Vec<_> = (0..3)
        .map(|_| tokio::spawn(recv_racing_yield(rx.clone())))
        .collect();
    drop(rx);
    let s = tokio::spawn(send_all(tx, ledger.clone()));
    let (report, got) = watchdog(async {
        let report = s.await.unwrap();
        let mut got = Vec::new();
        for r in receivers {
            got.extend(r.await.unwrap());
        }
        (report, got)
    })
    .await;
    assert_eq!(ledger.check(got, &report), 0);
}

#[tokio::test(flavor = "current_thread")]
async fn rule4_tokio_select_recv_against_yield_loses_nothing_current_thread() {
    let ledger = Ledger::new(scaled(2_000));
    let (tx, rx) = rendez::channel();
    let r1 = tokio::spawn(recv_racing_yield(rx.clone()));
    let r2 = tokio::spawn(recv_racing_yield(rx));
    let s = tokio::spawn(send_all(tx, ledger.clone()));
    let (report, got) = watchdog(async {
        let report = s.await.unwrap();
        let mut got = r1.await.unwrap();
        got.extend(r2.await.unwrap());
        (report, got)
    })
    .await;
    assert_eq!(ledger.check(got, &report), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule4_timeout_on_recv_loses_nothing() {
    let ledger = Ledger::new(scaled(1_000));
    let (tx, rx) = rendez::channel();
    // Deterministic part: with no send at all, a timed-out receive loses nothing and leaves
    // nothing behind.
    for _ in 0..3 {
        assert!(tokio::time::timeout(Duration::from_millis(1), rx.recv())
            .await
            .is_err());
    }
    let receiver = tokio::spawn(async move {
        let mut got = Vec::new();
        loop {
            match tokio::time::timeout(Duration::from_micros(500), rx.recv()).await {
                Ok(Ok(m)) => got.push(m),
                Ok(Err(RecvError)) => return got,
                Err(_elapsed) => {}
            }
        }
    });
    let s = tokio::spawn(send_all_with_pauses(tx, ledger.clone()));
    let (report, got) = watchdog(async { (s.await.unwrap(), receiver.await.unwrap()) }).await;
    assert_eq!(report.ok.len(), ledger.len());
    assert_eq!(ledger.check(got, &report), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule4_timeout_on_send_drops_undelivered_messages_with_the_future() {
    let ledger = Ledger::new(scaled(1_000));
    let (tx, rx) = rendez::channel();
    let mut report = SendReport::default();
    // Deterministic part: no receive exists, so these sends must time out, and each message must
    // be gone the moment its send is.
    let early = 3;
    for id in 0..early {
        let r = tokio::time::timeout(Duration::from_millis(1), tx.send(ledger.msg(id))).await;
        assert!(r.is_err(), "send({id}) completed with no receive");
        assert_eq!(ledger.dropped(id), 1, "message {id} dropped with its send");
        ledger.note_cancelled(&mut report, id);
    }
    // A receiver that dawdles now and then, so that some sends time out.
    let receiver = tokio::spawn(async move {
        let mut got = Vec::new();
        while let Ok(m) = rx.recv().await {
            got.push(m);
            if got.len() % 20 == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        got
    });
    for id in early..ledger.len() {
        match tokio::time::timeout(Duration::from_micros(500), tx.send(ledger.msg(id))).await {
            Ok(Ok(())) => report.ok.push(id),
            Ok(Err(e)) => panic!("the receiver is alive: {e:?}"),
            Err(_elapsed) => ledger.note_cancelled(&mut report, id),
        }
    }
    drop(tx);
    let got = watchdog(receiver).await.unwrap();
    let undelivered = ledger.check(got, &report);
    assert!(undelivered >= early);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn rule3_tokio_select_on_both_sides_every_message_exactly_once() {
    // Sends and receives are both raced against `yield_now`, from several tasks: every message is
    // received once, or dropped once by its cancelled send, never both, never neither.
    let n = scaled(3_000);
    let ledger = Ledger::new(n);
    let (tx, rx) = rendez::channel::<Tracked>();
    let receivers: Vec<_> = (0..2)
        .map(|_| tokio::spawn(recv_racing_yield(rx.clone())))
        .collect();
    drop(rx);
    let senders: Vec<_> = (0..2)
        .map(|part| {
            let (tx, ledger) = (tx.clone(), ledger.clone());
            tokio::spawn(async move {
                let mut report = SendReport::default();
                for id in (part..ledger.len()).step_by(2) {
                    if id % 3 == 0 {
                        // Plain sends keep things moving.
                        tx.send(ledger.msg(id)).await.unwrap();
                        report.ok.push(id);
                        continue;
                    }
                    tokio::select! {
                        r = tx.send(ledger.msg(id)) => {
                            r.unwrap();
                            report.ok.push(id);
                        }
                        _ = tokio::task::yield_now() => ledger.note_cancelled(&mut report, id),
                    }
                }
                report
            })
        })
        .collect();
    drop(tx);
    let (report, got) = watchdog(async {
        let mut report = SendReport::default();
        for s in senders {
            let r = s.await.unwrap();
            report.ok.extend(r.ok);
            report.cancelled.extend(r.cancelled);
        }
        let mut got = Vec::new();
        for r in receivers {
            got.extend(r.await.unwrap());
        }
        (report, got)
    })
    .await;
    assert_eq!(report.ok.len() + report.cancelled.len(), n);
    ledger.check(got, &report);
}

/// Receives until the channel closes, each receive raced with `futures::select!` against
/// [`yield_once`]. Runs on any executor.
async fn recv_futures_select(rx: Receiver<Tracked>) -> Vec<Tracked> {
    let mut got = Vec::new();
    loop {
        let recv = rx.recv().fuse();
        let other = yield_once().fuse();
        futures::pin_mut!(recv, other);
        futures::select! {
            r = recv => match r {
                Ok(m) => got.push(m),
                Err(RecvError) => return got,
            },
            () = other => {}
        }
    }
}

#[test]
fn rule4_futures_select_recv_cancellation_loses_nothing() {
    // Executor-agnostic: `futures::executor::block_on` on plain threads, no tokio.
    let ledger = Ledger::new(scaled(2_000));
    let (tx, rx) = rendez::channel::<Tracked>();
    let receivers: Vec<_> = (0..2)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || futures::executor::block_on(recv_futures_select(rx)))
        })
        .collect();
    drop(rx);
    let sender = {
        let ledger = ledger.clone();
        thread::spawn(move || {
            futures::executor::block_on(async {
                let mut report = SendReport::default();
                for id in 0..ledger.len() {
                    tx.send(ledger.msg(id)).await.unwrap();
                    report.ok.push(id);
                }
                report
            })
        })
    };
    let report = join(sender);
    let mut got = Vec::new();
    for r in receivers {
        got.extend(join(r));
    }
    assert_eq!(ledger.check(got, &report), 0);
}

#[test]
fn rule3_futures_select_on_both_sides_every_message_exactly_once() {
    let n = scaled(2_000);
    let ledger = Ledger::new(n);
    let (tx, rx) = rendez::channel::<Tracked>();
    let receiver = thread::spawn(move || futures::executor::block_on(recv_futures_select(rx)));
    let sender = {
        let ledger = ledger.clone();
        thread::spawn(move || {
            futures::executor::block_on(async {
                let mut report = SendReport::default();
                for id in 0..ledger.len() {
                    if id % 2 == 0 {
                        tx.send(ledger.msg(id)).await.unwrap();
                        report.ok.push(id);
                        continue;
                    }
                    // The block drops both futures before the outcome is recorded, so a
                    // cancelled message that no receive took must be gone by then.
                    let outcome = {
                        let send = tx.send(ledger.msg(id)).fuse();
                        let other = yield_once().fuse();
                        futures::pin_mut!(send, other);
                        futures::select! {
                            r = send => Some(r),
                            () = other => None,
                        }
                    };
                    match outcome {
                        Some(r) => {
                            r.unwrap();
                            report.ok.push(id);
                        }
                        None => ledger.note_cancelled(&mut report, id),
                    }
                }
                report
            })
        })
    };
    let report = join(sender);
    let got = join(receiver);
    assert_eq!(report.ok.len() + report.cancelled.len(), n);
    ledger.check(got, &report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule4_stream_next_in_tokio_select_loses_nothing() {
    let ledger = Ledger::new(scaled(2_000));
    let (tx, mut rx) = rendez::channel::<Tracked>();
    let receiver = tokio::spawn(async move {
        let mut got = Vec::new();
        loop {
            tokio::select! {
                m = rx.next() => match m {
                    Some(m) => got.push(m),
                    None => return got,
                },
                _ = tokio::task::yield_now() => {}
            }
        }
    });
    let s = tokio::spawn(send_all(tx, ledger.clone()));
    let (report, got) = watchdog(async { (s.await.unwrap(), receiver.await.unwrap()) }).await;
    assert_eq!(ledger.check(got, &report), 0);
}

#[test]
fn rule4_stream_next_in_futures_select_loses_nothing() {
    let ledger = Ledger::new(scaled(2_000));
    let (tx, mut rx) = rendez::channel::<Tracked>();
    let receiver = thread::spawn(move || {
        futures::executor::block_on(async {
            let mut got = Vec::new();
            loop {
                let other = yield_once().fuse();
                futures::pin_mut!(other);
                futures::select! {
                    m = rx.next() => match m {
                        Some(m) => got.push(m),
                        None => return got,
                    },
                    () = other => {}
                }
            }
        })
    });
    let sender = {
        let ledger = ledger.clone();
        thread::spawn(move || {
            let mut report = SendReport::default();
            for id in 0..ledger.len() {
                tx.send_blocking(ledger.msg(id)).unwrap();
                report.ok.push(id);
            }
            report
        })
    };
    let report = join(sender);
    let got = join(receiver);
    assert_eq!(ledger.check(got, &report), 0);
}

// === what `RecvFut`'s docs say about a woken receive that is kept or leaked ===

/// A woken receive keeps the message it was woken for until it is polled or dropped: the receive
/// behind it waits (FIFO, rule 2), and gets the message once the woken one is dropped.
#[test]
fn a_woken_receive_kept_unpolled_holds_the_next_one_back_until_it_is_dropped() {
    let (tx, rx) = rendez::channel::<u32>();
    let (wa, wb, ws) = (TestWaker::new(), TestWaker::new(), TestWaker::new());
    let mut a = Box::pin(rx.recv());
    let mut b = pin!(rx.recv());
    assert!(wa.poll(a.as_mut()).is_pending());
    assert!(wb.poll(b.as_mut()).is_pending());
    let mut send = pin!(tx.send(1));
    assert!(ws.poll(send.as_mut()).is_pending());
    assert!(
        wa.is_woken() && !wb.is_woken(),
        "the oldest receive is woken"
    );
    // `a` is kept but not polled: `b` is not woken and finds nothing.
    assert!(wb.poll(b.as_mut()).is_pending());
    drop(a);
    assert!(wb.is_woken(), "the dropped receive passed its turn on");
    assert_eq!(wb.poll(b.as_mut()), Poll::Ready(Ok(1)));
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
}

/// A leaked woken receive holds one offer for ever: the channel runs one message behind (each
/// send waits until the next one is offered). Memory safe: the node is never freed.
#[test]
#[cfg_attr(
    miri,
    ignore = "leaks a future on purpose, and Miri fails a test that leaks"
)]
fn a_leaked_woken_receive_keeps_one_offer_for_ever() {
    let (tx, rx) = rendez::channel::<u32>();
    let (wa, wb) = (TestWaker::new(), TestWaker::new());
    let mut leaked = Box::pin(rx.recv());
    assert!(wa.poll(leaked.as_mut()).is_pending());
    std::mem::forget(leaked);
    let ws: Vec<TestWaker> = (0..3).map(|_| TestWaker::new()).collect();
    let mut sends: Vec<_> = (0..3).map(|i| Box::pin(tx.send(i))).collect();
    assert!(ws[0].poll(sends[0].as_mut()).is_pending());
    assert!(wa.is_woken(), "the leaked receive was woken for message 0");
    let mut b = pin!(rx.recv());
    assert!(
        wb.poll(b.as_mut()).is_pending(),
        "message 0 is kept for the leaked receive"
    );
    assert!(ws[1].poll(sends[1].as_mut()).is_pending());
    assert!(wb.is_woken());
    // The second offer wakes `b`, which takes the oldest message; message 1 now waits in turn.
    assert_eq!(wb.poll(b.as_mut()), Poll::Ready(Ok(0)));
    assert_eq!(ws[0].poll(sends[0].as_mut()), Poll::Ready(Ok(())));
    let mut c = pin!(rx.recv());
    assert!(wb.poll(c.as_mut()).is_pending(), "message 1 is one behind");
    assert_eq!(rx.try_recv(), Ok(1), "try_recv does not wait for turns");
    assert_eq!(ws[1].poll(sends[1].as_mut()), Poll::Ready(Ok(())));
    drop(sends);
}
