//! Merkle tree over a block's transaction ids, in the shape of RFC 6962 §2.1 (Certificate
//! Transparency): `MTH({}) = H()`, leaf `H(0x00 ‖ id)`, node `H(0x01 ‖ left ‖ right)` with the
//! left subtree holding the largest power of two below `n` leaves. Inclusion proofs are the RFC's
//! audit paths and are checked with the algorithm of RFC 9162 §2.1.3.2.

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::{Error, Result};
use crate::hash::{Hash32, LedgerHash};

fn leaf(h: LedgerHash, id: &Hash32) -> Hash32 {
    h.hash(&[&[0x00], id])
}

fn node(h: LedgerHash, l: &Hash32, r: &Hash32) -> Hash32 {
    h.hash(&[&[0x01], l, r])
}

fn split(n: usize) -> usize {
    // Largest power of two strictly below n (n ≥ 2).
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// Root over transaction ids.
pub fn root(h: LedgerHash, ids: &[Hash32]) -> Hash32 {
    match ids {
        [] => h.hash(&[]),
        [x] => leaf(h, x),
        _ => {
            let k = split(ids.len());
            node(h, &root(h, &ids[..k]), &root(h, &ids[k..]))
        }
    }
}

/// Inclusion proof of one transaction in its block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxProof {
    /// Position in the block.
    pub index: u32,
    /// Number of transactions in the block.
    pub tree_size: u32,
    /// Audit path, leaf side first.
    pub path: Vec<Hash32>,
}

fn path(h: LedgerHash, m: usize, ids: &[Hash32], out: &mut Vec<Hash32>) {
    if ids.len() <= 1 {
        return;
    }
    let k = split(ids.len());
    if m < k {
        path(h, m, &ids[..k], out);
        out.push(root(h, &ids[k..]));
    } else {
        path(h, m - k, &ids[k..], out);
        out.push(root(h, &ids[..k]));
    }
}

/// Proof for `ids[index]`.
pub fn prove(h: LedgerHash, ids: &[Hash32], index: usize) -> Result<TxProof> {
    if index >= ids.len() {
        return Err(Error::Misuse("transaction index outside block"));
    }
    let mut p = Vec::new();
    path(h, index, ids, &mut p);
    Ok(TxProof {
        index: u32::try_from(index).map_err(|_| Error::Misuse("block too large"))?,
        tree_size: u32::try_from(ids.len()).map_err(|_| Error::Misuse("block too large"))?,
        path: p,
    })
}

impl TxProof {
    /// Checks that `id` sits at `index` in a tree of `tree_size` leaves with root `root`
    /// (RFC 9162 §2.1.3.2).
    pub fn verify(&self, h: LedgerHash, id: &Hash32, root: &Hash32) -> Result<()> {
        if self.index >= self.tree_size {
            return Err(Error::ProofInvalid("index outside tree"));
        }
        let mut fnode = u64::from(self.index);
        let mut snode = u64::from(self.tree_size) - 1;
        let mut r = leaf(h, id);
        for p in &self.path {
            if snode == 0 {
                return Err(Error::ProofInvalid("audit path too long"));
            }
            if fnode & 1 == 1 || fnode == snode {
                r = node(h, p, &r);
                if fnode & 1 == 0 {
                    while fnode & 1 == 0 && fnode != 0 {
                        fnode >>= 1;
                        snode >>= 1;
                    }
                }
            } else {
                r = node(h, &r, p);
            }
            fnode >>= 1;
            snode >>= 1;
        }
        if snode != 0 {
            return Err(Error::ProofInvalid("audit path too short"));
        }
        if r == *root { Ok(()) } else { Err(Error::ProofInvalid("transaction root mismatch")) }
    }
}

impl Encode for TxProof {
    fn encode(&self, w: &mut Writer) {
        w.u32(self.index);
        w.u32(self.tree_size);
        w.list(&self.path);
    }
}

impl Decode for TxProof {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self { index: r.u32()?, tree_size: r.u32()?, path: r.list(64)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const H: LedgerHash = LedgerHash::Sha256;

    #[test]
    fn every_position_of_every_size_verifies_and_others_fail() {
        for n in 1..=17usize {
            let ids: Vec<Hash32> = (0..n as u32).map(|i| H.hash(&[&i.to_be_bytes()])).collect();
            let rt = root(H, &ids);
            for i in 0..n {
                let p = prove(H, &ids, i).unwrap();
                p.verify(H, &ids[i], &rt).unwrap();
                let other = (i + 1) % n;
                if other != i {
                    assert!(p.verify(H, &ids[other], &rt).is_err());
                }
                // The tree size is not bound by the root alone (a left-edge path fits several
                // sizes), which is why receipts also require it to equal the header's count.
                if n > 1 {
                    let mut q = p.clone();
                    q.index = u32::try_from(other).unwrap();
                    assert!(q.verify(H, &ids[i], &rt).is_err());
                }
            }
        }
    }
}
