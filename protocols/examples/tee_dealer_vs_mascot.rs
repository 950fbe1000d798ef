//! TEE-dealer preprocessing against MASCOT, in one run: the same number of triples for two
//! computing parties over in-memory channels, rate and bytes per triple for each.
//!
//! `cargo run --release -p tessera-protocols --example tee_dealer_vs_mascot -- [count]`
//!
//! The two methods have different trust models: MASCOT trusts nobody; the TEE dealer trusts the
//! enclave with every secret (see `tessera_protocols::spdz::tee_dealer`). Setup is timed apart.

use std::time::{Duration, Instant};

use tessera_mpc::harness::run_in_memory;
use tessera_mpc::{Channel, ChannelStats, Fp127};
use tessera_protocols::spdz::{
    ComputingChannel, Mascot, MascotConfig, Preprocessing, TeeDealer, TeeDealerPrep,
};

type F = Fp127;

/// Per party: setup time, triple time, bytes sent while making triples.
type Run = tessera_protocols::Result<(Duration, Duration, ChannelStats)>;

fn report(
    name: &str,
    count: usize,
    runs: Vec<Run>,
    dealer: Option<usize>,
) -> Result<(f64, f64), String> {
    let mut slowest = Duration::ZERO;
    let mut total_bytes = 0u64;
    for (i, r) in runs.into_iter().enumerate() {
        let (setup, elapsed, stats) = r.map_err(|e| format!("{name}: party {i}: {e}"))?;
        let who = if Some(i) == dealer { "dealer".to_string() } else { format!("party {i}") };
        println!(
            "{name}: {who}: setup {setup:.2?}, triples {elapsed:.2?}, bytes per triple sent {:.4} received {:.4}, {} rounds",
            stats.bytes_sent as f64 / count as f64,
            stats.bytes_received as f64 / count as f64,
            stats.rounds
        );
        if Some(i) != dealer {
            slowest = slowest.max(elapsed);
        }
        total_bytes += stats.bytes_sent;
    }
    let rate = count as f64 / slowest.as_secs_f64();
    let per_triple = total_bytes as f64 / count as f64;
    println!(
        "{name}: {count} triples: {rate:.0} triples/s, {per_triple:.2} bytes per triple (all parties' sends)"
    );
    Ok((rate, per_triple))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: usize = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(16_384);
    let config = MascotConfig::default();

    let mascot: Vec<Run> = run_in_memory(2, |ch: &mut dyn Channel| {
        let start = Instant::now();
        let mut prep = Mascot::<F>::setup(ch, config)?;
        let setup = start.elapsed();
        let before = ch.stats();
        let start = Instant::now();
        let t = prep.triples(ch, count)?;
        assert_eq!(t.len(), count);
        Ok((setup, start.elapsed(), ch.stats() - before))
    })
    .into_iter()
    .map(|r| r.output)
    .collect();
    let (m_rate, m_bytes) = report("mascot", count, mascot, None)?;

    let tee: Vec<Run> = run_in_memory(3, |ch: &mut dyn Channel| {
        let start = Instant::now();
        if ch.party().index() == 2 {
            let mut dealer = TeeDealer::<F>::setup(ch)?;
            let setup = start.elapsed();
            let before = ch.stats();
            let start = Instant::now();
            dealer.serve(ch)?;
            return Ok((setup, start.elapsed(), ch.stats() - before));
        }
        let mut prep = TeeDealerPrep::<F>::setup(ch)?;
        let setup = start.elapsed();
        let mut view = ComputingChannel::new(ch);
        let before = view.stats();
        let start = Instant::now();
        let t = prep.triples(&mut view, count)?;
        let elapsed = start.elapsed();
        assert_eq!(t.len(), count);
        let stats = view.stats() - before;
        prep.finish(&mut view)?;
        Ok((setup, elapsed, stats))
    })
    .into_iter()
    .map(|r| r.output)
    .collect();
    let (t_rate, t_bytes) = report("tee-dealer", count, tee, Some(2))?;

    println!(
        "RATIO tee-dealer/mascot triples_per_s={:.1} bytes_per_triple={:.6}",
        t_rate / m_rate,
        t_bytes / m_bytes
    );
    Ok(())
}
