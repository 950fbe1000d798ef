//! Packed RLWE encryption (BFV) with RNS limbs, its polynomial products on the accelerator.
//!
//! Fan–Vercauteren, ePrint 2012/144, §3, RNS decryption after Halevi–Polyakov–Shoup, CT-RSA
//! 2019, §3.1. IND-CPA under RLWE at 128-bit classical security for the named parameter sets
//! ([`BfvParamId`]); semi-honest use (no integrity, no circuit privacy beyond fresh noise).
//! Values are packed one per coefficient (coefficient encoding), which is what additive use
//! (sums, scalar products) and coefficient-encoded SPDZ triples need.

mod encoding;
mod params;
mod sample;
mod scheme;
mod wire;

pub use params::{BfvParamId, BfvParameters, PRIME_BITS};
pub use scheme::{Bfv, BfvCiphertext, BfvPublicKey, BfvSecretKey};
