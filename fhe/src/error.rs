//! The crate's error type.

use tessera_accelerator::Error as AcceleratorError;

/// Everything the HE schemes refuse.
///
/// `Malformed*` variants come from untrusted bytes; `InvalidParameters` and `PlaintextOutOfRange`
/// are caller misuse; `Accelerator` wraps a kernel failure.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Bytes that do not decode to a ciphertext for these parameters.
    #[error("malformed ciphertext: {0}")]
    MalformedCiphertext(&'static str),
    /// Bytes that do not decode to a key for these parameters.
    #[error("malformed key: {0}")]
    MalformedKey(&'static str),
    /// Parameters outside what the scheme supports.
    #[error("invalid parameters: {0}")]
    InvalidParameters(&'static str),
    /// A plaintext value at or above the plaintext modulus, or too many values for the slots.
    #[error("plaintext out of range: {0}")]
    PlaintextOutOfRange(&'static str),
    /// Operands at different levels (numbers of RNS limbs); switch the larger one down first.
    #[error("operands are at different modulus levels")]
    LevelMismatch,
    /// Operands made under different keys or parameters.
    #[error("operands belong to different keys or parameters")]
    KeyMismatch,
    /// The accelerator refused a kernel call.
    #[error("accelerator: {0}")]
    Accelerator(#[from] AcceleratorError),
}
