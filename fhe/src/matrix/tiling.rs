//! Coefficient encoding of matrix tiles as polynomials whose product holds the tile product
//! (Huang–Lu–Hong–Chen–Wang–Hu, "Cheetah", USENIX Security 2022, §3.1, adapted): for a tile
//! shape `(mt, kt, nt)` with `mt·kt·nt ≤ N`,
//!
//! - `Â = Σ A[i][l]·X^(i·kt·nt + kt − 1 − l)` (left tile, `mt × kt`),
//! - `B̂ = Σ B[l][j]·X^(j·kt + l)` (right tile, `kt × nt`),
//! - then `(Â·B̂)[i·kt·nt + j·kt + kt − 1] = Σ_l A[i][l]·B[l][j] = C[i][j]`.
//!
//! Products of `l ≠ l'` land in the other coefficients of block `(i, j)`; the highest exponent
//! is `mt·kt·nt + kt − 2`, so wrapped terms (negated, `X^N = −1`) fall on `0 … kt − 2`, below
//! every output position. No SIMD slots are used, so any plaintext modulus works (here the SPDZ
//! prime). Matrices are cut into such tiles; a ragged edge tile is zero-padded.

use crate::Error;

/// How an `m×k` by `k×n` product is cut into tiles of `mt×kt` by `kt×nt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatrixTiling {
    /// Rows of the left matrix.
    pub m: usize,
    /// Inner dimension.
    pub k: usize,
    /// Columns of the right matrix.
    pub n: usize,
    /// Tile rows.
    pub mt: usize,
    /// Tile inner dimension.
    pub kt: usize,
    /// Tile columns.
    pub nt: usize,
    ring_degree: usize,
}

impl MatrixTiling {
    /// The tiling that minimises traffic for ring degree `ring_degree`: per product the right
    /// matrix's owner uploads `⌈k/kt⌉·⌈n/nt⌉` half-size ciphertexts and receives `2·⌈m/mt⌉·⌈n/nt⌉`
    /// full ones (the product and the sacrifice's second product), so the cost is counted as
    /// `U + 4·R` halves; ties go to fewer tile products (less computation).
    pub fn new(m: usize, k: usize, n: usize, ring_degree: usize) -> Result<Self, Error> {
        if m == 0 || k == 0 || n == 0 {
            return Err(Error::InvalidParameters("empty matrix"));
        }
        let mut best: Option<(usize, usize, Self)> = None;
        for mt in 1..=m.min(ring_degree) {
            for kt in 1..=k.min(ring_degree / mt) {
                let nt = n.min(ring_degree / (mt * kt));
                if nt == 0 {
                    continue;
                }
                let (tm, tk, tn) = (m.div_ceil(mt), k.div_ceil(kt), n.div_ceil(nt));
                let cost = tk * tn + 4 * tm * tn;
                let work = tm * tk * tn;
                let cand = Self { m, k, n, mt, kt, nt, ring_degree };
                if best.as_ref().is_none_or(|(c, w, _)| (cost, work) < (*c, *w)) {
                    best = Some((cost, work, cand));
                }
            }
        }
        best.map(|b| b.2).ok_or(Error::InvalidParameters("no tiling"))
    }

    /// Tiles along `m`, `k`, `n`.
    pub fn tiles(&self) -> (usize, usize, usize) {
        (self.m.div_ceil(self.mt), self.k.div_ceil(self.kt), self.n.div_ceil(self.nt))
    }

    /// The right matrix (`k×n`, row-major) as polynomials, tile `(tl, tj)` at `tl·TN + tj`.
    pub fn encode_right(&self, b: &[u128]) -> Result<Vec<Vec<u128>>, Error> {
        if b.len() != self.k * self.n {
            return Err(Error::PlaintextOutOfRange("right matrix size"));
        }
        let (_, tk, tn) = self.tiles();
        let mut out = Vec::with_capacity(tk * tn);
        for tl in 0..tk {
            for tj in 0..tn {
                let mut poly = vec![0u128; self.ring_degree];
                for l in 0..self.kt {
                    for j in 0..self.nt {
                        let (r, c) = (tl * self.kt + l, tj * self.nt + j);
                        if r < self.k && c < self.n {
                            poly[j * self.kt + l] = b[r * self.n + c];
                        }
                    }
                }
                out.push(poly);
            }
        }
        Ok(out)
    }

    /// The left matrix (`m×k`, row-major) as polynomials, tile `(ti, tl)` at `ti·TK + tl`.
    pub fn encode_left(&self, a: &[u128]) -> Result<Vec<Vec<u128>>, Error> {
        if a.len() != self.m * self.k {
            return Err(Error::PlaintextOutOfRange("left matrix size"));
        }
        let (tm, tk, _) = self.tiles();
        let mut out = Vec::with_capacity(tm * tk);
        for ti in 0..tm {
            for tl in 0..tk {
                let mut poly = vec![0u128; self.ring_degree];
                for i in 0..self.mt {
                    for l in 0..self.kt {
                        let (r, c) = (ti * self.mt + i, tl * self.kt + l);
                        if r < self.m && c < self.k {
                            poly[i * self.kt * self.nt + self.kt - 1 - l] = a[r * self.k + c];
                        }
                    }
                }
                out.push(poly);
            }
        }
        Ok(out)
    }

    /// Reads the `m×n` product (row-major) from the product polynomials, tile `(ti, tj)` at
    /// `ti·TN + tj`.
    pub fn decode_product(&self, polys: &[Vec<u128>]) -> Result<Vec<u128>, Error> {
        let (tm, _, tn) = self.tiles();
        if polys.len() != tm * tn || polys.iter().any(|p| p.len() != self.ring_degree) {
            return Err(Error::MalformedCiphertext("product tiles"));
        }
        let mut out = vec![0u128; self.m * self.n];
        for ti in 0..tm {
            for tj in 0..tn {
                let poly = &polys[ti * tn + tj];
                for i in 0..self.mt {
                    for j in 0..self.nt {
                        let (r, c) = (ti * self.mt + i, tj * self.nt + j);
                        if r < self.m && c < self.n {
                            out[r * self.n + c] =
                                poly[i * self.kt * self.nt + j * self.kt + self.kt - 1];
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Negacyclic product over the integers mod a small prime, for checking the layout.
    fn negacyclic(a: &[u128], b: &[u128], p: u128) -> Vec<u128> {
        let n = a.len();
        let mut out = vec![0u128; n];
        for (i, &x) in a.iter().enumerate() {
            for (j, &y) in b.iter().enumerate() {
                let v = x * y % p;
                let k = i + j;
                if k < n {
                    out[k] = (out[k] + v) % p;
                } else {
                    out[k - n] = (out[k - n] + p - v) % p;
                }
            }
        }
        out
    }

    #[test]
    fn tile_products_hold_the_matrix_product() {
        let p = 1_000_003u128;
        for &(m, k, n, ring) in
            &[(3, 5, 2, 64), (1, 7, 9, 32), (4, 4, 4, 64), (5, 3, 1, 16), (2, 9, 3, 16)]
        {
            let tiling = MatrixTiling::new(m, k, n, ring).unwrap();
            assert!(tiling.mt * tiling.kt * tiling.nt <= ring);
            let a: Vec<u128> = (0..m * k).map(|i| (i as u128 * 7 + 3) % p).collect();
            let b: Vec<u128> = (0..k * n).map(|i| (i as u128 * 11 + 5) % p).collect();
            let (tm, tk, tn) = tiling.tiles();
            let (la, rb) = (tiling.encode_left(&a).unwrap(), tiling.encode_right(&b).unwrap());
            let mut prods = Vec::new();
            for ti in 0..tm {
                for tj in 0..tn {
                    let mut acc = vec![0u128; ring];
                    for tl in 0..tk {
                        let pr = negacyclic(&la[ti * tk + tl], &rb[tl * tn + tj], p);
                        acc.iter_mut().zip(pr).for_each(|(x, y)| *x = (*x + y) % p);
                    }
                    prods.push(acc);
                }
            }
            let c = tiling.decode_product(&prods).unwrap();
            for i in 0..m {
                for j in 0..n {
                    let want = (0..k).map(|l| a[i * k + l] * b[l * n + j]).sum::<u128>() % p;
                    assert_eq!(c[i * n + j], want, "{m}x{k}x{n} at ({i},{j})");
                }
            }
        }
    }

    #[test]
    fn the_128_cube_uses_few_ciphertexts() {
        let t = MatrixTiling::new(128, 128, 128, 1 << 14).unwrap();
        let (tm, tk, tn) = t.tiles();
        // 16 uploads and 8 returns per product.
        assert_eq!((tk * tn, tm * tn), (16, 8), "{t:?}");
    }
}
