//! Signature suites: Ed25519 (RFC 8032, strict verification), ECDSA over secp256k1 with SHA-256
//! (SEC 1, low-S not enforced: replay is stopped by nonces, not by signature bytes) and SM2 with SM3
//! (GB/T 32918, draft-shen-sm2-ecdsa, default distinguishing identifier `1234567812345678`).
//!
//! All three give 64-byte signatures (`R‖s` or `r‖s`). Public keys are 32 bytes (Ed25519) or
//! 33-byte compressed SEC 1 points. Secret keys are 32-byte seeds or scalars, zeroized on drop.

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::{Error, Result};
use zeroize::Zeroizing;

/// SM2 distinguishing identifier (the GM/T 0009-2012 default).
const SM2_DIST_ID: &str = "1234567812345678";

/// Which signature algorithm a key belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureSuite {
    /// Ed25519.
    Ed25519,
    /// ECDSA on secp256k1 with SHA-256.
    Secp256k1,
    /// SM2 with SM3.
    Sm2,
}

impl SignatureSuite {
    fn tag(self) -> u8 {
        match self {
            Self::Ed25519 => 1,
            Self::Secp256k1 => 2,
            Self::Sm2 => 3,
        }
    }
}

/// A public verification key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PublicKey {
    /// Ed25519 compressed Edwards point.
    Ed25519([u8; 32]),
    /// secp256k1 compressed SEC 1 point.
    Secp256k1([u8; 33]),
    /// SM2 compressed SEC 1 point.
    Sm2([u8; 33]),
}

/// A 64-byte signature of any suite.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; 64]);

impl core::fmt::Debug for Signature {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Signature(")?;
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

impl PublicKey {
    /// The suite of this key.
    pub fn suite(&self) -> SignatureSuite {
        match self {
            Self::Ed25519(_) => SignatureSuite::Ed25519,
            Self::Secp256k1(_) => SignatureSuite::Secp256k1,
            Self::Sm2(_) => SignatureSuite::Sm2,
        }
    }

    /// The raw key bytes (32 or 33).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Ed25519(b) => b,
            Self::Secp256k1(b) | Self::Sm2(b) => b,
        }
    }

    /// Builds a key from a suite and raw bytes, checking that they form a valid key.
    pub fn from_parts(suite: SignatureSuite, bytes: &[u8]) -> Result<Self> {
        let key = match suite {
            SignatureSuite::Ed25519 => {
                Self::Ed25519(bytes.try_into().map_err(|_| Error::InvalidKey("Ed25519"))?)
            }
            SignatureSuite::Secp256k1 => {
                Self::Secp256k1(bytes.try_into().map_err(|_| Error::InvalidKey("secp256k1"))?)
            }
            SignatureSuite::Sm2 => {
                Self::Sm2(bytes.try_into().map_err(|_| Error::InvalidKey("SM2"))?)
            }
        };
        key.validate()?;
        Ok(key)
    }

    /// Checks that the bytes decode to a valid point of the suite.
    pub fn validate(&self) -> Result<()> {
        match self {
            Self::Ed25519(b) => ed25519_dalek::VerifyingKey::from_bytes(b)
                .map(|_| ())
                .map_err(|_| Error::InvalidKey("Ed25519")),
            Self::Secp256k1(b) => k256::ecdsa::VerifyingKey::from_sec1_bytes(b)
                .map(|_| ())
                .map_err(|_| Error::InvalidKey("secp256k1")),
            Self::Sm2(b) => sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DIST_ID, b)
                .map(|_| ())
                .map_err(|_| Error::InvalidKey("SM2")),
        }
    }

    /// Decompresses the key once, for verifying many signatures under it.
    pub fn parse(&self) -> Result<ParsedKey> {
        Ok(match self {
            Self::Ed25519(b) => ParsedKey::Ed25519(
                ed25519_dalek::VerifyingKey::from_bytes(b).map_err(|_| Error::BadSignature)?,
            ),
            Self::Secp256k1(b) => ParsedKey::Secp256k1(
                k256::ecdsa::VerifyingKey::from_sec1_bytes(b).map_err(|_| Error::BadSignature)?,
            ),
            Self::Sm2(b) => ParsedKey::Sm2(Box::new(
                sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DIST_ID, b)
                    .map_err(|_| Error::BadSignature)?,
            )),
        })
    }

    /// Verifies `sig` on `msg`. Any failure (bad key bytes included) is [`Error::BadSignature`].
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<()> {
        self.parse()?.verify(msg, sig)
    }
}

/// A public key decompressed for repeated verification (same checks as [`PublicKey::verify`]).
#[derive(Clone, Debug)]
pub enum ParsedKey {
    /// Ed25519.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// secp256k1.
    Secp256k1(k256::ecdsa::VerifyingKey),
    /// SM2 (boxed: it carries the precomputed identity hash).
    Sm2(Box<sm2::dsa::VerifyingKey>),
}

impl ParsedKey {
    /// Verifies `sig` on `msg` (Ed25519 with `verify_strict`).
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<()> {
        use k256::ecdsa::signature::Verifier as _;
        let ok = match self {
            Self::Ed25519(vk) => {
                vk.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&sig.0)).is_ok()
            }
            Self::Secp256k1(vk) => {
                let s =
                    k256::ecdsa::Signature::from_slice(&sig.0).map_err(|_| Error::BadSignature)?;
                vk.verify(msg, &s).is_ok()
            }
            Self::Sm2(vk) => {
                let s = sm2::dsa::Signature::from_slice(&sig.0).map_err(|_| Error::BadSignature)?;
                vk.verify(msg, &s).is_ok()
            }
        };
        if ok { Ok(()) } else { Err(Error::BadSignature) }
    }
}

impl Encode for PublicKey {
    fn encode(&self, w: &mut Writer) {
        w.u8(self.suite().tag());
        w.raw(self.as_bytes());
    }
}

impl Decode for PublicKey {
    /// Decodes the suite tag and key bytes; point validity is checked when the key is used or
    /// admitted into state (see [`PublicKey::validate`]).
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match r.u8()? {
            1 => Ok(Self::Ed25519(r.array()?)),
            2 => Ok(Self::Secp256k1(r.array()?)),
            3 => Ok(Self::Sm2(r.array()?)),
            _ => Err(Error::Malformed("signature suite tag")),
        }
    }
}

impl Encode for Signature {
    fn encode(&self, w: &mut Writer) {
        w.raw(&self.0);
    }
}

impl Decode for Signature {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self(r.array()?))
    }
}

enum Inner {
    Ed25519(ed25519_dalek::SigningKey),
    Secp256k1(k256::ecdsa::SigningKey),
    Sm2(sm2::dsa::SigningKey),
}

/// A signing key with its public key. The secret is zeroized on drop by the underlying crates and
/// by [`KeyPair::secret_bytes`]'s wrapper.
pub struct KeyPair {
    inner: Inner,
    public: PublicKey,
}

impl core::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyPair").field("public", &self.public).finish_non_exhaustive()
    }
}

impl KeyPair {
    /// A fresh key from the operating system's generator.
    pub fn generate(suite: SignatureSuite) -> Result<Self> {
        // Rejection sampling: a random 32-byte string is an invalid scalar with probability
        // about 2^-128 on both curves, so the loop runs once in practice.
        for _ in 0..8 {
            let mut seed = Zeroizing::new([0u8; 32]);
            getrandom::fill(seed.as_mut()).map_err(|_| Error::Rng)?;
            if let Ok(k) = Self::from_secret(suite, &seed) {
                return Ok(k);
            }
        }
        Err(Error::Rng)
    }

    /// Rebuilds a key from its 32-byte secret (Ed25519 seed or curve scalar).
    pub fn from_secret(suite: SignatureSuite, secret: &[u8; 32]) -> Result<Self> {
        let (inner, public) = match suite {
            SignatureSuite::Ed25519 => {
                let sk = ed25519_dalek::SigningKey::from_bytes(secret);
                let pk = PublicKey::Ed25519(sk.verifying_key().to_bytes());
                (Inner::Ed25519(sk), pk)
            }
            SignatureSuite::Secp256k1 => {
                let sk = k256::ecdsa::SigningKey::from_slice(secret)
                    .map_err(|_| Error::InvalidKey("secp256k1"))?;
                let point = sk.verifying_key().to_sec1_point(true);
                let pk = PublicKey::Secp256k1(
                    point.as_bytes().try_into().map_err(|_| Error::InvalidKey("secp256k1"))?,
                );
                (Inner::Secp256k1(sk), pk)
            }
            SignatureSuite::Sm2 => {
                let sk = sm2::dsa::SigningKey::from_slice(SM2_DIST_ID, secret)
                    .map_err(|_| Error::InvalidKey("SM2"))?;
                let bytes =
                    sm2::elliptic_curve::sec1::ToSec1Point::to_sec1_point(sk.verifying_key(), true);
                let pk = PublicKey::Sm2(
                    bytes.as_bytes().try_into().map_err(|_| Error::InvalidKey("SM2"))?,
                );
                (Inner::Sm2(sk), pk)
            }
        };
        Ok(Self { inner, public })
    }

    /// The suite.
    pub fn suite(&self) -> SignatureSuite {
        self.public.suite()
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// The 32-byte secret, for backup; zeroized when the wrapper drops.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        match &self.inner {
            Inner::Ed25519(k) => out.copy_from_slice(k.as_bytes()),
            Inner::Secp256k1(k) => out.copy_from_slice(&k.to_bytes()),
            Inner::Sm2(k) => out.copy_from_slice(&k.to_bytes()),
        }
        out
    }

    /// Signs `msg`.
    pub fn sign(&self, msg: &[u8]) -> Signature {
        use k256::ecdsa::signature::Signer as _;
        let mut out = [0u8; 64];
        match &self.inner {
            Inner::Ed25519(k) => out = k.sign(msg).to_bytes(),
            Inner::Secp256k1(k) => {
                let s: k256::ecdsa::Signature = k.sign(msg);
                out.copy_from_slice(&s.to_bytes());
            }
            Inner::Sm2(k) => {
                let s: sm2::dsa::Signature = k.sign(msg);
                out.copy_from_slice(&s.to_bytes());
            }
        }
        Signature(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_suite_signs_verifies_and_rejects_tampering() {
        for suite in [SignatureSuite::Ed25519, SignatureSuite::Secp256k1, SignatureSuite::Sm2] {
            let k = KeyPair::generate(suite).unwrap();
            let pk = k.public_key();
            pk.validate().unwrap();
            let sig = k.sign(b"hello");
            pk.verify(b"hello", &sig).unwrap();
            assert!(matches!(pk.verify(b"hellp", &sig), Err(Error::BadSignature)));
            let mut bad = sig;
            bad.0[40] ^= 1;
            assert!(pk.verify(b"hello", &bad).is_err());
            let other = KeyPair::generate(suite).unwrap().public_key();
            assert!(other.verify(b"hello", &sig).is_err());
            // Secret round trip.
            let again = KeyPair::from_secret(suite, &k.secret_bytes()).unwrap();
            assert_eq!(again.public_key(), pk);
            let decoded = PublicKey::from_bytes(&pk.to_bytes()).unwrap();
            assert_eq!(decoded, pk);
        }
    }
}
