//! How blocking calls wait for their partner: the [`WaitPolicy`], set for the whole process or for
//! one thread.
//!
//! A blocked call (`send_blocking`, `recv_timeout`, `select_blocking!`, iteration, …) that finds
//! no partner must wait. By default ([`WaitPolicy::Adaptive`]) it first spins, watching for its
//! wake-up, for as long as spinning has lately paid off on this thread, then yields a few times,
//! and then parks:
//!
//! - only a waiter that is first in its line spins: one with other waiters ahead of it goes
//!   straight to yielding (on a machine with more than one CPU), since the partner's next answer
//!   goes to the waiter ahead, while a yield may run a thread that serves the line;
//! - a thread's spin budget shrinks while its spins run out before the wake-up comes, grows back
//!   to cover the wake-ups it does catch, and is tried in full now and then, so that two
//!   partners that both took to parking find their way back to spinning;
//! - at most one thread fewer than the process has CPUs spins at once (none on one CPU), so that
//!   threads waiting in a pool larger than the machine do not keep the ones that would answer
//!   off the CPUs;
//! - then it yields, for at most about 50 µs (on one CPU it only yields, twice): with more runnable
//!   threads than CPUs a yield lets another one run, often the partner, and costs no park and
//!   wake-up; after yields that gave the CPU away for a whole time slice, twice in a short
//!   while (another process is busy on the CPUs), no thread of the process yields for a while,
//!   since a parked thread is run sooner after its wake-up than one that yielded.
//!
//! [`WaitPolicy::Park`] never spins or yields: the call parks at once and the thread uses no CPU
//! while it waits, at the price of a system call and a context switch per wait. For real-time
//! threads that must not burn their slot, and for battery-powered devices.
//!
//! ```
//! use rendez::wait::{set_thread_wait_policy, WaitPolicy};
//!
//! let (tx, rx) = rendez::channel::<u32>();
//! let worker = std::thread::spawn(move || {
//!     // This thread never spins; other threads keep the process-wide policy.
//!     set_thread_wait_policy(Some(WaitPolicy::Park));
//!     rx.recv_blocking()
//! });
//! tx.send_blocking(7).unwrap();
//! assert_eq!(worker.join().unwrap(), Ok(7));
//! ```

use core::sync::atomic::{AtomicU8, Ordering};
use std::cell::Cell;

/// How a blocking call waits when no partner is there yet. See the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum WaitPolicy {
    /// Spin while spinning pays off on this thread and CPUs are free for it, then park. The
    /// default.
    #[default]
    Adaptive,
    /// Park at once: never spin, never yield.
    Park,
}

impl WaitPolicy {
    /// The policy's code in the atomic and the thread-local cell.
    const fn code(self) -> u8 {
        match self {
            WaitPolicy::Adaptive => 1,
            WaitPolicy::Park => 2,
        }
    }

    /// The policy of a code; `None` for "not set" (0).
    const fn from_code(code: u8) -> Option<WaitPolicy> {
        match code {
            1 => Some(WaitPolicy::Adaptive),
            2 => Some(WaitPolicy::Park),
            _ => None,
        }
    }
}

/// The process-wide policy, as a code.
static PROCESS: AtomicU8 = AtomicU8::new(WaitPolicy::Adaptive.code());

std::thread_local! {
    /// This thread's own policy, as a code; 0: the process-wide one.
    static THREAD: Cell<u8> = const { Cell::new(0) };
}

/// Sets the policy of every thread that has not set its own with [`set_thread_wait_policy`].
/// Takes effect at the next wait.
pub fn set_wait_policy(policy: WaitPolicy) {
    PROCESS.store(policy.code(), Ordering::Relaxed);
}

/// Sets the current thread's policy; `None` makes it follow the process-wide one again.
pub fn set_thread_wait_policy(policy: Option<WaitPolicy>) {
    // A thread that is exiting has no locals left; it waits no more, so nothing is lost.
    let _ = THREAD.try_with(|cell| cell.set(policy.map_or(0, WaitPolicy::code)));
}

/// The policy the current thread's blocking calls follow.
pub fn wait_policy() -> WaitPolicy {
    let own = THREAD.try_with(Cell::get).unwrap_or(0);
    WaitPolicy::from_code(own)
        .or_else(|| WaitPolicy::from_code(PROCESS.load(Ordering::Relaxed)))
        .unwrap_or_default()
}
