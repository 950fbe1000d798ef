//! The one error type of `tessera-node`, and the process exit codes it maps to.

use std::path::PathBuf;

/// Everything that can go wrong in a node. Failed checks (authorisation, identity, verification)
/// are kept apart from I/O, peers and misuse, so scripts can tell them apart by exit code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a local file failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A configuration, job spec or data file did not parse or is inconsistent.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was being read.
        what: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// The ledger refused or failed an operation.
    #[error("ledger: {0}")]
    Ledger(#[from] tessera_ledger::Error),
    /// A transaction was not accepted into the block that sealed it.
    #[error("ledger rejected the transaction: {0}")]
    Rejected(String),
    /// A ledger file (the database or the validator's signing record) is missing, unreadable or
    /// in the way: both are created only at genesis, so this never silently starts a new chain
    /// or forgets what the validator signed.
    #[error("ledger file {path} {reason}")]
    LedgerFile {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to do.
        reason: String,
    },
    /// A served ledger answered with a receipt older than the client demands (a replayed or
    /// rolled-back answer that could hide a revocation).
    #[error(
        "the ledger at {uri} served a receipt at height {height}, older than the required {min}"
    )]
    StaleLedger {
        /// The service.
        uri: String,
        /// The receipt's height.
        height: u64,
        /// The minimum the client demanded.
        min: u64,
    },
    /// The ledger directory is busy (another process holds its lock) for too long.
    #[error("ledger at {0} is busy")]
    LedgerBusy(PathBuf),
    /// The ledger service could not be reached, or failed a request.
    #[error("ledger service {0}")]
    LedgerService(String),
    /// An input is not authorised for this job: missing, revoked, expired, exhausted or
    /// granted to another program or other participants. Raised before any data moves.
    #[error("not authorised: {0}")]
    NotAuthorised(String),
    /// A peer's identity could not be established or does not match the DID it claims.
    #[error("peer identity refused: {0}")]
    Identity(String),
    /// A peer could not be reached, refused us, or left.
    #[error("peer {peer}: {reason}")]
    Peer {
        /// The peer's DID.
        peer: String,
        /// What happened.
        reason: String,
    },
    /// Setting up the QUIC/TLS transport failed (bind, certificate, configuration).
    #[error("transport: {0}")]
    Transport(String),
    /// The secure computation failed (a peer disconnected, a MAC check failed, ...).
    #[error("computation failed: {0}")]
    Mpc(#[from] tessera_protocols::Error),
    /// The channel layer failed outside a protocol.
    #[error("channel: {0}")]
    Channel(#[from] tessera_mpc::Error),
    /// A verification check failed: receipt, result hash or commitment contents.
    #[error("verification failed: {0}")]
    Verification(String),
    /// The caller used the command or API wrongly.
    #[error("{0}")]
    Usage(String),
    /// A federated-learning program failed (`tessera-federated`).
    #[error("federated computation failed: {0}")]
    Federated(String),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }

    /// An `Invalid` error.
    pub fn invalid(what: &'static str, reason: impl std::fmt::Display) -> Self {
        Self::Invalid { what, reason: reason.to_string() }
    }

    /// The process exit code for this error (documented in the README and `tessera --help`).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            Self::Io { .. } | Self::Invalid { .. } | Self::LedgerFile { .. } => 3,
            Self::Ledger(_) | Self::Rejected(_) | Self::LedgerBusy(_) | Self::LedgerService(_) => 4,
            Self::NotAuthorised(_) => 5,
            Self::Identity(_) => 6,
            Self::Peer { .. } | Self::Transport(_) | Self::Channel(_) => 7,
            Self::Mpc(_) | Self::Federated(_) => 8,
            Self::Verification(_) | Self::StaleLedger { .. } => 9,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
