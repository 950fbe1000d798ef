//! Probabilistic truncation (Catrina–Saxena, FC 2010, §3.1, protocol TruncPr).
//!
//! To divide [a] by 2^m, open c = a + 2^(k−1) + r with r = r''·2^m + r' built from random shared
//! bits (r' of m bits, r'' of k + κ − m bits), then [a / 2^m] = ([a] − (c mod 2^m) + [r']) / 2^m:
//! the result is ⌊a/2^m⌋ or ⌊a/2^m⌋ + 1, the latter with probability (a mod 2^m)/2^m, so it is
//! unbiased rounding with error below one unit in the last place.
//!
//! [`open_masked`] is the one place that masks and opens, for truncation and for comparison, so
//! the 2^(k−1) offset (which keeps a negative a from wrapping mod p and revealing its sign) and
//! the κ-bit statistical margin cannot differ between protocols.

use tessera_mpc::Field;

use super::FixedPoint;
use crate::spdz::{Preprocessing, Session, Shared};
use crate::{Error, Result};

/// Random shared masks: for each element, `low` bits as shared bits and the value
/// r = Σ 2^i·bit_i over `low + high` bits.
pub(crate) struct BitMask<F> {
    /// Shares of the low bits, `low` per element, element-major.
    pub(crate) low_bits: Shared<F>,
    /// Shares of the whole mask per element.
    pub(crate) value: Shared<F>,
    /// Shares of the low part Σ_{i<low} 2^i·bit_i per element.
    pub(crate) low_value: Shared<F>,
}

/// Draws masks of `low + high` random bits for `n` elements.
fn bit_masks<F: Field, P: Preprocessing<F>>(
    s: &mut Session<'_, F, P>,
    n: usize,
    low: u32,
    high: u32,
) -> Result<BitMask<F>> {
    let width = (low + high) as usize;
    let bits = s.random_bits(n * width)?;
    let pow: Vec<F> = (0..width).map(|i| F::from_u128(1u128 << i)).collect();
    let mut value = Shared::empty();
    let mut low_value = Shared::empty();
    let mut low_bits = Shared::empty();
    for e in 0..n {
        let b = bits.slice(e * width..(e + 1) * width)?;
        let whole = b.linear_combination(&pow)?;
        let lb = b.slice(0..low as usize)?;
        let low_part = lb.linear_combination(&pow[..low as usize])?;
        value.value.extend(whole.value);
        value.mac.extend(whole.mac);
        low_value.value.extend(low_part.value);
        low_value.mac.extend(low_part.mac);
        low_bits.value.extend(lb.value);
        low_bits.mac.extend(lb.mac);
    }
    Ok(BitMask { low_bits, value, low_value })
}

/// Opens c = a + 2^(k−1) + r for a fresh mask r of k + κ random shared bits, the low `low` of
/// them also returned as shared bits (Catrina–de Hoogh SCN 2010 §3, as in Mod2m). For |a| <
/// 2^(k−1), a + 2^(k−1) ∈ [0, 2^k), so c < 2^k + 2^(k+κ) ≤ 2^(k+κ+1) < p (never wraps) and c
/// is 2^-κ-close to uniform on [0, 2^(k+κ)) whatever a is.
pub(crate) fn open_masked<F: Field, P: Preprocessing<F>>(
    s: &mut Session<'_, F, P>,
    fx: FixedPoint,
    a: &Shared<F>,
    low: u32,
) -> Result<(Vec<u128>, BitMask<F>)> {
    fx.fits::<F>()?;
    let width = fx.k() + fx.kappa();
    if low > width {
        return Err(Error::Misuse(format!("{low} low bits of a {width}-bit mask")));
    }
    let n = a.len();
    let mask = bit_masks(s, n, low, width - low)?;
    let offset = vec![F::from_u128(1u128 << (fx.k() - 1)); n];
    let c = s.open_unchecked(&s.add_public(&a.add(&mask.value)?, &offset)?)?;
    Ok((c.iter().map(F::to_u128).collect(), mask))
}

/// `[a / 2^m]` with probabilistic rounding, for `a` below 2^(k−1) in magnitude.
pub fn trunc_pr<F: Field, P: Preprocessing<F>>(
    s: &mut Session<'_, F, P>,
    fx: FixedPoint,
    a: &Shared<F>,
    m: u32,
) -> Result<Shared<F>> {
    if m == 0 || m >= fx.k() {
        return Err(Error::Misuse(format!("cannot truncate {m} bits of a {}-bit value", fx.k())));
    }
    let (c, mask) = open_masked(s, fx, a, m)?;
    let c_low: Vec<F> = c.iter().map(|c| F::from_u128(c % (1u128 << m))).collect();
    // a' = c' − r' is a mod 2^m up to a borrow; (a − a')/2^m is the truncation.
    let a_low = mask.low_value.neg();
    let a_low = s.add_public(&a_low, &c_low)?;
    let inv = F::from_u128(1u128 << m)
        .inverse()
        .ok_or_else(|| Error::Misuse("2^m not invertible".into()))?;
    Ok(a.sub(&a_low)?.scale(inv))
}
