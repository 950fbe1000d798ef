//! DID key recovery: k-of-n holders, each holding a share sealed to its own DID key, let the owner
//! of a `did:tessera` DID rotate it to a new key after losing the old one.
//!
//! **Scheme.** The owner draws a fresh *recovery key* `r` and deals it with Feldman verifiable
//! secret sharing (Feldman, FOCS 1987, §3; [`vss`], through `vsss-rs`): share `i` is `f(i)` of a
//! random polynomial of degree `k − 1` with `f(0) = r`, and the commitments `C_j = a_j·G` are
//! public, so `C_0 = r·G` is the recovery key's public key. Share `i` is sealed ([`seal`]) to
//! holder `i`'s DID verification key: HPKE (RFC 9180) to the X25519 form of an Ed25519 key, ECIES
//! (SEC 1 §5.1) to a secp256k1 key, SM2 encryption (GB/T 32918.4) to an SM2 key, each bound to
//! [`RecoveryBackup::share_context`] (chain, DID, backup, holder, index, threshold and every
//! commitment). The whole [`RecoveryBackup`] — commitments and sealed shares — is published on the
//! ledger ([`crate::TxBody::RecoveryBackup`]), so a holder needs nothing but its own key; `r` is
//! never stored. The DID document names `did:key:<C_0>` as a controller beside itself (threshold
//! 1), which the controller rule in the executor already honours, and the ledger refuses a backup
//! whose recovery key is not such a controller.
//!
//! **Recovery.** The owner makes a new key and asks holders for their shares. Each holder opens
//! its share, checks it against the commitments (so a dealer's bad share is caught by its holder)
//! and re-seals it to the owner's new key under a transfer context ([`transfer_share`]). The owner
//! opens and checks every share it receives ([`recover_key`]): one that fails to open or does not
//! lie on the committed polynomial is reported and skipped; `k` good shares rebuild `r`, whose
//! public key must equal `C_0`. The recovery key then approves a DID update to the new key
//! ([`rotation_approval`]), through the ordinary k-of-n controller check; the update drops the
//! recovery controller, so the old key and the spent recovery key no longer control the DID.
//!
//! **Group.** `r` lives on secp256k1, or on SM2's curve for SM2 DIDs (one national suite end to
//! end). Ed25519 DIDs use secp256k1: Feldman needs the secret to be the group scalar itself,
//! while an Ed25519 secret key is a seed hashed into a clamped scalar (RFC 8032 §5.1.5), so a
//! shared Ed25519 scalar could not be used as a standard Ed25519 signing key again; secp256k1
//! ECDSA is one of the ledger's signature suites and `vsss-rs` supports its group.
//!
//! **Security.** Fewer than `k` holders learn nothing about `r` beyond `C_0` (Shamir secrecy; the
//! commitments reveal only `r·G`, as in Feldman's scheme). A share moved to another DID, backup,
//! holder or index fails to open (AEAD / SM3 binding). A corrupted or lying holder's share fails
//! the Feldman check and is skipped, so recovery succeeds while `k` honest holders answer.
//! Holders together can rotate the DID (that is what they are trusted with), but never learn the
//! DID's signing key, which is not shared. The sealed shares are public: a share is exposed if
//! its holder's key is, so `k` compromised holder keys are equivalent to `k` colluding holders
//! (a new backup, after holders rotate their keys, replaces the old one). Secrets (`r`, shares)
//! are zeroized on drop.

pub mod seal;
pub mod vss;

use crate::codec::{Decode, Encode, MAX_ID_LEN, Reader, Writer};
use crate::did::{Did, DidDocument, KeyRef};
use crate::error::{Error, Result};
use crate::hash::{Hash32, LedgerHash};
use crate::keys::{KeyPair, PublicKey, SignatureSuite};
use crate::tx::{Approval, did_update_message};
pub use vss::ScalarShare;
use zeroize::Zeroizing;

/// Most holders of one backup.
pub const MAX_HOLDERS: usize = 16;

const SHARE_DOMAIN: &[u8] = b"tessera-ledger/recovery-share/v1";
const TRANSFER_DOMAIN: &[u8] = b"tessera-ledger/recovery-transfer/v1";

/// The group the recovery key of a DID whose signing key is of `suite` lives in.
pub fn recovery_suite(suite: SignatureSuite) -> SignatureSuite {
    match suite {
        SignatureSuite::Sm2 => SignatureSuite::Sm2,
        SignatureSuite::Ed25519 | SignatureSuite::Secp256k1 => SignatureSuite::Secp256k1,
    }
}

/// One holder's sealed share; its share index is its position in the backup plus one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedShare {
    /// The holder's key the share is sealed to (`did:tessera:<id>#<method>` or a `did:key`).
    pub holder: KeyRef,
    /// That key at backup time.
    pub key: PublicKey,
    /// The ciphertext ([`seal::seal`] under [`RecoveryBackup::share_context`]).
    pub sealed: Vec<u8>,
}

impl Encode for SealedShare {
    fn encode(&self, w: &mut Writer) {
        self.holder.encode(w);
        self.key.encode(w);
        w.bytes(&self.sealed);
    }
}

impl Decode for SealedShare {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            holder: KeyRef::decode(r)?,
            key: PublicKey::decode(r)?,
            sealed: r.bytes(seal::MAX_SEALED)?,
        })
    }
}

/// A published recovery backup of `did:tessera:<did>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveryBackup {
    /// The identifier after `did:tessera:`.
    pub did: String,
    /// The backup's name, unique for the DID.
    pub id: String,
    /// Shares needed (2 ≤ k ≤ n).
    pub threshold: u8,
    /// Feldman commitments `C_0 … C_{k−1}`; `C_0` is the recovery key.
    pub commitments: Vec<PublicKey>,
    /// One sealed share per holder.
    pub shares: Vec<SealedShare>,
}

impl Encode for RecoveryBackup {
    fn encode(&self, w: &mut Writer) {
        w.str(&self.did);
        w.str(&self.id);
        w.u8(self.threshold);
        w.list(&self.commitments);
        w.list(&self.shares);
    }
}

impl Decode for RecoveryBackup {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            did: r.string(MAX_ID_LEN)?,
            id: r.string(MAX_ID_LEN)?,
            threshold: r.u8()?,
            commitments: r.list(MAX_HOLDERS)?,
            shares: r.list(MAX_HOLDERS)?,
        })
    }
}

impl RecoveryBackup {
    /// The recovery key `C_0`.
    pub fn recovery_key(&self) -> Result<PublicKey> {
        self.commitments.first().copied().ok_or(Error::Backup("backup has no commitments"))
    }

    /// The recovery key as the `did:key` controller of the DID.
    pub fn recovery_did(&self) -> Result<Did> {
        Ok(Did::Key(self.recovery_key()?))
    }

    /// Structural checks: names, 2 ≤ k ≤ n ≤ [`MAX_HOLDERS`], `k` valid commitments on one
    /// supported curve, distinct holders (not the DID itself) with valid keys, bounded ciphertexts.
    pub fn validate(&self) -> Result<()> {
        crate::did::check_id(&self.did)?;
        crate::state::check_name("recovery backup id", &self.id)?;
        let n = self.shares.len();
        let k = usize::from(self.threshold);
        if k < 2 || k > n || n > MAX_HOLDERS {
            return Err(Error::Backup("a recovery backup needs 2 <= threshold <= holders <= 16"));
        }
        if self.commitments.len() != k {
            return Err(Error::Backup("a backup has one commitment per threshold share"));
        }
        let suite = self.recovery_key()?.suite();
        if suite == SignatureSuite::Ed25519 {
            return Err(Error::Backup("recovery keys are on secp256k1 or SM2"));
        }
        for c in &self.commitments {
            if c.suite() != suite {
                return Err(Error::Backup("commitments on two curves"));
            }
            c.validate()?;
        }
        let me = Did::Tessera(self.did.clone());
        for (i, s) in self.shares.iter().enumerate() {
            if s.holder.did == me {
                return Err(Error::Backup("a DID cannot hold a share of its own recovery key"));
            }
            if self.shares[..i].iter().any(|t| t.holder.did == s.holder.did) {
                return Err(Error::Backup("one holder named twice"));
            }
            if let Did::Key(pk) = &s.holder.did
                && *pk != s.key
            {
                return Err(Error::Backup("a did:key holder's key is the DID's own"));
            }
            s.key.validate()?;
            if s.sealed.is_empty() || s.sealed.len() > seal::MAX_SEALED {
                return Err(Error::Backup("sealed share length"));
            }
        }
        Ok(())
    }

    /// Share `index`'s (1-based) sealed entry.
    pub fn share(&self, index: u8) -> Result<&SealedShare> {
        usize::from(index)
            .checked_sub(1)
            .and_then(|i| self.shares.get(i))
            .ok_or(Error::Backup("no such share index"))
    }

    /// The index of `holder`'s share.
    pub fn index_of(&self, holder: &Did) -> Result<u8> {
        let i = self
            .shares
            .iter()
            .position(|s| s.holder.did == *holder)
            .ok_or(Error::Backup("not a holder of this backup"))?;
        u8::try_from(i + 1).map_err(|_| Error::Backup("share index"))
    }

    fn commitments_hash(&self) -> Hash32 {
        let mut w = Writer::new();
        w.list(&self.commitments);
        LedgerHash::Sha256.hash(&[&w.into_bytes()])
    }

    /// What share `index` is sealed under: domain, chain, DID, backup, threshold, the holder's
    /// key reference and key, the index and a hash of every commitment.
    pub fn share_context(&self, chain_id: &Hash32, index: u8) -> Result<Vec<u8>> {
        let s = self.share(index)?;
        let mut w = Writer::new();
        w.raw(SHARE_DOMAIN);
        w.raw(chain_id);
        w.str(&self.did);
        w.str(&self.id);
        w.u8(self.threshold);
        s.holder.encode(&mut w);
        s.key.encode(&mut w);
        w.u8(index);
        w.raw(&self.commitments_hash());
        Ok(w.into_bytes())
    }

    fn transfer_context(&self, chain_id: &Hash32, index: u8, to: &PublicKey) -> Result<Vec<u8>> {
        let mut w = Writer::new();
        w.raw(TRANSFER_DOMAIN);
        w.raw(&self.share_context(chain_id, index)?);
        to.encode(&mut w);
        Ok(w.into_bytes())
    }

    /// Checks a plaintext share against the commitments.
    pub fn verify_share(&self, share: &ScalarShare) -> Result<()> {
        self.share(share.index)?;
        vss::verify(&self.commitments, share)
    }
}

/// Deals a fresh recovery key of `suite` ([`recovery_suite`] of the DID's) for `did:tessera:<did>`
/// among `holders` (key reference and its current key), `threshold` of whom recover it. The key
/// itself is dropped (zeroized) before this returns.
pub fn deal(
    chain_id: &Hash32,
    did: &str,
    id: &str,
    suite: SignatureSuite,
    threshold: u8,
    holders: &[(KeyRef, PublicKey)],
) -> Result<RecoveryBackup> {
    let n = u8::try_from(holders.len()).map_err(|_| Error::Backup("too many holders"))?;
    let r = KeyPair::generate(suite)?;
    let (shares, commitments) = vss::split(suite, &r.secret_bytes(), threshold, n)?;
    drop(r);
    let mut b = RecoveryBackup {
        did: did.to_owned(),
        id: id.to_owned(),
        threshold,
        commitments,
        shares: holders
            .iter()
            .map(|(h, k)| SealedShare { holder: h.clone(), key: *k, sealed: Vec::new() })
            .collect(),
    };
    for sh in &shares {
        let ctx = b.share_context(chain_id, sh.index)?;
        let sealed = seal::seal(&b.share(sh.index)?.key, &ctx, &sh.value)?;
        b.shares[usize::from(sh.index) - 1].sealed = sealed;
    }
    b.validate()?;
    Ok(b)
}

fn share_from(index: u8, bytes: &[u8]) -> Result<ScalarShare> {
    let value: [u8; 32] = bytes.try_into().map_err(|_| Error::Backup("share is not 32 bytes"))?;
    Ok(ScalarShare { index, value })
}

/// A holder opens its share with its key and checks it against the commitments.
pub fn open_share(
    backup: &RecoveryBackup,
    chain_id: &Hash32,
    index: u8,
    holder_key: &KeyPair,
) -> Result<ScalarShare> {
    let s = backup.share(index)?;
    if s.key != holder_key.public_key() {
        return Err(Error::Backup("the share is sealed to another key of the holder"));
    }
    let ctx = backup.share_context(chain_id, index)?;
    let pt = seal::open(holder_key, &ctx, &s.sealed)?;
    let share = share_from(index, &pt)?;
    backup.verify_share(&share)?;
    Ok(share)
}

/// A holder re-seals its opened share to the recovering owner's new key `to`.
pub fn transfer_share(
    backup: &RecoveryBackup,
    chain_id: &Hash32,
    share: &ScalarShare,
    to: &PublicKey,
) -> Result<Vec<u8>> {
    let ctx = backup.transfer_context(chain_id, share.index, to)?;
    seal::seal(to, &ctx, &share.value)
}

/// The owner opens a transferred share with its new key and checks it against the commitments.
pub fn open_transfer(
    backup: &RecoveryBackup,
    chain_id: &Hash32,
    index: u8,
    new_key: &KeyPair,
    sealed: &[u8],
) -> Result<ScalarShare> {
    let ctx = backup.transfer_context(chain_id, index, &new_key.public_key())?;
    let pt = seal::open(new_key, &ctx, sealed)?;
    let share = share_from(index, &pt)?;
    backup.verify_share(&share)?;
    Ok(share)
}

/// The recovery key rebuilt from shares, with what was used and what was refused.
#[derive(Debug)]
pub struct Recovered {
    /// The recovery key (public key `C_0`).
    pub key: KeyPair,
    /// Indices of the shares combined.
    pub used: Vec<u8>,
    /// Indices of shares refused, with why (did not open, off the polynomial, repeated).
    pub refused: Vec<(u8, Error)>,
}

/// Rebuilds the recovery key from candidate shares `(index, share or the error opening it)`:
/// each is checked against the commitments, bad or repeated ones are refused, and the first
/// `threshold` good ones are combined. The result must have public key `C_0`.
pub fn recover_key(
    backup: &RecoveryBackup,
    candidates: Vec<(u8, Result<ScalarShare>)>,
) -> Result<Recovered> {
    backup.validate()?;
    let k = usize::from(backup.threshold);
    let mut good: Vec<ScalarShare> = Vec::new();
    let mut refused = Vec::new();
    for (index, c) in candidates {
        let checked = c.and_then(|s| {
            if s.index != index {
                return Err(Error::Backup("share carries another index"));
            }
            backup.verify_share(&s)?;
            if good.iter().any(|g| g.index == s.index) {
                return Err(Error::Backup("share index given twice"));
            }
            Ok(s)
        });
        match checked {
            Ok(s) if good.len() < k => good.push(s),
            Ok(_) => {}
            Err(e) => refused.push((index, e)),
        }
    }
    if good.len() < k {
        return Err(Error::ThresholdNotMet { needed: k, got: good.len() });
    }
    let suite = backup.recovery_key()?.suite();
    let secret: Zeroizing<[u8; 32]> = vss::combine(suite, &good)?;
    let key = KeyPair::from_secret(suite, &secret)
        .map_err(|_| Error::Backup("rebuilt secret is not a key"))?;
    if key.public_key() != backup.recovery_key()? {
        return Err(Error::Backup("rebuilt key does not match the published recovery key"));
    }
    Ok(Recovered { key, used: good.iter().map(|s| s.index).collect(), refused })
}

/// The controllers a document has once `recovery` may rotate it: itself and the recovery key,
/// either one sufficing. The document must be self-controlled, or controlled that way by an
/// earlier recovery key (which is replaced); a document with another controller rule is refused
/// (its controllers must change it themselves).
pub fn with_recovery_controller(cur: &DidDocument, recovery: &Did) -> Result<(Vec<Did>, u8)> {
    let me = cur.did();
    let ours = match cur.controllers.as_slice() {
        [] => true,
        [a, Did::Key(_)] => *a == me && cur.threshold == 1,
        _ => false,
    };
    if !ours {
        return Err(Error::Backup(
            "the document has its own controller rule; its controllers must add the recovery key",
        ));
    }
    Ok((vec![me, recovery.clone()], 1))
}

/// The recovery key's approval of replacing `cur` by `new` (which should no longer name the
/// recovery key as a controller).
pub fn rotation_approval(
    chain_id: &Hash32,
    cur: &DidDocument,
    new: &DidDocument,
    recovery: &KeyPair,
) -> Approval {
    let msg = did_update_message(chain_id, &cur.id, cur.version, Some(new));
    Approval { signer: KeyRef::did_key(recovery.public_key()), signature: recovery.sign(&msg) }
}
