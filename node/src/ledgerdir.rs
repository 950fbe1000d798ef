//! The embedded single-validator ledger, shared by the nodes of one host through a directory.
//!
//! `tessera ledger start` creates `<dir>/genesis.json` (the trust anchor: it names the validator
//! set), `<dir>/validator.key` and `<dir>/admin.key` (mode 0600), the key's signing record
//! `<dir>/validator.guard` and `<dir>/ledger.redb`. Every
//! node process that needs the ledger takes the exclusive lock `<dir>/ledger.lock`, opens the
//! database, submits and seals (one block per transaction) or reads, and closes it again, so any
//! number of local processes share one ledger safely.
//!
//! A long-running process (the ledger service) calls [`LedgerDir::held`] instead: it keeps the
//! lock, the open database and the engine between requests and lets them go only after
//! [`HOLD_IDLE`] without one, so a burst of requests pays for one open (an open and close of the
//! database costs an fsync'd write, hundreds of microseconds) while local processes still get the
//! directory within about that idle time.
//!
//! The database and the signing record are created only there, at genesis: a missing or
//! unreadable `ledger.redb` or `validator.guard` is [`Error::LedgerFile`], never a fresh chain
//! or a forgotten record. Sealing keeps the validator's signing record in
//! `<dir>/validator.guard`, beside its key and outside the database, so a deleted, re-created or
//! rolled-back database cannot make the validator certify a second block at a height it signed
//! (see [`tessera_ledger::SignGuard`]). Copy both files when moving the validator.
//!
//! Trust model of this first version: the validator key sits in the shared directory, so every
//! process on the host can seal blocks; it cannot forge anyone's transaction, grant or commitment
//! signature. A verifier needs only `genesis.json` (the validator set) and a receipt. To serve the
//! ledger to other hosts, `tessera ledger start --listen` runs [`crate::ledgerserve`] on this
//! directory; nodes elsewhere reach it through [`crate::ledgerclient`].

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tessera_ledger::{
    Did, DidDocument, Engine as _, EngineConfig, Genesis, Hash32, KeyPair, KeyRef, Ledger,
    LedgerHash, Org, SignGuard, SignatureSuite, SingleValidator, StateKey, Transaction, TxBody,
    Validator, ValidatorSet,
};

use crate::error::{Error, Result};
use crate::home::{read_secret, write_secret};

/// The database, inside the directory.
const DB_FILE: &str = "ledger.redb";
/// The validator's signing record, beside its key.
const GUARD_FILE: &str = "validator.guard";

/// How long a process waits for another to release the ledger.
const LOCK_WAIT: Duration = Duration::from_secs(60);

/// The nonce after the last one a signer used (stored big-endian), or 1.
pub(crate) fn next_nonce(last: Option<Vec<u8>>) -> Result<u64> {
    match last {
        Some(b) => {
            let a: [u8; 8] =
                b.as_slice().try_into().map_err(|_| Error::invalid("nonce", "bad entry"))?;
            Ok(u64::from_be_bytes(a).saturating_add(1))
        }
        None => Ok(1),
    }
}

/// How long a held ledger stays open without a request (see [`LedgerDir::held`]).
pub const HOLD_IDLE: Duration = Duration::from_millis(250);

/// The open engine, the lock and when it was last used. Fields drop in order: the database
/// closes *before* the lock is released, or another handle in this process could take the lock
/// and find the file still open (redb refuses a second open of one file).
struct Held {
    engine: SingleValidator,
    _lock: File,
    last: Instant,
}

type HeldSlot = Arc<Mutex<Option<Held>>>;

/// A shared ledger directory.
#[derive(Clone)]
pub struct LedgerDir {
    path: PathBuf,
    genesis: Genesis,
    /// Set by [`LedgerDir::held`]: the engine kept open between calls.
    held: Option<HeldSlot>,
}

impl std::fmt::Debug for LedgerDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerDir")
            .field("path", &self.path)
            .field("held", &self.held.is_some())
            .finish()
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl LedgerDir {
    /// Creates a new ledger in `path` (which must not hold one yet).
    pub fn create(path: &Path, chain_name: &str) -> Result<Self> {
        Self::create_with(path, chain_name, &[])
    }

    /// [`LedgerDir::create`] with `supervisors` named in the genesis (they may read everything
    /// through the audit queries and sign nothing but their own DID documents).
    pub fn create_with(path: &Path, chain_name: &str, supervisors: &[Did]) -> Result<Self> {
        fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
        let gpath = path.join("genesis.json");
        // Checked before anything is written: a leftover key or signing record (say, after the
        // database and genesis were deleted) is never overwritten, nor left beside fresh keys.
        let ours = ["genesis.json", DB_FILE, GUARD_FILE, "validator.key", "admin.key"];
        if let Some(f) = ours.iter().map(|f| path.join(f)).find(|f| f.symlink_metadata().is_ok()) {
            return Err(Error::Usage(format!(
                "{} already holds a ledger ({} exists); a new one is created only in an empty \
                 directory",
                path.display(),
                f.display()
            )));
        }
        let validator = KeyPair::generate(SignatureSuite::Ed25519)?;
        let admin = KeyPair::generate(SignatureSuite::Ed25519)?;
        let genesis = Genesis {
            chain_name: chain_name.to_owned(),
            time_ms: now_ms(),
            hash: LedgerHash::Sha256,
            orgs: vec![Org { name: "local".into(), admins: vec![admin.public_key()] }],
            admin_threshold: 1,
            supervisors: supervisors.to_vec(),
            validators: ValidatorSet::new(vec![Validator {
                name: "v0".into(),
                key: validator.public_key(),
            }])?,
        };
        write_secret(
            &path.join("validator.key"),
            hex::encode(*validator.secret_bytes()).as_bytes(),
        )?;
        write_secret(&path.join("admin.key"), hex::encode(*admin.secret_bytes()).as_bytes())?;
        genesis.validate()?;
        let me = Self { path: path.to_path_buf(), genesis, held: None };
        {
            let _lock = me.lock()?;
            // The key's signing record is born with it, like the database with the genesis.
            SignGuard::create(path.join(GUARD_FILE)).map_err(|e| me.file_error(e))?;
            Ledger::create(me.db_path(), &me.genesis).map_err(|e| me.file_error(e))?;
        }
        // Written last: its presence is what marks the directory as holding a ledger.
        fs::write(&gpath, me.genesis.to_json()?).map_err(|e| Error::io(&gpath, e))?;
        Ok(me)
    }

    /// Opens an existing ledger directory.
    pub fn open(path: &Path) -> Result<Self> {
        let gpath = path.join("genesis.json");
        let text = fs::read_to_string(&gpath).map_err(|e| Error::io(&gpath, e))?;
        Ok(Self { path: path.to_path_buf(), genesis: Genesis::from_json(&text)?, held: None })
    }

    /// This directory, with the lock, database and engine kept open between calls (shared by
    /// all clones) and released after [`HOLD_IDLE`] without a call, by a background thread that
    /// ends when the last clone is dropped. For the ledger service; a process making one call
    /// gains nothing from it.
    pub fn held(&self) -> Self {
        let slot: HeldSlot = Arc::new(Mutex::new(None));
        let weak = Arc::downgrade(&slot);
        std::thread::spawn(move || release_idle(&weak));
        Self { held: Some(slot), ..self.clone() }
    }

    /// Runs `f` on the engine: the held one (opened first if released), or one opened for this
    /// call under the directory lock. A held engine whose call hit a storage or file fault is
    /// released, so the next call starts from the file again (a refused transaction or an
    /// unknown entry keeps it).
    fn with_engine<T>(&self, f: impl FnOnce(&mut SingleValidator) -> Result<T>) -> Result<T> {
        let Some(slot) = &self.held else {
            let _lock = self.lock()?;
            let mut engine = self.engine(self.open_db()?)?;
            return f(&mut engine);
        };
        let mut g = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if g.is_none() {
            let lock = self.lock()?;
            let engine = self.engine(self.open_db()?)?;
            *g = Some(Held { engine, _lock: lock, last: Instant::now() });
        }
        let held = g.as_mut().ok_or(Error::Rejected("ledger not open".into()))?;
        let r = f(&mut held.engine);
        held.last = Instant::now();
        if r.as_ref().is_err_and(storage_fault) {
            *g = None;
        }
        r
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The genesis (trust anchor).
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The chain id.
    pub fn chain_id(&self) -> Hash32 {
        self.genesis.chain_id()
    }

    fn lock(&self) -> Result<File> {
        let lpath = self.path.join("ledger.lock");
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lpath)
            .map_err(|e| Error::io(&lpath, e))?;
        let start = Instant::now();
        loop {
            match f.try_lock() {
                Ok(()) => return Ok(f),
                Err(fs::TryLockError::WouldBlock) if start.elapsed() < LOCK_WAIT => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(Error::LedgerBusy(self.path.clone()));
                }
                Err(fs::TryLockError::Error(e)) => return Err(Error::io(&lpath, e)),
            }
        }
    }

    fn db_path(&self) -> PathBuf {
        self.path.join(DB_FILE)
    }

    /// Opens the database (never creating it); the caller holds the lock.
    fn open_db(&self) -> Result<Ledger> {
        Ledger::open(self.db_path(), &self.genesis).map_err(|e| self.file_error(e))
    }

    /// A missing or damaged database file as [`Error::LedgerFile`], naming the file.
    fn file_error(&self, e: tessera_ledger::Error) -> Error {
        use tessera_ledger::Error as L;
        match e {
            L::NoDatabase(path) => Error::LedgerFile {
                path,
                reason: "is missing; it is not re-created (that would restart the chain): \
                         restore it from a backup"
                    .into(),
            },
            L::Unreadable { path, reason } => Error::LedgerFile {
                path,
                reason: format!("is unreadable ({reason}): restore it from a backup"),
            },
            L::NoSigningRecord(path) => Error::LedgerFile {
                path,
                reason: "is missing: the validator's signing record is not re-created (the \
                         validator could sign a second block at a height it signed); restore it \
                         with the validator key"
                    .into(),
            },
            L::DatabaseExists(path) => {
                Error::LedgerFile { path, reason: "already exists; not overwritten".into() }
            }
            other => Error::Ledger(other),
        }
    }

    /// Checks that the validator can seal: the database and the signing record open, and the
    /// record agrees with the chain (a re-created or rolled-back database is refused with
    /// [`tessera_ledger::Error::DoubleSign`]; a block signed but not committed is committed).
    /// `tessera ledger start` runs it, so a damaged directory fails at start, not at the first
    /// transaction.
    pub fn check_validator(&self) -> Result<u64> {
        self.with_engine(|engine| Ok(engine.ledger().tip().height))
    }

    /// The single-validator engine on `ledger` with the signing record; the caller holds the
    /// lock.
    fn engine(&self, ledger: Ledger) -> Result<SingleValidator> {
        let guard = SignGuard::open(self.path.join(GUARD_FILE)).map_err(|e| self.file_error(e))?;
        Ok(SingleValidator::new(ledger, self.validator_key()?, guard, EngineConfig::default())?)
    }

    /// Runs `f` on the ledger under the directory lock (on the held ledger, if
    /// [`LedgerDir::held`]).
    pub fn read<T>(&self, f: impl FnOnce(&Ledger) -> Result<T>) -> Result<T> {
        if self.held.is_some() {
            return self.with_engine(|e| f(e.ledger()));
        }
        let _lock = self.lock()?;
        let ledger = self.open_db()?;
        f(&ledger)
    }

    /// Signs `body` as `signer` with the next nonce, seals it into a block and returns the
    /// transaction id, or the ledger's reason for rejecting it.
    pub fn submit(&self, signer: &KeyRef, key: &KeyPair, body: TxBody) -> Result<Hash32> {
        self.with_engine(|engine| {
            let ledger = engine.ledger();
            let nonce = next_nonce(ledger.state_value(&StateKey::Nonce(signer.did.to_string()))?)?;
            let tx = Transaction::sign(&ledger.chain_id(), signer.clone(), nonce, body, key);
            seal(engine, tx)
        })
    }

    /// Seals an already signed transaction (from the ledger service) into a block and returns its
    /// id, or the ledger's reason for rejecting it.
    pub fn submit_signed(&self, tx: Transaction) -> Result<Hash32> {
        self.with_engine(|engine| seal(engine, tx))
    }

    /// The validator key (it also keys the ledger service's TLS certificate).
    pub(crate) fn validator_key(&self) -> Result<KeyPair> {
        Ok(KeyPair::from_secret(SignatureSuite::Ed25519, &*self.validator_secret()?)?)
    }

    fn validator_secret(&self) -> Result<zeroize::Zeroizing<[u8; 32]>> {
        let s = read_secret(&self.path.join("validator.key"))?;
        Ok(zeroize::Zeroizing::new(
            s.as_slice().try_into().map_err(|_| Error::invalid("validator.key", "not 32 bytes"))?,
        ))
    }

    /// Resolves a DID document.
    pub fn resolve(&self, did: &Did) -> Result<DidDocument> {
        self.read(|l| Ok(l.resolve(did)?))
    }

    /// A state receipt (at the latest certified block).
    pub fn state_receipt(&self, key: &StateKey) -> Result<tessera_ledger::Receipt> {
        self.read(|l| Ok(l.state_receipt(key)?))
    }

    /// The current height.
    pub fn height(&self) -> Result<u64> {
        self.read(|l| Ok(l.tip().height))
    }
}

/// Seals one transaction on `engine` (whose lock the caller holds). A rejected transaction is
/// [`Error::Rejected`] but leaves the engine sound: only other errors release a held engine.
fn seal(engine: &mut SingleValidator, tx: Transaction) -> Result<Hash32> {
    let time = now_ms().max(engine.ledger().tip().time_ms + 1);
    let id = engine.submit(tx).map_err(|e| Error::Rejected(e.to_string()))?;
    let outcome = engine.seal(time)?.ok_or(Error::Rejected("nothing sealed".into()))?;
    if let Some((_, e)) = outcome.rejected.iter().find(|(r, _)| *r == id) {
        return Err(Error::Rejected(e.to_string()));
    }
    Ok(id)
}

/// Errors after which a held database is closed and reopened rather than trusted.
fn storage_fault(e: &Error) -> bool {
    use tessera_ledger::Error as L;
    match e {
        Error::Ledger(l) => matches!(
            l,
            L::Storage(_) | L::Io(_) | L::Unreadable { .. } | L::Corrupt(_) | L::DoubleSign { .. }
        ),
        Error::Io { .. } | Error::LedgerFile { .. } => true,
        _ => false,
    }
}

/// Releases a held ledger after [`HOLD_IDLE`] without a call; ends with the last clone.
fn release_idle(slot: &Weak<Mutex<Option<Held>>>) {
    loop {
        std::thread::sleep(HOLD_IDLE / 5);
        let Some(slot) = slot.upgrade() else { return };
        let mut g = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if g.as_ref().is_some_and(|h| h.last.elapsed() >= HOLD_IDLE) {
            *g = None;
        }
    }
}
