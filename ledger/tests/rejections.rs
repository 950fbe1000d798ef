//! Every way the ledger must refuse a transaction, each tried against a live ledger.

mod common;
use common::*;
use tessera_ledger::*;

const PROG: Hash32 = [0xaa; 32];

#[test]
fn bad_signature_and_wrong_key_are_refused() {
    let mut n = net(LedgerHash::Sha256);
    let chain = n.chain;
    let mut alice = n.user("alice", SignatureSuite::Ed25519);
    let body = TxBody::RegisterDataSet {
        id: "d".into(),
        content_hash: HashAlg::Sha256.digest(b"x"),
        schema_hash: HashAlg::Sha256.digest(b"y"),
    };
    let mut tx = alice.tx(&chain, body.clone());
    tx.signature.0[5] ^= 1;
    assert!(matches!(n.run(tx), Err(Error::BadSignature)));
    // Signed by another key while claiming alice's key.
    let mallory = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let tx = Transaction::sign(&chain, alice.kref.clone(), 50, body.clone(), &mallory);
    assert!(matches!(n.run(tx), Err(Error::BadSignature)));
    // A body changed after signing.
    let mut tx = alice.tx(&chain, body.clone());
    tx.nonce += 1;
    assert!(matches!(n.run(tx), Err(Error::BadSignature)));
    // Signed for another chain.
    let tx = Transaction::sign(&[0; 32], alice.kref.clone(), 60, body.clone(), &alice.key);
    assert!(matches!(n.run(tx), Err(Error::BadSignature)));
    // Unknown DID, unknown key name.
    let ghost = KeyRef::new(Did::tessera("ghost").unwrap(), "key-1");
    let tx = Transaction::sign(&chain, ghost, 1, body.clone(), &alice.key);
    assert!(matches!(n.run(tx), Err(Error::UnknownDid(_))));
    let other = KeyRef::new(alice.did(), "key-9");
    let tx = Transaction::sign(&chain, other, 70, body.clone(), &alice.key);
    assert!(matches!(n.run(tx), Err(Error::UnknownDid(_))));
    // Creating a DID document signed by a key not in it.
    let doc = DidDocument::new("bob", "key-1", mallory.public_key());
    let kref = KeyRef::new(Did::tessera("bob").unwrap(), "key-1");
    let tx = Transaction::sign(&chain, kref, 1, TxBody::CreateDid(doc), &alice.key);
    assert!(matches!(n.run(tx), Err(Error::BadSignature)));
    // The honest transaction still goes through.
    let tx = alice.tx(&chain, body);
    n.run(tx).unwrap();
}

#[test]
fn replayed_nonce_is_refused() {
    let mut n = net(LedgerHash::Sha256);
    let chain = n.chain;
    let mut k = n.key_user(SignatureSuite::Secp256k1);
    let body = |i: u32| TxBody::RegisterDataSet {
        id: format!("d{i}"),
        content_hash: HashAlg::Sha256.digest(b"x"),
        schema_hash: HashAlg::Sha256.digest(b"y"),
    };
    let tx = k.tx(&chain, body(1));
    n.run(tx.clone()).unwrap();
    // Exact replay, in a later block.
    assert!(matches!(n.run(tx), Err(Error::ReplayedNonce { last: 1, got: 1 })));
    // A new transaction reusing an old nonce.
    let tx = Transaction::sign(&chain, k.kref.clone(), 1, body(2), &k.key);
    assert!(matches!(n.run(tx), Err(Error::ReplayedNonce { .. })));
    // Replay inside one block: the second copy is refused.
    let tx = k.tx(&chain, body(3));
    let a = n.engine.submit(tx.clone()).unwrap();
    n.engine.submit(tx).unwrap();
    let out = n.engine.seal(n.now + 1).unwrap().unwrap();
    assert_eq!(out.accepted, vec![a]);
    assert!(matches!(out.rejected[0].1, Error::ReplayedNonce { .. }));
}

#[test]
fn grants_missing_expired_revoked_exhausted_or_mismatched_are_refused() {
    let mut n = net(LedgerHash::Sm3);
    let chain = n.chain;
    let mut owner = n.user("owner", SignatureSuite::Sm2);
    let mut p1 = n.user("p1", SignatureSuite::Ed25519);
    let p2 = n.key_user(SignatureSuite::Secp256k1);
    let outsider = n.user("outsider", SignatureSuite::Ed25519);
    dataset_and_grant(&mut n, &mut owner, "ds", "g1", PROG, vec![p1.did(), p2.did()], 2);

    // Missing grant; missing data set.
    let c = commitment(&chain, "j0", &[&p1, &p2], PROG, vec![input("ds", "nope")]);
    assert!(matches!(n.run(p1.tx(&chain, TxBody::Commit(c))), Err(Error::MissingGrant { .. })));
    let c = commitment(&chain, "j0", &[&p1, &p2], PROG, vec![input("nods", "g1")]);
    assert!(matches!(n.run(p1.tx(&chain, TxBody::Commit(c))), Err(Error::NotFound { .. })));
    // Wrong program; a participant not granted.
    let c = commitment(&chain, "j0", &[&p1, &p2], [0xbb; 32], vec![input("ds", "g1")]);
    assert!(matches!(n.run(p1.tx(&chain, TxBody::Commit(c))), Err(Error::GrantMismatch(_))));
    let c = commitment(&chain, "j0", &[&p1, &outsider], PROG, vec![input("ds", "g1")]);
    assert!(matches!(n.run(p1.tx(&chain, TxBody::Commit(c))), Err(Error::GrantMismatch(_))));
    // A participant signature missing, forged, or out of order.
    let mut c = commitment(&chain, "j0", &[&p1, &p2], PROG, vec![input("ds", "g1")]);
    c.signatures.pop();
    assert!(matches!(n.run(p1.tx(&chain, TxBody::Commit(c))), Err(Error::ThresholdNotMet { .. })));
    let mut c = commitment(&chain, "j0", &[&p1, &p2], PROG, vec![input("ds", "g1")]);
    c.signatures[1].signature.0[0] ^= 1;
    assert!(matches!(n.run(p1.tx(&chain, TxBody::Commit(c))), Err(Error::BadSignature)));
    let mut c = commitment(&chain, "j0", &[&p1, &p2], PROG, vec![input("ds", "g1")]);
    c.signatures.swap(0, 1);
    assert!(matches!(n.run(p1.tx(&chain, TxBody::Commit(c))), Err(Error::NotAuthorised(_))));
    // A result changed after participants signed.
    let mut c = commitment(&chain, "j0", &[&p1, &p2], PROG, vec![input("ds", "g1")]);
    c.result_hash = [8; 32];
    assert!(matches!(n.run(p1.tx(&chain, TxBody::Commit(c))), Err(Error::BadSignature)));

    // Valid: two uses allowed, the third is exhausted; a job id cannot repeat.
    for j in ["j1", "j2"] {
        let c = commitment(&chain, j, &[&p1, &p2], PROG, vec![input("ds", "g1")]);
        n.run(p1.tx(&chain, TxBody::Commit(c))).unwrap();
    }
    let c = commitment(&chain, "j2", &[&p1, &p2], PROG, vec![input("ds", "g1")]);
    assert!(matches!(n.run(p1.tx(&chain, TxBody::Commit(c))), Err(Error::AlreadyExists { .. })));
    let c = commitment(&chain, "j3", &[&p1, &p2], PROG, vec![input("ds", "g1")]);
    assert!(matches!(n.run(p1.tx(&chain, TxBody::Commit(c))), Err(Error::GrantExhausted(_))));
    let g: GrantRecord = n
        .ledger()
        .state(&StateKey::Grant { dataset: "ds".into(), grant: "g1".into() })
        .unwrap()
        .unwrap();
    assert_eq!(g.uses, 2);

    // Revoked grant.
    let tx = owner.tx(
        &chain,
        TxBody::Grant {
            dataset: "ds".into(),
            grant: "g2".into(),
            program_hash: PROG,
            grantees: vec![p1.did()],
            expires_at_ms: n.now + 5_000,
            max_uses: 10,
        },
    );
    n.run(tx).unwrap();
    let c = commitment(&chain, "j4", &[&p1], PROG, vec![input("ds", "g2")]);
    let good = p1.tx(&chain, TxBody::Commit(c.clone()));
    // Only the owner may revoke.
    let tx = p1.tx(&chain, TxBody::Revoke { dataset: "ds".into(), grant: "g2".into() });
    assert!(matches!(n.run(tx), Err(Error::NotAuthorised(_))));
    let tx = owner.tx(&chain, TxBody::Revoke { dataset: "ds".into(), grant: "g2".into() });
    n.run(tx).unwrap();
    assert!(matches!(n.run(good), Err(Error::GrantRevoked(_))));

    // Expired grant: the block time passes the expiry.
    let tx = owner.tx(
        &chain,
        TxBody::Grant {
            dataset: "ds".into(),
            grant: "g3".into(),
            program_hash: PROG,
            grantees: vec![p1.did()],
            expires_at_ms: n.now + 1_500,
            max_uses: 10,
        },
    );
    n.run(tx).unwrap();
    n.now += 10_000;
    let c = commitment(&chain, "j5", &[&p1], PROG, vec![input("ds", "g3")]);
    assert!(matches!(n.run(p1.tx(&chain, TxBody::Commit(c))), Err(Error::GrantExpired(_))));

    // Only the owner may grant.
    let tx = p1.tx(
        &chain,
        TxBody::Grant {
            dataset: "ds".into(),
            grant: "g9".into(),
            program_hash: PROG,
            grantees: vec![p1.did()],
            expires_at_ms: n.now + 1_000_000,
            max_uses: 1,
        },
    );
    assert!(matches!(n.run(tx), Err(Error::NotAuthorised(_))));
}

#[test]
fn did_rotation_needs_k_of_n_controllers_and_deactivation_stops_signing() {
    let mut n = net(LedgerHash::Sha256);
    let chain = n.chain;
    let c1 = n.user("c1", SignatureSuite::Ed25519);
    let c2 = n.user("c2", SignatureSuite::Secp256k1);
    let c3 = n.user("c3", SignatureSuite::Sm2);
    let key = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let mut doc = DidDocument::new("carol", "key-1", key.public_key());
    doc.controllers = vec![c1.did(), c2.did(), c3.did()];
    doc.threshold = 2;
    let mut carol =
        User { key, kref: KeyRef::new(Did::tessera("carol").unwrap(), "key-1"), nonce: 0 };
    n.run(carol.tx(&chain, TxBody::CreateDid(doc.clone()))).unwrap();

    // Rotate key-1 to a new key (the old one is lost).
    let new_key = KeyPair::generate(SignatureSuite::Sm2).unwrap();
    let mut new_doc = doc.clone();
    new_doc.methods[0].key = new_key.public_key();
    new_doc.version = 1;
    let msg = did_update_message(&chain, "carol", 0, Some(&new_doc));
    let approve = |u: &User| Approval { signer: u.kref.clone(), signature: u.key.sign(&msg) };
    let mut c1m = User {
        key: KeyPair::from_secret(c1.key.suite(), &c1.key.secret_bytes()).unwrap(),
        kref: c1.kref.clone(),
        nonce: c1.nonce,
    };
    // One approval is below the threshold; a repeated controller does not count twice.
    let tx = c1m
        .tx(&chain, TxBody::UpdateDid { document: new_doc.clone(), approvals: vec![approve(&c1)] });
    assert!(matches!(n.run(tx), Err(Error::ThresholdNotMet { needed: 2, got: 1 })));
    let tx = c1m.tx(
        &chain,
        TxBody::UpdateDid {
            document: new_doc.clone(),
            approvals: vec![approve(&c1), approve(&c1)],
        },
    );
    assert!(matches!(n.run(tx), Err(Error::NotAuthorised(_))));
    // An approval from a non-controller.
    let tx = c1m.tx(
        &chain,
        TxBody::UpdateDid {
            document: new_doc.clone(),
            approvals: vec![approve(&c1), approve(&carol)],
        },
    );
    assert!(matches!(n.run(tx), Err(Error::NotAuthorised(_))));
    // A forged approval.
    let mut forged = approve(&c2);
    forged.signature.0[10] ^= 4;
    let tx = c1m.tx(
        &chain,
        TxBody::UpdateDid { document: new_doc.clone(), approvals: vec![approve(&c1), forged] },
    );
    assert!(matches!(n.run(tx), Err(Error::BadSignature)));
    // Two of three: accepted.
    let approvals = vec![approve(&c1), approve(&c3)];
    let tx = c1m
        .tx(&chain, TxBody::UpdateDid { document: new_doc.clone(), approvals: approvals.clone() });
    n.run(tx).unwrap();
    // Replaying the same approved update is refused (version moved on).
    let tx = c1m.tx(&chain, TxBody::UpdateDid { document: new_doc.clone(), approvals });
    assert!(matches!(n.run(tx), Err(Error::InvalidDid(_))));
    // The old key no longer signs for carol; the new one does.
    let body = TxBody::RegisterDataSet {
        id: "cd".into(),
        content_hash: HashAlg::Sha256.digest(b"x"),
        schema_hash: HashAlg::Sha256.digest(b"y"),
    };
    assert!(matches!(n.run(carol.tx(&chain, body.clone())), Err(Error::BadSignature)));
    carol.key = new_key;
    n.run(carol.tx(&chain, body)).unwrap();
    assert_eq!(
        n.ledger().resolve(&carol.did()).unwrap().methods[0].key.suite(),
        SignatureSuite::Sm2
    );

    // Deactivation by two controllers; afterwards carol cannot sign.
    let msg = did_update_message(&chain, "carol", 1, None);
    let approvals = vec![
        Approval { signer: c2.kref.clone(), signature: c2.key.sign(&msg) },
        Approval { signer: c3.kref.clone(), signature: c3.key.sign(&msg) },
    ];
    n.run(c1m.tx(&chain, TxBody::DeactivateDid { id: "carol".into(), approvals })).unwrap();
    assert!(n.ledger().resolve(&carol.did()).unwrap().deactivated);
    assert!(matches!(n.ledger().resolve_key(&carol.kref), Err(Error::DidDeactivated(_))));
    assert_eq!(n.ledger().resolve_key(&c2.kref).unwrap(), c2.key.public_key());
    let body = TxBody::Revoke { dataset: "cd".into(), grant: "x".into() };
    assert!(matches!(n.run(carol.tx(&chain, body)), Err(Error::DidDeactivated(_))));
    // A duplicate DID cannot be registered.
    let again = DidDocument::new("c1", "key-1", c1.key.public_key());
    assert!(matches!(
        n.run(c1m.tx(&chain, TxBody::CreateDid(again))),
        Err(Error::AlreadyExists { .. })
    ));
}

#[test]
fn governance_needs_k_of_n_admins() {
    let mut n = net(LedgerHash::Sha256);
    let chain = n.chain;
    let mut sub = n.key_user(SignatureSuite::Ed25519);
    let new_admin = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let action =
        GovAction::AddOrg(Org { name: "org-c".into(), admins: vec![new_admin.public_key()] });
    let msg = governance_message(&chain, 1, &action);
    let appr = |k: &KeyPair| AdminApproval { admin: k.public_key(), signature: k.sign(&msg) };
    // One of the 2-of-3 admins is not enough; a non-admin key does not count.
    let tx = sub.tx(
        &chain,
        TxBody::Governance { seq: 1, action: action.clone(), approvals: vec![appr(&n.admins[0])] },
    );
    assert!(matches!(n.run(tx), Err(Error::ThresholdNotMet { needed: 2, got: 1 })));
    let tx = sub.tx(
        &chain,
        TxBody::Governance {
            seq: 1,
            action: action.clone(),
            approvals: vec![appr(&n.admins[0]), appr(&new_admin)],
        },
    );
    assert!(matches!(n.run(tx), Err(Error::NotAuthorised(_))));
    // Approvals for another action do not carry over.
    let other = GovAction::RemoveOrg("org-b".into());
    let tx = sub.tx(
        &chain,
        TxBody::Governance {
            seq: 1,
            action: other,
            approvals: vec![appr(&n.admins[0]), appr(&n.admins[2])],
        },
    );
    assert!(matches!(n.run(tx), Err(Error::BadSignature)));
    // Two admins of different organisations and suites: accepted.
    let approvals = vec![appr(&n.admins[1]), appr(&n.admins[2])];
    let tx = sub.tx(
        &chain,
        TxBody::Governance { seq: 1, action: action.clone(), approvals: approvals.clone() },
    );
    n.run(tx).unwrap();
    let gs: GovernanceState = n.ledger().state(&StateKey::Governance).unwrap().unwrap();
    assert_eq!(gs.orgs, vec!["org-a", "org-b", "org-c"]);
    // The same proposal again: refused by its sequence number.
    let tx = sub.tx(&chain, TxBody::Governance { seq: 1, action, approvals });
    assert!(matches!(n.run(tx), Err(Error::ReplayedNonce { .. })));

    // Removing an organisation drops its admin keys; a removal that would leave fewer admin keys
    // than the threshold is refused.
    let gov = |seq: u64, action: GovAction, signers: &[&KeyPair]| {
        let msg = governance_message(&chain, seq, &action);
        let approvals = signers
            .iter()
            .map(|k| AdminApproval { admin: k.public_key(), signature: k.sign(&msg) })
            .collect();
        TxBody::Governance { seq, action, approvals }
    };
    let remove_a = gov(2, GovAction::RemoveOrg("org-a".into()), &[&n.admins[2], &new_admin]);
    n.run(sub.tx(&chain, remove_a)).unwrap();
    let stale = gov(3, GovAction::RemoveOrg("org-b".into()), &[&n.admins[0], &n.admins[1]]);
    assert!(matches!(n.run(sub.tx(&chain, stale)), Err(Error::NotAuthorised(_))));
    let too_far = gov(3, GovAction::RemoveOrg("org-b".into()), &[&n.admins[2], &new_admin]);
    assert!(matches!(n.run(sub.tx(&chain, too_far)), Err(Error::InvalidGovernance(_))));

    // Adding a validator takes effect for the next block: the single-validator engine then refuses
    // to seal alone (it would need 2 of 2 signatures).
    let v1 = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let action = GovAction::AddValidator(Validator { name: "v1".into(), key: v1.public_key() });
    let add = gov(3, action, &[&new_admin, &n.admins[2]]);
    n.run(sub.tx(&chain, add)).unwrap();
    assert_eq!(n.ledger().validator_set().unwrap().validators.len(), 2);
    n.engine
        .submit(sub.tx(&chain, TxBody::Revoke { dataset: "x".into(), grant: "y".into() }))
        .unwrap();
    assert!(matches!(n.engine.seal(n.now + 1), Err(Error::Misuse(_))));
}

#[test]
fn genesis_json_round_trip_and_validation() {
    let v = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let admins: Vec<KeyPair> =
        (0..3).map(|_| KeyPair::generate(SignatureSuite::Secp256k1).unwrap()).collect();
    let g = genesis_with(LedgerHash::Sm3, &v, &admins);
    let text = g.to_json().unwrap();
    assert_eq!(Genesis::from_json(&text).unwrap(), g);
    let bad = text.replace("\"admin_threshold\": 2", "\"admin_threshold\": 4");
    assert!(matches!(Genesis::from_json(&bad), Err(Error::InvalidGenesis(_))));
    let bad = text.replace("\"sm3\"", "\"md5\"");
    assert!(Genesis::from_json(&bad).is_err());
    // A database refuses a different genesis.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("l.redb");
    drop(Ledger::create(&p, &g).unwrap());
    let mut g2 = g.clone();
    g2.chain_name = "other".into();
    assert!(matches!(Ledger::open(&p, &g2), Err(Error::InvalidGenesis(_))));
    assert_eq!(Ledger::open_existing(&p).unwrap().chain_id(), g.chain_id());
}

#[test]
fn key_rotated_earlier_in_the_same_block_is_used_strictly() {
    let mut n = net(LedgerHash::Sha256);
    let chain = n.chain;
    let mut alice = n.user("alice", SignatureSuite::Ed25519);
    let old = KeyPair::from_secret(SignatureSuite::Ed25519, &alice.key.secret_bytes()).unwrap();
    let new_key = KeyPair::generate(SignatureSuite::Secp256k1).unwrap();
    let mut doc = n.ledger().resolve(&alice.did()).unwrap();
    doc.methods[0].key = new_key.public_key();
    doc.version = 1;
    let msg = did_update_message(&chain, "alice", 0, Some(&doc));
    let approvals = vec![Approval { signer: alice.kref.clone(), signature: old.sign(&msg) }];
    let rotate = alice.tx(&chain, TxBody::UpdateDid { document: doc, approvals });
    let body = |id: &str| TxBody::RegisterDataSet {
        id: id.into(),
        content_hash: HashAlg::Sha256.digest(b"x"),
        schema_hash: HashAlg::Sha256.digest(b"y"),
    };
    alice.key = new_key;
    let with_new = alice.tx(&chain, body("n"));
    alice.key = old;
    let with_old = alice.tx(&chain, body("o"));
    // All three in one block: the committed state still holds the old key, so the parallel
    // pre-pass checks the second transaction against the wrong key and the block is re-executed
    // strictly.
    let ids: Vec<Hash32> =
        [rotate, with_new, with_old].into_iter().map(|t| n.engine.submit(t).unwrap()).collect();
    let out = n.engine.seal(n.now + 1).unwrap().unwrap();
    assert_eq!(out.accepted, ids[..2].to_vec());
    assert_eq!(out.rejected.len(), 1);
    assert_eq!(out.rejected[0].0, ids[2]);
    assert!(matches!(out.rejected[0].1, Error::BadSignature));
}

#[test]
fn approvals_do_not_move_between_chains_jobs_or_signers() {
    let mut n = net(LedgerHash::Sha256);
    let chain = n.chain;
    let mut owner = n.user("owner", SignatureSuite::Ed25519);
    let mut p1 = n.user("p1", SignatureSuite::Ed25519);
    let p2 = n.user("p2", SignatureSuite::Secp256k1);
    dataset_and_grant(&mut n, &mut owner, "ds", "g1", PROG, vec![p1.did(), p2.did()], 5);
    let inputs = || vec![input("ds", "g1")];
    // Participants' signatures made for another chain, or for another job id, replayed onto a
    // commitment for this chain and job.
    let mut c = commitment(&chain, "j0", &[&p1, &p2], PROG, inputs());
    c.signatures = commitment(&[0x5a; 32], "j0", &[&p1, &p2], PROG, inputs()).signatures;
    assert!(matches!(n.run(p1.tx(&chain, TxBody::Commit(c))), Err(Error::BadSignature)));
    let mut c = commitment(&chain, "j0", &[&p1, &p2], PROG, inputs());
    c.signatures = commitment(&chain, "other-job", &[&p1, &p2], PROG, inputs()).signatures;
    assert!(matches!(n.run(p1.tx(&chain, TxBody::Commit(c))), Err(Error::BadSignature)));
    // p1's signature reflected into p2's slot (naming p2 as the signer).
    let mut c = commitment(&chain, "j0", &[&p1, &p2], PROG, inputs());
    c.signatures[1].signature = c.signatures[0].signature;
    assert!(matches!(n.run(p1.tx(&chain, TxBody::Commit(c))), Err(Error::BadSignature)));

    // Governance approvals for another chain, or one admin approving twice.
    let action = GovAction::RemoveOrg("org-b".into());
    let sign = |chain: &Hash32, k: &KeyPair| AdminApproval {
        admin: k.public_key(),
        signature: k.sign(&governance_message(chain, 1, &action)),
    };
    let approvals = vec![sign(&[0x5a; 32], &n.admins[0]), sign(&[0x5a; 32], &n.admins[1])];
    let tx = p1.tx(&chain, TxBody::Governance { seq: 1, action: action.clone(), approvals });
    assert!(matches!(n.run(tx), Err(Error::BadSignature)));
    let approvals = vec![sign(&chain, &n.admins[0]), sign(&chain, &n.admins[0])];
    let tx = p1.tx(&chain, TxBody::Governance { seq: 1, action: action.clone(), approvals });
    assert!(matches!(n.run(tx), Err(Error::NotAuthorised(_))));

    // The honest commitment still goes through.
    let c = commitment(&chain, "j0", &[&p1, &p2], PROG, inputs());
    n.run(p1.tx(&chain, TxBody::Commit(c))).unwrap();
}
