//! Operator faults: a deleted, emptied, rolled-back or damaged database must give a typed error,
//! never a silently restarted chain, a second certified block at one height, or a panic.

mod common;

use common::*;
use tessera_ledger::*;

/// A ledger with a few blocks, its genesis and the validator key.
fn ledger_with_blocks(dir: &std::path::Path, blocks: u64) -> (Genesis, KeyPair, Vec<Hash32>) {
    let validator = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let admins: Vec<KeyPair> =
        (0..3).map(|_| KeyPair::generate(SignatureSuite::Ed25519).unwrap()).collect();
    let g = genesis_with(LedgerHash::Sha256, &validator, &admins);
    let ledger = Ledger::create(dir.join("l.redb"), &g).unwrap();
    SignGuard::create(dir.join("validator.guard")).unwrap();
    let mut e = engine(ledger, &validator, dir);
    let ids = (0..blocks).map(|b| seal_one(&mut e, &g, &format!("d{b}"), 10_000 + b)).collect();
    (g, validator, ids)
}

fn engine(ledger: Ledger, key: &KeyPair, dir: &std::path::Path) -> SingleValidator {
    try_engine(ledger, key, dir).unwrap()
}

fn try_engine(ledger: Ledger, key: &KeyPair, dir: &std::path::Path) -> Result<SingleValidator> {
    let key = KeyPair::from_secret(SignatureSuite::Ed25519, &key.secret_bytes()).unwrap();
    SingleValidator::new(ledger, key, SignGuard::open(dir.join("validator.guard"))?, cfg())
}

fn cfg() -> EngineConfig {
    EngineConfig::default()
}

/// Registers data set `id` (a fresh did:key signer) and seals it into one block.
fn seal_one(e: &mut SingleValidator, g: &Genesis, id: &str, now: u64) -> Hash32 {
    let tx = dataset_tx(g, id);
    let tid = e.submit(tx).unwrap();
    let out = e.seal(now).unwrap().unwrap();
    assert!(out.rejected.is_empty());
    tid
}

fn dataset_tx(g: &Genesis, id: &str) -> Transaction {
    let user = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let body = TxBody::RegisterDataSet {
        id: id.into(),
        content_hash: HashAlg::Sha256.digest(id.as_bytes()),
        schema_hash: HashAlg::Sha256.digest(b"s"),
    };
    Transaction::sign(&g.chain_id(), KeyRef::did_key(user.public_key()), 1, body, &user)
}

#[test]
fn a_deleted_or_emptied_database_is_not_recreated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let (g, _, _) = ledger_with_blocks(dir.path(), 1);
    let p = dir.path().join("l.redb");

    std::fs::remove_file(&p).unwrap();
    assert!(matches!(Ledger::open(&p, &g), Err(Error::NoDatabase(q)) if q == p));
    assert!(matches!(Ledger::open_existing(&p), Err(Error::NoDatabase(_))));
    assert!(!p.exists(), "open created a file");

    std::fs::write(&p, b"").unwrap();
    assert!(matches!(Ledger::open(&p, &g), Err(Error::Unreadable { .. })));
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 0, "open initialised an empty file");
    // Creation is explicit and never over an existing file, even an empty one.
    assert!(matches!(Ledger::create(&p, &g), Err(Error::DatabaseExists(_))));
}

#[test]
fn a_recreated_chain_cannot_get_a_second_block_one_from_the_same_validator() {
    let dir = tempfile::tempdir().unwrap();
    let (g, v, _) = ledger_with_blocks(dir.path(), 2);
    let p = dir.path().join("l.redb");
    let first = Ledger::open(&p, &g).unwrap().header(1).unwrap().unwrap();
    let guard_path = dir.path().join("validator.guard");
    let record = SignGuard::open(&guard_path).unwrap().last().unwrap().clone();

    // The operator deletes the database and re-runs genesis: the signing record, kept next to
    // the key, refuses the new chain before anything is signed.
    std::fs::remove_file(&p).unwrap();
    let fresh = Ledger::create(&p, &g).unwrap();
    assert_eq!(fresh.tip().height, 0);
    match try_engine(fresh, &v, dir.path()) {
        Err(Error::DoubleSign { height: 1, signed: 2 }) => {}
        other => panic!("re-genesis accepted: {other:?}"),
    }

    // Even an engine that skipped the start-up check cannot sign another block 1: the record
    // itself refuses the header, and keeps what it had.
    let fresh = Ledger::open(&p, &g).unwrap();
    let other = fresh.prepare(vec![dataset_tx(&g, "other")], 20_000).unwrap();
    assert_eq!(other.header.height, 1);
    assert_ne!(other.header.hash(), first.hash());
    let mut guard = SignGuard::open(&guard_path).unwrap();
    assert!(matches!(
        guard.record(&other.header, &other.txs),
        Err(Error::DoubleSign { height: 1, signed: 2 })
    ));
    assert_eq!(SignGuard::open(&guard_path).unwrap().last(), Some(&record));
}

#[test]
fn a_recreated_chain_one_block_behind_gets_the_same_block_back() {
    // The record holds the last signed block's transactions; if the re-created chain is exactly
    // its parent (genesis is deterministic), the engine re-commits that very block: the
    // validator certifies the same block 1 again, never a different one.
    let dir = tempfile::tempdir().unwrap();
    let (g, v, _) = ledger_with_blocks(dir.path(), 1);
    let p = dir.path().join("l.redb");
    let first = Ledger::open(&p, &g).unwrap().header(1).unwrap().unwrap();
    std::fs::remove_file(&p).unwrap();
    let e = engine(Ledger::create(&p, &g).unwrap(), &v, dir.path());
    assert_eq!(e.ledger().tip(), &first);
}

#[test]
fn a_database_restored_from_an_old_copy_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (g, v, _) = ledger_with_blocks(dir.path(), 1);
    let p = dir.path().join("l.redb");
    let copy = dir.path().join("old.redb");
    std::fs::copy(&p, &copy).unwrap();
    let mut e = engine(Ledger::open(&p, &g).unwrap(), &v, dir.path());
    seal_one(&mut e, &g, "later-1", 50_000);
    seal_one(&mut e, &g, "later-2", 50_001);
    drop(e);
    std::fs::rename(&copy, &p).unwrap();
    match try_engine(Ledger::open(&p, &g).unwrap(), &v, dir.path()) {
        Err(Error::DoubleSign { height: 2, signed: 3 }) => {}
        other => panic!("rolled-back database accepted: {other:?}"),
    }
}

#[test]
fn a_block_recorded_but_not_committed_is_committed_on_restart() {
    // A crash between writing the signing record and committing the block must not wedge the
    // ledger: the same block is rebuilt and committed, so the record stays truthful.
    let dir = tempfile::tempdir().unwrap();
    let (g, v, _) = ledger_with_blocks(dir.path(), 1);
    let p = dir.path().join("l.redb");
    let ledger = Ledger::open(&p, &g).unwrap();
    let txs = vec![dataset_tx(&g, "pending")];
    let prepared = ledger.prepare(txs.clone(), 30_000).unwrap();
    let want = prepared.header.clone();
    SignGuard::open(dir.path().join("validator.guard")).unwrap().record(&want, &txs).unwrap();
    drop(ledger); // "crash": never committed

    let mut e = engine(Ledger::open(&p, &g).unwrap(), &v, dir.path());
    assert_eq!(e.ledger().tip(), &want);
    e.ledger().check_integrity().unwrap();
    seal_one(&mut e, &g, "next", 40_000);
    assert_eq!(e.ledger().tip().height, 3);
}

#[test]
fn a_damaged_signing_record_is_an_error_not_an_empty_record() {
    let dir = tempfile::tempdir().unwrap();
    ledger_with_blocks(dir.path(), 1);
    let gp = dir.path().join("validator.guard");
    let mut bytes = std::fs::read(&gp).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&gp, &bytes).unwrap();
    assert!(matches!(SignGuard::open(&gp), Err(Error::Unreadable { .. })));
    std::fs::write(&gp, &bytes[..10]).unwrap();
    assert!(matches!(SignGuard::open(&gp), Err(Error::Unreadable { .. })));
}

#[test]
fn the_signing_record_is_made_with_the_key_and_never_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let (g, v, _) = ledger_with_blocks(dir.path(), 2);
    let (p, gp) = (dir.path().join("l.redb"), dir.path().join("validator.guard"));
    assert!(matches!(SignGuard::create(&gp), Err(Error::DatabaseExists(_))), "record overwritten");
    assert_eq!(SignGuard::open(&gp).unwrap().last().unwrap().header.height, 2);

    // The operator deletes the database *and* the record, and re-runs genesis: the engine
    // does not start from nothing, it names the missing record.
    std::fs::remove_file(&p).unwrap();
    std::fs::remove_file(&gp).unwrap();
    let fresh = Ledger::create(&p, &g).unwrap();
    match try_engine(fresh, &v, dir.path()) {
        Err(Error::NoSigningRecord(q)) => assert_eq!(q, gp),
        other => panic!("a missing signing record was taken as empty: {other:?}"),
    }
    assert!(!gp.exists(), "open created a record");
}

#[test]
fn one_round_signs_one_block_and_the_rule_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (g, _, _) = ledger_with_blocks(dir.path(), 1);
    let gp = dir.path().join("validator.guard");
    let l = Ledger::open(dir.path().join("l.redb"), &g).unwrap();
    let a = l.prepare(vec![dataset_tx(&g, "a")], 20_000).unwrap();
    let b = l.prepare(vec![dataset_tx(&g, "b")], 20_000).unwrap();
    assert_eq!((a.header.height, b.header.height), (2, 2));
    assert_ne!(a.header.hash(), b.header.hash());

    let mut guard = SignGuard::open(&gp).unwrap();
    guard.record_round(&a.header, 3, &a.txs).unwrap();
    // The same block again (a resend after a crash) is fine; another one in that round is not,
    // nor anything in an earlier round, also from a freshly loaded record (a restart).
    guard.record_round(&a.header, 3, &a.txs).unwrap();
    for mut gd in [guard, SignGuard::open(&gp).unwrap()] {
        let refused = [(&b, 3), (&a, 2), (&b, 0)];
        for (blk, round) in refused {
            assert!(matches!(
                gd.record_round(&blk.header, round, &blk.txs),
                Err(Error::DoubleSign { height: 2, signed: 2 })
            ));
        }
        // The single-validator call signs round 0: below the recorded round 3.
        assert!(matches!(gd.record(&b.header, &b.txs), Err(Error::DoubleSign { .. })));
    }
    let last = SignGuard::open(&gp).unwrap().last().cloned().unwrap();
    assert_eq!((last.round, last.header.hash()), (3, a.header.hash()));
    // A later round may carry another block (Tendermint's re-proposal after a failed round).
    let mut guard = SignGuard::open(&gp).unwrap();
    guard.record_round(&b.header, 4, &b.txs).unwrap();
    assert_eq!(SignGuard::open(&gp).unwrap().last().unwrap().round, 4);
}

#[test]
fn a_signing_record_of_the_first_format_reads_as_round_zero() {
    // `TSGUARD1` ‖ header ‖ count ‖ transactions ‖ SHA-256: records written before rounds were.
    let dir = tempfile::tempdir().unwrap();
    let (g, _, _) = ledger_with_blocks(dir.path(), 1);
    let gp = dir.path().join("validator.guard");
    let l = Ledger::open(dir.path().join("l.redb"), &g).unwrap();
    let a = l.prepare(vec![dataset_tx(&g, "a")], 20_000).unwrap();
    let mut w = codec::Writer::new();
    w.raw(b"TSGUARD1");
    a.header.encode(&mut w);
    w.len(a.txs.len());
    for tx in &a.txs {
        w.bytes(&tx.to_bytes());
    }
    let mut bytes = w.into_bytes();
    let sum = LedgerHash::Sha256.hash(&[&bytes]);
    bytes.extend_from_slice(&sum);
    std::fs::write(&gp, &bytes).unwrap();
    let mut guard = SignGuard::open(&gp).unwrap();
    let last = guard.last().unwrap();
    assert_eq!((last.round, &last.header, &last.txs), (0, &a.header, &a.txs));
    let b = l.prepare(vec![dataset_tx(&g, "b")], 20_000).unwrap();
    assert!(matches!(guard.record(&b.header, &b.txs), Err(Error::DoubleSign { .. })));
}

/// Deterministic generator for the corruption seeds (SplitMix64).
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[test]
fn a_corrupted_database_gives_a_typed_error_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let (g, _, ids) = ledger_with_blocks(dir.path(), 6);
    let p = dir.path().join("l.redb");
    let (tx_id, key) = (ids[3], StateKey::DataSet("d3".into()));
    let pristine = std::fs::read(&p).unwrap();
    let victim = dir.path().join("victim.redb");
    let (mut ok, mut refused) = (0, 0);
    for seed in 0..200u64 {
        let mut s = seed;
        let mut bytes = pristine.clone();
        // A few flipped bytes anywhere, sometimes a zeroed run (a lost sector).
        for _ in 0..1 + splitmix(&mut s) % 8 {
            let at = (splitmix(&mut s) % bytes.len() as u64) as usize;
            bytes[at] ^= 1 + (splitmix(&mut s) % 255) as u8;
        }
        if seed % 5 == 0 {
            let at = (splitmix(&mut s) % bytes.len() as u64) as usize;
            let end = (at + 512).min(bytes.len());
            bytes[at..end].fill(0);
        }
        std::fs::write(&victim, &bytes).unwrap();
        let run = std::panic::catch_unwind(|| -> Result<()> {
            let l = Ledger::open(&victim, &g)?;
            l.check_integrity()?;
            l.header(l.tip().height)?;
            l.certificate(l.tip().height)?;
            l.state_value(&key)?;
            l.validator_set()?;
            l.tx_receipt(&tx_id)?;
            l.state_receipt(&key)?;
            Ok(())
        });
        match run {
            Ok(Ok(())) => ok += 1,
            Ok(Err(_)) => refused += 1,
            Err(_) => panic!("seed {seed}: the ledger panicked on a corrupted file"),
        }
    }
    assert_eq!(ok + refused, 200);
    assert!(refused > 0, "no corruption was noticed");
}

#[test]
fn a_corrupted_signing_record_gives_a_typed_error_never_a_panic_or_an_empty_record() {
    let dir = tempfile::tempdir().unwrap();
    let (g, v, _) = ledger_with_blocks(dir.path(), 2);
    let gp = dir.path().join("validator.guard");
    let pristine = std::fs::read(&gp).unwrap();
    let victim = dir.path().join("victim.guard");
    // Every truncation, and random flips and zeroed runs.
    let mut cases: Vec<Vec<u8>> = (0..pristine.len()).map(|n| pristine[..n].to_vec()).collect();
    for seed in 0..300u64 {
        let mut s = seed;
        let mut bytes = pristine.clone();
        for _ in 0..1 + splitmix(&mut s) % 4 {
            let at = (splitmix(&mut s) % bytes.len() as u64) as usize;
            bytes[at] ^= 1 + (splitmix(&mut s) % 255) as u8;
        }
        if seed % 3 == 0 {
            let at = (splitmix(&mut s) % bytes.len() as u64) as usize;
            let end = (at + 16).min(bytes.len());
            bytes[at..end].fill(0);
        }
        if bytes != pristine {
            cases.push(bytes);
        }
    }
    for (i, bytes) in cases.iter().enumerate() {
        std::fs::write(&victim, bytes).unwrap();
        match std::panic::catch_unwind(|| SignGuard::open(&victim)) {
            Ok(Err(Error::Unreadable { path, .. })) => assert_eq!(path, victim),
            Ok(Ok(_)) => panic!("case {i}: a damaged signing record was accepted"),
            Ok(Err(e)) => panic!("case {i}: untyped refusal {e:?}"),
            Err(_) => panic!("case {i}: the signing record decoder panicked"),
        }
    }
    // The engine refuses to start on one too, and leaves it as it was.
    std::fs::write(&gp, &cases[cases.len() - 1]).unwrap();
    let l = Ledger::open(dir.path().join("l.redb"), &g).unwrap();
    assert!(matches!(try_engine(l, &v, dir.path()), Err(Error::Unreadable { .. })));
    assert_eq!(std::fs::read(&gp).unwrap(), cases[cases.len() - 1]);
}
