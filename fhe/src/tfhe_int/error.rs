//! What the TFHE layer refuses, and how it maps onto the crate's [`Error`](crate::Error).

/// Everything the TFHE integer layer refuses.
///
/// `TooLarge`, `Malformed`, `TrailingBytes` and `NotConformant` come from untrusted bytes and are
/// the failed checks, in the order they run; `TooLargeToEncode` is local misuse (an object bigger
/// than its own format allows). Homomorphic operations themselves cannot fail.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TfheError {
    /// Input longer than the limit for its kind, refused before parsing.
    #[error("{what}: {len} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// The kind of object expected.
        what: TfheObject,
        /// The input length.
        len: usize,
        /// The limit for this kind.
        limit: u64,
    },
    /// Bytes that do not parse as this kind of object (bad header, wrong type name, truncated,
    /// corrupted, or an unsupported `tfhe` format version).
    #[error("malformed {0}")]
    Malformed(TfheObject),
    /// A well-formed object followed by extra bytes.
    #[error("{what}: {extra} trailing bytes")]
    TrailingBytes {
        /// The kind of object parsed.
        what: TfheObject,
        /// How many bytes were left over.
        extra: usize,
    },
    /// A well-formed object whose shape (dimensions, block count, moduli, noise or degree
    /// metadata) does not match the expected parameters.
    #[error("{0} does not conform to the expected TFHE parameters")]
    NotConformant(TfheObject),
    /// An object larger than its format's limit was asked to be serialised.
    #[error("{what} does not fit in {limit} bytes")]
    TooLargeToEncode {
        /// The kind of object.
        what: TfheObject,
        /// The limit for this kind.
        limit: u64,
    },
}

/// The kind of object a byte string was meant to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TfheObject {
    /// A [`TfheClientKey`](super::TfheClientKey).
    ClientKey,
    /// A [`TfheCompressedServerKey`](super::TfheCompressedServerKey).
    CompressedServerKey,
    /// An [`EncryptedUint`](super::EncryptedUint) of this many bits.
    Uint(u32),
    /// An [`EncryptedBool`](super::EncryptedBool).
    Bool,
}

impl TfheObject {
    /// A static name, for the crate-level error's message.
    pub const fn name(self) -> &'static str {
        match self {
            Self::ClientKey => "TFHE client key",
            Self::CompressedServerKey => "TFHE compressed server key",
            Self::Uint(8) => "TFHE FheUint8",
            Self::Uint(16) => "TFHE FheUint16",
            Self::Uint(32) => "TFHE FheUint32",
            Self::Uint(64) => "TFHE FheUint64",
            Self::Uint(_) => "TFHE FheUint",
            Self::Bool => "TFHE FheBool",
        }
    }
}

impl std::fmt::Display for TfheObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl From<TfheError> for crate::Error {
    /// Keys map to `MalformedKey`, ciphertexts to `MalformedCiphertext`, and an oversized local
    /// object to `InvalidParameters`.
    fn from(err: TfheError) -> Self {
        let what = match err {
            TfheError::TooLargeToEncode { .. } => {
                return Self::InvalidParameters("TFHE object exceeds its serialisation limit");
            }
            TfheError::TooLarge { what, .. }
            | TfheError::Malformed(what)
            | TfheError::TrailingBytes { what, .. }
            | TfheError::NotConformant(what) => what,
        };
        match what {
            TfheObject::ClientKey | TfheObject::CompressedServerKey => {
                Self::MalformedKey(what.name())
            }
            TfheObject::Uint(_) | TfheObject::Bool => Self::MalformedCiphertext(what.name()),
        }
    }
}
