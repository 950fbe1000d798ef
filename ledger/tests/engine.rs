//! The single-validator engine seals on the size limit or the interval, never early.

use tessera_ledger::*;

#[test]
fn seals_on_size_or_interval() {
    let dir = tempfile::tempdir().unwrap();
    let v = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let g = Genesis {
        chain_name: "e".into(),
        time_ms: 1_000,
        hash: LedgerHash::Sha256,
        orgs: vec![Org { name: "o".into(), admins: vec![v.public_key()] }],
        admin_threshold: 1,
        supervisors: vec![],
        validators: ValidatorSet::new(vec![Validator { name: "v".into(), key: v.public_key() }])
            .unwrap(),
    };
    let ledger = Ledger::create(dir.path().join("l.redb"), &g).unwrap();
    let chain = ledger.chain_id();
    // An engine whose key is not a validator is refused.
    let stranger = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let cfg = EngineConfig { max_block_txs: 3, block_interval_ms: 500 };
    SignGuard::create(dir.path().join("validator.guard")).unwrap();
    let guard = || SignGuard::open(dir.path().join("validator.guard")).unwrap();
    let ledger = match SingleValidator::new(ledger, stranger, guard(), cfg) {
        Err(Error::Misuse(_)) => Ledger::open(dir.path().join("l.redb"), &g).unwrap(),
        other => panic!("stranger accepted: {other:?}"),
    };
    let mut e = SingleValidator::new(ledger, v, guard(), cfg).unwrap();
    let u = KeyPair::generate(SignatureSuite::Secp256k1).unwrap();
    let me = KeyRef::did_key(u.public_key());
    let mut nonce = 0;
    let mut tx = || {
        nonce += 1;
        let body = TxBody::Revoke { dataset: "none".into(), grant: format!("{nonce}") };
        Transaction::sign(&chain, me.clone(), nonce, body, &u)
    };
    assert!(e.poll(5_000).unwrap().is_none(), "empty pool sealed");
    e.submit(tx()).unwrap();
    e.submit(tx()).unwrap();
    assert!(e.poll(1_200).unwrap().is_none(), "sealed before the interval");
    let b = e.poll(1_500).unwrap().expect("interval elapsed");
    assert_eq!(b.height, 1);
    assert_eq!(b.rejected.len(), 2); // revoking a grant on a missing data set
    for _ in 0..3 {
        e.submit(tx()).unwrap();
    }
    assert_eq!(e.pending(), 3);
    let b = e.poll(1_501).unwrap().expect("size limit reached");
    assert_eq!(b.height, 2);
    assert_eq!(e.pending(), 0);
    assert_eq!(e.ledger().tip().time_ms, 1_501);
    // Block time never goes backwards.
    e.submit(tx()).unwrap();
    e.seal(10).unwrap().unwrap();
    assert_eq!(e.ledger().tip().time_ms, 1_501);
}
