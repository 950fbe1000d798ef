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

/// `outs[s][i] += Σ_j xs[s][idx(i, j)]` for each of the `S` (input, output) pairs, one code.
pub(crate) fn encode<F: Field, const S: usize>(key: u128, xs: [&[F]; S], outs: [&mut [F]; S]) {
    let k = xs[0].len() as u64;
    let mut stream = AesCtr::new(key);
    let mut words = vec![0u8; 4 * D * CHUNK];
    let mut idx = vec![0usize; D * CHUNK];
    let n = outs[0].len();
    let mut outs = outs;
    let mut start = 0;
    while start < n {
        let m = CHUNK.min(n - start);
        stream.fill(&mut words[..4 * D * m]);
        for (ix, w) in idx.iter_mut().zip(words[..4 * D * m].chunks_exact(4)) {
            let r = u64::from(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
            *ix = ((r * k) >> 32) as usize;
        }
        for (x, out) in xs.iter().zip(outs.iter_mut()) {
            for (o, ix) in out[start..start + m].iter_mut().zip(idx.chunks_exact(D)) {
                let mut acc = *o;
                for &j in ix {
                    acc += x[j];
                }
                *o = acc;
            }
        }
        start += m;
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
        encode(77, [&a[..], &b[..]], [&mut ya[..], &mut yb[..]]);
        encode(77, [&sum[..]], [&mut ys[..]]);
        for i in 0..n {
            assert_eq!(ya[i] + yb[i], ys[i]);
        }
        // A different key is a different code.
        let mut yc = vec![Fp127::ZERO; n];
        encode(78, [&a[..]], [&mut yc[..]]);
        assert_ne!(ya, yc);
    }
}
