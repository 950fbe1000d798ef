//! Two-party multiplication by oblivious transfer (Gilboa, CRYPTO 1999), as MASCOT's Multiply.
//!
//! Keller–Orsini–Scholl, MASCOT (CCS 2016), §5, Fig. 8 (steps 1–3). The receiver holds a scalar
//! x and the sender a small vector g ∈ F^w (in MASCOT: x is one of the τ values a_j and
//! g = (b, b̂)). For each bit x_l they run one correlated OT (from OT extension, global Δ);
//! hashing with the tweakable correlation-robust hash turns the OT strings q_l and q_l ⊕ Δ into
//! two random vectors m_l^0, m_l^1 ∈ F^w, and the sender sends d_l = m_l^0 − m_l^1 + g. The
//! receiver computes v_l = m_l^{x_l} + x_l·d_l = m_l^0 + x_l·g, so Σ 2^l·v_l − Σ 2^l·m_l^0 = x·g:
//! additive shares of the product at k OTs and k·w field elements. A malicious sender can make a
//! product wrong only in a way that depends on bits of x (a selective failure): MASCOT's
//! sacrifice catches the wrong product and its combining step makes the leaked bits useless.

use tessera_mpc::{Channel, Field, PartyId, Prg, SessionId};
use tessera_ot::hash::tccr_batch;
use tessera_ot::{kos, softspoken};

use crate::Result;

/// Which OT extension carries the correlated OTs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtExtension {
    /// KOS15: 128 bits of communication per OT.
    Kos,
    /// SoftSpokenOT with subspace-VOLE parameter k (2, 4 or 8): about 128/k bits per OT.
    SoftSpoken(usize),
}

pub(crate) enum CotSender {
    Kos(Box<kos::Sender>),
    Soft(Box<softspoken::Sender>),
}

pub(crate) enum CotReceiver {
    Kos(Box<kos::Receiver>),
    Soft(Box<softspoken::Receiver>),
}

impl CotSender {
    pub(crate) fn setup(
        ch: &mut dyn Channel,
        peer: PartyId,
        kind: OtExtension,
        session: &SessionId,
        prg: &mut Prg,
    ) -> Result<Self> {
        Ok(match kind {
            OtExtension::Kos => {
                CotSender::Kos(Box::new(kos::Sender::setup(ch, peer, session, prg)?))
            }
            OtExtension::SoftSpoken(k) => {
                CotSender::Soft(Box::new(softspoken::Sender::setup(ch, peer, k, session, prg)?))
            }
        })
    }

    fn correlated(&mut self, ch: &mut dyn Channel, n: usize) -> Result<(Vec<u128>, u128)> {
        Ok(match self {
            CotSender::Kos(s) => (s.correlated(ch, n)?, s.delta()),
            CotSender::Soft(s) => (s.correlated(ch, n)?, s.delta()),
        })
    }
}

impl CotReceiver {
    pub(crate) fn setup(
        ch: &mut dyn Channel,
        peer: PartyId,
        kind: OtExtension,
        session: &SessionId,
        prg: &mut Prg,
    ) -> Result<Self> {
        Ok(match kind {
            OtExtension::Kos => {
                CotReceiver::Kos(Box::new(kos::Receiver::setup(ch, peer, session, prg)?))
            }
            OtExtension::SoftSpoken(k) => {
                CotReceiver::Soft(Box::new(softspoken::Receiver::setup(ch, peer, k, session, prg)?))
            }
        })
    }

    fn correlated(&mut self, ch: &mut dyn Channel, choices: &[bool]) -> Result<Vec<u128>> {
        Ok(match self {
            CotReceiver::Kos(r) => r.correlated(ch, choices)?,
            CotReceiver::Soft(r) => r.correlated(ch, choices)?,
        })
    }
}

/// Step label of the Gilboa multiplications (see `Channel::begin_step`).
pub(crate) const GILBOA_STEP: &str = "mascot/gilboa";

/// OTs hashed and corrected per message, bounding working memory to a few MiB per batch.
const CHUNK_OTS: usize = 1 << 13;

/// Hashes each OT string into `width` field elements: element j of OT i uses tweak
/// `base + i·width + j`, so no two outputs share a tweak. Uniform up to a 2^-(bits−1) bias.
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

/// The sender's side: `a` holds one group of `width` field elements per receiver scalar.
/// Returns this party's shares of the products (same layout as `a`).
///
/// `wrong` (tests of a cheating sender only; `None` otherwise) is added to every correction of
/// the first group, so the receiver's first products come out as x·(g + wrong).
pub(crate) fn multiply_send<F: Field>(
    ch: &mut dyn Channel,
    peer: PartyId,
    cot: &mut CotSender,
    tweak: &mut u128,
    a: &[F],
    width: usize,
    wrong: Option<&[F]>,
) -> Result<Vec<F>> {
    ch.begin_step(GILBOA_STEP);
    let k = F::MODULUS_BITS as usize;
    let products = a.len() / width;
    let (q, delta) = cot.correlated(ch, products * k)?;
    let mut shares = vec![F::ZERO; a.len()];
    let (mut rep, mut hashed, mut m0, mut m1) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // OT index i = p·k + l carries bit l of scalar p; chunks never split a scalar.
    let per_chunk = (CHUNK_OTS / k).max(1);
    for first in (0..products).step_by(per_chunk) {
        let count = per_chunk.min(products - first);
        let strings = &q[first * k..(first + count) * k];
        let base = *tweak + (first * k * width) as u128;
        expand_into::<F>(strings, 0, base, width, &mut rep, &mut hashed, &mut m0);
        expand_into::<F>(strings, delta, base, width, &mut rep, &mut hashed, &mut m1);
        let mut msg = vec![0u8; m0.len() * F::BYTES];
        for p in 0..count {
            let group = &a[(first + p) * width..(first + p + 1) * width];
            let share = &mut shares[(first + p) * width..(first + p + 1) * width];
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

/// The receiver's side: multiplies each scalar of `b` with the sender's group of `width` elements;
/// returns this party's shares, `width` per scalar.
pub(crate) fn multiply_receive<F: Field>(
    ch: &mut dyn Channel,
    peer: PartyId,
    cot: &mut CotReceiver,
    tweak: &mut u128,
    b: &[F],
    width: usize,
) -> Result<Vec<F>> {
    ch.begin_step(GILBOA_STEP);
    let k = F::MODULUS_BITS as usize;
    let choices: Vec<bool> =
        b.iter().flat_map(|x| (0..k).map(move |l| (x.to_u128() >> l) & 1 == 1)).collect();
    let t = cot.correlated(ch, &choices)?;
    let mut shares = vec![F::ZERO; b.len() * width];
    let (mut rep, mut hashed, mut v) = (Vec::new(), Vec::new(), Vec::new());
    let per_chunk = (CHUNK_OTS / k).max(1);
    for first in (0..b.len()).step_by(per_chunk) {
        let count = per_chunk.min(b.len() - first);
        let strings = &t[first * k..(first + count) * k];
        let base = *tweak + (first * k * width) as u128;
        expand_into::<F>(strings, 0, base, width, &mut rep, &mut hashed, &mut v);
        let msg = ch.recv_exact(peer, v.len() * F::BYTES)?;
        for p in 0..count {
            let share = &mut shares[(first + p) * width..(first + p + 1) * width];
            for l in (0..k).rev() {
                let bit = F::from_u64(u64::from(choices[(first + p) * k + l]));
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
    Ok(shares)
}
