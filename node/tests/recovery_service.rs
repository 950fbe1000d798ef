//! Recovery admission on the ledger service, attacked in-process. Alice backs up her DID to
//! bob, carol and dave (threshold 2) through a served ledger and loses her key; her new home's
//! TLS key is not in her document, so a plain hello is refused and she connects with a recovery
//! hello. A recovery connection may read only its DID, its backup and the recovery key's nonce,
//! and submit only the rotation the recovery key approves: a non-recovery transaction, reads of
//! other entries, receipts, job evidence and audit queries are `Forbidden`; a rotation signed
//! with a key rebuilt from one share (or any other key) is `Rejected` before the ledger sees it;
//! a rotation by the real key that publishes another TLS key or keeps the recovery key as a
//! controller is `Forbidden`. Connections, requests and attempts are bounded. The document is
//! untouched by all of it and the service keeps serving; the real recovery then rotates the DID,
//! the new home is admitted as a member, the old key is powerless, and the path is shut.

mod service_wire;
use service_wire::{code, tls_key};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tessera_ledger::audit::{Page, Query};
use tessera_ledger::recovery::{self, RecoveryBackup};
use tessera_ledger::{
    Did, DidDocument, KeyPair, KeyRef, SignatureSuite, StateKey, Transaction, TxBody,
};
use tessera_node::Error;
use tessera_node::home::{Home, RemoteLedger as RemoteConfig};
use tessera_node::ledgerclient::{LedgerSession, NodeLedger, RemoteLedger};
use tessera_node::ledgerdir::LedgerDir;
use tessera_node::ledgerserve::{
    LedgerServer, MAX_RECOVERY_CONNECTIONS, RECOVERY_REQUESTS, RECOVERY_SUBMITS,
};
use tessera_node::ledgerwire::{ErrorCode, Request, Response};
use tessera_node::{ops, recovery as node_recovery};

struct Fixture {
    dir: tempfile::TempDir,
    _server: LedgerServer,
    remote: RemoteConfig,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ledger = LedgerDir::create(&dir.path().join("ledger"), "recovery-svc").unwrap();
        let server = LedgerServer::start(ledger, SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let remote = RemoteConfig {
            endpoint: server.endpoint_uri(),
            validator: server.validator_did().to_string(),
        };
        Self { dir, _server: server, remote }
    }

    /// A home `dir/<folder>` named `name` on the served ledger (no DID published).
    fn home(&self, folder: &str, name: &str, suite: &str) -> Home {
        let path = self.dir.path().join(folder);
        let mut h = Home::init(&path, name, suite, None, Path::new("")).unwrap();
        h.config.ledger_remote = Some(self.remote.clone());
        h.save().unwrap();
        Home::load(&path).unwrap()
    }

    /// A raw session with `home`'s TLS key (no hello sent).
    fn session(&self, home: &Home) -> LedgerSession {
        LedgerSession::open(&tls_key(home), &self.remote).unwrap()
    }

    /// A session admitted by a recovery hello for `did`'s backup `backup`.
    fn recovering(&self, home: &Home, did: &Did, backup: &str) -> LedgerSession {
        let s = self.session(home);
        let hello = Request::RecoveryHello { did: did.clone(), backup: backup.into() };
        assert_eq!(s.request(&hello).unwrap(), Response::Hello { member: false });
        s
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn submit(s: &LedgerSession, tx: Transaction) -> Response {
    s.request(&Request::Submit(Box::new(tx))).unwrap()
}

fn wait_closed(s: &LedgerSession) -> bool {
    let t = Instant::now();
    while !s.is_closed() && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    s.is_closed()
}

/// The rotation of `cur` to `doc`, signed and approved by `key` claiming to be `signer`.
fn rotation(
    chain: &tessera_ledger::Hash32,
    cur: &DidDocument,
    doc: DidDocument,
    signer: &KeyRef,
    key: &KeyPair,
) -> Transaction {
    let msg = tessera_ledger::did_update_message(chain, &cur.id, cur.version, Some(&doc));
    let approval = tessera_ledger::Approval { signer: signer.clone(), signature: key.sign(&msg) };
    let body = TxBody::UpdateDid { document: doc, approvals: vec![approval] };
    Transaction::sign(chain, signer.clone(), 1, body, key)
}

#[test]
fn a_recovery_connection_does_only_the_rotation_its_recovery_key_approves() {
    let f = Fixture::new();
    let alice = f.home("alice", "alice", "ed25519");
    let holders: Vec<Home> = [("bob", "sm2"), ("carol", "ed25519"), ("dave", "sm2")]
        .iter()
        .map(|(n, s)| f.home(n, n, s))
        .collect();
    for h in std::iter::once(&alice).chain(&holders) {
        ops::did_create(h).unwrap();
    }
    let names: Vec<String> = holders.iter().map(|h| h.did().to_string()).collect();
    let report = node_recovery::backup(&alice, &names, 2, "b1").unwrap();
    let bob = NodeLedger::open(&holders[0]).unwrap();
    let chain = bob.chain_id();
    let before = bob.resolve(&alice.did()).unwrap();
    let rk = Did::parse(&report.recovery_key).unwrap();
    assert!(before.controllers.contains(&rk));

    let height = bob.height().unwrap();
    // Alice loses her home; the new one has a new signing key and a new TLS key.
    let alice2 = f.home("alice-new", "alice", "ed25519");
    // Today's refusal: a plain hello with a TLS key that is not the DID's, and the connection
    // ends. The client API says so with an identity error.
    let s = f.session(&alice2);
    assert_eq!(
        code(s.request(&Request::Hello { did: alice.did() }).unwrap()),
        ErrorCode::Forbidden
    );
    assert!(wait_closed(&s));
    assert!(matches!(NodeLedger::open(&alice2), Err(Error::Identity(_))));

    // Recovery hellos that name nothing recoverable are refused, and the connection ends.
    for (did, backup, want) in [
        (Did::tessera("nobody").unwrap(), "b1", ErrorCode::NotFound),
        (alice.did(), "b2", ErrorCode::NotFound),
        (rk.clone(), "b1", ErrorCode::Forbidden),
    ] {
        let s = f.session(&alice2);
        let r = s.request(&Request::RecoveryHello { did: did.clone(), backup: backup.into() });
        assert_eq!(code(r.unwrap()), want, "{did} {backup}");
        assert!(wait_closed(&s), "{did} {backup}");
    }

    // Admitted: the reads recovery needs, and nothing else.
    let backup_key = StateKey::Recovery { did: "alice".into(), backup: "b1".into() };
    let rogue = KeyPair::generate(SignatureSuite::Secp256k1).unwrap();
    let ds = || TxBody::Revoke { dataset: "alice-data".into(), grant: "g1".into() };
    {
        let s = f.recovering(&alice2, &alice.did(), "b1");
        let read = |k: StateKey| s.request(&Request::State(k)).unwrap();
        assert!(matches!(read(StateKey::Did("alice".into())), Response::Receipt(_)));
        let Response::Receipt(rc) = read(backup_key.clone()) else { panic!("backup unreadable") };
        tessera_ledger::verify_receipt(&rc, &chain, &bob.genesis().validators).unwrap();
        assert!(matches!(read(StateKey::Nonce(rk.to_string())), Response::Receipt(_)));
        for k in [
            StateKey::Did("bob".into()),
            StateKey::Nonce("did:tessera:alice".into()),
            StateKey::Recovery { did: "alice".into(), backup: "b2".into() },
            StateKey::Supervisors,
            StateKey::DataSet("x".into()),
        ] {
            assert_eq!(code(read(k.clone())), ErrorCode::Forbidden, "{k:?}");
        }
        let audit = Query::ByDid { did: alice.did(), page: Page::first(10) };
        for req in [
            Request::Audit(Box::new(audit)),
            Request::TxReceipt([0; 32]),
            Request::JobEvidence("job-1".into()),
            Request::Hello { did: alice.did() },
            Request::RecoveryHello { did: alice.did(), backup: "b1".into() },
        ] {
            assert_eq!(code(s.request(&req).unwrap()), ErrorCode::Forbidden, "{req:?}");
        }

        // Non-recovery transactions: signed by the new home as alice, by some did:key, or claiming
        // the recovery key: all refused before the ledger sees them.
        let as_alice = Transaction::sign(&chain, alice2.key_ref(), 1, ds(), alice2.key());
        assert_eq!(code(submit(&s, as_alice)), ErrorCode::Forbidden);
    }
    let s = f.recovering(&alice2, &alice.did(), "b1");
    let rk_ref = KeyRef::did_key(*rk.as_key().unwrap());
    let claimed = Transaction::sign(&chain, rk_ref.clone(), 1, ds(), &rogue);
    assert_eq!(code(submit(&s, claimed)), ErrorCode::Forbidden);
    // An attacker's own did:key approving the rotation: not the recovery key.
    let new_doc = || {
        let mut d = ops::my_document(&alice2).unwrap();
        d.version = before.version + 1;
        d
    };
    let own = rotation(&chain, &before, new_doc(), &KeyRef::did_key(rogue.public_key()), &rogue);
    assert_eq!(code(submit(&s, own)), ErrorCode::Forbidden);

    // Carol's and dave's shares, re-sealed to the new key through the served ledger (holders are
    // members and read the backup as before).
    let to = Did::Key(alice2.key().public_key()).to_string();
    let files: Vec<PathBuf> = holders[1..]
        .iter()
        .map(|h| {
            let sf = node_recovery::backup_share(h, "did:tessera:alice", "b1", &to).unwrap();
            let p = f.path(&format!("{}.share", h.config.name));
            node_recovery::write_share_file(&p, &sf).unwrap();
            p
        })
        .collect();
    let b: RecoveryBackup = bob.state(&backup_key).unwrap().unwrap();
    let opened: Vec<_> = files
        .iter()
        .map(|p| {
            let sf = node_recovery::read_share_file(p).unwrap();
            let sealed = hex::decode(&sf.sealed).unwrap();
            recovery::open_transfer(&b, &chain, sf.index, alice2.key(), &sealed).unwrap()
        })
        .collect();

    // An insufficient key: one share taken for the secret. It claims the recovery key's did:key
    // but signs with another key: `Rejected`, without reaching the ledger.
    let suite = b.recovery_key().unwrap().suite();
    let one = KeyPair::from_secret(suite, &opened[0].value).unwrap();
    assert_ne!(one.public_key(), b.recovery_key().unwrap());
    let forged = rotation(&chain, &before, new_doc(), &rk_ref, &one);
    assert_eq!(code(submit(&s, forged)), ErrorCode::Rejected);
    // The connection's attempts are spent: the next is refused and the connection ends.
    let r = recovery::recover_key(&b, opened.iter().map(|s| (s.index, Ok(s.clone()))).collect())
        .unwrap();
    let good = rotation(&chain, &before, new_doc(), &rk_ref, &r.key);
    assert_eq!(RECOVERY_SUBMITS, 3);
    assert_eq!(code(submit(&s, good.clone())), ErrorCode::Forbidden);
    assert!(wait_closed(&s));

    // The real key, but a rotation that publishes another TLS key (someone else's home) or keeps
    // the spent recovery key as a controller: not the recovery rotation.
    let s = f.recovering(&alice2, &alice.did(), "b1");
    let mut other_tls = new_doc();
    other_tls.methods = ops::my_document(&holders[0]).unwrap().methods;
    other_tls.id = "alice".into();
    let t = rotation(&chain, &before, other_tls, &rk_ref, &r.key);
    assert_eq!(code(submit(&s, t)), ErrorCode::Forbidden);
    let mut keeps = new_doc();
    keeps.controllers = vec![alice.did(), rk.clone()];
    let t = rotation(&chain, &before, keeps, &rk_ref, &r.key);
    assert_eq!(code(submit(&s, t)), ErrorCode::Forbidden);
    // Approved over another version: the recovery key's approval does not verify.
    let mut stale = before.clone();
    stale.version = before.version + 7;
    let t = rotation(&chain, &stale, new_doc(), &rk_ref, &r.key);
    assert_eq!(code(submit(&s, t)), ErrorCode::Rejected);
    drop(s);

    // Requests are bounded per connection.
    let s = f.recovering(&alice2, &alice.did(), "b1");
    for _ in 0..RECOVERY_REQUESTS {
        assert!(matches!(s.request(&Request::Tip).unwrap(), Response::Tip { .. }));
    }
    assert_eq!(code(s.request(&Request::Tip).unwrap()), ErrorCode::Forbidden);
    assert!(wait_closed(&s));
    drop(s);
    // and so are simultaneous recovery connections; a closed one frees its place.
    let mut open: Vec<LedgerSession> =
        (0..MAX_RECOVERY_CONNECTIONS).map(|_| f.recovering(&alice2, &alice.did(), "b1")).collect();
    let extra = f.session(&alice2);
    let r2 = extra.request(&Request::RecoveryHello { did: alice.did(), backup: "b1".into() });
    assert_eq!(code(r2.unwrap()), ErrorCode::Busy);
    drop(open.pop());
    let t = Instant::now();
    let freed = loop {
        let s = f.session(&alice2);
        match s.request(&Request::RecoveryHello { did: alice.did(), backup: "b1".into() }) {
            Ok(Response::Hello { member: false }) => break true,
            _ if t.elapsed() > Duration::from_secs(5) => break false,
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    assert!(freed, "a closed recovery connection kept its place");
    drop(open);

    // Nothing changed alice's document, no attempt reached the ledger (a rejected transaction
    // would still seal a block), and the service kept serving members throughout.
    assert_eq!(bob.resolve(&alice.did()).unwrap(), before);
    assert_eq!(bob.height().unwrap(), height, "a refused attempt reached the ledger");
    let old = RemoteLedger::connect(&tls_key(&alice), &alice.did(), &f.remote).unwrap();
    assert!(old.is_member());
    drop(old);

    // The real recovery, through the client: the rotation lands.
    let rep = node_recovery::recover(&alice2, "b1", &files).unwrap();
    assert_eq!(rep.used.len(), 2);
    let after = bob.resolve(&alice.did()).unwrap();
    assert_eq!(after.version, before.version + 1);
    assert_eq!(after.methods, ops::my_document(&alice2).unwrap().methods);
    assert!(after.controllers.is_empty());
    // The new home is now a member; the old home's TLS key and signing key are powerless.
    let NodeLedger::Remote(l) = NodeLedger::open(&alice2).unwrap() else { panic!("not remote") };
    assert!(l.is_member());
    drop(l);
    assert!(matches!(
        RemoteLedger::connect(&tls_key(&alice), &alice.did(), &f.remote),
        Err(Error::Identity(_))
    ));
    let l = NodeLedger::open(&alice2).unwrap();
    let t = Transaction::sign(&chain, alice.key_ref(), 9, ds(), alice.key());
    let NodeLedger::Remote(r) = &l else { panic!("not remote") };
    assert!(matches!(r.submit_signed(&t), Err(Error::Rejected(_))), "the old key signed");
    drop(l);
    // The recovery key no longer controls alice: the path is shut for this backup, and the
    // spent rotation cannot be replayed.
    let s = f.session(&alice2);
    let r3 = s.request(&Request::RecoveryHello { did: alice.did(), backup: "b1".into() });
    assert_eq!(code(r3.unwrap()), ErrorCode::Forbidden);
    assert!(matches!(
        node_recovery::recover(&alice2, "b1", &files),
        Err(Error::NotAuthorised(_) | Error::Identity(_))
    ));
    assert_eq!(bob.resolve(&alice.did()).unwrap(), after);
}
