//! The ledger directory as an operator damages it: a deleted, emptied or corrupted `ledger.redb`
//! or `validator.guard` is a clear error (exit 3) naming the file, never a silently restarted
//! chain, a forgotten signing record or a crash; and a re-created database cannot make the
//! validator certify a second block at a height it signed.

mod common;

use common::tessera;
use tessera_ledger::{Ledger, TxBody};
use tessera_node::Error;
use tessera_node::ledgerdir::LedgerDir;

/// `tessera ledger start` on `dir`: exit code and stderr.
fn start(dir: &std::path::Path) -> (Option<i32>, String) {
    let o = tessera(None, &["ledger", "start", "--dir", dir.to_str().unwrap()]);
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn a_missing_emptied_or_corrupt_database_is_exit_3_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    assert_eq!(start(&dir).0, Some(0));
    let db = dir.join("ledger.redb");
    assert_eq!(start(&dir).0, Some(0), "reopening a healthy ledger");

    std::fs::remove_file(&db).unwrap();
    let (code, err) = start(&dir);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains(db.to_str().unwrap()) && err.contains("missing"), "{err}");
    assert!(!db.exists(), "the chain was restarted from genesis");

    std::fs::write(&db, b"").unwrap();
    let (code, err) = start(&dir);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("unreadable"), "{err}");

    std::fs::write(&db, vec![0x5a; 64 * 1024]).unwrap();
    let (code, err) = start(&dir);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("unreadable") && !err.contains("RUST_BACKTRACE"), "{err}");
}

#[test]
fn a_recreated_database_cannot_get_a_second_block_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    let l = LedgerDir::create(&dir, "files").unwrap();
    let admin = tessera_ledger::KeyPair::generate(tessera_ledger::SignatureSuite::Ed25519).unwrap();
    let me = tessera_ledger::KeyRef::did_key(admin.public_key());
    let revoke = |g: &str| TxBody::Revoke { dataset: "d".into(), grant: g.into() };
    // Revoking on a missing data set is rejected but still seals a block.
    for g in ["a", "b"] {
        assert!(matches!(l.submit(&me, &admin, revoke(g)), Err(Error::Rejected(_))));
    }
    assert_eq!(l.height().unwrap(), 2);

    // The operator deletes the database and re-runs genesis by hand.
    let db = dir.join("ledger.redb");
    std::fs::remove_file(&db).unwrap();
    drop(Ledger::create(&db, l.genesis()).unwrap());
    match l.submit(&me, &admin, revoke("c")) {
        Err(Error::Ledger(tessera_ledger::Error::DoubleSign { height: 1, signed: 2 })) => {}
        other => panic!("the validator signed a second block 1: {other:?}"),
    }
    assert_eq!(l.height().unwrap(), 0);
    // `tessera ledger start` refuses the directory too (exit 4), and signs nothing.
    let (code, err) = start(&dir);
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("refusing to sign height 1"), "{err}");
    assert_eq!(l.height().unwrap(), 0);
}

/// A ledger directory with two sealed blocks.
fn two_blocks(dir: &std::path::Path) -> LedgerDir {
    let l = LedgerDir::create(dir, "guard").unwrap();
    let k = tessera_ledger::KeyPair::generate(tessera_ledger::SignatureSuite::Ed25519).unwrap();
    let me = tessera_ledger::KeyRef::did_key(k.public_key());
    for g in ["a", "b"] {
        let revoke = TxBody::Revoke { dataset: "d".into(), grant: g.into() };
        assert!(matches!(l.submit(&me, &k, revoke), Err(Error::Rejected(_))));
    }
    assert_eq!(l.height().unwrap(), 2);
    l
}

#[test]
fn a_missing_emptied_or_damaged_signing_record_is_exit_3_naming_it_and_never_recreated() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    let l = two_blocks(&dir);
    let gp = dir.join("validator.guard");
    let good = std::fs::read(&gp).unwrap();
    let k = tessera_ledger::KeyPair::generate(tessera_ledger::SignatureSuite::Ed25519).unwrap();
    let me = tessera_ledger::KeyRef::did_key(k.public_key());
    let revoke = || TxBody::Revoke { dataset: "d".into(), grant: "c".into() };

    std::fs::remove_file(&gp).unwrap();
    let (code, err) = start(&dir);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains(gp.to_str().unwrap()) && err.contains("missing"), "{err}");
    match l.submit(&me, &k, revoke()) {
        Err(Error::LedgerFile { path, .. }) => assert_eq!(path, gp),
        other => panic!("sealed without a signing record: {other:?}"),
    }
    assert!(!gp.exists(), "the signing record was re-created");

    // Deleting the database too and re-running genesis by hand gains nothing: still refused.
    let db = dir.join("ledger.redb");
    std::fs::remove_file(&db).unwrap();
    drop(Ledger::create(&db, l.genesis()).unwrap());
    let (code, err) = start(&dir);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains(gp.to_str().unwrap()), "{err}");
    assert_eq!(l.height().unwrap(), 0, "a block was signed on the re-created chain");

    std::fs::write(&gp, b"").unwrap();
    let (code, err) = start(&dir);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains(gp.to_str().unwrap()) && err.contains("unreadable"), "{err}");

    // Damaged records (a flipped byte, a truncation): a typed error, never a panic or a reset.
    for (i, at) in [0, good.len() / 3, good.len() / 2, good.len() - 1].into_iter().enumerate() {
        let mut bad = good.clone();
        if i % 2 == 0 {
            bad[at] ^= 0x40;
        } else {
            bad.truncate(at);
        }
        std::fs::write(&gp, &bad).unwrap();
        let (code, err) = start(&dir);
        assert_eq!(code, Some(3), "{err}");
        assert!(err.contains("unreadable") && !err.contains("panicked"), "{err}");
        assert_eq!(std::fs::read(&gp).unwrap(), bad, "the record was rewritten");
    }
}

#[test]
fn genesis_is_never_rerun_over_a_validators_key_or_signing_record() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    two_blocks(&dir);
    let key = std::fs::read(dir.join("validator.key")).unwrap();
    let guard = std::fs::read(dir.join("validator.guard")).unwrap();
    // The operator deletes the chain (genesis and database) and starts again in the same place.
    std::fs::remove_file(dir.join("genesis.json")).unwrap();
    std::fs::remove_file(dir.join("ledger.redb")).unwrap();
    let (code, err) = start(&dir);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("already holds a ledger"), "{err}");
    assert!(!dir.join("genesis.json").exists() && !dir.join("ledger.redb").exists());
    assert_eq!(std::fs::read(dir.join("validator.key")).unwrap(), key, "key overwritten");
    assert_eq!(std::fs::read(dir.join("validator.guard")).unwrap(), guard, "record overwritten");
    // Only the signing record left (keys moved away): still refused, nothing written.
    for f in ["validator.key", "admin.key"] {
        std::fs::remove_file(dir.join(f)).unwrap();
    }
    assert!(matches!(LedgerDir::create(&dir, "again"), Err(Error::Usage(_))));
    assert!(!dir.join("validator.key").exists(), "fresh keys beside an old record");
    // An empty directory is genesis, and `ledger start` reopens it.
    let fresh = tmp.path().join("fresh");
    assert_eq!(start(&fresh).0, Some(0));
    assert!(fresh.join("validator.guard").exists());
    assert_eq!(start(&fresh).0, Some(0));
}

/// A held directory (the ledger service's) keeps the database open between calls, lets another
/// user of the directory in once idle, and then reads what that user wrote: it never serves a
/// tip older than the file. Prints the cost of one read without and with holding.
#[test]
fn a_held_ledger_is_opened_once_released_when_idle_and_never_stale() {
    use std::time::Instant;
    use tessera_ledger::{Did, DidDocument, KeyPair, KeyRef, SignatureSuite};
    let tmp = tempfile::tempdir().unwrap();
    let dir = two_blocks(&tmp.path().join("ledger"));
    let held = dir.held();
    let reps = 200u32;
    let t = Instant::now();
    for _ in 0..reps {
        assert_eq!(dir.height().unwrap(), 2);
    }
    let per_open = t.elapsed() / reps;
    assert_eq!(held.height().unwrap(), 2);
    let t = Instant::now();
    for _ in 0..reps {
        assert_eq!(held.height().unwrap(), 2);
    }
    let per_held = t.elapsed() / reps;
    eprintln!("one ledger read: {per_open:?} opening the database, {per_held:?} on the held one");
    // Another user of the directory (here an unheld handle) gets in once the held one idles, and
    // its block is what the held handle sees next.
    let k = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let me = KeyRef::new(Did::tessera("late").unwrap(), "key-1");
    let doc = DidDocument::new("late", "key-1", k.public_key());
    dir.submit(&me, &k, TxBody::CreateDid(doc.clone())).unwrap();
    assert_eq!(held.height().unwrap(), 3);
    assert_eq!(held.resolve(&me.did).unwrap(), doc);
    // And the held handle writes too: a transaction sealed through it is on file for the next
    // opener.
    let k2 = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let me2 = KeyRef::new(Did::tessera("later").unwrap(), "key-1");
    held.submit(&me2, &k2, TxBody::CreateDid(DidDocument::new("later", "key-1", k2.public_key())))
        .unwrap();
    drop(held);
    assert_eq!(dir.height().unwrap(), 4);
}
