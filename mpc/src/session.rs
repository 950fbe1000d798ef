//! Session identifiers: the context every commitment, coin toss and challenge is bound to.
//!
//! A commitment or Fiat–Shamir challenge that names no session can be replayed from another run,
//! and one that names no committer can be reflected back at its author (the author's own
//! commitment then "opens" for the peer too). [`SessionId::agree`] derives an id that is fresh
//! for every honest party: each party broadcasts a random 32-byte nonce and the id hashes them
//! all in party order. A party that sends different nonces to different peers (equivocation)
//! only splits the honest parties' ids, so their next bound commitment fails to verify and they
//! abort. Sub-protocols take [`SessionId::derive`]d ids, so two parts of one run never share one.

use sha2::{Digest, Sha256};

use crate::{Channel, Error, PartyId, Prg, Result};

const AGREE_TAG: &[u8] = b"tessera/session/agree/v1";
const DERIVE_TAG: &[u8] = b"tessera/session/derive/v1";

/// A 32-byte identifier that all parties of one protocol run agree on.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId([u8; 32]);

impl std::fmt::Debug for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionId(")?;
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

fn absorb(h: &mut Sha256, part: &[u8]) {
    h.update((part.len() as u64).to_le_bytes());
    h.update(part);
}

impl SessionId {
    /// An id fixed by the caller, e.g. the hash of a job id the ledger already made unique.
    /// Freshness is then the caller's duty: two runs under one id can replay each other.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Agrees on a fresh id with every peer in one round: each party broadcasts 32 random bytes,
    /// and the id hashes `label`, the party count and every nonce in party order. Fresh for
    /// every honest party whatever the others send.
    pub fn agree(ch: &mut dyn Channel, label: &[u8]) -> Result<Self> {
        ch.begin_step("session/agree");
        let mut mine = [0u8; 32];
        Prg::from_entropy().fill_bytes(&mut mine);
        ch.broadcast(&mine)?;
        let mut nonces = vec![[0u8; 32]; ch.num_parties()];
        nonces[ch.party().index()] = mine;
        for peer in ch.peers() {
            let msg = ch.recv_exact(peer, 32)?;
            nonces[peer.index()].copy_from_slice(&msg);
            if nonces[peer.index()] == mine {
                // A peer echoing our nonce adds nothing and is cheating; say so early.
                return Err(Error::Reflected { peer, step: "session/agree" });
            }
        }
        let mut h = Sha256::new();
        absorb(&mut h, AGREE_TAG);
        absorb(&mut h, label);
        h.update((ch.num_parties() as u64).to_le_bytes());
        for n in &nonces {
            h.update(n);
        }
        Ok(Self(h.finalize().into()))
    }

    /// The id of a sub-protocol of this session: `label` names it and `parties` the parties
    /// taking part in their roles (e.g. `[sender, receiver]` for one OT direction).
    pub fn derive(&self, label: &[u8], parties: &[PartyId]) -> Self {
        let mut h = Sha256::new();
        absorb(&mut h, DERIVE_TAG);
        h.update(self.0);
        absorb(&mut h, label);
        h.update((parties.len() as u64).to_le_bytes());
        for p in parties {
            h.update(p.0.to_le_bytes());
        }
        Self(h.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::run_in_memory;

    #[test]
    fn every_party_agrees_and_runs_differ() {
        let run = || {
            let runs = run_in_memory(3, |ch| SessionId::agree(ch, b"test"));
            let ids: Vec<SessionId> = runs.into_iter().map(|r| r.output.unwrap()).collect();
            assert!(ids.iter().all(|i| *i == ids[0]));
            ids[0]
        };
        assert_ne!(run(), run());
    }

    #[test]
    fn derived_ids_depend_on_label_and_roles() {
        let s = SessionId::from_bytes([7; 32]);
        let a = s.derive(b"ot", &[PartyId(0), PartyId(1)]);
        assert_ne!(a, s.derive(b"ot", &[PartyId(1), PartyId(0)]));
        assert_ne!(a, s.derive(b"ot2", &[PartyId(0), PartyId(1)]));
        assert_ne!(a, SessionId::from_bytes([8; 32]).derive(b"ot", &[PartyId(0), PartyId(1)]));
        assert_eq!(a, s.derive(b"ot", &[PartyId(0), PartyId(1)]));
    }
}
