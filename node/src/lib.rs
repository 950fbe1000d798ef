//! `tessera-node` is the Tessera node and the `tessera` command line: it runs authorised secure
//! computations between organisations over QUIC with DID-bound mutual TLS and anchors what they
//! committed to on the ledger, where anyone can verify it.
//!
//! **Layer.** The top of the stack (see `ARCHITECTURE.md`): it may use every other crate and is
//! the only one that knows about processes, sockets, configuration files and the CLI. It uses
//! `tessera-mpc` (channels), `tessera-protocols` (SPDZ with MASCOT) and `tessera-ledger` (DIDs,
//! grants, commitments, receipts).
//!
//! **Pieces.** [`home`] (keys, DID and TOML config, secrets mode 0600), [`ledgerdir`] (the embedded
//! single-validator ledger shared through a directory), [`ledgerserve`], [`ledgerwire`] and
//! [`ledgerclient`] (that ledger served to other hosts over the same QUIC + mutual TLS transport,
//! and the [`ledgerclient::NodeLedger`] view nodes use either way), [`tls`] (certificates bound to DIDs and the
//! verifiers that enforce it), [`transport`] (QUIC links as a [`tessera_mpc::Channel`]), [`job`]
//! (job specs, program hashes, authorisation, run and anchor), [`stats`] (the joint-statistics
//! program), [`programs`] (PSI-then-aggregate, secure logistic regression on SPDZ, federated LR
//! and SecureBoost; outputs to a subset of the parties), [`verify`] (offline verification, the job's grants included), [`audit`] (the supervisor's
//! queries and usage reports),
//! [`demo`].
//!
//! ```
//! use tessera_node::job::{JobSpec, Program};
//! let spec = JobSpec::parse(r#"
//!     job_id = "stats-1"
//!     outputs = ["did:tessera:a", "did:tessera:b"]
//!     [program]
//!     name = "joint-stats"
//!     histogram_edges = [0, 10, 100]
//!     [[party]]
//!     did = "did:tessera:a"
//!     dataset = "a-data"
//!     grant = "g"
//!     [[party]]
//!     did = "did:tessera:b"
//!     dataset = "b-data"
//!     grant = "g"
//! "#)?;
//! // Grants name this hash: the same program and parameters give the same hash in every job.
//! let again = JobSpec { job_id: "stats-2".into(), ..spec.clone() };
//! assert_eq!(spec.program.hash()?, again.program.hash()?);
//! assert_ne!(spec.program.hash()?, Program::JointStats(Default::default()).hash()?);
//! # Ok::<_, tessera_node::Error>(())
//! ```
//!
//! **Features.** None.
//!
//! **Security.** A peer is accepted only if its TLS certificate carries the Ed25519 key that its
//! DID document on the ledger publishes (checked by custom rustls verifiers on both sides, and
//! against the party it claims after the handshake). SPDZ programs (joint-stats, the aggregate of
//! psi-aggregate, secure-lr) have malicious security with abort, κ = 128, statistical security
//! ≥ 2^-64 per check (secure-lr's fixed-point masks: ≥ 2^-40 per opened value, see its module);
//! the ECDH-PSI alignment and the federated programs are semi-honest (see
//! [`programs`]). Only the job's `outputs` learn its result. Inputs move only after
//! every grant has been checked on the ledger; the commitment is anchored only if every party
//! signed it. Key files are mode 0600, zeroized in memory and never logged. Peers are found through
//! the `TesseraNode` service endpoint of their DID documents. A served ledger is pinned by its
//! validator's key (TLS and genesis) and every state entry a node uses from it is a receipt the
//! node verifies. Not yet: SM2 TLS certificates (the DID signing key may be SM2; the certificate
//! key is Ed25519), more than one validator.

#![forbid(unsafe_code)]

pub mod audit;
pub mod demo;
mod error;
pub mod home;
pub mod job;
pub mod ledgerclient;
pub mod ledgerdir;
pub mod ledgerserve;
pub mod ledgerwire;
pub mod ops;
pub mod programs;
pub mod recovery;
pub mod stats;
pub mod tls;
pub mod transport;
pub mod verify;

pub use error::{Error, Result};

/// The party id of index `i` (jobs have at most 16 parties).
pub(crate) fn pid(i: usize) -> tessera_mpc::PartyId {
    tessera_mpc::PartyId(u16::try_from(i).unwrap_or(u16::MAX))
}
