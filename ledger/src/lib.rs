//! `tessera-ledger` is Tessera's bundled permissioned ledger: it records who may use which data set
//! for which program (DIDs and grants) and what each computation committed to, and hands out
//! receipts that anyone trusting only the validator set can check offline.
//!
//! **Layer.** Independent of the MPC stack (see `ARCHITECTURE.md`): it depends on no other Tessera
//! crate, only on RustCrypto/dalek primitives, `redb` for storage and `serde_json` for the genesis
//! file. The `node` crate drives it.
//!
//! **Pieces.** Canonical bounded binary encoding ([`codec`]); signature suites Ed25519, ECDSA
//! secp256k1 and SM2/SM3 ([`keys`]); hashes SHA-256, SHA-512 and SM3, the ledger hash fixed in the
//! genesis file ([`hash`]); `did:tessera` and `did:key` ([`did`]); transactions ([`tx`]); a compact
//! sparse Merkle tree for the state ([`smt`]) and an RFC 6962 tree for each block's transactions
//! ([`merkle`]); headers and 2f+1 commit certificates ([`block`]); genesis and k-of-n admin
//! governance ([`genesis`]); the `redb`-backed [`Ledger`]; [`verify_receipt`]; the
//! [`SingleValidator`] engine behind the [`Engine`] trait; k-of-n DID key recovery
//! ([`recovery`]: a recovery key shared by Feldman VSS through `vsss-rs`, each share sealed to its
//! holder's DID key with HPKE, ECIES or SM2 encryption and published on the ledger); supervision ([`audit`]: an index written with each block, audit queries answered
//! with receipts, evidence that a job's inputs were authorised, and the supervisor role).
//!
//! ```
//! use tessera_ledger::*;
//! # fn main() -> Result<()> {
//! let validator = KeyPair::generate(SignatureSuite::Ed25519)?;
//! let admin = KeyPair::generate(SignatureSuite::Secp256k1)?;
//! let genesis = Genesis {
//!     chain_name: "demo".into(),
//!     time_ms: 0,
//!     hash: LedgerHash::Sha256,
//!     orgs: vec![Org { name: "acme".into(), admins: vec![admin.public_key()] }],
//!     admin_threshold: 1,
//!     validators: ValidatorSet::new(vec![Validator { name: "v0".into(), key: validator.public_key() }])?,
//!     supervisors: vec![],
//! };
//! let dir = std::env::temp_dir().join(format!("tessera-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! // The database is created once, at genesis; later runs use `Ledger::open`.
//! let ledger = Ledger::create(dir.join("ledger.redb"), &genesis)?;
//! // The validator's signing record lives next to its key, outside the database.
//! // Created with the key and never on open, like the database.
//! let guard = SignGuard::create(dir.join("validator.guard"))?;
//! let mut engine = SingleValidator::new(ledger, validator, guard, EngineConfig::default())?;
//!
//! // Alice registers did:tessera:alice with an SM2 key, and a data set.
//! let chain = engine.ledger().chain_id();
//! let alice = KeyPair::generate(SignatureSuite::Sm2)?;
//! let me = KeyRef::new(Did::tessera("alice")?, "key-1");
//! let doc = DidDocument::new("alice", "key-1", alice.public_key());
//! engine.submit(Transaction::sign(&chain, me.clone(), 1, TxBody::CreateDid(doc), &alice))?;
//! let ds = TxBody::RegisterDataSet {
//!     id: "census".into(),
//!     content_hash: HashAlg::Sm3.digest(b"rows"),
//!     schema_hash: HashAlg::Sha256.digest(b"schema"),
//! };
//! let id = engine.submit(Transaction::sign(&chain, me, 2, ds, &alice))?;
//! let outcome = engine.seal(1_000)?.expect("a block");
//! assert!(outcome.rejected.is_empty());
//!
//! // Anyone holding the validator set checks the receipt offline.
//! let receipt = engine.ledger().tx_receipt(&id)?;
//! verify_receipt(&receipt, &genesis.chain_id(), &genesis.validators)?;
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
//!
//! **Features.** None; everything is always built.
//!
//! **Security.** Transactions and approvals are signed over a domain tag and the chain id (the
//! genesis hash) and numbered against replay. Receipts are sound if the ledger hash is collision
//! resistant, the signature suites are unforgeable, and fewer than a third of the validators are
//! faulty (one honest validator in the single-validator case). Decoders never panic and bound every
//! allocation by the input size. Secrets are zeroized on drop.
//!
//! **Operator faults.** The database file is created only by [`Ledger::create`], at genesis;
//! [`Ledger::open`] never creates one, so a deleted or emptied file is [`Error::NoDatabase`] or
//! [`Error::Unreadable`], not a new chain. A damaged file gives a typed error, never a panic (the
//! storage engine's own panics are caught at the [`Ledger`] boundary). The validator's
//! [`SignGuard`], a file outside the database, refuses to certify a second block at a height it
//! signed, so even a re-created or rolled-back database cannot make it equivocate. A receipt
//! shows its entry as of its block only: [`verify_fresh_receipt`] refuses receipts below a height
//! the verifier knows the chain reached.
//!
//! **Limits.** State proofs are served for the latest block only (stale tree nodes are pruned in
//! the block's own write; receipts already issued stay valid because they are self-contained).
//! A verifier must supply the validator set that certified the receipt's block; there is no
//! validator-set history chain yet. The audit index is not part of the state root: an audit
//! answer proves each item genuine and relevant, not that the listing is complete. Only the single-validator engine exists; the header and
//! certificate are ready for a 2f+1 BFT engine.

#![forbid(unsafe_code)]

pub mod audit;
pub mod block;
pub mod codec;
pub mod did;
mod engine;
mod error;
mod exec;
pub mod genesis;
mod guard;
pub mod hash;
pub mod keys;
mod ledger;
pub mod merkle;
mod receipt;
pub mod recovery;
pub mod smt;
pub mod state;
mod store;
pub mod tx;

pub use block::{BlockHeader, CommitCertificate, Validator, ValidatorSet};
pub use codec::{Decode, Encode};
pub use did::{Did, DidDocument, Endpoint, KeyRef, Service, VerificationMethod};
pub use engine::{BlockOutcome, Engine, EngineConfig, SingleValidator};
pub use error::{Error, Result};
pub use genesis::{Genesis, Org};
pub use guard::{SignGuard, SignedRecord};
pub use hash::{Hash32, HashAlg, LedgerHash, TaggedHash};
pub use keys::{KeyPair, ParsedKey, PublicKey, Signature, SignatureSuite};
pub use ledger::{Ledger, PreparedBlock};
pub use receipt::{Receipt, ReceiptEntry, ReceiptProof, verify_fresh_receipt, verify_receipt};
pub use recovery::{RecoveryBackup, SealedShare};
pub use state::{DataSet, GovernanceState, GrantRecord, JobRecord, StateKey, Supervisors};
pub use tx::{
    AdminApproval, Approval, Commitment, DidRegistration, GovAction, InputCommitment,
    MAX_DID_BATCH, Transaction, TxBody, did_create_message, did_update_message, governance_message,
};
