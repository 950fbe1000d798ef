//! The crate's single error type.
//!
//! Failed checks (a bad signature, a replayed nonce, a missing grant, a proof that does not match)
//! are kept apart from malformed input, storage failures and caller misuse, so a node can tell a
//! cheating peer from a broken disk. Messages name the check, never secret material.

/// Everything that can go wrong in the ledger.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bytes from a file or peer do not decode under the canonical encoding (bad tag, bad length,
    /// trailing bytes, a bound exceeded).
    #[error("malformed encoding: {0}")]
    Malformed(&'static str),
    /// A public key's bytes are not a valid point or key for its suite.
    #[error("invalid public or secret key for {0}")]
    InvalidKey(&'static str),
    /// A signature did not verify under the key it claims.
    #[error("signature verification failed")]
    BadSignature,
    /// A transaction's nonce is not above the last nonce its signer used (a replay or reorder).
    #[error("replayed nonce: last used {last}, got {got}")]
    ReplayedNonce {
        /// The highest nonce already used by this signer.
        last: u64,
        /// The nonce the transaction carried.
        got: u64,
    },
    /// A DID string does not parse as `did:tessera:<id>` or `did:key:z…`.
    #[error("invalid DID: {0}")]
    InvalidDid(String),
    /// A DID document's service endpoint is not a bounded `<scheme>://<host>:<port>` URI.
    #[error("invalid service endpoint: {0}")]
    InvalidEndpoint(String),
    /// A DID (or a key reference inside one) is not present in the ledger state.
    #[error("unknown DID or key: {0}")]
    UnknownDid(String),
    /// Entry `index` of a [`crate::TxBody::CreateDids`] batch is refused (and with it the batch).
    #[error("DID batch entry {index} refused: {source}")]
    BatchEntry {
        /// Position of the entry in the batch.
        index: usize,
        /// Why it was refused.
        source: Box<Error>,
    },
    /// The DID document has been deactivated and can no longer sign.
    #[error("DID deactivated: {0}")]
    DidDeactivated(String),
    /// An entry that must be new (DID, data set, grant, job id, organisation) already exists.
    #[error("{what} already exists: {id}")]
    AlreadyExists {
        /// Kind of entry.
        what: &'static str,
        /// Its identifier.
        id: String,
    },
    /// A referenced entry (data set, organisation, validator) does not exist.
    #[error("{what} not found: {id}")]
    NotFound {
        /// Kind of entry.
        what: &'static str,
        /// Its identifier.
        id: String,
    },
    /// The signer is not allowed to perform this action (not the owner, not a controller).
    #[error("not authorised: {0}")]
    NotAuthorised(&'static str),
    /// Fewer distinct valid approvals than the k-of-n threshold requires.
    #[error("threshold not met: need {needed}, have {got}")]
    ThresholdNotMet {
        /// Approvals required.
        needed: usize,
        /// Distinct valid approvals supplied.
        got: usize,
    },
    /// A computation input names a grant that does not exist.
    #[error("missing grant {grant} on data set {dataset}")]
    MissingGrant {
        /// Data set identifier.
        dataset: String,
        /// Grant identifier.
        grant: String,
    },
    /// The grant's expiry time has passed at the block's time.
    #[error("grant {0} expired")]
    GrantExpired(String),
    /// The data set owner revoked the grant.
    #[error("grant {0} revoked")]
    GrantRevoked(String),
    /// The grant's maximum number of uses has been reached.
    #[error("grant {0} exhausted")]
    GrantExhausted(String),
    /// The grant does not cover this program or these participants.
    #[error("grant {0} does not cover this program and these participants")]
    GrantMismatch(String),
    /// A job commitment names no input: it would be anchored under no grant at all.
    #[error("a job commitment needs at least one input under a grant")]
    NoInputs,
    /// Evidence that a job's inputs were authorised does not show it (a grant created after the
    /// job, for another program, expired or revoked before it, or evidence missing).
    #[error("job evidence: {0}")]
    Evidence(String),
    /// A Merkle proof (state or transaction) does not lead to the root in the header.
    #[error("Merkle proof invalid: {0}")]
    ProofInvalid(&'static str),
    /// A commit certificate fails: wrong header, duplicate or unknown signer, bad signature, or too
    /// few signatures for a 2f+1 quorum.
    #[error("commit certificate invalid: {0}")]
    CertificateInvalid(&'static str),
    /// The header was certified by a different validator set than the one the verifier trusts.
    #[error("header names a different validator set")]
    WrongValidatorSet,
    /// The header belongs to another ledger than the one the verifier expects (another chain id).
    #[error("header names a different chain")]
    WrongChain,
    /// The genesis file is inconsistent (threshold above the number of admins, duplicate names…).
    #[error("invalid genesis: {0}")]
    InvalidGenesis(String),
    /// A governance action would leave the ledger unusable or is otherwise invalid.
    #[error("invalid governance action: {0}")]
    InvalidGovernance(&'static str),
    /// Key recovery: a share failed to open or to match the published commitments, a backup is
    /// malformed, or the rebuilt key does not match.
    #[error("key recovery: {0}")]
    Backup(&'static str),
    /// The database holds data inconsistent with itself (a missing header or node).
    #[error("corrupt database: {0}")]
    Corrupt(&'static str),
    /// The ledger database file does not exist. It is created only at genesis
    /// ([`crate::Ledger::create`]), never on open, so a deleted file cannot silently restart the
    /// chain.
    #[error("no ledger database at {0} (it is created only at genesis, never on open)")]
    NoDatabase(std::path::PathBuf),
    /// [`crate::Ledger::create`] or [`crate::SignGuard::create`] found a file already there.
    #[error(
        "a file already exists at {0}; refusing to create a ledger database or signing record over it"
    )]
    DatabaseExists(std::path::PathBuf),
    /// The validator's signing record does not exist. It is created with the validator key
    /// ([`crate::SignGuard::create`]), never on open, so deleting it (with the database or not)
    /// cannot make the validator forget what it signed.
    #[error("no signing record at {0} (it is created with the validator key, never on open)")]
    NoSigningRecord(std::path::PathBuf),
    /// The database file exists but is not a readable ledger (emptied, overwritten or damaged);
    /// also what a panic inside the storage engine on such a file becomes.
    #[error("ledger database {path} is unreadable: {reason}")]
    Unreadable {
        /// The file.
        path: std::path::PathBuf,
        /// What failed.
        reason: String,
    },
    /// The validator's signing record (kept outside the database) shows it already signed a
    /// block at `signed` that this one would contradict: a second block at a height it signed, or
    /// a database that was re-created or rolled back behind its record. Signing would equivocate.
    #[error(
        "refusing to sign height {height}: this validator already signed a different block at \
         height {signed} (was the database re-created or restored from an old copy?)"
    )]
    DoubleSign {
        /// Height that would have been signed.
        height: u64,
        /// Highest height the record says was signed.
        signed: u64,
    },
    /// A receipt is older than the height the verifier demands, so it may predate a revocation.
    #[error("receipt at height {height} is older than the required height {min}")]
    StaleReceipt {
        /// The receipt's block height.
        height: u64,
        /// The minimum the verifier demanded.
        min: u64,
    },
    /// The operating system's random generator failed.
    #[error("random generator failed")]
    Rng,
    /// The embedded database reported an error.
    #[error("storage: {0}")]
    Storage(#[from] redb::Error),
    /// Reading or writing a file failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A JSON genesis file did not parse.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The caller used the API wrongly (never caused by untrusted input).
    #[error("API misuse: {0}")]
    Misuse(&'static str),
}

/// Result alias for this crate.
pub type Result<T> = core::result::Result<T, Error>;

/// Maps any redb error into [`Error::Storage`].
pub(crate) trait StorageExt<T> {
    fn storage(self) -> Result<T>;
}

impl<T, E: Into<redb::Error>> StorageExt<T> for core::result::Result<T, E> {
    fn storage(self) -> Result<T> {
        self.map_err(|e| Error::Storage(e.into()))
    }
}
