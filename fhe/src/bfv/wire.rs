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
        pack_row(row, limb_bits(q), out);
    }
}

/// Appends `row` at `bits` bits per word, little-endian, the last byte zero-padded.
fn pack_row(row: &[u64], bits: u32, out: &mut Vec<u8>) {
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

/// Reads `count` words of `bits` bits from the front of `bytes`, each below `bound`, and
/// returns them with the remaining bytes; padding bits must be zero (one encoding per value).
fn unpack_row<'a>(
    bytes: &'a [u8],
    count: usize,
    bits: u32,
    bound: u64,
    bad: &Error,
) -> Result<(Vec<u64>, &'a [u8]), Error> {
    let len = (bits as usize * count).div_ceil(8);
    let (limb, rest) = bytes.split_at_checked(len).ok_or_else(|| bad.clone())?;
    let mask = (1u128 << bits) - 1;
    let (mut acc, mut filled) = (0u128, 0u32);
    let mut it = limb.iter();
    let mut words = Vec::with_capacity(count);
    for _ in 0..count {
        while filled < bits {
            let b = it.next().ok_or_else(|| bad.clone())?;
            acc |= u128::from(*b) << filled;
            filled += 8;
        }
        let w = (acc & mask) as u64;
        if w >= bound {
            return Err(bad.clone());
        }
        words.push(w);
        acc >>= bits;
        filled -= bits;
    }
    if acc != 0 {
        return Err(bad.clone());
    }
    Ok((words, rest))
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
        let (row, tail) = unpack_row(rest, params.n, limb_bits(q), q, &bad)?;
        words.extend(row);
        rest = tail;
    }
    Ok((words, rest))
}

/// Bits per coefficient of a compressed one-limb ciphertext: `(c0, c1)`. `c0`'s rounding error
/// enters the decryption as is, `c1`'s multiplied by the ternary secret (a factor of about
/// `6·√(2N)/3 ≈ 180` at `N = 4096`, with six standard deviations of margin), so `c1` keeps six
/// more bits; either error stays below `Δ/16` for `Δ = q₀/t`.
fn compressed_bits(params: &BfvParameters) -> (u32, u32) {
    let t_bits = 64 - params.plaintext_modulus.leading_zeros();
    let q_bits = limb_bits(params.moduli[0]);
    ((t_bits + 4).min(q_bits), (t_bits + 10).min(q_bits))
}

/// `round(x · 2^bits / q)`, wrapping `2^bits` to 0.
fn compress_word(x: u64, q: u64, bits: u32) -> u64 {
    let scaled = ((u128::from(x) << bits) + u128::from(q / 2)) / u128::from(q);
    (scaled & ((1u128 << bits) - 1)) as u64
}

/// `round(y · q / 2^bits)`, wrapping `q` to 0.
fn decompress_word(y: u64, q: u64, bits: u32) -> u64 {
    let x = ((u128::from(y) * u128::from(q)) + (1u128 << (bits - 1))) >> bits;
    (x % u128::from(q)) as u64
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

    /// Serialises a one-limb ciphertext (after [`Bfv::mod_switch_down`] to the last level)
    /// with every coefficient rounded to fewer bits than `q₀` has: `⌈log2 t⌉ + 4` for `c0`
    /// and `⌈log2 t⌉ + 10` for `c1` (34 and 40 of 54 at `t ≈ 2^30`, saving 31 %). The
    /// rounding adds about `Δ/8` to the decryption noise (see `compressed_bits`), the
    /// ciphertext compression of Kyber (Bos et al., EuroS&P 2018, §2) applied to BFV. It is
    /// lossy: use it for ciphertexts that will only be decrypted.
    ///
    /// ```text
    /// "TBC1" | param id u8 | kind 2 | limbs 1 | c0 at b0 bits | c1 at b1 bits
    /// ```
    pub fn ciphertext_to_compressed_bytes(&self, ct: &BfvCiphertext) -> Result<Vec<u8>, Error> {
        if self.check_shape(ct)? != 1 {
            return Err(Error::InvalidParameters("compress only one-limb ciphertexts"));
        }
        let p = self.params();
        let q = p.moduli[0];
        let (b0, b1) = compressed_bits(p);
        let mut out = Vec::with_capacity(HEADER + (b0 + b1) as usize * p.n / 8 + 2);
        out.extend_from_slice(CT_MAGIC);
        out.extend_from_slice(&[p.id as u8, 2, 1]);
        let c0: Vec<u64> = ct.c0.iter().map(|&x| compress_word(x, q, b0)).collect();
        let c1: Vec<u64> = ct.c1.iter().map(|&x| compress_word(x, q, b1)).collect();
        pack_row(&c0, b0, &mut out);
        pack_row(&c1, b1, &mut out);
        Ok(out)
    }

    /// Bytes [`Bfv::ciphertext_to_compressed_bytes`] produces.
    pub fn compressed_ciphertext_len(&self) -> usize {
        let p = self.params();
        let (b0, b1) = compressed_bits(p);
        HEADER + (b0 as usize * p.n).div_ceil(8) + (b1 as usize * p.n).div_ceil(8)
    }

    /// Parses [`Bfv::ciphertext_to_compressed_bytes`] back into a one-limb ciphertext (each
    /// coefficient scaled back to `q₀`), refusing any other length, header or padding.
    pub fn compressed_ciphertext_from_bytes(&self, bytes: &[u8]) -> Result<BfvCiphertext, Error> {
        let bad = Error::MalformedCiphertext("compressed BFV ciphertext bytes");
        let p = self.params();
        let (head, body) = bytes.split_at_checked(HEADER).ok_or_else(|| bad.clone())?;
        if &head[..4] != CT_MAGIC || head[4] != p.id as u8 || head[5] != 2 || head[6] != 1 {
            return Err(Error::MalformedCiphertext("magic, parameter id or kind"));
        }
        let q = p.moduli[0];
        let (b0, b1) = compressed_bits(p);
        let (c0, rest) = unpack_row(body, p.n, b0, 1 << b0, &bad)?;
        let (c1, rest) = unpack_row(rest, p.n, b1, 1 << b1, &bad)?;
        if !rest.is_empty() {
            return Err(bad);
        }
        Ok(BfvCiphertext {
            c0: c0.into_iter().map(|y| decompress_word(y, q, b0)).collect(),
            c1: c1.into_iter().map(|y| decompress_word(y, q, b1)).collect(),
            seed: None,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_error_is_half_a_step_of_the_small_grid() {
        let q = (1u64 << 54) - 33;
        for bits in [34u32, 40] {
            let step = q as f64 / f64::from(1u32 << (bits - 20)) / f64::from(1u32 << 20);
            for x in [0, 1, q / 3, q / 2, q / 2 + 1, q - 2, q - 1] {
                let y = compress_word(x, q, bits);
                assert!(y < 1 << bits);
                let back = decompress_word(y, q, bits);
                assert!(back < q);
                // Centred distance on the circle Z_q.
                let d = back.abs_diff(x).min(q - back.abs_diff(x));
                assert!(d as f64 <= step / 2.0 + 1.0, "x {x}, {bits} bits: off by {d}");
            }
        }
    }
}
