//! A zero-capacity (*rendezvous*) MPMC channel for async Rust that runs on any executor (tokio,
//! async-std, smol, `futures`' executors, embassy and other `no_std` executors) and on plain
//! threads.
//!
//! A send and a receive must meet; nothing is buffered. `send(msg).await` returns `Ok(())` only
//! after a receive has *taken* the message, and an async receive takes a message only inside the
//! poll that returns it. So a cancelled receive never swallows a message, and a completed send
//! always means "delivered".
//!
//! ```
//! # #[cfg(feature = "std")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (tx, rx) = rendez::channel();
//!
//! let consumer = tokio::spawn(async move {
//!     let mut got = Vec::new();
//!     while let Ok(n) = rx.recv().await {
//!         got.push(n);
//!     }
//!     got
//! });
//! for n in 0..3 {
//!     tx.send(n).await.unwrap(); // returns once the consumer has taken `n`
//! }
//! drop(tx); // dropping the last Sender closes the channel: the consumer's loop ends
//! assert_eq!(consumer.await.unwrap(), [0, 1, 2]);
//! # }
//! # #[cfg(not(feature = "std"))]
//! # fn main() {}
//! ```
//!
//! Blocking and async ends mix freely on one channel. A thread sends with
//! [`send_blocking`](Sender::send_blocking) and receives with
//! [`recv_blocking`](Receiver::recv_blocking), their `_timeout` and `_deadline` forms, or
//! `for msg in &rx`:
//!
//! ```
//! # #[cfg(feature = "std")] {
//! let (tx, rx) = rendez::channel();
//! let producer = std::thread::spawn(move || {
//!     for n in 1..=3 {
//!         tx.send_blocking(n).unwrap();
//!     }
//! });
//! assert_eq!(rx.iter().sum::<u32>(), 6); // the iteration ends when the last Sender is dropped
//! producer.join().unwrap();
//! # }
//! ```
//!
//! # Overview
//!
//! - [`channel`](fn@channel) makes a channel with counted handles, [`Sender`] and [`Receiver`] (`Clone`,
//!   `Send`, `Sync`). It closes when every `Sender` or every `Receiver` is dropped, or on
//!   `close()`. A `Receiver` is also a [`Stream`](futures_core::Stream).
//! - [`Channel`] is the whole channel by value, with a `const fn new`, for a `static` and for
//!   code without an allocator; [`Channel::stream`] is its `Stream`.
//! - [`SendFut`] and [`RecvFut`] are the futures of `send` and `recv`, and
//!   [`FusedFuture`](futures_core::future::FusedFuture)s. [`SendOwned`] and [`RecvOwned`]
//!   (from `send_owned` and `recv_owned`) own a share of the channel instead of borrowing a
//!   handle, so they can be spawned.
//! - [`WeakSender`] and [`WeakReceiver`] reach a channel without keeping it open.
//! - `closed()` on every handle returns a [`ClosedFut`], which resolves once the channel is
//!   closed: how a producer stops when no one listens any more.
//! - [`select!`], [`select_blocking!`] and [`Select`] complete exactly one of several sends and
//!   receives, on any rendez channels.
//!
//! Every future can be dropped at any point: a dropped receive loses no message, and a dropped
//! send withdraws its message unless a receive has already taken it (then it was delivered).
//! Each method says what its future does when it is dropped. Sending and receiving allocate
//! nothing: waiting operations keep their list nodes inside their futures.
//!
//! # Select
//!
//! `tokio::select!` (or `futures::select!`) over several rendez `send` futures is **not** one
//! operation: each send offers its message while it waits, so two receives on other threads can
//! each take the message of a different branch before the select is polled again, and two sends
//! happen although the select reports one. The same holds for any channel whose sends can
//! complete without the sender's involvement.
//!
//! [`select!`] is one operation. Its arms point to one shared claim, and a receive may take a
//! send arm's message only after winning that claim for it; receive arms take a message only in
//! the select's own poll. So exactly one arm takes effect, and the others leave no trace: no
//! message taken, no turn used up. Fair by default, `biased;` on request, `default` when nothing
//! is ready, and cancel safe: dropping it at any point leaves no arm half done. The messages of
//! send arms that were not selected are dropped; [`Select`] keeps them for you instead.
//!
//! ```
//! # #[cfg(feature = "std")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (jobs_tx, jobs) = rendez::channel::<u32>();
//! let (stop_tx, stop) = rendez::channel::<()>();
//! let (fast, fast_rx) = rendez::channel::<u32>();
//! let (slow, slow_rx) = rendez::channel::<u32>();
//! let router = tokio::spawn(async move {
//!     loop {
//!         rendez::select! {
//!             recv(jobs) -> job => {
//!                 let job = job.unwrap();
//!                 // Exactly one of the two workers gets it, whichever is ready first.
//!                 rendez::select! {
//!                     send(fast, job) -> r => r.unwrap(),
//!                     send(slow, job) -> r => r.unwrap(),
//!                 }
//!             }
//!             recv(stop) -> _ => break,
//!         }
//!     }
//! });
//! jobs_tx.send(7).await.unwrap();
//! assert_eq!(slow_rx.recv().await, Ok(7)); // only `slow` is waiting: it gets the job
//! stop_tx.send(()).await.unwrap();
//! router.await.unwrap();
//! assert!(fast_rx.try_recv().is_err()); // and the other arm left no trace
//! # }
//! # #[cfg(not(feature = "std"))]
//! # fn main() {}
//! ```
//!
//! On a thread, [`select_blocking!`] parks until an arm completes, with `default(timeout)`:
//!
//! ```
//! # #[cfg(feature = "std")] {
//! use std::time::Duration;
//! let (tx, rx) = rendez::channel::<&str>();
//! let (_keep_open, idle) = rendez::channel::<()>();
//! std::thread::spawn(move || tx.send_blocking("hello").unwrap());
//! let got = rendez::select_blocking! {
//!     recv(rx) -> msg => msg.unwrap(),
//!     recv(idle) -> _ => unreachable!(),
//!     default(Duration::from_secs(10)) => panic!("nothing within 10 s"),
//! };
//! assert_eq!(got, "hello");
//! # }
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `std` | yes | blocking calls (`send_blocking`, `recv_timeout`, `recv_deadline`, `for msg in &rx`, …) and the `StdLock` lock; implies `alloc` |
//! | `alloc` | yes | [`channel`](fn@channel), [`channel_with`], the counted handles, their weak forms and the owned futures |
//! | `critical-section` | no | `lock::CriticalSectionLock`, for channels an interrupt handler uses |
//! | `sink` | no | `futures_sink::Sink` for [`Sender`] |
//!
//! With `default-features = false` the crate is `#![no_std]`, needs no allocator, and offers
//! [`Channel`]; [`lock`] explains the lock strategies (a spin lock by default, a critical
//! section for interrupt handlers, and the only lock on targets without compare-and-swap such as
//! `thumbv6m-none-eabi` and `riscv32imc-unknown-none-elf`). The [README](https://crates.io/crates/rendez) has the full
//! list of guarantees, throughput next to flume, kanal and crossbeam-channel, and sizes next to
//! embassy-sync.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(docsrs, doc(auto_cfg(hide(rendez_loom))))]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, missing_debug_implementations)]

// Targets without atomic compare-and-swap (thumbv6m, riscv32imc, …): see `lock`'s module docs.
#[cfg(all(
    not(all(target_has_atomic = "8", target_has_atomic = "ptr")),
    not(feature = "critical-section")
))]
compile_error!(
    "rendez: this target has no atomic compare-and-swap; enable the `critical-section` feature \
     (`default-features = false, features = [\"critical-section\"]`) and use CriticalSectionLock"
);
#[cfg(all(not(target_has_atomic = "ptr"), feature = "alloc"))]
compile_error!(
    "rendez: the `alloc` feature (and `std`, `sink`) needs `Arc`, which needs atomic \
     compare-and-swap, and this target has none; build with `default-features = false, \
     features = [\"critical-section\"]` and use the static `Channel`"
);

#[cfg(all(rendez_no_cas, not(feature = "critical-section")))]
compile_error!(
    "rendez: `--cfg rendez_no_cas` (the no-CAS select claim) needs the `critical-section` feature"
);

#[cfg(any(feature = "alloc", test))]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

// The machinery: one file per role.
mod await_hint;
mod channel_stream;
mod closed;
mod error;
mod exchange;
mod list;
pub mod lock;
mod message;
mod recv;
mod select;
mod send;
mod static_channel;
mod sync;
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
#[cfg(feature = "std")]
pub mod wait;
mod waiter;
mod wake;

// The counted handles (`alloc`) and the blocking calls (`std`).
#[cfg(feature = "std")]
mod blocking;
#[cfg(feature = "alloc")]
mod channel;
#[cfg(feature = "std")]
mod iter;
#[cfg(feature = "alloc")]
mod owned;
#[cfg(feature = "std")]
mod parker;
#[cfg(feature = "alloc")]
mod receiver;
#[cfg(feature = "alloc")]
mod sender;
#[cfg(feature = "sink")]
mod sink;
#[cfg(all(feature = "std", not(rendez_loom)))]
mod spin;
#[cfg(feature = "alloc")]
mod weak;

#[cfg(feature = "alloc")]
pub use channel::{channel, channel_with};
pub use channel_stream::ChannelStream;
pub use closed::ClosedFut;
pub use error::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
#[cfg(feature = "std")]
pub use iter::{IntoIter, Iter, TryIter};
#[cfg(feature = "alloc")]
pub use owned::{RecvOwned, SendOwned};
#[cfg(feature = "alloc")]
pub use receiver::Receiver;
pub use recv::RecvFut;
#[cfg(feature = "alloc")]
pub use select::builder::{RecvHandle, Select, SelectFut, Selected, SendHandle};
pub use send::SendFut;
#[cfg(feature = "alloc")]
pub use sender::Sender;
pub use static_channel::Channel;
#[cfg(feature = "alloc")]
pub use weak::{WeakReceiver, WeakSender};

/// What the select macros expand to. Not a public API: names here may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::select::arm::{Arm, DynArm, Later, Operation};
    pub use crate::select::claim::Claim;
    #[cfg(feature = "std")]
    pub use crate::select::engine::select_blocking;
    pub use crate::select::engine::{try_select, Arms, Selecting};

    /// The deadline of a `default(timeout)` arm.
    #[cfg(feature = "std")]
    pub fn deadline_after(timeout: core::time::Duration) -> Option<std::time::Instant> {
        crate::blocking::deadline_after(timeout)
    }
}

/// The README's code blocks, compiled and run as doctests: the README is the crate's page on
/// crates.io, which shows hidden `# ` lines, so its examples are complete programs instead
/// (`tests/readme.rs` checks the one block that is not a doctest).
#[cfg(all(doctest, feature = "std"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
