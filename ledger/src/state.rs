//! Records held in the authenticated state, and the keys they live under.
//!
//! A state key is a short type prefix followed by identifiers; the tree is keyed by the ledger
//! hash of the key and stores the ledger hash of the value, while the values themselves sit in a
//! plain table beside it. Receipts for state entries carry the key and value bytes.

use crate::codec::{Decode, Encode, MAX_ID_LEN, MAX_LIST, Reader, Writer};
use crate::did::Did;
use crate::error::{Error, Result};
use crate::hash::{Hash32, TaggedHash};
use crate::tx::Commitment;

/// Keys of state entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateKey {
    /// The document of `did:tessera:<id>`.
    Did(String),
    /// The last nonce used by a DID (its string form).
    Nonce(String),
    /// A data set.
    DataSet(String),
    /// A grant on a data set.
    Grant {
        /// Data set.
        dataset: String,
        /// Grant identifier.
        grant: String,
    },
    /// A recorded computation.
    Job(String),
    /// An organisation.
    Org(String),
    /// The validator set for the next block.
    Validators,
    /// Governance parameters.
    Governance,
    /// The supervisors' DIDs (absent: none).
    Supervisors,
    /// A key-recovery backup of `did:tessera:<did>` (see [`crate::recovery`]).
    Recovery {
        /// Identifier after `did:tessera:`.
        did: String,
        /// Backup id.
        backup: String,
    },
}

impl StateKey {
    /// The raw key bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let (prefix, parts): (&[u8], Vec<&str>) = match self {
            Self::Did(id) => (b"did/", vec![id]),
            Self::Nonce(d) => (b"nonce/", vec![d]),
            Self::DataSet(id) => (b"dataset/", vec![id]),
            Self::Grant { dataset, grant } => (b"grant/", vec![dataset, grant]),
            Self::Job(id) => (b"job/", vec![id]),
            Self::Org(n) => (b"org/", vec![n]),
            Self::Validators => (b"validators", vec![]),
            Self::Governance => (b"governance", vec![]),
            Self::Supervisors => (b"supervisors", vec![]),
            Self::Recovery { did, backup } => (b"recovery/", vec![did, backup]),
        };
        let mut out = prefix.to_vec();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                // Identifiers never contain '/', so the split is unambiguous.
                out.push(b'/');
            }
            out.extend_from_slice(p.as_bytes());
        }
        out
    }
}

/// A registered data set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSet {
    /// Owner DID (the registering signer).
    pub owner: Did,
    /// Digest of the contents.
    pub content_hash: TaggedHash,
    /// Digest of the schema.
    pub schema_hash: TaggedHash,
    /// Block height of registration.
    pub registered_at: u64,
}

impl Encode for DataSet {
    fn encode(&self, w: &mut Writer) {
        self.owner.encode(w);
        self.content_hash.encode(w);
        self.schema_hash.encode(w);
        w.u64(self.registered_at);
    }
}

impl Decode for DataSet {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            owner: Did::decode(r)?,
            content_hash: TaggedHash::decode(r)?,
            schema_hash: TaggedHash::decode(r)?,
            registered_at: r.u64()?,
        })
    }
}

/// Permission to use a data set in one program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantRecord {
    /// Program covered.
    pub program_hash: Hash32,
    /// DIDs allowed to take part.
    pub grantees: Vec<Did>,
    /// Expiry (Unix ms).
    pub expires_at_ms: u64,
    /// Maximum uses.
    pub max_uses: u64,
    /// Uses so far.
    pub uses: u64,
    /// Set by a revoke.
    pub revoked: bool,
}

impl Encode for GrantRecord {
    fn encode(&self, w: &mut Writer) {
        w.raw(&self.program_hash);
        w.list(&self.grantees);
        w.u64(self.expires_at_ms);
        w.u64(self.max_uses);
        w.u64(self.uses);
        w.bool(self.revoked);
    }
}

impl Decode for GrantRecord {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            program_hash: r.array()?,
            grantees: r.list(MAX_LIST)?,
            expires_at_ms: r.u64()?,
            max_uses: r.u64()?,
            uses: r.u64()?,
            revoked: r.bool()?,
        })
    }
}

/// A recorded computation: the commitment with every participant signature, who submitted it
/// and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRecord {
    /// The commitment as signed.
    pub commitment: Commitment,
    /// Submitting DID.
    pub submitter: Did,
    /// Height of the block that recorded it.
    pub height: u64,
    /// That block's time.
    pub time_ms: u64,
}

impl Encode for JobRecord {
    fn encode(&self, w: &mut Writer) {
        self.commitment.encode(w);
        self.submitter.encode(w);
        w.u64(self.height);
        w.u64(self.time_ms);
    }
}

impl Decode for JobRecord {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            commitment: Commitment::decode(r)?,
            submitter: Did::decode(r)?,
            height: r.u64()?,
            time_ms: r.u64()?,
        })
    }
}

/// Governance parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GovernanceState {
    /// Approvals needed (k).
    pub admin_threshold: u8,
    /// Number of the last executed proposal.
    pub seq: u64,
    /// Names of the current organisations (their records sit under [`StateKey::Org`]).
    pub orgs: Vec<String>,
}

impl Encode for GovernanceState {
    fn encode(&self, w: &mut Writer) {
        w.u8(self.admin_threshold);
        w.u64(self.seq);
        w.list(&self.orgs);
    }
}

impl Decode for GovernanceState {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self { admin_threshold: r.u8()?, seq: r.u64()?, orgs: r.list(MAX_LIST)? })
    }
}

/// The supervisors, stored under [`StateKey::Supervisors`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Supervisors(pub Vec<Did>);

impl Encode for Supervisors {
    fn encode(&self, w: &mut Writer) {
        w.list(&self.0);
    }
}

impl Decode for Supervisors {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self(r.list(MAX_LIST)?))
    }
}

/// Nonce values are a bare `u64`.
pub(crate) fn decode_nonce(b: &[u8]) -> Result<u64> {
    let a: [u8; 8] = b.try_into().map_err(|_| Error::Corrupt("nonce entry"))?;
    Ok(u64::from_be_bytes(a))
}

/// Checks a string read from a transaction is a valid identifier.
pub(crate) fn check_name(what: &'static str, s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && s.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
    if ok { Ok(()) } else { Err(Error::Malformed(what)) }
}
