//! GGM trees on fixed-key AES: the full tree (the Δ holder's) and the tree punctured at one
//! leaf (the other side's), rebuilt from one level sum per level.
//!
//! The length-doubling PRG is `G(s) = (π_L(s) ⊕ s, π_R(s) ⊕ s)` with π_L, π_R AES-128 under two
//! fixed public keys — Davies–Meyer-style correlation-robust hashing (Guo–Katz–Wang–Yu, S&P
//! 2020, §7.1), the GGM PRG of Ferret (Yang et al., CCS 2020, §4) and emp-ot. One fixed key
//! schedule means a level of the tree is two pipelined AES passes, not a key expansion per node.
//!
//! Level `l` (1-based) of a tree of depth `h` splits on bit `h − l` of the leaf index; its two
//! level sums are the XORs of its even (left) and of its odd (right) nodes.

use std::sync::OnceLock;

use aes::Aes128;
use aes::cipher::array::Array;
use aes::cipher::{BlockCipherEncrypt, KeyInit};
use zeroize::Zeroize;

const LEFT_KEY: [u8; 16] = 0x4C45_4654_5F47_474D_5F56_4F4C_455F_7631u128.to_le_bytes();
const RIGHT_KEY: [u8; 16] = 0x5249_4748_545F_4747_4D5F_564F_4C45_7631u128.to_le_bytes();

struct Prp {
    left: Aes128,
    right: Aes128,
}

fn prp() -> &'static Prp {
    static P: OnceLock<Prp> = OnceLock::new();
    P.get_or_init(|| Prp {
        left: Aes128::new(&LEFT_KEY.into()),
        right: Aes128::new(&RIGHT_KEY.into()),
    })
}

const BATCH: usize = 64;

/// `out[2i], out[2i+1] = G(parents[i])`.
fn expand(parents: &[u128], out: &mut [u128]) {
    let p = prp();
    let mut l = [[0u8; 16]; BATCH];
    let mut r = [[0u8; 16]; BATCH];
    for (ps, os) in parents.chunks(BATCH).zip(out.chunks_mut(2 * BATCH)) {
        let n = ps.len();
        for ((a, b), s) in l.iter_mut().zip(r.iter_mut()).zip(ps) {
            *a = s.to_le_bytes();
            *b = *a;
        }
        p.left.encrypt_blocks(Array::cast_slice_from_core_mut(&mut l[..n]));
        p.right.encrypt_blocks(Array::cast_slice_from_core_mut(&mut r[..n]));
        for (i, s) in ps.iter().enumerate() {
            os[2 * i] = u128::from_le_bytes(l[i]) ^ s;
            os[2 * i + 1] = u128::from_le_bytes(r[i]) ^ s;
        }
    }
    l.zeroize();
    r.zeroize();
}

/// Expands `root` into `leaves` (`2^h` of them) and pushes each level's `[left, right]` sums.
pub(crate) fn full(
    root: u128,
    leaves: &mut [u128],
    scratch: &mut Vec<u128>,
    sums: &mut Vec<[u128; 2]>,
) {
    scratch.clear();
    scratch.push(root);
    let mut width = 1;
    while width < leaves.len() {
        let next = &mut leaves[..2 * width];
        expand(scratch, next);
        let (mut even, mut odd) = (0u128, 0u128);
        for pair in next.chunks_exact(2) {
            even ^= pair[0];
            odd ^= pair[1];
        }
        sums.push([even, odd]);
        width *= 2;
        if width < leaves.len() {
            scratch.clear();
            scratch.extend_from_slice(&leaves[..width]);
        }
    }
    scratch.zeroize();
}

/// Rebuilds every leaf but `alpha` of a depth-`h` tree (`leaves.len() = 2^h`) from
/// `known[l − 1]`, the sum of level `l`'s side that the path to `alpha` does *not* take.
/// `leaves[alpha]` is left 0. Memory accesses depend on `alpha` (the caller's secret).
pub(crate) fn punctured(
    alpha: usize,
    known: &[u128],
    leaves: &mut [u128],
    scratch: &mut Vec<u128>,
) {
    let h = known.len();
    scratch.clear();
    scratch.push(0);
    let (mut width, mut path) = (1usize, 0usize);
    for (l, k) in known.iter().enumerate() {
        let next = &mut leaves[..2 * width];
        expand(scratch, next);
        let bit = (alpha >> (h - 1 - l)) & 1;
        let side = 1 - bit;
        let sib = 2 * path + side;
        // The garbage children of the unknown path node are overwritten: the sibling from the
        // level sum, the path child with 0.
        let others = next.iter().skip(side).step_by(2).fold(0u128, |a, x| a ^ x) ^ next[sib];
        next[sib] = k ^ others;
        path = 2 * path + bit;
        next[path] = 0;
        width *= 2;
        if width < leaves.len() {
            scratch.clear();
            scratch.extend_from_slice(&leaves[..width]);
        }
    }
    scratch.zeroize();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctured_tree_agrees_off_the_point() {
        for h in [1usize, 2, 5] {
            let mut full_leaves = vec![0u128; 1 << h];
            let (mut scratch, mut sums) = (Vec::new(), Vec::new());
            full(0xDEAD_BEEF, &mut full_leaves, &mut scratch, &mut sums);
            assert_eq!(sums.len(), h);
            for alpha in 0..1usize << h {
                let known: Vec<u128> =
                    (0..h).map(|l| sums[l][1 - ((alpha >> (h - 1 - l)) & 1)]).collect();
                let mut got = vec![0u128; 1 << h];
                punctured(alpha, &known, &mut got, &mut scratch);
                for i in 0..1 << h {
                    if i == alpha {
                        assert_eq!(got[i], 0);
                    } else {
                        assert_eq!(got[i], full_leaves[i], "h={h} alpha={alpha} i={i}");
                    }
                }
            }
        }
    }
}
