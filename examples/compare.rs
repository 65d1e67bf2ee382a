//! `rendez` against its peers in one table: messages per second for each scenario and peer, with
//! the spread over rounds and the CPU time per message.
//!
//! ```sh
//! cargo run --release --example compare                       # every row, a few minutes
//! COMPARE_QUICK=1 cargo run --release --example compare       # a few seconds, rougher
//! cargo run --release --example compare -- blocking pingpong  # only rows whose name has a word
//! cargo run --release --example compare -- --load busy        # the blocking rows under a load
//! cargo run --release --example compare -- --load all         # ... under quiet, busy, bursty, pinned
//! cargo run --release --example compare -- --markdown         # the tables as the README has them
//! cargo run --release --example compare -- --polls            # polls per send / receive, async rows
//! cargo run --release --example compare -- --hold-load busy    # a load until stdin closes (.ci/ab)
//! .ci/instructions                                            # instructions per message (callgrind)
//! ```
//!
//! The scenarios and peers are those of the criterion benchmarks (`benches/channels.rs`, which
//! has the plots and confidence intervals); both use `benches/peers/mod.rs`. Here each peer is run
//! a few rounds, the peers of a row taking turns round by round so that a burst of noise on this
//! machine hits them all alike; each cell is the median round, with the slowest and fastest.
//!
//! `--load L` measures the blocking rows (threads: SPSC, 4x4 MPMC, ping-pong, thread to task and
//! Go's multi-consumer shape) under load `L`, started and stopped by this program
//! (`benches/peers/load.rs`): `quiet`, `busy` (a busy-looping process per CPU), `bursty` (a
//! process that works a few ms on every CPU, then sleeps a few ms), `pinned` (this process on
//! CPU 0 only, as `taskset -c 0`), or `all` of them in turn.
//!
//! A debug build runs the quick sizes: its figures say nothing about speed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[path = "../benches/peers/mod.rs"]
mod peers;
#[path = "../benches/peers/polls.rs"]
mod polls;

use peers::load::{self, Load};

/// `--markdown`: print the tables as Markdown (as the README shows them) instead of aligned text.
static MARKDOWN: AtomicBool = AtomicBool::new(false);

/// What one invocation runs.
struct Config {
    /// Traffic per run.
    sizes: peers::Sizes,
    /// Timed runs per peer and row (after one untimed warm-up run).
    rounds: usize,
    /// Run only the rows whose scenario id contains one of these (all rows if empty).
    filters: Vec<String>,
    /// The loads to measure the blocking rows under; empty: every row, no load started.
    loads: Vec<Load>,
}

impl Config {
    /// Reads `COMPARE_QUICK` / `--quick`, `--load` and the row filters from the command line.
    fn from_env() -> Config {
        let mut quick =
            std::env::var_os("COMPARE_QUICK").is_some_and(|v| v != "0") || cfg!(debug_assertions);
        let mut filters = Vec::new();
        let mut loads = Vec::new();
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            if arg == "--quick" {
                quick = true;
            } else if arg == "--markdown" {
                MARKDOWN.store(true, Ordering::Relaxed);
            } else if arg == "--load" {
                let name = args.next().unwrap_or_default();
                if name == "all" {
                    loads.extend(Load::ALL);
                } else {
                    loads.push(Load::parse(&name).unwrap_or_else(|| {
                        eprintln!("--load {name:?}: expected quiet, busy, bursty, pinned or all");
                        std::process::exit(2)
                    }));
                }
            } else {
                filters.push(arg);
            }
        }
        // Pinning cannot be undone for the threads it reaches: it goes last.
        loads.sort_by_key(|l| *l == Load::Pinned);
        let (sizes, rounds) = if quick {
            let sizes = peers::Sizes {
                stream: 1_000,
                round_trips: 200,
            };
            (sizes, 3)
        } else {
            (peers::Sizes::BENCH, 7)
        };
        Config {
            sizes,
            rounds,
            filters,
            loads,
        }
    }

    /// Whether the row `scenario` is to be measured (under a load: only the blocking rows).
    fn wants(&self, scenario: &peers::Scenario) -> bool {
        let under_load = !self.loads.is_empty();
        let blocking = scenario.msg == "usize"
            && [
                "blocking_spsc",
                "blocking_mpmc",
                "pingpong_blocking",
                "mixed",
                "multiconsumer",
            ]
            .iter()
            .any(|word| scenario.id.contains(word));
        (!under_load || blocking)
            && (self.filters.is_empty() || self.filters.iter().any(|f| scenario.id.contains(f)))
    }
}

/// The smallest, the median and the largest of `values` (which it sorts).
fn spread(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    (
        values[0],
        values[values.len() / 2],
        values[values.len() - 1],
    )
}

/// A rate as a short cell: `3.41M`, `812k`.
fn rate(per_sec: f64) -> String {
    if per_sec >= 1e6 {
        format!("{:.2}M", per_sec / 1e6)
    } else if per_sec >= 1e3 {
        format!("{:.0}k", per_sec / 1e3)
    } else {
        format!("{per_sec:.0}")
    }
}

/// One peer's figures in one row.
struct Cell {
    peer: &'static str,
    /// Not a buffered reference.
    zero_capacity: bool,
    /// Messages (or round trips) per second: slowest, median and fastest round.
    min: f64,
    median: f64,
    max: f64,
    /// CPU time (user + system, every thread of this process) per message, median round, in µs.
    cpu_us: f64,
}

/// One measured row.
struct Row {
    /// The scenario id.
    id: &'static str,
    /// The message type.
    msg: &'static str,
    cells: Vec<Cell>,
}

/// The peer that is a lower-bound reference, not a competitor: left out of the "best peer".
const REFERENCE: &str = "strict-ref";

impl Row {
    fn of(&self, peer: &str) -> Option<&Cell> {
        self.cells.iter().find(|c| c.peer == peer)
    }

    /// The fastest zero-capacity competitor by median (not rendez, not the reference).
    fn best_peer(&self) -> Option<&Cell> {
        self.cells
            .iter()
            .filter(|c| c.zero_capacity && c.peer != "rendez" && c.peer != REFERENCE)
            .max_by(|a, b| a.median.total_cmp(&b.median))
    }

    /// The least CPU per message among the zero-capacity competitors.
    fn thriftiest_peer(&self) -> Option<&Cell> {
        self.cells
            .iter()
            .filter(|c| c.zero_capacity && c.peer != "rendez" && c.peer != REFERENCE)
            .min_by(|a, b| a.cpu_us.total_cmp(&b.cpu_us))
    }
}

/// Runs every case of `scenario` `rounds` times, peers taking turns, and keeps the spreads.
fn measure(scenario: &peers::Scenario, rounds: usize) -> Row {
    let cases = &scenario.cases;
    for case in cases {
        (case.run)(); // warm-up: first-touch allocations, runtime threads, caches
    }
    let mut rates = vec![Vec::with_capacity(rounds); cases.len()];
    let mut cpus = vec![Vec::with_capacity(rounds); cases.len()];
    for round in 0..rounds {
        // Start each round at a different peer, so no peer always runs right after another.
        for k in 0..cases.len() {
            let i = (k + round) % cases.len();
            let cpu_before = load::cpu_time();
            let elapsed: Duration = (cases[i].run)();
            let cpu = load::cpu_time().saturating_sub(cpu_before);
            rates[i].push(scenario.elements as f64 / elapsed.as_secs_f64());
            cpus[i].push(cpu.as_secs_f64() * 1e6 / scenario.elements as f64);
        }
    }
    let cells = cases
        .iter()
        .zip(rates.iter_mut().zip(&mut cpus))
        .map(|(case, (rates, cpus))| {
            let (min, median, max) = spread(rates);
            Cell {
                peer: case.peer,
                zero_capacity: case.zero_capacity,
                min,
                median,
                max,
                cpu_us: spread(cpus).1,
            }
        })
        .collect();
    Row {
        id: scenario.id,
        msg: scenario.msg,
        cells,
    }
}

/// The columns of `rows`: zero-capacity peers first, then the buffered references, each in
/// first-seen order.
fn columns(rows: &[Row]) -> Vec<(&'static str, bool)> {
    let mut columns: Vec<(&str, bool)> = Vec::new();
    for cell in rows.iter().flat_map(|r| &r.cells) {
        if !columns.iter().any(|(p, _)| *p == cell.peer) {
            columns.push((cell.peer, cell.zero_capacity));
        }
    }
    columns.sort_by_key(|&(_, zero)| !zero);
    columns
}

/// An extra column of a table: its title, and its value for a row.
type Column<'a> = (&'a str, &'a dyn Fn(&Row) -> String);

/// Prints one table: a row per scenario, a column per peer holding `cell(..)`, then `extra`
/// columns (title, value) computed from the row.
fn print_table(rows: &[Row], cell: impl Fn(&Cell) -> String, extra: &[Column<'_>]) {
    let columns = columns(rows);
    let id_width = rows.iter().map(|r| r.id.len()).max().unwrap_or(8).max(8);
    let msg_width = rows.iter().map(|r| r.msg.len()).max().unwrap_or(3).max(3);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|(peer, _)| row.of(peer).map_or_else(|| "-".to_string(), &cell))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (peer, _))| {
            cells
                .iter()
                .map(|r| r[i].len())
                .chain([peer.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    if MARKDOWN.load(Ordering::Relaxed) {
        let titles = columns
            .iter()
            .map(|(peer, _)| *peer)
            .chain(extra.iter().map(|(t, _)| *t));
        println!(
            "| scenario | msg | {} |",
            titles.collect::<Vec<_>>().join(" | ")
        );
        println!("|---|---|{}", "---:|".repeat(columns.len() + extra.len()));
        for (row, cells) in rows.iter().zip(&cells) {
            let extras = extra.iter().map(|(_, value)| value(row));
            let all: Vec<String> = cells.iter().cloned().chain(extras).collect();
            println!("| `{}` | {} | {} |", row.id, row.msg, all.join(" | "));
        }
        return;
    }
    let mut line = format!("{:<id_width$}  {:<msg_width$}", "scenario", "msg");
    for ((peer, _), w) in columns.iter().zip(&widths) {
        line += &format!("  {peer:>w$}");
    }
    for (title, _) in extra {
        line += &format!("  {title:>20}");
    }
    println!("{line}");
    println!("{}", "-".repeat(line.len()));
    for (row, cells) in rows.iter().zip(&cells) {
        let mut line = format!("{:<id_width$}  {:<msg_width$}", row.id, row.msg);
        for (cell, w) in cells.iter().zip(&widths) {
            line += &format!("  {cell:>w$}");
        }
        for (_, value) in extra {
            line += &format!("  {:>20}", value(row));
        }
        println!("{line}");
    }
}

/// The tables of `rows`: the select rows (other peers, other columns) apart from the rest.
fn print_tables(rows: Vec<Row>, rounds: usize) {
    let (select, plain): (Vec<Row>, Vec<Row>) =
        rows.into_iter().partition(|r| r.id.starts_with("select_"));
    for (group, title) in [(plain, ""), (select, "Select rows. ")] {
        if !group.is_empty() {
            print_group(&group, rounds, title);
        }
    }
}

/// The rate table (median, slowest and fastest round) and the CPU table of `rows`.
fn print_group(rows: &[Row], rounds: usize, title: &str) {
    println!(
        "{title}Messages (round trips) per second: median of {rounds} rounds (slowest-fastest):"
    );
    println!();
    let vs_best = |row: &Row| match (row.of("rendez"), row.best_peer()) {
        (Some(ours), Some(best)) => format!("{:.2} ({})", ours.median / best.median, best.peer),
        _ => "-".to_string(),
    };
    let worst_over_median = |row: &Row| match row.of("rendez") {
        Some(ours) => format!("{:.2}", ours.min / ours.median),
        None => "-".to_string(),
    };
    let vs_reference = |row: &Row| match (row.of("rendez"), row.of(REFERENCE)) {
        (Some(ours), Some(reference)) => format!("{:.2}", ours.median / reference.median),
        _ => "-".to_string(),
    };
    let with_reference = rows.iter().any(|r| r.of(REFERENCE).is_some());
    let mut extra: Vec<Column<'_>> = vec![
        ("rendez/best-peer", &vs_best),
        ("rendez worst/median", &worst_over_median),
    ];
    if with_reference {
        extra.push(("rendez/strict-ref", &vs_reference));
    }
    print_table(
        rows,
        |c| format!("{} ({}-{})", rate(c.median), rate(c.min), rate(c.max)),
        &extra,
    );
    println!();
    println!("{title}CPU time per message (round trip), µs, user + system of every thread, median round:");
    println!();
    let cpu_vs_thriftiest = |row: &Row| match (row.of("rendez"), row.thriftiest_peer()) {
        (Some(ours), Some(best)) => format!("{:.2} ({})", ours.cpu_us / best.cpu_us, best.peer),
        _ => "-".to_string(),
    };
    print_table(
        rows,
        |c| format!("{:.2}", c.cpu_us),
        &[("rendez/least-peer", &cpu_vs_thriftiest)],
    );
}

/// Measures every row `config` wants, under whatever load is running, and prints the tables;
/// with `quiet` (no load started) also the cache-line round trip between two CPUs before each
/// row ([`load::line_round_trip`]), which says in which rows the machine itself was slow.
fn run(config: &Config, title: &str, quiet: bool) {
    // Built after the load started: a pinned load must reach the runtimes' worker threads.
    let scenarios: Vec<_> = peers::scenarios(config.sizes)
        .into_iter()
        .filter(|s| config.wants(s))
        .collect();
    println!(
        "{title}: {} rows, {} rounds each; {} messages per run ({} round trips in ping-pong rows){}",
        scenarios.len(),
        config.rounds,
        config.sizes.stream,
        config.sizes.round_trips,
        if cfg!(debug_assertions) {
            "; DEBUG BUILD: use --release for real figures"
        } else {
            ""
        },
    );
    let start = std::time::Instant::now();
    let mut trips = Vec::new();
    let rows: Vec<Row> = scenarios
        .iter()
        .map(|s| {
            if let Some(trip) = quiet.then(load::line_round_trip).flatten() {
                trips.push((s.id, s.msg, trip));
            }
            let row = measure(s, config.rounds);
            eprint!(".");
            row
        })
        .collect();
    eprintln!(" {:.1} s", start.elapsed().as_secs_f64());
    println!();
    print_tables(rows, config.rounds);
    println!();
    print_line_round_trips(&trips);
}

/// Above this, a cache line's round trip between the two CPUs is a slow phase of the machine
/// (the README's machine: 80-95 ns, or 400 ns).
const SLOW_LINE: Duration = Duration::from_nanos(200);

/// What [`load::line_round_trip`] measured before each row: the spread, and the rows measured
/// while it was slow.
fn print_line_round_trips(trips: &[(&str, &str, Duration)]) {
    if trips.is_empty() {
        return;
    }
    let mut ns: Vec<f64> = trips.iter().map(|t| t.2.as_secs_f64() * 1e9).collect();
    let (fastest, median, slowest) = spread(&mut ns);
    let slow: Vec<String> = trips
        .iter()
        .filter(|t| t.2 > SLOW_LINE)
        .map(|t| format!("`{}` ({})", t.0, t.1))
        .collect();
    println!(
        "A cache line's round trip between CPUs 0 and 1, measured before each row: median {:.0} ns \
         ({:.0}-{:.0} ns); over {} ns before {}.",
        median,
        fastest,
        slowest,
        SLOW_LINE.as_nanos(),
        if slow.is_empty() {
            "no row".to_string()
        } else {
            slow.join(", ")
        }
    );
    println!();
}

/// `--once ROW MSG PEER N`: runs that one case once with `N` messages (or round trips) and prints
/// the run's wall nanoseconds and CPU seconds (user + system, every thread), measured around the
/// run itself, without the start-up: for `.ci/ab`, and for instruction counts (`.ci/instructions`
/// runs it under callgrind with two `N` and takes the difference, so start-up costs cancel).
fn run_once(args: &[String]) {
    let [row, msg, peer, n] = args else {
        eprintln!("usage: compare --once ROW MSG PEER N (e.g. async_spsc_ct usize rendez 10000)");
        std::process::exit(2)
    };
    let n: usize = n.parse().expect("N: a number of messages");
    let sizes = peers::Sizes {
        stream: n,
        round_trips: n,
    };
    let scenario = peers::scenarios(sizes)
        .into_iter()
        .find(|s| s.id == row && s.msg == msg)
        .unwrap_or_else(|| panic!("no row {row} with messages {msg}"));
    let case = scenario
        .cases
        .iter()
        .find(|c| c.peer == peer)
        .unwrap_or_else(|| panic!("{peer} takes no part in {row}"));
    let cpu = load::cpu_time();
    let wall = (case.run)();
    let cpu = load::cpu_time().saturating_sub(cpu);
    println!("{} {}", wall.as_nanos(), cpu.as_secs_f64());
}

/// `--hold-load L`: starts load `L` (busy or bursty), prints `ready` once it runs, and holds it
/// until its standard input is closed, for `.ci/ab`, whose runs are other processes. Closing
/// stdin, not a signal, ends it, so the burners go with it even if its caller is killed.
fn hold_load(args: &[String]) {
    let load = match args {
        [name] => Load::parse(name).filter(|l| matches!(l, Load::Busy | Load::Bursty)),
        _ => None,
    };
    let Some(load) = load else {
        eprintln!("usage: compare --hold-load busy|bursty (until stdin is closed)");
        std::process::exit(2)
    };
    let _burner = load.start();
    println!("ready");
    // Returns at end of input (or on an error reading it): either way, time to stop.
    let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
}

/// `--polls [N]`: polls per send and per receive in the async rows (`benches/peers/polls.rs`).
fn run_polls(args: &[String]) {
    let n = match args {
        [] => 100_000,
        [n] => n.parse().expect("N: a number of messages"),
        _ => {
            eprintln!("usage: compare --polls [N] (messages per run, default 100000)");
            std::process::exit(2)
        }
    };
    println!(
        "Polls per operation, {n} usize messages (round trips) per run, after a warm-up run\n"
    );
    println!("| scenario | peer | polls per send | sends done in one poll | polls per receive | receives done in one poll | msg/s (counted run) |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for row in polls::measure(n) {
        println!(
            "| `{}` | {} | {:.2} | {:.0}% | {:.2} | {:.0}% | {} |",
            row.scenario,
            row.peer,
            row.send.0,
            row.send.1 * 100.0,
            row.recv.0,
            row.recv.1 * 100.0,
            rate(row.rate),
        );
    }
}

fn main() {
    load::burn_if_asked();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "--once") {
        return run_once(&args[1..]);
    }
    if args.first().is_some_and(|a| a == "--polls") {
        return run_polls(&args[1..]);
    }
    if args.first().is_some_and(|a| a == "--hold-load") {
        return hold_load(&args[1..]);
    }
    let config = Config::from_env();
    println!("{} CPUs; peers take turns round by round\n", load::cpus());
    if config.loads.is_empty() {
        run(&config, "every row, no load started", true);
    } else {
        for &l in &config.loads {
            let _burner = l.start();
            run(&config, &format!("load {}", l.name()), l == Load::Quiet);
        }
    }
    println!(
        "
Rows: async_* = tokio tasks, _mt on a multi-thread runtime (2 workers), _ct on a current-thread
one; blocking_* = threads; mpmc4x4 = 4 senders and 4 receivers on one channel (std and tokio mpsc
have one receiver, so they sit those rows out), mpsc4x1 = 4 senders, one receiver;
multiconsumer_fN = Go's TestMultiConsumer shape, a producer thread, N threads forwarding from one
channel to another, the main thread draining it; mixed = a thread sends with the blocking call, a
task on a current-thread runtime receives with the async one; pingpong = a request and its echo
over two channels, counted in round trips per second (latency = 1 / rate); select_blocking_recv2
= a thread selects over two receivers fed by two sender threads, select_blocking_send2 = a thread
sends each message with a select over two senders drained by two receiver threads (rendez
select_blocking! against crossbeam's select!), select_async_recv2 = a task selects over two
receivers fed by two tasks (rendez::select!, tokio::select! over two rendez recv() futures, and
tokio::select! over two tokio mpsc(1) receivers). '-' = the peer cannot take part. With few
cores the 4x4 rows run more threads than cores, and blocking figures swing with the machine's
load: rerun, or use the criterion benchmarks, before trusting a small gap.

Semantics differ, and with them the work a send must wait for:
- rendez: an async send completes only after a receive has taken the message (strict rule).
- strict-ref: the least work a strict rendezvous can do (one slot, an atomic state, two
  AtomicWakers; SPSC only; benches/peers/strict.rs): a lower bound for rendez, not a peer.
- flume, kanal: an async send completes once the message is handed to a waiting receiver, which
  may still be cancelled before it returns the message.
- async-channel[1], tokio-mpsc[1]: buffered, one slot: a send completes once the message is queued.
  They are references, not zero-capacity peers: the ratio columns leave them out.
- crossbeam, std (sync_channel(0)): blocking only; a blocked thread cannot be cancelled.
- Select send arms: rendez evaluates every arm's message as the select starts and drops those not
  sent; crossbeam evaluates only the selected arm's."
    );
}
