//! How many bytes a `static` channel and its futures take, next to embassy-sync's `Channel` with
//! capacity 1.
//!
//! ```sh
//! cargo run --example sizes --features critical-section   # this host (64-bit here)
//! .ci/flash-size                                          # and the four 32-bit MCU targets
//! ```
//!
//! On the host it prints `core::mem::size_of` of each type as a table. Built for a bare-metal
//! target (`target_os = "none"`), the same file becomes a `no_main` program with one symbol per
//! type, `SIZE_OF_<NAME>`, a byte array exactly that type's size: `.ci/flash-size` builds it for
//! thumbv6m-none-eabi, thumbv7em-none-eabihf, thumbv8m.main-none-eabihf and
//! riscv32imc-unknown-none-elf and reads the sizes back from the symbol table (`llvm-nm -S`), so
//! every column comes from the compiler's own layouts. Targets without compare-and-swap
//! (thumbv6m, riscv32imc) have no `SpinLock`, so no row for it; their futures are measured with
//! `CriticalSectionLock`.
//!
//! Messages are `u32`. The futures' sizes do not depend on the lock (rendez's `L`) or the raw
//! mutex (embassy-sync's `M`): they hold a reference to the channel, not the lock. A rendez future
//! is larger than embassy-sync's because it carries its own waiter node (list links, waker, state,
//! and for a send the message): a rendezvous channel keeps its waiters in the futures, so the
//! channel itself holds only the lock, two list heads, a count, a flag, and one slot for a
//! `try_send` message.
#![cfg_attr(target_os = "none", no_std, no_main)]

/// Lists the measured types once: `NAME: "label" => Type`, each row optionally behind `#[cfg]`.
/// On the host it makes `rows()`; on bare metal, one `SIZE_OF_<NAME>` symbol per row.
macro_rules! sizes {
    ($( $(#[$cfg:meta])* $name:ident: $label:literal => $ty:ty, )*) => {
        /// `(name, label, size in bytes)` of every measured type, in order.
        #[cfg(not(target_os = "none"))]
        #[allow(clippy::vec_init_then_push)] // some rows are behind `#[cfg]`
        fn rows() -> Vec<(&'static str, &'static str, usize)> {
            let mut rows = Vec::new();
            $(
                $(#[$cfg])*
                rows.push((stringify!($name), $label, core::mem::size_of::<$ty>()));
            )*
            rows
        }

        /// One symbol per type, as large as the type, for `llvm-nm -S` to read.
        #[cfg(target_os = "none")]
        mod symbols {
            use super::*;
            paste_symbols! { $( $(#[$cfg])* $name: $ty, )* }
        }
    };
}

/// The bare-metal half of [`sizes!`]: `SIZE_OF_<NAME>` statics, kept alive by [`keep`].
#[cfg(target_os = "none")]
macro_rules! paste_symbols {
    ($( $(#[$cfg:meta])* $name:ident: $ty:ty, )*) => {
        $(
            $(#[$cfg])*
            #[allow(non_upper_case_globals)]
            #[export_name = concat!("SIZE_OF_", stringify!($name))]
            pub static $name: [u8; core::mem::size_of::<$ty>()] = [0; core::mem::size_of::<$ty>()];
        )*

        /// References every symbol, so that the linker keeps them.
        pub fn keep() {
            $(
                $(#[$cfg])*
                core::hint::black_box(&$name);
            )*
        }
    };
}

use embassy_sync::blocking_mutex::raw::{CriticalSectionRawMutex, NoopRawMutex};
use embassy_sync::channel::{Channel as EmbassyChannel, ReceiveFuture, SendFuture};
#[cfg(target_has_atomic = "8")]
use rendez::lock::SpinLock;
use rendez::{Channel, RecvFut, SendFut};

/// The lock the futures' rows are measured with (their size does not depend on it): the spin
/// lock, or on a target without compare-and-swap, which has none, the critical-section lock.
#[cfg(target_has_atomic = "8")]
type AnyLock = SpinLock;
#[cfg(not(target_has_atomic = "8"))]
type AnyLock = rendez::lock::CriticalSectionLock;

sizes! {
    #[cfg(target_has_atomic = "8")]
    RENDEZ_CHANNEL_SPIN: "rendez::Channel<u32, SpinLock>" => Channel<u32, SpinLock>,
    #[cfg(feature = "std")]
    RENDEZ_CHANNEL_STD: "rendez::Channel<u32, StdLock>" => Channel<u32, rendez::lock::StdLock>,
    #[cfg(feature = "critical-section")]
    RENDEZ_CHANNEL_CS: "rendez::Channel<u32, CriticalSectionLock>"
        => Channel<u32, rendez::lock::CriticalSectionLock>,
    RENDEZ_SEND_FUT: "rendez::SendFut<'_, u32, L>" => SendFut<'static, u32, AnyLock>,
    RENDEZ_RECV_FUT: "rendez::RecvFut<'_, u32, L>" => RecvFut<'static, u32, AnyLock>,
    EMBASSY_CHANNEL_CS: "embassy_sync::channel::Channel<CriticalSectionRawMutex, u32, 1>"
        => EmbassyChannel<CriticalSectionRawMutex, u32, 1>,
    EMBASSY_CHANNEL_NOOP: "embassy_sync::channel::Channel<NoopRawMutex, u32, 1>"
        => EmbassyChannel<NoopRawMutex, u32, 1>,
    EMBASSY_SEND_FUT: "embassy_sync::channel::SendFuture<'_, M, u32, 1>"
        => SendFuture<'static, CriticalSectionRawMutex, u32, 1>,
    EMBASSY_RECV_FUT: "embassy_sync::channel::ReceiveFuture<'_, M, u32, 1>"
        => ReceiveFuture<'static, CriticalSectionRawMutex, u32, 1>,
}

// The futures hold only a reference to the channel, never the lock, so their size does not
// depend on the lock strategy; checked here rather than measured once per lock.
#[cfg(all(feature = "critical-section", target_has_atomic = "8"))]
const _: () = {
    use core::mem::size_of;
    use rendez::lock::{CriticalSectionLock as Cs, SpinLock};
    type Send<'a, L> = rendez::SendFut<'a, u32, L>;
    type Recv<'a, L> = rendez::RecvFut<'a, u32, L>;
    assert!(size_of::<Send<'static, SpinLock>>() == size_of::<Send<'static, Cs>>());
    assert!(size_of::<Recv<'static, SpinLock>>() == size_of::<Recv<'static, Cs>>());
};

/// Prints the table; with `--symbols`, prints `NAME<tab>bytes<tab>label` lines for
/// `.ci/flash-size` instead.
#[cfg(not(target_os = "none"))]
fn main() {
    let rows = rows();
    if std::env::args().any(|a| a == "--symbols") {
        for (name, label, size) in rows {
            println!("{name}\t{size}\t{label}");
        }
        return;
    }
    let width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    println!(
        "size_of on {} ({}-bit pointers), bytes:",
        std::env::consts::ARCH,
        usize::BITS
    );
    for (_, label, size) in &rows {
        println!("  {label:<width$}  {size:>4}");
    }
    if !cfg!(feature = "critical-section") {
        println!("(add `--features critical-section` for the CriticalSectionLock row)");
    }
}

/// The bare-metal program: it only keeps the size symbols alive for `llvm-nm` (it is never run).
#[cfg(target_os = "none")]
#[cfg_attr(target_arch = "arm", cortex_m_rt::entry)]
#[cfg_attr(target_arch = "riscv32", riscv_rt::entry)]
fn main() -> ! {
    symbols::keep();
    loop {
        core::hint::spin_loop();
    }
}

// The flash-size programs' panic handler.
#[cfg(target_os = "none")]
#[path = "flash/panic.rs"]
mod panic;
