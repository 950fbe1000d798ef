//! End-to-end figures of the node transport and the joint-statistics program: three parties in
//! one process, each with its own QUIC endpoint and DID-bound mutual TLS on loopback, optionally
//! shaped to 100 Mbit/s and 10 ms one-way latency.
//!
//! `cargo bench -p tessera-node --bench node` runs the demo job (3 × 200 values, squares with
//! triples, 5-bin histogram) on loopback and shaped. `TESSERA_BENCH_SUM=1000000` adds one timed run
//! of a 3-party sum over that many values (squares and histogram off), loopback and shaped.
//! `TESSERA_BENCH_PROGRAMS=1` adds one loopback run each of `psi-aggregate` (3 × 10,000 ids) and
//! `secure-lr` (FATE breast, 3 × 100 training rows, 5 epochs, held-out accuracy vs plaintext).

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use tessera_ledger::Did;
use tessera_mpc::channel::{LinkShape, ShapedChannel};
use tessera_mpc::{Channel, ChannelStats};
use tessera_node::programs::prep::PrepOptions;
use tessera_node::stats::{self, Squares, StatsParams};
use tessera_node::tls::PeerInfo;
use tessera_node::transport::{MeshConfig, QuicChannel};

struct Run {
    wall: Duration,
    stats: Vec<ChannelStats>,
}

fn run_job(values: &[Vec<u64>], params: &StatsParams, shape: Option<LinkShape>) -> Run {
    let n = values.len();
    let mascot = PrepOptions { batch: 1024 };
    let to = tessera_node::programs::Recipients::all(n);
    let (run, _) = run_mesh(n, shape, |ch| {
        let mine = &values[ch.party().index()];
        stats::run(ch, mine, params, &to, mascot, &mut |_| {}).unwrap();
    });
    run
}

/// Runs `f` as each of `n` parties over a QUIC mesh on loopback, shaped to `shape` if given;
/// returns the run and outputs.
fn run_mesh<T: Send>(
    n: usize,
    shape: Option<LinkShape>,
    f: impl Fn(&mut dyn Channel) -> T + Sync,
) -> (Run, Vec<T>) {
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
    let start = Instant::now();
    let (stats, outs): (Vec<ChannelStats>, Vec<T>) = std::thread::scope(|s| {
        let hs: Vec<_> = (0..n)
            .map(|i| {
                let pkcs8 = keys[i].serialize_der();
                let cfg = MeshConfig::new("bench", i, parties.clone());
                let f = &f;
                s.spawn(move || {
                    let ch = QuicChannel::connect(&pkcs8, &cfg).unwrap();
                    let mut ch: Box<dyn Channel> = match shape {
                        Some(sh) => Box::new(ShapedChannel::new(ch, sh)),
                        None => Box::new(ch),
                    };
                    let out = f(ch.as_mut());
                    (ch.stats(), out)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).unzip()
    });
    (Run { wall: start.elapsed(), stats }, outs)
}

fn bench_programs() {
    use tessera_node::programs::Recipients;
    use tessera_node::programs::psi_aggregate::{self, PsiAggregateParams};
    use tessera_node::programs::secure_lr::{self, Rows, SecureLrParams};
    let mascot = PrepOptions { batch: 1024 };

    // psi-aggregate: ids 0..10,000 shifted by 2,500 per party: 5,000 common.
    let tables: Vec<(Vec<String>, Vec<u64>)> = (0..3u64)
        .map(|p| {
            ((p * 2500..p * 2500 + 10_000).map(|i| format!("c{i}")).collect(), vec![p + 1; 10_000])
        })
        .collect();
    let params = PsiAggregateParams::default();
    let (r, outs) = run_mesh(3, None, |ch| {
        let (ids, v) = &tables[ch.party().index()];
        psi_aggregate::run(ch, ids, v, &params, &Recipients::all(3), mascot, &mut |_| {}).unwrap()
    });
    report("psi-aggregate, 3 × 10,000 ids, 5,000 common, sum, loopback", &r);
    println!("  result: {:?}", outs[0]);

    // secure-lr on FATE's breast data (guest part: y and 10 features).
    let Some(dir) = tessera_federated::data::datasets_dir() else { return };
    let bytes = std::fs::read(dir.join("fate/breast_hetero_guest.csv")).unwrap();
    let all = secure_lr::read_input(&bytes, &SecureLrParams::default()).unwrap();
    let parts: Vec<Rows> = (0..3).map(|p| all.rows(p * 100..(p + 1) * 100)).collect();
    let (train, test) = (all.rows(0..300), all.rows(300..all.len()));
    let params = SecureLrParams::default();
    let (r, outs) = run_mesh(3, None, |ch| {
        let mine = &parts[ch.party().index()];
        secure_lr::run(ch, mine, &params, &Recipients::all(3), mascot, &mut |_| {}).unwrap()
    });
    report("secure-lr, breast 3 × 100 rows, 10 features, 5 epochs, linear sigmoid, loopback", &r);
    let model = outs[0].clone().unwrap();
    let (w, b) = secure_lr::train_plain(&train, &params);
    println!(
        "  held-out accuracy ({} rows): secure {:.4}, same training in plaintext {:.4}",
        test.y.len(),
        model.accuracy(&test.x, &test.y),
        secure_lr::plain_accuracy(&w, b, &test.x, &test.y)
    );
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
    let params = StatsParams {
        histogram_edges: vec![18, 30, 45, 60, 75, 100],
        squares: Squares::Triples,
        ..Default::default()
    };
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
        let p =
            StatsParams { histogram_edges: vec![], squares: Squares::None, ..Default::default() };
        report(&format!("sum of {} values, loopback", per * 3), &run_job(&values, &p, None));
        report(
            &format!("sum of {} values, 100 Mbit/s 10 ms", per * 3),
            &run_job(&values, &p, Some(LinkShape::new(100.0, 10))),
        );
    }
    if std::env::var_os("TESSERA_BENCH_PROGRAMS").is_some() {
        bench_programs();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
