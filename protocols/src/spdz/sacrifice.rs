//! MASCOT's Combine and Sacrifice, shared by [`super::Mascot`] and [`super::VoleSpdz`].
//!
//! Keller–Orsini–Scholl, MASCOT (CCS 2016), §5, protocol Π_Triple, steps Combine and Sacrifice,
//! in the paper's shape: every party P_i has **one** b_i per triple and a factor made of
//! candidates, and the two triples it makes share b.
//!
//! - **Candidates as limbs.** P_i's candidates are the [`LIMBS`] integers X_{i,k} < 2^64 spelled
//!   by its 384 Gilboa choice bits (module [`super::gilboa`]) instead of the paper's τ = 3 field
//!   elements (381 bits). After the Gilboa messages are sent, coins give r, r̂ ∈ F^6 per triple and
//!   a_i = Σ_k r_k·X_{i,k}, â_i = Σ_k r̂_k·X_{i,k}, c = Σ_k r_k·(X_k·b)-shares, ĉ likewise with r̂.
//!   So (a, b, c) and (â, b, ĉ) are both triples when everyone was honest.
//! - **Sacrifice.** After all five values are authenticated, a coin gives s per triple;
//!   ρ = s·a − â is opened and z = s·c − ĉ − ρ·b is checked to be **zero by its MAC alone**
//!   (the paper's CheckZero; MP-SPDZ's `AddToCheck(share, 0)`): the value 0 enters the batched
//!   MAC check ([`super::mac_check`]) with the parties' MAC shares of z, so z's shares are never
//!   sent. With c = a·b + e and ĉ = â·b + ê, z = s·e − ê, which is 0 for a coin s fixed after e
//!   and ê only with probability 1/p; a nonzero z passes the MAC check with probability ≤ 2/p.
//!   A failure of that one check is [`Error::Sacrifice`] (it also covers a tampered ρ share).
//!
//! **Statistical security** (why 6 limbs). A cheating Gilboa sender can add errors that depend on
//! bits of the honest receiver's X (selective failure): if it guesses L bits, it passes with
//! probability 2^-L and learns them. The honest party's (a, â) must then stay hidden, because ρ
//! ties them together. The map (r, r̂) ↦ (Σ r_k X_k, Σ r̂_k X_k) is a universal hash from
//! {0,1}^384 to F² (two bit strings that differ differ in a limb; limbs are distinct field
//! elements; both inner products vanish with probability 1/p²). By the leftover hash lemma,
//! (a, â) is within ½·2^-(384 − L − 254)/2 of uniform given the view, so the adversary's total
//! advantage is 2^-L·½·2^-(130 − L)/2 ≤ 2^-66 (L = 0 is the worst case). With the paper's τ = 3
//! field elements the same count gives 2^-64.5, too close to the 2^-64 floor; its variant with
//! separate b, b̂ (Tessera's earlier design) needed one hidden element but twice the Gilboa traffic.

use tessera_mpc::coin::Coins;
use tessera_mpc::{Channel, Field, Prg, Seed};

use super::Shared;
use super::gilboa::LIMBS;
use super::mac_check::{OpenedLog, mac_check, open_into, toss};
use crate::{Error, Result};

/// The step labels one protocol uses for the sacrifice (targets for attack tests).
pub(crate) struct Steps {
    /// The sacrifice coin toss.
    pub(crate) coins: &'static str,
    /// The opening of ρ.
    pub(crate) open: &'static str,
}

/// Index of each value in the 5·m vector [`combine`] returns.
pub(crate) const A: usize = 0;
/// The shared b.
pub(crate) const B: usize = 1;
/// c = a·b.
pub(crate) const C: usize = 2;
/// â, the sacrificed triple's first factor.
pub(crate) const AH: usize = 3;
/// ĉ = â·b.
pub(crate) const CH: usize = 4;

/// This party's values for `m` triples, before authentication: blocks of m values in the order
/// [`A`], [`B`], [`C`], [`AH`], [`CH`]. `limbs` are its X_{p,k} (m·[`LIMBS`]), `b` its b_p,
/// `cross` its shares of every X·b with a peer (summed over the peers, one per limb), `seed`
/// the combine coin (tossed after the Gilboa messages).
pub(crate) fn combine<F: Field>(seed: &Seed, limbs: &[F], b: &[F], cross: &[F]) -> Vec<F> {
    let m = b.len();
    let coeffs = F::random_vec(&mut Prg::from_seed(seed), 2 * m * LIMBS);
    let (r, rh) = coeffs.split_at(m * LIMBS);
    let mut own = vec![F::ZERO; 5 * m];
    for p in 0..m {
        let (mut a, mut ah, mut c, mut ch) = (F::ZERO, F::ZERO, F::ZERO, F::ZERO);
        for k in 0..LIMBS {
            let i = p * LIMBS + k;
            a += r[i] * limbs[i];
            ah += rh[i] * limbs[i];
            c += r[i] * cross[i];
            ch += rh[i] * cross[i];
        }
        own[A * m + p] = a;
        own[B * m + p] = b[p];
        own[C * m + p] = a * b[p] + c;
        own[AH * m + p] = ah;
        own[CH * m + p] = ah * b[p] + ch;
    }
    own
}

/// Sacrifices (â, b, ĉ) to check (a, b, c) for all `m` triples of `all` (authenticated shares in
/// [`combine`]'s layout, summed over owners) and returns the checked (a, b, c).
pub(crate) fn sacrifice<F: Field>(
    ch: &mut dyn Channel,
    coins: &mut Coins,
    alpha: F,
    all: &Shared<F>,
    steps: &Steps,
) -> Result<[Shared<F>; 3]> {
    if !all.len().is_multiple_of(5) {
        return Err(Error::Misuse("sacrifice: not five values per triple".into()));
    }
    let m = all.len() / 5;
    let part = |k: usize| all.slice(k * m..(k + 1) * m);
    let (a, b, c, ah, chat) = (part(A)?, part(B)?, part(C)?, part(AH)?, part(CH)?);
    let seed = toss(coins, ch, steps.coins)?;
    let s = F::random_vec(&mut Prg::from_seed(&seed), m);
    let mut log = OpenedLog::default();
    let rho = open_into(ch, &a.mul_public(&s)?.sub(&ah)?, &mut log, steps.open)?;
    let z = c.mul_public(&s)?.sub(&chat)?.sub(&b.mul_public(&rho)?)?;
    log.record(&vec![F::ZERO; m], &z.mac);
    mac_check(ch, coins, alpha, &mut log).map_err(|e| match e {
        Error::MacCheck => Error::Sacrifice,
        other => other,
    })?;
    Ok([a, b, c])
}

/// The Gilboa sender's element for each receiver limb: b_p for every limb of triple p. With
/// `split` (the cheat of [`super::Fault::MascotSplitB`]) the last limb of triple 0 gets b_0 + 1.
pub(crate) fn sender_inputs<F: Field>(b: &[F], split: bool) -> Vec<F> {
    let mut out: Vec<F> = (0..b.len() * LIMBS).map(|i| b[i / LIMBS]).collect();
    if let (true, Some(x)) = (split, out.get_mut(LIMBS - 1)) {
        *x += F::ONE;
    }
    out
}

/// The cheat of [`super::Fault::MascotMatchedShift`] on [`combine`]'s output: (1, s₀) added to
/// c and ĉ of triple 0, s₀ the sacrifice coefficient that a zero coin would give.
pub(crate) fn matched_shift<F: Field>(own: &mut [F]) {
    let m = own.len() / 5;
    if m == 0 {
        return;
    }
    let s0 = F::random_vec(&mut Prg::from_seed(&Seed([0; 16])), m)[0];
    own[C * m] += F::ONE;
    own[CH * m] += s0;
}
