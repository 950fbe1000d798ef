//! Feldman verifiable secret sharing (Feldman, *A practical scheme for non-interactive verifiable
//! secret sharing*, FOCS 1987, §3) of a secp256k1 or SM2 scalar, through `vsss-rs`.
//!
//! The dealer shares `r` with a random polynomial `f` of degree `k − 1`, `f(0) = r`, and publishes
//! `C_j = a_j·G` for every coefficient. Share `(i, f(i))` is correct iff
//! `f(i)·G = Σ_j i^j·C_j`, so a holder (and the recoverer) detects a wrong share without learning
//! anything beyond `r·G`, which is public anyway: `C_0` *is* the recovery key's public key.
//! Security: perfectly binding commitments; secrecy is computational (discrete log in the group)
//! for `r·G` and information-theoretic for `r` given fewer than `k` shares beyond that.

use crate::error::{Error, Result};
use crate::keys::{PublicKey, SignatureSuite};
use getrandom::SysRng;
use rand_core::UnwrapErr;
use vsss_rs::{
    DefaultShare, FeldmanVerifierSet, IdentifierPrimeField, ReadableShareSet, ValueGroup, feldman,
};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// One Feldman share: x-coordinate `index` (1..=n) and `f(index)` as a 32-byte big-endian scalar.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ScalarShare {
    /// x-coordinate, 1..=n.
    pub index: u8,
    /// f(index), big-endian.
    pub value: [u8; 32],
}

impl core::fmt::Debug for ScalarShare {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ScalarShare").field("index", &self.index).finish_non_exhaustive()
    }
}

/// The split: one share per holder and the commitments `C_0..C_{k-1}` (as public keys).
pub(crate) type Split = (Vec<ScalarShare>, Vec<PublicKey>);

macro_rules! feldman_on {
    ($module:ident, $krate:ident, $suite:expr) => {
        mod $module {
            use super::*;
            use $krate::elliptic_curve::ff::PrimeField;
            use $krate::elliptic_curve::group::{Group, GroupEncoding};

            type Sc = $krate::Scalar;
            type Pt = $krate::ProjectivePoint;
            type Sh = DefaultShare<IdentifierPrimeField<Sc>, IdentifierPrimeField<Sc>>;
            type Ver = ValueGroup<Pt>;

            fn scalar(b: &[u8; 32]) -> Result<Sc> {
                let mut repr = <Sc as PrimeField>::Repr::default();
                repr.copy_from_slice(b);
                Option::from(Sc::from_repr(repr)).ok_or(Error::Backup("share is not a scalar"))
            }

            fn scalar_bytes(s: &Sc) -> [u8; 32] {
                let mut out = [0u8; 32];
                out.copy_from_slice(s.to_repr().as_ref());
                out
            }

            fn point(pk: &PublicKey) -> Result<Pt> {
                if pk.suite() != $suite {
                    return Err(Error::Backup("commitment on another curve"));
                }
                let mut repr = <Pt as GroupEncoding>::Repr::default();
                if AsRef::<[u8]>::as_ref(&repr).len() != pk.as_bytes().len() {
                    return Err(Error::Backup("commitment length"));
                }
                AsMut::<[u8]>::as_mut(&mut repr).copy_from_slice(pk.as_bytes());
                Option::from(Pt::from_bytes(&repr))
                    .ok_or(Error::Backup("commitment is not a point"))
            }

            fn id(index: u8) -> IdentifierPrimeField<Sc> {
                IdentifierPrimeField(Sc::from(u64::from(index)))
            }

            pub(super) fn split(secret: &[u8; 32], k: u8, n: u8) -> Result<Split> {
                let s = Zeroizing::new(IdentifierPrimeField(scalar(secret)?));
                let (mut shares, verifiers) = feldman::split_secret::<Sh, Ver>(
                    usize::from(k),
                    usize::from(n),
                    &s,
                    None,
                    UnwrapErr(SysRng),
                )
                .map_err(|_| Error::Backup("secret sharing failed"))?;
                let mut out = Vec::with_capacity(shares.len());
                for (x, sh) in (1..=n).zip(shares.iter_mut()) {
                    if sh.identifier != id(x) {
                        return Err(Error::Backup("unexpected share numbering"));
                    }
                    out.push(ScalarShare { index: x, value: scalar_bytes(&sh.value.0) });
                    sh.value.0 = Sc::ZERO;
                }
                // verifiers[0] is the generator, then C_0 … C_{k-1}.
                let commitments = <Vec<Ver> as FeldmanVerifierSet<Sh, Ver>>::verifiers(&verifiers)
                    .iter()
                    .map(|c| PublicKey::from_parts($suite, c.0.to_bytes().as_ref()))
                    .collect::<Result<Vec<_>>>()?;
                Ok((out, commitments))
            }

            pub(super) fn verify(commitments: &[PublicKey], share: &ScalarShare) -> Result<()> {
                let mut set: Vec<Ver> = Vec::with_capacity(commitments.len() + 1);
                set.push(ValueGroup(Pt::generator()));
                for c in commitments {
                    set.push(ValueGroup(point(c)?));
                }
                let sh = Sh {
                    identifier: id(share.index),
                    value: IdentifierPrimeField(scalar(&share.value)?),
                };
                <Vec<Ver> as FeldmanVerifierSet<Sh, Ver>>::verify_share(&set, &sh)
                    .map_err(|_| Error::Backup("share does not match the published commitments"))
            }

            pub(super) fn combine(shares: &[ScalarShare]) -> Result<Zeroizing<[u8; 32]>> {
                let set = shares
                    .iter()
                    .map(|s| {
                        Ok(Sh {
                            identifier: id(s.index),
                            value: IdentifierPrimeField(scalar(&s.value)?),
                        })
                    })
                    .collect::<Result<Vec<Sh>>>()?;
                let secret = set.combine().map_err(|_| Error::Backup("shares do not combine"))?;
                Ok(Zeroizing::new(scalar_bytes(&secret.0)))
            }
        }
    };
}

feldman_on!(on_k256, k256, SignatureSuite::Secp256k1);
feldman_on!(on_sm2, sm2, SignatureSuite::Sm2);

/// Splits the scalar `secret` of `suite` into `n` shares, `k` of which rebuild it, with Feldman
/// commitments `C_0..C_{k-1}` (`C_0 = secret·G`).
pub(crate) fn split(suite: SignatureSuite, secret: &[u8; 32], k: u8, n: u8) -> Result<Split> {
    if k < 2 || k > n {
        return Err(Error::Misuse("a recovery backup needs 2 <= threshold <= holders"));
    }
    match suite {
        SignatureSuite::Secp256k1 => on_k256::split(secret, k, n),
        SignatureSuite::Sm2 => on_sm2::split(secret, k, n),
        SignatureSuite::Ed25519 => Err(Error::Misuse("Feldman shares are on secp256k1 or SM2")),
    }
}

/// Checks `share` against commitments `C_0..C_{k-1}` (all of the same suite).
pub(crate) fn verify(commitments: &[PublicKey], share: &ScalarShare) -> Result<()> {
    if share.index == 0 {
        return Err(Error::Backup("share index 0"));
    }
    match commitments.first().map(PublicKey::suite) {
        Some(SignatureSuite::Secp256k1) => on_k256::verify(commitments, share),
        Some(SignatureSuite::Sm2) => on_sm2::verify(commitments, share),
        _ => Err(Error::Backup("no commitments on a supported curve")),
    }
}

/// Lagrange interpolation at 0 of shares with distinct non-zero indices.
pub(crate) fn combine(
    suite: SignatureSuite,
    shares: &[ScalarShare],
) -> Result<Zeroizing<[u8; 32]>> {
    for (i, s) in shares.iter().enumerate() {
        if s.index == 0 || shares[..i].iter().any(|t| t.index == s.index) {
            return Err(Error::Backup("shares have zero or repeated indices"));
        }
    }
    match suite {
        SignatureSuite::Secp256k1 => on_k256::combine(shares),
        SignatureSuite::Sm2 => on_sm2::combine(shares),
        SignatureSuite::Ed25519 => Err(Error::Misuse("Feldman shares are on secp256k1 or SM2")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyPair;

    #[test]
    fn split_verify_combine_and_a_wrong_share_is_caught() {
        for suite in [SignatureSuite::Secp256k1, SignatureSuite::Sm2] {
            let key = KeyPair::generate(suite).unwrap();
            let (shares, c) = split(suite, &key.secret_bytes(), 2, 3).unwrap();
            assert_eq!(c.len(), 2);
            assert_eq!(c[0], key.public_key(), "C_0 is the shared key's public key");
            for s in &shares {
                verify(&c, s).unwrap();
            }
            let rebuilt = combine(suite, &[shares[2].clone(), shares[0].clone()]).unwrap();
            assert_eq!(*rebuilt, *key.secret_bytes());
            let mut bad = shares[1].clone();
            bad.value[31] ^= 1;
            assert!(verify(&c, &bad).is_err());
            let mut moved = shares[1].clone();
            moved.index = 3;
            assert!(verify(&c, &moved).is_err());
            let wrong = combine(suite, &[bad, shares[0].clone()]).unwrap();
            assert_ne!(*wrong, *key.secret_bytes());
        }
    }
}
