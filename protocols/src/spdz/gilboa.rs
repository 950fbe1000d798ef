//! Gilboa multiplication (CRYPTO 1999) on correlated OT, as MASCOT's Multiply, shared by
//! [`super::Mascot`] and [`super::VoleSpdz`].
//!
//! Keller–Orsini–Scholl, MASCOT (CCS 2016), §5, Fig. 8 (steps 1–3), with the sender input of
//! the paper's Π_Triple: one element b per product (width 1). The receiver's factor is spelled
//! by its OT choice bits in [`LIMB_BITS`]-bit *limbs* X = Σ_l 2^l·x_l < 2^64 < p; for each bit
//! the sender hashes its OT strings q and q ⊕ Δ (tweakable correlation-robust hash) into two
//! random elements m⁰, m¹ and sends d = m⁰ − m¹ + b. The receiver, holding t = q ⊕ x·Δ, gets
//! v = H(t) + x·d = m⁰ + x·b, so Σ 2^l·v_l − Σ 2^l·m⁰_l = X·b: additive shares of the product
//! for 64 OTs and 64 field elements. Where the OTs come from (chosen bits on KOS/SoftSpoken, or
//! random COTs) is the caller's business.
//!
//! A malicious sender can make a product wrong only in a way that depends on bits of X (a
//! selective failure); the sacrifice ([`super::sacrifice`]) catches the wrong product and its
//! combining step makes the leaked bits useless.

use tessera_mpc::{Channel, Field, PartyId};
use tessera_ot::hash::tccr_batch;

use crate::{Error, Result};

/// Bits per limb: a limb is an integer below 2^64, hence a distinct element of a field of more
/// than 64 bits.
pub(crate) const LIMB_BITS: usize = 64;

/// Limbs per factor: 6 × 64 = 384 random bits, enough for (a, â) ∈ F² to be 2^-66-close to
/// uniform after the combine (module [`super::sacrifice`]).
pub(crate) const LIMBS: usize = 6;

/// Limbs hashed and corrected per message (8,192 OTs: a few MiB of working memory).
const CHUNK_LIMBS: usize = (1 << 13) / LIMB_BITS;

/// Hashes each OT string (⊕ `offset`) into one field element, OT i with tweak `base + i`.
/// Uniform up to a 2^-(bits−1) bias.
fn expand_into<F: Field>(
    strings: &[u128],
    offset: u128,
    base: u128,
    hashed: &mut Vec<u128>,
    out: &mut Vec<F>,
) {
    hashed.resize(strings.len(), 0);
    tccr_batch(base, offset, strings, hashed);
    let shift = 128 - F::MODULUS_BITS;
    out.clear();
    out.extend(hashed.iter().map(|v| F::from_u128(v >> shift)));
}

/// The sender's side: `q` are its OT strings (OT i = limb i / 64, bit i % 64), `delta` its
/// global offset, `b` one element per receiver limb. Returns this party's shares of the limb
/// products. `tweak` is this direction's hash-tweak counter, advanced past what is used.
pub(crate) fn send<F: Field>(
    ch: &mut dyn Channel,
    peer: PartyId,
    step: &'static str,
    (q, delta): (&[u128], u128),
    tweak: &mut u128,
    b: &[F],
) -> Result<Vec<F>> {
    let k = LIMB_BITS;
    if q.len() != b.len() * k {
        return Err(Error::Misuse("Gilboa: wrong number of OTs".into()));
    }
    ch.begin_step(step);
    let mut shares = vec![F::ZERO; b.len()];
    let (mut hashed, mut m0, mut m1) = (Vec::new(), Vec::new(), Vec::new());
    for first in (0..b.len()).step_by(CHUNK_LIMBS) {
        let count = CHUNK_LIMBS.min(b.len() - first);
        let strings = &q[first * k..(first + count) * k];
        let base = *tweak + (first * k) as u128;
        expand_into::<F>(strings, 0, base, &mut hashed, &mut m0);
        expand_into::<F>(strings, delta, base, &mut hashed, &mut m1);
        let mut msg = vec![0u8; m0.len() * F::BYTES];
        for p in 0..count {
            let g = b[first + p];
            let share = &mut shares[first + p];
            // Bits from the top down, so the share is accumulated by doubling (Horner).
            for l in (0..k).rev() {
                let at = p * k + l;
                let d = m0[at] - m1[at] + g;
                d.write_le(&mut msg[at * F::BYTES..(at + 1) * F::BYTES]);
                *share = *share + *share + m0[at];
            }
        }
        ch.send(peer, &msg)?;
    }
    *tweak += q.len() as u128;
    Ok(shares.into_iter().map(|s| -s).collect())
}

/// The receiver's side: `t` are its OT strings for the choice bits `bits` (limb-major, as
/// [`limb_values`] reads them). Returns this party's shares of the limb products with the
/// sender's elements. Refuses a message of the wrong length.
pub(crate) fn receive<F: Field>(
    ch: &mut dyn Channel,
    peer: PartyId,
    step: &'static str,
    (t, bits): (&[u128], &[bool]),
    tweak: &mut u128,
) -> Result<Vec<F>> {
    let k = LIMB_BITS;
    if t.len() != bits.len() || !bits.len().is_multiple_of(k) {
        return Err(Error::Misuse("Gilboa: wrong number of OTs".into()));
    }
    let limbs = bits.len() / k;
    ch.begin_step(step);
    let mut shares = vec![F::ZERO; limbs];
    let (mut hashed, mut v) = (Vec::new(), Vec::new());
    for first in (0..limbs).step_by(CHUNK_LIMBS) {
        let count = CHUNK_LIMBS.min(limbs - first);
        let strings = &t[first * k..(first + count) * k];
        let base = *tweak + (first * k) as u128;
        expand_into::<F>(strings, 0, base, &mut hashed, &mut v);
        let msg = ch.recv_exact(peer, v.len() * F::BYTES)?;
        for p in 0..count {
            let share = &mut shares[first + p];
            for l in (0..k).rev() {
                let at = p * k + l;
                let bit = F::from_u64(u64::from(bits[first * k + at]));
                let d = F::read_le(&msg[at * F::BYTES..(at + 1) * F::BYTES])?;
                *share = *share + *share + v[at] + bit * d;
            }
        }
    }
    *tweak += t.len() as u128;
    Ok(shares)
}

/// The limb values X_k = Σ_l 2^l·x_{k,l} of `bits`, as field elements.
pub(crate) fn limb_values<F: Field>(bits: &[bool]) -> Vec<F> {
    bits.chunks(LIMB_BITS)
        .map(|c| {
            let v = c.iter().rev().fold(0u128, |acc, b| (acc << 1) | u128::from(*b));
            F::from_u128(v)
        })
        .collect()
}
