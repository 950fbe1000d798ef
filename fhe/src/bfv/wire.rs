//! Byte formats for BFV ciphertexts and public keys.
//!
//! Words are bit-packed at `⌈log2 q_i⌉` bits per limb (54 for the named sets). A fresh symmetric
//! ciphertext ships the 32-byte seed of its uniform half instead of that half. Decoding checks
//! magic, parameter id, exact length and that every word is below its prime, so malformed bytes
//! give [`Error::MalformedCiphertext`] or [`Error::MalformedKey`], never a panic.
//!
//! ```text
//! ciphertext: "TBC1" | param id u8 | kind u8 (0 full, 1 seeded) | limbs u8 | c0 | (c1 | seed)
//! public key: "TBK1" | param id u8 | 0 u8 | limbs u8 | p0 | seed of p1
//! Galois key: "TBG1" | param id u8 | 0 u8 | limbs u8 | element u32 LE | L digits of b (NTT
//!             form, L limbs each) | L seeds of a
//! ```

use super::galois::BfvGaloisKey;
use super::params::BfvParameters;
use super::sample::uniform_from_seed;
use super::scheme::{Bfv, BfvCiphertext, BfvPublicKey};
use crate::Error;

const CT_MAGIC: &[u8; 4] = b"TBC1";
const PK_MAGIC: &[u8; 4] = b"TBK1";
const GK_MAGIC: &[u8; 4] = b"TBG1";
const HEADER: usize = 7;

fn limb_bits(q: u64) -> u32 {
    64 - (q - 1).leading_zeros()
}

/// Bytes of `L × N` packed words.
fn packed_len(params: &BfvParameters) -> usize {
    params.moduli.iter().map(|&q| (limb_bits(q) as usize * params.n).div_ceil(8)).sum()
}

fn pack(words: &[u64], params: &BfvParameters, out: &mut Vec<u8>) {
    for (row, &q) in words.chunks(params.n).zip(&params.moduli) {
        let bits = limb_bits(q);
        let (mut acc, mut filled) = (0u128, 0u32);
        for &w in row {
            acc |= u128::from(w) << filled;
            filled += bits;
            while filled >= 8 {
                out.push(acc as u8);
                acc >>= 8;
                filled -= 8;
            }
        }
        if filled > 0 {
            out.push(acc as u8);
        }
    }
}

/// Unpacks `L × N` words from the front of `bytes`, checking each is below its prime.
fn unpack<'a>(
    bytes: &'a [u8],
    params: &BfvParameters,
    limbs: usize,
    bad: Error,
) -> Result<(Vec<u64>, &'a [u8]), Error> {
    let moduli = params.moduli.get(..limbs).ok_or_else(|| bad.clone())?;
    let mut words = Vec::with_capacity(params.n * limbs);
    let mut rest = bytes;
    for &q in moduli {
        let bits = limb_bits(q);
        let len = (bits as usize * params.n).div_ceil(8);
        let (limb, tail) = rest.split_at_checked(len).ok_or_else(|| bad.clone())?;
        rest = tail;
        let mask = (1u128 << bits) - 1;
        let (mut acc, mut filled) = (0u128, 0u32);
        let mut it = limb.iter();
        for _ in 0..params.n {
            while filled < bits {
                let b = it.next().ok_or_else(|| bad.clone())?;
                acc |= u128::from(*b) << filled;
                filled += 8;
            }
            let w = (acc & mask) as u64;
            if w >= q {
                return Err(bad);
            }
            words.push(w);
            acc >>= bits;
            filled -= bits;
        }
        // Padding bits of the last byte must be zero, so each ciphertext has one encoding.
        if acc != 0 {
            return Err(bad);
        }
    }
    Ok((words, rest))
}

impl Bfv {
    /// Bytes [`Bfv::ciphertext_to_bytes`] produces for `ct`, without serialising it.
    pub fn ciphertext_len(&self, ct: &BfvCiphertext) -> Result<usize, Error> {
        let limbs = self.check_shape(ct)?;
        let p = self.params();
        let one: usize =
            p.moduli[..limbs].iter().map(|&q| (limb_bits(q) as usize * p.n).div_ceil(8)).sum();
        Ok(HEADER + one + if ct.seed.is_some() && limbs == p.moduli.len() { 32 } else { one })
    }

    /// Serialises a ciphertext; a fresh symmetric one is sent with its seed.
    pub fn ciphertext_to_bytes(&self, ct: &BfvCiphertext) -> Result<Vec<u8>, Error> {
        let limbs = self.check_shape(ct)?;
        let p = self.params();
        let mut out = Vec::with_capacity(HEADER + 2 * packed_len(p));
        out.extend_from_slice(CT_MAGIC);
        out.push(p.id as u8);
        match &ct.seed {
            Some(seed) if limbs == p.moduli.len() => {
                out.push(1);
                out.push(limbs as u8);
                pack(&ct.c0, p, &mut out);
                out.extend_from_slice(seed);
            }
            _ => {
                out.push(0);
                out.push(limbs as u8);
                pack(&ct.c0, p, &mut out);
                pack(&ct.c1, p, &mut out);
            }
        }
        Ok(out)
    }

    /// Parses a ciphertext for this instance's parameters.
    pub fn ciphertext_from_bytes(&self, bytes: &[u8]) -> Result<BfvCiphertext, Error> {
        let bad = Error::MalformedCiphertext("BFV ciphertext bytes");
        let p = self.params();
        let (head, body) = bytes.split_at_checked(HEADER).ok_or_else(|| bad.clone())?;
        if &head[..4] != CT_MAGIC || head[4] != p.id as u8 {
            return Err(Error::MalformedCiphertext("magic or parameter id"));
        }
        let limbs = usize::from(head[6]);
        if limbs == 0 || limbs > p.moduli.len() {
            return Err(Error::MalformedCiphertext("limb count"));
        }
        let (c0, rest) = unpack(body, p, limbs, bad.clone())?;
        match head[5] {
            0 => {
                let (c1, rest) = unpack(rest, p, limbs, bad.clone())?;
                if !rest.is_empty() {
                    return Err(bad);
                }
                Ok(BfvCiphertext { c0, c1, seed: None })
            }
            1 if limbs == p.moduli.len() => {
                let seed: [u8; 32] = rest.try_into().map_err(|_| bad)?;
                let c1 = uniform_from_seed(&seed, p.n, &p.moduli);
                Ok(BfvCiphertext { c0, c1, seed: Some(seed) })
            }
            _ => Err(bad),
        }
    }

    /// Serialises a public key (`p0` packed, `p1` as its seed).
    pub fn public_key_to_bytes(&self, pk: &BfvPublicKey) -> Vec<u8> {
        let p = self.params();
        let mut out = Vec::with_capacity(HEADER + packed_len(p) + 32);
        out.extend_from_slice(PK_MAGIC);
        out.push(p.id as u8);
        out.push(0);
        out.push(p.moduli.len() as u8);
        pack(&pk.p0, p, &mut out);
        out.extend_from_slice(&pk.seed);
        out
    }

    /// Parses a public key for this instance's parameters.
    pub fn public_key_from_bytes(&self, bytes: &[u8]) -> Result<BfvPublicKey, Error> {
        let bad = Error::MalformedKey("BFV public key bytes");
        let p = self.params();
        let (head, body) = bytes.split_at_checked(HEADER).ok_or_else(|| bad.clone())?;
        if &head[..4] != PK_MAGIC
            || head[4] != p.id as u8
            || head[5] != 0
            || usize::from(head[6]) != p.moduli.len()
        {
            return Err(Error::MalformedKey("magic, parameter id or limb count"));
        }
        let (p0, rest) = unpack(body, p, p.moduli.len(), bad.clone())?;
        let seed: [u8; 32] = rest.try_into().map_err(|_| bad)?;
        self.public_key_from_parts(p0, seed)
    }

    /// Serialises a Galois key: its `b` rows packed and the seeds of its `a` rows (about half
    /// the size of the full key).
    pub fn galois_key_to_bytes(&self, gk: &BfvGaloisKey) -> Vec<u8> {
        let p = self.params();
        let l = p.moduli.len();
        let mut out = Vec::with_capacity(HEADER + 4 + l * packed_len(p) + 32 * l);
        out.extend_from_slice(GK_MAGIC);
        out.push(p.id as u8);
        out.push(0);
        out.push(l as u8);
        out.extend_from_slice(&(gk.element as u32).to_le_bytes());
        for digit in gk.key.b_ntt.chunks(l * p.n) {
            pack(digit, p, &mut out);
        }
        for seed in &gk.key.seeds {
            out.extend_from_slice(seed);
        }
        out
    }

    /// Parses a Galois key for this instance's parameters (strict: exact length, words below
    /// their primes, an odd element below `2N`).
    pub fn galois_key_from_bytes(&self, bytes: &[u8]) -> Result<BfvGaloisKey, Error> {
        let bad = Error::MalformedKey("BFV Galois key bytes");
        let p = self.params();
        let l = p.moduli.len();
        let (head, body) = bytes.split_at_checked(HEADER + 4).ok_or_else(|| bad.clone())?;
        if &head[..4] != GK_MAGIC
            || head[4] != p.id as u8
            || head[5] != 0
            || usize::from(head[6]) != l
        {
            return Err(Error::MalformedKey("magic, parameter id or limb count"));
        }
        let element = u32::from_le_bytes([head[7], head[8], head[9], head[10]]) as usize;
        if element.is_multiple_of(2) || element >= 2 * p.n {
            return Err(Error::MalformedKey("Galois element"));
        }
        let mut rest = body;
        let mut b_ntt = Vec::with_capacity(l * l * p.n);
        for _ in 0..l {
            let (words, tail) = unpack(rest, p, l, bad.clone())?;
            b_ntt.extend(words);
            rest = tail;
        }
        if rest.len() != 32 * l {
            return Err(bad);
        }
        let seeds = rest.chunks_exact(32).map(|c| c.try_into().unwrap_or([0u8; 32])).collect();
        Ok(BfvGaloisKey { element, key: self.switching_key_from_parts(b_ntt, seeds)? })
    }
}
