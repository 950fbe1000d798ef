//! Receipts verify offline, and every tampering or wrong trust anchor is refused.

mod common;
use common::*;
use tessera_ledger::*;

const PROG: Hash32 = [0xaa; 32];

/// Flips each byte of the encoded receipt (two different masks): the result must fail to decode
/// or to verify. The one exception is inherent to absence proofs: a proof that the path of key K
/// ends in an empty subtree also proves absence for every other key on that path, so flipping a
/// byte of K may yield a receipt for K' that verifies; it must then be *true* (K' really absent).
/// Returns how many such flips verified.
fn assert_every_flip_refused(r: &Receipt, set: &ValidatorSet, ledger: &Ledger) -> usize {
    let bytes = r.to_bytes();
    let mut true_absences = 0;
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= mask;
            let Ok(t) = Receipt::from_bytes(&b) else { continue };
            if verify_receipt(&t, &r.header.chain_id, set).is_err() {
                continue;
            }
            match (&r.entry, &t.entry) {
                (
                    ReceiptEntry::State { value: None, .. },
                    ReceiptEntry::State { key, value: None },
                ) if t.proof == r.proof && t.header == r.header => {
                    assert_eq!(
                        ledger.raw_state_value(key).unwrap(),
                        None,
                        "false absence accepted"
                    );
                    true_absences += 1;
                }
                _ => panic!("flip of byte {i} mask {mask:#x} accepted"),
            }
        }
    }
    true_absences
}

fn scenario(hash: LedgerHash) {
    let mut n = net(hash);
    let chain = n.chain;
    let mut owner = n.user("owner", SignatureSuite::Ed25519);
    let p1 = n.user("p1", SignatureSuite::Secp256k1);
    let mut p2 = n.key_user(SignatureSuite::Sm2);
    dataset_and_grant(&mut n, &mut owner, "ds", "g", PROG, vec![p1.did(), p2.did()], 5);
    let c = commitment(&chain, "job-1", &[&p1, &p2], PROG, vec![input("ds", "g")]);
    let id = n.run(p2.tx(&chain, TxBody::Commit(c))).unwrap();
    let set = n.genesis.validators.clone();

    // Transaction receipt.
    let r = n.ledger().tx_receipt(&id).unwrap();
    verify_receipt(&r, &chain, &set).unwrap();
    let decoded = Receipt::from_bytes(&r.to_bytes()).unwrap();
    assert_eq!(decoded, r);
    assert_every_flip_refused(&r, &set, n.ledger());

    // State receipts: the job record (present) and an unknown job (absent).
    let r = n.ledger().state_receipt(&StateKey::Job("job-1".into())).unwrap();
    verify_receipt(&r, &chain, &set).unwrap();
    let ReceiptEntry::State { value: Some(v), .. } = &r.entry else { panic!("job missing") };
    let job = JobRecord::from_bytes(v).unwrap();
    assert_eq!(job.commitment.participants, vec![p1.did(), p2.did()]);
    assert_every_flip_refused(&r, &set, n.ledger());
    // Claiming the present entry is absent, or another value, fails.
    let mut lie = r.clone();
    lie.entry = ReceiptEntry::State { key: StateKey::Job("job-1".into()).to_bytes(), value: None };
    assert!(matches!(verify_receipt(&lie, &chain, &set), Err(Error::ProofInvalid(_))));

    let r = n.ledger().state_receipt(&StateKey::Job("job-404".into())).unwrap();
    assert!(matches!(r.entry, ReceiptEntry::State { value: None, .. }));
    verify_receipt(&r, &chain, &set).unwrap();
    let aliases = assert_every_flip_refused(&r, &set, n.ledger());
    println!("{aliases} key flips gave true absence receipts for other keys");
    let mut lie = r.clone();
    lie.entry = ReceiptEntry::State {
        key: StateKey::Job("job-404".into()).to_bytes(),
        value: Some(vec![1]),
    };
    assert!(verify_receipt(&lie, &chain, &set).is_err());

    // Wrong validator set: another key, or the right key under another name.
    let other = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let wrong =
        ValidatorSet::new(vec![Validator { name: "v0".into(), key: other.public_key() }]).unwrap();
    assert!(matches!(verify_receipt(&r, &chain, &wrong), Err(Error::WrongValidatorSet)));
    let renamed =
        ValidatorSet::new(vec![Validator { name: "v9".into(), key: set.validators[0].key }])
            .unwrap();
    assert!(matches!(verify_receipt(&r, &chain, &renamed), Err(Error::WrongValidatorSet)));

    // A forged certificate: an outsider signs the genuine header.
    let mut forged = r.clone();
    forged.certificate = CommitCertificate::sign_single(&r.header, 0, &other);
    assert!(matches!(verify_receipt(&forged, &chain, &set), Err(Error::CertificateInvalid(_))));
    // A forged header re-signed by the outsider under a set naming the outsider is refused
    // against the trusted set.
    let mut fake = r.clone();
    fake.header.validator_set_hash = wrong.hash(hash);
    fake.certificate = CommitCertificate::sign_single(&fake.header, 0, &other);
    assert!(matches!(verify_receipt(&fake, &chain, &set), Err(Error::WrongValidatorSet)));
    // An empty certificate.
    let mut empty = r.clone();
    empty.certificate.signatures.clear();
    assert!(matches!(verify_receipt(&empty, &chain, &set), Err(Error::CertificateInvalid(_))));
    // Mixed-up proof kinds.
    let tr = n.ledger().tx_receipt(&id).unwrap();
    let mut mixed = r.clone();
    mixed.proof = tr.proof.clone();
    assert!(matches!(verify_receipt(&mixed, &chain, &set), Err(Error::ProofInvalid(_))));
}

#[test]
fn receipts_sha256() {
    scenario(LedgerHash::Sha256);
}

#[test]
fn receipts_sm3() {
    scenario(LedgerHash::Sm3);
}

#[test]
fn certificates_need_two_thirds_plus_one() {
    let keys: Vec<KeyPair> =
        (0..4).map(|_| KeyPair::generate(SignatureSuite::Ed25519).unwrap()).collect();
    let set = ValidatorSet::new(
        keys.iter()
            .enumerate()
            .map(|(i, k)| Validator { name: format!("v{i}"), key: k.public_key() })
            .collect(),
    )
    .unwrap();
    assert_eq!(set.quorum(), 3);
    let header = BlockHeader {
        version: 1,
        chain_id: [1; 32],
        height: 5,
        prev_hash: [2; 32],
        tx_root: [3; 32],
        tx_count: 0,
        state_root: [4; 32],
        time_ms: 6,
        hash_alg: LedgerHash::Sha256,
        validator_set_hash: set.hash(LedgerHash::Sha256),
    };
    let hh = header.hash();
    let vote = |i: usize| (i as u16, keys[i].sign(&tessera_ledger::block::vote_message(&hh)));
    let cert = |idx: &[usize]| CommitCertificate {
        height: 5,
        header_hash: hh,
        signatures: idx.iter().map(|i| vote(*i)).collect(),
    };
    cert(&[0, 1, 3]).verify(&header, &set).unwrap();
    cert(&[0, 1, 2, 3]).verify(&header, &set).unwrap();
    assert!(cert(&[0, 1]).verify(&header, &set).is_err());
    // A repeated signer does not count twice; indices outside the set are refused.
    let mut dup = cert(&[0, 1]);
    dup.signatures.push(vote(1));
    assert!(dup.verify(&header, &set).is_err());
    let mut out = cert(&[0, 1, 2]);
    out.signatures[2].0 = 7;
    assert!(out.verify(&header, &set).is_err());
    // A vote under the wrong index is refused.
    let mut swapped = cert(&[0, 1, 2]);
    swapped.signatures[2].1 = vote(3).1;
    assert!(swapped.verify(&header, &set).is_err());
}

#[test]
fn a_receipt_of_another_chain_certified_by_the_same_validators_is_refused() {
    // One validator key certifies two ledgers, say staging and production: same validator set,
    // different chain ids (the genesis files differ in the chain name only).
    let validator = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let admins: Vec<KeyPair> =
        (0..3).map(|_| KeyPair::generate(SignatureSuite::Ed25519).unwrap()).collect();
    let production = genesis_with(LedgerHash::Sha256, &validator, &admins);
    let mut staging = production.clone();
    staging.chain_name = "staging".into();
    assert_eq!(staging.validators, production.validators);
    assert_ne!(staging.chain_id(), production.chain_id());

    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::create(dir.path().join("staging.redb"), &staging).unwrap();
    let key = KeyPair::from_secret(SignatureSuite::Ed25519, &validator.secret_bytes()).unwrap();
    let guard = SignGuard::create(dir.path().join("validator.guard")).unwrap();
    let mut engine = SingleValidator::new(ledger, key, guard, EngineConfig::default()).unwrap();
    let user = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let body = TxBody::RegisterDataSet {
        id: "d".into(),
        content_hash: HashAlg::Sha256.digest(b"x"),
        schema_hash: HashAlg::Sha256.digest(b"y"),
    };
    let tx =
        Transaction::sign(&staging.chain_id(), KeyRef::did_key(user.public_key()), 1, body, &user);
    let id = engine.submit(tx).unwrap();
    assert!(engine.seal(2_000).unwrap().unwrap().rejected.is_empty());
    let receipt = engine.ledger().tx_receipt(&id).unwrap();

    // Genuine for staging; the same receipt shown to a production verifier is refused, although
    // every signature in it is valid under the validator set production trusts.
    verify_receipt(&receipt, &staging.chain_id(), &staging.validators).unwrap();
    assert!(matches!(
        verify_receipt(&receipt, &production.chain_id(), &production.validators),
        Err(Error::WrongChain)
    ));
}

#[test]
fn a_receipt_of_a_revoked_grant_is_refused_below_the_demanded_height() {
    let mut n = net(LedgerHash::Sha256);
    let chain = n.chain;
    let mut owner = n.user("owner", SignatureSuite::Ed25519);
    let p1 = n.user("p1", SignatureSuite::Ed25519);
    dataset_and_grant(&mut n, &mut owner, "ds", "g", PROG, vec![p1.did()], 5);
    let key = StateKey::Grant { dataset: "ds".into(), grant: "g".into() };
    let before = n.ledger().state_receipt(&key).unwrap();
    let tx = owner.tx(&chain, TxBody::Revoke { dataset: "ds".into(), grant: "g".into() });
    n.run(tx).unwrap();
    let after = n.ledger().state_receipt(&key).unwrap();
    assert!(after.height() > before.height());
    assert_ne!(before.entry, after.entry);
    let set = &n.genesis.validators;

    // The old receipt is genuine, so plain verification accepts it: replaying it hides the
    // revocation. Demanding the height the verifier knows the chain reached refuses it.
    verify_receipt(&before, &chain, set).unwrap();
    let min = after.height();
    match verify_fresh_receipt(&before, &chain, set, min) {
        Err(Error::StaleReceipt { height, min: m }) => {
            assert_eq!((height, m), (before.height(), min))
        }
        other => panic!("stale receipt accepted: {other:?}"),
    }
    verify_fresh_receipt(&after, &chain, set, min).unwrap();
    // Freshness never excuses a bad receipt.
    let mut forged = after.clone();
    forged.header.height += 1;
    assert!(verify_fresh_receipt(&forged, &chain, set, 0).is_err());
}
