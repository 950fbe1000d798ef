//! The primal LPN encoding over F_p with a d-local code.
//!
//! Output `i` adds `D` entries of the `k`-element input at indices drawn from a public AES-CTR
//! stream (`D` 32-bit words per output, mapped to `[0, k)` by multiply-shift, bias below
//! k/2^32): `y_i += Σ_{j<D} x[idx(i, j)]`, the code of Wolverine §4 and emp-zk's `LpnFp<10>`
//! (a random `D`-sparse 0/1 matrix). The stream's key is hashed from the session and the
//! extension's counter, so both sides derive the same code and each extension its own.

use tessera_mpc::Field;

use crate::hash::AesCtr;

/// Nonzero entries per column of the code.
pub(crate) const D: usize = 10;

/// Outputs whose indices are drawn per AES call.
const CHUNK: usize = 1024;

/// Fills `idx` with the code's indices for outputs `start..start + idx.len() / D`.
fn indices(stream: &mut AesCtr, k: usize, words: &mut [u8], idx: &mut [usize]) {
    let k = k as u64;
    stream.fill(&mut words[..4 * idx.len()]);
    for (ix, w) in idx.iter_mut().zip(words.chunks_exact(4)) {
        let r = u64::from(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
        *ix = ((r * k) >> 32) as usize;
    }
}

/// `out[i] += Σ_j x[idx(i, j)]` for the code keyed by `key` (the Δ holder's side).
pub(crate) fn encode<F: Field>(key: u128, x: &[F], out: &mut [F]) {
    let mut stream = AesCtr::new(key);
    let mut words = vec![0u8; 4 * D * CHUNK];
    let mut idx = vec![0usize; D * CHUNK];
    for block in out.chunks_mut(CHUNK) {
        let idx = &mut idx[..D * block.len()];
        indices(&mut stream, x.len(), &mut words, idx);
        for (o, ix) in block.iter_mut().zip(idx.chunks_exact(D)) {
            let mut acc = *o;
            for &j in ix {
                acc += x[j];
            }
            *o = acc;
        }
    }
}

/// The same code on two inputs stored as pairs (the sender's `u` and `m`): one cache line
/// per index serves both, halving the random memory accesses of two separate passes.
pub(crate) fn encode_pairs<F: Field>(key: u128, x: &[[F; 2]], out_a: &mut [F], out_b: &mut [F]) {
    let mut stream = AesCtr::new(key);
    let mut words = vec![0u8; 4 * D * CHUNK];
    let mut idx = vec![0usize; D * CHUNK];
    for (ba, bb) in out_a.chunks_mut(CHUNK).zip(out_b.chunks_mut(CHUNK)) {
        let idx = &mut idx[..D * ba.len()];
        indices(&mut stream, x.len(), &mut words, idx);
        for ((a, b), ix) in ba.iter_mut().zip(bb.iter_mut()).zip(idx.chunks_exact(D)) {
            let (mut s, mut t) = (*a, *b);
            for &j in ix {
                let [p, q] = x[j];
                s += p;
                t += q;
            }
            *a = s;
            *b = t;
        }
    }
}

#[cfg(test)]
mod tests {
    use tessera_mpc::{Fp127, Prg, Ring, Seed};

    use super::*;

    #[test]
    fn encoding_is_linear_and_shared() {
        let mut prg = Prg::from_seed(&Seed([9; 16]));
        let (k, n) = (300, 2500);
        let a = Fp127::random_vec(&mut prg, k);
        let b = Fp127::random_vec(&mut prg, k);
        let sum: Vec<Fp127> = a.iter().zip(&b).map(|(x, y)| *x + *y).collect();
        let (mut ya, mut yb, mut ys) =
            (vec![Fp127::ZERO; n], vec![Fp127::ZERO; n], vec![Fp127::ZERO; n]);
        let pairs: Vec<[Fp127; 2]> = a.iter().zip(&b).map(|(x, y)| [*x, *y]).collect();
        encode_pairs(77, &pairs, &mut ya, &mut yb);
        encode(77, &sum, &mut ys);
        for i in 0..n {
            assert_eq!(ya[i] + yb[i], ys[i]);
        }
        // A different key is a different code.
        let mut yc = vec![Fp127::ZERO; n];
        encode(78, &a, &mut yc);
        assert_ne!(ya, yc);
        // The pair form agrees with single passes.
        let mut za = vec![Fp127::ZERO; n];
        encode(77, &a, &mut za);
        assert_eq!(za, ya);
    }
}
