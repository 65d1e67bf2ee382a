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
#[path = "flash/panic.rs"]
mod panic;

#[cfg(target_os = "none")]
#[macro_use]
#[path = "flash/tasks.rs"]
mod tasks;

#[cfg(target_os = "none")]
mod program {
    use rendez::lock::CriticalSectionLock;
    use rendez::Channel;

    static CH: Channel<u32, CriticalSectionLock> = Channel::new();
    // `--cfg flash_types="2"` / `"4"`: as many channels, each of another message type, so that
    // `.ci/flash-size` measures what each further type costs.
    #[cfg(any(flash_types = "2", flash_types = "4"))]
    static CH2: Channel<u16, CriticalSectionLock> = Channel::new();
    #[cfg(flash_types = "4")]
    static CH3: Channel<u64, CriticalSectionLock> = Channel::new();
    #[cfg(flash_types = "4")]
    static CH4: Channel<[u8; 6], CriticalSectionLock> = Channel::new();

    send_and_receive_tasks!();
}

#[cfg(not(target_os = "none"))]
fn main() {
    println!("a bare-metal program: `.ci/flash-size` builds it for four MCU targets");
}
