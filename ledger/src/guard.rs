//! The validator's signing record: what it signed last, kept in a file of its own.
//!
//! A validator must never certify two different blocks at one height, or two receipts that
//! contradict each other both verify. The ledger database cannot be the record: if it is deleted,
//! emptied or restored from an old copy, so is any record inside it. The guard therefore lives in
//! a separate small file, meant to sit next to the validator key (whoever holds the key should
//! hold its record), and is written and synced *before* a signature leaves the engine.
//!
//! The record is the last signed header with the transactions it was built from. Signing a
//! block at a lower height, or a different block at the same height, is refused with
//! [`Error::DoubleSign`]. Re-signing the *same* block is allowed: after a crash between writing
//! the record and committing the block, the engine rebuilds the recorded block from its
//! transactions (execution is deterministic) and commits it, so a kill at any moment cannot
//! wedge the ledger. Consensus rounds are not recorded: the single-validator engine has one
//! round per height; a BFT engine must add its round to this record.
//!
//! File: `TSGUARD1` ‖ header ‖ u32 count ‖ length-prefixed transactions ‖ SHA-256 of all
//! before. It is replaced by write-to-temporary, fsync, rename, so a crash leaves the old or the
//! new record, never a torn one.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::block::BlockHeader;
use crate::codec::{Decode, Encode, MAX_TX_BYTES, Reader, Writer};
use crate::error::{Error, Result};
use crate::hash::{Hash32, LedgerHash};
use crate::tx::Transaction;

const MAGIC: &[u8; 8] = b"TSGUARD1";
/// Most transactions a recorded block may hold (bounds decoding of a damaged file).
const MAX_RECORDED_TXS: usize = 1 << 20;

/// The last block a validator signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedRecord {
    /// Its header (height, hash, parent, time).
    pub header: BlockHeader,
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
    /// Loads the record at `path`; a missing file is an empty record (a validator that has
    /// signed nothing yet). A damaged file is an error, never an empty record.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let last = match std::fs::read(&path) {
            Ok(bytes) => Some(decode_record(&bytes).map_err(|e| Error::Unreadable {
                path: path.clone(),
                reason: format!("signing record: {e}"),
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
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

    /// Checks that signing `header` cannot equivocate, then persists it (with `txs`) before the
    /// caller signs. Fails with [`Error::DoubleSign`] for a lower height or another block at the
    /// recorded height, and [`Error::WrongChain`] for a record of another chain.
    pub fn record(&mut self, header: &BlockHeader, txs: &[Transaction]) -> Result<()> {
        if let Some(last) = &self.last {
            if last.header.chain_id != header.chain_id {
                return Err(Error::WrongChain);
            }
            let h = last.header.height;
            if header.height < h || (header.height == h && header.hash() != last.header.hash()) {
                return Err(Error::DoubleSign { height: header.height, signed: h });
            }
        }
        let rec = SignedRecord { header: header.clone(), txs: txs.to_vec() };
        self.write(&rec)?;
        self.last = Some(rec);
        Ok(())
    }

    fn write(&self, rec: &SignedRecord) -> Result<()> {
        let mut w = Writer::new();
        w.raw(MAGIC);
        rec.header.encode(&mut w);
        w.len(rec.txs.len());
        for tx in &rec.txs {
            w.bytes(&tx.to_bytes());
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

fn decode_record(bytes: &[u8]) -> Result<SignedRecord> {
    let (body, sum) = bytes.split_at_checked(bytes.len().saturating_sub(32)).unwrap_or((&[], &[]));
    let sum: Hash32 = sum.try_into().map_err(|_| Error::Malformed("signing record truncated"))?;
    if LedgerHash::Sha256.hash(&[body]) != sum {
        return Err(Error::Malformed("signing record checksum"));
    }
    let mut r = Reader::new(body);
    if r.take(MAGIC.len())? != MAGIC {
        return Err(Error::Malformed("not a signing record"));
    }
    let header = BlockHeader::decode(&mut r)?;
    let n = r.len(MAX_RECORDED_TXS)?;
    let mut txs = Vec::with_capacity(n);
    for _ in 0..n {
        txs.push(Transaction::from_bytes(&r.bytes(MAX_TX_BYTES)?)?);
    }
    r.finish()?;
    Ok(SignedRecord { header, txs })
}
