//! Per-operation and per-value costs of packed BFV and of the Paillier baseline, plus the ratio
//! of a packed ciphertext add to a plaintext vector add on the same values.
//!
//! `cargo bench -p tessera-fhe --bench he`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use num_bigint_dig::BigUint;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use tessera_accelerator::Accelerator;
use tessera_fhe::{Bfv, BfvParamId, BfvParameters, paillier_keygen};

fn bfv(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let acc = Arc::new(Accelerator::probe());
    for id in [BfvParamId::N4096T65537, BfvParamId::N8192T40] {
        let he =
            Bfv::new(BfvParameters::from_id(id).expect("params"), Arc::clone(&acc)).expect("bfv");
        let (n, t) = (he.params().n, he.params().plaintext_modulus);
        let (pk, sk) = he.keygen(&mut rng).expect("keygen");
        let m: Vec<u64> = (0..n).map(|_| rng.next_u64() % t).collect();
        let ca = he.encrypt(&pk, &m, &mut rng).expect("enc");
        let cb = he.encrypt(&pk, &m, &mut rng).expect("enc");
        let cs = he.encrypt_symmetric(&sk, &m, &mut rng).expect("enc");
        let full = he.ciphertext_to_bytes(&ca).expect("bytes").len();
        let seeded = he.ciphertext_to_bytes(&cs).expect("bytes").len();
        println!(
            "bfv {id:?}: N={n} log q={} t={t}: ciphertext {full} B ({:.2} B/value), seeded symmetric {seeded} B ({:.2} B/value)",
            he.params().log_q(),
            full as f64 / n as f64,
            seeded as f64 / n as f64
        );
        let low = he.mod_switch_down(&ca).expect("switch");
        let low_bytes = he.ciphertext_to_bytes(&low).expect("bytes").len();
        println!(
            "bfv {id:?}: after one modulus switch {low_bytes} B ({:.2} B/value)",
            low_bytes as f64 / n as f64
        );
        let mut g = c.benchmark_group(format!("bfv_{id:?}"));
        // Throughput in packed values: criterion prints the per-value rate.
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function("encrypt_pk", |b| {
            b.iter(|| he.encrypt(&pk, black_box(&m), &mut rng).expect("enc"))
        });
        g.bench_function("encrypt_sk_seeded", |b| {
            b.iter(|| he.encrypt_symmetric(&sk, black_box(&m), &mut rng).expect("enc"))
        });
        g.bench_function("decrypt", |b| b.iter(|| he.decrypt(&sk, black_box(&ca)).expect("dec")));
        g.bench_function("add", |b| {
            b.iter(|| he.add(black_box(&ca), black_box(&cb)).expect("add"))
        });
        g.bench_function("mul_scalar", |b| {
            b.iter(|| he.mul_scalar(black_box(&ca), 12_345).expect("mul"))
        });
        g.bench_function("mul_plain", |b| {
            b.iter(|| he.mul_plain(black_box(&ca), &m).expect("mul"))
        });
        let rlk = he.relin_keygen(&sk, &mut rng).expect("rlk");
        let gk = he.galois_keygen(&sk, he.rotation_element(1), &mut rng).expect("galois");
        g.bench_function("mul_relin", |b| b.iter(|| he.mul(&ca, &cb, &rlk).expect("mul")));
        g.bench_function("rotate_rows", |b| b.iter(|| he.apply_galois(&ca, &gk).expect("rot")));
        g.bench_function("mod_switch_down", |b| b.iter(|| he.mod_switch_down(&ca).expect("ms")));
        // The plaintext baseline for the add ratio: the same values added mod t.
        let m2: Vec<u64> = (0..n).map(|_| rng.next_u64() % t).collect();
        let mut out = vec![0u64; n];
        g.bench_function("plaintext_vector_add_mod_t", |b| {
            b.iter(|| {
                for ((o, &x), &y) in out.iter_mut().zip(black_box(&m)).zip(black_box(&m2)) {
                    let s = x + y;
                    *o = if s >= t { s - t } else { s };
                }
                black_box(&out);
            })
        });
        g.finish();
    }
}

fn paillier(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let (pk, sk) = paillier_keygen(2048, &mut rng).expect("keygen");
    let m = BigUint::from(123_456_789u64);
    let ca = pk.encrypt(&m, &mut rng).expect("enc");
    let cb = pk.encrypt(&m, &mut rng).expect("enc");
    println!("paillier 2048: ciphertext {} B per value", pk.ciphertext_len());
    let mut g = c.benchmark_group("paillier_2048");
    g.throughput(Throughput::Elements(1));
    g.bench_function("encrypt", |b| b.iter(|| pk.encrypt(black_box(&m), &mut rng).expect("enc")));
    g.bench_function("encrypt_key_holder", |b| {
        b.iter(|| sk.encrypt(black_box(&m), &mut rng).expect("enc"))
    });
    g.bench_function("decrypt", |b| b.iter(|| sk.decrypt(black_box(&ca))));
    g.bench_function("add", |b| b.iter(|| pk.add(black_box(&ca), black_box(&cb))));
    let k = BigUint::from(65_535u32);
    g.bench_function("mul_scalar_16bit", |b| b.iter(|| pk.mul_scalar(black_box(&ca), &k)));
    g.bench_function("rerandomise", |b| b.iter(|| pk.rerandomise(black_box(&ca), &mut rng)));
    g.finish();
    // Σ k_i·c_i with signed 20-bit scalars, as the federated protocols' aggregates: per term.
    let mut g = c.benchmark_group("paillier_2048_linear_combination");
    for terms in [50usize, 1000] {
        let cts: Vec<_> = (0..terms).map(|_| pk.encrypt(&m, &mut rng).expect("enc")).collect();
        let pairs: Vec<(i64, &_)> = cts
            .iter()
            .enumerate()
            .map(|(i, c)| (((i as i64 * 7919) % (1 << 21)) - (1 << 20), c))
            .collect();
        g.throughput(Throughput::Elements(terms as u64));
        g.bench_function(format!("{terms}_terms_20bit"), |b| {
            b.iter(|| pk.linear_combination(black_box(&pairs)).expect("combination"))
        });
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bfv, paillier
}
criterion_main!(benches);
