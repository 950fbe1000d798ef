//! The audit index: one `redb` table, written in the same transaction as the block it indexes,
//! so it can never disagree with the blocks (a crash leaves both or neither).
//!
//! Keys are a one-byte kind, length-prefixed identifiers and, for per-transaction entries, the
//! transaction's position (height ‖ index, big-endian), so a prefix range scan returns the
//! entries of one DID, data set, program or grant in chain order:
//!
//! | kind | key after the kind | value |
//! | --- | --- | --- |
//! | `d` | DID string, position | tx id ‖ roles (submitter, participant, grantee, subject) |
//! | `s` | data set, position | tx id |
//! | `p` | program hash (32 bytes), position | tx id |
//! | `g` | data set, grant, position | tx id (the grant, its revocation, the jobs that used it) |
//! | `G` | data set, grant | position ‖ tx id of the grant |
//! | `o` | owner DID string, data set | position ‖ tx id of the registration |
//! | `j` | job id | position ‖ tx id of the commitment |
//! | `t` | block time (8), height (8) | empty |
//!
//! A database written before the index existed has no version mark in its meta table; opening it
//! rebuilds the index from the stored blocks once ([`ensure`]).

use crate::block::BlockHeader;
use crate::codec::{Decode, Reader};
use crate::did::Did;
use crate::error::{Error, Result, StorageExt};
use crate::hash::{Hash32, LedgerHash};
use crate::store::{BLOCK_TXS, HEADERS, META, META_TIP, TXS};
use crate::tx::{Transaction, TxBody};
use redb::{ReadableDatabase as _, ReadableTable as _, TableDefinition};

/// The index table.
pub(crate) const AUDIT: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("audit_index");
/// Meta key holding the index format version.
const META_AUDIT: &str = "audit_index_version";
/// Current index format; a different or missing mark triggers a rebuild.
const VERSION: &[u8] = &[1];

pub(crate) const KIND_DID: u8 = b'd';
pub(crate) const KIND_DATASET: u8 = b's';
pub(crate) const KIND_PROGRAM: u8 = b'p';
pub(crate) const KIND_GRANT_USE: u8 = b'g';
pub(crate) const KIND_GRANT: u8 = b'G';
pub(crate) const KIND_OWNER: u8 = b'o';
pub(crate) const KIND_JOB: u8 = b'j';
pub(crate) const KIND_TIME: u8 = b't';

/// The DID signed the transaction.
pub const ROLE_SUBMITTER: u8 = 1;
/// The DID is a participant of the computation the transaction commits.
pub const ROLE_PARTICIPANT: u8 = 2;
/// The DID is a grantee of the grant the transaction creates.
pub const ROLE_GRANTEE: u8 = 4;
/// The transaction is about the DID itself (its document, or its supervisor role).
pub const ROLE_SUBJECT: u8 = 8;

/// Where a transaction sits: block height and index inside the block. Orders as the chain does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// Block height.
    pub height: u64,
    /// Index in the block.
    pub index: u32,
}

impl Pos {
    pub(crate) fn to_bytes(self) -> [u8; 12] {
        let mut out = [0u8; 12];
        out[..8].copy_from_slice(&self.height.to_be_bytes());
        out[8..].copy_from_slice(&self.index.to_be_bytes());
        out
    }

    pub(crate) fn from_bytes(b: &[u8]) -> Result<Self> {
        let mut r = Reader::new(b);
        let p = Self { height: r.u64()?, index: r.u32()? };
        r.finish()?;
        Ok(p)
    }
}

/// What a transaction touches, for the index and for checking that an answer's transaction
/// belongs to the query (one definition serves both, so they cannot drift apart).
#[derive(Debug, Default)]
pub(crate) struct Touches {
    /// DIDs with their role bits, each DID once.
    pub(crate) dids: Vec<(Did, u8)>,
    pub(crate) datasets: Vec<String>,
    pub(crate) programs: Vec<Hash32>,
    /// (data set, grant) pairs the transaction creates, revokes or uses.
    pub(crate) grants: Vec<(String, String)>,
    /// The grant it creates.
    pub(crate) new_grant: Option<(String, String)>,
    /// The data set it registers (the owner is the signer).
    pub(crate) registers: Option<String>,
    /// The job it commits.
    pub(crate) job: Option<String>,
}

impl Touches {
    fn did(&mut self, d: &Did, role: u8) {
        match self.dids.iter_mut().find(|(x, _)| x == d) {
            Some((_, r)) => *r |= role,
            None => self.dids.push((d.clone(), role)),
        }
    }

    fn dataset(&mut self, ds: &str) {
        if !self.datasets.iter().any(|x| x == ds) {
            self.datasets.push(ds.to_owned());
        }
    }

    fn grant(&mut self, ds: &str, g: &str) {
        if !self.grants.iter().any(|(a, b)| a == ds && b == g) {
            self.grants.push((ds.to_owned(), g.to_owned()));
        }
    }

    /// The roles of `did` in the transaction (0: not involved).
    pub(crate) fn roles_of(&self, did: &Did) -> u8 {
        self.dids.iter().find(|(d, _)| d == did).map_or(0, |(_, r)| *r)
    }
}

/// What `tx` touches.
pub(crate) fn touches(tx: &Transaction) -> Touches {
    let mut t = Touches::default();
    t.did(&tx.signer.did, ROLE_SUBMITTER);
    match &tx.body {
        TxBody::CreateDid(d) | TxBody::UpdateDid { document: d, .. } => {
            t.did(&d.did(), ROLE_SUBJECT);
        }
        TxBody::DeactivateDid { id, .. } => t.did(&Did::Tessera(id.clone()), ROLE_SUBJECT),
        TxBody::RegisterDataSet { id, .. } => {
            t.dataset(id);
            t.registers = Some(id.clone());
        }
        TxBody::Grant { dataset, grant, program_hash, grantees, .. } => {
            for g in grantees {
                t.did(g, ROLE_GRANTEE);
            }
            t.dataset(dataset);
            t.programs.push(*program_hash);
            t.grant(dataset, grant);
            t.new_grant = Some((dataset.clone(), grant.clone()));
        }
        TxBody::Revoke { dataset, grant } => {
            t.dataset(dataset);
            t.grant(dataset, grant);
        }
        TxBody::Commit(c) => {
            for p in &c.participants {
                t.did(p, ROLE_PARTICIPANT);
            }
            for i in &c.inputs {
                t.dataset(&i.dataset);
                t.grant(&i.dataset, &i.grant);
            }
            t.programs.push(c.program_hash);
            t.job = Some(c.job_id.clone());
        }
        TxBody::RecoveryBackup(b) => {
            t.did(&Did::Tessera(b.did.clone()), ROLE_SUBJECT);
        }
        TxBody::CreateDids(regs) => {
            // Up to MAX_DID_BATCH subjects: a set, not `Touches::did`'s linear search.
            let mut seen = std::collections::HashSet::new();
            for r in regs {
                let d = r.document.did();
                if d == tx.signer.did {
                    t.did(&d, ROLE_SUBJECT);
                } else if seen.insert(d.clone()) {
                    t.dids.push((d, ROLE_SUBJECT));
                }
            }
        }
        TxBody::Governance { action, .. } => match action {
            crate::tx::GovAction::AddSupervisor(d) | crate::tx::GovAction::RemoveSupervisor(d) => {
                t.did(d, ROLE_SUBJECT);
            }
            _ => {}
        },
    }
    t
}

/// Appends a length-prefixed identifier.
fn part(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&u16::try_from(s.len()).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(s);
}

/// The key prefix of `kind` and identifiers `parts`.
pub(crate) fn prefix(kind: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![kind];
    for p in parts {
        part(&mut out, p);
    }
    out
}

/// The prefix of a program's entries (a fixed-size hash needs no length).
pub(crate) fn program_prefix(program: &Hash32) -> Vec<u8> {
    let mut out = vec![KIND_PROGRAM];
    out.extend_from_slice(program);
    out
}

pub(crate) fn time_key(time_ms: u64, height: u64) -> Vec<u8> {
    let mut out = vec![KIND_TIME];
    out.extend_from_slice(&time_ms.to_be_bytes());
    out.extend_from_slice(&height.to_be_bytes());
    out
}

fn with_pos(mut prefix: Vec<u8>, pos: Pos) -> Vec<u8> {
    prefix.extend_from_slice(&pos.to_bytes());
    prefix
}

fn pos_id(pos: Pos, id: &Hash32) -> Vec<u8> {
    let mut v = pos.to_bytes().to_vec();
    v.extend_from_slice(id);
    v
}

/// Indexes a block in the write transaction that stores it.
pub(crate) fn index_block(
    wt: &redb::WriteTransaction,
    header: &BlockHeader,
    ids: &[Hash32],
    txs: &[Transaction],
) -> Result<()> {
    let mut t = wt.open_table(AUDIT).storage()?;
    t.insert(time_key(header.time_ms, header.height).as_slice(), [].as_slice()).storage()?;
    for (i, (id, tx)) in ids.iter().zip(txs).enumerate() {
        let pos = Pos { height: header.height, index: u32::try_from(i).unwrap_or(u32::MAX) };
        let tc = touches(tx);
        for (did, roles) in &tc.dids {
            let key = with_pos(prefix(KIND_DID, &[did.to_string().as_bytes()]), pos);
            let mut v = id.to_vec();
            v.push(*roles);
            t.insert(key.as_slice(), v.as_slice()).storage()?;
        }
        for ds in &tc.datasets {
            let key = with_pos(prefix(KIND_DATASET, &[ds.as_bytes()]), pos);
            t.insert(key.as_slice(), id.as_slice()).storage()?;
        }
        for p in &tc.programs {
            t.insert(with_pos(program_prefix(p), pos).as_slice(), id.as_slice()).storage()?;
        }
        for (ds, g) in &tc.grants {
            let key = with_pos(prefix(KIND_GRANT_USE, &[ds.as_bytes(), g.as_bytes()]), pos);
            t.insert(key.as_slice(), id.as_slice()).storage()?;
        }
        if let Some((ds, g)) = &tc.new_grant {
            let key = prefix(KIND_GRANT, &[ds.as_bytes(), g.as_bytes()]);
            t.insert(key.as_slice(), pos_id(pos, id).as_slice()).storage()?;
        }
        if let Some(ds) = &tc.registers {
            let key = prefix(KIND_OWNER, &[tx.signer.did.to_string().as_bytes(), ds.as_bytes()]);
            t.insert(key.as_slice(), pos_id(pos, id).as_slice()).storage()?;
        }
        if let Some(job) = &tc.job {
            let key = prefix(KIND_JOB, &[job.as_bytes()]);
            t.insert(key.as_slice(), pos_id(pos, id).as_slice()).storage()?;
        }
    }
    Ok(())
}

/// Marks the index as current (a new database, or after a rebuild).
pub(crate) fn mark_current(wt: &redb::WriteTransaction) -> Result<()> {
    wt.open_table(AUDIT).storage()?;
    wt.open_table(META).storage()?.insert(META_AUDIT, VERSION).storage()?;
    Ok(())
}

/// Builds the index of a database written before it existed (or by another index version):
/// every stored block is indexed again in one write transaction. Linear in the chain; done once.
pub(crate) fn ensure(db: &redb::Database, hash: LedgerHash) -> Result<()> {
    {
        let rt = db.begin_read().storage()?;
        let meta = rt.open_table(META).storage()?;
        if meta.get(META_AUDIT).storage()?.is_some_and(|v| v.value() == VERSION) {
            return Ok(());
        }
    }
    let wt = db.begin_write().storage()?;
    {
        // A stale index of another version is dropped whole (a missing table is fine).
        let _ = wt.delete_table(AUDIT);
        let tip = {
            let meta = wt.open_table(META).storage()?;
            let v = meta.get(META_TIP).storage()?.ok_or(Error::Corrupt("no tip"))?;
            u64::from_be_bytes(v.value().try_into().map_err(|_| Error::Corrupt("tip"))?)
        };
        let headers = wt.open_table(HEADERS).storage()?;
        let lists = wt.open_table(BLOCK_TXS).storage()?;
        let txs_t = wt.open_table(TXS).storage()?;
        for height in 0..=tip {
            let header = headers.get(height).storage()?.ok_or(Error::Corrupt("header gap"))?;
            let header = BlockHeader::from_bytes(header.value())?;
            let ids: Vec<Hash32> = match lists.get(height).storage()? {
                Some(g) => g
                    .value()
                    .chunks_exact(32)
                    .map(|c| c.try_into().map_err(|_| Error::Corrupt("block tx list")))
                    .collect::<Result<_>>()?,
                None => Vec::new(),
            };
            let mut txs = Vec::with_capacity(ids.len());
            for id in &ids {
                let rec =
                    txs_t.get(id.as_slice()).storage()?.ok_or(Error::Corrupt("tx missing"))?;
                let bytes = rec.value().get(12..).ok_or(Error::Corrupt("tx entry"))?;
                let tx = Transaction::from_bytes(bytes)?;
                if tx.id(hash) != *id {
                    return Err(Error::Corrupt("stored transaction does not match its id"));
                }
                txs.push(tx);
            }
            index_block(&wt, &header, &ids, &txs)?;
        }
    }
    mark_current(&wt)?;
    wt.commit().storage()?;
    Ok(())
}
