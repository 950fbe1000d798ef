//! Additive RLWE encryption over the SPDZ field `F_p`, `p = 2^127 − 1`, for **matrix products
//! in coefficient encoding**: the owner of a right matrix `B` encrypts it, a holder of a left
//! matrix `A` returns an encryption of `A·B + R` for a mask `R` of its choice, with circuit
//! privacy by noise flooding. The building block of SPDZ matrix triples
//! (`tessera_protocols::spdz::matrix`, after Chen–Kim–Razenshteyn–Rotaru–Song–Wagh, ASIACRYPT
//! 2020, ePrint 2020/451, §4: HE-based matrix triples in the SPDZ framework).
//!
//! - [`MatrixTiling`]: Cheetah's coefficient encoding (Huang et al., USENIX Security 2022, §3.1):
//!   an `mt×kt` tile times a `kt×nt` tile is one polynomial product when `mt·kt·nt ≤ N`, so the
//!   plaintext modulus needs no SIMD slots (`2^127 − 1` has none: `p − 1 = 2·odd`);
//! - [`MatrixHe`]: BGV-form RLWE (message in the low bits) with `t = p`, `N = 2^14` and a 406-bit
//!   RNS modulus on the accelerator's NTT; parameters, noise and flooding bounds in [`params`].
//!
//! **Security.** IND-CPA at 128-bit classical security (HE standard, `log q = 406 ≤ 438` at
//! `N = 16384`). Circuit privacy: statistical 2^-64 over up to 2^18 returned ciphertexts per key,
//! **against an owner whose uploads and public key are well formed** (noise and plaintexts within
//! the bounds of [`params`]). A malicious owner could break the flooding with an oversized upload;
//! that needs a zero-knowledge proof of plaintext knowledge and bounded noise (TopGear,
//! Baum–Cozzo–Smart, SAC 2019), which this module does not provide yet. Correctness against a
//! malicious evaluator is not this module's job: the SPDZ sacrifice checks it.

mod arith;
pub mod params;
mod scheme;
mod tiling;
mod wire;

pub use scheme::{
    MatCiphertext, MatPublicKey, MatSecretKey, MatrixHe, PreparedCiphertext, PreparedPlain,
    SeededCiphertext,
};
pub use tiling::MatrixTiling;

#[cfg(test)]
mod tests;
