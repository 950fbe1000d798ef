//! Node operations behind the CLI commands that touch the ledger: publishing a DID, registering
//! data sets, granting and revoking, and reading job records and receipts.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tessera_ledger::{Did, DidDocument, Hash32, HashAlg, JobRecord, Receipt, StateKey, TxBody};

use crate::error::{Error, Result};
use crate::home::Home;
use crate::ledgerclient::NodeLedger;
use crate::tls::node_document;

/// The DID document this node publishes.
pub fn my_document(home: &Home) -> Result<DidDocument> {
    node_document(
        &home.config.name,
        home.key().public_key(),
        &home.tls_public_key()?,
        &home.config.published_endpoint(),
    )
}

/// Registers this node's DID document on the ledger.
pub fn did_create(home: &Home) -> Result<Hash32> {
    let ledger = NodeLedger::open(home)?;
    let doc = my_document(home)?;
    ledger.submit(&home.key_ref(), home.key(), TxBody::CreateDid(doc))
}

/// Publishes this node's current document (for example a new endpoint) as an update of its DID,
/// approved by its own signing key over the version it replaces.
pub fn did_update(home: &Home) -> Result<Hash32> {
    let ledger = NodeLedger::open(home)?;
    let cur = ledger.resolve(&home.did())?;
    let mut doc = my_document(home)?;
    doc.controllers = cur.controllers.clone();
    doc.threshold = cur.threshold;
    doc.version = cur.version.saturating_add(1);
    let msg =
        tessera_ledger::did_update_message(&ledger.chain_id(), &cur.id, cur.version, Some(&doc));
    let approval =
        tessera_ledger::Approval { signer: home.key_ref(), signature: home.key().sign(&msg) };
    let body = TxBody::UpdateDid { document: doc, approvals: vec![approval] };
    ledger.submit(&home.key_ref(), home.key(), body)
}

/// Resolves a DID on the ledger.
pub fn did_resolve(ledger: &NodeLedger, did: &str) -> Result<DidDocument> {
    let did = Did::parse(did).map_err(|e| Error::invalid("DID", e))?;
    ledger.resolve(&did)
}

/// The schema hash of a single-column file: SHA-256 of its first line.
fn schema_hash(bytes: &[u8]) -> tessera_ledger::TaggedHash {
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or(&[]);
    HashAlg::Sha256.digest(first)
}

/// Registers a data file as data set `id` owned by this node and remembers its path.
pub fn dataset_register(home: &mut Home, id: &str, file: &Path) -> Result<Hash32> {
    let bytes = std::fs::read(file).map_err(|e| Error::io(file, e))?;
    crate::job::check_data_file(&bytes)?;
    let ledger = NodeLedger::open(home)?;
    let body = TxBody::RegisterDataSet {
        id: id.to_owned(),
        content_hash: HashAlg::Sha256.digest(&bytes),
        schema_hash: schema_hash(&bytes),
    };
    let tx = ledger.submit(&home.key_ref(), home.key(), body)?;
    let abs = std::fs::canonicalize(file).map_err(|e| Error::io(file, e))?;
    home.config.datasets.insert(id.to_owned(), abs);
    home.save()?;
    Ok(tx)
}

/// Grants data set `dataset` to `program_hash` for `grantees`.
pub fn grant(
    home: &Home,
    dataset: &str,
    grant: &str,
    program_hash: Hash32,
    grantees: &[String],
    max_uses: u64,
    valid_hours: u64,
) -> Result<Hash32> {
    let valid = Duration::from_secs(valid_hours.saturating_mul(3600));
    grant_for(home, dataset, grant, program_hash, grantees, max_uses, valid)
}

/// [`grant`] with a validity of any length (short ones serve tests of expiry).
pub fn grant_for(
    home: &Home,
    dataset: &str,
    grant: &str,
    program_hash: Hash32,
    grantees: &[String],
    max_uses: u64,
    valid: Duration,
) -> Result<Hash32> {
    let grantees: Vec<Did> = grantees
        .iter()
        .map(|d| Did::parse(d).map_err(|e| Error::invalid("grantee DID", e)))
        .collect::<Result<_>>()?;
    let now =
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    let body = TxBody::Grant {
        dataset: dataset.to_owned(),
        grant: grant.to_owned(),
        program_hash,
        grantees,
        expires_at_ms: now.saturating_add(u64::try_from(valid.as_millis()).unwrap_or(u64::MAX)),
        max_uses,
    };
    let ledger = NodeLedger::open(home)?;
    ledger.submit(&home.key_ref(), home.key(), body)
}

/// Revokes a grant.
pub fn revoke(home: &Home, dataset: &str, grant: &str) -> Result<Hash32> {
    let ledger = NodeLedger::open(home)?;
    let body = TxBody::Revoke { dataset: dataset.to_owned(), grant: grant.to_owned() };
    ledger.submit(&home.key_ref(), home.key(), body)
}

/// The job record and a state receipt for it.
pub fn job_status(ledger: &NodeLedger, job_id: &str) -> Result<(Option<JobRecord>, Receipt)> {
    let key = StateKey::Job(job_id.to_owned());
    let receipt = ledger.state_receipt(&key)?;
    let record = match &receipt.entry {
        tessera_ledger::ReceiptEntry::State { value: Some(v), .. } => {
            Some(<JobRecord as tessera_ledger::Decode>::from_bytes(v)?)
        }
        _ => None,
    };
    Ok((record, receipt))
}

/// Parses a 32-byte hex hash.
pub fn parse_hash(s: &str) -> Result<Hash32> {
    let v = hex::decode(s).map_err(|_| Error::invalid("hash", "not hex"))?;
    v.as_slice().try_into().map_err(|_| Error::invalid("hash", "not 32 bytes"))
}
