//! Audit query latency on a large ledger: builds a chain of `TESSERA_AUDIT_TXS` signed
//! transactions (default 1,000,000: data set registrations, grants and two-party jobs by 1,000
//! `did:key` users, in blocks of 2,000, the engine default), then times each audit query on
//! random keys: the answer as the ledger builds it (index scan, receipts with batched proofs) and
//! its offline check (`verify_answer`), p50/p99 over `TESSERA_AUDIT_SAMPLES` (default 200)
//! queries of each kind.
//!
//! `cargo run --release -p tessera-ledger --example audit_queries`
//! (`TESSERA_AUDIT_TXS=200000` for a quicker run; `TESSERA_AUDIT_DIR=/path` keeps the database
//! there and reuses it on the next run).

use std::time::{Duration, Instant};
use tessera_ledger::audit::{Page, Query, verify_answer};
use tessera_ledger::*;

const USERS: usize = 1000;
const PROGRAMS: usize = 16;
const BLOCK: usize = 2000;
/// One transaction in this many is a job (three signatures); the rest are grants (one).
const JOB_EVERY: usize = 10;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn program(i: usize) -> Hash32 {
    let mut p = [0u8; 32];
    p[0] = 0xa0;
    p[31] = (i % PROGRAMS) as u8;
    p
}

fn pct(v: &mut [Duration], q: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * q).round() as usize;
    v[i].as_secs_f64() * 1e6
}

/// A tiny deterministic generator for picking sample keys.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

fn main() {
    let total = env("TESSERA_AUDIT_TXS", 1_000_000).max(USERS * 2);
    let samples = env("TESSERA_AUDIT_SAMPLES", 200);
    let keep = std::env::var_os("TESSERA_AUDIT_DIR").map(std::path::PathBuf::from);
    let tmp = tempfile::tempdir().unwrap();
    let dir = keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("audit.redb");
    // Deterministic keys, so a kept database is reused with the same users.
    let users: Vec<KeyPair> = (0..USERS)
        .map(|i| {
            let mut s = [0u8; 32];
            s[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            KeyPair::from_secret(SignatureSuite::Ed25519, &s).unwrap()
        })
        .collect();
    let validator = KeyPair::from_secret(SignatureSuite::Ed25519, &[0x77; 32]).unwrap();
    let set = ValidatorSet::new(vec![Validator { name: "v0".into(), key: validator.public_key() }])
        .unwrap();
    let genesis = Genesis {
        chain_name: "audit-bench".into(),
        time_ms: 0,
        hash: LedgerHash::Sha256,
        orgs: vec![Org { name: "o".into(), admins: vec![users[0].public_key()] }],
        admin_threshold: 1,
        validators: set.clone(),
        supervisors: vec![],
    };
    let chain = genesis.chain_id();
    let refs: Vec<KeyRef> = users.iter().map(|k| KeyRef::did_key(k.public_key())).collect();
    let did = |u: usize| refs[u % USERS].did.clone();
    let built_already = db.exists();
    let ledger = if built_already {
        Ledger::open(&db, &genesis).unwrap()
    } else {
        Ledger::create(&db, &genesis).unwrap()
    };
    let guard_path = dir.join("validator.guard");
    let guard =
        if built_already { SignGuard::open(&guard_path) } else { SignGuard::create(&guard_path) };
    let guard = guard.unwrap();
    let cfg = EngineConfig { max_block_txs: BLOCK, block_interval_ms: 1 };
    let mut engine = SingleValidator::new(ledger, validator, guard, cfg).unwrap();
    // A kept database is resumed: every transaction raised its signer's nonce by one, and
    // transaction i is signed by user i mod USERS, so the nonces say where the build stopped.
    let mut nonces: Vec<u64> = refs
        .iter()
        .map(|r| {
            let key = StateKey::Nonce(r.did.to_string());
            engine
                .ledger()
                .state_value(&key)
                .unwrap()
                .map_or(0, |b| u64::from_be_bytes(b.as_slice().try_into().unwrap()))
        })
        .collect();
    let done: usize = nonces.iter().map(|n| *n as usize).sum();
    let total = total.max(done);
    let mut jobs = 0usize;
    let mut now = engine.ledger().tip().time_ms.max(1);
    if done < total {
        if built_already {
            println!("resuming the kept database at {done} transactions");
        }
        let t0 = Instant::now();
        let mut i = done;
        let mut pending = 0usize;
        while i < total {
            let u = i % USERS;
            nonces[u] += 1;
            let body = if i < USERS {
                TxBody::RegisterDataSet {
                    id: format!("ds-{u}"),
                    content_hash: HashAlg::Sha256.digest(&i.to_be_bytes()),
                    schema_hash: HashAlg::Sha256.digest(b"schema"),
                }
            } else if i.is_multiple_of(JOB_EVERY) && i >= 2 * USERS {
                // A job of u (the owner) and u + 1 (the grantee) under u's first-round grant.
                let g = USERS + u;
                jobs += 1;
                let mut c = Commitment {
                    job_id: format!("job-{i}"),
                    participants: vec![did(u), did(u + 1)],
                    program_hash: program(g),
                    inputs: vec![InputCommitment {
                        dataset: format!("ds-{u}"),
                        grant: format!("g{g}"),
                        commitment: [1; 32],
                    }],
                    result_hash: [2; 32],
                    tee_evidence_hash: None,
                    signatures: vec![],
                };
                c.sign_as(&chain, refs[u].clone(), &users[u]);
                c.sign_as(&chain, refs[(u + 1) % USERS].clone(), &users[(u + 1) % USERS]);
                TxBody::Commit(c)
            } else {
                TxBody::Grant {
                    dataset: format!("ds-{u}"),
                    grant: format!("g{i}"),
                    program_hash: program(i),
                    grantees: vec![did(u + 1)],
                    expires_at_ms: u64::MAX,
                    max_uses: 1 << 40,
                }
            };
            engine
                .submit(Transaction::sign(&chain, refs[u].clone(), nonces[u], body, &users[u]))
                .unwrap();
            pending += 1;
            i += 1;
            if pending == BLOCK || i == total {
                now += 1_000;
                let out = engine.seal(now).unwrap().unwrap();
                assert!(out.rejected.is_empty(), "rejected: {:?}", &out.rejected[..1]);
                pending = 0;
                if out.height.is_multiple_of(20) {
                    let rate = (i - done) as f64 / t0.elapsed().as_secs_f64();
                    eprintln!("{i} txs, {rate:.0}/s");
                }
            }
        }
        let secs = t0.elapsed().as_secs_f64();
        println!(
            "built transactions {done}..{total} ({jobs} jobs) in {secs:.0} s: {:.0} tx/s",
            (total - done) as f64 / secs
        );
    }
    let ledger = engine.ledger();
    let size = std::fs::metadata(&db).unwrap().len();
    println!(
        "ledger: height {}, database {:.0} MiB ({} bytes per transaction)",
        ledger.tip().height,
        size as f64 / (1 << 20) as f64,
        size / total as u64
    );
    let tip = ledger.tip().height;
    let mut rng = Lcg(42);
    type Make<'a> = Box<dyn Fn(&mut Lcg) -> Query + 'a>;
    let page = Page::first(100);
    let kinds: Vec<(&str, Make<'_>)> = vec![
        (
            "blocks (10 headers)",
            Box::new(|r: &mut Lcg| {
                let from = 1 + r.below(tip as usize - 10) as u64;
                Query::Blocks { from, to: from + 9, page: Page::first(10) }
            }),
        ),
        (
            "by DID (first 100)",
            Box::new(|r: &mut Lcg| Query::ByDid { did: did(r.below(USERS)), page: page.clone() }),
        ),
        (
            "by data set (first 100)",
            Box::new(|r: &mut Lcg| Query::ByDataSet {
                dataset: format!("ds-{}", r.below(USERS)),
                page: page.clone(),
            }),
        ),
        (
            "by program (first 100)",
            Box::new(|r: &mut Lcg| Query::ByProgram {
                program: program(r.below(PROGRAMS)),
                page: page.clone(),
            }),
        ),
        (
            "by time (one block, first 100)",
            Box::new(|r: &mut Lcg| {
                let t = 1 + 1_000 * (1 + r.below(tip as usize) as u64);
                Query::ByTime { from_ms: t, to_ms: t, page: page.clone() }
            }),
        ),
        (
            "grant history (a grant with jobs, first 100)",
            Box::new(|r: &mut Lcg| {
                let u = JOB_EVERY * r.below(USERS / JOB_EVERY);
                Query::GrantHistory {
                    dataset: format!("ds-{u}"),
                    grant: format!("g{}", USERS + u),
                    page: page.clone(),
                }
            }),
        ),
        (
            "grants of a data set (first 100, state receipts)",
            Box::new(|r: &mut Lcg| Query::GrantsOf {
                dataset: format!("ds-{}", r.below(USERS)),
                page: page.clone(),
            }),
        ),
    ];
    println!(
        "| query | answer p50 / p99 (µs) | offline check p50 / p99 (µs) | items | answer bytes |"
    );
    println!("| --- | --- | --- | --- | --- |");
    for (name, make) in &kinds {
        let (mut ans, mut chk) = (Vec::new(), Vec::new());
        let (mut items, mut bytes) = (0usize, 0usize);
        for _ in 0..samples {
            let q = make(&mut rng);
            let t = Instant::now();
            let a = ledger.audit(&q).unwrap();
            ans.push(t.elapsed());
            let t = Instant::now();
            let c = verify_answer(&q, &a, &chain, &set).unwrap();
            chk.push(t.elapsed());
            items += c.len();
            bytes += a.to_bytes().len();
        }
        println!(
            "| {name} | {:.0} / {:.0} | {:.0} / {:.0} | {:.0} | {:.0} |",
            pct(&mut ans, 0.5),
            pct(&mut ans, 0.99),
            pct(&mut chk, 0.5),
            pct(&mut chk, 0.99),
            items as f64 / samples as f64,
            bytes as f64 / samples as f64
        );
    }
    // Job evidence for `tessera verify`.
    let mut ev = Vec::new();
    for _ in 0..samples {
        let i = 2 * USERS + JOB_EVERY * rng.below((total - 2 * USERS) / JOB_EVERY);
        let job = format!("job-{}", i - i % JOB_EVERY);
        let t = Instant::now();
        let e = ledger.job_evidence(&job).unwrap();
        ev.push(t.elapsed());
        std::hint::black_box(e);
    }
    println!(
        "| job evidence (1 grant) | {:.0} / {:.0} | | | |",
        pct(&mut ev, 0.5),
        pct(&mut ev, 0.99)
    );
}
