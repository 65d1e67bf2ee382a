//! The public API surface: errors (Display / Debug / Error / into_inner / is_* / From / PartialEq /
//! Clone / Copy), `Debug` of every public type, auto traits, handle counts, `same_channel`, and a
//! `Channel` in a `static`.
#![cfg(feature = "std")]

mod common;

use std::error::Error;
use std::fmt::{Debug, Display};
use std::pin::pin;
use std::task::Poll;
use std::thread;

use common::TestWaker;
use rendez::lock::{SpinLock, StdLock};
use rendez::{
    Channel, Receiver, RecvError, RecvFut, RecvTimeoutError, SendError, SendFut, SendTimeoutError,
    Sender, TryRecvError, TrySendError,
};

/// A message type with no trait implementations at all.
struct Opaque(#[allow(dead_code)] u8);

// === compile-time checks ===

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}
fn assert_unpin<T: Unpin>() {}
fn assert_clone<T: Clone>() {}
fn assert_debug<T: Debug>() {}
fn assert_error<E: Error + Send + Sync + 'static>() {}
fn assert_copy_eq<T: Copy + Eq>() {}

#[test]
fn handles_and_futures_are_send_and_sync_for_send_messages() {
    assert_send::<Sender<u32>>();
    assert_sync::<Sender<u32>>();
    assert_send::<Receiver<u32>>();
    assert_sync::<Receiver<u32>>();
    assert_send::<SendFut<'static, u32>>();
    assert_sync::<SendFut<'static, u32>>();
    assert_send::<RecvFut<'static, u32>>();
    assert_sync::<RecvFut<'static, u32>>();
    assert_send::<Channel<u32>>();
    assert_sync::<Channel<u32>>();

    // Messages that are Send but not Sync.
    assert_send::<Sender<std::cell::Cell<u32>>>();
    assert_sync::<Sender<std::cell::Cell<u32>>>();
    assert_send::<Receiver<std::cell::Cell<u32>>>();
    assert_sync::<Receiver<std::cell::Cell<u32>>>();
    assert_send::<SendFut<'static, std::cell::Cell<u32>>>();
    assert_send::<RecvFut<'static, std::cell::Cell<u32>>>();
    assert_sync::<Channel<std::cell::Cell<u32>>>();

    // With each lock strategy.
    assert_send::<Sender<u32, SpinLock>>();
    assert_sync::<Sender<u32, SpinLock>>();
    assert_send::<Receiver<u32, SpinLock>>();
    assert_sync::<Receiver<u32, SpinLock>>();
    assert_send::<SendFut<'static, u32, SpinLock>>();
    assert_send::<RecvFut<'static, u32, SpinLock>>();
    assert_sync::<Channel<u32, SpinLock>>();
    assert_send::<Sender<u32, StdLock>>();
    assert_sync::<Receiver<u32, StdLock>>();
    assert_sync::<Channel<u32, StdLock>>();
}

#[test]
fn receiver_is_unpin_and_handles_clone() {
    assert_unpin::<Receiver<u32>>();
    assert_unpin::<Receiver<Opaque>>();
    assert_unpin::<Sender<u32>>();
    assert_clone::<Sender<Opaque>>();
    assert_clone::<Receiver<Opaque>>();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn futures_can_be_spawned_on_a_multi_thread_runtime() {
    // `tokio::spawn` requires `Send + 'static` futures that hold a SendFut / RecvFut across awaits.
    let (tx, rx) = rendez::channel::<String>();
    let s = tokio::spawn(async move { tx.send("hi".to_string()).await });
    let r = tokio::spawn(async move { rx.recv().await });
    assert_eq!(s.await.unwrap(), Ok(()));
    assert_eq!(r.await.unwrap().as_deref(), Ok("hi"));

    static CH: Channel<u32> = Channel::new();
    let s = tokio::spawn(CH.send(1));
    let r = tokio::spawn(CH.recv());
    assert_eq!(s.await.unwrap(), Ok(()));
    assert_eq!(r.await.unwrap(), Ok(1));
}

#[test]
fn errors_implement_the_std_traits() {
    assert_error::<SendError<u32>>();
    assert_error::<TrySendError<u32>>();
    assert_error::<SendTimeoutError<u32>>();
    assert_error::<RecvError>();
    assert_error::<TryRecvError>();
    assert_error::<RecvTimeoutError>();
    // Message-carrying errors are errors even for messages that are not Debug.
    assert_error::<SendError<Opaque>>();
    assert_error::<TrySendError<Opaque>>();
    assert_error::<SendTimeoutError<Opaque>>();

    assert_copy_eq::<SendError<u32>>();
    assert_copy_eq::<TrySendError<u32>>();
    assert_copy_eq::<SendTimeoutError<u32>>();
    assert_copy_eq::<RecvError>();
    assert_copy_eq::<TryRecvError>();
    assert_copy_eq::<RecvTimeoutError>();
    assert_clone::<SendError<String>>();
    assert_clone::<TrySendError<String>>();
    assert_clone::<SendTimeoutError<String>>();
}

// === errors at run time ===

/// Display and Debug of one error value, both non-empty.
fn texts<E: Display + Debug>(e: &E) -> (String, String) {
    let (display, debug) = (e.to_string(), format!("{e:?}"));
    assert!(!display.is_empty());
    assert!(!debug.is_empty());
    (display, debug)
}

#[test]
fn error_display_and_debug() {
    let all_display = [
        texts(&SendError(1)).0,
        texts(&TrySendError::Full(1)).0,
        texts(&TrySendError::Disconnected(1)).0,
        texts(&SendTimeoutError::Timeout(1)).0,
        texts(&SendTimeoutError::Disconnected(1)).0,
        texts(&RecvError).0,
        texts(&TryRecvError::Empty).0,
        texts(&TryRecvError::Disconnected).0,
        texts(&RecvTimeoutError::Timeout).0,
        texts(&RecvTimeoutError::Disconnected).0,
    ];
    // Variants are told apart by their messages.
    assert_ne!(all_display[1], all_display[2]);
    assert_ne!(all_display[3], all_display[4]);
    assert_ne!(all_display[6], all_display[7]);
    assert_ne!(all_display[8], all_display[9]);
    assert_ne!(
        all_display[0], all_display[5],
        "send and receive errors differ"
    );
    for (i, d) in all_display.iter().enumerate() {
        assert_eq!(d.trim(), d, "error {i}: no stray whitespace");
        assert!(
            !d.ends_with('.'),
            "error {i}: no trailing period, as in std"
        );
    }
    assert!(all_display[3].contains("timed out"));
    assert!(all_display[8].contains("timed out"));

    // Debug names the variant and does not need `T: Debug` (so `.unwrap()` works for any T).
    assert!(format!("{:?}", TrySendError::Full(Opaque(0))).contains("Full"));
    assert!(format!("{:?}", TrySendError::Disconnected(Opaque(0))).contains("Disconnected"));
    assert!(format!("{:?}", SendTimeoutError::Timeout(Opaque(0))).contains("Timeout"));
    assert!(format!("{:?}", SendTimeoutError::Disconnected(Opaque(0))).contains("Disconnected"));
    assert!(format!("{:?}", SendError(Opaque(0))).contains("SendError"));
    assert_eq!(format!("{RecvError:?}"), "RecvError");
    assert_eq!(format!("{:?}", TryRecvError::Empty), "Empty");
    assert_eq!(format!("{:?}", RecvTimeoutError::Timeout), "Timeout");
}

#[test]
fn errors_box_into_dyn_error_with_question_mark() {
    fn send_closed() -> Result<(), Box<dyn Error + Send + Sync>> {
        let (tx, rx) = rendez::channel::<Opaque>();
        drop(rx);
        tx.try_send(Opaque(1))?;
        Ok(())
    }
    fn recv_closed() -> Result<u8, Box<dyn Error>> {
        let (tx, rx) = rendez::channel::<u8>();
        drop(tx);
        Ok(rx.recv_blocking()?)
    }
    let e = send_closed().unwrap_err();
    assert!(e.downcast_ref::<TrySendError<Opaque>>().is_some());
    assert!(e.source().is_none());
    let e = recv_closed().unwrap_err();
    assert_eq!(e.downcast_ref::<RecvError>(), Some(&RecvError));
}

#[test]
fn into_inner_returns_the_message() {
    assert_eq!(SendError("a").into_inner(), "a");
    assert_eq!(SendError("a").0, "a");
    assert_eq!(TrySendError::Full("b").into_inner(), "b");
    assert_eq!(TrySendError::Disconnected("c").into_inner(), "c");
    assert_eq!(SendTimeoutError::Timeout("d").into_inner(), "d");
    assert_eq!(SendTimeoutError::Disconnected("e").into_inner(), "e");
    // For a message that is neither Clone nor Debug.
    let Opaque(x) = TrySendError::Full(Opaque(9)).into_inner();
    assert_eq!(x, 9);
}

#[test]
fn is_helpers() {
    assert!(TrySendError::Full(()).is_full());
    assert!(!TrySendError::Full(()).is_disconnected());
    assert!(TrySendError::Disconnected(()).is_disconnected());
    assert!(!TrySendError::Disconnected(()).is_full());

    assert!(SendTimeoutError::Timeout(()).is_timeout());
    assert!(!SendTimeoutError::Timeout(()).is_disconnected());
    assert!(SendTimeoutError::Disconnected(()).is_disconnected());
    assert!(!SendTimeoutError::Disconnected(()).is_timeout());

    assert!(TryRecvError::Empty.is_empty());
    assert!(!TryRecvError::Empty.is_disconnected());
    assert!(TryRecvError::Disconnected.is_disconnected());
    assert!(!TryRecvError::Disconnected.is_empty());

    assert!(RecvTimeoutError::Timeout.is_timeout());
    assert!(!RecvTimeoutError::Timeout.is_disconnected());
    assert!(RecvTimeoutError::Disconnected.is_disconnected());
    assert!(!RecvTimeoutError::Disconnected.is_timeout());
}

#[test]
fn from_conversions() {
    assert_eq!(
        TrySendError::from(SendError(1)),
        TrySendError::Disconnected(1)
    );
    assert_eq!(
        SendTimeoutError::from(SendError(2)),
        SendTimeoutError::Disconnected(2)
    );
    assert_eq!(TryRecvError::from(RecvError), TryRecvError::Disconnected);
    assert_eq!(
        RecvTimeoutError::from(RecvError),
        RecvTimeoutError::Disconnected
    );
    // Through `?`.
    fn lift(r: Result<(), SendError<u8>>) -> Result<(), SendTimeoutError<u8>> {
        r?;
        Ok(())
    }
    assert_eq!(
        lift(Err(SendError(3))),
        Err(SendTimeoutError::Disconnected(3))
    );
    fn lift_recv(r: Result<u8, RecvError>) -> Result<u8, TryRecvError> {
        Ok(r?)
    }
    assert_eq!(lift_recv(Err(RecvError)), Err(TryRecvError::Disconnected));
}

#[test]
fn equality_clone_and_copy() {
    assert_eq!(SendError(1), SendError(1));
    assert_ne!(SendError(1), SendError(2));
    assert_ne!(TrySendError::Full(1), TrySendError::Disconnected(1));
    assert_ne!(TrySendError::Full(1), TrySendError::Full(2));
    assert_ne!(
        SendTimeoutError::Timeout(1),
        SendTimeoutError::Disconnected(1)
    );
    assert_ne!(TryRecvError::Empty, TryRecvError::Disconnected);
    assert_ne!(RecvTimeoutError::Timeout, RecvTimeoutError::Disconnected);
    let e = TrySendError::Full(String::from("x"));
    assert_eq!(e.clone(), e);
    let c = SendTimeoutError::Timeout(5u8);
    let copied = c;
    assert_eq!(c, copied);
    let r = RecvError;
    let r2 = r;
    assert_eq!(r, r2);
}

// === Debug of every public type ===

#[test]
fn debug_of_every_public_type() {
    let (tx, rx) = rendez::channel::<Opaque>();
    let tx_dbg = format!("{tx:?}");
    let rx_dbg = format!("{rx:?}");
    assert!(tx_dbg.contains("Sender"), "{tx_dbg}");
    assert!(rx_dbg.contains("Receiver"), "{rx_dbg}");

    let w = TestWaker::new();
    let send = tx.send(Opaque(1));
    assert!(format!("{send:?}").contains("SendFut"));
    let mut send = pin!(send);
    assert!(w.poll(send.as_mut()).is_pending());
    assert!(format!("{send:?}").contains("SendFut"));
    let recv = rx.recv();
    assert!(format!("{recv:?}").contains("RecvFut"));
    let mut recv = pin!(recv);
    assert!(matches!(w.poll(recv.as_mut()), Poll::Ready(Ok(Opaque(1)))));
    assert!(format!("{recv:?}").contains("RecvFut"));

    let ch = Channel::<Opaque>::new();
    assert!(format!("{ch:?}").contains("Channel"));
    let ch_spin = Channel::<Opaque, SpinLock>::new();
    assert!(format!("{ch_spin:?}").contains("Channel"));
    assert!(format!("{:?}", ch.send(Opaque(2))).contains("SendFut"));
    assert!(format!("{:?}", ch.recv()).contains("RecvFut"));

    assert_debug::<SpinLock>();
    assert_debug::<StdLock>();
    assert_debug::<Sender<Opaque, SpinLock>>();
    assert_debug::<Receiver<Opaque, SpinLock>>();
    assert_debug::<SendFut<'static, Opaque, SpinLock>>();
    assert_debug::<RecvFut<'static, Opaque, SpinLock>>();
    assert_debug::<Channel<Opaque, StdLock>>();
    assert_debug::<SendError<Opaque>>();
    assert_debug::<TrySendError<Opaque>>();
    assert_debug::<SendTimeoutError<Opaque>>();
    assert_debug::<RecvError>();
    assert_debug::<TryRecvError>();
    assert_debug::<RecvTimeoutError>();
}

#[test]
fn debug_of_handles_shows_the_state() {
    let (tx, rx) = rendez::channel::<u8>();
    let rx2 = rx.clone();
    let dbg = format!("{tx:?}");
    assert!(
        dbg.contains('1') && dbg.contains('2'),
        "counts shown: {dbg}"
    );
    assert!(dbg.contains("false"), "open: {dbg}");
    tx.close();
    assert!(format!("{rx2:?}").contains("true"), "closed shown");
    // Debug does not deadlock while a waiter is registered (it takes the lock briefly).
    let w = TestWaker::new();
    let mut r = pin!(rx.recv());
    let _ = w.poll(r.as_mut());
    let _ = format!("{tx:?}{rx:?}{r:?}");
}

// === counts and identity ===

#[test]
fn sender_and_receiver_counts() {
    let (tx, rx) = rendez::channel::<u8>();
    assert_eq!((tx.sender_count(), tx.receiver_count()), (1, 1));
    assert_eq!((rx.sender_count(), rx.receiver_count()), (1, 1));
    let tx2 = tx.clone();
    let tx3 = tx2.clone();
    let rx2 = rx.clone();
    assert_eq!(tx.sender_count(), 3);
    assert_eq!(rx.sender_count(), 3);
    assert_eq!(tx3.receiver_count(), 2);
    assert_eq!(rx2.receiver_count(), 2);
    drop(tx2);
    assert_eq!(rx.sender_count(), 2);
    drop(rx2);
    assert_eq!(tx.receiver_count(), 1);
    // Closing does not change the counts.
    assert!(tx.close());
    assert_eq!((tx.sender_count(), tx.receiver_count()), (2, 1));
    drop(rx);
    assert_eq!(tx.receiver_count(), 0);
    drop(tx3);
    assert_eq!(tx.sender_count(), 1);
}

#[test]
fn counts_across_threads() {
    let (tx, rx) = rendez::channel::<u8>();
    let hs: Vec<_> = (0..8)
        .map(|_| {
            let (tx, rx) = (tx.clone(), rx.clone());
            thread::spawn(move || {
                for _ in 0..100 {
                    drop((tx.clone(), rx.clone()));
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!((tx.sender_count(), rx.receiver_count()), (1, 1));
    assert!(!tx.is_closed());
}

#[test]
fn same_channel() {
    let (tx, rx) = rendez::channel::<u8>();
    let (tx_other, rx_other) = rendez::channel::<u8>();
    assert!(tx.same_channel(&tx));
    assert!(tx.same_channel(&tx.clone()));
    assert!(rx.same_channel(&rx.clone()));
    assert!(!tx.same_channel(&tx_other));
    assert!(!rx.same_channel(&rx_other));
    let moved = thread::spawn({
        let tx = tx.clone();
        move || tx
    })
    .join()
    .unwrap();
    assert!(moved.same_channel(&tx));
}

// === channel constructors ===

#[test]
fn channel_with_each_lock_strategy() {
    fn round_trip<L: rendez::lock::Lock + Send + Sync + 'static>() {
        let (tx, rx) = rendez::channel_with::<u32, L>();
        let t = thread::spawn(move || rx.recv_blocking());
        tx.send_blocking(3).unwrap();
        assert_eq!(t.join().unwrap(), Ok(3));
    }
    round_trip::<SpinLock>();
    round_trip::<StdLock>();
    let (tx, rx) = rendez::channel_with::<u32, SpinLock>();
    let (sent, got) = futures::executor::block_on(async { futures::join!(tx.send(4), rx.recv()) });
    assert_eq!((sent, got), (Ok(()), Ok(4)));
}

static CH: rendez::Channel<u32> = rendez::Channel::new();
static CH_SPIN: rendez::Channel<u32, SpinLock> = rendez::Channel::new();
const _: () = {
    // `new` is usable in const context.
    std::mem::forget(Channel::<u8>::new());
};

#[test]
fn static_channel_works() {
    let (sent, got) = futures::executor::block_on(async { futures::join!(CH.send(7), CH.recv()) });
    assert_eq!((sent, got), (Ok(()), Ok(7)));
    let (sent, got) =
        futures::executor::block_on(async { futures::join!(CH_SPIN.send(8), CH_SPIN.recv()) });
    assert_eq!((sent, got), (Ok(()), Ok(8)));
    let t = thread::spawn(|| CH.recv_blocking());
    CH.send_blocking(9).unwrap();
    assert_eq!(t.join().unwrap(), Ok(9));
    assert!(!CH.is_closed());
}

#[test]
fn channel_default_is_new() {
    let ch: Channel<u32> = Channel::default();
    assert!(!ch.is_closed());
    assert_eq!(ch.try_recv(), Err(TryRecvError::Empty));
    let (sent, got) = futures::executor::block_on(async { futures::join!(ch.send(1), ch.recv()) });
    assert_eq!((sent, got), (Ok(()), Ok(1)));
}
