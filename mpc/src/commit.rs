//! Hash commitments bound to their context: session, committer, protocol step and counter.
//!
//! A commitment is SHA-256 over a fixed tag, the [`Binding`] (session id, committer's party id,
//! step label, counter), fresh 128-bit randomness and the message, all length-prefixed: hiding in
//! the random-oracle model because the randomness is secret, binding by collision resistance.
//! The binding is what stops the attacks of a rushing party: a commitment reflected back to its
//! author names the author, not the reflector, so it does not open for the reflector; one replayed
//! from another session, step or counter does not open either. There is no unbound variant.
//! Openings are checked in constant time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::{Error, PartyId, Prg, Result, SessionId};

const TAG: &[u8] = b"tessera/commit/v2";

/// What a commitment is bound to. All four must match for an opening to verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding<'a> {
    /// The protocol run.
    pub session: &'a SessionId,
    /// The party that commits.
    pub committer: PartyId,
    /// The protocol step, e.g. `"spdz/mac-check/coins"`.
    pub step: &'a str,
    /// Which instance of the step within the session (each party counts in lockstep).
    pub counter: u64,
}

/// A binding, hiding commitment (32 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commitment(pub [u8; 32]);

/// The secret that opens a commitment.
#[derive(Clone, Debug, PartialEq, Eq, Zeroize)]
pub struct Opening(pub [u8; 16]);

fn digest(b: &Binding<'_>, randomness: &[u8; 16], msg: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(TAG);
    h.update(b.session.as_bytes());
    h.update(b.committer.0.to_le_bytes());
    h.update((b.step.len() as u64).to_le_bytes());
    h.update(b.step.as_bytes());
    h.update(b.counter.to_le_bytes());
    h.update(randomness);
    h.update((msg.len() as u64).to_le_bytes());
    h.update(msg);
    h.finalize().into()
}

/// Commits to `msg` under `binding` with fresh randomness from `prg`.
pub fn commit(binding: &Binding<'_>, msg: &[u8], prg: &mut Prg) -> (Commitment, Opening) {
    let mut r = [0u8; 16];
    prg.fill_bytes(&mut r);
    let c = Commitment(digest(binding, &r, msg));
    let o = Opening(r);
    r.zeroize();
    (c, o)
}

/// Checks that `opening` opens `commitment` to `msg` under `binding`.
pub fn verify(
    binding: &Binding<'_>,
    commitment: &Commitment,
    msg: &[u8],
    opening: &Opening,
) -> Result<()> {
    let d = digest(binding, &opening.0, msg);
    if bool::from(d.ct_eq(&commitment.0)) { Ok(()) } else { Err(Error::CommitmentMismatch) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Seed;

    fn binding(s: &SessionId) -> Binding<'_> {
        Binding { session: s, committer: PartyId(1), step: "test", counter: 3 }
    }

    #[test]
    fn opens_to_the_committed_message_only() {
        let s = SessionId::from_bytes([1; 32]);
        let b = binding(&s);
        let mut prg = Prg::from_seed(&Seed([3; 16]));
        let (c, o) = commit(&b, b"hello", &mut prg);
        assert!(verify(&b, &c, b"hello", &o).is_ok());
        assert!(verify(&b, &c, b"hellp", &o).is_err());
        let mut bad = o.clone();
        bad.0[0] ^= 1;
        assert!(verify(&b, &c, b"hello", &bad).is_err());
    }

    #[test]
    fn every_part_of_the_binding_matters() {
        let s = SessionId::from_bytes([1; 32]);
        let other_session = SessionId::from_bytes([2; 32]);
        let b = binding(&s);
        let mut prg = Prg::from_seed(&Seed([3; 16]));
        let (c, o) = commit(&b, b"m", &mut prg);
        for wrong in [
            Binding { session: &other_session, ..b },
            Binding { committer: PartyId(0), ..b },
            Binding { step: "tesu", ..b },
            Binding { counter: 4, ..b },
        ] {
            assert!(verify(&wrong, &c, b"m", &o).is_err(), "{wrong:?}");
        }
    }

    #[test]
    fn same_message_commits_differently() {
        let s = SessionId::from_bytes([1; 32]);
        let mut prg = Prg::from_seed(&Seed([4; 16]));
        let (c1, _) = commit(&binding(&s), b"m", &mut prg);
        let (c2, _) = commit(&binding(&s), b"m", &mut prg);
        assert_ne!(c1, c2);
    }
}
