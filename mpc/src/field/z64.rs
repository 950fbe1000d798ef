//! The ring of integers modulo 2^64, native machine arithmetic.

use std::iter::Sum;
use std::ops::{Add, AddAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use super::Ring;
use crate::{Error, Prg, Result};

/// An element of Z/2^64Z; every `u64` is canonical.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Z64(pub u64);

macro_rules! wrapping_op {
    ($tr:ident, $f:ident, $tra:ident, $fa:ident, $op:ident) => {
        impl $tr for Z64 {
            type Output = Self;
            #[inline(always)]
            fn $f(self, rhs: Self) -> Self {
                Z64(self.0.$op(rhs.0))
            }
        }
        impl $tra for Z64 {
            #[inline(always)]
            fn $fa(&mut self, rhs: Self) {
                self.0 = self.0.$op(rhs.0);
            }
        }
    };
}

wrapping_op!(Add, add, AddAssign, add_assign, wrapping_add);
wrapping_op!(Sub, sub, SubAssign, sub_assign, wrapping_sub);
wrapping_op!(Mul, mul, MulAssign, mul_assign, wrapping_mul);

impl Neg for Z64 {
    type Output = Self;
    fn neg(self) -> Self {
        Z64(self.0.wrapping_neg())
    }
}

impl Sum for Z64 {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Z64(0), |a, b| a + b)
    }
}

impl Ring for Z64 {
    const ZERO: Self = Z64(0);
    const ONE: Self = Z64(1);
    const BYTES: usize = 8;
    const NAME: &'static str = "Z64";

    fn from_u64(v: u64) -> Self {
        Z64(v)
    }

    fn random(prg: &mut Prg) -> Self {
        Z64(prg.next_u64())
    }

    fn write_le(&self, out: &mut [u8]) {
        out.copy_from_slice(&self.0.to_le_bytes());
    }

    fn read_le(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; 8] =
            bytes.try_into().map_err(|_| Error::NonCanonical { what: Self::NAME })?;
        Ok(Z64(u64::from_le_bytes(arr)))
    }
}
