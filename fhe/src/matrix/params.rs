//! The one parameter set of the matrix-product scheme, with the bounds it was chosen from.
//!
//! Plaintext modulus `t = 2^127 − 1` (the SPDZ field), ring degree `N = 2^14`, ciphertext modulus
//! `q` a product of [`LIMBS`] = 7 NTT primes of [`PRIME_BITS`] = 58 bits (`log q ≈ 406`).
//!
//! **Security.** The HomomorphicEncryption.org standard (Albrecht et al. 2018, Table 1, classical,
//! ternary secret, σ ≈ 3.2) allows `log q ≤ 438` at `N = 16384` for 128 bits; 406 is below it.
//! `N = 8192` (bound 218) cannot hold even one product of two 127-bit values with headroom.
//!
//! **Noise.** Worst-case (not probabilistic) ∞-norm bounds, with errors from a centred binomial of
//! parameter η = 21 (`|e| ≤ 21`) and ternary `s`, `u`: a product returned by
//! [`super::MatrixHe::multiply_accumulate`] decrypts to `x = [m·Â + R]_t + t·(k + v)` where,
//! summed over at most [`MAX_TERMS`] tile products,
//! `|k + v| ≤ MAX_TERMS·(N·t/4 + η·N·t/2) + 2·η·N + 2 =: B_honest ≈ 2^156.5`
//! (`N·t/4` bounds the quotient of the centred product `m·Â` by `t`, `η·N·t/2` the fresh noise
//! times the plaintext, `2·η·N` the re-randomisation's `e_pk·u' + e'·s`).
//!
//! **Flooding (circuit privacy).** The evaluator adds `t·f` with `f` uniform on
//! `[−2^FLOOD_BITS, 2^FLOOD_BITS)`, `FLOOD_BITS` = ⌈log₂(2^σ · N · 2^[`MAX_RETURNS_LOG2`] ·
//! B_honest)⌉ = 253 with σ = [`STATISTICAL_BITS`] = 64: per coefficient the statistical distance
//! between the flooded value and one independent of the evaluator's plaintext is at most
//! `B_honest / 2^(FLOOD_BITS+1)`, so over `N` coefficients and up to `2^18` returned ciphertexts per
//! key it stays below 2^-64. That is the flooding bound: `2^FLOOD_BITS ≥ 2^σ·N·2^18·B_honest`,
//! i.e. 2^σ times the honest noise bound with the union over all coefficients folded in.
//! Decryption needs `q/2 > 2t + t·(B_honest + 2^FLOOD_BITS)`, i.e. `log q ≥ 382`: 24 bits spare.

/// Ring degree `N`.
pub const RING_DEGREE: usize = 1 << 14;
/// Bits of each RNS prime.
pub const PRIME_BITS: u32 = 58;
/// Number of RNS primes.
pub const LIMBS: usize = 7;
/// The plaintext modulus: the SPDZ field's prime `2^127 − 1`.
pub const PLAINTEXT_MODULUS: u128 = (1u128 << 127) - 1;
/// Statistical security σ of the noise flooding.
pub const STATISTICAL_BITS: u32 = 64;
/// The most tile products one returned ciphertext may sum.
pub const MAX_TERMS: usize = 1 << 12;
/// log₂ of the most ciphertexts one evaluator may return under one peer key.
pub const MAX_RETURNS_LOG2: u32 = 18;
/// Bound on every error coefficient (the centred binomial's η).
pub const ERROR_BOUND: u32 = 21;
/// HE-standard bound on `log q` for 128-bit classical security at [`RING_DEGREE`].
pub const MAX_LOG_Q_128: u32 = 438;

/// log₂ of `B_honest` (see the module docs), computed from the constants.
pub fn log2_honest_bound() -> f64 {
    let n = RING_DEGREE as f64;
    let t = PLAINTEXT_MODULUS as f64;
    let eta = f64::from(ERROR_BOUND);
    let per_term = n * t / 4.0 + eta * n * t / 2.0;
    (MAX_TERMS as f64 * per_term + 2.0 * eta * n + 2.0).log2()
}

/// Bits of the flooding noise: `⌈σ + log₂ N + MAX_RETURNS_LOG2 + log₂ B_honest⌉`.
pub fn flood_bits() -> u32 {
    let bits = f64::from(STATISTICAL_BITS)
        + (RING_DEGREE as f64).log2()
        + f64::from(MAX_RETURNS_LOG2)
        + log2_honest_bound();
    bits.ceil() as u32
}

/// The least `log₂ q` that decrypts a flooded product.
pub fn required_log_q() -> f64 {
    let t = PLAINTEXT_MODULUS as f64;
    let x = 2.0 * t + t * (2f64.powf(log2_honest_bound()) + 2f64.powi(flood_bits() as i32));
    x.log2() + 1.0
}

/// The fixed flooding width used by the scheme (checked against [`flood_bits`] in tests).
pub const FLOOD_BITS: u32 = 253;
