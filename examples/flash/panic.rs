//! The flash-size examples' panic handler: stop here (a fault on Cortex-M, sleep on RISC-V).

#[cfg(target_arch = "arm")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    cortex_m::asm::udf()
}

#[cfg(target_arch = "riscv32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        riscv::asm::wfi();
    }
}
