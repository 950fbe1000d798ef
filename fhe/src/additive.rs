//! [`AdditiveHe`]: the small interface federated learning programs against, implemented by the
//! packed lattice scheme ([`Bfv`]) and by the Paillier baseline ([`Paillier`]).
//!
//! Values are elements of `Z_t` (`t = plaintext_modulus()`); a ciphertext carries up to
//! `slots()` of them, and `add` / `mul_scalar` act slot by slot.

use num_bigint_dig::BigUint;
use num_traits::ToPrimitive;
use rand_core::{CryptoRng, RngCore};

use crate::Error;
use crate::bfv::{Bfv, BfvCiphertext, BfvPublicKey, BfvSecretKey};
use crate::paillier::{PaillierCiphertext, PaillierPublicKey, PaillierSecretKey, paillier_keygen};

/// Additively homomorphic encryption of vectors over `Z_t`.
pub trait AdditiveHe {
    /// Public (encryption and evaluation) key.
    type PublicKey;
    /// Secret (decryption) key.
    type SecretKey;
    /// Ciphertext of up to `slots()` values.
    type Ciphertext: Clone;

    /// Scheme name for logs and benchmark tables.
    fn name(&self) -> &'static str;
    /// The plaintext modulus `t`.
    fn plaintext_modulus(&self) -> u64;
    /// Values per ciphertext.
    fn slots(&self) -> usize;
    /// Samples a key pair.
    fn keygen<R: RngCore + CryptoRng>(
        &self,
        rng: &mut R,
    ) -> Result<(Self::PublicKey, Self::SecretKey), Error>;
    /// Encrypts up to `slots()` values, each below `t` (missing slots are zero).
    fn encrypt<R: RngCore + CryptoRng>(
        &self,
        pk: &Self::PublicKey,
        values: &[u64],
        rng: &mut R,
    ) -> Result<Self::Ciphertext, Error>;
    /// Slot-wise sum.
    fn add(
        &self,
        pk: &Self::PublicKey,
        a: &Self::Ciphertext,
        b: &Self::Ciphertext,
    ) -> Result<Self::Ciphertext, Error>;
    /// Slot-wise product with a public scalar.
    fn mul_scalar(
        &self,
        pk: &Self::PublicKey,
        a: &Self::Ciphertext,
        k: u64,
    ) -> Result<Self::Ciphertext, Error>;
    /// Decrypts all `slots()` values.
    fn decrypt(&self, sk: &Self::SecretKey, ct: &Self::Ciphertext) -> Result<Vec<u64>, Error>;
    /// Bytes this ciphertext takes on the wire.
    fn ciphertext_bytes(&self, pk: &Self::PublicKey, ct: &Self::Ciphertext) -> usize;
}

impl AdditiveHe for Bfv {
    type PublicKey = BfvPublicKey;
    type SecretKey = BfvSecretKey;
    type Ciphertext = BfvCiphertext;

    fn name(&self) -> &'static str {
        "bfv"
    }

    fn plaintext_modulus(&self) -> u64 {
        self.params().plaintext_modulus
    }

    fn slots(&self) -> usize {
        self.params().n
    }

    fn keygen<R: RngCore + CryptoRng>(
        &self,
        rng: &mut R,
    ) -> Result<(BfvPublicKey, BfvSecretKey), Error> {
        Bfv::keygen(self, rng)
    }

    fn encrypt<R: RngCore + CryptoRng>(
        &self,
        pk: &BfvPublicKey,
        values: &[u64],
        rng: &mut R,
    ) -> Result<BfvCiphertext, Error> {
        Bfv::encrypt(self, pk, values, rng)
    }

    fn add(
        &self,
        _: &BfvPublicKey,
        a: &BfvCiphertext,
        b: &BfvCiphertext,
    ) -> Result<BfvCiphertext, Error> {
        Bfv::add(self, a, b)
    }

    fn mul_scalar(
        &self,
        _: &BfvPublicKey,
        a: &BfvCiphertext,
        k: u64,
    ) -> Result<BfvCiphertext, Error> {
        Bfv::mul_scalar(self, a, k)
    }

    fn decrypt(&self, sk: &BfvSecretKey, ct: &BfvCiphertext) -> Result<Vec<u64>, Error> {
        Bfv::decrypt(self, sk, ct)
    }

    fn ciphertext_bytes(&self, _: &BfvPublicKey, ct: &BfvCiphertext) -> usize {
        self.ciphertext_len(ct).unwrap_or(0)
    }
}

/// Paillier through [`AdditiveHe`]: one value of `Z_t` per ciphertext (see [`crate::paillier`]).
#[derive(Clone, Debug)]
pub struct Paillier {
    /// Modulus size in bits.
    pub modulus_bits: usize,
    /// The plaintext modulus `t` that decryption reduces into.
    pub plaintext_modulus: u64,
}

impl AdditiveHe for Paillier {
    type PublicKey = PaillierPublicKey;
    type SecretKey = PaillierSecretKey;
    type Ciphertext = PaillierCiphertext;

    fn name(&self) -> &'static str {
        "paillier"
    }

    fn plaintext_modulus(&self) -> u64 {
        self.plaintext_modulus
    }

    fn slots(&self) -> usize {
        1
    }

    fn keygen<R: RngCore + CryptoRng>(
        &self,
        rng: &mut R,
    ) -> Result<(PaillierPublicKey, PaillierSecretKey), Error> {
        if self.plaintext_modulus < 2 {
            return Err(Error::InvalidParameters("plaintext modulus must be at least 2"));
        }
        paillier_keygen(self.modulus_bits, rng)
    }

    fn encrypt<R: RngCore + CryptoRng>(
        &self,
        pk: &PaillierPublicKey,
        values: &[u64],
        rng: &mut R,
    ) -> Result<PaillierCiphertext, Error> {
        let v = match values {
            [] => 0,
            [v] if *v < self.plaintext_modulus => *v,
            [_] => return Err(Error::PlaintextOutOfRange("value at or above t")),
            _ => return Err(Error::PlaintextOutOfRange("Paillier holds one value")),
        };
        pk.encrypt(&BigUint::from(v), rng)
    }

    fn add(
        &self,
        pk: &PaillierPublicKey,
        a: &PaillierCiphertext,
        b: &PaillierCiphertext,
    ) -> Result<PaillierCiphertext, Error> {
        Ok(pk.add(a, b))
    }

    fn mul_scalar(
        &self,
        pk: &PaillierPublicKey,
        a: &PaillierCiphertext,
        k: u64,
    ) -> Result<PaillierCiphertext, Error> {
        Ok(pk.mul_scalar(a, &BigUint::from(k % self.plaintext_modulus)))
    }

    fn decrypt(&self, sk: &PaillierSecretKey, ct: &PaillierCiphertext) -> Result<Vec<u64>, Error> {
        let m = sk.decrypt(ct) % BigUint::from(self.plaintext_modulus);
        Ok(vec![m.to_u64().unwrap_or_default()])
    }

    fn ciphertext_bytes(&self, pk: &PaillierPublicKey, _: &PaillierCiphertext) -> usize {
        pk.ciphertext_len()
    }
}
