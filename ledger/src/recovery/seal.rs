//! Public-key encryption of a short secret to a DID verification key, bound to a context.
//!
//! * Ed25519 keys: HPKE base mode (RFC 9180 §5.1.1) with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256
//!   and AES-256-GCM, to the X25519 key birationally equivalent to the Ed25519 key (the
//!   key-agreement key `did:key` derives, W3C did:key §3.1.5). Using one key pair for Ed25519 and
//!   an X25519 KEM is analysed in Thormarker, *On using the same key pair for Ed25519 and an X25519
//!   based KEM*, ePrint 2021/509. `info` and `aad` are the context.
//! * secp256k1 keys: ECIES (SEC 1 v2 §5.1) with ECDH, HKDF-SHA256 over the shared x-coordinate
//!   (salt = ephemeral ‖ recipient key, info = context) and AES-256-GCM with the context as
//!   associated data. ECDSA and ECIES on one key are jointly secure (Degabriele, Lehmann, Paterson,
//!   Schuldt, Stam, *On the joint security of encryption and signature in EMV*, CT-RSA 2012).
//! * SM2 keys: SM2 public-key encryption (GB/T 32918.4-2016, C1C3C2). It has no associated data,
//!   so the plaintext is `SM3(context) ‖ secret` and opening checks the prefix.
//!
//! Security: IND-CCA2 for each scheme under its standard assumptions; a ciphertext opened under
//! another context (another DID, holder, backup, share index or recipient) is refused.

use crate::error::{Error, Result};
use crate::hash::LedgerHash;
use crate::keys::{KeyPair, PublicKey, SignatureSuite};
use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit, Nonce};
use getrandom::SysRng;
use hpke::{
    Deserializable, OpModeR, OpModeS, Serializable, aead::AesGcm256, kdf::HkdfSha256,
    kem::X25519HkdfSha256,
};
use zeroize::Zeroizing;

/// Longest sealed secret accepted from a file or the ledger.
pub const MAX_SEALED: usize = 512;

type X25519Pk = <X25519HkdfSha256 as hpke::Kem>::PublicKey;
type X25519Sk = <X25519HkdfSha256 as hpke::Kem>::PrivateKey;
type X25519Enc = <X25519HkdfSha256 as hpke::Kem>::EncappedKey;

const ECIES_INFO: &[u8] = b"tessera-ledger/ecies-secp256k1-hkdf-sha256-aes256gcm/v1";

/// Encrypts `secret` to `to`, bound to `context`.
pub fn seal(to: &PublicKey, context: &[u8], secret: &[u8]) -> Result<Vec<u8>> {
    to.validate()?;
    match to {
        PublicKey::Ed25519(b) => {
            let vk = ed25519_dalek::VerifyingKey::from_bytes(b)
                .map_err(|_| Error::InvalidKey("Ed25519"))?;
            let pk = X25519Pk::from_bytes(vk.to_montgomery().as_bytes())
                .map_err(|_| Error::InvalidKey("X25519"))?;
            let (enc, ct) =
                hpke::single_shot_seal_with_rng::<AesGcm256, HkdfSha256, X25519HkdfSha256>(
                    &OpModeS::Base,
                    &pk,
                    context,
                    secret,
                    context,
                    &mut rand_core::UnwrapErr(SysRng),
                )
                .map_err(|_| Error::Backup("HPKE encryption failed"))?;
            let mut out = enc.to_bytes().to_vec();
            out.extend_from_slice(&ct);
            Ok(out)
        }
        PublicKey::Secp256k1(b) => {
            let recipient =
                k256::PublicKey::from_sec1_bytes(b).map_err(|_| Error::InvalidKey("secp256k1"))?;
            let eph = KeyPair::generate(SignatureSuite::Secp256k1)?;
            let e = k256_scalar(&eph.secret_bytes())?;
            let shared = (recipient.to_projective() * *e).to_affine();
            let eph_pub = eph.public_key();
            let (key, nonce) = ecies_keys(&shared, eph_pub.as_bytes(), b, context)?;
            let mut buf = secret.to_vec();
            aead_seal(&key, &nonce, context, &mut buf)?;
            let mut out = eph_pub.as_bytes().to_vec();
            out.extend_from_slice(&buf);
            Ok(out)
        }
        PublicKey::Sm2(b) => {
            let ek = sm2::pke::EncryptingKey::from_sec1_bytes(b)
                .map_err(|_| Error::InvalidKey("SM2"))?;
            let mut pt = Zeroizing::new(LedgerHash::Sm3.hash(&[context]).to_vec());
            pt.extend_from_slice(secret);
            ek.encrypt(&mut SysRng, &pt).map_err(|_| Error::Backup("SM2 encryption failed"))
        }
    }
}

/// Decrypts a [`seal`]ed secret with the recipient's key pair, under the same `context`.
pub fn open(key: &KeyPair, context: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    if sealed.len() > MAX_SEALED {
        return Err(Error::Backup("sealed share too long"));
    }
    match key.suite() {
        SignatureSuite::Ed25519 => {
            let (enc, ct) =
                sealed.split_at_checked(32).ok_or(Error::Backup("sealed share too short"))?;
            let sk = ed25519_dalek::SigningKey::from_bytes(&key.secret_bytes());
            let scalar = Zeroizing::new(sk.to_scalar_bytes());
            let sk =
                X25519Sk::from_bytes(scalar.as_ref()).map_err(|_| Error::InvalidKey("X25519"))?;
            let enc =
                X25519Enc::from_bytes(enc).map_err(|_| Error::Backup("bad encapsulated key"))?;
            hpke::single_shot_open::<AesGcm256, HkdfSha256, X25519HkdfSha256>(
                &OpModeR::Base,
                &sk,
                &enc,
                context,
                ct,
                context,
            )
            .map(Zeroizing::new)
            .map_err(|_| Error::Backup("share failed authentication"))
        }
        SignatureSuite::Secp256k1 => {
            let (eph, ct) =
                sealed.split_at_checked(33).ok_or(Error::Backup("sealed share too short"))?;
            let eph_pk = k256::PublicKey::from_sec1_bytes(eph)
                .map_err(|_| Error::Backup("bad ephemeral key"))?;
            let d = k256_scalar(&key.secret_bytes())?;
            let shared = (eph_pk.to_projective() * *d).to_affine();
            let (k, nonce) = ecies_keys(&shared, eph, key.public_key().as_bytes(), context)?;
            let mut buf = Zeroizing::new(ct.to_vec());
            aead_open(&k, &nonce, context, &mut buf)?;
            Ok(buf)
        }
        SignatureSuite::Sm2 => {
            let dk = sm2::pke::DecryptingKey::from_slice(key.secret_bytes().as_ref())
                .map_err(|_| Error::InvalidKey("SM2"))?;
            let pt = Zeroizing::new(
                dk.decrypt(sealed).map_err(|_| Error::Backup("share failed authentication"))?,
            );
            let bind = LedgerHash::Sm3.hash(&[context]);
            match pt.split_at_checked(32) {
                Some((h, secret)) if h == bind.as_slice() => Ok(Zeroizing::new(secret.to_vec())),
                _ => Err(Error::Backup("share sealed for another context")),
            }
        }
    }
}

fn k256_scalar(b: &[u8; 32]) -> Result<Zeroizing<k256::Scalar>> {
    use k256::elliptic_curve::ff::PrimeField;
    let mut repr = k256::FieldBytes::default();
    repr.copy_from_slice(b);
    Option::from(k256::Scalar::from_repr(repr))
        .map(Zeroizing::new)
        .ok_or(Error::InvalidKey("secp256k1"))
}

fn ecies_keys(
    shared: &k256::AffinePoint,
    eph: &[u8],
    recipient: &[u8],
    context: &[u8],
) -> Result<(Zeroizing<[u8; 32]>, [u8; 12])> {
    use k256::elliptic_curve::point::AffineCoordinates;
    let x = Zeroizing::new(shared.x());
    let mut salt = eph.to_vec();
    salt.extend_from_slice(recipient);
    let mut info = ECIES_INFO.to_vec();
    info.extend_from_slice(context);
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(&salt), x.as_slice());
    let mut okm = Zeroizing::new([0u8; 44]);
    hk.expand(&info, okm.as_mut()).map_err(|_| Error::Backup("key derivation failed"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&okm[..32]);
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&okm[32..]);
    Ok((key, nonce))
}

fn aead_seal(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], buf: &mut Vec<u8>) -> Result<()> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| Error::Misuse("AES key"))?;
    cipher
        .encrypt_in_place(&Nonce::<Aes256Gcm>::from(*nonce), aad, buf)
        .map_err(|_| Error::Backup("encryption failed"))
}

fn aead_open(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], buf: &mut Vec<u8>) -> Result<()> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| Error::Misuse("AES key"))?;
    cipher
        .decrypt_in_place(&Nonce::<Aes256Gcm>::from(*nonce), aad, buf)
        .map_err(|_| Error::Backup("share failed authentication"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals_every_suite() {
        for suite in [SignatureSuite::Ed25519, SignatureSuite::Secp256k1, SignatureSuite::Sm2] {
            let me = KeyPair::generate(suite).unwrap();
            let other = KeyPair::generate(suite).unwrap();
            let secret = [7u8; 32];
            let c = seal(&me.public_key(), b"ctx", &secret).unwrap();
            assert_eq!(open(&me, b"ctx", &c).unwrap().as_slice(), &secret, "{suite:?}");
            assert!(open(&me, b"other ctx", &c).is_err(), "{suite:?} context");
            assert!(open(&other, b"ctx", &c).is_err(), "{suite:?} wrong key");
            for i in [0, c.len() / 2, c.len() - 1] {
                let mut t = c.clone();
                t[i] ^= 1;
                assert!(open(&me, b"ctx", &t).is_err(), "{suite:?} flip at {i}");
            }
            assert!(open(&me, b"ctx", &c[..10]).is_err());
            assert!(open(&me, b"ctx", &[]).is_err());
        }
    }
}
