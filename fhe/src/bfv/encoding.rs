//! SIMD slot packing: `N` values of `Z_t` per plaintext, one per evaluation point of
//! `X^N + 1` modulo `t` (Smart–Vercauteren, "Fully homomorphic SIMD operations", DCC 2014, §3),
//! so plaintext products act slot by slot.
//!
//! Needs a prime `t ≡ 1 (mod 2N)`, true of both named sets. Slot `j` is the evaluation at
//! `ψ^(2·bitrev(j)+1)` for the accelerator's canonical root `ψ` mod `t`. The transform is the
//! accelerator's own [`NttTable`] on the host, not a backend call, so the slot order is the same
//! on every backend and parties with different hardware interoperate.

use rand_core::{CryptoRng, RngCore};
use tessera_accelerator::NttTable;

use super::scheme::{Bfv, BfvCiphertext, BfvPublicKey, BfvSecretKey};
use crate::Error;

impl Bfv {
    fn slot_table(&self) -> Result<std::sync::Arc<NttTable>, Error> {
        NttTable::cached(self.params().plaintext_modulus, self.params().n)
            .map_err(|_| Error::InvalidParameters("plaintext modulus is not ≡ 1 mod 2N: no slots"))
    }

    /// Plaintext polynomial whose slots hold `values` (`≤ N` values below `t`, rest zero).
    pub fn encode_slots(&self, values: &[u64]) -> Result<Vec<u64>, Error> {
        let (n, t) = (self.params().n, self.params().plaintext_modulus);
        if values.len() > n || values.iter().any(|&v| v >= t) {
            return Err(Error::PlaintextOutOfRange("slot values"));
        }
        let mut poly = values.to_vec();
        poly.resize(n, 0);
        self.slot_table()?.inverse(&mut poly);
        Ok(poly)
    }

    /// The slot values of a plaintext polynomial (`N` coefficients below `t`).
    pub fn decode_slots(&self, poly: &[u64]) -> Result<Vec<u64>, Error> {
        let (n, t) = (self.params().n, self.params().plaintext_modulus);
        if poly.len() != n || poly.iter().any(|&v| v >= t) {
            return Err(Error::PlaintextOutOfRange("plaintext polynomial"));
        }
        let mut slots = poly.to_vec();
        self.slot_table()?.forward(&mut slots);
        Ok(slots)
    }

    /// Public-key encryption of slot-packed values.
    pub fn encrypt_slots<R: RngCore + CryptoRng>(
        &self,
        pk: &BfvPublicKey,
        values: &[u64],
        rng: &mut R,
    ) -> Result<BfvCiphertext, Error> {
        self.encrypt(pk, &self.encode_slots(values)?, rng)
    }

    /// Decrypts and unpacks the `N` slots.
    pub fn decrypt_slots(&self, sk: &BfvSecretKey, ct: &BfvCiphertext) -> Result<Vec<u64>, Error> {
        self.decode_slots(&self.decrypt(sk, ct)?)
    }

    /// `Enc(a ⊙ b)` slot by slot, for public slot values `b`.
    pub fn mul_plain_slots(&self, a: &BfvCiphertext, b: &[u64]) -> Result<BfvCiphertext, Error> {
        self.mul_plain(a, &self.encode_slots(b)?)
    }
}
