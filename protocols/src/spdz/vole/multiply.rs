//! Gilboa multiplication on *random* COTs whose random choice bits are the receiver's factor.
//!
//! As MASCOT's Multiply (Keller–Orsini–Scholl, CCS 2016, §5, Fig. 8, steps 1–3; the shared core
//! `spdz::gilboa`), except that the receiver does not choose its bits: it takes the random bits
//! of random COTs (Ferret, or the stand-in), so with its first peer no choice bit is sent at all;
//! with every further peer it derandomises the COTs to the same bits by sending one correction
//! bit per COT (e = x ⊕ x′, the sender replaces q by q ⊕ e·Δ — the standard random-to-chosen
//! step). The bits are read as `LIMBS` limbs of `LIMB_BITS` bits, combined by the caller.

use tessera_mpc::{Channel, Field, PartyId};

use super::sources::{CotReceiver, CotSender};
use crate::spdz::gilboa::{self, LIMB_BITS};
use crate::{Error, Result};

/// Step label of the Gilboa messages.
pub(crate) const GILBOA_STEP: &str = "spdz/vole/gilboa";
/// Step label of the choice corrections sent to every peer but the first.
pub(crate) const CHOICE_STEP: &str = "spdz/vole/choice-fix";

fn pack_bits(bits: &[bool]) -> Vec<u8> {
    let mut out = vec![0u8; bits.len().div_ceil(8)];
    for (i, b) in bits.iter().enumerate() {
        out[i / 8] |= u8::from(*b) << (i % 8);
    }
    out
}

/// The sender's side: one element of `b` per receiver limb; returns this party's shares of the
/// limb products. `fix` says whether the receiver derandomises these COTs (it does with every
/// peer but its first).
pub(crate) fn send<F: Field>(
    ch: &mut dyn Channel,
    peer: PartyId,
    cot: &mut CotSender,
    tweak: &mut u128,
    b: &[F],
    fix: bool,
) -> Result<Vec<F>> {
    let (mut q, delta) = cot.random_cot(ch, b.len() * LIMB_BITS)?;
    if q.len() != b.len() * LIMB_BITS {
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
    gilboa::send(ch, peer, GILBOA_STEP, (&q, delta), tweak, b)
}

/// The receiver's side for `limbs` limbs. With `choices = None` it keeps the random bits of the
/// COTs; otherwise it sends corrections so the COTs carry `choices` (`limbs · LIMB_BITS` bits).
/// Returns the bits it used and its shares of the limb products.
pub(crate) fn receive<F: Field>(
    ch: &mut dyn Channel,
    peer: PartyId,
    cot: &mut CotReceiver,
    tweak: &mut u128,
    limbs: usize,
    choices: Option<&[bool]>,
) -> Result<(Vec<bool>, Vec<F>)> {
    let (random, t) = cot.random_cot(ch, limbs * LIMB_BITS)?;
    if t.len() != limbs * LIMB_BITS || random.len() != limbs * LIMB_BITS {
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
    let shares = gilboa::receive(ch, peer, GILBOA_STEP, (&t, &bits), tweak)?;
    Ok((bits, shares))
}
