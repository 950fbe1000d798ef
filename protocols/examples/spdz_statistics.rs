//! Three organisations on TCP loopback compute joint statistics of their private salary columns
//! (in thousands) with maliciously secure SPDZ and MASCOT preprocessing: the total, the mean and
//! the variance. Each learns those three figures and nothing else about the others' rows.
//!
//! `cargo run --release -p tessera-protocols --example spdz_statistics`

use std::time::Instant;

use tessera_mpc::harness::{Transport, run_parties};
use tessera_mpc::{Channel, ChannelConfig, Field, Fp127, PartyId, Prg, Seed};
use tessera_protocols::fixed::{self, FixedPoint};
use tessera_protocols::spdz::{Mascot, MascotConfig, Session, Shared};

const ROWS: usize = 300;
/// Extra fractional bits of the public 1/N, so dividing by N loses nothing visible (relative
/// error < 10^-6) while Σx²·(1/N) keeps below the default format's 2^60 (about 2^58 here).
const EXTRA: u32 = 14;

/// Each party's private column (synthetic, reproducible), in thousands.
fn private_column(party: usize) -> Vec<f64> {
    let mut prg = Prg::from_seed(&Seed([party as u8 + 1; 16]));
    (0..ROWS).map(|_| 30.0 + (prg.next_u64() % 60_000) as f64 / 1000.0 + party as f64).collect()
}

fn program(ch: &mut dyn Channel) -> tessera_protocols::Result<Vec<f64>> {
    let me = ch.party();
    let n = ch.num_parties();
    let fx = FixedPoint::default();
    let prep = Mascot::<Fp127>::setup(ch, MascotConfig { batch: 1024, ..MascotConfig::default() })?;
    let mut s = Session::new(ch, prep);
    let mine = fx.encode_all::<Fp127>(&private_column(me.index()))?;
    let mut columns: Vec<Shared<Fp127>> = Vec::new();
    for owner in PartyId::all(n) {
        columns.push(s.input(owner, (owner == me).then_some(&mine[..]), ROWS)?);
    }
    let all = Shared::concat(&columns.iter().collect::<Vec<_>>());
    // 1/N with f + EXTRA fractional bits: mean = Σx / N and E[x²] = Σx² / N are each one
    // multiplication by this public constant and one truncation; variance = E[x²] − mean².
    let inv_count =
        Fp127::from_u128(((1u128 << (fx.f() + EXTRA)) as f64 / all.len() as f64).round() as u128);
    let total = all.sum();
    let mean = fixed::trunc_pr(&mut s, fx, &total.scale(inv_count), fx.f() + EXTRA)?;
    let sum_sq = fixed::dot(&mut s, fx, &all, &all)?;
    let mean_sq = fixed::trunc_pr(&mut s, fx, &sum_sq.scale(inv_count), fx.f() + EXTRA)?;
    let mean2 = fixed::mul(&mut s, fx, &mean, &mean)?;
    let variance = mean_sq.sub(&mean2)?;
    let out = s.output(&Shared::concat(&[&total, &mean, &variance]))?;
    Ok(fx.decode_all(&out))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "3 parties, {ROWS} private values each: SPDZ with MASCOT preprocessing over TCP loopback"
    );
    let start = Instant::now();
    let runs = run_parties(3, Transport::TcpLoopback, ChannelConfig::default(), program)?;
    let plain: Vec<f64> = (0..3).flat_map(private_column).collect();
    let count = plain.len() as f64;
    let mean = plain.iter().sum::<f64>() / count;
    let variance = plain.iter().map(|v| v * v).sum::<f64>() / count - mean * mean;
    for run in &runs {
        let got = run.output.as_ref().map_err(|e| e.to_string())?;
        println!(
            "{}: total {:.3}, mean {:.4}, variance {:.4}; sent {:.2} MB in {} rounds, {:.2?}",
            run.party,
            got[0],
            got[1],
            got[2],
            run.stats.bytes_sent as f64 / 1e6,
            run.stats.rounds,
            run.elapsed
        );
        if (got[1] - mean).abs() > 1e-3 || (got[2] - variance).abs() > 1e-2 {
            return Err(format!("{} disagrees with the plaintext result", run.party).into());
        }
    }
    println!(
        "plaintext check: mean {mean:.4}, variance {variance:.4}: all parties agree ({:.2?} in all)",
        start.elapsed()
    );
    Ok(())
}
