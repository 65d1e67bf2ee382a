//! `flash_rendez.rs` with a stand-in for the channel: each send and receive awaits a future that
//! is pending once and then ready, with the same output types as rendez's (`Result<(), T>` and
//! `Result<T, ()>`), and no channel behind it. `.ci/flash-size` subtracts this program from
//! `flash_rendez.rs` with as many message types to tell the channel's own flash from the code
//! the async blocks need for any await of a future that may be pending (their states, the
//! resumption and the results' handling).
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
#[macro_use]
#[path = "flash/tasks.rs"]
mod tasks;

#[cfg(target_os = "none")]
mod program {
    use core::future::Future;
    use core::hint::black_box;
    use core::marker::PhantomData;
    use core::pin::Pin;
    use core::task::{Context, Poll};

    /// What a channel of `T` looks like to the program, without a channel.
    struct Stub<T>(PhantomData<T>);

    impl<T: Default + Unpin> Stub<T> {
        const fn new() -> Self {
            Stub(PhantomData)
        }

        /// A send: takes the message, pending once, then `Ok(())`.
        fn send(&self, msg: T) -> Once<Result<(), T>> {
            black_box(msg);
            Once::new(Ok(()))
        }

        /// A receive: pending once, then `Ok` of a value the compiler cannot see.
        fn recv(&self) -> Once<Result<T, ()>> {
            Once::new(Ok(black_box(T::default())))
        }
    }

    /// Pending on its first poll (waking its task), ready with its value on the next.
    struct Once<R> {
        value: Option<R>,
        polled: bool,
    }

    impl<R> Once<R> {
        fn new(value: R) -> Self {
            Once {
                value: Some(value),
                polled: false,
            }
        }
    }

    impl<R: Unpin> Future for Once<R> {
        type Output = R;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<R> {
            // (`black_box`: the compiler may not know that the first poll is always pending.)
            if !black_box(self.polled) {
                self.polled = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready(self.value.take().expect("polled after it completed"))
        }
    }

    static CH: Stub<u32> = Stub::new();
    // `--cfg flash_types="2"` / `"4"`: as `flash_rendez.rs` does.
    #[cfg(any(flash_types = "2", flash_types = "4"))]
    static CH2: Stub<u16> = Stub::new();
    #[cfg(flash_types = "4")]
    static CH3: Stub<u64> = Stub::new();
    #[cfg(flash_types = "4")]
    static CH4: Stub<[u8; 6]> = Stub::new();

    send_and_receive_tasks!();
}

#[cfg(not(target_os = "none"))]
fn main() {
    println!("a bare-metal program: `.ci/flash-size` builds it for four MCU targets");
}
