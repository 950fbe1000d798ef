//! Transactions: what a DID asks the ledger to do, signed with one of its keys and numbered with a
//! nonce against replay.
//!
//! Every signature covers a domain tag, the chain id (the genesis hash, so a transaction for one
//! ledger is void on another) and the canonical encoding of everything else. Approvals inside a
//! body (DID controllers, participants of a computation, governance admins) sign their own domain
//! tag, so no signature can be moved from one role to another.

use crate::block::Validator;
use crate::codec::{Decode, Encode, MAX_ID_LEN, MAX_LIST, MAX_TX_BYTES, Reader, Writer};
use crate::did::{Did, DidDocument, KeyRef};
use crate::error::{Error, Result};
use crate::genesis::Org;
use crate::hash::{Hash32, LedgerHash, TaggedHash};
use crate::keys::{KeyPair, PublicKey, Signature};
use crate::recovery::RecoveryBackup;

const TX_DOMAIN: &[u8] = b"tessera-ledger/tx/v1";
const DID_UPDATE_DOMAIN: &[u8] = b"tessera-ledger/did-update/v1";
const COMMITMENT_DOMAIN: &[u8] = b"tessera-ledger/commitment/v1";
const GOVERNANCE_DOMAIN: &[u8] = b"tessera-ledger/governance/v1";
const DID_CREATE_DOMAIN: &[u8] = b"tessera-ledger/did-create/v1";

/// Most DIDs one [`TxBody::CreateDids`] batch registers (the transaction is also bounded by
/// [`MAX_TX_BYTES`]).
pub const MAX_DID_BATCH: usize = 1024;

/// One DID of a [`TxBody::CreateDids`] batch: a new document, self-signed by one of its own
/// verification methods over [`did_create_message`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DidRegistration {
    /// The new document (version 0, active).
    pub document: DidDocument,
    /// The document's verification method that signed it.
    pub method: String,
    /// Signature of [`did_create_message`] by that method's key.
    pub signature: Signature,
}

impl DidRegistration {
    /// Self-signs `document` with `key`, the key of its method `method` (helper for clients).
    pub fn sign(chain_id: &Hash32, document: DidDocument, method: &str, key: &KeyPair) -> Self {
        let signature = key.sign(&did_create_message(chain_id, &document));
        Self { document, method: method.to_owned(), signature }
    }
}

impl Encode for DidRegistration {
    fn encode(&self, w: &mut Writer) {
        self.document.encode(w);
        w.str(&self.method);
        self.signature.encode(w);
    }
}

impl Decode for DidRegistration {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            document: DidDocument::decode(r)?,
            method: r.string(MAX_ID_LEN)?,
            signature: Signature::decode(r)?,
        })
    }
}

/// The bytes a new DID signs to be registered in a [`TxBody::CreateDids`] batch: its own domain
/// tag (so neither a transaction signature nor an update approval can stand in for it), the chain
/// id and the whole document. Replaying it is refused because the DID then exists.
pub fn did_create_message(chain_id: &Hash32, document: &DidDocument) -> Vec<u8> {
    let mut w = Writer::new();
    w.raw(DID_CREATE_DOMAIN);
    w.raw(chain_id);
    document.encode(&mut w);
    w.into_bytes()
}

/// A signature by one key of a DID, used for approvals inside a transaction body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approval {
    /// Who signed.
    pub signer: KeyRef,
    /// The signature.
    pub signature: Signature,
}

impl Encode for Approval {
    fn encode(&self, w: &mut Writer) {
        self.signer.encode(w);
        self.signature.encode(w);
    }
}

impl Decode for Approval {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self { signer: KeyRef::decode(r)?, signature: Signature::decode(r)? })
    }
}

/// One input of a computation: a committed value drawn from a data set under a grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputCommitment {
    /// Data set the input comes from.
    pub dataset: String,
    /// Grant on that data set that authorises the use.
    pub grant: String,
    /// Commitment to the input as fed to the computation.
    pub commitment: Hash32,
}

impl Encode for InputCommitment {
    fn encode(&self, w: &mut Writer) {
        w.str(&self.dataset);
        w.str(&self.grant);
        w.raw(&self.commitment);
    }
}

impl Decode for InputCommitment {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            dataset: r.string(MAX_ID_LEN)?,
            grant: r.string(MAX_ID_LEN)?,
            commitment: r.array()?,
        })
    }
}

/// What a computation committed to. Each participant signs [`Commitment::signing_message`];
/// `signatures[i]` must come from `participants[i]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commitment {
    /// Unique job identifier.
    pub job_id: String,
    /// Parties to the computation.
    pub participants: Vec<Did>,
    /// Hash of the program run.
    pub program_hash: Hash32,
    /// Inputs, each under a grant.
    pub inputs: Vec<InputCommitment>,
    /// Hash of the result.
    pub result_hash: Hash32,
    /// Hash of TEE attestation evidence, when a TEE ran the job.
    pub tee_evidence_hash: Option<Hash32>,
    /// One signature per participant, in the same order.
    pub signatures: Vec<Approval>,
}

impl Commitment {
    fn encode_unsigned(&self, w: &mut Writer) {
        w.str(&self.job_id);
        w.list(&self.participants);
        w.raw(&self.program_hash);
        w.list(&self.inputs);
        w.raw(&self.result_hash);
        w.option(self.tee_evidence_hash.as_ref());
    }

    /// The bytes each participant signs.
    pub fn signing_message(&self, chain_id: &Hash32) -> Vec<u8> {
        let mut w = Writer::new();
        w.raw(COMMITMENT_DOMAIN);
        w.raw(chain_id);
        self.encode_unsigned(&mut w);
        w.into_bytes()
    }

    /// Adds `key`'s signature for the participant `signer` (helper for clients).
    pub fn sign_as(&mut self, chain_id: &Hash32, signer: KeyRef, key: &KeyPair) {
        let signature = key.sign(&self.signing_message(chain_id));
        self.signatures.push(Approval { signer, signature });
    }
}

impl Encode for Commitment {
    fn encode(&self, w: &mut Writer) {
        self.encode_unsigned(w);
        w.list(&self.signatures);
    }
}

impl Decode for Commitment {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            job_id: r.string(MAX_ID_LEN)?,
            participants: r.list(MAX_LIST)?,
            program_hash: r.array()?,
            inputs: r.list(MAX_LIST)?,
            result_hash: r.array()?,
            tee_evidence_hash: r.option()?,
            signatures: r.list(MAX_LIST)?,
        })
    }
}

/// A change to the organisations or validators, approved by k of n admin keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GovAction {
    /// Admit an organisation with its admin keys.
    AddOrg(Org),
    /// Remove an organisation (its admin keys stop counting).
    RemoveOrg(String),
    /// Add a validator.
    AddValidator(Validator),
    /// Remove a validator by name.
    RemoveValidator(String),
    /// Name a supervisor (a `did:tessera` DID that may read everything, sign nothing).
    AddSupervisor(Did),
    /// Remove a supervisor.
    RemoveSupervisor(Did),
}

impl Encode for GovAction {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::AddOrg(o) => {
                w.u8(1);
                o.encode(w);
            }
            Self::RemoveOrg(n) => {
                w.u8(2);
                w.str(n);
            }
            Self::AddValidator(v) => {
                w.u8(3);
                v.encode(w);
            }
            Self::RemoveValidator(n) => {
                w.u8(4);
                w.str(n);
            }
            Self::AddSupervisor(d) => {
                w.u8(5);
                d.encode(w);
            }
            Self::RemoveSupervisor(d) => {
                w.u8(6);
                d.encode(w);
            }
        }
    }
}

impl Decode for GovAction {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match r.u8()? {
            1 => Ok(Self::AddOrg(Org::decode(r)?)),
            2 => Ok(Self::RemoveOrg(r.string(MAX_ID_LEN)?)),
            3 => Ok(Self::AddValidator(Validator::decode(r)?)),
            4 => Ok(Self::RemoveValidator(r.string(MAX_ID_LEN)?)),
            5 => Ok(Self::AddSupervisor(Did::decode(r)?)),
            6 => Ok(Self::RemoveSupervisor(Did::decode(r)?)),
            _ => Err(Error::Malformed("governance action tag")),
        }
    }
}

/// An admin key's approval of a governance proposal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminApproval {
    /// The admin key (must belong to a current organisation).
    pub admin: PublicKey,
    /// Signature over [`governance_message`].
    pub signature: Signature,
}

impl Encode for AdminApproval {
    fn encode(&self, w: &mut Writer) {
        self.admin.encode(w);
        self.signature.encode(w);
    }
}

impl Decode for AdminApproval {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self { admin: PublicKey::decode(r)?, signature: Signature::decode(r)? })
    }
}

/// The bytes admins sign for governance proposal number `seq`.
pub fn governance_message(chain_id: &Hash32, seq: u64, action: &GovAction) -> Vec<u8> {
    let mut w = Writer::new();
    w.raw(GOVERNANCE_DOMAIN);
    w.raw(chain_id);
    w.u64(seq);
    action.encode(&mut w);
    w.into_bytes()
}

/// The bytes controllers sign to replace (or deactivate, `new == None`) the document of `did`
/// at version `version`.
pub fn did_update_message(
    chain_id: &Hash32,
    did: &str,
    version: u64,
    new: Option<&DidDocument>,
) -> Vec<u8> {
    let mut w = Writer::new();
    w.raw(DID_UPDATE_DOMAIN);
    w.raw(chain_id);
    w.str(did);
    w.u64(version);
    w.option(new);
    w.into_bytes()
}

/// The operation a transaction performs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxBody {
    /// Register a new `did:tessera` document; the signer must be one of its own keys.
    CreateDid(DidDocument),
    /// Replace a document (rotate keys, change controllers); needs the controllers' approvals over
    /// [`did_update_message`] for the current version. The new version must be current + 1.
    UpdateDid {
        /// New document.
        document: DidDocument,
        /// Controller approvals.
        approvals: Vec<Approval>,
    },
    /// Deactivate a document, with controller approvals over [`did_update_message`] with `None`.
    DeactivateDid {
        /// Identifier after `did:tessera:`.
        id: String,
        /// Controller approvals.
        approvals: Vec<Approval>,
    },
    /// Register a data set owned by the signer's DID.
    RegisterDataSet {
        /// Unique identifier.
        id: String,
        /// Digest of the contents.
        content_hash: TaggedHash,
        /// Digest of the schema.
        schema_hash: TaggedHash,
    },
    /// Allow `grantees` to use a data set in `program_hash`, until `expires_at_ms`, at most
    /// `max_uses` times. Only the owner may grant.
    Grant {
        /// Data set.
        dataset: String,
        /// Identifier unique within the data set.
        grant: String,
        /// Program the grant covers.
        program_hash: Hash32,
        /// DIDs allowed to take part.
        grantees: Vec<Did>,
        /// Expiry, Unix milliseconds (compared with the block time).
        expires_at_ms: u64,
        /// Maximum number of commitments that may use this grant.
        max_uses: u64,
    },
    /// Revoke a grant. Only the owner may revoke.
    Revoke {
        /// Data set.
        dataset: String,
        /// Grant.
        grant: String,
    },
    /// Record a computation.
    Commit(Commitment),
    /// A governance change with admin approvals for proposal number `seq`.
    Governance {
        /// Proposal number: must be the ledger's governance counter + 1.
        seq: u64,
        /// The change.
        action: GovAction,
        /// Admin approvals.
        approvals: Vec<AdminApproval>,
    },
    /// Publish a key-recovery backup of the signer's own DID: Feldman commitments and one sealed
    /// share per holder. Its recovery key (`did:key:<C_0>`) must already be a controller of the
    /// document, and each holder's key must be that holder's current key.
    RecoveryBackup(RecoveryBackup),
    /// Registers up to [`MAX_DID_BATCH`] new DIDs at once, each self-signed (see
    /// [`DidRegistration`]). The submitter may be any DID that may sign (not a supervisor); the
    /// batch is all or nothing: one bad entry (bad signature, invalid or existing document, a
    /// DID twice) refuses the whole transaction with [`Error::BatchEntry`] naming it, and
    /// nothing of it is written.
    CreateDids(Vec<DidRegistration>),
}

impl Encode for TxBody {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::CreateDid(d) => {
                w.u8(1);
                d.encode(w);
            }
            Self::UpdateDid { document, approvals } => {
                w.u8(2);
                document.encode(w);
                w.list(approvals);
            }
            Self::DeactivateDid { id, approvals } => {
                w.u8(3);
                w.str(id);
                w.list(approvals);
            }
            Self::RegisterDataSet { id, content_hash, schema_hash } => {
                w.u8(4);
                w.str(id);
                content_hash.encode(w);
                schema_hash.encode(w);
            }
            Self::Grant { dataset, grant, program_hash, grantees, expires_at_ms, max_uses } => {
                w.u8(5);
                w.str(dataset);
                w.str(grant);
                w.raw(program_hash);
                w.list(grantees);
                w.u64(*expires_at_ms);
                w.u64(*max_uses);
            }
            Self::Revoke { dataset, grant } => {
                w.u8(6);
                w.str(dataset);
                w.str(grant);
            }
            Self::Commit(c) => {
                w.u8(7);
                c.encode(w);
            }
            Self::Governance { seq, action, approvals } => {
                w.u8(8);
                w.u64(*seq);
                action.encode(w);
                w.list(approvals);
            }
            Self::RecoveryBackup(b) => {
                w.u8(9);
                b.encode(w);
            }
            Self::CreateDids(regs) => {
                w.u8(10);
                w.list(regs);
            }
        }
    }
}

impl Decode for TxBody {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(match r.u8()? {
            1 => Self::CreateDid(DidDocument::decode(r)?),
            2 => {
                Self::UpdateDid { document: DidDocument::decode(r)?, approvals: r.list(MAX_LIST)? }
            }
            3 => Self::DeactivateDid { id: r.string(MAX_ID_LEN)?, approvals: r.list(MAX_LIST)? },
            4 => Self::RegisterDataSet {
                id: r.string(MAX_ID_LEN)?,
                content_hash: TaggedHash::decode(r)?,
                schema_hash: TaggedHash::decode(r)?,
            },
            5 => Self::Grant {
                dataset: r.string(MAX_ID_LEN)?,
                grant: r.string(MAX_ID_LEN)?,
                program_hash: r.array()?,
                grantees: r.list(MAX_LIST)?,
                expires_at_ms: r.u64()?,
                max_uses: r.u64()?,
            },
            6 => Self::Revoke { dataset: r.string(MAX_ID_LEN)?, grant: r.string(MAX_ID_LEN)? },
            7 => Self::Commit(Commitment::decode(r)?),
            8 => Self::Governance {
                seq: r.u64()?,
                action: GovAction::decode(r)?,
                approvals: r.list(MAX_LIST)?,
            },
            9 => Self::RecoveryBackup(RecoveryBackup::decode(r)?),
            10 => Self::CreateDids(r.list(MAX_DID_BATCH)?),
            _ => return Err(Error::Malformed("transaction body tag")),
        })
    }
}

/// A signed transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    /// The signing key.
    pub signer: KeyRef,
    /// Must exceed every nonce this signer's DID used before.
    pub nonce: u64,
    /// The operation.
    pub body: TxBody,
    /// Signature over [`Transaction::signing_message`].
    pub signature: Signature,
}

fn encode_unsigned(w: &mut Writer, signer: &KeyRef, nonce: u64, body: &TxBody) {
    signer.encode(w);
    w.u64(nonce);
    body.encode(w);
}

impl Transaction {
    /// Signs a transaction.
    pub fn sign(
        chain_id: &Hash32,
        signer: KeyRef,
        nonce: u64,
        body: TxBody,
        key: &KeyPair,
    ) -> Self {
        let msg = signing_message(chain_id, &signer, nonce, &body);
        let signature = key.sign(&msg);
        Self { signer, nonce, body, signature }
    }

    /// The bytes the signer signs.
    pub fn signing_message(&self, chain_id: &Hash32) -> Vec<u8> {
        signing_message(chain_id, &self.signer, self.nonce, &self.body)
    }

    /// The transaction id: the ledger hash of its canonical encoding.
    pub fn id(&self, hash: LedgerHash) -> Hash32 {
        hash.hash(&[&self.to_bytes()])
    }

    /// Decodes a transaction received from the network, refusing anything above
    /// [`MAX_TX_BYTES`].
    pub fn decode_untrusted(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_TX_BYTES {
            return Err(Error::Malformed("transaction too large"));
        }
        Self::from_bytes(bytes)
    }
}

fn signing_message(chain_id: &Hash32, signer: &KeyRef, nonce: u64, body: &TxBody) -> Vec<u8> {
    let mut w = Writer::new();
    w.raw(TX_DOMAIN);
    w.raw(chain_id);
    encode_unsigned(&mut w, signer, nonce, body);
    w.into_bytes()
}

impl Encode for Transaction {
    fn encode(&self, w: &mut Writer) {
        encode_unsigned(w, &self.signer, self.nonce, &self.body);
        self.signature.encode(w);
    }
}

impl Decode for Transaction {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            signer: KeyRef::decode(r)?,
            nonce: r.u64()?,
            body: TxBody::decode(r)?,
            signature: Signature::decode(r)?,
        })
    }
}
