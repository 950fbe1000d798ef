//! GGM-tree single-point COT (SPCOT): the sender's full tree and the receiver's punctured one.
//!
//! Follows Yang et al., "Ferret" (CCS 2020), §4 (Figure 4, after Boyle et al.'s punctured PRF):
//! the sender expands a random root into `2^h` leaves `v_j` and, per level `d`, forms the sums
//! `K_d^0` / `K_d^1` of the left / right nodes. Level `d` uses one COT `(q_d; b_d, t_d)`: the
//! sender sends `K_d^0 ⊕ H(q_d)` and `K_d^1 ⊕ H(q_d ⊕ Δ)` (`H` = [`crate::hash::tccr`] with a
//! tweak unique to the COT), so the receiver learns `K_d^{b_d}` only. The punctured point `α`
//! has bit `1 ⊕ b_d` at level `d` (most significant first), so the receiver's random COT bits
//! *are* its random noise position and no correction bits are sent. Knowing one sum per level,
//! the receiver rebuilds every node off the path to `α`. The sender finally sends
//! `c = Δ ⊕ Σ_j v_j`, from which the receiver gets `w_α = v_α ⊕ Δ`: then `w_j = v_j ⊕ [j = α]·Δ`.
//!
//! PRG: `G(s) = (π_0(s) ⊕ s, π_1(s) ⊕ s)` with π_0, π_1 AES-128 under two fixed public keys
//! (Matyas–Meyer–Oseas in the ideal-cipher model; the GGM PRG of Ferret's implementation in
//! emp-ot). It replaces SoftSpokenOT's re-keyed [`crate::hash::AesCtr`] here because a tree
//! level is expanded in one pipelined AES call instead of one key schedule per node; the
//! multi-target bound (an attacker with q AES evaluations hits one of N secret nodes with
//! probability q·N/2^128) is the same as for re-keyed AES.
//!
//! Side channel: the receiver's rebuild indexes memory by `α`, its own secret noise position.

use std::sync::OnceLock;

use aes::Aes128;
use aes::cipher::array::Array;
use aes::cipher::{BlockCipherEncrypt, KeyInit};
use zeroize::Zeroize;

use crate::block::load;

/// Bytes the sender sends per tree of height `h`: two masked sums per level, then `c`.
pub(crate) fn tree_msg_len(h: usize) -> usize {
    16 * (2 * h + 1)
}

fn prg_ciphers() -> &'static [Aes128; 2] {
    static CIPHERS: OnceLock<[Aes128; 2]> = OnceLock::new();
    CIPHERS.get_or_init(|| {
        // Public keys: the next two 128-bit words of π's fractional part (after hash.rs's).
        let k0 = 0xA409_3822_299F_31D0_0082_EFA9_8EC4_E6C8u128.to_le_bytes();
        let k1 = 0x4528_21E6_38D0_1377_BE54_66CF_34E9_0C6Cu128.to_le_bytes();
        [Aes128::new(&k0.into()), Aes128::new(&k1.into())]
    })
}

/// Scratch buffers for expanding trees (reused across trees; no per-node allocation).
#[derive(Default)]
pub(crate) struct TreeScratch {
    cur: Vec<[u8; 16]>,
    left: Vec<[u8; 16]>,
    right: Vec<[u8; 16]>,
}

impl Drop for TreeScratch {
    fn drop(&mut self) {
        self.cur.zeroize();
        self.left.zeroize();
        self.right.zeroize();
    }
}

impl TreeScratch {
    /// Expands the nodes in `self.cur[..m]` one level: writes the `2m` children to `dest` and
    /// returns the sums of the left (even) and right (odd) children.
    fn expand_level(&mut self, m: usize, dest: &mut [u128]) -> (u128, u128) {
        let [c0, c1] = prg_ciphers();
        self.left.clear();
        self.left.extend_from_slice(&self.cur[..m]);
        self.right.clear();
        self.right.extend_from_slice(&self.cur[..m]);
        c0.encrypt_blocks(Array::cast_slice_from_core_mut(&mut self.left));
        c1.encrypt_blocks(Array::cast_slice_from_core_mut(&mut self.right));
        let (mut even, mut odd) = (0u128, 0u128);
        for (((pair, s), l), r) in
            dest.chunks_exact_mut(2).zip(&self.cur[..m]).zip(&self.left).zip(&self.right)
        {
            let s = u128::from_le_bytes(*s);
            let l = u128::from_le_bytes(*l) ^ s;
            let r = u128::from_le_bytes(*r) ^ s;
            pair[0] = l;
            pair[1] = r;
            even ^= l;
            odd ^= r;
        }
        (even, odd)
    }

    fn load_level(&mut self, nodes: &[u128]) {
        self.cur.clear();
        self.cur.extend(nodes.iter().map(|v| v.to_le_bytes()));
    }
}

/// The sender's tree: fills `leaves` (length `2^h`) from `root` and writes the level sums,
/// `sums[d - 1] = (K_d^0, K_d^1)` for `d = 1..=h`.
pub(crate) fn expand(
    root: u128,
    leaves: &mut [u128],
    sums: &mut [(u128, u128)],
    s: &mut TreeScratch,
) {
    let h = sums.len();
    debug_assert_eq!(leaves.len(), 1 << h);
    // Level d lives in leaves[..2^d] until the next level overwrites it (expanding from a copy).
    leaves[0] = root;
    for d in 1..=h {
        let m = 1 << (d - 1);
        s.load_level(&leaves[..m]);
        sums[d - 1] = s.expand_level(m, &mut leaves[..2 * m]);
    }
}

/// The receiver's punctured tree: from `recovered[d - 1] = K_d^{b_d}` (the sum on the side off
/// the path), the path bits `alpha` (most significant first, `h` bits) and the final
/// correction `c`, fills `leaves` with `w_j = v_j` for `j ≠ α` and `w_α = c ⊕ Σ_{j≠α} v_j`.
pub(crate) fn rebuild(
    recovered: &[u128],
    alpha: usize,
    c: u128,
    leaves: &mut [u128],
    s: &mut TreeScratch,
) {
    let h = recovered.len();
    debug_assert_eq!(leaves.len(), 1 << h);
    // Level 0: the root is unknown (the path node); it stays 0 and its garbage children are
    // replaced below.
    leaves[0] = 0;
    let mut path = 0usize;
    for d in 1..=h {
        let m = 1 << (d - 1);
        s.load_level(&leaves[..m]);
        let (even, odd) = s.expand_level(m, &mut leaves[..2 * m]);
        let bit = (alpha >> (h - d)) & 1;
        let sib = 2 * path + (1 - bit);
        path = 2 * path + bit;
        // The side sum includes the sibling's garbage value; swap it for the true sibling.
        let side = if bit == 1 { even } else { odd };
        leaves[sib] ^= recovered[d - 1] ^ side;
        leaves[path] = 0;
    }
    let total = leaves.iter().fold(0u128, |a, v| a ^ v);
    leaves[alpha] = c ^ total;
}

/// Splits one tree's message into `(m0_d, m1_d)` pairs and `c`. `msg` has
/// [`tree_msg_len`]`(h)` bytes.
pub(crate) fn read_tree_msg(
    msg: &[u8],
    h: usize,
) -> (impl Iterator<Item = (u128, u128)> + '_, u128) {
    let pairs = (0..h).map(move |d| (load(msg, 2 * d), load(msg, 2 * d + 1)));
    (pairs, load(msg, 2 * h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctured_tree_matches_the_full_tree_off_the_path() {
        let mut s = TreeScratch::default();
        for h in [1usize, 2, 5, 9] {
            for alpha in [0, (1 << h) - 1, (1 << h) / 3] {
                let delta = 0xDEAD_BEEF_u128 << 64 | 77;
                let mut v = vec![0u128; 1 << h];
                let mut sums = vec![(0, 0); h];
                expand(0x1234 + h as u128, &mut v, &mut sums, &mut s);
                // The receiver gets the sum off the path at every level.
                let recovered: Vec<u128> = (1..=h)
                    .map(|d| {
                        let bit = (alpha >> (h - d)) & 1;
                        if bit == 1 { sums[d - 1].0 } else { sums[d - 1].1 }
                    })
                    .collect();
                let c = v.iter().fold(delta, |a, x| a ^ x);
                let mut w = vec![0u128; 1 << h];
                rebuild(&recovered, alpha, c, &mut w, &mut s);
                for j in 0..1 << h {
                    let want = if j == alpha { v[j] ^ delta } else { v[j] };
                    assert_eq!(w[j], want, "h = {h}, alpha = {alpha}, leaf {j}");
                }
                let distinct: std::collections::HashSet<_> = v.iter().collect();
                assert_eq!(distinct.len(), 1 << h);
            }
        }
    }
}
