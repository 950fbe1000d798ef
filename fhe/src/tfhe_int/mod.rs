//! TFHE integers: encrypted `u8` … `u64` with exact arithmetic and comparisons, through Zama's
//! `tfhe` crate (feature `tfhe`).
//!
//! Scheme: TFHE / CGGI (Chillotti, Gama, Georgieva, Izabachène, "TFHE: Fast Fully Homomorphic
//! Encryption over the Torus", J. Cryptology 33, 2020) with programmable bootstrapping, and
//! integers as radix blocks of 2 message bits each (Bergerat et al., "Parameter Optimization and
//! Larger Precision for (T)FHE", J. Cryptology 36, 2023): the protocol is entirely `tfhe`'s, we
//! only wrap it. We use `tfhe`'s default CPU parameter set only: 128-bit security and a
//! bootstrapping failure probability of at most 2^-128 per `tfhe`'s documentation. IND-CPA,
//! semi-honest use: ciphertexts carry no integrity, and a server holding only the server key
//! learns nothing about the values but may compute anything it likes on them.
//!
//! | role | type | where |
//! | --- | --- | --- |
//! | data owner: key generation, encryption, decryption | [`TfheClientKey`] | `keys` |
//! | evaluation key on the wire (seeded, compressed) | [`TfheCompressedServerKey`] | `keys` |
//! | evaluator: add, sub, mul, bitwise, comparisons, min/max, select | [`TfheServerKey`] | `ops` |
//! | ciphertexts, generic over the width | [`EncryptedUint<T>`], [`EncryptedBool`] | `uint` |
//! | size-bounded, versioned, parameter-checked byte formats | every type's `to_bytes`/`from_bytes` | `codec` |
//!
//! Every `from_bytes` is safe on untrusted input: it refuses inputs over a per-type size limit
//! before parsing, parses with `tfhe::safe_serialization` under that limit (bounded allocation,
//! versioned header naming the type), refuses trailing bytes, and checks the object against the
//! expected parameters (`ParameterSetConformant`), so a ciphertext or key with the wrong shape is
//! refused with a [`TfheError`] instead of making a later operation panic.
//!
//! ```
//! use tessera_fhe::tfhe_int::{EncryptedUint, TfheClientKey, TfheCompressedServerKey};
//!
//! # fn main() -> Result<(), tessera_fhe::tfhe_int::TfheError> {
//! // Data owner: keys, then the compressed server key goes over the wire.
//! let client = TfheClientKey::generate();
//! let wire_key = client.compressed_server_key().to_bytes()?;
//! let a = EncryptedUint::<u8>::encrypt(200, &client).to_bytes()?;
//! let b = EncryptedUint::<u8>::encrypt(100, &client).to_bytes()?;
//!
//! // Evaluator: parse and check everything it receives, then compute.
//! let server = TfheCompressedServerKey::from_bytes(&wire_key)?.decompress();
//! let (a, b) = (EncryptedUint::<u8>::from_bytes(&a, &server)?, EncryptedUint::<u8>::from_bytes(&b, &server)?);
//! let larger = server.max(&a, &b);
//! let sum = server.add(&a, &b); // wraps modulo 2^8
//! let reply = (larger.to_bytes()?, sum.to_bytes()?);
//!
//! // Data owner: decrypt.
//! assert_eq!(EncryptedUint::<u8>::from_bytes(&reply.0, &client)?.decrypt(&client), 200);
//! assert_eq!(EncryptedUint::<u8>::from_bytes(&reply.1, &client)?.decrypt(&client), 44);
//! # Ok(())
//! # }
//! ```
//!
//! Licence: `tfhe` is BSD-3-Clause-Clear, which grants **no patent rights**; Zama offers its
//! patents free of charge for development, research, prototyping and experimentation only, and
//! commercial use needs a patent licence from Zama (see the README's "Licences of dependencies").
//!
//! The client key cannot be zeroised in memory (`tfhe` does not implement `Zeroize` for it); its
//! serialised form is returned in a [`zeroize::Zeroizing`] buffer.

mod codec;
mod error;
mod keys;
mod ops;
mod uint;

pub use codec::{
    MAX_CIPHERTEXT_BYTES, MAX_CLIENT_KEY_BYTES, MAX_COMPRESSED_SERVER_KEY_BYTES, ParameterSource,
};
pub use error::{TfheError, TfheObject};
pub use keys::{TfheClientKey, TfheCompressedServerKey, TfheServerKey};
pub use uint::{EncryptedBool, EncryptedUint, Uint};
