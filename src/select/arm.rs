//! A select arm: one send or receive future of the select, with a place for its outcome.
//!
//! The futures are the ordinary [`SendFut`] and [`RecvFut`]: an arm is the same node in the same
//! wait list as a plain operation, so every rule of the channel holds for it unchanged. What a
//! select adds is the claim the node points to (see [`super::claim`]) and the outcome kept here
//! until the arm's body runs.

use core::future::Future;
use core::pin::Pin;
use core::ptr::NonNull;
use core::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::claim::Claim;
use crate::lock::Lock;
use crate::recv::RecvFut;
use crate::send::SendFut;
use crate::wake::{WakeBatch, PASS};

/// Wake-ups held back until a select's pass is over, so that a peer woken by one arm's poll does
/// not find the select still busy (and prune the arm) while the pass goes on.
#[doc(hidden)]
pub struct Later {
    /// The held wakers.
    pub(crate) batch: WakeBatch<PASS>,
}

impl Later {
    /// Nothing held back yet.
    pub(crate) fn new() -> Self {
        Later {
            batch: WakeBatch::new(),
        }
    }
}

impl core::fmt::Debug for Later {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Later").finish_non_exhaustive()
    }
}

/// What the select engine does with an operation; implemented by [`SendFut`] and [`RecvFut`].
#[doc(hidden)]
pub trait Operation: Future {
    /// Polls it within a pass; the wake-ups it causes are held in `later`.
    fn poll_in_pass(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        later: &mut Later,
    ) -> Poll<Self::Output>;
    /// Joins the select owning `claim` (or leaves it, with `None`). Only while not waiting.
    fn join(self: Pin<&mut Self>, claim: Option<NonNull<Claim>>);
    /// Completes now without waiting, if a peer is waiting (`try_send` / `try_recv` rules).
    fn try_now(self: Pin<&mut Self>) -> Option<Self::Output>;
    /// Withdraws the operation without completing it; a send keeps its message.
    fn withdraw(self: Pin<&mut Self>);
    /// Whether it can still be selected: a send that completed has no message left.
    fn is_armed(self: Pin<&mut Self>) -> bool;
    /// Whether the channel may hold a pointer to the node.
    fn is_waiting(self: Pin<&mut Self>) -> bool;
    /// The node's address, as the claim names it.
    fn node_addr(&self) -> usize;
}

impl<T, L: Lock> Operation for SendFut<'_, T, L> {
    fn poll_in_pass(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        later: &mut Later,
    ) -> Poll<Self::Output> {
        SendFut::poll_in(self, cx, Some(&mut later.batch))
    }
    fn join(self: Pin<&mut Self>, claim: Option<NonNull<Claim>>) {
        SendFut::join(self, claim);
    }
    fn try_now(self: Pin<&mut Self>) -> Option<Self::Output> {
        SendFut::try_now(self)
    }
    fn withdraw(self: Pin<&mut Self>) {
        SendFut::withdraw(self);
    }
    fn is_armed(self: Pin<&mut Self>) -> bool {
        SendFut::is_armed(self)
    }
    fn is_waiting(self: Pin<&mut Self>) -> bool {
        self.node().is_registered()
    }
    fn node_addr(&self) -> usize {
        self.node().addr()
    }
}

impl<T, L: Lock> Operation for RecvFut<'_, T, L> {
    fn poll_in_pass(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        later: &mut Later,
    ) -> Poll<Self::Output> {
        RecvFut::poll_in(self, cx, Some(&mut later.batch))
    }
    fn join(self: Pin<&mut Self>, claim: Option<NonNull<Claim>>) {
        RecvFut::join(self, claim);
    }
    fn try_now(self: Pin<&mut Self>) -> Option<Self::Output> {
        RecvFut::try_now(self)
    }
    fn withdraw(self: Pin<&mut Self>) {
        RecvFut::withdraw(self);
    }
    fn is_armed(self: Pin<&mut Self>) -> bool {
        true // a receive can always be selected again
    }
    fn is_waiting(self: Pin<&mut Self>) -> bool {
        self.node().is_registered()
    }
    fn node_addr(&self) -> usize {
        self.node().addr()
    }
}

pin_project! {
    /// One arm of a select: the operation and, once it is selected, its outcome.
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct Arm<F: Operation> {
        #[pin]
        op: F,
        out: Option<F::Output>,
    }
}

impl<F: Operation> Arm<F> {
    /// An arm for `op`, a send or receive future that was never polled.
    pub fn new(op: F) -> Self {
        Arm { op, out: None }
    }

    /// The outcome, if this is the arm that was selected (once).
    pub fn take_output(self: Pin<&mut Self>) -> Option<F::Output> {
        self.project().out.take()
    }

    /// The operation, for the builder's own bookkeeping.
    #[cfg(feature = "alloc")]
    pub(crate) fn op(self: Pin<&mut Self>) -> Pin<&mut F> {
        self.project().op
    }
}

/// An arm with its types erased, as the engine sees it.
#[doc(hidden)]
pub trait DynArm {
    /// See [`Operation::join`].
    fn join(self: Pin<&mut Self>, claim: Option<NonNull<Claim>>);
    /// Polls the operation; on `Ready` the outcome is kept in the arm. The wake-ups it causes
    /// are held in `later`.
    fn poll_arm(self: Pin<&mut Self>, cx: &mut Context<'_>, later: &mut Later) -> Poll<()>;
    /// See [`Operation::try_now`]; `true` if it completed (the outcome is kept).
    fn try_now(self: Pin<&mut Self>) -> bool;
    /// See [`Operation::withdraw`].
    fn withdraw(self: Pin<&mut Self>);
    /// See [`Operation::is_armed`].
    fn is_armed(self: Pin<&mut Self>) -> bool;
    /// See [`Operation::is_waiting`].
    fn is_waiting(self: Pin<&mut Self>) -> bool;
    /// See [`Operation::node_addr`].
    fn node_addr(&self) -> usize;
}

impl<F: Operation> DynArm for Arm<F> {
    fn join(self: Pin<&mut Self>, claim: Option<NonNull<Claim>>) {
        self.project().op.join(claim);
    }
    fn poll_arm(self: Pin<&mut Self>, cx: &mut Context<'_>, later: &mut Later) -> Poll<()> {
        let this = self.project();
        let out = core::task::ready!(this.op.poll_in_pass(cx, later));
        *this.out = Some(out);
        Poll::Ready(())
    }
    fn try_now(self: Pin<&mut Self>) -> bool {
        let this = self.project();
        *this.out = this.op.try_now();
        this.out.is_some()
    }
    fn withdraw(self: Pin<&mut Self>) {
        self.project().op.withdraw();
    }
    fn is_armed(self: Pin<&mut Self>) -> bool {
        self.project().op.is_armed()
    }
    fn is_waiting(self: Pin<&mut Self>) -> bool {
        self.project().op.is_waiting()
    }
    fn node_addr(&self) -> usize {
        self.op.node_addr()
    }
}
