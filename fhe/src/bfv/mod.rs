//! Packed RLWE encryption (BFV) with RNS limbs, its polynomial products on the accelerator.
//!
//! Fan–Vercauteren, ePrint 2012/144, §3–4, RNS decryption after Halevi–Polyakov–Shoup, CT-RSA
//! 2019, §3.1. IND-CPA under RLWE at 128-bit classical security for the named parameter sets
//! ([`BfvParamId`]); semi-honest use (no integrity, no circuit privacy beyond fresh noise).
//!
//! | operation | where |
//! | --- | --- |
//! | key generation, public-key and seeded secret-key encryption, decryption | `scheme` |
//! | coefficient packing (`encrypt`) and SIMD slot packing (`encrypt_slots`) | `scheme`, `encoding` |
//! | add, scalar multiply, plaintext multiply (coefficients or slots) | `scheme`, `encoding` |
//! | sums of slot-wise plaintext products in NTT form | `dot` |
//! | ciphertext multiply with relinearisation | `mul` |
//! | row rotations and row swap (Galois keys) | `galois` |
//! | modulus switching (drop the last prime before sending) | `scheme` |
//! | byte formats with seed compression and strict decoding | `wire` |
mod dot;
mod encoding;
mod galois;
mod mul;
mod params;
pub(crate) mod sample;
mod scheme;
mod wire;

pub use dot::BfvNttCiphertext;
pub use galois::BfvGaloisKey;
pub use mul::BfvRelinKey;
pub use params::{BfvParamId, BfvParameters, PRIME_BITS};
pub use scheme::{Bfv, BfvCiphertext, BfvPublicKey, BfvSecretKey};
