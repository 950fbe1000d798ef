//! Gilboa multiplication on *random* COTs whose random choice bits are the receiver's factor.
//!
//! As MASCOT's Multiply (Keller–Orsini–Scholl, CCS 2016, §5, Fig. 8, steps 1–3; module
//! `mascot::gilboa`), with two changes:
//! - the receiver does not choose its bits: it takes the random bits of random COTs (Ferret, or
//!   the stand-in), so with its first peer no choice bit is sent at all; with every further
//!   peer it derandomises the COTs to the same bits by sending one correction bit per COT
//!   (e = b ⊕ b′, the sender replaces q by q ⊕ e·Δ — the standard random-to-chosen step);
//! - the receiver's scalars are [`LIMBS`] *limbs* of [`LIMB_BITS`] random bits,
//!   X_k = Σ_l 2^l·b_{k,l} < 2^64 < p, which the caller combines into one factor
//!   a = Σ_k r_k·X_k with coin-tossed r (module `super` explains why that is MASCOT's Combine).
//!
//! For each COT the sender hashes q and q ⊕ Δ into m⁰, m¹ ∈ F^w and sends d = m⁰ − m¹ + g; the
//! receiver's v = H(t) + b·d = m⁰ + b·g. Summing with weights 2^l over a limb gives additive
//! shares of X_k·g: w field elements per COT.

use tessera_mpc::{Channel, Field, PartyId};
use tessera_ot::hash::tccr_batch;

use super::sources::{CotReceiver, CotSender};
use crate::{Error, Result};

/// Bits per limb: a limb is an integer below 2^64, hence a distinct field element.
pub(crate) const LIMB_BITS: usize = 64;
/// Limbs per factor: 4 × 64 = 256 random bits per factor a_j.
pub(crate) const LIMBS: usize = 4;

/// Step label of the Gilboa messages.
pub(crate) const GILBOA_STEP: &str = "spdz/vole/gilboa";
/// Step label of the choice corrections sent to every peer but the first.
pub(crate) const CHOICE_STEP: &str = "spdz/vole/choice-fix";

/// COTs hashed and corrected per message (a few MiB of working memory).
const CHUNK_OTS: usize = 1 << 13;

/// Hashes each OT string into `width` field elements, element j of OT i with tweak
/// `base + i·width + j` (as `mascot::gilboa`).
fn expand_into<F: Field>(
    strings: &[u128],
    offset: u128,
    base: u128,
    width: usize,
    rep: &mut Vec<u128>,
    hashed: &mut Vec<u128>,
    out: &mut Vec<F>,
) {
    rep.clear();
    rep.extend(strings.iter().flat_map(|s| std::iter::repeat_n(*s, width)));
    hashed.resize(rep.len(), 0);
    tccr_batch(base, offset, rep, hashed);
    let shift = 128 - F::MODULUS_BITS;
    out.clear();
    out.extend(hashed.iter().map(|v| F::from_u128(v >> shift)));
}

fn pack_bits(bits: &[bool]) -> Vec<u8> {
    let mut out = vec![0u8; bits.len().div_ceil(8)];
    for (i, b) in bits.iter().enumerate() {
        out[i / 8] |= u8::from(*b) << (i % 8);
    }
    out
}

/// The sender's side. `groups` holds one group of `width` elements per receiver limb; returns
/// this party's shares of the limb products (same layout). `fix` says whether the receiver
/// derandomises these COTs (it does with every peer but its first).
///
/// `wrong` (tests of a cheating sender only) is added to every correction of the first group.
#[allow(clippy::too_many_arguments)]
pub(crate) fn send<F: Field>(
    ch: &mut dyn Channel,
    peer: PartyId,
    cot: &mut CotSender,
    tweak: &mut u128,
    groups: &[F],
    width: usize,
    fix: bool,
    wrong: Option<&[F]>,
) -> Result<Vec<F>> {
    let k = LIMB_BITS;
    let limbs = groups.len() / width;
    let (mut q, delta) = cot.random_cot(ch, limbs * k)?;
    if q.len() != limbs * k {
        return Err(Error::Misuse("COT source returned the wrong number of COTs".into()));
    }
    if fix {
        ch.begin_step(CHOICE_STEP);
        let e = ch.recv_exact(peer, q.len().div_ceil(8))?;
        for (i, qi) in q.iter_mut().enumerate() {
            let bit = u128::from((e[i / 8] >> (i % 8)) & 1);
            *qi ^= bit.wrapping_neg() & delta;
        }
    }
    ch.begin_step(GILBOA_STEP);
    let mut shares = vec![F::ZERO; groups.len()];
    let (mut rep, mut hashed, mut m0, mut m1) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let per_chunk = (CHUNK_OTS / k).max(1);
    for first in (0..limbs).step_by(per_chunk) {
        let count = per_chunk.min(limbs - first);
        let strings = &q[first * k..(first + count) * k];
        let base = *tweak + (first * k * width) as u128;
        expand_into::<F>(strings, 0, base, width, &mut rep, &mut hashed, &mut m0);
        expand_into::<F>(strings, delta, base, width, &mut rep, &mut hashed, &mut m1);
        let mut msg = vec![0u8; m0.len() * F::BYTES];
        for p in 0..count {
            let group = &groups[(first + p) * width..(first + p + 1) * width];
            let share = &mut shares[(first + p) * width..(first + p + 1) * width];
            // Bits from the top down, so the share is accumulated by doubling (Horner).
            for l in (0..k).rev() {
                let at = (p * k + l) * width;
                for j in 0..width {
                    let mut d = m0[at + j] - m1[at + j] + group[j];
                    if let (0, Some(w)) = (first + p, wrong) {
                        d += w.get(j).copied().unwrap_or(F::ZERO);
                    }
                    d.write_le(&mut msg[(at + j) * F::BYTES..(at + j + 1) * F::BYTES]);
                    share[j] = share[j] + share[j] + m0[at + j];
                }
            }
        }
        ch.send(peer, &msg)?;
    }
    *tweak += (q.len() * width) as u128;
    Ok(shares.into_iter().map(|s| -s).collect())
}

/// The receiver's side for `limbs` limbs. With `choices = None` it keeps the random bits of the
/// COTs; otherwise it sends corrections so the COTs carry `choices` (`limbs · LIMB_BITS` bits).
/// Returns the bits it used and its shares of the limb products, `width` per limb.
pub(crate) fn receive<F: Field>(
    ch: &mut dyn Channel,
    peer: PartyId,
    cot: &mut CotReceiver,
    tweak: &mut u128,
    limbs: usize,
    width: usize,
    choices: Option<&[bool]>,
) -> Result<(Vec<bool>, Vec<F>)> {
    let k = LIMB_BITS;
    let (random, t) = cot.random_cot(ch, limbs * k)?;
    if t.len() != limbs * k || random.len() != limbs * k {
        return Err(Error::Misuse("COT source returned the wrong number of COTs".into()));
    }
    let bits = match choices {
        None => random,
        Some(c) => {
            if c.len() != random.len() {
                return Err(Error::Misuse("wrong number of choice bits".into()));
            }
            let e: Vec<bool> = c.iter().zip(&random).map(|(a, b)| a ^ b).collect();
            ch.begin_step(CHOICE_STEP);
            ch.send(peer, &pack_bits(&e))?;
            c.to_vec()
        }
    };
    ch.begin_step(GILBOA_STEP);
    let mut shares = vec![F::ZERO; limbs * width];
    let (mut rep, mut hashed, mut v) = (Vec::new(), Vec::new(), Vec::new());
    let per_chunk = (CHUNK_OTS / k).max(1);
    for first in (0..limbs).step_by(per_chunk) {
        let count = per_chunk.min(limbs - first);
        let strings = &t[first * k..(first + count) * k];
        let base = *tweak + (first * k * width) as u128;
        expand_into::<F>(strings, 0, base, width, &mut rep, &mut hashed, &mut v);
        let msg = ch.recv_exact(peer, v.len() * F::BYTES)?;
        for p in 0..count {
            let share = &mut shares[(first + p) * width..(first + p + 1) * width];
            for l in (0..k).rev() {
                let bit = F::from_u64(u64::from(bits[(first + p) * k + l]));
                let at = (p * k + l) * width;
                for j in 0..width {
                    let off = (at + j) * F::BYTES;
                    let d = F::read_le(&msg[off..off + F::BYTES])?;
                    share[j] = share[j] + share[j] + v[at + j] + bit * d;
                }
            }
        }
    }
    *tweak += (t.len() * width) as u128;
    Ok((bits, shares))
}

/// The limb values X_k = Σ_l 2^l·b_{k,l} of `bits`, as field elements.
pub(crate) fn limb_values<F: Field>(bits: &[bool]) -> Vec<F> {
    bits.chunks(LIMB_BITS)
        .map(|c| {
            let v = c.iter().rev().fold(0u128, |acc, b| (acc << 1) | u128::from(*b));
            F::from_u128(v)
        })
        .collect()
}
