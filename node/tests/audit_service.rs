//! Audit over the served ledger, in-process: a supervisor named in the genesis gets answers the
//! client checks against the validator set (exact contents, and a usage report), a member that is
//! not a supervisor is refused with the typed `NotSupervisor` answer (exit code 5 on the CLI),
//! a supervisor cannot act, and a job's grant evidence served to a member verifies, before and
//! after the grant's revocation, while a commitment with no inputs is never anchored.

use std::net::SocketAddr;
use std::path::Path;

use tessera_ledger::audit::{Checked, Page, Query};
use tessera_ledger::{Commitment, Did, InputCommitment, TxBody};
use tessera_node::Error;
use tessera_node::audit::{AuditArgs, AuditCmd};
use tessera_node::home::{Home, RemoteLedger as RemoteConfig};
use tessera_node::ledgerclient::{LedgerSession, NodeLedger};
use tessera_node::ledgerdir::LedgerDir;
use tessera_node::ledgerserve::LedgerServer;
use tessera_node::ledgerwire::{ErrorCode, Request, Response};
use tessera_node::{ops, verify};

const PROG: [u8; 32] = [0x5a; 32];

struct Fixture {
    dir: tempfile::TempDir,
    _server: LedgerServer,
    remote: RemoteConfig,
    genesis: tessera_ledger::Genesis,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let sup = [Did::tessera("regulator").unwrap()];
    let ledger = LedgerDir::create_with(&dir.path().join("ledger"), "audit-svc", &sup).unwrap();
    let genesis = ledger.genesis().clone();
    let server = LedgerServer::start(ledger, SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let remote = RemoteConfig {
        endpoint: server.endpoint_uri(),
        validator: server.validator_did().to_string(),
    };
    Fixture { dir, _server: server, remote, genesis }
}

impl Fixture {
    /// A node home on the served ledger with its DID published.
    fn member(&self, name: &str) -> Home {
        let d = self.dir.path().join(name);
        let mut h = Home::init(&d, name, "ed25519", None, Path::new("")).unwrap();
        h.config.ledger_remote = Some(self.remote.clone());
        h.save().unwrap();
        let h = Home::load(&d).unwrap();
        ops::did_create(&h).unwrap();
        h
    }

    fn args(&self, cmd: AuditCmd) -> AuditArgs {
        AuditArgs { cmd, csv: false, ledger: None, save: None, limit: 1000 }
    }
}

fn tls_key(home: &Home) -> Vec<u8> {
    hex::decode(std::fs::read_to_string(home.dir.join("tls.key")).unwrap().trim()).unwrap()
}

fn commit(l: &NodeLedger, job: &str, by: &[&Home], inputs: Vec<InputCommitment>) -> TxBody {
    let mut c = Commitment {
        job_id: job.into(),
        participants: by.iter().map(|h| h.did()).collect(),
        program_hash: PROG,
        inputs,
        result_hash: [3; 32],
        tee_evidence_hash: None,
        signatures: vec![],
    };
    for h in by {
        c.sign_as(&l.chain_id(), h.key_ref(), h.key());
    }
    TxBody::Commit(c)
}

#[test]
fn supervisors_get_checked_answers_and_others_are_refused() {
    let f = fixture();
    let regulator = f.member("regulator");
    let mut alice = f.member("alice");
    let bob = f.member("bob");
    let data = f.dir.path().join("a.csv");
    std::fs::write(&data, "value\n1\n2\n3\n").unwrap();
    let reg = ops::dataset_register(&mut alice, "alice-data", &data).unwrap();
    let to = vec![bob.did().to_string()];
    let g1 = ops::grant(&alice, "alice-data", "g1", PROG, &to, 2, 1).unwrap();
    let la = NodeLedger::open(&alice).unwrap();
    let input =
        InputCommitment { dataset: "alice-data".into(), grant: "g1".into(), commitment: [1; 32] };
    let j1 = la
        .submit(
            &alice.key_ref(),
            alice.key(),
            commit(&la, "j1", &[&alice, &bob], vec![input.clone()]),
        )
        .unwrap();
    // A commitment with no inputs is refused by the ledger and never anchored.
    let r = la.submit(&alice.key_ref(), alice.key(), commit(&la, "j0", &[&alice, &bob], vec![]));
    assert!(matches!(r, Err(Error::Rejected(ref m)) if m.contains("at least one input")), "{r:?}");

    // The supervisor: exact, checked answers.
    let lr = NodeLedger::open(&regulator).unwrap();
    let (_, got) = lr
        .audit(&Query::ByDataSet { dataset: "alice-data".into(), page: Page::first(50) })
        .unwrap();
    let ids: Vec<_> = got
        .iter()
        .map(|c| match c {
            Checked::Tx { id, .. } => *id,
            _ => panic!(),
        })
        .collect();
    assert_eq!(ids, vec![reg, g1, j1]);
    let (_, bob_txs) = lr.audit(&Query::ByDid { did: bob.did(), page: Page::first(50) }).unwrap();
    // bob: his DID's creation, grantee of g1, participant of j1.
    assert_eq!(bob_txs.len(), 3);
    // The usage report through the CLI module.
    let out = tessera_node::audit::run(
        &f.args(AuditCmd::Report { did: alice.did().to_string(), svg: None }),
        Some(&regulator.dir),
    )
    .unwrap();
    let uses = out.json["uses"].as_array().unwrap();
    assert_eq!(uses.len(), 2, "{}", out.json);
    assert_eq!(uses[0]["role"], "data-used");
    assert_eq!(uses[0]["job"], "j1");
    assert_eq!(uses[0]["grant"], "g1");
    assert_eq!(uses[0]["participants"], format!("{};{}", alice.did(), bob.did()));
    assert_eq!(uses[1]["role"], "participant");
    assert_eq!(out.json["grants"][0]["state"], "active");
    assert!(out.text.contains("job j1"));

    // alice is a member but not a supervisor: the service refuses with a typed answer.
    let s = LedgerSession::open(&tls_key(&alice), &f.remote).unwrap();
    assert_eq!(
        s.request(&Request::Hello { did: alice.did() }).unwrap(),
        Response::Hello { member: true }
    );
    let q = Query::Blocks { from: 1, to: 10, page: Page::first(10) };
    match s.request(&Request::Audit(Box::new(q.clone()))).unwrap() {
        Response::Error { code, .. } => assert_eq!(code, ErrorCode::NotSupervisor),
        other => panic!("answered a non-supervisor: {other:?}"),
    }
    let e = la.audit(&q).unwrap_err();
    assert!(matches!(e, Error::NotAuthorised(_)));
    assert_eq!(e.exit_code(), 5);
    let e = tessera_node::audit::run(
        &f.args(AuditCmd::Grants { dataset: "alice-data".into() }),
        Some(&alice.dir),
    )
    .unwrap_err();
    assert_eq!(e.exit_code(), 5);

    // The supervisor cannot act: its transactions other than its own document are refused.
    let r = lr.submit(
        &regulator.key_ref(),
        regulator.key(),
        TxBody::Revoke { dataset: "alice-data".into(), grant: "g1".into() },
    );
    assert!(matches!(r, Err(Error::Rejected(ref m)) if m.contains("supervisor")), "{r:?}");

    // Grant evidence, served to a member, verifies the job; and still after the revocation.
    let (_, receipt) = ops::job_status(&la, "j1").unwrap();
    let ev = la.job_evidence("j1").unwrap();
    let v = verify::verify(&f.genesis, "j1", &receipt, Some(&ev), None).unwrap();
    assert_eq!(v.grants.len(), 1);
    assert_eq!(v.grants[0].revoked_at, None);
    assert!(verify::verify(&f.genesis, "j1", &receipt, None, None).is_err());
    ops::revoke(&alice, "alice-data", "g1").unwrap();
    let (_, receipt) = ops::job_status(&la, "j1").unwrap();
    let ev = la.job_evidence("j1").unwrap();
    let v = verify::verify(&f.genesis, "j1", &receipt, Some(&ev), None).unwrap();
    assert!(v.grants[0].revoked_at.is_some());
    // Evidence with the revocation hidden is refused (exit code 9).
    let mut hidden = ev.clone();
    hidden.grants[0].revoke_tx = None;
    let e = verify::verify(&f.genesis, "j1", &receipt, Some(&hidden), None).unwrap_err();
    assert_eq!(e.exit_code(), 9);
    // A job on the revoked grant is refused.
    let r =
        la.submit(&alice.key_ref(), alice.key(), commit(&la, "j2", &[&alice, &bob], vec![input]));
    assert!(matches!(r, Err(Error::Rejected(ref m)) if m.contains("revoked")), "{r:?}");
    let (_, grants) =
        lr.audit(&Query::GrantsOf { dataset: "alice-data".into(), page: Page::first(9) }).unwrap();
    assert_eq!(grants.len(), 1);
}
