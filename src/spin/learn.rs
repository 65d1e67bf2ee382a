//! What a blocked thread learns from its waits: the rules by which its spin and yield budgets
//! ([`Budget`]) and how often its spins yield ([`YieldEvery`]) follow how its waits ended
//! ([`Ended`]) and what its yields ran ([`YieldRan`]) (the module docs of `spin.rs` say why). The
//! state they change lives in each thread's `Learned`, in `spin.rs`, which also has the wait
//! itself and the state the whole process shares; these rules read no clock and touch no other
//! thread, so their tests are plain sequences of outcomes. They were part of `spin.rs` until the
//! rules for how often a spin yields made that file hold three roles.

use std::cell::Cell;
use std::time::Duration;

/// The most spins between two yields of one spin (about 2 µs), and where a thread starts.
pub(super) const MAX_SPINS_PER_YIELD: u32 = 1 << 8;
/// The fewest spins between two yields of one spin (about 130 ns).
pub(super) const MIN_SPINS_PER_YIELD: u32 = 1 << 4;
/// A yield that took longer than this ran another thread: a no-op `sched_yield` takes about
/// 0.4 µs here, one that switches to another thread and back about 2 µs.
const YIELD_RAN_ANOTHER: Duration = Duration::from_micros(1);
/// A yield that took longer than this ran something for long: another process, or a thread doing
/// real work; spinning there is no help to the partner, and yielding sooner would not be either.
const YIELD_RAN_LONG: Duration = Duration::from_micros(20);
/// A thread whose budget is below its most spins (yields) uses the most once every
/// `PROBE_EVERY` waits at first; each probe that fails doubles the interval, up to
/// `PROBE_EVERY_MAX`, and one that succeeds restores the full budget (and the first interval).
const PROBE_EVERY: u32 = 16;
/// See [`PROBE_EVERY`].
const PROBE_EVERY_MAX: u32 = 1 << 10;

/// How a spin or a run of yields ended.
pub(super) enum Ended {
    /// The wake-up came, after this many spins (yields).
    Woken(u32),
    /// The budget (or the yield phase's time) ran out first.
    RanOut,
    /// A yield took a whole time slice: the CPU is wanted by others.
    Slow,
    /// It needed a spinning place and none was free.
    NoPlace,
    /// The wake-up came while the spin yielded to another thread: the partner ran on this CPU,
    /// where the spin had kept it waiting.
    WokenInYield,
}

/// A budget (of spins, or of yields) that adapts to how the waits that used it ended.
pub(super) struct Budget {
    /// The most the budget may be.
    pub(super) max: u32,
    /// How much the next wait may use.
    pub(super) now: Cell<u32>,
    /// Waits since its last probe (a wait that used `max` while `now` was short).
    pub(super) since_probe: Cell<u32>,
    /// Waits between two probes while the budget is short.
    pub(super) probe_every: Cell<u32>,
}

impl Budget {
    /// A full budget of at most `max`.
    pub(super) const fn new(max: u32) -> Self {
        Budget {
            max,
            now: Cell::new(max),
            since_probe: Cell::new(0),
            probe_every: Cell::new(PROBE_EVERY),
        }
    }

    /// The budget of the next wait, and whether it is a probe (the full budget while the budget
    /// is short).
    pub(super) fn next(&self) -> (u32, bool) {
        let budget = self.now.get();
        if budget >= self.max {
            return (budget, false);
        }
        let since = self.since_probe.get();
        if since >= self.probe_every.get() {
            self.since_probe.set(0);
            return (self.max, true);
        }
        self.since_probe.set(since + 1);
        (budget, false)
    }

    /// Learns from how a wait that used the budget ended (see the module docs).
    pub(super) fn learn(&self, probe: bool, ended: &Ended) {
        match *ended {
            Ended::Woken(_) if probe => {
                self.now.set(self.max);
                self.probe_every.set(PROBE_EVERY);
            }
            Ended::Woken(after) => {
                let wanted = after.saturating_mul(2).min(self.max);
                self.now.set(self.now.get().max(wanted));
            }
            Ended::RanOut | Ended::Slow | Ended::WokenInYield => {
                let left = if matches!(ended, Ended::Slow) {
                    0
                } else {
                    self.now.get() / 2
                };
                self.now.set(left);
                if probe {
                    let every = self.probe_every.get();
                    self.probe_every.set((every * 2).min(PROBE_EVERY_MAX));
                }
            }
            // No information: it did not wait long.
            Ended::NoPlace => {}
        }
    }
}

/// The spins between two yields of one thread's spins, adapted to what its yields did.
pub(super) struct YieldEvery(Cell<u32>);

/// What a yield did, judged by how long it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum YieldRan {
    /// Nothing else was runnable on this CPU: it returned at once.
    Nothing,
    /// Another thread ran for a moment: likely the partner, which then blocked again.
    Briefly,
    /// Something ran for long: another process, or a thread doing real work.
    Long,
}

impl YieldRan {
    /// Judges a yield that took `took`.
    pub(super) fn after(took: Duration) -> Self {
        if took > YIELD_RAN_LONG {
            YieldRan::Long
        } else if took > YIELD_RAN_ANOTHER {
            YieldRan::Briefly
        } else {
            YieldRan::Nothing
        }
    }
}

impl YieldEvery {
    /// A thread that has not yielded yet: the longest interval.
    pub(super) const fn new() -> Self {
        YieldEvery(Cell::new(MAX_SPINS_PER_YIELD))
    }

    /// Spins until the next yield.
    pub(super) fn get(&self) -> u32 {
        self.0.get()
    }

    /// Learns from a yield (see the module docs).
    pub(super) fn learn(&self, ran: YieldRan) {
        let every = self.0.get();
        self.0.set(match ran {
            YieldRan::Nothing => (every * 2).min(MAX_SPINS_PER_YIELD),
            YieldRan::Briefly => (every / 2).max(MIN_SPINS_PER_YIELD),
            YieldRan::Long => MAX_SPINS_PER_YIELD,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spin::{MAX_SPINS, MAX_YIELDS};

    /// Runs `waits` waits on `budget` that all end as `ended`; returns how many were probes.
    fn waits(budget: &Budget, waits: u32, ended: impl Fn(u32) -> Ended) -> u32 {
        let mut probes = 0;
        for _ in 0..waits {
            let (now, probe) = budget.next();
            probes += u32::from(probe);
            budget.learn(probe, &ended(now));
        }
        probes
    }

    /// Also when every wake-up comes in a yield of the spin: with two threads on one CPU the
    /// spinner's partner runs only then. Counted as a catch, that kept the full budget (a 2 µs
    /// spin per message); it must shrink the budget as a spin that ran out does.
    #[test]
    fn a_budget_that_keeps_running_out_falls_to_zero() {
        for ended in [|| Ended::RanOut, || Ended::WokenInYield] {
            let spins = Budget::new(MAX_SPINS);
            waits(&spins, 13, |_| ended());
            assert_eq!(spins.now.get(), 0);
        }
    }

    #[test]
    fn quick_wake_ups_keep_the_full_budget() {
        let spins = Budget::new(MAX_SPINS);
        waits(&spins, 100, |_| Ended::Woken(100));
        assert_eq!(spins.now.get(), MAX_SPINS);
    }

    /// The both-parked regime: short spins never catch the partner, which is parked too; only a
    /// full-budget probe does, and one successful probe brings the whole budget back.
    #[test]
    fn the_both_parked_regime_recovers_at_the_first_probe() {
        let spins = Budget::new(MAX_SPINS);
        waits(&spins, 13, |_| Ended::RanOut);
        let probes = waits(&spins, PROBE_EVERY + 1, |budget| {
            if budget == MAX_SPINS {
                Ended::Woken(2_000) // the partner answers ~17 µs in
            } else {
                Ended::RanOut
            }
        });
        assert_eq!(probes, 1);
        assert_eq!(spins.now.get(), MAX_SPINS);
        // And from then on it spins with the full budget, catching every answer.
        waits(&spins, 50, |budget| {
            assert_eq!(budget, MAX_SPINS);
            Ended::Woken(2_000)
        });
    }

    /// When spinning never pays (more runnable threads than CPUs, or a busy machine), probes get
    /// rarer, so their cost falls to a full spin per `PROBE_EVERY_MAX` waits.
    #[test]
    fn failed_probes_back_off() {
        let spins = Budget::new(MAX_SPINS);
        let probes = waits(&spins, 100_000, |_| Ended::RanOut);
        assert_eq!(spins.probe_every.get(), PROBE_EVERY_MAX);
        // 16 + 32 + … + 512 waits to reach the longest interval, then one probe per 1025 waits.
        assert!(
            (100_000 / (PROBE_EVERY_MAX + 1)..=100_000 / (PROBE_EVERY_MAX + 1) + 8)
                .contains(&probes),
            "{probes} probes"
        );
    }

    /// Yields that ran the partner for a moment make a thread's spins yield more often (down to
    /// every `MIN_SPINS_PER_YIELD` spins); yields that ran nothing, less often; one that ran
    /// something for long, as seldom as at first.
    #[test]
    fn how_often_a_spin_yields_follows_what_its_yields_ran() {
        let every = YieldEvery::new();
        for _ in 0..10 {
            every.learn(YieldRan::Briefly);
        }
        assert_eq!(every.get(), MIN_SPINS_PER_YIELD);
        every.learn(YieldRan::Nothing);
        assert_eq!(every.get(), MIN_SPINS_PER_YIELD * 2);
        for _ in 0..10 {
            every.learn(YieldRan::Nothing);
        }
        assert_eq!(every.get(), MAX_SPINS_PER_YIELD);
        every.learn(YieldRan::Briefly);
        every.learn(YieldRan::Briefly);
        every.learn(YieldRan::Long);
        assert_eq!(every.get(), MAX_SPINS_PER_YIELD);
        assert_eq!(YieldRan::after(YIELD_RAN_ANOTHER / 2), YieldRan::Nothing);
        assert_eq!(YieldRan::after(YIELD_RAN_ANOTHER * 2), YieldRan::Briefly);
        assert_eq!(YieldRan::after(YIELD_RAN_LONG * 2), YieldRan::Long);
    }

    #[test]
    fn a_spin_without_a_place_teaches_nothing() {
        let spins = Budget::new(MAX_SPINS);
        waits(&spins, 3, |_| Ended::NoPlace);
        assert_eq!(spins.now.get(), MAX_SPINS);
    }

    /// One slow yield (another process took the CPU for a time slice) ends yielding at once, not
    /// after halvings that would each cost a time slice; a probe that finds yields quick again
    /// brings them back.
    #[test]
    fn a_slow_yield_stops_yielding_until_a_probe_pays() {
        let yields = Budget::new(MAX_YIELDS);
        waits(&yields, 1, |_| Ended::Slow);
        assert_eq!(yields.now.get(), 0);
        let probes = waits(&yields, PROBE_EVERY + 1, |budget| {
            if budget == MAX_YIELDS {
                Ended::Woken(3)
            } else {
                Ended::RanOut
            }
        });
        assert_eq!(probes, 1);
        assert_eq!(yields.now.get(), MAX_YIELDS);
    }
}
