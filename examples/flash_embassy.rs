//! `flash_rendez.rs` with embassy-sync's `Channel<CriticalSectionRawMutex, u32, 1>` in place of
//! rendez's channel, for the flash-size comparison; everything else is the same program.
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
    use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
    use embassy_sync::channel::Channel;

    static CH: Channel<CriticalSectionRawMutex, u32, 1> = Channel::new();
    // `--cfg flash_types="2"` / `"4"`: as `flash_rendez.rs` does.
    #[cfg(any(flash_types = "2", flash_types = "4"))]
    static CH2: Channel<CriticalSectionRawMutex, u16, 1> = Channel::new();
    #[cfg(flash_types = "4")]
    static CH3: Channel<CriticalSectionRawMutex, u64, 1> = Channel::new();
    #[cfg(flash_types = "4")]
    static CH4: Channel<CriticalSectionRawMutex, [u8; 6], 1> = Channel::new();

    #[super::rt::entry]
    fn main() -> ! {
        super::rt::run(
            async {
                for n in 0..black_box(1000) {
                    CH.send(n).await;
                    #[cfg(any(flash_types = "2", flash_types = "4"))]
                    CH2.send(n as u16).await;
                    #[cfg(flash_types = "4")]
                    CH3.send(u64::from(n)).await;
                    #[cfg(flash_types = "4")]
                    CH4.send([n as u8; 6]).await;
                }
            },
            async {
                loop {
                    black_box(CH.receive().await);
                    #[cfg(any(flash_types = "2", flash_types = "4"))]
                    black_box(CH2.receive().await);
                    #[cfg(flash_types = "4")]
                    black_box((CH3.receive().await, CH4.receive().await));
                }
            },
        )
    }
}

#[cfg(not(target_os = "none"))]
fn main() {
    println!("a bare-metal program: `.ci/flash-size` builds it for four MCU targets");
}
