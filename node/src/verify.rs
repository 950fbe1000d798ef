//! `tessera verify`: checks a job's anchored commitment with nothing but the validator set.
//!
//! The receipt (a state receipt for `job/<id>`, exported by `job status --receipt` or read from
//! the ledger) is checked against the chain id and validator set of `genesis.json` with
//! [`tessera_ledger::verify_receipt`]: the validators' signatures over the block header, then the
//! Merkle proof from the job record to the header's state root. The record's commitment then
//! gives the program hash, participants and result hash; a result file is accepted only if its
//! hash is the committed one.
//!
//! The job's inputs are checked too, from the grant evidence
//! ([`tessera_ledger::audit::JobEvidence`]: the receipts of the commitment's transaction, of each
//! grant's creation, of each grant's state after the job and of its revocation if any) with
//! [`tessera_ledger::audit::verify_job_evidence`]: a commitment with no inputs is refused, and
//! every input must name a grant that existed before the job, names the job's program, covers its
//! participants, had not expired at the job's block time and was not revoked before it.
//!
//! A proof file (`job status --receipt`) holds `TSJOBPF1` ‖ the job's state receipt ‖ its grant
//! evidence, so it verifies with nothing else; a bare receipt (as a job run leaves in its
//! directory) needs the evidence from the ledger.

use std::path::Path;

use serde::Serialize;
use tessera_ledger::audit::{JobEvidence, verify_job_evidence};
use tessera_ledger::codec::{Reader, Writer};
use tessera_ledger::{Decode, Genesis, JobRecord, Receipt, ReceiptEntry, StateKey, verify_receipt};

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
    /// The grants that authorised the inputs, as the evidence showed them.
    pub grants: Vec<GrantChecked>,
}

/// One grant a verified job used.
#[derive(Clone, Debug, Serialize)]
pub struct GrantChecked {
    /// Data set.
    pub dataset: String,
    /// Grant.
    pub grant: String,
    /// Height of the block that created it (before the job).
    pub granted_at: u64,
    /// Its expiry, Unix ms (after the job's block time).
    pub expires_at_ms: u64,
    /// Height of its revocation (after the job), if revoked.
    pub revoked_at: Option<u64>,
}

/// Verifies `receipt` for `job_id` against `genesis`' validators, the job's grants from
/// `evidence` (required: `None` fails once the receipt is checked) and, if given, a result file.
pub fn verify(
    genesis: &Genesis,
    job_id: &str,
    receipt: &Receipt,
    evidence: Option<&JobEvidence>,
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
    if c.inputs.is_empty() {
        return Err(Error::Verification(format!("job {job_id} names no input under a grant")));
    }
    let evidence = evidence.ok_or_else(|| {
        Error::Verification(format!(
            "no grant evidence for job {job_id}: export a proof with `job status --receipt` or \
             verify against the ledger"
        ))
    })?;
    let grants = verify_job_evidence(&rec, evidence, &genesis.chain_id(), &genesis.validators)
        .map_err(|e| Error::Verification(format!("inputs: {e}")))?
        .into_iter()
        .map(|u| GrantChecked {
            dataset: u.dataset,
            grant: u.grant,
            granted_at: u.granted_at.height,
            expires_at_ms: u.expires_at_ms,
            revoked_at: u.revoked_at.map(|p| p.height),
        })
        .collect();
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
        grants,
    })
}

const PROOF_MAGIC: &[u8; 8] = b"TSJOBPF1";

/// The bytes of a proof file: magic, the job's state receipt, its grant evidence.
pub fn proof_bytes(receipt: &Receipt, evidence: &JobEvidence) -> Vec<u8> {
    let mut w = Writer::new();
    w.raw(PROOF_MAGIC);
    tessera_ledger::Encode::encode(receipt, &mut w);
    tessera_ledger::Encode::encode(evidence, &mut w);
    w.into_bytes()
}

/// Reads a proof file, or a bare receipt (then without evidence).
pub fn read_proof(path: &Path) -> Result<(Receipt, Option<JobEvidence>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |e: tessera_ledger::Error| Error::Verification(format!("receipt file: {e}"));
    match bytes.strip_prefix(PROOF_MAGIC.as_slice()) {
        Some(rest) => {
            let mut r = Reader::new(rest);
            let receipt = Receipt::decode(&mut r).map_err(bad)?;
            let evidence = JobEvidence::decode(&mut r).map_err(bad)?;
            r.finish().map_err(bad)?;
            Ok((receipt, Some(evidence)))
        }
        None => Ok((Receipt::from_bytes(&bytes).map_err(bad)?, None)),
    }
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
