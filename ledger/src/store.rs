//! The `redb` schema: one file, one ACID write transaction per block.
//!
//! A block's header, certificate, transaction list, transactions, state values and new tree nodes
//! are written in a single transaction with immediate durability, so a crash leaves either the
//! whole block or none of it. Tree nodes are content-addressed; nodes the new root no longer
//! references are deleted in the same transaction, so the file holds the live tree only and state
//! proofs are served for the latest block (receipts already issued stay valid: they carry their
//! own proof).

use crate::codec::Decode;
use crate::error::{Error, Result, StorageExt};
use crate::exec::StateRead;
use crate::hash::Hash32;
use crate::smt::{Node, NodeSource};
use redb::{ReadOnlyTable, TableDefinition};

pub(crate) const META: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("meta");
pub(crate) const HEADERS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("headers");
pub(crate) const CERTS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("certificates");
/// Height → concatenated transaction ids of that block.
pub(crate) const BLOCK_TXS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("block_txs");
/// Transaction id → height (8) ‖ index (4) ‖ transaction bytes.
pub(crate) const TXS: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("txs");
/// Raw state key → value (latest state).
pub(crate) const STATE: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("state");
/// Node hash → encoded tree node.
pub(crate) const NODES: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("nodes");

pub(crate) const META_GENESIS: &str = "genesis";
pub(crate) const META_TIP: &str = "tip";

/// The database handle, whose destructor runs behind a panic boundary: `redb` flushes its
/// allocator state on drop and may panic on a damaged file, which would crash the node (or abort
/// it, if the drop happens while unwinding from an earlier such panic).
pub(crate) struct Db(Option<redb::Database>);

impl Db {
    pub(crate) fn new(db: redb::Database) -> Self {
        Self(Some(db))
    }
}

impl core::ops::Deref for Db {
    type Target = redb::Database;
    fn deref(&self) -> &redb::Database {
        // `None` only inside `drop`, after which no one can reach the handle.
        self.0.as_ref().unwrap_or_else(|| unreachable!("database handle used after drop"))
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some(db) = self.0.take() {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(db)));
        }
    }
}

/// Read-only view of the state and tree at one snapshot.
pub(crate) struct Snapshot {
    pub(crate) state: ReadOnlyTable<&'static [u8], &'static [u8]>,
    pub(crate) nodes: ReadOnlyTable<&'static [u8], &'static [u8]>,
}

impl Snapshot {
    pub(crate) fn open(db: &redb::Database) -> Result<Self> {
        use redb::ReadableDatabase as _;
        let rt = db.begin_read().storage()?;
        Ok(Self { state: rt.open_table(STATE).storage()?, nodes: rt.open_table(NODES).storage()? })
    }
}

impl StateRead for Snapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.state.get(key).storage()?.map(|g| g.value().to_vec()))
    }
}

impl NodeSource for Snapshot {
    fn node(&self, hash: &Hash32) -> Result<Option<Node>> {
        match self.nodes.get(hash.as_slice()).storage()? {
            None => Ok(None),
            Some(g) => {
                Node::from_bytes(g.value()).map(Some).map_err(|_| Error::Corrupt("tree node"))
            }
        }
    }
}
