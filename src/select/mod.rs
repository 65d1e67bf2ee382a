//! Select: wait on several send and receive operations, on any rendez channels, and complete
//! exactly one of them.
//!
//! # Why `tokio::select!` over rendez futures is not enough
//!
//! A rendez `send` future offers its message while it waits, and a receive on another thread may
//! take it at any moment. A `tokio::select!` (or `futures::select!`) over two `send` futures
//! has both messages on offer at once: two receives can each take one before the select is polled
//! again, and two sends happen although the select reports one. The futures know nothing of each
//! other.
//!
//! [`select!`](crate::select!), [`select_blocking!`](crate::select_blocking!) and
//! [`Select`](crate::Select) tie the operations together: every arm's node points to one *claim*
//! ([`claim`]), and a receive may take a send arm's message only after winning that claim for it.
//! Receive arms need no claim from peers: like any async receive they take a message only in the
//! select's own poll, and the select polls its arms only while it holds the claim itself. So one
//! arm takes effect and the others leave no trace: no message taken, no turn used up (a receive
//! arm woken for a message it did not take passes the turn on, as a dropped receive does).
//!
//! # What moved for select
//!
//! The waiter node gained the claim pointer (`Slot::select`), and the exchange learned to *prune*:
//! a node whose select it may not complete is unlinked and handed back to its owner unstarted
//! (`Exchange::take_offer`, `Exchange::prune_decided_receivers`). A select's arms are the
//! ordinary [`SendFut`](crate::SendFut) and [`RecvFut`](crate::RecvFut) in the ordinary wait
//! lists, so FIFO order, cancel safety and the wake rules are the same code for arms as for plain
//! operations. Operations that do not select pay one branch on a `None` where they complete a
//! node.
//!
//! The files: [`claim`] (the decision word), `arm` (an operation and its outcome), `engine` (the
//! passes over the arms, cancellation, the blocking form), `builder` ([`Select`](crate::Select)),
//! and the macros below.

pub(crate) mod arm;
#[cfg(feature = "alloc")]
pub(crate) mod builder;
pub(crate) mod claim;
pub(crate) mod engine;

/// Waits on several rendez operations in async code and runs the arm of the one that completed.
///
/// ```text
/// rendez::select! {
///     recv(rx) -> res => body,           // res: Result<T, RecvError>
///     send(tx, msg) -> res => body,      // res: Result<(), SendError<T>>
///     default => body,                   // optional: runs at once if nothing is ready
/// }
/// ```
///
/// The arm syntax is crossbeam-channel's. `rx` and `tx` are rendez handles or static
/// [`Channel`](crate::Channel)s (anything with rendez's `recv()` / `send(msg)`), of any message
/// types. The macro awaits inline, so it must be used inside async code, and `break`,
/// `continue`, `return` and `?` in a body act on the code around it.
///
/// - **Exactly one operation takes effect.** A send arm's message reaches a receive only if that
///   arm is the one selected; the messages of the other send arms are *dropped* with the select,
///   never delivered (use [`Select`](crate::Select) to get them back). A receive arm takes a
///   message only if it is selected.
/// - **Disconnection is ready:** an arm on a closed channel is selected with its error.
/// - **Fair:** if several arms are ready, a pseudo-random one wins. Write `biased;` first to try
///   them in order instead.
/// - **`default`** runs when no arm can complete right now, and then nothing was registered
///   anywhere. A send arm completes under it only if a receive is waiting (the
///   [`try_send`](crate::Sender::try_send) rule). Timeouts belong to your executor: wrap the
///   select in e.g. `tokio::time::timeout`; `default(timeout)` is for
///   [`select_blocking!`](crate::select_blocking!).
/// - **Cancel safe:** dropping the future that runs the select at any point leaves no arm half
///   done: either no operation took effect, or exactly one did (a send arm's message was
///   delivered just before the drop, and only the knowledge of it is lost, as with a dropped
///   [`SendFut`](crate::SendFut)).
/// - No heap allocation; up to 12 arms.
///
/// The message expressions are evaluated when the select starts.
///
/// ```
/// # futures::executor::block_on(async {
/// // Any rendez channels: counted handles or, as here, channels by value (no allocator needed).
/// let jobs = rendez::Channel::<u32>::new();
/// let done = rendez::Channel::<()>::new();
/// let log = rendez::Channel::<&str>::new();
/// let worker = async {
///     let mut handled = 0;
///     loop {
///         rendez::select! {
///             recv(jobs) -> job => handled += job.unwrap(),
///             recv(done) -> _ => break,
///             send(log, "idle") -> _ => {}
///         }
///     }
///     handled
/// };
/// let boss = async {
///     jobs.send(2).await.unwrap();
///     assert_eq!(log.recv().await, Ok("idle")); // one loop round took the log arm
///     jobs.send(3).await.unwrap();
///     done.send(()).await.unwrap();
/// };
/// let (handled, ()) = futures::join!(worker, boss);
/// assert_eq!(handled, 5);
/// # });
/// ```
#[macro_export]
macro_rules! select {
    (biased; $($arms:tt)*) => {
        $crate::__select!(@parse async true [] [] $($arms)*)
    };
    ($($arms:tt)*) => {
        $crate::__select!(@parse async false [] [] $($arms)*)
    };
}

/// Waits on several rendez operations, parking this thread, and runs the arm of the one that
/// completed.
///
/// The same arms as [`select!`](crate::select!), plus `default(timeout) => body`: runs if no
/// operation completed within `timeout` (a [`Duration`](std::time::Duration)), and then none took
/// effect. `default => body` runs at once if nothing is ready. Write `biased;` first to try the
/// arms in order. Do not call it inside an async task: it parks the executor's thread.
///
/// ```
/// use std::time::Duration;
/// let (tx, rx) = rendez::channel::<u32>();
/// let (quit_tx, quit) = rendez::channel::<()>();
/// let t = std::thread::spawn(move || {
///     tx.send_blocking(7).unwrap();
///     quit_tx.send_blocking(()).unwrap();
/// });
/// let mut got = Vec::new();
/// loop {
///     rendez::select_blocking! {
///         recv(rx) -> msg => got.push(msg.unwrap()),
///         recv(quit) -> _ => break,
///         default(Duration::from_secs(10)) => panic!("timed out"),
///     }
/// }
/// t.join().unwrap();
/// assert_eq!(got, [7]);
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
#[cfg(feature = "std")]
#[macro_export]
macro_rules! select_blocking {
    (biased; $($arms:tt)*) => {
        $crate::__select!(@parse blocking true [] [] $($arms)*)
    };
    ($($arms:tt)*) => {
        $crate::__select!(@parse blocking false [] [] $($arms)*)
    };
}

/// The parser and code generator behind [`select!`](crate::select!) and
/// [`select_blocking!`](crate::select_blocking!). Not a public API.
///
/// Each arm becomes a pinned local whose name is made by one expansion of a head rule, so the
/// names are distinct by hygiene; after the select, the arm that holds an outcome runs its body.
#[doc(hidden)]
#[macro_export]
macro_rules! __select {
    // === heads: `recv(..) -> pat =>`, `send(.., ..) -> pat =>`, `default(..) =>`, `default =>` ===
    (@parse $mode:ident $biased:tt $arms:tt $default:tt
        recv($rx:expr) -> $res:pat => $($rest:tt)*) => {
        $crate::__select!(@body $mode $biased $arms $default [arm recv ($rx) ($res)] $($rest)*)
    };
    (@parse $mode:ident $biased:tt $arms:tt $default:tt
        send($tx:expr, $msg:expr) -> $res:pat => $($rest:tt)*) => {
        $crate::__select!(@body $mode $biased $arms $default [arm send ($tx, $msg) ($res)] $($rest)*)
    };
    (@parse $mode:ident $biased:tt $arms:tt $default:tt
        default($timeout:expr) => $($rest:tt)*) => {
        $crate::__select!(@body $mode $biased $arms $default [default timeout ($timeout)] $($rest)*)
    };
    (@parse $mode:ident $biased:tt $arms:tt $default:tt default => $($rest:tt)*) => {
        $crate::__select!(@body $mode $biased $arms $default [default now ()] $($rest)*)
    };
    (@parse $mode:ident $biased:tt $arms:tt $default:tt) => {
        $crate::__select!(@emit $mode $biased $arms $default)
    };
    (@parse $mode:ident $biased:tt $arms:tt $default:tt $($rest:tt)+) => {
        ::core::compile_error!(::core::concat!(
            "rendez select: expected `recv(rx) -> res => ..`, `send(tx, msg) -> res => ..`, ",
            "`default => ..` or `default(timeout) => ..`, found `",
            ::core::stringify!($($rest)+), "`"
        ))
    };

    // === bodies: a block (comma optional) or an expression (comma unless last) ===
    (@body $mode:ident $biased:tt $arms:tt $default:tt $head:tt $body:block, $($rest:tt)*) => {
        $crate::__select!(@push $mode $biased $arms $default $head $body; $($rest)*)
    };
    (@body $mode:ident $biased:tt $arms:tt $default:tt $head:tt $body:block $($rest:tt)*) => {
        $crate::__select!(@push $mode $biased $arms $default $head $body; $($rest)*)
    };
    (@body $mode:ident $biased:tt $arms:tt $default:tt $head:tt $body:expr, $($rest:tt)*) => {
        $crate::__select!(@push $mode $biased $arms $default $head $body; $($rest)*)
    };
    (@body $mode:ident $biased:tt $arms:tt $default:tt $head:tt $body:expr) => {
        $crate::__select!(@push $mode $biased $arms $default $head $body;)
    };

    // === collect the arm or the default ===
    (@push $mode:ident $biased:tt $arms:tt [] [default $kind:ident $arg:tt] $body:tt; $($rest:tt)*) => {
        $crate::__select!(@parse $mode $biased $arms [$kind $arg $body] $($rest)*)
    };
    (@push $mode:ident $biased:tt $arms:tt $default:tt [default $($x:tt)*] $($rest:tt)*) => {
        ::core::compile_error!("rendez select: more than one `default` arm")
    };
    (@push $mode:ident $biased:tt [$($arms:tt)*] $default:tt [$name:ident $kind:ident $args:tt $res:tt] $body:tt; $($rest:tt)*) => {
        $crate::__select!(@parse $mode $biased [$($arms)* ($name $kind $args $res $body)] $default $($rest)*)
    };

    // === code ===
    (@emit $mode:ident $biased:tt [] $default:tt) => {
        ::core::compile_error!("rendez select: needs at least one `recv` or `send` arm")
    };
    (@emit $mode:ident $biased:tt [$(($name:ident $kind:ident $args:tt $res:tt $body:tt))+] $default:tt) => {{
        $( let mut $name = ::core::pin::pin!($crate::__select!(@arm $kind $args)); )+
        let __rendez_selected: bool = $crate::__select!(@wait $mode $biased ($($name),+) $default);
        if __rendez_selected {
            $crate::__select!(@dispatch $(($name $res $body))+)
        } else {
            $crate::__select!(@default $default)
        }
    }};

    (@arm recv ($rx:expr)) => {
        $crate::__private::Arm::new(($rx).recv())
    };
    (@arm send ($tx:expr, $msg:expr)) => {
        $crate::__private::Arm::new(($tx).send($msg))
    };

    (@wait async $biased:tt ($($name:ident),+) []) => {{
        $crate::__private::Selecting::new(&mut ($($name.as_mut(),)+), $biased).await;
        true
    }};
    (@wait $mode:ident $biased:tt ($($name:ident),+) [now $arg:tt $body:tt]) => {
        $crate::__private::try_select(&mut ($($name.as_mut(),)+), $biased).is_some()
    };
    (@wait async $biased:tt $names:tt [timeout $arg:tt $body:tt]) => {
        ::core::compile_error!(::core::concat!(
            "rendez::select!: `default(timeout)` is for `select_blocking!`; in async code put your ",
            "executor's timer around the select, e.g. `tokio::time::timeout(d, async { .. })`"
        ))
    };
    (@wait blocking $biased:tt ($($name:ident),+) []) => {
        $crate::__private::select_blocking(&mut ($($name.as_mut(),)+), $biased, None).is_some()
    };
    (@wait blocking $biased:tt ($($name:ident),+) [timeout ($timeout:expr) $body:tt]) => {
        $crate::__private::select_blocking(
            &mut ($($name.as_mut(),)+),
            $biased,
            $crate::__private::deadline_after($timeout),
        )
        .is_some()
    };

    (@dispatch ($name:ident ($res:pat) $body:tt) $($rest:tt)*) => {
        match $crate::__private::Arm::take_output($name.as_mut()) {
            ::core::option::Option::Some(__rendez_outcome) => {
                let $res = __rendez_outcome;
                $body
            }
            ::core::option::Option::None => $crate::__select!(@dispatch $($rest)*),
        }
    };
    (@dispatch) => {
        ::core::unreachable!("rendez: a select completed no arm")
    };

    (@default []) => {
        ::core::unreachable!("rendez: a select without `default` completed an arm")
    };
    (@default [$kind:ident $arg:tt $body:tt]) => {
        $body
    };
}
