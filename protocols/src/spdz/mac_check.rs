//! Coin tossing and the batched MAC check of SPDZ.
//!
//! Follows Damgård–Keller–Larraia–Pastro–Scholl–Smart, "Practical covertly secure MPC for dishonest
//! majority" (ESORICS 2013), §3 protocol MACCheck, as used by MASCOT (Keller–Orsini–Scholl, CCS
//! 2016, Fig. 10): every value opened since the last check is folded into one random linear
//! combination with coefficients from a coin toss, each party commits to its share of the MAC
//! difference σ_i = Σ r_j·m_{i,j} − α_i·Σ r_j·y_j, and the check passes iff Σ σ_i = 0. A party that
//! altered any opened share or MAC share passes with probability at most 2/p ≈ 2^-126.
//!
//! The same commitments also carry a hash of every broadcast the party received, so a party that
//! sent different broadcast messages to different parties (equivocation) is caught here too.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tessera_mpc::commit::{self, Commitment, Opening};
use tessera_mpc::{Channel, Field, Prg, Seed};

use crate::{Error, Result};

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

/// Commits every party to a message, then opens all: returns each party's message, in party
/// order. Two rounds. `domain` separates uses.
pub(crate) fn commit_and_open(
    ch: &mut dyn Channel,
    prg: &mut Prg,
    domain: &'static str,
    mine: &[u8],
) -> Result<Vec<Vec<u8>>> {
    let (c, o) = commit::commit(domain.as_bytes(), mine, prg);
    ch.broadcast(&c.0)?;
    let mut commitments = vec![Commitment([0u8; 32]); ch.num_parties()];
    for peer in ch.peers() {
        let msg = ch.recv_exact(peer, 32)?;
        let mut c = [0u8; 32];
        c.copy_from_slice(&msg);
        commitments[peer.index()] = Commitment(c);
    }
    let mut opening = o.0.to_vec();
    opening.extend_from_slice(mine);
    ch.broadcast(&opening)?;
    let mut out = vec![Vec::new(); ch.num_parties()];
    out[ch.party().index()] = mine.to_vec();
    for peer in ch.peers() {
        let msg = ch.recv_exact(peer, 16 + mine.len())?;
        let mut r = [0u8; 16];
        r.copy_from_slice(&msg[..16]);
        commit::verify(domain.as_bytes(), &commitments[peer.index()], &msg[16..], &Opening(r))
            .map_err(|_| Error::CommitmentMismatch(domain))?;
        out[peer.index()] = msg[16..].to_vec();
    }
    Ok(out)
}

/// A jointly random seed that no coalition short of all parties controls. Two rounds.
pub(crate) fn coin_toss(ch: &mut dyn Channel, prg: &mut Prg, domain: &'static str) -> Result<Seed> {
    let mine = prg.next_seed();
    let all = commit_and_open(ch, prg, domain, &mine.0)?;
    let mut seed = [0u8; 16];
    for share in all {
        for (s, b) in seed.iter_mut().zip(share) {
            *s ^= b;
        }
    }
    Ok(Seed(seed))
}

/// Runs the batched MAC check on everything in `log` and empties it.
pub(crate) fn mac_check<F: Field>(
    ch: &mut dyn Channel,
    prg: &mut Prg,
    alpha_i: F,
    log: &mut OpenedLog<F>,
) -> Result<()> {
    let values = std::mem::take(&mut log.values);
    let macs = std::mem::take(&mut log.macs);
    let view: [u8; 32] = std::mem::take(&mut log.broadcasts).finalize().into();
    let seed = coin_toss(ch, prg, "tessera/spdz/mac-check/coins")?;
    let r = F::random_vec(&mut Prg::from_seed(&seed), values.len());
    let y: F = tessera_mpc::field::slice::inner_product(&r, &values);
    let m: F = tessera_mpc::field::slice::inner_product(&r, &macs);
    let sigma = m - alpha_i * y;
    let mut mine = F::encode_slice(&[sigma]);
    mine.extend_from_slice(&view);
    let all = commit_and_open(ch, prg, "tessera/spdz/mac-check/sigma", &mine)?;
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
