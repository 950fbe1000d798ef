//! TFHE integers through `tfhe` (default CPU parameters): key generation and decompression time,
//! key and ciphertext sizes, and the latency of `FheUint64` add and mul, with `FheUint8` beside
//! them for reference. Timings depend heavily on the core count (`tfhe` runs each operation's
//! blocks in parallel with rayon); the bench prints the count it saw.
//!
//! `cargo bench -p tessera-fhe --features tfhe --bench tfhe_int`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use tessera_fhe::tfhe_int::{
    EncryptedUint, TfheClientKey, TfheCompressedServerKey, TfheServerKey, Uint,
};

/// Key generation takes seconds: timed a few times by hand instead of by criterion's sampling.
fn keys() -> (TfheClientKey, TfheServerKey) {
    let reps = 3;
    let (mut gen_client, mut gen_server, mut decompress) = (0.0, 0.0, 0.0);
    let mut out = None;
    for _ in 0..reps {
        let t = Instant::now();
        let client = TfheClientKey::generate();
        gen_client += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let compressed = client.compressed_server_key();
        gen_server += t.elapsed().as_secs_f64();
        let bytes = compressed.to_bytes().expect("serialise");
        let t = Instant::now();
        let parsed = TfheCompressedServerKey::from_bytes(&bytes).expect("parse");
        let parse = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let server = parsed.decompress();
        decompress += t.elapsed().as_secs_f64();
        if out.is_none() {
            let client_bytes = client.to_bytes().expect("serialise").len();
            println!(
                "tfhe keys: client key {client_bytes} B, compressed server key {} B ({:.1} MiB); parse+check {parse:.2} s",
                bytes.len(),
                bytes.len() as f64 / (1 << 20) as f64
            );
        }
        out = Some((client, server));
    }
    let r = reps as f64;
    println!(
        "tfhe keygen (mean of {reps}): client key {:.3} s, compressed server key {:.2} s, decompress {:.2} s",
        gen_client / r,
        gen_server / r,
        decompress / r
    );
    out.expect("reps > 0")
}

fn sizes<T: Uint>(client: &TfheClientKey, value: T) {
    let bytes = EncryptedUint::encrypt(value, client).to_bytes().expect("serialise").len();
    println!(
        "tfhe FheUint{}: ciphertext {bytes} B ({:.0} B per plaintext bit)",
        T::BITS,
        bytes as f64 / f64::from(T::BITS)
    );
}

fn bench_width<T: Uint>(
    c: &mut Criterion,
    client: &TfheClientKey,
    server: &TfheServerKey,
    a: T,
    b: T,
) {
    let ca = EncryptedUint::encrypt(a, client);
    let cb = EncryptedUint::encrypt(b, client);
    let mut g = c.benchmark_group(format!("tfhe_uint{}", T::BITS));
    // Flat sampling: ten equal samples, so a multi-second op costs ten runs, not fifty-five.
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("encrypt", |bch| bch.iter(|| EncryptedUint::encrypt(black_box(a), client)));
    g.bench_function("decrypt", |bch| bch.iter(|| black_box(&ca).decrypt(client)));
    g.bench_function("add", |bch| bch.iter(|| server.add(black_box(&ca), black_box(&cb))));
    g.bench_function("mul", |bch| bch.iter(|| server.mul(black_box(&ca), black_box(&cb))));
    g.bench_function("gt", |bch| bch.iter(|| server.gt(black_box(&ca), black_box(&cb))));
    g.finish();
}

fn tfhe_int(c: &mut Criterion) {
    println!(
        "tfhe: {} threads available to rayon",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let (client, server) = keys();
    sizes(&client, 0u8);
    sizes(&client, 0u16);
    sizes(&client, 0u32);
    sizes(&client, 0u64);
    bench_width(c, &client, &server, 0xA5u8, 0x3Cu8);
    bench_width(c, &client, &server, 0x0123_4567_89AB_CDEFu64, 0xFEDC_BA98_7654_3210u64);
}

criterion_group!(benches, tfhe_int);
criterion_main!(benches);
