//! Byte formats: `tfhe::safe_serialization` (a versioned header naming the type, then bincode)
//! under a size limit per kind of object, with trailing bytes and non-conformant objects refused.
//!
//! Why each check: the length check refuses oversized input before any parsing; the limit passed
//! to `tfhe` bounds what the parser reads; the header check stops a `FheUint8` being read as a
//! `FheUint64` or a key as a ciphertext; the trailing-byte check makes the encoding canonical; and
//! the conformance check is what keeps a well-formed object of the wrong shape (another LWE
//! dimension, block count or degree) from reaching `tfhe`'s operations, which assert on shapes.

use serde::Serialize;
use serde::de::DeserializeOwned;
use tfhe::named::Named;
use tfhe::prelude::ParameterSetConformant;
use tfhe::safe_serialization::{DeserializationConfig, SerializationConfig};
use tfhe::{ServerKey, Unversionize, Versionize};

use super::error::{TfheError, TfheObject};
use super::keys::{TfheClientKey, TfheServerKey};

/// Largest serialised ciphertext accepted (a default-parameter `FheUint64` is about 0.5 MiB).
pub const MAX_CIPHERTEXT_BYTES: u64 = 1 << 21;
/// Largest serialised client key accepted.
pub const MAX_CLIENT_KEY_BYTES: u64 = 1 << 24;
/// Largest serialised compressed server key accepted (default parameters: tens of MiB).
pub const MAX_COMPRESSED_SERVER_KEY_BYTES: u64 = 1 << 28;

/// Serialises `value` with a versioned header, refusing to write more than `limit` bytes.
pub(crate) fn encode<T>(value: &T, limit: u64, what: TfheObject) -> Result<Vec<u8>, TfheError>
where
    T: Serialize + Versionize + Named,
{
    let mut out = Vec::new();
    SerializationConfig::new(limit)
        .serialize_into(value, &mut out)
        .map_err(|_| TfheError::TooLargeToEncode { what, limit })?;
    Ok(out)
}

/// Parses a `T` from untrusted bytes without a parameter check (for the client key, which has
/// no conformance rule in `tfhe`; it is only ever read back from the owner's own storage).
pub(crate) fn decode_unchecked<T>(
    bytes: &[u8],
    limit: u64,
    what: TfheObject,
) -> Result<T, TfheError>
where
    T: DeserializeOwned + Unversionize + Named,
{
    check_len(bytes, limit, what)?;
    let mut reader = bytes;
    let value = DeserializationConfig::new(limit)
        .disable_conformance()
        .deserialize_from(&mut reader)
        .map_err(|_| TfheError::Malformed(what))?;
    if !reader.is_empty() {
        return Err(TfheError::TrailingBytes { what, extra: reader.len() });
    }
    Ok(value)
}

/// Parses a `T` from untrusted bytes and checks it against `params`.
pub(crate) fn decode<T>(
    bytes: &[u8],
    limit: u64,
    params: &T::ParameterSet,
    what: TfheObject,
) -> Result<T, TfheError>
where
    T: DeserializeOwned + Unversionize + Named + ParameterSetConformant,
{
    let value: T = decode_unchecked(bytes, limit, what)?;
    if value.is_conformant(params) { Ok(value) } else { Err(TfheError::NotConformant(what)) }
}

fn check_len(bytes: &[u8], limit: u64, what: TfheObject) -> Result<(), TfheError> {
    match u64::try_from(bytes.len()) {
        Ok(len) if len <= limit => Ok(()),
        _ => Err(TfheError::TooLarge { what, len: bytes.len(), limit }),
    }
}

/// `tfhe`'s conformance parameters for a `FheUint<Id>` (its generic name is not exported).
pub(crate) type UintParams<Id> = <tfhe::FheUint<Id> as ParameterSetConformant>::ParameterSet;

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::TfheClientKey {}
    impl Sealed for super::TfheServerKey {}
}

/// A key that fixes the parameters a received ciphertext must conform to: the evaluator checks
/// against its [`TfheServerKey`], the data owner against its [`TfheClientKey`].
pub trait ParameterSource: sealed::Sealed {
    /// Conformance parameters for a `FheUint` of identifier `Id`.
    #[doc(hidden)]
    fn uint_params<Id: tfhe::FheUintId>(&self) -> UintParams<Id>;
    /// Conformance parameters for a `FheBool`.
    #[doc(hidden)]
    fn bool_params(&self) -> tfhe::FheBoolConformanceParams;
}

impl ParameterSource for TfheClientKey {
    fn uint_params<Id: tfhe::FheUintId>(&self) -> UintParams<Id> {
        self.inner().computation_parameters().into()
    }

    fn bool_params(&self) -> tfhe::FheBoolConformanceParams {
        self.inner().computation_parameters().into()
    }
}

impl ParameterSource for TfheServerKey {
    fn uint_params<Id: tfhe::FheUintId>(&self) -> UintParams<Id> {
        let key: &ServerKey = self.inner();
        key.into()
    }

    fn bool_params(&self) -> tfhe::FheBoolConformanceParams {
        let key: &ServerKey = self.inner();
        key.into()
    }
}
