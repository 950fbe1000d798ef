//! The prime field modulo the Mersenne prime p = 2^127 − 1.
//!
//! Why this prime: reduction is two shifts and adds (2^127 ≡ 1), a product of two elements fits
//! in 254 bits, and p ≡ 3 (mod 4), so a square root is the single power a^((p+1)/4) = a^(2^125),
//! which makes MASCOT's random-bit generation cheap. 127 bits leave SPDZ a statistical MAC
//! security of about 2^-126 per check.

use std::iter::Sum;
use std::ops::{Add, AddAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use super::{Field, Ring};
use crate::{Error, Prg, Result};

const P: u128 = (1u128 << 127) - 1;

/// An element of GF(2^127 − 1), always held in canonical form `[0, p)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Fp127(u128);

impl Fp127 {
    /// The element congruent to `v` (reduced).
    pub const fn new(v: u128) -> Self {
        let r = (v & P) + (v >> 127);
        Fp127(if r >= P { r - P } else { r })
    }

    #[inline(always)]
    fn reduce_wide(lo: u128, hi: u128) -> Self {
        // x = hi·2^128 + lo = (2·hi + lo_127)·2^127 + (lo mod 2^127), and 2^127 ≡ 1.
        let r = (lo & P) + ((hi << 1) | (lo >> 127));
        let r = (r & P) + (r >> 127);
        Fp127(if r >= P { r - P } else { r })
    }
}

/// The 256-bit product of two 128-bit integers, as (low, high).
#[inline(always)]
fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    let (a0, a1) = (a as u64 as u128, a >> 64);
    let (b0, b1) = (b as u64 as u128, b >> 64);
    let p00 = a0 * b0;
    let p11 = a1 * b1;
    // Both operands are below 2^127, so a1, b1 < 2^63 and the middle sum cannot overflow.
    let mid = a0 * b1 + a1 * b0;
    let (lo, carry) = p00.overflowing_add(mid << 64);
    let hi = p11 + (mid >> 64) + carry as u128;
    (lo, hi)
}

impl Add for Fp127 {
    type Output = Self;
    #[inline(always)]
    fn add(self, rhs: Self) -> Self {
        let s = self.0 + rhs.0;
        Fp127(if s >= P { s - P } else { s })
    }
}

impl Sub for Fp127 {
    type Output = Self;
    #[inline(always)]
    fn sub(self, rhs: Self) -> Self {
        let (d, borrow) = self.0.overflowing_sub(rhs.0);
        Fp127(if borrow { d.wrapping_add(P) } else { d })
    }
}

impl Neg for Fp127 {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Fp127(if self.0 == 0 { 0 } else { P - self.0 })
    }
}

impl Mul for Fp127 {
    type Output = Self;
    #[inline(always)]
    fn mul(self, rhs: Self) -> Self {
        let (lo, hi) = mul_wide(self.0, rhs.0);
        Self::reduce_wide(lo, hi)
    }
}

impl AddAssign for Fp127 {
    #[inline(always)]
    fn add_assign(&mut self, rhs: Self) {
        *self = *self + rhs;
    }
}

impl SubAssign for Fp127 {
    #[inline(always)]
    fn sub_assign(&mut self, rhs: Self) {
        *self = *self - rhs;
    }
}

impl MulAssign for Fp127 {
    #[inline(always)]
    fn mul_assign(&mut self, rhs: Self) {
        *self = *self * rhs;
    }
}

impl Sum for Fp127 {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Fp127(0), |a, b| a + b)
    }
}

impl Ring for Fp127 {
    const ZERO: Self = Fp127(0);
    const ONE: Self = Fp127(1);
    const BYTES: usize = 16;
    const NAME: &'static str = "Fp127";

    fn from_u64(v: u64) -> Self {
        Fp127(v as u128)
    }

    fn random(prg: &mut Prg) -> Self {
        loop {
            // Rejection keeps the distribution exactly uniform; p itself is the only reject.
            let v = prg.next_u128() & P;
            if v != P {
                return Fp127(v);
            }
        }
    }

    fn fill_random(prg: &mut Prg, out: &mut [Self]) {
        let mut bytes = vec![0u8; out.len() * 16];
        prg.fill_bytes(&mut bytes);
        for (x, chunk) in out.iter_mut().zip(bytes.chunks_exact(16)) {
            let mut b = [0u8; 16];
            b.copy_from_slice(chunk);
            let v = u128::from_le_bytes(b) & P;
            *x = if v == P { Self::random(prg) } else { Fp127(v) };
        }
    }

    fn write_le(&self, out: &mut [u8]) {
        out.copy_from_slice(&self.0.to_le_bytes());
    }

    fn read_le(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; 16] =
            bytes.try_into().map_err(|_| Error::NonCanonical { what: Self::NAME })?;
        let v = u128::from_le_bytes(arr);
        if v >= P {
            return Err(Error::NonCanonical { what: Self::NAME });
        }
        Ok(Fp127(v))
    }
}

impl Field for Fp127 {
    const MODULUS: u128 = P;
    const MODULUS_BITS: u32 = 127;

    fn from_u128(v: u128) -> Self {
        Self::new(v)
    }

    fn to_u128(&self) -> u128 {
        self.0
    }

    fn sqrt(&self) -> Option<Self> {
        // p ≡ 3 mod 4: a^((p+1)/4) = a^(2^125) is a root whenever one exists.
        let mut r = *self;
        for _ in 0..125 {
            r = r * r;
        }
        (r * r == *self).then_some(r)
    }
}
