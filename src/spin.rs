//! How long a blocked thread spins, then yields, before it parks: the wait policy (see
//! [`crate::wait`] for the policy as users see it; [`crate::parker`] does the parking).
//!
//! A rendezvous partner on another core usually answers within a microsecond or two, far sooner
//! than a park/unpark round trip (two system calls and two context switches), so a blocked call
//! spins first. But spinning only helps while the partner is running: on one CPU it keeps the
//! partner off the CPU, with more waiting threads than CPUs the spinners crowd out the threads that
//! would answer, and on a busy machine the partner may not run for a whole time slice. So:
//!
//! - **Only the waiter served next spins.** The exchange tells a blocked thread, as it registers,
//!   whether its node is first in its line ([`note_place_in_line`]; Java's `SynchronousQueue`
//!   does the same). One behind others does not spin (with more than one CPU): the next answer
//!   goes to the waiter ahead of it, so its spin could only end by running out, on a CPU that the
//!   threads doing the work need (with 23 threads forwarding between two channels on two CPUs,
//!   a third of the CPU time went to such spins). It goes straight to the yield phase (below): a
//!   yield runs a thread that is runnable on its CPU, often one that serves the line, and costs
//!   no park and wake-up (parking at once ran that shape at 0.7x the rate, with 1.4x the CPU per
//!   message, in the runs where it was slow; level in the others).
//! - **Each thread adapts its spin budget** to how its spins end. A spin that saw its wake-up
//!   after `k` spins keeps a budget of at least `2k`; one that ran out halves the budget (the
//!   partner was not about to answer: spinning only burned CPU). While the budget is short, a
//!   thread now and then spins the full `MAX_SPINS` once (every 16th wait at first, less often
//!   after each probe that fails, down to every 1024th), and a probe that catches its wake-up
//!   restores the full budget. The probes are what get two partners out of the
//!   both-parked regime (each parks, so neither is on a CPU when the other waits, and short spins
//!   never succeed): a park that ends quickly proves nothing, since a thread that stops spinning
//!   may be the very thing that lets its partner run.
//! - **A long spin yields now and then**: when the thread that would answer is runnable on the
//!   spinner's CPU (three threads passing messages along on two CPUs), the yield runs it;
//!   otherwise it returns at once. How often adapts per thread ([`YieldEvery`]): a yield that gave
//!   the CPU away for a moment (the partner ran and blocked again) halves the spins between yields,
//!   down to `MIN_SPINS_PER_YIELD` (about 130 ns); one that returned at once doubles them, up to
//!   `MAX_SPINS_PER_YIELD` (about 2 µs); one that gave the CPU away for long (another process)
//!   sets them back to the most. With 1 and 4 forwarders in Go's multi-consumer shape (three and
//!   six threads on two CPUs) the short interval raised the rate 1.6-1.8 times and cut the CPU per
//!   message by 40%; with two threads on two CPUs the yields find nothing to run and the interval
//!   stays long.
//! - **A wake-up found right after a yield that gave the CPU away counts as a spin that ran out**
//!   (`Ended::WokenInYield`): the partner was waiting for this very CPU, and the spin only kept it
//!   waiting. Counted as a catch, it kept two threads that share one CPU (a new thread often
//!   starts on its parent's) spinning 2 µs for each message, at a fifth of the rate they reach by
//!   yielding to each other at once. After a yield that returned at once, the spin caught it.
//! - **Few spin at once:** every waiting thread may spin `FREE_SPINS` (under a microsecond), but
//!   spinning longer needs one of `CPUs - 1` places (none on one CPU); a thread that finds none
//!   does not spin on. So waiting threads never take every CPU from the thread that would answer,
//!   however many there are.
//! - **Then it yields**, up to `MAX_YIELDS` times or [`YIELD_TIME`], before it parks: when more
//!   threads are runnable than there are CPUs (a pool larger than the machine, or one CPU), a
//!   yield runs one of them, often the partner, and the waiter is back on the CPU as soon as
//!   that thread blocks, without a park/unpark round trip. The yield budget adapts like the spin
//!   budget (a yield phase that ran out halves it).
//! - **On one CPU** a waiting thread only yields, twice, whatever its place: the partner it waits
//!   for is likely runnable on that CPU, and a yield lets it run without a park/unpark round trip;
//!   more yields only pass the CPU around among waiters.
//! - **But not on a busy machine:** a yield that gave the CPU away for a time slice
//!   ([`SLOW_YIELD`](slow_yields::SLOW_YIELD)) may mean that other processes want the CPUs; a
//!   thread that yielded gets the CPU back only when that slice ends, while a parked thread runs
//!   as soon as it is woken. So no thread of the process yields for
//!   [`YIELDS_OFF`](slow_yields::YIELDS_OFF) once slow yields turn out to be other processes'
//!   doing (kanal yields in the same way without this check, and with one busy process per CPU
//!   its multi-thread rows fall to a few thousand messages a second). Whose doing is read from
//!   the process's CPU time between two slow yields (`spin/slow_yields.rs`): the process's own
//!   threads make slow yields too when they outnumber the CPUs (23 forwarders on two CPUs), and
//!   turning yields off for those parked every forwarder (the shape ran at 0.53x the rate with
//!   1.9x the CPU per message, `.ci/ab` with 50,000 messages and 7 rounds). Where that time cannot
//!   be read, two slow yields within [`SLOW_YIELDS_APART`](slow_yields::SLOW_YIELDS_APART) are
//!   taken as another process's.
//!
//! The CPU count is read again each time a thread makes its parker (at its first blocking call):
//! a process may be moved to other CPUs while it runs.
//!
//! This was part of `parker.rs` until the policy grew its own state (budgets, probes, places):
//! the parker now asks [`wait_briefly`] first and parks if it says no wake-up came. The yield
//! phase and the place in line came later, for loads where threads outnumber the CPUs; the two
//! budgets share one learning rule ([`Budget`]). The learning rules (the budgets, how often a
//! spin yields, and the outcomes they learn from) are in `spin/learn.rs`: this file has the wait
//! itself and each thread's `Learned` state. What the whole process shares is in two files of
//! its own: the CPU count and the spinning places in `spin/cpus.rs`, the memory of slow yields in
//! `spin/slow_yields.rs`.

use std::cell::Cell;
use std::thread;
use std::time::{Duration, Instant};

mod cpus;
mod learn;
mod slow_yields;

pub(crate) use cpus::refresh_cpus;
use cpus::{cpus, SpinSlot};
use learn::{Budget, Ended, YieldEvery, YieldRan};
#[cfg(test)]
use learn::{MAX_SPINS_PER_YIELD, MIN_SPINS_PER_YIELD};
use slow_yields::{note_if_slow, yields_are_quick_lately};

/// The most `spin_loop` calls one wait spins for (about 35 µs on the machine the README's figures
/// come from): enough to cover a partner that is itself just being woken from a park.
const MAX_SPINS: u32 = 1 << 12;
/// Spins any waiting thread may do without a spinning place.
const FREE_SPINS: u32 = 1 << 6;
/// The most `yield_now` calls one wait makes after its spin.
const MAX_YIELDS: u32 = 1 << 6;
/// A yield phase ends after this long, however many yields it had left.
const YIELD_TIME: Duration = Duration::from_micros(50);
/// `yield_now` calls before parking, on one CPU.
const YIELDS_ON_ONE_CPU: u32 = 2;

/// Where the node of a thread's latest registration stands in its channel's line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// No registration since the last poll began (a select's, a re-poll's): may spin.
    Unknown,
    /// First in line: a peer serves this node next.
    First,
    /// Other waiters are ahead of it: spinning cannot make its turn come sooner.
    Behind,
}

/// What one thread learned from its waits.
struct Learned {
    /// How many `spin_loop` calls its next wait may spin for.
    spins: Budget,
    /// How many `yield_now` calls its next wait may make after spinning.
    yields: Budget,
    /// Where its latest registration put it in line ([`note_place_in_line`]).
    place: Cell<Place>,
    /// How often its spins yield.
    yield_every: YieldEvery,
}

std::thread_local! {
    static LEARNED: Learned = const { Learned::new() };
}

impl Learned {
    /// A thread that has not waited yet: full budgets.
    const fn new() -> Self {
        Learned {
            spins: Budget::new(MAX_SPINS),
            yields: Budget::new(MAX_YIELDS),
            place: Cell::new(Place::Unknown),
            yield_every: YieldEvery::new(),
        }
    }
}

/// Records where the node the current thread just registered stands in its channel's line
/// (the exchange calls it, under the lock, for a blocked thread's node): a wait spins only if
/// the node is first. Forgotten when the next poll begins ([`forget_place_in_line`]).
pub(crate) fn note_place_in_line(first: bool) {
    let place = if first { Place::First } else { Place::Behind };
    let _ = LEARNED.try_with(|learned| learned.place.set(place));
}

/// Forgets the place noted by the latest registration: called as a blocked thread polls again.
pub(crate) fn forget_place_in_line() {
    let _ = LEARNED.try_with(|learned| learned.place.set(Place::Unknown));
}

/// Spins, then yields, for as long as this thread's budgets, its place in line and the free
/// spinning places allow, watching `woken`, and learns from how it went. Returns whether a
/// wake-up came.
pub(crate) fn wait_briefly(woken: impl Fn() -> bool) -> bool {
    LEARNED
        .try_with(|learned| spin_then_yield(learned, &woken))
        .unwrap_or(false)
}

/// [`wait_briefly`] with this thread's `learned` state.
fn spin_then_yield(learned: &Learned, woken: &impl Fn() -> bool) -> bool {
    let cpus = cpus();
    let place = learned.place.replace(Place::Unknown);
    if cpus == 1 {
        // A spin only keeps the partner off the CPU, and a longer run of yields only passes it
        // around among the waiters (23 forwarders on one CPU ran at half the rate with 64).
        for _ in 0..YIELDS_ON_ONE_CPU {
            thread::yield_now();
            if woken() {
                return true;
            }
        }
        return false;
    }
    // Behind others, its turn comes no sooner for spinning; but a yield may run a thread that
    // serves the line (with 23 forwarders on two CPUs, parking at once ran at 0.7x this in the
    // runs where that shape was slow).
    if place == Place::Behind {
        return yield_phase(learned, woken);
    }
    let (budget, probe) = learned.spins.next();
    let ended = spin(
        woken,
        budget,
        cpus - 1,
        &learned.yield_every,
        yield_and_judge,
    );
    learned.spins.learn(probe, &ended);
    if matches!(ended, Ended::Woken(_) | Ended::WokenInYield) {
        return true;
    }
    yield_phase(learned, woken)
}

/// Yields for as long as this thread's yield budget allows, watching `woken`, and learns from how
/// it went; returns whether a wake-up came.
fn yield_phase(learned: &Learned, woken: &impl Fn() -> bool) -> bool {
    // On a busy machine a yield hands the CPU to another process for a whole time slice.
    if !yields_are_quick_lately(Instant::now()) {
        return false;
    }
    let (budget, probe) = learned.yields.next();
    let ended = yield_now(woken, budget);
    learned.yields.learn(probe, &ended);
    matches!(ended, Ended::Woken(_))
}

/// Spins for up to `budget` spins, the part past `FREE_SPINS` only with one of `places`
/// spinning places, looking at `woken` after every spin, and yielding as often as `every` says
/// (with `yield_once`, [`yield_and_judge`] but in the tests; `None`: it did not yield).
fn spin(
    woken: &impl Fn() -> bool,
    budget: u32,
    places: usize,
    every: &YieldEvery,
    yield_once: impl Fn() -> Option<YieldRan>,
) -> Ended {
    let mut spun = 0;
    let mut place = None;
    let mut next_yield = every.get();
    while spun < budget {
        if spun >= FREE_SPINS && place.is_none() {
            place = SpinSlot::take(places);
            if place.is_none() {
                return Ended::NoPlace;
            }
        }
        // A look at the flag after every spin: a thread whose partner is a task on another
        // thread's runtime must send again before that runtime parks (with a look every 4
        // spins, about 30 ns, a thread sending to a task ran at a half to a quarter of this
        // rate; every 64, at a tenth or less).
        core::hint::spin_loop();
        spun += 1;
        if woken() {
            return Ended::Woken(spun);
        }
        if spun >= next_yield {
            // A long spin lets a thread that is runnable on this CPU (often the partner) run now
            // and then; with no such thread the yield returns at once.
            if let Some(ran) = yield_once() {
                every.learn(ran);
                if woken() {
                    // If the yield ran another thread, the partner ran here: the yield caught
                    // the wake-up, not the spin.
                    return if ran == YieldRan::Nothing {
                        Ended::Woken(spun)
                    } else {
                        Ended::WokenInYield
                    };
                }
            }
            next_yield = spun + every.get();
        }
    }
    Ended::RanOut
}

/// Yields once, unless yields were slow lately; notes the yield if it was slow, and says what it
/// ran (`None`: it did not yield).
fn yield_and_judge() -> Option<YieldRan> {
    let before = Instant::now();
    if !yields_are_quick_lately(before) {
        return None;
    }
    thread::yield_now();
    let after = Instant::now();
    note_if_slow(before, after);
    Some(YieldRan::after(after - before))
}

/// Yields up to `budget` times, for at most [`YIELD_TIME`], looking at `woken` after each yield;
/// stops at the first yield slower than [`SLOW_YIELD`](slow_yields::SLOW_YIELD).
fn yield_now(woken: &impl Fn() -> bool, budget: u32) -> Ended {
    if budget == 0 {
        return Ended::RanOut;
    }
    let start = Instant::now();
    let mut before = start;
    for yields in 1..=budget {
        thread::yield_now();
        if woken() {
            return Ended::Woken(yields);
        }
        let now = Instant::now();
        if note_if_slow(before, now) {
            return Ended::Slow;
        }
        if now - start > YIELD_TIME {
            break;
        }
        before = now;
    }
    Ended::RanOut
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A look right after a yield that ran another thread reports the wake-up as one that came in
    /// the yield; after a yield that ran nothing, and before any yield, as caught by the spin.
    #[test]
    fn a_spin_tells_a_wake_up_in_its_yield_from_one_it_caught() {
        let woken_at = |at: u32| {
            let looks = Cell::new(0);
            move || {
                looks.set(looks.get() + 1);
                looks.get() >= at
            }
        };
        let spin_with = |at: u32, ran: YieldRan| {
            let every = YieldEvery::new();
            spin(&woken_at(at), MAX_SPINS, usize::MAX, &every, || Some(ran))
        };
        assert!(matches!(
            spin_with(MAX_SPINS_PER_YIELD, YieldRan::Briefly),
            Ended::Woken(n) if n == MAX_SPINS_PER_YIELD
        ));
        let after_a_yield = |ran| spin_with(MAX_SPINS_PER_YIELD + 1, ran);
        assert!(matches!(
            after_a_yield(YieldRan::Briefly),
            Ended::WokenInYield
        ));
        assert!(matches!(after_a_yield(YieldRan::Long), Ended::WokenInYield));
        assert!(matches!(
            after_a_yield(YieldRan::Nothing),
            Ended::Woken(n) if n == MAX_SPINS_PER_YIELD
        ));
        // Yields off (they were slow lately): no yield, so the spin caught it, and the interval
        // is as it was.
        let every = YieldEvery::new();
        let ended = spin(
            &woken_at(MAX_SPINS_PER_YIELD + 1),
            MAX_SPINS,
            usize::MAX,
            &every,
            || None,
        );
        assert!(matches!(ended, Ended::Woken(n) if n == MAX_SPINS_PER_YIELD + 1));
        assert_eq!(every.get(), MAX_SPINS_PER_YIELD);
    }

    /// A spin whose yields run the partner yields more and more often as it goes on; one whose
    /// yields run nothing keeps yielding every `MAX_SPINS_PER_YIELD` spins.
    #[test]
    fn a_spin_yields_more_often_while_its_yields_run_the_partner() {
        let yields_in_one_spin = |ran: YieldRan| {
            let every = YieldEvery::new();
            let yields = Cell::new(0);
            let ended = spin(&|| false, 1024, usize::MAX, &every, || {
                yields.set(yields.get() + 1);
                Some(ran)
            });
            assert!(matches!(ended, Ended::RanOut));
            (yields.get(), every.get())
        };
        // At 256, 384, 448, 480, 496, then every 16 spins up to 1024.
        assert_eq!(
            yields_in_one_spin(YieldRan::Briefly),
            (5 + (1024 - 496) / 16, MIN_SPINS_PER_YIELD)
        );
        assert_eq!(
            yields_in_one_spin(YieldRan::Nothing),
            (1024 / 256, MAX_SPINS_PER_YIELD)
        );
    }

    /// A yield phase with no budget makes no system call and reports that it ran out; one whose
    /// wake-up is already there stops after its first yield.
    #[test]
    fn the_yield_phase_watches_its_flag_and_its_budget() {
        assert!(matches!(
            yield_now(&|| panic!("no yield, no look"), 0),
            Ended::RanOut
        ));
        assert!(matches!(yield_now(&|| true, MAX_YIELDS), Ended::Woken(1)));
        let looks = Cell::new(0);
        let ended = yield_now(
            &|| {
                looks.set(looks.get() + 1);
                false
            },
            4,
        );
        assert!(matches!(ended, Ended::RanOut | Ended::Slow));
        assert!((1..=4).contains(&looks.get()));
    }

    /// The exchange notes a blocked thread's place as its node registers: the first blocked
    /// receive (send) is first in line, the next one behind it; a task's registration notes
    /// nothing, and a new poll forgets the place.
    #[test]
    fn the_exchange_tells_a_blocked_thread_its_place_in_line() {
        use core::future::Future;
        use core::pin::pin;
        use core::task::Context;

        use crate::exchange::Core;
        use crate::lock::StdLock;
        use crate::recv::RecvFut;
        use crate::send::SendFut;

        let place = || LEARNED.with(|learned| learned.place.get());
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);

        let receives = Core::<u32, StdLock>::new();
        let mut first = pin!(RecvFut::new(&receives, true));
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert_eq!(place(), Place::First);
        let mut second = pin!(RecvFut::new(&receives, true));
        assert!(second.as_mut().poll(&mut cx).is_pending());
        assert_eq!(place(), Place::Behind);
        forget_place_in_line();
        let mut task = pin!(RecvFut::new(&receives, false));
        assert!(task.as_mut().poll(&mut cx).is_pending());
        assert_eq!(place(), Place::Unknown);

        let sends = Core::<u32, StdLock>::new();
        let mut first = pin!(SendFut::new(&sends, 1, true));
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert_eq!(place(), Place::First);
        let mut second = pin!(SendFut::new(&sends, 2, true));
        assert!(second.as_mut().poll(&mut cx).is_pending());
        assert_eq!(place(), Place::Behind);
        forget_place_in_line();
        assert_eq!(place(), Place::Unknown);
    }

    /// A thread behind others in line does not spin when there is a second CPU (its partner's
    /// next answer goes to the waiter ahead of it) but yields, since a yield may run a thread
    /// that serves the line; and the place is forgotten after one wait: a wait whose registration
    /// said nothing may spin.
    #[test]
    fn a_thread_behind_others_in_line_yields_but_does_not_spin() {
        if cpus() < 2 {
            return; // on one CPU it only yields, twice, by design
        }
        let learned = Learned::new();
        // A short spin budget counts its waits (a full one is used without counting).
        learned.spins.now.set(0);
        learned.place.set(Place::Behind);
        let looks = Cell::new(0);
        let woken = || {
            looks.set(looks.get() + 1);
            false
        };
        let quick = yields_are_quick_lately(Instant::now());
        assert!(!spin_then_yield(&learned, &woken));
        assert_eq!(learned.spins.since_probe.get(), 0, "it did not spin");
        // Another test may turn yields off for a moment; then it does not yield either.
        if quick && yields_are_quick_lately(Instant::now()) {
            assert!(looks.get() >= 1, "it yielded");
        }
        assert_eq!(learned.place.get(), Place::Unknown);
        learned.spins.now.set(MAX_SPINS);
        let looks = Cell::new(0);
        let woken = || {
            looks.set(looks.get() + 1);
            true
        };
        assert!(spin_then_yield(&learned, &woken));
        assert_eq!(
            looks.get(),
            1,
            "first in line or unknown: it spins, and saw the wake-up"
        );
    }
}
