//! Ledger benchmarks: commitments per second on one validator (signatures verified), receipt
//! verification, DID resolve + signature verification, and database size / resolve latency with
//! many DIDs loaded.
//!
//! `cargo bench -p tessera-ledger --bench ledger` (set `TESSERA_LEDGER_DIDS=1000000` for the
//! million-DID load, `0` to skip it; the default loads 100,000; `-- many_dids` is accepted but
//! criterion filters do not skip the plain loads, so use `TESSERA_LEDGER_ONLY_DIDS=1` to run
//! only the DID load). Besides wall-clock figures it
//! prints CPU time per operation, which shared machines distort far less.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};
use tessera_ledger::*;

const PROG: Hash32 = [0xaa; 32];

struct Setup {
    _dir: tempfile::TempDir,
    engine: SingleValidator,
    chain: Hash32,
    set: ValidatorSet,
    parts: Vec<(KeyRef, KeyPair)>,
    nonce: u64,
    next_job: u64,
    now: u64,
}

fn setup(max_block: usize) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let validator = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let admin = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let set = ValidatorSet::new(vec![Validator { name: "v0".into(), key: validator.public_key() }])
        .unwrap();
    let g = Genesis {
        chain_name: "bench".into(),
        time_ms: 0,
        hash: LedgerHash::Sha256,
        orgs: vec![Org { name: "o".into(), admins: vec![admin.public_key()] }],
        admin_threshold: 1,
        supervisors: vec![],
        validators: set.clone(),
    };
    let ledger = Ledger::create(dir.path().join("b.redb"), &g).unwrap();
    let chain = ledger.chain_id();
    let cfg = EngineConfig { max_block_txs: max_block, block_interval_ms: 200 };
    let guard = SignGuard::create(dir.path().join("validator.guard")).unwrap();
    let mut engine = SingleValidator::new(ledger, validator, guard, cfg).unwrap();
    let mut parts = Vec::new();
    for name in ["p1", "p2"] {
        let k = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
        let r = KeyRef::new(Did::tessera(name).unwrap(), "key-1");
        let doc = DidDocument::new(name, "key-1", k.public_key());
        engine.submit(Transaction::sign(&chain, r.clone(), 1, TxBody::CreateDid(doc), &k)).unwrap();
        parts.push((r, k));
    }
    let (p1, k1) = &parts[0];
    let reg = TxBody::RegisterDataSet {
        id: "ds".into(),
        content_hash: HashAlg::Sha256.digest(b"c"),
        schema_hash: HashAlg::Sha256.digest(b"s"),
    };
    engine.submit(Transaction::sign(&chain, p1.clone(), 2, reg, k1)).unwrap();
    let grant = TxBody::Grant {
        dataset: "ds".into(),
        grant: "g".into(),
        program_hash: PROG,
        grantees: vec![parts[0].0.did.clone(), parts[1].0.did.clone()],
        expires_at_ms: u64::MAX,
        max_uses: u64::MAX,
    };
    engine.submit(Transaction::sign(&chain, p1.clone(), 3, grant, k1)).unwrap();
    let out = engine.seal(1).unwrap().unwrap();
    assert!(out.rejected.is_empty());
    Setup { _dir: dir, engine, chain, set, parts, nonce: 3, next_job: 0, now: 2 }
}

impl Setup {
    /// A commitment by both participants, submitted by p1 (three signatures to verify).
    fn commit_tx(&mut self) -> Transaction {
        self.next_job += 1;
        self.nonce += 1;
        let mut c = Commitment {
            job_id: format!("job-{}", self.next_job),
            participants: self.parts.iter().map(|(r, _)| r.did.clone()).collect(),
            program_hash: PROG,
            inputs: vec![InputCommitment {
                dataset: "ds".into(),
                grant: "g".into(),
                commitment: [1; 32],
            }],
            result_hash: [2; 32],
            tee_evidence_hash: None,
            signatures: vec![],
        };
        for (r, k) in &self.parts {
            c.sign_as(&self.chain, r.clone(), k);
        }
        let (r, k) = &self.parts[0];
        Transaction::sign(&self.chain, r.clone(), self.nonce, TxBody::Commit(c), k)
    }

    fn seal(&mut self) -> BlockOutcome {
        self.now += 1;
        self.engine.seal(self.now).unwrap().unwrap()
    }
}

fn only_dids() -> bool {
    std::env::var_os("TESSERA_LEDGER_ONLY_DIDS").is_some()
}

fn commitments(c: &mut Criterion) {
    if only_dids() {
        return;
    }
    const BLOCK: usize = 2000;
    let mut s = setup(BLOCK);
    let mut g = c.benchmark_group("commitments");
    g.throughput(Throughput::Elements(BLOCK as u64));
    g.sample_size(10);
    g.bench_function("block_of_2000_signed_commitments", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let txs: Vec<_> = (0..BLOCK).map(|_| s.commit_tx()).collect();
                let t = Instant::now();
                for tx in txs {
                    s.engine.submit(tx).unwrap();
                }
                let out = s.seal();
                total += t.elapsed();
                assert_eq!(out.accepted.len(), BLOCK);
            }
            total
        })
    });
    g.finish();
    // A plain figure for the record: 10 blocks end to end, wall clock and CPU time. Signature
    // checks run on spawned worker threads and everything else on this thread, so on an idle
    // machine with `c` cores the wall time would be about main + workers / c.
    let txs: Vec<Vec<Transaction>> =
        (0..10).map(|_| (0..BLOCK).map(|_| s.commit_tx()).collect()).collect();
    let (proc0, main0) = (cpu_seconds("/proc/self/stat"), cpu_seconds("/proc/thread-self/stat"));
    let t = Instant::now();
    for block in txs {
        for tx in block {
            s.engine.submit(tx).unwrap();
        }
        assert_eq!(s.seal().accepted.len(), BLOCK);
    }
    let secs = t.elapsed().as_secs_f64();
    let main = cpu_seconds("/proc/thread-self/stat") - main0;
    let workers = cpu_seconds("/proc/self/stat") - proc0 - main;
    let n = (10 * BLOCK) as f64;
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get()) as f64;
    println!(
        "ledger: {} commitments (3 Ed25519 signatures each, verified) in {secs:.3} s wall = {:.0} commitments/s",
        10 * BLOCK,
        n / secs
    );
    println!(
        "ledger: CPU per commitment: {:.1} us on the block-building thread + {:.1} us of signature checks on workers; idle-machine estimate with {cores} cores: {:.0} commitments/s",
        main / n * 1e6,
        workers / n * 1e6,
        n / (main + workers / cores)
    );
}

/// CPU seconds (user + system) from a `/proc/.../stat` file; 0 where unavailable.
fn cpu_seconds(path: &str) -> f64 {
    let Ok(text) = std::fs::read_to_string(path) else { return 0.0 };
    let Some(rest) = text.rsplit(')').next() else { return 0.0 };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat(5) (utime, stime) are the 12th and 13th after the command name.
    let ticks: f64 = f.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0 // USER_HZ is 100 on Linux
}

fn receipts(c: &mut Criterion) {
    if only_dids() {
        return;
    }
    let mut s = setup(2000);
    let mut last = None;
    for _ in 0..3 {
        let txs: Vec<_> = (0..1000).map(|_| s.commit_tx()).collect();
        for tx in txs {
            last = Some(s.engine.submit(tx).unwrap());
        }
        s.seal();
    }
    let id = last.unwrap();
    let tx_r = s.engine.ledger().tx_receipt(&id).unwrap();
    let st_r = s.engine.ledger().state_receipt(&StateKey::Job("job-1500".into())).unwrap();
    println!(
        "ledger: receipt sizes: transaction {} bytes, state {} bytes",
        tx_r.to_bytes().len(),
        st_r.to_bytes().len()
    );
    let set = s.set.clone();
    let chain = s.chain;
    c.bench_function("verify_receipt/transaction", |b| {
        b.iter(|| verify_receipt(black_box(&tx_r), &chain, &set).unwrap())
    });
    c.bench_function("verify_receipt/state", |b| {
        b.iter(|| verify_receipt(black_box(&st_r), &chain, &set).unwrap())
    });
    c.bench_function("state_receipt/generate", |b| {
        b.iter(|| s.engine.ledger().state_receipt(&StateKey::Job("job-1500".into())).unwrap())
    });
}

fn did_resolve(c: &mut Criterion) {
    if only_dids() {
        return;
    }
    let s = setup(2000);
    let (r, k) = &s.parts[1];
    let msg = b"authenticate me".to_vec();
    let sig = k.sign(&msg);
    let ledger = s.engine.ledger();
    c.bench_function("did/resolve_and_verify_ed25519", |b| {
        b.iter(|| ledger.resolve_key(black_box(r)).unwrap().verify(&msg, &sig).unwrap())
    });
    let (t0, cpu0) = (Instant::now(), cpu_seconds("/proc/thread-self/stat"));
    let reps = 20_000;
    for _ in 0..reps {
        ledger.resolve_key(black_box(r)).unwrap().verify(&msg, &sig).unwrap();
    }
    println!(
        "ledger: DID resolve + Ed25519 verify: {:.1} us wall, {:.1} us CPU (mean of {reps})",
        t0.elapsed().as_secs_f64() / reps as f64 * 1e6,
        (cpu_seconds("/proc/thread-self/stat") - cpu0) / reps as f64 * 1e6
    );
    for suite in [SignatureSuite::Ed25519, SignatureSuite::Secp256k1, SignatureSuite::Sm2] {
        let k = KeyPair::generate(suite).unwrap();
        let pk = k.public_key();
        let sig = k.sign(&msg);
        c.bench_function(&format!("verify/{suite:?}"), |b| {
            b.iter(|| pk.verify(black_box(&msg), &sig).unwrap())
        });
    }
}

/// The key of bench DID `u{i}` (deterministic, so samples can be re-derived after the load).
fn bench_did_key(i: u64) -> KeyPair {
    KeyPair::from_secret(SignatureSuite::Ed25519, &LedgerHash::Sha256.hash(&[&i.to_be_bytes()]))
        .unwrap()
}

fn many_dids(_c: &mut Criterion) {
    let n: u64 =
        std::env::var("TESSERA_LEDGER_DIDS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    if n == 0 {
        return;
    }
    // DIDs are registered in `CreateDids` batches of BATCH self-signed documents, one
    // transaction each (submitted by p1 under its nonce), `TESSERA_LEDGER_DID_BLOCK` (default 20)
    // transactions a block.
    const BATCH: u64 = 1000;
    let per_block: u64 =
        std::env::var("TESSERA_LEDGER_DID_BLOCK").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let mut s = setup(5000);
    let t = Instant::now();
    let (mut client, mut ledger_time) = (Duration::ZERO, Duration::ZERO);
    let ledger_cpu0 = cpu_seconds("/proc/self/stat");
    let mut client_cpu = 0.0;
    let mut i = 0u64;
    while i < n {
        let c0 = (Instant::now(), cpu_seconds("/proc/thread-self/stat"));
        let mut txs = Vec::new();
        for _ in 0..per_block {
            if i >= n {
                break;
            }
            let take = (n - i).min(BATCH);
            let regs: Vec<DidRegistration> = (i..i + take)
                .map(|j| {
                    let k = bench_did_key(j);
                    let doc = DidDocument::new(&format!("u{j}"), "key-1", k.public_key());
                    DidRegistration::sign(&s.chain, doc, "key-1", &k)
                })
                .collect();
            i += take;
            s.nonce += 1;
            let (r, k) = &s.parts[0];
            txs.push(Transaction::sign(&s.chain, r.clone(), s.nonce, TxBody::CreateDids(regs), k));
        }
        client += c0.0.elapsed();
        client_cpu += cpu_seconds("/proc/thread-self/stat") - c0.1;
        let l0 = Instant::now();
        for tx in txs {
            s.engine.submit(tx).unwrap();
        }
        let out = s.seal();
        ledger_time += l0.elapsed();
        assert!(out.rejected.is_empty(), "{:?}", out.rejected.first());
        if i.is_multiple_of(1_000_000) {
            println!(
                "ledger: {i} DIDs after {:.0} s (ledger {:.0} s)",
                t.elapsed().as_secs_f64(),
                ledger_time.as_secs_f64()
            );
        }
    }
    let load = t.elapsed().as_secs_f64();
    let ledger_cpu = cpu_seconds("/proc/self/stat") - ledger_cpu0 - client_cpu;
    let path = s._dir.path().join("b.redb");
    let size = std::fs::metadata(&path).unwrap().len();
    let (stored, meta, frag) = s.engine.ledger().storage_stats().unwrap();
    // Resolve + verify latency, each call timed alone, for SAMPLES DIDs spread pseudo-randomly
    // over the whole set (their keys re-derived; the signatures made outside the timing).
    const SAMPLES: usize = 10_000;
    let msg = b"login";
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut lat = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let j = (x >> 11) % n;
        let sig = bench_did_key(j).sign(msg);
        let r = KeyRef::new(Did::tessera(&format!("u{j}")).unwrap(), "key-1");
        let t = Instant::now();
        s.engine.ledger().resolve_key(&r).unwrap().verify(msg, &sig).unwrap();
        lat.push(t.elapsed().as_secs_f64());
    }
    lat.sort_by(f64::total_cmp);
    let q = |p: f64| lat[((lat.len() - 1) as f64 * p).round() as usize] * 1e6;
    println!(
        "ledger: {n} DIDs registered in CreateDids batches of {BATCH}, {per_block} batches a block, in {load:.1} s end to end ({:.0} DIDs/s, including {:.1} s of client key derivation and self-signing); ledger alone (submit + seal) {:.1} s = {:.0} DIDs/s, {:.1} us CPU per DID",
        n as f64 / load,
        client.as_secs_f64(),
        ledger_time.as_secs_f64(),
        n as f64 / ledger_time.as_secs_f64(),
        ledger_cpu / n as f64 * 1e6
    );
    println!(
        "ledger: database file {:.1} MiB ({:.0} bytes/DID); in it {:.1} MiB stored + {:.1} MiB B-tree metadata = {:.0} bytes/DID ({:.1} MiB free pages); resolve+verify over {SAMPLES} random DIDs: p50 {:.1} us, p99 {:.1} us, max {:.1} us",
        size as f64 / (1024.0 * 1024.0),
        size as f64 / n as f64,
        stored as f64 / (1024.0 * 1024.0),
        meta as f64 / (1024.0 * 1024.0),
        (stored + meta) as f64 / n as f64,
        frag as f64 / (1024.0 * 1024.0),
        q(0.5),
        q(0.99),
        q(1.0)
    );
}

criterion_group!(benches, commitments, receipts, did_resolve, many_dids);
criterion_main!(benches);
