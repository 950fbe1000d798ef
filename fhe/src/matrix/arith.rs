//! Arithmetic modulo the plaintext prime `t = 2^127 − 1` and the exact centred reduction of an
//! RNS residue vector modulo `t` (Garner's mixed radix, no big integers per coefficient).

use num_bigint_dig::BigUint;
use num_traits::ToPrimitive;
use tessera_accelerator::Modulus;

use super::params::PLAINTEXT_MODULUS as T;
use crate::Error;

/// `x mod t` for any `x < 2^128`.
pub(crate) fn reduce(x: u128) -> u128 {
    let r = (x & T) + (x >> 127);
    if r >= T { r - T } else { r }
}

/// `a + b mod t` for reduced operands.
pub(crate) fn add(a: u128, b: u128) -> u128 {
    reduce(a + b)
}

/// `a − b mod t` for reduced operands.
pub(crate) fn sub(a: u128, b: u128) -> u128 {
    if a >= b { a - b } else { a + (T - b) }
}

/// `a·b mod t` for reduced operands: the 254-bit product folded with `2^127 ≡ 1`.
pub(crate) fn mul(a: u128, b: u128) -> u128 {
    let (a0, a1) = (a as u64 as u128, a >> 64);
    let (b0, b1) = (b as u64 as u128, b >> 64);
    let lo = a0 * b0;
    let mid = a0 * b1 + a1 * b0; // < 2^128: a1, b1 < 2^63
    let hi = a1 * b1;
    // product = hi·2^128 + mid·2^64 + lo, and 2^128 ≡ 2, 2^64·2^64 ≡ 2.
    let (mid_lo, mid_hi) = ((mid as u64 as u128) << 64, mid >> 64);
    let (low, carry) = lo.overflowing_add(mid_lo);
    let high = hi + mid_hi + u128::from(carry); // < 2^127
    // value = high·2^128 + low ≡ 2·high + low
    add(reduce(low), reduce(high << 1))
}

/// Constants for reconstructing residues modulo `q = Π q_i` as centred integers, reduced mod `t`.
#[derive(Debug)]
pub(crate) struct Garner {
    /// `inv[i][j] = q_j^{-1} mod q_i` for `j < i`.
    inv: Vec<Vec<u64>>,
    /// `Π_{j<i} q_j mod t`.
    radix_mod_t: Vec<u128>,
    /// Mixed-radix digits of `(q − 1)/2`.
    half_digits: Vec<u64>,
    /// `q mod t`.
    q_mod_t: u128,
}

impl Garner {
    pub(crate) fn new(moduli: &[Modulus]) -> Result<Self, Error> {
        let inv = (0..moduli.len())
            .map(|i| {
                (0..i).map(|j| moduli[i].inv_prime(moduli[j].value() % moduli[i].value())).collect()
            })
            .collect();
        let mut radix_mod_t = Vec::with_capacity(moduli.len());
        let mut acc = 1u128;
        for m in moduli {
            radix_mod_t.push(acc);
            acc = mul(acc, u128::from(m.value()));
        }
        let q = moduli.iter().fold(BigUint::from(1u32), |a, m| a * BigUint::from(m.value()));
        let q_mod_t =
            (&q % BigUint::from(T)).to_u128().ok_or(Error::InvalidParameters("q mod t"))?;
        let half: BigUint = (&q - BigUint::from(1u32)) >> 1usize;
        let residues = moduli
            .iter()
            .map(|m| (&half % BigUint::from(m.value())).to_u64())
            .collect::<Option<Vec<_>>>()
            .ok_or(Error::InvalidParameters("residue of q/2"))?;
        let mut g = Self { inv, radix_mod_t, half_digits: Vec::new(), q_mod_t };
        g.half_digits = g.digits(moduli, &residues);
        Ok(g)
    }

    /// Mixed-radix digits `v_i ∈ [0, q_i)` with `x = Σ v_i·Π_{j<i} q_j`.
    fn digits(&self, moduli: &[Modulus], residues: &[u64]) -> Vec<u64> {
        let mut v: Vec<u64> = Vec::with_capacity(moduli.len());
        for (i, m) in moduli.iter().enumerate() {
            let mut u = residues[i];
            for (j, &vj) in v.iter().enumerate() {
                u = m.mul(m.sub(u, vj % m.value()), self.inv[i][j]);
            }
            v.push(u);
        }
        v
    }

    /// The centred integer in `(−q/2, q/2]` with these residues, reduced mod `t`.
    pub(crate) fn centred_mod_t(&self, moduli: &[Modulus], residues: &[u64]) -> u128 {
        let v = self.digits(moduli, residues);
        let mut x = 0u128;
        for (d, r) in v.iter().zip(&self.radix_mod_t) {
            x = add(x, mul(reduce(u128::from(*d)), *r));
        }
        // Compare with (q − 1)/2 from the top digit down.
        let mut above = false;
        for (d, h) in v.iter().rev().zip(self.half_digits.iter().rev()) {
            if d != h {
                above = d > h;
                break;
            }
        }
        if above { sub(x, self.q_mod_t) } else { x }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mersenne_arithmetic_matches_big_integers() {
        let vals = [
            0u128,
            1,
            2,
            T - 1,
            T - 2,
            1 << 126,
            (1 << 127) - 5,
            0x1234_5678_9abc_def0_1122_3344_5566_7788,
        ];
        for &a in &vals {
            for &b in &vals {
                let (a, b) = (reduce(a), reduce(b));
                let want = (BigUint::from(a) * BigUint::from(b)) % BigUint::from(T);
                assert_eq!(BigUint::from(mul(a, b)), want, "{a} {b}");
                assert_eq!(
                    add(a, b),
                    ((BigUint::from(a) + BigUint::from(b)) % BigUint::from(T)).to_u128().unwrap()
                );
                assert_eq!(add(sub(a, b), b), a);
            }
        }
    }

    #[test]
    fn garner_recovers_centred_values() {
        let primes = tessera_accelerator::ntt_primes(58, 1024, 3).unwrap();
        let moduli: Vec<Modulus> = primes.iter().map(|&q| Modulus::new(q).unwrap()).collect();
        let g = Garner::new(&moduli).unwrap();
        let q = primes.iter().fold(BigUint::from(1u32), |a, &p| a * BigUint::from(p));
        let t = BigUint::from(T);
        for x in [
            BigUint::from(0u32),
            BigUint::from(5u32),
            (&q >> 1usize),
            (&q >> 1usize) + 1u32,
            &q - 1u32,
            &q - BigUint::from(1u128 << 100),
        ] {
            let res: Vec<u64> =
                primes.iter().map(|&p| (&x % BigUint::from(p)).to_u64().unwrap()).collect();
            let want = if x > (&q >> 1usize) {
                // x − q, as a value mod t
                let neg = (&q - &x) % &t;
                (&t - neg) % &t
            } else {
                &x % &t
            };
            assert_eq!(BigUint::from(g.centred_mod_t(&moduli, &res)), want);
        }
    }
}
