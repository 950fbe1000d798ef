//! Additive secret sharing of vectors: x = x_0 + x_1 + … + x_{n−1}.
//!
//! Any n − 1 shares are uniformly random and independent of x, so a coalition short of everyone
//! learns nothing. This is the unauthenticated layer; SPDZ adds MACs on top in `protocols`.

use crate::field::Ring;
use crate::{Error, Prg, Result};

/// Splits `secret` into `n` additive shares; entry `i` is party `i`'s share vector.
pub fn share<R: Ring>(secret: &[R], n: usize, prg: &mut Prg) -> Result<Vec<Vec<R>>> {
    if n == 0 {
        return Err(Error::Misuse("cannot share among zero parties"));
    }
    let mut shares: Vec<Vec<R>> = (1..n).map(|_| R::random_vec(prg, secret.len())).collect();
    let mut last = secret.to_vec();
    for s in &shares {
        crate::field::slice::sub_assign(&mut last, s);
    }
    shares.push(last);
    Ok(shares)
}

/// Adds the parties' share vectors back together.
pub fn reconstruct<R: Ring>(shares: &[Vec<R>]) -> Result<Vec<R>> {
    let first = shares.first().ok_or(Error::Misuse("no shares to reconstruct"))?;
    let mut out = vec![R::ZERO; first.len()];
    for s in shares {
        if s.len() != out.len() {
            return Err(Error::BadLength { expected: out.len(), got: s.len() });
        }
        crate::field::slice::add_assign(&mut out, s);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Fp127, Seed, Z64};

    #[test]
    fn shares_reconstruct_and_each_share_looks_random() {
        let mut prg = Prg::from_seed(&Seed([5; 16]));
        let secret: Vec<Fp127> = (1..=100u64).map(Fp127::from_u64).collect();
        for n in [1, 2, 3, 7] {
            let sh = share(&secret, n, &mut prg).unwrap();
            assert_eq!(sh.len(), n);
            assert_eq!(reconstruct(&sh).unwrap(), secret);
            if n > 1 {
                assert_ne!(sh[0], secret);
            }
        }
        let ring: Vec<Z64> = (0..10).map(|i| Z64(u64::MAX - i)).collect();
        assert_eq!(reconstruct(&share(&ring, 3, &mut prg).unwrap()).unwrap(), ring);
    }

    #[test]
    fn mismatched_share_lengths_are_rejected() {
        let shares = vec![vec![Fp127::ONE; 3], vec![Fp127::ONE; 2]];
        assert!(matches!(reconstruct(&shares), Err(Error::BadLength { .. })));
        assert!(share::<Fp127>(&[], 0, &mut Prg::from_entropy()).is_err());
    }
}
