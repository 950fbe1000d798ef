//! NTT-friendly primes: `p ≡ 1 (mod 2N)`, so `Z_p` holds a primitive `2N`-th root of unity and
//! the negacyclic transform of length `N` exists.

use crate::Error;
use crate::arith::{MAX_MODULUS_BITS, Modulus};

/// Deterministic Miller–Rabin for 64-bit integers.
///
/// The seven bases are Jim Sinclair's set, proven to classify every `n < 2^64` correctly.
pub fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    for small in [2u64, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37] {
        if n.is_multiple_of(small) {
            return n == small;
        }
    }
    let d = (n - 1) >> (n - 1).trailing_zeros();
    let s = (n - 1).trailing_zeros();
    let mulmod = |a: u64, b: u64| (u128::from(a) * u128::from(b) % u128::from(n)) as u64;
    let powmod = |mut a: u64, mut e: u64| {
        let mut acc = 1u64;
        while e > 0 {
            if e & 1 == 1 {
                acc = mulmod(acc, a);
            }
            a = mulmod(a, a);
            e >>= 1;
        }
        acc
    };
    'bases: for base in [2u64, 325, 9375, 28178, 450_775, 9_780_504, 1_795_265_022] {
        let a = base % n;
        if a == 0 {
            continue;
        }
        let mut x = powmod(a, d);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = mulmod(x, x);
            if x == n - 1 {
                continue 'bases;
            }
        }
        return false;
    }
    true
}

/// The `count` largest primes `p < 2^bits` with `p ≡ 1 (mod 2n)`, in decreasing order.
///
/// These are the RNS limbs a lattice scheme uses for ring dimension `n`; `bits ≤ 62` keeps them
/// inside what every kernel accepts.
pub fn ntt_primes(bits: u32, n: usize, count: usize) -> Result<Vec<u64>, Error> {
    let step = (n as u64)
        .checked_mul(2)
        .filter(|_| n.is_power_of_two())
        .ok_or(Error::UnsupportedSize { n })?;
    if !(2..=MAX_MODULUS_BITS).contains(&bits) || step >= (1u64 << bits) {
        return Err(Error::NotEnoughPrimes { bits, n, count });
    }
    let mut primes = Vec::with_capacity(count);
    // Largest candidate 1 + k·2n below 2^bits.
    let mut candidate = ((1u64 << bits) - 1) / step * step + 1;
    if candidate >= (1u64 << bits) {
        candidate -= step;
    }
    while primes.len() < count {
        if is_prime(candidate) {
            primes.push(candidate);
        }
        if candidate <= step {
            return Err(Error::NotEnoughPrimes { bits, n, count });
        }
        candidate -= step;
    }
    Ok(primes)
}

/// Checks that `p` is a prime below `2^62` with `p ≡ 1 (mod 2n)` and returns its smallest-base
/// primitive `2n`-th root of unity `ψ`.
///
/// `ψ = g^((p-1)/2n)` for the first `g = 2, 3, …` with `ψ^n = -1`; since `2n` is a power of two,
/// `ψ^n = -1` is exactly the condition for order `2n`. The choice is deterministic, so the
/// CPU and GPU tables built from it agree.
pub(crate) fn primitive_root_2n(p: u64, n: usize) -> Result<u64, Error> {
    let modulus = Modulus::new(p)?;
    let two_n = 2 * n as u64;
    if !is_prime(p) || !(p - 1).is_multiple_of(two_n) {
        return Err(Error::NotNttFriendly { modulus: p, n });
    }
    let cofactor = (p - 1) / two_n;
    for g in 2..p {
        let psi = modulus.pow(g, cofactor);
        if modulus.pow(psi, n as u64) == p - 1 {
            return Ok(psi);
        }
    }
    // Unreachable for a prime with 2n | p-1 (half of all residues are non-residues), but a
    // typed error beats a panic.
    Err(Error::NotNttFriendly { modulus: p, n })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn miller_rabin_agrees_with_trial_division() {
        let trial =
            |n: u64| n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| !n.is_multiple_of(d));
        for n in 0..20_000u64 {
            assert_eq!(is_prime(n), trial(n), "n={n}");
        }
        // Strong pseudoprimes to several small bases and known large primes.
        assert!(!is_prime(3_215_031_751));
        assert!(!is_prime(3_825_123_056_546_413_051));
        assert!(is_prime((1u64 << 61) - 1));
        assert!(is_prime((1u64 << 62) - 57));
        assert!(is_prime(u64::MAX - 58));
        assert!(!is_prime((1u64 << 61) + 1));
        assert!(!is_prime(((1u64 << 31) - 1) * ((1u64 << 31) - 1)));
    }

    #[test]
    fn generated_primes_are_ntt_friendly_and_descending() {
        for (bits, log_n) in [(62, 17), (60, 16), (50, 12), (40, 10), (30, 4)] {
            let n = 1usize << log_n;
            let ps = ntt_primes(bits, n, 4).unwrap();
            assert_eq!(ps.len(), 4);
            for w in ps.windows(2) {
                assert!(w[0] > w[1]);
            }
            for &p in &ps {
                assert!(is_prime(p) && p < (1 << bits) && p % (2 * n as u64) == 1);
                let psi = primitive_root_2n(p, n).unwrap();
                let m = Modulus::new(p).unwrap();
                assert_eq!(m.pow(psi, n as u64), p - 1);
            }
        }
    }

    #[test]
    fn bad_requests_are_refused() {
        assert!(ntt_primes(63, 1024, 1).is_err());
        assert!(ntt_primes(10, 1024, 1).is_err());
        assert!(ntt_primes(20, 1000, 1).is_err());
        assert!(ntt_primes(12, 16, 10_000).is_err());
        assert!(primitive_root_2n(65537, 1 << 16).is_err());
        assert!(primitive_root_2n(65537 * 3, 16).is_err());
        assert!(primitive_root_2n(65537, 1 << 15).is_ok());
    }
}
