//! End-to-end figures of the node transport and the joint-statistics program: three parties in
//! one process, each with its own QUIC endpoint and DID-bound mutual TLS on loopback, optionally
//! shaped to 100 Mbit/s and 10 ms one-way latency.
//!
//! `cargo bench -p tessera-node --bench node` runs the demo job (3 × 200 values, squares with
//! triples, 5-bin histogram) on loopback and shaped. `TESSERA_BENCH_SUM=1000000` adds one timed run
//! of a 3-party sum over that many values (squares and histogram off), loopback and shaped.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use tessera_ledger::{Did, PublicKey, SignatureSuite};
use tessera_mpc::channel::{LinkShape, ShapedChannel};
use tessera_mpc::{Channel, ChannelStats};
use tessera_node::stats::{self, Squares, StatsParams};
use tessera_node::tls::PeerInfo;
use tessera_node::transport::{MeshConfig, QuicChannel};
use tessera_protocols::spdz::MascotConfig;

struct Run {
    wall: Duration,
    stats: Vec<ChannelStats>,
}

fn run_job(values: &[Vec<u64>], params: &StatsParams, shape: Option<LinkShape>) -> Run {
    let n = values.len();
    let keys: Vec<rcgen::KeyPair> =
        (0..n).map(|_| rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap()).collect();
    let parties: Vec<PeerInfo> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| PeerInfo {
            did: Did::tessera(&format!("bench-{i}")).unwrap(),
            addr: tessera_node::home::free_loopback_addr().unwrap(),
            tls_key: k.public_key_raw().try_into().unwrap(),
        })
        .collect();
    let _ = PublicKey::from_parts(SignatureSuite::Ed25519, &parties[0].tls_key);
    let start = Instant::now();
    let stats = std::thread::scope(|s| {
        let hs: Vec<_> = (0..n)
            .map(|i| {
                let pkcs8 = keys[i].serialize_der();
                let cfg = MeshConfig::new("bench", i, parties.clone());
                let mine = &values[i];
                s.spawn(move || {
                    let ch = QuicChannel::connect(&pkcs8, &cfg).unwrap();
                    let mascot = MascotConfig { batch: 1024, ..MascotConfig::default() };
                    let mut ch: Box<dyn Channel> = match shape {
                        Some(sh) => Box::new(ShapedChannel::new(ch, sh)),
                        None => Box::new(ch),
                    };
                    let to = tessera_node::programs::Recipients::all(n);
                    stats::run(ch.as_mut(), mine, params, &to, mascot, &mut |_| {}).unwrap();
                    ch.stats()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>()
    });
    Run { wall: start.elapsed(), stats }
}

fn report(name: &str, r: &Run) {
    let sent: u64 = r.stats.iter().map(|s| s.bytes_sent).sum();
    let rounds = r.stats.iter().map(|s| s.rounds).max().unwrap_or(0);
    println!(
        "{name}: {:.3} s, {:.2} MB sent in total ({:.2} MB by party 0), {rounds} rounds",
        r.wall.as_secs_f64(),
        sent as f64 / 1e6,
        r.stats[0].bytes_sent as f64 / 1e6
    );
}

fn bench(c: &mut Criterion) {
    let demo: Vec<Vec<u64>> = (0..3).map(|i| tessera_node::demo::sample_ages(i + 1, 200)).collect();
    let params =
        StatsParams { histogram_edges: vec![18, 30, 45, 60, 75, 100], squares: Squares::Triples };
    report("demo job, loopback", &run_job(&demo, &params, None));
    report("demo job, 100 Mbit/s 10 ms", &run_job(&demo, &params, Some(LinkShape::new(100.0, 10))));
    let mut g = c.benchmark_group("node");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("demo_job_loopback", |b| b.iter(|| run_job(&demo, &params, None)));
    g.finish();

    if let Some(total) =
        std::env::var("TESSERA_BENCH_SUM").ok().and_then(|v| v.parse::<usize>().ok())
    {
        let per = total.div_ceil(3);
        let values: Vec<Vec<u64>> =
            (0..3).map(|i| tessera_node::demo::sample_ages(i + 10, per)).collect();
        let p = StatsParams { histogram_edges: vec![], squares: Squares::None };
        report(&format!("sum of {} values, loopback", per * 3), &run_job(&values, &p, None));
        report(
            &format!("sum of {} values, 100 Mbit/s 10 ms", per * 3),
            &run_job(&values, &p, Some(LinkShape::new(100.0, 10))),
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
