//! Montgomery arithmetic modulo `n²` (or `p²`) on `crypto-bigint`'s boxed integers: single
//! exponentiations, and the multi-exponentiation behind homomorphic linear combinations.
//!
//! The multi-exponentiation is the bucket form of Pippenger's algorithm (Pippenger, "On the
//! evaluation of powers and monomials", SIAM J. Comput. 9(2), 1980; the form elliptic-curve
//! libraries use for multi-scalar multiplication): per window of `c` exponent bits every base is multiplied into the bucket its digit names, and the buckets are
//! folded with a running product, so `T` bases with `b`-bit exponents cost about
//! `⌈b/c⌉·(T + 2^(c+1)) + b` products instead of `T·b·1.5`. Every base costs one product per
//! window whatever its digit (the zero digit goes to a discarded bucket), so the operation
//! count depends only on `T` and on `b`, not on the exponents' values; the bucket addresses do
//! (a local cache-timing channel, as in any table-based exponentiation).

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Odd};
use num_bigint_dig::BigUint;

use crate::Error;

/// Montgomery parameters of an odd modulus.
#[derive(Clone, Debug)]
pub(crate) struct Monty {
    params: BoxedMontyParams,
    modulus: BigUint,
    bits: u32,
}

impl Monty {
    pub(crate) fn new(m: &BigUint) -> Result<Self, Error> {
        let bits = (m.bits() as u32).next_multiple_of(64);
        let boxed = BoxedUint::from_be_slice(&m.to_bytes_be(), bits)
            .map_err(|_| Error::InvalidParameters("modulus encoding"))?;
        let odd = Odd::new(boxed)
            .into_option()
            .ok_or(Error::InvalidParameters("Montgomery modulus must be odd"))?;
        Ok(Self { params: BoxedMontyParams::new(odd), modulus: m.clone(), bits })
    }

    /// `x mod m` in Montgomery form.
    pub(crate) fn to_form(&self, x: &BigUint) -> BoxedMontyForm {
        let x = x % &self.modulus;
        let b = BoxedUint::from_be_slice_truncated(&x.to_bytes_be(), self.bits);
        BoxedMontyForm::new(b, &self.params)
    }

    /// The integer in `[0, m)` that `f` represents.
    pub(crate) fn from_form(f: &BoxedMontyForm) -> BigUint {
        BigUint::from_bytes_be(&f.retrieve().to_be_bytes())
    }

    /// The Montgomery form of 1.
    pub(crate) fn one(&self) -> BoxedMontyForm {
        BoxedMontyForm::one(&self.params)
    }

    /// `base^exp mod m`, time independent of `base` and of `exp`'s value (not its length).
    pub(crate) fn pow(&self, base: &BigUint, exp: &BigUint) -> BigUint {
        let exp_bits = (exp.bits().max(1) as u32).next_multiple_of(64);
        let e = BoxedUint::from_be_slice_truncated(&exp.to_bytes_be(), exp_bits);
        Self::from_form(&self.to_form(base).pow(&e))
    }

    /// `Π bases[i]^exps[i]` by the bucket method; `bases` and `exps` have equal lengths.
    pub(crate) fn multi_pow(&self, bases: &[BoxedMontyForm], exps: &[u64]) -> BoxedMontyForm {
        let bits = exps.iter().map(|e| 64 - e.leading_zeros()).max().unwrap_or(0);
        if bases.is_empty() || bits == 0 {
            return self.one();
        }
        let c = best_window(bases.len(), bits);
        let windows = bits.div_ceil(c);
        let mask = (1u64 << c) - 1;
        let mut acc = self.one();
        for w in (0..windows).rev() {
            for _ in 0..c {
                acc = acc.square();
            }
            // buckets[0] takes the zero digits and is discarded.
            let mut buckets = vec![self.one(); 1 << c];
            for (base, &e) in bases.iter().zip(exps) {
                let digit = ((e >> (w * c)) & mask) as usize;
                buckets[digit] = buckets[digit].mul(base);
            }
            // Σ_d d·bucket_d as a running product from the top digit down.
            let mut running = self.one();
            let mut window_sum = self.one();
            for bucket in buckets.iter().skip(1).rev() {
                running = running.mul(bucket);
                window_sum = window_sum.mul(&running);
            }
            acc = acc.mul(&window_sum);
        }
        acc
    }
}

/// The window width minimising `⌈bits/c⌉·(terms + 2^(c+1)) + bits` products.
fn best_window(terms: usize, bits: u32) -> u32 {
    let cost = |c: u32| u64::from(bits.div_ceil(c)) * (terms as u64 + (2u64 << c));
    (1..=16).min_by_key(|&c| cost(c)).unwrap_or(4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint_dig::RandBigInt;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn multi_pow_matches_separate_powers() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let m = rng.gen_biguint(512) | BigUint::from(1u32);
        let monty = Monty::new(&m).unwrap();
        for terms in [0usize, 1, 2, 7, 40] {
            for max_bits in [1u32, 5, 20, 63] {
                let raw: Vec<BigUint> = (0..terms).map(|_| rng.gen_biguint_below(&m)).collect();
                let exps: Vec<u64> = (0..terms).map(|_| rng.next_u64_below(max_bits)).collect();
                let bases: Vec<_> = raw.iter().map(|b| monty.to_form(b)).collect();
                let got = Monty::from_form(&monty.multi_pow(&bases, &exps));
                let want = raw.iter().zip(&exps).fold(BigUint::from(1u32), |acc, (b, &e)| {
                    acc * b.modpow(&BigUint::from(e), &m) % &m
                });
                assert_eq!(got, want, "{terms} terms, {max_bits}-bit exponents");
            }
        }
    }

    trait BelowBits {
        fn next_u64_below(&mut self, bits: u32) -> u64;
    }

    impl BelowBits for ChaCha20Rng {
        fn next_u64_below(&mut self, bits: u32) -> u64 {
            use rand_core::RngCore;
            self.next_u64() >> (64 - bits)
        }
    }

    #[test]
    fn window_choice_grows_with_the_number_of_terms() {
        assert!(best_window(2, 20) <= best_window(50, 20));
        assert!(best_window(50, 20) <= best_window(5000, 40));
    }
}
