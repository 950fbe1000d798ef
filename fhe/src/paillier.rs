//! Paillier encryption, the additive scheme FATE uses: Tessera's baseline for packed lattice HE.
//!
//! Follows Paillier, "Public-Key Cryptosystems Based on Composite Degree Residuosity Classes",
//! EUROCRYPT 1999, §4 (Scheme 1) with `g = n + 1` (so `g^m = 1 + m·n mod n²`, Damgård–Jurik,
//! PKC 2001, §3) and CRT decryption (§7). Security: IND-CPA under the decisional composite
//! residuosity assumption; no integrity, so use it only where the parties are semi-honest or
//! ciphertexts are authenticated elsewhere. A 2048-bit `n` gives about 112-bit security (NIST
//! SP 800-57 Table 2); 3072 bits give 128.
//!
//! Plaintexts live in `Z_n`. Through [`crate::AdditiveHe`] the scheme carries one value of
//! `Z_t` per ciphertext (`t < 2^64`): sums and scalar products are exact integers far below `n`
//! and decryption reduces them mod `t`, so it agrees with the packed scheme for any realistic
//! number of operations (up to `n / t²` of them).

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Odd};
use num_bigint_dig::{BigUint, ModInverse, RandBigInt, RandPrime};
use num_integer::Integer;
use num_traits::{One, Zero};
use rand_core::{CryptoRng, RngCore};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::Error;

/// Default modulus size in bits.
pub const DEFAULT_MODULUS_BITS: usize = 2048;

/// Public key: the modulus `n = p·q` and `n²` (with its Montgomery parameters).
#[derive(Clone, Debug)]
pub struct PaillierPublicKey {
    n: BigUint,
    n_squared: BigUint,
    n_squared_monty: Monty,
}

impl PartialEq for PaillierPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.n == other.n
    }
}

impl Eq for PaillierPublicKey {}

/// Montgomery parameters of an odd modulus, for `crypto-bigint`'s constant-time `pow`.
#[derive(Clone, Debug)]
struct Monty {
    params: BoxedMontyParams,
    modulus: BigUint,
    bits: u32,
}

impl Monty {
    fn new(m: &BigUint) -> Result<Self, Error> {
        let bits = (m.bits() as u32).next_multiple_of(64);
        let boxed = BoxedUint::from_be_slice(&m.to_bytes_be(), bits)
            .map_err(|_| Error::InvalidParameters("modulus encoding"))?;
        let odd = Odd::new(boxed)
            .into_option()
            .ok_or(Error::InvalidParameters("Montgomery modulus must be odd"))?;
        Ok(Self { params: BoxedMontyParams::new(odd), modulus: m.clone(), bits })
    }

    /// `base^exp mod m`, time independent of `base` and of `exp`'s value (not its length).
    fn pow(&self, base: &BigUint, exp: &BigUint) -> BigUint {
        let base = base % &self.modulus;
        let b = BoxedUint::from_be_slice_truncated(&base.to_bytes_be(), self.bits);
        let exp_bits = (exp.bits().max(1) as u32).next_multiple_of(64);
        let e = BoxedUint::from_be_slice_truncated(&exp.to_bytes_be(), exp_bits);
        let r = BoxedMontyForm::new(b, &self.params).pow(&e).retrieve();
        BigUint::from_bytes_be(&r.to_be_bytes())
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
        Ok(Self { n, n_squared, n_squared_monty })
    }

    /// The modulus `n`.
    pub fn modulus(&self) -> &BigUint {
        &self.n
    }

    /// Bytes of one serialised ciphertext (`n²` in fixed width).
    pub fn ciphertext_len(&self) -> usize {
        self.n_squared.bits().div_ceil(8)
    }

    /// `Enc(m) = (1 + m·n)·r^n mod n²` with uniform `r ∈ Z*_n`.
    pub fn encrypt<R: RngCore + CryptoRng>(
        &self,
        m: &BigUint,
        rng: &mut R,
    ) -> Result<PaillierCiphertext, Error> {
        if m >= &self.n {
            return Err(Error::PlaintextOutOfRange("Paillier plaintext must be below n"));
        }
        let r = loop {
            let r = rng.gen_biguint_below(&self.n);
            // r shares a factor with n with negligible probability; refuse it anyway.
            if !r.is_zero() && r.gcd(&self.n).is_one() {
                break r;
            }
        };
        let gm = (BigUint::one() + m * &self.n) % &self.n_squared;
        Ok(PaillierCiphertext(gm * self.n_squared_monty.pow(&r, &self.n) % &self.n_squared))
    }

    /// `Enc(a + b)` from `Enc(a)` and `Enc(b)`: the product mod `n²`.
    pub fn add(&self, a: &PaillierCiphertext, b: &PaillierCiphertext) -> PaillierCiphertext {
        PaillierCiphertext(&a.0 * &b.0 % &self.n_squared)
    }

    /// `Enc(k·a)` from `Enc(a)`: the power `c^k mod n²`.
    pub fn mul_scalar(&self, a: &PaillierCiphertext, k: &BigUint) -> PaillierCiphertext {
        PaillierCiphertext(self.n_squared_monty.pow(&a.0, k))
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

    /// Key-holder encryption: the same distribution as [`PaillierPublicKey::encrypt`], about
    /// four times faster, for parties that encrypt under their own key (a federated guest
    /// encrypting its gradients, a party encrypting its own rows).
    ///
    /// Why it is the same distribution: `Z*_{p²} ≅ Z_{p-1} × Z_p`, and `r ↦ r^n` kills the
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
