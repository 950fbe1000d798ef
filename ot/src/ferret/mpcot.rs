//! One Ferret extension round: `t` SPCOTs with regular noise (the MPCOT), their batched
//! consistency check, and the LPN encoding that turns them into `n` fresh COTs.
//!
//! Follows Yang et al., "Ferret" (CCS 2020): regular-noise MPCOT as `t` independent SPCOTs
//! (§4, Figure 5), the malicious SPCOT check of §4.2 (Figure 6) batched over the `t` trees with
//! one set of κ = 128 COTs as in §5, and the primal-LPN extension of §3 (Figure 3):
//!
//! - pool layout (both parties, `R = k + t·h + 128` COTs): `[0, k)` the LPN secret `u`,
//!   `[k + τ·h, k + (τ+1)·h)` tree `τ`'s level COTs, the last 128 the check's COTs;
//! - MPCOT: the receiver holds `w = v ⊕ e·Δ`, `e` with one 1 in each block of `2^h`;
//! - check: after every tree is sent, the receiver draws the hash key `H` and sends its seed and
//!   `x* = Σ_τ χ_{α_τ} ⊕ B'`, where `χ_g = H^{N−g}` (the coefficient POLYVAL gives leaf `g` of
//!   `N = n`) and `B' = Σ_i b'_i·X^i` packs the check COTs' bits. The sender returns
//!   `Hash(Σ_g χ_g·v_g ⊕ Q' ⊕ x*·Δ)` with `Q' = Σ_i q'_i·X^i`; the receiver compares it with
//!   `Hash(Σ_g χ_g·w_g ⊕ T')`, equal exactly when `w` is consistent (`T' = Q' ⊕ B'·Δ`).
//!   Products are POLYVAL's (`a·b·x^-128`, RFC 8452), so the check is one hardware-accelerated
//!   POLYVAL pass over the leaves. Using the powers of one random `H` instead of independent
//!   `χ_g` (as emp-ot does) makes the check a polynomial identity of degree ≤ n: a sender whose
//!   trees are inconsistent with every `α` it did not guess passes with probability ≤ n/2^128
//!   (≤ 2^-104 for the largest set here), a selective failure on a predicate of the noise
//!   positions that Ferret's regular-LPN-with-leakage analysis (§5) allows;
//! - LPN: sender `q = v ⊕ A·q_u`, receiver `b = e ⊕ A·u`, `t = w ⊕ A·t_u`, with `A` the public
//!   10-local code of module `lpn`: `t = q ⊕ b·Δ` by linearity.
//!
//! A malicious receiver learns nothing about Δ from the check: the digest is a hash of a value
//! that, for any `x*` it sends, differs from one it can compute by a multiple of Δ.

use polyval::Polyval;
use polyval::universal_hash::UniversalHash;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tessera_mpc::{Channel, PartyId, Prg, SessionId};
use zeroize::Zeroize;

use super::lpn::{self, CHUNK, CodeStream};
use super::params::LpnParams;
use super::spcot::{self, TreeScratch, tree_msg_len};
use crate::block::{gf_mul, load, mask128};
use crate::error::{Error, Result, recv_exact};
use crate::hash::tccr_batch;

/// The step of the sender's tree messages.
pub const GGM_STEP: &str = "ot/ferret/ggm";
/// The step of the check: the receiver's key seed and `x*`, then the sender's digest.
pub const CHECK_STEP: &str = "ot/ferret/check";

/// Trees per message: a few hundred KB, so the receiver can rebuild while the sender expands.
pub(crate) const TREES_PER_MSG: usize = 128;

/// POLYVAL's multiplicative identity `x^128 mod P` (so `a·ONE = a` for its product).
const ONE: u128 = (1 << 127) | (1 << 126) | (1 << 121) | 1;

/// Tweaks of the level hashes: bit 127 set keeps them apart from every OT-extension tweak.
const TWEAK_BASE: u128 = 1 << 127;

/// What a round is bound to: the pair's protocol id and the round counter.
pub(crate) struct Round<'a> {
    pub(crate) sid: &'a SessionId,
    pub(crate) counter: u64,
    pub(crate) params: LpnParams,
}

impl Round<'_> {
    fn hash(&self, label: &[u8], words: &[u128]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(label);
        h.update(self.sid.as_bytes());
        h.update(self.counter.to_le_bytes());
        for w in words {
            h.update(w.to_le_bytes());
        }
        h.finalize().into()
    }

    /// The POLYVAL key of the check from the receiver's seed.
    fn key(&self, seed: u128) -> u128 {
        load(&self.hash(b"tessera/ot/ferret/check-key/v1", &[seed]), 0)
    }

    fn digest(&self, v: u128) -> [u8; 32] {
        self.hash(b"tessera/ot/ferret/check-digest/v1", &[v])
    }

    /// The public code of this round's parameters (the same in every round with them).
    fn code(&self) -> CodeStream {
        let p = self.params;
        let mut h = Sha256::new();
        h.update(b"tessera/ot/ferret/code/v1");
        h.update(self.sid.as_bytes());
        for x in [p.n, p.k, p.t] {
            h.update((x as u64).to_le_bytes());
        }
        let d: [u8; 32] = h.finalize().into();
        CodeStream::new(load(&d, 0), p.k)
    }

    /// The first level-hash tweak of tree `tree` in this round.
    fn tweak(&self, tree: usize) -> u128 {
        let h = self.params.tree_height();
        TWEAK_BASE | (u128::from(self.counter) << 64) | (tree * h) as u128
    }
}

/// `x^e` for POLYVAL's product, `e < 2^40`, in constant time in `e`.
fn pow(x: u128, e: u64) -> u128 {
    let mut r = ONE;
    for i in (0..40).rev() {
        r = gf_mul(r, r);
        let m = gf_mul(r, x);
        r ^= (r ^ m) & mask128((e >> i) & 1 == 1);
    }
    r
}

/// `Σ_i vals_i · X^i` over the 128 check COTs.
fn pack_check(vals: &[u128]) -> u128 {
    vals.iter().enumerate().fold(0u128, |a, (i, v)| a ^ gf_mul(1u128 << i, *v))
}

/// POLYVAL over `blocks`, continuing `state`.
fn absorb(state: &mut Polyval, blocks: &[u128], buf: &mut Vec<[u8; 16]>) {
    for chunk in blocks.chunks(CHUNK) {
        buf.clear();
        buf.extend(chunk.iter().map(|v| v.to_le_bytes()));
        state.update(polyval::universal_hash::array::Array::cast_slice_from_core(buf));
    }
    buf.zeroize();
}

fn finish(state: Polyval) -> u128 {
    let tag = state.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&tag);
    u128::from_le_bytes(b)
}

/// The sender's side of one round on `pool` (its `q` values, `R` of them); returns `n` new `q`.
pub(crate) fn send<C: Channel + ?Sized>(
    ch: &mut C,
    peer: PartyId,
    round: &Round<'_>,
    delta: u128,
    pool: &[u128],
    prg: &mut Prg,
) -> Result<Vec<u128>> {
    let p = round.params;
    let h = p.tree_height();
    let (secret, rest) = pool.split_at(p.k);
    let (level_cots, check_cots) = rest.split_at(p.t * h);
    let mut out = vec![0u128; p.n];
    let r = send_unguarded(ch, peer, round, delta, secret, level_cots, check_cots, &mut out, prg);
    if let Err(e) = r {
        out.zeroize();
        return Err(e);
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn send_unguarded<C: Channel + ?Sized>(
    ch: &mut C,
    peer: PartyId,
    round: &Round<'_>,
    delta: u128,
    secret: &[u128],
    level_cots: &[u128],
    check_cots: &[u128],
    out: &mut [u128],
    prg: &mut Prg,
) -> Result<()> {
    let p = round.params;
    let (h, leaves) = (p.tree_height(), p.leaves());
    let mut scratch = TreeScratch::default();
    let mut sums = vec![(0u128, 0u128); h];
    let mut pads = [vec![0u128; TREES_PER_MSG * h], vec![0u128; TREES_PER_MSG * h]];
    let mut msg = Vec::with_capacity(TREES_PER_MSG * tree_msg_len(h));
    ch.begin_step(GGM_STEP);
    for first in (0..p.t).step_by(TREES_PER_MSG) {
        let trees = TREES_PER_MSG.min(p.t - first);
        let cots = &level_cots[first * h..(first + trees) * h];
        let [p0, p1] = &mut pads;
        tccr_batch(round.tweak(first), 0, cots, &mut p0[..trees * h]);
        tccr_batch(round.tweak(first), delta, cots, &mut p1[..trees * h]);
        msg.clear();
        for i in 0..trees {
            let tree = first + i;
            let v = &mut out[tree * leaves..(tree + 1) * leaves];
            spcot::expand(prg.next_u128(), v, &mut sums, &mut scratch);
            let mut total = delta;
            for (d, (k0, k1)) in sums.iter().enumerate() {
                msg.extend_from_slice(&(k0 ^ p0[i * h + d]).to_le_bytes());
                msg.extend_from_slice(&(k1 ^ p1[i * h + d]).to_le_bytes());
            }
            if let Some((k0, k1)) = sums.last() {
                total ^= k0 ^ k1;
            }
            msg.extend_from_slice(&total.to_le_bytes());
        }
        ch.send(peer, &msg)?;
    }
    sums.zeroize();
    for p in &mut pads {
        p.zeroize();
    }
    msg.zeroize();

    ch.begin_step(CHECK_STEP);
    let reply = recv_exact(ch, peer, 32)?;
    let (seed, x_star) = (load(&reply, 0), load(&reply, 1));
    let key = round.key(seed);
    let mut hash = Polyval::new(&key.to_le_bytes().into());
    // One pass: hash the leaves (before the LPN changes them), then add the code's sums.
    let mut code = round.code();
    let mut buf = Vec::with_capacity(CHUNK);
    for chunk in out.chunks_mut(CHUNK) {
        absorb(&mut hash, chunk, &mut buf);
        lpn::add_chunk(&mut code, secret, chunk);
    }
    let v = finish(hash) ^ pack_check(check_cots) ^ gf_mul(x_star, delta);
    ch.send(peer, &round.digest(v))?;
    Ok(())
}

/// The receiver's side of one round on its pool (`bits`, `t` values); returns `n` new COTs
/// `(t, b)` with `b` as 0/1 bytes. Fails with [`Error::SpcotCheck`] if the sender cheated.
pub(crate) fn receive<C: Channel + ?Sized>(
    ch: &mut C,
    peer: PartyId,
    round: &Round<'_>,
    pool_t: &[u128],
    pool_b: &[u8],
    prg: &mut Prg,
) -> Result<(Vec<u128>, Vec<u8>)> {
    let p = round.params;
    let mut out = vec![0u128; p.n];
    let mut bits = vec![0u8; p.n];
    let r = receive_unguarded(ch, peer, round, pool_t, pool_b, &mut out, &mut bits, prg);
    if let Err(e) = r {
        out.zeroize();
        bits.zeroize();
        return Err(e);
    }
    Ok((out, bits))
}

#[allow(clippy::too_many_arguments)]
fn receive_unguarded<C: Channel + ?Sized>(
    ch: &mut C,
    peer: PartyId,
    round: &Round<'_>,
    pool_t: &[u128],
    pool_b: &[u8],
    out: &mut [u128],
    bits: &mut [u8],
    prg: &mut Prg,
) -> Result<()> {
    let p = round.params;
    let (h, leaves) = (p.tree_height(), p.leaves());
    let (secret_t, rest_t) = pool_t.split_at(p.k);
    let (level_t, check_t) = rest_t.split_at(p.t * h);
    let (secret_b, rest_b) = pool_b.split_at(p.k);
    let (level_b, check_b) = rest_b.split_at(p.t * h);

    // The key is drawn now but revealed only after every tree has arrived.
    let seed = prg.next_u128();
    let key = round.key(seed);
    let mut hash = Polyval::new(&key.to_le_bytes().into());
    let mut buf = Vec::with_capacity(CHUNK);
    let mut chi_alpha = 0u128;
    let mut scratch = TreeScratch::default();
    let mut pads = vec![0u128; TREES_PER_MSG * h];
    let mut recovered = vec![0u128; h];
    ch.begin_step(GGM_STEP);
    for first in (0..p.t).step_by(TREES_PER_MSG) {
        let trees = TREES_PER_MSG.min(p.t - first);
        let msg = recv_exact(ch, peer, trees * tree_msg_len(h))?;
        tccr_batch(round.tweak(first), 0, &level_t[first * h..(first + trees) * h], &mut pads);
        for i in 0..trees {
            let tree = first + i;
            let cot_bits = &level_b[tree * h..(tree + 1) * h];
            let tree_msg = &msg[i * tree_msg_len(h)..(i + 1) * tree_msg_len(h)];
            let (pairs, c) = spcot::read_tree_msg(tree_msg, h);
            let mut alpha = 0usize;
            for (d, ((m0, m1), &b)) in pairs.zip(cot_bits).enumerate() {
                let m = m0 ^ ((m0 ^ m1) & mask128(b == 1));
                recovered[d] = m ^ pads[i * h + d];
                alpha = (alpha << 1) | usize::from(b ^ 1);
            }
            let w = &mut out[tree * leaves..(tree + 1) * leaves];
            spcot::rebuild(&recovered, alpha, c, w, &mut scratch);
            absorb(&mut hash, w, &mut buf);
            let g = (tree * leaves + alpha) as u64;
            chi_alpha ^= pow(key, p.n as u64 - g);
            bits[tree * leaves + alpha] = 1;
        }
    }
    pads.zeroize();
    recovered.zeroize();

    ch.begin_step(CHECK_STEP);
    let b_prime = check_b.iter().enumerate().fold(0u128, |a, (i, &b)| a | (u128::from(b) << i));
    let mut reply = [0u8; 32];
    reply[..16].copy_from_slice(&seed.to_le_bytes());
    reply[16..].copy_from_slice(&(chi_alpha ^ b_prime).to_le_bytes());
    ch.send(peer, &reply)?;
    chi_alpha.zeroize();
    let expected = round.digest(finish(hash) ^ pack_check(check_t));

    let mut code = round.code();
    for (chunk, chunk_bits) in out.chunks_mut(CHUNK).zip(bits.chunks_mut(CHUNK)) {
        lpn::add_chunk_with_bits(&mut code, secret_t, secret_b, chunk, chunk_bits);
    }
    let digest = recv_exact(ch, peer, 32)?;
    if bool::from(digest.ct_eq(&expected)) { Ok(()) } else { Err(Error::SpcotCheck) }
}

#[cfg(test)]
mod tests {
    use super::super::params::CHECK_COTS;
    use super::*;

    #[test]
    fn one_is_the_identity_and_pow_matches_polyval() {
        let a = 0x0123_4567_89AB_CDEF_FEDC_BA98_7654_3210u128;
        assert_eq!(gf_mul(a, ONE), a);
        // POLYVAL of x_1..x_N is Σ x_j·H^(N−j+1).
        let key = 0x5555_1234_u128 << 70 | 99;
        let xs: Vec<u128> = (0..37u128).map(|i| i * 0x9E37_79B9 + 3).collect();
        let mut st = Polyval::new(&key.to_le_bytes().into());
        absorb(&mut st, &xs, &mut Vec::new());
        let want = xs
            .iter()
            .enumerate()
            .fold(0u128, |acc, (j, x)| acc ^ gf_mul(*x, pow(key, (xs.len() - j) as u64)));
        assert_eq!(finish(st), want);
        assert_eq!(pow(key, 1), key);
        assert_eq!(pow(key, 0), ONE);
    }

    #[test]
    fn check_packing_is_bilinear() {
        let delta = 0xAAAA_0000_1111u128 << 60 | 5;
        let q: Vec<u128> = (0..CHECK_COTS as u128).map(|i| i * 0x1111_2222_3333 + 9).collect();
        let b: Vec<bool> = (0..CHECK_COTS).map(|i| i % 5 < 2).collect();
        let t: Vec<u128> = q.iter().zip(&b).map(|(q, &b)| q ^ (delta & mask128(b))).collect();
        let bp = b.iter().enumerate().fold(0u128, |a, (i, &b)| a | (u128::from(b) << i));
        assert_eq!(pack_check(&t), pack_check(&q) ^ gf_mul(bp, delta));
    }
}
