//! Hash-based commitments with 128-bit randomness, domain separated.
//!
//! SPDZ's MAC check and coin tossing need a party to fix a value before seeing the others'. A
//! commitment here is SHA-256 over a fixed tag, the caller's domain, fresh 128-bit randomness and
//! the message (all length-prefixed): hiding in the random-oracle model because the randomness is
//! secret, binding by collision resistance. Openings are checked in constant time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::{Error, Prg, Result};

const TAG: &[u8] = b"tessera/commit/v1";

/// A binding, hiding commitment (32 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commitment(pub [u8; 32]);

/// The secret that opens a commitment.
#[derive(Clone, Debug, PartialEq, Eq, Zeroize)]
pub struct Opening(pub [u8; 16]);

fn digest(domain: &[u8], randomness: &[u8; 16], msg: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(TAG);
    h.update((domain.len() as u64).to_le_bytes());
    h.update(domain);
    h.update(randomness);
    h.update((msg.len() as u64).to_le_bytes());
    h.update(msg);
    h.finalize().into()
}

/// Commits to `msg` under `domain` with fresh randomness from `prg`.
pub fn commit(domain: &[u8], msg: &[u8], prg: &mut Prg) -> (Commitment, Opening) {
    let mut r = [0u8; 16];
    prg.fill_bytes(&mut r);
    (Commitment(digest(domain, &r, msg)), Opening(r))
}

/// Checks that `opening` opens `commitment` to `msg` under `domain`.
pub fn verify(domain: &[u8], commitment: &Commitment, msg: &[u8], opening: &Opening) -> Result<()> {
    let d = digest(domain, &opening.0, msg);
    if bool::from(d.ct_eq(&commitment.0)) { Ok(()) } else { Err(Error::CommitmentMismatch) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Seed;

    #[test]
    fn opens_to_the_committed_message_only() {
        let mut prg = Prg::from_seed(&Seed([3; 16]));
        let (c, o) = commit(b"test", b"hello", &mut prg);
        assert!(verify(b"test", &c, b"hello", &o).is_ok());
        assert!(verify(b"test", &c, b"hellp", &o).is_err());
        assert!(verify(b"tesu", &c, b"hello", &o).is_err());
        let mut bad = o.clone();
        bad.0[0] ^= 1;
        assert!(verify(b"test", &c, b"hello", &bad).is_err());
    }

    #[test]
    fn same_message_commits_differently() {
        let mut prg = Prg::from_seed(&Seed([4; 16]));
        let (c1, _) = commit(b"d", b"m", &mut prg);
        let (c2, _) = commit(b"d", b"m", &mut prg);
        assert_ne!(c1, c2);
    }
}
