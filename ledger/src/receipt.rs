//! Receipts: proof, checkable offline by anyone who trusts only the validator set, that a
//! transaction was included in a certified block or that a state entry held (or did not hold) a
//! value at a certified block.
//!
//! `verify_receipt` checks, in order: that the header names the expected chain, the certificate's
//! quorum of validator signatures over the header (and that the header names the trusted set),
//! then the Merkle proof from the entry to the header's transaction root or state root.
//!
//! The chain check matters because one validator set may certify several ledgers (a staging and a
//! production chain run by the same organisations): their votes are chain-bound (the header hash
//! covers the chain id), but a verifier that trusted only the validator set would accept a
//! receipt of the other chain.

use crate::block::{BlockHeader, CommitCertificate, ValidatorSet};
use crate::codec::{Decode, Encode, MAX_TX_BYTES, Reader, Writer};
use crate::error::{Error, Result};
use crate::hash::Hash32;
use crate::merkle::TxProof;
use crate::smt::SmtProof;

/// Largest state value a receipt may carry.
pub(crate) const MAX_VALUE_BYTES: usize = 1 << 20;

/// What a receipt speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiptEntry {
    /// A transaction, as its canonical bytes.
    Transaction(Vec<u8>),
    /// A state key and its value, or `None` to prove absence.
    State {
        /// Raw state key.
        key: Vec<u8>,
        /// Value bytes, or `None`.
        value: Option<Vec<u8>>,
    },
}

/// The Merkle proof matching the entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiptProof {
    /// Inclusion in the block's transaction tree.
    Transaction(TxProof),
    /// Inclusion or absence in the state tree.
    State(SmtProof),
}

/// Entry, Merkle proof, header and commit certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The entry.
    pub entry: ReceiptEntry,
    /// Its proof.
    pub proof: ReceiptProof,
    /// The certified header.
    pub header: BlockHeader,
    /// Validator signatures over the header.
    pub certificate: CommitCertificate,
}

impl Receipt {
    /// Height of the certified block the receipt speaks for. A state receipt shows the entry as
    /// of this block only: a grant revoked later still has valid receipts from before.
    pub fn height(&self) -> u64 {
        self.header.height
    }
}

/// [`verify_receipt`], and refuses a receipt from a block below `min_height` with
/// [`Error::StaleReceipt`]. A verifier that knows the chain reached some height (from an earlier
/// answer, or out of band) uses it so an old receipt, say of a since-revoked grant, cannot be
/// replayed to it.
pub fn verify_fresh_receipt(
    receipt: &Receipt,
    chain_id: &Hash32,
    validators: &ValidatorSet,
    min_height: u64,
) -> Result<()> {
    verify_receipt(receipt, chain_id, validators)?;
    if receipt.height() < min_height {
        return Err(Error::StaleReceipt { height: receipt.height(), min: min_height });
    }
    Ok(())
}

/// Checks a receipt for the chain `chain_id` (the genesis hash) against a trusted validator set,
/// without any database. It says nothing about freshness: see [`verify_fresh_receipt`].
pub fn verify_receipt(
    receipt: &Receipt,
    chain_id: &Hash32,
    validators: &ValidatorSet,
) -> Result<()> {
    if receipt.header.chain_id != *chain_id {
        return Err(Error::WrongChain);
    }
    let h = receipt.header.hash_alg;
    receipt.certificate.verify(&receipt.header, validators)?;
    match (&receipt.entry, &receipt.proof) {
        (ReceiptEntry::Transaction(bytes), ReceiptProof::Transaction(p)) => {
            if p.tree_size != receipt.header.tx_count {
                return Err(Error::ProofInvalid("tree size differs from header"));
            }
            p.verify(h, &h.hash(&[bytes]), &receipt.header.tx_root)
        }
        (ReceiptEntry::State { key, value }, ReceiptProof::State(p)) => {
            let kh = h.hash(&[key]);
            let vh = value.as_ref().map(|v| h.hash(&[v]));
            p.verify(h, &receipt.header.state_root, &kh, vh.as_ref())
        }
        _ => Err(Error::ProofInvalid("proof kind does not match entry")),
    }
}

impl Encode for Receipt {
    fn encode(&self, w: &mut Writer) {
        match &self.entry {
            ReceiptEntry::Transaction(b) => {
                w.u8(1);
                w.bytes(b);
            }
            ReceiptEntry::State { key, value } => {
                w.u8(2);
                w.bytes(key);
                match value {
                    None => w.u8(0),
                    Some(v) => {
                        w.u8(1);
                        w.bytes(v);
                    }
                }
            }
        }
        match &self.proof {
            ReceiptProof::Transaction(p) => {
                w.u8(1);
                p.encode(w);
            }
            ReceiptProof::State(p) => {
                w.u8(2);
                p.encode(w);
            }
        }
        self.header.encode(w);
        self.certificate.encode(w);
    }
}

impl Decode for Receipt {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let entry = match r.u8()? {
            1 => ReceiptEntry::Transaction(r.bytes(MAX_TX_BYTES)?),
            2 => {
                let key = r.bytes(1024)?;
                let value = match r.u8()? {
                    0 => None,
                    1 => Some(r.bytes(MAX_VALUE_BYTES)?),
                    _ => return Err(Error::Malformed("receipt value tag")),
                };
                ReceiptEntry::State { key, value }
            }
            _ => return Err(Error::Malformed("receipt entry tag")),
        };
        let proof = match r.u8()? {
            1 => ReceiptProof::Transaction(TxProof::decode(r)?),
            2 => ReceiptProof::State(SmtProof::decode(r)?),
            _ => return Err(Error::Malformed("receipt proof tag")),
        };
        Ok(Self {
            entry,
            proof,
            header: BlockHeader::decode(r)?,
            certificate: CommitCertificate::decode(r)?,
        })
    }
}
