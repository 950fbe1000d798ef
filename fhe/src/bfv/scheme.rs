//! BFV key generation, encryption, decryption and the additive operations, with every
//! polynomial product done as a batched NTT on the [`Accelerator`].
//!
//! Follows Fan–Vercauteren, "Somewhat Practical Fully Homomorphic Encryption", ePrint 2012/144,
//! §3 (`SecretKeyGen`, `PublicKeyGen`, `Encrypt`, `Decrypt`, `Add`), in the RNS form of
//! Halevi–Polyakov–Shoup, "An Improved RNS Variant of the BFV Scheme", CT-RSA 2019, §3.1 for
//! decryption (`⌈t·x/q⌋ mod t` from the residues with fixed-point fractions, no big integers).
//! Security: IND-CPA under RLWE with the parameters of [`super::params`] (128-bit classical per
//! the HE standard); no circuit privacy beyond fresh noise and no integrity: semi-honest use.

use std::sync::{Arc, OnceLock};

use num_bigint_dig::BigUint;
use num_traits::ToPrimitive;
use rand_core::{CryptoRng, RngCore};
use tessera_accelerator::{Accelerator, Backend, Modulus, mul_shoup, shoup};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::mul::MulContext;
use super::params::BfvParameters;
use super::sample::{cbd, ternary, to_rns, uniform_from_seed};
use crate::Error;

/// A BFV instance: parameters, precomputed RNS constants and the accelerator it runs on.
#[derive(Debug)]
pub struct Bfv {
    params: BfvParameters,
    acc: Arc<Accelerator>,
    moduli: Vec<Modulus>,
    /// `⌊q/t⌋ mod q_i`.
    delta: Vec<u64>,
    /// Decryption constants per level: entry `l - 1` serves ciphertexts with `l` limbs.
    levels: Vec<LevelConstants>,
    /// `q_l^{-1} mod q_i` for `i < l`, entry `l - 1` for dropping limb `l - 1`.
    drop_inverse: Vec<Vec<u64>>,
    /// Extended-basis data for ciphertext multiplication, built on first use.
    mul: OnceLock<MulContext>,
}

/// HPS decryption constants for the modulus `q = q_0 ⋯ q_{l-1}` of one level.
#[derive(Debug)]
struct LevelConstants {
    /// `⌊t·q̃_i / q_i⌋ mod t` with `q̃_i = (q/q_i)^{-1} mod q_i`.
    dec_int: Vec<u64>,
    /// `⌊((t·q̃_i) mod q_i) · 2^64 / q_i⌋`: the fractional part in 0.64 fixed point.
    dec_frac: Vec<u64>,
}

impl LevelConstants {
    fn new(moduli: &[Modulus], t: u64) -> Result<Self, Error> {
        let q_big =
            moduli.iter().fold(BigUint::from(1u32), |acc, m| acc * BigUint::from(m.value()));
        let mut dec_int = Vec::new();
        let mut dec_frac = Vec::new();
        for m in moduli {
            let qi = m.value();
            let q_over = (&q_big / BigUint::from(qi)) % BigUint::from(qi);
            let q_over = q_over.to_u64().ok_or(Error::InvalidParameters("residue overflow"))?;
            let q_tilde = m.inv_prime(q_over);
            let t_qt = u128::from(t) * u128::from(q_tilde);
            dec_int.push(((t_qt / u128::from(qi)) % u128::from(t)) as u64);
            let r = (t_qt % u128::from(qi)) as u64;
            dec_frac.push(((u128::from(r) << 64) / u128::from(qi)) as u64);
        }
        Ok(Self { dec_int, dec_frac })
    }
}

/// Secret key: a ternary polynomial (and its NTT form on this instance's accelerator).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct BfvSecretKey {
    s: Vec<i8>,
    s_ntt: Vec<u64>,
}

impl std::fmt::Debug for BfvSecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BfvSecretKey(..)")
    }
}

/// Public key `(p0, p1) = (-(a·s) + e, a)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BfvPublicKey {
    pub(crate) p0: Vec<u64>,
    pub(crate) p1: Vec<u64>,
    /// `p1` is expanded from this seed.
    pub(crate) seed: [u8; 32],
    /// `[p0 | p1]` transformed by the accelerator, reused by every encryption.
    pub(crate) ntt: Vec<u64>,
}

/// A ciphertext `(c0, c1)` in RNS coefficient form (`L × N` words each).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BfvCiphertext {
    pub(crate) c0: Vec<u64>,
    pub(crate) c1: Vec<u64>,
    /// For a fresh symmetric encryption, the seed `c1` was expanded from.
    pub(crate) seed: Option<[u8; 32]>,
}

impl Bfv {
    /// Builds the instance on the given accelerator.
    pub fn new(params: BfvParameters, acc: Arc<Accelerator>) -> Result<Self, Error> {
        let t = params.plaintext_modulus;
        if params.moduli.is_empty() || params.moduli.iter().any(|&q| q >= 1 << 60 || q <= t) {
            return Err(Error::InvalidParameters("BFV primes must lie in (t, 2^60)"));
        }
        if t < 2 {
            return Err(Error::InvalidParameters("plaintext modulus must be at least 2"));
        }
        let moduli =
            params.moduli.iter().map(|&q| Modulus::new(q)).collect::<Result<Vec<_>, _>>()?;
        let q_big =
            params.moduli.iter().fold(BigUint::from(1u32), |acc, &q| acc * BigUint::from(q));
        let delta_big = &q_big / BigUint::from(t);
        let delta = moduli
            .iter()
            .map(|m| {
                (&delta_big % BigUint::from(m.value()))
                    .to_u64()
                    .ok_or(Error::InvalidParameters("residue overflow"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let levels = (1..=moduli.len())
            .map(|l| LevelConstants::new(&moduli[..l], t))
            .collect::<Result<Vec<_>, _>>()?;
        let drop_inverse = (0..moduli.len())
            .map(|l| {
                let ql = moduli[l].value();
                moduli[..l].iter().map(|m| m.inv_prime(ql % m.value())).collect()
            })
            .collect();
        Ok(Self { params, acc, moduli, delta, levels, drop_inverse, mul: OnceLock::new() })
    }

    /// The parameters.
    pub fn params(&self) -> &BfvParameters {
        &self.params
    }

    pub(super) fn acc(&self) -> &Accelerator {
        &self.acc
    }

    pub(super) fn moduli(&self) -> &[Modulus] {
        &self.moduli
    }

    /// The secret key's NTT form, checked against this instance's shape.
    pub(super) fn secret_ntt<'a>(&self, sk: &'a BfvSecretKey) -> Result<&'a [u64], Error> {
        if sk.s_ntt.len() != self.limbs() * self.n() {
            return Err(Error::KeyMismatch);
        }
        Ok(&sk.s_ntt)
    }

    /// The secret key's ternary coefficients.
    pub(super) fn secret_coeffs<'a>(&self, sk: &'a BfvSecretKey) -> &'a [i8] {
        &sk.s
    }

    pub(super) fn mul_context(&self) -> Result<&MulContext, Error> {
        if let Some(ctx) = self.mul.get() {
            return Ok(ctx);
        }
        let ctx = MulContext::new(&self.params.moduli, self.n())?;
        // A racing thread may have set it first; either value is the same.
        let _ = self.mul.set(ctx);
        self.mul.get().ok_or(Error::InvalidParameters("multiplication context"))
    }

    /// `out += add` limb-wise, for the limbs `out` has.
    pub(super) fn add_assign_words(&self, out: &mut [u64], add: &[u64]) {
        self.add_assign(out, add);
    }

    fn n(&self) -> usize {
        self.params.n
    }

    fn limbs(&self) -> usize {
        self.moduli.len()
    }

    /// `fixed · x` row by row over `qs` (rows cycle through it): `fixed_ntt` is already
    /// transformed, `x` is not.
    pub(super) fn mul_by_ntt_over(
        &self,
        fixed_ntt: &[u64],
        x: &[u64],
        qs: &[u64],
    ) -> Result<Vec<u64>, Error> {
        let n = self.n();
        let mut dx = self.acc.upload(x)?;
        self.acc.ntt_forward_batch(&mut dx, n, qs)?;
        let df = self.acc.upload(fixed_ntt)?;
        let mut prod = self.acc.zeros(x.len())?;
        self.acc.mul_mod(&mut prod, &df, &dx, n, qs)?;
        self.acc.ntt_inverse_batch(&mut prod, n, qs)?;
        Ok(self.acc.download(&prod)?)
    }

    /// [`Bfv::mul_by_ntt_over`] at the top level.
    fn mul_by_ntt(&self, fixed_ntt: &[u64], x: &[u64]) -> Result<Vec<u64>, Error> {
        self.mul_by_ntt_over(fixed_ntt, x, &self.params.moduli)
    }

    fn forward_over(&self, x: &[u64], qs: &[u64]) -> Result<Vec<u64>, Error> {
        let mut d = self.acc.upload(x)?;
        self.acc.ntt_forward_batch(&mut d, self.n(), qs)?;
        Ok(self.acc.download(&d)?)
    }

    fn forward(&self, x: &[u64]) -> Result<Vec<u64>, Error> {
        self.forward_over(x, &self.params.moduli)
    }

    /// `out[i] += add[i]` limb-wise (both `L × N`).
    fn add_assign(&self, out: &mut [u64], add: &[u64]) {
        for ((o, a), m) in out.chunks_mut(self.n()).zip(add.chunks(self.n())).zip(&self.moduli) {
            for (x, &y) in o.iter_mut().zip(a) {
                *x = m.add(*x, y);
            }
        }
    }

    /// Adds `Δ·m` to `c0` for plaintext coefficients `values` (`< t`, at most `N`).
    fn add_scaled_message(&self, c0: &mut [u64], values: &[u64]) -> Result<(), Error> {
        if values.len() > self.n() {
            return Err(Error::PlaintextOutOfRange("more values than slots"));
        }
        if values.iter().any(|&v| v >= self.params.plaintext_modulus) {
            return Err(Error::PlaintextOutOfRange("value at or above the plaintext modulus"));
        }
        for ((row, m), &d) in c0.chunks_mut(self.n()).zip(&self.moduli).zip(&self.delta) {
            for (x, &v) in row.iter_mut().zip(values) {
                *x = m.add(*x, m.mul(d, v % m.value()));
            }
        }
        Ok(())
    }

    /// Samples a secret key and its public key.
    pub fn keygen<R: RngCore + CryptoRng>(
        &self,
        rng: &mut R,
    ) -> Result<(BfvPublicKey, BfvSecretKey), Error> {
        let n = self.n();
        let s = ternary(n, rng);
        let s_ntt = self.forward(&to_rns(&s, &self.params.moduli))?;
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let a = uniform_from_seed(&seed, n, &self.params.moduli);
        let a_s = self.mul_by_ntt(&s_ntt, &a)?;
        let e = to_rns(&cbd(n, rng), &self.params.moduli);
        // p0 = e - a·s
        let mut p0 = e;
        for ((row, prod), m) in p0.chunks_mut(n).zip(a_s.chunks(n)).zip(&self.moduli) {
            for (x, &y) in row.iter_mut().zip(prod) {
                *x = m.sub(*x, y);
            }
        }
        Ok((self.public_key_from_parts(p0, seed)?, BfvSecretKey { s, s_ntt }))
    }

    /// Rebuilds a public key from `p0` and the seed of `p1`.
    pub(crate) fn public_key_from_parts(
        &self,
        p0: Vec<u64>,
        seed: [u8; 32],
    ) -> Result<BfvPublicKey, Error> {
        let p1 = uniform_from_seed(&seed, self.n(), &self.params.moduli);
        let mut both = p0.clone();
        both.extend_from_slice(&p1);
        let ntt = self.forward(&both)?;
        Ok(BfvPublicKey { p0, p1, seed, ntt })
    }

    /// Public-key encryption of up to `N` values below `t` (coefficient packing; missing
    /// values are zero): `(p0·u + e1 + Δm, p1·u + e2)`.
    pub fn encrypt<R: RngCore + CryptoRng>(
        &self,
        pk: &BfvPublicKey,
        values: &[u64],
        rng: &mut R,
    ) -> Result<BfvCiphertext, Error> {
        let (n, l) = (self.n(), self.limbs());
        if pk.ntt.len() != 2 * l * n {
            return Err(Error::KeyMismatch);
        }
        let u = to_rns(&ternary(n, rng), &self.params.moduli);
        let mut uu = u.clone();
        uu.extend_from_slice(&u);
        let mut prod = self.mul_by_ntt(&pk.ntt, &uu)?;
        let mut noise = to_rns(&cbd(n, rng), &self.params.moduli);
        noise.extend(to_rns(&cbd(n, rng), &self.params.moduli));
        self.add_assign(&mut prod[..l * n], &noise[..l * n]);
        self.add_assign(&mut prod[l * n..], &noise[l * n..]);
        let c1 = prod.split_off(l * n);
        let mut c0 = prod;
        self.add_scaled_message(&mut c0, values)?;
        Ok(BfvCiphertext { c0, c1, seed: None })
    }

    /// Secret-key encryption `(-(a·s) + e + Δm, a)` with `a` expanded from a fresh seed, so the
    /// serialised ciphertext carries 32 bytes instead of `c1`.
    pub fn encrypt_symmetric<R: RngCore + CryptoRng>(
        &self,
        sk: &BfvSecretKey,
        values: &[u64],
        rng: &mut R,
    ) -> Result<BfvCiphertext, Error> {
        let n = self.n();
        if sk.s_ntt.len() != self.limbs() * n {
            return Err(Error::KeyMismatch);
        }
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let a = uniform_from_seed(&seed, n, &self.params.moduli);
        let a_s = self.mul_by_ntt(&sk.s_ntt, &a)?;
        let mut c0 = to_rns(&cbd(n, rng), &self.params.moduli);
        for ((row, prod), m) in c0.chunks_mut(n).zip(a_s.chunks(n)).zip(&self.moduli) {
            for (x, &y) in row.iter_mut().zip(prod) {
                *x = m.sub(*x, y);
            }
        }
        self.add_scaled_message(&mut c0, values)?;
        Ok(BfvCiphertext { c0, c1: a, seed: Some(seed) })
    }

    /// Decrypts all `N` coefficients: `⌈t·(c0 + c1·s)/q⌋ mod t`.
    pub fn decrypt(&self, sk: &BfvSecretKey, ct: &BfvCiphertext) -> Result<Vec<u64>, Error> {
        let n = self.n();
        if sk.s_ntt.len() != self.limbs() * n {
            return Err(Error::KeyMismatch);
        }
        let l = self.check_shape(ct)?;
        let level = &self.levels[l - 1];
        let mut x = self.mul_by_ntt_over(&sk.s_ntt[..l * n], &ct.c1, &self.params.moduli[..l])?;
        self.add_assign(&mut x, &ct.c0);
        let t = self.params.plaintext_modulus;
        let out = (0..n)
            .map(|j| {
                let mut int = 0u128;
                let mut frac = 0u128;
                for i in 0..l {
                    let xi = x[i * n + j];
                    int = (int + u128::from(xi) * u128::from(level.dec_int[i])) % u128::from(t);
                    frac += u128::from(xi) * u128::from(level.dec_frac[i]);
                }
                // Σ x_i·frac_i < L·2^124, so the 0.64 fixed-point sum cannot overflow; its
                // truncation error is below L·2^-4 (x_i < 2^60), far inside the noise margin.
                let rounded = (frac + (1u128 << 63)) >> 64;
                ((int + rounded) % u128::from(t)) as u64
            })
            .collect();
        Ok(out)
    }

    /// Checks a ciphertext's shape and returns its number of limbs (its level).
    pub(crate) fn check_shape(&self, ct: &BfvCiphertext) -> Result<usize, Error> {
        let n = self.n();
        let l = ct.c0.len() / n;
        if ct.c0.len() != ct.c1.len() || ct.c0.len() != l * n || !(1..=self.limbs()).contains(&l) {
            return Err(Error::KeyMismatch);
        }
        Ok(l)
    }

    /// Number of RNS limbs `ct` has (the full count when fresh, fewer after
    /// [`Bfv::mod_switch_down`]).
    pub fn level(&self, ct: &BfvCiphertext) -> Result<usize, Error> {
        self.check_shape(ct)
    }

    /// Drops the last RNS prime: `c ↦ (c - [c]_{q_l}) / q_l` limb-wise, i.e. `⌈c / q_l⌋` up to
    /// a centred rounding term of norm `≤ (1 + |s|_1)/2`. The ciphertext shrinks by one limb and
    /// still decrypts to the same values while `Δ/q_l` dominates the noise (Brakerski–
    /// Gentry–Vaikuntanathan, ITCS 2012, §4.1; the BFV form follows FV §4). Use it to shrink a
    /// ciphertext before sending; operands of `add` must share a level.
    pub fn mod_switch_down(&self, ct: &BfvCiphertext) -> Result<BfvCiphertext, Error> {
        let l = self.check_shape(ct)?;
        if l < 2 {
            return Err(Error::InvalidParameters("ciphertext is already at the lowest level"));
        }
        let n = self.n();
        let last = self.moduli[l - 1].value();
        let inv = &self.drop_inverse[l - 1];
        let switch = |c: &[u64]| -> Vec<u64> {
            let top = &c[(l - 1) * n..l * n];
            let mut out = Vec::with_capacity((l - 1) * n);
            for (i, m) in self.moduli[..l - 1].iter().enumerate() {
                let q = m.value();
                out.extend(c[i * n..(i + 1) * n].iter().zip(top).map(|(&x, &v)| {
                    // Centred remainder [c]_{q_l} in (-q_l/2, q_l/2], reduced mod q_i.
                    let r = if v > last / 2 { q - (last - v) % q } else { v % q };
                    m.mul(m.sub(x, r % q), inv[i])
                }));
            }
            out
        };
        Ok(BfvCiphertext { c0: switch(&ct.c0), c1: switch(&ct.c1), seed: None })
    }

    /// `Enc(a + b)`.
    pub fn add(&self, a: &BfvCiphertext, b: &BfvCiphertext) -> Result<BfvCiphertext, Error> {
        if self.check_shape(a)? != self.check_shape(b)? {
            return Err(Error::LevelMismatch);
        }
        Ok(BfvCiphertext { c0: self.sum(&a.c0, &b.c0), c1: self.sum(&a.c1, &b.c1), seed: None })
    }

    /// `a + b` limb-wise into a fresh vector: one pass, branch-free, so it vectorises.
    fn sum(&self, a: &[u64], b: &[u64]) -> Vec<u64> {
        let n = self.n();
        let mut out = Vec::with_capacity(a.len());
        for ((xa, xb), m) in a.chunks(n).zip(b.chunks(n)).zip(&self.moduli) {
            let q = m.value();
            out.extend(xa.iter().zip(xb).map(|(&x, &y)| {
                let s = x + y;
                if s >= q { s - q } else { s }
            }));
        }
        out
    }

    /// `Enc(k·a)` for a scalar `k` (reduced mod `t`); noise grows by the factor `k`.
    pub fn mul_scalar(&self, a: &BfvCiphertext, k: u64) -> Result<BfvCiphertext, Error> {
        self.check_shape(a)?;
        let k = k % self.params.plaintext_modulus;
        let n = self.n();
        // k is fixed across the ciphertext: Shoup multiplication (one high product per word).
        let scale = |c: &[u64]| -> Vec<u64> {
            let mut out = Vec::with_capacity(c.len());
            for (row, m) in c.chunks(n).zip(&self.moduli) {
                let q = m.value();
                let w = k % q;
                let ws = shoup(w, q);
                out.extend(row.iter().map(|&x| mul_shoup(x, w, ws, q)));
            }
            out
        };
        Ok(BfvCiphertext { c0: scale(&a.c0), c1: scale(&a.c1), seed: None })
    }

    /// `Enc(a·p)` for a plaintext polynomial `p` (coefficients below `t`, taken centred in
    /// `(-t/2, t/2]` to keep the noise growth at `N·t/2·|e|`), as two NTT products.
    pub fn mul_plain(&self, a: &BfvCiphertext, p: &[u64]) -> Result<BfvCiphertext, Error> {
        let l = self.check_shape(a)?;
        let (n, t) = (self.n(), self.params.plaintext_modulus);
        if p.len() > n || p.iter().any(|&v| v >= t) {
            return Err(Error::PlaintextOutOfRange("plaintext polynomial"));
        }
        let mut lifted = Vec::with_capacity(2 * self.limbs() * n);
        for _ in 0..2 {
            for m in &self.moduli[..l] {
                let q = m.value();
                lifted.extend((0..n).map(|j| {
                    let v = p.get(j).copied().unwrap_or(0);
                    if v > t / 2 { q - (t - v) } else { v }
                }));
            }
        }
        let qs = &self.params.moduli[..l];
        let lifted_ntt = self.forward_over(&lifted, qs)?;
        let mut both = a.c0.clone();
        both.extend_from_slice(&a.c1);
        let mut prod = self.mul_by_ntt_over(&lifted_ntt, &both, qs)?;
        let c1 = prod.split_off(l * n);
        Ok(BfvCiphertext { c0: prod, c1, seed: None })
    }
}
