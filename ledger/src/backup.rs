//! Key backup and recovery: a DID's 32-byte secret split into k-of-n Shamir shares (Shamir, *How
//! to share a secret*, CACM 1979) over GF(2^8), each share encrypted with AES-256-GCM under its
//! holder's key.
//!
//! We wrote the byte-wise GF(2^8) sharing (a few dozen lines) instead of using `vsss-rs`, whose
//! current release is built on the previous `elliptic-curve` generation and works over curve
//! scalar fields: sharing bytes works for all three suites' secrets alike. Field arithmetic is
//! branch-free and table-free (constant time). Security: information-theoretic; any k − 1 shares
//! reveal nothing about the secret. The AES-GCM associated data binds each ciphertext to the
//! backed-up public key, the holder, the share index and the threshold, so shares cannot be
//! swapped between backups or holders; recovery checks that the rebuilt key matches the public key.
//! Rotation (replacing a key that is lost *and* unrecoverable) is a DID update by the controllers.

use crate::codec::{Encode, Writer};
use crate::error::{Error, Result};
use crate::keys::{KeyPair, PublicKey};
use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit, Nonce};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

const AAD_DOMAIN: &[u8] = b"tessera-ledger/key-backup/v1";

fn gf_mul(mut a: u8, mut b: u8) -> u8 {
    let mut p = 0u8;
    for _ in 0..8 {
        p ^= a & 0u8.wrapping_sub(b & 1);
        let hi = a >> 7;
        a = (a << 1) ^ (0x1b & 0u8.wrapping_sub(hi));
        b >>= 1;
    }
    p
}

fn gf_inv(a: u8) -> u8 {
    // a^254 = a^-1 in GF(2^8) (and 0 for 0), by a fixed square-and-multiply chain.
    let a2 = gf_mul(a, a);
    let a3 = gf_mul(a2, a);
    let a6 = gf_mul(a3, a3);
    let a12 = gf_mul(a6, a6);
    let a15 = gf_mul(a12, a3);
    let a30 = gf_mul(a15, a15);
    let a60 = gf_mul(a30, a30);
    let a120 = gf_mul(a60, a60);
    let a126 = gf_mul(a120, a6);
    let a252 = gf_mul(a126, a126);
    gf_mul(a252, a2)
}

/// One plaintext share: its x-coordinate and one y byte per secret byte.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Share {
    /// x-coordinate, 1..=n.
    pub index: u8,
    /// y-values.
    pub data: Vec<u8>,
}

impl core::fmt::Debug for Share {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Share").field("index", &self.index).finish_non_exhaustive()
    }
}

/// Splits `secret` into `n` shares, any `k` of which rebuild it.
pub fn split_secret(secret: &[u8], k: u8, n: u8) -> Result<Vec<Share>> {
    if k == 0 || k > n {
        return Err(Error::Misuse("need 1 <= k <= n <= 255"));
    }
    let mut coeffs = Zeroizing::new(vec![0u8; secret.len() * usize::from(k - 1)]);
    getrandom::fill(&mut coeffs).map_err(|_| Error::Rng)?;
    let mut shares = Vec::with_capacity(usize::from(n));
    for x in 1..=n {
        let mut data = Vec::with_capacity(secret.len());
        for (i, s) in secret.iter().enumerate() {
            // Horner: s + c1 x + … + c_{k-1} x^{k-1}.
            let c = &coeffs[i * usize::from(k - 1)..(i + 1) * usize::from(k - 1)];
            let mut y = 0u8;
            for cj in c.iter().rev() {
                y = gf_mul(y, x) ^ cj;
            }
            data.push(gf_mul(y, x) ^ s);
        }
        shares.push(Share { index: x, data });
    }
    Ok(shares)
}

/// Rebuilds the secret from shares with distinct non-zero indices and equal lengths (Lagrange
/// interpolation at 0). With fewer than `k` shares the output is unrelated to the secret.
pub fn combine_shares(shares: &[Share]) -> Result<Zeroizing<Vec<u8>>> {
    let first = shares.first().ok_or(Error::Backup("no shares"))?;
    let len = first.data.len();
    for (i, s) in shares.iter().enumerate() {
        if s.index == 0 || s.data.len() != len || shares[..i].iter().any(|t| t.index == s.index) {
            return Err(Error::Backup("shares have zero, repeated indices or unequal lengths"));
        }
    }
    let mut out = Zeroizing::new(vec![0u8; len]);
    for (i, si) in shares.iter().enumerate() {
        let mut num = 1u8;
        let mut den = 1u8;
        for (j, sj) in shares.iter().enumerate() {
            if i != j {
                num = gf_mul(num, sj.index);
                den = gf_mul(den, sj.index ^ si.index);
            }
        }
        let l = gf_mul(num, gf_inv(den));
        for (o, y) in out.iter_mut().zip(&si.data) {
            *o ^= gf_mul(*y, l);
        }
    }
    Ok(out)
}

/// A share holder's AES-256 key.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct HolderKey(pub [u8; 32]);

impl HolderKey {
    /// A fresh random key.
    pub fn generate() -> Result<Self> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).map_err(|_| Error::Rng)?;
        Ok(Self(k))
    }
}

/// One encrypted share, addressed to a holder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedShare {
    /// Holder label (typically the holder's DID).
    pub holder: String,
    /// Share index.
    pub index: u8,
    /// AES-GCM nonce.
    pub nonce: [u8; 12],
    /// Ciphertext with tag.
    pub ciphertext: Vec<u8>,
}

/// A k-of-n backup of one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyBackup {
    /// The key backed up.
    pub public_key: PublicKey,
    /// Shares needed.
    pub threshold: u8,
    /// One encrypted share per holder.
    pub shares: Vec<EncryptedShare>,
}

fn aad(pk: &PublicKey, holder: &str, index: u8, k: u8) -> Vec<u8> {
    let mut w = Writer::new();
    w.raw(AAD_DOMAIN);
    pk.encode(&mut w);
    w.str(holder);
    w.u8(index);
    w.u8(k);
    w.into_bytes()
}

/// Splits `key` into shares for `holders` (label, key), `threshold` of which recover it.
pub fn backup_key(
    key: &KeyPair,
    threshold: u8,
    holders: &[(&str, &HolderKey)],
) -> Result<KeyBackup> {
    let n = u8::try_from(holders.len()).map_err(|_| Error::Misuse("at most 255 holders"))?;
    let pk = key.public_key();
    let shares = split_secret(key.secret_bytes().as_ref(), threshold, n)?;
    let mut out = Vec::with_capacity(holders.len());
    for ((label, hk), share) in holders.iter().zip(&shares) {
        let cipher = Aes256Gcm::new_from_slice(&hk.0).map_err(|_| Error::Misuse("holder key"))?;
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|_| Error::Rng)?;
        let mut buf = share.data.clone();
        cipher
            .encrypt_in_place(
                &Nonce::<Aes256Gcm>::from(nonce),
                &aad(&pk, label, share.index, threshold),
                &mut buf,
            )
            .map_err(|_| Error::Backup("encryption failed"))?;
        out.push(EncryptedShare {
            holder: (*label).to_owned(),
            index: share.index,
            nonce,
            ciphertext: buf,
        });
    }
    Ok(KeyBackup { public_key: pk, threshold, shares: out })
}

impl KeyBackup {
    /// A holder decrypts its share.
    pub fn decrypt_share(&self, share: &EncryptedShare, key: &HolderKey) -> Result<Share> {
        let cipher = Aes256Gcm::new_from_slice(&key.0).map_err(|_| Error::Misuse("holder key"))?;
        let mut buf = share.ciphertext.clone();
        cipher
            .decrypt_in_place(
                &Nonce::<Aes256Gcm>::from(share.nonce),
                &aad(&self.public_key, &share.holder, share.index, self.threshold),
                &mut buf,
            )
            .map_err(|_| Error::Backup("share failed authentication"))?;
        Ok(Share { index: share.index, data: buf })
    }

    /// Rebuilds the key from at least `threshold` decrypted shares and checks it against the
    /// backed-up public key.
    pub fn recover(&self, shares: &[Share]) -> Result<KeyPair> {
        if shares.len() < usize::from(self.threshold) {
            return Err(Error::ThresholdNotMet {
                needed: usize::from(self.threshold),
                got: shares.len(),
            });
        }
        let secret = combine_shares(shares)?;
        let arr: Zeroizing<[u8; 32]> = Zeroizing::new(
            secret.as_slice().try_into().map_err(|_| Error::Backup("wrong secret length"))?,
        );
        let key = KeyPair::from_secret(self.public_key.suite(), &arr)
            .map_err(|_| Error::Backup("recovered secret is not a valid key"))?;
        if key.public_key() != self.public_key {
            return Err(Error::Backup("recovered key does not match the backed-up public key"));
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SignatureSuite;

    #[test]
    fn field_inverse() {
        for a in 1..=255u8 {
            assert_eq!(gf_mul(a, gf_inv(a)), 1, "{a}");
        }
    }

    #[test]
    fn any_k_shares_recover_fewer_do_not() {
        let secret: Vec<u8> = (0..32).collect();
        let shares = split_secret(&secret, 3, 5).unwrap();
        for a in 0..5 {
            for b in a + 1..5 {
                for c in b + 1..5 {
                    let pick = [shares[a].clone(), shares[b].clone(), shares[c].clone()];
                    assert_eq!(combine_shares(&pick).unwrap().as_slice(), secret.as_slice());
                }
                let two = [shares[a].clone(), shares[b].clone()];
                assert_ne!(combine_shares(&two).unwrap().as_slice(), secret.as_slice());
            }
        }
    }

    #[test]
    fn encrypted_backup_round_trip_and_tampering() {
        for suite in [SignatureSuite::Ed25519, SignatureSuite::Secp256k1, SignatureSuite::Sm2] {
            let key = KeyPair::generate(suite).unwrap();
            let hks: Vec<HolderKey> = (0..4).map(|_| HolderKey::generate().unwrap()).collect();
            let names = ["did:tessera:a", "did:tessera:b", "did:tessera:c", "did:tessera:d"];
            let holders: Vec<(&str, &HolderKey)> = names.iter().copied().zip(hks.iter()).collect();
            let b = backup_key(&key, 2, &holders).unwrap();
            let s1 = b.decrypt_share(&b.shares[1], &hks[1]).unwrap();
            let s3 = b.decrypt_share(&b.shares[3], &hks[3]).unwrap();
            let rec = b.recover(&[s1.clone(), s3]).unwrap();
            assert_eq!(rec.public_key(), key.public_key());
            // Wrong holder key, tampered ciphertext, swapped holder label: refused.
            assert!(b.decrypt_share(&b.shares[0], &hks[1]).is_err());
            let mut t = b.shares[0].clone();
            t.ciphertext[0] ^= 1;
            assert!(b.decrypt_share(&t, &hks[0]).is_err());
            let mut t = b.shares[0].clone();
            t.holder = "did:tessera:x".into();
            assert!(b.decrypt_share(&t, &hks[0]).is_err());
            // Too few shares, or a corrupted share: no key.
            assert!(b.recover(std::slice::from_ref(&s1)).is_err());
            let mut bad = s1.clone();
            bad.data[0] ^= 1;
            let s0 = b.decrypt_share(&b.shares[0], &hks[0]).unwrap();
            assert!(b.recover(&[bad, s0]).is_err());
        }
    }
}
