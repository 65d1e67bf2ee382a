//! CONTRACT rules 1 (strict rendezvous), 2 (MPMC, FIFO) and 7 (wakers).
//!
//! Most tests drive the futures by hand with counting wakers, so that each step of a handoff is
//! observed: who is `Pending`, who is woken, and when a send may complete. The concurrent tests
//! check the same promises on real executors and threads.
#![cfg(feature = "std")]

mod common;

use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Poll;
use std::thread;

use common::{join, scaled, wait_until, DropLog, TestWaker, Tracked, WATCHDOG};
use rendez::{Channel, RecvError, SendError};

/// Reads a count from the static `Channel`'s `Debug` output (`waiting_senders` or
/// `waiting_receivers`): the only public view of who is registered, used to know for certain that
/// another thread is parked in a blocking call before acting.
fn waiting<T>(ch: &Channel<T>, field: &str) -> usize {
    let text = format!("{ch:?}");
    let key = format!("{field}: ");
    let rest = text
        .split(key.as_str())
        .nth(1)
        .unwrap_or_else(|| panic!("`Channel`'s Debug output lacks `{field}`: {text}"));
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().expect("a count")
}

/// Polls `fut` with `waker` until it is ready, re-polling only after a wake-up (so a lost wake-up
/// shows as a hang, reported by the watchdog).
fn poll_to_completion<F: Future + ?Sized>(waker: &TestWaker, mut fut: Pin<&mut F>) -> F::Output {
    loop {
        let seen = waker.wakes();
        if let Poll::Ready(out) = waker.poll(fut.as_mut()) {
            return out;
        }
        wait_until("the pending future was woken", || waker.wakes() > seen);
    }
}

/// The text of a caught panic.
fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::from("<non-string panic>")
    }
}

// ================================================================================================
// Rule 1: rendezvous, strictly.
// ================================================================================================

#[test]
fn rule1_send_stays_pending_until_a_receive_takes_the_message() {
    let (tx, rx) = rendez::channel();
    let ws = TestWaker::new();
    let mut send = pin!(tx.send(7));
    assert_eq!(ws.poll(send.as_mut()), Poll::Pending, "no receive yet");
    assert_eq!(ws.poll(send.as_mut()), Poll::Pending, "re-poll, still none");
    assert_eq!(ws.poll(send.as_mut()), Poll::Pending, "re-poll, still none");
    assert_eq!(ws.wakes(), 0, "nothing happened that could wake the send");

    // A receive that exists but was never polled has taken nothing.
    let wr = TestWaker::new();
    let mut recv = pin!(rx.recv());
    assert_eq!(
        ws.poll(send.as_mut()),
        Poll::Pending,
        "an unpolled receive takes nothing"
    );

    assert_eq!(wr.poll(recv.as_mut()), Poll::Ready(Ok(7)));
    assert_eq!(ws.wakes(), 1, "the send is woken when its message is taken");
    assert_eq!(wr.wakes(), 0);
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn rule1_receive_first_takes_the_message_only_in_the_poll_that_returns_it() {
    let log = DropLog::new();
    let (tx, rx) = rendez::channel();
    let (wr, ws) = (TestWaker::new(), TestWaker::new());
    let mut recv = pin!(rx.recv());
    assert_eq!(wr.poll(recv.as_mut()), Poll::Pending, "no send yet");

    let mut send = pin!(tx.send(Tracked::new(1, &log)));
    assert_eq!(
        ws.poll(send.as_mut()),
        Poll::Pending,
        "the async receive has not polled, so it has not taken the message"
    );
    assert_eq!(wr.wakes(), 1, "the waiting receive is woken for the offer");
    assert_eq!(ws.wakes(), 0);
    // Still not taken, however often the send is polled.
    assert_eq!(ws.poll(send.as_mut()), Poll::Pending);
    assert_eq!(ws.poll(send.as_mut()), Poll::Pending);
    assert_eq!(log.dropped(), 0);

    let Poll::Ready(Ok(msg)) = wr.poll(recv.as_mut()) else {
        panic!("the woken receive takes the message");
    };
    assert_eq!(msg.id, 1);
    assert_eq!(ws.wakes(), 1, "the send is woken once its message is taken");
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(
        log.dropped(),
        0,
        "the message was moved, not copied or dropped"
    );
    drop(msg);
    assert_eq!(log.dropped(), 1);
}

#[test]
fn rule1_message_stays_with_its_send_while_the_receive_is_only_notified() {
    // A receive was woken for a message but has not polled; the channel closes. The message never
    // left its send, so it comes back to the sender, and the receive gets no message.
    let log = DropLog::new();
    let (tx, rx) = rendez::channel();
    let (wr, ws) = (TestWaker::new(), TestWaker::new());
    let mut recv = pin!(rx.recv());
    assert!(wr.poll(recv.as_mut()).is_pending());
    let mut send = pin!(tx.send(Tracked::new(5, &log)));
    assert!(ws.poll(send.as_mut()).is_pending());
    assert!(wr.is_woken(), "the receive was notified");

    assert!(tx.close());
    assert!(ws.is_woken(), "close wakes the send");
    match ws.poll(send.as_mut()) {
        Poll::Ready(Err(SendError(msg))) => assert_eq!(msg.id, 5),
        other => panic!("the message should come back to its send, got {other:?}"),
    }
    assert_eq!(wr.poll(recv.as_mut()), Poll::Ready(Err(RecvError)));
    assert_eq!(
        log.dropped(),
        1,
        "exactly one copy existed, returned then dropped"
    );
}

#[test]
fn rule1_blocked_receiver_is_handed_the_message_on_the_sends_first_poll() {
    // A `static`, not a scope: a failing test must not wait forever for a thread it left blocked.
    static CH: Channel<u32> = Channel::new();
    let ch = &CH;
    let t = thread::spawn(|| ch.recv_blocking());
    wait_until("the thread is waiting in recv_blocking", || {
        waiting(ch, "waiting_receivers") == 1
    });
    let ws = TestWaker::new();
    let mut send = pin!(ch.send(11));
    assert_eq!(
        ws.poll(send.as_mut()),
        Poll::Ready(Ok(())),
        "a blocked thread takes the message at the handoff, so the send completes at once"
    );
    assert_eq!(join(t), Ok(11));
}

#[test]
fn rule1_recv_timeout_receiver_is_handed_the_message_on_the_sends_first_poll() {
    // A `static`, not a scope: a failing test must not wait forever for a thread it left blocked.
    static CH: Channel<u32> = Channel::new();
    let ch = &CH;
    // The timeout is only a bound on a broken run; the test does not depend on it.
    let t = thread::spawn(|| ch.recv_timeout(WATCHDOG));
    wait_until("the thread is waiting in recv_timeout", || {
        waiting(ch, "waiting_receivers") == 1
    });
    let ws = TestWaker::new();
    let mut send = pin!(ch.send(12));
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(join(t), Ok(12));
}

#[test]
fn rule1_async_send_to_a_blocking_receiver_thread_completes_ok() {
    // The counted channel has no view of who waits, so the thread may or may not be parked when
    // the send is first polled: either way the send must end in Ok and the thread get the value.
    let (tx, rx) = rendez::channel::<u32>();
    for round in 0..scaled(20) as u32 {
        let rx = rx.clone();
        let t = thread::spawn(move || rx.recv_blocking());
        let ws = TestWaker::new();
        let mut send = pin!(tx.send(round));
        assert_eq!(poll_to_completion(&ws, send.as_mut()), Ok(()));
        assert_eq!(join(t), Ok(round));
    }
}

#[test]
fn rule1_blocked_sender_returns_only_after_an_async_receive_takes_the_message() {
    // A `static`, not a scope: a failing test must not wait forever for a thread it left blocked.
    static CH: Channel<u32> = Channel::new();
    let ch = &CH;
    let returned = Arc::new(AtomicBool::new(false));
    let t = {
        let returned = returned.clone();
        thread::spawn(move || {
            let res = ch.send_blocking(21);
            returned.store(true, SeqCst);
            res
        })
    };
    wait_until("the thread is waiting in send_blocking", || {
        waiting(ch, "waiting_senders") == 1
    });
    assert!(
        !returned.load(SeqCst),
        "send_blocking returned before any receive"
    );
    let wr = TestWaker::new();
    let mut recv = pin!(ch.recv());
    assert_eq!(wr.poll(recv.as_mut()), Poll::Ready(Ok(21)));
    assert_eq!(join(t), Ok(()));
    assert!(returned.load(SeqCst));
}

#[test]
fn rule1_send_future_panics_if_polled_after_it_completed() {
    let (tx, rx) = rendez::channel();
    let (ws, wr) = (TestWaker::new(), TestWaker::new());
    let mut send = pin!(tx.send(1));
    assert!(ws.poll(send.as_mut()).is_pending());
    assert_eq!(wr.poll(pin!(rx.recv())), Poll::Ready(Ok(1)));
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));

    let err = catch_unwind(AssertUnwindSafe(|| ws.poll(send.as_mut()))).unwrap_err();
    let text = panic_text(err);
    assert!(text.contains("polled after it completed"), "{text}");

    // The panic left the channel usable.
    let mut send2 = pin!(tx.send(2));
    assert!(ws.poll(send2.as_mut()).is_pending());
    assert_eq!(wr.poll(pin!(rx.recv())), Poll::Ready(Ok(2)));
    assert_eq!(ws.poll(send2.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn rule1_send_future_that_failed_panics_if_polled_again() {
    let (tx, rx) = rendez::channel();
    rx.close();
    let ws = TestWaker::new();
    let mut send = pin!(tx.send(3));
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Err(SendError(3))));
    let err = catch_unwind(AssertUnwindSafe(|| ws.poll(send.as_mut()))).unwrap_err();
    let text = panic_text(err);
    assert!(text.contains("polled after it completed"), "{text}");
}

#[test]
fn rule1_receive_future_panics_if_polled_after_it_completed() {
    let (tx, rx) = rendez::channel();
    let (ws, wr) = (TestWaker::new(), TestWaker::new());
    let mut send = pin!(tx.send(1));
    assert!(ws.poll(send.as_mut()).is_pending());
    let mut recv = pin!(rx.recv());
    assert_eq!(wr.poll(recv.as_mut()), Poll::Ready(Ok(1)));

    // A second send waits: a buggy re-poll that started a new receive would take it.
    let mut send2 = pin!(tx.send(2));
    assert!(ws.poll(send2.as_mut()).is_pending());
    let err = catch_unwind(AssertUnwindSafe(|| wr.poll(recv.as_mut()))).unwrap_err();
    let text = panic_text(err);
    assert!(text.contains("polled after it completed"), "{text}");
    assert_eq!(
        wr.poll(pin!(rx.recv())),
        Poll::Ready(Ok(2)),
        "the panicking poll took nothing"
    );
}

#[test]
fn rule1_receive_future_that_failed_panics_if_polled_again() {
    let (tx, rx) = rendez::channel::<u8>();
    drop(tx);
    let wr = TestWaker::new();
    let mut recv = pin!(rx.recv());
    assert_eq!(wr.poll(recv.as_mut()), Poll::Ready(Err(RecvError)));
    let err = catch_unwind(AssertUnwindSafe(|| wr.poll(recv.as_mut()))).unwrap_err();
    let text = panic_text(err);
    assert!(text.contains("polled after it completed"), "{text}");
}

/// Receives on `rx` while publishing in `state` its progress: `2 * last_id + 1` while a poll is
/// running, `2 * last_id` between polls (with `last_id` the id just received, once received).
async fn observed_recv(rx: &rendez::Receiver<usize>, state: &AtomicUsize, last: usize) -> usize {
    let mut fut = pin!(rx.recv());
    poll_fn(|cx| {
        state.store(2 * last + 1, SeqCst);
        let poll = fut.as_mut().poll(cx);
        match poll {
            Poll::Ready(Ok(id)) => state.store(2 * id, SeqCst),
            _ => state.store(2 * last, SeqCst),
        }
        poll
    })
    .await
    .expect("the sender is alive")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule1_send_completes_only_after_the_receive_took_it_under_concurrency() {
    send_completes_only_after_the_receive_took_it().await;
}

#[tokio::test(flavor = "current_thread")]
async fn rule1_send_completes_only_after_the_receive_took_it_current_thread() {
    send_completes_only_after_the_receive_took_it().await;
}

async fn send_completes_only_after_the_receive_took_it() {
    // When `send(id)` returns Ok, the receive that takes `id` must already have run its poll:
    // either it is inside that poll right now (odd state) or it has finished it (state >= 2*id).
    // A send that completed when the message was merely handed to (or reserved for) a receive that
    // had not yet polled would see an even state below 2*id.
    let n = scaled(5_000);
    let (tx, rx) = rendez::channel::<usize>();
    let state = Arc::new(AtomicUsize::new(0));

    let receiver = {
        let state = state.clone();
        tokio::spawn(async move {
            for id in 1..=n {
                assert_eq!(observed_recv(&rx, &state, id - 1).await, id);
                if id % 7 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    let sender = tokio::spawn(async move {
        for id in 1..=n {
            tx.send(id).await.unwrap();
            let s = state.load(SeqCst);
            assert!(
                s % 2 == 1 || s >= 2 * id,
                "send({id}) completed before a receive took it (receiver state {s})"
            );
        }
    });
    let both = async {
        sender.await.unwrap();
        receiver.await.unwrap();
    };
    tokio::time::timeout(WATCHDOG, both)
        .await
        .expect("hang: lost wake-up?");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rule1_send_completes_only_after_a_receive_took_it_mpmc() {
    // As above with several senders and receivers: `in_poll` counts receive polls in progress and
    // `taken[id]` is set right after the poll that returned `id`, before `in_poll` drops.
    const SENDERS: usize = 3;
    const RECEIVERS: usize = 3;
    let per = scaled(1_500);
    let total = SENDERS * per;
    let (tx, rx) = rendez::channel::<usize>();
    let in_poll = Arc::new(AtomicUsize::new(0));
    let taken: Arc<Vec<AtomicBool>> =
        Arc::new((0..total).map(|_| AtomicBool::new(false)).collect());

    let mut receivers = Vec::new();
    for _ in 0..RECEIVERS {
        let (rx, in_poll, taken) = (rx.clone(), in_poll.clone(), taken.clone());
        receivers.push(tokio::spawn(async move {
            let mut count = 0usize;
            loop {
                let mut fut = pin!(rx.recv());
                let got = poll_fn(|cx| {
                    in_poll.fetch_add(1, SeqCst);
                    let poll = fut.as_mut().poll(cx);
                    if let Poll::Ready(Ok(id)) = poll {
                        assert!(!taken[id].swap(true, SeqCst), "{id} received twice");
                    }
                    in_poll.fetch_sub(1, SeqCst);
                    poll
                })
                .await;
                match got {
                    Ok(_) => count += 1,
                    Err(RecvError) => return count,
                }
            }
        }));
    }
    drop(rx);
    let mut senders = Vec::new();
    for s in 0..SENDERS {
        let (tx, in_poll, taken) = (tx.clone(), in_poll.clone(), taken.clone());
        senders.push(tokio::spawn(async move {
            for i in 0..per {
                let id = s * per + i;
                tx.send(id).await.unwrap();
                let busy = in_poll.load(SeqCst);
                assert!(
                    busy > 0 || taken[id].load(SeqCst),
                    "send({id}) completed while no receive had taken it"
                );
            }
        }));
    }
    drop(tx);
    let all = async {
        for s in senders {
            s.await.unwrap();
        }
        let mut received = 0;
        for r in receivers {
            received += r.await.unwrap();
        }
        received
    };
    let received = tokio::time::timeout(WATCHDOG, all)
        .await
        .expect("hang: lost wake-up?");
    assert_eq!(received, total);
    assert!(taken.iter().all(|t| t.load(SeqCst)));
}

// ================================================================================================
// Rule 2: MPMC, FIFO.
// ================================================================================================

#[test]
fn rule2_waiting_sends_are_served_in_the_order_they_started_waiting() {
    let (tx, rx) = rendez::channel();
    let w: Vec<TestWaker> = (0..3).map(|_| TestWaker::new()).collect();
    let mut s1 = pin!(tx.send(1));
    let mut s2 = pin!(tx.send(2));
    let mut s3 = pin!(tx.send(3));
    assert!(w[0].poll(s1.as_mut()).is_pending());
    assert!(w[1].poll(s2.as_mut()).is_pending());
    assert!(w[2].poll(s3.as_mut()).is_pending());

    let wr = TestWaker::new();
    assert_eq!(wr.poll(pin!(rx.recv())), Poll::Ready(Ok(1)));
    assert_eq!((w[0].wakes(), w[1].wakes(), w[2].wakes()), (1, 0, 0));
    assert_eq!(wr.poll(pin!(rx.recv())), Poll::Ready(Ok(2)));
    assert_eq!((w[0].wakes(), w[1].wakes(), w[2].wakes()), (1, 1, 0));
    assert_eq!(wr.poll(pin!(rx.recv())), Poll::Ready(Ok(3)));
    assert_eq!((w[0].wakes(), w[1].wakes(), w[2].wakes()), (1, 1, 1));

    // Completed out of order: each send reports its own outcome.
    assert_eq!(w[2].poll(s3.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(w[0].poll(s1.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(w[1].poll(s2.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn rule2_registration_order_not_creation_order_decides() {
    let (tx, rx) = rendez::channel();
    let ws = TestWaker::new();
    let mut a = pin!(tx.send('a'));
    let mut b = pin!(tx.send('b'));
    assert!(ws.poll(b.as_mut()).is_pending());
    assert!(ws.poll(a.as_mut()).is_pending());
    // Re-polling the first-registered send does not move it back in line.
    assert!(ws.poll(b.as_mut()).is_pending());
    let wr = TestWaker::new();
    assert_eq!(wr.poll(pin!(rx.recv())), Poll::Ready(Ok('b')));
    assert_eq!(wr.poll(pin!(rx.recv())), Poll::Ready(Ok('a')));
}

#[test]
fn rule2_waiting_receives_are_served_in_the_order_they_started_waiting() {
    let (tx, rx) = rendez::channel();
    let w: Vec<TestWaker> = (0..4).map(|_| TestWaker::new()).collect();
    let wakes = |w: &[TestWaker]| w.iter().map(TestWaker::wakes).collect::<Vec<_>>();
    let mut r1 = pin!(rx.recv());
    let mut r2 = pin!(rx.recv());
    let mut r3 = pin!(rx.recv());
    assert!(w[1].poll(r1.as_mut()).is_pending());
    assert!(w[2].poll(r2.as_mut()).is_pending());
    assert!(w[3].poll(r3.as_mut()).is_pending());

    let ws = TestWaker::new();
    let mut sa = pin!(tx.send('a'));
    assert!(ws.poll(sa.as_mut()).is_pending());
    assert_eq!(
        wakes(&w),
        [0, 1, 0, 0],
        "only the first waiting receive is notified"
    );
    // A later receive polled spuriously cannot overtake the notified one.
    assert!(w[2].poll(r2.as_mut()).is_pending());
    assert!(w[3].poll(r3.as_mut()).is_pending());
    // Neither can a brand-new receive.
    let mut r4 = pin!(rx.recv());
    assert!(w[0].poll(r4.as_mut()).is_pending());
    assert_eq!(w[1].poll(r1.as_mut()), Poll::Ready(Ok('a')));
    assert_eq!(ws.poll(sa.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(wakes(&w), [0, 1, 0, 0]);

    let mut sb = pin!(tx.send('b'));
    assert!(ws.poll(sb.as_mut()).is_pending());
    assert_eq!(wakes(&w), [0, 1, 1, 0], "r2 is next");
    assert!(w[3].poll(r3.as_mut()).is_pending());
    assert!(w[0].poll(r4.as_mut()).is_pending());
    assert_eq!(w[2].poll(r2.as_mut()), Poll::Ready(Ok('b')));
    assert_eq!(ws.poll(sb.as_mut()), Poll::Ready(Ok(())));

    let mut sc = pin!(tx.send('c'));
    assert!(ws.poll(sc.as_mut()).is_pending());
    assert_eq!(wakes(&w), [0, 1, 1, 1], "r3 is next");
    assert!(w[0].poll(r4.as_mut()).is_pending());
    assert_eq!(w[3].poll(r3.as_mut()), Poll::Ready(Ok('c')));
    assert_eq!(ws.poll(sc.as_mut()), Poll::Ready(Ok(())));

    let mut sd = pin!(tx.send('d'));
    assert!(ws.poll(sd.as_mut()).is_pending());
    assert_eq!(wakes(&w), [1, 1, 1, 1], "r4, the newest, is last");
    assert_eq!(w[0].poll(r4.as_mut()), Poll::Ready(Ok('d')));
    assert_eq!(ws.poll(sd.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn rule2_two_offers_notify_the_first_two_receives_in_order() {
    let (tx, rx) = rendez::channel();
    let w: Vec<TestWaker> = (0..3).map(|_| TestWaker::new()).collect();
    let mut r1 = pin!(rx.recv());
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
    assert!(w[2].poll(r3.as_mut()).is_pending(), "r3 is owed nothing");
    // The notified receives take the offers in the senders' order, whichever polls first.
    assert_eq!(w[1].poll(r2.as_mut()), Poll::Ready(Ok(1)));
    assert_eq!(w[0].poll(r1.as_mut()), Poll::Ready(Ok(2)));
    assert_eq!(ws.poll(s1.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(ws.poll(s2.as_mut()), Poll::Ready(Ok(())));
    assert!(w[2].poll(r3.as_mut()).is_pending());
}

#[test]
fn rule2_a_new_receive_takes_a_message_when_no_waiting_receive_is_owed_it() {
    let (tx, rx) = rendez::channel();
    let (ws, wr) = (TestWaker::new(), TestWaker::new());
    let mut s = pin!(tx.send(9));
    assert!(ws.poll(s.as_mut()).is_pending());
    let mut r = pin!(rx.recv());
    assert_eq!(
        wr.poll(r.as_mut()),
        Poll::Ready(Ok(9)),
        "nobody waits ahead of it"
    );
    assert_eq!(ws.poll(s.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn rule2_cloned_senders_registered_in_a_known_order_are_drained_in_that_order() {
    let (tx, rx) = rendez::channel::<usize>();
    let senders: Vec<_> = (0..5).map(|_| tx.clone()).collect();
    let order = [3usize, 0, 4, 1, 2, 3, 0];
    let ws: Vec<TestWaker> = order.iter().map(|_| TestWaker::new()).collect();
    let mut sends: Vec<_> = order
        .iter()
        .enumerate()
        .map(|(k, &who)| Box::pin(senders[who].send(100 * who + k)))
        .collect();
    for (send, w) in sends.iter_mut().zip(&ws) {
        assert!(w.poll(send.as_mut()).is_pending());
    }
    // One receive loop, on an executor.
    let got = futures::executor::block_on(async {
        let mut got = Vec::new();
        for _ in 0..order.len() {
            got.push(rx.recv().await.unwrap());
        }
        got
    });
    let expected: Vec<usize> = order
        .iter()
        .enumerate()
        .map(|(k, &who)| 100 * who + k)
        .collect();
    assert_eq!(got, expected);
    for (send, w) in sends.iter_mut().zip(&ws) {
        assert!(w.is_woken());
        assert_eq!(w.poll(send.as_mut()), Poll::Ready(Ok(())));
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "async-std's reactor needs timerfd, which Miri does not support"
)]
fn rule2_handles_work_across_threads_and_tasks() {
    // Cloned halves moved to threads and to tasks of two executors; every message arrives once.
    let (tx, rx) = rendez::channel::<usize>();
    let per = scaled(500);
    let mut threads = Vec::new();
    for s in 0..2 {
        let tx = tx.clone();
        threads.push(thread::spawn(move || {
            futures::executor::block_on(async {
                for i in 0..per {
                    tx.send(s * per + i).await.unwrap();
                }
            });
        }));
    }
    let tx2 = tx.clone();
    threads.push(thread::spawn(move || {
        for i in 0..per {
            tx2.send_blocking(2 * per + i).unwrap();
        }
    }));
    drop(tx);
    let rx2 = rx.clone();
    let r_thread = thread::spawn(move || {
        let mut got = Vec::new();
        while let Ok(v) = rx2.recv_blocking() {
            got.push(v);
        }
        got
    });
    let mut got = async_std::task::block_on(async_std::future::timeout(WATCHDOG, async {
        let mut got = Vec::new();
        while let Ok(v) = rx.recv().await {
            got.push(v);
        }
        got
    }))
    .expect("hang: lost wake-up?");
    for t in threads {
        join(t);
    }
    got.extend(join(r_thread));
    got.sort_unstable();
    assert_eq!(got, (0..3 * per).collect::<Vec<_>>());
}

// ================================================================================================
// Rule 7: wakers.
// ================================================================================================

#[test]
fn rule7_repolled_receive_wakes_only_its_newest_waker() {
    let (tx, rx) = rendez::channel();
    let (w1, w2, ws) = (TestWaker::new(), TestWaker::new(), TestWaker::new());
    let mut r = pin!(rx.recv());
    assert!(w1.poll(r.as_mut()).is_pending());
    assert!(w2.poll(r.as_mut()).is_pending());
    let mut s = pin!(tx.send(1));
    assert!(ws.poll(s.as_mut()).is_pending());
    assert_eq!((w1.wakes(), w2.wakes()), (0, 1));
    assert_eq!(w2.poll(r.as_mut()), Poll::Ready(Ok(1)));
    assert_eq!(ws.poll(s.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn rule7_repolled_send_wakes_only_its_newest_waker() {
    let (tx, rx) = rendez::channel();
    let (w1, w2, w3) = (TestWaker::new(), TestWaker::new(), TestWaker::new());
    let mut s = pin!(tx.send(1));
    assert!(w1.poll(s.as_mut()).is_pending());
    assert!(w2.poll(s.as_mut()).is_pending());
    assert!(w3.poll(s.as_mut()).is_pending());
    assert_eq!(TestWaker::new().poll(pin!(rx.recv())), Poll::Ready(Ok(1)));
    assert_eq!((w1.wakes(), w2.wakes(), w3.wakes()), (0, 0, 1));
    assert_eq!(w3.poll(s.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn rule7_repolled_waker_is_used_when_a_receive_later_reaches_the_front() {
    // r2 waits behind r1 and changes its waker meanwhile; when its turn comes, the new one is woken.
    let (tx, rx) = rendez::channel();
    let (w1, w2a, w2b, ws) = (
        TestWaker::new(),
        TestWaker::new(),
        TestWaker::new(),
        TestWaker::new(),
    );
    let mut r1 = pin!(rx.recv());
    let mut r2 = pin!(rx.recv());
    assert!(w1.poll(r1.as_mut()).is_pending());
    assert!(w2a.poll(r2.as_mut()).is_pending());
    let mut s1 = pin!(tx.send(1));
    assert!(ws.poll(s1.as_mut()).is_pending());
    assert!(w2b.poll(r2.as_mut()).is_pending(), "still behind r1");
    assert_eq!(w1.poll(r1.as_mut()), Poll::Ready(Ok(1)));
    let mut s2 = pin!(tx.send(2));
    assert!(ws.poll(s2.as_mut()).is_pending());
    assert_eq!((w2a.wakes(), w2b.wakes()), (0, 1));
    assert_eq!(w2b.poll(r2.as_mut()), Poll::Ready(Ok(2)));
}

#[test]
fn rule7_a_receive_woken_for_a_withdrawn_offer_registers_its_new_waker() {
    // Woken for a send that is then dropped, the receive re-polls with another waker and waits;
    // the next offer wakes that waker.
    let (tx, rx) = rendez::channel();
    let (w1, w2) = (TestWaker::new(), TestWaker::new());
    let mut r = pin!(rx.recv());
    assert!(w1.poll(r.as_mut()).is_pending());
    let mut s1 = Box::pin(tx.send(1));
    assert!(TestWaker::new().poll(s1.as_mut()).is_pending());
    assert_eq!(w1.wakes(), 1);
    drop(s1);
    assert!(w2.poll(r.as_mut()).is_pending());
    let mut s2 = pin!(tx.send(2));
    let ws = TestWaker::new();
    assert!(ws.poll(s2.as_mut()).is_pending());
    assert_eq!((w1.wakes(), w2.wakes()), (1, 1));
    assert_eq!(w2.poll(r.as_mut()), Poll::Ready(Ok(2)));
    assert_eq!(ws.poll(s2.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn rule7_a_waiting_send_is_woken_when_the_channel_closes() {
    let (tx, rx) = rendez::channel();
    let (w1, w2) = (TestWaker::new(), TestWaker::new());
    let mut s = pin!(tx.send(4));
    assert!(w1.poll(s.as_mut()).is_pending());
    assert!(w2.poll(s.as_mut()).is_pending());
    drop(rx);
    assert_eq!((w1.wakes(), w2.wakes()), (0, 1));
    assert_eq!(w2.poll(s.as_mut()), Poll::Ready(Err(SendError(4))));
}

#[test]
fn rule7_async_send_to_a_thread_in_recv_timeout_is_woken() {
    // The thread may register before or after the send: if the send waits, the thread's take must
    // wake it (poll_to_completion re-polls only after a wake-up).
    let (tx, rx) = rendez::channel::<usize>();
    for round in 0..scaled(20) {
        let rx = rx.clone();
        let t = thread::spawn(move || rx.recv_timeout(WATCHDOG));
        let ws = TestWaker::new();
        let mut send = pin!(tx.send(round));
        assert_eq!(poll_to_completion(&ws, send.as_mut()), Ok(()));
        assert_eq!(join(t), Ok(round));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule7_no_lost_wakeups_when_many_tasks_contend() {
    // Every waiting future must be woken when it can progress; a lost wake-up hangs the test,
    // which the watchdog turns into a failure.
    let (tx, rx) = rendez::channel::<usize>();
    let per = scaled(1_000);
    let mut senders = Vec::new();
    for s in 0..4 {
        let tx = tx.clone();
        senders.push(tokio::spawn(async move {
            for i in 0..per {
                tx.send(s * per + i).await.unwrap();
            }
        }));
    }
    drop(tx);
    let mut receivers = Vec::new();
    for _ in 0..4 {
        let rx = rx.clone();
        receivers.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Ok(v) = rx.recv().await {
                got.push(v);
            }
            got
        }));
    }
    drop(rx);
    let all = async {
        let mut got = Vec::new();
        for s in senders {
            s.await.unwrap();
        }
        for r in receivers {
            got.extend(r.await.unwrap());
        }
        got
    };
    let mut got = tokio::time::timeout(WATCHDOG, all)
        .await
        .expect("hang: lost wake-up?");
    got.sort_unstable();
    assert_eq!(got, (0..4 * per).collect::<Vec<_>>());
}

#[tokio::test(flavor = "current_thread")]
async fn rule7_no_lost_wakeups_on_a_single_threaded_executor() {
    let (tx, rx) = rendez::channel::<usize>();
    let n = scaled(2_000);
    let rx2 = rx.clone();
    let r1 = tokio::spawn(async move {
        let mut c = 0;
        while rx.recv().await.is_ok() {
            c += 1;
        }
        c
    });
    let r2 = tokio::spawn(async move {
        let mut c = 0;
        while rx2.recv().await.is_ok() {
            c += 1;
        }
        c
    });
    let tx2 = tx.clone();
    let s1 = tokio::spawn(async move {
        for i in 0..n {
            tx.send(i).await.unwrap();
        }
    });
    let s2 = tokio::spawn(async move {
        for i in 0..n {
            tx2.send(i).await.unwrap();
        }
    });
    let all = async {
        s1.await.unwrap();
        s2.await.unwrap();
        r1.await.unwrap() + r2.await.unwrap()
    };
    let count = tokio::time::timeout(WATCHDOG, all)
        .await
        .expect("hang: lost wake-up?");
    assert_eq!(count, 2 * n);
}
