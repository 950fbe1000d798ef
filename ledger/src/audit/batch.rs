//! Inclusion proofs for many transactions of one block in one pass over its tree.
//!
//! [`crate::merkle::prove`] recomputes sibling subtrees for each proof, `O(n)` hashes per proof;
//! an audit answer may need hundreds of proofs from a block of thousands. This walk computes each
//! subtree root once and hands it to every requested leaf on the other side, `O(n)` in all. The
//! proofs are the same RFC 6962 audit paths (checked against `merkle::prove` in the tests).

use crate::error::{Error, Result};
use crate::hash::{Hash32, LedgerHash};
use crate::merkle::{self, TxProof};

fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn leaf(h: LedgerHash, id: &Hash32) -> Hash32 {
    h.hash(&[&[0x00], id])
}

fn node(h: LedgerHash, l: &Hash32, r: &Hash32) -> Hash32 {
    h.hash(&[&[0x01], l, r])
}

/// Returns the root of `ids` (starting at global index `base`) and pushes onto `paths[j]` the
/// siblings of every wanted index `want[j]` inside it, leaf side first.
fn walk(
    h: LedgerHash,
    ids: &[Hash32],
    base: usize,
    want: &[(usize, usize)],
    paths: &mut [Vec<Hash32>],
) -> Hash32 {
    if want.is_empty() {
        return merkle::root(h, ids);
    }
    match ids {
        [] => h.hash(&[]),
        [x] => leaf(h, x),
        _ => {
            let k = split(ids.len());
            let cut = want.partition_point(|(i, _)| *i < base + k);
            let (wl, wr) = want.split_at(cut);
            let l = walk(h, &ids[..k], base, wl, paths);
            let r = walk(h, &ids[k..], base + k, wr, paths);
            for (_, j) in wl {
                paths[*j].push(r);
            }
            for (_, j) in wr {
                paths[*j].push(l);
            }
            node(h, &l, &r)
        }
    }
}

/// Proofs for `ids[i]` for every `i` in `indices` (any order, repeats allowed), in that order.
pub(crate) fn prove_many(h: LedgerHash, ids: &[Hash32], indices: &[usize]) -> Result<Vec<TxProof>> {
    let size = u32::try_from(ids.len()).map_err(|_| Error::Misuse("block too large"))?;
    let mut want: Vec<(usize, usize)> = Vec::with_capacity(indices.len());
    for (j, &i) in indices.iter().enumerate() {
        if i >= ids.len() {
            return Err(Error::Misuse("transaction index outside block"));
        }
        want.push((i, j));
    }
    want.sort_unstable();
    let mut paths = vec![Vec::new(); indices.len()];
    walk(h, ids, 0, &want, &mut paths);
    indices
        .iter()
        .zip(paths)
        .map(|(&i, path)| {
            Ok(TxProof {
                index: u32::try_from(i).map_err(|_| Error::Misuse("block too large"))?,
                tree_size: size,
                path,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_proofs_equal_single_proofs() {
        let h = LedgerHash::Sha256;
        for n in [1usize, 2, 3, 5, 8, 13, 64, 100] {
            let ids: Vec<Hash32> = (0..n).map(|i| h.hash(&[&i.to_be_bytes()])).collect();
            let idx: Vec<usize> = (0..n).rev().chain([0, n / 2]).collect();
            let batch = prove_many(h, &ids, &idx).unwrap();
            let root = merkle::root(h, &ids);
            for (i, p) in idx.iter().zip(&batch) {
                assert_eq!(*p, merkle::prove(h, &ids, *i).unwrap(), "n={n} i={i}");
                p.verify(h, &ids[*i], &root).unwrap();
            }
        }
        assert!(prove_many(h, &[[0; 32]], &[1]).is_err());
    }
}
