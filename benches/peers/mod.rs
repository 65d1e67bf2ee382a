//! The peers and the scenarios, written once and shared by `benches/channels.rs` (criterion) and
//! `examples/compare.rs` (one table).
//!
//! Each peer is a unit type with a small adapter per API style: [`AsyncPeer`] (async send and
//! receive), [`BlockingPeer`] (threads), [`MixedPeer`] (a thread sends, a task receives), and
//! [`BlockingSelectPeer`] / [`AsyncSelectPeer`] (waiting on two operations at once). Each
//! scenario is one generic function over such an adapter and a message type [`Msg`]; [`scenarios`]
//! instantiates every scenario for every peer that supports it and hands back boxed runners.
//!
//! A runner moves a fixed number of messages (or round trips) through a fresh channel and returns
//! the time that took. Runtimes are built once, outside the timed part; thread and task spawns are
//! inside it (a few microseconds against milliseconds of traffic).

use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

pub mod load;
pub mod strict;

// === messages ===

/// A message type: built from its index, and read back so the receiving side can check the sum.
pub trait Msg: Send + 'static {
    /// What the scenario tables call this type.
    const NAME: &'static str;
    /// The message with index `i`.
    fn make(i: usize) -> Self;
    /// The index it was made from.
    fn index(&self) -> usize;
}

impl Msg for usize {
    const NAME: &'static str = "usize";
    fn make(i: usize) -> Self {
        i
    }
    fn index(&self) -> usize {
        *self
    }
}

/// A 256-byte message, moved by value.
pub struct Big(pub [u8; 256]);

impl Msg for Big {
    const NAME: &'static str = "[u8; 256]";
    fn make(i: usize) -> Self {
        let mut bytes = [0xA5; 256];
        bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
        Big(bytes)
    }
    fn index(&self) -> usize {
        let mut word = [0; 8];
        word.copy_from_slice(&self.0[..8]);
        u64::from_le_bytes(word) as usize
    }
}

/// Panics unless the indices received add up to those of `0..n`: every message arrived once.
fn check_sum(sum: usize, n: usize) {
    assert_eq!(
        sum,
        n * n.saturating_sub(1) / 2,
        "messages lost or duplicated"
    );
}

// === peers ===

/// What every adapter says about its channel.
pub trait Peer: 'static {
    /// The column name.
    const NAME: &'static str;
    /// `false` for the buffered references (one slot), which are not rendezvous channels.
    const ZERO_CAPACITY: bool;
    /// `true` for a peer that takes one sender at a time (the strict reference): it sits out the
    /// rows with several producers.
    const ONE_SENDER: bool = false;
}

/// A channel used with async sends and receives.
pub trait AsyncPeer: Peer {
    /// The sending half.
    type Tx<T: Msg>: Clone + Send + Sync + 'static;
    /// The receiving half.
    type Rx<T: Msg>: Send + 'static;
    /// A fresh channel.
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>);
    /// Another receiving half, if the channel has more than one consumer (`None`: MPSC only).
    fn clone_rx<T: Msg>(rx: &Self::Rx<T>) -> Option<Self::Rx<T>>;
    /// Sends `msg`; `false` if the channel is closed.
    fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> impl Future<Output = bool> + Send + '_;
    /// Receives a message; `None` once the channel is closed.
    fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> impl Future<Output = Option<T>> + Send + '_;
}

/// A channel used from threads with blocking sends and receives.
pub trait BlockingPeer: Peer {
    /// The sending half.
    type Tx<T: Msg>: Clone + Send + 'static;
    /// The receiving half.
    type Rx<T: Msg>: Send + 'static;
    /// A fresh channel.
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>);
    /// Another receiving half, if the channel has more than one consumer (`None`: MPSC only).
    fn clone_rx<T: Msg>(rx: &Self::Rx<T>) -> Option<Self::Rx<T>>;
    /// Sends `msg`, blocking; `false` if the channel is closed.
    fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> bool;
    /// Receives a message, blocking; `None` once the channel is closed.
    fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> Option<T>;
}

/// A channel whose sending half blocks a thread and whose receiving half is awaited by a task.
pub trait MixedPeer: Peer {
    /// The blocking sending half.
    type Tx<T: Msg>: Send + 'static;
    /// The async receiving half.
    type Rx<T: Msg>: Send + 'static;
    /// A fresh channel.
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>);
    /// Sends `msg`, blocking; `false` if the channel is closed.
    fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> bool;
    /// Receives a message; `None` once the channel is closed.
    fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> impl Future<Output = Option<T>> + Send + '_;
}

/// A blocking channel with a select: one thread waits on two operations at once.
pub trait BlockingSelectPeer: BlockingPeer {
    /// Receives from whichever of `a` and `b` has a message first; `None` if it is closed.
    fn select_recv<T: Msg>(a: &Self::Rx<T>, b: &Self::Rx<T>) -> Option<T>;
    /// Sends the message with index `i` on whichever of `a` and `b` is taken first; `false` if
    /// that one is closed.
    fn select_send<T: Msg>(a: &Self::Tx<T>, b: &Self::Tx<T>, i: usize) -> bool;
}

/// An async channel with a select: one task waits on two receives at once.
pub trait AsyncSelectPeer: AsyncPeer {
    /// Receives from whichever of `a` and `b` has a message first; `None` if it is closed.
    fn select_recv<'a, T: Msg>(
        a: &'a mut Self::Rx<T>,
        b: &'a mut Self::Rx<T>,
    ) -> impl Future<Output = Option<T>> + Send + 'a;
}

/// `rendez::channel()`.
pub struct Rendez;
/// `rendez::channel()` with `tokio::select!` over two `recv()` futures instead of
/// `rendez::select!` (async select rows only).
pub struct RendezTokioSelect;
/// `flume::bounded(0)`.
pub struct Flume;
/// `kanal::bounded(0)` / `kanal::bounded_async(0)`.
pub struct Kanal;
/// `crossbeam_channel::bounded(0)` (blocking only).
pub struct Crossbeam;
/// The strict SPSC lower-bound reference ([`strict`]): async, one sender, one receiver.
pub struct StrictRef;
/// `std::sync::mpsc::sync_channel(0)` (blocking only, one consumer).
pub struct StdSync;
/// `async_channel::bounded(1)`: a buffered reference, one slot.
pub struct AsyncChannel1;
/// `tokio::sync::mpsc::channel(1)`: a buffered reference, one slot, one consumer.
pub struct TokioMpsc1;

// --- rendez ---

impl Peer for Rendez {
    const NAME: &'static str = "rendez";
    const ZERO_CAPACITY: bool = true;
}

impl AsyncPeer for Rendez {
    type Tx<T: Msg> = rendez::Sender<T>;
    type Rx<T: Msg> = rendez::Receiver<T>;
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>) {
        rendez::channel()
    }
    fn clone_rx<T: Msg>(rx: &Self::Rx<T>) -> Option<Self::Rx<T>> {
        Some(rx.clone())
    }
    async fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> bool {
        tx.send(msg).await.is_ok()
    }
    async fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv().await.ok()
    }
}

impl BlockingPeer for Rendez {
    type Tx<T: Msg> = rendez::Sender<T>;
    type Rx<T: Msg> = rendez::Receiver<T>;
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>) {
        rendez::channel()
    }
    fn clone_rx<T: Msg>(rx: &Self::Rx<T>) -> Option<Self::Rx<T>> {
        Some(rx.clone())
    }
    fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> bool {
        tx.send_blocking(msg).is_ok()
    }
    fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv_blocking().ok()
    }
}

impl MixedPeer for Rendez {
    type Tx<T: Msg> = rendez::Sender<T>;
    type Rx<T: Msg> = rendez::Receiver<T>;
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>) {
        rendez::channel()
    }
    fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> bool {
        tx.send_blocking(msg).is_ok()
    }
    async fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv().await.ok()
    }
}

impl BlockingSelectPeer for Rendez {
    fn select_recv<T: Msg>(a: &Self::Rx<T>, b: &Self::Rx<T>) -> Option<T> {
        rendez::select_blocking! {
            recv(a) -> msg => msg.ok(),
            recv(b) -> msg => msg.ok(),
        }
    }
    fn select_send<T: Msg>(a: &Self::Tx<T>, b: &Self::Tx<T>, i: usize) -> bool {
        // rendez evaluates both messages as the select starts and drops the one not sent.
        rendez::select_blocking! {
            send(a, T::make(i)) -> res => res.is_ok(),
            send(b, T::make(i)) -> res => res.is_ok(),
        }
    }
}

impl AsyncSelectPeer for Rendez {
    async fn select_recv<'a, T: Msg>(a: &'a mut Self::Rx<T>, b: &'a mut Self::Rx<T>) -> Option<T> {
        rendez::select! {
            recv(a) -> msg => msg.ok(),
            recv(b) -> msg => msg.ok(),
        }
    }
}

impl Peer for RendezTokioSelect {
    const NAME: &'static str = "rendez+tokio::select!";
    const ZERO_CAPACITY: bool = true;
}

impl AsyncPeer for RendezTokioSelect {
    type Tx<T: Msg> = rendez::Sender<T>;
    type Rx<T: Msg> = rendez::Receiver<T>;
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>) {
        rendez::channel()
    }
    fn clone_rx<T: Msg>(rx: &Self::Rx<T>) -> Option<Self::Rx<T>> {
        Some(rx.clone())
    }
    fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> impl Future<Output = bool> + Send + '_ {
        <Rendez as AsyncPeer>::send(tx, msg)
    }
    fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> impl Future<Output = Option<T>> + Send + '_ {
        <Rendez as AsyncPeer>::recv(rx)
    }
}

impl AsyncSelectPeer for RendezTokioSelect {
    async fn select_recv<'a, T: Msg>(a: &'a mut Self::Rx<T>, b: &'a mut Self::Rx<T>) -> Option<T> {
        // Receives are cancel safe, so the branch that loses is simply dropped.
        tokio::select! {
            msg = a.recv() => msg.ok(),
            msg = b.recv() => msg.ok(),
        }
    }
}

// --- flume ---

impl Peer for Flume {
    const NAME: &'static str = "flume";
    const ZERO_CAPACITY: bool = true;
}

impl AsyncPeer for Flume {
    type Tx<T: Msg> = flume::Sender<T>;
    type Rx<T: Msg> = flume::Receiver<T>;
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>) {
        flume::bounded(0)
    }
    fn clone_rx<T: Msg>(rx: &Self::Rx<T>) -> Option<Self::Rx<T>> {
        Some(rx.clone())
    }
    async fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> bool {
        tx.send_async(msg).await.is_ok()
    }
    async fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv_async().await.ok()
    }
}

impl BlockingPeer for Flume {
    type Tx<T: Msg> = flume::Sender<T>;
    type Rx<T: Msg> = flume::Receiver<T>;
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>) {
        flume::bounded(0)
    }
    fn clone_rx<T: Msg>(rx: &Self::Rx<T>) -> Option<Self::Rx<T>> {
        Some(rx.clone())
    }
    fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> bool {
        tx.send(msg).is_ok()
    }
    fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv().ok()
    }
}

impl MixedPeer for Flume {
    type Tx<T: Msg> = flume::Sender<T>;
    type Rx<T: Msg> = flume::Receiver<T>;
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>) {
        flume::bounded(0)
    }
    fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> bool {
        tx.send(msg).is_ok()
    }
    async fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv_async().await.ok()
    }
}

// --- kanal ---

impl Peer for Kanal {
    const NAME: &'static str = "kanal";
    const ZERO_CAPACITY: bool = true;
}

impl AsyncPeer for Kanal {
    type Tx<T: Msg> = kanal::AsyncSender<T>;
    type Rx<T: Msg> = kanal::AsyncReceiver<T>;
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>) {
        kanal::bounded_async(0)
    }
    fn clone_rx<T: Msg>(rx: &Self::Rx<T>) -> Option<Self::Rx<T>> {
        Some(rx.clone())
    }
    async fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> bool {
        tx.send(msg).await.is_ok()
    }
    async fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv().await.ok()
    }
}

impl BlockingPeer for Kanal {
    type Tx<T: Msg> = kanal::Sender<T>;
    type Rx<T: Msg> = kanal::Receiver<T>;
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>) {
        kanal::bounded(0)
    }
    fn clone_rx<T: Msg>(rx: &Self::Rx<T>) -> Option<Self::Rx<T>> {
        Some(rx.clone())
    }
    fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> bool {
        tx.send(msg).is_ok()
    }
    fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv().ok()
    }
}

impl MixedPeer for Kanal {
    type Tx<T: Msg> = kanal::Sender<T>;
    type Rx<T: Msg> = kanal::AsyncReceiver<T>;
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>) {
        let (tx, rx) = kanal::bounded(0);
        (tx, rx.to_async())
    }
    fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> bool {
        tx.send(msg).is_ok()
    }
    async fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv().await.ok()
    }
}

// --- crossbeam-channel ---

impl Peer for Crossbeam {
    const NAME: &'static str = "crossbeam";
    const ZERO_CAPACITY: bool = true;
}

impl BlockingPeer for Crossbeam {
    type Tx<T: Msg> = crossbeam_channel::Sender<T>;
    type Rx<T: Msg> = crossbeam_channel::Receiver<T>;
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>) {
        crossbeam_channel::bounded(0)
    }
    fn clone_rx<T: Msg>(rx: &Self::Rx<T>) -> Option<Self::Rx<T>> {
        Some(rx.clone())
    }
    fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> bool {
        tx.send(msg).is_ok()
    }
    fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv().ok()
    }
}

impl BlockingSelectPeer for Crossbeam {
    fn select_recv<T: Msg>(a: &Self::Rx<T>, b: &Self::Rx<T>) -> Option<T> {
        crossbeam_channel::select! {
            recv(a) -> msg => msg.ok(),
            recv(b) -> msg => msg.ok(),
        }
    }
    fn select_send<T: Msg>(a: &Self::Tx<T>, b: &Self::Tx<T>, i: usize) -> bool {
        // crossbeam evaluates a send arm's message only once that arm is selected.
        crossbeam_channel::select! {
            send(a, T::make(i)) -> res => res.is_ok(),
            send(b, T::make(i)) -> res => res.is_ok(),
        }
    }
}

// --- the strict SPSC reference ---

impl Peer for StrictRef {
    const NAME: &'static str = "strict-ref";
    const ZERO_CAPACITY: bool = true;
    const ONE_SENDER: bool = true;
}

impl AsyncPeer for StrictRef {
    type Tx<T: Msg> = strict::StrictTx<T>;
    type Rx<T: Msg> = strict::StrictRx<T>;
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>) {
        strict::channel()
    }
    fn clone_rx<T: Msg>(_: &Self::Rx<T>) -> Option<Self::Rx<T>> {
        None
    }
    async fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> bool {
        tx.send(msg).await.is_ok()
    }
    async fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv().await
    }
}

// --- std::sync::mpsc ---

impl Peer for StdSync {
    const NAME: &'static str = "std";
    const ZERO_CAPACITY: bool = true;
}

impl BlockingPeer for StdSync {
    type Tx<T: Msg> = std::sync::mpsc::SyncSender<T>;
    type Rx<T: Msg> = std::sync::mpsc::Receiver<T>;
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>) {
        std::sync::mpsc::sync_channel(0)
    }
    fn clone_rx<T: Msg>(_: &Self::Rx<T>) -> Option<Self::Rx<T>> {
        None
    }
    fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> bool {
        tx.send(msg).is_ok()
    }
    fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv().ok()
    }
}

// --- async-channel (buffered reference) ---

impl Peer for AsyncChannel1 {
    const NAME: &'static str = "async-channel[1]";
    const ZERO_CAPACITY: bool = false;
}

impl AsyncPeer for AsyncChannel1 {
    type Tx<T: Msg> = async_channel::Sender<T>;
    type Rx<T: Msg> = async_channel::Receiver<T>;
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>) {
        async_channel::bounded(1)
    }
    fn clone_rx<T: Msg>(rx: &Self::Rx<T>) -> Option<Self::Rx<T>> {
        Some(rx.clone())
    }
    async fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> bool {
        tx.send(msg).await.is_ok()
    }
    async fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv().await.ok()
    }
}

impl MixedPeer for AsyncChannel1 {
    type Tx<T: Msg> = async_channel::Sender<T>;
    type Rx<T: Msg> = async_channel::Receiver<T>;
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>) {
        async_channel::bounded(1)
    }
    fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> bool {
        tx.send_blocking(msg).is_ok()
    }
    async fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv().await.ok()
    }
}

// --- tokio mpsc (buffered reference) ---

impl Peer for TokioMpsc1 {
    const NAME: &'static str = "tokio-mpsc[1]";
    const ZERO_CAPACITY: bool = false;
}

impl AsyncPeer for TokioMpsc1 {
    type Tx<T: Msg> = tokio::sync::mpsc::Sender<T>;
    type Rx<T: Msg> = tokio::sync::mpsc::Receiver<T>;
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>) {
        tokio::sync::mpsc::channel(1)
    }
    fn clone_rx<T: Msg>(_: &Self::Rx<T>) -> Option<Self::Rx<T>> {
        None
    }
    async fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> bool {
        tx.send(msg).await.is_ok()
    }
    fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> impl Future<Output = Option<T>> + Send + '_ {
        rx.recv()
    }
}

impl AsyncSelectPeer for TokioMpsc1 {
    async fn select_recv<'a, T: Msg>(a: &'a mut Self::Rx<T>, b: &'a mut Self::Rx<T>) -> Option<T> {
        tokio::select! {
            msg = a.recv() => msg,
            msg = b.recv() => msg,
        }
    }
}

impl MixedPeer for TokioMpsc1 {
    type Tx<T: Msg> = tokio::sync::mpsc::Sender<T>;
    type Rx<T: Msg> = tokio::sync::mpsc::Receiver<T>;
    fn channel<T: Msg>() -> (Self::Tx<T>, Self::Rx<T>) {
        tokio::sync::mpsc::channel(1)
    }
    fn send<T: Msg>(tx: &Self::Tx<T>, msg: T) -> bool {
        tx.blocking_send(msg).is_ok()
    }
    fn recv<T: Msg>(rx: &mut Self::Rx<T>) -> impl Future<Output = Option<T>> + Send + '_ {
        rx.recv()
    }
}

// === scenarios ===

/// Producers and consumers in the MPMC scenarios (each).
pub const MPMC_SIDES: usize = 4;

/// Sends the messages with indices in `range`, then drops `tx`.
async fn produce<P: AsyncPeer, M: Msg>(tx: P::Tx<M>, range: std::ops::Range<usize>) {
    for i in range {
        assert!(P::send(&tx, M::make(i)).await, "closed early");
    }
}

/// Receives until the channel closes; returns the sum of the indices.
async fn consume<P: AsyncPeer, M: Msg>(mut rx: P::Rx<M>) -> usize {
    let mut sum = 0;
    while let Some(msg) = P::recv(&mut rx).await {
        sum += black_box(msg).index();
    }
    sum
}

/// The index range that producer `k` of `producers` sends, out of `n` messages.
fn share(k: usize, producers: usize, n: usize) -> std::ops::Range<usize> {
    k * n / producers..(k + 1) * n / producers
}

/// `producers` tasks send `n` messages in all to `consumers` tasks, on `rt`.
fn async_stream<P: AsyncPeer, M: Msg>(
    rt: &Runtime,
    producers: usize,
    consumers: usize,
    n: usize,
) -> Duration {
    let (tx, rx) = P::channel::<M>();
    let mut rxs: Vec<_> = (1..consumers)
        .map(|_| P::clone_rx(&rx).expect("an MPMC scenario needs an MPMC peer"))
        .collect();
    rxs.push(rx);
    let mut txs: Vec<_> = (1..producers).map(|_| tx.clone()).collect();
    txs.push(tx);
    rt.block_on(async move {
        let start = Instant::now();
        let consumers: Vec<_> = rxs
            .into_iter()
            .map(|rx| tokio::spawn(consume::<P, M>(rx)))
            .collect();
        let producers: Vec<_> = txs
            .into_iter()
            .enumerate()
            .map(|(k, tx)| tokio::spawn(produce::<P, M>(tx, share(k, producers, n))))
            .collect();
        for producer in producers {
            producer.await.unwrap();
        }
        let mut sum = 0;
        for consumer in consumers {
            sum += consumer.await.unwrap();
        }
        let elapsed = start.elapsed();
        check_sum(sum, n);
        elapsed
    })
}

/// `n` request/response round trips between two tasks over two channels, on `rt`.
fn async_ping_pong<P: AsyncPeer, M: Msg>(rt: &Runtime, n: usize) -> Duration {
    let (req_tx, mut req_rx) = P::channel::<M>();
    let (resp_tx, mut resp_rx) = P::channel::<M>();
    rt.block_on(async move {
        let start = Instant::now();
        let server = tokio::spawn(async move {
            while let Some(msg) = P::recv(&mut req_rx).await {
                if !P::send(&resp_tx, msg).await {
                    break;
                }
            }
        });
        let client = tokio::spawn(async move {
            let mut sum = 0;
            for i in 0..n {
                assert!(P::send(&req_tx, M::make(i)).await, "closed early");
                sum += P::recv(&mut resp_rx).await.expect("closed early").index();
            }
            sum
        });
        let sum = client.await.unwrap();
        server.await.unwrap();
        let elapsed = start.elapsed();
        check_sum(sum, n);
        elapsed
    })
}

/// `producers` threads send `n` messages in all to `consumers` threads.
fn blocking_stream<P: BlockingPeer, M: Msg>(
    producers: usize,
    consumers: usize,
    n: usize,
) -> Duration {
    let (tx, rx) = P::channel::<M>();
    let mut rxs: Vec<_> = (1..consumers)
        .map(|_| P::clone_rx(&rx).expect("an MPMC scenario needs an MPMC peer"))
        .collect();
    rxs.push(rx);
    let mut txs: Vec<_> = (1..producers).map(|_| tx.clone()).collect();
    txs.push(tx);
    let start = Instant::now();
    let sum: usize = thread::scope(|s| {
        let consumers: Vec<_> = rxs
            .into_iter()
            .map(|mut rx| {
                s.spawn(move || {
                    let mut sum = 0;
                    while let Some(msg) = P::recv(&mut rx) {
                        sum += black_box(msg).index();
                    }
                    sum
                })
            })
            .collect();
        for (k, tx) in txs.into_iter().enumerate() {
            s.spawn(move || {
                for i in share(k, producers, n) {
                    assert!(P::send(&tx, M::make(i)), "closed early");
                }
            });
        }
        consumers.into_iter().map(|c| c.join().unwrap()).sum()
    });
    let elapsed = start.elapsed();
    check_sum(sum, n);
    elapsed
}

/// `n` request/response round trips between two threads over two channels.
fn blocking_ping_pong<P: BlockingPeer, M: Msg>(n: usize) -> Duration {
    let (req_tx, mut req_rx) = P::channel::<M>();
    let (resp_tx, mut resp_rx) = P::channel::<M>();
    let start = Instant::now();
    let sum = thread::scope(|s| {
        s.spawn(move || {
            while let Some(msg) = P::recv(&mut req_rx) {
                if !P::send(&resp_tx, msg) {
                    break;
                }
            }
        });
        let client = s.spawn(move || {
            let mut sum = 0;
            for i in 0..n {
                assert!(P::send(&req_tx, M::make(i)), "closed early");
                sum += P::recv(&mut resp_rx).expect("closed early").index();
            }
            sum
        });
        client.join().unwrap()
    });
    let elapsed = start.elapsed();
    check_sum(sum, n);
    elapsed
}

/// Go's `TestMultiConsumer` shape: a thread sends `n` messages on one channel, `forwarders`
/// threads each receive from it and send on a second channel until the first closes, and the
/// calling thread drains the second.
fn blocking_multi_consumer<P: BlockingPeer, M: Msg>(forwarders: usize, n: usize) -> Duration {
    let (q_tx, q_rx) = P::channel::<M>();
    let (r_tx, mut r_rx) = P::channel::<M>();
    let mut q_rxs: Vec<_> = (1..forwarders)
        .map(|_| P::clone_rx(&q_rx).expect("the multi-consumer scenario needs an MPMC peer"))
        .collect();
    q_rxs.push(q_rx);
    let start = Instant::now();
    let sum = thread::scope(|s| {
        s.spawn(move || {
            for i in 0..n {
                assert!(P::send(&q_tx, M::make(i)), "closed early");
            }
        });
        for mut q_rx in q_rxs {
            let r_tx = r_tx.clone();
            s.spawn(move || {
                while let Some(msg) = P::recv(&mut q_rx) {
                    assert!(P::send(&r_tx, msg), "closed early");
                }
            });
        }
        drop(r_tx);
        let mut sum = 0;
        while let Some(msg) = P::recv(&mut r_rx) {
            sum += black_box(msg).index();
        }
        sum
    });
    let elapsed = start.elapsed();
    check_sum(sum, n);
    elapsed
}

/// A thread sends `n` messages with the blocking API; a task on `rt` receives them.
fn mixed_stream<P: MixedPeer, M: Msg>(rt: &Runtime, n: usize) -> Duration {
    let (tx, mut rx) = P::channel::<M>();
    let start = Instant::now();
    let sum = thread::scope(|s| {
        s.spawn(move || {
            for i in 0..n {
                assert!(P::send(&tx, M::make(i)), "closed early");
            }
        });
        rt.block_on(async move {
            tokio::spawn(async move {
                let mut sum = 0;
                while let Some(msg) = P::recv(&mut rx).await {
                    sum += black_box(msg).index();
                }
                sum
            })
            .await
            .unwrap()
        })
    });
    let elapsed = start.elapsed();
    check_sum(sum, n);
    elapsed
}

/// Two threads send `n` messages in all, each on a channel of its own; the calling thread
/// receives them with a select over the two receivers.
fn blocking_select_recv<P: BlockingSelectPeer, M: Msg>(n: usize) -> Duration {
    let (tx_a, rx_a) = P::channel::<M>();
    let (tx_b, rx_b) = P::channel::<M>();
    let start = Instant::now();
    let sum = thread::scope(|s| {
        // Clones: the originals keep both channels open until every message is in.
        for (k, tx) in [tx_a.clone(), tx_b.clone()].into_iter().enumerate() {
            s.spawn(move || {
                for i in share(k, 2, n) {
                    assert!(P::send(&tx, M::make(i)), "closed early");
                }
            });
        }
        let mut sum = 0;
        for _ in 0..n {
            let msg = P::select_recv(&rx_a, &rx_b).expect("closed early");
            sum += black_box(msg).index();
        }
        sum
    });
    let elapsed = start.elapsed();
    drop((tx_a, tx_b));
    check_sum(sum, n);
    elapsed
}

/// The calling thread sends `n` messages, each with a select over two senders; two threads
/// drain the two receivers.
fn blocking_select_send<P: BlockingSelectPeer, M: Msg>(n: usize) -> Duration {
    let (tx_a, rx_a) = P::channel::<M>();
    let (tx_b, rx_b) = P::channel::<M>();
    let start = Instant::now();
    let sum: usize = thread::scope(|s| {
        let receivers: Vec<_> = [rx_a, rx_b]
            .into_iter()
            .map(|mut rx| {
                s.spawn(move || {
                    let mut sum = 0;
                    while let Some(msg) = P::recv(&mut rx) {
                        sum += black_box(msg).index();
                    }
                    sum
                })
            })
            .collect();
        for i in 0..n {
            assert!(P::select_send(&tx_a, &tx_b, i), "closed early");
        }
        drop((tx_a, tx_b)); // closes both: the receivers finish
        receivers.into_iter().map(|r| r.join().unwrap()).sum()
    });
    let elapsed = start.elapsed();
    check_sum(sum, n);
    elapsed
}

/// Two tasks send `n` messages in all, each on a channel of its own; a third task receives them
/// with a select over the two receivers, on `rt`.
fn async_select_recv<P: AsyncSelectPeer, M: Msg>(rt: &Runtime, n: usize) -> Duration {
    let (tx_a, mut rx_a) = P::channel::<M>();
    let (tx_b, mut rx_b) = P::channel::<M>();
    rt.block_on(async move {
        let start = Instant::now();
        let producers: Vec<_> = [tx_a.clone(), tx_b.clone()]
            .into_iter()
            .enumerate()
            .map(|(k, tx)| tokio::spawn(produce::<P, M>(tx, share(k, 2, n))))
            .collect();
        let consumer = tokio::spawn(async move {
            // Keeps both channels open until every message is in.
            let _open = (tx_a, tx_b);
            let mut sum = 0;
            for _ in 0..n {
                let msg = P::select_recv(&mut rx_a, &mut rx_b).await;
                sum += black_box(msg.expect("closed early")).index();
            }
            sum
        });
        for producer in producers {
            producer.await.unwrap();
        }
        let sum = consumer.await.unwrap();
        let elapsed = start.elapsed();
        check_sum(sum, n);
        elapsed
    })
}

// === the list ===

/// One peer in one scenario.
pub struct Case {
    /// The column name ([`Peer::NAME`]).
    pub peer: &'static str,
    /// `false` for a buffered reference.
    #[allow(
        dead_code,
        reason = "read by examples/compare.rs, not by the benchmarks"
    )]
    pub zero_capacity: bool,
    /// Moves the scenario's messages once and returns the time it took.
    pub run: Box<dyn Fn() -> Duration>,
}

/// One scenario with one message type, and every peer that supports it.
pub struct Scenario {
    /// A short name: the criterion group and the table row.
    pub id: &'static str,
    /// The message type ([`Msg::NAME`]).
    pub msg: &'static str,
    /// Messages (or round trips) per run.
    pub elements: usize,
    /// The peers, in [`COLUMNS`] order.
    pub cases: Vec<Case>,
}

/// How much traffic each run moves.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Messages per run in the SPSC, MPMC and mixed scenarios.
    pub stream: usize,
    /// Round trips per run in the ping-pong scenarios.
    pub round_trips: usize,
}

impl Sizes {
    /// The sizes the criterion benchmarks and a full `compare` run use.
    pub const BENCH: Sizes = Sizes {
        stream: 10_000,
        round_trips: 2_000,
    };
}

/// The runtimes the async scenarios use, built once.
#[derive(Clone)]
struct Runtimes {
    /// tokio multi-thread, 2 workers.
    multi: Arc<Runtime>,
    /// tokio current-thread.
    current: Arc<Runtime>,
}

/// The async scenarios, each run for every [`AsyncPeer`].
#[derive(Clone, Copy)]
pub enum AsyncScenario {
    Spsc,
    Mpmc,
    /// [`MPMC_SIDES`] producers, one consumer.
    Mpsc,
    PingPong,
}

/// The blocking scenarios, each run for every [`BlockingPeer`].
#[derive(Clone, Copy)]
enum BlockingScenario {
    Spsc,
    Mpmc,
    PingPong,
    /// [`blocking_multi_consumer`] with this many forwarding threads.
    MultiConsumer(usize),
}

/// `scenario` for peer `P` with messages `M` on `rt`; `None` if `P` cannot take part.
pub fn async_case<P: AsyncPeer, M: Msg>(
    scenario: AsyncScenario,
    rt: &Arc<Runtime>,
    n: usize,
) -> Option<Case> {
    let rt = rt.clone();
    let run: Box<dyn Fn() -> Duration> = match scenario {
        AsyncScenario::Spsc => Box::new(move || async_stream::<P, M>(&rt, 1, 1, n)),
        AsyncScenario::Mpmc => {
            // Only MPMC peers: a probe channel says whether receivers clone.
            P::clone_rx(&P::channel::<M>().1)?;
            Box::new(move || async_stream::<P, M>(&rt, MPMC_SIDES, MPMC_SIDES, n))
        }
        AsyncScenario::Mpsc if P::ONE_SENDER => return None,
        AsyncScenario::Mpsc => Box::new(move || async_stream::<P, M>(&rt, MPMC_SIDES, 1, n)),
        AsyncScenario::PingPong => Box::new(move || async_ping_pong::<P, M>(&rt, n)),
    };
    Some(Case {
        peer: P::NAME,
        zero_capacity: P::ZERO_CAPACITY,
        run,
    })
}

/// `scenario` for peer `P` with messages `M`; `None` if `P` cannot take part.
fn blocking_case<P: BlockingPeer, M: Msg>(scenario: BlockingScenario, n: usize) -> Option<Case> {
    let run: Box<dyn Fn() -> Duration> = match scenario {
        BlockingScenario::Spsc => Box::new(move || blocking_stream::<P, M>(1, 1, n)),
        BlockingScenario::Mpmc => {
            P::clone_rx(&P::channel::<M>().1)?;
            Box::new(move || blocking_stream::<P, M>(MPMC_SIDES, MPMC_SIDES, n))
        }
        BlockingScenario::PingPong => Box::new(move || blocking_ping_pong::<P, M>(n)),
        BlockingScenario::MultiConsumer(forwarders) => {
            P::clone_rx(&P::channel::<M>().1)?;
            Box::new(move || blocking_multi_consumer::<P, M>(forwarders, n))
        }
    };
    Some(Case {
        peer: P::NAME,
        zero_capacity: P::ZERO_CAPACITY,
        run,
    })
}

/// The mixed scenario for peer `P` with messages `M` on `rt`.
fn mixed_case<P: MixedPeer, M: Msg>(rt: &Arc<Runtime>, n: usize) -> Option<Case> {
    let rt = rt.clone();
    Some(Case {
        peer: P::NAME,
        zero_capacity: P::ZERO_CAPACITY,
        run: Box::new(move || mixed_stream::<P, M>(&rt, n)),
    })
}

/// The blocking select scenarios.
#[derive(Clone, Copy)]
enum BlockingSelectScenario {
    /// A selecting thread with two receive arms, fed by two sender threads.
    Recv,
    /// A selecting thread with two send arms, drained by two receiver threads.
    Send,
}

/// `scenario` for peer `P` with messages `M`.
fn blocking_select_case<P: BlockingSelectPeer, M: Msg>(
    scenario: BlockingSelectScenario,
    n: usize,
) -> Option<Case> {
    let run: Box<dyn Fn() -> Duration> = match scenario {
        BlockingSelectScenario::Recv => Box::new(move || blocking_select_recv::<P, M>(n)),
        BlockingSelectScenario::Send => Box::new(move || blocking_select_send::<P, M>(n)),
    };
    Some(Case {
        peer: P::NAME,
        zero_capacity: P::ZERO_CAPACITY,
        run,
    })
}

/// The async select scenario for peer `P` with messages `M` on `rt`.
fn async_select_case<P: AsyncSelectPeer, M: Msg>(rt: &Arc<Runtime>, n: usize) -> Option<Case> {
    let rt = rt.clone();
    Some(Case {
        peer: P::NAME,
        zero_capacity: P::ZERO_CAPACITY,
        run: Box::new(move || async_select_recv::<P, M>(&rt, n)),
    })
}

/// Every peer with a blocking select (the one list of them).
fn blocking_select_cases<M: Msg>(s: BlockingSelectScenario, n: usize) -> Vec<Case> {
    [
        blocking_select_case::<Rendez, M>(s, n),
        blocking_select_case::<Crossbeam, M>(s, n),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every async select (the one list of them).
fn async_select_cases<M: Msg>(rt: &Arc<Runtime>, n: usize) -> Vec<Case> {
    [
        async_select_case::<Rendez, M>(rt, n),
        async_select_case::<RendezTokioSelect, M>(rt, n),
        async_select_case::<TokioMpsc1, M>(rt, n),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every async peer in `scenario` (the one list of async peers).
fn async_cases<M: Msg>(s: AsyncScenario, rt: &Arc<Runtime>, n: usize) -> Vec<Case> {
    [
        async_case::<Rendez, M>(s, rt, n),
        async_case::<StrictRef, M>(s, rt, n),
        async_case::<Flume, M>(s, rt, n),
        async_case::<Kanal, M>(s, rt, n),
        async_case::<AsyncChannel1, M>(s, rt, n),
        async_case::<TokioMpsc1, M>(s, rt, n),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every blocking peer in `scenario` (the one list of blocking peers).
fn blocking_cases<M: Msg>(s: BlockingScenario, n: usize) -> Vec<Case> {
    [
        blocking_case::<Rendez, M>(s, n),
        blocking_case::<Flume, M>(s, n),
        blocking_case::<Kanal, M>(s, n),
        blocking_case::<Crossbeam, M>(s, n),
        blocking_case::<StdSync, M>(s, n),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every peer that can mix a blocking sender with an async receiver (the one list of them).
fn mixed_cases<M: Msg>(rt: &Arc<Runtime>, n: usize) -> Vec<Case> {
    [
        mixed_case::<Rendez, M>(rt, n),
        mixed_case::<Flume, M>(rt, n),
        mixed_case::<Kanal, M>(rt, n),
        mixed_case::<AsyncChannel1, M>(rt, n),
        mixed_case::<TokioMpsc1, M>(rt, n),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every scenario with message type `M`.
fn scenarios_for<M: Msg>(rts: &Runtimes, sizes: Sizes) -> Vec<Scenario> {
    let (n, trips) = (sizes.stream, sizes.round_trips);
    let row = |id, elements, cases| Scenario {
        id,
        msg: M::NAME,
        elements,
        cases,
    };
    vec![
        row(
            "async_spsc_mt",
            n,
            async_cases::<M>(AsyncScenario::Spsc, &rts.multi, n),
        ),
        row(
            "async_spsc_ct",
            n,
            async_cases::<M>(AsyncScenario::Spsc, &rts.current, n),
        ),
        row(
            "async_mpmc4x4_mt",
            n,
            async_cases::<M>(AsyncScenario::Mpmc, &rts.multi, n),
        ),
        row(
            "async_mpmc4x4_ct",
            n,
            async_cases::<M>(AsyncScenario::Mpmc, &rts.current, n),
        ),
        row(
            "async_mpsc4x1_mt",
            n,
            async_cases::<M>(AsyncScenario::Mpsc, &rts.multi, n),
        ),
        row(
            "blocking_spsc",
            n,
            blocking_cases::<M>(BlockingScenario::Spsc, n),
        ),
        row(
            "blocking_mpmc4x4",
            n,
            blocking_cases::<M>(BlockingScenario::Mpmc, n),
        ),
        row("mixed_thread_to_task", n, mixed_cases::<M>(&rts.current, n)),
        row(
            "pingpong_async_mt",
            trips,
            async_cases::<M>(AsyncScenario::PingPong, &rts.multi, trips),
        ),
        row(
            "pingpong_async_ct",
            trips,
            async_cases::<M>(AsyncScenario::PingPong, &rts.current, trips),
        ),
        row(
            "pingpong_blocking",
            trips,
            blocking_cases::<M>(BlockingScenario::PingPong, trips),
        ),
        row(
            "select_blocking_recv2",
            n,
            blocking_select_cases::<M>(BlockingSelectScenario::Recv, n),
        ),
        row(
            "select_blocking_send2",
            n,
            blocking_select_cases::<M>(BlockingSelectScenario::Send, n),
        ),
        row(
            "select_async_recv2_mt",
            n,
            async_select_cases::<M>(&rts.multi, n),
        ),
        row(
            "select_async_recv2_ct",
            n,
            async_select_cases::<M>(&rts.current, n),
        ),
    ]
}

/// Every scenario, first with `usize` then with [`Big`] messages, runtimes built.
///
/// - `async_*_mt`: tasks on a tokio multi-thread runtime with 2 workers; `_ct`: on a tokio
///   current-thread runtime.
/// - `*_mpmc4x4`: 4 producers and 4 consumers share one channel (MPMC peers only);
///   `async_mpsc4x1_mt`: 4 producers, one consumer.
/// - `blocking_multiconsumer_f{1,4,23}`: Go's `TestMultiConsumer` shape (a producer thread, that
///   many threads forwarding from one channel to a second, the calling thread draining it), with
///   `usize` messages only.
/// - `strict-ref` ([`strict`]) is the least work a strict rendezvous can do, a lower bound for
///   the async SPSC and ping-pong rows; it takes no part where there are several senders.
/// - `mixed_thread_to_task`: a thread sends with the blocking API, a tokio task receives with the
///   async one, on a current-thread runtime driven by the calling thread: two threads on two cores
///   (on the multi-thread runtime an idle worker makes three, and the figures swing tenfold).
/// - `pingpong_*`: two channels, a request and its echoed response; one element is a round trip.
/// - `select_blocking_recv2`: a thread selects over two receivers, each fed by a sender thread;
///   `select_blocking_send2`: a thread sends each message with a select over two senders, each
///   drained by a receiver thread (rendez `select_blocking!`, crossbeam `select!`).
/// - `select_async_recv2_*`: a task selects over two receivers, each fed by a task (rendez
///   `select!`; `tokio::select!` over two rendez `recv()` futures; `tokio::select!` over two
///   tokio mpsc(1) receivers).
pub fn scenarios(sizes: Sizes) -> Vec<Scenario> {
    let rts = Runtimes {
        multi: Arc::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .expect("tokio runtime"),
        ),
        current: Arc::new(
            tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("tokio runtime"),
        ),
    };
    let mut all = scenarios_for::<usize>(&rts, sizes);
    all.extend(scenarios_for::<Big>(&rts, sizes));
    // Go's multi-consumer shape, with Go's message type (an integer) only.
    for (id, forwarders) in [
        ("blocking_multiconsumer_f1", 1),
        ("blocking_multiconsumer_f4", 4),
        ("blocking_multiconsumer_f23", 23),
    ] {
        all.push(Scenario {
            id,
            msg: usize::NAME,
            elements: sizes.stream,
            cases: blocking_cases::<usize>(
                BlockingScenario::MultiConsumer(forwarders),
                sizes.stream,
            ),
        });
    }
    all
}
