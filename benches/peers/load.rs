//! Competing load, started and stopped by the benchmark itself, and the CPU time a run costs.
//!
//! - [`Load::Quiet`]: nothing else runs (beyond whatever the machine is doing anyway).
//! - [`Load::Busy`]: one busy-looping process per CPU.
//! - [`Load::Bursty`]: one process with a thread per CPU that alternates [`BURST`] of work on
//!   every CPU at once with [`BURST`] of sleep.
//! - [`Load::Pinned`]: no load, but this process (and every thread it starts from then on) is
//!   pinned to CPU 0, as `taskset -c 0` would.
//!
//! The burners are this same program started again with [`BURN_ENV`] set: both binaries that use
//! the peers call [`burn_if_asked`] first thing in `main`. A [`Burner`] kills its processes when
//! dropped, so a benchmark that panics leaves nothing running.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The environment variable that turns a start of this program into a burner.
pub const BURN_ENV: &str = "RENDEZ_BENCH_BURN";

/// Work, then sleep, each this long, in a bursty burner.
pub const BURST: Duration = Duration::from_millis(3);

/// What else runs on the machine while a scenario is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Load {
    Quiet,
    Busy,
    Bursty,
    Pinned,
}

impl Load {
    /// Every load, in the order the tables show them.
    pub const ALL: [Load; 4] = [Load::Quiet, Load::Busy, Load::Bursty, Load::Pinned];

    /// The name on the command line and in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Load::Quiet => "quiet",
            Load::Busy => "busy",
            Load::Bursty => "bursty",
            Load::Pinned => "pinned",
        }
    }

    /// The load called `name`.
    pub fn parse(name: &str) -> Option<Load> {
        Load::ALL.into_iter().find(|l| l.name() == name)
    }

    /// Starts the load; it lasts as long as the returned guard.
    ///
    /// `Pinned` pins the calling thread (its children inherit the mask) and cannot be undone
    /// for threads already started: run it last, or in a process of its own.
    pub fn start(self) -> Burner {
        let cpus = cpus();
        let spawn = |mode: &str| -> Child {
            Command::new(std::env::current_exe().expect("the path of this program"))
                .env(BURN_ENV, mode)
                .env("RENDEZ_BENCH_BURN_THREADS", cpus.to_string())
                .spawn()
                .expect("start a burner process")
        };
        let children = match self {
            Load::Quiet => Vec::new(),
            Load::Busy => (0..cpus).map(|_| spawn("busy")).collect(),
            Load::Bursty => vec![spawn("bursty")],
            Load::Pinned => {
                pin_to_cpu0();
                Vec::new()
            }
        };
        if !children.is_empty() {
            // Let the burners reach their loops before the first timed run.
            std::thread::sleep(Duration::from_millis(100));
        }
        Burner { children }
    }
}

/// The CPUs this process may use.
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The running burner processes of a [`Load`]; killed on drop.
#[derive(Debug)]
pub struct Burner {
    children: Vec<Child>,
}

impl Drop for Burner {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// If this start is a burner's ([`BURN_ENV`] set), burns until killed and never returns.
pub fn burn_if_asked() {
    let Ok(mode) = std::env::var(BURN_ENV) else {
        return;
    };
    match mode.as_str() {
        "busy" => spin_for(None),
        "bursty" => {
            let threads: usize = std::env::var("RENDEZ_BENCH_BURN_THREADS")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(2);
            let epoch = Instant::now();
            let workers: Vec<_> = (0..threads)
                .map(|_| std::thread::spawn(move || bursts(epoch)))
                .collect();
            for w in workers {
                let _ = w.join();
            }
        }
        other => panic!("{BURN_ENV}={other}: expected busy or bursty"),
    }
    std::process::exit(0);
}

/// Work for [`BURST`], sleep for [`BURST`], in step with the other threads (same `epoch`).
fn bursts(epoch: Instant) -> ! {
    let period = BURST * 2;
    loop {
        // Work until the middle of the current period, then sleep to its end.
        let now = epoch.elapsed();
        let into = Duration::from_nanos((now.as_nanos() % period.as_nanos()) as u64);
        if into < BURST {
            spin_for(Some(BURST - into));
        } else {
            std::thread::sleep(period - into);
        }
    }
}

/// Busy-loops for `how_long`, or for ever.
fn spin_for(how_long: Option<Duration>) {
    let start = Instant::now();
    let mut x = 0u64;
    loop {
        for _ in 0..1000 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        if how_long.is_some_and(|d| start.elapsed() >= d) {
            return;
        }
    }
}

/// Pins the calling thread, and the threads it starts afterwards, to CPU 0.
#[cfg(not(target_os = "linux"))]
fn pin_to_cpu0() {
    panic!("the pinned load needs Linux (sched_setaffinity); use taskset or its like");
}

/// Pins the calling thread, and the threads it starts afterwards, to CPU 0.
#[cfg(target_os = "linux")]
fn pin_to_cpu0() {
    assert!(
        pin_to(0),
        "sched_setaffinity: {}",
        std::io::Error::last_os_error()
    );
}

/// Pins the calling thread, and the threads it starts afterwards, to CPU `cpu`: `false` if the
/// system refused (no such CPU, or not one this process may use).
#[cfg(target_os = "linux")]
fn pin_to(cpu: usize) -> bool {
    // SAFETY: `set` is a plain bit set on the stack, zeroed then given `cpu` (CPU_SET ignores a
    // number past the set's size); sched_setaffinity reads `size_of::<cpu_set_t>()` bytes of it
    // and changes only this thread.
    let rc = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    rc == 0
}

/// How long a cache line takes to go from CPU 0 to CPU 1 and back: two threads, one pinned to
/// each, take turns writing one atomic, 100,000 times. On a virtual machine this swings with
/// where the host puts the two CPUs (on the machine the README's figures come from: 80-95 ns in
/// some minutes, 400 ns in others), and every figure of a channel whose work spreads over both
/// CPUs swings with it. `None` with fewer than two CPUs, off Linux, if a thread could not be
/// pinned, or if the round trips took over 50 ms (then the figure would be the scheduler's: a
/// loaded machine).
#[cfg(target_os = "linux")]
#[allow(
    dead_code,
    reason = "read by examples/compare.rs, not by the benchmarks"
)]
pub fn line_round_trip() -> Option<Duration> {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    /// The atomic, alone on its cache line (and on the adjacent line the prefetcher pairs).
    #[repr(align(128))]
    struct Line(AtomicU64);

    const TRIPS: u64 = 100_000;
    const LIMIT: Duration = Duration::from_millis(50);
    if cpus() < 2 {
        return None;
    }
    let line = Line(AtomicU64::new(0));
    // Set by either thread when it gives up (no pinning, or past the limit); the other then stops.
    let stop = AtomicBool::new(false);
    // Waits until the line holds `value`: `false` if told to stop or past the limit.
    let wait_for = |value: u64, start: Instant| {
        let mut spins = 0u32;
        while line.0.load(Ordering::Acquire) != value {
            spins = spins.wrapping_add(1);
            if spins % 1024 == 0 && (stop.load(Ordering::Relaxed) || start.elapsed() > LIMIT) {
                stop.store(true, Ordering::Relaxed);
                return false;
            }
        }
        true
    };
    std::thread::scope(|s| {
        s.spawn(|| {
            let start = Instant::now();
            if !pin_to(1) {
                stop.store(true, Ordering::Relaxed);
                return;
            }
            for i in 0..TRIPS {
                if !wait_for(2 * i + 1, start) {
                    return;
                }
                line.0.store(2 * i + 2, Ordering::Release);
            }
        });
        s.spawn(|| {
            if !pin_to(0) {
                stop.store(true, Ordering::Relaxed);
                return None;
            }
            let start = Instant::now();
            for i in 0..TRIPS {
                line.0.store(2 * i + 1, Ordering::Release);
                if !wait_for(2 * i + 2, start) {
                    return None;
                }
            }
            Some(start.elapsed() / TRIPS as u32)
        })
        .join()
        .expect("the round-trip thread panicked")
    })
}

/// See the Linux version: `None` here.
#[cfg(not(target_os = "linux"))]
#[allow(
    dead_code,
    reason = "read by examples/compare.rs, not by the benchmarks"
)]
pub fn line_round_trip() -> Option<Duration> {
    None
}

/// User plus system CPU time this process has used so far: zero where getrusage is missing.
#[cfg(not(unix))]
#[allow(
    dead_code,
    reason = "read by examples/compare.rs, not by the benchmarks"
)]
pub fn cpu_time() -> Duration {
    Duration::ZERO
}

/// User plus system CPU time this process has used so far, all threads (not the burners).
#[cfg(unix)]
#[allow(
    dead_code,
    reason = "read by examples/compare.rs, not by the benchmarks"
)]
pub fn cpu_time() -> Duration {
    // SAFETY: getrusage writes one `rusage` into the zeroed value it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        let rc = libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        assert_eq!(rc, 0, "getrusage: {}", std::io::Error::last_os_error());
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}
