//! CONTRACT rule 10: no user code runs under the channel's lock. Wakers whose `clone` and `drop`
//! use the same channel, and messages whose `Drop` does, would deadlock (the std lock is not
//! re-entrant) if the channel ran them while it held its lock; a panicking `clone` on a send's
//! first poll leaves the message with its owner. Also CONTRACT rule 7's stream rule, on a real
//! runtime: a `Receiver` whose stream is registered but not polled holds no other receiver back.

#![cfg(feature = "std")]

mod common;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::time::{Duration, Instant};

use common::{join, TestWaker};
use rendez::{Receiver, Sender};

/// What a hooked waker does when it is cloned or dropped.
struct Hooks {
    on_clone: Box<dyn Fn() + Send + Sync>,
    on_drop: Box<dyn Fn() + Send + Sync>,
    clones: AtomicUsize,
    drops: AtomicUsize,
    wakes: AtomicUsize,
    panic_on_clone: AtomicBool,
}

/// A waker built by hand so that `clone` and `drop` run the hooks (std's `Wake` cannot hook
/// `clone`).
fn hooked_waker(hooks: &Arc<Hooks>) -> Waker {
    unsafe fn clone(data: *const ()) -> RawWaker {
        // SAFETY: `data` is an `Arc<Hooks>` pointer made by `raw`.
        let hooks = unsafe { &*(data as *const Hooks) };
        if hooks.panic_on_clone.load(Ordering::SeqCst) {
            panic!("waker clone panics");
        }
        (hooks.on_clone)();
        hooks.clones.fetch_add(1, Ordering::SeqCst);
        // SAFETY: as above; one more strong count for the clone.
        unsafe { Arc::increment_strong_count(data as *const Hooks) };
        RawWaker::new(data, &VTABLE)
    }
    unsafe fn wake(data: *const ()) {
        // SAFETY: as above.
        unsafe { wake_by_ref(data) };
        // SAFETY: as above.
        unsafe { drop_waker(data) };
    }
    unsafe fn wake_by_ref(data: *const ()) {
        // SAFETY: as above.
        let hooks = unsafe { &*(data as *const Hooks) };
        hooks.wakes.fetch_add(1, Ordering::SeqCst);
    }
    unsafe fn drop_waker(data: *const ()) {
        // SAFETY: as above.
        let hooks = unsafe { &*(data as *const Hooks) };
        (hooks.on_drop)();
        hooks.drops.fetch_add(1, Ordering::SeqCst);
        // SAFETY: as above; releases this waker's strong count.
        unsafe { Arc::decrement_strong_count(data as *const Hooks) };
    }
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);
    let data = Arc::into_raw(hooks.clone()) as *const ();
    // SAFETY: the vtable keeps the `Arc` contract for `data`.
    unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) }
}

fn hooks(
    on_clone: impl Fn() + Send + Sync + 'static,
    on_drop: impl Fn() + Send + Sync + 'static,
) -> Arc<Hooks> {
    Arc::new(Hooks {
        on_clone: Box::new(on_clone),
        on_drop: Box::new(on_drop),
        clones: AtomicUsize::new(0),
        drops: AtomicUsize::new(0),
        wakes: AtomicUsize::new(0),
        panic_on_clone: AtomicBool::new(false),
    })
}

/// Runs `f` on a thread and fails (instead of hanging the suite) if it deadlocks.
fn no_deadlock(f: impl FnOnce() + Send + 'static) {
    join(std::thread::spawn(f));
}

/// A waker whose `clone` and `drop` call into the same channel (`is_closed` takes its lock, and
/// so does the `Debug` of a handle).
fn reentrant_waker(tx: &Sender<u32>, rx: &Receiver<u32>) -> (Arc<Hooks>, Waker) {
    let (tx1, tx2) = (tx.clone(), tx.clone());
    let rx2 = rx.clone();
    let h = hooks(
        move || {
            let _ = tx1.is_closed();
        },
        move || {
            let _ = tx2.is_closed();
            let _ = format!("{rx2:?}");
        },
    );
    let w = hooked_waker(&h);
    (h, w)
}

#[test]
fn a_waker_whose_clone_and_drop_use_the_channel_does_not_deadlock_a_send() {
    no_deadlock(|| {
        let (tx, rx) = rendez::channel::<u32>();
        let (h, waker) = reentrant_waker(&tx, &rx);
        let mut cx = Context::from_waker(&waker);
        let mut send = pin!(tx.send(1));
        assert!(send.as_mut().poll(&mut cx).is_pending());
        // Re-polled with another task's waker: the registered one is replaced (a clone of the
        // new one goes in, the old one is dropped), both outside the lock.
        let (h2, other) = reentrant_waker(&tx, &rx);
        assert!(send
            .as_mut()
            .poll(&mut Context::from_waker(&other))
            .is_pending());
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(
            send.as_mut().poll(&mut Context::from_waker(&other)),
            Poll::Ready(Ok(()))
        );
        assert!(h.clones.load(Ordering::SeqCst) >= 1);
        assert!(h2.clones.load(Ordering::SeqCst) >= 1);
        assert_eq!(
            h.drops.load(Ordering::SeqCst),
            h.clones.load(Ordering::SeqCst),
            "every clone of the first waker was dropped"
        );
    });
}

#[test]
fn a_waker_whose_clone_and_drop_use_the_channel_does_not_deadlock_a_receive() {
    no_deadlock(|| {
        let (tx, rx) = rendez::channel::<u32>();
        let (h, waker) = reentrant_waker(&tx, &rx);
        let mut recv = pin!(rx.recv());
        assert!(recv
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        // Woken, then re-polled with a different waker while nothing is on offer any more: the
        // receive must register again and needs a fresh clone (made outside the lock).
        let mut send = pin!(tx.send(5));
        let ws = TestWaker::new();
        assert!(ws.poll(send.as_mut()).is_pending());
        assert_eq!(
            h.wakes.load(Ordering::SeqCst),
            1,
            "the receive was notified"
        );
        assert_eq!(send.as_mut().cancel(), Some(5), "the offer is withdrawn");
        let (h2, other) = reentrant_waker(&tx, &rx);
        assert!(recv
            .as_mut()
            .poll(&mut Context::from_waker(&other))
            .is_pending());
        assert!(h2.clones.load(Ordering::SeqCst) >= 1);
        // And it still works: a send reaches it.
        let mut send = pin!(tx.send(6));
        assert!(ws.poll(send.as_mut()).is_pending());
        assert_eq!(
            recv.as_mut().poll(&mut Context::from_waker(&other)),
            Poll::Ready(Ok(6))
        );
        assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
    });
}

#[test]
fn a_waker_whose_clone_and_drop_use_the_channel_does_not_deadlock_a_closed_watcher() {
    no_deadlock(|| {
        let (tx, rx) = rendez::channel::<u32>();
        let (h, waker) = reentrant_waker(&tx, &rx);
        let mut closed = pin!(tx.closed());
        assert!(closed
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        // Registered: a new waker replaces the old one, the clone made and the old one dropped
        // outside the lock.
        let (h2, other) = reentrant_waker(&tx, &rx);
        assert!(closed
            .as_mut()
            .poll(&mut Context::from_waker(&other))
            .is_pending());
        assert!(h.clones.load(Ordering::SeqCst) >= 1 && h2.clones.load(Ordering::SeqCst) >= 1);
        assert_eq!(
            h.drops.load(Ordering::SeqCst),
            h.clones.load(Ordering::SeqCst),
            "the replaced waker was dropped"
        );
        // `close` wakes and drops the waker outside the lock. (The wakers hold handles, so no
        // drop would close the channel.)
        assert!(rx.close());
        assert_eq!(h2.wakes.load(Ordering::SeqCst), 1);
        assert_eq!(
            closed.as_mut().poll(&mut Context::from_waker(&other)),
            Poll::Ready(())
        );
    });
}

#[test]
fn a_panicking_clone_on_a_closed_watchers_first_poll_leaves_it_unregistered() {
    let (tx, rx) = rendez::channel::<u32>();
    let h = hooks(|| {}, || {});
    h.panic_on_clone.store(true, Ordering::SeqCst);
    let waker = hooked_waker(&h);
    let mut closed = Box::pin(tx.closed());
    let unwound = catch_unwind(AssertUnwindSafe(|| {
        let _ = closed.as_mut().poll(&mut Context::from_waker(&waker));
    }));
    assert!(unwound.is_err());
    // Nothing was registered: the close has no watcher to wake, and the future works afterwards.
    h.panic_on_clone.store(false, Ordering::SeqCst);
    assert!(closed
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    drop(rx);
    assert_eq!(h.wakes.load(Ordering::SeqCst), 1);
    assert_eq!(
        closed.as_mut().poll(&mut Context::from_waker(&waker)),
        Poll::Ready(())
    );
}

#[test]
fn a_stream_polled_with_a_reentrant_waker_does_not_deadlock() {
    use futures::StreamExt;
    no_deadlock(|| {
        let (tx, mut rx) = rendez::channel::<u32>();
        let (_h, waker) = reentrant_waker(&tx, &rx);
        let mut cx = Context::from_waker(&waker);
        assert!(rx.poll_next_unpin(&mut cx).is_pending());
        let (_h2, other) = reentrant_waker(&tx, &rx);
        assert!(rx
            .poll_next_unpin(&mut Context::from_waker(&other))
            .is_pending());
        assert_eq!(tx.try_send(3), Ok(()));
        assert_eq!(rx.poll_next_unpin(&mut cx), Poll::Ready(Some(3)));
    });
}

/// A message whose `Drop` uses the channel it travels on.
struct Reentrant {
    rx: Receiver<Reentrant>,
    dropped: Arc<AtomicUsize>,
}

impl Drop for Reentrant {
    fn drop(&mut self) {
        let _ = self.rx.try_recv();
        let _ = self.rx.is_closed();
        self.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_message_whose_drop_uses_the_channel_is_dropped_outside_the_lock() {
    no_deadlock(|| {
        let dropped = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = rendez::channel::<Reentrant>();
        let msg = || Reentrant {
            rx: rx.clone(),
            dropped: dropped.clone(),
        };
        let ws = TestWaker::new();
        // A cancelled (dropped) pending send drops its message.
        {
            let mut send = pin!(tx.send(msg()));
            assert!(ws.poll(send.as_mut()).is_pending());
        }
        assert_eq!(dropped.load(Ordering::SeqCst), 1);
        // A try_send with nobody waiting gives it back; dropping that is the caller's.
        drop(tx.try_send(msg()));
        assert_eq!(dropped.load(Ordering::SeqCst), 2);
        // A select arm that is not selected drops its message with the select.
        let (tx2, rx2) = rendez::channel::<u8>();
        let ready = std::thread::spawn(move || rx2.recv_blocking());
        common::wait_until("the receive waits", || {
            tx2.receiver_count() == 1 && !ready.is_finished() && {
                std::thread::sleep(Duration::from_millis(1));
                true
            }
        });
        rendez::select_blocking! {
            send(tx, msg()) -> _ => panic!("no receive waits on this channel"),
            send(tx2, 9) -> r => r.unwrap(),
        }
        assert_eq!(join(ready), Ok(9));
        assert_eq!(dropped.load(Ordering::SeqCst), 3);
        // Closing with a send pending returns its message; dropping it is the sender's.
        let mut send = pin!(tx.send(msg()));
        assert!(ws.poll(send.as_mut()).is_pending());
        rx.close();
        match ws.poll(send.as_mut()) {
            Poll::Ready(Err(e)) => drop(e),
            other => panic!(
                "expected the message back, got {:?}",
                other.map(|r| r.is_ok())
            ),
        }
        assert_eq!(dropped.load(Ordering::SeqCst), 4);
    });
}

#[test]
fn a_panicking_clone_on_a_sends_first_poll_leaves_the_message_with_its_owner() {
    let (tx, rx) = rendez::channel::<String>();
    let h = hooks(|| {}, || {});
    h.panic_on_clone.store(true, Ordering::SeqCst);
    let waker = hooked_waker(&h);
    let mut send = pin!(tx.send("mine".to_string()));
    let polled = catch_unwind(AssertUnwindSafe(|| {
        let _ = send.as_mut().poll(&mut Context::from_waker(&waker));
    }));
    assert!(polled.is_err(), "the clone panicked out of the poll");
    assert_eq!(
        send.as_mut().cancel().as_deref(),
        Some("mine"),
        "neither sent nor lost"
    );
    assert!(rx.try_recv().is_err());
    assert!(!rx.is_closed(), "the channel is usable");
    let (got, sent) =
        futures::executor::block_on(async { futures::join!(rx.recv(), tx.send("next".into())) });
    assert_eq!((got.as_deref(), sent), (Ok("next"), Ok(())));
}

#[test]
fn a_panicking_clone_on_a_receives_first_poll_registers_nothing() {
    let (tx, rx) = rendez::channel::<u32>();
    let h = hooks(|| {}, || {});
    h.panic_on_clone.store(true, Ordering::SeqCst);
    let waker = hooked_waker(&h);
    {
        let mut recv = pin!(rx.recv());
        let polled = catch_unwind(AssertUnwindSafe(|| {
            let _ = recv.as_mut().poll(&mut Context::from_waker(&waker));
        }));
        assert!(polled.is_err());
    }
    assert_eq!(
        tx.try_send(1),
        Err(rendez::TrySendError::Full(1)),
        "no receive was left waiting"
    );
}

/// The tick loop: a worker whose `select!` drops its `next()` future whenever the tick wins
/// and then runs a long branch, while a clone of its receiver waits in `recv()`. The message must
/// reach the waiting clone while the long branch runs.
#[test]
#[cfg_attr(miri, ignore = "tokio timers over 1.5 s of real time")]
fn a_stream_left_registered_by_a_select_holds_no_other_receiver_back() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use futures::StreamExt;
        let (tx, mut rx) = rendez::channel::<u32>();
        let rx2 = rx.clone();
        let long_branch_running = Arc::new(AtomicBool::new(false));
        let long_branch_done = Arc::new(AtomicBool::new(false));
        let (running, done) = (long_branch_running.clone(), long_branch_done.clone());
        let slow_worker = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(1));
            tick.tick().await; // the first tick is immediate
            let mut jobs = 0;
            loop {
                tokio::select! {
                    job = rx.next() => match job { Some(_) => jobs += 1, None => break },
                    _ = tick.tick() => {
                        if !running.swap(true, Ordering::SeqCst) {
                            // long_work(): the stream stays registered, not polled.
                            tokio::time::sleep(Duration::from_millis(1500)).await;
                            done.store(true, Ordering::SeqCst);
                        }
                    }
                }
            }
            jobs
        });
        // The slow worker's stream registers first, then its tick wins and the long branch runs.
        common::watchdog(async {
            while !long_branch_running.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await;
        let fast = tokio::spawn(async move { rx2.recv().await });
        tokio::time::sleep(Duration::from_millis(20)).await; // the clone waits behind the stream
        let started = Instant::now();
        common::watchdog(tx.send(7)).await.unwrap();
        let latency = started.elapsed();
        assert_eq!(common::watchdog(fast).await.unwrap(), Ok(7));
        assert!(
            !long_branch_done.load(Ordering::SeqCst),
            "the waiting clone got the message only after the long branch ended ({latency:?})"
        );
        eprintln!("the waiting clone got the message {latency:?} after it was sent");
        drop(tx);
        assert_eq!(common::watchdog(slow_worker).await.unwrap(), 0);
    });
}

/// The tick-loop rule for blocked threads too: a stream left registered does not keep a
/// `recv_blocking` caller waiting.
#[test]
fn a_stream_left_registered_holds_no_blocked_receiver_back() {
    use futures::StreamExt;
    let (tx, mut rx) = rendez::channel::<u32>();
    let rx2 = rx.clone();
    let w = TestWaker::new();
    assert!(rx
        .poll_next_unpin(&mut Context::from_waker(w.waker()))
        .is_pending());
    let blocked = std::thread::spawn(move || rx2.recv_blocking());
    common::wait_until("the thread waits", || {
        std::thread::sleep(Duration::from_millis(1));
        true
    });
    std::thread::sleep(Duration::from_millis(20));
    let got = Arc::new(Mutex::new(None));
    tx.send_blocking(4).unwrap();
    *got.lock().unwrap() = Some(join(blocked));
    assert_eq!(got.lock().unwrap().take(), Some(Ok(4)));
    let _ = Pin::new(&mut rx);
}
