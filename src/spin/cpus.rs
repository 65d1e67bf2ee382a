//! What every waiting thread of the process shares about the CPUs: how many the process may run
//! on, and the places among them for spinning (a thread may spin past `FREE_SPINS` only with
//! one of `CPUs - 1` places, so waiting threads never take every CPU from the thread that would
//! answer). Moved out of `spin.rs`, which keeps the wait itself and each thread's state; the
//! process's other shared memory, of slow yields, is in `slow_yields.rs`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

/// Threads spinning right now, in every channel of the process.
static SPINNING: AtomicUsize = AtomicUsize::new(0);
/// CPUs this process may run on, as last read; 0 before the first read.
static CPUS: AtomicUsize = AtomicUsize::new(0);

/// The CPUs this process may run on, as read when the latest thread made its parker.
pub(super) fn cpus() -> usize {
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
pub(super) struct SpinSlot;

impl SpinSlot {
    /// A place, if fewer than `max` threads spin now.
    pub(super) fn take(max: usize) -> Option<SpinSlot> {
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
