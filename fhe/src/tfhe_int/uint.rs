//! Ciphertexts: [`EncryptedUint<T>`] for `T` in `u8`, `u16`, `u32`, `u64`, and [`EncryptedBool`]
//! for comparison results and `select` conditions.
//!
//! The width is a type parameter so that mixing widths is a compile error and one generic
//! function serves all four; [`Uint`] ties each clear type to `tfhe`'s `FheUint` identifier.

use tfhe::prelude::{FheDecrypt, FheEncrypt, FheTrivialEncrypt};
use tfhe::{FheBool, FheUint, FheUint8Id, FheUint16Id, FheUint32Id, FheUint64Id, FheUintId};

use super::codec::{MAX_CIPHERTEXT_BYTES, ParameterSource, UintParams, decode, encode};
use super::error::{TfheError, TfheObject};
use super::keys::{TfheClientKey, TfheServerKey};

mod sealed {
    pub trait Sealed {}
    impl Sealed for u8 {}
    impl Sealed for u16 {}
    impl Sealed for u32 {}
    impl Sealed for u64 {}
}

/// A clear unsigned integer type with a TFHE counterpart: `u8`, `u16`, `u32` or `u64`.
pub trait Uint: sealed::Sealed + Copy + Eq + std::fmt::Debug + Send + Sync + 'static {
    /// Width in bits.
    const BITS: u32;
    /// `tfhe`'s identifier for the encrypted type of this width (`FheUint8Id`, …).
    type Id: FheUintId;

    /// Encrypts `self` under `key`.
    #[doc(hidden)]
    fn encrypt(self, key: &tfhe::ClientKey) -> FheUint<Self::Id>;
    /// Encodes `self` as a noiseless ciphertext (needs a server key installed).
    #[doc(hidden)]
    fn trivial(self) -> FheUint<Self::Id>;
    /// Decrypts `ct` under `key`.
    #[doc(hidden)]
    fn decrypt(ct: &FheUint<Self::Id>, key: &tfhe::ClientKey) -> Self;
    /// Serialises `ct` (per width: `tfhe`'s serde bounds hold only for the concrete types).
    #[doc(hidden)]
    fn to_wire(ct: &FheUint<Self::Id>) -> Result<Vec<u8>, TfheError>;
    /// Parses and checks a ciphertext of this width.
    #[doc(hidden)]
    fn from_wire(
        bytes: &[u8],
        params: &UintParams<Self::Id>,
    ) -> Result<FheUint<Self::Id>, TfheError>;
}

macro_rules! impl_uint {
    ($($clear:ty => $id:ty),* $(,)?) => {$(
        impl Uint for $clear {
            const BITS: u32 = <$clear>::BITS;
            type Id = $id;

            fn encrypt(self, key: &tfhe::ClientKey) -> FheUint<$id> {
                FheUint::<$id>::encrypt(self, key)
            }

            fn trivial(self) -> FheUint<$id> {
                FheUint::<$id>::encrypt_trivial(self)
            }

            fn decrypt(ct: &FheUint<$id>, key: &tfhe::ClientKey) -> Self {
                ct.decrypt(key)
            }

            fn to_wire(ct: &FheUint<$id>) -> Result<Vec<u8>, TfheError> {
                encode(ct, MAX_CIPHERTEXT_BYTES, TfheObject::Uint(Self::BITS))
            }

            fn from_wire(
                bytes: &[u8],
                params: &UintParams<$id>,
            ) -> Result<FheUint<$id>, TfheError> {
                decode(bytes, MAX_CIPHERTEXT_BYTES, params, TfheObject::Uint(Self::BITS))
            }
        }
    )*};
}

impl_uint!(u8 => FheUint8Id, u16 => FheUint16Id, u32 => FheUint32Id, u64 => FheUint64Id);

/// An encrypted `T`: arithmetic wraps modulo 2^`T::BITS`, exactly like `T::wrapping_*`.
pub struct EncryptedUint<T: Uint> {
    pub(super) ct: FheUint<T::Id>,
}

impl<T: Uint> Clone for EncryptedUint<T> {
    fn clone(&self) -> Self {
        Self { ct: self.ct.clone() }
    }
}

impl<T: Uint> std::fmt::Debug for EncryptedUint<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EncryptedUint<u{}>(..)", T::BITS)
    }
}

impl<T: Uint> EncryptedUint<T> {
    /// Encrypts `value` under the client key.
    pub fn encrypt(value: T, key: &TfheClientKey) -> Self {
        Self { ct: value.encrypt(key.inner()) }
    }

    /// Encodes a public constant as a ciphertext without noise, for the evaluator to combine
    /// with real ciphertexts (any result involving a real ciphertext is a real ciphertext).
    pub fn trivial(value: T, key: &TfheServerKey) -> Self {
        Self { ct: key.with_installed(|| value.trivial()) }
    }

    /// Decrypts under the client key.
    pub fn decrypt(&self, key: &TfheClientKey) -> T {
        T::decrypt(&self.ct, key.inner())
    }

    /// Serialises the ciphertext (versioned `tfhe` format; about 16 KiB per 2-bit block with
    /// the default parameters).
    pub fn to_bytes(&self) -> Result<Vec<u8>, TfheError> {
        T::to_wire(&self.ct)
    }

    /// Parses a ciphertext of exactly this width from untrusted bytes and checks its shape
    /// against `params` (the evaluator's server key or the owner's client key).
    pub fn from_bytes(bytes: &[u8], params: &impl ParameterSource) -> Result<Self, TfheError> {
        T::from_wire(bytes, &params.uint_params::<T::Id>()).map(|ct| Self { ct })
    }

    /// The wrapped `tfhe` ciphertext.
    pub fn inner(&self) -> &FheUint<T::Id> {
        &self.ct
    }

    /// Unwraps into the `tfhe` ciphertext.
    pub fn into_inner(self) -> FheUint<T::Id> {
        self.ct
    }
}

impl<T: Uint> From<FheUint<T::Id>> for EncryptedUint<T> {
    /// Wraps a `tfhe` ciphertext made in this process (not checked: parse wire bytes with
    /// [`EncryptedUint::from_bytes`]).
    fn from(ct: FheUint<T::Id>) -> Self {
        Self { ct }
    }
}

/// An encrypted bit: the result of a comparison, or the condition of a `select`.
#[derive(Clone)]
pub struct EncryptedBool {
    pub(super) ct: FheBool,
}

impl std::fmt::Debug for EncryptedBool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptedBool(..)")
    }
}

impl EncryptedBool {
    /// Encrypts `value` under the client key.
    pub fn encrypt(value: bool, key: &TfheClientKey) -> Self {
        Self { ct: FheBool::encrypt(value, key.inner()) }
    }

    /// Decrypts under the client key.
    pub fn decrypt(&self, key: &TfheClientKey) -> bool {
        self.ct.decrypt(key.inner())
    }

    /// Serialises the ciphertext.
    pub fn to_bytes(&self) -> Result<Vec<u8>, TfheError> {
        encode(&self.ct, MAX_CIPHERTEXT_BYTES, TfheObject::Bool)
    }

    /// Parses an encrypted bit from untrusted bytes and checks its shape against `params`.
    pub fn from_bytes(bytes: &[u8], params: &impl ParameterSource) -> Result<Self, TfheError> {
        decode(bytes, MAX_CIPHERTEXT_BYTES, &params.bool_params(), TfheObject::Bool)
            .map(|ct| Self { ct })
    }

    /// The wrapped `tfhe` ciphertext.
    pub fn inner(&self) -> &FheBool {
        &self.ct
    }
}

impl From<FheBool> for EncryptedBool {
    /// Wraps a `tfhe` ciphertext made in this process (not checked).
    fn from(ct: FheBool) -> Self {
        Self { ct }
    }
}
