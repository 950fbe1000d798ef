//! VOLE over Fp127 (module `tessera_ot::vole`, Wolverine parameters): throughput and bits per
//! VOLE, two parties over in-memory channels and over TCP loopback.
//!
//! Run: `CARGO_TARGET_DIR=... cargo bench -p tessera-ot --bench vole` (optionally
//! `-- <millions of VOLEs> [memory]`, default 30; `memory` skips TCP). Phases, each timed on both parties (the larger wall
//! time is taken) with both parties' bytes on the wire (framing included):
//! - `setup`: base OTs, SoftSpokenOT setup and the 1 821 COPEe base VOLEs with their check;
//! - `bootstrap`: the first `random` call, which runs levels 0 and 1 and the first level-2
//!   extension;
//! - `steady`: `random` calls of 2^20 VOLEs up to the requested total, extensions included;
//! - `chosen`: 2^20 chosen-input VOLEs (one field element per value on top of random VOLE).
//!
//! Each phase prints `RESULT vole <phase> <transport> <count> <seconds> <voles_per_s>
//! <bits_per_vole> cpu <cpu_seconds> <voles_per_cpu_s>`, where the CPU time is the busier
//! party's thread time (each party runs on one thread, so this is the one-core rate).

use std::time::{Duration, Instant};

use tessera_mpc::harness::{Transport, run_parties};
use tessera_mpc::{Channel, ChannelConfig, Fp127, PartyId, Prg, Ring, SessionId};
use tessera_ot::Result;
use tessera_ot::vole::{Receiver, Sender};

const CALL: usize = 1 << 20;

/// This thread's CPU time (Linux `schedstat`; zero elsewhere): on a shared machine wall time
/// mostly measures the other tenants, CPU time measures the protocol.
fn cpu_time() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

/// One phase of one party: wall time, CPU time, bytes sent.
type Phase = (Duration, Duration, u64);

/// One party's phases.
fn party(ch: &mut dyn Channel, total: usize) -> Result<Vec<Phase>> {
    let mut prg = Prg::from_entropy();
    let sid = SessionId::agree(ch, b"tessera/ot/vole/bench")?;
    let mut phases = Vec::new();
    let mut mark = (Instant::now(), ch.stats().bytes_sent, cpu_time());
    let peer = PartyId(1 - ch.party().0);
    // Each phase ends with a barrier (an empty message each way, not counted), so local-only
    // phases do not hide the slower party's work in the next phase.
    let mut lap = |ch: &mut dyn Channel, phases: &mut Vec<Phase>| {
        let before = ch.stats().bytes_sent;
        ch.exchange(peer, &[]).expect("barrier");
        let barrier = ch.stats().bytes_sent - before;
        mark.1 += barrier;
        let now = (Instant::now(), ch.stats().bytes_sent, cpu_time());
        phases.push((now.0 - mark.0, now.2 - mark.2, now.1 - mark.1));
        mark = now;
    };
    if ch.party() == PartyId(0) {
        let mut s = Sender::<Fp127>::setup(ch, PartyId(1), &sid, &mut prg)?;
        lap(ch, &mut phases);
        drop(s.random(ch, CALL)?);
        lap(ch, &mut phases);
        for _ in 0..total.div_ceil(CALL) {
            drop(s.random(ch, CALL)?);
        }
        lap(ch, &mut phases);
        let x = Fp127::random_vec(&mut prg, CALL);
        drop(s.chosen(ch, &x)?);
        lap(ch, &mut phases);
    } else {
        let delta = Fp127::random(&mut prg);
        let mut r = Receiver::setup(ch, PartyId(0), delta, &sid, &mut prg)?;
        lap(ch, &mut phases);
        drop(r.random(ch, CALL)?);
        lap(ch, &mut phases);
        for _ in 0..total.div_ceil(CALL) {
            drop(r.random(ch, CALL)?);
        }
        lap(ch, &mut phases);
        drop(r.chosen(ch, CALL)?);
        lap(ch, &mut phases);
    }
    Ok(phases)
}

fn main() {
    let millions: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(30);
    let total = millions * 1_000_000;
    let steady = total.div_ceil(CALL) * CALL;
    let memory_only = std::env::args().any(|a| a == "memory");
    let transports: &[Transport] = if memory_only {
        &[Transport::Memory]
    } else {
        &[Transport::Memory, Transport::TcpLoopback]
    };
    for &transport in transports {
        let runs = run_parties(2, transport, ChannelConfig::default(), |ch: &mut dyn Channel| {
            party(ch, total)
        })
        .expect("network setup");
        let outs: Vec<_> = runs.into_iter().map(|r| r.output.expect("VOLE run")).collect();
        let names = [("setup", 1821), ("bootstrap", CALL), ("steady", steady), ("chosen", CALL)];
        for (i, (name, count)) in names.into_iter().enumerate() {
            let secs = outs.iter().map(|o| o[i].0).max().unwrap_or_default().as_secs_f64();
            let cpu = outs.iter().map(|o| o[i].1).max().unwrap_or_default().as_secs_f64();
            let bytes: u64 = outs.iter().map(|o| o[i].2).sum();
            println!(
                "RESULT vole {name} {transport} {count} {secs:.3} {:.0} {:.3} cpu {cpu:.3} {:.0}",
                count as f64 / secs,
                8.0 * bytes as f64 / count as f64,
                count as f64 / cpu
            );
        }
    }
}
