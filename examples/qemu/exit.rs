//! How `examples/mcu_check.rs` ends under QEMU: `exit(true)` stops the emulator with status 0,
//! `exit(false)` (and any panic) with status 1, so that `.ci/qemu-check` sees the outcome.
//!
//! - Cortex-M (QEMU's `microbit`, started with `-semihosting`): the semihosting call `SYS_EXIT`
//!   (`bkpt 0xab` with r0 = 0x18 and the reason in r1).
//! - RISC-V (QEMU's `virt`): a store to its SiFive test device at 0x10_0000.

/// Stops the emulator: status 0 if `ok`, 1 otherwise.
pub fn exit(ok: bool) -> ! {
    #[cfg(target_arch = "arm")]
    {
        /// `ADP_Stopped_ApplicationExit`: status 0. Any other reason stops with status 1.
        const APPLICATION_EXIT: u32 = 0x2_0026;
        /// `ADP_Stopped_RunTimeErrorUnknown`.
        const RUN_TIME_ERROR: u32 = 0x2_0024;
        let reason = if ok { APPLICATION_EXIT } else { RUN_TIME_ERROR };
        // SAFETY: the semihosting trap only asks the debugger (QEMU) to stop; it reads r0 and r1.
        unsafe {
            core::arch::asm!("bkpt 0xab", in("r0") 0x18u32, in("r1") reason, options(nostack));
        }
    }
    #[cfg(target_arch = "riscv32")]
    {
        /// The `virt` machine's test device: 0x5555 stops with status 0, 0x3333 | code << 16
        /// with status `code`.
        const TEST_DEVICE: *mut u32 = 0x10_0000 as *mut u32;
        let word = if ok { 0x5555 } else { 0x3333 | (1 << 16) };
        // SAFETY: on QEMU's `virt` machine this address is the test device's control register,
        // and writing it only stops the emulator.
        unsafe { TEST_DEVICE.write_volatile(word) };
    }
    // Not under QEMU (or the call returned): stay here.
    #[allow(clippy::empty_loop)]
    loop {}
}

/// A failed check panics: stop the emulator with status 1.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    exit(false)
}
