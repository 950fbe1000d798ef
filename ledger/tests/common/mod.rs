//! Shared helpers: a ledger with one validator, two organisations and users.
#![allow(dead_code, unreachable_pub)]

use tessera_ledger::*;

pub struct Net {
    pub dir: tempfile::TempDir,
    pub engine: SingleValidator,
    pub genesis: Genesis,
    pub chain: Hash32,
    pub admins: Vec<KeyPair>,
    pub now: u64,
}

pub struct User {
    pub key: KeyPair,
    pub kref: KeyRef,
    pub nonce: u64,
}

impl User {
    pub fn did(&self) -> Did {
        self.kref.did.clone()
    }
    pub fn tx(&mut self, chain: &Hash32, body: TxBody) -> Transaction {
        self.nonce += 1;
        Transaction::sign(chain, self.kref.clone(), self.nonce, body, &self.key)
    }
}

pub fn genesis_with(hash: LedgerHash, validator: &KeyPair, admins: &[KeyPair]) -> Genesis {
    Genesis {
        chain_name: "test".into(),
        time_ms: 1_000,
        hash,
        orgs: vec![
            Org {
                name: "org-a".into(),
                admins: vec![admins[0].public_key(), admins[1].public_key()],
            },
            Org { name: "org-b".into(), admins: vec![admins[2].public_key()] },
        ],
        admin_threshold: 2,
        supervisors: vec![],
        validators: ValidatorSet::new(vec![Validator {
            name: "v0".into(),
            key: validator.public_key(),
        }])
        .unwrap(),
    }
}

pub fn net(hash: LedgerHash) -> Net {
    let dir = tempfile::tempdir().unwrap();
    let validator = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let admins: Vec<KeyPair> =
        [SignatureSuite::Ed25519, SignatureSuite::Secp256k1, SignatureSuite::Sm2]
            .iter()
            .map(|s| KeyPair::generate(*s).unwrap())
            .collect();
    let genesis = genesis_with(hash, &validator, &admins);
    let ledger = Ledger::create(dir.path().join("l.redb"), &genesis).unwrap();
    let chain = ledger.chain_id();
    let guard = SignGuard::create(dir.path().join("validator.guard")).unwrap();
    let engine = SingleValidator::new(ledger, validator, guard, EngineConfig::default()).unwrap();
    Net { dir, engine, genesis, chain, admins, now: 10_000 }
}

impl Net {
    /// Submits one transaction, seals a block, and returns that transaction's outcome.
    pub fn run(&mut self, tx: Transaction) -> Result<Hash32> {
        let id = self.engine.submit(tx).unwrap();
        self.now += 1_000;
        let out = self.engine.seal(self.now).unwrap().unwrap();
        if let Some((_, e)) = out.rejected.into_iter().find(|(i, _)| *i == id) {
            return Err(e);
        }
        assert!(out.accepted.contains(&id));
        Ok(id)
    }

    /// A `did:tessera` user with one key of `suite`, registered on the ledger.
    pub fn user(&mut self, id: &str, suite: SignatureSuite) -> User {
        let key = KeyPair::generate(suite).unwrap();
        let kref = KeyRef::new(Did::tessera(id).unwrap(), "key-1");
        let mut u = User { key, kref, nonce: 0 };
        let doc = DidDocument::new(id, "key-1", u.key.public_key());
        let tx = u.tx(&self.chain.clone(), TxBody::CreateDid(doc));
        self.run(tx).unwrap();
        u
    }

    /// A `did:key` user (no registration needed).
    pub fn key_user(&self, suite: SignatureSuite) -> User {
        let key = KeyPair::generate(suite).unwrap();
        let kref = KeyRef::did_key(key.public_key());
        User { key, kref, nonce: 0 }
    }

    pub fn ledger(&self) -> &Ledger {
        self.engine.ledger()
    }
}

/// Registers data set `ds` owned by `owner` and a grant `g` for `program` to `grantees`.
pub fn dataset_and_grant(
    net: &mut Net,
    owner: &mut User,
    ds: &str,
    g: &str,
    program: Hash32,
    grantees: Vec<Did>,
    max_uses: u64,
) {
    let chain = net.chain;
    let tx = owner.tx(
        &chain,
        TxBody::RegisterDataSet {
            id: ds.into(),
            content_hash: HashAlg::Sha512.digest(ds.as_bytes()),
            schema_hash: HashAlg::Sm3.digest(b"schema"),
        },
    );
    net.run(tx).unwrap();
    let tx = owner.tx(
        &chain,
        TxBody::Grant {
            dataset: ds.into(),
            grant: g.into(),
            program_hash: program,
            grantees,
            expires_at_ms: net.now + 1_000_000,
            max_uses,
        },
    );
    net.run(tx).unwrap();
}

/// A commitment signed by every participant.
pub fn commitment(
    chain: &Hash32,
    job: &str,
    parts: &[&User],
    program: Hash32,
    inputs: Vec<InputCommitment>,
) -> Commitment {
    let mut c = Commitment {
        job_id: job.into(),
        participants: parts.iter().map(|u| u.did()).collect(),
        program_hash: program,
        inputs,
        result_hash: [7; 32],
        tee_evidence_hash: Some([9; 32]),
        signatures: vec![],
    };
    for u in parts {
        c.sign_as(chain, u.kref.clone(), &u.key);
    }
    c
}

pub fn input(ds: &str, g: &str) -> InputCommitment {
    InputCommitment { dataset: ds.into(), grant: g.into(), commitment: [1; 32] }
}
