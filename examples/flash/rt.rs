//! The bare-metal scaffolding that the flash-size examples share, so that they differ only in
//! the channel: a reset handler (cortex-m-rt), a panic handler, and a two-future executor in a
//! dozen lines.
//!
//! The executor polls both futures whenever a waker was woken and sleeps (`wfe`) otherwise; a
//! wake sets a flag and signals an event (`sev`), as embassy's thread-mode executor does. There is
//! no allocator and no timer.

use core::future::Future;
use core::pin::pin;
use core::ptr;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, RawWaker, RawWakerVTable, Waker};

/// Set by a wake-up; the executor polls when it finds it set. Starts set for the first poll.
static WOKEN: AtomicBool = AtomicBool::new(true);

/// The one waker: it has no data, only the global flag.
static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, forget);

fn clone(_: *const ()) -> RawWaker {
    RawWaker::new(ptr::null(), &VTABLE)
}

fn wake(_: *const ()) {
    WOKEN.store(true, Ordering::Release);
    cortex_m::asm::sev();
}

fn forget(_: *const ()) {}

/// Polls `a` and `b` whenever woken until both are done, then sleeps forever.
pub fn run(a: impl Future<Output = ()>, b: impl Future<Output = ()>) -> ! {
    // SAFETY: the vtable's functions ignore the data pointer (null), and `wake` only stores to an
    // atomic and signals an event, which is sound from any context, any number of times.
    let waker = unsafe { Waker::from_raw(RawWaker::new(ptr::null(), &VTABLE)) };
    let mut cx = Context::from_waker(&waker);
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut a_done, mut b_done) = (false, false);
    loop {
        if WOKEN.swap(false, Ordering::Acquire) {
            if !a_done {
                a_done = a.as_mut().poll(&mut cx).is_ready();
            }
            if !b_done {
                b_done = b.as_mut().poll(&mut cx).is_ready();
            }
        } else {
            cortex_m::asm::wfe();
        }
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    cortex_m::asm::udf()
}
