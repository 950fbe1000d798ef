//! Paillier encryption, the additive scheme FATE uses: Tessera's baseline for packed lattice HE.
//!
//! Follows Paillier, "Public-Key Cryptosystems Based on Composite Degree Residuosity Classes",
//! EUROCRYPT 1999, §4 (Scheme 1) with `g = n + 1` (so `g^m = 1 + m·n mod n²`, Damgård–Jurik,
//! PKC 2001, §3) and CRT decryption (§7). Security: IND-CPA under the decisional composite
//! residuosity assumption; no integrity, so use it only where the parties are semi-honest or
//! ciphertexts are authenticated elsewhere. A 2048-bit `n` gives about 112-bit security (NIST
//! SP 800-57 Table 2); 3072 bits give 128.
//!
//! **Encryption** uses the randomiser of Damgård, Jurik and Nielsen ("A generalization of
//! Paillier's public-key system with applications to electronic voting", IJIS 9(6), 2010, in
//! its implementation optimisations): `h = −x² mod n` fixed per key, `h_n = h^n mod n²`, and
//! `Enc(m) = (1 + m·n)·h_n^a` with `a` uniform of `⌈k/2⌉` bits for a `k`-bit `n`. `h_n^a` is an
//! `n`-th residue like Paillier's `r^n`; that it is also indistinguishable from a uniform one
//! rests, besides DCR, on short exponents of `⌈k/2⌉` bits hiding as much as full ones modulo a
//! composite, which Håstad, Schrift and Shamir ("The discrete logarithm modulo a composite
//! hides O(n) bits", JCSS 47(3), 1993) reduce to factoring. With `h_n` fixed, `h_n^a` comes
//! from a comb of precomputed powers ([`fixed_base`]): about 171 products for 2048-bit `n`
//! instead of a 2048-bit exponentiation, an order of magnitude faster. `x` is derived from `n`
//! by SHA-256, so the wire key stays `n`. [`PaillierSecretKey::encrypt`] keeps Paillier's
//! full-entropy `r^n` for key holders who want no assumption beyond DCR.
//!
//! Plaintexts live in `Z_n`. Through [`crate::AdditiveHe`] the scheme carries one value of
//! `Z_t` per ciphertext (`t < 2^64`): sums and scalar products are exact integers far below `n`
//! and decryption reduces them mod `t`, so it agrees with the packed scheme for any realistic
//! number of operations (up to `n / t²` of them).

mod fixed_base;
mod monty;

use std::sync::{Arc, OnceLock};

use crypto_bigint::modular::BoxedMontyForm;
use num_bigint_dig::{BigUint, ModInverse, RandBigInt, RandPrime};
use num_integer::Integer;
use num_traits::{One, Zero};
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::Error;
use fixed_base::FixedBase;
use monty::Monty;

/// Default modulus size in bits.
pub const DEFAULT_MODULUS_BITS: usize = 2048;

/// Public key: the modulus `n = p·q`, `n²` with its Montgomery parameters, and (built on first
/// use, shared by clones) the fixed-base table of the randomiser base `h_n`.
#[derive(Clone, Debug)]
pub struct PaillierPublicKey {
    n: BigUint,
    n_squared: BigUint,
    n_squared_monty: Monty,
    randomiser: Arc<OnceLock<FixedBase>>,
}

impl PartialEq for PaillierPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.n == other.n
    }
}

impl Eq for PaillierPublicKey {}

/// `h = −x² mod n` with `x` expanded from `n` by SHA-256 (so every holder of `n` derives the
/// same `h` and nobody knows a relation between it and anything else), then `h_n = h^n mod n²`.
fn randomiser_base(n: &BigUint, n_squared_monty: &Monty) -> BigUint {
    let want = n.bits() + 128;
    let mut counter = 0u32;
    loop {
        let mut bytes = Vec::with_capacity(want.div_ceil(8) + 32);
        let mut block = 0u32;
        while bytes.len() * 8 < want {
            let digest = Sha256::new()
                .chain_update(b"tessera paillier DJN randomiser base")
                .chain_update(counter.to_be_bytes())
                .chain_update(block.to_be_bytes())
                .chain_update(n.to_bytes_be())
                .finalize();
            bytes.extend_from_slice(&digest);
            block += 1;
        }
        let x = BigUint::from_bytes_be(&bytes) % n;
        counter += 1;
        if x.is_zero() || !x.gcd(n).is_one() {
            continue;
        }
        let h = n - (&x * &x % n);
        return n_squared_monty.pow(&h, n);
    }
}

/// Secret key: the primes and the CRT constants of §7.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PaillierSecretKey {
    p: BigUint,
    q: BigUint,
    p_squared: BigUint,
    q_squared: BigUint,
    /// `L_p(g^{p-1} mod p²)^{-1} mod p`.
    h_p: BigUint,
    /// `L_q(g^{q-1} mod q²)^{-1} mod q`.
    h_q: BigUint,
    /// `p^{-1} mod q`.
    p_inv_q: BigUint,
    /// `(p²)^{-1} mod q²`, to recombine key-holder encryptions.
    p_squared_inv_q_squared: BigUint,
}

impl std::fmt::Debug for PaillierSecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PaillierSecretKey(..)")
    }
}

/// A ciphertext `c ∈ Z*_{n²}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaillierCiphertext(BigUint);

/// `L(x) = (x - 1) / d`.
fn l_function(x: &BigUint, d: &BigUint) -> BigUint {
    (x - 1u32) / d
}

fn inverse(a: &BigUint, m: &BigUint) -> Result<BigUint, Error> {
    a.clone()
        .mod_inverse(m)
        .and_then(|v| v.to_biguint())
        .ok_or(Error::InvalidParameters("non-invertible CRT constant"))
}

/// Generates a key pair with a `bits`-bit modulus (two `bits/2`-bit primes, `p ≠ q`).
pub fn paillier_keygen<R: RngCore + CryptoRng>(
    bits: usize,
    rng: &mut R,
) -> Result<(PaillierPublicKey, PaillierSecretKey), Error> {
    if bits < 512 || !bits.is_multiple_of(2) {
        return Err(Error::InvalidParameters("Paillier modulus must be an even size ≥ 512 bits"));
    }
    loop {
        let p = rng.gen_prime(bits / 2);
        let q = rng.gen_prime(bits / 2);
        let n = &p * &q;
        if p == q || n.bits() != bits {
            continue;
        }
        // gcd(n, (p-1)(q-1)) = 1 holds for equal-size primes; check it anyway (§4 needs it).
        if !n.gcd(&((&p - 1u32) * (&q - 1u32))).is_one() {
            continue;
        }
        let g = &n + 1u32;
        let p_squared = &p * &p;
        let q_squared = &q * &q;
        let h_p = inverse(&l_function(&g.modpow(&(&p - 1u32), &p_squared), &p), &p)?;
        let h_q = inverse(&l_function(&g.modpow(&(&q - 1u32), &q_squared), &q), &q)?;
        let p_inv_q = inverse(&p, &q)?;
        let p_squared_inv_q_squared = inverse(&p_squared, &q_squared)?;
        let pk = PaillierPublicKey::from_modulus(n)?;
        let sk = PaillierSecretKey {
            p,
            q,
            p_squared,
            q_squared,
            h_p,
            h_q,
            p_inv_q,
            p_squared_inv_q_squared,
        };
        return Ok((pk, sk));
    }
}

impl PaillierPublicKey {
    fn from_modulus(n: BigUint) -> Result<Self, Error> {
        let n_squared = &n * &n;
        let n_squared_monty = Monty::new(&n_squared)?;
        Ok(Self { n, n_squared, n_squared_monty, randomiser: Arc::default() })
    }

    /// The modulus `n`.
    pub fn modulus(&self) -> &BigUint {
        &self.n
    }

    /// Bytes of one serialised ciphertext (`n²` in fixed width).
    pub fn ciphertext_len(&self) -> usize {
        self.n_squared.bits().div_ceil(8)
    }

    /// Bits of the randomiser exponent `a`: `⌈k/2⌉` for a `k`-bit `n` (DJN).
    fn randomiser_bits(&self) -> u32 {
        (self.n.bits() as u32).div_ceil(2)
    }

    /// The comb table of `h_n`, built on first use (about 11,000 products for 2048-bit `n`).
    fn randomiser_table(&self) -> &FixedBase {
        self.randomiser.get_or_init(|| {
            let h_n = randomiser_base(&self.n, &self.n_squared_monty);
            FixedBase::new(
                &self.n_squared_monty,
                &self.n_squared_monty.to_form(&h_n),
                self.randomiser_bits(),
            )
        })
    }

    /// A fresh randomiser `h_n^a` with uniform `⌈k/2⌉`-bit `a`, in Montgomery form.
    fn fresh_randomiser<R: RngCore + CryptoRng>(&self, rng: &mut R) -> BoxedMontyForm {
        let bits = self.randomiser_bits();
        let mut a = Zeroizing::new(vec![0u64; bits.div_ceil(64) as usize]);
        a.iter_mut().for_each(|w| *w = rng.next_u64());
        if let Some(top) = a.last_mut()
            && !bits.is_multiple_of(64)
        {
            *top &= (1u64 << (bits % 64)) - 1;
        }
        self.randomiser_table().pow(&a)
    }

    /// `Enc(m) = (1 + m·n)·h_n^a mod n²` with uniform `⌈k/2⌉`-bit `a` (see the module docs).
    pub fn encrypt<R: RngCore + CryptoRng>(
        &self,
        m: &BigUint,
        rng: &mut R,
    ) -> Result<PaillierCiphertext, Error> {
        if m >= &self.n {
            return Err(Error::PlaintextOutOfRange("Paillier plaintext must be below n"));
        }
        let gm = self.n_squared_monty.to_form(&(BigUint::one() + m * &self.n));
        Ok(PaillierCiphertext(Monty::from_form(&gm.mul(&self.fresh_randomiser(rng)))))
    }

    /// The same plaintext under a fresh randomiser: what a party sends after computing on
    /// ciphertexts, so the result does not reveal how it was computed.
    pub fn rerandomise<R: RngCore + CryptoRng>(
        &self,
        c: &PaillierCiphertext,
        rng: &mut R,
    ) -> PaillierCiphertext {
        let c = self.n_squared_monty.to_form(&c.0);
        PaillierCiphertext(Monty::from_form(&c.mul(&self.fresh_randomiser(rng))))
    }

    /// `Enc(a + b)` from `Enc(a)` and `Enc(b)`: the product mod `n²`.
    pub fn add(&self, a: &PaillierCiphertext, b: &PaillierCiphertext) -> PaillierCiphertext {
        PaillierCiphertext(&a.0 * &b.0 % &self.n_squared)
    }

    /// `Enc(k·a)` from `Enc(a)`: the power `c^k mod n²`.
    pub fn mul_scalar(&self, a: &PaillierCiphertext, k: &BigUint) -> PaillierCiphertext {
        PaillierCiphertext(self.n_squared_monty.pow(&a.0, k))
    }

    /// `Enc(Σ k_i·m_i)` from `Enc(m_i)` and signed scalars: one multi-exponentiation (see
    /// [`monty`]) instead of a power per term. Not re-randomised.
    ///
    /// Signs without a per-sign code path: with `B` the bits of the largest `|k_i|`, it
    /// computes `Π c_i^(k_i + 2^B)` and divides by `(Π c_i)^(2^B)`, so the work depends on the
    /// number of terms and on `B`, not on which scalars are negative.
    pub fn linear_combination(
        &self,
        terms: &[(i64, &PaillierCiphertext)],
    ) -> Result<PaillierCiphertext, Error> {
        let monty = &self.n_squared_monty;
        let bits = terms.iter().map(|(k, _)| 64 - k.unsigned_abs().leading_zeros()).max();
        let Some(bits) = bits.filter(|&b| b > 0) else {
            return Ok(PaillierCiphertext(BigUint::one()));
        };
        if bits > 62 {
            return Err(Error::PlaintextOutOfRange("scalars must lie in (-2^62, 2^62)"));
        }
        let offset = 1i64 << bits;
        let bases: Vec<_> = terms.iter().map(|(_, c)| monty.to_form(&c.0)).collect();
        let exps: Vec<u64> = terms.iter().map(|&(k, _)| (k + offset) as u64).collect();
        let shifted = monty.multi_pow(&bases, &exps);
        let mut product = monty.one();
        for b in &bases {
            product = product.mul(b);
        }
        for _ in 0..bits {
            product = product.square();
        }
        let inverse = product
            .invert()
            .into_option()
            .ok_or(Error::MalformedCiphertext("ciphertext is not a unit modulo n²"))?;
        Ok(PaillierCiphertext(Monty::from_form(&shifted.mul(&inverse))))
    }

    /// Big-endian bytes, fixed width [`PaillierPublicKey::ciphertext_len`].
    pub fn ciphertext_to_bytes(&self, c: &PaillierCiphertext) -> Vec<u8> {
        let raw = c.0.to_bytes_be();
        let mut out = vec![0u8; self.ciphertext_len() - raw.len()];
        out.extend_from_slice(&raw);
        out
    }

    /// Parses a ciphertext, refusing wrong lengths and values outside `Z*_{n²}`.
    pub fn ciphertext_from_bytes(&self, bytes: &[u8]) -> Result<PaillierCiphertext, Error> {
        if bytes.len() != self.ciphertext_len() {
            return Err(Error::MalformedCiphertext("wrong length"));
        }
        let c = BigUint::from_bytes_be(bytes);
        if c.is_zero() || c >= self.n_squared {
            return Err(Error::MalformedCiphertext("value outside [1, n²)"));
        }
        if !c.gcd(&self.n).is_one() {
            return Err(Error::MalformedCiphertext("not a unit modulo n"));
        }
        Ok(PaillierCiphertext(c))
    }

    /// Big-endian `n`.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.n.to_bytes_be()
    }

    /// Parses a public key: an odd `n` of at least 512 bits.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > 1024 {
            return Err(Error::MalformedKey("modulus larger than 8192 bits"));
        }
        let n = BigUint::from_bytes_be(bytes);
        if n.bits() < 512 || n.is_even() {
            return Err(Error::MalformedKey("modulus must be odd and at least 512 bits"));
        }
        Self::from_modulus(n)
    }
}

impl PaillierSecretKey {
    /// The modulus `n = p·q` of the matching public key.
    pub fn modulus(&self) -> BigUint {
        &self.p * &self.q
    }

    /// Key-holder encryption with Paillier's own randomiser `r^n`, uniform `r ∈ Z*_n` (no
    /// short-exponent assumption), about four times faster than computing `r^n mod n²`
    /// directly; the public key's DJN encryption is faster still.
    ///
    /// Why it is Paillier's distribution: `Z*_{p²} ≅ Z_{p-1} × Z_p`, and `r ↦ r^n` kills the
    /// `Z_p` part and permutes the `Z_{p-1}` part, so `r^n mod p²` for uniform `r` is uniform
    /// in the order-`(p-1)` subgroup `H_p`. So is `x^p mod p²` for uniform `x ∈ Z*_{p²}`, which
    /// costs a 1024-bit exponent modulo the 2048-bit `p²` (for a 2048-bit `n`) instead of a
    /// 2048-bit exponent modulo the 4096-bit `n²`. The `p` and `q` halves are independent, as
    /// CRT makes them for uniform `r`, and are recombined with Garner's formula.
    pub fn encrypt<R: RngCore + CryptoRng>(
        &self,
        m: &BigUint,
        rng: &mut R,
    ) -> Result<PaillierCiphertext, Error> {
        let n = self.modulus();
        if m >= &n {
            return Err(Error::PlaintextOutOfRange("Paillier plaintext must be below n"));
        }
        let gm = BigUint::one() + m * &n;
        let half = |prime: &BigUint, square: &BigUint, rng: &mut R| -> Result<BigUint, Error> {
            let x = loop {
                let x = rng.gen_biguint_below(square);
                if !(&x % prime).is_zero() {
                    break x;
                }
            };
            let y = Monty::new(square)?.pow(&x, prime);
            Ok(&gm % square * y % square)
        };
        let c_p = half(&self.p, &self.p_squared, rng)?;
        let c_q = half(&self.q, &self.q_squared, rng)?;
        // Garner: c = c_p + p²·((c_q - c_p)·(p²)^{-1} mod q²).
        let diff = (&c_q + &self.q_squared - (&c_p % &self.q_squared)) % &self.q_squared;
        Ok(PaillierCiphertext(
            c_p + &self.p_squared * (diff * &self.p_squared_inv_q_squared % &self.q_squared),
        ))
    }

    /// `m = CRT(L_p(c^{p-1} mod p²)·h_p mod p, L_q(c^{q-1} mod q²)·h_q mod q)` (§7).
    pub fn decrypt(&self, c: &PaillierCiphertext) -> BigUint {
        // p², q² are odd; their Montgomery parameters are rebuilt per call rather than kept
        // as a second, non-zeroising copy of the secret.
        let pow = |m: &BigUint, e: &BigUint| match Monty::new(m) {
            Ok(monty) => monty.pow(&c.0, e),
            Err(_) => c.0.modpow(e, m),
        };
        let m_p =
            l_function(&pow(&self.p_squared, &(&self.p - 1u32)), &self.p) * &self.h_p % &self.p;
        let m_q =
            l_function(&pow(&self.q_squared, &(&self.q - 1u32)), &self.q) * &self.h_q % &self.q;
        // Garner: m = m_p + p·((m_q - m_p)·p^{-1} mod q).
        let diff = (&m_q + &self.q - (&m_p % &self.q)) % &self.q;
        m_p + &self.p * (diff * &self.p_inv_q % &self.q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn keys() -> (PaillierPublicKey, PaillierSecretKey, ChaCha20Rng) {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let (pk, sk) = paillier_keygen(1024, &mut rng).unwrap();
        (pk, sk, rng)
    }

    #[test]
    fn roundtrip_and_homomorphisms() {
        let (pk, sk, mut rng) = keys();
        for _ in 0..8 {
            let a = rng.gen_biguint_below(pk.modulus());
            let b = rng.gen_biguint_below(pk.modulus());
            let k = rng.gen_biguint(64) + 1u32;
            let ca = pk.encrypt(&a, &mut rng).unwrap();
            let cb = pk.encrypt(&b, &mut rng).unwrap();
            assert_eq!(sk.decrypt(&ca), a);
            assert_eq!(sk.decrypt(&pk.add(&ca, &cb)), (&a + &b) % pk.modulus());
            assert_eq!(sk.decrypt(&pk.mul_scalar(&ca, &k)), (&a * &k) % pk.modulus());
            // Fresh encryptions of one value differ (randomised encryption).
            assert_ne!(pk.encrypt(&a, &mut rng).unwrap(), ca);
        }
    }

    #[test]
    fn key_holder_encryption_matches_public_encryption() {
        let (pk, sk, mut rng) = keys();
        assert_eq!(&sk.modulus(), pk.modulus());
        for _ in 0..8 {
            let a = rng.gen_biguint_below(pk.modulus());
            let b = rng.gen_biguint_below(pk.modulus());
            let ca = sk.encrypt(&a, &mut rng).unwrap();
            let cb = pk.encrypt(&b, &mut rng).unwrap();
            // A valid ciphertext: a unit below n², accepted by the wire decoder.
            assert_eq!(pk.ciphertext_from_bytes(&pk.ciphertext_to_bytes(&ca)).unwrap(), ca);
            assert_eq!(sk.decrypt(&ca), a);
            assert_eq!(sk.decrypt(&pk.add(&ca, &cb)), (&a + &b) % pk.modulus());
            assert_ne!(sk.encrypt(&a, &mut rng).unwrap(), ca);
            // The randomiser is an n-th residue, as in public encryption: c·(1+an)^{-1} raised
            // to λ = lcm(p-1, q-1) is 1 mod n² exactly for n-th residues.
            let gm_inv = (BigUint::one() + &a * pk.modulus())
                .mod_inverse(&pk.n_squared)
                .and_then(|v| v.to_biguint())
                .unwrap();
            let rho = &ca.0 * gm_inv % &pk.n_squared;
            let lambda = (&sk.p - 1u32).lcm(&(&sk.q - 1u32));
            assert!(rho.modpow(&lambda, &pk.n_squared).is_one());
        }
        assert!(sk.encrypt(pk.modulus(), &mut rng).is_err());
    }

    /// `c·(1+mn)^{-1}` is an `n`-th residue exactly when its `λ`-th power is 1 mod `n²`.
    fn randomiser_is_nth_residue(
        pk: &PaillierPublicKey,
        sk: &PaillierSecretKey,
        c: &PaillierCiphertext,
        m: &BigUint,
    ) -> bool {
        let gm_inv = (BigUint::one() + m * pk.modulus())
            .mod_inverse(&pk.n_squared)
            .and_then(|v| v.to_biguint())
            .unwrap();
        let rho = &c.0 * gm_inv % &pk.n_squared;
        let lambda = (&sk.p - 1u32).lcm(&(&sk.q - 1u32));
        rho.modpow(&lambda, &pk.n_squared).is_one()
    }

    #[test]
    fn djn_randomiser_is_a_fresh_nth_residue_shared_by_clones() {
        let (pk, sk, mut rng) = keys();
        let m = BigUint::from(77u32);
        let c1 = pk.encrypt(&m, &mut rng).unwrap();
        let clone = pk.clone();
        let c2 = clone.encrypt(&m, &mut rng).unwrap();
        assert_ne!(c1, c2);
        for c in [&c1, &c2] {
            assert_eq!(sk.decrypt(c), m);
            assert!(randomiser_is_nth_residue(&pk, &sk, c, &m));
        }
        // A key parsed from the wire derives the same base: its ciphertexts decrypt too.
        let parsed = PaillierPublicKey::from_bytes(&pk.to_bytes()).unwrap();
        assert_eq!(sk.decrypt(&parsed.encrypt(&m, &mut rng).unwrap()), m);
        // Re-randomising changes the bytes, not the plaintext, and stays an n-th residue.
        let r = pk.rerandomise(&c1, &mut rng);
        assert_ne!(r, c1);
        assert_eq!(sk.decrypt(&r), m);
        assert!(randomiser_is_nth_residue(&pk, &sk, &r, &m));
        // The check is not vacuous: with a wrong plaintext, or a non-residue mixed in, it fails.
        assert!(!randomiser_is_nth_residue(&pk, &sk, &c1, &BigUint::from(78u32)));
        let bad = PaillierCiphertext(&c1.0 * (pk.modulus() - 2u32) % &pk.n_squared);
        assert!(!randomiser_is_nth_residue(&pk, &sk, &bad, &m));
    }

    #[test]
    fn linear_combination_matches_term_by_term_arithmetic() {
        let (pk, sk, mut rng) = keys();
        let n = pk.modulus().clone();
        let values: Vec<BigUint> = (0..9).map(|_| rng.gen_biguint_below(&n)).collect();
        let cts: Vec<_> = values.iter().map(|v| pk.encrypt(v, &mut rng).unwrap()).collect();
        for scalars in [
            vec![3i64, -5, 0, 1, -1, 1 << 40, -(1 << 40) + 7, 12345, -2],
            vec![0i64; 9],
            vec![-1i64; 9],
            vec![(1i64 << 62) - 1, 0, 0, 0, 0, 0, 0, 0, 0],
        ] {
            let terms: Vec<_> = scalars.iter().copied().zip(&cts).collect();
            let got = sk.decrypt(&pk.linear_combination(&terms).unwrap());
            let mut want = num_bigint_dig::BigInt::zero();
            for (k, v) in scalars.iter().zip(&values) {
                want += num_bigint_dig::BigInt::from(*k)
                    * num_bigint_dig::BigInt::from_biguint(num_bigint_dig::Sign::Plus, v.clone());
            }
            let n_int = num_bigint_dig::BigInt::from_biguint(num_bigint_dig::Sign::Plus, n.clone());
            let want = ((want % &n_int) + &n_int) % &n_int;
            assert_eq!(Some(got), want.to_biguint(), "scalars {scalars:?}");
        }
        assert!(pk.linear_combination(&[(i64::MIN, &cts[0])]).is_err());
        assert!(pk.linear_combination(&[(1 << 62, &cts[0])]).is_err());
        assert_eq!(sk.decrypt(&pk.linear_combination(&[]).unwrap()), BigUint::zero());
    }

    #[test]
    fn corrupted_bytes_are_refused_or_change_the_plaintext() {
        let (pk, sk, mut rng) = keys();
        let m = BigUint::from(42u32);
        let c = pk.encrypt(&m, &mut rng).unwrap();
        let bytes = pk.ciphertext_to_bytes(&c);
        assert_eq!(pk.ciphertext_from_bytes(&bytes).unwrap(), c);
        assert!(pk.ciphertext_from_bytes(&bytes[1..]).is_err());
        assert!(pk.ciphertext_from_bytes(&vec![0u8; bytes.len()]).is_err());
        assert!(pk.ciphertext_from_bytes(&vec![0xffu8; bytes.len()]).is_err());
        let n_bytes = {
            let raw = pk.modulus().to_bytes_be();
            let mut v = vec![0u8; bytes.len() - raw.len()];
            v.extend_from_slice(&raw);
            v
        };
        assert!(matches!(pk.ciphertext_from_bytes(&n_bytes), Err(Error::MalformedCiphertext(_))));
        let mut flipped = bytes.clone();
        flipped[bytes.len() / 2] ^= 1;
        if let Ok(c2) = pk.ciphertext_from_bytes(&flipped) {
            assert_ne!(sk.decrypt(&c2), m, "Paillier is malleable, but not silently identical");
        }
        assert!(pk.encrypt(pk.modulus(), &mut rng).is_err());
        assert!(PaillierPublicKey::from_bytes(&[3u8; 10]).is_err());
        assert_eq!(PaillierPublicKey::from_bytes(&pk.to_bytes()).unwrap(), pk);
    }
}
