//! Exactly-once delivery under real executors (CONTRACT rules 2, 3, 4 and 8).
//!
//! Every test runs the same workload and hands its outcome to one checker, [`check`]: `P`
//! producers each send their own range of ids, `C` consumers receive until the channel closes
//! (the last `Sender` is dropped) and return what they got, in order. The checker asserts that
//!
//! - every send returned `Ok(())` (all receivers stay alive until the channel closes),
//! - the union of what the consumers got is exactly every id: none lost, none duplicated,
//! - within any one consumer's list, the ids of one producer are increasing (a producer's sends
//!   are sequential and waiting sends are served FIFO, so nothing can be received out of order).
//!
//! Only the places the parties run on change: tokio (multi-thread and current-thread), async-std,
//! smol, plain threads with the blocking calls, `futures`' `LocalPool`, and mixes of them. Each runs
//! SPSC (1x1) and MPMC (4x4), with `common::scaled(2_000)` messages per producer; some consumers
//! use the `Stream` interface. Two more runs add cancellation: consumers whose `recv` loses a
//! `tokio::select!` race, and threads that retry `send_timeout` / `recv_timeout`.
//!
//! Under Miri the loops shrink (see `common::scaled`); the async-std and smol runs are skipped
//! there, since their reactors need system calls (`timerfd_create`, epoll) Miri does not emulate.
#![cfg(feature = "std")]

mod common;

use std::ops::Range;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use futures::executor::LocalPool;
use futures::task::LocalSpawnExt;
use futures::StreamExt;
use rendez::{Receiver, RecvTimeoutError, SendTimeoutError, Sender};

// === the workload ===

/// How many parties take part, and how many messages each producer sends.
#[derive(Clone, Copy, Debug)]
struct Plan {
    /// Producers; producer `p` sends ids `p * per .. (p + 1) * per`, in order.
    producers: usize,
    /// Consumers; each receives until the channel closes.
    consumers: usize,
    /// Messages per producer.
    per: usize,
}

impl Plan {
    /// One producer, one consumer.
    fn spsc() -> Self {
        Plan {
            producers: 1,
            consumers: 1,
            per: common::scaled(2_000),
        }
    }

    /// Four producers, four consumers.
    fn mpmc() -> Self {
        Plan {
            producers: 4,
            consumers: 4,
            per: common::scaled(2_000),
        }
    }

    /// Every id sent in the run.
    fn total(&self) -> usize {
        self.producers * self.per
    }

    /// The ids producer `p` sends, in the order it sends them.
    fn ids(&self, p: usize) -> Range<usize> {
        p * self.per..(p + 1) * self.per
    }
}

/// What a run produced: per producer, how many sends returned `Ok`; per consumer, what it got.
#[derive(Debug)]
struct Outcome {
    /// `sent[p]`: how many of producer `p`'s sends returned `Ok(())`.
    sent: Vec<usize>,
    /// `got[c]`: the ids consumer `c` received, in the order it received them.
    got: Vec<Vec<usize>>,
}

/// The checker shared by every test: exactly once, nothing foreign, per-producer order kept.
fn check(plan: Plan, outcome: Outcome) {
    let Outcome { sent, got } = outcome;
    assert_eq!(sent.len(), plan.producers, "one result per producer");
    for (p, &n) in sent.iter().enumerate() {
        assert_eq!(
            n, plan.per,
            "producer {p}: only {n} of {} sends returned Ok",
            plan.per
        );
    }
    assert_eq!(got.len(), plan.consumers, "one result per consumer");

    // Which consumer received each id, if any.
    let mut receiver_of: Vec<Option<usize>> = vec![None; plan.total()];
    for (c, seq) in got.iter().enumerate() {
        // The last id this consumer got from each producer.
        let mut last: Vec<Option<usize>> = vec![None; plan.producers];
        for (i, &id) in seq.iter().enumerate() {
            assert!(
                id < plan.total(),
                "consumer {c} received {id}, which no producer sent"
            );
            if let Some(first) = receiver_of[id] {
                panic!("id {id} was received twice: by consumer {first} and by consumer {c}");
            }
            receiver_of[id] = Some(c);
            let p = id / plan.per;
            if let Some(prev) = last[p] {
                assert!(
                    prev < id,
                    "consumer {c}: producer {p}'s id {id} (position {i}) came after its id {prev}"
                );
            }
            last[p] = Some(id);
        }
    }
    let missing: Vec<usize> = (0..plan.total())
        .filter(|&id| receiver_of[id].is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} ids were never received; the first: {:?}",
        missing.len(),
        plan.total(),
        &missing[..missing.len().min(10)]
    );
}

/// Runs `run` and checks its outcome; outside Miri, a run that makes no progress for a minute
/// (a deadlock or a lost wake-up) fails the test instead of hanging it.
fn exactly_once(plan: Plan, run: impl FnOnce(Plan) -> Outcome + Send + 'static) {
    if cfg!(miri) {
        // Miri reports a deadlock itself, and it is too slow for a wall-clock limit.
        return check(plan, run(plan));
    }
    let limit = Duration::from_secs(60 * common::scaled(1) as u64);
    let (done_tx, done_rx) = mpsc::channel();
    let runner = thread::spawn(move || {
        let outcome = run(plan);
        let _ = done_tx.send(());
        outcome
    });
    match done_rx.recv_timeout(limit) {
        // Finished, or panicked (the sender was dropped): `join` returns or re-raises the panic.
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match runner.join() {
            Ok(outcome) => check(plan, outcome),
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{plan:?}: not finished after {limit:?}: a deadlock or a lost wake-up")
        }
    }
}

// === the parties ===

/// How an async consumer receives.
#[derive(Clone, Copy, Debug)]
enum Style {
    /// `rx.recv().await` until it returns `Err(RecvError)`.
    Recv,
    /// `rx.next().await` (the `Stream` interface) until it returns `None`.
    Stream,
}

/// An async producer: sends its ids in order, stops at the first error. Returns how many were sent.
async fn produce(tx: Sender<usize>, ids: Range<usize>) -> usize {
    let mut sent = 0;
    for id in ids {
        if tx.send(id).await.is_err() {
            break;
        }
        sent += 1;
    }
    sent
}

/// A producer on a plain thread, with `send_blocking`.
fn produce_blocking(tx: Sender<usize>, ids: Range<usize>) -> usize {
    let mut sent = 0;
    for id in ids {
        if tx.send_blocking(id).is_err() {
            break;
        }
        sent += 1;
    }
    sent
}

/// An async consumer: receives until the channel is closed.
async fn consume(mut rx: Receiver<usize>, style: Style) -> Vec<usize> {
    let mut got = Vec::new();
    match style {
        Style::Recv => {
            while let Ok(id) = rx.recv().await {
                got.push(id);
            }
        }
        Style::Stream => {
            while let Some(id) = rx.next().await {
                got.push(id);
            }
            assert!(futures::stream::FusedStream::is_terminated(&rx));
            assert_eq!(rx.next().await, None, "a finished stream stays finished");
        }
    }
    assert!(rx.is_closed(), "the loop ended, so the channel is closed");
    got
}

/// A consumer on a plain thread, with `recv_blocking`.
fn consume_blocking(rx: Receiver<usize>) -> Vec<usize> {
    let mut got = Vec::new();
    while let Ok(id) = rx.recv_blocking() {
        got.push(id);
    }
    got
}

/// A tokio multi-thread runtime with two workers.
fn tokio_multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A tokio current-thread runtime.
fn tokio_current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

// === the runs, one per kind of executor ===

/// Every party is a task on `rt` (producers spawned first).
fn run_tokio(rt: tokio::runtime::Runtime, plan: Plan, style: Style) -> Outcome {
    rt.block_on(async {
        let (tx, rx) = rendez::channel();
        let producers: Vec<_> = (0..plan.producers)
            .map(|p| tokio::spawn(produce(tx.clone(), plan.ids(p))))
            .collect();
        let consumers: Vec<_> = (0..plan.consumers)
            .map(|_| tokio::spawn(consume(rx.clone(), style)))
            .collect();
        drop((tx, rx));
        let mut outcome = Outcome {
            sent: vec![],
            got: vec![],
        };
        for h in producers {
            outcome.sent.push(h.await.unwrap());
        }
        for h in consumers {
            outcome.got.push(h.await.unwrap());
        }
        outcome
    })
}

/// Every party is an async-std task (consumers spawned first).
fn run_async_std(plan: Plan, style: Style) -> Outcome {
    async_std::task::block_on(async {
        let (tx, rx) = rendez::channel();
        let consumers: Vec<_> = (0..plan.consumers)
            .map(|_| async_std::task::spawn(consume(rx.clone(), style)))
            .collect();
        let producers: Vec<_> = (0..plan.producers)
            .map(|p| async_std::task::spawn(produce(tx.clone(), plan.ids(p))))
            .collect();
        drop((tx, rx));
        Outcome {
            sent: futures::future::join_all(producers).await,
            got: futures::future::join_all(consumers).await,
        }
    })
}

/// Every party is a task of smol's global executor, entered through `smol::block_on`.
fn run_smol(plan: Plan, style: Style) -> Outcome {
    smol::block_on(async {
        let (tx, rx) = rendez::channel();
        let producers: Vec<_> = (0..plan.producers)
            .map(|p| smol::spawn(produce(tx.clone(), plan.ids(p))))
            .collect();
        let consumers: Vec<_> = (0..plan.consumers)
            .map(|_| smol::spawn(consume(rx.clone(), style)))
            .collect();
        drop((tx, rx));
        Outcome {
            sent: futures::future::join_all(producers).await,
            got: futures::future::join_all(consumers).await,
        }
    })
}

/// Every party is a task of one `LocalPool`, all on this thread.
fn run_local_pool(plan: Plan, style: Style) -> Outcome {
    let mut pool = LocalPool::new();
    let spawner = pool.spawner();
    let (tx, rx) = rendez::channel();
    let producers: Vec<_> = (0..plan.producers)
        .map(|p| {
            spawner
                .spawn_local_with_handle(produce(tx.clone(), plan.ids(p)))
                .unwrap()
        })
        .collect();
    let consumers: Vec<_> = (0..plan.consumers)
        .map(|_| {
            spawner
                .spawn_local_with_handle(consume(rx.clone(), style))
                .unwrap()
        })
        .collect();
    drop((tx, rx));
    pool.run_until(async {
        Outcome {
            sent: futures::future::join_all(producers).await,
            got: futures::future::join_all(consumers).await,
        }
    })
}

/// Every party is a plain thread using the blocking calls.
fn run_threads(plan: Plan) -> Outcome {
    let (tx, rx) = rendez::channel();
    let producers: Vec<_> = (0..plan.producers)
        .map(|p| {
            let (tx, ids) = (tx.clone(), plan.ids(p));
            thread::spawn(move || produce_blocking(tx, ids))
        })
        .collect();
    let consumers: Vec<_> = (0..plan.consumers)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || consume_blocking(rx))
        })
        .collect();
    drop((tx, rx));
    Outcome {
        sent: producers.into_iter().map(|h| h.join().unwrap()).collect(),
        got: consumers.into_iter().map(|h| h.join().unwrap()).collect(),
    }
}

/// Producers are threads (`send_blocking`), consumers are tokio tasks (`recv().await`).
fn run_threads_to_tokio(plan: Plan) -> Outcome {
    let rt = tokio_multi_thread();
    let (tx, rx) = rendez::channel();
    let consumers: Vec<_> = (0..plan.consumers)
        .map(|_| rt.spawn(consume(rx.clone(), Style::Recv)))
        .collect();
    let producers: Vec<_> = (0..plan.producers)
        .map(|p| {
            let (tx, ids) = (tx.clone(), plan.ids(p));
            thread::spawn(move || produce_blocking(tx, ids))
        })
        .collect();
    drop((tx, rx));
    let sent = producers.into_iter().map(|h| h.join().unwrap()).collect();
    let got = rt.block_on(async {
        let mut got = vec![];
        for h in consumers {
            got.push(h.await.unwrap());
        }
        got
    });
    Outcome { sent, got }
}

/// Producers are tokio tasks (`send().await`), consumers are threads (`recv_blocking`).
fn run_tokio_to_threads(plan: Plan) -> Outcome {
    let rt = tokio_multi_thread();
    let (tx, rx) = rendez::channel();
    let producers: Vec<_> = (0..plan.producers)
        .map(|p| rt.spawn(produce(tx.clone(), plan.ids(p))))
        .collect();
    let consumers: Vec<_> = (0..plan.consumers)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || consume_blocking(rx))
        })
        .collect();
    drop((tx, rx));
    let got = consumers.into_iter().map(|h| h.join().unwrap()).collect();
    let sent = rt.block_on(async {
        let mut sent = vec![];
        for h in producers {
            sent.push(h.await.unwrap());
        }
        sent
    });
    Outcome { sent, got }
}

/// Four producers and four consumers, each on a different kind of executor, all on one channel:
/// producers on tokio, async-std, a thread (`send_blocking`) and a `LocalPool` on its own thread;
/// consumers on tokio (`recv`), async-std (`Stream`), a thread (`recv_blocking`) and a `LocalPool`
/// on its own thread (`Stream`).
fn run_everything_at_once(plan: Plan) -> Outcome {
    assert_eq!((plan.producers, plan.consumers), (4, 4));
    let rt = tokio_multi_thread();
    let (tx, rx) = rendez::channel();

    let p0 = rt.spawn(produce(tx.clone(), plan.ids(0)));
    let p1 = async_std::task::spawn(produce(tx.clone(), plan.ids(1)));
    let p2 = {
        let (tx, ids) = (tx.clone(), plan.ids(2));
        thread::spawn(move || produce_blocking(tx, ids))
    };
    let p3 = {
        let (tx, ids) = (tx.clone(), plan.ids(3));
        thread::spawn(move || LocalPool::new().run_until(produce(tx, ids)))
    };

    let c0 = rt.spawn(consume(rx.clone(), Style::Recv));
    let c1 = async_std::task::spawn(consume(rx.clone(), Style::Stream));
    let c2 = {
        let rx = rx.clone();
        thread::spawn(move || consume_blocking(rx))
    };
    let c3 = {
        let rx = rx.clone();
        thread::spawn(move || LocalPool::new().run_until(consume(rx, Style::Stream)))
    };
    drop((tx, rx));

    let sent = vec![
        rt.block_on(p0).unwrap(),
        async_std::task::block_on(p1),
        p2.join().unwrap(),
        p3.join().unwrap(),
    ];
    let got = vec![
        rt.block_on(c0).unwrap(),
        async_std::task::block_on(c1),
        c2.join().unwrap(),
        c3.join().unwrap(),
    ];
    Outcome { sent, got }
}

/// Threads that give up and retry: producers use `send_timeout` and resend a message that comes
/// back in `Timeout`; consumers use `recv_timeout` and retry on `Timeout`. A timed-out operation
/// withdraws atomically, so the workload still sees every id exactly once.
fn run_threads_with_timeouts(plan: Plan) -> Outcome {
    const PATIENCE: Duration = Duration::from_micros(50);
    let (tx, rx) = rendez::channel();
    let producers: Vec<_> = (0..plan.producers)
        .map(|p| {
            let (tx, ids) = (tx.clone(), plan.ids(p));
            thread::spawn(move || {
                let mut sent = 0;
                for id in ids {
                    let mut msg = id;
                    loop {
                        match tx.send_timeout(msg, PATIENCE) {
                            Ok(()) => break,
                            Err(SendTimeoutError::Timeout(back)) => msg = back,
                            Err(SendTimeoutError::Disconnected(_)) => return sent,
                        }
                    }
                    sent += 1;
                }
                sent
            })
        })
        .collect();
    let consumers: Vec<_> = (0..plan.consumers)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    match rx.recv_timeout(PATIENCE) {
                        Ok(id) => got.push(id),
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => return got,
                    }
                }
            })
        })
        .collect();
    drop((tx, rx));
    Outcome {
        sent: producers.into_iter().map(|h| h.join().unwrap()).collect(),
        got: consumers.into_iter().map(|h| h.join().unwrap()).collect(),
    }
}

/// Tokio consumers whose every `recv` races a `yield_now` in `tokio::select!` (unbiased, so either
/// branch may win): many receive futures are dropped while waiting, some after being woken for a
/// message. Cancel safety (rule 4) means none of them loses one.
fn run_tokio_cancelled_recvs(plan: Plan) -> Outcome {
    tokio_multi_thread().block_on(async {
        let (tx, rx) = rendez::channel();
        let consumers: Vec<_> = (0..plan.consumers)
            .map(|_| {
                let rx: Receiver<usize> = rx.clone();
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    loop {
                        tokio::select! {
                            res = rx.recv() => match res {
                                Ok(id) => got.push(id),
                                Err(_) => return got,
                            },
                            () = tokio::task::yield_now() => {}
                        }
                    }
                })
            })
            .collect();
        let producers: Vec<_> = (0..plan.producers)
            .map(|p| tokio::spawn(produce(tx.clone(), plan.ids(p))))
            .collect();
        drop((tx, rx));
        let mut outcome = Outcome {
            sent: vec![],
            got: vec![],
        };
        for h in producers {
            outcome.sent.push(h.await.unwrap());
        }
        for h in consumers {
            outcome.got.push(h.await.unwrap());
        }
        outcome
    })
}

// === the tests ===

#[test]
fn tokio_multi_thread_spsc() {
    exactly_once(Plan::spsc(), |plan| {
        run_tokio(tokio_multi_thread(), plan, Style::Recv)
    });
}

#[test]
fn tokio_multi_thread_mpmc() {
    exactly_once(Plan::mpmc(), |plan| {
        run_tokio(tokio_multi_thread(), plan, Style::Recv)
    });
}

#[test]
fn tokio_multi_thread_stream_spsc() {
    exactly_once(Plan::spsc(), |plan| {
        run_tokio(tokio_multi_thread(), plan, Style::Stream)
    });
}

#[test]
fn tokio_multi_thread_stream_mpmc() {
    exactly_once(Plan::mpmc(), |plan| {
        run_tokio(tokio_multi_thread(), plan, Style::Stream)
    });
}

#[test]
fn tokio_current_thread_spsc() {
    exactly_once(Plan::spsc(), |plan| {
        run_tokio(tokio_current_thread(), plan, Style::Recv)
    });
}

#[test]
fn tokio_current_thread_mpmc() {
    exactly_once(Plan::mpmc(), |plan| {
        run_tokio(tokio_current_thread(), plan, Style::Recv)
    });
}

#[test]
fn tokio_current_thread_stream_mpmc() {
    exactly_once(Plan::mpmc(), |plan| {
        run_tokio(tokio_current_thread(), plan, Style::Stream)
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "async-std's reactor calls timerfd_create, which Miri does not support"
)]
fn async_std_spsc() {
    exactly_once(Plan::spsc(), |plan| run_async_std(plan, Style::Recv));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "async-std's reactor calls timerfd_create, which Miri does not support"
)]
fn async_std_mpmc() {
    exactly_once(Plan::mpmc(), |plan| run_async_std(plan, Style::Recv));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "smol's reactor needs epoll, which Miri does not fully emulate"
)]
fn smol_spsc() {
    exactly_once(Plan::spsc(), |plan| run_smol(plan, Style::Recv));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "smol's reactor needs epoll, which Miri does not fully emulate"
)]
fn smol_mpmc() {
    exactly_once(Plan::mpmc(), |plan| run_smol(plan, Style::Recv));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "smol's reactor needs epoll, which Miri does not fully emulate"
)]
fn smol_stream_mpmc() {
    exactly_once(Plan::mpmc(), |plan| run_smol(plan, Style::Stream));
}

#[test]
fn threads_blocking_spsc() {
    exactly_once(Plan::spsc(), run_threads);
}

#[test]
fn threads_blocking_mpmc() {
    exactly_once(Plan::mpmc(), run_threads);
}

#[test]
fn threads_with_timeouts_mpmc() {
    exactly_once(Plan::mpmc(), run_threads_with_timeouts);
}

#[test]
fn local_pool_spsc() {
    exactly_once(Plan::spsc(), |plan| run_local_pool(plan, Style::Recv));
}

#[test]
fn local_pool_mpmc() {
    exactly_once(Plan::mpmc(), |plan| run_local_pool(plan, Style::Recv));
}

#[test]
fn local_pool_stream_mpmc() {
    exactly_once(Plan::mpmc(), |plan| run_local_pool(plan, Style::Stream));
}

#[test]
fn threads_to_tokio_spsc() {
    exactly_once(Plan::spsc(), run_threads_to_tokio);
}

#[test]
fn threads_to_tokio_mpmc() {
    exactly_once(Plan::mpmc(), run_threads_to_tokio);
}

#[test]
fn tokio_to_threads_spsc() {
    exactly_once(Plan::spsc(), run_tokio_to_threads);
}

#[test]
fn tokio_to_threads_mpmc() {
    exactly_once(Plan::mpmc(), run_tokio_to_threads);
}

#[test]
fn tokio_select_cancelled_recvs_mpmc() {
    exactly_once(Plan::mpmc(), run_tokio_cancelled_recvs);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "async-std's reactor calls timerfd_create, which Miri does not support"
)]
fn every_executor_at_once_mpmc() {
    exactly_once(Plan::mpmc(), run_everything_at_once);
}

/// The checker itself must catch what it is there to catch.
#[test]
fn checker_rejects_lost_duplicated_and_reordered_ids() {
    let plan = Plan {
        producers: 2,
        consumers: 2,
        per: 3,
    };
    let good = || Outcome {
        sent: vec![3, 3],
        got: vec![vec![0, 3, 1, 2], vec![4, 5]],
    };
    check(plan, good());
    let fails = |outcome: Outcome| std::panic::catch_unwind(move || check(plan, outcome)).is_err();
    let mut lost = good();
    lost.got[1].pop();
    assert!(fails(lost), "a lost id");
    let mut duplicated = good();
    duplicated.got[1].push(0);
    assert!(fails(duplicated), "a duplicated id");
    let mut reordered = good();
    reordered.got[0].swap(2, 3);
    assert!(fails(reordered), "one producer's ids out of order");
    let mut foreign = good();
    foreign.got[0].push(6);
    assert!(fails(foreign), "an id nobody sent");
    let mut failed_send = good();
    failed_send.sent[0] = 2;
    assert!(fails(failed_send), "a send that returned an error");
}
