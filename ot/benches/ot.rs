//! OT throughput and communication: base OT, KOS15 and SoftSpokenOT (k = 2, 4, 8), two parties
//! over in-memory channels and over TCP loopback.
//!
//! Run: `CARGO_TARGET_DIR=... cargo bench -p tessera-ot --bench ot` (add `-- kos` to filter).
//! `OT_BENCH_LOG2` sets the OTs per call (default 20, i.e. 2^20). Extension timings exclude the
//! one-time setup (base OTs, GGM trees); each party's wall time is measured and the larger taken.
//! After each benchmark a line
//! `RESULT ours <variant> <transport> <count> <seconds> <ots_per_s> <bits_per_ot>` is printed
//! (mean over all iterations; bits are both parties' bytes on the wire, framing included, per OT),
//! which `benches/ot_compare.sh` turns into the comparison table.

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tessera_mpc::harness::{Transport, run_parties};
use tessera_mpc::{Channel, ChannelConfig, PartyId, Prg, SessionId};
use tessera_ot::{Result, base, kos, softspoken};

#[derive(Clone, Copy, Debug)]
enum Variant {
    Base,
    Kos { correlated: bool },
    SoftSpoken { k: usize, correlated: bool },
}

impl Variant {
    fn name(self) -> String {
        let mode = |c: bool| if c { "correlated" } else { "random" };
        match self {
            Variant::Base => "base-128".into(),
            Variant::Kos { correlated } => format!("kos-{}", mode(correlated)),
            Variant::SoftSpoken { k, correlated } => format!("softspoken{k}-{}", mode(correlated)),
        }
    }
}

/// One party's side of `iters` calls of `n` OTs after setup: its wall time and bytes sent.
fn party(ch: &mut dyn Channel, v: Variant, n: usize, iters: u64) -> Result<(Duration, u64)> {
    let mut prg = Prg::from_entropy();
    let sender = ch.party() == PartyId(0);
    let peer = if sender { PartyId(1) } else { PartyId(0) };
    let choices: Vec<bool> = (0..n).map(|_| prg.next_bool()).collect();
    let sid = SessionId::agree(ch, b"tessera/ot/bench")?;
    if let Variant::Base = v {
        let before = ch.stats().bytes_sent;
        let start = Instant::now();
        for i in 0..iters {
            // One derived id per batch: the caller keeps base-OT sessions distinct.
            let batch = sid.derive(&i.to_le_bytes(), &[]);
            if sender {
                base::send(ch, peer, 128, &batch, &mut prg)?;
            } else {
                base::receive(ch, peer, &choices[..128], &batch, &mut prg)?;
            }
        }
        return Ok((start.elapsed(), ch.stats().bytes_sent - before));
    }
    enum Side {
        KosS(Box<kos::Sender>),
        KosR(Box<kos::Receiver>),
        SsS(Box<softspoken::Sender>),
        SsR(Box<softspoken::Receiver>),
    }
    let mut side = match (v, sender) {
        (Variant::Kos { .. }, true) => {
            Side::KosS(Box::new(kos::Sender::setup(ch, peer, &sid, &mut prg)?))
        }
        (Variant::Kos { .. }, false) => {
            Side::KosR(Box::new(kos::Receiver::setup(ch, peer, &sid, &mut prg)?))
        }
        (Variant::SoftSpoken { k, .. }, true) => {
            Side::SsS(Box::new(softspoken::Sender::setup(ch, peer, k, &sid, &mut prg)?))
        }
        (Variant::SoftSpoken { k, .. }, false) => {
            Side::SsR(Box::new(softspoken::Receiver::setup(ch, peer, k, &sid, &mut prg)?))
        }
        (Variant::Base, _) => unreachable!(),
    };
    let correlated = matches!(
        v,
        Variant::Kos { correlated: true } | Variant::SoftSpoken { correlated: true, .. }
    );
    // Both parties leave setup at nearly the same moment; the clocks start here.
    let before = ch.stats().bytes_sent;
    let start = Instant::now();
    for _ in 0..iters {
        match (&mut side, correlated) {
            (Side::KosS(s), true) => drop(s.correlated(ch, n)?),
            (Side::KosS(s), false) => drop(s.random(ch, n)?),
            (Side::KosR(r), true) => drop(r.correlated(ch, &choices)?),
            (Side::KosR(r), false) => drop(r.random(ch, n)?),
            (Side::SsS(s), true) => drop(s.correlated(ch, n)?),
            (Side::SsS(s), false) => drop(s.random(ch, n)?),
            (Side::SsR(r), true) => drop(r.correlated(ch, &choices)?),
            (Side::SsR(r), false) => drop(r.random(ch, n)?),
        }
    }
    Ok((start.elapsed(), ch.stats().bytes_sent - before))
}

/// Runs both parties; returns the larger wall time and the bytes both sent.
fn run(v: Variant, transport: Transport, n: usize, iters: u64) -> (Duration, u64) {
    let runs = run_parties(2, transport, ChannelConfig::default(), |ch: &mut dyn Channel| {
        party(ch, v, n, iters)
    })
    .expect("network setup");
    let mut time = Duration::ZERO;
    let mut bytes = 0;
    for r in runs {
        let (t, b) = r.output.expect("OT run");
        time = time.max(t);
        bytes += b;
    }
    (time, bytes)
}

fn bench(c: &mut Criterion) {
    let log2: u32 = std::env::var("OT_BENCH_LOG2").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    let n = 1usize << log2;
    let mut variants = vec![Variant::Base];
    for correlated in [false, true] {
        variants.push(Variant::Kos { correlated });
        for k in [2, 4, 8] {
            variants.push(Variant::SoftSpoken { k, correlated });
        }
    }
    for transport in [Transport::Memory, Transport::TcpLoopback] {
        let mut g = c.benchmark_group(format!("ot/{transport}"));
        g.sample_size(10).warm_up_time(Duration::from_millis(300));
        g.measurement_time(Duration::from_secs(2));
        for &v in &variants {
            let count = if let Variant::Base = v { 128 } else { n };
            g.throughput(Throughput::Elements(count as u64));
            let (mut total, mut bytes, mut calls) = (Duration::ZERO, 0u64, 0u64);
            g.bench_function(v.name(), |b| {
                b.iter_custom(|iters| {
                    let (t, by) = run(v, transport, count, iters);
                    total += t;
                    bytes += by;
                    calls += iters;
                    t
                })
            });
            let secs = total.as_secs_f64() / calls as f64;
            let bits = 8.0 * bytes as f64 / (calls as f64 * count as f64);
            println!(
                "RESULT ours {} {transport} {count} {secs:.6} {:.0} {bits:.2}",
                v.name(),
                count as f64 / secs
            );
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
