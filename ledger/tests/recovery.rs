//! DID key recovery end to end: a 2-of-3 backup on the ledger, holders opening and transferring
//! their shares, a holder offline, a corrupted share detected and skipped, shares under the wrong
//! context refused, and the rotation the recovery key approves.

mod common;

use common::{Net, User, net};
use tessera_ledger::recovery::{self, Recovered, ScalarShare};
use tessera_ledger::*;

struct Setup {
    n: Net,
    alice: User,
    holders: Vec<User>,
    backup: RecoveryBackup,
}

fn holder_refs(holders: &[User]) -> Vec<(KeyRef, PublicKey)> {
    holders.iter().map(|h| (h.kref.clone(), h.key.public_key())).collect()
}

/// Alice (of `suite`) publishes backup `id` to bob (Ed25519), carol (secp256k1) and dave (SM2),
/// threshold 2: first the controller rule, then the backup.
fn setup(suite: SignatureSuite) -> Setup {
    let mut n = net(LedgerHash::Sha256);
    let mut alice = n.user("alice", suite);
    let holders = vec![
        n.user("bob", SignatureSuite::Ed25519),
        n.user("carol", SignatureSuite::Secp256k1),
        n.user("dave", SignatureSuite::Sm2),
    ];
    let backup = publish(&mut n, &mut alice, &holders, "b1");
    assert_eq!(backup.recovery_key().unwrap().suite(), recovery::recovery_suite(suite));
    Setup { n, alice, holders, backup }
}

fn publish(n: &mut Net, alice: &mut User, holders: &[User], id: &str) -> RecoveryBackup {
    let chain = n.chain;
    let suite = recovery::recovery_suite(alice.key.suite());
    let b = recovery::deal(&chain, "alice", id, suite, 2, &holder_refs(holders)).unwrap();
    let cur = n.ledger().resolve(&alice.did()).unwrap();
    let (controllers, threshold) =
        recovery::with_recovery_controller(&cur, &b.recovery_did().unwrap()).unwrap();
    let mut doc = cur.clone();
    doc.controllers = controllers;
    doc.threshold = threshold;
    doc.version += 1;
    let msg = did_update_message(&chain, "alice", cur.version, Some(&doc));
    let approval = Approval { signer: alice.kref.clone(), signature: alice.key.sign(&msg) };
    let tx = alice.tx(&chain, TxBody::UpdateDid { document: doc, approvals: vec![approval] });
    n.run(tx).unwrap();
    let tx = alice.tx(&chain, TxBody::RecoveryBackup(b.clone()));
    n.run(tx).unwrap();
    b
}

/// What holder `h` hands the owner: its share, opened and re-sealed to `to`.
fn hand_over(s: &Setup, h: usize, to: &PublicKey) -> (u8, Vec<u8>) {
    let chain = s.n.chain;
    let holder = &s.holders[h];
    let index = s.backup.index_of(&holder.did()).unwrap();
    let share = recovery::open_share(&s.backup, &chain, index, &holder.key).unwrap();
    (index, recovery::transfer_share(&s.backup, &chain, &share, to).unwrap())
}

fn candidates(
    s: &Setup,
    new_key: &KeyPair,
    files: &[(u8, Vec<u8>)],
) -> Vec<(u8, Result<ScalarShare>)> {
    files
        .iter()
        .map(|(i, c)| (*i, recovery::open_transfer(&s.backup, &s.n.chain, *i, new_key, c)))
        .collect()
}

fn recover_and_rotate(suite: SignatureSuite) {
    let mut s = setup(suite);
    let chain = s.n.chain;
    let stored: RecoveryBackup =
        s.n.ledger()
            .state_value(&StateKey::Recovery { did: "alice".into(), backup: "b1".into() })
            .unwrap()
            .map(|v| RecoveryBackup::from_bytes(&v).unwrap())
            .expect("backup on the ledger");
    assert_eq!(stored, s.backup);

    // Alice lost her key; she makes a new one and asks her holders.
    let new_key = KeyPair::generate(suite).unwrap();
    let to = new_key.public_key();
    // Bob is offline. Carol answers. Dave's answer is corrupted: a share off the polynomial,
    // correctly sealed (a lying or broken holder), then one whose ciphertext is damaged.
    let carol = hand_over(&s, 1, &to);
    let dave_index = s.backup.index_of(&s.holders[2].did()).unwrap();
    let mut lie = recovery::open_share(&s.backup, &chain, dave_index, &s.holders[2].key).unwrap();
    lie.value[31] ^= 1;
    let dave_lie = (dave_index, recovery::transfer_share(&s.backup, &chain, &lie, &to).unwrap());
    let mut dave_damaged = hand_over(&s, 2, &to);
    let mid = dave_damaged.1.len() / 2;
    dave_damaged.1[mid] ^= 0x40;

    let got = candidates(&s, &new_key, &[carol.clone(), dave_lie.clone(), dave_damaged.clone()]);
    match recovery::recover_key(&s.backup, got) {
        Err(Error::ThresholdNotMet { needed: 2, got: 1 }) => {}
        other => panic!("one good share must not recover: {other:?}"),
    }
    // A holder cannot vouch twice: carol's share given twice still counts once.
    let got = candidates(&s, &new_key, &[carol.clone(), carol.clone()]);
    assert!(matches!(
        recovery::recover_key(&s.backup, got),
        Err(Error::ThresholdNotMet { needed: 2, got: 1 })
    ));

    // `recover_key` checks what it is given itself: a raw share off the polynomial, or one
    // presented under another index, is refused.
    let carol_share = recovery::open_share(&s.backup, &chain, 2, &s.holders[1].key).unwrap();
    let raw = vec![(dave_index, Ok(lie.clone())), (2, Ok(carol_share.clone()))];
    assert!(matches!(
        recovery::recover_key(&s.backup, raw),
        Err(Error::ThresholdNotMet { needed: 2, got: 1 })
    ));
    let raw = vec![(1, Ok(carol_share.clone())), (2, Ok(carol_share))];
    assert!(matches!(
        recovery::recover_key(&s.backup, raw),
        Err(Error::ThresholdNotMet { needed: 2, got: 1 })
    ));

    // Bob comes back online: two good shares; dave's bad ones are reported and skipped.
    let bob = hand_over(&s, 0, &to);
    let got = candidates(&s, &new_key, &[dave_lie, carol, dave_damaged, bob]);
    let Recovered { key: rk, used, refused } = recovery::recover_key(&s.backup, got).unwrap();
    assert_eq!(rk.public_key(), s.backup.recovery_key().unwrap());
    assert_eq!(used, vec![2, 1]);
    assert_eq!(refused.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![3, 3]);
    assert!(refused.iter().all(|(_, e)| matches!(e, Error::Backup(_))));

    // The recovery key rotates the DID to the new key and drops itself as a controller.
    let cur = s.n.ledger().resolve(&s.alice.did()).unwrap();
    let mut new_doc = cur.clone();
    new_doc.methods[0].key = new_key.public_key();
    new_doc.controllers.clear();
    new_doc.threshold = 1;
    new_doc.version += 1;
    let mut rec =
        User { key: rk, kref: KeyRef::did_key(s.backup.recovery_key().unwrap()), nonce: 0 };
    // A forged recovery approval is refused.
    let mut forged = recovery::rotation_approval(&chain, &cur, &new_doc, &rec.key);
    forged.signature.0[5] ^= 1;
    let tx =
        rec.tx(&chain, TxBody::UpdateDid { document: new_doc.clone(), approvals: vec![forged] });
    assert!(matches!(s.n.run(tx), Err(Error::BadSignature)));
    let approval = recovery::rotation_approval(&chain, &cur, &new_doc, &rec.key);
    let tx =
        rec.tx(&chain, TxBody::UpdateDid { document: new_doc.clone(), approvals: vec![approval] });
    s.n.run(tx).unwrap();
    let now = s.n.ledger().resolve(&s.alice.did()).unwrap();
    assert_eq!(now.method("key-1"), Some(&new_key.public_key()));

    // The old key no longer signs for alice, nor approves an update; the spent recovery key no
    // longer controls her; the new key does.
    let tx = s.alice.tx(
        &chain,
        TxBody::RegisterDataSet {
            id: "after".into(),
            content_hash: HashAlg::Sha256.digest(b"x"),
            schema_hash: HashAlg::Sha256.digest(b"y"),
        },
    );
    assert!(matches!(s.n.run(tx), Err(Error::BadSignature)));
    let mut again = now.clone();
    again.version += 1;
    let msg = did_update_message(&chain, "alice", now.version, Some(&again));
    let old = Approval { signer: s.alice.kref.clone(), signature: s.alice.key.sign(&msg) };
    let tx = rec.tx(&chain, TxBody::UpdateDid { document: again.clone(), approvals: vec![old] });
    assert!(matches!(s.n.run(tx), Err(Error::BadSignature)));
    let by_rk = recovery::rotation_approval(&chain, &now, &again, &rec.key);
    let tx = rec.tx(&chain, TxBody::UpdateDid { document: again, approvals: vec![by_rk] });
    assert!(matches!(s.n.run(tx), Err(Error::NotAuthorised(_))));
    let mut alice2 = User { key: new_key, kref: s.alice.kref.clone(), nonce: s.alice.nonce };
    let tx = alice2.tx(
        &chain,
        TxBody::RegisterDataSet {
            id: "after".into(),
            content_hash: HashAlg::Sha256.digest(b"x"),
            schema_hash: HashAlg::Sha256.digest(b"y"),
        },
    );
    s.n.run(tx).unwrap();
}

#[test]
fn ed25519_did_recovers_through_a_secp256k1_recovery_key() {
    recover_and_rotate(SignatureSuite::Ed25519);
}

#[test]
fn sm2_did_recovers_through_an_sm2_recovery_key() {
    recover_and_rotate(SignatureSuite::Sm2);
}

#[test]
fn shares_under_another_context_are_refused() {
    let mut s = setup(SignatureSuite::Secp256k1);
    let chain = s.n.chain;
    let b2 = publish(&mut s.n, &mut s.alice, &s.holders, "b2");
    let carol = &s.holders[1];
    // Carol's sealed share from b1 put into b2 (same holder, same key, same index): refused.
    let mut moved = b2.clone();
    moved.shares[1].sealed = s.backup.shares[1].sealed.clone();
    assert!(recovery::open_share(&moved, &chain, 2, &carol.key).is_err());
    assert!(recovery::open_share(&b2, &chain, 2, &carol.key).is_ok());
    // Under another chain id, or moved with its holder entry to another index: refused.
    assert!(recovery::open_share(&s.backup, &[9; 32], 2, &carol.key).is_err());
    let mut readdressed = s.backup.clone();
    readdressed.shares.swap(0, 1);
    assert!(recovery::open_share(&readdressed, &chain, 1, &carol.key).is_err());
    // Another holder's key cannot open carol's share.
    assert!(recovery::open_share(&s.backup, &chain, 2, &s.holders[0].key).is_err());

    // A transferred share only opens for the key and index it was sealed to.
    let new_key = KeyPair::generate(SignatureSuite::Secp256k1).unwrap();
    let (i, file) = hand_over(&s, 1, &new_key.public_key());
    assert!(recovery::open_transfer(&s.backup, &chain, i, &new_key, &file).is_ok());
    assert!(recovery::open_transfer(&s.backup, &chain, i + 1, &new_key, &file).is_err());
    assert!(recovery::open_transfer(&b2, &chain, i, &new_key, &file).is_err());
    let thief = KeyPair::generate(SignatureSuite::Secp256k1).unwrap();
    assert!(recovery::open_transfer(&s.backup, &chain, i, &thief, &file).is_err());
}

#[test]
fn the_ledger_refuses_bad_backups() {
    let mut n = net(LedgerHash::Sm3);
    let chain = n.chain;
    let mut alice = n.user("alice", SignatureSuite::Ed25519);
    let mut mallory = n.user("mallory", SignatureSuite::Ed25519);
    let holders = vec![
        n.user("bob", SignatureSuite::Ed25519),
        n.user("carol", SignatureSuite::Sm2),
        n.user("dave", SignatureSuite::Secp256k1),
    ];
    let refs = holder_refs(&holders);
    let b = recovery::deal(&chain, "alice", "b1", SignatureSuite::Secp256k1, 2, &refs).unwrap();
    // The recovery key is not yet a controller of alice's document.
    let tx = alice.tx(&chain, TxBody::RecoveryBackup(b.clone()));
    assert!(matches!(n.run(tx), Err(Error::Backup(_))));
    let b = publish(&mut n, &mut alice, &holders, "b1");
    // Nobody else publishes a backup of alice, and a backup is never overwritten.
    let tx = mallory.tx(&chain, TxBody::RecoveryBackup(b.clone()));
    assert!(matches!(n.run(tx), Err(Error::NotAuthorised(_))));
    let tx = alice.tx(&chain, TxBody::RecoveryBackup(b.clone()));
    assert!(matches!(n.run(tx), Err(Error::AlreadyExists { .. })));
    // A share sealed to a key the holder does not have; a holder named twice; the owner as its
    // own holder; a threshold of one; a missing commitment.
    let mut stale = refs.clone();
    stale[1].1 = KeyPair::generate(SignatureSuite::Sm2).unwrap().public_key();
    let cur = n.ledger().resolve(&alice.did()).unwrap();
    let rk_controller = |bk: &RecoveryBackup| {
        // Keep the document's recovery controller pointing at this backup's key.
        let (c, t) = recovery::with_recovery_controller(&cur, &bk.recovery_did().unwrap()).unwrap();
        let mut d = cur.clone();
        d.controllers = c;
        d.threshold = t;
        d
    };
    let bad = recovery::deal(&chain, "alice", "b2", SignatureSuite::Secp256k1, 2, &stale).unwrap();
    let mut doc = rk_controller(&bad);
    doc.version = cur.version + 1;
    let msg = did_update_message(&chain, "alice", cur.version, Some(&doc));
    let ap = Approval { signer: alice.kref.clone(), signature: alice.key.sign(&msg) };
    n.run(alice.tx(&chain, TxBody::UpdateDid { document: doc, approvals: vec![ap] })).unwrap();
    let tx = alice.tx(&chain, TxBody::RecoveryBackup(bad.clone()));
    assert!(matches!(n.run(tx), Err(Error::Backup(_))));
    let mut twice = bad.clone();
    twice.id = "b3".into();
    twice.shares[1] = twice.shares[0].clone();
    let tx = alice.tx(&chain, TxBody::RecoveryBackup(twice));
    assert!(matches!(n.run(tx), Err(Error::Backup(_))));
    let mut own = refs.clone();
    own[0] = (alice.kref.clone(), alice.key.public_key());
    assert!(recovery::deal(&chain, "alice", "b4", SignatureSuite::Secp256k1, 2, &own).is_err());
    assert!(recovery::deal(&chain, "alice", "b5", SignatureSuite::Secp256k1, 1, &refs).is_err());
    assert!(recovery::deal(&chain, "alice", "b6", SignatureSuite::Ed25519, 2, &refs).is_err());
    let mut short = bad.clone();
    short.id = "b7".into();
    short.commitments.pop();
    let tx = alice.tx(&chain, TxBody::RecoveryBackup(short));
    assert!(matches!(n.run(tx), Err(Error::Backup(_))));
    // The published backup decodes back, and garbage does not decode.
    let bytes = b.to_bytes();
    assert_eq!(RecoveryBackup::from_bytes(&bytes).unwrap(), b);
    for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
        assert!(RecoveryBackup::from_bytes(&bytes[..cut]).is_err());
    }
}
