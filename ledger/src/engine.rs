//! Consensus engines. [`SingleValidator`] is the embedded default: it collects transactions,
//! seals a block when the pool reaches a size limit or an interval elapses, executes it, signs the
//! header as the only validator and commits. A BFT engine will implement the same [`Engine`] trait,
//! replacing the single signature with a 2f+1 certificate over the same header.

use crate::block::CommitCertificate;
use crate::codec::{Encode, MAX_TX_BYTES};
use crate::error::{Error, Result};
use crate::guard::SignGuard;
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
    guard: SignGuard,
    config: EngineConfig,
    pool: Vec<Transaction>,
    last_seal_ms: u64,
}

impl SingleValidator {
    /// Runs `ledger` with the validator key `key`, which must be in the current validator set,
    /// and that key's signing record `guard` (see [`SignGuard`]).
    ///
    /// The record is reconciled with the ledger first: a block recorded but not committed (a
    /// crash in between) is rebuilt and committed; a ledger behind the record or holding another
    /// block at a recorded height (re-created or restored from an old copy) is refused with
    /// [`Error::DoubleSign`]. An empty record starts from the ledger's tip.
    pub fn new(
        ledger: Ledger,
        key: KeyPair,
        guard: SignGuard,
        config: EngineConfig,
    ) -> Result<Self> {
        if config.max_block_txs == 0 {
            return Err(Error::Misuse("max_block_txs must be positive"));
        }
        let last_seal_ms = ledger.tip().time_ms;
        let mut me = Self { ledger, key, guard, config, pool: Vec::new(), last_seal_ms };
        me.my_index()?;
        if me.guard.last().is_none() {
            // This key certified the tip (or it is genesis): record it, so the record guards a
            // ledger from its first use by an engine even if nothing is sealed yet.
            let tip = me.ledger.tip().clone();
            me.guard.record(&tip, &[])?;
        }
        me.reconcile()?;
        Ok(me)
    }

    /// Brings the ledger up to the signing record, or refuses one that contradicts it.
    fn reconcile(&mut self) -> Result<()> {
        let Some(last) = self.guard.last() else { return Ok(()) };
        let tip = self.ledger.tip();
        if last.header.chain_id != tip.chain_id {
            return Err(Error::WrongChain);
        }
        let signed = last.header.height;
        if signed <= tip.height {
            let stored = self.ledger.header(signed)?.ok_or(Error::Corrupt("header missing"))?;
            return if stored.hash() == last.header.hash() {
                Ok(())
            } else {
                Err(Error::DoubleSign { height: signed, signed })
            };
        }
        if signed != tip.height + 1 || last.header.prev_hash != tip.hash() {
            return Err(Error::DoubleSign { height: tip.height + 1, signed });
        }
        // Signed but not committed: rebuild the same block and commit it.
        let want = last.header.clone();
        let prepared = self.ledger.prepare(last.txs.clone(), want.time_ms)?;
        if prepared.header != want {
            return Err(Error::DoubleSign { height: want.height, signed });
        }
        let cert = CommitCertificate::sign_single(&prepared.header, self.my_index()?, &self.key);
        self.ledger.commit(prepared, &cert)?;
        self.last_seal_ms = want.time_ms;
        Ok(())
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
        // A block recorded by a seal whose commit failed goes first.
        self.reconcile()?;
        let index = self.my_index()?;
        let take = self.pool.len().min(self.config.max_block_txs);
        let txs: Vec<Transaction> = self.pool.drain(..take).collect();
        let mut prepared = self.ledger.prepare(txs.clone(), now_ms)?;
        // The record is durable before the signature exists.
        self.guard.record(&prepared.header, &txs)?;
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
