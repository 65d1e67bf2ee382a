//! A tour of `rendez`: one rendezvous channel shared by a tokio task, an async-std task and a
//! plain thread.
//!
//! ```sh
//! cargo run --release --example tour
//! ```
//!
//! It prints a log of who sent and received what, then a summary line. Every step waits for the
//! one before it, so each run ends the same way; only the interleaving of the two senders in step 1
//! changes from run to run. (The one sleep is there only so that the log can say the thread's send
//! was already waiting when the channel closed; the outcome is the same without it.)

use std::fmt;
use std::pin::pin;
use std::thread;
use std::time::Duration;

use rendez::{
    Receiver, RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};

/// What travels over the channel: who sent it, and what it says.
#[derive(Debug)]
struct Msg {
    /// The party that sent it.
    from: &'static str,
    /// The text.
    body: String,
}

impl Msg {
    fn new(from: &'static str, body: impl Into<String>) -> Self {
        Msg {
            from,
            body: body.into(),
        }
    }
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} (from {})", self.body, self.from)
    }
}

/// One line of the log: who did what.
fn say(who: &str, what: impl fmt::Display) {
    println!("  {who:>9} | {what}");
}

/// A section heading.
fn section(title: &str) {
    println!("\n{title}");
}

fn main() {
    // A tokio runtime built by hand rather than with `#[tokio::main]`: `main` stays an ordinary
    // function, so async-std's executor and a plain thread can run right beside it.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");

    let (tx, rx) = rendez::channel::<Msg>();
    println!(
        "rendez tour: one zero-capacity channel; a tokio task, an async-std task and a thread"
    );
    let mut delivered = 0;

    // --- 1. Two senders on different executors, one receiver on a third. ---------------------
    section("1. tokio and a thread send, async-std receives (each send waits for its receive)");
    let from_tokio = ["hello from tokio", "1", "2", "3"];
    let from_thread = ["hello from a thread", "10", "20", "30"];

    let receiver = {
        let rx = rx.clone();
        async_std::task::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..from_tokio.len() + from_thread.len() {
                let msg = rx.recv().await.expect("the senders are alive");
                say("async-std", format_args!("received {msg}"));
                got.push(msg);
            }
            got
        })
    };
    let tokio_sender = {
        let tx = tx.clone();
        rt.spawn(async move {
            for body in from_tokio {
                tx.send(Msg::new("tokio", body)).await.expect("a receiver");
            }
        })
    };
    let thread_sender = {
        let tx = tx.clone();
        thread::spawn(move || {
            for body in from_thread {
                tx.send_blocking(Msg::new("thread", body))
                    .expect("a receiver");
            }
        })
    };
    rt.block_on(tokio_sender).expect("the tokio sender");
    thread_sender.join().expect("the thread sender");
    let got = async_std::task::block_on(receiver);
    // Each sender's messages arrive in the order it sent them, however the two interleave.
    for (who, sent) in [("tokio", from_tokio), ("thread", from_thread)] {
        let bodies: Vec<&str> = got
            .iter()
            .filter(|m| m.from == who)
            .map(|m| m.body.as_str())
            .collect();
        assert_eq!(bodies, sent, "{who}'s messages in order");
    }
    delivered += got.len();
    say(
        "main",
        format_args!(
            "{} messages, each received once, each sender's in order",
            got.len()
        ),
    );

    // --- 2. The other way round: tokio replies, the thread receives. -------------------------
    section("2. tokio sends a reply batch, the thread receives it with recv_blocking");
    let numbers: Vec<String> = got
        .iter()
        .filter(|m| m.from == "thread" && m.body.parse::<u32>().is_ok())
        .map(|m| m.body.clone())
        .collect();
    let thread_receiver = {
        let rx = rx.clone();
        let expected = numbers.len();
        thread::spawn(move || {
            for _ in 0..expected {
                let msg = rx.recv_blocking().expect("the senders are alive");
                say("thread", format_args!("received {msg}"));
            }
            expected
        })
    };
    let replier = {
        let tx = tx.clone();
        rt.spawn(async move {
            for n in numbers {
                tx.send(Msg::new("tokio", format!("thanks for your {n}")))
                    .await
                    .expect("a receiver");
            }
        })
    };
    rt.block_on(replier).expect("the tokio replier");
    delivered += thread_receiver.join().expect("the thread receiver");

    // --- 3. try_send: only when a receive is waiting right now. -------------------------------
    section("3. try_send needs a receive that is already waiting");
    let pinger = {
        let (tx, rx) = (tx.clone(), rx.clone());
        rt.spawn(async move {
            let Err(TrySendError::Full(mut msg)) = tx.try_send(Msg::new("tokio", "ping")) else {
                panic!("nobody is receiving yet, so try_send must say Full")
            };
            say(
                "tokio",
                format_args!("try_send {msg}: Full, no receive is waiting; the message came back"),
            );
            let receiver = async_std::task::spawn(async move { rx.recv().await });
            // Retry until the async-std receive waits (no sleep: it gets there on its own).
            while let Err(err) = tx.try_send(msg) {
                assert!(err.is_full(), "the channel is open");
                msg = err.into_inner();
                tokio::task::yield_now().await;
            }
            say(
                "tokio",
                "try_send \"ping\" again, once async-std waits in recv: Ok",
            );
            receiver.await.expect("the pinged receive")
        })
    };
    let msg = rt.block_on(pinger).expect("the tokio task");
    say("async-std", format_args!("received {msg}"));
    delivered += 1;

    // --- 4. Timeouts on a thread. -------------------------------------------------------------
    section("4. a thread's send_timeout and recv_timeout give up when nobody comes");
    {
        let (tx, rx) = (tx.clone(), rx.clone());
        thread::spawn(move || {
            let patience = Duration::from_millis(50);
            let Err(SendTimeoutError::Timeout(msg)) =
                tx.send_timeout(Msg::new("thread", "anyone?"), patience)
            else {
                panic!("nobody is receiving, so send_timeout must time out")
            };
            say(
                "thread",
                format_args!("send_timeout {msg}: timed out after {patience:?}; message came back"),
            );
            let res = rx.recv_timeout(patience);
            assert_eq!(res.err(), Some(RecvTimeoutError::Timeout));
            say(
                "thread",
                format_args!("recv_timeout: timed out after {patience:?}"),
            );
        })
        .join()
        .expect("the thread");
    }

    // --- 5. A cancelled receive loses nothing. --------------------------------------------------
    section("5. cancelled receives (timeout, select!) lose nothing");
    let canceller = {
        let (tx, rx) = (tx.clone(), rx.clone());
        rt.spawn(async move {
            let patience = Duration::from_millis(20);
            let res = tokio::time::timeout(patience, rx.recv()).await;
            assert!(
                res.is_err(),
                "nobody is sending, so the timeout must elapse"
            );
            say(
                "tokio",
                format_args!("recv under a {patience:?} timeout: elapsed, the recv was dropped"),
            );

            // `biased` polls the branches in order: the recv starts waiting; then the other
            // branch offers that waiting recv a message with try_send and finishes at once. So
            // select! drops a recv that was just woken for a message, before it could take it.
            let offered = tokio::select! {
                biased;
                res = rx.recv() => panic!("the recv cannot finish first, it got {res:?}"),
                res = async { tx.try_send(Msg::new("tokio", "rescued")) } => res,
            };
            offered.expect("a recv was waiting");
            say(
                "tokio",
                "select! { recv, other }: recv waited, the other branch try_sent",
            );
            say(
                "",
                "  \"rescued\" to it and won: the woken recv was dropped unfinished",
            );
        })
    };
    rt.block_on(canceller).expect("the tokio task");
    let msg = async_std_recv(&rx).expect("the held message");
    say(
        "async-std",
        format_args!("received {msg}: the next receive got it, nothing lost"),
    );
    delivered += 1;

    // --- 6. select!: one loop waits on several channels at once. ------------------------------
    section(
        "6. select!: a tokio worker waits for jobs or a shutdown, and offers a report meanwhile",
    );
    let (jobs_tx, jobs) = rendez::channel::<u32>();
    let (shutdown_tx, shutdown) = rendez::channel::<()>();
    let (reports, reports_rx) = rendez::channel::<String>();
    let worker = rt.spawn(async move {
        let (mut rounds, mut done, mut total) = (0, 0, 0);
        loop {
            rounds += 1;
            // Exactly one arm runs. The report is written anew each round, as the select starts;
            // in a round that another arm wins, it is dropped unsent.
            rendez::select! {
                recv(jobs) -> job => {
                    let n = job.expect("the thread keeps the jobs channel open");
                    total += n * n;
                    done += 1;
                    say("tokio", format_args!("job {n}: squared it, {total} in all"));
                }
                send(reports, format!("{done} jobs done, total {total}")) -> sent => {
                    sent.expect("the thread is listening");
                    say("tokio", "the thread took this round's report");
                }
                recv(shutdown) -> _ => {
                    say("tokio", "shutdown: leaving the loop (`break` in an arm works)");
                    break;
                }
            }
        }
        rounds
    });
    let boss = thread::spawn(move || {
        for n in [2, 3, 4] {
            jobs_tx.send_blocking(n).expect("the worker takes jobs");
        }
        // Every job was taken, so the only report a receive can get is a later round's.
        let report = reports_rx
            .recv_blocking()
            .expect("the worker offers reports");
        shutdown_tx.send_blocking(()).expect("the worker listens");
        report
    });
    let report = boss.join().expect("the thread");
    let rounds = rt.block_on(worker).expect("the tokio worker");
    assert_eq!(report, "3 jobs done, total 29");
    assert_eq!(rounds, 5);
    say(
        "thread",
        format_args!("sent 3 jobs, received the report {report:?}, sent shutdown"),
    );
    say(
        "main",
        format_args!(
            "{rounds} rounds, one arm each; the 4 reports of the other rounds were dropped"
        ),
    );
    delivered += 5;

    // --- 7. close(): pending and later operations fail, messages come back. ------------------
    section("7. close() fails pending and later operations; failed sends return their message");
    let (waiting_tx, waiting) = futures::channel::oneshot::channel();
    let tokio_send = {
        let tx = tx.clone();
        rt.spawn(async move {
            let mut send = pin!(tx.send(Msg::new("tokio", "too late")));
            // Polled once by hand, so it surely waits for a receive.
            assert!(futures::poll!(send.as_mut()).is_pending());
            say("tokio", "send \"too late\": waiting for a receive");
            waiting_tx.send(()).expect("main listens");
            send.await
        })
    };
    rt.block_on(waiting).expect("the tokio task");
    let thread_send = {
        let tx = tx.clone();
        thread::spawn(move || {
            say(
                "thread",
                "send_blocking \"me neither\": waiting for a receive",
            );
            tx.send_blocking(Msg::new("thread", "me neither"))
        })
    };
    // Only so that the log is true: the thread is blocked when the channel closes. Without the
    // sleep its send would fail all the same, only as a "later" operation.
    thread::sleep(Duration::from_millis(50));

    assert!(rx.close(), "this call closes it");
    say("main", "rx.close() -> true: the channel is closed");
    let Err(SendError(msg)) = rt.block_on(tokio_send).expect("the tokio task") else {
        panic!("a send on a closed channel must fail")
    };
    say("tokio", format_args!("send failed, got {msg} back"));
    let Err(SendError(msg)) = thread_send.join().expect("the thread") else {
        panic!("a send on a closed channel must fail")
    };
    say(
        "thread",
        format_args!("send_blocking failed, got {msg} back"),
    );
    assert_eq!(async_std_recv(&rx).err(), Some(RecvError));
    say("async-std", "recv: Err(RecvError), the channel is closed");

    let Err(TrySendError::Disconnected(msg)) = tx.try_send(Msg::new("main", "hello?")) else {
        panic!("try_send on a closed channel must fail")
    };
    assert_eq!(rx.try_recv().err(), Some(TryRecvError::Disconnected));
    assert!(!tx.close(), "already closed");
    say(
        "main",
        format_args!(
            "try_send {msg}: Disconnected; try_recv: Disconnected; close() again -> false"
        ),
    );

    println!(
        "\nsummary: {delivered} messages delivered exactly once between tokio, async-std and a \
         thread; try_send Full once, 2 timeouts, 2 cancelled receives lost nothing, a select! loop \
         ran one arm per round, close() failed 2 pending sends (messages returned) and a receive"
    );
}

/// Receives once in a new async-std task, and waits for it.
fn async_std_recv(rx: &Receiver<Msg>) -> Result<Msg, RecvError> {
    let rx = rx.clone();
    async_std::task::block_on(async_std::task::spawn(async move { rx.recv().await }))
}
