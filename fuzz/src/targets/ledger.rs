//! Ledger formats: transactions, block headers and certificates, receipts, DID documents and
//! DIDs, genesis (binary and JSON), proofs and state records.
//!
//! Every ledger object has exactly one encoding, so each accepted input must re-encode to
//! itself byte for byte. Decoded DIDs must survive their text form; a receipt that verifies must
//! be one the chain really issued (a mutation that still verifies would be a forgery).

use std::sync::OnceLock;

use tessera_ledger::codec::Reader;
use tessera_ledger::merkle::TxProof;
use tessera_ledger::smt::SmtProof;
use tessera_ledger::*;

use crate::target::{SMALL_FIXED, Target, Verdict};

/// Real encodings from a one-validator chain that ran a DID, a data set, a grant and a job.
pub struct Fixture {
    /// Signed transactions.
    pub txs: Vec<Vec<u8>>,
    /// Block headers of every height.
    pub headers: Vec<Vec<u8>>,
    /// Their commit certificates.
    pub certificates: Vec<Vec<u8>>,
    /// Transaction and state receipts.
    pub receipts: Vec<Vec<u8>>,
    /// The DID documents registered.
    pub documents: Vec<Vec<u8>>,
    /// Genesis, canonical binary.
    pub genesis: Vec<u8>,
    /// Genesis, JSON.
    pub genesis_json: String,
    /// State values (data sets, grants, jobs, governance) as stored.
    pub state_values: Vec<Vec<u8>>,
    /// The chain id.
    pub chain: Hash32,
    /// The validator set receipts are checked against.
    pub validators: ValidatorSet,
    /// `(entry, header)` of every genuine receipt, encoded.
    pub genuine: Vec<(Vec<u8>, Vec<u8>)>,
}

fn build() -> Fixture {
    let dir = std::env::temp_dir().join(format!("tessera-fuzz-ledger-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let validator = KeyPair::from_secret(SignatureSuite::Ed25519, &[1; 32]).expect("key");
    let admins: Vec<KeyPair> =
        [SignatureSuite::Ed25519, SignatureSuite::Secp256k1, SignatureSuite::Sm2]
            .iter()
            .enumerate()
            .map(|(i, s)| KeyPair::from_secret(*s, &[10 + i as u8; 32]).expect("key"))
            .collect();
    let genesis = Genesis {
        chain_name: "fuzz".into(),
        time_ms: 1_000,
        hash: LedgerHash::Sha256,
        orgs: vec![
            Org {
                name: "org-a".into(),
                admins: vec![admins[0].public_key(), admins[1].public_key()],
            },
            Org { name: "org-b".into(), admins: vec![admins[2].public_key()] },
        ],
        admin_threshold: 2,
        validators: ValidatorSet::new(vec![Validator {
            name: "v0".into(),
            key: validator.public_key(),
        }])
        .expect("validators"),
        supervisors: Vec::new(),
    };
    let ledger = Ledger::create(dir.join("l.redb"), &genesis).expect("ledger");
    let chain = ledger.chain_id();
    let guard = SignGuard::create(dir.join("validator.guard")).expect("guard");
    let mut engine =
        SingleValidator::new(ledger, validator, guard, EngineConfig::default()).expect("engine");

    let owner_key = KeyPair::from_secret(SignatureSuite::Secp256k1, &[20; 32]).expect("key");
    let owner = KeyRef::new(Did::tessera("owner").expect("did"), "key-1");
    let user_key = KeyPair::from_secret(SignatureSuite::Ed25519, &[21; 32]).expect("key");
    let user = KeyRef::did_key(user_key.public_key());
    let mut doc = DidDocument::new("owner", "key-1", owner_key.public_key());
    doc.services.push(Service {
        id: "node".into(),
        kind: "TesseraNode".into(),
        endpoint: "quic://node.example:4433".into(),
    });
    let program = [7u8; 32];
    let mut txs = vec![
        Transaction::sign(&chain, owner.clone(), 1, TxBody::CreateDid(doc.clone()), &owner_key),
        Transaction::sign(
            &chain,
            owner.clone(),
            2,
            TxBody::RegisterDataSet {
                id: "ds".into(),
                content_hash: HashAlg::Sha512.digest(b"ds"),
                schema_hash: HashAlg::Sm3.digest(b"schema"),
            },
            &owner_key,
        ),
        Transaction::sign(
            &chain,
            owner.clone(),
            3,
            TxBody::Grant {
                dataset: "ds".into(),
                grant: "g".into(),
                program_hash: program,
                grantees: vec![user.did.clone(), owner.did.clone()],
                expires_at_ms: 10_000_000,
                max_uses: 5,
            },
            &owner_key,
        ),
    ];
    let mut commitment = Commitment {
        job_id: "job-1".into(),
        participants: vec![owner.did.clone(), user.did.clone()],
        program_hash: program,
        inputs: vec![InputCommitment {
            dataset: "ds".into(),
            grant: "g".into(),
            commitment: [3; 32],
        }],
        result_hash: [4; 32],
        tee_evidence_hash: Some([5; 32]),
        signatures: vec![],
    };
    commitment.sign_as(&chain, owner.clone(), &owner_key);
    commitment.sign_as(&chain, user.clone(), &user_key);
    txs.push(Transaction::sign(&chain, user.clone(), 1, TxBody::Commit(commitment), &user_key));
    txs.push(Transaction::sign(
        &chain,
        owner.clone(),
        4,
        TxBody::Revoke { dataset: "ds".into(), grant: "g".into() },
        &owner_key,
    ));
    let action =
        GovAction::AddOrg(Org { name: "org-c".into(), admins: vec![user_key.public_key()] });
    let approvals = admins
        .iter()
        .take(2)
        .map(|k| AdminApproval {
            admin: k.public_key(),
            signature: k.sign(&governance_message(&chain, 1, &action)),
        })
        .collect();
    txs.push(Transaction::sign(
        &chain,
        user.clone(),
        2,
        TxBody::Governance { seq: 1, action, approvals },
        &user_key,
    ));
    let mut now = 10_000;
    let mut ids = Vec::new();
    for tx in &txs {
        ids.push(engine.submit(tx.clone()).expect("submit"));
        now += 1_000;
        engine.seal(now).expect("seal");
    }
    let ledger = engine.ledger();
    let tip = ledger.tip().height;
    let headers: Vec<BlockHeader> =
        (0..=tip).filter_map(|h| ledger.header(h).ok().flatten()).collect();
    let certificates: Vec<CommitCertificate> =
        (0..=tip).filter_map(|h| ledger.certificate(h).ok().flatten()).collect();
    let mut receipts: Vec<Receipt> =
        ids.iter().filter_map(|id| ledger.tx_receipt(id).ok()).collect();
    let keys = [
        StateKey::Did("owner".into()),
        StateKey::DataSet("ds".into()),
        StateKey::Grant { dataset: "ds".into(), grant: "g".into() },
        StateKey::Job("job-1".into()),
        StateKey::Job("absent".into()),
        StateKey::Governance,
        StateKey::Validators,
    ];
    receipts.extend(keys.iter().filter_map(|k| ledger.state_receipt(k).ok()));
    let state_values = keys.iter().filter_map(|k| ledger.state_value(k).ok().flatten()).collect();
    let genuine = receipts.iter().map(|r| (entry_bytes(&r.entry), r.header.to_bytes())).collect();
    let fixture = Fixture {
        txs: txs.iter().map(Encode::to_bytes).collect(),
        headers: headers.iter().map(Encode::to_bytes).collect(),
        certificates: certificates.iter().map(Encode::to_bytes).collect(),
        receipts: receipts.iter().map(Encode::to_bytes).collect(),
        documents: vec![doc.to_bytes()],
        genesis: genesis.to_bytes(),
        genesis_json: genesis.to_json().expect("json"),
        state_values,
        chain,
        validators: genesis.validators.clone(),
        genuine,
    };
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);
    fixture
}

fn entry_bytes(e: &ReceiptEntry) -> Vec<u8> {
    format!("{e:?}").into_bytes()
}

/// The fixture, built once per process.
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(build)
}

/// Asserts the canonical round trip of a decoded value.
fn canonical<T: Encode>(value: &T, input: &[u8], what: &str) {
    assert_eq!(value.to_bytes(), input, "{what}: accepted a non-canonical encoding");
}

/// Asserts a DID survives its text form. The binary decoder leaves point validity of a
/// `did:key` to the point of use (see `PublicKey::decode`), and the text parser checks it, so
/// only DIDs whose key is a valid point must round-trip.
pub fn did_text_round_trip(did: &Did) {
    if did.as_key().is_some_and(|k| k.validate().is_err()) {
        return;
    }
    let text = did.to_string();
    let back =
        Did::parse(&text).unwrap_or_else(|e| panic!("decoded DID {text} does not parse: {e}"));
    assert_eq!(&back, did, "DID text round trip");
}

fn check_tx(data: &[u8]) -> Verdict {
    let r = Transaction::decode_untrusted(data);
    if let Ok(tx) = &r {
        canonical(tx, data, "transaction");
        did_text_round_trip(&tx.signer.did);
        let _ = tx.id(LedgerHash::Sha256);
        let _ = tx.signing_message(&fixture().chain);
        match &tx.body {
            // A document's id is checked by `validate` when it is admitted, not by the decoder.
            TxBody::CreateDid(d) | TxBody::UpdateDid { document: d, .. }
                if d.validate().is_ok() =>
            {
                did_text_round_trip(&d.did());
            }
            TxBody::Commit(c) => c.participants.iter().for_each(did_text_round_trip),
            TxBody::Grant { grantees, .. } => grantees.iter().for_each(did_text_round_trip),
            _ => {}
        }
    }
    Verdict::of(&r)
}

fn check_block(data: &[u8]) -> Verdict {
    // One byte picks the object, so one corpus serves headers, certificates and both together.
    let Some((&which, rest)) = data.split_first() else {
        return Verdict::Rejected("empty".into());
    };
    let f = fixture();
    match which % 3 {
        0 => {
            let r = BlockHeader::from_bytes(rest);
            if let Ok(h) = &r {
                canonical(h, rest, "block header");
                let _ = h.hash();
            }
            Verdict::of(&r)
        }
        1 => {
            let r = CommitCertificate::from_bytes(rest);
            if let Ok(c) = &r {
                canonical(c, rest, "commit certificate");
                for h in &f.headers {
                    let h = BlockHeader::from_bytes(h).expect("fixture header");
                    let _ = c.verify(&h, &f.validators);
                }
            }
            Verdict::of(&r)
        }
        _ => {
            // A header and its certificate back to back: a certificate that verifies for a
            // mutated header would be a forged block.
            let mut r = Reader::new(rest);
            let pair = BlockHeader::decode(&mut r)
                .and_then(|h| Ok((h, CommitCertificate::decode(&mut r)?)))
                .and_then(|p| r.finish().map(|()| p));
            if let Ok((h, c)) = &pair
                && c.verify(h, &f.validators).is_ok()
            {
                assert!(
                    f.headers.iter().any(|g| *g == h.to_bytes()),
                    "a certificate verified for a header the chain never produced"
                );
            }
            Verdict::of(&pair)
        }
    }
}

fn check_receipt(data: &[u8]) -> Verdict {
    let f = fixture();
    let r = Receipt::from_bytes(data);
    if let Ok(rc) = &r {
        canonical(rc, data, "receipt");
        // An absence receipt for another absent key is a true statement (the same empty slot
        // of the tree proves it), so only presence and transaction receipts must be genuine.
        let absence = matches!(rc.entry, ReceiptEntry::State { value: None, .. });
        if !absence && verify_receipt(rc, &f.chain, &f.validators).is_ok() {
            let got = (entry_bytes(&rc.entry), rc.header.to_bytes());
            assert!(f.genuine.contains(&got), "a receipt verified for an entry never committed");
        }
    }
    Verdict::of(&r)
}

fn check_did(data: &[u8]) -> Verdict {
    let Some((&which, rest)) = data.split_first() else {
        return Verdict::Rejected("empty".into());
    };
    match which % 4 {
        0 => {
            let r = DidDocument::from_bytes(rest);
            if let Ok(d) = &r {
                canonical(d, rest, "DID document");
                if d.validate().is_ok() {
                    did_text_round_trip(&d.did());
                    for s in &d.services {
                        let e = s.parsed_endpoint().expect("a valid document's endpoints parse");
                        endpoint_round_trip(&e);
                    }
                }
            }
            Verdict::of(&r)
        }
        1 => {
            let r = Did::from_bytes(rest);
            if let Ok(d) = &r {
                canonical(d, rest, "DID");
                did_text_round_trip(d);
            }
            Verdict::of(&r)
        }
        2 => {
            let text = String::from_utf8_lossy(rest);
            let r = Did::parse(&text);
            if let Ok(d) = &r {
                assert_eq!(d.to_string(), text, "a DID parsed from a non-canonical string");
            }
            Verdict::of(&r)
        }
        _ => {
            let text = String::from_utf8_lossy(rest);
            let r = Endpoint::parse(&text);
            if let Ok(e) = &r {
                endpoint_round_trip(e);
            }
            Verdict::of(&r)
        }
    }
}

fn endpoint_round_trip(e: &Endpoint) {
    let text = if e.host.contains(':') {
        format!("{}://[{}]:{}", e.scheme, e.host, e.port)
    } else {
        format!("{}://{}:{}", e.scheme, e.host, e.port)
    };
    let back =
        Endpoint::parse(&text).unwrap_or_else(|err| panic!("{text} does not re-parse: {err}"));
    assert_eq!(&back, e, "endpoint round trip");
}

fn check_genesis(data: &[u8]) -> Verdict {
    let Some((&which, rest)) = data.split_first() else {
        return Verdict::Rejected("empty".into());
    };
    if which % 2 == 0 {
        let r = Genesis::from_bytes(rest);
        if let Ok(g) = &r {
            canonical(g, rest, "genesis");
            if g.validate().is_ok() {
                let json = g.to_json().expect("a valid genesis writes JSON");
                let back = Genesis::from_json(&json).expect("its JSON parses");
                assert_eq!(back.to_bytes(), rest, "genesis JSON round trip");
            }
        }
        Verdict::of(&r)
    } else {
        let text = String::from_utf8_lossy(rest);
        let r = Genesis::from_json(&text);
        if let Ok(g) = &r {
            g.validate().expect("from_json returns validated genesis");
            let back = Genesis::from_json(&g.to_json().expect("json")).expect("re-parse");
            assert_eq!(back.to_bytes(), g.to_bytes(), "genesis JSON round trip");
        }
        Verdict::of(&r)
    }
}

fn check_proofs_and_state(data: &[u8]) -> Verdict {
    let Some((&which, rest)) = data.split_first() else {
        return Verdict::Rejected("empty".into());
    };
    fn rt<T: Decode + Encode>(rest: &[u8], what: &str) -> Verdict {
        let r = T::from_bytes(rest);
        if let Ok(v) = &r {
            canonical(v, rest, what);
        }
        Verdict::of(&r)
    }
    match which % 6 {
        0 => rt::<SmtProof>(rest, "state proof"),
        1 => rt::<TxProof>(rest, "transaction proof"),
        2 => rt::<DataSet>(rest, "data set record"),
        3 => rt::<GrantRecord>(rest, "grant record"),
        4 => rt::<JobRecord>(rest, "job record"),
        _ => rt::<GovernanceState>(rest, "governance state"),
    }
}

fn tagged(tag: u8, items: &[Vec<u8>]) -> Vec<Vec<u8>> {
    items.iter().map(|b| [&[tag][..], b].concat()).collect()
}

fn tx_seeds() -> Vec<Vec<u8>> {
    fixture().txs.clone()
}

fn block_seeds() -> Vec<Vec<u8>> {
    let f = fixture();
    let mut out = tagged(0, &f.headers);
    out.extend(tagged(1, &f.certificates));
    let pairs: Vec<Vec<u8>> =
        f.headers.iter().zip(&f.certificates).map(|(h, c)| [h.as_slice(), c].concat()).collect();
    out.extend(tagged(2, &pairs));
    out
}

fn receipt_seeds() -> Vec<Vec<u8>> {
    fixture().receipts.clone()
}

fn did_seeds() -> Vec<Vec<u8>> {
    let f = fixture();
    let mut out = tagged(0, &f.documents);
    let k = KeyPair::from_secret(SignatureSuite::Sm2, &[9; 32]).expect("key");
    let dids = [Did::tessera("org-a.node_1").expect("did"), Did::key(k.public_key())];
    out.extend(dids.iter().map(|d| [&[1u8][..], &d.to_bytes()].concat()));
    out.extend(dids.iter().map(|d| [&[2u8][..], d.to_string().as_bytes()].concat()));
    for e in ["quic://node.example:4433", "quic://10.0.0.1:1", "tcp+tls://[::1]:65535"] {
        out.push([&[3u8][..], e.as_bytes()].concat());
    }
    out
}

fn genesis_seeds() -> Vec<Vec<u8>> {
    let f = fixture();
    vec![[&[0u8][..], &f.genesis].concat(), [&[1u8][..], f.genesis_json.as_bytes()].concat()]
}

fn proof_seeds() -> Vec<Vec<u8>> {
    let f = fixture();
    let mut out = Vec::new();
    for rc in &f.receipts {
        let rc = Receipt::from_bytes(rc).expect("fixture receipt");
        match &rc.proof {
            ReceiptProof::Transaction(p) => out.push([&[1u8][..], &p.to_bytes()].concat()),
            ReceiptProof::State(p) => out.push([&[0u8][..], &p.to_bytes()].concat()),
        }
    }
    for v in &f.state_values {
        for tag in 2..6 {
            out.push([&[tag][..], v].concat());
        }
    }
    out
}

const JSON_DICT: &[&[u8]] = &[
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"did:key:z",
    b"did:tessera:",
    b"\\u0000",
];
const DID_DICT: &[&[u8]] = &[b"did:tessera:", b"did:key:z", b"://", b"[", b"]:", b":", b".", b"-"];

/// The ledger targets.
pub fn targets() -> Vec<Target> {
    let t = |name, about, seeds, check, dict, ci_execs| Target {
        name,
        about,
        seeds,
        check,
        max_len: 8192,
        dict,
        alloc_fixed: SMALL_FIXED,
        ci_execs,
    };
    vec![
        t("ledger_tx", "Transaction::decode_untrusted", tx_seeds, check_tx, &[], 4000),
        t("ledger_block", "BlockHeader, CommitCertificate", block_seeds, check_block, &[], 3000),
        t(
            "ledger_receipt",
            "Receipt::from_bytes + verify_receipt",
            receipt_seeds,
            check_receipt,
            &[],
            2000,
        ),
        t(
            "ledger_did",
            "DidDocument, Did (binary and text), Endpoint::parse",
            did_seeds,
            check_did,
            DID_DICT,
            4000,
        ),
        t(
            "ledger_genesis",
            "Genesis::from_bytes, Genesis::from_json",
            genesis_seeds,
            check_genesis,
            JSON_DICT,
            3000,
        ),
        t(
            "ledger_proofs",
            "SmtProof, TxProof, state records",
            proof_seeds,
            check_proofs_and_state,
            &[],
            4000,
        ),
    ]
}
