//! The bare-metal scaffolding that the flash-size examples share, so that they differ only in
//! the channel: a reset handler (cortex-m-rt on Arm, riscv-rt on RISC-V, re-exported as
//! [`entry`]) and a two-future executor in a dozen lines. Their panic handler is in `panic.rs`
//! (`examples/mcu_check.rs` has its own, which stops QEMU).
//!
//! The executor polls both futures whenever a waker was woken and sleeps otherwise; a wake sets a
//! flag. On Cortex-M it also signals an event (`sev`) and the executor sleeps with `wfe`, as
//! embassy's thread-mode executor does. On RISC-V, which has no event register, the executor
//! checks the flag and executes `wfi` with interrupts masked, so that a wake from an interrupt
//! handler between the two cannot be missed (a pending interrupt ends `wfi` even while masked).
//! There is no allocator and no timer.
//!
//! Taking the flag is a swap on targets with compare-and-swap, and a load and a store with
//! interrupts masked on those without (thumbv6m, riscv32imc).

use core::future::Future;
use core::pin::pin;
use core::ptr;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, RawWaker, RawWakerVTable, Waker};

#[cfg(target_arch = "arm")]
pub use cortex_m_rt::entry;
#[cfg(target_arch = "riscv32")]
pub use riscv_rt::entry;

/// Set by a wake-up; the executor polls when it finds it set. Starts set for the first poll.
static WOKEN: AtomicBool = AtomicBool::new(true);

/// The one waker: it has no data, only the global flag.
static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, forget);

fn clone(_: *const ()) -> RawWaker {
    RawWaker::new(ptr::null(), &VTABLE)
}

fn wake(_: *const ()) {
    WOKEN.store(true, Ordering::Release);
    #[cfg(target_arch = "arm")]
    cortex_m::asm::sev();
}

fn forget(_: *const ()) {}

/// Clears the wake-up flag and returns whether it was set; sleeps until the next event or
/// interrupt if it was not.
#[cfg(all(target_arch = "arm", target_has_atomic = "8"))]
fn take_woken_or_sleep() -> bool {
    let woken = WOKEN.swap(false, Ordering::Acquire);
    if !woken {
        // A `sev` since the swap is latched in the event register: `wfe` returns at once.
        cortex_m::asm::wfe();
    }
    woken
}

/// Clears the wake-up flag and returns whether it was set; sleeps until the next event or
/// interrupt if it was not. No compare-and-swap here: a load and a store with interrupts masked.
#[cfg(all(target_arch = "arm", not(target_has_atomic = "8")))]
fn take_woken_or_sleep() -> bool {
    let woken = cortex_m::interrupt::free(|_| {
        let woken = WOKEN.load(Ordering::Acquire);
        WOKEN.store(false, Ordering::Relaxed);
        woken
    });
    if !woken {
        // A `sev` since the load is latched in the event register: `wfe` returns at once.
        cortex_m::asm::wfe();
    }
    woken
}

/// Clears the wake-up flag and returns whether it was set; sleeps until the next interrupt if it
/// was not. Interrupts stay masked from the load to the `wfi`, so none can set the flag unseen.
#[cfg(target_arch = "riscv32")]
fn take_woken_or_sleep() -> bool {
    riscv::interrupt::free(|| {
        let woken = WOKEN.load(Ordering::Acquire);
        if woken {
            WOKEN.store(false, Ordering::Relaxed);
        } else {
            riscv::asm::wfi();
        }
        woken
    })
}

/// Polls `a` and `b` whenever woken until both are done, then sleeps forever.
pub fn run(a: impl Future<Output = ()>, b: impl Future<Output = ()>) -> ! {
    // SAFETY: the vtable's functions ignore the data pointer (null), and `wake` only stores to an
    // atomic and signals an event, which is sound from any context, any number of times.
    let waker = unsafe { Waker::from_raw(RawWaker::new(ptr::null(), &VTABLE)) };
    let mut cx = Context::from_waker(&waker);
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut a_done, mut b_done) = (false, false);
    loop {
        if take_woken_or_sleep() {
            if !a_done {
                a_done = a.as_mut().poll(&mut cx).is_ready();
            }
            if !b_done {
                b_done = b.as_mut().poll(&mut cx).is_ready();
            }
        }
    }
}
