//! Fixed-base exponentiation `h^a` by a comb of precomputed powers, for the Paillier
//! randomiser of Damgård–Jurik–Nielsen (see [`super`]).
//!
//! The table holds `h^(d·2^(w·i))` for every window `i` and digit `d < 2^w`, so `h^a` costs one
//! product per `w`-bit window of `a` and no squarings: for a 1024-bit `a` and `w = 6`, 171
//! products instead of the ~1,300 of a square-and-multiply. `a` is secret (whoever learns it
//! can strip the randomiser), so each window's entry is read by a constant-time scan of the
//! whole row rather than by indexing with the digit.

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Choice, CtAssign};
use zeroize::Zeroize;

use super::monty::Monty;

/// Bits per comb window.
const WINDOW: u32 = 6;

/// Powers of one base, ready for [`FixedBase::pow`].
#[derive(Debug)]
pub(crate) struct FixedBase {
    /// `rows[i][d] = h^(d·2^(w·i))`, Montgomery representations (selected word by word).
    rows: Vec<Vec<BoxedUint>>,
    params: BoxedMontyParams,
    one: BoxedMontyForm,
}

impl FixedBase {
    /// Precomputes the table for exponents of up to `exp_bits` bits.
    pub(crate) fn new(monty: &Monty, base: &BoxedMontyForm, exp_bits: u32) -> Self {
        let windows = exp_bits.div_ceil(WINDOW) as usize;
        let mut rows = Vec::with_capacity(windows);
        let mut step = base.clone();
        for _ in 0..windows {
            let mut row = Vec::with_capacity(1 << WINDOW);
            row.push(monty.one());
            for d in 1..(1usize << WINDOW) {
                row.push(row[d - 1].mul(&step));
            }
            // h^(2^(w·(i+1))) = (h^(2^(w·i)))^(2^w) = row[2^w - 1] · step.
            step = row[(1 << WINDOW) - 1].mul(&step);
            rows.push(row.iter().map(BoxedMontyForm::to_montgomery).collect());
        }
        let one = monty.one();
        Self { rows, params: one.params().clone(), one }
    }

    /// `h^a` for `a` given as little-endian 64-bit words; bits of `a` beyond the table's
    /// exponent size are ignored.
    pub(crate) fn pow(&self, a: &[u64]) -> BoxedMontyForm {
        let mut acc = self.one.clone();
        let mut entry = BoxedMontyForm::one(&self.params);
        for (i, row) in self.rows.iter().enumerate() {
            let digit = window_digit(a, i as u32 * WINDOW);
            let selected = entry.as_montgomery_mut();
            selected.clone_from(&row[0]);
            for (d, candidate) in row.iter().enumerate().skip(1) {
                selected.ct_assign(candidate, Choice::from_u32_eq(d as u32, digit));
            }
            acc = acc.mul(&entry);
        }
        // The last entry selected reveals a digit of `a`.
        entry.zeroize();
        acc
    }
}

/// The `WINDOW`-bit digit of `a` starting at bit `at` (bits past the end read as zero).
fn window_digit(a: &[u64], at: u32) -> u32 {
    let word = (at / 64) as usize;
    let shift = at % 64;
    let low = a.get(word).copied().unwrap_or(0) >> shift;
    let high = if shift + WINDOW > 64 && shift > 0 {
        a.get(word + 1).copied().unwrap_or(0) << (64 - shift)
    } else {
        0
    };
    ((low | high) & ((1 << WINDOW) - 1)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint_dig::{BigUint, RandBigInt};
    use rand_chacha::ChaCha20Rng;
    use rand_core::{RngCore, SeedableRng};

    #[test]
    fn comb_matches_modpow() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let m = rng.gen_biguint(640) | BigUint::from(1u32);
        let monty = Monty::new(&m).unwrap();
        let h = rng.gen_biguint_below(&m);
        let table = FixedBase::new(&monty, &monty.to_form(&h), 200);
        for words in [vec![0u64; 4], vec![1, 0, 0, 0], vec![u64::MAX; 3], {
            let mut v = vec![0u64; 4];
            v.iter_mut().for_each(|w| *w = rng.next_u64());
            v[3] &= (1 << 8) - 1; // 200 bits
            v
        }] {
            let a = words.iter().rev().fold(BigUint::from(0u32), |acc, &w| (acc << 64) + w);
            let got = Monty::from_form(&table.pow(&words));
            assert_eq!(got, h.modpow(&a, &m), "exponent {a}");
        }
    }

    #[test]
    fn digits_straddle_word_boundaries() {
        let a = [0xF000_0000_0000_0000u64, 0b11];
        // Bits 60..66: four ones from the first word, two from the second.
        assert_eq!(window_digit(&a, 60), 0b11_1111);
        assert_eq!(window_digit(&a, 66), 0);
        assert_eq!(window_digit(&a, 6000), 0);
    }
}
