//! Byte formats of the matrix scheme's keys and ciphertexts, decoded strictly: one tag byte, then
//! fixed-size fields (RNS words little-endian, 8 bytes each, every one checked below its prime;
//! seeds 32 bytes). The length is fixed by the parameters, so decoding untrusted bytes allocates
//! at most what the parameters say and never panics.

use super::params::{LIMBS, RING_DEGREE as N};
use super::scheme::{MatCiphertext, MatPublicKey, MatrixHe, SeededCiphertext};
use crate::Error;

const TAG_PUBLIC_KEY: u8 = 0xA1;
const TAG_SEEDED: u8 = 0xA2;
const TAG_FULL: u8 = 0xA3;
const POLY_BYTES: usize = LIMBS * N * 8;

fn put_poly(out: &mut Vec<u8>, words: &[u64]) {
    for w in words {
        out.extend_from_slice(&w.to_le_bytes());
    }
}

/// Reads one polynomial (`LIMBS × N` words), each word below its limb's prime.
fn take_poly(he: &MatrixHe, bytes: &[u8]) -> Result<Vec<u64>, &'static str> {
    if bytes.len() != POLY_BYTES {
        return Err("polynomial length");
    }
    let mut out = Vec::with_capacity(LIMBS * N);
    for (limb, chunk) in bytes.chunks_exact(N * 8).enumerate() {
        let q = he.moduli().get(limb).copied().ok_or("limb count")?;
        for w in chunk.chunks_exact(8) {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            let v = u64::from_le_bytes(b);
            if v >= q {
                return Err("coefficient not reduced");
            }
            out.push(v);
        }
    }
    Ok(out)
}

fn split_tagged(bytes: &[u8], tag: u8, len: usize) -> Result<&[u8], &'static str> {
    match bytes.split_first() {
        Some((&t, rest)) if t == tag && rest.len() == len => Ok(rest),
        Some((&t, _)) if t != tag => Err("wrong tag"),
        _ => Err("wrong length"),
    }
}

fn seed_of(bytes: &[u8]) -> Result<[u8; 32], &'static str> {
    bytes.try_into().map_err(|_| "seed length")
}

impl MatPublicKey {
    /// Serialised size in bytes.
    pub const BYTES: usize = 1 + POLY_BYTES + 32;

    /// `tag | p0 | seed of p1`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::BYTES);
        out.push(TAG_PUBLIC_KEY);
        put_poly(&mut out, &self.p0);
        out.extend_from_slice(&self.seed);
        out
    }

    /// Decodes a public key for `he`.
    pub fn from_bytes(he: &MatrixHe, bytes: &[u8]) -> Result<Self, Error> {
        let body =
            split_tagged(bytes, TAG_PUBLIC_KEY, Self::BYTES - 1).map_err(Error::MalformedKey)?;
        let (poly, seed) = body.split_at(POLY_BYTES);
        let p0 = take_poly(he, poly).map_err(Error::MalformedKey)?;
        he.public_key_from_parts(p0, seed_of(seed).map_err(Error::MalformedKey)?)
    }
}

impl SeededCiphertext {
    /// Serialised size in bytes.
    pub const BYTES: usize = 1 + POLY_BYTES + 32;

    /// `tag | c0 | seed of c1`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::BYTES);
        out.push(TAG_SEEDED);
        put_poly(&mut out, &self.c0);
        out.extend_from_slice(&self.seed);
        out
    }

    /// Decodes an upload for `he`.
    pub fn from_bytes(he: &MatrixHe, bytes: &[u8]) -> Result<Self, Error> {
        let body =
            split_tagged(bytes, TAG_SEEDED, Self::BYTES - 1).map_err(Error::MalformedCiphertext)?;
        let (poly, seed) = body.split_at(POLY_BYTES);
        let c0 = take_poly(he, poly).map_err(Error::MalformedCiphertext)?;
        Ok(Self { c0, seed: seed_of(seed).map_err(Error::MalformedCiphertext)? })
    }
}

impl MatCiphertext {
    /// Serialised size in bytes.
    pub const BYTES: usize = 1 + 2 * POLY_BYTES;

    /// `tag | c0 | c1`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::BYTES);
        out.push(TAG_FULL);
        put_poly(&mut out, &self.c0);
        put_poly(&mut out, &self.c1);
        out
    }

    /// Decodes an evaluated ciphertext for `he`.
    pub fn from_bytes(he: &MatrixHe, bytes: &[u8]) -> Result<Self, Error> {
        let body =
            split_tagged(bytes, TAG_FULL, Self::BYTES - 1).map_err(Error::MalformedCiphertext)?;
        let (a, b) = body.split_at(POLY_BYTES);
        Ok(Self {
            c0: take_poly(he, a).map_err(Error::MalformedCiphertext)?,
            c1: take_poly(he, b).map_err(Error::MalformedCiphertext)?,
        })
    }
}
