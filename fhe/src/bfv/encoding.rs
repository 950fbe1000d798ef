//! SIMD slot packing: `N` values of `Z_t` per plaintext, one per evaluation point of
//! `X^N + 1` modulo `t` (Smart–Vercauteren, "Fully homomorphic SIMD operations", DCC 2014, §3),
//! so plaintext products act slot by slot.
//!
//! Needs a prime `t ≡ 1 (mod 2N)`, true of both named sets. Slots form two rows of `N/2`:
//! slot `i` of row 0 is the evaluation at `ψ^(3^i)` and slot `i` of row 1 at `ψ^(-3^i)` (`ψ`
//! the accelerator's canonical root of order `2N` mod `t`), so `X ↦ X^(3^r)` rotates both rows
//! (SEAL's batch layout). The transform is the accelerator's own [`NttTable`] on the host, not a
//! backend call, so the slot order is the same on every backend and parties with different
//! hardware interoperate.

use rand_core::{CryptoRng, RngCore};
use tessera_accelerator::NttTable;

use super::scheme::{Bfv, BfvCiphertext, BfvPublicKey, BfvSecretKey};
use crate::Error;

/// NTT index of each slot: the table's index `j` holds the evaluation at `ψ^(2·bitrev(j)+1)`.
fn slot_positions(n: usize) -> Vec<usize> {
    let log_n = n.trailing_zeros();
    let two_n = 2 * n;
    let index_of = |e: usize| ((e - 1) / 2).reverse_bits() >> (usize::BITS - log_n);
    let mut pos = vec![0usize; n];
    let mut e = 1usize;
    for i in 0..n / 2 {
        pos[i] = index_of(e);
        pos[n / 2 + i] = index_of(two_n - e);
        e = e * 3 % two_n;
    }
    pos
}

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
        let table = self.slot_table()?;
        let mut poly = vec![0u64; n];
        for (&v, &p) in values.iter().zip(&slot_positions(n)) {
            poly[p] = v;
        }
        table.inverse(&mut poly);
        Ok(poly)
    }

    /// The slot values of a plaintext polynomial (`N` coefficients below `t`).
    pub fn decode_slots(&self, poly: &[u64]) -> Result<Vec<u64>, Error> {
        let (n, t) = (self.params().n, self.params().plaintext_modulus);
        if poly.len() != n || poly.iter().any(|&v| v >= t) {
            return Err(Error::PlaintextOutOfRange("plaintext polynomial"));
        }
        let table = self.slot_table()?;
        let mut evals = poly.to_vec();
        table.forward(&mut evals);
        Ok(slot_positions(n).into_iter().map(|p| evals[p]).collect())
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
