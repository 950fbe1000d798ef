//! Comparison and equality (Catrina–de Hoogh, SCN 2010, §3–4: Mod2m, LTZ, EQZ).
//!
//! Both open the input masked by random shared bits and then compare bit by bit against the
//! public opened value, which is linear in the shared bits; the only multiplications are a
//! prefix-OR (log₂ k rounds) for comparison and a product tree (log₂ k rounds) for equality.
//! Both open through [`open_masked`], with the 2^(k−1) offset, so neither leaks a sign.

use tessera_mpc::Field;

use super::FixedPoint;
use super::trunc::open_masked;
use crate::spdz::{Preprocessing, Session, Shared};
use crate::{Error, Result};

/// `[c <? r]` for public `c` (its low `m` bits) and shared bits of `r`, `m` bits per element
/// (element-major, least significant first). Prefix-OR from the top bit finds the most
/// significant differing bit; c < r iff c has a 0 there.
fn bits_lt_public<F: Field, P: Preprocessing<F>>(
    s: &mut Session<'_, F, P>,
    c: &[u128],
    r_bits: &Shared<F>,
    m: usize,
) -> Result<Shared<F>> {
    let n = c.len();
    // d_i = c_i ⊕ r_i = c_i + r_i − 2·c_i·r_i, linear because c_i is public. Stored top bit first.
    let mut d = Shared::empty();
    let mut coef = Vec::with_capacity(n * m);
    let mut offs = Vec::with_capacity(n * m);
    for (e, &ce) in c.iter().enumerate() {
        for i in (0..m).rev() {
            let ci = (ce >> i) & 1;
            d.extend_from(r_bits, e * m + i..e * m + i + 1);
            coef.push(if ci == 1 { -F::ONE } else { F::ONE });
            offs.push(F::from_u64(ci as u64));
        }
    }
    let d = s.add_public(&d.mul_public(&coef)?, &offs)?;
    // Prefix-OR (Hillis–Steele): after the loop, e_j = OR of d_0..d_j (top-first order).
    let mut e = d;
    let mut step = 1;
    while step < m {
        let mut left = Shared::empty();
        let mut right = Shared::empty();
        let mut idx = Vec::new();
        for el in 0..n {
            for j in step..m {
                idx.push(el * m + j);
            }
        }
        for &k in &idx {
            left.value.push(e.value[k]);
            left.mac.push(e.mac[k]);
            right.value.push(e.value[k - step]);
            right.mac.push(e.mac[k - step]);
        }
        let prod = s.mul(&left, &right)?;
        // OR(x, y) = x + y − x·y
        for (t, &k) in idx.iter().enumerate() {
            e.value[k] = left.value[t] + right.value[t] - prod.value[t];
            e.mac[k] = left.mac[t] + right.mac[t] - prod.mac[t];
        }
        step *= 2;
    }
    // f_j = e_j − e_{j−1} is 1 exactly at the top differing bit; c < r iff c_j = 0 there.
    let mut out = Shared::empty();
    for (el, &ce) in c.iter().enumerate() {
        let (mut v, mut mac) = (F::ZERO, F::ZERO);
        for j in 0..m {
            let bit = (ce >> (m - 1 - j)) & 1;
            if bit == 0 {
                let k = el * m + j;
                v += e.value[k];
                mac += e.mac[k];
                if j > 0 {
                    v -= e.value[k - 1];
                    mac -= e.mac[k - 1];
                }
            }
        }
        out.value.push(v);
        out.mac.push(mac);
    }
    Ok(out)
}

/// `[a < 0]` as a shared 0/1, for `a` below 2^(k−1) in magnitude (exact).
pub fn ltz<F: Field, P: Preprocessing<F>>(
    s: &mut Session<'_, F, P>,
    fx: FixedPoint,
    a: &Shared<F>,
) -> Result<Shared<F>> {
    // Mod2m with m = k − 1: a' = a mod 2^(k−1); then a − a' = 2^(k−1)·⌊a / 2^(k−1)⌋ ∈ {−2^(k−1), 0}.
    let m = fx.k() - 1;
    let (c, mask) = open_masked(s, fx, a, m)?;
    let c_low: Vec<u128> = c.iter().map(|c| c % (1u128 << m)).collect();
    let u = bits_lt_public(s, &c_low, &mask.low_bits, m as usize)?;
    // a' = c' − r' + 2^m·u
    let c_low_f: Vec<F> = c_low.iter().map(|v| F::from_u128(*v)).collect();
    let a_mod =
        s.add_public(&mask.low_value.neg(), &c_low_f)?.add(&u.scale(F::from_u128(1u128 << m)))?;
    let inv = F::from_u128(1u128 << m)
        .inverse()
        .ok_or_else(|| Error::Misuse("2^m not invertible".into()))?;
    // ⌊a / 2^(k−1)⌋ is −1 for negative a and 0 otherwise.
    Ok(a.sub(&a_mod)?.scale(-inv))
}

/// `[a < b]` as a shared 0/1 (both below 2^(k−2) in magnitude).
pub fn less_than<F: Field, P: Preprocessing<F>>(
    s: &mut Session<'_, F, P>,
    fx: FixedPoint,
    a: &Shared<F>,
    b: &Shared<F>,
) -> Result<Shared<F>> {
    ltz(s, fx, &a.sub(b)?)
}

/// What the low k bits of the mask must be for a = 0, given the opened c = a + 2^(k−1) + r:
/// (c − 2^(k−1)) mod 2^k, i.e. c's low k bits with bit k−1 flipped. (a + 2^(k−1) ∈ [0, 2^k), so
/// a = 0 iff (c − r) mod 2^k = 2^(k−1).)
fn eqz_target(c: u128, k: u32) -> u128 {
    (c % (1u128 << k)) ^ (1u128 << (k - 1))
}

/// `[a = 0]` as a shared 0/1, for `a` below 2^(k−1) in magnitude (Catrina–de Hoogh SCN 2010 §4,
/// EQZ, with the same 2^(k−1) offset as LTZ so a negative a cannot wrap mod p).
pub fn eqz<F: Field, P: Preprocessing<F>>(
    s: &mut Session<'_, F, P>,
    fx: FixedPoint,
    a: &Shared<F>,
) -> Result<Shared<F>> {
    let k = fx.k() as usize;
    let n = a.len();
    let (c, mask) = open_masked(s, fx, a, fx.k())?;
    // a = 0 iff the low k bits of r equal those of c − 2^(k−1): multiply all (1 − t_i ⊕ r_i).
    let mut terms = Shared::empty();
    let mut coef = Vec::with_capacity(n * k);
    let mut offs = Vec::with_capacity(n * k);
    for (e, &cv) in c.iter().enumerate() {
        let cv = eqz_target(cv, fx.k());
        for i in 0..k {
            let ci = (cv >> i) & 1;
            terms.extend_from(&mask.low_bits, e * k + i..e * k + i + 1);
            // 1 − (c ⊕ r) = r if c = 1, 1 − r if c = 0
            coef.push(if ci == 1 { F::ONE } else { -F::ONE });
            offs.push(if ci == 1 { F::ZERO } else { F::ONE });
        }
    }
    let mut cur = s.add_public(&terms.mul_public(&coef)?, &offs)?;
    let mut width = k;
    while width > 1 {
        let half = width / 2;
        let mut left = Shared::empty();
        let mut right = Shared::empty();
        let mut carry = Shared::empty();
        for e in 0..n {
            let row = e * width;
            left.extend_from(&cur, row..row + half);
            right.extend_from(&cur, row + half..row + 2 * half);
            if width % 2 == 1 {
                carry.extend_from(&cur, row + 2 * half..row + width);
            }
        }
        let prod = s.mul(&left, &right)?;
        let next_width = half + width % 2;
        let mut next = Shared::empty();
        for e in 0..n {
            next.extend_from(&prod, e * half..(e + 1) * half);
            if width % 2 == 1 {
                next.extend_from(&carry, e..e + 1);
            }
        }
        cur = next;
        width = next_width;
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::eqz_target;

    /// Exhaustive over small k and κ: the offset opening never wraps (c ∈ [0, 2^(k+κ+1)) for
    /// negative a too, so its distribution hides the sign), and eqz's target bits match the
    /// mask exactly when a = 0. Without the offset, c = a + r is negative (wraps to p − …) for
    /// r < |a|: the leak the old EQZ had.
    #[test]
    fn offset_masking_never_wraps_and_finds_zero_exactly() {
        for k in 2..=6u32 {
            for kappa in 0..=3u32 {
                let half = 1i128 << (k - 1);
                for a in -half..half {
                    for r in 0..(1i128 << (k + kappa)) {
                        let c = a + half + r;
                        assert!((0..1i128 << (k + kappa + 1)).contains(&c), "k={k} a={a} r={r}");
                        let r_low = (r as u128) % (1u128 << k);
                        assert_eq!(eqz_target(c as u128, k) == r_low, a == 0, "k={k} a={a} r={r}");
                    }
                }
            }
        }
    }
}
