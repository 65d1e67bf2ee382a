//! rendez at work on emulated microcontrollers without atomic compare-and-swap: a Cortex-M0
//! (thumbv6m-none-eabi, QEMU's `microbit`) and an RV32IMC core (riscv32imc-unknown-none-elf,
//! QEMU's `virt`), with `CriticalSectionLock` over the single-core critical section.
//!
//! Two tasks on the flash examples' two-future executor check, with static channels:
//! - 1,000 messages arrive in order, and a send completes only once its message was taken;
//! - `try_send` / `try_recv` with no peer waiting give `Full` / `Empty`, and a `try_send` to a
//!   waiting receive is delivered;
//! - `select!` between two send arms and two receive arms (the select claim, which does its
//!   read-modify-writes in critical sections on these targets), 200 rounds;
//! - `close` ends a waiting receive with `RecvError` and gives a send's message back.
//!
//! The program stops QEMU with status 0 when every check passed and 1 on the first that fails
//! (a panic); a hang (a lost wake-up) is caught by the runner's timeout.
//!
//! ```sh
//! .ci/qemu-check   # builds it for both targets and runs it under qemu-system-arm / -riscv32
//! ```
//!
//! On the host this example only says so.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
#[path = "flash/rt.rs"]
mod rt;

#[cfg(target_os = "none")]
#[path = "qemu/exit.rs"]
mod exit;

#[cfg(target_os = "none")]
mod program {
    use core::sync::atomic::{AtomicU32, Ordering};

    use rendez::lock::CriticalSectionLock;
    use rendez::{Channel, RecvError, SendError, TryRecvError, TrySendError};

    type Ch<T> = Channel<T, CriticalSectionLock>;

    static NUMBERS: Ch<u32> = Channel::new();
    static LEFT: Ch<u32> = Channel::new();
    static RIGHT: Ch<u16> = Channel::new();
    static NOTES: Ch<u8> = Channel::new();
    /// How many messages the receiving task has taken from `NUMBERS` so far.
    static TAKEN: AtomicU32 = AtomicU32::new(0);

    const MESSAGES: u32 = 1000;
    const ROUNDS: u32 = 200;

    /// Sends, and checks what the receiving task must have done by the time a send completes.
    async fn sender() {
        // Nobody waits yet (this task is polled first): the non-blocking forms say so.
        assert_eq!(NOTES.try_send(1), Err(TrySendError::Full(1)));
        assert_eq!(NOTES.try_recv(), Err(TryRecvError::Empty));

        for n in 0..MESSAGES {
            NUMBERS.send(n).await.unwrap();
            // Rendezvous: a completed send means the receive took this message.
            assert_eq!(TAKEN.load(Ordering::Relaxed), n + 1);
        }

        // Rounds of select against select: one of the two send arms completes, the other's
        // message is dropped with the select; the receiving task checks which one came.
        for n in 0..ROUNDS {
            rendez::select! {
                send(LEFT, n) -> res => res.unwrap(),
                send(RIGHT, n as u16) -> res => res.unwrap(),
            }
        }

        // The receiving task now waits in `NOTES.recv()`, so a `try_send` reaches it.
        loop {
            match NOTES.try_send(7) {
                Ok(()) => break,
                Err(TrySendError::Full(_)) => yield_now().await,
                Err(TrySendError::Disconnected(_)) => panic!("NOTES closed"),
            }
        }

        // Closing ends the receiving task's last `NUMBERS.recv()` (waiting already, or soon)
        // with `RecvError`, and a send after the close gets its message back.
        NUMBERS.close();
        assert_eq!(NUMBERS.send(99).await, Err(SendError(99)));
    }

    /// Receives and checks each message; stops QEMU with success at the end.
    async fn receiver() {
        for n in 0..MESSAGES {
            assert_eq!(NUMBERS.recv().await, Ok(n));
            TAKEN.store(n + 1, Ordering::Relaxed);
        }

        let (mut lefts, mut rights) = (0, 0);
        for n in 0..ROUNDS {
            rendez::select! {
                recv(LEFT) -> got => {
                    assert_eq!(got, Ok(n));
                    lefts += 1;
                }
                recv(RIGHT) -> got => {
                    assert_eq!(got, Ok(n as u16));
                    rights += 1;
                }
            }
        }
        assert_eq!(lefts + rights, ROUNDS);
        // Fair selects: both arms won now and then.
        assert!(
            lefts > 0 && rights > 0,
            "one arm always won: {lefts} / {rights}"
        );

        assert_eq!(NOTES.recv().await, Ok(7));
        assert_eq!(NUMBERS.recv().await, Err(RecvError));
        super::exit::exit(true)
    }

    /// Returns `Pending` once (waking itself), so that the other task runs.
    async fn yield_now() {
        let mut yielded = false;
        core::future::poll_fn(|cx| {
            if yielded {
                core::task::Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                core::task::Poll::Pending
            }
        })
        .await
    }

    #[super::rt::entry]
    fn main() -> ! {
        super::rt::run(sender(), receiver())
    }
}

#[cfg(not(target_os = "none"))]
fn main() {
    println!("a bare-metal program: `.ci/qemu-check` runs it on emulated Cortex-M0 and RV32IMC");
}
