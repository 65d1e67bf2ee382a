//! Hints for the first mistake a newcomer makes: calling a `Result` method on the future.
//!
//! `rx.recv().unwrap()` would otherwise fail with "no method named `unwrap` found for struct
//! `RecvFut`", with no word about `.await`. So the futures have hidden `unwrap`, `expect`, `ok`,
//! `is_ok` and `is_err` methods whose bound no type meets: calling one is a compile error, and
//! `#[diagnostic::on_unimplemented]` makes that error say what to write instead. They can never
//! be called, so they add nothing to a program and nothing to the API.

use crate::lock::Lock;
use crate::recv::RecvFut;
use crate::send::SendFut;

/// Implemented by no type: the bound of the hint methods, so that calling one fails to compile
/// with this message.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is a future: `.await` it first (`rx.recv().await.unwrap()`, `tx.send(msg).await.unwrap()`)",
    label = "a future, not a `Result`",
    note = "on a thread, without async, use `recv_blocking()` / `send_blocking(msg)`, which return the `Result`"
)]
pub trait AwaitItFirst {}

/// The hint methods of one future type.
macro_rules! await_hints {
    ($($fut:ident),*) => {$(
        /// Hints only (see `src/await_hint.rs`): none of these can be called.
        #[doc(hidden)]
        impl<T, L: Lock> $fut<'_, T, L> {
            pub fn unwrap(self) -> !
            where
                Self: AwaitItFirst,
            {
                unreachable!()
            }
            pub fn expect(self, _msg: &str) -> !
            where
                Self: AwaitItFirst,
            {
                unreachable!()
            }
            pub fn ok(self) -> !
            where
                Self: AwaitItFirst,
            {
                unreachable!()
            }
            pub fn is_ok(&self) -> !
            where
                Self: AwaitItFirst,
            {
                unreachable!()
            }
            pub fn is_err(&self) -> !
            where
                Self: AwaitItFirst,
            {
                unreachable!()
            }
        }
    )*};
}

await_hints!(RecvFut, SendFut);
