//! [`Select`]: a select over a list of operations built at run time.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::arm::{Arm, DynArm};
use super::engine::{try_select, Arms, Selecting};
use crate::error::{RecvError, SendError};
use crate::lock::{DefaultLock, Lock};
use crate::recv::RecvFut;
use crate::send::SendFut;
use crate::{Channel, Receiver, Sender};

/// The outcome of the operation a [`Select`] completed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub enum Selected<T> {
    /// A receive operation completed: the message, or [`RecvError`] if its channel is closed.
    Received(Result<T, RecvError>),
    /// A send operation completed: its message was taken, or came back in [`SendError`] because
    /// its channel is closed.
    Sent(Result<(), SendError<T>>),
}

/// Something a [`Select`] can receive from: a [`Receiver`] or a static [`Channel`].
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub trait RecvHandle<T, L: Lock>: sealed::Sealed {
    /// A receive on this handle's channel.
    #[doc(hidden)]
    fn recv_op(&self) -> RecvFut<'_, T, L>;
}

/// Something a [`Select`] can send on: a [`Sender`] or a static [`Channel`].
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub trait SendHandle<T, L: Lock>: sealed::Sealed {
    /// A send of `msg` on this handle's channel.
    #[doc(hidden)]
    fn send_op(&self, msg: T) -> SendFut<'_, T, L>;
}

mod sealed {
    pub trait Sealed {}
    impl<T, L: crate::lock::Lock> Sealed for crate::Receiver<T, L> {}
    impl<T, L: crate::lock::Lock> Sealed for crate::Sender<T, L> {}
    impl<T, L: crate::lock::Lock> Sealed for crate::Channel<T, L> {}
}

impl<T, L: Lock> RecvHandle<T, L> for Receiver<T, L> {
    fn recv_op(&self) -> RecvFut<'_, T, L> {
        self.recv()
    }
}
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T, L: Lock> RecvHandle<T, L> for Channel<T, L> {
    fn recv_op(&self) -> RecvFut<'_, T, L> {
        self.recv()
    }
}
impl<T, L: Lock> SendHandle<T, L> for Sender<T, L> {
    fn send_op(&self, msg: T) -> SendFut<'_, T, L> {
        self.send(msg)
    }
}
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl<T, L: Lock> SendHandle<T, L> for Channel<T, L> {
    fn send_op(&self, msg: T) -> SendFut<'_, T, L> {
        self.send(msg)
    }
}

/// One operation of a [`Select`], boxed so that it stays in place while it waits.
enum Op<'a, T, L: Lock> {
    Send(Pin<Box<Arm<SendFut<'a, T, L>>>>),
    Recv(Pin<Box<Arm<RecvFut<'a, T, L>>>>),
}

/// The operations, as the engine goes through them.
struct Ops<'a, T, L: Lock>(Vec<Op<'a, T, L>>);

impl<T, L: Lock> Arms for Ops<'_, T, L> {
    fn count(&self) -> usize {
        self.0.len()
    }
    fn arm(&mut self, i: usize) -> Pin<&mut dyn DynArm> {
        match &mut self.0[i] {
            Op::Send(arm) => arm.as_mut(),
            Op::Recv(arm) => arm.as_mut(),
        }
    }
}

impl<T, L: Lock> Ops<'_, T, L> {
    /// The outcome of operation `i`, which was selected.
    fn outcome(&mut self, i: usize) -> Selected<T> {
        let outcome = match &mut self.0[i] {
            Op::Send(arm) => arm.as_mut().take_output().map(Selected::Sent),
            Op::Recv(arm) => arm.as_mut().take_output().map(Selected::Received),
        };
        outcome.expect("rendez: the selected operation has an outcome")
    }

    /// Withdraws whatever a select future that was leaked (not dropped) left waiting.
    fn withdraw_all(&mut self) {
        for i in 0..self.count() {
            self.arm(i).withdraw();
        }
    }
}

/// A select over operations added at run time, e.g. one receive per element of a `Vec` of
/// receivers. All operations carry messages of one type `T` (the macros take any mix of types).
///
/// The rules are [`select!`](crate::select!)'s: exactly one operation takes effect, fair unless
/// made with [`Select::new_biased`], a closed channel's operation is ready with its error.
/// `Select` is reusable: select on it again and again. A receive operation can be selected any
/// number of times; a send operation, once selected, is spent (its message is gone) and is
/// skipped afterwards. **The message of a send operation that was not selected stays in the
/// `Select`**, offered again by the next select, until [`Select::take_unsent`] gives it back or
/// the `Select` is dropped (and the message with it).
///
/// Adding an operation allocates; selecting does not.
///
/// ```
/// use rendez::{Select, Selected};
/// # futures::executor::block_on(async {
/// let channels: Vec<_> = (0..4).map(|_| rendez::channel::<u32>()).collect();
/// let mut sel = Select::new();
/// for (_, rx) in &channels {
///     sel.recv(rx);
/// }
/// let send = channels[2].0.send(9);
/// let ((index, outcome), sent) = futures::join!(sel.select(), send);
/// assert_eq!((index, outcome), (2, Selected::Received(Ok(9))));
/// assert_eq!(sent, Ok(()));
/// # });
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub struct Select<'a, T, L: Lock = DefaultLock> {
    /// The operations, in the order they were added (their indices).
    ops: Ops<'a, T, L>,
    /// Try operations in order rather than from a random one.
    biased: bool,
}

impl<'a, T, L: Lock> Select<'a, T, L> {
    /// An empty, fair select: when several operations are ready, a pseudo-random one wins.
    pub fn new() -> Self {
        Select {
            ops: Ops(Vec::new()),
            biased: false,
        }
    }

    /// An empty, biased select: when several operations are ready, the first added wins.
    pub fn new_biased() -> Self {
        Select {
            biased: true,
            ..Select::new()
        }
    }

    /// Adds a receive from `rx` (a [`Receiver`] or a [`Channel`]); returns its index.
    pub fn recv(&mut self, rx: &'a impl RecvHandle<T, L>) -> usize {
        self.ops.0.push(Op::Recv(Box::pin(Arm::new(rx.recv_op()))));
        self.ops.0.len() - 1
    }

    /// Adds a send of `msg` on `tx` (a [`Sender`] or a [`Channel`]); returns its index.
    pub fn send(&mut self, tx: &'a impl SendHandle<T, L>, msg: T) -> usize {
        self.ops
            .0
            .push(Op::Send(Box::pin(Arm::new(tx.send_op(msg)))));
        self.ops.0.len() - 1
    }

    /// How many operations were added.
    pub fn len(&self) -> usize {
        self.ops.0.len()
    }

    /// Whether no operation was added.
    pub fn is_empty(&self) -> bool {
        self.ops.0.is_empty()
    }

    /// Takes back the message of send operation `index` if it was not delivered, so that no later
    /// select offers it. `None` if it was delivered (selected) or taken already.
    ///
    /// # Panics
    ///
    /// If `index` is not the index of a send operation.
    pub fn take_unsent(&mut self, index: usize) -> Option<T> {
        match self.ops.0.get_mut(index) {
            Some(Op::Send(arm)) => arm.as_mut().op().take_unsent(),
            _ => panic!("rendez: take_unsent({index}) names no send operation"),
        }
    }

    /// Waits until one operation completes; resolves to its index and outcome.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it resolves leaves no operation half done: none took effect,
    /// or (if a receive took a send operation's message just before) that one did and is spent.
    ///
    /// # Panics
    ///
    /// When polled with no operation left that can be selected (none added, or every one a
    /// spent send): it would wait forever.
    pub fn select(&mut self) -> SelectFut<'_, 'a, T, L> {
        self.ops.withdraw_all();
        SelectFut {
            inner: Selecting::new(&mut self.ops, self.biased),
        }
    }

    /// Completes an operation that can complete right now (a receive with a send waiting, a send
    /// with a receive waiting, or one on a closed channel), registering nothing; `None` if there
    /// is none.
    pub fn try_select(&mut self) -> Option<(usize, Selected<T>)> {
        self.ops.withdraw_all();
        let index = try_select(&mut self.ops, self.biased)?;
        Some((index, self.ops.outcome(index)))
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
#[cfg(feature = "std")]
impl<T, L: Lock> Select<'_, T, L> {
    /// Parks this thread until one operation completes; returns its index and outcome.
    ///
    /// # Panics
    ///
    /// With no operation left that can be selected, as [`Select::select`].
    pub fn select_blocking(&mut self) -> (usize, Selected<T>) {
        self.select_until(None)
            .expect("rendez: no deadline, so no timeout")
    }

    /// Parks this thread until one operation completes or `timeout` passes (`None`: no operation
    /// took effect).
    pub fn select_timeout(
        &mut self,
        timeout: core::time::Duration,
    ) -> Option<(usize, Selected<T>)> {
        self.select_until(crate::blocking::deadline_after(timeout))
    }

    /// Parks this thread until one operation completes or `deadline` passes (`None`: no
    /// operation took effect).
    pub fn select_deadline(
        &mut self,
        deadline: std::time::Instant,
    ) -> Option<(usize, Selected<T>)> {
        self.select_until(Some(deadline))
    }

    /// The blocking select, with an optional deadline.
    fn select_until(
        &mut self,
        deadline: Option<std::time::Instant>,
    ) -> Option<(usize, Selected<T>)> {
        self.ops.withdraw_all();
        let index = super::engine::select_blocking(&mut self.ops, self.biased, deadline)?;
        Some((index, self.ops.outcome(index)))
    }
}

impl<T, L: Lock> Default for Select<'_, T, L> {
    fn default() -> Self {
        Select::new()
    }
}

impl<T, L: Lock> fmt::Debug for Select<'_, T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select")
            .field("operations", &self.len())
            .field("biased", &self.biased)
            .finish()
    }
}

pin_project! {
    /// A [`Select::select`] in progress; resolves to the index and outcome of the operation that
    /// completed.
    #[must_use = "futures do nothing unless you `.await` them; on a thread, use `select_blocking`"]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub struct SelectFut<'s, 'a, T, L: Lock> {
        #[pin]
        inner: Selecting<'s, Ops<'a, T, L>>,
    }
}

impl<T, L: Lock> Future for SelectFut<'_, '_, T, L> {
    type Output = (usize, Selected<T>);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut inner = self.project().inner;
        let index = core::task::ready!(inner.as_mut().poll(cx));
        Poll::Ready((index, inner.arms().outcome(index)))
    }
}

impl<T, L: Lock> fmt::Debug for SelectFut<'_, '_, T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelectFut").finish_non_exhaustive()
    }
}
