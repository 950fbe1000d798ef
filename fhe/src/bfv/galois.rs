//! Slot rotations: the Galois automorphisms `τ_k: X ↦ X^k` followed by key switching from
//! `τ_k(s)` back to `s` (Gentry–Halevi–Smart, "Homomorphic Evaluation of the AES Circuit",
//! CRYPTO 2012, §4.1; the slot layout of [`super::encoding`] makes `k = 3^r` rotate each of the
//! two rows of `N/2` slots left by `r`, and `k = 2N - 1` swap the rows). Same security as
//! [`super`], with the circular-security assumption every key-switching key carries.

use rand_core::{CryptoRng, RngCore};

use super::mul::SwitchingKey;
use super::sample::to_rns;
use super::scheme::{Bfv, BfvCiphertext, BfvSecretKey};
use crate::Error;

/// A Galois key for one automorphism `X ↦ X^k`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BfvGaloisKey {
    pub(super) element: usize,
    pub(super) key: SwitchingKey,
}

impl BfvGaloisKey {
    /// The Galois element `k`.
    pub fn element(&self) -> usize {
        self.element
    }
}

impl Bfv {
    /// The Galois element rotating rows left by `steps` (negative: right).
    pub fn rotation_element(&self, steps: i64) -> usize {
        let n = self.params().n;
        let two_n = 2 * n as u64;
        let half = (n / 2) as i64;
        let r = steps.rem_euclid(half) as u64;
        let mut k = 1u64;
        for _ in 0..r {
            k = k * 3 % two_n;
        }
        k as usize
    }

    /// `p(X) ↦ p(X^k) mod X^N + 1`, limb by limb (`k` odd).
    pub(super) fn automorphism(&self, poly: &[u64], k: usize) -> Vec<u64> {
        let n = self.params().n;
        let mut out = vec![0u64; poly.len()];
        for ((src, dst), m) in poly.chunks(n).zip(out.chunks_mut(n)).zip(self.moduli()) {
            for (i, &c) in src.iter().enumerate() {
                let idx = i * k % (2 * n);
                if idx < n {
                    dst[idx] = c;
                } else {
                    dst[idx - n] = m.sub(0, c);
                }
            }
        }
        out
    }

    /// Samples the key for `X ↦ X^element` (`element` odd, below `2N`).
    pub fn galois_keygen<R: RngCore + CryptoRng>(
        &self,
        sk: &BfvSecretKey,
        element: usize,
        rng: &mut R,
    ) -> Result<BfvGaloisKey, Error> {
        if element.is_multiple_of(2) || element >= 2 * self.params().n {
            return Err(Error::InvalidParameters("Galois element must be odd and below 2N"));
        }
        let s = to_rns(self.secret_coeffs(sk), &self.params().moduli);
        let tau_s = self.automorphism(&s, element);
        Ok(BfvGaloisKey { element, key: self.switching_key(sk, &tau_s, rng)? })
    }

    /// Applies the automorphism of `gk` to the plaintext of `ct`: for slot-packed values with
    /// a key for [`Bfv::rotation_element`]`(r)`, rotates both rows left by `r`; for the
    /// element `2N - 1`, swaps the rows. Needs a top-level ciphertext.
    pub fn apply_galois(
        &self,
        ct: &BfvCiphertext,
        gk: &BfvGaloisKey,
    ) -> Result<BfvCiphertext, Error> {
        if self.level(ct)? != self.params().moduli.len() {
            return Err(Error::LevelMismatch);
        }
        let c0 = self.automorphism(&ct.c0, gk.element);
        let c1 = self.automorphism(&ct.c1, gk.element);
        let (k0, k1) = self.key_switch(&c1, &gk.key)?;
        let mut c0 = c0;
        self.add_assign_words(&mut c0, &k0);
        Ok(BfvCiphertext { c0, c1: k1, seed: None })
    }
}
