//! The audit index and queries against a ledger with known jobs, grants and revocations: exact
//! answers, answers that verify offline and tampered ones that do not, job evidence, the
//! supervisor role, refused commitments, and an index rebuilt for a database written without it.

mod common;
use common::*;
use tessera_ledger::audit::*;
use tessera_ledger::*;

const PROG: Hash32 = [0xaa; 32];
const PROG2: Hash32 = [0xbb; 32];

struct World {
    n: Net,
    alice: User,
    bob: User,
    carol: User,
    sup: User,
    /// Transaction ids by name.
    ids: std::collections::BTreeMap<&'static str, Hash32>,
}

fn gov(n: &Net, seq: u64, action: GovAction) -> TxBody {
    let msg = governance_message(&n.chain, seq, &action);
    let approvals = [&n.admins[0], &n.admins[2]]
        .iter()
        .map(|k| AdminApproval { admin: k.public_key(), signature: k.sign(&msg) })
        .collect();
    TxBody::Governance { seq, action, approvals }
}

fn register(n: &mut Net, u: &mut User, ds: &str) -> Hash32 {
    let chain = n.chain;
    let tx = u.tx(
        &chain,
        TxBody::RegisterDataSet {
            id: ds.into(),
            content_hash: HashAlg::Sha256.digest(ds.as_bytes()),
            schema_hash: HashAlg::Sha256.digest(b"schema"),
        },
    );
    n.run(tx).unwrap()
}

fn grant(
    n: &mut Net,
    u: &mut User,
    (ds, g): (&str, &str),
    program: Hash32,
    to: Vec<Did>,
    uses: u64,
    valid_ms: u64,
) -> Result<Hash32> {
    let chain = n.chain;
    let expires_at_ms = n.now + valid_ms;
    let tx = u.tx(
        &chain,
        TxBody::Grant {
            dataset: ds.into(),
            grant: g.into(),
            program_hash: program,
            grantees: to,
            expires_at_ms,
            max_uses: uses,
        },
    );
    n.run(tx)
}

/// alice owns ds-a (grants g1 used up, g2 revoked after job j4, g3 expired, g4 active), bob owns
/// ds-b (grant h1); jobs j1 (alice+bob on g1, h1), j2 (bob+carol on g1), j4 (alice+bob on g2).
fn world() -> World {
    let mut n = net(LedgerHash::Sha256);
    let mut alice = n.user("alice", SignatureSuite::Ed25519);
    let mut bob = n.user("bob", SignatureSuite::Secp256k1);
    let carol = n.user("carol", SignatureSuite::Sm2);
    let mut sup = n.user("sup", SignatureSuite::Ed25519);
    let mut ids = std::collections::BTreeMap::new();
    let (a, b, c) = (alice.did(), bob.did(), carol.did());
    let body = gov(&n, 1, GovAction::AddSupervisor(sup.did()));
    ids.insert("add-sup", n.run(sup.tx(&n.chain.clone(), body)).unwrap());
    ids.insert("reg-a", register(&mut n, &mut alice, "ds-a"));
    ids.insert("reg-b", register(&mut n, &mut bob, "ds-b"));
    ids.insert(
        "g1",
        grant(&mut n, &mut alice, ("ds-a", "g1"), PROG, vec![b.clone(), c.clone()], 2, 1 << 30)
            .unwrap(),
    );
    ids.insert(
        "g2",
        grant(&mut n, &mut alice, ("ds-a", "g2"), PROG2, vec![b.clone()], 5, 1 << 30).unwrap(),
    );
    ids.insert(
        "g3",
        grant(&mut n, &mut alice, ("ds-a", "g3"), PROG, vec![b.clone()], 5, 2500).unwrap(),
    );
    ids.insert(
        "h1",
        grant(&mut n, &mut bob, ("ds-b", "h1"), PROG, vec![a.clone(), c.clone()], 5, 1 << 30)
            .unwrap(),
    );
    let j1 = {
        let chain = n.chain;
        let cm = commitment(
            &chain,
            "j1",
            &[&alice, &bob],
            PROG,
            vec![input("ds-a", "g1"), input("ds-b", "h1")],
        );
        let tx = alice.tx(&chain, TxBody::Commit(cm));
        n.run(tx).unwrap()
    };
    ids.insert("j1", j1);
    let j2 = {
        let chain = n.chain;
        let cm = commitment(&chain, "j2", &[&bob, &carol], PROG, vec![input("ds-a", "g1")]);
        let tx = bob.tx(&chain, TxBody::Commit(cm));
        n.run(tx).unwrap()
    };
    ids.insert("j2", j2);
    let j4 = {
        let chain = n.chain;
        let cm = commitment(&chain, "j4", &[&alice, &bob], PROG2, vec![input("ds-a", "g2")]);
        let tx = bob.tx(&chain, TxBody::Commit(cm));
        n.run(tx).unwrap()
    };
    ids.insert("j4", j4);
    let chain = n.chain;
    let tx = alice.tx(&chain, TxBody::Revoke { dataset: "ds-a".into(), grant: "g2".into() });
    ids.insert("revoke-g2", n.run(tx).unwrap());
    ids.insert(
        "g4",
        grant(&mut n, &mut alice, ("ds-a", "g4"), PROG, vec![b.clone()], 3, 1 << 30).unwrap(),
    );
    World { n, alice, bob, carol, sup, ids }
}

impl World {
    fn ask(&self, q: &Query) -> Vec<Checked> {
        let a = self.n.ledger().audit(q).unwrap();
        verify_answer(q, &a, &self.n.chain, &self.n.genesis.validators).unwrap()
    }
    fn tx_ids(&self, q: &Query) -> Vec<Hash32> {
        self.ask(q)
            .into_iter()
            .map(|c| match c {
                Checked::Tx { id, .. } => id,
                other => panic!("not a transaction: {other:?}"),
            })
            .collect()
    }
    fn named(&self, names: &[&str]) -> Vec<Hash32> {
        names.iter().map(|n| self.ids[n]).collect()
    }
}

fn all(limit: u32) -> Page {
    Page::first(limit)
}

#[test]
fn queries_give_exact_answers_that_verify_offline() {
    let w = world();
    let carol = w.carol.did();
    // carol: her DID's creation (no name: look it up), grantee of g1 and h1, participant of j2.
    let got = w.tx_ids(&Query::ByDid { did: carol.clone(), page: all(100) });
    assert_eq!(got.len(), 4);
    assert_eq!(&got[1..], w.named(&["g1", "h1", "j2"]).as_slice());
    let ds_a = w.tx_ids(&Query::ByDataSet { dataset: "ds-a".into(), page: all(100) });
    assert_eq!(ds_a, w.named(&["reg-a", "g1", "g2", "g3", "j1", "j2", "j4", "revoke-g2", "g4"]));
    assert_eq!(
        w.tx_ids(&Query::ByProgram { program: PROG2, page: all(100) }),
        w.named(&["g2", "j4"])
    );
    assert_eq!(
        w.tx_ids(&Query::GrantHistory { dataset: "ds-a".into(), grant: "g1".into(), page: all(9) }),
        w.named(&["g1", "j1", "j2"])
    );
    assert_eq!(
        w.tx_ids(&Query::GrantHistory { dataset: "ds-a".into(), grant: "g2".into(), page: all(9) }),
        w.named(&["g2", "j4", "revoke-g2"])
    );
    // The supervisor's entries: its creation and its appointment.
    let sup = w.tx_ids(&Query::ByDid { did: w.sup.did(), page: all(10) });
    assert_eq!(sup.len(), 2);
    assert_eq!(sup[1], w.ids["add-sup"]);
    // Unknown keys: empty, not an error.
    assert!(w.tx_ids(&Query::ByDataSet { dataset: "nope".into(), page: all(5) }).is_empty());

    // By time: the blocks of j1 and j2 (one transaction per block).
    let h = |id: &Hash32| w.n.ledger().tx_receipt(id).unwrap().header;
    let (t1, t2) = (h(&w.ids["j1"]).time_ms, h(&w.ids["j2"]).time_ms);
    assert_eq!(
        w.tx_ids(&Query::ByTime { from_ms: t1, to_ms: t2, page: all(100) }),
        w.named(&["j1", "j2"])
    );

    // Blocks: contiguous, linked, with their transaction ids.
    let blocks = w.ask(&Query::Blocks { from: 0, to: 4, page: all(100) });
    let heights: Vec<u64> = blocks
        .iter()
        .map(|b| match b {
            Checked::Block { header, tx_ids } => {
                assert_eq!(tx_ids.len(), 1);
                header.height
            }
            _ => panic!(),
        })
        .collect();
    assert_eq!(heights, vec![1, 2, 3, 4]);

    // Grants of ds-a with their states at the tip.
    let grants = w.ask(&Query::GrantsOf { dataset: "ds-a".into(), page: all(100) });
    let mut states: Vec<(String, &'static str)> = grants
        .iter()
        .map(|c| match c {
            Checked::State { key, value, time_ms, .. } => {
                let g = GrantRecord::from_bytes(value).unwrap();
                let name = String::from_utf8(key[b"grant/ds-a/".len()..].to_vec()).unwrap();
                (name, grant_state(&g, *time_ms).name())
            }
            _ => panic!(),
        })
        .collect();
    states.sort();
    assert_eq!(
        states,
        vec![
            ("g1".into(), "used-up"),
            ("g2".into(), "revoked"),
            ("g3".into(), "expired"),
            ("g4".into(), "active")
        ]
    );
    let owned = w.ask(&Query::DataSetsOf { owner: w.alice.did(), page: all(10) });
    assert!(matches!(&owned[..], [Checked::State { key, .. }] if key == b"dataset/ds-a"));

    // Paging: three at a time gives the same list as one page.
    let mut q = Query::ByDataSet { dataset: "ds-a".into(), page: all(3) };
    let mut paged = Vec::new();
    loop {
        let a = w.n.ledger().audit(&q).unwrap();
        for c in verify_answer(&q, &a, &w.n.chain, &w.n.genesis.validators).unwrap() {
            if let Checked::Tx { id, .. } = c {
                paged.push(id);
            }
        }
        match a.next {
            Some(next) => q = q.with_after(next),
            None => break,
        }
    }
    assert_eq!(paged, ds_a);
    let mut q = Query::Blocks { from: 1, to: 100, page: all(4) };
    let mut n = 0;
    loop {
        let a = w.n.ledger().audit(&q).unwrap();
        n += verify_answer(&q, &a, &w.n.chain, &w.n.genesis.validators).unwrap().len();
        match a.next {
            Some(next) => q = q.with_after(next),
            None => break,
        }
    }
    assert_eq!(u64::try_from(n).unwrap(), w.n.ledger().tip().height);
}

#[test]
fn tampered_or_misfiled_answers_are_refused() {
    let w = world();
    let (chain, set) = (w.n.chain, &w.n.genesis.validators);
    let q = Query::ByDataSet { dataset: "ds-a".into(), page: all(100) };
    let a = w.n.ledger().audit(&q).unwrap();
    verify_answer(&q, &a, &chain, set).unwrap();
    // Every single-byte change of the encoded answer is refused (decoding or checking).
    let bytes = a.to_bytes();
    let step = (bytes.len() / 400).max(1);
    let mut refused = 0;
    for i in (0..bytes.len()).step_by(step) {
        let mut b = bytes.clone();
        b[i] ^= 0x04;
        match Answer::from_bytes(&b) {
            Err(_) => refused += 1,
            Ok(t) => {
                // A changed cursor alone is not a forgery; everything else must fail.
                if t.items == a.items {
                    continue;
                }
                assert!(verify_answer(&q, &t, &chain, set).is_err(), "byte {i} accepted");
                refused += 1;
            }
        }
    }
    assert!(refused > 300);
    // A genuine receipt filed under another query.
    let other = w.n.ledger().audit(&Query::ByDataSet { dataset: "ds-b".into(), page: all(9) });
    let mut mixed = a.clone();
    mixed.items.push(other.unwrap().items.pop().unwrap());
    assert!(matches!(verify_answer(&q, &mixed, &chain, set), Err(Error::ProofInvalid(_))));
    // Reordered or repeated items.
    let mut swapped = a.clone();
    swapped.items.swap(0, 1);
    assert!(verify_answer(&q, &swapped, &chain, set).is_err());
    let mut repeated = a.clone();
    repeated.items.insert(1, a.items[1].clone());
    assert!(verify_answer(&q, &repeated, &chain, set).is_err());
    // Another chain's validators, or the answer checked for another chain.
    let v2 = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let set2 =
        ValidatorSet::new(vec![Validator { name: "v0".into(), key: v2.public_key() }]).unwrap();
    assert!(verify_answer(&q, &a, &chain, &set2).is_err());
    assert!(matches!(verify_answer(&q, &a, &[3; 32], set), Err(Error::WrongChain)));
    // A block range with a hole.
    let bq = Query::Blocks { from: 1, to: 5, page: all(10) };
    let mut b = w.n.ledger().audit(&bq).unwrap();
    b.items.remove(2);
    assert!(verify_answer(&bq, &b, &chain, set).is_err());
    // A grant listing carrying another data set's grant.
    let gq = Query::GrantsOf { dataset: "ds-a".into(), page: all(10) };
    let mut g = w.n.ledger().audit(&gq).unwrap();
    let hb = w.n.ledger().audit(&Query::GrantsOf { dataset: "ds-b".into(), page: all(10) });
    g.items.push(hb.unwrap().items.remove(0));
    assert!(verify_answer(&gq, &g, &chain, set).is_err());
}

#[test]
fn job_evidence_proves_the_grants_and_catches_forgeries() {
    let w = world();
    let (chain, set) = (w.n.chain, &w.n.genesis.validators);
    let rec = |job: &str| -> JobRecord {
        w.n.ledger().state(&StateKey::Job(job.into())).unwrap().unwrap()
    };
    let ev = w.n.ledger().job_evidence("j1").unwrap();
    let uses = verify_job_evidence(&rec("j1"), &ev, &chain, set).unwrap();
    assert_eq!(uses.len(), 2);
    assert!(uses.iter().all(|u| u.revoked_at.is_none()));
    // g2 was revoked after j4: the evidence shows the revocation, after the job.
    let ev4 = w.n.ledger().job_evidence("j4").unwrap();
    let uses = verify_job_evidence(&rec("j4"), &ev4, &chain, set).unwrap();
    assert!(uses[0].revoked_at.is_some());
    // Hiding the revocation, or the evidence of one grant, is caught.
    let mut hidden = ev4.clone();
    hidden.grants[0].revoke_tx = None;
    assert!(matches!(
        verify_job_evidence(&rec("j4"), &hidden, &chain, set),
        Err(Error::Evidence(_))
    ));
    let mut missing = ev.clone();
    missing.grants.pop();
    assert!(matches!(
        verify_job_evidence(&rec("j1"), &missing, &chain, set),
        Err(Error::Evidence(_))
    ));
    // Another grant's creation passed off as g1's (g4: same program, created after the job).
    let g4 = w.n.ledger().tx_receipt(&w.ids["g4"]).unwrap();
    let mut swapped = ev.clone();
    swapped.grants[0].grant_tx = g4.clone();
    assert!(matches!(
        verify_job_evidence(&rec("j1"), &swapped, &chain, set),
        Err(Error::Evidence(_))
    ));
    // Evidence of one job does not verify another.
    assert!(verify_job_evidence(&rec("j2"), &ev, &chain, set).is_err());
    // A tampered receipt inside the evidence.
    let mut bad = ev.clone();
    bad.grants[0].state.header.time_ms += 1;
    assert!(verify_job_evidence(&rec("j1"), &bad, &chain, set).is_err());
    // Round trip through the encoding.
    assert_eq!(JobEvidence::from_bytes(&ev.to_bytes()).unwrap(), ev);
    // A record whose commitment names no input never verifies.
    let mut empty = rec("j1");
    empty.commitment.inputs.clear();
    assert!(matches!(verify_job_evidence(&empty, &ev, &chain, set), Err(Error::Evidence(_))));
}

#[test]
fn commitments_without_inputs_or_under_revoked_or_expired_grants_are_refused() {
    let mut w = world();
    let chain = w.n.chain;
    let c = commitment(&chain, "j9", &[&w.alice, &w.bob], PROG, vec![]);
    let tx = w.alice.tx(&chain, TxBody::Commit(c));
    assert!(matches!(w.n.run(tx), Err(Error::NoInputs)));
    let (alice, bob) = (&w.alice, &w.bob);
    let c = commitment(&chain, "j9", &[alice, bob], PROG2, vec![input("ds-a", "g2")]);
    let tx = w.bob.tx(&chain, TxBody::Commit(c));
    assert!(matches!(w.n.run(tx), Err(Error::GrantRevoked(_))));
    let c = commitment(&chain, "j9", &[&w.alice, &w.bob], PROG, vec![input("ds-a", "g3")]);
    let tx = w.bob.tx(&chain, TxBody::Commit(c));
    assert!(matches!(w.n.run(tx), Err(Error::GrantExpired(_))));
    let c = commitment(&chain, "j9", &[&w.alice, &w.bob], PROG, vec![input("ds-a", "g1")]);
    let tx = w.bob.tx(&chain, TxBody::Commit(c));
    assert!(matches!(w.n.run(tx), Err(Error::GrantExhausted(_))));
    // The refused jobs left no trace in the index.
    assert!(matches!(w.n.ledger().job_evidence("j9"), Err(Error::NotFound { .. })));
}

#[test]
fn a_supervisor_reads_but_cannot_act() {
    let mut w = world();
    let chain = w.n.chain;
    let s: Supervisors = w.n.ledger().state(&StateKey::Supervisors).unwrap().unwrap();
    assert_eq!(s.0, vec![w.sup.did()]);
    // Registering, granting, committing or submitting governance: refused.
    let tx = w.sup.tx(
        &chain,
        TxBody::RegisterDataSet {
            id: "sneaky".into(),
            content_hash: HashAlg::Sha256.digest(b"x"),
            schema_hash: HashAlg::Sha256.digest(b"y"),
        },
    );
    assert!(matches!(w.n.run(tx), Err(Error::NotAuthorised(_))));
    let body = gov(&w.n, 2, GovAction::RemoveSupervisor(w.sup.did()));
    let tx = w.sup.tx(&chain, body);
    assert!(matches!(w.n.run(tx), Err(Error::NotAuthorised(_))));
    // Nor may it be named as a grantee or a participant.
    let r = grant(&mut w.n, &mut w.alice, ("ds-a", "g5"), PROG, vec![w.sup.did()], 1, 1 << 30);
    assert!(matches!(r, Err(Error::NotAuthorised(_))));
    let c = commitment(&chain, "j8", &[&w.alice, &w.sup], PROG, vec![input("ds-a", "g4")]);
    let tx = w.alice.tx(&chain, TxBody::Commit(c));
    assert!(matches!(w.n.run(tx), Err(Error::NotAuthorised(_))));
    // Its own document it may still update (key rotation).
    let newkey = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let mut doc = DidDocument::new("sup", "key-1", newkey.public_key());
    doc.version = 1;
    let msg = did_update_message(&chain, "sup", 0, Some(&doc));
    let approvals = vec![Approval { signer: w.sup.kref.clone(), signature: w.sup.key.sign(&msg) }];
    let tx = w.sup.tx(&chain, TxBody::UpdateDid { document: doc, approvals });
    w.n.run(tx).unwrap();
    // Governance removes it (by admins; submitted by someone else); then it may act again.
    let body = gov(&w.n, 2, GovAction::RemoveSupervisor(w.sup.did()));
    w.n.run(w.carol.tx(&chain, body)).unwrap();
    assert!(w.n.ledger().state::<Supervisors>(&StateKey::Supervisors).unwrap().is_none());
    let body = gov(&w.n, 3, GovAction::AddSupervisor(Did::key(newkey.public_key())));
    assert!(matches!(w.n.run(w.carol.tx(&chain, body)), Err(Error::InvalidGovernance(_))));
}

#[test]
fn genesis_supervisors_keep_old_chain_ids_and_round_trip() {
    let v = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let admins: Vec<KeyPair> =
        (0..3).map(|_| KeyPair::generate(SignatureSuite::Ed25519).unwrap()).collect();
    let g = genesis_with(LedgerHash::Sha256, &v, &admins);
    let bytes = g.to_bytes();
    // Without supervisors nothing is appended; an explicit empty list is not canonical.
    let mut empty = bytes.clone();
    empty.extend_from_slice(&[1, 0, 0, 0, 0]);
    assert!(Genesis::from_bytes(&empty).is_err());
    let mut s = g.clone();
    s.supervisors = vec![Did::tessera("regulator").unwrap()];
    assert_ne!(s.chain_id(), g.chain_id());
    assert_eq!(Genesis::from_bytes(&s.to_bytes()).unwrap(), s);
    assert_eq!(s.to_bytes()[..bytes.len()], bytes[..]);
    let json = s.to_json().unwrap();
    assert!(json.contains("did:tessera:regulator"));
    assert_eq!(Genesis::from_json(&json).unwrap(), s);
    assert!(!g.to_json().unwrap().contains("supervisors"));
    // A did:key supervisor, or the same one twice, is refused.
    s.supervisors.push(Did::key(v.public_key()));
    assert!(s.validate().is_err());
    s.supervisors = vec![Did::tessera("r").unwrap(), Did::tessera("r").unwrap()];
    assert!(s.validate().is_err());
    // A ledger created with a supervisor in its genesis has it in state.
    let dir = tempfile::tempdir().unwrap();
    let mut s = g.clone();
    s.supervisors = vec![Did::tessera("regulator").unwrap()];
    let l = Ledger::create(dir.path().join("l.redb"), &s).unwrap();
    let sv: Supervisors = l.state(&StateKey::Supervisors).unwrap().unwrap();
    assert_eq!(sv.0, s.supervisors);
}

#[test]
fn an_older_database_gets_its_index_built_on_open() {
    let w = world();
    let q = Query::ByDataSet { dataset: "ds-a".into(), page: all(100) };
    let before = w.n.ledger().audit(&q).unwrap();
    let path = w.n.dir.path().join("l.redb");
    let genesis = w.n.genesis.clone();
    let tip = w.n.ledger().tip().clone();
    let World { n, .. } = w;
    let Net { dir, engine, .. } = n;
    drop(engine);
    // Make the file look like one written before the index existed: no table, no mark.
    {
        use redb::ReadableTable as _;
        let db = redb::Database::open(&path).unwrap();
        let wt = db.begin_write().unwrap();
        assert!(
            wt.delete_table(redb::TableDefinition::<&[u8], &[u8]>::new("audit_index")).unwrap()
        );
        {
            let mut meta =
                wt.open_table(redb::TableDefinition::<&str, &[u8]>::new("meta")).unwrap();
            assert!(meta.remove("audit_index_version").unwrap().is_some());
            assert!(meta.get("tip").unwrap().is_some());
        }
        wt.commit().unwrap();
    }
    let l = Ledger::open(&path, &genesis).unwrap();
    assert_eq!(l.tip(), &tip);
    assert_eq!(l.audit(&q).unwrap(), before);
    l.check_integrity().unwrap();
    drop(l);
    // And a second open finds it current.
    let l = Ledger::open(&path, &genesis).unwrap();
    assert_eq!(l.audit(&q).unwrap(), before);
    drop(dir);
}
