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
//!
//! Ferret rows (not criterion: one round makes 10.2 M COTs, so a per-call sample would be
//! meaningless) run one setup and then `2^OT_BENCH_LOG2`-COT calls until `FERRET_BENCH_COTS`
//! (default 2^25) COTs were served, everything after setup counted (bootstrap round included):
//! `ferret-cot` (raw COTs `t_i = q_i ⊕ b_i·Δ`), `ferret-rot` (the same hashed into random OT
//! with `tccr`, comparable with cryprot-ot's silent random OT), and `ferret-setup` (base OTs
//! and SoftSpokenOT base COTs; count 1, bits = total). `-- ferret` runs only these.

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tessera_mpc::harness::{Transport, run_parties};
use tessera_mpc::{Channel, ChannelConfig, PartyId, Prg, SessionId};
use tessera_ot::{Result, base, ferret, hash, kos, softspoken};

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

/// One party's Ferret run: (setup time, setup bytes, serving time, serving bytes, COTs).
fn ferret_party(
    ch: &mut dyn Channel,
    per_call: usize,
    total: usize,
    hashed: bool,
) -> Result<(Duration, u64, Duration, u64, usize)> {
    let mut prg = Prg::from_entropy();
    let sid = SessionId::agree(ch, b"tessera/ot/bench/ferret")?;
    let sender = ch.party() == PartyId(0);
    let peer = if sender { PartyId(1) } else { PartyId(0) };
    let (b0, s0) = (ch.stats().bytes_sent, Instant::now());
    enum Side {
        S(Box<ferret::Sender>),
        R(Box<ferret::Receiver>),
    }
    let mut side = if sender {
        Side::S(Box::new(ferret::Sender::setup(ch, peer, &sid, &mut prg)?))
    } else {
        Side::R(Box::new(ferret::Receiver::setup(ch, peer, &sid, &mut prg)?))
    };
    let (setup_t, setup_b) = (s0.elapsed(), ch.stats().bytes_sent - b0);
    let (b1, s1) = (ch.stats().bytes_sent, Instant::now());
    let (mut done, mut tweak) = (0usize, 0u128);
    let mut h0 = vec![0u128; per_call];
    let mut h1 = vec![0u128; per_call];
    while done < total {
        match &mut side {
            Side::S(s) => {
                let q = s.random_cot(ch, per_call)?;
                if hashed {
                    hash::tccr_batch(tweak, 0, &q, &mut h0);
                    hash::tccr_batch(tweak, s.delta(), &q, &mut h1);
                }
            }
            Side::R(r) => {
                let (_, t) = r.random_cot(ch, per_call)?;
                if hashed {
                    hash::tccr_batch(tweak, 0, &t, &mut h0);
                }
            }
        }
        tweak += per_call as u128;
        done += per_call;
    }
    Ok((setup_t, setup_b, s1.elapsed(), ch.stats().bytes_sent - b1, done))
}

fn ferret_rows(transport: Transport, per_call: usize) {
    let total: usize =
        std::env::var("FERRET_BENCH_COTS").ok().and_then(|s| s.parse().ok()).unwrap_or(1 << 25);
    for hashed in [false, true] {
        let runs = run_parties(2, transport, ChannelConfig::default(), |ch: &mut dyn Channel| {
            ferret_party(ch, per_call, total, hashed)
        })
        .expect("network setup");
        let (mut st, mut sb, mut t, mut b, mut n) = (Duration::ZERO, 0, Duration::ZERO, 0, 0);
        for r in runs {
            let (a, c, d, e, f) = r.output.expect("Ferret run");
            (st, sb, t, b, n) = (st.max(a), sb + c, t.max(d), b + e, f);
        }
        let calls = (n / per_call) as f64;
        let secs = t.as_secs_f64() / calls;
        let bits = 8.0 * b as f64 / n as f64;
        let name = if hashed { "ferret-rot" } else { "ferret-cot" };
        println!(
            "RESULT ours {name} {transport} {per_call} {secs:.6} {:.0} {bits:.3}",
            n as f64 / t.as_secs_f64()
        );
        if !hashed {
            let s = st.as_secs_f64();
            println!("RESULT ours ferret-setup {transport} 1 {s:.6} {:.2} {}", 1.0 / s, 8 * sb);
        }
    }
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
            if calls == 0 {
                continue; // filtered out
            }
            let secs = total.as_secs_f64() / calls as f64;
            let bits = 8.0 * bytes as f64 / (calls as f64 * count as f64);
            println!(
                "RESULT ours {} {transport} {count} {secs:.6} {:.0} {bits:.2}",
                v.name(),
                count as f64 / secs
            );
        }
        g.finish();
        let only_others =
            std::env::args().skip(1).any(|a| !a.starts_with('-') && !a.contains("ferret"));
        if !only_others {
            ferret_rows(transport, n);
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
