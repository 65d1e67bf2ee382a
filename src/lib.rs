#![doc = include_str!("../README.md")]
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, missing_debug_implementations)]

#[cfg(any(feature = "alloc", test))]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

// The machinery: one file per role.
mod error;
mod exchange;
mod list;
pub mod lock;
mod recv;
mod select;
mod send;
mod static_channel;
mod sync;
mod waiter;
mod wake;

// The counted handles (`alloc`) and the blocking calls (`std`).
#[cfg(feature = "std")]
mod blocking;
#[cfg(feature = "alloc")]
mod channel;
#[cfg(feature = "std")]
mod parker;
#[cfg(feature = "alloc")]
mod receiver;
#[cfg(feature = "alloc")]
mod sender;
#[cfg(feature = "sink")]
mod sink;

#[cfg(feature = "alloc")]
pub use channel::{channel, channel_with};
pub use error::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
#[cfg(feature = "alloc")]
pub use receiver::Receiver;
pub use recv::RecvFut;
#[cfg(feature = "alloc")]
pub use select::builder::{RecvHandle, Select, SelectFut, Selected, SendHandle};
pub use send::SendFut;
#[cfg(feature = "alloc")]
pub use sender::Sender;
pub use static_channel::Channel;

/// What the select macros expand to. Not a public API: names here may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::select::arm::{Arm, DynArm, Operation};
    pub use crate::select::claim::Claim;
    #[cfg(feature = "std")]
    pub use crate::select::engine::select_blocking;
    pub use crate::select::engine::{try_select, Arms, Selecting};

    /// The deadline of a `default(timeout)` arm.
    #[cfg(feature = "std")]
    pub fn deadline_after(timeout: core::time::Duration) -> Option<std::time::Instant> {
        crate::blocking::deadline_after(timeout)
    }
}
