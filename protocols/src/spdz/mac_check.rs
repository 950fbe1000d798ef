//! The batched MAC check of SPDZ, on coin tosses bound to the session.
//!
//! Follows Damgård–Keller–Larraia–Pastro–Scholl–Smart, "Practical covertly secure MPC for dishonest
//! majority" (ESORICS 2013), §3 protocol MACCheck, as used by MASCOT (Keller–Orsini–Scholl, CCS
//! 2016, Fig. 10): every value opened since the last check is folded into one random linear
//! combination with coefficients from a coin toss, each party commits to its share of the MAC
//! difference σ_i = Σ r_j·m_{i,j} − α_i·Σ r_j·y_j, and the check passes iff Σ σ_i = 0.
//!
//! Soundness rests on the coefficients r_j being unknown to a cheater when it chose its errors
//! e_j on the opened values: then Σ r_j·e_j ≠ 0 except with probability 1/p, and a nonzero sum
//! forces the cheater to guess α. The coins come from [`tessera_mpc::coin::Coins`]: every
//! commitment is bound to session, committer, step and counter, a reflected or replayed one is
//! refused, and all commitments are in before any opening is sent — so a rushing coalition short
//! of all parties cannot fix r. A party that altered any opened share or MAC share passes with
//! probability at most 2/p ≈ 2^-126 per check.
//!
//! The σ commitments also carry a hash of every broadcast the party received, so a party that
//! sent different broadcast messages to different parties (equivocation) is caught here too.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tessera_mpc::Field;
use tessera_mpc::coin::Coins;
use tessera_mpc::{Channel, Seed};

use crate::{Error, Result};

/// Step labels of the online MAC check (targets for attack tests, see `Channel::begin_step`).
pub(crate) const MAC_CHECK_COINS: &str = "spdz/mac-check/coins";
/// The step in which parties commit to and open their σ shares.
pub(crate) const MAC_CHECK_SIGMA: &str = "spdz/mac-check/sigma";

/// Values opened since the last check, with this party's MAC shares of them.
#[derive(Debug)]
pub(crate) struct OpenedLog<F> {
    values: Vec<F>,
    macs: Vec<F>,
    broadcasts: Sha256,
}

impl<F: Field> Default for OpenedLog<F> {
    fn default() -> Self {
        Self { values: Vec::new(), macs: Vec::new(), broadcasts: Sha256::new() }
    }
}

impl<F: Field> OpenedLog<F> {
    /// Records opened values and this party's MAC shares of them.
    pub(crate) fn record(&mut self, values: &[F], macs: &[F]) {
        self.values.extend_from_slice(values);
        self.macs.extend_from_slice(macs);
    }

    /// Records a broadcast message as this party received it (or sent it).
    pub(crate) fn record_broadcast(&mut self, sender: usize, msg: &[u8]) {
        self.broadcasts.update((sender as u64).to_le_bytes());
        self.broadcasts.update((msg.len() as u64).to_le_bytes());
        self.broadcasts.update(msg);
    }

    /// How many opened values await a check.
    pub(crate) fn pending(&self) -> usize {
        self.values.len()
    }
}

/// Maps a failure of the coin layer to this crate's errors, keeping the step's name.
pub(crate) fn coin_error(e: tessera_mpc::Error) -> Error {
    match e {
        tessera_mpc::Error::OpeningMismatch { step, .. } => Error::CommitmentMismatch(step),
        tessera_mpc::Error::Reflected { step, .. } => Error::Reflected(step),
        tessera_mpc::Error::Aborted => Error::Aborted,
        other => Error::Channel(other),
    }
}

/// A jointly random seed for `step` (two rounds).
pub(crate) fn toss(coins: &mut Coins, ch: &mut dyn Channel, step: &'static str) -> Result<Seed> {
    coins.toss(ch, step).map_err(coin_error)
}

/// Runs the batched MAC check on everything in `log` and empties it.
pub(crate) fn mac_check<F: Field>(
    ch: &mut dyn Channel,
    coins: &mut Coins,
    alpha_i: F,
    log: &mut OpenedLog<F>,
) -> Result<()> {
    let values = std::mem::take(&mut log.values);
    let macs = std::mem::take(&mut log.macs);
    let view: [u8; 32] = std::mem::take(&mut log.broadcasts).finalize().into();
    let seed = toss(coins, ch, MAC_CHECK_COINS)?;
    let r = F::random_vec(&mut tessera_mpc::Prg::from_seed(&seed), values.len());
    let y: F = tessera_mpc::field::slice::inner_product(&r, &values);
    let m: F = tessera_mpc::field::slice::inner_product(&r, &macs);
    let sigma = m - alpha_i * y;
    let mut mine = F::encode_slice(&[sigma]);
    mine.extend_from_slice(&view);
    let all = coins.commit_and_open(ch, MAC_CHECK_SIGMA, &mine).map_err(coin_error)?;
    let mut total = F::ZERO;
    let mut views_agree = true;
    for msg in &all {
        total += F::read_le(&msg[..F::BYTES])?;
        views_agree &= bool::from(msg[F::BYTES..].ct_eq(&view));
    }
    if !views_agree {
        return Err(Error::BroadcastMismatch);
    }
    if total != F::ZERO {
        return Err(Error::MacCheck);
    }
    Ok(())
}

/// Opens `x` to all parties in `step` and records it (with this party's MAC shares) for a
/// later [`mac_check`]. Refuses a peer's message of the wrong length.
pub(crate) fn open_into<F: Field>(
    ch: &mut dyn Channel,
    x: &super::Shared<F>,
    log: &mut OpenedLog<F>,
    step: &'static str,
) -> Result<Vec<F>> {
    ch.begin_step(step);
    ch.broadcast(&F::encode_slice(&x.value))?;
    let mut total = x.value.clone();
    for peer in ch.peers() {
        let theirs = F::decode_exact(&ch.recv(peer)?, x.len())?;
        tessera_mpc::field::slice::add_assign(&mut total, &theirs);
    }
    log.record(&total, &x.mac);
    Ok(total)
}
