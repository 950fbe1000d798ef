//! A Fiat–Shamir transcript: challenges derived from everything absorbed so far.
//!
//! Every absorbed item is labelled and length-prefixed, so two different transcripts never hash
//! the same; each challenge is fed back into the state, so successive challenges differ.

use sha2::{Digest, Sha256};

use crate::field::Field;
use crate::{Prg, Seed};

/// A running SHA-256 transcript.
#[derive(Clone)]
pub struct Transcript {
    state: Sha256,
}

impl Transcript {
    /// A transcript for the protocol named by `label`.
    pub fn new(label: &[u8]) -> Self {
        let mut t = Self { state: Sha256::new() };
        t.append(b"tessera/transcript/v1", label);
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

    #[test]
    fn challenges_depend_on_every_input_and_on_order() {
        let mut a = Transcript::new(b"p");
        a.append(b"x", b"1");
        let mut b = Transcript::new(b"p");
        b.append(b"x", b"2");
        let mut c = Transcript::new(b"p");
        c.append(b"x", b"1");
        assert_ne!(a.clone().challenge_bytes(b"c"), b.challenge_bytes(b"c"));
        let first = a.challenge_bytes(b"c");
        assert_eq!(first, c.challenge_bytes(b"c"));
        assert_ne!(first, a.challenge_bytes(b"c"));
        // Label/data boundaries are unambiguous.
        let mut d = Transcript::new(b"p");
        d.append(b"xy", b"");
        let mut e = Transcript::new(b"p");
        e.append(b"x", b"y");
        assert_ne!(d.challenge_bytes(b"c"), e.challenge_bytes(b"c"));
    }
}
