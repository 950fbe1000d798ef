//! The one error type of `tessera-federated`.

use std::path::PathBuf;

/// Everything that can go wrong while loading data, training or predicting.
///
/// Data errors name the file, the 1-based row (the header is row 1) and the column, so a data
/// engineer can fix the input; peer errors name the message that failed its check.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The header has no column with the requested name.
    #[error("{file}: row 1 (header): no column named `{column}`")]
    MissingColumn {
        /// The file.
        file: PathBuf,
        /// The missing column name.
        column: String,
    },
    /// The same identifier appears twice, so rows cannot be aligned.
    #[error(
        "{file}: row {row}, column `{column}`: duplicate ID `{id}` (first seen at row {first})"
    )]
    DuplicateId {
        /// The file.
        file: PathBuf,
        /// The row of the second occurrence.
        row: usize,
        /// The ID column's name.
        column: String,
        /// The repeated identifier.
        id: String,
        /// The row of the first occurrence.
        first: usize,
    },
    /// A feature or label cell is not a finite number.
    #[error("{file}: row {row}, column `{column}`: `{value}` is not a finite number")]
    NonNumeric {
        /// The file.
        file: PathBuf,
        /// The row.
        row: usize,
        /// The column name.
        column: String,
        /// The offending cell.
        value: String,
    },
    /// A row has a different number of cells than the header.
    #[error("{file}: row {row}: {got} cells where the header has {expected}")]
    RaggedRow {
        /// The file.
        file: PathBuf,
        /// The row.
        row: usize,
        /// Cells in the header.
        expected: usize,
        /// Cells in this row.
        got: usize,
    },
    /// A binary data file (IDX, CIFAR-10) is malformed.
    #[error("{file}: {what}")]
    MalformedFile {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// A message from the peer failed a check (wrong length, bad ciphertext, wrong count).
    #[error("malformed message from the peer: {0}")]
    PeerMessage(&'static str),
    /// The channel failed.
    #[error(transparent)]
    Channel(#[from] tessera_mpc::Error),
    /// Private set intersection failed.
    #[error(transparent)]
    Psi(#[from] tessera_protocols::Error),
    /// Homomorphic encryption refused an operation.
    #[error(transparent)]
    He(#[from] tessera_fhe::Error),
    /// A model file could not be (de)serialised.
    #[error("model JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The caller asked for something impossible (no label at the guest, mismatched sizes, ...).
    #[error("misuse: {0}")]
    Misuse(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
