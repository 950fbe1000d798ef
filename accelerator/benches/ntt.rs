//! Kernel benchmarks: N = 2^16 NTT on one core (ours vs `tfhe-ntt`), batched NTTs on all cores,
//! pointwise elements/s on one and all cores, modular matvec/matmul, and the same on a CUDA
//! device when one is present.
//!
//! `cargo bench -p tessera-accelerator --bench ntt`

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tessera_accelerator::{Backend, CpuBackend, CpuNtt, MatShape, NttTable, ntt_primes};

const N: usize = 1 << 16;
const BATCH: usize = 64;

fn random_rows(rows: usize, row_len: usize, q: u64, seed: u64) -> Vec<u64> {
    let mut s = seed;
    (0..rows * row_len)
        .map(|_| {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            1 + (s >> 1) % (q - 1)
        })
        .collect()
}

fn single_pool() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("one-thread pool")
}

fn ntt_single_core(c: &mut Criterion) {
    let mut g = c.benchmark_group("ntt_single_core");
    for bits in [62u32, 50] {
        let p = ntt_primes(bits, N, 1).expect("prime")[0];
        let ours = NttTable::cached(p, N).expect("table");
        let plan = tfhe_ntt::prime64::Plan::try_new(N, p).expect("plan");
        let mut buf = random_rows(1, N, p, 1);
        g.throughput(Throughput::Elements(1));
        g.bench_function(BenchmarkId::new("ours_forward", format!("n=2^16,p={bits}bit")), |b| {
            b.iter(|| ours.forward(black_box(&mut buf)))
        });
        g.bench_function(BenchmarkId::new("ours_inverse", format!("n=2^16,p={bits}bit")), |b| {
            b.iter(|| ours.inverse(black_box(&mut buf)))
        });
        g.bench_function(
            BenchmarkId::new("tfhe_ntt_forward", format!("n=2^16,p={bits}bit")),
            |b| b.iter(|| plan.fwd(black_box(&mut buf))),
        );
        g.bench_function(
            BenchmarkId::new("tfhe_ntt_inverse", format!("n=2^16,p={bits}bit")),
            |b| {
                b.iter(|| {
                    plan.inv(black_box(&mut buf));
                    plan.normalize(&mut buf);
                })
            },
        );
    }
    g.finish();
}

fn ntt_batched(c: &mut Criterion) {
    let mut g = c.benchmark_group("ntt_batch64_all_cores");
    let moduli = ntt_primes(60, N, 4).expect("primes");
    let mut data = random_rows(BATCH, N, moduli[3], 2);
    g.throughput(Throughput::Elements(BATCH as u64));
    for (name, engine) in [("tfhe_ntt", CpuNtt::TfheNtt), ("ours", CpuNtt::Harvey)] {
        let be = CpuBackend::with_ntt(engine);
        g.bench_function(BenchmarkId::new("forward", name), |b| {
            b.iter(|| be.ntt_forward_batch(&mut data, N, &moduli).expect("ntt"))
        });
    }
    g.finish();
}

fn pointwise(c: &mut Criterion) {
    let mut g = c.benchmark_group("pointwise_2^20_words");
    let len = 1 << 20;
    let q = ntt_primes(60, N, 1).expect("prime")[0];
    let a = random_rows(1, len, q, 3);
    let b = random_rows(1, len, q, 4);
    let mut out = vec![0u64; len];
    let be = CpuBackend::new();
    let one = single_pool();
    g.throughput(Throughput::Elements(len as u64));
    for threads in ["1_core", "all_cores"] {
        let run = |f: &mut (dyn FnMut() + Send)| {
            if threads == "1_core" { one.install(f) } else { f() }
        };
        g.bench_function(BenchmarkId::new("mul_mod", threads), |bch| {
            bch.iter(|| run(&mut || be.mul_mod(&mut out, &a, &b, N, &[q]).expect("mul")))
        });
        g.bench_function(BenchmarkId::new("add_mod", threads), |bch| {
            bch.iter(|| run(&mut || be.add_mod(&mut out, &a, &b, N, &[q]).expect("add")))
        });
        g.bench_function(BenchmarkId::new("mul_acc_mod", threads), |bch| {
            bch.iter(|| run(&mut || be.mul_acc_mod(&mut out, &a, &b, N, &[q]).expect("mac")))
        });
    }
    g.finish();
}

fn matrix(c: &mut Criterion) {
    let mut g = c.benchmark_group("matrix_mod_q62");
    let q = ntt_primes(62, N, 1).expect("prime")[0];
    let be = CpuBackend::new();
    let s = MatShape { m: 256, k: 256, n: 256 };
    let a = random_rows(1, s.m * s.k, q, 5);
    let b = random_rows(1, s.k * s.n, q, 6);
    let mut out = vec![0u64; s.m * s.n];
    // Multiply-adds per second.
    g.throughput(Throughput::Elements((s.m * s.k * s.n) as u64));
    g.bench_function("matmul_256x256x256_all_cores", |bch| {
        bch.iter(|| be.matmul_mod(&mut out, &a, &b, s, q).expect("matmul"))
    });
    let (rows, cols) = (2048, 2048);
    let m = random_rows(1, rows * cols, q, 7);
    let v = random_rows(1, cols, q, 8);
    let mut o = vec![0u64; rows];
    g.throughput(Throughput::Elements((rows * cols) as u64));
    g.bench_function("matvec_2048x2048_all_cores", |bch| {
        bch.iter(|| be.matvec_mod(&mut o, &m, &v, rows, cols, q).expect("matvec"))
    });
    g.finish();
}

#[cfg(feature = "cuda")]
fn gpu(c: &mut Criterion) {
    use tessera_accelerator::CudaBackend;
    let be = match CudaBackend::new(0) {
        Ok(be) => be,
        Err(e) => {
            println!("gpu benches skipped: no CUDA device ({e})");
            return;
        }
    };
    println!("gpu: {}", be.device_name());
    let mut g = c.benchmark_group("gpu");
    let moduli = ntt_primes(60, N, 4).expect("primes");
    for batch in [64usize, 256] {
        let mut data = be.upload(&random_rows(batch, N, moduli[3], 9)).expect("upload");
        g.throughput(Throughput::Elements(batch as u64));
        g.bench_function(BenchmarkId::new("ntt_forward_n=2^16", batch), |bch| {
            bch.iter(|| {
                be.ntt_forward_batch(&mut data, N, &moduli).expect("ntt");
                be.synchronize().expect("sync");
            })
        });
        g.bench_function(BenchmarkId::new("ntt_inverse_n=2^16", batch), |bch| {
            bch.iter(|| {
                be.ntt_inverse_batch(&mut data, N, &moduli).expect("ntt");
                be.synchronize().expect("sync");
            })
        });
    }
    let len = 1 << 24;
    let q = moduli[0];
    let a = be.upload(&random_rows(1, len, q, 10)).expect("upload");
    let b = be.upload(&random_rows(1, len, q, 11)).expect("upload");
    let mut out = be.zeros(len).expect("alloc");
    g.throughput(Throughput::Elements(len as u64));
    g.bench_function("mul_mod_2^24_words", |bch| {
        bch.iter(|| {
            be.mul_mod(&mut out, &a, &b, N, &[q]).expect("mul");
            be.synchronize().expect("sync");
        })
    });
    let s = MatShape { m: 1024, k: 1024, n: 1024 };
    let x = be.upload(&random_rows(1, s.m * s.k, q, 12)).expect("upload");
    let y = be.upload(&random_rows(1, s.k * s.n, q, 13)).expect("upload");
    let mut z = be.zeros(s.m * s.n).expect("alloc");
    g.throughput(Throughput::Elements((s.m * s.k * s.n) as u64));
    g.bench_function("matmul_1024^3", |bch| {
        bch.iter(|| {
            be.matmul_mod(&mut z, &x, &y, s, q).expect("matmul");
            be.synchronize().expect("sync");
        })
    });
    g.finish();
}

#[cfg(not(feature = "cuda"))]
fn gpu(_: &mut Criterion) {
    println!("gpu benches skipped: built without the `cuda` feature");
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
    targets = ntt_single_core, ntt_batched, pointwise, matrix, gpu
}
criterion_main!(benches);
