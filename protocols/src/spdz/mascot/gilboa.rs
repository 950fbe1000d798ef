//! MASCOT's Multiply (Keller–Orsini–Scholl, CCS 2016, §5, Fig. 8, steps 1–3) on *chosen-bit*
//! correlated OT from OT extension (KOS or SoftSpokenOT, global Δ): the receiver's OT choices
//! are the bits of its limbs, the sender's input is its b, one element per OT. The
//! multiplication itself is the shared Gilboa core, `spdz::gilboa`.

use tessera_mpc::{Channel, Field, PartyId, Prg, SessionId};
use tessera_ot::{kos, softspoken};

use crate::Result;
use crate::spdz::gilboa;

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

/// The sender's side: one element of `b` per receiver limb; returns this party's shares of the
/// limb products.
pub(crate) fn multiply_send<F: Field>(
    ch: &mut dyn Channel,
    peer: PartyId,
    cot: &mut CotSender,
    tweak: &mut u128,
    b: &[F],
) -> Result<Vec<F>> {
    ch.begin_step(GILBOA_STEP);
    let (q, delta) = cot.correlated(ch, b.len() * gilboa::LIMB_BITS)?;
    gilboa::send(ch, peer, GILBOA_STEP, (&q, delta), tweak, b)
}

/// The receiver's side: the OTs carry `bits` (limb-major); returns this party's shares of the
/// limb products with the sender's elements.
pub(crate) fn multiply_receive<F: Field>(
    ch: &mut dyn Channel,
    peer: PartyId,
    cot: &mut CotReceiver,
    tweak: &mut u128,
    bits: &[bool],
) -> Result<Vec<F>> {
    ch.begin_step(GILBOA_STEP);
    let t = cot.correlated(ch, bits)?;
    gilboa::receive(ch, peer, GILBOA_STEP, (&t, bits), tweak)
}
