//! Helpers shared by the SPDZ tests.
#![allow(dead_code, unreachable_pub, missing_docs)]

use tessera_mpc::{Channel, Fp127, PartyId, Seed};
use tessera_protocols::spdz::insecure_dealer::InsecureDealer;
use tessera_protocols::spdz::{
    Mascot, MascotConfig, Session, VoleBackend, VoleSpdz, VoleSpdzConfig,
};

pub type F = Fp127;

/// A dealer session for this party (all parties use the same seed).
pub fn dealer_session(ch: &mut dyn Channel, seed: u8) -> Session<'_, F, InsecureDealer<F>> {
    let me = ch.party();
    let n = ch.num_parties();
    Session::new(ch, InsecureDealer::new(&Seed([seed; 16]), me, n))
}

/// A MASCOT session with small batches.
pub fn mascot_session(
    ch: &mut dyn Channel,
    batch: usize,
) -> tessera_protocols::Result<Session<'_, F, Mascot<F>>> {
    let prep = Mascot::setup(ch, MascotConfig { batch, ..MascotConfig::default() })?;
    Ok(Session::new(ch, prep))
}

/// A VoleSpdz session with small batches on the silent sources with toy LPN sizes (every code
/// path of the real ones, fast; insecure, tests only).
pub fn vole_session(
    ch: &mut dyn Channel,
    batch: usize,
) -> tessera_protocols::Result<Session<'_, F, VoleSpdz<F>>> {
    vole_session_on(ch, batch, VoleBackend::InsecureToyParams)
}

/// A VoleSpdz session with small batches on `backend`.
pub fn vole_session_on(
    ch: &mut dyn Channel,
    batch: usize,
    backend: VoleBackend,
) -> tessera_protocols::Result<Session<'_, F, VoleSpdz<F>>> {
    let prep = VoleSpdz::setup(ch, VoleSpdzConfig { batch, backend })?;
    Ok(Session::new(ch, prep))
}

pub fn mine(ch_party: PartyId, owner: PartyId, v: &[F]) -> Option<&[F]> {
    (ch_party == owner).then_some(v)
}
