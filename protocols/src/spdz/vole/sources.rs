//! The two correlations `VoleSpdz` stands on, behind one small interface each:
//! - random correlated OT (COT): the sender holds a global Δ ∈ {0,1}^128 and strings q_i, the
//!   receiver random bits b_i and t_i = q_i ⊕ b_i·Δ;
//! - chosen-input VOLE over the SPDZ field: the key holder fixes Δ = its MAC-key share α_j once;
//!   for values x chosen by the owner it gets k_i and the owner m_i = k_i + x_i·Δ.
//!
//! [`super::Backend::Silent`] takes them from `tessera_ot::ferret` (Yang–Weng–Lan–Zhang–Wang,
//! CCS 2020: random COT at under a bit per COT) and `tessera_ot::vole` (Wolverine, S&P 2021:
//! random VOLE over F_p, chosen at one field element per value). Both are malicious, with the
//! selective-failure leakage their papers allow, and lock after a failed check.
//!
//! [`super::Backend::StandIn`] builds them from what MASCOT already uses: random COTs are
//! SoftSpokenOT correlated OTs on locally random choice bits (so the choice corrections are
//! still sent, (128/k) bits per COT), and the VOLE is MASCOT's COPEe (§4.1 of the MASCOT paper,
//! k field elements per value), whose owner can use inconsistent values across its rows — the
//! authentication check of [`super::VoleSpdz`] catches that.

use tessera_mpc::{Channel, Field, PartyId, Prg, SessionId};

use crate::Result;
use crate::spdz::mascot::copee::{CopeeReceiver, CopeeSender};

/// The SoftSpokenOT parameter of the stand-in COTs (as MASCOT's default).
const STAND_IN_SOFTSPOKEN_K: usize = 4;

/// The Δ-holding end of a random-COT source.
pub(crate) enum CotSender {
    SoftSpoken(Box<tessera_ot::softspoken::Sender>),
    Ferret(Box<tessera_ot::ferret::Sender>),
}

/// The random-choice end of a random-COT source.
pub(crate) enum CotReceiver {
    SoftSpoken { ot: Box<tessera_ot::softspoken::Receiver>, prg: Box<Prg> },
    Ferret(Box<tessera_ot::ferret::Receiver>),
}

fn ferret_params(backend: super::Backend) -> tessera_ot::ferret::FerretParams {
    use tessera_ot::ferret::FerretParams;
    match backend {
        super::Backend::SilentSmall => FerretParams::SMALL,
        super::Backend::InsecureToyParams => FerretParams::insecure_test_only(),
        _ => FerretParams::STANDARD,
    }
}

fn vole_params(backend: super::Backend) -> Result<tessera_ot::vole::VoleParams> {
    use tessera_ot::vole::VoleParams;
    Ok(match backend {
        super::Backend::InsecureToyParams => VoleParams::insecure_for_tests(),
        // Wolverine's first two 128-bit levels, the second repeated (166,400 per extension):
        // much less memory than its 10 M third level.
        super::Backend::SilentSmall => {
            let levels = VoleParams::wolverine().levels()[..2].to_vec();
            VoleParams::new(levels)?
        }
        _ => VoleParams::default(),
    })
}

impl CotSender {
    pub(crate) fn setup(
        ch: &mut dyn Channel,
        peer: PartyId,
        backend: super::Backend,
        session: &SessionId,
        prg: &mut Prg,
    ) -> Result<Self> {
        match backend {
            super::Backend::StandIn => {
                Ok(Self::SoftSpoken(Box::new(tessera_ot::softspoken::Sender::setup(
                    ch,
                    peer,
                    STAND_IN_SOFTSPOKEN_K,
                    session,
                    prg,
                )?)))
            }
            silent => Ok(Self::Ferret(Box::new(tessera_ot::ferret::Sender::setup_with(
                ch,
                peer,
                session,
                ferret_params(silent),
                prg,
            )?))),
        }
    }

    /// `n` random COTs: the strings q_i and Δ.
    pub(crate) fn random_cot(
        &mut self,
        ch: &mut dyn Channel,
        n: usize,
    ) -> Result<(Vec<u128>, u128)> {
        match self {
            Self::SoftSpoken(s) => Ok((s.correlated(ch, n)?, s.delta())),
            Self::Ferret(s) => Ok((s.random_cot(ch, n)?, s.delta())),
        }
    }
}

impl CotReceiver {
    pub(crate) fn setup(
        ch: &mut dyn Channel,
        peer: PartyId,
        backend: super::Backend,
        session: &SessionId,
        prg: &mut Prg,
    ) -> Result<Self> {
        match backend {
            super::Backend::StandIn => {
                let ot = tessera_ot::softspoken::Receiver::setup(
                    ch,
                    peer,
                    STAND_IN_SOFTSPOKEN_K,
                    session,
                    prg,
                )?;
                Ok(Self::SoftSpoken {
                    ot: Box::new(ot),
                    prg: Box::new(Prg::from_seed(&prg.next_seed())),
                })
            }
            silent => Ok(Self::Ferret(Box::new(tessera_ot::ferret::Receiver::setup_with(
                ch,
                peer,
                session,
                ferret_params(silent),
                prg,
            )?))),
        }
    }

    /// `n` random COTs: the random bits b_i and the strings t_i = q_i ⊕ b_i·Δ.
    pub(crate) fn random_cot(
        &mut self,
        ch: &mut dyn Channel,
        n: usize,
    ) -> Result<(Vec<bool>, Vec<u128>)> {
        match self {
            Self::SoftSpoken { ot, prg } => {
                let bits: Vec<bool> = (0..n).map(|_| prg.next_bool()).collect();
                let t = ot.correlated(ch, &bits)?;
                Ok((bits, t))
            }
            Self::Ferret(r) => Ok(r.random_cot(ch, n)?),
        }
    }
}

/// The value owner's end of a chosen-input VOLE to one peer.
pub(crate) enum VoleOwner<F: Field> {
    Copee(CopeeSender<F>),
    Wolverine(Box<tessera_ot::vole::Sender<F>>),
}

/// The key holder's end (Δ = this party's MAC-key share).
pub(crate) enum VoleKeyHolder<F: Field> {
    Copee(CopeeReceiver<F>),
    Wolverine(Box<tessera_ot::vole::Receiver<F>>),
}

impl<F: Field> VoleOwner<F> {
    pub(crate) fn setup(
        ch: &mut dyn Channel,
        peer: PartyId,
        backend: super::Backend,
        session: &SessionId,
        prg: &mut Prg,
    ) -> Result<Self> {
        match backend {
            super::Backend::StandIn => Ok(Self::Copee(CopeeSender::setup(ch, peer, session, prg)?)),
            silent => Ok(Self::Wolverine(Box::new(tessera_ot::vole::Sender::setup_with(
                ch,
                peer,
                session,
                prg,
                vole_params(silent)?,
            )?))),
        }
    }

    /// Authenticates `x` to the peer: returns m_i with m_i = k_i + x_i·Δ_peer.
    ///
    pub(crate) fn chosen(&mut self, ch: &mut dyn Channel, x: &[F]) -> Result<Vec<F>> {
        match self {
            Self::Copee(c) => c.extend(ch, x, false),
            Self::Wolverine(v) => Ok(v.chosen(ch, x)?),
        }
    }
}

impl<F: Field> VoleKeyHolder<F> {
    pub(crate) fn setup(
        ch: &mut dyn Channel,
        peer: PartyId,
        backend: super::Backend,
        delta: F,
        session: &SessionId,
        prg: &mut Prg,
    ) -> Result<Self> {
        match backend {
            super::Backend::StandIn => {
                Ok(Self::Copee(CopeeReceiver::setup(ch, peer, delta, session, prg)?))
            }
            silent => Ok(Self::Wolverine(Box::new(tessera_ot::vole::Receiver::setup_with(
                ch,
                peer,
                delta,
                session,
                prg,
                vole_params(silent)?,
            )?))),
        }
    }

    /// The key holder's side of the owner's next `n` values: k_i with m_i = k_i + x_i·Δ.
    pub(crate) fn chosen(&mut self, ch: &mut dyn Channel, n: usize) -> Result<Vec<F>> {
        match self {
            // COPEe gives additive shares s_A + s_B = Δ·x with m = s_A, so k = −s_B.
            Self::Copee(c) => Ok(c.extend(ch, n)?.into_iter().map(|s| -s).collect()),
            Self::Wolverine(v) => Ok(v.chosen(ch, n)?),
        }
    }
}
