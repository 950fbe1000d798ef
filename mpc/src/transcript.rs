//! A Fiat–Shamir transcript: challenges derived from everything absorbed so far.
//!
//! Every absorbed item is labelled and length-prefixed, so two different transcripts never hash
//! the same; each challenge is fed back into the state, so successive challenges differ. A
//! transcript starts from a session id and the prover's party id, so a proof made in one run, or
//! by one party, is no proof in another run or for another party (no replay, no reflection).

use sha2::{Digest, Sha256};

use crate::field::Field;
use crate::{PartyId, Prg, Seed, SessionId};

/// A running SHA-256 transcript.
#[derive(Clone)]
pub struct Transcript {
    state: Sha256,
}

impl Transcript {
    /// A transcript for the protocol named by `label`, in `session`, for a proof by `prover`.
    pub fn new(label: &[u8], session: &SessionId, prover: PartyId) -> Self {
        let mut t = Self { state: Sha256::new() };
        t.append(b"tessera/transcript/v2", label);
        t.append(b"session", session.as_bytes());
        t.append(b"prover", &prover.0.to_le_bytes());
        t
    }

    /// Absorbs `data` under `label`.
    pub fn append(&mut self, label: &[u8], data: &[u8]) {
        self.state.update((label.len() as u64).to_le_bytes());
        self.state.update(label);
        self.state.update((data.len() as u64).to_le_bytes());
        self.state.update(data);
    }

    /// A 32-byte challenge under `label`, absorbed back into the transcript.
    pub fn challenge_bytes(&mut self, label: &[u8]) -> [u8; 32] {
        let mut h = self.state.clone();
        h.update(b"challenge");
        h.update((label.len() as u64).to_le_bytes());
        h.update(label);
        let out: [u8; 32] = h.finalize().into();
        self.append(b"challenge-output", &out);
        out
    }

    /// A PRG seed challenge, for expanding many challenge values.
    pub fn challenge_seed(&mut self, label: &[u8]) -> Seed {
        let b = self.challenge_bytes(label);
        let mut s = [0u8; 16];
        s.copy_from_slice(&b[..16]);
        Seed(s)
    }

    /// `n` challenge field elements.
    pub fn challenge_field<F: Field>(&mut self, label: &[u8], n: usize) -> Vec<F> {
        let mut prg = Prg::from_seed(&self.challenge_seed(label));
        F::random_vec(&mut prg, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> Transcript {
        Transcript::new(b"p", &SessionId::from_bytes([1; 32]), PartyId(0))
    }

    #[test]
    fn challenges_depend_on_session_and_prover() {
        let base = fresh().challenge_bytes(b"c");
        let mut other_session = Transcript::new(b"p", &SessionId::from_bytes([2; 32]), PartyId(0));
        let mut other_prover = Transcript::new(b"p", &SessionId::from_bytes([1; 32]), PartyId(1));
        assert_ne!(base, other_session.challenge_bytes(b"c"));
        assert_ne!(base, other_prover.challenge_bytes(b"c"));
    }

    #[test]
    fn challenges_depend_on_every_input_and_on_order() {
        let mut a = fresh();
        a.append(b"x", b"1");
        let mut b = fresh();
        b.append(b"x", b"2");
        let mut c = fresh();
        c.append(b"x", b"1");
        assert_ne!(a.clone().challenge_bytes(b"c"), b.challenge_bytes(b"c"));
        let first = a.challenge_bytes(b"c");
        assert_eq!(first, c.challenge_bytes(b"c"));
        assert_ne!(first, a.challenge_bytes(b"c"));
        // Label/data boundaries are unambiguous.
        let mut d = fresh();
        d.append(b"xy", b"");
        let mut e = fresh();
        e.append(b"x", b"y");
        assert_ne!(d.challenge_bytes(b"c"), e.challenge_bytes(b"c"));
    }
}
