//! The SPDZ preprocessing a job's programs run on: which protocol makes the triples, masks and
//! bits (a program parameter, so part of the program hash every grant names) and how large its
//! batches are (a node option).
//!
//! Both choices are malicious-secure against a dishonest majority with abort; they differ in
//! cost only (`docs/BENCHMARKS.md`, "VOLE SPDZ vs MASCOT").

use serde::{Deserialize, Serialize};
use tessera_mpc::{Channel, Fp127, PartyId, SessionId};
use tessera_protocols::spdz::{
    InputMasks, Mascot, MascotConfig, Preprocessing, Shared, Triples, VoleBackend, VoleSpdz,
    VoleSpdzConfig,
};

use crate::error::Result;

/// Which protocol makes a program's preprocessing (`preprocessing = "…"` in `[program]`).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PrepKind {
    /// MASCOT (Keller–Orsini–Scholl 2016) on SoftSpokenOT.
    Mascot,
    /// VoleSpdz: MACs from Wolverine VOLE, Gilboa multiplication on Ferret random COTs (the
    /// small-round parameter sets of both, which fit a node's memory; 128-bit security). The
    /// default: it sends about a third of MASCOT's bits and is 1.6–2.3× faster from 64 to
    /// 65,536 triples (`triples_compare`, docs/BENCHMARKS.md), at ~50 MiB more peak memory;
    /// its fixed setup (Ferret and VOLE bootstrapping) makes a job with no triples ~0.4 s slower.
    #[default]
    Vole,
}

/// How large the preprocessing batches are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrepOptions {
    /// Triples (or masks, or bits) made per batch: larger batches amortise fixed rounds and cost
    /// memory linearly.
    pub batch: usize,
}

impl Default for PrepOptions {
    fn default() -> Self {
        Self { batch: 1024 }
    }
}

impl PrepOptions {
    /// These options with batches no larger than `needed` (a batch costs its full size even when
    /// the job uses less of it), and at least `floor`.
    pub fn at_most(self, needed: usize, floor: usize) -> Self {
        Self { batch: self.batch.min(needed.max(floor)) }
    }
}

/// A preprocessing source of either kind, so programs are written once.
pub enum AnyPrep {
    /// MASCOT.
    Mascot(Box<Mascot<Fp127>>),
    /// VoleSpdz.
    Vole(Box<VoleSpdz<Fp127>>),
}

/// Runs the setup of `kind` with every other party (all must pass the same kind and options).
pub fn setup(ch: &mut dyn Channel, kind: PrepKind, opts: PrepOptions) -> Result<AnyPrep> {
    Ok(match kind {
        PrepKind::Mascot => {
            let config = MascotConfig { batch: opts.batch, ..MascotConfig::default() };
            AnyPrep::Mascot(Box::new(Mascot::setup(ch, config)?))
        }
        PrepKind::Vole => {
            let config = VoleSpdzConfig { batch: opts.batch, backend: VoleBackend::SilentSmall };
            AnyPrep::Vole(Box::new(VoleSpdz::setup(ch, config)?))
        }
    })
}

/// The progress line of a preprocessing setup.
pub fn setup_phase(kind: PrepKind) -> &'static str {
    match kind {
        PrepKind::Mascot => "MASCOT setup",
        PrepKind::Vole => "VOLE SPDZ setup (Ferret COT, Wolverine VOLE)",
    }
}

macro_rules! each {
    ($self:expr, $p:ident => $e:expr) => {
        match $self {
            AnyPrep::Mascot($p) => $e,
            AnyPrep::Vole($p) => $e,
        }
    };
}

impl Preprocessing<Fp127> for AnyPrep {
    fn mac_key_share(&self) -> Fp127 {
        each!(self, p => p.mac_key_share())
    }

    fn online_session(&mut self) -> SessionId {
        each!(self, p => p.online_session())
    }

    fn triples(
        &mut self,
        ch: &mut dyn Channel,
        n: usize,
    ) -> tessera_protocols::Result<Triples<Fp127>> {
        each!(self, p => p.triples(ch, n))
    }

    fn input_masks(
        &mut self,
        ch: &mut dyn Channel,
        owner: PartyId,
        n: usize,
    ) -> tessera_protocols::Result<InputMasks<Fp127>> {
        each!(self, p => p.input_masks(ch, owner, n))
    }

    fn bits(&mut self, ch: &mut dyn Channel, n: usize) -> tessera_protocols::Result<Shared<Fp127>> {
        each!(self, p => p.bits(ch, n))
    }

    fn abort(&mut self) {
        each!(self, p => p.abort())
    }
}
