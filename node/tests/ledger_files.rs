//! The ledger directory as an operator damages it: a deleted, emptied or corrupted `ledger.redb`
//! is a clear error (exit 3) naming the file, never a silently restarted chain or a crash; and a
//! re-created database cannot make the validator certify a second block at a height it signed.

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
}
