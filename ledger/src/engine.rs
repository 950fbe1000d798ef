//! Consensus engines. [`SingleValidator`] is the embedded default: it collects transactions,
//! seals a block when the pool reaches a size limit or an interval elapses, executes it, signs the
//! header as the only validator and commits. A BFT engine will implement the same [`Engine`] trait,
//! replacing the single signature with a 2f+1 certificate over the same header.

use crate::block::CommitCertificate;
use crate::codec::{Encode, MAX_TX_BYTES};
use crate::error::{Error, Result};
use crate::hash::Hash32;
use crate::keys::KeyPair;
use crate::ledger::Ledger;
use crate::tx::Transaction;

/// What sealing a block did.
#[derive(Debug)]
pub struct BlockOutcome {
    /// Height of the new block.
    pub height: u64,
    /// Its header hash.
    pub header_hash: Hash32,
    /// Ids of the transactions it holds.
    pub accepted: Vec<Hash32>,
    /// Transactions refused, with the reason.
    pub rejected: Vec<(Hash32, Error)>,
}

/// A consensus engine over a [`Ledger`].
pub trait Engine {
    /// Queues a transaction; returns its id.
    fn submit(&mut self, tx: Transaction) -> Result<Hash32>;
    /// Seals a block if one is due at `now_ms` (pool full or interval elapsed).
    fn poll(&mut self, now_ms: u64) -> Result<Option<BlockOutcome>>;
    /// Seals a block now if any transaction is pending.
    fn seal(&mut self, now_ms: u64) -> Result<Option<BlockOutcome>>;
    /// The ledger.
    fn ledger(&self) -> &Ledger;
}

/// When the single validator seals.
#[derive(Clone, Copy, Debug)]
pub struct EngineConfig {
    /// Most transactions in one block; a full pool seals at once.
    pub max_block_txs: usize,
    /// A non-empty pool is sealed once this long has passed since the last block.
    pub block_interval_ms: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self { max_block_txs: 2000, block_interval_ms: 200 }
    }
}

/// The embedded single-validator engine.
#[derive(Debug)]
pub struct SingleValidator {
    ledger: Ledger,
    key: KeyPair,
    config: EngineConfig,
    pool: Vec<Transaction>,
    last_seal_ms: u64,
}

impl SingleValidator {
    /// Runs `ledger` with the validator key `key`, which must be in the current validator set.
    pub fn new(ledger: Ledger, key: KeyPair, config: EngineConfig) -> Result<Self> {
        if config.max_block_txs == 0 {
            return Err(Error::Misuse("max_block_txs must be positive"));
        }
        let last_seal_ms = ledger.tip().time_ms;
        let me = Self { ledger, key, config, pool: Vec::new(), last_seal_ms };
        me.my_index()?;
        Ok(me)
    }

    fn my_index(&self) -> Result<u16> {
        let set = self.ledger.validator_set()?;
        let pk = self.key.public_key();
        let i = set
            .validators
            .iter()
            .position(|v| v.key == pk)
            .ok_or(Error::Misuse("engine key is not in the validator set"))?;
        if set.quorum() > 1 {
            return Err(Error::Misuse(
                "validator set needs more than one signature: use a BFT engine",
            ));
        }
        u16::try_from(i).map_err(|_| Error::Misuse("validator index"))
    }

    /// Transactions waiting.
    pub fn pending(&self) -> usize {
        self.pool.len()
    }

    /// Gives the ledger back.
    pub fn into_ledger(self) -> Ledger {
        self.ledger
    }
}

impl Engine for SingleValidator {
    fn submit(&mut self, tx: Transaction) -> Result<Hash32> {
        if tx.to_bytes().len() > MAX_TX_BYTES {
            return Err(Error::Malformed("transaction too large"));
        }
        let id = tx.id(self.ledger.hash_alg());
        self.pool.push(tx);
        Ok(id)
    }

    fn poll(&mut self, now_ms: u64) -> Result<Option<BlockOutcome>> {
        let due = self.pool.len() >= self.config.max_block_txs
            || (!self.pool.is_empty()
                && now_ms.saturating_sub(self.last_seal_ms) >= self.config.block_interval_ms);
        if due { self.seal(now_ms) } else { Ok(None) }
    }

    fn seal(&mut self, now_ms: u64) -> Result<Option<BlockOutcome>> {
        if self.pool.is_empty() {
            return Ok(None);
        }
        let index = self.my_index()?;
        let take = self.pool.len().min(self.config.max_block_txs);
        let txs: Vec<Transaction> = self.pool.drain(..take).collect();
        let mut prepared = self.ledger.prepare(txs, now_ms)?;
        let cert = CommitCertificate::sign_single(&prepared.header, index, &self.key);
        let accepted = prepared.tx_ids().to_vec();
        let rejected = core::mem::take(&mut prepared.rejected);
        let height = prepared.header.height;
        let header_hash = prepared.header.hash();
        let time = prepared.header.time_ms;
        self.ledger.commit(prepared, &cert)?;
        self.last_seal_ms = time;
        Ok(Some(BlockOutcome { height, header_hash, accepted, rejected }))
    }

    fn ledger(&self) -> &Ledger {
        &self.ledger
    }
}
