//! SPDZ benchmarks: MASCOT triples/s and bits per triple, online multiplications/s, and
//! fixed-point comparisons/s, for two parties in one process over memory and TCP loopback.
//!
//! `cargo bench -p tessera-protocols --bench spdz`
//!
//! Each figure is measured inside the parties' threads, after setup (base OTs, OT-extension
//! setup) and a warm-up batch, and printed as a table line besides criterion's own report.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use tessera_mpc::harness::{Transport, run_parties};
use tessera_mpc::{Channel, ChannelConfig, Fp127, PartyId, Ring, Seed};
use tessera_protocols::fixed::{self, FixedPoint};
use tessera_protocols::spdz::insecure_dealer::InsecureDealer;
use tessera_protocols::spdz::{Mascot, MascotConfig, OtExtension, Preprocessing, Session};

type F = Fp127;

/// Times `count` MASCOT triples after setup; returns (seconds, bytes sent by party 0).
fn mascot_triples(transport: Transport, ot: OtExtension, batch: usize, count: usize) -> (f64, u64) {
    let runs = run_parties(2, transport, ChannelConfig::default(), |ch: &mut dyn Channel| {
        let mut prep = Mascot::<F>::setup(ch, MascotConfig { ot, batch }).unwrap();
        prep.triples(ch, batch).unwrap(); // warm-up
        let before = ch.stats();
        let start = Instant::now();
        let mut left = count;
        while left > 0 {
            let m = left.min(batch);
            prep.triples(ch, m).unwrap();
            left -= m;
        }
        (start.elapsed(), (ch.stats() - before).bytes_sent)
    })
    .unwrap();
    let secs = runs.iter().map(|r| r.output.0).max().unwrap_or_default().as_secs_f64();
    (secs, runs[0].output.1)
}

/// Times `count` online multiplications (triples drawn beforehand), MAC check included.
fn online_mults(transport: Transport, count: usize) -> f64 {
    let runs = run_parties(2, transport, ChannelConfig::default(), |ch: &mut dyn Channel| {
        let me = ch.party();
        let n = ch.num_parties();
        let mut dealer = InsecureDealer::<F>::new(&Seed([1; 16]), me, n);
        let t = dealer.triples(ch, count).unwrap();
        let mut s = Session::new(ch, dealer);
        let v = F::random_vec(&mut tessera_mpc::Prg::from_seed(&Seed([2; 16])), count);
        let x = s.input(PartyId(0), (me == PartyId(0)).then_some(&v[..]), count).unwrap();
        let y = s.input(PartyId(1), (me == PartyId(1)).then_some(&v[..]), count).unwrap();
        s.check().unwrap();
        let start = Instant::now();
        let z = s.mul_with_triples(&x, &y, t).unwrap();
        s.check().unwrap();
        let elapsed = start.elapsed();
        std::hint::black_box(z);
        elapsed
    })
    .unwrap();
    runs.iter().map(|r| r.output).max().unwrap_or_default().as_secs_f64()
}

/// Times `count` fixed-point comparisons (a < b) with the given preprocessing.
fn comparisons<P: Preprocessing<F>>(
    transport: Transport,
    count: usize,
    make: impl Fn(&mut dyn Channel) -> P + Sync,
) -> f64 {
    let runs = run_parties(2, transport, ChannelConfig::default(), |ch: &mut dyn Channel| {
        let me = ch.party();
        let prep = make(ch);
        let mut s = Session::new(ch, prep);
        let fx = FixedPoint::default();
        let vals: Vec<F> = (0..count).map(|i| fx.encode(i as f64 - 50.5).unwrap()).collect();
        let a = s.input(PartyId(0), (me == PartyId(0)).then_some(&vals[..]), count).unwrap();
        let b = s.input(PartyId(1), (me == PartyId(1)).then_some(&vals[..]), count).unwrap();
        let start = Instant::now();
        let lt = fixed::less_than(&mut s, fx, &a, &b).unwrap();
        s.check().unwrap();
        let elapsed = start.elapsed();
        std::hint::black_box(lt);
        elapsed
    })
    .unwrap();
    runs.iter().map(|r| r.output).max().unwrap_or_default().as_secs_f64()
}

fn report(c: &mut Criterion) {
    println!("\n== SPDZ / MASCOT, 2 parties, 127-bit prime field ==");
    println!("{:<34} {:>14} {:>22}", "measurement", "rate", "traffic");
    for transport in [Transport::Memory, Transport::TcpLoopback] {
        for ot in [OtExtension::SoftSpoken(8), OtExtension::SoftSpoken(4), OtExtension::Kos] {
            let count = 8192;
            let (secs, bytes) = mascot_triples(transport, ot, 2048, count);
            println!(
                "{:<34} {:>10.0} /s {:>14.1} kbit/triple",
                format!("triples {ot:?} {transport}"),
                count as f64 / secs,
                bytes as f64 * 8.0 / 1000.0 / count as f64
            );
        }
        let n = 1 << 20;
        let secs = online_mults(transport, n);
        println!("{:<34} {:>10.0} /s", format!("online mults {transport}"), n as f64 / secs);
        let n = 4096;
        let secs = comparisons(transport, n, |ch| {
            InsecureDealer::<F>::new(&Seed([3; 16]), ch.party(), ch.num_parties())
        });
        println!(
            "{:<34} {:>10.0} /s",
            format!("fixed-point a<b online {transport}"),
            n as f64 / secs
        );
        let n = 256;
        let secs = comparisons(transport, n, |ch| {
            Mascot::<F>::setup(ch, MascotConfig { batch: 4096, ..MascotConfig::default() }).unwrap()
        });
        println!(
            "{:<34} {:>10.1} /s",
            format!("fixed-point a<b with MASCOT {transport}"),
            n as f64 / secs
        );
    }
    // A criterion-tracked figure, so regressions show up in criterion's history.
    let mut g = c.benchmark_group("spdz");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.bench_function("mascot 2048 triples (memory, SoftSpoken k=8)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (secs, _) =
                    mascot_triples(Transport::Memory, OtExtension::SoftSpoken(8), 2048, 2048);
                total += Duration::from_secs_f64(secs);
            }
            total
        })
    });
    g.finish();
}

criterion_group!(spdz, report);
criterion_main!(spdz);
