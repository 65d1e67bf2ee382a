//! The select engine: polls a list of arms so that exactly one of them takes effect.
//!
//! A poll is a *pass*: the owner makes its claim busy (so no peer may complete an arm), polls the
//! arms in turn (from a random one, or the first when biased), and stops at the first that
//! completes. If none does, every arm is now registered and the claim goes back to waiting, so a
//! peer may complete one; the owner is woken then (or when a receive arm is notified, or a channel
//! closes) and makes another pass, or finds the arm a peer won and collects its outcome. A node
//! that a peer pruned while the pass ran is registered again by another pass at once.
//!
//! Whatever the ending (an arm selected, the future dropped, a blocking wait timed out), every
//! other arm is withdrawn before the claim goes away; a send arm keeps its message.

use core::future::Future;
use core::marker::PhantomPinned;
use core::pin::Pin;
use core::ptr::NonNull;
use core::task::{Context, Poll};

use super::arm::{DynArm, Later};
use super::claim::Claim;

/// A list of arms the engine can go through by index: a tuple of arms (the macros, up to 12) or
/// the builder's own list.
#[doc(hidden)]
pub trait Arms {
    /// How many arms there are.
    fn count(&self) -> usize;
    /// Arm `i`.
    fn arm(&mut self, i: usize) -> Pin<&mut dyn DynArm>;
}

/// The macros' arms: a tuple of pinned arms, so that the select future is `Send` exactly when
/// its arms are (a `dyn` list would never be).
macro_rules! tuple_arms {
    ($count:literal: $($arm:ident $index:tt),+) => {
        impl<'a, $($arm: DynArm),+> Arms for ($(Pin<&'a mut $arm>,)+) {
            fn count(&self) -> usize {
                $count
            }
            fn arm(&mut self, i: usize) -> Pin<&mut dyn DynArm> {
                match i {
                    $($index => self.$index.as_mut(),)+
                    _ => unreachable!("rendez: arm index out of range"),
                }
            }
        }
    };
}
tuple_arms!(1: A0 0);
tuple_arms!(2: A0 0, A1 1);
tuple_arms!(3: A0 0, A1 1, A2 2);
tuple_arms!(4: A0 0, A1 1, A2 2, A3 3);
tuple_arms!(5: A0 0, A1 1, A2 2, A3 3, A4 4);
tuple_arms!(6: A0 0, A1 1, A2 2, A3 3, A4 4, A5 5);
tuple_arms!(7: A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6);
tuple_arms!(8: A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7);
tuple_arms!(9: A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7, A8 8);
tuple_arms!(10: A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7, A8 8, A9 9);
tuple_arms!(11: A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7, A8 8, A9 9, A10 10);
tuple_arms!(12: A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7, A8 8, A9 9, A10 10, A11 11);

/// Where a select future stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Not polled yet: no arm has joined, none is registered.
    Fresh,
    /// Polled: arms may be registered and a peer may win the claim.
    Waiting,
    /// An arm was selected (or the wait was given up) and every other arm withdrawn.
    Done,
}

/// A select in progress over `arms`; resolves to the index of the selected arm, whose outcome is
/// then in the arm.
#[doc(hidden)]
#[must_use = "futures do nothing unless you `.await` them"]
pub struct Selecting<'s, A: Arms + ?Sized> {
    /// The arms; they stay in place (pinned) while any is registered.
    arms: &'s mut A,
    /// The decision word the arms' nodes point to; pinned with the future.
    claim: Claim,
    /// Try arms in order rather than from a random one.
    biased: bool,
    /// Where it stands.
    stage: Stage,
    /// The arms' nodes point to `claim`.
    _pinned: PhantomPinned,
}

impl<'s, A: Arms + ?Sized> Selecting<'s, A> {
    /// A select over `arms`.
    pub fn new(arms: &'s mut A, biased: bool) -> Self {
        Selecting {
            arms,
            claim: Claim::new(),
            biased,
            stage: Stage::Fresh,
            _pinned: PhantomPinned,
        }
    }

    /// The fields; the claim must not move, and it does not (it is never moved out).
    fn fields(self: Pin<&mut Self>) -> &mut Self {
        // SAFETY: nothing moves out of the returned reference: the claim stays where it is, and
        // `arms` is a reference (its target is pinned by the caller of `select`).
        unsafe { self.get_unchecked_mut() }
    }

    /// The arms (to collect the selected one's outcome).
    #[cfg(feature = "alloc")]
    pub(crate) fn arms(self: Pin<&mut Self>) -> &mut A {
        self.fields().arms
    }

    /// Withdraws every arm but `selected`, and ends the select.
    fn withdraw_all_but(&mut self, selected: Option<usize>) {
        self.stage = Stage::Done;
        for i in 0..self.arms.count() {
            if Some(i) != selected {
                let mut arm = self.arms.arm(i);
                arm.as_mut().withdraw();
                arm.join(None);
            }
        }
    }

    /// The arm whose node is `node` (the claim's winner).
    fn arm_of(&mut self, node: usize) -> usize {
        (0..self.arms.count())
            .find(|&i| self.arms.arm(i).node_addr() == node)
            .expect("rendez: the claim names an arm of this select")
    }

    /// Collects the outcome of the arm a peer completed, and withdraws the rest.
    fn finish_won(&mut self, node: usize, cx: &mut Context<'_>) -> usize {
        let i = self.arm_of(node);
        // The peer completed it inside the critical section in which it won the claim, so this
        // poll (which goes through the same lock, or reads the released outcome) is ready.
        let mut later = Later::new();
        let ready = self.arms.arm(i).poll_arm(cx, &mut later).is_ready();
        later.batch.wake_all();
        assert!(ready, "rendez: a won select arm completes");
        self.withdraw_all_but(Some(i));
        i
    }

    /// One poll of the select; see the module docs.
    fn poll_select(&mut self, cx: &mut Context<'_>) -> Poll<usize> {
        match self.stage {
            Stage::Done => panic!("rendez: select polled after it completed"),
            Stage::Fresh => {
                // The claim starts busy: no arm is registered yet.
                let claim = Some(NonNull::from(&self.claim));
                let mut armed = 0;
                for i in 0..self.arms.count() {
                    let mut arm = self.arms.arm(i);
                    if arm.as_mut().is_armed() {
                        armed += 1;
                        arm.join(claim);
                    }
                }
                assert!(
                    armed > 0,
                    "rendez: select over no operation would wait forever"
                );
                self.stage = Stage::Waiting;
            }
            Stage::Waiting => {
                if let Err(node) = self.claim.begin_pass() {
                    return Poll::Ready(self.finish_won(node, cx));
                }
            }
        }
        let count = self.arms.count();
        loop {
            // The claim is busy: whatever completes here is the select's one operation.
            let start = if self.biased { 0 } else { random_below(count) };
            // Peers this pass wakes are woken when it is over, so that they do not find the
            // claim busy and prune an arm just registered.
            let mut later = Later::new();
            for k in 0..count {
                let i = (start + k) % count;
                let mut arm = self.arms.arm(i);
                if !arm.as_mut().is_armed() {
                    continue;
                }
                if arm.as_mut().poll_arm(cx, &mut later).is_ready() {
                    self.withdraw_all_but(Some(i));
                    later.batch.wake_all();
                    return Poll::Ready(i);
                }
            }
            // From here peers may claim. If a peer pruned an arm during the pass (the claim says
            // so), go round again to register it; also if an arm is no longer waiting because a
            // peer won it just now, to collect it without waiting for the wake-up.
            let pruned = self.claim.end_pass();
            later.batch.wake_all();
            if !pruned
                && (0..count).all(|i| {
                    let mut arm = self.arms.arm(i);
                    !arm.as_mut().is_armed() || arm.is_waiting()
                })
            {
                return Poll::Pending;
            }
            if let Err(node) = self.claim.begin_pass() {
                return Poll::Ready(self.finish_won(node, cx));
            }
        }
    }

    /// Gives up waiting: no arm may be completed from now on. Returns the arm a peer completed
    /// before that, its outcome collected with `cx`, or `None` if none was.
    #[cfg(feature = "std")]
    pub(crate) fn give_up(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Option<usize> {
        let this = self.fields();
        if this.stage != Stage::Waiting {
            return None;
        }
        match this.claim.give_up() {
            Some(node) => Some(this.finish_won(node, cx)),
            None => {
                this.withdraw_all_but(None);
                None
            }
        }
    }
}

impl<A: Arms + ?Sized> Future for Selecting<'_, A> {
    type Output = usize;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        self.fields().poll_select(cx)
    }
}

impl<A: Arms + ?Sized> Drop for Selecting<'_, A> {
    fn drop(&mut self) {
        if self.stage == Stage::Waiting {
            // Cancelled while waiting: from here no arm can be completed. If a peer completed one
            // just before, that operation took effect (a send arm's message was delivered) and
            // only its outcome is lost, as with a dropped send future.
            self.claim.give_up();
            self.withdraw_all_but(None);
        }
    }
}

impl<A: Arms + ?Sized> core::fmt::Debug for Selecting<'_, A> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Selecting")
            .field("arms", &self.arms.count())
            .field("biased", &self.biased)
            .field("stage", &self.stage)
            .finish()
    }
}

/// A select over `arms` that completes an arm only if it can right now (`try_send` / `try_recv`
/// rules), registering nothing. Returns the index of the arm that completed.
pub fn try_select<A: Arms + ?Sized>(arms: &mut A, biased: bool) -> Option<usize> {
    let count = arms.count();
    let start = if biased {
        0
    } else {
        random_below(count.max(1))
    };
    (0..count).map(|k| (start + k) % count).find(|&i| {
        let mut arm = arms.arm(i);
        arm.as_mut().is_armed() && arm.try_now()
    })
}

/// A pseudo-random number below `n` (> 0), for the fair start of a pass: a xorshift generator
/// in one shared word. Racing callers may draw the same number, which is harmless here; loads and
/// stores only, so it needs no compare-and-swap.
fn random_below(n: usize) -> usize {
    // loom replays each interleaving and needs every run of a model to make the same choices.
    if cfg!(rendez_loom) {
        return 0;
    }
    use core::sync::atomic::{AtomicU32, Ordering};
    static STATE: AtomicU32 = AtomicU32::new(0x9E37_79B9);
    if n <= 1 {
        return 0;
    }
    let mut x = STATE.load(Ordering::Relaxed);
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    STATE.store(x, Ordering::Relaxed);
    // Multiply-shift maps the 32 random bits onto 0..n without the bias of `%` for small n.
    ((u64::from(x) * n as u64) >> 32) as usize
}

/// A select over `arms` that parks this thread until an arm completes (`Some(index)`) or
/// `deadline` passes (`None`: nothing took effect).
#[cfg(feature = "std")]
pub fn select_blocking<A: Arms + ?Sized>(
    arms: &mut A,
    biased: bool,
    deadline: Option<std::time::Instant>,
) -> Option<usize> {
    let mut select = core::pin::pin!(Selecting::new(arms, biased));
    if let Some(selected) = crate::blocking::block_on(select.as_mut(), deadline) {
        return Some(selected);
    }
    // Timed out: a peer may have completed an arm since the last poll; that one counts.
    let parker = crate::parker::Parker::current();
    let waker = parker.waker();
    select.give_up(&mut Context::from_waker(&waker))
}
