//! Block headers, validator sets and commit certificates.
//!
//! A header binds a height to its predecessor, the Merkle root of its transactions, the root of the
//! authenticated state after executing them, the block time, the ledger hash and the hash of the
//! validator set that certifies it. A [`CommitCertificate`] carries signatures of at least
//! `⌊2n/3⌋ + 1` distinct validators over the header hash: with `n = 3f + 1` that is the `2f + 1`
//! quorum of PBFT/Tendermint-style BFT (Castro–Liskov, OSDI '99, §4), tolerating `f` faulty
//! validators; the single-validator engine is the case `n = 1`, quorum 1.

use crate::codec::{Decode, Encode, MAX_ID_LEN, MAX_LIST, Reader, Writer};
use crate::error::{Error, Result};
use crate::hash::{Hash32, LedgerHash};
use crate::keys::{KeyPair, PublicKey, Signature};

const HEADER_DOMAIN: &[u8] = b"tessera-ledger/header/v1";
const VOTE_DOMAIN: &[u8] = b"tessera-ledger/commit/v1";
const VALIDATORS_DOMAIN: &[u8] = b"tessera-ledger/validators/v1";
/// Header format version.
pub const HEADER_VERSION: u16 = 1;

/// A validator: a name and its signing key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    /// Unique name.
    pub name: String,
    /// Key that signs commit votes.
    pub key: PublicKey,
}

impl Encode for Validator {
    fn encode(&self, w: &mut Writer) {
        w.str(&self.name);
        self.key.encode(w);
    }
}

impl Decode for Validator {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self { name: r.string(MAX_ID_LEN)?, key: PublicKey::decode(r)? })
    }
}

/// The ordered set of validators that certifies blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    /// Validators; a certificate names them by index.
    pub validators: Vec<Validator>,
}

impl ValidatorSet {
    /// A set, checked for emptiness, duplicate names or keys, and invalid keys.
    pub fn new(validators: Vec<Validator>) -> Result<Self> {
        let set = Self { validators };
        set.validate()?;
        Ok(set)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.validators.is_empty() || self.validators.len() > MAX_LIST {
            return Err(Error::InvalidGovernance("validator set must hold 1 to 256 validators"));
        }
        for (i, v) in self.validators.iter().enumerate() {
            v.key.validate()?;
            if self.validators[..i].iter().any(|o| o.name == v.name || o.key == v.key) {
                return Err(Error::InvalidGovernance("duplicate validator name or key"));
            }
        }
        Ok(())
    }

    /// Signatures needed: `⌊2n/3⌋ + 1`.
    pub fn quorum(&self) -> usize {
        self.validators.len() * 2 / 3 + 1
    }

    /// Hash identifying this set (in every header it certifies).
    pub fn hash(&self, hash: LedgerHash) -> Hash32 {
        hash.hash(&[VALIDATORS_DOMAIN, &self.to_bytes()])
    }
}

impl Encode for ValidatorSet {
    fn encode(&self, w: &mut Writer) {
        w.list(&self.validators);
    }
}

impl Decode for ValidatorSet {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self { validators: r.list(MAX_LIST)? })
    }
}

/// A block header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockHeader {
    /// Format version ([`HEADER_VERSION`]).
    pub version: u16,
    /// Hash of the genesis file: names the ledger.
    pub chain_id: Hash32,
    /// Height; genesis is 0.
    pub height: u64,
    /// Hash of the previous header (zero for genesis).
    pub prev_hash: Hash32,
    /// Merkle root (RFC 6962 shape) of the block's transaction ids.
    pub tx_root: Hash32,
    /// Number of transactions.
    pub tx_count: u32,
    /// Sparse Merkle root of the state after this block.
    pub state_root: Hash32,
    /// Block time, Unix milliseconds, never decreasing.
    pub time_ms: u64,
    /// The ledger hash (from genesis).
    pub hash_alg: LedgerHash,
    /// Hash of the validator set that certifies this block.
    pub validator_set_hash: Hash32,
}

impl BlockHeader {
    /// The header hash signed by validators.
    pub fn hash(&self) -> Hash32 {
        self.hash_alg.hash(&[HEADER_DOMAIN, &self.to_bytes()])
    }
}

impl Encode for BlockHeader {
    fn encode(&self, w: &mut Writer) {
        w.u16(self.version);
        w.raw(&self.chain_id);
        w.u64(self.height);
        w.raw(&self.prev_hash);
        w.raw(&self.tx_root);
        w.u32(self.tx_count);
        w.raw(&self.state_root);
        w.u64(self.time_ms);
        self.hash_alg.encode(w);
        w.raw(&self.validator_set_hash);
    }
}

impl Decode for BlockHeader {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let version = r.u16()?;
        if version != HEADER_VERSION {
            return Err(Error::Malformed("unknown header version"));
        }
        Ok(Self {
            version,
            chain_id: r.array()?,
            height: r.u64()?,
            prev_hash: r.array()?,
            tx_root: r.array()?,
            tx_count: r.u32()?,
            state_root: r.array()?,
            time_ms: r.u64()?,
            hash_alg: LedgerHash::decode(r)?,
            validator_set_hash: r.array()?,
        })
    }
}

/// Validator signatures over a header hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitCertificate {
    /// Height of the certified header.
    pub height: u64,
    /// Hash of the certified header.
    pub header_hash: Hash32,
    /// `(validator index, signature)`, indices strictly increasing.
    pub signatures: Vec<(u16, Signature)>,
}

/// The bytes a validator signs to commit a header.
pub fn vote_message(header_hash: &Hash32) -> Vec<u8> {
    [VOTE_DOMAIN, header_hash.as_slice()].concat()
}

impl CommitCertificate {
    /// A certificate with one validator's vote (the single-validator engine's case).
    pub fn sign_single(header: &BlockHeader, index: u16, key: &KeyPair) -> Self {
        let header_hash = header.hash();
        let sig = key.sign(&vote_message(&header_hash));
        Self { height: header.height, header_hash, signatures: vec![(index, sig)] }
    }

    /// Checks the certificate against `header` and the trusted `set`: the header must name this
    /// set, the certificate must name this header, and a quorum of distinct set members must have
    /// signed it.
    pub fn verify(&self, header: &BlockHeader, set: &ValidatorSet) -> Result<()> {
        if header.validator_set_hash != set.hash(header.hash_alg) {
            return Err(Error::WrongValidatorSet);
        }
        let hh = header.hash();
        if self.header_hash != hh || self.height != header.height {
            return Err(Error::CertificateInvalid("certificate names another header"));
        }
        let msg = vote_message(&hh);
        let mut last: Option<u16> = None;
        for (idx, sig) in &self.signatures {
            if last.is_some_and(|l| *idx <= l) {
                return Err(Error::CertificateInvalid("signer indices not strictly increasing"));
            }
            last = Some(*idx);
            let v = set
                .validators
                .get(usize::from(*idx))
                .ok_or(Error::CertificateInvalid("signer index outside the set"))?;
            v.key
                .verify(&msg, sig)
                .map_err(|_| Error::CertificateInvalid("validator signature"))?;
        }
        if self.signatures.len() < set.quorum() {
            return Err(Error::CertificateInvalid("fewer signatures than the 2f+1 quorum"));
        }
        Ok(())
    }
}

impl Encode for CommitCertificate {
    fn encode(&self, w: &mut Writer) {
        w.u64(self.height);
        w.raw(&self.header_hash);
        w.len(self.signatures.len());
        for (i, s) in &self.signatures {
            w.u16(*i);
            s.encode(w);
        }
    }
}

impl Decode for CommitCertificate {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let height = r.u64()?;
        let header_hash = r.array()?;
        let n = r.len(MAX_LIST)?;
        let mut signatures = Vec::with_capacity(n);
        for _ in 0..n {
            signatures.push((r.u16()?, Signature::decode(r)?));
        }
        Ok(Self { height, header_hash, signatures })
    }
}
