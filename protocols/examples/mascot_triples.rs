//! Generates MASCOT triples between two parties in one process and prints the rate and traffic.
//!
//! `cargo run --release -p tessera-protocols --example mascot_triples -- [count] [kos|ss2|ss4|ss8]`

use std::time::Instant;

use tessera_mpc::harness::{Transport, run_parties};
use tessera_mpc::{Channel, ChannelConfig, Fp127};
use tessera_protocols::spdz::{Mascot, MascotConfig, OtExtension, Preprocessing};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(16_384);
    let ot = match args.next().as_deref() {
        None | Some("ss4") => OtExtension::SoftSpoken(4),
        Some("ss2") => OtExtension::SoftSpoken(2),
        Some("ss8") => OtExtension::SoftSpoken(8),
        Some("kos") => OtExtension::Kos,
        Some(other) => return Err(format!("unknown OT extension {other}").into()),
    };
    let batch = 2048;
    let runs =
        run_parties(2, Transport::Memory, ChannelConfig::default(), |ch: &mut dyn Channel| {
            let mut prep = Mascot::<Fp127>::setup(ch, MascotConfig { ot, batch })?;
            let before = ch.stats();
            let start = Instant::now();
            let mut left = count;
            while left > 0 {
                let m = left.min(batch);
                prep.triples(ch, m)?;
                left -= m;
            }
            Ok::<_, tessera_protocols::Error>((start.elapsed(), ch.stats() - before))
        })?;
    for run in runs {
        let (elapsed, stats) = run.output?;
        println!(
            "{}: {count} triples ({ot:?}) in {elapsed:.2?}: {:.0} triples/s, {:.1} kbit sent per triple, {} rounds",
            run.party,
            count as f64 / elapsed.as_secs_f64(),
            stats.bytes_sent as f64 * 8.0 / 1000.0 / count as f64,
            stats.rounds
        );
    }
    Ok(())
}
