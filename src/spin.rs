//! How long a blocked thread spins before it parks: the spin policy (see [`crate::wait`] for
//! the policy as users see it; [`crate::parker`] does the parking).
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
//!
//! This was part of `parker.rs` until the policy grew its own state (budgets, probes, places):
//! the parker now asks [`wait_briefly`] first and parks if it says no wake-up came.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

/// The most `spin_loop` calls one wait spins for (about 35 µs on the machine the README's figures
/// come from): enough to cover a partner that is itself just being woken from a park.
const MAX_SPINS: u32 = 1 << 12;
/// Spins any waiting thread may do without a spinning place.
const FREE_SPINS: u32 = 1 << 6;
/// The longest run of spins between two looks at the wake-up flag.
const SPINS_PER_LOOK: u32 = 1 << 6;
/// A thread whose budget is below `MAX_SPINS` spins the full budget once every `PROBE_EVERY`
/// waits at first; each probe that fails doubles the interval, up to `PROBE_EVERY_MAX`, and one
/// that succeeds restores the full budget (and the first interval).
const PROBE_EVERY: u32 = 16;
/// See [`PROBE_EVERY`].
const PROBE_EVERY_MAX: u32 = 1 << 10;
/// `yield_now` calls before parking, on one CPU.
const YIELDS_ON_ONE_CPU: u32 = 2;

/// Threads spinning right now, in every channel of the process.
static SPINNING: AtomicUsize = AtomicUsize::new(0);
/// CPUs this process may run on, as last read; 0 before the first read.
static CPUS: AtomicUsize = AtomicUsize::new(0);

/// What one thread learned from its waits.
struct Learned {
    /// How many `spin_loop` calls its next wait may spin for.
    spins: Cell<u32>,
    /// Waits since its last full-budget spin.
    since_probe: Cell<u32>,
    /// Waits between two full-budget spins while the budget is short.
    probe_every: Cell<u32>,
}

std::thread_local! {
    static LEARNED: Learned = const { Learned::new() };
}

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
fn cpus() -> usize {
    match CPUS.load(Ordering::Relaxed) {
        0 => refresh_cpus(),
        n => n,
    }
}

/// Reads the CPU count again (system calls, and on Linux a look at the cgroup's quota, which
/// allocates: so it is read where a thread makes its parker, which allocates anyway, and not per
/// wait).
pub(crate) fn refresh_cpus() -> usize {
    let n = thread::available_parallelism().map_or(1, usize::from);
    CPUS.store(n, Ordering::Relaxed);
    n
}

/// A place among the threads allowed to spin at once; given back on drop.
struct SpinSlot;

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

impl Drop for SpinSlot {
    fn drop(&mut self) {
        SPINNING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Spins (or on one CPU, yields) for as long as this thread's budget and the free spinning
/// places allow, watching `woken`, and learns from how it went. Returns whether a wake-up came.
pub(crate) fn wait_briefly(woken: impl Fn() -> bool) -> bool {
    LEARNED
        .try_with(|learned| spin_and_learn(learned, &woken))
        .unwrap_or(false)
}

/// [`wait_briefly`] with this thread's `learned` state.
fn spin_and_learn(learned: &Learned, woken: &impl Fn() -> bool) -> bool {
    let cpus = cpus();
    if cpus == 1 {
        for _ in 0..YIELDS_ON_ONE_CPU {
            thread::yield_now();
            if woken() {
                return true;
            }
        }
        return false;
    }
    let (budget, probe) = learned.next_spin();
    let spun = spin(woken, budget, cpus - 1);
    learned.learn(probe, &spun);
    matches!(spun, Spun::Woken(_))
}

/// Spins for up to `budget` spins, the part past `FREE_SPINS` only with one of `places`
/// spinning places, looking at `woken` every few spins.
fn spin(woken: &impl Fn() -> bool, budget: u32, places: usize) -> Spun {
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
        if woken() {
            return Spun::Woken(spun);
        }
        run = (run * 2).min(SPINS_PER_LOOK);
    }
    Spun::RanOut
}

/// How a spin ended.
enum Spun {
    /// The wake-up came, after this many spins.
    Woken(u32),
    /// The budget ran out first.
    RanOut,
    /// It needed a spinning place and none was free.
    NoPlace,
}

#[cfg(test)]
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
