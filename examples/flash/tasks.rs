//! The two tasks of `flash_rendez.rs` and `flash_stub.rs`, written once: the stub's figures are
//! subtracted from rendez's, so the two programs must await the same things in the same places
//! and differ in the channel only. A macro, so that each program compiles exactly this text
//! against its own `CH`, `CH2`, `CH3` and `CH4` (no trait between the tasks and the channel).

/// The program's `main`: one task sends 0, 1, 2, ... on `CH` (and, with `--cfg flash_types`, on
/// `CH2` to `CH4`), the other receives them, on `rt`'s two-future executor.
macro_rules! send_and_receive_tasks {
    () => {
        // With one message type the receiving loop is a `while let`; with more it is not.
        #[allow(clippy::while_let_loop)]
        #[super::rt::entry]
        fn main() -> ! {
            super::rt::run(
                async {
                    for n in 0..core::hint::black_box(1000) {
                        if CH.send(n).await.is_err() {
                            break;
                        }
                        #[cfg(any(flash_types = "2", flash_types = "4"))]
                        if CH2.send(n as u16).await.is_err() {
                            break;
                        }
                        #[cfg(flash_types = "4")]
                        if CH3.send(u64::from(n)).await.is_err()
                            || CH4.send([n as u8; 6]).await.is_err()
                        {
                            break;
                        }
                    }
                },
                async {
                    loop {
                        match CH.recv().await {
                            Ok(n) => core::hint::black_box(n),
                            Err(_) => break,
                        };
                        #[cfg(any(flash_types = "2", flash_types = "4"))]
                        match CH2.recv().await {
                            Ok(n) => core::hint::black_box(n),
                            Err(_) => break,
                        };
                        #[cfg(flash_types = "4")]
                        match (CH3.recv().await, CH4.recv().await) {
                            (Ok(a), Ok(b)) => core::hint::black_box((a, b)),
                            _ => break,
                        };
                    }
                },
            )
        }
    };
}
