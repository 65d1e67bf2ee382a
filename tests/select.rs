//! CONTRACT rule 11 (select), with rules 1-10 for every arm: `select!`, `select_blocking!` and the
//! `Select` builder complete exactly one operation; a send arm's message reaches a receive only if
//! that arm is the one selected; `default` and timeouts register nothing and leave no trace; a
//! disconnected arm is ready; the fair forms pick among ready arms at random and `biased;` in order;
//! a dropped async select leaves no arm half done; arms queue FIFO with plain operations.
//!
//! The hand-polled tests are deterministic: they see exactly who is registered, woken and served.
//! The concurrent tests (Go's `doubleselect` and `TestNonblockSelectRace`, selects facing each
//! other, cancellation storms) account for every message exactly.
#![cfg(feature = "std")]

mod common;

use std::future::Future;
use std::panic::resume_unwind;
use std::pin::{pin, Pin};
use std::sync::{mpsc, Arc};
use std::task::Poll;
use std::thread;
use std::time::{Duration, Instant};

use common::{join, wait_until, DropLog, TestWaker, Tracked, WATCHDOG};
use futures::FutureExt;
use rendez::{
    Channel, Receiver, RecvError, Select, Selected, SendError, Sender, TryRecvError, TrySendError,
};

// ================================================================================================
// Helpers.
// ================================================================================================

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

/// Runs `f` on its own thread and fails (instead of hanging) if it has not finished within the
/// watchdog: a select that is never woken would otherwise hang the test. Under Miri, which
/// reports deadlocks itself and is too slow for a wall-clock limit, it runs `f` in place.
fn hang_guard<R: Send + 'static>(what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    if cfg!(miri) {
        return f();
    }
    let (done_tx, done_rx) = mpsc::channel();
    let runner = thread::spawn(move || {
        let out = f();
        let _ = done_tx.send(());
        out
    });
    match done_rx.recv_timeout(WATCHDOG) {
        // Finished, or panicked (the sender was dropped): `join` returns or re-raises the panic.
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => {
            runner.join().unwrap_or_else(|panic| resume_unwind(panic))
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("hang: {what} did not finish within {WATCHDOG:?} (a lost wake-up?)")
        }
    }
}

/// A tokio multi-thread runtime with two workers (no timers: Miri can run it).
fn tokio_multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// A tokio multi-thread runtime with two workers and timers.
fn tokio_multi_thread_with_time() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap()
}

/// A tokio current-thread runtime (no timers).
fn tokio_current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// A small deterministic generator (xorshift64*): every run makes the same choices.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The four elements of `v`.
fn four<T>(v: Vec<T>) -> [T; 4] {
    match <[T; 4]>::try_from(v) {
        Ok(a) => a,
        Err(v) => panic!("expected 4 elements, got {}", v.len()),
    }
}

/// Checks that `got` holds each of `0..n` exactly once.
fn assert_each_once(got: &[usize], n: usize) {
    let mut seen = vec![0usize; n];
    for &v in got {
        assert!(v < n, "{v} was never sent");
        seen[v] += 1;
    }
    let duplicated: Vec<usize> = (0..n).filter(|&v| seen[v] > 1).take(10).collect();
    let missing: Vec<usize> = (0..n).filter(|&v| seen[v] == 0).take(10).collect();
    assert!(
        duplicated.is_empty() && missing.is_empty(),
        "of {n} values, duplicated (first 10): {duplicated:?}, missing (first 10): {missing:?}"
    );
    assert_eq!(got.len(), n);
}

/// Polls `fut` once with `waker` and expects `Pending`.
fn assert_pending<F: Future + ?Sized>(waker: &TestWaker, fut: Pin<&mut F>, what: &str) {
    assert!(waker.poll(fut).is_pending(), "{what} should be pending");
}

// ================================================================================================
// 1. Go's `doubleselect`: one selector spreads 0..N over four channels; four receivers forward to
//    one collector. Every value arrives exactly once, and each arm's count is its receiver's.
// ================================================================================================

const DOUBLE_N: usize = if cfg!(miri) { 20 } else { 2000 };

#[test]
fn doubleselect_async_select_on_tokio_multi_thread() {
    hang_guard("doubleselect (select!, tokio)", || {
        tokio_multi_thread().block_on(async {
            let (txs, rxs): (Vec<_>, Vec<_>) = (0..4).map(|_| rendez::channel::<usize>()).unzip();
            let (mux_tx, mux_rx) = rendez::channel::<usize>();
            let muxes: Vec<_> = rxs
                .into_iter()
                .map(|rx| {
                    let mux_tx = mux_tx.clone();
                    tokio::spawn(async move {
                        let mut n = 0;
                        while let Ok(v) = rx.recv().await {
                            mux_tx.send(v).await.unwrap();
                            n += 1;
                        }
                        n
                    })
                })
                .collect();
            drop(mux_tx);
            let collector = tokio::spawn(async move {
                let mut got = Vec::new();
                while let Ok(v) = mux_rx.recv().await {
                    got.push(v);
                }
                got
            });
            let [c0, c1, c2, c3] = four(txs);
            let selector = tokio::spawn(async move {
                let mut per_arm = [0usize; 4];
                for i in 0..DOUBLE_N {
                    let arm = rendez::select! {
                        send(c0, i) -> r => { r.unwrap(); 0 },
                        send(c1, i) -> r => { r.unwrap(); 1 },
                        send(c2, i) -> r => { r.unwrap(); 2 },
                        send(c3, i) -> r => { r.unwrap(); 3 },
                    };
                    per_arm[arm] += 1;
                }
                per_arm // dropping c0..c3 closes the four channels
            });
            let per_arm = selector.await.unwrap();
            let mut per_mux = Vec::new();
            for m in muxes {
                per_mux.push(m.await.unwrap());
            }
            let got = collector.await.unwrap();
            assert_each_once(&got, DOUBLE_N);
            assert_eq!(
                per_arm.to_vec(),
                per_mux,
                "arm k's sends went to receiver k"
            );
        })
    });
}

#[test]
fn doubleselect_blocking_select_on_threads() {
    hang_guard("doubleselect (select_blocking!, threads)", || {
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..4).map(|_| rendez::channel::<usize>()).unzip();
        let (mux_tx, mux_rx) = rendez::channel::<usize>();
        let muxes: Vec<_> = rxs
            .into_iter()
            .map(|rx| {
                let mux_tx = mux_tx.clone();
                thread::spawn(move || {
                    let mut n = 0;
                    while let Ok(v) = rx.recv_blocking() {
                        mux_tx.send_blocking(v).unwrap();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        drop(mux_tx);
        let collector = thread::spawn(move || {
            let mut got = Vec::new();
            while let Ok(v) = mux_rx.recv_blocking() {
                got.push(v);
            }
            got
        });
        let [c0, c1, c2, c3] = four(txs);
        let mut per_arm = [0usize; 4];
        for i in 0..DOUBLE_N {
            let arm = rendez::select_blocking! {
                send(c0, i) -> r => { r.unwrap(); 0 },
                send(c1, i) -> r => { r.unwrap(); 1 },
                send(c2, i) -> r => { r.unwrap(); 2 },
                send(c3, i) -> r => { r.unwrap(); 3 },
            };
            per_arm[arm] += 1;
        }
        drop((c0, c1, c2, c3));
        let per_mux: Vec<usize> = muxes.into_iter().map(|m| m.join().unwrap()).collect();
        let got = collector.join().unwrap();
        assert_each_once(&got, DOUBLE_N);
        assert_eq!(
            per_arm.to_vec(),
            per_mux,
            "arm k's sends went to receiver k"
        );
    });
}

#[test]
fn doubleselect_builder_async_on_tokio_multi_thread() {
    hang_guard("doubleselect (Select builder, tokio)", || {
        tokio_multi_thread().block_on(async {
            let (txs, rxs): (Vec<_>, Vec<_>) = (0..4).map(|_| rendez::channel::<usize>()).unzip();
            let (mux_tx, mux_rx) = rendez::channel::<usize>();
            let muxes: Vec<_> = rxs
                .into_iter()
                .map(|rx| {
                    let mux_tx = mux_tx.clone();
                    tokio::spawn(async move {
                        let mut n = 0;
                        while let Ok(v) = rx.recv().await {
                            mux_tx.send(v).await.unwrap();
                            n += 1;
                        }
                        n
                    })
                })
                .collect();
            drop(mux_tx);
            let collector = tokio::spawn(async move {
                let mut got = Vec::new();
                while let Ok(v) = mux_rx.recv().await {
                    got.push(v);
                }
                got
            });
            let selector = tokio::spawn(async move {
                let mut per_arm = [0usize; 4];
                for i in 0..DOUBLE_N {
                    let mut sel = Select::new();
                    let ops: Vec<usize> = txs.iter().map(|tx| sel.send(tx, i)).collect();
                    assert_eq!(sel.len(), 4);
                    let (index, outcome) = sel.select().await;
                    assert!(
                        matches!(outcome, Selected::Sent(Ok(()))),
                        "value {i}: op {index} did not report a completed send"
                    );
                    let arm = ops
                        .iter()
                        .position(|&op| op == index)
                        .expect("a known index");
                    per_arm[arm] += 1;
                }
                per_arm // dropping `txs` closes the four channels
            });
            let per_arm = selector.await.unwrap();
            let mut per_mux = Vec::new();
            for m in muxes {
                per_mux.push(m.await.unwrap());
            }
            let got = collector.await.unwrap();
            assert_each_once(&got, DOUBLE_N);
            assert_eq!(per_arm.to_vec(), per_mux, "op k's sends went to receiver k");
        })
    });
}

#[test]
fn doubleselect_async_selector_with_blocking_receiver_threads() {
    // Rule 8 for select: the selector is a tokio task, the receivers and the collector are threads.
    hang_guard("doubleselect (select! to recv_blocking threads)", || {
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..4).map(|_| rendez::channel::<usize>()).unzip();
        let (mux_tx, mux_rx) = rendez::channel::<usize>();
        let muxes: Vec<_> = rxs
            .into_iter()
            .map(|rx| {
                let mux_tx = mux_tx.clone();
                thread::spawn(move || {
                    let mut n = 0;
                    while let Ok(v) = rx.recv_blocking() {
                        mux_tx.send_blocking(v).unwrap();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        drop(mux_tx);
        let collector = thread::spawn(move || {
            let mut got = Vec::new();
            while let Ok(v) = mux_rx.recv_blocking() {
                got.push(v);
            }
            got
        });
        let [c0, c1, c2, c3] = four(txs);
        let per_arm = tokio_multi_thread().block_on(async move {
            tokio::spawn(async move {
                let mut per_arm = [0usize; 4];
                for i in 0..DOUBLE_N {
                    let arm = rendez::select! {
                        send(c0, i) -> r => { r.unwrap(); 0 },
                        send(c1, i) -> r => { r.unwrap(); 1 },
                        send(c2, i) -> r => { r.unwrap(); 2 },
                        send(c3, i) -> r => { r.unwrap(); 3 },
                    };
                    per_arm[arm] += 1;
                }
                per_arm
            })
            .await
            .unwrap()
        });
        let per_mux: Vec<usize> = muxes.into_iter().map(|m| m.join().unwrap()).collect();
        let got = collector.join().unwrap();
        assert_each_once(&got, DOUBLE_N);
        assert_eq!(
            per_arm.to_vec(),
            per_mux,
            "arm k's sends went to receiver k"
        );
    });
}

// ================================================================================================
// 2. Send arms are atomic: two threads wait on two channels, one select offers the same value on
//    both; exactly the receiver of the reported arm gets it, the other gets nothing, ever.
// ================================================================================================

const ATOMIC_ROUNDS: usize = if cfg!(miri) { 10 } else { 500 };

/// Two threads wait in `recv_blocking` on two channels and report each message with their number.
/// Each round, `offer(round, tx0, tx1)` offers `round` on both channels in one select and returns
/// the arm (0 or 1) it reports. Checks that exactly that receiver got exactly that round's value,
/// that no send is left waiting on either channel, and that nothing arrives late.
fn check_send_arms_are_atomic(
    what: &'static str,
    offer: impl Fn(usize, &Sender<usize>, &Sender<usize>) -> usize + Send + 'static,
) {
    hang_guard(what, move || {
        let (tx0, rx0) = rendez::channel::<usize>();
        let (tx1, rx1) = rendez::channel::<usize>();
        let (report_tx, reports) = mpsc::channel::<(usize, usize)>();
        let receivers: Vec<_> = [rx0.clone(), rx1.clone()]
            .into_iter()
            .enumerate()
            .map(|(k, rx)| {
                let report_tx = report_tx.clone();
                thread::spawn(move || {
                    let mut n = 0;
                    while let Ok(v) = rx.recv_blocking() {
                        report_tx.send((k, v)).unwrap();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        drop(report_tx);
        for round in 0..ATOMIC_ROUNDS {
            let arm = offer(round, &tx0, &tx1);
            assert!(arm < 2);
            let report = reports
                .recv_timeout(WATCHDOG)
                .expect("the selected arm's receiver reports its message");
            assert_eq!(
                report,
                (arm, round),
                "round {round}: the receiver of the reported arm got this round's message \
                 (a mismatch means the other arm's message leaked, now or in an earlier round)"
            );
            assert_eq!(rx0.try_recv(), Err(TryRecvError::Empty), "round {round}");
            assert_eq!(rx1.try_recv(), Err(TryRecvError::Empty), "round {round}");
        }
        // A short wait: an unselected message that leaked would show up by now.
        thread::sleep(Duration::from_millis(20));
        assert_eq!(reports.try_recv(), Err(mpsc::TryRecvError::Empty));
        drop((tx0, tx1)); // closes both channels: the waiting receiver gets `RecvError`
        let counts: Vec<usize> = receivers.into_iter().map(join).collect();
        assert_eq!(counts.iter().sum::<usize>(), ATOMIC_ROUNDS, "{counts:?}");
        assert_eq!(
            reports.try_recv(),
            Err(mpsc::TryRecvError::Disconnected),
            "no message arrived after the last round"
        );
    });
}

#[test]
fn send_arms_are_atomic_with_select_blocking() {
    check_send_arms_are_atomic("atomic send arms (select_blocking!)", |round, tx0, tx1| {
        rendez::select_blocking! {
            send(tx0, round) -> r => { r.unwrap(); 0 },
            send(tx1, round) -> r => { r.unwrap(); 1 },
        }
    });
}

#[test]
fn send_arms_are_atomic_with_async_select() {
    check_send_arms_are_atomic("atomic send arms (select!)", |round, tx0, tx1| {
        futures::executor::block_on(async {
            rendez::select! {
                send(tx0, round) -> r => { r.unwrap(); 0 },
                send(tx1, round) -> r => { r.unwrap(); 1 },
            }
        })
    });
}

#[test]
fn send_ops_are_atomic_with_the_builder() {
    check_send_arms_are_atomic("atomic send ops (Select)", |round, tx0, tx1| {
        let mut sel = Select::new();
        let ops = [sel.send(tx0, round), sel.send(tx1, round)];
        let (index, outcome) = sel.select_blocking();
        assert!(matches!(outcome, Selected::Sent(Ok(()))));
        let arm = ops
            .iter()
            .position(|&op| op == index)
            .expect("a known index");
        assert_eq!(sel.take_unsent(ops[arm]), None, "the selected op is spent");
        assert_eq!(
            sel.take_unsent(ops[1 - arm]),
            Some(round),
            "the unselected op still holds its message"
        );
        arm
    });
}

// ================================================================================================
// 3. `default`: with nothing ready it runs and registers nothing; a ready arm beats it.
// ================================================================================================

#[test]
fn async_select_default_runs_when_nothing_is_ready_and_leaves_no_trace() {
    let log = DropLog::new();
    let (tx_a, rx_a) = rendez::channel::<Tracked>();
    let (tx_b, rx_b) = rendez::channel::<u32>();
    let taken = futures::executor::block_on(async {
        rendez::select! {
            send(tx_a, Tracked::new(1, &log)) -> _r => "send",
            recv(rx_b) -> _r => "recv",
            default => "default",
        }
    });
    assert_eq!(taken, "default");
    assert_eq!(
        log.dropped(),
        1,
        "the unsent message was dropped with the select"
    );
    assert_no_trace_after_default(&log, &tx_a, &rx_a, &tx_b);
}

#[test]
fn blocking_select_default_runs_when_nothing_is_ready_and_leaves_no_trace() {
    let log = DropLog::new();
    let (tx_a, rx_a) = rendez::channel::<Tracked>();
    let (tx_b, rx_b) = rendez::channel::<u32>();
    let taken = rendez::select_blocking! {
        send(tx_a, Tracked::new(1, &log)) -> _r => "send",
        recv(rx_b) -> _r => "recv",
        default => "default",
    };
    assert_eq!(taken, "default");
    assert_eq!(
        log.dropped(),
        1,
        "the unsent message was dropped with the select"
    );
    assert_no_trace_after_default(&log, &tx_a, &rx_a, &tx_b);
}

/// After a select that took `default` over a send arm on A (message 1) and a receive arm on B:
/// nothing waits on either channel, and a later receive on A gets the next real message, not 1.
fn assert_no_trace_after_default(
    log: &Arc<DropLog>,
    tx_a: &Sender<Tracked>,
    rx_a: &Receiver<Tracked>,
    tx_b: &Sender<u32>,
) {
    assert_eq!(
        rx_a.try_recv(),
        Err(TryRecvError::Empty),
        "no send waits on A"
    );
    assert_eq!(
        tx_b.try_send(5),
        Err(TrySendError::Full(5)),
        "no receive waits on B"
    );
    let (wr, ws) = (TestWaker::new(), TestWaker::new());
    let mut recv = pin!(rx_a.recv());
    assert_pending(&wr, recv.as_mut(), "a receive on A with no send");
    let mut send = pin!(tx_a.send(Tracked::new(2, log)));
    assert_pending(&ws, send.as_mut(), "the async receive has not polled yet");
    match wr.poll(recv.as_mut()) {
        Poll::Ready(Ok(m)) => assert_eq!(m.id, 2, "the receive got the real send's message"),
        other => panic!("the receive should get message 2, got {other:?}"),
    }
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(log.dropped(), 2);
}

#[test]
fn async_select_takes_a_ready_send_arm_over_default() {
    // A blocked thread waits in `recv_blocking`: the send arm is ready.
    static CH: Channel<u32> = Channel::new();
    let t = thread::spawn(|| CH.recv_blocking());
    wait_until("the thread waits in recv_blocking", || {
        waiting(&CH, "waiting_receivers") == 1
    });
    let taken = futures::executor::block_on(async {
        rendez::select! {
            send(&CH, 5) -> r => r,
            default => panic!("a receiver is waiting: the send arm is ready"),
        }
    });
    assert_eq!(taken, Ok(()));
    assert_eq!(join(t), Ok(5));
    assert_eq!(waiting(&CH, "waiting_senders"), 0);
}

#[test]
fn async_select_takes_a_ready_recv_arm_over_default() {
    // A send waits: the receive arm is ready.
    let (tx, rx) = rendez::channel::<u32>();
    let (_tx_idle, rx_idle) = rendez::channel::<u32>();
    let ws = TestWaker::new();
    let mut send = pin!(tx.send(8));
    assert_pending(&ws, send.as_mut(), "a send with no receive");
    let got = futures::executor::block_on(async {
        rendez::select! {
            recv(rx_idle) -> _r => panic!("nothing was sent on the idle channel"),
            recv(rx) -> r => r,
            default => panic!("a send is waiting: the receive arm is ready"),
        }
    });
    assert_eq!(got, Ok(8));
    assert_eq!(ws.wakes(), 1, "the send is woken once its message is taken");
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn blocking_select_takes_a_ready_send_arm_over_default() {
    static CH: Channel<u32> = Channel::new();
    let t = thread::spawn(|| CH.recv_blocking());
    wait_until("the thread waits in recv_blocking", || {
        waiting(&CH, "waiting_receivers") == 1
    });
    let taken = rendez::select_blocking! {
        send(&CH, 6) -> r => r,
        default => panic!("a receiver is waiting: the send arm is ready"),
    };
    assert_eq!(taken, Ok(()));
    assert_eq!(join(t), Ok(6));
}

#[test]
fn blocking_select_takes_a_ready_recv_arm_over_default() {
    let (tx, rx) = rendez::channel::<u32>();
    let ws = TestWaker::new();
    let mut send = pin!(tx.send(9));
    assert_pending(&ws, send.as_mut(), "a send with no receive");
    let got = rendez::select_blocking! {
        recv(rx) -> r => r,
        default => panic!("a send is waiting: the receive arm is ready"),
    };
    assert_eq!(got, Ok(9));
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
}

// ================================================================================================
// 4. `default(timeout)` of the blocking select.
// ================================================================================================

#[test]
fn blocking_select_default_timeout_times_out_when_nothing_comes() {
    let (tx, rx) = rendez::channel::<u32>();
    let (tx2, rx2) = rendez::channel::<u32>();
    let timeout = Duration::from_millis(30);
    let start = Instant::now();
    let taken = rendez::select_blocking! {
        recv(rx) -> _r => "recv",
        send(tx2, 1) -> _r => "send",
        default(timeout) => "timeout",
    };
    let elapsed = start.elapsed();
    assert_eq!(taken, "timeout");
    assert!(
        elapsed >= timeout,
        "returned after {elapsed:?}, before the {timeout:?} timeout"
    );
    assert_eq!(
        tx.try_send(3),
        Err(TrySendError::Full(3)),
        "no receive left waiting"
    );
    assert_eq!(
        rx2.try_recv(),
        Err(TryRecvError::Empty),
        "no send left waiting"
    );
}

#[test]
fn blocking_select_default_timeout_completes_when_a_sender_comes_in_time() {
    static CH: Channel<u32> = Channel::new();
    let peer = thread::spawn(|| {
        wait_until("the select waits on CH", || {
            waiting(&CH, "waiting_receivers") == 1
        });
        CH.send_blocking(7)
    });
    let start = Instant::now();
    let got = rendez::select_blocking! {
        recv(&CH) -> r => r,
        default(WATCHDOG) => panic!("the peer sends long before the timeout"),
    };
    assert_eq!(got, Ok(7));
    assert!(start.elapsed() < WATCHDOG);
    assert_eq!(join(peer), Ok(()));
}

#[test]
fn blocking_select_default_timeout_completes_when_a_receiver_comes_in_time() {
    static CH: Channel<u32> = Channel::new();
    let peer = thread::spawn(|| {
        wait_until("the select's send waits on CH", || {
            waiting(&CH, "waiting_senders") == 1
        });
        CH.recv_blocking()
    });
    let sent = rendez::select_blocking! {
        send(&CH, 4) -> r => r,
        default(WATCHDOG) => panic!("the peer receives long before the timeout"),
    };
    assert_eq!(sent, Ok(()));
    assert_eq!(join(peer), Ok(4));
    assert_eq!(waiting(&CH, "waiting_senders"), 0);
}

#[test]
fn blocking_select_send_arm_that_timed_out_leaves_no_message_behind() {
    let log = DropLog::new();
    let (tx, rx) = rendez::channel::<Tracked>();
    let taken = rendez::select_blocking! {
        send(tx, Tracked::new(1, &log)) -> _r => "sent",
        default(Duration::from_millis(10)) => "timeout",
    };
    assert_eq!(taken, "timeout");
    assert_eq!(log.dropped(), 1, "the timed-out message was dropped");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(matches!(
        rx.recv_timeout(Duration::from_millis(10)),
        Err(rendez::RecvTimeoutError::Timeout)
    ));
    // The next receive gets the next real message, not the timed-out one.
    let peer = thread::spawn(move || rx.recv_blocking().map(|m| m.id));
    tx.send_blocking(Tracked::new(2, &log)).unwrap();
    assert_eq!(join(peer), Ok(2));
}

// ================================================================================================
// 5. Select against close: a disconnected arm is ready and reports the error.
// ================================================================================================

#[test]
fn async_select_recv_arm_reports_recv_error_when_its_last_sender_drops() {
    let (tx_a, rx_a) = rendez::channel::<u32>();
    let (tx_b, rx_b) = rendez::channel::<u32>();
    let w = TestWaker::new();
    let mut sel = pin!(async {
        rendez::select! {
            recv(rx_a) -> r => ('a', r),
            recv(rx_b) -> r => ('b', r),
        }
    });
    assert_pending(&w, sel.as_mut(), "a select with no sender");
    drop(tx_b);
    assert!(w.is_woken(), "the last Sender's drop wakes the select");
    assert_eq!(w.poll(sel.as_mut()), Poll::Ready(('b', Err(RecvError))));
    drop(tx_a);
}

#[test]
fn async_select_recv_arm_reports_recv_error_when_its_channel_is_closed() {
    static CH: Channel<u32> = Channel::new();
    let (_tx, rx) = rendez::channel::<u32>();
    let w = TestWaker::new();
    let mut sel = pin!(async {
        rendez::select! {
            recv(rx) -> r => ('r', r),
            recv(&CH) -> r => ('s', r),
        }
    });
    assert_pending(&w, sel.as_mut(), "a select with no sender");
    assert!(CH.close());
    assert!(w.is_woken(), "close wakes the select");
    assert_eq!(w.poll(sel.as_mut()), Poll::Ready(('s', Err(RecvError))));
}

#[test]
fn blocking_select_recv_arm_reports_recv_error_when_its_last_sender_drops() {
    let (tx_a, rx_a) = rendez::channel::<u32>();
    let (tx_b, rx_b) = rendez::channel::<u32>();
    let t = thread::spawn(move || {
        rendez::select_blocking! {
            recv(rx_a) -> r => ('a', r),
            recv(rx_b) -> r => ('b', r),
        }
    });
    thread::sleep(Duration::from_millis(5)); // most likely parked by now; either way the same
    drop(tx_a);
    assert_eq!(join(t), ('a', Err(RecvError)));
    drop(tx_b);
}

#[test]
fn async_select_send_arm_returns_its_message_when_the_receivers_drop() {
    let (log_a, log_b) = (DropLog::new(), DropLog::new());
    let (tx_a, rx_a) = rendez::channel::<Tracked>();
    let (tx_b, rx_b) = rendez::channel::<Tracked>();
    let w = TestWaker::new();
    {
        let mut sel = pin!(async {
            rendez::select! {
                send(tx_a, Tracked::new(1, &log_a)) -> r => ('a', r),
                send(tx_b, Tracked::new(2, &log_b)) -> r => ('b', r),
            }
        });
        assert_pending(&w, sel.as_mut(), "a select with no receiver");
        drop(rx_a);
        assert!(w.is_woken(), "the last Receiver's drop wakes the select");
        match w.poll(sel.as_mut()) {
            Poll::Ready(('a', Err(SendError(msg)))) => {
                assert_eq!(msg.id, 1, "the message comes back");
                assert_eq!(log_a.dropped(), 0, "returned, not dropped");
                drop(msg);
                assert_eq!(log_a.dropped(), 1);
            }
            other => panic!("arm a should fail with its message, got {other:?}"),
        }
    } // the finished select is dropped with its arms
    assert_eq!(
        log_b.dropped(),
        1,
        "the other arm's message was dropped, not delivered"
    );
    assert_eq!(rx_b.try_recv(), Err(TryRecvError::Empty));
    let wr = TestWaker::new();
    assert_pending(&wr, pin!(rx_b.recv()), "a later receive on B gets nothing");
}

#[test]
fn blocking_select_send_arm_returns_its_message_when_the_receivers_drop() {
    let (log_a, log_b) = (DropLog::new(), DropLog::new());
    let (tx_a, rx_a) = rendez::channel::<Tracked>();
    let (tx_b, rx_b) = rendez::channel::<Tracked>();
    let t = {
        let (log_a, log_b) = (log_a.clone(), log_b.clone());
        thread::spawn(move || {
            let r = rendez::select_blocking! {
                send(tx_a, Tracked::new(1, &log_a)) -> r => ('a', r.map_err(|e| e.into_inner().id)),
                send(tx_b, Tracked::new(2, &log_b)) -> r => ('b', r.map_err(|e| e.into_inner().id)),
            };
            (r, tx_b)
        })
    };
    thread::sleep(Duration::from_millis(5));
    drop(rx_a);
    let (r, _tx_b) = join(t);
    assert_eq!(r, ('a', Err(1)), "arm a fails with its own message");
    assert_eq!((log_a.dropped(), log_b.dropped()), (1, 1));
    assert_eq!(
        rx_b.try_recv(),
        Err(TryRecvError::Empty),
        "message 2 was not delivered"
    );
}

#[test]
fn a_channel_closed_before_the_select_makes_its_arm_ready_at_once() {
    let (tx, rx) = rendez::channel::<u32>();
    let (tx2, rx2) = rendez::channel::<u32>();
    assert!(rx.close());
    let got = futures::executor::block_on(async {
        rendez::select! {
            recv(rx) -> r => r,
            default => panic!("a disconnected arm is ready"),
        }
    });
    assert_eq!(got, Err(RecvError));
    let sent = rendez::select_blocking! {
        send(tx, 3) -> r => r,
        default => panic!("a disconnected arm is ready"),
    };
    assert_eq!(sent, Err(SendError(3)));
    // No default: the closed arm is selected, the open one is not touched.
    assert!(tx2.close());
    let r = rendez::select_blocking! {
        recv(rx2) -> r => r,
    };
    assert_eq!(r, Err(RecvError));
}

// ================================================================================================
// 6. Nonblocking selects racing (Go's TestNonblockSelectRace, adapted to rendezvous).
// ================================================================================================

const RACE_ROUNDS: usize = if cfg!(miri) { 20 } else { 1000 };

#[test]
fn nonblocking_select_race_never_misses_a_waiting_send_blocking_form() {
    // Each round a send waits on channel 1 for the whole select, while another thread's
    // `send_blocking` races in on channel 2: the select must never take `default`.
    hang_guard("nonblocking select race (select_blocking!)", || {
        let (tx1, rx1) = rendez::channel::<usize>();
        let (tx2, rx2) = rendez::channel::<usize>();
        let racer = thread::spawn(move || {
            for r in 0..RACE_ROUNDS {
                tx2.send_blocking(r).unwrap();
            }
        });
        let ws = TestWaker::new();
        for r in 0..RACE_ROUNDS {
            let mut s1 = pin!(tx1.send(r));
            assert_pending(&ws, s1.as_mut(), "a send with no receive");
            let got = rendez::select_blocking! {
                recv(rx1) -> v => (1, v),
                recv(rx2) -> v => (2, v),
                default => panic!("round {r}: default taken, but a send waits on channel 1"),
            };
            match got {
                (1, Ok(v)) => {
                    assert_eq!(v, r);
                    assert_eq!(ws.poll(s1.as_mut()), Poll::Ready(Ok(())));
                    assert_eq!(
                        rx2.recv_blocking(),
                        Ok(r),
                        "the racer's send is still there"
                    );
                }
                (2, Ok(v)) => {
                    assert_eq!(v, r);
                    assert_eq!(rx1.try_recv(), Ok(r), "the waiting send was not taken");
                    assert_eq!(ws.poll(s1.as_mut()), Poll::Ready(Ok(())));
                }
                other => panic!("round {r}: {other:?}"),
            }
        }
        join(racer);
        assert_eq!(
            rx2.recv_blocking(),
            Err(RecvError),
            "every racer's send was taken once"
        );
    });
}

#[test]
fn nonblocking_select_race_never_misses_a_waiting_send_async_form() {
    hang_guard("nonblocking select race (select!)", || {
        let (tx1, rx1) = rendez::channel::<usize>();
        let (tx2, rx2) = rendez::channel::<usize>();
        let racer = thread::spawn(move || {
            for r in 0..RACE_ROUNDS {
                tx2.send_blocking(r).unwrap();
            }
        });
        let ws = TestWaker::new();
        for r in 0..RACE_ROUNDS {
            let mut s1 = pin!(tx1.send(r));
            assert_pending(&ws, s1.as_mut(), "a send with no receive");
            let got = futures::executor::block_on(async {
                rendez::select! {
                    recv(rx1) -> v => (1, v),
                    recv(rx2) -> v => (2, v),
                    default => panic!("round {r}: default taken, but a send waits on channel 1"),
                }
            });
            match got {
                (1, Ok(v)) => {
                    assert_eq!(v, r);
                    assert_eq!(ws.poll(s1.as_mut()), Poll::Ready(Ok(())));
                    assert_eq!(
                        rx2.recv_blocking(),
                        Ok(r),
                        "the racer's send is still there"
                    );
                }
                (2, Ok(v)) => {
                    assert_eq!(v, r);
                    assert_eq!(rx1.try_recv(), Ok(r), "the waiting send was not taken");
                    assert_eq!(ws.poll(s1.as_mut()), Poll::Ready(Ok(())));
                }
                other => panic!("round {r}: {other:?}"),
            }
        }
        join(racer);
        assert_eq!(rx2.recv_blocking(), Err(RecvError));
    });
}

#[test]
fn nonblocking_select_races_send_blocking_try_send_and_recv_blocking_exactly_once() {
    // Producer E sends even ids with `send_blocking`, producer O odd ids with `try_send` (retrying
    // on `Full`). Taker S polls with a nonblocking select, taker B waits in `recv_blocking`.
    // Every id is received exactly once; and S, which never registers, can only ever meet E's
    // waiting sends: a `try_send` succeeds only against a waiting receive.
    hang_guard("nonblocking select against try_send", || {
        let (tx, rx) = rendez::channel::<usize>();
        let evens = {
            let tx = tx.clone();
            thread::spawn(move || {
                for r in 0..RACE_ROUNDS {
                    tx.send_blocking(2 * r).unwrap();
                }
            })
        };
        let odds = thread::spawn(move || {
            let mut full = 0usize;
            for r in 0..RACE_ROUNDS {
                let mut msg = 2 * r + 1;
                loop {
                    match tx.try_send(msg) {
                        Ok(()) => break,
                        Err(TrySendError::Full(m)) => {
                            full += 1;
                            msg = m;
                            thread::yield_now();
                        }
                        Err(e) => panic!("{e:?}"),
                    }
                }
            }
            full
        });
        let selector = {
            let rx = rx.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    let step = rendez::select_blocking! {
                        recv(rx) -> v => v.ok(),
                        default => { thread::yield_now(); Some(usize::MAX) },
                    };
                    match step {
                        Some(usize::MAX) => {}
                        Some(v) => got.push(v),
                        None => break got, // disconnected: both producers are done
                    }
                }
            })
        };
        let blocked = thread::spawn(move || {
            let mut got = Vec::new();
            while let Ok(v) = rx.recv_blocking() {
                got.push(v);
            }
            got
        });
        join(evens);
        let _full = join(odds);
        let by_select = join(selector);
        let by_blocked = join(blocked);
        assert!(
            by_select.iter().all(|v| v % 2 == 0),
            "a nonblocking select received a try_send message, so it was registered: {:?}",
            by_select
                .iter()
                .filter(|v| *v % 2 == 1)
                .take(10)
                .collect::<Vec<_>>()
        );
        let mut all = by_select;
        all.extend(by_blocked);
        assert_each_once(&all, 2 * RACE_ROUNDS);
    });
}

#[test]
fn nonblocking_select_and_try_send_never_meet() {
    // Neither side registers, so they can never meet: every `try_send` is `Full`, every select
    // takes `default`, however they interleave.
    hang_guard("nonblocking select against try_send only", || {
        let (tx, rx) = rendez::channel::<usize>();
        let racer = thread::spawn(move || {
            let mut ok = 0;
            for r in 0..RACE_ROUNDS {
                match tx.try_send(r) {
                    Ok(()) => ok += 1,
                    Err(TrySendError::Full(_)) => {}
                    Err(e) => panic!("{e:?}"),
                }
            }
            (ok, tx)
        });
        let mut received = Vec::new();
        for _ in 0..RACE_ROUNDS {
            if let Some(v) = rendez::select_blocking! {
                recv(rx) -> v => Some(v),
                default => None,
            } {
                received.push(v);
            }
        }
        let (ok, tx) = join(racer);
        assert_eq!(
            (ok, received.len()),
            (0, 0),
            "try_send succeeded {ok} times against a select that registers nothing; received \
             {received:?}"
        );
        drop(tx);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    });
}

// ================================================================================================
// 7. Fairness: with two ready arms each wins about half the time; `biased;` always the first.
// ================================================================================================

const FAIR_ROUNDS: usize = if cfg!(miri) { 400 } else { 10_000 };

/// Keeps a send waiting on each of two channels and runs `select_once` `FAIR_ROUNDS` times; it
/// selects over receives on both and returns the arm (0 or 1) and the value. Re-arms the taken
/// send each round and checks the other one was not touched. Returns the wins per arm.
fn wins_with_two_ready_arms(
    txs: [&Sender<usize>; 2],
    mut select_once: impl FnMut() -> (usize, usize),
) -> [usize; 2] {
    let w = TestWaker::new();
    let mut sends = [Box::pin(txs[0].send(0)), Box::pin(txs[1].send(0))];
    let mut waiting_value = [0usize; 2];
    for s in &mut sends {
        assert_pending(&w, s.as_mut(), "a send with no receive");
    }
    let mut wins = [0usize; 2];
    for round in 0..FAIR_ROUNDS {
        let (arm, v) = select_once();
        assert!(arm < 2);
        assert_eq!(
            v, waiting_value[arm],
            "round {round}: arm {arm} got its channel's message"
        );
        assert_eq!(w.poll(sends[arm].as_mut()), Poll::Ready(Ok(())));
        assert_pending(&w, sends[1 - arm].as_mut(), "the other arm's send");
        waiting_value[arm] += 1;
        sends[arm].set(txs[arm].send(waiting_value[arm]));
        assert_pending(&w, sends[arm].as_mut(), "the re-armed send");
        wins[arm] += 1;
    }
    wins
}

/// Each arm won between 45% and 55% (30%-70% with Miri's few rounds: far beyond 8 sigma).
fn assert_fair(wins: [usize; 2]) {
    assert_eq!(wins[0] + wins[1], FAIR_ROUNDS);
    let (lo, hi) = if cfg!(miri) {
        (0.30, 0.70)
    } else {
        (0.45, 0.55)
    };
    for w in wins {
        let share = w as f64 / FAIR_ROUNDS as f64;
        assert!(
            (lo..=hi).contains(&share),
            "wins {wins:?}: an arm won {:.1}% of the selects",
            share * 100.0
        );
    }
}

#[test]
fn async_select_is_fair_between_two_ready_arms() {
    let (tx_a, rx_a) = rendez::channel::<usize>();
    let (tx_b, rx_b) = rendez::channel::<usize>();
    let wins = wins_with_two_ready_arms([&tx_a, &tx_b], || {
        futures::executor::block_on(async {
            rendez::select! {
                recv(rx_a) -> v => (0, v.unwrap()),
                recv(rx_b) -> v => (1, v.unwrap()),
            }
        })
    });
    assert_fair(wins);
}

#[test]
fn async_select_with_default_is_fair_between_two_ready_arms() {
    let (tx_a, rx_a) = rendez::channel::<usize>();
    let (tx_b, rx_b) = rendez::channel::<usize>();
    let wins = wins_with_two_ready_arms([&tx_a, &tx_b], || {
        futures::executor::block_on(async {
            rendez::select! {
                recv(rx_a) -> v => (0, v.unwrap()),
                recv(rx_b) -> v => (1, v.unwrap()),
                default => panic!("both arms are ready"),
            }
        })
    });
    assert_fair(wins);
}

#[test]
fn blocking_select_is_fair_between_two_ready_arms() {
    let (tx_a, rx_a) = rendez::channel::<usize>();
    let (tx_b, rx_b) = rendez::channel::<usize>();
    let wins = wins_with_two_ready_arms([&tx_a, &tx_b], || {
        rendez::select_blocking! {
            recv(rx_a) -> v => (0, v.unwrap()),
            recv(rx_b) -> v => (1, v.unwrap()),
        }
    });
    assert_fair(wins);
}

#[test]
fn blocking_select_with_default_is_fair_between_two_ready_arms() {
    let (tx_a, rx_a) = rendez::channel::<usize>();
    let (tx_b, rx_b) = rendez::channel::<usize>();
    let wins = wins_with_two_ready_arms([&tx_a, &tx_b], || {
        rendez::select_blocking! {
            recv(rx_a) -> v => (0, v.unwrap()),
            recv(rx_b) -> v => (1, v.unwrap()),
            default => panic!("both arms are ready"),
        }
    });
    assert_fair(wins);
}

/// The arm (0 or 1) of a builder outcome, given the two ops' indices, and the received value.
fn builder_arm(ops: [usize; 2], (index, outcome): (usize, Selected<usize>)) -> (usize, usize) {
    let arm = ops
        .iter()
        .position(|&op| op == index)
        .expect("a known index");
    match outcome {
        Selected::Received(Ok(v)) => (arm, v),
        other => panic!("op {index}: expected a received message, got {other:?}"),
    }
}

#[test]
fn builder_async_select_is_fair_between_two_ready_ops() {
    let (tx_a, rx_a) = rendez::channel::<usize>();
    let (tx_b, rx_b) = rendez::channel::<usize>();
    let mut sel = Select::new();
    let ops = [sel.recv(&rx_a), sel.recv(&rx_b)];
    let wins = wins_with_two_ready_arms([&tx_a, &tx_b], || {
        builder_arm(ops, futures::executor::block_on(sel.select()))
    });
    assert_fair(wins);
}

#[test]
fn builder_select_blocking_is_fair_between_two_ready_ops() {
    let (tx_a, rx_a) = rendez::channel::<usize>();
    let (tx_b, rx_b) = rendez::channel::<usize>();
    let mut sel = Select::new();
    let ops = [sel.recv(&rx_a), sel.recv(&rx_b)];
    let wins = wins_with_two_ready_arms([&tx_a, &tx_b], || builder_arm(ops, sel.select_blocking()));
    assert_fair(wins);
}

#[test]
fn builder_try_select_is_fair_between_two_ready_ops() {
    let (tx_a, rx_a) = rendez::channel::<usize>();
    let (tx_b, rx_b) = rendez::channel::<usize>();
    let mut sel = Select::new();
    let ops = [sel.recv(&rx_a), sel.recv(&rx_b)];
    let wins = wins_with_two_ready_arms([&tx_a, &tx_b], || {
        builder_arm(ops, sel.try_select().expect("both ops are ready"))
    });
    assert_fair(wins);
}

#[test]
fn biased_async_select_always_takes_the_first_ready_arm() {
    let (tx_a, rx_a) = rendez::channel::<usize>();
    let (tx_b, rx_b) = rendez::channel::<usize>();
    let wins = wins_with_two_ready_arms([&tx_a, &tx_b], || {
        futures::executor::block_on(async {
            rendez::select! {
                biased;
                recv(rx_a) -> v => (0, v.unwrap()),
                recv(rx_b) -> v => (1, v.unwrap()),
            }
        })
    });
    assert_eq!(wins, [FAIR_ROUNDS, 0]);
    // Biased, not blind: with the first arm not ready, the second is taken.
    let (_tx_idle, rx_idle) = rendez::channel::<usize>();
    let wins = wins_with_two_ready_arms([&tx_a, &tx_b], || {
        futures::executor::block_on(async {
            rendez::select! {
                biased;
                recv(rx_idle) -> _v => panic!("nothing is sent on the idle channel"),
                recv(rx_b) -> v => (1, v.unwrap()),
                recv(rx_a) -> v => (0, v.unwrap()),
            }
        })
    });
    assert_eq!(wins, [0, FAIR_ROUNDS]);
}

#[test]
fn biased_blocking_select_always_takes_the_first_ready_arm() {
    let (tx_a, rx_a) = rendez::channel::<usize>();
    let (tx_b, rx_b) = rendez::channel::<usize>();
    let wins = wins_with_two_ready_arms([&tx_a, &tx_b], || {
        rendez::select_blocking! {
            biased;
            recv(rx_a) -> v => (0, v.unwrap()),
            recv(rx_b) -> v => (1, v.unwrap()),
        }
    });
    assert_eq!(wins, [FAIR_ROUNDS, 0]);
    let wins = wins_with_two_ready_arms([&tx_a, &tx_b], || {
        rendez::select_blocking! {
            biased;
            recv(rx_b) -> v => (1, v.unwrap()),
            recv(rx_a) -> v => (0, v.unwrap()),
            default => panic!("both arms are ready"),
        }
    });
    assert_eq!(wins, [0, FAIR_ROUNDS]);
}

#[test]
fn biased_builder_always_takes_the_first_ready_op() {
    let (tx_a, rx_a) = rendez::channel::<usize>();
    let (tx_b, rx_b) = rendez::channel::<usize>();
    let mut sel = Select::new_biased();
    let ops = [sel.recv(&rx_a), sel.recv(&rx_b)];
    let mut round = 0;
    let wins = wins_with_two_ready_arms([&tx_a, &tx_b], || {
        round += 1;
        match round % 3 {
            0 => builder_arm(ops, sel.select_blocking()),
            1 => builder_arm(ops, futures::executor::block_on(sel.select())),
            _ => builder_arm(ops, sel.try_select().expect("both ops are ready")),
        }
    });
    assert_eq!(wins, [FAIR_ROUNDS, 0]);
}

// ================================================================================================
// 8. Different message types in one select; the static `Channel` next to counted channels.
// ================================================================================================

#[derive(Debug, PartialEq)]
enum Got {
    Num(u32),
    Text(String),
    SentNum,
    SentText,
}

#[test]
fn one_select_over_different_message_types() {
    let (tx_n, rx_n) = rendez::channel::<u32>();
    let (tx_s, rx_s) = rendez::channel::<String>();
    let ws = TestWaker::new();
    let select_recv = || {
        futures::executor::block_on(async {
            rendez::select! {
                recv(rx_n) -> r => Got::Num(r.unwrap()),
                recv(rx_s) -> r => Got::Text(r.unwrap()),
            }
        })
    };

    let mut send = pin!(tx_s.send(String::from("hello")));
    assert_pending(&ws, send.as_mut(), "a String send");
    assert_eq!(select_recv(), Got::Text(String::from("hello")));
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));

    let mut send = pin!(tx_n.send(42));
    assert_pending(&ws, send.as_mut(), "a u32 send");
    assert_eq!(select_recv(), Got::Num(42));
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));

    // Send arms of both types: a String receive takes its arm; the u32 message is not delivered.
    let (got, recv) = futures::executor::block_on(async {
        futures::join!(
            async {
                rendez::select! {
                    send(tx_n, 7) -> r => { r.unwrap(); Got::SentNum },
                    send(tx_s, String::from("world")) -> r => { r.unwrap(); Got::SentText },
                }
            },
            rx_s.recv(),
        )
    });
    assert_eq!(got, Got::SentText);
    assert_eq!(recv.as_deref(), Ok("world"));
    assert_eq!(rx_n.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn static_channel_mixes_with_counted_channels_in_a_select() {
    static CH: Channel<u32> = Channel::new();
    let (tx, rx) = rendez::channel::<u32>();
    let ws = TestWaker::new();

    // Receive arms on the static channel and a counted one.
    let mut send = pin!(CH.send(1));
    assert_pending(&ws, send.as_mut(), "a send on the static channel");
    let got = futures::executor::block_on(async {
        rendez::select! {
            recv(rx) -> r => ('c', r),
            recv(&CH) -> r => ('s', r),
        }
    });
    assert_eq!(got, ('s', Ok(1)));
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));

    let mut send = pin!(tx.send(2));
    assert_pending(&ws, send.as_mut(), "a send on the counted channel");
    let ch = &CH;
    let got = rendez::select_blocking! {
        recv(ch) -> r => ('s', r),
        recv(rx) -> r => ('c', r),
    };
    assert_eq!(got, ('c', Ok(2)));
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));

    // A send arm on the static channel, a receive arm on the counted one.
    let (sent, got) = futures::executor::block_on(async {
        futures::join!(
            async {
                rendez::select! {
                    send(&CH, 3) -> r => r,
                    recv(rx) -> _r => panic!("nothing is sent on the counted channel"),
                }
            },
            CH.recv(),
        )
    });
    assert_eq!((sent, got), (Ok(()), Ok(3)));

    // The builder takes both kinds too (same message type and lock).
    let mut sel = Select::new();
    let op_static = sel.recv(&CH);
    let op_counted = sel.recv(&rx);
    let mut send = pin!(CH.send(4));
    assert_pending(&ws, send.as_mut(), "a send on the static channel");
    let (index, outcome) = sel
        .try_select()
        .expect("a send waits on the static channel");
    assert_eq!(index, op_static);
    assert!(matches!(outcome, Selected::Received(Ok(4))));
    let mut send2 = pin!(tx.send(5));
    assert_pending(&ws, send2.as_mut(), "a send on the counted channel");
    let (index, outcome) = sel.select_blocking();
    assert_eq!(index, op_counted);
    assert!(matches!(outcome, Selected::Received(Ok(5))));
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(ws.poll(send2.as_mut()), Poll::Ready(Ok(())));
}

// ================================================================================================
// 9. Cancel safety of the async select: dropped at any point, exactly one arm took effect or none.
// ================================================================================================

/// How the storm drops the select future.
#[derive(Clone, Copy, Debug)]
enum Dropper {
    /// `tokio::time::timeout` with a zero or short deadline.
    Timeout,
    /// `futures::select!` against a future that is ready now or after one yield.
    FuturesSelect,
    /// Polled once with `futures::poll!`, then dropped after 0-2 yields if pending.
    PollOnce,
}

/// What one round's select did.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Round {
    SentA,
    SentB,
    Received(u64),
    Dropped,
}

/// One drop log per message id.
struct Ledger {
    logs: Vec<Arc<DropLog>>,
}

impl Ledger {
    fn new(n: usize) -> Arc<Self> {
        Arc::new(Ledger {
            logs: (0..n).map(|_| DropLog::new()).collect(),
        })
    }
    fn msg(&self, id: usize) -> Tracked {
        Tracked::new(id, &self.logs[id])
    }
    fn dropped(&self, id: usize) -> usize {
        self.logs[id].dropped()
    }
}

/// A peer's pause between operations: 0-2 yields, and with `timed` (a runtime with timers) now
/// and then a 1 ms sleep.
async fn peer_pause(rng: &mut Rng, timed: bool) {
    if timed && rng.below(2) == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    for _ in 0..rng.below(3) {
        tokio::task::yield_now().await;
    }
}

/// Each round, a select over `send(A, 2r)`, `send(B, 2r+1)` and `recv(C)` is dropped by `dropper`
/// (unless it completes first) while a receiver task on A, one on B and a sender task on C race it
/// on a two-worker runtime. Accounts for every message exactly.
fn cancel_storm(dropper: Dropper) {
    let rounds: usize = if cfg!(miri) { 20 } else { 2000 };
    hang_guard("cancellation storm", move || {
        tokio_multi_thread_with_time().block_on(async move {
            let ledger = Ledger::new(2 * rounds);
            let (tx_a, rx_a) = rendez::channel::<Tracked>();
            let (tx_b, rx_b) = rendez::channel::<Tracked>();
            let (tx_c, rx_c) = rendez::channel::<u64>();
            // Under timeouts the peers now and then pause for about a timer tick, so that
            // deadlines (which tokio rounds up to its 1 ms tick) fire while handoffs race them.
            let timed = matches!(dropper, Dropper::Timeout);
            let receiver = |rx: Receiver<Tracked>, seed: u64| {
                tokio::spawn(async move {
                    let mut rng = Rng::new(seed);
                    let mut got = Vec::new();
                    loop {
                        peer_pause(&mut rng, timed).await;
                        match rx.recv().await {
                            Ok(m) => got.push(m),
                            Err(RecvError) => break got,
                        }
                    }
                })
            };
            let (ra, rb) = (receiver(rx_a, 1), receiver(rx_b, 2));
            let sender_c = tokio::spawn(async move {
                let mut rng = Rng::new(3);
                let mut delivered = Vec::new();
                for id in 0u64.. {
                    peer_pause(&mut rng, timed).await;
                    match tx_c.send(id).await {
                        Ok(()) => delivered.push(id),
                        Err(SendError(m)) => {
                            assert_eq!(m, id, "the failed send's own message comes back");
                            break;
                        }
                    }
                }
                delivered
            });
            let selector = {
                let ledger = ledger.clone();
                tokio::spawn(async move {
                    let mut rng = Rng::new(4);
                    let mut rounds_seen = Vec::with_capacity(rounds);
                    for r in 0..rounds {
                        // Made outside the select future, so a never-polled select drops them too.
                        let (ma, mb) = (ledger.msg(2 * r), ledger.msg(2 * r + 1));
                        let sel = async {
                            rendez::select! {
                                send(tx_a, ma) -> res => { res.expect("A is open"); Round::SentA },
                                send(tx_b, mb) -> res => { res.expect("B is open"); Round::SentB },
                                recv(rx_c) -> res => Round::Received(res.expect("C is open")),
                            }
                        };
                        let round = match dropper {
                            Dropper::Timeout => {
                                let limit = Duration::from_micros(500 * rng.below(4));
                                tokio::time::timeout(limit, sel)
                                    .await
                                    .unwrap_or(Round::Dropped)
                            }
                            Dropper::FuturesSelect => {
                                let other = if rng.below(2) == 0 {
                                    futures::future::Either::Left(std::future::ready(()))
                                } else {
                                    futures::future::Either::Right(tokio::task::yield_now())
                                };
                                futures::select! {
                                    round = sel.fuse() => round,
                                    () = other.fuse() => Round::Dropped,
                                }
                            }
                            Dropper::PollOnce => {
                                let mut sel = pin!(sel);
                                match futures::poll!(sel.as_mut()) {
                                    Poll::Ready(round) => round,
                                    Poll::Pending => {
                                        // Let the peers act on the registered arms, then drop.
                                        for _ in 0..rng.below(3) {
                                            tokio::task::yield_now().await;
                                        }
                                        Round::Dropped
                                    }
                                }
                            }
                        };
                        rounds_seen.push(round);
                    }
                    rounds_seen // dropping tx_a, tx_b and rx_c ends the peers
                })
            };
            let rounds_seen = selector.await.unwrap();
            let (got_a, got_b) = (ra.await.unwrap(), rb.await.unwrap());
            let delivered_c = sender_c.await.unwrap();

            // Who received each message (none twice, each on its own channel).
            let mut received = vec![false; 2 * rounds];
            for (got, parity) in [(&got_a, 0), (&got_b, 1)] {
                for m in got {
                    assert_eq!(
                        m.id % 2,
                        parity,
                        "message {} came out of the wrong channel",
                        m.id
                    );
                    assert!(!received[m.id], "message {} was received twice", m.id);
                    received[m.id] = true;
                }
            }
            let mut dropped_rounds = 0;
            for (r, round) in rounds_seen.iter().enumerate() {
                let (a, b) = (received[2 * r], received[2 * r + 1]);
                match round {
                    Round::SentA => assert!(a && !b, "round {r}: reported A, received {a} {b}"),
                    Round::SentB => assert!(!a && b, "round {r}: reported B, received {a} {b}"),
                    Round::Received(_) => {
                        assert!(
                            !a && !b,
                            "round {r}: reported C, but a send arm was received"
                        )
                    }
                    Round::Dropped => {
                        dropped_rounds += 1;
                        assert!(
                            !(a && b),
                            "round {r}: both send arms of one select were received"
                        )
                    }
                }
            }
            for (id, &was_received) in received.iter().enumerate() {
                assert_eq!(
                    ledger.dropped(id),
                    usize::from(!was_received),
                    "message {id}: received {was_received}, dropped {} times",
                    ledger.dropped(id)
                );
            }
            drop((got_a, got_b));
            assert!((0..2 * rounds).all(|id| ledger.dropped(id) == 1));

            // C: every delivered send was returned by exactly one select, in order.
            let selected_c: Vec<u64> = rounds_seen
                .iter()
                .filter_map(|round| match round {
                    Round::Received(id) => Some(*id),
                    _ => None,
                })
                .collect();
            assert_eq!(
                selected_c, delivered_c,
                "receive arm results vs. completed sends on C"
            );
            eprintln!("{dropper:?}: {dropped_rounds} of {rounds} selects dropped");
        })
    });
}

#[test]
#[cfg_attr(miri, ignore = "tokio timers are too slow under Miri")]
fn async_select_dropped_by_tokio_timeout_is_exactly_once() {
    cancel_storm(Dropper::Timeout);
}

#[test]
// Stacked Borrows flags tokio's own `yield_now` future inside `futures::select!` (a Unique retag of
// the self-referential async block invalidated by the macro's shared retag), not rendez code; the
// same accounting runs under Miri in the poll-once variant.
#[cfg_attr(
    miri,
    ignore = "Stacked Borrows flags tokio's yield_now inside futures::select!"
)]
fn async_select_dropped_by_futures_select_is_exactly_once() {
    cancel_storm(Dropper::FuturesSelect);
}

#[test]
fn async_select_polled_once_then_dropped_is_exactly_once() {
    cancel_storm(Dropper::PollOnce);
}

#[test]
fn dropped_waiting_select_leaves_nothing_registered() {
    let log = DropLog::new();
    let (tx1, rx1) = rendez::channel::<u32>();
    let (tx2, rx2) = rendez::channel::<u32>();
    let (tx3, rx3) = rendez::channel::<Tracked>();
    let w = TestWaker::new();
    {
        let mut sel = pin!(async {
            rendez::select! {
                recv(rx1) -> _r => 1,
                recv(rx2) -> _r => 2,
                send(tx3, Tracked::new(3, &log)) -> _r => 3,
            }
        });
        assert_pending(&w, sel.as_mut(), "a select with no peer");
        assert_pending(&w, sel.as_mut(), "a select with no peer, re-polled");
    }
    assert_eq!(
        log.dropped(),
        1,
        "the send arm's message was dropped with the select"
    );
    assert_eq!(w.wakes(), 0);
    assert_eq!(
        tx1.try_send(1),
        Err(TrySendError::Full(1)),
        "no receive left on 1"
    );
    assert_eq!(
        tx2.try_send(2),
        Err(TrySendError::Full(2)),
        "no receive left on 2"
    );
    assert_eq!(
        rx3.try_recv(),
        Err(TryRecvError::Empty),
        "no send left on 3"
    );

    // Plain operations are served FIFO as if the select never existed.
    let wr: Vec<TestWaker> = (0..2).map(|_| TestWaker::new()).collect();
    let ws = TestWaker::new();
    let mut r_first = pin!(rx1.recv());
    let mut r_second = pin!(rx1.recv());
    assert_pending(&wr[0], r_first.as_mut(), "the first receive");
    assert_pending(&wr[1], r_second.as_mut(), "the second receive");
    let mut s = pin!(tx1.send(10));
    assert_pending(&ws, s.as_mut(), "a send to async receives");
    assert_eq!(
        (wr[0].wakes(), wr[1].wakes()),
        (1, 0),
        "the first receive is notified"
    );
    assert_eq!(wr[0].poll(r_first.as_mut()), Poll::Ready(Ok(10)));
    assert_eq!(ws.poll(s.as_mut()), Poll::Ready(Ok(())));

    let mut s_p = pin!(tx3.send(Tracked::new(30, &log)));
    let mut s_q = pin!(tx3.send(Tracked::new(31, &log)));
    assert_pending(&ws, s_p.as_mut(), "the first send");
    assert_pending(&ws, s_q.as_mut(), "the second send");
    assert_eq!(rx3.try_recv().map(|m| m.id), Ok(30));
    assert_eq!(rx3.try_recv().map(|m| m.id), Ok(31));
    assert_eq!(rx3.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(log.dropped(), 3);
}

#[test]
fn select_woken_for_an_offer_then_dropped_passes_the_offer_on() {
    let (tx1, rx1) = rendez::channel::<u32>();
    let (_tx2, rx2) = rendez::channel::<u32>();
    let (w, wr, ws) = (TestWaker::new(), TestWaker::new(), TestWaker::new());
    let mut plain = pin!(rx1.recv());
    let mut s = pin!(tx1.send(5));
    {
        let mut sel = pin!(async {
            rendez::select! {
                recv(rx1) -> r => r,
                recv(rx2) -> r => r,
            }
        });
        assert_pending(&w, sel.as_mut(), "a select with no peer");
        assert_pending(&wr, plain.as_mut(), "a plain receive behind the select");
        assert_pending(&ws, s.as_mut(), "a send to async receives");
        assert_eq!(
            (w.wakes(), wr.wakes()),
            (1, 0),
            "the select, first in line, is notified"
        );
        assert_pending(&wr, plain.as_mut(), "the plain receive cannot overtake");
    } // dropped while notified, without polling
    assert_eq!(wr.wakes(), 1, "the dropped select passed its turn on");
    assert_eq!(wr.poll(plain.as_mut()), Poll::Ready(Ok(5)));
    assert_eq!(ws.poll(s.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn select_taken_by_one_peer_ignores_peers_on_its_other_arms() {
    let log = DropLog::new();
    let (tx1, rx1) = rendez::channel::<Tracked>();
    let (tx3, rx3) = rendez::channel::<Tracked>();
    let (w, wr, ws) = (TestWaker::new(), TestWaker::new(), TestWaker::new());
    let mut sel = pin!(async {
        rendez::select! {
            recv(rx1) -> r => ('r', r.ok().map(|m| m.id)),
            send(tx3, Tracked::new(3, &log)) -> r => ('s', r.ok().map(|()| 3)),
        }
    });
    assert_pending(&w, sel.as_mut(), "a select with no peer");
    // A receive takes the send arm's message: the select is decided.
    let taken = match wr.poll(pin!(rx3.recv())) {
        Poll::Ready(Ok(m)) => m,
        other => panic!("the receive takes the waiting send arm's message, got {other:?}"),
    };
    assert_eq!(taken.id, 3);
    assert!(w.is_woken());
    // A send now arriving on the select's receive arm must not be taken by it.
    let mut s = pin!(tx1.send(Tracked::new(1, &log)));
    assert_pending(&ws, s.as_mut(), "a send to a decided select");
    assert_eq!(w.poll(sel.as_mut()), Poll::Ready(('s', Some(3))));
    assert_eq!(
        rx1.try_recv().map(|m| m.id),
        Ok(1),
        "the send is still waiting"
    );
    assert_eq!(ws.poll(s.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(
        log.dropped(),
        1,
        "message 1 was dropped after try_recv; 3 is still held"
    );
    drop(taken);
    assert_eq!(log.dropped(), 2);
}

#[test]
fn select_that_took_one_offer_passes_the_other_offer_on() {
    // Two offers notify one select on both of its arms; it takes one, and the receive waiting
    // behind it on the other channel is woken for the other (no lost wake-up, no lost message).
    let (tx1, rx1) = rendez::channel::<u32>();
    let (tx2, rx2) = rendez::channel::<u32>();
    let (w, wr1, wr2, ws) = (
        TestWaker::new(),
        TestWaker::new(),
        TestWaker::new(),
        TestWaker::new(),
    );
    let mut sel = pin!(async {
        rendez::select! {
            recv(rx1) -> r => (1, r),
            recv(rx2) -> r => (2, r),
        }
    });
    assert_pending(&w, sel.as_mut(), "a select with no peer");
    let mut plain1 = pin!(rx1.recv());
    let mut plain2 = pin!(rx2.recv());
    assert_pending(
        &wr1,
        plain1.as_mut(),
        "a plain receive behind the select on 1",
    );
    assert_pending(
        &wr2,
        plain2.as_mut(),
        "a plain receive behind the select on 2",
    );
    let mut s1 = pin!(tx1.send(10));
    let mut s2 = pin!(tx2.send(20));
    assert_pending(&ws, s1.as_mut(), "a send on 1");
    assert_pending(&ws, s2.as_mut(), "a send on 2");
    let (arm, value) = match w.poll(sel.as_mut()) {
        Poll::Ready((arm, Ok(v))) => (arm, v),
        other => panic!("the notified select takes one offer, got {other:?}"),
    };
    let (other_waker, mut other_recv, other_value) = if arm == 1 {
        assert_eq!(value, 10);
        (&wr2, plain2.as_mut(), 20)
    } else {
        assert_eq!(value, 20);
        (&wr1, plain1.as_mut(), 10)
    };
    assert!(
        other_waker.is_woken(),
        "the receive behind the select on the other channel is woken"
    );
    assert_eq!(
        other_waker.poll(other_recv.as_mut()),
        Poll::Ready(Ok(other_value))
    );
    assert_eq!(ws.poll(s1.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(ws.poll(s2.as_mut()), Poll::Ready(Ok(())));
}

// ================================================================================================
// 10. Two selects facing each other: A = {send on 1, recv on 2}, B = {recv on 1, send on 2}.
// ================================================================================================

const FACING_ROUNDS: usize = if cfg!(miri) { 20 } else { 2000 };

/// What one side of a facing pair did in a round.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Side {
    Sent,
    Got(usize),
}

/// Checks that each round paired matching arms: A sent 2r on 1 and B got it, or B sent 2r+1 on 2
/// and A got it. Returns how many rounds went each way.
fn check_facing(a: &[Side], b: &[Side]) -> (usize, usize) {
    assert_eq!((a.len(), b.len()), (FACING_ROUNDS, FACING_ROUNDS));
    let mut ways = (0, 0);
    for (r, (&sa, &sb)) in a.iter().zip(b).enumerate() {
        match (sa, sb) {
            (Side::Sent, Side::Got(v)) if v == 2 * r => ways.0 += 1,
            (Side::Got(v), Side::Sent) if v == 2 * r + 1 => ways.1 += 1,
            other => panic!("round {r}: the two selects disagree: {other:?}"),
        }
    }
    ways
}

#[test]
fn facing_async_selects_on_tokio_multi_thread_agree() {
    hang_guard("facing selects (select!, tokio)", || {
        tokio_multi_thread().block_on(async {
            let (tx1, rx1) = rendez::channel::<usize>();
            let (tx2, rx2) = rendez::channel::<usize>();
            let a = tokio::spawn(async move {
                let mut sides = Vec::with_capacity(FACING_ROUNDS);
                for r in 0..FACING_ROUNDS {
                    sides.push(rendez::select! {
                        send(tx1, 2 * r) -> res => { res.unwrap(); Side::Sent },
                        recv(rx2) -> v => Side::Got(v.unwrap()),
                    });
                }
                sides
            });
            let b = tokio::spawn(async move {
                let mut sides = Vec::with_capacity(FACING_ROUNDS);
                for r in 0..FACING_ROUNDS {
                    sides.push(rendez::select! {
                        recv(rx1) -> v => Side::Got(v.unwrap()),
                        send(tx2, 2 * r + 1) -> res => { res.unwrap(); Side::Sent },
                    });
                }
                sides
            });
            let (a, b) = (a.await.unwrap(), b.await.unwrap());
            let ways = check_facing(&a, &b);
            eprintln!("facing async selects: {ways:?} rounds over channels (1, 2)");
        })
    });
}

#[test]
fn facing_blocking_selects_on_threads_agree() {
    hang_guard("facing selects (select_blocking!, threads)", || {
        let (tx1, rx1) = rendez::channel::<usize>();
        let (tx2, rx2) = rendez::channel::<usize>();
        let a = thread::spawn(move || {
            (0..FACING_ROUNDS)
                .map(|r| {
                    rendez::select_blocking! {
                        send(tx1, 2 * r) -> res => { res.unwrap(); Side::Sent },
                        recv(rx2) -> v => Side::Got(v.unwrap()),
                    }
                })
                .collect::<Vec<_>>()
        });
        let b = thread::spawn(move || {
            (0..FACING_ROUNDS)
                .map(|r| {
                    rendez::select_blocking! {
                        recv(rx1) -> v => Side::Got(v.unwrap()),
                        send(tx2, 2 * r + 1) -> res => { res.unwrap(); Side::Sent },
                    }
                })
                .collect::<Vec<_>>()
        });
        let (a, b) = (a.join().unwrap(), b.join().unwrap());
        let ways = check_facing(&a, &b);
        eprintln!("facing blocking selects: {ways:?} rounds over channels (1, 2)");
    });
}

#[test]
fn facing_async_select_and_blocking_select_agree() {
    hang_guard("facing selects (select! against select_blocking!)", || {
        let (tx1, rx1) = rendez::channel::<usize>();
        let (tx2, rx2) = rendez::channel::<usize>();
        let b = thread::spawn(move || {
            (0..FACING_ROUNDS)
                .map(|r| {
                    rendez::select_blocking! {
                        recv(rx1) -> v => Side::Got(v.unwrap()),
                        send(tx2, 2 * r + 1) -> res => { res.unwrap(); Side::Sent },
                    }
                })
                .collect::<Vec<_>>()
        });
        let a = futures::executor::block_on(async {
            let mut sides = Vec::with_capacity(FACING_ROUNDS);
            for r in 0..FACING_ROUNDS {
                sides.push(rendez::select! {
                    send(tx1, 2 * r) -> res => { res.unwrap(); Side::Sent },
                    recv(rx2) -> v => Side::Got(v.unwrap()),
                });
            }
            sides
        });
        let b = b.join().unwrap();
        check_facing(&a, &b);
    });
}

// ================================================================================================
// 11. The `Select` builder.
// ================================================================================================

#[test]
fn builder_over_eight_receivers_reports_the_right_index_and_value() {
    let rounds: usize = if cfg!(miri) { 30 } else { 1000 };
    hang_guard("builder over eight receivers", move || {
        let (txs, rxs): (Vec<_>, Vec<_>) =
            (0..8).map(|_| rendez::channel::<(usize, usize)>()).unzip();
        let sender = thread::spawn(move || {
            let mut rng = Rng::new(8);
            let mut picks = Vec::with_capacity(rounds);
            for round in 0..rounds {
                let k = rng.below(8) as usize;
                txs[k].send_blocking((k, round)).unwrap();
                picks.push(k);
            }
            picks
        });
        let mut sel = Select::new();
        let ops: Vec<usize> = rxs.iter().map(|rx| sel.recv(rx)).collect();
        assert_eq!(sel.len(), 8);
        let mut distinct = ops.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 8, "each op has its own index: {ops:?}");
        let mut seen = Vec::with_capacity(rounds);
        for round in 0..rounds {
            // One builder, reused: blocking, async and timed selects in turn.
            let (index, outcome) = match round % 3 {
                0 => sel.select_blocking(),
                1 => futures::executor::block_on(sel.select()),
                _ => sel.select_timeout(WATCHDOG).expect("the sender sends"),
            };
            let Selected::Received(Ok((k, r))) = outcome else {
                panic!("round {round}: expected a message, got {outcome:?}");
            };
            assert_eq!(r, round, "messages come in order");
            assert_eq!(
                index, ops[k],
                "round {round}: the index of the channel sent on"
            );
            seen.push(k);
        }
        assert_eq!(seen, join(sender));
    });
}

#[test]
fn builder_take_unsent_returns_the_message_of_an_unselected_send() {
    let log = DropLog::new();
    let (tx_a, rx_a) = rendez::channel::<Tracked>();
    let (tx_b, rx_b) = rendez::channel::<Tracked>();
    let ws = TestWaker::new();
    let mut sel = Select::new();
    let op_a = sel.send(&tx_a, Tracked::new(1, &log));
    let op_b = sel.recv(&rx_b);
    assert_eq!(sel.len(), 2);
    let mut s = pin!(tx_b.send(Tracked::new(2, &log)));
    assert_pending(&ws, s.as_mut(), "a send on B");
    let (index, outcome) = sel.try_select().expect("a send waits on B");
    assert_eq!(index, op_b);
    match outcome {
        Selected::Received(Ok(m)) => assert_eq!(m.id, 2),
        other => panic!("expected message 2, got {other:?}"),
    }
    assert_eq!(ws.poll(s.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(log.dropped(), 1, "message 2, received and dropped");
    assert_eq!(
        rx_a.try_recv(),
        Err(TryRecvError::Empty),
        "the unselected send left no trace"
    );
    let m = sel
        .take_unsent(op_a)
        .expect("the unselected send op still holds its message");
    assert_eq!(m.id, 1);
    assert_eq!(log.dropped(), 1, "taken back, not dropped");
    assert!(sel.take_unsent(op_a).is_none(), "taken once");
    drop(m);
    // The receive op re-armed itself; the disarmed send op is skipped.
    let mut s = pin!(tx_b.send(Tracked::new(3, &log)));
    assert_pending(&ws, s.as_mut(), "a send on B");
    let (index, outcome) = sel.try_select().expect("a send waits on B");
    assert_eq!(index, op_b);
    assert!(matches!(outcome, Selected::Received(Ok(ref m)) if m.id == 3));
    drop(outcome);
    assert_eq!(ws.poll(s.as_mut()), Poll::Ready(Ok(())));
    drop(sel);
    assert_eq!(log.dropped(), 3);
}

#[test]
fn builder_unselected_send_keeps_its_message_for_the_next_select() {
    static A: Channel<u32> = Channel::new();
    let (tx_b, rx_b) = rendez::channel::<u32>();
    let ws = TestWaker::new();
    let mut sel = Select::new();
    let op_a = sel.send(&A, 1);
    let op_b = sel.recv(&rx_b);
    let mut s = pin!(tx_b.send(2));
    assert_pending(&ws, s.as_mut(), "a send on B");
    let (index, outcome) = sel.select_blocking();
    assert_eq!(index, op_b);
    assert!(matches!(outcome, Selected::Received(Ok(2))));
    assert_eq!(A.try_recv(), Err(TryRecvError::Empty));
    // Now a receiver comes to A: the same op sends the same message.
    let t = thread::spawn(|| A.recv_blocking());
    let (index, outcome) = sel.select_blocking();
    assert_eq!(index, op_a);
    assert!(matches!(outcome, Selected::Sent(Ok(()))));
    assert_eq!(join(t), Ok(1));
    assert_eq!(sel.take_unsent(op_a), None, "the selected send op is spent");
}

#[test]
fn builder_selected_send_op_is_spent() {
    static A: Channel<u32> = Channel::new();
    let (tx_b, rx_b) = rendez::channel::<u32>();
    let mut sel = Select::new();
    let op_a = sel.send(&A, 1);
    let op_b = sel.recv(&rx_b);
    let t = thread::spawn(|| A.recv_blocking());
    let (index, outcome) = sel.select_blocking();
    assert_eq!(index, op_a);
    assert!(matches!(outcome, Selected::Sent(Ok(()))));
    assert_eq!(join(t), Ok(1));
    assert_eq!(sel.take_unsent(op_a), None);

    // A receiver waits on A again, but the spent op is skipped: only B can be selected.
    let t = thread::spawn(|| A.recv_blocking());
    wait_until("a receiver waits on A", || {
        waiting(&A, "waiting_receivers") == 1
    });
    assert!(
        sel.try_select().is_none(),
        "nothing but the spent op is ready"
    );
    let ws = TestWaker::new();
    let mut s = pin!(tx_b.send(2));
    assert_pending(&ws, s.as_mut(), "a send on B");
    let (index, outcome) = sel.select_blocking();
    assert_eq!(index, op_b);
    assert!(matches!(outcome, Selected::Received(Ok(2))));
    assert_eq!(
        waiting(&A, "waiting_receivers"),
        1,
        "the receiver on A still waits"
    );
    assert!(A.close());
    assert_eq!(join(t), Err(RecvError), "it got nothing from the spent op");
}

#[test]
fn builder_try_select_returns_none_when_nothing_is_ready() {
    let (tx_a, rx_a) = rendez::channel::<u32>();
    let (tx_b, rx_b) = rendez::channel::<u32>();
    let mut sel = Select::new();
    let op_a = sel.send(&tx_a, 1);
    let _op_b = sel.recv(&rx_b);
    assert!(sel.try_select().is_none());
    assert!(sel.try_select().is_none());
    assert_eq!(
        rx_a.try_recv(),
        Err(TryRecvError::Empty),
        "no send left waiting on A"
    );
    assert_eq!(
        tx_b.try_send(2),
        Err(TrySendError::Full(2)),
        "no receive left on B"
    );
    assert_eq!(
        sel.take_unsent(op_a),
        Some(1),
        "the send op kept its message"
    );
}

#[test]
fn builder_select_timeout_returns_none_on_timeout_and_stays_usable() {
    static CH: Channel<u32> = Channel::new();
    let (tx, rx) = rendez::channel::<u32>();
    let mut sel = Select::new();
    let op_static = sel.recv(&CH);
    let op_send = sel.send(&tx, 5);
    let timeout = Duration::from_millis(20);
    let start = Instant::now();
    assert!(sel.select_timeout(timeout).is_none());
    let elapsed = start.elapsed();
    assert!(elapsed >= timeout, "returned after {elapsed:?}");
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "the timed-out send left nothing"
    );
    assert_eq!(
        waiting(&CH, "waiting_receivers"),
        0,
        "the timed-out receive left nothing"
    );

    let start = Instant::now();
    let deadline = start + timeout;
    assert!(sel.select_deadline(deadline).is_none());
    assert!(Instant::now() >= deadline);

    // A peer before the timeout.
    let peer = thread::spawn(|| {
        wait_until("the select waits on CH", || {
            waiting(&CH, "waiting_receivers") == 1
        });
        CH.send_blocking(9)
    });
    let (index, outcome) = sel
        .select_timeout(WATCHDOG)
        .expect("the peer sends in time");
    assert_eq!(index, op_static);
    assert!(matches!(outcome, Selected::Received(Ok(9))));
    assert_eq!(join(peer), Ok(()));
    assert_eq!(sel.take_unsent(op_send), Some(5));
}

#[test]
#[should_panic(expected = "rendez: select")]
fn builder_empty_select_blocking_panics() {
    let mut sel: Select<'_, u32> = Select::new();
    assert_eq!(sel.len(), 0);
    let _ = sel.select_blocking();
}

#[test]
#[should_panic(expected = "rendez: select")]
fn builder_empty_async_select_panics() {
    let mut sel: Select<'_, u32> = Select::new();
    let _ = futures::executor::block_on(sel.select());
}

#[test]
#[should_panic(expected = "rendez: select")]
fn builder_select_with_only_a_disarmed_send_op_panics() {
    let (tx, _rx) = rendez::channel::<u32>();
    let mut sel = Select::new();
    let op = sel.send(&tx, 1);
    assert_eq!(sel.take_unsent(op), Some(1));
    let _ = sel.select_timeout(Duration::from_millis(1));
}

// ================================================================================================
// 12. `SendFut::cancel`.
// ================================================================================================

#[test]
fn send_cancel_returns_the_message_when_no_receive_took_it() {
    let (tx, rx) = rendez::channel::<u32>();
    tokio_current_thread().block_on(async {
        let mut send = pin!(tx.send(5));
        tokio::select! {
            biased;
            r = &mut send => panic!("nobody receives: {r:?}"),
            () = std::future::ready(()) => {}
        }
        assert_eq!(send.as_mut().cancel(), Some(5));
    });
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "the cancelled send left nothing"
    );
    let wr = TestWaker::new();
    assert_pending(&wr, pin!(rx.recv()), "a receive after the cancel");
}

#[test]
fn send_cancel_returns_none_when_a_receive_took_the_message() {
    let (tx, rx) = rendez::channel::<u32>();
    tokio_current_thread().block_on(async {
        let mut send = pin!(tx.send(6));
        tokio::select! {
            biased;
            r = &mut send => panic!("the send is polled first, before any receive: {r:?}"),
            r = rx.recv() => assert_eq!(r, Ok(6)),
        }
        assert_eq!(send.as_mut().cancel(), None, "delivered");
    });
}

#[test]
fn send_cancel_after_a_receive_was_notified_keeps_the_message_from_it() {
    let (tx, rx) = rendez::channel::<u32>();
    let wr = TestWaker::new();
    let mut recv = pin!(rx.recv());
    assert_pending(&wr, recv.as_mut(), "a receive with no send");
    tokio_current_thread().block_on(async {
        let mut send = pin!(tx.send(7));
        tokio::select! {
            biased;
            r = &mut send => panic!("the receive has not polled: {r:?}"),
            () = std::future::ready(()) => {}
        }
        assert!(wr.is_woken(), "the receive was notified of the offer");
        assert_eq!(
            send.as_mut().cancel(),
            Some(7),
            "not taken yet: the message comes back"
        );
    });
    assert_pending(&wr, recv.as_mut(), "the notified receive after the cancel");
    let ws = TestWaker::new();
    let mut send = pin!(tx.send(8));
    assert_pending(&ws, send.as_mut(), "the next send");
    assert_eq!(
        wr.poll(recv.as_mut()),
        Poll::Ready(Ok(8)),
        "it gets the next message"
    );
    assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
}

// ================================================================================================
// 13. Other executors, and a newcomer's program.
// ================================================================================================

/// A selector over two channels fed by two producers of `n` values each (`0..n` on A,
/// `1000..1000+n` on B): it selects until one channel closes, then drains the other with plain
/// receives (a closed arm is always ready, so selecting on it again would spin without yielding).
/// Returns what it got from each, in order.
async fn select_until_both_close(rx_a: Receiver<u32>, rx_b: Receiver<u32>) -> (Vec<u32>, Vec<u32>) {
    let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
    loop {
        let closed = rendez::select! {
            recv(rx_a) -> r => match r {
                Ok(v) => { got_a.push(v); None },
                Err(RecvError) => Some('a'),
            },
            recv(rx_b) -> r => match r {
                Ok(v) => { got_b.push(v); None },
                Err(RecvError) => Some('b'),
            },
        };
        match closed {
            None => {}
            Some('a') => {
                while let Ok(v) = rx_b.recv().await {
                    got_b.push(v);
                }
                break;
            }
            Some(_) => {
                while let Ok(v) = rx_a.recv().await {
                    got_a.push(v);
                }
                break;
            }
        }
    }
    (got_a, got_b)
}

/// Checks the outcome of [`select_until_both_close`].
fn assert_both_streams((got_a, got_b): (Vec<u32>, Vec<u32>), n: u32) {
    assert_eq!(got_a, (0..n).collect::<Vec<_>>());
    assert_eq!(got_b, (1000..1000 + n).collect::<Vec<_>>());
}

async fn produce(tx: Sender<u32>, values: std::ops::Range<u32>) {
    for v in values {
        tx.send(v).await.unwrap();
    }
}

const EXEC_N: u32 = if cfg!(miri) { 10 } else { 200 };

#[test]
#[cfg_attr(
    miri,
    ignore = "async-std's reactor calls timerfd_create, which Miri does not support"
)]
fn select_on_async_std() {
    hang_guard("select on async-std", || {
        async_std::task::block_on(async {
            let (tx_a, rx_a) = rendez::channel::<u32>();
            let (tx_b, rx_b) = rendez::channel::<u32>();
            let pa = async_std::task::spawn(produce(tx_a, 0..EXEC_N));
            let pb = async_std::task::spawn(produce(tx_b, 1000..1000 + EXEC_N));
            let got = async_std::task::spawn(select_until_both_close(rx_a, rx_b)).await;
            pa.await;
            pb.await;
            assert_both_streams(got, EXEC_N);
        })
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "smol's reactor needs epoll, which Miri does not fully emulate"
)]
fn select_on_smol() {
    hang_guard("select on smol", || {
        smol::block_on(async {
            let (tx_a, rx_a) = rendez::channel::<u32>();
            let (tx_b, rx_b) = rendez::channel::<u32>();
            let pa = smol::spawn(produce(tx_a, 0..EXEC_N));
            let pb = smol::spawn(produce(tx_b, 1000..1000 + EXEC_N));
            let got = select_until_both_close(rx_a, rx_b).await;
            pa.await;
            pb.await;
            assert_both_streams(got, EXEC_N);
        })
    });
}

#[test]
fn select_on_futures_local_pool() {
    hang_guard("select on LocalPool", select_on_local_pool);
}

fn select_on_local_pool() {
    use futures::task::LocalSpawnExt;
    let mut pool = futures::executor::LocalPool::new();
    let spawner = pool.spawner();
    let (tx_a, rx_a) = rendez::channel::<u32>();
    let (tx_b, rx_b) = rendez::channel::<u32>();
    let got = Arc::new(std::sync::Mutex::new(None));
    spawner.spawn_local(produce(tx_a, 0..EXEC_N)).unwrap();
    spawner
        .spawn_local({
            let got = got.clone();
            async move {
                *got.lock().unwrap() = Some(select_until_both_close(rx_a, rx_b).await);
            }
        })
        .unwrap();
    spawner
        .spawn_local(produce(tx_b, 1000..1000 + EXEC_N))
        .unwrap();
    pool.run();
    let got = got.lock().unwrap().take().expect("the selector finished");
    assert_both_streams(got, EXEC_N);
}

#[test]
fn select_on_futures_block_on() {
    hang_guard("select on block_on", || {
        let (tx_a, rx_a) = rendez::channel::<u32>();
        let (tx_b, rx_b) = rendez::channel::<u32>();
        let (got, (), ()) = futures::executor::block_on(async {
            futures::join!(
                select_until_both_close(rx_a, rx_b),
                produce(tx_a, 0..EXEC_N),
                produce(tx_b, 1000..1000 + EXEC_N),
            )
        });
        assert_both_streams(got, EXEC_N);
    });
}

#[test]
fn newcomer_worker_loop_selects_jobs_until_shutdown() {
    // What a user writes first: a worker task serving jobs until told to stop.
    hang_guard("the newcomer's worker loop", || {
        tokio_multi_thread().block_on(async {
            let (jobs_tx, jobs_rx) = rendez::channel::<u32>();
            let (stop_tx, stop_rx) = rendez::channel::<()>();
            let worker = tokio::spawn(async move {
                let mut done = Vec::new();
                loop {
                    rendez::select! {
                        recv(jobs_rx) -> job => match job {
                            Ok(job) => done.push(job * 10),
                            Err(_) => break,
                        },
                        recv(stop_rx) -> _ => break,
                    }
                }
                done
            });
            for job in 0..10 {
                // Returns once the worker has taken the job.
                jobs_tx.send(job).await.unwrap();
            }
            stop_tx.send(()).await.unwrap();
            let done = worker.await.unwrap();
            assert_eq!(done, (0..10).map(|j| j * 10).collect::<Vec<_>>());
            // The worker is gone: its receivers were dropped with it.
            assert!(jobs_tx.send(99).await.is_err());
        })
    });
}

#[test]
fn select_bodies_can_continue_and_return_from_the_enclosing_code() {
    /// Sums the jobs, skipping odd ones with `continue`, and returns early on `u32::MAX`.
    async fn sum_even(jobs: Receiver<u32>) -> Result<u32, &'static str> {
        let mut sum = 0;
        loop {
            rendez::select! {
                recv(jobs) -> job => {
                    let job = job.map_err(|_| "closed")?;
                    if job == u32::MAX {
                        return Ok(sum);
                    }
                    if job % 2 == 1 {
                        continue;
                    }
                    sum += job;
                },
            }
        }
    }
    let (tx, rx) = rendez::channel::<u32>();
    let (tx2, rx2) = rendez::channel::<u32>();
    let (sum, (), (sum2, ())) = futures::executor::block_on(async {
        futures::join!(
            sum_even(rx),
            async {
                for v in [1, 2, 3, 4, u32::MAX] {
                    tx.send(v).await.unwrap();
                }
            },
            async {
                // `?` on a closed channel.
                let r = sum_even(rx2);
                drop(tx2);
                (r.await, ())
            },
        )
    });
    assert_eq!(sum, Ok(6));
    assert_eq!(sum2, Err("closed"));
}

// ================================================================================================
// 14. Rule 2 for select arms: they queue FIFO with plain operations.
// ================================================================================================

#[test]
fn select_recv_arm_registered_first_is_served_before_a_later_plain_recv() {
    let (tx, rx) = rendez::channel::<u32>();
    let (_tx_idle, rx_idle) = rendez::channel::<u32>();
    let (w, wr, ws) = (TestWaker::new(), TestWaker::new(), TestWaker::new());
    let mut sel = pin!(async {
        rendez::select! {
            recv(rx_idle) -> r => ('i', r),
            recv(rx) -> r => ('r', r),
        }
    });
    assert_pending(&w, sel.as_mut(), "the select, first in line");
    let mut plain = pin!(rx.recv());
    assert_pending(&wr, plain.as_mut(), "the plain receive, second");
    let mut s = pin!(tx.send(1));
    assert_pending(&ws, s.as_mut(), "the send to async receives");
    assert_eq!(
        (w.wakes(), wr.wakes()),
        (1, 0),
        "the select is notified, not the plain recv"
    );
    assert_pending(
        &wr,
        plain.as_mut(),
        "the later plain receive cannot overtake",
    );
    assert_eq!(w.poll(sel.as_mut()), Poll::Ready(('r', Ok(1))));
    assert_eq!(ws.poll(s.as_mut()), Poll::Ready(Ok(())));
    let mut s = pin!(tx.send(2));
    assert_pending(&ws, s.as_mut(), "the second send");
    assert_eq!(wr.poll(plain.as_mut()), Poll::Ready(Ok(2)));
    assert_eq!(ws.poll(s.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn plain_recv_registered_first_is_served_before_a_later_select_recv_arm() {
    let (tx, rx) = rendez::channel::<u32>();
    let (_tx_idle, rx_idle) = rendez::channel::<u32>();
    let (w, wr, ws) = (TestWaker::new(), TestWaker::new(), TestWaker::new());
    let mut plain = pin!(rx.recv());
    assert_pending(&wr, plain.as_mut(), "the plain receive, first in line");
    let mut sel = pin!(async {
        rendez::select! {
            recv(rx) -> r => ('r', r),
            recv(rx_idle) -> r => ('i', r),
        }
    });
    assert_pending(&w, sel.as_mut(), "the select, second");
    let mut s = pin!(tx.send(1));
    assert_pending(&ws, s.as_mut(), "the send to async receives");
    assert_eq!(
        (wr.wakes(), w.wakes()),
        (1, 0),
        "the plain receive is notified"
    );
    assert_pending(&w, sel.as_mut(), "the later select cannot overtake");
    assert_eq!(wr.poll(plain.as_mut()), Poll::Ready(Ok(1)));
    let mut s2 = pin!(tx.send(2));
    assert_pending(&ws, s2.as_mut(), "the second send");
    assert_eq!(w.poll(sel.as_mut()), Poll::Ready(('r', Ok(2))));
    assert_eq!(ws.poll(s.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(ws.poll(s2.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn select_send_arm_queued_first_is_taken_before_a_later_plain_send() {
    let (tx, rx) = rendez::channel::<u32>();
    let (_tx_idle, rx_idle) = rendez::channel::<u32>();
    let (w, ws) = (TestWaker::new(), TestWaker::new());
    let mut sel = pin!(async {
        rendez::select! {
            recv(rx_idle) -> _r => 'i',
            send(tx, 1) -> r => { r.unwrap(); 's' },
        }
    });
    assert_pending(&w, sel.as_mut(), "the select's send, first in line");
    let mut plain = pin!(tx.send(2));
    assert_pending(&ws, plain.as_mut(), "the plain send, second");
    assert_eq!(rx.try_recv(), Ok(1), "the select's message comes first");
    assert!(w.is_woken());
    assert_eq!(w.poll(sel.as_mut()), Poll::Ready('s'));
    assert_eq!(ws.wakes(), 0, "the plain send is still waiting");
    let wr = TestWaker::new();
    assert_eq!(wr.poll(pin!(rx.recv())), Poll::Ready(Ok(2)));
    assert_eq!(ws.poll(plain.as_mut()), Poll::Ready(Ok(())));
}

#[test]
fn plain_send_queued_first_is_taken_before_a_later_select_send_arm() {
    let (tx, rx) = rendez::channel::<u32>();
    let (_tx_idle, rx_idle) = rendez::channel::<u32>();
    let (w, ws) = (TestWaker::new(), TestWaker::new());
    let mut plain = pin!(tx.send(1));
    assert_pending(&ws, plain.as_mut(), "the plain send, first in line");
    let mut sel = pin!(async {
        rendez::select! {
            send(tx, 2) -> r => { r.unwrap(); 's' },
            recv(rx_idle) -> _r => 'i',
        }
    });
    assert_pending(&w, sel.as_mut(), "the select's send, second");
    let wr = TestWaker::new();
    assert_eq!(
        wr.poll(pin!(rx.recv())),
        Poll::Ready(Ok(1)),
        "the plain send comes first"
    );
    assert_eq!(ws.poll(plain.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(w.wakes(), 0, "the select is still waiting");
    assert_eq!(wr.poll(pin!(rx.recv())), Poll::Ready(Ok(2)));
    assert_eq!(w.poll(sel.as_mut()), Poll::Ready('s'));
}

#[test]
fn blocking_select_arms_queue_fifo_with_blocked_threads() {
    static CH: Channel<u32> = Channel::new();
    static IDLE: Channel<u32> = Channel::new();
    hang_guard("FIFO between a blocked select and a blocked recv", || {
        let (report_tx, reports) = mpsc::channel::<(&str, u32)>();
        // Receives: the select first, then a plain recv_blocking.
        let sel = {
            let report_tx = report_tx.clone();
            thread::spawn(move || {
                let v = rendez::select_blocking! {
                    recv(&IDLE) -> _r => panic!("nothing is sent on IDLE"),
                    recv(&CH) -> r => r.unwrap(),
                };
                report_tx.send(("select", v)).unwrap();
            })
        };
        wait_until("the select waits on CH", || {
            waiting(&CH, "waiting_receivers") == 1
        });
        let plain = thread::spawn(move || {
            let v = CH.recv_blocking().unwrap();
            report_tx.send(("plain", v)).unwrap();
        });
        wait_until("the plain recv waits behind it", || {
            waiting(&CH, "waiting_receivers") == 2
        });
        CH.send_blocking(1).unwrap();
        assert_eq!(reports.recv_timeout(WATCHDOG), Ok(("select", 1)));
        CH.send_blocking(2).unwrap();
        assert_eq!(reports.recv_timeout(WATCHDOG), Ok(("plain", 2)));
        join(sel);
        join(plain);
        assert_eq!(
            waiting(&IDLE, "waiting_receivers"),
            0,
            "the select left IDLE"
        );

        // Sends: the select's send arm first, then a plain send_blocking.
        let sel = thread::spawn(|| {
            rendez::select_blocking! {
                send(&CH, 10) -> r => r.unwrap(),
                recv(&IDLE) -> _r => panic!("nothing is sent on IDLE"),
            }
        });
        wait_until("the select's send waits on CH", || {
            waiting(&CH, "waiting_senders") == 1
        });
        let plain = thread::spawn(|| CH.send_blocking(20));
        wait_until("the plain send waits behind it", || {
            waiting(&CH, "waiting_senders") == 2
        });
        assert_eq!(CH.recv_blocking(), Ok(10));
        assert_eq!(CH.recv_blocking(), Ok(20));
        join(sel);
        assert_eq!(join(plain), Ok(()));
    });
}
