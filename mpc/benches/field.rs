//! Field and ring arithmetic per element, on vectors as the online phase uses them.
//!
//! `cargo bench -p tessera-mpc --bench field`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tessera_mpc::field::slice;
use tessera_mpc::{Field, Fp127, Prg, Ring, Seed, Z64};

const N: usize = 4096;

fn bench_ring<R: Ring>(c: &mut Criterion) {
    let mut prg = Prg::from_seed(&Seed([1; 16]));
    let a = R::random_vec(&mut prg, N);
    let b = R::random_vec(&mut prg, N);
    let mut g = c.benchmark_group(format!("{}/per-element", R::NAME));
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("mul", |bench| {
        bench.iter(|| {
            let mut x = a.clone();
            slice::mul_assign(&mut x, black_box(&b));
            x
        })
    });
    g.bench_function("add", |bench| {
        bench.iter(|| {
            let mut x = a.clone();
            slice::add_assign(&mut x, black_box(&b));
            x
        })
    });
    g.bench_function("inner_product", |bench| {
        bench.iter(|| slice::inner_product(&a, black_box(&b)))
    });
    g.bench_function("sample", |bench| bench.iter(|| R::random_vec(&mut prg, N)));
    g.finish();
}

fn bench_inverse(c: &mut Criterion) {
    let x = Fp127::from_u128(0x1234_5678_9abc_def0_1122_3344_5566_7788);
    c.bench_function("Fp127/inverse", |b| b.iter(|| black_box(x).inverse()));
    c.bench_function("Fp127/sqrt", |b| b.iter(|| black_box(x * x).sqrt()));
}

fn benches(c: &mut Criterion) {
    bench_ring::<Fp127>(c);
    bench_ring::<Z64>(c);
    bench_inverse(c);
}

criterion_group!(field, benches);
criterion_main!(field);
