//! The allocator-free `static` [`Channel`] under embedded-style executors, and the lock strategies
//! meant for embedded targets (issue 4).
//!
//! - **embassy-executor** (its std platform, `platform-std` + `executor-thread`): two tasks play
//!   ping-pong through one `static` channel, and several producer and consumer tasks share another.
//!   The executor runs on a thread of its own under [`Executor::run_until`]; its tasks report
//!   through a std channel, and the test gives up after `common::WATCHDOG` instead of hanging.
//! - **`futures::executor::LocalPool`**: waiting receives and waiting sends are served in the order
//!   they started waiting (CONTRACT rule 2), and several senders and receivers exchange every
//!   message exactly once (rule 3).
//! - **`SpinLock`** on a `static` channel, and **`CriticalSectionLock`** (feature
//!   `critical-section`; the host gets its `critical-section` implementation from that crate's
//!   `std` feature): async handoffs, threads with blocking calls, and `try_send` from a thread
//!   (an "interrupt") into a task awaiting `recv`. Run them with
//!   `cargo test --features critical-section --test embedded`.
//!
//! Every test uses its own `static` channel: a static channel never disconnects by itself, and a
//! closed one stays closed. The whole file runs in well under a second.

mod common;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use embassy_executor::{Executor, Spawner};
use futures::executor::{block_on, LocalPool};
use futures::task::LocalSpawnExt;
use rendez::lock::{Lock, SpinLock};
use rendez::{Channel, RecvError, TrySendError};

// === embassy-executor ===

/// Runs an embassy std executor on its own thread, lets `spawn` spawn the tasks, and collects
/// one report per task (`tasks` in all) from the std channel handed to `spawn`. Each task counts
/// itself in `done` when it finishes; the executor returns once all have. Fails the test if a task
/// panics (the executor thread dies; its panic is passed on) or the reports do not all arrive
/// within the watchdog.
fn run_embassy<R: Send + 'static>(
    tasks: usize,
    spawn: impl FnOnce(Spawner, mpsc::Sender<R>) + Send + 'static,
    done: &'static AtomicUsize,
) -> Vec<R> {
    let (report_tx, report_rx) = mpsc::channel();
    let executor_thread = thread::spawn(move || {
        // `run_until` wants `&'static mut`: one leaked executor per test.
        let executor: &'static mut Executor = Box::leak(Box::new(Executor::new()));
        executor.run_until(
            move |spawner| spawn(spawner, report_tx),
            || done.load(Ordering::SeqCst) == tasks,
        );
    });
    let deadline = Instant::now() + common::WATCHDOG;
    let mut reports = Vec::new();
    while reports.len() < tasks {
        match report_rx.recv_timeout(Duration::from_millis(50)) {
            Ok(report) => reports.push(report),
            // A task panicked: the executor thread is gone; `join` passes its panic on.
            Err(_) if executor_thread.is_finished() => {
                executor_thread.join().unwrap();
                panic!("the executor stopped before every task reported");
            }
            Err(_) => assert!(Instant::now() < deadline, "an embassy task hung"),
        }
    }
    common::join(executor_thread);
    reports
}

/// `full`, scaled down under Miri (and up by `RENDEZ_STRESS`, see `common::scaled`).
fn scaled(full: u32) -> u32 {
    common::scaled(full as usize) as u32
}

/// Message ids: producer `p` sends `p * ID_STRIDE + i` for its `i`-th message.
const ID_STRIDE: u32 = 1_000_000;

/// Ping-pong rounds; each round is one message each way.
fn rounds() -> u32 {
    scaled(200)
}

/// Which embassy task a report comes from, and what it received, in order.
#[derive(Debug)]
enum PingPong {
    Pinger(Vec<u32>),
    Ponger(Vec<u32>),
}

/// Sends `2k`, then waits for the answer `2k + 1`; closes the channel after the last round.
#[embassy_executor::task]
async fn pinger(
    ch: &'static Channel<u32>,
    done: &'static AtomicUsize,
    report: mpsc::Sender<PingPong>,
) {
    let mut got = Vec::new();
    for k in 0..rounds() {
        ch.send(2 * k).await.expect("the channel is open");
        got.push(ch.recv().await.expect("the channel is open"));
    }
    assert!(ch.close());
    done.fetch_add(1, Ordering::SeqCst);
    report.send(PingPong::Pinger(got)).unwrap();
}

/// Answers every message `n` with `n + 1`, until the channel closes.
#[embassy_executor::task]
async fn ponger(
    ch: &'static Channel<u32>,
    done: &'static AtomicUsize,
    report: mpsc::Sender<PingPong>,
) {
    let mut got = Vec::new();
    let end = loop {
        match ch.recv().await {
            Ok(n) => {
                got.push(n);
                ch.send(n + 1).await.expect("the channel is open");
            }
            Err(e) => break e,
        }
    };
    assert_eq!(end, RecvError);
    done.fetch_add(1, Ordering::SeqCst);
    report.send(PingPong::Ponger(got)).unwrap();
}

#[test]
fn embassy_tasks_ping_pong_through_a_static_channel() {
    static CH: Channel<u32> = Channel::new();
    static DONE: AtomicUsize = AtomicUsize::new(0);

    let reports = run_embassy(
        2,
        |spawner, report| {
            spawner.spawn(ponger(&CH, &DONE, report.clone()).unwrap());
            spawner.spawn(pinger(&CH, &DONE, report).unwrap());
        },
        &DONE,
    );

    let evens: Vec<u32> = (0..rounds()).map(|k| 2 * k).collect();
    let odds: Vec<u32> = (0..rounds()).map(|k| 2 * k + 1).collect();
    for report in reports {
        match report {
            // Each side got every message of the other, once, in order.
            PingPong::Pinger(got) => assert_eq!(got, odds),
            PingPong::Ponger(got) => assert_eq!(got, evens),
        }
    }
    assert!(CH.is_closed());
}

/// Producer tasks of the embassy MPMC test.
const PRODUCERS: usize = 3;
/// Consumer tasks of the embassy MPMC test.
const CONSUMERS: usize = 2;
/// Messages per producer.
fn per_producer() -> u32 {
    scaled(300)
}

/// What an embassy MPMC task reports: a consumer's messages in the order it got them.
#[derive(Debug)]
enum Mpmc {
    Producer,
    Consumer(Vec<u32>),
}

/// Sends its ids `p * ID_STRIDE + i` in order; the last producer to finish closes the channel,
/// which ends the consumers.
#[embassy_executor::task(pool_size = PRODUCERS)]
async fn producer(
    ch: &'static Channel<u32>,
    p: u32,
    finished: &'static AtomicUsize,
    done: &'static AtomicUsize,
    report: mpsc::Sender<Mpmc>,
) {
    for i in 0..per_producer() {
        ch.send(p * ID_STRIDE + i)
            .await
            .expect("only the last producer closes");
    }
    if finished.fetch_add(1, Ordering::SeqCst) + 1 == PRODUCERS {
        assert!(ch.close());
    }
    done.fetch_add(1, Ordering::SeqCst);
    report.send(Mpmc::Producer).unwrap();
}

/// Receives until the channel closes.
#[embassy_executor::task(pool_size = CONSUMERS)]
async fn consumer(
    ch: &'static Channel<u32>,
    done: &'static AtomicUsize,
    report: mpsc::Sender<Mpmc>,
) {
    let mut got = Vec::new();
    while let Ok(n) = ch.recv().await {
        got.push(n);
    }
    done.fetch_add(1, Ordering::SeqCst);
    report.send(Mpmc::Consumer(got)).unwrap();
}

#[test]
fn embassy_producer_and_consumer_tasks_share_a_static_channel() {
    static CH: Channel<u32> = Channel::new();
    static FINISHED: AtomicUsize = AtomicUsize::new(0);
    static DONE: AtomicUsize = AtomicUsize::new(0);

    let reports = run_embassy(
        PRODUCERS + CONSUMERS,
        |spawner, report| {
            for _ in 0..CONSUMERS {
                spawner.spawn(consumer(&CH, &DONE, report.clone()).unwrap());
            }
            for p in 0..PRODUCERS as u32 {
                spawner.spawn(producer(&CH, p, &FINISHED, &DONE, report.clone()).unwrap());
            }
        },
        &DONE,
    );

    let lists: Vec<Vec<u32>> = reports
        .into_iter()
        .filter_map(|r| match r {
            Mpmc::Consumer(got) => Some(got),
            Mpmc::Producer => None,
        })
        .collect();
    assert_eq!(lists.len(), CONSUMERS);
    check_exactly_once_in_order(&lists, PRODUCERS as u32, per_producer());
}

/// Every id `p * ID_STRIDE + i` (`p < producers`, `i < per`) was received exactly once, and
/// within each consumer's list the ids of one producer are increasing (its sends are sequential
/// and waiting sends are served in order).
fn check_exactly_once_in_order(lists: &[Vec<u32>], producers: u32, per: u32) {
    let mut all = BTreeSet::new();
    for list in lists {
        let mut last = vec![None; producers as usize];
        for &n in list {
            assert!(all.insert(n), "{n} received twice");
            let (p, i) = ((n / ID_STRIDE) as usize, n % ID_STRIDE);
            assert!(last[p] < Some(i), "producer {p}: {i} after {:?}", last[p]);
            last[p] = Some(i);
        }
    }
    let expected: BTreeSet<u32> = (0..producers)
        .flat_map(|p| (0..per).map(move |i| p * ID_STRIDE + i))
        .collect();
    assert_eq!(all, expected, "lost messages");
}

// === futures::executor::LocalPool ===

#[test]
fn local_pool_waiting_receives_are_served_in_the_order_they_waited() {
    static CH: Channel<u32> = Channel::new();
    let mut pool = LocalPool::new();
    let spawner = pool.spawner();
    let log = Rc::new(RefCell::new(Vec::new()));

    // Three receive loops, each waiting before the next one starts: r0, r1, r2.
    for r in 0..3 {
        let log = log.clone();
        spawner
            .spawn_local(async move {
                while let Ok(n) = CH.recv().await {
                    log.borrow_mut().push((r, n));
                }
                log.borrow_mut().push((r, u32::MAX));
            })
            .unwrap();
        pool.run_until_stalled();
    }
    spawner
        .spawn_local(async {
            for n in 0..9 {
                CH.send(n).await.unwrap();
            }
            CH.close();
        })
        .unwrap();
    pool.run_until_stalled();

    // A receive that got a message waits again behind the others, so they take turns.
    let log = log.borrow();
    let (messages, ends) = log.split_at(9);
    let expected: Vec<(i32, u32)> = (0..9).map(|n| (n as i32 % 3, n)).collect();
    assert_eq!(messages, expected);
    let mut ended: Vec<i32> = ends
        .iter()
        .map(|&(r, end)| {
            assert_eq!(
                end,
                u32::MAX,
                "receive loop {r} got a message after the last one"
            );
            r
        })
        .collect();
    ended.sort_unstable();
    assert_eq!(ended, [0, 1, 2], "every receive loop ends on close");
}

#[test]
fn local_pool_waiting_sends_are_served_in_the_order_they_waited() {
    static CH: Channel<u32> = Channel::new();
    let mut pool = LocalPool::new();
    let spawner = pool.spawner();
    let finished = Rc::new(RefCell::new(0));

    // Three senders, each waiting with its first message before the next one starts.
    for s in 0..3 {
        let finished = finished.clone();
        spawner
            .spawn_local(async move {
                for i in 0..4 {
                    CH.send(s * ID_STRIDE + i).await.unwrap();
                }
                *finished.borrow_mut() += 1;
            })
            .unwrap();
        pool.run_until_stalled();
    }
    let got = Rc::new(RefCell::new(Vec::new()));
    let got2 = got.clone();
    spawner
        .spawn_local(async move {
            for _ in 0..12 {
                let n = CH.recv().await.unwrap();
                got2.borrow_mut().push(n);
            }
        })
        .unwrap();
    pool.run_until_stalled();

    assert_eq!(*finished.borrow(), 3);
    let got = got.borrow();
    // The first messages come in the order their sends started waiting.
    assert_eq!(got[..3], [0, ID_STRIDE, 2 * ID_STRIDE]);
    check_exactly_once_in_order(std::slice::from_ref(&*got), 3, 4);
}

#[test]
fn local_pool_senders_and_receivers_exchange_everything_exactly_once() {
    static CH: Channel<u32> = Channel::new();
    const SENDERS: u32 = 4;
    const RECEIVERS: usize = 3;
    let per = scaled(250);

    let mut pool = LocalPool::new();
    let spawner = pool.spawner();
    let lists: Rc<RefCell<Vec<Vec<u32>>>> = Rc::new(RefCell::new(vec![Vec::new(); RECEIVERS]));
    let finished = Rc::new(RefCell::new(0));

    for r in 0..RECEIVERS {
        let lists = lists.clone();
        spawner
            .spawn_local(async move {
                while let Ok(n) = CH.recv().await {
                    lists.borrow_mut()[r].push(n);
                }
            })
            .unwrap();
    }
    // All receivers wait before the first send, so each gets one of the first messages.
    pool.run_until_stalled();
    for s in 0..SENDERS {
        let finished = finished.clone();
        spawner
            .spawn_local(async move {
                for i in 0..per {
                    CH.send(s * ID_STRIDE + i).await.unwrap();
                    if i % 7 == 0 {
                        // Let the others run, so the senders interleave.
                        yield_now().await;
                    }
                }
                *finished.borrow_mut() += 1;
                if *finished.borrow() == SENDERS {
                    CH.close();
                }
            })
            .unwrap();
    }
    pool.run_until_stalled();

    assert_eq!(*finished.borrow(), SENDERS, "a sender is stuck");
    assert!(CH.is_closed());
    let lists = lists.borrow();
    assert!(
        lists.iter().all(|l| !l.is_empty()),
        "every receiver took part"
    );
    check_exactly_once_in_order(&lists, SENDERS, per);
}

/// Returns `Pending` once, waking itself first, so that the executor runs the other tasks.
async fn yield_now() {
    let mut yielded = false;
    futures::future::poll_fn(|cx| {
        if std::mem::replace(&mut yielded, true) {
            std::task::Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

// === SpinLock ===

/// What an interrupt handler would do with `try_send`, except that it retries on `Full` (a real
/// handler counts an overrun instead) so that the test can check every message: never blocks,
/// never awaits. Returns how often it found no receive waiting.
fn try_send_until_taken<L: Lock>(ch: &Channel<u32, L>, mut msg: u32) -> usize {
    let mut full = 0;
    loop {
        match ch.try_send(msg) {
            Ok(()) => return full,
            Err(TrySendError::Full(m)) => {
                full += 1;
                msg = m;
                thread::yield_now();
            }
            Err(TrySendError::Disconnected(_)) => panic!("closed early"),
        }
    }
}

#[test]
fn spin_lock_static_channel_hands_off_between_tasks_and_threads() {
    static CH: Channel<u32, SpinLock> = Channel::new();
    let count = scaled(100);

    // Between two futures.
    block_on(async {
        for n in 0..count {
            let (sent, got) = futures::join!(CH.send(n), CH.recv());
            assert_eq!((sent, got), (Ok(()), Ok(n)));
        }
    });

    // A thread's try_send into a task that awaits recv.
    let isr = thread::spawn(move || {
        for n in 0..count {
            try_send_until_taken(&CH, n);
        }
    });
    let got: Vec<u32> = block_on(async {
        let mut got = Vec::new();
        for _ in 0..count {
            got.push(CH.recv().await.unwrap());
        }
        got
    });
    common::join(isr);
    assert_eq!(got, (0..count).collect::<Vec<_>>());
    assert!(CH.close());
    assert_eq!(CH.try_send(1), Err(TrySendError::Disconnected(1)));
}

// === CriticalSectionLock ===

#[cfg(feature = "critical-section")]
mod critical_section_lock {
    use super::*;
    use rendez::lock::CriticalSectionLock;
    use rendez::{channel_with, TryRecvError};

    #[test]
    fn static_channel_async_handoff() {
        static CH: Channel<u32, CriticalSectionLock> = Channel::new();
        assert_eq!(CH.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(CH.try_send(1), Err(TrySendError::Full(1)));
        block_on(async {
            for n in 0..scaled(100) {
                let (sent, got) = futures::join!(CH.send(n), CH.recv());
                assert_eq!((sent, got), (Ok(()), Ok(n)));
            }
        });
        assert!(CH.close());
        assert_eq!(block_on(CH.recv()), Err(RecvError));
    }

    #[test]
    fn counted_handles_async_handoff() {
        let count = scaled(100);
        let (tx, rx) = channel_with::<u32, CriticalSectionLock>();
        let got = block_on(async {
            let consumer = async {
                let mut got = Vec::new();
                while let Ok(n) = rx.recv().await {
                    got.push(n);
                }
                got
            };
            let producer = async move {
                for n in 0..count {
                    tx.send(n).await.unwrap();
                }
                // Dropping the last Sender closes the channel and ends the consumer.
            };
            futures::join!(consumer, producer).0
        });
        assert_eq!(got, (0..count).collect::<Vec<_>>());
    }

    #[test]
    fn threads_with_blocking_calls() {
        const SENDERS: u32 = 3;
        let per = scaled(200);
        let (tx, rx) = channel_with::<u32, CriticalSectionLock>();
        let senders: Vec<_> = (0..SENDERS)
            .map(|s| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for i in 0..per {
                        tx.send_blocking(s * ID_STRIDE + i).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let receivers: Vec<_> = (0..2)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || {
                    let mut got = Vec::new();
                    while let Ok(n) = rx.recv_blocking() {
                        got.push(n);
                    }
                    got
                })
            })
            .collect();
        drop(rx);
        for s in senders {
            common::join(s);
        }
        let lists: Vec<Vec<u32>> = receivers.into_iter().map(common::join).collect();
        check_exactly_once_in_order(&lists, SENDERS, per);
    }

    #[test]
    fn static_channel_blocking_thread_and_async_task() {
        static CH: Channel<u32, CriticalSectionLock> = Channel::new();
        let count = scaled(100);
        let thread = thread::spawn(move || {
            for n in 0..count {
                CH.send_blocking(n).unwrap();
            }
            // And the other way round: this thread blocks in recv, the task sends.
            CH.recv_blocking().unwrap()
        });
        let got = block_on(async {
            let mut got = Vec::new();
            for _ in 0..count {
                got.push(CH.recv().await.unwrap());
            }
            CH.send(7).await.unwrap();
            got
        });
        assert_eq!(common::join(thread), 7);
        assert_eq!(got, (0..count).collect::<Vec<_>>());
    }

    #[test]
    fn try_send_from_a_thread_into_a_task_awaiting_recv() {
        static CH: Channel<u32, CriticalSectionLock> = Channel::new();
        let count = scaled(200);
        // The "interrupt" closes the channel after its last message.
        let isr = thread::spawn(move || {
            for n in 0..count {
                try_send_until_taken(&CH, n);
            }
            CH.close();
        });
        let got = block_on(async {
            let mut got = Vec::new();
            // A held `try_send` message is still returned after the close.
            while let Ok(n) = CH.recv().await {
                got.push(n);
            }
            got
        });
        common::join(isr);
        assert_eq!(got, (0..count).collect::<Vec<_>>(), "none lost, none twice");
    }
}
