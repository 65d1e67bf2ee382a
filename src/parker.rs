//! Waiting on the current thread until its waker is woken: spin while spinning pays off, then
//! park (see [`crate::wait`] for the policy as users see it).
//!
//! A rendezvous partner on another core usually answers within a microsecond or two, far sooner
//! than a park/unpark round trip (two system calls and two context switches), so a blocked call
//! spins first. But spinning only helps while the partner is running: on one CPU it keeps the
//! partner off the CPU, with more waiting threads than CPUs the spinners crowd out the threads that
//! would answer, and on a busy machine the partner may not run for a whole time slice. So:
//!
//! - **Each thread adapts its spin budget** to how its spins end. A spin that saw its wake-up
//!   after `k` spins keeps a budget of at least `2k`; one that ran out halves the budget (the
//!   partner was not about to answer: spinning only burned CPU). While the budget is short, a
//!   thread now and then spins the full `MAX_SPINS` once (every 16th wait at first, less often
//!   after each probe that fails, down to every 1024th), and a probe that catches its wake-up
//!   restores the full budget. The probes are what get two partners out of the
//!   both-parked regime (each parks, so neither is on a CPU when the other waits, and short spins
//!   never succeed): a park that ends quickly proves nothing, since a thread that stops spinning
//!   may be the very thing that lets its partner run.
//! - **Few spin at once:** every waiting thread may spin `FREE_SPINS` (under a microsecond), but
//!   spinning longer needs one of `CPUs - 1` places (none on one CPU); a thread that finds none
//!   parks. So waiting threads never take every CPU from the thread that would answer, however
//!   many there are.
//! - **On one CPU** a waiting thread yields instead, a few times: the partner it waits for is
//!   likely runnable on that CPU, and a yield lets it run without a park/unpark round trip.
//!
//! The CPU count is read again each time a thread makes its parker (at its first blocking call):
//! a process may be moved to other CPUs while it runs.

#[cfg(not(rendez_loom))]
use std::cell::Cell;
#[cfg(not(rendez_loom))]
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::time::Instant;

use crate::wait::{wait_policy, WaitPolicy};

#[cfg(rendez_loom)]
use loom::thread::{self, Thread};
#[cfg(not(rendez_loom))]
use std::thread::{self, Thread};

/// The most `spin_loop` calls one wait spins for (about 35 µs on the machine the README's figures
/// come from): enough to cover a partner that is itself just being woken from a park.
#[cfg(not(rendez_loom))]
const MAX_SPINS: u32 = 1 << 12;
/// Spins any waiting thread may do without a spinning place.
#[cfg(not(rendez_loom))]
const FREE_SPINS: u32 = 1 << 6;
/// The longest run of spins between two looks at the wake-up flag.
#[cfg(not(rendez_loom))]
const SPINS_PER_LOOK: u32 = 1 << 6;
/// A thread whose budget is below `MAX_SPINS` spins the full budget once every `PROBE_EVERY`
/// waits at first; each probe that fails doubles the interval, up to `PROBE_EVERY_MAX`, and one
/// that succeeds restores the full budget (and the first interval).
#[cfg(not(rendez_loom))]
const PROBE_EVERY: u32 = 16;
/// See [`PROBE_EVERY`].
#[cfg(not(rendez_loom))]
const PROBE_EVERY_MAX: u32 = 1 << 10;
/// `yield_now` calls before parking, on one CPU.
#[cfg(not(rendez_loom))]
const YIELDS_ON_ONE_CPU: u32 = 2;

/// Threads spinning right now, in every channel of the process.
#[cfg(not(rendez_loom))]
static SPINNING: AtomicUsize = AtomicUsize::new(0);
/// CPUs this process may run on, as last read; 0 before the first read.
#[cfg(not(rendez_loom))]
static CPUS: AtomicUsize = AtomicUsize::new(0);

/// What one thread learned from its waits.
#[cfg(not(rendez_loom))]
struct Learned {
    /// How many `spin_loop` calls its next wait may spin for.
    spins: Cell<u32>,
    /// Waits since its last full-budget spin.
    since_probe: Cell<u32>,
    /// Waits between two full-budget spins while the budget is short.
    probe_every: Cell<u32>,
}

#[cfg(not(rendez_loom))]
std::thread_local! {
    static LEARNED: Learned = const { Learned::new() };
}

#[cfg(not(rendez_loom))]
impl Learned {
    /// A thread that has not waited yet: full budget.
    const fn new() -> Self {
        Learned {
            spins: Cell::new(MAX_SPINS),
            since_probe: Cell::new(0),
            probe_every: Cell::new(PROBE_EVERY),
        }
    }

    /// The budget of the next wait, and whether it is a probe (a full-budget spin while the
    /// budget is short).
    fn next_spin(&self) -> (u32, bool) {
        let budget = self.spins.get();
        if budget >= MAX_SPINS {
            return (budget, false);
        }
        let since = self.since_probe.get();
        if since >= self.probe_every.get() {
            self.since_probe.set(0);
            return (MAX_SPINS, true);
        }
        self.since_probe.set(since + 1);
        (budget, false)
    }

    /// Learns from how a spin ended (see the module docs).
    fn learn(&self, probe: bool, spun: &Spun) {
        match *spun {
            Spun::Woken(_) if probe => {
                self.spins.set(MAX_SPINS);
                self.probe_every.set(PROBE_EVERY);
            }
            Spun::Woken(after) => {
                let wanted = after.saturating_mul(2).min(MAX_SPINS);
                self.spins.set(self.spins.get().max(wanted));
            }
            Spun::RanOut => {
                self.spins.set(self.spins.get() / 2);
                if probe {
                    let every = self.probe_every.get();
                    self.probe_every.set((every * 2).min(PROBE_EVERY_MAX));
                }
            }
            // No information: it did not spin long.
            Spun::NoPlace => {}
        }
    }
}

/// The CPUs this process may run on, as read when the latest thread made its parker.
#[cfg(not(rendez_loom))]
fn cpus() -> usize {
    match CPUS.load(Ordering::Relaxed) {
        0 => refresh_cpus(),
        n => n,
    }
}

/// Reads the CPU count again (system calls, and on Linux a look at the cgroup's quota, which
/// allocates: so it is read where a thread makes its parker, which allocates anyway, and not per
/// wait).
#[cfg(not(rendez_loom))]
fn refresh_cpus() -> usize {
    let n = thread::available_parallelism().map_or(1, usize::from);
    CPUS.store(n, Ordering::Relaxed);
    n
}

/// A place among the threads allowed to spin at once; given back on drop.
#[cfg(not(rendez_loom))]
struct SpinSlot;

#[cfg(not(rendez_loom))]
impl SpinSlot {
    /// A place, if fewer than `max` threads spin now.
    fn take(max: usize) -> Option<SpinSlot> {
        let mut now = SPINNING.load(Ordering::Relaxed);
        loop {
            if now >= max {
                return None;
            }
            match SPINNING.compare_exchange_weak(now, now + 1, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Some(SpinSlot),
                Err(seen) => now = seen,
            }
        }
    }
}

#[cfg(not(rendez_loom))]
impl Drop for SpinSlot {
    fn drop(&mut self) {
        SPINNING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What a thread's waker holds: the thread, and a flag for a waiter that has not parked yet.
struct Unparker {
    /// The thread to unpark.
    thread: Thread,
    /// Set by every wake; cleared by the thread before each poll.
    woken: AtomicBool,
}

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        // Cheap when the thread is still spinning (an atomic swap); a system call only if parked.
        self.thread.unpark();
    }
}

/// The current thread's way to wait for its waker.
pub(crate) struct Parker {
    /// Shared with every waker made by [`Parker::waker`].
    unparker: Arc<Unparker>,
}

impl Parker {
    /// A parker for a thread with no cached one.
    fn new() -> Self {
        #[cfg(not(rendez_loom))]
        refresh_cpus();
        Parker {
            unparker: Arc::new(Unparker {
                thread: thread::current(),
                woken: AtomicBool::new(false),
            }),
        }
    }

    /// The current thread's parker: made once per thread, so blocking calls allocate nothing per
    /// message; only a call made while the thread's locals are being destroyed allocates one.
    #[cfg(not(rendez_loom))]
    pub(crate) fn current() -> Self {
        std::thread_local! {
            static UNPARKER: Arc<Unparker> = Parker::new().unparker;
        }
        UNPARKER
            .try_with(|unparker| Parker {
                unparker: unparker.clone(),
            })
            .unwrap_or_else(|_| Parker::new())
    }

    /// The current thread's parker. loom runs its threads on one OS thread: nothing is cached.
    #[cfg(rendez_loom)]
    pub(crate) fn current() -> Self {
        Parker::new()
    }

    /// A waker that wakes this thread.
    pub(crate) fn waker(&self) -> Waker {
        Waker::from(self.unparker.clone())
    }

    /// Forgets earlier wake-ups. Called before each poll, so that a wake-up seen while waiting
    /// is one that came after the poll.
    pub(crate) fn prepare(&self) {
        self.unparker.woken.store(false, Ordering::Relaxed);
    }

    /// Whether a wake-up came since [`Parker::prepare`].
    #[cfg(not(rendez_loom))]
    fn woken(&self) -> bool {
        self.unparker.woken.load(Ordering::Acquire)
    }

    /// Waits until this thread's waker is woken (or spuriously): returns `true`; or until
    /// `deadline` passes: returns `false`.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> bool {
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return false;
        }
        if wait_policy() == WaitPolicy::Park {
            return park_until(deadline);
        }
        self.wait_briefly() || park_until(deadline)
    }

    /// Spins (or on one CPU, yields) for as long as this thread's budget and the free spinning
    /// places allow, watching for a wake-up, and learns from how it went. Returns whether a
    /// wake-up came.
    #[cfg(not(rendez_loom))]
    fn wait_briefly(&self) -> bool {
        LEARNED
            .try_with(|learned| self.spin_and_learn(learned))
            .unwrap_or(false)
    }

    /// [`Parker::wait_briefly`] with this thread's `learned` state.
    #[cfg(not(rendez_loom))]
    fn spin_and_learn(&self, learned: &Learned) -> bool {
        let cpus = cpus();
        if cpus == 1 {
            for _ in 0..YIELDS_ON_ONE_CPU {
                thread::yield_now();
                if self.woken() {
                    return true;
                }
            }
            return false;
        }
        let (budget, probe) = learned.next_spin();
        let spun = self.spin(budget, cpus - 1);
        learned.learn(probe, &spun);
        matches!(spun, Spun::Woken(_))
    }

    /// Spins for up to `budget` spins, the part past `FREE_SPINS` only with one of `places`
    /// spinning places, looking at the wake-up flag every few spins.
    #[cfg(not(rendez_loom))]
    fn spin(&self, budget: u32, places: usize) -> Spun {
        let mut spun = 0;
        let mut run = 1;
        let mut place = None;
        while spun < budget {
            if spun >= FREE_SPINS && place.is_none() {
                place = SpinSlot::take(places);
                if place.is_none() {
                    return Spun::NoPlace;
                }
            }
            let run_now = run.min(budget - spun);
            for _ in 0..run_now {
                core::hint::spin_loop();
            }
            spun += run_now;
            if self.woken() {
                return Spun::Woken(spun);
            }
            run = (run * 2).min(SPINS_PER_LOOK);
        }
        Spun::RanOut
    }

    /// Under loom, waiting is parking: spinning would only multiply the interleavings.
    #[cfg(rendez_loom)]
    fn wait_briefly(&self) -> bool {
        false
    }
}

/// How a spin ended.
#[cfg(not(rendez_loom))]
enum Spun {
    /// The wake-up came, after this many spins.
    Woken(u32),
    /// The budget ran out first.
    RanOut,
    /// It needed a spinning place and none was free.
    NoPlace,
}

/// Parks this thread until it is unparked (or spuriously) or `deadline` passes. Returns `false`
/// if the deadline had passed before parking.
#[cfg(not(rendez_loom))]
fn park_until(deadline: Option<Instant>) -> bool {
    match deadline {
        None => thread::park(),
        Some(deadline) => {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            thread::park_timeout(deadline - now);
        }
    }
    true
}

/// loom has no clock: a timed wait times out the first time it would park, so that models
/// explore the race between a timeout's withdrawal and a peer's handoff.
#[cfg(rendez_loom)]
fn park_until(deadline: Option<Instant>) -> bool {
    if deadline.is_some() {
        return false;
    }
    thread::park();
    true
}

#[cfg(all(test, not(rendez_loom)))]
mod tests {
    use super::*;

    /// Runs `waits` waits that all end as `spun`; returns how many of them were probes.
    fn waits(learned: &Learned, waits: u32, spun: impl Fn(u32) -> Spun) -> u32 {
        let mut probes = 0;
        for _ in 0..waits {
            let (budget, probe) = learned.next_spin();
            probes += u32::from(probe);
            learned.learn(probe, &spun(budget));
        }
        probes
    }

    #[test]
    fn a_budget_that_keeps_running_out_falls_to_zero() {
        let learned = Learned::new();
        waits(&learned, 13, |_| Spun::RanOut);
        assert_eq!(learned.spins.get(), 0);
    }

    #[test]
    fn quick_wake_ups_keep_the_full_budget() {
        let learned = Learned::new();
        waits(&learned, 100, |_| Spun::Woken(100));
        assert_eq!(learned.spins.get(), MAX_SPINS);
    }

    /// The both-parked regime: short spins never catch the partner, which is parked too; only a
    /// full-budget probe does, and one successful probe brings the whole budget back.
    #[test]
    fn the_both_parked_regime_recovers_at_the_first_probe() {
        let learned = Learned::new();
        waits(&learned, 13, |_| Spun::RanOut);
        let probes = waits(&learned, PROBE_EVERY + 1, |budget| {
            if budget == MAX_SPINS {
                Spun::Woken(2_000) // the partner answers ~17 µs in
            } else {
                Spun::RanOut
            }
        });
        assert_eq!(probes, 1);
        assert_eq!(learned.spins.get(), MAX_SPINS);
        // And from then on it spins with the full budget, catching every answer.
        waits(&learned, 50, |budget| {
            assert_eq!(budget, MAX_SPINS);
            Spun::Woken(2_000)
        });
    }

    /// When spinning never pays (more runnable threads than CPUs, or a busy machine), probes get
    /// rarer, so their cost falls to a full spin per `PROBE_EVERY_MAX` waits.
    #[test]
    fn failed_probes_back_off() {
        let learned = Learned::new();
        let probes = waits(&learned, 100_000, |_| Spun::RanOut);
        assert_eq!(learned.probe_every.get(), PROBE_EVERY_MAX);
        // 16 + 32 + … + 512 waits to reach the longest interval, then one probe per 1025 waits.
        assert!(
            (100_000 / (PROBE_EVERY_MAX + 1)..=100_000 / (PROBE_EVERY_MAX + 1) + 8)
                .contains(&probes),
            "{probes} probes"
        );
    }

    #[test]
    fn a_spin_without_a_place_teaches_nothing() {
        let learned = Learned::new();
        waits(&learned, 3, |_| Spun::NoPlace);
        assert_eq!(learned.spins.get(), MAX_SPINS);
    }
}
