//! Keys, encryption, the evaluator's flooded multiply-accumulate and decryption.
//!
//! Messages sit in the low bits (BGV form, Brakerski–Gentry–Vaikuntanathan, ITCS 2012, §3):
//! `c0 + c1·s = m + t·e (mod q)`. Only the key owner encrypts (secret-key encryption, `c1`
//! expanded from a 32-byte seed, so an upload carries `c0` and the seed); the evaluator multiplies
//! by its own plaintext polynomials, adds a mask and re-randomises with a flooded encryption of
//! zero under the owner's public key, so what it returns hides its plaintexts statistically
//! (Gentry's noise flooding, STOC 2009, §21; the bound is in [`super::params`]).

use std::sync::Arc;

use rand_core::{CryptoRng, RngCore};
use tessera_accelerator::{Accelerator, Backend, Modulus, ntt_primes};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::arith::Garner;
use super::params::{
    FLOOD_BITS, LIMBS, MAX_RETURNS_LOG2, MAX_TERMS, PLAINTEXT_MODULUS as T, PRIME_BITS,
    RING_DEGREE as N,
};
use crate::Error;
use crate::bfv::sample::{cbd, ternary, to_rns, uniform_from_seed};

/// The matrix-product scheme on one accelerator. See [`super`].
#[derive(Debug)]
pub struct MatrixHe {
    acc: Arc<Accelerator>,
    qs: Vec<u64>,
    moduli: Vec<Modulus>,
    /// `t mod q_i`.
    t_mod_q: Vec<u64>,
    /// `2^FLOOD_BITS mod q_i`.
    flood_offset: Vec<u64>,
    garner: Garner,
}

/// The key owner's secret: ternary `s` and its NTT form.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MatSecretKey {
    s: Vec<i8>,
    s_ntt: Vec<u64>,
}

impl std::fmt::Debug for MatSecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MatSecretKey(..)")
    }
}

/// A public key `(p0, p1) = (−p1·s + t·e, p1)`, `p1` expanded from `seed`; the evaluator's copy
/// counts the ciphertexts returned under it (the flooding bound covers [`MAX_RETURNS_LOG2`]).
#[derive(Clone, Debug)]
pub struct MatPublicKey {
    pub(crate) p0: Vec<u64>,
    pub(crate) seed: [u8; 32],
    /// `[p0 | p1]` in NTT form.
    ntt: Vec<u64>,
    returns: u64,
}

/// A fresh encryption as uploaded: `c0` and the seed of `c1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeededCiphertext {
    pub(crate) c0: Vec<u64>,
    pub(crate) seed: [u8; 32],
}

/// An evaluated ciphertext `(c0, c1)`, as returned to the key owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatCiphertext {
    pub(crate) c0: Vec<u64>,
    pub(crate) c1: Vec<u64>,
}

/// An uploaded ciphertext transformed once for many products.
#[derive(Clone, Debug)]
pub struct PreparedCiphertext {
    ntt: Vec<u64>,
}

/// A plaintext polynomial lifted (centred) into every limb and transformed.
#[derive(Clone, Debug)]
pub struct PreparedPlain {
    ntt: Vec<u64>,
}

impl MatrixHe {
    /// The scheme with the parameters of [`super::params`].
    pub fn new(acc: Arc<Accelerator>) -> Result<Self, Error> {
        let qs =
            ntt_primes(PRIME_BITS, N, LIMBS).map_err(|_| Error::InvalidParameters("primes"))?;
        let moduli = qs.iter().map(|&q| Modulus::new(q)).collect::<Result<Vec<_>, _>>()?;
        let t_mod_q = moduli.iter().map(|m| (T % u128::from(m.value())) as u64).collect();
        let flood_offset = moduli
            .iter()
            .map(|m| {
                // 2^FLOOD_BITS mod q by squaring-free doubling.
                let mut x = 1u64;
                for _ in 0..FLOOD_BITS {
                    x = m.add(x, x);
                }
                x
            })
            .collect();
        let garner = Garner::new(&moduli)?;
        Ok(Self { acc, qs, moduli, t_mod_q, flood_offset, garner })
    }

    /// The ring degree `N`.
    pub fn ring_degree(&self) -> usize {
        N
    }

    /// `log₂ q`, rounded up per prime.
    pub fn log_q(&self) -> u32 {
        self.qs.iter().map(|&q| 64 - q.leading_zeros()).sum()
    }

    /// The RNS primes.
    pub fn moduli(&self) -> &[u64] {
        &self.qs
    }

    fn forward(&self, x: &[u64]) -> Result<Vec<u64>, Error> {
        let mut d = self.acc.upload(x)?;
        self.acc.ntt_forward_batch(&mut d, N, &self.qs)?;
        Ok(self.acc.download(&d)?)
    }

    fn inverse(&self, x: &[u64]) -> Result<Vec<u64>, Error> {
        let mut d = self.acc.upload(x)?;
        self.acc.ntt_inverse_batch(&mut d, N, &self.qs)?;
        Ok(self.acc.download(&d)?)
    }

    /// `a ⊙ b` row by row (both in NTT form, `rows·N` words, rows cycling through the primes).
    fn pointwise_mul(&self, a: &[u64], b: &[u64]) -> Result<Vec<u64>, Error> {
        let (da, db) = (self.acc.upload(a)?, self.acc.upload(b)?);
        let mut out = self.acc.zeros(a.len())?;
        self.acc.mul_mod(&mut out, &da, &db, N, &self.qs)?;
        Ok(self.acc.download(&out)?)
    }

    /// Lifts plaintext coefficients (`< t`, at most `N`) centred into every limb.
    fn lift_plain(&self, values: &[u128]) -> Result<Vec<u64>, Error> {
        if values.len() > N || values.iter().any(|&v| v >= T) {
            return Err(Error::PlaintextOutOfRange("matrix plaintext"));
        }
        let mut out = Vec::with_capacity(LIMBS * N);
        for m in &self.moduli {
            let q = u128::from(m.value());
            out.extend((0..N).map(|j| {
                let v = values.get(j).copied().unwrap_or(0);
                if v > T / 2 {
                    let r = ((T - v) % q) as u64;
                    if r == 0 { 0 } else { m.value() - r }
                } else {
                    (v % q) as u64
                }
            }));
        }
        Ok(out)
    }

    /// `out += (t mod q_i)·small` limb-wise.
    fn add_t_times(&self, out: &mut [u64], small: &[u64]) {
        for ((row, add), (m, &tq)) in
            out.chunks_mut(N).zip(small.chunks(N)).zip(self.moduli.iter().zip(&self.t_mod_q))
        {
            for (x, &y) in row.iter_mut().zip(add) {
                *x = m.add(*x, m.mul(tq, y));
            }
        }
    }

    fn add_assign(&self, out: &mut [u64], add: &[u64]) {
        for ((row, a), m) in out.chunks_mut(N).zip(add.chunks(N)).zip(&self.moduli) {
            for (x, &y) in row.iter_mut().zip(a) {
                *x = m.add(*x, y);
            }
        }
    }

    /// A fresh key pair.
    pub fn keygen<R: RngCore + CryptoRng>(
        &self,
        rng: &mut R,
    ) -> Result<(MatPublicKey, MatSecretKey), Error> {
        let s = ternary(N, rng);
        let s_ntt = self.forward(&to_rns(&s, &self.qs))?;
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let p1 = uniform_from_seed(&seed, N, &self.qs);
        let p1_s = self.inverse(&self.pointwise_mul(&s_ntt, &self.forward(&p1)?)?)?;
        let mut p0 = vec![0u64; LIMBS * N];
        for ((row, prod), m) in p0.chunks_mut(N).zip(p1_s.chunks(N)).zip(&self.moduli) {
            for (x, &y) in row.iter_mut().zip(prod) {
                *x = m.sub(0, y);
            }
        }
        self.add_t_times(&mut p0, &to_rns(&cbd(N, rng), &self.qs));
        let pk = self.public_key_from_parts(p0, seed)?;
        Ok((pk, MatSecretKey { s, s_ntt }))
    }

    /// Rebuilds a public key from `p0` and the seed of `p1` (e.g. after decoding).
    pub(crate) fn public_key_from_parts(
        &self,
        p0: Vec<u64>,
        seed: [u8; 32],
    ) -> Result<MatPublicKey, Error> {
        let mut both = p0.clone();
        both.extend(uniform_from_seed(&seed, N, &self.qs));
        let ntt = self.forward(&both)?;
        Ok(MatPublicKey { p0, seed, ntt, returns: 0 })
    }

    /// Secret-key encryption of up to `N` coefficients below `t`: `(−a·s + t·e + m, a)`.
    pub fn encrypt<R: RngCore + CryptoRng>(
        &self,
        sk: &MatSecretKey,
        values: &[u128],
        rng: &mut R,
    ) -> Result<SeededCiphertext, Error> {
        if sk.s_ntt.len() != LIMBS * N {
            return Err(Error::KeyMismatch);
        }
        let m = self.lift_plain(values)?;
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let a = uniform_from_seed(&seed, N, &self.qs);
        let a_s = self.inverse(&self.pointwise_mul(&sk.s_ntt, &self.forward(&a)?)?)?;
        let mut c0 = m;
        for ((row, prod), md) in c0.chunks_mut(N).zip(a_s.chunks(N)).zip(&self.moduli) {
            for (x, &y) in row.iter_mut().zip(prod) {
                *x = md.sub(*x, y);
            }
        }
        self.add_t_times(&mut c0, &to_rns(&cbd(N, rng), &self.qs));
        Ok(SeededCiphertext { c0, seed })
    }

    /// Expands and transforms an uploaded ciphertext once for repeated products.
    pub fn prepare(&self, ct: &SeededCiphertext) -> Result<PreparedCiphertext, Error> {
        if ct.c0.len() != LIMBS * N {
            return Err(Error::MalformedCiphertext("wrong size"));
        }
        let mut both = ct.c0.clone();
        both.extend(uniform_from_seed(&ct.seed, N, &self.qs));
        Ok(PreparedCiphertext { ntt: self.forward(&both)? })
    }

    /// Lifts (centred) and transforms a plaintext polynomial for [`Self::multiply_accumulate`].
    pub fn prepare_plain(&self, values: &[u128]) -> Result<PreparedPlain, Error> {
        Ok(PreparedPlain { ntt: self.forward(&self.lift_plain(values)?)? })
    }

    /// `Σ_i ct_i·p_i + mask`, re-randomised with a flooded encryption of zero under `pk`: what the
    /// owner of `pk` decrypts is `Σ_i m_i·p_i + mask (mod t)` and, up to 2^-64 over all
    /// returns (see [`super::params`]), nothing else about the `p_i`. `mask` has up to `N`
    /// coefficients below `t`; pass uniform ones on every coefficient to hide the unread ones too.
    pub fn multiply_accumulate<R: RngCore + CryptoRng>(
        &self,
        pk: &mut MatPublicKey,
        terms: &[(&PreparedCiphertext, &PreparedPlain)],
        mask: &[u128],
        rng: &mut R,
    ) -> Result<MatCiphertext, Error> {
        if terms.is_empty() || terms.len() > MAX_TERMS {
            return Err(Error::InvalidParameters("1 to MAX_TERMS products per ciphertext"));
        }
        if pk.returns >= 1 << MAX_RETURNS_LOG2 {
            return Err(Error::InvalidParameters("flooding budget of this public key is spent"));
        }
        if pk.ntt.len() != 2 * LIMBS * N
            || terms.iter().any(|(c, p)| c.ntt.len() != 2 * LIMBS * N || p.ntt.len() != LIMBS * N)
        {
            return Err(Error::KeyMismatch);
        }
        pk.returns += 1;
        let half = LIMBS * N;
        let u = to_rns(&ternary(N, rng), &self.qs);
        let u_ntt = self.forward(&u)?;
        // Accumulate in NTT form: [c0 | c1] += ct ⊙ p for each term, then + pk ⊙ u.
        let acc = &self.acc;
        let mut sum = acc.zeros(2 * half)?;
        for (ct, p) in terms {
            let mut pp = p.ntt.clone();
            pp.extend_from_slice(&p.ntt);
            let (dc, dp) = (acc.upload(&ct.ntt)?, acc.upload(&pp)?);
            acc.mul_acc_mod(&mut sum, &dc, &dp, N, &self.qs)?;
        }
        let mut uu = u_ntt.clone();
        uu.extend_from_slice(&u_ntt);
        let (dk, du) = (acc.upload(&pk.ntt)?, acc.upload(&uu)?);
        acc.mul_acc_mod(&mut sum, &dk, &du, N, &self.qs)?;
        acc.ntt_inverse_batch(&mut sum, N, &self.qs)?;
        let mut both = acc.download(&sum)?;
        let mut c1 = both.split_off(half);
        let mut c0 = both;
        self.add_t_times(&mut c1, &to_rns(&cbd(N, rng), &self.qs));
        let flood = self.flood(rng);
        self.add_t_times(&mut c0, &flood);
        self.add_assign(&mut c0, &self.lift_plain_unsigned(mask)?);
        Ok(MatCiphertext { c0, c1 })
    }

    /// The mask as plain residues (`[0, t)` taken as is: it is uniform, its sign is irrelevant).
    fn lift_plain_unsigned(&self, values: &[u128]) -> Result<Vec<u64>, Error> {
        if values.len() > N || values.iter().any(|&v| v >= T) {
            return Err(Error::PlaintextOutOfRange("mask"));
        }
        let mut out = Vec::with_capacity(LIMBS * N);
        for m in &self.moduli {
            let q = u128::from(m.value());
            out.extend((0..N).map(|j| (values.get(j).copied().unwrap_or(0) % q) as u64));
        }
        Ok(out)
    }

    /// `N` coefficients uniform on `[−2^FLOOD_BITS, 2^FLOOD_BITS)`, as residues.
    fn flood<R: RngCore + CryptoRng>(&self, rng: &mut R) -> Vec<u64> {
        let words = (FLOOD_BITS as usize + 1).div_ceil(64);
        let top_bits = (FLOOD_BITS + 1) as usize - 64 * (words - 1);
        let top_mask = if top_bits == 64 { u64::MAX } else { (1u64 << top_bits) - 1 };
        let mut draws = vec![0u64; N * words];
        for d in draws.chunks_mut(words) {
            for w in d.iter_mut() {
                *w = rng.next_u64();
            }
            if let Some(top) = d.last_mut() {
                *top &= top_mask;
            }
        }
        let mut out = Vec::with_capacity(LIMBS * N);
        for (m, &off) in self.moduli.iter().zip(&self.flood_offset) {
            out.extend(draws.chunks(words).map(|d| {
                let mut r = 0u64;
                for &w in d.iter().rev() {
                    r = m.reduce_u128((u128::from(r) << 64) | u128::from(w));
                }
                m.sub(r, off)
            }));
        }
        draws.zeroize();
        out
    }

    /// Decrypts all `N` coefficients (values in `[0, t)`).
    pub fn decrypt(&self, sk: &MatSecretKey, ct: &MatCiphertext) -> Result<Vec<u128>, Error> {
        if sk.s_ntt.len() != LIMBS * N {
            return Err(Error::KeyMismatch);
        }
        if ct.c0.len() != LIMBS * N || ct.c1.len() != LIMBS * N {
            return Err(Error::MalformedCiphertext("wrong size"));
        }
        let c1s = self.inverse(&self.pointwise_mul(&sk.s_ntt, &self.forward(&ct.c1)?)?)?;
        let mut x = ct.c0.clone();
        self.add_assign(&mut x, &c1s);
        let mut residues = vec![0u64; LIMBS];
        Ok((0..N)
            .map(|j| {
                for (i, r) in residues.iter_mut().enumerate() {
                    *r = x[i * N + j];
                }
                self.garner.centred_mod_t(&self.moduli, &residues)
            })
            .collect())
    }

    /// Decrypts a fresh upload (tests and the owner's own checks).
    pub fn decrypt_seeded(
        &self,
        sk: &MatSecretKey,
        ct: &SeededCiphertext,
    ) -> Result<Vec<u128>, Error> {
        let c1 = uniform_from_seed(&ct.seed, N, &self.qs);
        self.decrypt(sk, &MatCiphertext { c0: ct.c0.clone(), c1 })
    }
}
