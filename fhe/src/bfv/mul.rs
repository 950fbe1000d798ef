//! Ciphertext-ciphertext multiplication with relinearisation.
//!
//! FV (ePrint 2012/144) §4: the tensor `(a0·b0, a0·b1 + a1·b0, a1·b1)` is computed exactly over
//! `Z[X]/(X^N+1)` in an extended RNS basis `Q·P` (`P > N·Q`, so no product wraps), scaled by
//! `t/Q` with rounding, and the `s²` term is switched back to `s` with a relinearisation key
//! decomposed by RNS limbs (the gadget `g_i = (Q/q_i)·[(Q/q_i)^{-1}]_{q_i}`, Bajard–Eynard–
//! Hasan–Zucca, SAC 2016, §4). Polynomial products run on the accelerator; the exact lift and
//! the `t/Q` rounding go through big integers per coefficient: correct and simple, but slower
//! than HPS/BEHZ fast base extension (tens of ms per product at N = 4096). Same security as
//! [`super`]; the relinearisation key adds the usual circular-security assumption.

use num_bigint_dig::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_traits::{ToPrimitive, Zero};
use rand_core::{CryptoRng, RngCore};
use tessera_accelerator::{Backend, Modulus, ntt_primes};

use super::sample::{cbd, to_rns, uniform_from_seed};
use super::scheme::{Bfv, BfvCiphertext, BfvSecretKey};
use crate::Error;

/// Bits of the extension primes (distinct from the 54-bit ciphertext primes).
const EXT_PRIME_BITS: u32 = 58;

/// A key-switching key: for each limb `i`, `(b_i, a_i) = (-(a_i·s) + e_i + g_i·from, a_i)`,
/// kept transformed for the accelerator (`L` digits × `L` limbs rows each).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SwitchingKey {
    pub(super) b_ntt: Vec<u64>,
    pub(super) a_ntt: Vec<u64>,
    /// The seed each digit's `a_i` was expanded from, so the key can be sent as `b` and seeds.
    pub(super) seeds: Vec<[u8; 32]>,
}

/// Relinearisation key: a switching key from `s²` to `s`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BfvRelinKey(SwitchingKey);

/// CRT reconstruction data for one RNS basis.
#[derive(Debug)]
pub(crate) struct Crt {
    moduli: Vec<Modulus>,
    product: BigUint,
    half: BigUint,
    /// `M / m_i`.
    cofactors: Vec<BigUint>,
    /// `(M / m_i)^{-1} mod m_i`.
    inverses: Vec<u64>,
}

impl Crt {
    fn new(moduli: &[u64]) -> Result<Self, Error> {
        let ms = moduli.iter().map(|&q| Modulus::new(q)).collect::<Result<Vec<_>, _>>()?;
        let product = moduli.iter().fold(BigUint::from(1u32), |acc, &q| acc * BigUint::from(q));
        let cofactors: Vec<BigUint> = moduli.iter().map(|&q| &product / BigUint::from(q)).collect();
        let inverses = cofactors
            .iter()
            .zip(&ms)
            .map(|(c, m)| {
                (c % BigUint::from(m.value()))
                    .to_u64()
                    .map(|r| m.inv_prime(r))
                    .ok_or(Error::InvalidParameters("CRT residue"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { moduli: ms, half: &product >> 1usize, product, cofactors, inverses })
    }

    /// The integer in `(-M/2, M/2]` with the given residues.
    fn centered(&self, residues: impl Iterator<Item = u64>) -> BigInt {
        let mut acc = BigUint::zero();
        for (((x, m), inv), cof) in
            residues.zip(&self.moduli).zip(&self.inverses).zip(&self.cofactors)
        {
            acc += cof * BigUint::from(m.mul(x, *inv));
        }
        let acc = acc % &self.product;
        if acc > self.half {
            BigInt::from_biguint(Sign::Minus, &self.product - acc)
        } else {
            BigInt::from_biguint(Sign::Plus, acc)
        }
    }
}

/// `x mod q` for a signed big integer.
fn residue(x: &BigInt, q: u64) -> u64 {
    // mod_floor by a positive modulus lands in [0, q).
    x.mod_floor(&BigInt::from(q)).to_u64().unwrap_or(0)
}

/// Extension data built on first use.
#[derive(Debug)]
pub(crate) struct MulContext {
    /// `Q` basis then `P` basis.
    full: Vec<u64>,
    crt_q: Crt,
    crt_full: Crt,
    q: BigInt,
}

impl MulContext {
    pub(crate) fn new(q_moduli: &[u64], n: usize) -> Result<Self, Error> {
        let log_q: u32 = q_moduli.iter().map(|&q| 64 - q.leading_zeros()).sum();
        // P > 2·N·Q so that every tensor coefficient, at most N·(Q/2)² in size, is centred
        // inside (-QP/2, QP/2].
        let need = log_q + n.trailing_zeros() + 2;
        let k = need.div_ceil(EXT_PRIME_BITS - 1) as usize;
        let ext = ntt_primes(EXT_PRIME_BITS, n, k)
            .map_err(|_| Error::InvalidParameters("no extension primes"))?;
        let mut full = q_moduli.to_vec();
        full.extend_from_slice(&ext);
        let crt_q = Crt::new(q_moduli)?;
        let q = BigInt::from_biguint(Sign::Plus, crt_q.product.clone());
        Ok(Self { crt_full: Crt::new(&full)?, crt_q, full, q })
    }
}

impl Bfv {
    /// A key that switches a component multiplied by `from` (coefficient form, `L × N`) to one
    /// multiplied by `s`: for each limb `i`, `(-(a_i·s) + e_i + g_i·from, a_i)`, transformed.
    pub(super) fn switching_key<R: RngCore + CryptoRng>(
        &self,
        sk: &BfvSecretKey,
        from: &[u64],
        rng: &mut R,
    ) -> Result<SwitchingKey, Error> {
        let (n, l) = (self.params().n, self.params().moduli.len());
        let qs = self.params().moduli.clone();
        let s_ntt = self.secret_ntt(sk)?;
        let mut b_all = Vec::with_capacity(l * l * n);
        let mut a_all = Vec::with_capacity(l * l * n);
        let mut seeds = Vec::with_capacity(l);
        for i in 0..l {
            let mut seed = [0u8; 32];
            rng.fill_bytes(&mut seed);
            seeds.push(seed);
            let a = uniform_from_seed(&seed, n, &qs);
            let a_s = self.mul_by_ntt_over(s_ntt, &a, &qs)?;
            let mut b = to_rns(&cbd(n, rng), &qs);
            for ((row, prod), m) in b.chunks_mut(n).zip(a_s.chunks(n)).zip(self.moduli()) {
                for (x, &y) in row.iter_mut().zip(prod) {
                    *x = m.sub(*x, y);
                }
            }
            // g_i·from is `from` in limb i and zero in the others.
            let m = &self.moduli()[i];
            for (x, &y) in b[i * n..(i + 1) * n].iter_mut().zip(&from[i * n..(i + 1) * n]) {
                *x = m.add(*x, y);
            }
            b_all.extend_from_slice(&b);
            a_all.extend_from_slice(&a);
        }
        let acc = self.acc();
        let mut d = acc.upload(&b_all)?;
        acc.ntt_forward_batch(&mut d, n, &qs)?;
        let b_ntt = acc.download(&d)?;
        let mut d = acc.upload(&a_all)?;
        acc.ntt_forward_batch(&mut d, n, &qs)?;
        Ok(SwitchingKey { b_ntt, a_ntt: acc.download(&d)?, seeds })
    }

    /// Rebuilds a switching key from its transformed `b` rows and the seeds of its `a` rows.
    pub(super) fn switching_key_from_parts(
        &self,
        b_ntt: Vec<u64>,
        seeds: Vec<[u8; 32]>,
    ) -> Result<SwitchingKey, Error> {
        let (n, l) = (self.params().n, self.params().moduli.len());
        if b_ntt.len() != l * l * n || seeds.len() != l {
            return Err(Error::MalformedKey("switching key shape"));
        }
        let qs = &self.params().moduli;
        let mut a_all = Vec::with_capacity(l * l * n);
        for seed in &seeds {
            a_all.extend(uniform_from_seed(seed, n, qs));
        }
        let acc = self.acc();
        let mut d = acc.upload(&a_all)?;
        acc.ntt_forward_batch(&mut d, n, qs)?;
        Ok(SwitchingKey { b_ntt, a_ntt: acc.download(&d)?, seeds })
    }

    /// `(Σ_i D_i·b_i, Σ_i D_i·a_i)` for the limb digits `D_i = [d]_{q_i}` of `d` (coefficient
    /// form, top level): adding it to `(c0, 0)` turns `d·from` into `≈ d·from` under `s`.
    pub(super) fn key_switch(
        &self,
        d: &[u64],
        key: &SwitchingKey,
    ) -> Result<(Vec<u64>, Vec<u64>), Error> {
        let (n, l) = (self.params().n, self.params().moduli.len());
        if key.b_ntt.len() != l * l * n || key.a_ntt.len() != l * l * n || d.len() != l * n {
            return Err(Error::KeyMismatch);
        }
        let qs = &self.params().moduli;
        let acc = self.acc();
        let mut digits = Vec::with_capacity(l * l * n);
        for i in 0..l {
            for m in self.moduli() {
                digits.extend(d[i * n..(i + 1) * n].iter().map(|&v| v % m.value()));
            }
        }
        let mut dd = acc.upload(&digits)?;
        acc.ntt_forward_batch(&mut dd, n, qs)?;
        let mut out = [vec![0u64; l * n], vec![0u64; l * n]];
        for (k, target) in [&key.b_ntt, &key.a_ntt].into_iter().zip(out.iter_mut()) {
            let k = acc.upload(k)?;
            let mut prod = acc.zeros(l * l * n)?;
            acc.mul_mod(&mut prod, &dd, &k, n, qs)?;
            acc.ntt_inverse_batch(&mut prod, n, qs)?;
            for digit in acc.download(&prod)?.chunks(l * n) {
                self.add_assign_words(target, digit);
            }
        }
        let [k0, k1] = out;
        Ok((k0, k1))
    }

    /// Samples the relinearisation key for `sk` (a switching key from `s²`).
    pub fn relin_keygen<R: RngCore + CryptoRng>(
        &self,
        sk: &BfvSecretKey,
        rng: &mut R,
    ) -> Result<BfvRelinKey, Error> {
        let (n, l) = (self.params().n, self.params().moduli.len());
        let qs = &self.params().moduli;
        let acc = self.acc();
        let s = acc.upload(self.secret_ntt(sk)?)?;
        let mut sq = acc.zeros(l * n)?;
        acc.mul_mod(&mut sq, &s, &s, n, qs)?;
        acc.ntt_inverse_batch(&mut sq, n, qs)?;
        let s2 = acc.download(&sq)?;
        Ok(BfvRelinKey(self.switching_key(sk, &s2, rng)?))
    }

    /// `Enc(a·b)` (negacyclic product of the plaintext polynomials mod `t`; slot-wise product
    /// for slot-packed values), relinearised back to two components. Both operands must be at
    /// the top level.
    pub fn mul(
        &self,
        a: &BfvCiphertext,
        b: &BfvCiphertext,
        rlk: &BfvRelinKey,
    ) -> Result<BfvCiphertext, Error> {
        let (n, l) = (self.params().n, self.params().moduli.len());
        if self.level(a)? != l || self.level(b)? != l {
            return Err(Error::LevelMismatch);
        }
        let ctx = self.mul_context()?;
        let full = &ctx.full;
        let width = full.len();
        // 1. Lift the four components exactly from Q to Q·P.
        let lift = |c: &[u64]| -> Vec<u64> {
            let mut out = vec![0u64; width * n];
            for j in 0..n {
                let x = ctx.crt_q.centered((0..l).map(|i| c[i * n + j]));
                for (r, &m) in full.iter().enumerate() {
                    out[r * n + j] = if r < l { c[r * n + j] } else { residue(&x, m) };
                }
            }
            out
        };
        let mut x = lift(&a.c0);
        x.extend(lift(&a.c1));
        let mut y = lift(&b.c0);
        y.extend(lift(&b.c1));
        let mut y_swapped = y[width * n..].to_vec();
        y_swapped.extend_from_slice(&y[..width * n]);
        // 2. Tensor on the accelerator: [a0·b0 | a1·b1] and [a0·b1 | a1·b0].
        let acc = self.acc();
        let transform = |v: &[u64]| -> Result<_, Error> {
            let mut d = acc.upload(v)?;
            acc.ntt_forward_batch(&mut d, n, full)?;
            Ok(d)
        };
        let (dx, dy, dys) = (transform(&x)?, transform(&y)?, transform(&y_swapped)?);
        let mut straight = acc.zeros(2 * width * n)?;
        acc.mul_mod(&mut straight, &dx, &dy, n, full)?;
        acc.ntt_inverse_batch(&mut straight, n, full)?;
        let mut crossed = acc.zeros(2 * width * n)?;
        acc.mul_mod(&mut crossed, &dx, &dys, n, full)?;
        acc.ntt_inverse_batch(&mut crossed, n, full)?;
        let straight = acc.download(&straight)?;
        let crossed = acc.download(&crossed)?;
        // 3. Scale each tensor component by t/Q with rounding, back to the Q basis.
        let t = BigInt::from(self.params().plaintext_modulus);
        let two_q: BigInt = &ctx.q * 2;
        let scale = |get: &dyn Fn(usize, usize) -> u64| -> Vec<u64> {
            let mut out = vec![0u64; l * n];
            for j in 0..n {
                let d = ctx.crt_full.centered((0..width).map(|r| get(r, j)));
                // round(t·d/Q) = floor((2·t·d + Q) / 2Q), symmetric in the sign of d.
                let num: BigInt = &t * &d * 2 + &ctx.q;
                let r = num.div_floor(&two_q);
                for (i, m) in self.moduli().iter().enumerate() {
                    out[i * n + j] = residue(&r, m.value());
                }
            }
            out
        };
        let half = width * n;
        let d0 = scale(&|r, j| straight[r * n + j]);
        let d2 = scale(&|r, j| straight[half + r * n + j]);
        let d1 = scale(&|r, j| {
            let m = &ctx.crt_full.moduli[r];
            m.add(crossed[r * n + j], crossed[half + r * n + j])
        });
        // 4. Relinearise the s² component.
        let (k0, k1) = self.key_switch(&d2, &rlk.0)?;
        let (mut c0, mut c1) = (d0, d1);
        self.add_assign_words(&mut c0, &k0);
        self.add_assign_words(&mut c1, &k1);
        Ok(BfvCiphertext { c0, c1, seed: None })
    }
}
