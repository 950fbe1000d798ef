//! `TxBody::CreateDids`: many self-signed DID registrations in one transaction, attacked entry by
//! entry. The batch is all or nothing: a bad entry refuses the whole transaction, names the entry,
//! and nothing of the batch is written (the good entries can be resubmitted).

mod common;
use common::*;
use tessera_ledger::*;

fn reg(chain: &Hash32, id: &str) -> (DidRegistration, KeyPair) {
    let k = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let doc = DidDocument::new(id, "key-1", k.public_key());
    (DidRegistration::sign(chain, doc, "key-1", &k), k)
}

fn batch(chain: &Hash32, prefix: &str, n: usize) -> (Vec<DidRegistration>, Vec<KeyPair>) {
    (0..n).map(|i| reg(chain, &format!("{prefix}{i}"))).unzip()
}

fn unknown(n: &Net, id: &str) -> bool {
    matches!(n.ledger().resolve(&Did::tessera(id).unwrap()), Err(Error::UnknownDid(_)))
}

#[test]
fn a_batch_registers_every_did_and_each_can_sign() {
    let mut n = net(LedgerHash::Sha256);
    let chain = n.chain;
    let mut registrar = n.user("registrar", SignatureSuite::Ed25519);
    let (regs, keys) = batch(&chain, "u", 50);
    let id = n.run(registrar.tx(&chain, TxBody::CreateDids(regs.clone()))).unwrap();
    for (r, k) in regs.iter().zip(&keys) {
        let kref = KeyRef::new(r.document.did(), "key-1");
        assert_eq!(n.ledger().resolve(&r.document.did()).unwrap(), r.document);
        let sig = k.sign(b"login");
        n.ledger().resolve_key(&kref).unwrap().verify(b"login", &sig).unwrap();
    }
    // The batch's receipt verifies offline and carries every registration.
    let set = n.ledger().validator_set().unwrap();
    let rc = n.ledger().tx_receipt(&id).unwrap();
    verify_receipt(&rc, &chain, &set).unwrap();
    let ReceiptEntry::Transaction(bytes) = &rc.entry else { panic!("not a tx receipt") };
    assert_eq!(Transaction::decode_untrusted(bytes).unwrap().body, TxBody::CreateDids(regs));
    // A DID registered in a batch starts at nonce 1, like one created by CreateDid.
    let k0 = keys.into_iter().next().unwrap();
    let mut u0 =
        User { key: k0, kref: KeyRef::new(Did::tessera("u0").unwrap(), "key-1"), nonce: 0 };
    let body = TxBody::RegisterDataSet {
        id: "d0".into(),
        content_hash: HashAlg::Sha256.digest(b"x"),
        schema_hash: HashAlg::Sha256.digest(b"y"),
    };
    n.run(u0.tx(&chain, body)).unwrap();
    n.ledger().check_integrity().unwrap();
}

#[test]
fn a_bad_entry_refuses_the_whole_batch_and_writes_nothing() {
    let mut n = net(LedgerHash::Sha256);
    let chain = n.chain;
    let mut registrar = n.user("registrar", SignatureSuite::Ed25519);
    let root = n.ledger().tip().state_root;
    let (good, _) = batch(&chain, "g", 5);

    // A flipped signature bit in entry 3.
    let mut regs = good.clone();
    regs[3].signature.0[7] ^= 1;
    let e = n.run(registrar.tx(&chain, TxBody::CreateDids(regs))).unwrap_err();
    assert!(
        matches!(e, Error::BatchEntry { index: 3, ref source } if matches!(**source, Error::BadSignature)),
        "{e:?}"
    );
    // Entry 2's document changed after it was signed (a key swapped in by the registrar).
    let mut regs = good.clone();
    let mallory = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    regs[2].document.methods[0].key = mallory.public_key();
    let e = n.run(registrar.tx(&chain, TxBody::CreateDids(regs))).unwrap_err();
    assert!(matches!(e, Error::BatchEntry { index: 2, .. }), "{e:?}");
    // Signed by a key that is not in the document.
    let mut regs = good.clone();
    let doc = DidDocument::new(
        "evil",
        "key-1",
        KeyPair::generate(SignatureSuite::Ed25519).unwrap().public_key(),
    );
    regs.push(DidRegistration::sign(&chain, doc, "key-1", &mallory));
    let e = n.run(registrar.tx(&chain, TxBody::CreateDids(regs))).unwrap_err();
    assert!(matches!(e, Error::BatchEntry { index: 5, .. }), "{e:?}");
    // A signature made for another chain.
    let mut regs = good.clone();
    let k = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    regs[0] = DidRegistration::sign(
        &[9; 32],
        DidDocument::new("g0", "key-1", k.public_key()),
        "key-1",
        &k,
    );
    let e = n.run(registrar.tx(&chain, TxBody::CreateDids(regs))).unwrap_err();
    assert!(matches!(e, Error::BatchEntry { index: 0, .. }), "{e:?}");
    // The same DID twice in one batch.
    let mut regs = good.clone();
    regs.push(good[1].clone());
    let e = n.run(registrar.tx(&chain, TxBody::CreateDids(regs))).unwrap_err();
    assert!(
        matches!(e, Error::BatchEntry { index: 5, ref source } if matches!(**source, Error::AlreadyExists { .. })),
        "{e:?}"
    );
    // A method name the document does not have; a document that is not new.
    let mut regs = good.clone();
    regs[4].method = "key-9".into();
    assert!(matches!(
        n.run(registrar.tx(&chain, TxBody::CreateDids(regs))),
        Err(Error::BatchEntry { index: 4, .. })
    ));
    let mut regs = good.clone();
    let k = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let mut doc = DidDocument::new("g1", "key-1", k.public_key());
    doc.version = 3;
    regs[1] = DidRegistration::sign(&chain, doc, "key-1", &k);
    assert!(matches!(
        n.run(registrar.tx(&chain, TxBody::CreateDids(regs))),
        Err(Error::BatchEntry { index: 1, .. })
    ));
    // An empty batch.
    assert!(matches!(
        n.run(registrar.tx(&chain, TxBody::CreateDids(vec![]))),
        Err(Error::Malformed(_))
    ));

    // Nothing of any refused batch was written: no DID, and the state root is unchanged apart
    // from nothing at all (refused transactions do not even consume the registrar's nonce).
    for i in 0..5 {
        assert!(unknown(&n, &format!("g{i}")));
    }
    assert!(unknown(&n, "evil"));
    assert_eq!(n.ledger().tip().state_root, root);
    // The honest batch then goes through whole.
    n.run(registrar.tx(&chain, TxBody::CreateDids(good))).unwrap();
    for i in 0..5 {
        assert!(!unknown(&n, &format!("g{i}")));
    }
}

#[test]
fn replays_are_refused() {
    let mut n = net(LedgerHash::Sha256);
    let chain = n.chain;
    let mut registrar = n.user("registrar", SignatureSuite::Ed25519);
    let (regs, _) = batch(&chain, "r", 3);
    let tx = registrar.tx(&chain, TxBody::CreateDids(regs.clone()));
    n.run(tx.clone()).unwrap();
    // The same transaction again: its nonce is spent.
    assert!(matches!(n.run(tx), Err(Error::ReplayedNonce { .. })));
    // The same registrations under a fresh nonce, or one of them in a new batch: the DID exists.
    let e = n.run(registrar.tx(&chain, TxBody::CreateDids(regs.clone()))).unwrap_err();
    assert!(
        matches!(e, Error::BatchEntry { index: 0, ref source } if matches!(**source, Error::AlreadyExists { .. }))
    );
    let (mut more, _) = batch(&chain, "s", 2);
    more.push(regs[2].clone());
    let e = n.run(registrar.tx(&chain, TxBody::CreateDids(more))).unwrap_err();
    assert!(matches!(e, Error::BatchEntry { index: 2, .. }));
    assert!(unknown(&n, "s0"));
    // An existing DID cannot be overwritten by a batch either (here one made by CreateDid).
    let k = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let doc = DidDocument::new("registrar", "key-1", k.public_key());
    let e = n
        .run(
            registrar.tx(
                &chain,
                TxBody::CreateDids(vec![DidRegistration::sign(&chain, doc, "key-1", &k)]),
            ),
        )
        .unwrap_err();
    assert!(matches!(e, Error::BatchEntry { index: 0, .. }));
    // A registration signature cannot stand in for a transaction signature (domain tags).
    let (r, _) = reg(&chain, "t0");
    let kref = KeyRef::new(r.document.did(), "key-1");
    let tx = Transaction {
        signer: kref,
        nonce: 1,
        body: TxBody::CreateDid(r.document.clone()),
        signature: r.signature,
    };
    assert!(matches!(n.run(tx), Err(Error::BadSignature)));
}

#[test]
fn oversized_batches_do_not_decode_and_a_did_made_earlier_in_the_block_is_refused() {
    // Decoding is bounded: a batch claiming more than MAX_DID_BATCH entries is refused before
    // anything is allocated for them.
    let chain = [1; 32];
    let (r, k) = reg(&chain, "x");
    let kref = KeyRef::new(r.document.did(), "key-1");
    let tx = Transaction::sign(&chain, kref, 1, TxBody::CreateDids(vec![r; MAX_DID_BATCH + 1]), &k);
    assert!(Transaction::decode_untrusted(&tx.to_bytes()).is_err());
    // A batch that mixes a valid entry with one for a DID already created in the same block by
    // CreateDid is refused when executed (block overlay).
    let mut n = net(LedgerHash::Sha256);
    let chain = n.chain;
    let mut registrar = n.user("registrar", SignatureSuite::Ed25519);
    let k = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let doc = DidDocument::new("same", "key-1", k.public_key());
    let kref = KeyRef::new(doc.did(), "key-1");
    let a = n
        .engine
        .submit(Transaction::sign(&chain, kref, 1, TxBody::CreateDid(doc.clone()), &k))
        .unwrap();
    let b =
        n.engine
            .submit(registrar.tx(
                &chain,
                TxBody::CreateDids(vec![DidRegistration::sign(&chain, doc, "key-1", &k)]),
            ))
            .unwrap();
    n.now += 1000;
    let out = n.engine.seal(n.now).unwrap().unwrap();
    assert!(out.accepted.contains(&a));
    assert!(
        out.rejected
            .iter()
            .any(|(id, e)| *id == b && matches!(e, Error::BatchEntry { index: 0, .. }))
    );
}
