//! Flash size of a minimal microcontroller program using a rendez `static` channel (with
//! `CriticalSectionLock`): one task sends 0, 1, 2, … and the other receives, on a hand-written
//! two-future executor. `flash_embassy.rs` is the same program with embassy-sync's `Channel`
//! (capacity 1), and `flash_baseline.rs` the same program with no channel at all.
//!
//! ```sh
//! .ci/flash-size   # builds all three for four MCU targets and prints their section sizes
//! ```
//!
//! On the host this example only says so.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
#[path = "flash/rt.rs"]
mod rt;

#[cfg(target_os = "none")]
mod program {
    use core::hint::black_box;
    use rendez::lock::CriticalSectionLock;
    use rendez::Channel;

    static CH: Channel<u32, CriticalSectionLock> = Channel::new();

    #[super::rt::entry]
    fn main() -> ! {
        super::rt::run(
            async {
                for n in 0..black_box(1000) {
                    if CH.send(n).await.is_err() {
                        break;
                    }
                }
            },
            async {
                while let Ok(n) = CH.recv().await {
                    black_box(n);
                }
            },
        )
    }
}

#[cfg(not(target_os = "none"))]
fn main() {
    println!("a bare-metal program: `.ci/flash-size` builds it for four MCU targets");
}
