//! CONTRACT rule 9: no allocation per message. After `channel()` (or `Channel::new()`), sending
//! and receiving (async or blocking, waiting or not), `try_*`, timeouts, `Stream` polling and
//! `close` allocate nothing; so does every select (`select!`, `select_blocking!` and the `Select`
//! builder once its operations are added).
//!
//! A counting global allocator wraps `System`; it counts only on threads that switched counting on
//! (a thread-local flag), so the test harness and other tests running in parallel do not disturb
//! the counts. Everything that legitimately allocates once (the channel, wakers, threads, each
//! thread's cached blocking waker) is set up before counting starts.
#![cfg(feature = "std")]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::pin::{pin, Pin};
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

// `scaled` reads the environment (which allocates): call it only outside counted regions.
use common::{scaled, TestWaker};
use futures::Stream;
use rendez::{RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};

// === the counting allocator ===

struct CountingAlloc;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn record() {
    // `const` thread-locals without destructors: reading them never allocates.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: every call is forwarded unchanged to `System`; counting touches no allocator state.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Runs `f` on this thread and returns its result with the number of heap allocations this thread
/// made while running it.
fn count_allocs<R>(f: impl FnOnce() -> R) -> (R, usize) {
    ALLOCS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    let r = f();
    COUNTING.with(|c| c.set(false));
    (r, ALLOCS.with(Cell::get))
}

/// Makes this thread's cached blocking waker exist (the one allocation of the blocking calls).
fn warm_up_blocking_on_this_thread() {
    let (_tx, rx) = rendez::channel::<u8>();
    assert_eq!(
        rx.recv_timeout(Duration::ZERO),
        Err(RecvTimeoutError::Timeout)
    );
}

#[test]
fn the_counter_counts() {
    // The allocator really sees this thread's allocations (so a zero below means something).
    let (b, n) = count_allocs(|| Box::new(5u64));
    assert_eq!(*b, 5);
    assert!(n >= 1);
    let (v, n) = count_allocs(|| {
        let mut v = Vec::with_capacity(1);
        v.extend([1u8, 2, 3]);
        v
    });
    assert_eq!(v.len(), 3);
    assert!(n >= 2, "alloc + realloc counted: {n}");
}

// === async, polled by hand ===

#[test]
fn async_send_then_recv_allocates_nothing() {
    let (tx, rx) = rendez::channel::<u64>();
    let (ws, wr) = (TestWaker::new(), TestWaker::new());
    let rounds = scaled(100) as u64;
    let (sum, allocs) = count_allocs(|| {
        let mut sum = 0;
        for i in 0..rounds {
            let mut send = pin!(tx.send(i));
            assert!(ws.poll(send.as_mut()).is_pending());
            let mut recv = pin!(rx.recv());
            match wr.poll(recv.as_mut()) {
                Poll::Ready(Ok(m)) => sum += m,
                _ => panic!("the waiting send was not taken"),
            }
            assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
        }
        sum
    });
    assert_eq!(sum, (0..rounds).sum::<u64>());
    assert_eq!(allocs, 0);
}

#[test]
fn closed_watchers_allocate_nothing() {
    let wakers: Vec<TestWaker> = (0..3).map(|_| TestWaker::new()).collect();
    let rounds = scaled(50);
    // The channel is made before counting; registering, re-polling, withdrawing and being woken
    // by the close allocate nothing.
    for _ in 0..rounds {
        let (tx, rx) = rendez::channel::<u64>();
        let ((), allocs) = count_allocs(|| {
            let mut a = pin!(tx.closed());
            let mut b = pin!(rx.closed());
            assert!(wakers[0].poll(a.as_mut()).is_pending());
            assert!(wakers[1].poll(b.as_mut()).is_pending());
            assert!(wakers[2].poll(a.as_mut()).is_pending());
            {
                let mut c = pin!(tx.closed());
                assert!(wakers[0].poll(c.as_mut()).is_pending());
            }
            assert!(rx.close());
            assert_eq!(wakers[2].poll(a.as_mut()), Poll::Ready(()));
            assert_eq!(wakers[1].poll(b.as_mut()), Poll::Ready(()));
        });
        assert_eq!(allocs, 0);
    }
    static CH: rendez::Channel<u64> = rendez::Channel::new();
    let ((), allocs) = count_allocs(|| {
        let mut a = pin!(CH.closed());
        assert!(wakers[0].poll(a.as_mut()).is_pending());
        CH.close();
        assert_eq!(wakers[0].poll(a.as_mut()), Poll::Ready(()));
    });
    assert_eq!(allocs, 0);
}

#[test]
fn async_recv_then_send_allocates_nothing() {
    let (tx, rx) = rendez::channel::<u64>();
    let (ws, wr) = (TestWaker::new(), TestWaker::new());
    let rounds = scaled(100) as u64;
    let (sum, allocs) = count_allocs(|| {
        let mut sum = 0;
        for i in 0..rounds {
            let mut recv = pin!(rx.recv());
            assert!(wr.poll(recv.as_mut()).is_pending());
            let mut send = pin!(tx.send(i));
            assert!(ws.poll(send.as_mut()).is_pending());
            match wr.poll(recv.as_mut()) {
                Poll::Ready(Ok(m)) => sum += m,
                _ => panic!("the woken receive got nothing"),
            }
            assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
        }
        sum
    });
    assert_eq!(sum, (0..rounds).sum::<u64>());
    assert!(wr.wakes() >= rounds as usize);
    assert_eq!(allocs, 0);
}

#[test]
fn many_waiters_cancellation_and_rewaking_allocate_nothing() {
    let (tx, rx) = rendez::channel::<u64>();
    let wakers: Vec<TestWaker> = (0..6).map(|_| TestWaker::new()).collect();
    let (got, allocs) = count_allocs(|| {
        let mut got = [0u64; 3];
        // Three receives wait; a send wakes the first, which is cancelled and passes its turn on.
        let mut r0 = pin!(rx.recv());
        let mut r1 = pin!(rx.recv());
        let mut r2 = pin!(rx.recv());
        assert!(wakers[0].poll(r0.as_mut()).is_pending());
        assert!(wakers[1].poll(r1.as_mut()).is_pending());
        assert!(wakers[2].poll(r2.as_mut()).is_pending());
        {
            let mut s = pin!(tx.send(10));
            assert!(wakers[3].poll(s.as_mut()).is_pending());
            // Re-poll with a different waker (the registered one is replaced).
            assert!(wakers[4].poll(s.as_mut()).is_pending());
            // r0 is woken for it, but dropped: r1 inherits.
            r0.set(rx.recv());
            if let Poll::Ready(Ok(m)) = wakers[1].poll(r1.as_mut()) {
                got[0] = m;
            }
            assert_eq!(wakers[4].poll(s.as_mut()), Poll::Ready(Ok(())));
        }
        {
            // A send dropped while waiting.
            let mut s = pin!(tx.send(11));
            assert!(wakers[5].poll(s.as_mut()).is_pending());
        }
        {
            let mut s = pin!(tx.send(12));
            assert!(wakers[5].poll(s.as_mut()).is_pending());
            if let Poll::Ready(Ok(m)) = wakers[2].poll(r2.as_mut()) {
                got[1] = m;
            }
            assert_eq!(wakers[5].poll(s.as_mut()), Poll::Ready(Ok(())));
        }
        {
            let mut s = pin!(tx.send(13));
            assert!(wakers[5].poll(s.as_mut()).is_pending());
            if let Poll::Ready(Ok(m)) = wakers[0].poll(r0.as_mut()) {
                got[2] = m;
            }
            assert_eq!(wakers[5].poll(s.as_mut()), Poll::Ready(Ok(())));
        }
        got
    });
    assert_eq!(got, [10, 12, 13]);
    assert_eq!(allocs, 0);
}

#[test]
fn futures_executor_join_allocates_nothing_after_warm_up() {
    let (tx, rx) = rendez::channel::<u64>();
    // Warm up the executor's thread-local state.
    let _ = futures::executor::block_on(async { futures::join!(tx.send(0), rx.recv()) });
    let rounds = scaled(100) as u64;
    let (sum, allocs) = count_allocs(|| {
        futures::executor::block_on(async {
            let mut sum = 0;
            for i in 0..rounds {
                let (sent, got) = futures::join!(tx.send(i), rx.recv());
                sent.unwrap();
                sum += got.unwrap();
                let (got, sent) = futures::join!(rx.recv(), tx.send(i));
                sent.unwrap();
                sum += got.unwrap();
            }
            sum
        })
    });
    assert_eq!(sum, 2 * (0..rounds).sum::<u64>());
    assert_eq!(allocs, 0);
}

#[test]
fn static_channel_and_spin_lock_allocate_nothing() {
    static CH: rendez::Channel<u64> = rendez::Channel::new();
    let (tx, rx) = rendez::channel_with::<u64, rendez::lock::SpinLock>();
    let (ws, wr) = (TestWaker::new(), TestWaker::new());
    let rounds = scaled(50) as u64; // outside the counted region: it reads the environment
    let (_, allocs) = count_allocs(|| {
        for i in 0..rounds {
            let mut recv = pin!(CH.recv());
            assert!(wr.poll(recv.as_mut()).is_pending());
            let mut send = pin!(CH.send(i));
            assert!(ws.poll(send.as_mut()).is_pending());
            assert_eq!(wr.poll(recv.as_mut()), Poll::Ready(Ok(i)));
            assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
            assert_eq!(CH.try_recv(), Err(TryRecvError::Empty));

            let mut send = pin!(tx.send(i));
            assert!(ws.poll(send.as_mut()).is_pending());
            assert_eq!(rx.try_recv(), Ok(i));
            assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
        }
    });
    assert_eq!(allocs, 0);
}

// === try_send / try_recv ===

#[test]
fn try_ops_allocate_nothing() {
    let (tx, rx) = rendez::channel::<u64>();
    let (ws, wr) = (TestWaker::new(), TestWaker::new());
    let rounds = scaled(100) as u64; // outside the counted region: it reads the environment
    let (_, allocs) = count_allocs(|| {
        for i in 0..rounds {
            // No peer.
            assert_eq!(tx.try_send(i), Err(TrySendError::Full(i)));
            assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
            // try_recv from a waiting send.
            let mut send = pin!(tx.send(i));
            assert!(ws.poll(send.as_mut()).is_pending());
            assert_eq!(rx.try_recv(), Ok(i));
            assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
            // try_send held for a waiting receive, which returns it.
            let mut recv = pin!(rx.recv());
            assert!(wr.poll(recv.as_mut()).is_pending());
            assert_eq!(tx.try_send(i), Ok(()));
            assert_eq!(tx.try_send(i + 1), Err(TrySendError::Full(i + 1)));
            assert_eq!(wr.poll(recv.as_mut()), Poll::Ready(Ok(i)));
            // Held, the receive cancelled, then taken by try_recv.
            {
                let mut recv = pin!(rx.recv());
                assert!(wr.poll(recv.as_mut()).is_pending());
                assert_eq!(tx.try_send(i + 2), Ok(()));
            }
            assert_eq!(rx.try_recv(), Ok(i + 2));
        }
    });
    assert_eq!(allocs, 0);
}

// === blocking calls between two threads ===

#[test]
fn blocking_send_and_recv_between_two_threads_allocate_nothing() {
    let (tx, rx) = rendez::channel::<u64>();
    let rounds = scaled(500) as u64;
    let barrier = Arc::new(Barrier::new(2));
    let peer = {
        let barrier = barrier.clone();
        let (tx, rx) = (tx.clone(), rx.clone());
        thread::spawn(move || {
            // Warm up: this thread's cached blocking waker.
            tx.send_blocking(u64::MAX).unwrap();
            barrier.wait();
            count_allocs(|| {
                for i in 0..rounds {
                    tx.send_blocking(i).unwrap();
                }
                // The other direction: this thread receives.
                (0..rounds)
                    .map(|_| rx.recv_blocking().unwrap())
                    .sum::<u64>()
            })
        })
    };
    // Warm up: this thread's cached blocking waker.
    assert_eq!(rx.recv_blocking(), Ok(u64::MAX));
    barrier.wait();
    let (sum, allocs) = count_allocs(|| {
        let sum = (0..rounds)
            .map(|_| rx.recv_blocking().unwrap())
            .sum::<u64>();
        for i in 0..rounds {
            tx.send_blocking(i).unwrap();
        }
        sum
    });
    let (peer_sum, peer_allocs) = peer.join().unwrap();
    assert_eq!(sum, (0..rounds).sum::<u64>());
    assert_eq!(peer_sum, (0..rounds).sum::<u64>());
    assert_eq!(allocs, 0, "this thread");
    assert_eq!(peer_allocs, 0, "the peer thread");
}

#[test]
fn blocking_in_both_directions_allocates_nothing() {
    let (tx_a, rx_a) = rendez::channel::<u64>();
    let (tx_b, rx_b) = rendez::channel::<u64>();
    let rounds = scaled(300) as u64;
    let barrier = Arc::new(Barrier::new(2));
    let peer = {
        let barrier = barrier.clone();
        thread::spawn(move || {
            warm_up_blocking_on_this_thread();
            barrier.wait();
            // Echo: receive on A, send back on B.
            count_allocs(|| {
                for _ in 0..rounds {
                    let m = rx_a.recv_blocking().unwrap();
                    tx_b.send_blocking(m + 1).unwrap();
                }
            })
            .1
        })
    };
    warm_up_blocking_on_this_thread();
    barrier.wait();
    let (ok, allocs) = count_allocs(|| {
        (0..rounds).all(|i| {
            tx_a.send_blocking(i).unwrap();
            rx_b.recv_blocking() == Ok(i + 1)
        })
    });
    let peer_allocs = peer.join().unwrap();
    assert!(ok);
    assert_eq!(allocs, 0);
    assert_eq!(peer_allocs, 0);
}

#[test]
fn blocking_thread_with_async_peer_allocates_nothing() {
    // A blocked thread receives from sends polled by hand on this thread.
    let (tx, rx) = rendez::channel::<u64>();
    let rounds = scaled(200) as u64;
    let barrier = Arc::new(Barrier::new(2));
    let peer = {
        let barrier = barrier.clone();
        thread::spawn(move || {
            warm_up_blocking_on_this_thread();
            barrier.wait();
            count_allocs(|| {
                (0..rounds)
                    .map(|_| rx.recv_blocking().unwrap())
                    .sum::<u64>()
            })
        })
    };
    let ws = TestWaker::new();
    barrier.wait();
    let (_, allocs) = count_allocs(|| {
        for i in 0..rounds {
            let mut send = pin!(tx.send(i));
            while ws.poll(send.as_mut()).is_pending() {
                thread::yield_now();
            }
        }
    });
    let (sum, peer_allocs) = peer.join().unwrap();
    assert_eq!(sum, (0..rounds).sum::<u64>());
    assert_eq!(allocs, 0);
    assert_eq!(peer_allocs, 0);
}

// === timeouts ===

#[test]
fn timeouts_without_a_peer_allocate_nothing() {
    let (tx, rx) = rendez::channel::<u64>();
    warm_up_blocking_on_this_thread();
    let rounds = scaled(5) as u64; // outside the counted region: it reads the environment
    let (_, allocs) = count_allocs(|| {
        for i in 0..rounds {
            assert_eq!(
                rx.recv_timeout(Duration::from_millis(1)),
                Err(RecvTimeoutError::Timeout)
            );
            assert_eq!(
                tx.send_timeout(i, Duration::from_millis(1)),
                Err(SendTimeoutError::Timeout(i))
            );
            assert_eq!(
                rx.recv_timeout(Duration::ZERO),
                Err(RecvTimeoutError::Timeout)
            );
        }
    });
    assert_eq!(allocs, 0);
}

#[test]
fn timeouts_with_a_peer_allocate_nothing() {
    let (tx, rx) = rendez::channel::<u64>();
    let rounds = scaled(300) as u64;
    let barrier = Arc::new(Barrier::new(2));
    let peer = {
        let barrier = barrier.clone();
        let (tx, rx) = (tx.clone(), rx.clone());
        thread::spawn(move || {
            warm_up_blocking_on_this_thread();
            barrier.wait();
            count_allocs(|| {
                for i in 0..rounds {
                    tx.send_timeout(i, Duration::from_secs(10)).unwrap();
                    assert_eq!(rx.recv_timeout(Duration::MAX), Ok(i));
                }
            })
            .1
        })
    };
    warm_up_blocking_on_this_thread();
    barrier.wait();
    let (_, allocs) = count_allocs(|| {
        for i in 0..rounds {
            assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(i));
            tx.send_timeout(i, Duration::MAX).unwrap();
        }
    });
    let peer_allocs = peer.join().unwrap();
    assert_eq!(allocs, 0);
    assert_eq!(peer_allocs, 0);
}

// === Stream ===

#[test]
fn stream_polling_allocates_nothing() {
    let (tx, mut rx) = rendez::channel::<u64>();
    let (ws, wr) = (TestWaker::new(), TestWaker::new());
    let rounds = scaled(100) as u64; // outside the counted region: it reads the environment
    let (sum, allocs) = count_allocs(|| {
        let mut sum = 0;
        for i in 0..rounds {
            let mut cx = Context::from_waker(wr.waker());
            assert!(Pin::new(&mut rx).poll_next(&mut cx).is_pending());
            let mut send = pin!(tx.send(i));
            assert!(ws.poll(send.as_mut()).is_pending());
            match Pin::new(&mut rx).poll_next(&mut cx) {
                Poll::Ready(Some(m)) => sum += m,
                _ => panic!("the stream got nothing"),
            }
            assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
            // Send first, then the stream.
            let mut send = pin!(tx.send(i));
            assert!(ws.poll(send.as_mut()).is_pending());
            match Pin::new(&mut rx).poll_next(&mut cx) {
                Poll::Ready(Some(m)) => sum += m,
                _ => panic!("the stream got nothing"),
            }
            assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
        }
        sum
    });
    assert_eq!(sum, 2 * (0..rounds).sum::<u64>());
    assert_eq!(allocs, 0);
    // The end of the stream allocates nothing either.
    let ((), allocs) = count_allocs(|| {
        let mut cx = Context::from_waker(wr.waker());
        assert!(Pin::new(&mut rx).poll_next(&mut cx).is_pending());
        tx.close();
        assert_eq!(Pin::new(&mut rx).poll_next(&mut cx), Poll::Ready(None));
        assert_eq!(Pin::new(&mut rx).poll_next(&mut cx), Poll::Ready(None));
    });
    assert_eq!(allocs, 0);
}

// === close ===

#[test]
fn close_with_waiters_allocates_nothing() {
    let (tx, rx) = rendez::channel::<u64>();
    let wakers: Vec<TestWaker> = (0..20).map(|_| TestWaker::new()).collect();
    // Ten waiting sends (more than one wake batch), then close.
    let (_, allocs) = count_allocs(|| {
        let mut s0 = pin!(tx.send(0));
        let mut s1 = pin!(tx.send(1));
        let mut s2 = pin!(tx.send(2));
        let mut s3 = pin!(tx.send(3));
        let mut s4 = pin!(tx.send(4));
        let mut s5 = pin!(tx.send(5));
        let mut s6 = pin!(tx.send(6));
        let mut s7 = pin!(tx.send(7));
        let mut s8 = pin!(tx.send(8));
        let mut s9 = pin!(tx.send(9));
        let mut sends = [
            s0.as_mut(),
            s1.as_mut(),
            s2.as_mut(),
            s3.as_mut(),
            s4.as_mut(),
            s5.as_mut(),
            s6.as_mut(),
            s7.as_mut(),
            s8.as_mut(),
            s9.as_mut(),
        ];
        for (s, w) in sends.iter_mut().zip(&wakers) {
            assert!(w.poll(s.as_mut()).is_pending());
        }
        assert!(rx.close());
        for (i, (s, w)) in sends.iter_mut().zip(&wakers).enumerate() {
            assert!(w.is_woken());
            assert_eq!(
                w.poll(s.as_mut()),
                Poll::Ready(Err(rendez::SendError(i as u64)))
            );
        }
    });
    assert_eq!(allocs, 0);

    let (tx, rx) = rendez::channel::<u64>();
    let rx2 = rx.clone();
    let (_, allocs) = count_allocs(|| {
        let mut r0 = pin!(rx.recv());
        let mut r1 = pin!(rx2.recv());
        assert!(wakers[10].poll(r0.as_mut()).is_pending());
        assert!(wakers[11].poll(r1.as_mut()).is_pending());
        // The last Sender's drop closes the channel.
        drop(tx);
        assert_eq!(
            wakers[10].poll(r0.as_mut()),
            Poll::Ready(Err(rendez::RecvError))
        );
        assert_eq!(
            wakers[11].poll(r1.as_mut()),
            Poll::Ready(Err(rendez::RecvError))
        );
        assert!(!rx.close());
    });
    assert_eq!(allocs, 0);
}

// === select ===

#[test]
fn async_select_allocates_nothing() {
    // Two receive arms and a send arm, through each path: an arm ready at once, a send arm taken
    // while the select waits, and a receive arm served while it waits.
    let (tx_a, rx_a) = rendez::channel::<u64>();
    let (tx_b, rx_b) = rendez::channel::<u64>();
    let (tx_c, rx_c) = rendez::channel::<u64>();
    let ws = TestWaker::new();
    // Outside the counted region: `scaled` reads the environment.
    let rounds = scaled(100) as u64;
    // Warm up the executor's thread-local state.
    futures::executor::block_on(async {});
    let (sum, allocs) = count_allocs(|| {
        futures::executor::block_on(async {
            let mut sum = 0;
            for i in 0..rounds {
                // Ready at once: a send waits on A.
                let mut send = pin!(tx_a.send(i));
                assert!(ws.poll(send.as_mut()).is_pending());
                sum += rendez::select! {
                    recv(rx_a) -> r => r.unwrap(),
                    recv(rx_b) -> _r => panic!("nothing is sent on B"),
                    send(tx_c, i) -> _r => panic!("nobody receives on C"),
                };
                assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
                // The select waits; a receive on C takes the send arm's message.
                let ((), got) = futures::join!(
                    async {
                        rendez::select! {
                            recv(rx_a) -> _r => panic!("nothing is sent on A"),
                            recv(rx_b) -> _r => panic!("nothing is sent on B"),
                            send(tx_c, i) -> r => r.unwrap(),
                        }
                    },
                    rx_c.recv(),
                );
                sum += got.unwrap();
                // The select waits; a send on B is taken by its receive arm.
                let (got, sent) = futures::join!(
                    async {
                        rendez::select! {
                            recv(rx_a) -> _r => panic!("nothing is sent on A"),
                            recv(rx_b) -> r => r.unwrap(),
                            send(tx_c, i) -> _r => panic!("nobody receives on C"),
                        }
                    },
                    tx_b.send(i),
                );
                sent.unwrap();
                sum += got;
            }
            sum
        })
    });
    assert_eq!(sum, 3 * (0..rounds).sum::<u64>());
    assert_eq!(allocs, 0);
}

#[test]
fn blocking_select_with_a_peer_thread_allocates_nothing() {
    // The peer sends on A, then receives on B, each round. The select over `recv(A)` and
    // `send(B)` is therefore first met on A, then on B: both arms park and are woken.
    let (tx_a, rx_a) = rendez::channel::<u64>();
    let (tx_b, rx_b) = rendez::channel::<u64>();
    let rounds = scaled(200) as u64;
    let barrier = Arc::new(Barrier::new(2));
    let peer = {
        let barrier = barrier.clone();
        thread::spawn(move || {
            warm_up_blocking_on_this_thread();
            barrier.wait();
            count_allocs(|| {
                for i in 0..rounds {
                    tx_a.send_blocking(i).unwrap();
                    assert_eq!(rx_b.recv_blocking(), Ok(i + 1));
                }
            })
            .1
        })
    };
    warm_up_blocking_on_this_thread();
    // Warm up the blocking select's own state on this thread, if it has any.
    {
        let (_tx, rx) = rendez::channel::<u8>();
        rendez::select_blocking! {
            recv(rx) -> _r => unreachable!("nothing is sent"),
            default(Duration::from_millis(1)) => {}
        }
    }
    barrier.wait();
    let (sum, allocs) = count_allocs(|| {
        let mut sum = 0;
        for _ in 0..rounds {
            let got = rendez::select_blocking! {
                recv(rx_a) -> r => r.unwrap(),
                send(tx_b, u64::MAX) -> _r => panic!("the peer receives on B only after sending on A"),
            };
            sum += got;
            rendez::select_blocking! {
                recv(rx_a) -> _r => panic!("the peer sends on A only after receiving on B"),
                send(tx_b, got + 1) -> r => r.unwrap(),
            }
        }
        sum
    });
    let peer_allocs = peer.join().unwrap();
    assert_eq!(sum, (0..rounds).sum::<u64>());
    assert_eq!(allocs, 0, "the selecting thread");
    assert_eq!(peer_allocs, 0, "the peer thread");
}

#[test]
fn select_builder_selects_allocate_nothing() {
    // `Select` allocates when operations are added; selecting again and again does not.
    let (tx_a, rx_a) = rendez::channel::<u64>();
    let (tx_b, rx_b) = rendez::channel::<u64>();
    let ws = TestWaker::new();
    let mut sel = rendez::Select::new();
    let op_a = sel.recv(&rx_a);
    let op_b = sel.recv(&rx_b);
    futures::executor::block_on(async {});
    warm_up_blocking_on_this_thread();
    let rounds = scaled(100) as u64;
    let (sum, allocs) = count_allocs(|| {
        let mut sum = 0;
        for i in 0..rounds {
            assert!(sel.try_select().is_none());
            let mut send = pin!(tx_a.send(i));
            assert!(ws.poll(send.as_mut()).is_pending());
            match sel.try_select() {
                Some((index, rendez::Selected::Received(Ok(v)))) if index == op_a => sum += v,
                _ => panic!("the send on A was not selected"),
            }
            assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
            let mut send = pin!(tx_b.send(i));
            assert!(ws.poll(send.as_mut()).is_pending());
            match sel.select_blocking() {
                (index, rendez::Selected::Received(Ok(v))) if index == op_b => sum += v,
                _ => panic!("the send on B was not selected"),
            }
            assert_eq!(ws.poll(send.as_mut()), Poll::Ready(Ok(())));
            // Waiting, then served.
            let ((index, outcome), sent) =
                futures::executor::block_on(async { futures::join!(sel.select(), tx_a.send(i)) });
            sent.unwrap();
            match (index, outcome) {
                (index, rendez::Selected::Received(Ok(v))) if index == op_a => sum += v,
                _ => panic!("the send on A was not selected"),
            }
        }
        sum
    });
    assert_eq!(sum, 3 * (0..rounds).sum::<u64>());
    assert_eq!(allocs, 0);
}
