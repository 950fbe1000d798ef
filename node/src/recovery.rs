//! `tessera did backup`, `did backup-share` and `did recover`: k-of-n recovery of a node's DID
//! through holders' DID keys (the scheme is [`tessera_ledger::recovery`]).
//!
//! 1. The owner runs `did backup --holders … --threshold k`: a fresh recovery key is dealt with
//!    Feldman VSS, each share sealed to its holder's DID signing key; the document gets the
//!    recovery key (`did:key`) as a controller beside itself, and the backup (commitments and
//!    sealed shares) goes on the ledger. No secret is written anywhere.
//! 2. Having lost its key, the owner makes a new home with the same name (`tessera init`) and
//!    runs `did recover --backup <id>`, which prints the new key and the command for holders.
//! 3. Each holder runs `did backup-share --did … --backup … --to <new did:key>`: its share is
//!    opened with its node key, checked against the published commitments, and re-sealed to the
//!    owner's new key in a share file. A holder should confirm out of band that the new key is
//!    really the owner's: whoever gathers k shares can rotate the DID.
//! 4. The owner runs `did recover --backup <id> --share f1 --share f2 …`: every file is opened
//!    and checked; a file that does not open or whose share is off the committed polynomial is
//!    reported and skipped; k good shares rebuild the recovery key, which approves the rotation
//!    of the DID to this home's keys and drops itself as a controller. Against a served ledger
//!    (`--ledger-remote`) this home is not the DID's member yet, so it connects with a recovery
//!    hello and may only read the DID, the backup and the recovery key's nonce and submit this
//!    rotation ([`crate::ledgerserve`]); afterwards it is admitted as the DID's member.
//!
//! Share files are JSON, read with a size bound; nothing in them is trusted before it opens
//! under the owner's new key and passes the Feldman check.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tessera_ledger::recovery::{self, RecoveryBackup, ScalarShare};
use tessera_ledger::{Did, Hash32, KeyRef, PublicKey, StateKey, TxBody};

use crate::error::{Error, Result};
use crate::home::{Home, SIGNING_METHOD};
use crate::ledgerclient::NodeLedger;

/// The `format` of a share file.
pub const SHARE_FORMAT: &str = "tessera-recovery-share/v1";
/// Largest share file read.
const MAX_SHARE_FILE: u64 = 16 * 1024;

/// A holder's share, re-sealed to the recovering owner's new key.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ShareFile {
    /// Always [`SHARE_FORMAT`].
    pub format: String,
    /// The DID being recovered.
    pub did: String,
    /// The backup id.
    pub backup: String,
    /// The share index (1-based).
    pub index: u8,
    /// The holder's DID (informative; the index and the seal decide).
    pub holder: String,
    /// The owner's new key (`did:key`) the share is sealed to.
    pub to: String,
    /// The ciphertext, hex.
    pub sealed: String,
}

/// What `did backup` did.
#[derive(Clone, Debug, Serialize)]
pub struct BackupReport {
    /// The DID backed up.
    pub did: String,
    /// Backup id.
    pub backup: String,
    /// Shares needed.
    pub threshold: u8,
    /// The holders, in share order.
    pub holders: Vec<String>,
    /// The recovery key, now a controller of the DID.
    pub recovery_key: String,
    /// The transaction that installed the controller rule.
    pub update_tx: String,
    /// The transaction that published the backup.
    pub backup_tx: String,
}

/// What `did recover` did.
#[derive(Clone, Debug, Serialize)]
pub struct RecoverReport {
    /// The DID recovered.
    pub did: String,
    /// Backup used.
    pub backup: String,
    /// The new signing key (`did:key`).
    pub new_key: String,
    /// Share files combined, with their index.
    pub used: Vec<(u8, String)>,
    /// Share files refused, with why.
    pub refused: Vec<(String, String)>,
    /// The rotation transaction.
    pub tx: String,
}

fn holder_ref(s: &str) -> Result<KeyRef> {
    let (did, method) = match s.split_once('#') {
        Some((d, m)) => (d, Some(m)),
        None => (s, None),
    };
    let did = Did::parse(did).map_err(|e| Error::invalid("holder DID", e))?;
    Ok(match (&did, method) {
        (Did::Key(pk), _) => KeyRef::did_key(*pk),
        (Did::Tessera(_), m) => KeyRef::new(did, m.unwrap_or(SIGNING_METHOD)),
    })
}

fn key_of(did: &str, what: &'static str) -> Result<PublicKey> {
    let d = Did::parse(did).map_err(|e| Error::invalid(what, e))?;
    d.as_key().copied().ok_or_else(|| Error::invalid(what, "must be a did:key"))
}

fn tessera_id(did: &str) -> Result<String> {
    match Did::parse(did).map_err(|e| Error::invalid("DID", e))? {
        Did::Tessera(id) => Ok(id),
        Did::Key(_) => Err(Error::invalid("DID", "recovery is for did:tessera DIDs")),
    }
}

/// The backup `id` of `did:tessera:<did>` as the ledger holds it.
pub fn fetch_backup(ledger: &NodeLedger, did: &str, id: &str) -> Result<RecoveryBackup> {
    let key = StateKey::Recovery { did: did.to_owned(), backup: id.to_owned() };
    let b: RecoveryBackup = ledger.state(&key)?.ok_or_else(|| {
        Error::Ledger(tessera_ledger::Error::NotFound {
            what: "recovery backup",
            id: format!("did:tessera:{did} {id}"),
        })
    })?;
    b.validate()?;
    Ok(b)
}

/// `did backup`: deals a recovery key among `holders` (DIDs, optionally `#method`), `threshold`
/// of whom may rotate this node's DID, and publishes it as backup `id`.
pub fn backup(home: &Home, holders: &[String], threshold: u8, id: &str) -> Result<BackupReport> {
    let ledger = NodeLedger::open(home)?;
    let chain = ledger.chain_id();
    let mut refs = Vec::with_capacity(holders.len());
    for h in holders {
        let r = holder_ref(h.trim())?;
        let pk = ledger.resolve_key(&r)?;
        refs.push((r, pk));
    }
    let suite = recovery::recovery_suite(home.key().suite());
    let b = recovery::deal(&chain, &home.config.name, id, suite, threshold, &refs)?;
    let cur = ledger.resolve(&home.did())?;
    if cur.method(SIGNING_METHOD) != Some(&home.key().public_key()) {
        return Err(Error::NotAuthorised(format!(
            "this home's key is not {}#{SIGNING_METHOD} on the ledger",
            home.did()
        )));
    }
    let (controllers, threshold_rule) =
        recovery::with_recovery_controller(&cur, &b.recovery_did()?)?;
    let mut doc = cur.clone();
    doc.controllers = controllers;
    doc.threshold = threshold_rule;
    doc.version = cur.version.saturating_add(1);
    let msg = tessera_ledger::did_update_message(&chain, &cur.id, cur.version, Some(&doc));
    let approval =
        tessera_ledger::Approval { signer: home.key_ref(), signature: home.key().sign(&msg) };
    let update_tx = ledger.submit(
        &home.key_ref(),
        home.key(),
        TxBody::UpdateDid { document: doc, approvals: vec![approval] },
    )?;
    let backup_tx =
        ledger.submit(&home.key_ref(), home.key(), TxBody::RecoveryBackup(b.clone()))?;
    Ok(BackupReport {
        did: home.did().to_string(),
        backup: id.to_owned(),
        threshold,
        holders: b
            .shares
            .iter()
            .map(|s| {
                format!("{}#{}", s.holder.did, s.holder.method).trim_end_matches('#').to_owned()
            })
            .collect(),
        recovery_key: b.recovery_did()?.to_string(),
        update_tx: hex::encode(update_tx),
        backup_tx: hex::encode(backup_tx),
    })
}

/// `did backup-share`: this node, a holder of backup `id` of `did`, opens its share, checks it
/// against the commitments and re-seals it to `to` (the owner's new `did:key`).
pub fn backup_share(home: &Home, did: &str, id: &str, to: &str) -> Result<ShareFile> {
    let owner = tessera_id(did)?;
    let to_key = key_of(to, "new key (--to)")?;
    let ledger = NodeLedger::open(home)?;
    let chain = ledger.chain_id();
    let b = fetch_backup(&ledger, &owner, id)?;
    let index = b.index_of(&home.did())?;
    let share = recovery::open_share(&b, &chain, index, home.key())?;
    let sealed = recovery::transfer_share(&b, &chain, &share, &to_key)?;
    Ok(ShareFile {
        format: SHARE_FORMAT.to_owned(),
        did: Did::Tessera(owner).to_string(),
        backup: id.to_owned(),
        index,
        holder: home.did().to_string(),
        to: Did::Key(to_key).to_string(),
        sealed: hex::encode(sealed),
    })
}

/// Writes a share file (refusing to overwrite one).
pub fn write_share_file(path: &Path, f: &ShareFile) -> Result<()> {
    let text = serde_json::to_vec_pretty(f).map_err(|e| Error::invalid("share file", e))?;
    crate::home::write_secret(path, &text)
}

/// Reads a share file, bounded in size.
pub fn read_share_file(path: &Path) -> Result<ShareFile> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_SHARE_FILE + 1).read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > MAX_SHARE_FILE {
        return Err(Error::invalid("share file", format!("{} is too large", path.display())));
    }
    let f: ShareFile =
        serde_json::from_slice(&bytes).map_err(|e| Error::invalid("share file", e))?;
    if f.format != SHARE_FORMAT {
        return Err(Error::invalid("share file", format!("format {:?}", f.format)));
    }
    Ok(f)
}

/// The command a holder runs for this node's recovery with backup `id`.
pub fn request(home: &Home, id: &str) -> String {
    format!(
        "tessera did backup-share --did {} --backup {id} --to {} --out <file>",
        home.did(),
        Did::Key(home.key().public_key())
    )
}

fn open_file(
    b: &RecoveryBackup,
    chain: &Hash32,
    home: &Home,
    path: &Path,
) -> (u8, tessera_ledger::Result<ScalarShare>, Option<Error>) {
    let f = match read_share_file(path) {
        Ok(f) => f,
        Err(e) => return (0, Err(tessera_ledger::Error::Backup("unreadable")), Some(e)),
    };
    let mine = Did::Key(home.key().public_key()).to_string();
    let wrong = if f.did != home.did().to_string() {
        Some("the file is for another DID")
    } else if f.backup != b.id {
        Some("the file is for another backup")
    } else if f.to != mine {
        Some("the file is sealed to another key than this home's")
    } else {
        None
    };
    if let Some(w) = wrong {
        return (f.index, Err(tessera_ledger::Error::Backup(w)), None);
    }
    let sealed = match hex::decode(&f.sealed) {
        Ok(s) => s,
        Err(_) => {
            return (f.index, Err(tessera_ledger::Error::Backup("sealed share is not hex")), None);
        }
    };
    (f.index, recovery::open_transfer(b, chain, f.index, home.key(), &sealed), None)
}

/// `did recover`: rebuilds the recovery key of backup `id` from share files and rotates this
/// node's DID to this home's keys.
pub fn recover(home: &Home, id: &str, files: &[std::path::PathBuf]) -> Result<RecoverReport> {
    // A served ledger is reached through a recovery connection: this home's TLS key is not in
    // the DID's document until the rotation below lands (see `crate::ledgerserve`).
    let ledger = NodeLedger::open_for_recovery(home, id)?;
    let chain = ledger.chain_id();
    let b = fetch_backup(&ledger, &home.config.name, id)?;
    let cur = ledger.resolve(&home.did())?;
    if !cur.controllers.contains(&b.recovery_did()?) {
        return Err(Error::NotAuthorised(format!(
            "backup {id}'s recovery key is no longer a controller of {}",
            home.did()
        )));
    }
    // Every file is opened and checked against the commitments here, so each refusal is named
    // by its file; `recover_key` checks again and combines.
    let mut good = Vec::new();
    let mut names: Vec<(u8, String)> = Vec::new();
    let mut refused = Vec::new();
    for p in files {
        let name = p.display().to_string();
        match open_file(&b, &chain, home, p) {
            (_, _, Some(e)) => refused.push((name, e.to_string())),
            (_, Err(e), None) => refused.push((name, e.to_string())),
            (index, Ok(_), None) if names.iter().any(|(i, _)| *i == index) => {
                refused.push((name, format!("share {index} was already given")));
            }
            (index, Ok(share), None) => {
                names.push((index, name));
                good.push((index, Ok(share)));
            }
        }
    }
    let r = recovery::recover_key(&b, good).map_err(|e| {
        let why = refused.iter().map(|(f, w)| format!("{f}: {w}")).collect::<Vec<_>>();
        Error::Verification(format!(
            "recovery needs {} good shares: {e}{}",
            b.threshold,
            if why.is_empty() { String::new() } else { format!(" (refused {})", why.join("; ")) }
        ))
    })?;
    let name_of = |i: u8| names.iter().find(|(j, _)| *j == i).map(|(_, n)| n.clone());
    for (i, e) in &r.refused {
        refused.push((name_of(*i).unwrap_or_default(), e.to_string()));
    }
    let used = r.used.iter().map(|i| (*i, name_of(*i).unwrap_or_default())).collect();
    let mut doc = crate::ops::my_document(home)?;
    doc.controllers.clear();
    doc.threshold = 1;
    doc.version = cur.version.saturating_add(1);
    let approval = recovery::rotation_approval(&chain, &cur, &doc, &r.key);
    let body = TxBody::UpdateDid { document: doc, approvals: vec![approval] };
    let tx = ledger.submit(&KeyRef::did_key(r.key.public_key()), &r.key, body)?;
    Ok(RecoverReport {
        did: home.did().to_string(),
        backup: id.to_owned(),
        new_key: Did::Key(home.key().public_key()).to_string(),
        used,
        refused,
        tx: hex::encode(tx),
    })
}
