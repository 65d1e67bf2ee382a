//! `flash_rendez.rs` without any channel: the same runtime, executor and two tasks, which only
//! count. Its size is what the flash-size comparison subtracts to get the channel's own cost.
//!
//! ```sh
//! .ci/flash-size   # builds it for four MCU targets and prints its section sizes
//! ```
//!
//! On the host this example only says so.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
#[path = "flash/rt.rs"]
mod rt;

#[cfg(target_os = "none")]
#[path = "flash/panic.rs"]
mod panic;

#[cfg(target_os = "none")]
mod program {
    use core::hint::black_box;

    #[super::rt::entry]
    fn main() -> ! {
        super::rt::run(
            async {
                for n in 0..black_box(1000u32) {
                    black_box(n);
                }
            },
            async {},
        )
    }
}

#[cfg(not(target_os = "none"))]
fn main() {
    println!("a bare-metal program: `.ci/flash-size` builds it for four MCU targets");
}
