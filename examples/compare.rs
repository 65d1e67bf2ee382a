//! `rendez` against its peers in one table: messages per second for each scenario and peer.
//!
//! ```sh
//! cargo run --release --example compare                      # under a minute
//! COMPARE_QUICK=1 cargo run --release --example compare      # a few seconds, rougher
//! cargo run --release --example compare -- blocking pingpong # only rows whose name has a word
//! ```
//!
//! The scenarios and peers are those of the criterion benchmarks (`benches/channels.rs`, which
//! has the plots and confidence intervals); both use `benches/peers/mod.rs`. Here each peer is run
//! a few rounds, the peers of a row taking turns round by round so that a burst of noise on this
//! machine hits them all alike, and each cell is the median round.
//!
//! A debug build runs the quick sizes: its figures say nothing about speed.

use std::time::Duration;

#[path = "../benches/peers/mod.rs"]
mod peers;

/// What one invocation runs.
struct Config {
    /// Traffic per run.
    sizes: peers::Sizes,
    /// Timed runs per peer and row (after one untimed warm-up run).
    rounds: usize,
    /// Run only the rows whose scenario id contains one of these (all rows if empty).
    filters: Vec<String>,
}

impl Config {
    /// Reads `COMPARE_QUICK` / `--quick` and the row filters from the environment.
    fn from_env() -> Config {
        let mut quick =
            std::env::var_os("COMPARE_QUICK").is_some_and(|v| v != "0") || cfg!(debug_assertions);
        let mut filters = Vec::new();
        for arg in std::env::args().skip(1) {
            if arg == "--quick" {
                quick = true;
            } else {
                filters.push(arg);
            }
        }
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
        }
    }
}

/// The median of `values` (which it sorts).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A rate as a short cell: `3.41M`, `812k`.
fn rate(per_sec: f64) -> String {
    if per_sec >= 1e6 {
        format!("{:.2}M", per_sec / 1e6)
    } else {
        format!("{:.0}k", per_sec / 1e3)
    }
}

/// One measured row: the median rate of each peer that took part.
struct Row {
    /// The scenario id.
    id: &'static str,
    /// The message type.
    msg: &'static str,
    /// `(peer, zero-capacity?, messages per second)`.
    rates: Vec<(&'static str, bool, f64)>,
}

/// Runs every case of `scenario` `rounds` times, peers taking turns, and keeps the medians.
fn measure(scenario: &peers::Scenario, rounds: usize) -> Row {
    let cases = &scenario.cases;
    for case in cases {
        (case.run)(); // warm-up: first-touch allocations, runtime threads, caches
    }
    let mut samples = vec![Vec::with_capacity(rounds); cases.len()];
    for round in 0..rounds {
        // Start each round at a different peer, so no peer always runs right after another.
        for k in 0..cases.len() {
            let i = (k + round) % cases.len();
            let elapsed: Duration = (cases[i].run)();
            samples[i].push(scenario.elements as f64 / elapsed.as_secs_f64());
        }
    }
    let rates = cases
        .iter()
        .zip(&mut samples)
        .map(|(case, samples)| (case.peer, case.zero_capacity, median(samples)))
        .collect();
    Row {
        id: scenario.id,
        msg: scenario.msg,
        rates,
    }
}

/// Prints the table: one row per scenario, one column per peer, then the two ratios.
fn print_table(rows: &[Row]) {
    // Columns: zero-capacity peers first, then the buffered references, each in first-seen order.
    let mut columns: Vec<(&str, bool)> = Vec::new();
    for (peer, zero, _) in rows.iter().flat_map(|r| &r.rates) {
        if !columns.iter().any(|(p, _)| p == peer) {
            columns.push((peer, *zero));
        }
    }
    columns.sort_by_key(|&(_, zero)| !zero);

    let id_width = rows.iter().map(|r| r.id.len()).max().unwrap_or(8).max(8);
    let msg_width = rows.iter().map(|r| r.msg.len()).max().unwrap_or(3).max(3);
    let width = |name: &str| name.len().max(7);
    let mut line = format!("{:<id_width$}  {:<msg_width$}", "scenario", "msg");
    for (peer, _) in &columns {
        line += &format!("  {:>w$}", peer, w = width(peer));
    }
    line += "  rendez/best-zero-cap  rendez/flume";
    println!("{line}");
    println!("{}", "-".repeat(line.len()));

    for row in rows {
        let mut line = format!("{:<id_width$}  {:<msg_width$}", row.id, row.msg);
        let of = |peer: &str| row.rates.iter().find(|r| r.0 == peer).map(|r| r.2);
        for (peer, _) in &columns {
            let cell = of(peer).map_or_else(|| "-".to_string(), rate);
            line += &format!("  {:>w$}", cell, w = width(peer));
        }
        let best_zero = row
            .rates
            .iter()
            .filter(|r| r.1 && r.0 != "rendez")
            .max_by(|a, b| a.2.total_cmp(&b.2));
        let vs_best = match (of("rendez"), best_zero) {
            (Some(ours), Some(best)) => format!("{:.2} ({})", ours / best.2, best.0),
            _ => "-".to_string(),
        };
        let vs_flume = match (of("rendez"), of("flume")) {
            (Some(ours), Some(flume)) => format!("{:.2}", ours / flume),
            _ => "-".to_string(),
        };
        line += &format!("  {vs_best:>20}  {vs_flume:>12}");
        println!("{line}");
    }
}

fn main() {
    let config = Config::from_env();
    let scenarios: Vec<_> = peers::scenarios(config.sizes)
        .into_iter()
        .filter(|s| config.filters.is_empty() || config.filters.iter().any(|f| s.id.contains(f)))
        .collect();
    println!(
        "{} rows, {} rounds each; {} messages per run ({} round trips in ping-pong rows){}",
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
    let rows: Vec<Row> = scenarios
        .iter()
        .map(|s| {
            let row = measure(s, config.rounds);
            eprint!(".");
            row
        })
        .collect();
    eprintln!(" {:.1} s", start.elapsed().as_secs_f64());
    println!();
    println!("Messages per second, median of {} rounds:", config.rounds);
    println!();
    print_table(&rows);
    println!(
        "
Rows: async_* = tokio tasks, _mt on a multi-thread runtime (2 workers), _ct on a current-thread
one; blocking_* = threads; mpmc4x4 = 4 senders and 4 receivers on one channel (std and tokio mpsc
have one receiver, so they sit those rows out); mixed = a thread sends with the blocking call, a
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
- flume, kanal: an async send completes once the message is handed to a waiting receiver, which
  may still be cancelled before it returns the message.
- async-channel[1], tokio-mpsc[1]: buffered, one slot: a send completes once the message is queued.
  They are references, not zero-capacity peers: the ratio columns leave them out.
- crossbeam, std (sync_channel(0)): blocking only; a blocked thread cannot be cancelled.
- Select send arms: rendez evaluates every arm's message as the select starts and drops those not
  sent; crossbeam evaluates only the selected arm's."
    );
}
