//! Finite fields and rings that shares live in.
//!
//! [`Ring`] is what additive sharing needs (add, multiply, sample, encode); [`Field`] adds
//! inversion and square roots, which SPDZ needs for MAC keys, bits and division. Protocols are
//! generic over these traits; [`Fp127`] (the Mersenne prime 2^127 − 1) is the default SPDZ field
//! and [`Z64`] (integers mod 2^64) the ring for SPDZ2k-style protocols and fixed-point plaintexts.

mod fp127;
pub mod slice;
mod z64;

use std::fmt::Debug;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Mul, MulAssign, Neg, Sub, SubAssign};

pub use fp127::Fp127;
pub use z64::Z64;

use crate::{Error, Prg, Result};

/// A commutative ring with a canonical fixed-width little-endian encoding.
pub trait Ring:
    Copy
    + Clone
    + Debug
    + Default
    + PartialEq
    + Eq
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + Sum
{
    /// The additive identity.
    const ZERO: Self;
    /// The multiplicative identity.
    const ONE: Self;
    /// Bytes of the canonical encoding.
    const BYTES: usize;
    /// A short name for error messages.
    const NAME: &'static str;

    /// The image of an integer (reduced).
    fn from_u64(v: u64) -> Self;

    /// A uniformly random element.
    fn random(prg: &mut Prg) -> Self;

    /// Writes the canonical encoding into `out`, which must be `BYTES` long.
    fn write_le(&self, out: &mut [u8]);

    /// Reads a canonical encoding; rejects wrong lengths and out-of-range values.
    fn read_le(bytes: &[u8]) -> Result<Self>;

    /// Fills `out` with uniformly random elements.
    fn fill_random(prg: &mut Prg, out: &mut [Self]) {
        for x in out {
            *x = Self::random(prg);
        }
    }

    /// `n` uniformly random elements.
    fn random_vec(prg: &mut Prg, n: usize) -> Vec<Self> {
        let mut v = vec![Self::ZERO; n];
        Self::fill_random(prg, &mut v);
        v
    }

    /// The concatenated canonical encodings of `xs`.
    fn encode_slice(xs: &[Self]) -> Vec<u8> {
        let mut out = vec![0u8; xs.len() * Self::BYTES];
        for (x, chunk) in xs.iter().zip(out.chunks_exact_mut(Self::BYTES)) {
            x.write_le(chunk);
        }
        out
    }

    /// Decodes a concatenation of canonical encodings.
    fn decode_slice(bytes: &[u8]) -> Result<Vec<Self>> {
        if !bytes.len().is_multiple_of(Self::BYTES) {
            return Err(Error::NonCanonical { what: Self::NAME });
        }
        bytes.chunks_exact(Self::BYTES).map(Self::read_le).collect()
    }

    /// Decodes exactly `n` elements, rejecting any other length.
    fn decode_exact(bytes: &[u8], n: usize) -> Result<Vec<Self>> {
        if bytes.len() != n * Self::BYTES {
            return Err(Error::BadLength { expected: n * Self::BYTES, got: bytes.len() });
        }
        Self::decode_slice(bytes)
    }
}

/// A prime field whose modulus fits in 128 bits.
pub trait Field: Ring {
    /// The prime modulus p.
    const MODULUS: u128;
    /// Bits of the modulus.
    const MODULUS_BITS: u32;

    /// The element congruent to `v` modulo p.
    fn from_u128(v: u128) -> Self;

    /// The canonical representative in `[0, p)`.
    fn to_u128(&self) -> u128;

    /// `self^e`.
    fn pow(&self, mut e: u128) -> Self {
        let mut base = *self;
        let mut acc = Self::ONE;
        while e > 0 {
            if e & 1 == 1 {
                acc *= base;
            }
            base *= base;
            e >>= 1;
        }
        acc
    }

    /// The multiplicative inverse, or `None` for zero.
    fn inverse(&self) -> Option<Self> {
        if *self == Self::ZERO { None } else { Some(self.pow(Self::MODULUS - 2)) }
    }

    /// A square root, or `None` for a non-residue.
    fn sqrt(&self) -> Option<Self>;

    /// The element for a signed integer (negative values wrap to p − |v|).
    fn from_i128(v: i128) -> Self {
        if v >= 0 { Self::from_u128(v as u128) } else { -Self::from_u128(v.unsigned_abs()) }
    }

    /// The signed integer in `(-p/2, p/2]` this element represents.
    fn to_i128(&self) -> i128 {
        let v = self.to_u128();
        if v > Self::MODULUS / 2 { -((Self::MODULUS - v) as i128) } else { v as i128 }
    }
}
