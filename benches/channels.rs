//! Criterion benchmarks: `rendez` against flume, kanal, crossbeam-channel, std's `sync_channel`,
//! and the buffered references async-channel `bounded(1)` and tokio mpsc `channel(1)`; the
//! `select_*` groups set `rendez::select!` / `select_blocking!` against crossbeam-channel's
//! `select!` and `tokio::select!` (over rendez receives, and over tokio mpsc(1) receivers).
//!
//! ```sh
//! cargo bench --bench channels                                  # everything (about 10 minutes)
//! cargo bench --bench channels -- blocking_spsc                 # one group (a regex)
//! cargo bench --bench channels -- select_                       # the select groups
//! cargo bench --bench channels -- --warm-up-time 1 --measurement-time 2
//! BENCH_LOAD=busy cargo bench --bench channels -- 'blocking|pingpong_blocking|mixed'
//! ```
//!
//! `BENCH_LOAD` (`quiet`, `busy`, `bursty`, `pinned`; see `peers/load.rs`) starts that competing
//! load before the first group and stops it after the last; the groups get the load's name as a
//! suffix (`blocking_spsc@busy`), so criterion keeps their history apart.
//!
//! One criterion group per scenario (see `peers::scenarios`); inside a group each peer is one
//! function and the message type (`usize`, `[u8; 256]`) is the parameter, so the group's report
//! compares the peers measured in the same run. Throughput is in messages (round trips for the
//! ping-pong groups) per second. The HTML reports are in `target/criterion/report/index.html`.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};

mod peers;

/// Runs every scenario; scenarios with the same id (one per message type) share a group.
fn channels(c: &mut Criterion, load: Option<peers::load::Load>) {
    let scenarios = peers::scenarios(peers::Sizes::BENCH);
    let mut ids: Vec<&str> = Vec::new();
    for scenario in &scenarios {
        if !ids.contains(&scenario.id) {
            ids.push(scenario.id);
        }
    }
    for id in ids {
        let mut group = match load {
            Some(load) => c.benchmark_group(format!("{id}@{}", load.name())),
            None => c.benchmark_group(id),
        };
        // Each iteration moves thousands of messages (milliseconds): flat sampling suits that.
        group.sampling_mode(SamplingMode::Flat);
        for scenario in scenarios.iter().filter(|s| s.id == id) {
            group.throughput(Throughput::Elements(scenario.elements as u64));
            for case in &scenario.cases {
                let bench_id = BenchmarkId::new(case.peer, scenario.msg);
                group.bench_function(bench_id, |b| {
                    b.iter_custom(|iters| (0..iters).map(|_| (case.run)()).sum())
                });
            }
        }
        group.finish();
    }
}

fn main() {
    peers::load::burn_if_asked();
    let load = std::env::var("BENCH_LOAD").ok().map(|name| {
        peers::load::Load::parse(&name)
            .unwrap_or_else(|| panic!("BENCH_LOAD={name}: expected quiet, busy, bursty or pinned"))
    });
    // Started before the runtimes, so that a pinned load reaches their worker threads.
    let _burner = load.map(peers::load::Load::start);
    // Few, long samples: a run takes milliseconds. Command-line flags override these.
    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    channels(&mut criterion, load);
    criterion.final_summary();
}
