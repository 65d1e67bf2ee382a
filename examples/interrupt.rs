//! An interrupt handler feeding a task through a `static` channel, the way firmware does it.
//!
//! ```sh
//! cargo run --example interrupt                             # the default lock (StdLock here)
//! cargo run --example interrupt --features critical-section # CriticalSectionLock, as on an MCU
//! ```
//!
//! A timer "interrupt" fires every 10 ms (here a plain thread with a periodic loop stands in for
//! the ISR). Like a real handler it never blocks and never awaits: it calls only
//! [`Channel::try_send`], which hands the tick to a receive that is waiting *right now*, or gives
//! it back at once as `Full`. The handler then counts an overrun and moves on, as a UART or ADC
//! handler counts a lost sample. A task (on `futures`' `block_on`, standing in for an embedded
//! executor) awaits `recv` in a loop. Most of the time it is waiting and every tick arrives; every
//! 20th tick it is busy for 45 ms (say, writing flash), and the ticks that fire meanwhile find no
//! receive waiting and are dropped by the handler. Every tick is accounted for: delivered ones
//! plus overruns equal ticks fired. After 80 ticks the timer stops and the handler closes the
//! channel, which ends the task's loop. It takes about a second. The output is the same from run
//! to run as long as the machine keeps up; on a loaded machine a busy spell may drop one more
//! tick, or the task may wake up late once and miss a single tick, and the log says so.
//!
//! # Which lock on a real MCU
//!
//! With the `critical-section` feature the channel is `Channel<u32, CriticalSectionLock>`; that
//! is the one to pick when an interrupt handler touches the channel. Its short critical sections
//! run with interrupts masked (through the `critical-section` implementation the firmware links,
//! e.g. `cortex-m`'s `critical-section-single-core`), so the handler can never preempt the task
//! while it holds the channel's lock. A `SpinLock` there would deadlock: the handler would spin
//! forever on a lock held by the very task it interrupted, which cannot run until the handler
//! returns. On this host the `critical-section` crate's `std` implementation (a global mutex)
//! plays that part; without the feature the example uses the default lock (`StdLock` with `std`),
//! which is right for threads but not for a real interrupt handler.

use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rendez::{Channel, TrySendError};

/// The lock a microcontroller would use: interrupts masked while the channel's state changes.
#[cfg(feature = "critical-section")]
type Lock = rendez::lock::CriticalSectionLock;
/// Without the `critical-section` feature: the default lock (`StdLock` with `std`).
#[cfg(not(feature = "critical-section"))]
type Lock = rendez::lock::DefaultLock;

/// Ticks from the timer interrupt to the task. No allocator needed: it lives in a `static`.
static TICKS: Channel<u32, Lock> = Channel::new();

/// Ticks the handler handed to the task.
static DELIVERED: AtomicU32 = AtomicU32::new(0);
/// Ticks the handler dropped because no receive was waiting (the task was busy).
static OVERRUNS: AtomicU32 = AtomicU32::new(0);

/// The timer period, how many ticks fire, how often the task gets busy, and for how long.
const PERIOD: Duration = Duration::from_millis(10);
const TICKS_FIRED: u32 = 80;
const BUSY_EVERY: u32 = 20;
const BUSY_FOR: Duration = Duration::from_millis(45);

/// The interrupt handler: runs to completion, never blocks, never awaits.
fn on_timer_interrupt(tick: u32) {
    match TICKS.try_send(tick) {
        Ok(()) => {
            DELIVERED.fetch_add(1, Ordering::Relaxed);
        }
        // No receive waiting right now: the task is busy. Drop the tick, count the overrun.
        Err(TrySendError::Full(_tick)) => {
            OVERRUNS.fetch_add(1, Ordering::Relaxed);
        }
        // The channel was closed: nobody listens any more.
        Err(TrySendError::Disconnected(_tick)) => {}
    }
}

/// The "hardware timer": calls the handler every `PERIOD`, then stops and closes the channel.
fn timer() {
    let start = Instant::now();
    for tick in 0..TICKS_FIRED {
        // Fire on a fixed schedule, so that a late wake-up does not shift the ticks after it.
        let due = start + PERIOD * (tick + 1);
        thread::sleep(due.saturating_duration_since(Instant::now()));
        on_timer_interrupt(tick);
    }
    // The peripheral stops: close the channel so the task's loop ends.
    TICKS.close();
}

/// The task: awaits every tick and handles it; now and then it is busy and misses a few.
async fn task() -> u32 {
    let mut handled = 0;
    let mut last: Option<u32> = None;
    while let Ok(tick) = TICKS.recv().await {
        handled += 1;
        let missed = tick - last.map_or(0, |l| l + 1);
        match missed {
            0 => {}
            1 => println!(
                "task: got tick {tick:>2}; tick {} came while no receive waited: dropped by the ISR",
                tick - 1
            ),
            _ => println!(
                "task: got tick {tick:>2}; ticks {}..={} came while it was busy: dropped by the ISR",
                tick - missed,
                tick - 1,
            ),
        }
        last = Some(tick);
        if tick % BUSY_EVERY == BUSY_EVERY - 1 {
            println!(
                "task: got tick {tick:>2}, now busy for {} ms (no receive waiting)",
                BUSY_FOR.as_millis()
            );
            // Blocking work on the executor's thread, like a long computation or a flash write.
            thread::sleep(BUSY_FOR);
        }
    }
    println!("task: the channel closed, the loop ends");
    handled
}

fn main() {
    println!(
        "lock: {}",
        std::any::type_name::<Lock>().rsplit("::").next().unwrap()
    );
    println!(
        "isr:  {TICKS_FIRED} ticks, one every {} ms, try_send only",
        PERIOD.as_millis()
    );
    let timer = thread::spawn(timer);
    let handled = futures::executor::block_on(task());
    timer.join().unwrap();

    let delivered = DELIVERED.load(Ordering::Relaxed);
    let overruns = OVERRUNS.load(Ordering::Relaxed);
    println!("ticks fired {TICKS_FIRED}: delivered {delivered}, dropped as overruns {overruns}");
    // Exactly once: every delivered tick was handled, and no tick is unaccounted for.
    assert_eq!(handled, delivered);
    assert_eq!(delivered + overruns, TICKS_FIRED);
}
