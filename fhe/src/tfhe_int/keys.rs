//! Keys: the data owner's client key, the compressed server key it sends, and the decompressed
//! server key the evaluator computes with.
//!
//! The compressed server key stores the seeds of the uniform masks instead of the masks (the
//! same trick as the BFV wire format), which makes it several times smaller to send; the
//! evaluator decompresses it once (`decompress`, a few hundred milliseconds) and keeps the result.

use tfhe::shortint::AtomicPatternParameters;
use tfhe::shortint::parameters::PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128 as PARAMS;
use tfhe::{ClientKey, CompressedServerKey, Config, ConfigBuilder, ServerKey};
use zeroize::Zeroizing;

use super::codec::{
    MAX_CLIENT_KEY_BYTES, MAX_COMPRESSED_SERVER_KEY_BYTES, decode, decode_unchecked, encode,
};
use super::error::{TfheError, TfheObject};

/// The one parameter set this module uses, `tfhe`'s default for CPUs:
/// `PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128` (blocks of 2 message and 2 carry bits,
/// keyswitch then bootstrap, TUniform noise, 128-bit security, p_fail ≤ 2^-128). Named
/// explicitly so that both ends agree whatever `tfhe`'s default is under other features.
fn config() -> Config {
    ConfigBuilder::with_custom_parameters(PARAMS).build()
}

fn parameters() -> AtomicPatternParameters {
    PARAMS.into()
}

/// The data owner's secret key: encrypts, decrypts and derives the server key.
#[derive(Clone)]
pub struct TfheClientKey {
    key: ClientKey,
}

impl std::fmt::Debug for TfheClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TfheClientKey(..)")
    }
}

impl TfheClientKey {
    /// Generates a client key for our parameter set, from the OS's randomness (through `tfhe`'s
    /// own CSPRNG).
    pub fn generate() -> Self {
        Self { key: ClientKey::generate(config()) }
    }

    /// Derives the compressed server key (the evaluation key) to hand to an evaluator.
    pub fn compressed_server_key(&self) -> TfheCompressedServerKey {
        TfheCompressedServerKey { key: CompressedServerKey::new(&self.key) }
    }

    /// Serialises the client key. The bytes are the secret key: store them encrypted.
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>, TfheError> {
        encode(&self.key, MAX_CLIENT_KEY_BYTES, TfheObject::ClientKey).map(Zeroizing::new)
    }

    /// Parses a client key written by [`to_bytes`](Self::to_bytes), refusing malformed,
    /// oversized or trailing input. `tfhe` has no conformance rule for client keys, so its
    /// parameters are compared with ours instead.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TfheError> {
        let key: ClientKey = decode_unchecked(bytes, MAX_CLIENT_KEY_BYTES, TfheObject::ClientKey)?;
        if key.computation_parameters() == parameters() {
            Ok(Self { key })
        } else {
            Err(TfheError::NotConformant(TfheObject::ClientKey))
        }
    }

    /// The wrapped `tfhe` key, for `tfhe`'s own API.
    pub fn inner(&self) -> &ClientKey {
        &self.key
    }
}

/// The evaluation key in its compact, seeded form: what the data owner sends.
#[derive(Clone)]
pub struct TfheCompressedServerKey {
    key: CompressedServerKey,
}

impl std::fmt::Debug for TfheCompressedServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TfheCompressedServerKey(..)")
    }
}

impl TfheCompressedServerKey {
    /// Expands the seeded masks and converts the bootstrapping key to the Fourier domain.
    pub fn decompress(&self) -> TfheServerKey {
        TfheServerKey { key: self.key.decompress() }
    }

    /// Serialises the compressed server key.
    pub fn to_bytes(&self) -> Result<Vec<u8>, TfheError> {
        encode(&self.key, MAX_COMPRESSED_SERVER_KEY_BYTES, TfheObject::CompressedServerKey)
    }

    /// Parses a compressed server key from untrusted bytes and checks every component's
    /// dimensions against our parameters, so that decompressing it allocates only what
    /// those parameters need.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TfheError> {
        let params = config().into();
        decode(bytes, MAX_COMPRESSED_SERVER_KEY_BYTES, &params, TfheObject::CompressedServerKey)
            .map(|key| Self { key })
    }

    /// The wrapped `tfhe` key.
    pub fn inner(&self) -> &CompressedServerKey {
        &self.key
    }
}

/// The decompressed evaluation key: computes on ciphertexts (see the operations in `ops`).
/// Cloning is cheap (the key material is shared).
#[derive(Clone)]
pub struct TfheServerKey {
    key: ServerKey,
}

impl std::fmt::Debug for TfheServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TfheServerKey(..)")
    }
}

impl TfheServerKey {
    /// The wrapped `tfhe` key.
    pub fn inner(&self) -> &ServerKey {
        &self.key
    }

    /// Runs `f` with this key installed as the calling thread's `tfhe` server key (restoring the
    /// previous one afterwards), for calling `tfhe`'s operators directly.
    pub fn with_installed<R>(&self, f: impl FnOnce() -> R) -> R {
        tfhe::with_server_key_as_context(self.key.clone(), f)
    }
}
