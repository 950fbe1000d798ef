//! The validator's signing record: what it signed last, kept in a file of its own.
//!
//! A validator must never certify two different blocks at one height, or two receipts that
//! contradict each other both verify. The ledger database cannot be the record: if it is deleted,
//! emptied or restored from an old copy, so is any record inside it. The guard therefore lives in
//! a separate small file, meant to sit next to the validator key (whoever holds the key should
//! hold its record), and is written and synced *before* a signature leaves the engine.
//!
//! The record is the last signed header, the consensus round it was signed in, and the
//! transactions it was built from. Signing at a lower (height, round), or a different block at
//! the same (height, round), is refused with [`Error::DoubleSign`]. Re-signing the *same* block
//! is allowed: after a crash between writing the record and committing the block, the engine
//! rebuilds the recorded block from its transactions (execution is deterministic) and commits
//! it, so a kill at any moment cannot wedge the ledger. The single-validator engine signs round
//! 0 only, so for it any second block at a height is refused. A Tendermint engine may sign
//! another block at the same height in a *later* round (after a round fails without a
//! decision); whether it may is its lock rule's decision, which this record does not replace.
//!
//! The file is created with the validator key ([`SignGuard::create`]) and never on open: a
//! missing record is [`Error::NoSigningRecord`], not "nothing signed yet", so deleting it along
//! with the database cannot reset it silently either.
//!
//! File: `TSGUARD2` ‖ u8 0 (nothing signed yet), or u8 1 ‖ header ‖ u32 round ‖ u32 count ‖
//! length-prefixed transactions; then SHA-256 of all before. (`TSGUARD1` files, written before
//! rounds were recorded, read as round 0.) It is replaced by write-to-temporary, fsync, rename,
//! so a crash leaves the old or the new record, never a torn one.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::block::BlockHeader;
use crate::codec::{Decode, Encode, MAX_TX_BYTES, Reader, Writer};
use crate::error::{Error, Result};
use crate::hash::{Hash32, LedgerHash};
use crate::tx::Transaction;

const MAGIC: &[u8; 8] = b"TSGUARD2";
/// The format before rounds were recorded: always a record, round 0.
const MAGIC_V1: &[u8; 8] = b"TSGUARD1";
/// Most transactions a recorded block may hold (bounds decoding of a damaged file).
const MAX_RECORDED_TXS: usize = 1 << 20;

/// The last block a validator signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedRecord {
    /// Its header (height, hash, parent, time).
    pub header: BlockHeader,
    /// The consensus round it was signed in (0 for the single-validator engine).
    pub round: u32,
    /// The transactions handed to block preparation, rejected ones included, so the same block
    /// can be rebuilt after a crash.
    pub txs: Vec<Transaction>,
}

/// A validator's persisted signing record; see the module documentation.
#[derive(Debug)]
pub struct SignGuard {
    path: PathBuf,
    last: Option<SignedRecord>,
}

impl SignGuard {
    /// Creates the empty record of a new validator key at `path` (durably, before the key is
    /// used). An existing file, even an empty one, is refused with [`Error::DatabaseExists`].
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        match std::fs::symlink_metadata(&path) {
            Ok(_) => return Err(Error::DatabaseExists(path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::Io(e)),
        }
        let me = Self { path, last: None };
        me.write(None)?;
        Ok(me)
    }

    /// Loads the record at `path`. A missing file is [`Error::NoSigningRecord`] (it is made
    /// only by [`SignGuard::create`]); a damaged one is [`Error::Unreadable`], never an empty
    /// record.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let last = match std::fs::read(&path) {
            Ok(bytes) => decode_record(&bytes).map_err(|e| Error::Unreadable {
                path: path.clone(),
                reason: format!("signing record: {e}"),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NoSigningRecord(path));
            }
            Err(e) => return Err(Error::Io(e)),
        };
        Ok(Self { path, last })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last signed block, if any.
    pub fn last(&self) -> Option<&SignedRecord> {
        self.last.as_ref()
    }

    /// [`SignGuard::record_round`] in round 0, the single-validator engine's only round.
    pub fn record(&mut self, header: &BlockHeader, txs: &[Transaction]) -> Result<()> {
        self.record_round(header, 0, txs)
    }

    /// Checks that signing `header` in `round` cannot equivocate, then persists it (with `txs`)
    /// before the caller signs. Fails with [`Error::DoubleSign`] for a (height, round) below the
    /// recorded one or another block at the recorded (height, round), and [`Error::WrongChain`]
    /// for a record of another chain; a refusal leaves the record as it was.
    pub fn record_round(
        &mut self,
        header: &BlockHeader,
        round: u32,
        txs: &[Transaction],
    ) -> Result<()> {
        if let Some(last) = &self.last {
            if last.header.chain_id != header.chain_id {
                return Err(Error::WrongChain);
            }
            let (h, r) = (last.header.height, last.round);
            let behind = (header.height, round) < (h, r);
            let other_block =
                (header.height, round) == (h, r) && header.hash() != last.header.hash();
            if behind || other_block {
                return Err(Error::DoubleSign { height: header.height, signed: h });
            }
        }
        let rec = SignedRecord { header: header.clone(), round, txs: txs.to_vec() };
        self.write(Some(&rec))?;
        self.last = Some(rec);
        Ok(())
    }

    fn write(&self, rec: Option<&SignedRecord>) -> Result<()> {
        let mut w = Writer::new();
        w.raw(MAGIC);
        match rec {
            None => w.u8(0),
            Some(rec) => {
                w.u8(1);
                rec.header.encode(&mut w);
                w.u32(rec.round);
                w.len(rec.txs.len());
                for tx in &rec.txs {
                    w.bytes(&tx.to_bytes());
                }
            }
        }
        let mut bytes = w.into_bytes();
        let sum = LedgerHash::Sha256.hash(&[&bytes]);
        bytes.extend_from_slice(&sum);
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        // The rename itself must be durable before the signature is released.
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

fn decode_record(bytes: &[u8]) -> Result<Option<SignedRecord>> {
    let (body, sum) = bytes.split_at_checked(bytes.len().saturating_sub(32)).unwrap_or((&[], &[]));
    let sum: Hash32 = sum.try_into().map_err(|_| Error::Malformed("signing record truncated"))?;
    if LedgerHash::Sha256.hash(&[body]) != sum {
        return Err(Error::Malformed("signing record checksum"));
    }
    let mut r = Reader::new(body);
    let magic = r.take(MAGIC.len())?;
    let v1 = magic == MAGIC_V1;
    if !v1 && magic != MAGIC {
        return Err(Error::Malformed("not a signing record"));
    }
    if !v1 {
        match r.u8()? {
            0 => {
                r.finish()?;
                return Ok(None);
            }
            1 => {}
            _ => return Err(Error::Malformed("signing record tag")),
        }
    }
    let header = BlockHeader::decode(&mut r)?;
    let round = if v1 { 0 } else { r.u32()? };
    let n = r.len(MAX_RECORDED_TXS)?;
    let mut txs = Vec::with_capacity(n);
    for _ in 0..n {
        txs.push(Transaction::from_bytes(&r.bytes(MAX_TX_BYTES)?)?);
    }
    r.finish()?;
    Ok(Some(SignedRecord { header, round, txs }))
}
