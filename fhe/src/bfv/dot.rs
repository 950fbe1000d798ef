//! Sums of slot-wise plaintext products, `Σ_i Enc(a_i ⊙ m_i)`, with each ciphertext transformed
//! once and the products accumulated in NTT form: one inverse transform per sum instead of the
//! six transforms per term that [`Bfv::mul_plain_slots`] followed by [`Bfv::add`] costs. Used
//! for encrypted masked sums (e.g. histogram rows selected by public 0/1 masks). The result
//! equals the sum of [`Bfv::mul_plain_slots`] products exactly (same centred lift of the
//! plaintext), so it has the same noise and the same security as [`super`].

use tessera_accelerator::Backend;

use super::scheme::{Bfv, BfvCiphertext};
use crate::Error;

/// A ciphertext kept in NTT form for repeated plaintext products.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BfvNttCiphertext {
    limbs: usize,
    /// `[c0 | c1]`, `limbs × N` words each, transformed.
    ntt: Vec<u64>,
}

impl Bfv {
    /// Transforms a ciphertext for [`Bfv::dot_plain_slots`].
    pub fn to_ntt_form(&self, ct: &BfvCiphertext) -> Result<BfvNttCiphertext, Error> {
        let l = self.check_shape(ct)?;
        let mut both = ct.c0.clone();
        both.extend_from_slice(&ct.c1);
        let qs = &self.params().moduli[..l];
        let acc = self.acc();
        let mut d = acc.upload(&both)?;
        acc.ntt_forward_batch(&mut d, self.params().n, qs)?;
        Ok(BfvNttCiphertext { limbs: l, ntt: acc.download(&d)? })
    }

    /// `Σ_i Enc(a_i ⊙ m_i)` for ciphertexts `a_i` of one level and public slot values `m_i`
    /// (each at most `N` values below `t`). `None` when `terms` is empty.
    pub fn dot_plain_slots(
        &self,
        terms: &[(&BfvNttCiphertext, &[u64])],
    ) -> Result<Option<BfvCiphertext>, Error> {
        let Some(first) = terms.first() else { return Ok(None) };
        let (n, t) = (self.params().n, self.params().plaintext_modulus);
        let l = first.0.limbs;
        if terms.iter().any(|(a, _)| a.limbs != l || a.ntt.len() != 2 * l * n) {
            return Err(Error::LevelMismatch);
        }
        let qs = &self.params().moduli[..l];
        let moduli = &self.moduli()[..l];
        // Lift every plaintext centred into each limb and transform them in one batch.
        let mut lifted = Vec::with_capacity(terms.len() * l * n);
        for (_, values) in terms {
            let p = self.encode_slots(values)?;
            for m in moduli {
                let q = m.value();
                lifted.extend(p.iter().map(|&v| if v > t / 2 { q - (t - v) } else { v }));
            }
        }
        let acc_dev = self.acc();
        let mut d = acc_dev.upload(&lifted)?;
        acc_dev.ntt_forward_batch(&mut d, n, qs)?;
        let lifted = acc_dev.download(&d)?;
        let mut sum = vec![0u64; 2 * l * n];
        for ((a, _), p) in terms.iter().zip(lifted.chunks(l * n)) {
            for (half, a_half) in sum.chunks_mut(l * n).zip(a.ntt.chunks(l * n)) {
                for (((s_row, a_row), p_row), m) in
                    half.chunks_mut(n).zip(a_half.chunks(n)).zip(p.chunks(n)).zip(moduli)
                {
                    for ((s, &x), &y) in s_row.iter_mut().zip(a_row).zip(p_row) {
                        *s = m.add(*s, m.mul(x, y));
                    }
                }
            }
        }
        let mut d = acc_dev.upload(&sum)?;
        acc_dev.ntt_inverse_batch(&mut d, n, qs)?;
        let mut both = acc_dev.download(&d)?;
        let c1 = both.split_off(l * n);
        Ok(Some(BfvCiphertext { c0: both, c1, seed: None }))
    }
}
