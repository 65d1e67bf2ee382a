//! CONTRACT rule 12's "a caller can ask never to spin": `rendez::wait`. This file is its own test
//! process, so setting the process-wide policy here touches no other test.
#![cfg(feature = "std")]

mod common;

use std::thread;
use std::time::Duration;

use common::join;
use rendez::wait::{set_thread_wait_policy, set_wait_policy, wait_policy, WaitPolicy};
use rendez::RecvTimeoutError;

/// Every blocking call still works when no thread may spin: ping-pong, a stream, timeouts, a
/// blocking select, and a thread handing over to a task.
#[test]
fn every_blocking_call_works_when_no_thread_spins() {
    set_wait_policy(WaitPolicy::Park);
    assert_eq!(wait_policy(), WaitPolicy::Park);
    let (tx, rx) = rendez::channel::<u32>();
    let (back_tx, back_rx) = rendez::channel::<u32>();
    let echo = thread::spawn(move || {
        assert_eq!(wait_policy(), WaitPolicy::Park, "the process-wide policy");
        for msg in &rx {
            back_tx.send_blocking(msg + 1).unwrap();
        }
    });
    for n in 0..2_000 {
        tx.send_blocking(n).unwrap();
        assert_eq!(back_rx.recv_blocking(), Ok(n + 1));
    }
    assert_eq!(
        back_rx.recv_timeout(Duration::from_millis(5)),
        Err(RecvTimeoutError::Timeout)
    );
    let (a_tx, a_rx) = rendez::channel::<u32>();
    let (b_tx, b_rx) = rendez::channel::<u32>();
    let feeder = thread::spawn(move || {
        for n in 0..100 {
            if n % 2 == 0 {
                a_tx.send_blocking(n).unwrap();
            } else {
                b_tx.send_blocking(n).unwrap();
            }
        }
    });
    let mut sum = 0;
    for _ in 0..100 {
        rendez::select_blocking! {
            recv(a_rx) -> msg => sum += msg.unwrap(),
            recv(b_rx) -> msg => sum += msg.unwrap(),
        }
    }
    assert_eq!(sum, (0..100).sum::<u32>());
    join(feeder);
    drop(tx);
    join(echo);
    set_wait_policy(WaitPolicy::Adaptive);
}

#[test]
fn a_thread_policy_overrides_the_process_one_for_that_thread_only() {
    let parked = thread::spawn(|| {
        set_thread_wait_policy(Some(WaitPolicy::Park));
        let here = wait_policy();
        set_thread_wait_policy(None);
        (here, wait_policy())
    });
    let (here, after) = join(parked);
    assert_eq!(here, WaitPolicy::Park);
    // Back to the process-wide one (which the other test may have set meanwhile).
    assert!(matches!(after, WaitPolicy::Park | WaitPolicy::Adaptive));
    let other = thread::spawn(wait_policy);
    assert!(matches!(
        join(other),
        WaitPolicy::Park | WaitPolicy::Adaptive
    ));
}

/// Threads that never spin, many more than the CPUs, forwarding between two channels (Go's
/// multi-consumer shape): every message arrives once.
#[test]
fn a_pool_of_parking_threads_forwards_every_message_once() {
    let (a_tx, a_rx) = rendez::channel::<u64>();
    let (b_tx, b_rx) = rendez::channel::<u64>();
    let forwarders: Vec<_> = (0..12)
        .map(|_| {
            let (a_rx, b_tx) = (a_rx.clone(), b_tx.clone());
            thread::spawn(move || {
                set_thread_wait_policy(Some(WaitPolicy::Park));
                for msg in a_rx {
                    b_tx.send_blocking(msg).unwrap();
                }
            })
        })
        .collect();
    drop((a_rx, b_tx));
    let n = common::scaled(5_000) as u64;
    let producer = thread::spawn(move || {
        for i in 0..n {
            a_tx.send_blocking(i).unwrap();
        }
    });
    let sum: u64 = b_rx.iter().take(n as usize).sum();
    assert_eq!(sum, n * (n - 1) / 2);
    join(producer);
    drop(b_rx);
    for f in forwarders {
        join(f);
    }
}

/// The default policy with threads that outnumber the CPUs many times over (Go's
/// `TestMultiConsumer`: 23 forwarders): most of them wait behind others in line and park at
/// once, the one in front spins or yields, and a few of them time out and wait again. Every
/// message arrives once, and nothing stays parked (a lost wake-up would hang this test).
#[test]
fn a_pool_larger_than_the_machine_forwards_every_message_once_with_the_default_policy() {
    let (a_tx, a_rx) = rendez::channel::<u64>();
    let (b_tx, b_rx) = rendez::channel::<u64>();
    let forwarders: Vec<_> = (0..23)
        .map(|index| {
            let (a_rx, b_tx) = (a_rx.clone(), b_tx.clone());
            thread::spawn(move || {
                set_thread_wait_policy(Some(WaitPolicy::Adaptive));
                loop {
                    // A few forwarders wait with a deadline short enough to pass while they
                    // stand in line, and then register again at the back.
                    let msg = if index % 4 == 0 {
                        match a_rx.recv_timeout(Duration::from_micros(50)) {
                            Ok(msg) => msg,
                            Err(RecvTimeoutError::Timeout) => continue,
                            Err(RecvTimeoutError::Disconnected) => return,
                        }
                    } else {
                        match a_rx.recv_blocking() {
                            Ok(msg) => msg,
                            Err(_) => return,
                        }
                    };
                    b_tx.send_blocking(msg).unwrap();
                }
            })
        })
        .collect();
    drop((a_rx, b_tx));
    let n = common::scaled(20_000) as u64;
    let producer = thread::spawn(move || {
        set_thread_wait_policy(Some(WaitPolicy::Adaptive));
        for i in 0..n {
            a_tx.send_blocking(i).unwrap();
        }
    });
    let mut seen = vec![false; n as usize];
    for _ in 0..n {
        let msg = b_rx.recv_blocking().unwrap() as usize;
        assert!(!seen[msg], "message {msg} arrived twice");
        seen[msg] = true;
    }
    join(producer);
    for f in forwarders {
        join(f);
    }
    assert_eq!(b_rx.try_recv(), Err(rendez::TryRecvError::Disconnected));
}
