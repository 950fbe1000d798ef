//! Word-size modular arithmetic shared by every backend.
//!
//! Every kernel in this crate works modulo `q < 2^62` so that lazy NTT butterflies can keep values
//! in `[0, 4q)` without overflowing a `u64`. Two reductions are used:
//!
//! * **Shoup** multiplication by a fixed operand `w` with the precomputed `w' = ⌊w·2^64/q⌋`
//!   (Harvey, "Faster arithmetic for number-theoretic transforms", J. Symb. Comp. 2014, §2): one
//!   high and two low products, no division. Used for twiddle factors.
//! * **Barrett** reduction of a 128-bit value with `⌊2^128/q⌋` stored as two words (the two-word
//!   variant SEAL uses): used for products of two variable operands and for dot products.
//!
//! The CUDA kernels (`cuda/kernels.cu`) port these functions line for line; both produce the
//! canonical residue in `[0, q)`, so the backends agree bit for bit.

use crate::Error;

/// Largest supported modulus bit length: moduli are strictly below `2^62`.
pub const MAX_MODULUS_BITS: u32 = 62;

/// A modulus `2 ≤ q < 2^62` with its Barrett constant `⌊2^128/q⌋`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Modulus {
    value: u64,
    /// Low word of `⌊2^128/q⌋`.
    ratio_lo: u64,
    /// High word of `⌊2^128/q⌋`.
    ratio_hi: u64,
}

impl Modulus {
    /// Checks `2 ≤ q < 2^62` and precomputes the Barrett constant.
    pub fn new(value: u64) -> Result<Self, Error> {
        if !(2..(1u64 << MAX_MODULUS_BITS)).contains(&value) {
            return Err(Error::InvalidModulus { modulus: value });
        }
        // ⌊(2^128 - 1)/q⌋ equals ⌊2^128/q⌋ unless q divides 2^128, i.e. q is a power of two; then
        // it is one less, and the reduction below still lands in [0, 2q) and stays exact.
        let ratio = u128::MAX / u128::from(value);
        Ok(Self { value, ratio_lo: ratio as u64, ratio_hi: (ratio >> 64) as u64 })
    }

    /// The modulus `q`.
    #[inline]
    pub fn value(&self) -> u64 {
        self.value
    }

    /// `[q, ⌊2^128/q⌋ mod 2^64, ⌊2^128/q⌋ >> 64]`, the layout the CUDA kernels read.
    #[cfg(feature = "cuda")]
    pub(crate) fn device_words(&self) -> [u64; 3] {
        [self.value, self.ratio_lo, self.ratio_hi]
    }

    /// Reduces any 128-bit value to `[0, q)`.
    ///
    /// The quotient estimate `⌊x·⌊2^128/q⌋ / 2^128⌋` is at most one below the true quotient,
    /// so a single conditional subtraction finishes; the wrapping arithmetic is exact because the
    /// true remainder before that subtraction is below `2q < 2^63`.
    #[inline]
    pub fn reduce_u128(&self, x: u128) -> u64 {
        let lo = x as u64;
        let hi = (x >> 64) as u64;
        // Low word of ⌊x·ratio / 2^128⌋: the remainder below is computed mod 2^64, so the
        // higher words of the quotient never matter.
        let carry = mul_hi(lo, self.ratio_lo);
        let t = u128::from(lo) * u128::from(self.ratio_hi);
        let (tmp1, c1) = (t as u64).overflowing_add(carry);
        let tmp3 = ((t >> 64) as u64).wrapping_add(u64::from(c1));
        let u = u128::from(hi) * u128::from(self.ratio_lo);
        let (_, c2) = tmp1.overflowing_add(u as u64);
        let carry = ((u >> 64) as u64).wrapping_add(u64::from(c2));
        let quotient = hi.wrapping_mul(self.ratio_hi).wrapping_add(tmp3).wrapping_add(carry);
        let r = lo.wrapping_sub(quotient.wrapping_mul(self.value));
        if r >= self.value { r - self.value } else { r }
    }

    /// `a·b mod q` for `a, b < q`.
    #[inline]
    pub fn mul(&self, a: u64, b: u64) -> u64 {
        self.reduce_u128(u128::from(a) * u128::from(b))
    }

    /// `a + b mod q` for `a, b < q`.
    #[inline]
    pub fn add(&self, a: u64, b: u64) -> u64 {
        add_mod(a, b, self.value)
    }

    /// `a - b mod q` for `a, b < q`.
    #[inline]
    pub fn sub(&self, a: u64, b: u64) -> u64 {
        sub_mod(a, b, self.value)
    }

    /// `a^e mod q`.
    pub fn pow(&self, mut a: u64, mut e: u64) -> u64 {
        let mut acc = 1 % self.value;
        a %= self.value;
        while e > 0 {
            if e & 1 == 1 {
                acc = self.mul(acc, a);
            }
            a = self.mul(a, a);
            e >>= 1;
        }
        acc
    }

    /// `a^{-1} mod q` by Fermat; only meaningful when `q` is prime and `a ≠ 0 mod q`.
    pub fn inv_prime(&self, a: u64) -> u64 {
        self.pow(a, self.value - 2)
    }
}

/// High word of the 128-bit product.
#[inline]
pub(crate) fn mul_hi(a: u64, b: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) >> 64) as u64
}

/// `a + b mod q` for `a, b < q < 2^63`.
#[inline]
pub(crate) fn add_mod(a: u64, b: u64, q: u64) -> u64 {
    let s = a + b;
    if s >= q { s - q } else { s }
}

/// `a - b mod q` for `a, b < q`.
#[inline]
pub(crate) fn sub_mod(a: u64, b: u64, q: u64) -> u64 {
    if a >= b { a - b } else { a + q - b }
}

/// Shoup companion `⌊w·2^64/q⌋` of a fixed multiplicand `w < q`.
#[inline]
pub fn shoup(w: u64, q: u64) -> u64 {
    ((u128::from(w) << 64) / u128::from(q)) as u64
}

/// `a·w mod q` up to one multiple of `q`: the result is in `[0, 2q)` for any `a < 2^64`.
#[inline]
pub(crate) fn mul_shoup_lazy(a: u64, w: u64, w_shoup: u64, q: u64) -> u64 {
    let quotient = mul_hi(a, w_shoup);
    a.wrapping_mul(w).wrapping_sub(quotient.wrapping_mul(q))
}

/// `a·w mod q` in `[0, q)` for any `a < 2^64`.
#[inline]
pub fn mul_shoup(a: u64, w: u64, w_shoup: u64, q: u64) -> u64 {
    let r = mul_shoup_lazy(a, w, w_shoup, q);
    if r >= q { r - q } else { r }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn splitmix(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    #[test]
    fn barrett_matches_u128_remainder() {
        let mut s = 7;
        let moduli =
            [2, 3, 1 << 20, (1 << 61) + 1, (1u64 << 62) - 57, 0x3fff_ffff_fffe_0001, 65537];
        for &q in &moduli {
            let m = Modulus::new(q).unwrap();
            let edge = [0u128, 1, u128::from(q - 1), u128::from(q) * u128::from(q - 1)];
            for x in edge {
                assert_eq!(u128::from(m.reduce_u128(x)), x % u128::from(q), "q={q} x={x}");
            }
            for _ in 0..2000 {
                let x = (u128::from(splitmix(&mut s)) << 64) | u128::from(splitmix(&mut s));
                assert_eq!(u128::from(m.reduce_u128(x)), x % u128::from(q), "q={q} x={x}");
                let a = splitmix(&mut s) % q;
                let b = splitmix(&mut s) % q;
                let expect = (u128::from(a) * u128::from(b) % u128::from(q)) as u64;
                assert_eq!(m.mul(a, b), expect);
            }
        }
    }

    #[test]
    fn shoup_matches_u128_remainder() {
        let mut s = 11;
        for &q in &[(1u64 << 62) - 57, 0x0fff_ffff_fffc_0001, 97] {
            for _ in 0..2000 {
                let w = splitmix(&mut s) % q;
                let a = splitmix(&mut s);
                let lazy = mul_shoup_lazy(a, w, shoup(w, q), q);
                assert!(lazy < 2 * q);
                let expect = (u128::from(a) * u128::from(w) % u128::from(q)) as u64;
                assert_eq!(mul_shoup(a, w, shoup(w, q), q), expect);
            }
        }
    }

    #[test]
    fn moduli_out_of_range_are_rejected() {
        for q in [0, 1, 1u64 << 62, u64::MAX] {
            assert!(matches!(Modulus::new(q), Err(Error::InvalidModulus { .. })));
        }
    }
}
