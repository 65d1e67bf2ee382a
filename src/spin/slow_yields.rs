//! The process's memory of slow yields, which tells every waiting thread whether yielding is
//! worth it (see "But not on a busy machine" in `spin.rs`): a yield that gave the CPU away for a
//! time slice ([`SLOW_YIELD`]) may mean that other processes want the CPUs, and then yields are
//! turned off for every thread of the process for [`YIELDS_OFF`]. It is the one part of the wait
//! policy that reads clocks shared by all threads: moved here from `spin.rs`, which keeps the
//! wait itself, each thread's state and the spinning places.
//!
//! # Whose time slice
//!
//! A slow yield alone does not say who took the CPU. With more threads than CPUs (23 forwarders
//! on two CPUs), the process's own threads make slow yields too, while they keep every CPU busy
//! with their own work; turning yields off then parks them all, and each message costs
//! futex calls instead of a yield (figures in `spin.rs`). So where the process's CPU time can be
//! read (unix: `getrusage`), a slow yield opens a *window*, and a slow yield between
//! [`MIN_WINDOW`] and [`SLOW_YIELDS_APART`] later judges it: yields go off only if the process
//! ran on fewer than `CPUs - 1/2` CPUs on average in it, i.e. something else took at least half
//! a CPU; otherwise the window starts again. Elsewhere (no such clock), two slow yields within [`SLOW_YIELDS_APART`]
//! turn yields off, as before.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A yield that took longer than this gave the CPU to something that ran a whole time slice:
/// another process on a busy machine, or the process's own threads when there are more of them
/// than CPUs. In the first case the next yields would be slow too, and a thread that yielded gets
/// the CPU back only when that slice ends, while a parked one is run as soon as it is woken: so
/// no thread of the process yields for [`YIELDS_OFF`] once slow yields are found to be the
/// other processes' doing.
pub(super) const SLOW_YIELD: Duration = Duration::from_micros(100);
/// How long the whole process parks without yielding once slow yields turned yields off.
pub(super) const YIELDS_OFF: Duration = Duration::from_millis(100);
/// The longest window between two slow yields that are judged together.
pub(super) const SLOW_YIELDS_APART: Duration = Duration::from_millis(10);
/// The shortest window in which the process's CPU time tells whose the slow yields were
/// (`getrusage` counts in microseconds, and a window of a few slow yields from one burst of
/// threads says little).
pub(super) const MIN_WINDOW: Duration = Duration::from_millis(1);
/// When the latest [`YIELDS_OFF`] period began, in microseconds since [`epoch`] (wrapping: a
/// wrong answer once in 71 minutes on a 32-bit target costs one wait); 0: never.
static YIELDS_OFF_SINCE: AtomicUsize = AtomicUsize::new(0);

/// The slow yield that opened the current window: when it ended, and the process's CPU time
/// then (`None` where that cannot be read). Taken with `try_lock` on slow yields only, which are
/// rare (each one is a tenth of a millisecond away from the CPU).
static WINDOW: Mutex<Option<(Instant, Option<Duration>)>> = Mutex::new(None);

/// The instant the yield clock counts from (the first wait that yielded).
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Microseconds from [`epoch`] to `at`, wrapping; never 0 (which means "never").
fn micros_since_epoch(at: Instant) -> usize {
    // Truncation is the wrapping the comparisons expect.
    #[allow(clippy::cast_possible_truncation)]
    let micros = at.saturating_duration_since(epoch()).as_micros() as usize;
    micros.max(1)
}

/// Whether yields are on: no [`YIELDS_OFF`] period began in the last `YIELDS_OFF`.
pub(super) fn yields_are_quick_lately(now: Instant) -> bool {
    let since = YIELDS_OFF_SINCE.load(Ordering::Relaxed);
    since == 0 || micros_since_epoch(now).wrapping_sub(since) > YIELDS_OFF.as_micros() as usize
}

/// Records a slow yield (one that began at `before` and ended at `now`) for the whole process;
/// returns whether it was slow.
pub(super) fn note_if_slow(before: Instant, now: Instant) -> bool {
    let slow = now - before > SLOW_YIELD;
    if slow {
        // Another thread judging a slow yield of its own: one judgement is enough.
        if let Ok(mut window) = WINDOW.try_lock() {
            let cpu = process_cpu_time();
            let verdict = judge(*window, now, cpu, super::cpus::cpus());
            if verdict == Verdict::OthersTookTheCpus {
                YIELDS_OFF_SINCE.store(micros_since_epoch(now), Ordering::Relaxed);
            }
            if verdict != Verdict::Undecided {
                *window = Some((now, cpu));
            }
        }
    }
    slow
}

/// What a slow yield says of the window the previous ones opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Too soon to tell: the window stays open.
    Undecided,
    /// The window was too old, or the process's own threads kept the CPUs busy in it: a new window
    /// opens, yields stay as they are.
    Open,
    /// Something other than the process took the CPUs in the window: yields go off.
    OthersTookTheCpus,
}

/// Judges a slow yield that ended at `now`, with the process's CPU time `cpu` then, against the
/// `window` that earlier slow yields opened, on `cpus` CPUs (module docs).
fn judge(
    window: Option<(Instant, Option<Duration>)>,
    now: Instant,
    cpu: Option<Duration>,
    cpus: usize,
) -> Verdict {
    let Some((opened, cpu_then)) = window else {
        return Verdict::Open;
    };
    let wall = now.saturating_duration_since(opened);
    if wall > SLOW_YIELDS_APART {
        return Verdict::Open;
    }
    let (Some(cpu_now), Some(cpu_then)) = (cpu, cpu_then) else {
        // No CPU clock: two slow yields close together are taken as another process's.
        return Verdict::OthersTookTheCpus;
    };
    if wall < MIN_WINDOW {
        return Verdict::Undecided;
    }
    let used = cpu_now.saturating_sub(cpu_then).as_secs_f64() / wall.as_secs_f64();
    #[allow(clippy::cast_precision_loss)] // a CPU count
    let others_took_half_a_cpu = used < cpus as f64 - 0.5;
    if others_took_half_a_cpu {
        Verdict::OthersTookTheCpus
    } else {
        Verdict::Open
    }
}

/// The CPU time (user plus system) every thread of this process has used so far, where it can be
/// read.
#[cfg(all(unix, not(miri)))]
fn process_cpu_time() -> Option<Duration> {
    let mut usage = core::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `getrusage` writes one `rusage` into the memory it is given, which is one, and
    // reads nothing from it.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: zeroed is a valid `rusage` (integers only), and `getrusage` succeeded.
    let usage = unsafe { usage.assume_init() };
    // `time_t` and `suseconds_t` are `i64` here, narrower on some targets.
    #[allow(clippy::useless_conversion)]
    let time = |t: libc::timeval| {
        let micros = i64::from(t.tv_sec) * 1_000_000 + i64::from(t.tv_usec);
        Duration::from_micros(u64::try_from(micros).unwrap_or(0))
    };
    Some(time(usage.ru_utime) + time(usage.ru_stime))
}

/// The CPU time of this process: not read here (no `getrusage`; Miri has none either).
#[cfg(not(all(unix, not(miri))))]
fn process_cpu_time() -> Option<Duration> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The verdicts, window by window: nothing to judge against, or a window too old, opens one;
    /// one too young to tell stays open; in one of the right age, the process's CPU time decides
    /// whether others took the CPUs, and without a CPU clock two slow yields close together do.
    #[test]
    fn a_slow_yield_turns_yields_off_only_when_others_took_the_cpus() {
        let opened = Instant::now();
        let cpu = Duration::from_millis(40);
        let window = Some((opened, Some(cpu)));
        let at = |after: Duration| opened + after;
        // The process ran on `cpus` CPUs for 2 ms since the window opened.
        let ran_on = |cpus: f64| Some(cpu + Duration::from_secs_f64(cpus * 0.002));
        let two_ms = Duration::from_millis(2);

        assert_eq!(judge(None, at(two_ms), ran_on(2.0), 2), Verdict::Open);
        let too_old = SLOW_YIELDS_APART + Duration::from_millis(1);
        assert_eq!(judge(window, at(too_old), ran_on(0.0), 2), Verdict::Open);
        let too_young = MIN_WINDOW / 2;
        assert_eq!(
            judge(window, at(too_young), ran_on(0.0), 2),
            Verdict::Undecided
        );

        // Its own threads kept both CPUs busy (23 forwarders on two): yields stay on.
        assert_eq!(judge(window, at(two_ms), ran_on(1.9), 2), Verdict::Open);
        // One busy-looping process per CPU took about half of each.
        assert_eq!(
            judge(window, at(two_ms), ran_on(1.0), 2),
            Verdict::OthersTookTheCpus
        );
        // The line is half a CPU taken by others, on any number of CPUs.
        assert_eq!(judge(window, at(two_ms), ran_on(7.6), 8), Verdict::Open);
        assert_eq!(
            judge(window, at(two_ms), ran_on(7.4), 8),
            Verdict::OthersTookTheCpus
        );

        // No CPU clock, then or now: two slow yields close together are taken as others'.
        assert_eq!(
            judge(Some((opened, None)), at(two_ms), None, 2),
            Verdict::OthersTookTheCpus
        );
        assert_eq!(
            judge(window, at(too_young), None, 2),
            Verdict::OthersTookTheCpus
        );
    }

    /// Through `note_if_slow`, with this process's real CPU time, which hardly moves while the
    /// test's made-up instants move by milliseconds (as if another process had the CPUs): the
    /// first slow yield opens a window (yields stay on), one too soon after it leaves it open, and
    /// one in the window's span turns yields off for `YIELDS_OFF`; a quick yield changes nothing.
    #[test]
    fn slow_yields_that_others_caused_turn_yields_off_for_the_whole_process_for_a_while() {
        let start = Instant::now() + Duration::from_secs(1);
        let slow = |at: Instant| assert!(note_if_slow(at, at + SLOW_YIELD * 2));
        *WINDOW.lock().unwrap() = None;
        assert!(!note_if_slow(start, start + SLOW_YIELD / 2));
        slow(start);
        assert!(
            yields_are_quick_lately(start + SLOW_YIELD * 3),
            "one slow yield"
        );
        if process_cpu_time().is_some() {
            // (Without a CPU clock, as under Miri, any two within `SLOW_YIELDS_APART` decide.)
            let soon = start + MIN_WINDOW / 4;
            slow(soon);
            assert!(
                yields_are_quick_lately(soon + SLOW_YIELD * 3),
                "too soon to tell"
            );
        }
        let later = start + SLOW_YIELDS_APART * 3;
        slow(later);
        assert!(
            yields_are_quick_lately(later + SLOW_YIELD * 3),
            "two, far apart"
        );
        let again = later + SLOW_YIELDS_APART / 2;
        slow(again);
        assert!(
            !yields_are_quick_lately(again + YIELDS_OFF / 2),
            "two, a window's span apart"
        );
        assert!(yields_are_quick_lately(again + YIELDS_OFF * 2));
        // Other tests' waits may yield again.
        *WINDOW.lock().unwrap() = None;
        YIELDS_OFF_SINCE.store(0, Ordering::Relaxed);
    }
}
