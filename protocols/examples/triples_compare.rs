//! MASCOT against VoleSpdz in one process run: the same number of triples, the same batch size,
//! parties as threads over TCP loopback; per protocol the rate, the kbit each party sends per
//! triple (setup apart) and the process's peak memory, then one `RATIO` line.
//!
//! `cargo run --release -p tessera-protocols --example triples_compare -- [count] [parties] [backend]`
//!
//! `backend` is VoleSpdz's: `silent-small` (default: Ferret + Wolverine VOLE on small rounds), `silent` (their
//! large rounds) or
//! `stand-in` (SoftSpokenOT COTs + COPEe). Peak memory is the process's resident high-water mark
//! (`VmHWM`), reset before each protocol through `/proc/self/clear_refs` (Linux); it covers all
//! parties, since they are threads of this process.

use std::time::{Duration, Instant};

use tessera_mpc::harness::{Transport, run_parties};
use tessera_mpc::{Channel, ChannelConfig, ChannelStats, Fp127};
use tessera_protocols::spdz::{
    Mascot, MascotConfig, Preprocessing, VoleBackend, VoleSpdz, VoleSpdzConfig,
};

type F = Fp127;
const BATCH: usize = 2048;

/// Per party: setup time and bytes, triple time and bytes.
type Run = tessera_protocols::Result<(Duration, ChannelStats, Duration, ChannelStats)>;

struct Figures {
    rate: f64,
    kbit: f64,
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn make_triples<P: Preprocessing<F>>(
    ch: &mut dyn Channel,
    count: usize,
    setup: impl FnOnce(&mut dyn Channel) -> tessera_protocols::Result<P>,
) -> Run {
    let before = ch.stats();
    let start = Instant::now();
    let mut prep = setup(ch)?;
    let setup_time = start.elapsed();
    let after_setup = ch.stats();
    let start = Instant::now();
    let mut left = count;
    while left > 0 {
        let m = left.min(BATCH);
        let t = prep.triples(ch, m)?;
        assert_eq!(t.len(), m);
        left -= m;
    }
    Ok((setup_time, after_setup - before, start.elapsed(), ch.stats() - after_setup))
}

fn report(name: &str, count: usize, runs: Vec<Run>) -> Result<Figures, String> {
    let mut slowest = Duration::ZERO;
    let mut kbit_sum = 0.0;
    let parties = runs.len();
    for (i, r) in runs.into_iter().enumerate() {
        let (setup, setup_stats, elapsed, stats) =
            r.map_err(|e| format!("{name}: party {i}: {e}"))?;
        let kbit = stats.bytes_sent as f64 * 8.0 / 1000.0 / count as f64;
        println!(
            "{name}: party {i}: setup {setup:.2?} sending {:.1} kbit; triples {elapsed:.2?}, {kbit:.2} kbit sent per triple, {} rounds",
            setup_stats.bytes_sent as f64 * 8.0 / 1000.0,
            stats.rounds
        );
        slowest = slowest.max(elapsed);
        kbit_sum += kbit;
    }
    let rate = count as f64 / slowest.as_secs_f64();
    let kbit = kbit_sum / parties as f64;
    let peak = peak_mib().map_or("unknown".to_string(), |m| format!("{m:.0} MiB"));
    println!(
        "{name}: {count} triples, {parties} parties: {rate:.0} triples/s, {kbit:.2} kbit sent per triple per party, peak memory {peak}"
    );
    Ok(Figures { rate, kbit })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(65_536);
    let n: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2);
    let backend = match args.next().as_deref() {
        Some("silent") => VoleBackend::Silent,
        None | Some("silent-small") => VoleBackend::SilentSmall,
        Some("stand-in") => VoleBackend::StandIn,
        Some(other) => return Err(format!("unknown backend {other}").into()),
    };
    let transport = Transport::TcpLoopback;
    println!(
        "{count} triples, {n} parties over {transport}, batch {BATCH}, VoleSpdz on {backend:?}"
    );

    reset_peak();
    let mascot: Vec<Run> = run_parties(n, transport, ChannelConfig::default(), |ch| {
        make_triples(ch, count, |ch| {
            Mascot::<F>::setup(ch, MascotConfig { batch: BATCH, ..MascotConfig::default() })
        })
    })?
    .into_iter()
    .map(|r| r.output)
    .collect();
    let m = report("mascot", count, mascot)?;

    reset_peak();
    let vole: Vec<Run> = run_parties(n, transport, ChannelConfig::default(), |ch| {
        make_triples(ch, count, |ch| {
            VoleSpdz::<F>::setup(ch, VoleSpdzConfig { batch: BATCH, backend })
        })
    })?
    .into_iter()
    .map(|r| r.output)
    .collect();
    let v = report("vole-spdz", count, vole)?;

    println!("RATIO vole/mascot bits={:.3} rate={:.2}", v.kbit / m.kbit, v.rate / m.rate);
    Ok(())
}
