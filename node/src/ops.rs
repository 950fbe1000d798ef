//! Node operations behind the CLI commands that touch the ledger: publishing a DID, registering
//! data sets, granting and revoking, and reading job records and receipts.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use tessera_ledger::{Did, DidDocument, Hash32, HashAlg, JobRecord, Receipt, StateKey, TxBody};

use crate::error::{Error, Result};
use crate::home::Home;
use crate::ledgerdir::LedgerDir;
use crate::tls::node_document;

/// The DID document this node publishes.
pub fn my_document(home: &Home) -> Result<DidDocument> {
    node_document(
        &home.config.name,
        home.key().public_key(),
        &home.tls_public_key()?,
        home.config.listen,
    )
}

/// Registers this node's DID document on the ledger.
pub fn did_create(home: &Home) -> Result<Hash32> {
    let ledger = LedgerDir::open(&home.config.ledger)?;
    let doc = my_document(home)?;
    ledger.submit(&home.key_ref(), home.key(), TxBody::CreateDid(doc))
}

/// Resolves a DID on the ledger.
pub fn did_resolve(ledger: &LedgerDir, did: &str) -> Result<DidDocument> {
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
    let ledger = LedgerDir::open(&home.config.ledger)?;
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
        expires_at_ms: now.saturating_add(valid_hours.saturating_mul(3_600_000)),
        max_uses,
    };
    let ledger = LedgerDir::open(&home.config.ledger)?;
    ledger.submit(&home.key_ref(), home.key(), body)
}

/// Revokes a grant.
pub fn revoke(home: &Home, dataset: &str, grant: &str) -> Result<Hash32> {
    let ledger = LedgerDir::open(&home.config.ledger)?;
    let body = TxBody::Revoke { dataset: dataset.to_owned(), grant: grant.to_owned() };
    ledger.submit(&home.key_ref(), home.key(), body)
}

/// The job record and a state receipt for it.
pub fn job_status(ledger: &LedgerDir, job_id: &str) -> Result<(Option<JobRecord>, Receipt)> {
    ledger.read(|l| {
        let key = StateKey::Job(job_id.to_owned());
        Ok((l.state(&key)?, l.state_receipt(&key)?))
    })
}

/// Parses a 32-byte hex hash.
pub fn parse_hash(s: &str) -> Result<Hash32> {
    let v = hex::decode(s).map_err(|_| Error::invalid("hash", "not hex"))?;
    v.as_slice().try_into().map_err(|_| Error::invalid("hash", "not 32 bytes"))
}
