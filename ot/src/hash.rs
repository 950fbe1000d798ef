//! Fixed-key-AES hashing and keyed AES-CTR streams.
//!
//! Follows Guo, Katz, Wang and Yu, "Efficient and Secure Multiparty Computation from Fixed-Key
//! Block Ciphers" (IEEE S&P 2020), §7 (hash functions from a random permutation π, here AES-128
//! under a fixed public key):
//!
//! - `crh(x) = π(x) ⊕ x`: collision resistant / correlation robust (§7.1, Theorem 7.3);
//! - `ccr(x) = π(σ(x)) ⊕ σ(x)` with the linear orthomorphism σ(xL‖xR) = (xL ⊕ xR)‖xL: circular
//!   correlation robust (§7.2, Theorem 7.4);
//! - `tccr(i, x) = π(π(x) ⊕ i) ⊕ π(x)`: tweakable circular correlation robust (§7.3, Theorem 7.5).
//!
//! OT extension hashes rows `q_i` and `q_i ⊕ Δ` that are correlated through the global Δ, and a
//! malicious receiver may choose the rows it knows; [`tccr`] with a tweak unique to each OT is the
//! hash GKWY prove sufficient for that (§7.3: κ-bit security against 2^κ/q queries).
//!
//! `AesCtr` (crate-internal) is the keyed PRG that expands OT-extension seeds into columns.
//!
//! Tweaks: each extension `Sender`/`Receiver` hashes its random and chosen OTs with tweaks
//! 0, 1, 2, … (one per OT, counted across calls). Code that hashes *correlated* outputs of the
//! same instance itself must use a disjoint tweak range (e.g. with bit 127 set), or the same
//! (tweak, row) pair could be hashed twice.

use std::sync::OnceLock;

use aes::Aes128;
use aes::cipher::array::Array;
use aes::cipher::{BlockCipherEncrypt, KeyInit};

/// The fixed public AES key of π: the first 128 bits of the fractional part of π.
const FIXED_KEY: [u8; 16] = 0x243F_6A88_85A3_08D3_1319_8A2E_0370_7344u128.to_le_bytes();

fn fixed_aes() -> &'static Aes128 {
    static CIPHER: OnceLock<Aes128> = OnceLock::new();
    CIPHER.get_or_init(|| Aes128::new(&FIXED_KEY.into()))
}

/// Blocks processed per AES call: enough for the cipher's 8-way pipelining, small enough to
/// stay on the stack.
const BATCH: usize = 64;

/// Applies π to every block of `buf` in place.
fn permute(buf: &mut [[u8; 16]]) {
    fixed_aes().encrypt_blocks(Array::cast_slice_from_core_mut(buf));
}

/// The fixed-key permutation π (AES-128 under the public key).
pub fn pi(x: u128) -> u128 {
    let mut b = [x.to_le_bytes()];
    permute(&mut b);
    u128::from_le_bytes(b[0])
}

/// `crh(x) = π(x) ⊕ x` (GKWY §7.1).
pub fn crh(x: u128) -> u128 {
    pi(x) ^ x
}

/// The linear orthomorphism σ(xL‖xR) = (xL ⊕ xR)‖xL of GKWY §7.2 on 64-bit halves.
#[inline]
pub fn sigma(x: u128) -> u128 {
    let hi = x >> 64;
    let lo = x & u128::from(u64::MAX);
    ((hi ^ lo) << 64) | hi
}

/// `ccr(x) = π(σ(x)) ⊕ σ(x)` (GKWY §7.2).
pub fn ccr(x: u128) -> u128 {
    crh(sigma(x))
}

/// `tccr(i, x) = π(π(x) ⊕ i) ⊕ π(x)` (GKWY §7.3).
pub fn tccr(tweak: u128, x: u128) -> u128 {
    let px = pi(x);
    pi(px ^ tweak) ^ px
}

/// `out[i] = tccr(first_tweak + i, xs[i] ⊕ offset)` for every `i`, batched for AES pipelining.
pub fn tccr_batch(first_tweak: u128, offset: u128, xs: &[u128], out: &mut [u128]) {
    let mut a = [[0u8; 16]; BATCH];
    let mut b = [[0u8; 16]; BATCH];
    for (c, (xs, out)) in xs.chunks(BATCH).zip(out.chunks_mut(BATCH)).enumerate() {
        let n = xs.len();
        for (ai, x) in a.iter_mut().zip(xs) {
            *ai = (x ^ offset).to_le_bytes();
        }
        permute(&mut a[..n]);
        let base = first_tweak.wrapping_add((c * BATCH) as u128);
        for (i, (bi, ai)) in b.iter_mut().zip(&a[..n]).enumerate() {
            *bi = (u128::from_le_bytes(*ai) ^ base.wrapping_add(i as u128)).to_le_bytes();
        }
        permute(&mut b[..n]);
        for ((o, ai), bi) in out.iter_mut().zip(&a[..n]).zip(&b[..n]) {
            *o = u128::from_le_bytes(*ai) ^ u128::from_le_bytes(*bi);
        }
    }
}

/// AES-128 in counter mode under a secret seed: the column PRG of OT extension.
pub(crate) struct AesCtr {
    cipher: Aes128,
    counter: u64,
}

impl AesCtr {
    /// A stream keyed by `seed`.
    pub(crate) fn new(seed: u128) -> Self {
        Self { cipher: Aes128::new(&seed.to_le_bytes().into()), counter: 0 }
    }

    /// Overwrites `out` (a multiple of 16 bytes) with the next keystream bytes.
    pub(crate) fn fill(&mut self, out: &mut [u8]) {
        let (blocks, rest) = out.as_chunks_mut::<16>();
        debug_assert!(rest.is_empty());
        for b in blocks.iter_mut() {
            *b = u128::from(self.counter).to_le_bytes();
            self.counter += 1;
        }
        self.cipher.encrypt_blocks(Array::cast_slice_from_core_mut(blocks));
    }

    /// The two children of a GGM tree node keyed by this stream's seed.
    pub(crate) fn expand2(seed: u128) -> (u128, u128) {
        let mut buf = [[0u8; 16]; 2];
        let mut g = Self::new(seed);
        g.fill(buf.as_flattened_mut());
        (u128::from_le_bytes(buf[0]), u128::from_le_bytes(buf[1]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_key_is_aes_of_the_public_key() {
        // Recompute π(0) with an independently keyed AES instance.
        let mut blk = Array::from([0u8; 16]);
        Aes128::new(&FIXED_KEY.into()).encrypt_block(&mut blk);
        assert_eq!(pi(0), u128::from_le_bytes(blk.into()));
    }

    #[test]
    fn batch_matches_single_calls() {
        let xs: Vec<u128> = (0..200u128).map(|i| i * 0x9E37_79B9_7F4A_7C15 + 7).collect();
        let mut out = vec![0u128; xs.len()];
        tccr_batch(1000, 0xABCD, &xs, &mut out);
        for (i, x) in xs.iter().enumerate() {
            assert_eq!(out[i], tccr(1000 + i as u128, x ^ 0xABCD));
        }
    }

    #[test]
    fn tweak_and_input_both_matter() {
        assert_ne!(tccr(1, 5), tccr(2, 5));
        assert_ne!(tccr(1, 5), tccr(1, 6));
        assert_ne!(ccr(5), crh(5));
        assert_eq!(sigma(sigma(sigma(1u128 << 70))), 1u128 << 70);
    }

    #[test]
    fn ctr_streams_continue_and_differ_by_key() {
        let mut g = AesCtr::new(1);
        let mut a = [0u8; 64];
        g.fill(&mut a);
        let mut b = [0u8; 32];
        let mut h = AesCtr::new(1);
        h.fill(&mut b);
        assert_eq!(a[..32], b);
        h.fill(&mut b);
        assert_eq!(a[32..], b);
        let mut c = [0u8; 32];
        AesCtr::new(2).fill(&mut c);
        assert_ne!(a[..32], c);
    }
}
