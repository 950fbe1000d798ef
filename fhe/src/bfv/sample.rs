//! Samplers for RLWE: ternary secrets, centred-binomial errors, and uniform polynomials
//! expanded from a 32-byte seed (so a fresh symmetric ciphertext can ship the seed).

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore, SeedableRng};

/// Centred binomial parameter: `η = 21` gives variance 10.5, i.e. σ ≈ 3.24, the HE standard's
/// σ = 3.2 (the table's security estimates depend on σ, not on the exact shape).
pub(crate) const CBD_ETA: u32 = 21;

/// Uniform in `{-1, 0, 1}`.
pub(crate) fn ternary<R: RngCore + CryptoRng>(n: usize, rng: &mut R) -> Vec<i8> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let mut word = rng.next_u64();
        // 32 two-bit draws per word; reject 3 so each value has probability 1/3.
        for _ in 0..32 {
            let v = (word & 3) as i8;
            word >>= 2;
            if v < 3 && out.len() < n {
                out.push(v - 1);
            }
        }
    }
    out
}

/// Centred binomial: `Σ_{k<η} (a_k - b_k)` for uniform bits.
pub(crate) fn cbd<R: RngCore + CryptoRng>(n: usize, rng: &mut R) -> Vec<i8> {
    let mask = (1u64 << CBD_ETA) - 1;
    (0..n)
        .map(|_| {
            let w = rng.next_u64();
            ((w & mask).count_ones() as i32 - ((w >> CBD_ETA) & mask).count_ones() as i32) as i8
        })
        .collect()
}

/// `L × N` words, row `i` uniform modulo `moduli[i]`, expanded from `seed` with ChaCha20.
pub(crate) fn uniform_from_seed(seed: &[u8; 32], n: usize, moduli: &[u64]) -> Vec<u64> {
    let mut rng = ChaCha20Rng::from_seed(*seed);
    let mut out = Vec::with_capacity(n * moduli.len());
    for &q in moduli {
        let mask = u64::MAX >> (q - 1).leading_zeros();
        let mut filled = 0;
        while filled < n {
            let v = rng.next_u64() & mask;
            if v < q {
                out.push(v);
                filled += 1;
            }
        }
    }
    out
}

/// Lifts small signed coefficients to RNS words, limb after limb.
pub(crate) fn to_rns(small: &[i8], moduli: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(small.len() * moduli.len());
    for &q in moduli {
        out.extend(
            small.iter().map(|&v| if v < 0 { q - u64::from(v.unsigned_abs()) } else { v as u64 }),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distributions_have_the_right_shape() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let t = ternary(30_000, &mut rng);
        for v in [-1i8, 0, 1] {
            let c = t.iter().filter(|&&x| x == v).count();
            assert!((9_000..11_000).contains(&c), "ternary {v}: {c}");
        }
        let e = cbd(30_000, &mut rng);
        let var = e.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / 30_000.0;
        assert!((9.5..11.5).contains(&var), "cbd variance {var}");
        assert!(e.iter().all(|&x| x.unsigned_abs() <= CBD_ETA as u8));
        let u = uniform_from_seed(&[7; 32], 1000, &[97, 1 << 40]);
        assert_eq!(u, uniform_from_seed(&[7; 32], 1000, &[97, 1 << 40]));
        assert_ne!(u, uniform_from_seed(&[8; 32], 1000, &[97, 1 << 40]));
        assert!(u[..1000].iter().all(|&x| x < 97) && u[1000..].iter().any(|&x| x > 1 << 39));
    }
}
