//! Fixed-point arithmetic, comparison and ML building blocks on SPDZ shares.
//!
//! A real number x is held as the field element of the signed integer round(x·2^f), which must
//! stay below 2^(k−1) in magnitude. Products carry 2f fractional bits and are brought back by
//! probabilistic truncation; comparisons mask the value with random shared bits, open it, and
//! compare bits against the public result.
//!
//! **Statistical security.** Every protocol here opens c = a + 2^(k−1) + r with r uniform on
//! [0, 2^(k+κ)) (so a + 2^(k−1) ∈ [0, 2^k) and c < 2^(k+κ+1) < p never wraps, whatever the sign
//! of a); c's distribution is then within statistical distance 2^-κ of one that does not depend
//! on a. That is the figure **per opened value**; over a session that opens N masked values the
//! union bound gives **N·2^-κ** (e.g. 2^30 comparisons and truncations with κ = 64: below
//! 2^-34). [`FixedPoint::new`] and [`FixedPoint::default`] use κ =
//! [`STATISTICAL_SECURITY_BITS`] = 64, which in the 127-bit field limits k to 61 (|x| < 2^44 at
//! f = 16). Callers that need wider integers trade masking for range with
//! [`FixedPoint::with_widest_masks`] (κ between [`MIN_MASK_BITS`] = 40 and 64, as much as fits)
//! and must state their own figure. We chose 64 over the former 40 because 40 bits made the
//! per-session bound weak (2^-10 after 2^30 openings), for 20 % more random bits per comparison;
//! the cap at 64 matches the crate's other statistical checks.
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
pub use functions::{conv2d, dot, matmul, mul, reciprocal, relu, sigmoid};
pub use trunc::trunc_pr;

use tessera_mpc::Field;

use crate::{Error, Result};

/// Statistical masking bits κ of [`FixedPoint::new`] and [`FixedPoint::default`]: each opened
/// masked value's distribution is within 2^-κ of one independent of the secret.
pub const STATISTICAL_SECURITY_BITS: u32 = 64;

/// The least κ any [`FixedPoint`] accepts (the crate's former fixed figure).
pub const MIN_MASK_BITS: u32 = 40;

/// The fixed-point format: `f` fractional bits, values below 2^(k−1) as integers, and κ bits of
/// statistical masking for every opened value.
///
/// The fields are private so that every value satisfies what the protocols rely on:
/// 1 ≤ f < k and k + κ + 2 ≤ 127 (no shift overflows, no masked value wraps in a field of at
/// least that many bits; [`FixedPoint::fits`] checks a particular field).
///
/// ```compile_fail
/// let wide = tessera_protocols::fixed::FixedPoint { f: 16, k: 120, kappa: 64 }; // private
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedPoint {
    f: u32,
    k: u32,
    kappa: u32,
}

impl Default for FixedPoint {
    /// 16 fractional bits in 61-bit integers with 64-bit masks (fits the 127-bit field):
    /// |x| < 2^44, resolution 2^-16 ≈ 1.5·10^-5.
    fn default() -> Self {
        Self { f: 16, k: 61, kappa: STATISTICAL_SECURITY_BITS }
    }
}

impl FixedPoint {
    /// A format with `f` fractional bits and `k`-bit integers, masked with κ = 64 bits; refused
    /// unless 1 ≤ f < k and the masked values fit F.
    pub fn new<F: Field>(f: u32, k: u32) -> Result<Self> {
        Self::checked::<F>(f, k, STATISTICAL_SECURITY_BITS)
    }

    /// A format with the widest masks that fit F beside `k`-bit integers, at most 64 and at
    /// least [`MIN_MASK_BITS`] bits: for callers whose range needs k > 61 in the 127-bit field.
    /// The per-value figure is then 2^-[`Self::kappa`].
    pub fn with_widest_masks<F: Field>(f: u32, k: u32) -> Result<Self> {
        let room = max_bits(F::MODULUS_BITS).saturating_sub(k);
        Self::checked::<F>(f, k, room.clamp(MIN_MASK_BITS, STATISTICAL_SECURITY_BITS))
    }

    fn checked<F: Field>(f: u32, k: u32, kappa: u32) -> Result<Self> {
        let fx = Self { f, k, kappa };
        if f == 0 || f >= k {
            return Err(Error::Misuse(format!("fixed point needs 1 ≤ f < k, got f={f}, k={k}")));
        }
        if kappa < MIN_MASK_BITS {
            return Err(fx.misfit::<F>());
        }
        fx.fits::<F>()?;
        Ok(fx)
    }

    fn misfit<F: Field>(&self) -> Error {
        Error::Misuse(format!(
            "fixed point f={}, k={} with {}-bit masks does not fit a {}-bit field",
            self.f,
            self.k,
            self.kappa,
            F::MODULUS_BITS
        ))
    }

    /// Checks that masked values of this format fit F: c < 2^(k+κ+1) ≤ 2^(log p − 1) < p.
    /// Every protocol calls this, so a format built for (or defaulted to) a larger field is
    /// refused rather than silently wrapping.
    pub fn fits<F: Field>(&self) -> Result<()> {
        if self.fits_bits(F::MODULUS_BITS) { Ok(()) } else { Err(self.misfit::<F>()) }
    }

    fn fits_bits(&self, modulus_bits: u32) -> bool {
        self.k.checked_add(self.kappa).is_some_and(|bits| bits <= max_bits(modulus_bits))
    }

    /// Fractional bits.
    pub fn f(&self) -> u32 {
        self.f
    }

    /// Bits of the signed integer representation (including the sign).
    pub fn k(&self) -> u32 {
        self.k
    }

    /// Statistical masking bits κ: each opened masked value's distribution is within 2^-κ of
    /// one independent of the secret.
    pub fn kappa(&self) -> u32 {
        self.kappa
    }

    /// The field element of `x` (rounded to the nearest multiple of 2^-f).
    pub fn encode<F: Field>(&self, x: f64) -> Result<F> {
        self.fits::<F>()?;
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

/// The most bits k + κ that masked values may take in F (two below log p, and never more than
/// 125, so shifts of u128 by k + κ cannot overflow either).
fn max_bits(modulus_bits: u32) -> u32 {
    modulus_bits.min(127).saturating_sub(2)
}

#[cfg(test)]
mod tests {
    use tessera_mpc::Fp127;

    use super::*;

    #[test]
    fn every_constructible_format_satisfies_the_invariant() {
        let ok = |fx: FixedPoint| {
            assert!(1 <= fx.f() && fx.f() < fx.k(), "{fx:?}");
            assert!(fx.kappa() >= MIN_MASK_BITS && fx.k() + fx.kappa() + 2 <= 127, "{fx:?}");
            fx.fits::<Fp127>().unwrap();
        };
        ok(FixedPoint::default());
        for k in 0..140u32 {
            for f in [0, 1, 16, k.saturating_sub(1), k, k + 1] {
                if let Ok(fx) = FixedPoint::new::<Fp127>(f, k) {
                    assert_eq!(fx.kappa(), 64);
                    ok(fx);
                }
                if let Ok(fx) = FixedPoint::with_widest_masks::<Fp127>(f, k) {
                    ok(fx);
                }
            }
        }
        assert!(FixedPoint::new::<Fp127>(16, 61).is_ok());
        assert!(FixedPoint::new::<Fp127>(16, 62).is_err());
        assert!(FixedPoint::new::<Fp127>(0, 40).is_err());
        assert!(FixedPoint::new::<Fp127>(40, 40).is_err());
        assert_eq!(FixedPoint::with_widest_masks::<Fp127>(16, 61).unwrap().kappa(), 64);
        assert_eq!(FixedPoint::with_widest_masks::<Fp127>(16, 80).unwrap().kappa(), 45);
        assert_eq!(FixedPoint::with_widest_masks::<Fp127>(16, 85).unwrap().kappa(), 40);
        assert!(FixedPoint::with_widest_masks::<Fp127>(16, 86).is_err());
    }

    #[test]
    fn a_format_is_refused_in_a_field_too_narrow_for_it() {
        let fx = FixedPoint::default();
        assert_eq!(fx.k() + fx.kappa(), max_bits(Fp127::MODULUS_BITS));
        assert!(fx.fits_bits(127));
        // A 61-bit field could not hold the default's masked values: the protocols refuse it.
        assert!(!fx.fits_bits(61) && !fx.fits_bits(126));
        let narrow = FixedPoint::new::<Fp127>(8, 12).unwrap();
        assert!(!narrow.fits_bits(64) && narrow.fits_bits(78));
    }
}
