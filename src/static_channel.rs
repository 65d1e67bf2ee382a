//! A channel that needs no allocator: it can live in a `static`.

use core::fmt;

use crate::channel_stream::ChannelStream;
use crate::closed::ClosedFut;
use crate::error::{TryRecvError, TrySendError};
use crate::exchange::Core;
use crate::lock::{DefaultLock, Lock};
use crate::recv::RecvFut;
use crate::send::SendFut;
use crate::sync::const_fn_unless_loom;

/// A rendezvous channel by value, with a `const fn new`, for a `static` or any place without an
/// allocator. Any number of tasks may send and receive through a shared reference.
///
/// It has no handle counts, so it disconnects only by [`Channel::close`].
///
/// Without `std` the default lock is a spin lock: a channel that an interrupt handler uses must
/// name `CriticalSectionLock` (feature `critical-section`) instead, e.g.
/// `static CH: Channel<u32, CriticalSectionLock> = Channel::new();` (see [`crate::lock`]).
///
/// ```
/// static CH: rendez::Channel<u32> = rendez::Channel::new();
///
/// # futures::executor::block_on(async {
/// let (sent, got) = futures::join!(CH.send(7), CH.recv());
/// assert_eq!((sent, got), (Ok(()), Ok(7)));
/// # });
/// ```
///
/// # Sending from an interrupt handler
///
/// A handler must not block or await, so it uses [`try_send`](Channel::try_send): it succeeds
/// only if a receive is waiting right now, and otherwise gives the message back at once, and the
/// handler counts an overrun. The task receives with `recv().await` on any executor:
///
/// ```
/// # #[cfg(feature = "critical-section")]
/// # mod firmware {
/// use core::sync::atomic::{AtomicU32, Ordering};
/// use rendez::lock::CriticalSectionLock;
/// use rendez::{Channel, TrySendError};
///
/// /// Samples from the ADC interrupt to the task that processes them.
/// static SAMPLES: Channel<u16, CriticalSectionLock> = Channel::new();
/// /// Samples that came while the task was not waiting.
/// static OVERRUNS: AtomicU32 = AtomicU32::new(0);
///
/// /// The interrupt handler (`#[interrupt] fn ADC()` in a real program): never blocks, never awaits.
/// pub fn on_adc_interrupt(sample: u16) {
///     if let Err(TrySendError::Full(_)) = SAMPLES.try_send(sample) {
///         OVERRUNS.fetch_add(1, Ordering::Relaxed);
///     }
/// }
///
/// /// A task on any executor: embassy, RTIC, a hand-written `block_on`.
/// pub async fn process(mut handle: impl FnMut(u16)) {
///     while let Ok(sample) = SAMPLES.recv().await {
///         handle(sample);
///     }
/// }
/// # }
/// ```
pub struct Channel<T, L: Lock = DefaultLock> {
    /// The exchange where sends and receives meet.
    core: Core<T, L>,
}

impl<T, L: Lock> Channel<T, L> {
    const_fn_unless_loom! {
        /// An open channel.
        pub fn new() -> Self {
            Channel { core: Core::new() }
        }
    }

    /// Sends `msg`, waiting until a receive takes it; see [`Sender::send`](crate::Sender::send)
    /// for the rules.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it resolves withdraws the message: unless a receive already took
    /// it, it is dropped with the future and never received.
    ///
    /// ```
    /// use futures::{future, FutureExt};
    /// static CH: rendez::Channel<&str> = rendez::Channel::new();
    /// # futures::executor::block_on(async {
    /// futures::select! {
    ///     _ = CH.send("lost").fuse() => unreachable!(),
    ///     _ = future::ready(()).fuse() => {}
    /// }
    /// assert!(CH.try_recv().is_err()); // the dropped send left nothing behind
    /// let (sent, got) = futures::join!(CH.send("hi"), CH.recv());
    /// assert_eq!((sent, got), (Ok(()), Ok("hi")));
    /// # });
    /// ```
    pub fn send(&self, msg: T) -> SendFut<'_, T, L> {
        SendFut::new(&self.core, msg, false)
    }

    /// Hands `msg` to a receive that is waiting right now, or gives it back at once.
    ///
    /// ```
    /// use rendez::{Channel, TrySendError};
    /// let ch = Channel::<u8>::new();
    /// assert_eq!(ch.try_send(1), Err(TrySendError::Full(1))); // no receive is waiting
    /// ```
    pub fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        self.core.try_send(msg)
    }

    /// Receives a message, waiting until a send offers one.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future loses no message: it takes one only in the poll that returns it. If it
    /// was woken for a message and is dropped instead, the next waiting receive is woken.
    ///
    /// ```
    /// use futures::{future, FutureExt};
    /// let ch = rendez::Channel::<u8>::new();
    /// # futures::executor::block_on(async {
    /// futures::select! {
    ///     _ = ch.recv().fuse() => unreachable!(),
    ///     _ = future::ready(()).fuse() => {}
    /// }
    /// let (got, _) = futures::join!(ch.recv(), ch.send(3));
    /// assert_eq!(got, Ok(3));
    /// # });
    /// ```
    pub fn recv(&self) -> RecvFut<'_, T, L> {
        RecvFut::new(&self.core, false)
    }

    /// A [`Stream`](futures_core::Stream) of the messages received on this channel, ending when
    /// the channel is closed: what a `Receiver` is for a counted channel. It allocates nothing:
    /// its waiter node lives inside the stream value, so the stream must be pinned to be polled
    /// (`core::pin::pin!`, or `Box::pin`). See [`ChannelStream`].
    ///
    /// ```
    /// use std::pin::pin;
    /// use futures::StreamExt;
    /// static CH: rendez::Channel<u32> = rendez::Channel::new();
    /// # futures::executor::block_on(async {
    /// let producer = async {
    ///     for n in 1..=3 {
    ///         CH.send(n).await.unwrap();
    ///     }
    ///     CH.close(); // a static channel ends only when it is closed
    /// };
    /// let stream = pin!(CH.stream());
    /// let ((), got) = futures::join!(producer, stream.collect::<Vec<_>>());
    /// assert_eq!(got, [1, 2, 3]);
    /// # });
    /// ```
    pub fn stream(&self) -> ChannelStream<'_, T, L> {
        ChannelStream::new(&self.core)
    }

    /// Takes a message from a send that is waiting right now, or returns at once.
    ///
    /// ```
    /// use rendez::{Channel, TryRecvError};
    /// let ch = Channel::<u8>::new();
    /// assert_eq!(ch.try_recv(), Err(TryRecvError::Empty)); // no send is waiting
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.core.try_recv()
    }

    /// Closes the channel; returns `true` if this call closed it. Pending and future sends fail
    /// with their message; receives fail once a held `try_send` message (if any) is taken.
    ///
    /// ```
    /// let ch = rendez::Channel::<u8>::new();
    /// assert!(ch.close());
    /// assert!(!ch.close());
    /// assert!(ch.is_closed());
    /// assert!(ch.try_send(1).unwrap_err().is_disconnected());
    /// ```
    pub fn close(&self) -> bool {
        self.core.close()
    }

    /// Whether the channel is closed.
    pub fn is_closed(&self) -> bool {
        self.core.is_closed()
    }

    /// A future that resolves once the channel is closed by [`close`](Channel::close). It takes
    /// nothing, allocates nothing, and dropping it at any point just withdraws it.
    ///
    /// ```
    /// static CH: rendez::Channel<u8> = rendez::Channel::new();
    /// # futures::executor::block_on(async {
    /// let shutdown = async { CH.close(); };
    /// futures::join!(CH.closed(), shutdown);
    /// assert!(CH.is_closed());
    /// # });
    /// ```
    pub fn closed(&self) -> ClosedFut<'_, T, L> {
        ClosedFut::new(&self.core)
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
#[cfg(feature = "std")]
impl<T, L: Lock> Channel<T, L> {
    /// Sends `msg`, blocking this thread until a receive takes it or the channel closes.
    pub fn send_blocking(&self, msg: T) -> Result<(), crate::SendError<T>> {
        self.core.send_blocking(msg)
    }

    /// Sends `msg`, blocking for at most `timeout`.
    pub fn send_timeout(
        &self,
        msg: T,
        timeout: core::time::Duration,
    ) -> Result<(), crate::SendTimeoutError<T>> {
        self.core.send_timeout(msg, timeout)
    }

    /// Receives a message, blocking this thread until one is handed over or the channel closes.
    pub fn recv_blocking(&self) -> Result<T, crate::RecvError> {
        self.core.recv_blocking()
    }

    /// Receives a message, blocking for at most `timeout`.
    pub fn recv_timeout(
        &self,
        timeout: core::time::Duration,
    ) -> Result<T, crate::RecvTimeoutError> {
        self.core.recv_timeout(timeout)
    }

    /// Sends `msg`, blocking until `deadline` at the latest until a receive takes it. A deadline
    /// that already passed still hands the message to a receive that is waiting right now.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use rendez::{Channel, SendTimeoutError};
    /// static CH: Channel<u32> = Channel::new();
    /// let deadline = Instant::now() + Duration::from_millis(10);
    /// assert_eq!(CH.send_deadline(1, deadline), Err(SendTimeoutError::Timeout(1)));
    /// ```
    pub fn send_deadline(
        &self,
        msg: T,
        deadline: std::time::Instant,
    ) -> Result<(), crate::SendTimeoutError<T>> {
        self.core.send_deadline(msg, Some(deadline))
    }

    /// Receives a message, blocking until `deadline` at the latest. A deadline that already
    /// passed still takes a message that a send offers right now.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use rendez::Channel;
    /// static CH: Channel<u32> = Channel::new();
    /// let sender = std::thread::spawn(|| CH.send_blocking(5));
    /// let deadline = Instant::now() + Duration::from_secs(10);
    /// assert_eq!(CH.recv_deadline(deadline), Ok(5));
    /// sender.join().unwrap().unwrap();
    /// ```
    pub fn recv_deadline(
        &self,
        deadline: std::time::Instant,
    ) -> Result<T, crate::RecvTimeoutError> {
        self.core.recv_deadline(Some(deadline))
    }
}

impl<T, L: Lock> Default for Channel<T, L> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, L: Lock> Drop for Channel<T, L> {
    fn drop(&mut self) {
        // Nothing can wait on a channel being dropped (futures borrow it); only a held `try_send`
        // message may be left, and it is dropped here like any unreceived value.
        drop(self.core.take_held());
    }
}

impl<T, L: Lock> fmt::Debug for Channel<T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel").field("core", &self.core).finish()
    }
}
