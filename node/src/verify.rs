//! `tessera verify`: checks a job's anchored commitment with nothing but the validator set.
//!
//! The receipt (a state receipt for `job/<id>`, exported by `job status --receipt` or read from
//! the ledger) is checked against the chain id and validator set of `genesis.json` with
//! [`tessera_ledger::verify_receipt`]: the validators' signatures over the block header, then the
//! Merkle proof from the job record to the header's state root. The record's commitment then
//! gives the program hash, participants and result hash; a result file is accepted only if its
//! hash is the committed one.

use std::path::Path;

use serde::Serialize;
use tessera_ledger::{
    Decode as _, Genesis, JobRecord, Receipt, ReceiptEntry, StateKey, verify_receipt,
};

use crate::error::{Error, Result};
use crate::job::result_hash;

/// What `verify` established.
#[derive(Clone, Debug, Serialize)]
pub struct Verified {
    /// The job.
    pub job_id: String,
    /// Height of the certified block the receipt speaks for.
    pub height: u64,
    /// Height at which the job was anchored.
    pub anchored_at: u64,
    /// Participants (DIDs) who signed the commitment.
    pub participants: Vec<String>,
    /// Program hash (hex).
    pub program_hash: String,
    /// Committed result hash (hex).
    pub result_hash: String,
    /// Whether a result file was checked (it matched, or verification failed).
    pub result_file_checked: bool,
}

/// Verifies `receipt` for `job_id` against `genesis`' validators and, if given, a result file.
pub fn verify(
    genesis: &Genesis,
    job_id: &str,
    receipt: &Receipt,
    result_file: Option<&Path>,
) -> Result<Verified> {
    // Bound to this genesis' chain: the same validators may certify other ledgers too.
    verify_receipt(receipt, &genesis.chain_id(), &genesis.validators)
        .map_err(|e| Error::Verification(format!("receipt: {e}")))?;
    let ReceiptEntry::State { key, value } = &receipt.entry else {
        return Err(Error::Verification("not a state receipt".into()));
    };
    if *key != StateKey::Job(job_id.to_owned()).to_bytes() {
        return Err(Error::Verification(format!("the receipt is not about job {job_id}")));
    }
    let value = value
        .as_ref()
        .ok_or_else(|| Error::Verification(format!("the ledger proves job {job_id} absent")))?;
    let rec = JobRecord::from_bytes(value)
        .map_err(|e| Error::Verification(format!("job record: {e}")))?;
    let c = &rec.commitment;
    if c.signatures.len() != c.participants.len() {
        return Err(Error::Verification("not every participant signed".into()));
    }
    if let Some(path) = result_file {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        if result_hash(&bytes) != c.result_hash {
            return Err(Error::Verification(format!(
                "{} does not hash to the committed result",
                path.display()
            )));
        }
    }
    Ok(Verified {
        job_id: job_id.to_owned(),
        height: receipt.header.height,
        anchored_at: rec.height,
        participants: c.participants.iter().map(ToString::to_string).collect(),
        program_hash: hex::encode(c.program_hash),
        result_hash: hex::encode(c.result_hash),
        result_file_checked: result_file.is_some(),
    })
}

/// Reads a receipt file (binary, as `job status --receipt` writes it).
pub fn read_receipt(path: &Path) -> Result<Receipt> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Receipt::from_bytes(&bytes).map_err(|e| Error::Verification(format!("receipt file: {e}")))
}

/// Reads a genesis file.
pub fn read_genesis(path: &Path) -> Result<Genesis> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    Ok(Genesis::from_json(&text)?)
}
