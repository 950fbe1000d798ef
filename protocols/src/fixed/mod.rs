//! Fixed-point arithmetic, comparison and ML building blocks on SPDZ shares.
//!
//! A real number x is held as the field element of the signed integer round(x·2^f), which must
//! stay below 2^(k−1) in magnitude. Products carry 2f fractional bits and are brought back by
//! probabilistic truncation; comparisons mask the value with random shared bits, open it, and
//! compare bits against the public result. Masks carry κ = 40 extra bits, so an opened masked
//! value is 2^-40-close to uniform: that needs k + κ < log p, which [`FixedPoint::new`] checks.
//!
//! Protocols follow Catrina–Saxena, "Secure computation with fixed-point numbers" (FC 2010),
//! §3 (TruncPr, probabilistic rounding) and Catrina–de Hoogh, "Improved primitives for secure
//! multiparty integer computation" (SCN 2010), §3–4 (Mod2m, LTZ, EQZ via bitwise comparison with
//! a public value), with logarithmic-depth prefix-OR. Malicious security comes from SPDZ: every
//! opened value is MAC-checked before any output.

mod compare;
mod functions;
mod trunc;

pub use compare::{eqz, less_than, ltz};
pub use functions::{dot, mul, reciprocal, relu, sigmoid};
pub use trunc::trunc_pr;

use tessera_mpc::Field;

use crate::{Error, Result};

/// Statistical security of the masks used to open values (bits).
pub const MASK_SECURITY_BITS: u32 = 40;

/// The fixed-point format: `f` fractional bits, values below 2^(k−1) as integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedPoint {
    /// Fractional bits.
    pub f: u32,
    /// Bits of the signed integer representation (including the sign).
    pub k: u32,
}

impl Default for FixedPoint {
    /// 16 fractional bits in 64-bit integers: |x| < 2^47, resolution 2^-16 ≈ 1.5·10^-5.
    fn default() -> Self {
        Self { f: 16, k: 64 }
    }
}

impl FixedPoint {
    /// A format with `f` fractional bits and `k`-bit integers; checks that masking fits in F.
    pub fn new<F: Field>(f: u32, k: u32) -> Result<Self> {
        if f == 0 || f >= k || k + MASK_SECURITY_BITS + 1 >= F::MODULUS_BITS || k > 100 {
            return Err(Error::Misuse(format!(
                "fixed point f={f}, k={k} does not fit a {}-bit field with {MASK_SECURITY_BITS}-bit masks",
                F::MODULUS_BITS
            )));
        }
        Ok(Self { f, k })
    }

    /// The field element of `x` (rounded to the nearest multiple of 2^-f).
    pub fn encode<F: Field>(&self, x: f64) -> Result<F> {
        let scaled = (x * (1u128 << self.f) as f64).round();
        let bound = (1u128 << (self.k - 1)) as f64;
        if !scaled.is_finite() || scaled.abs() >= bound {
            return Err(Error::Misuse(format!("{x} is out of range for fixed point k={}", self.k)));
        }
        Ok(F::from_i128(scaled as i128))
    }

    /// The field elements of every `x`.
    pub fn encode_all<F: Field>(&self, xs: &[f64]) -> Result<Vec<F>> {
        xs.iter().map(|x| self.encode(*x)).collect()
    }

    /// The real number a field element represents.
    pub fn decode<F: Field>(&self, v: F) -> f64 {
        v.to_i128() as f64 / (1u128 << self.f) as f64
    }

    /// The real numbers of every element.
    pub fn decode_all<F: Field>(&self, vs: &[F]) -> Vec<f64> {
        vs.iter().map(|v| self.decode(*v)).collect()
    }
}
