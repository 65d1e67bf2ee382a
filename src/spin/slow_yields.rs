//! The process's memory of slow yields, which tells every waiting thread whether yielding is
//! worth it (see "But not on a busy machine" in `spin.rs`): a yield that gave the CPU away for a
//! time slice ([`SLOW_YIELD`]) means other processes want the CPUs, and two of them within
//! [`SLOW_YIELDS_APART`] turn yields off for every thread of the process for [`YIELDS_OFF`]. It
//! is the one part of the wait policy that reads a clock shared by all threads: moved here from
//! `spin.rs`, which keeps the wait itself, each thread's state and the spinning places.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A yield that took longer than this gave the CPU to something that ran a whole time slice
/// (another process, on a busy machine): the next yields would too, and a thread that yielded
/// gets the CPU back only when that slice ends, while a parked one is run as soon as it is
/// woken. So no thread of the process yields for [`YIELDS_OFF`] after two slow yields.
pub(super) const SLOW_YIELD: Duration = Duration::from_micros(100);
/// How long the whole process parks without yielding after two slow yields.
pub(super) const YIELDS_OFF: Duration = Duration::from_millis(100);
/// Two slow yields at most this far apart turn yields off.
pub(super) const SLOW_YIELDS_APART: Duration = Duration::from_millis(10);
/// When a thread of this process last found a yield slow, in microseconds since [`epoch`]
/// (wrapping: a wrong answer once in 71 minutes on a 32-bit target costs one wait); 0: never.
static SLOW_YIELD_SEEN: AtomicUsize = AtomicUsize::new(0);
/// When the latest [`YIELDS_OFF`] period began, on the same clock; 0: never.
static YIELDS_OFF_SINCE: AtomicUsize = AtomicUsize::new(0);

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
        let now = micros_since_epoch(now);
        let last = SLOW_YIELD_SEEN.swap(now, Ordering::Relaxed);
        // One slow yield may be the process's own threads taking their turns (23 forwarders on
        // two CPUs see a few a second); another process shows itself in slow yields that repeat.
        if last != 0 && now.wrapping_sub(last) < SLOW_YIELDS_APART.as_micros() as usize {
            YIELDS_OFF_SINCE.store(now, Ordering::Relaxed);
        }
    }
    slow
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One slow yield is not enough to stop yields (it may be the process's own threads taking
    /// their turns); two within `SLOW_YIELDS_APART` stop every thread's yields for `YIELDS_OFF`;
    /// slow yields further apart do not.
    #[test]
    fn repeated_slow_yields_turn_yields_off_for_the_whole_process_for_a_while() {
        let start = Instant::now() + Duration::from_secs(1);
        let slow = |at: Instant| assert!(note_if_slow(at, at + SLOW_YIELD * 2));
        SLOW_YIELD_SEEN.store(0, Ordering::Relaxed);
        assert!(!note_if_slow(start, start + SLOW_YIELD / 2));
        slow(start);
        assert!(
            yields_are_quick_lately(start + SLOW_YIELD * 3),
            "one slow yield"
        );
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
            "two, close together"
        );
        assert!(yields_are_quick_lately(again + YIELDS_OFF * 2));
        // Other tests' waits may yield again.
        SLOW_YIELD_SEEN.store(0, Ordering::Relaxed);
        YIELDS_OFF_SINCE.store(0, Ordering::Relaxed);
    }
}
