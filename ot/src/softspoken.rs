//! SoftSpokenOT: OT extension from small-field VOLE, trading computation for communication.
//!
//! Follows Roy, "SoftSpokenOT: Quieter OT Extension from Small-Field Silent VOLE in the Minicrypt
//! Model" (CRYPTO 2022): the small-field VOLE from (2^k − 1)-out-of-2^k OT (Figure 7, the
//! `Σ_x x·G(s_x)` construction), the repetition-code subspace VOLE that turns 128/k such VOLEs
//! into correlated OT, and the malicious consistency check of §5, which is KOS15's check
//! (shared with KOS in module `ext`).
//!
//! Parameter k ∈ {2, 4, 8}. The 128 base OTs ([`crate::base`]) are grouped into 128/k blocks of
//! k; in each block the receiver (who knows every leaf) builds a GGM tree with 2^k leaves and
//! sends, per level, both level sums masked by the base-OT keys, so the sender, choosing the
//! complement of the path to its Δ block `α`, learns every leaf but `s_α` (Boyle et al.'s
//! punctured PRF). Per chunk, with `r_x = G(s_x)` (AES-128-CTR):
//! - receiver: `u_b = Σ_x r_x` (one bit per OT) and `v_b = Σ_x x·r_x` (k bits per OT);
//! - sender: `w_b = Σ_x (x ⊕ α)·r_x = v_b ⊕ α·u_b`, computable without `s_α`;
//! - the receiver's choice bits are `u_0` (random OT) and it sends `u_b ⊕ r` for the other
//!   blocks (plus `u_0 ⊕ r` for chosen bits), so every block carries the same `r` and the rows
//!   satisfy `t_i = q_i ⊕ r_i·Δ`.
//!
//! Communication per OT: (128/k − 1) bits for random choices, 128/k for chosen ones (k = 4: 31
//! or 32), against 128 for KOS; computation grows as 2^k/k AES blocks per 128 OTs.
//!
//! Security: malicious, κ = 128 computational, σ = 64 statistical for the check (§5), with the
//! selective-failure leak below accounted for.
//!
//! **The tree builder can try to learn bits of Δ.** The sender rebuilds block `b`'s tree from
//! one masked level sum per level: the one of its path's sibling, whose side is the bit of
//! `α_b` at that level. A receiver that corrupts the left (even) sum of level `d` of block `b`
//! therefore changes the sender's leaves exactly when that bit — Δ bit `b·k + k − d` — is 1; the
//! sender's rows are then off in block `b`'s columns and the check fails (except with probability
//! 2^-128). The check passes exactly when the Δ bit is 0: a selective failure that leaks one bit
//! of Δ per corrupted sum, with probability 1/2 of not being caught — the same kind as KOS's
//! (a row with mixed choice bits; module `ext`). The test
//! `softspoken_ggm_corruption_leaks_a_delta_bit_by_selective_failure` shows it (pass/fail
//! matches the predicted bit in every run). In general, whatever sums it sends, the receiver can
//! compute the sender's leaf set as a function of α, so passing the check tells it only a
//! predicate "Δ ∈ S": it passes with probability |S|/2^128 and is left with |S| candidates.
//! Learning t bits costs a 2^-t chance of not being caught and leaves 128 − t to guess, so a
//! cheater obtains Δ with probability at most 2^-128 (plus the check's 2^-64). That is the
//! leakage KOS15 (CRYPTO 2015, §3, Theorem 1 and its proof) allows a corrupt receiver and bounds
//! in exactly this way; Roy §5 reuses KOS15's check, and the argument carries over because a
//! corrupted setup only makes the sender's rows a function of Δ that the receiver can compute
//! (the bound here rests on KOS15's argument). κ = 128 holds in this combined sense. The bound
//! needs one try per Δ: a failed check locks both objects
//! ([`crate::Error::Aborted`]), and a new Δ comes only with a new setup. Callers must treat a
//! failed check as proof that the peer cheats.
//!
//! Binding: the base OTs and the check are bound to the caller's session (module [`crate::base`],
//! module `ext`); the level sums are masked with base-OT keys, which are bound to it.
//!
//! Steps marked on the channel ([`Channel::begin_step`]): `"ot/base"` (the base OTs) and
//! [`GGM_STEP`] (the receiver's level sums), then the extension's steps per call.
//!
//! Side channel: rebuilding the tree at setup branches on α; the per-chunk work accesses leaves
//! in a fixed order.

use tessera_mpc::{Channel, PartyId, Prg, SessionId};
use zeroize::Zeroize;

use crate::base;
use crate::block::{load, xor_into};
use crate::error::{Error, Result, recv_exact};
use crate::ext::{ExtReceiver, ExtSender, ReceiverCore, SenderCore, public_api};
use crate::hash::AesCtr;

const KAPPA: usize = 128;

fn check_k(k: usize) -> Result<()> {
    if matches!(k, 2 | 4 | 8) {
        Ok(())
    } else {
        Err(Error::Misuse("SoftSpoken k must be 2, 4 or 8"))
    }
}

/// For leaves `r_y`, `y ∈ [0, 2^k)`, written by `leaf(y, buf)`, sets `cols[l] = Σ_{y: y_l = 1} r_y`
/// and returns `Σ_y r_y` in `total`: a binary-counter walk over the leaves, two vector XORs per
/// leaf on average instead of k/2 (the sums of completed subtrees wait on `stack`).
fn subspace_sums(
    k: usize,
    cb: usize,
    mut leaf: impl FnMut(usize, &mut [u8]),
    cols: &mut [u8],
    cur: &mut Vec<u8>,
    stack: &mut Vec<u8>,
    total: &mut [u8],
) {
    cols[..k * cb].fill(0);
    cur.resize(cb, 0);
    stack.resize(k * cb, 0);
    for y in 0..1usize << k {
        leaf(y, cur);
        let (mut d, mut pos) = (0, y);
        while pos & 1 == 1 {
            // `cur` sums a subtree whose leaves all have bit d set; merge it with its sibling.
            xor_into(&mut cols[d * cb..(d + 1) * cb], cur);
            xor_into(cur, &stack[d * cb..(d + 1) * cb]);
            d += 1;
            pos >>= 1;
        }
        if d == k {
            total.copy_from_slice(cur);
        } else {
            stack[d * cb..(d + 1) * cb].copy_from_slice(cur);
        }
    }
    cur.zeroize();
    stack.zeroize();
}

pub(crate) struct SsSenderCore {
    k: usize,
    delta: u128,
    /// Block `b`, punctured index `y ≠ 0` (leaf `y ⊕ α_b`) at `b·(2^k − 1) + y − 1`.
    leaves: Vec<AesCtr>,
    cur: Vec<u8>,
    stack: Vec<u8>,
    total: Vec<u8>,
}

impl Drop for SsSenderCore {
    fn drop(&mut self) {
        self.delta.zeroize();
    }
}

impl SenderCore for SsSenderCore {
    fn delta(&self) -> u128 {
        self.delta
    }

    fn msg_len(&self, rows: usize, fixed: bool) -> usize {
        (KAPPA / self.k - usize::from(!fixed)) * rows / 8
    }

    fn extend(&mut self, rows: usize, fixed: bool, msg: &[u8], cols: &mut [u8]) {
        let (k, cb) = (self.k, rows / 8);
        let per_block = (1 << k) - 1;
        self.total.resize(cb, 0);
        let mut corrections = msg.chunks_exact(cb);
        for b in 0..KAPPA / k {
            let leaves = &mut self.leaves[b * per_block..(b + 1) * per_block];
            let block_cols = &mut cols[b * k * cb..(b + 1) * k * cb];
            let leaf = |y: usize, buf: &mut [u8]| {
                if y == 0 { buf.fill(0) } else { leaves[y - 1].fill(buf) }
            };
            subspace_sums(k, cb, leaf, block_cols, &mut self.cur, &mut self.stack, &mut self.total);
            // w = v ⊕ α·u_b; adding α·(u_b ⊕ r) leaves v ⊕ α·r.
            if b > 0 || fixed {
                let c = corrections.next().unwrap_or_default();
                for (l, col) in block_cols.chunks_exact_mut(cb).enumerate() {
                    let mask = 0u8.wrapping_sub(((self.delta >> (b * k + l)) & 1) as u8);
                    for (w, c) in col.iter_mut().zip(c) {
                        *w ^= c & mask;
                    }
                }
            }
        }
    }
}

pub(crate) struct SsReceiverCore {
    k: usize,
    /// Block `b`, leaf `x` at `b·2^k + x`.
    leaves: Vec<AesCtr>,
    cur: Vec<u8>,
    stack: Vec<u8>,
    u: Vec<u8>,
}

impl ReceiverCore for SsReceiverCore {
    fn extend(
        &mut self,
        rows: usize,
        fixed: bool,
        choices: &mut [u8],
        cols: &mut [u8],
        msg: &mut Vec<u8>,
    ) {
        let (k, cb) = (self.k, rows / 8);
        self.u.resize(cb, 0);
        for b in 0..KAPPA / k {
            let leaves = &mut self.leaves[b << k..(b + 1) << k];
            let block_cols = &mut cols[b * k * cb..(b + 1) * k * cb];
            let leaf = |x: usize, buf: &mut [u8]| leaves[x].fill(buf);
            subspace_sums(k, cb, leaf, block_cols, &mut self.cur, &mut self.stack, &mut self.u);
            if b == 0 && !fixed {
                choices.copy_from_slice(&self.u);
            } else {
                let start = msg.len();
                msg.extend_from_slice(&self.u);
                xor_into(&mut msg[start..], choices);
            }
        }
        self.u.zeroize();
    }
}

public_api!(SsSenderCore, SsReceiverCore);

/// The step of the receiver's GGM level sums at setup.
pub const GGM_STEP: &str = "ot/softspoken/ggm";

/// The protocol's id for the extension from `sender` to `receiver` with parameter `k`: the base
/// OTs and the checks derive theirs from it.
fn protocol_id(session: &SessionId, k: usize, sender: PartyId, receiver: PartyId) -> SessionId {
    let label = [b"tessera/ot/softspoken/k".as_slice(), &[k as u8]].concat();
    session.derive(&label, &[sender, receiver])
}

/// The punctured point of block `b`: Δ's bits `b·k .. b·k + k`.
fn alpha(delta: u128, k: usize, b: usize) -> usize {
    ((delta >> (b * k)) as usize) & ((1 << k) - 1)
}

impl Sender {
    /// Runs the 128 base OTs with `peer` (as base-OT receiver, choosing a fresh random Δ) and
    /// rebuilds the punctured GGM trees; `k` ∈ {2, 4, 8} must match the receiver's.
    pub fn setup<C: Channel + ?Sized>(
        ch: &mut C,
        peer: PartyId,
        k: usize,
        session: &SessionId,
        prg: &mut Prg,
    ) -> Result<Self> {
        check_k(k)?;
        let me = ch.party();
        let sid = protocol_id(session, k, me, peer);
        let delta = prg.next_u128();
        // Level d (1-based) of block b splits on bit k − d of the leaf index; the sender picks
        // the sibling of its path.
        let choices: Vec<bool> = (0..KAPPA)
            .map(|j| {
                let (b, d) = (j / k, j % k + 1);
                (alpha(delta, k, b) >> (k - d)) & 1 == 0
            })
            .collect();
        let keys = base::receive(ch, peer, &choices, &sid, prg)?;
        ch.begin_step(GGM_STEP);
        let sums = recv_exact(ch, peer, 32 * KAPPA)?;
        let mut leaves = Vec::with_capacity((KAPPA / k) * ((1 << k) - 1));
        for b in 0..KAPPA / k {
            let a = alpha(delta, k, b);
            let (mut nodes, mut path) = (vec![0u128], 0usize);
            for d in 1..=k {
                let j = b * k + d - 1;
                let bit = (a >> (k - d)) & 1;
                let mut next = vec![0u128; 1 << d];
                for (i, &s) in nodes.iter().enumerate() {
                    if i != path {
                        let (l, r) = AesCtr::expand2(s);
                        next[2 * i] = l;
                        next[2 * i + 1] = r;
                    }
                }
                let sib = 2 * path + (1 - bit);
                let level_sum = load(&sums, 2 * j + (1 - bit)) ^ keys[j];
                next[sib] = (0..1 << d)
                    .filter(|&i| i % 2 == 1 - bit && i != sib)
                    .fold(level_sum, |acc, i| acc ^ next[i]);
                nodes.zeroize();
                nodes = next;
                path = 2 * path + bit;
            }
            leaves.extend((1..1usize << k).map(|y| AesCtr::new(nodes[y ^ a])));
            nodes.zeroize();
        }
        let core = SsSenderCore {
            k,
            delta,
            leaves,
            cur: Vec::new(),
            stack: Vec::new(),
            total: Vec::new(),
        };
        Ok(Self { inner: ExtSender::new(core, me, peer, &sid, Prg::from_seed(&prg.next_seed())) })
    }
}

impl Receiver {
    /// Runs the 128 base OTs with `peer` (as base-OT sender) and sends the GGM level sums;
    /// `k` ∈ {2, 4, 8} must match the sender's.
    pub fn setup<C: Channel + ?Sized>(
        ch: &mut C,
        peer: PartyId,
        k: usize,
        session: &SessionId,
        prg: &mut Prg,
    ) -> Result<Self> {
        check_k(k)?;
        let me = ch.party();
        let sid = protocol_id(session, k, peer, me);
        let keys = base::send(ch, peer, KAPPA, &sid, prg)?;
        let mut sums = Vec::with_capacity(32 * KAPPA);
        let mut leaves = Vec::with_capacity(KAPPA << k);
        for b in 0..KAPPA / k {
            let mut nodes = vec![prg.next_u128()];
            for d in 1..=k {
                let [m0, m1] = keys[b * k + d - 1];
                let mut next = Vec::with_capacity(1 << d);
                let (mut even, mut odd) = (0u128, 0u128);
                for &s in &nodes {
                    let (l, r) = AesCtr::expand2(s);
                    even ^= l;
                    odd ^= r;
                    next.push(l);
                    next.push(r);
                }
                sums.extend_from_slice(&(even ^ m0).to_le_bytes());
                sums.extend_from_slice(&(odd ^ m1).to_le_bytes());
                nodes.zeroize();
                nodes = next;
            }
            leaves.extend(nodes.iter().map(|&s| AesCtr::new(s)));
            nodes.zeroize();
        }
        ch.begin_step(GGM_STEP);
        ch.send(peer, &sums)?;
        let core = SsReceiverCore { k, leaves, cur: Vec::new(), stack: Vec::new(), u: Vec::new() };
        Ok(Self { inner: ExtReceiver::new(core, me, peer, &sid, Prg::from_seed(&prg.next_seed())) })
    }

    #[cfg(test)]
    pub(crate) fn set_tamper(&mut self, tamper: crate::ext::Tamper) {
        self.inner.tamper = Some(tamper);
    }
}
