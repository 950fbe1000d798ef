//! The ledger: a `redb` file holding certified blocks and the authenticated state, with block
//! preparation (execute transactions, compute roots), commitment (check the certificate, write the
//! block atomically), queries and receipts.

use crate::block::{BlockHeader, CommitCertificate, HEADER_VERSION, ValidatorSet};
use crate::codec::{Decode, Encode};
use crate::did::{Did, DidDocument, KeyRef};
use crate::error::{Error, Result, StorageExt};
use crate::exec::{Executor, SigJob, StateRead, sig_memo};
use crate::genesis::Genesis;
use crate::hash::{Hash32, LedgerHash};
use crate::keys::{ParsedKey, PublicKey};
use crate::merkle;
use crate::receipt::{Receipt, ReceiptEntry, ReceiptProof};
use crate::smt::{self, EMPTY_ROOT, Node};
use crate::state::{GovernanceState, StateKey};
use crate::store::{
    BLOCK_TXS, CERTS, Db, HEADERS, META, META_GENESIS, META_TIP, NODES, STATE, Snapshot, TXS,
};
use crate::tx::Transaction;
use redb::{Database, ReadableDatabase as _, ReadableTable as _, ReadableTableMetadata as _};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// A block executed but not yet committed: the header to certify and what to write.
#[derive(Debug)]
pub struct PreparedBlock {
    /// Header to be signed by the validators.
    pub header: BlockHeader,
    /// Transactions that executed successfully, in block order.
    pub txs: Vec<Transaction>,
    /// Transactions refused, with the reason.
    pub rejected: Vec<(Hash32, Error)>,
    tx_ids: Vec<Hash32>,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    nodes: Vec<(Hash32, Node)>,
    stale: Vec<Hash32>,
}

impl PreparedBlock {
    /// Ids of the accepted transactions, in block order.
    pub fn tx_ids(&self) -> &[Hash32] {
        &self.tx_ids
    }
}

/// A permissioned ledger stored in one `redb` file.
pub struct Ledger {
    pub(crate) db: Db,
    pub(crate) path: std::path::PathBuf,
    genesis: Genesis,
    chain_id: Hash32,
    pub(crate) tip: BlockHeader,
}

impl core::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ledger")
            .field("chain", &self.genesis.chain_name)
            .field("tip", &self.tip.height)
            .finish()
    }
}

impl Ledger {
    /// Creates the ledger file at `path` from `genesis`. This is the only way a database comes
    /// into being: [`Ledger::open`] never creates one, so a deleted or emptied file cannot
    /// silently restart the chain (and have its validator certify a second block 1). Any
    /// existing file, even an empty one, is refused.
    pub fn create(path: impl AsRef<Path>, genesis: &Genesis) -> Result<Self> {
        let path = path.as_ref();
        genesis.validate()?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::DatabaseExists(path.to_path_buf()),
            _ => Error::Io(e),
        })?;
        let made = (|| {
            let db = Db::new(redb::Builder::new().create_file(file).storage()?);
            let wt = db.begin_write().storage()?;
            {
                let mut meta = wt.open_table(META).storage()?;
                for t in [HEADERS, CERTS, BLOCK_TXS] {
                    wt.open_table(t).storage()?;
                }
                for t in [TXS, STATE, NODES] {
                    wt.open_table(t).storage()?;
                }
                meta.insert(META_GENESIS, genesis.to_bytes().as_slice()).storage()?;
            }
            crate::audit::index::mark_current(&wt)?;
            Self::write_genesis(&wt, genesis)?;
            wt.commit().storage()?;
            let tip = Self::read_tip(&db)?;
            Ok(Self {
                db,
                path: path.to_path_buf(),
                chain_id: genesis.chain_id(),
                genesis: genesis.clone(),
                tip,
            })
        })();
        if made.is_err() {
            // A half-written file would make every later open and create fail; nothing in it
            // has been certified, so it is safe to remove.
            let _ = std::fs::remove_file(path);
        }
        made
    }

    /// Opens the existing ledger at `path`, which must have been created from `genesis`. A
    /// missing file is [`Error::NoDatabase`]; an unreadable one is [`Error::Unreadable`].
    pub fn open(path: impl AsRef<Path>, genesis: &Genesis) -> Result<Self> {
        genesis.validate()?;
        let me = Self::open_existing(path)?;
        if me.genesis != *genesis {
            return Err(Error::InvalidGenesis("database was created from another genesis".into()));
        }
        Ok(me)
    }

    /// Opens an existing ledger file, reading its genesis from the file. Errors as
    /// [`Ledger::open`].
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NoDatabase(path.to_path_buf()));
            }
            Err(e) => return Err(Error::Io(e)),
            Ok(m) if m.len() == 0 => return Err(unreadable(path, "empty file")),
            Ok(_) => {}
        }
        catch_storage_panic(path, || {
            let db = Db::new(Database::open(path).storage()?);
            let genesis = {
                let rt = db.begin_read().storage()?;
                let meta = rt.open_table(META).storage()?;
                let g = meta.get(META_GENESIS).storage()?.ok_or(Error::Corrupt("no genesis"))?;
                Genesis::from_bytes(g.value())?
            };
            let tip = Self::read_tip(&db)?;
            // A database written before the audit index existed gets it built once, here.
            crate::audit::index::ensure(&db, genesis.hash)?;
            Ok(Self { db, path: path.to_path_buf(), chain_id: genesis.chain_id(), genesis, tip })
        })
        .map_err(|e| match e {
            // Not the file's fault: the OS refused it, or another process holds it. (redb
            // reports a bad magic number or a short file as I/O errors of these two kinds.)
            Error::Storage(redb::Error::Io(ref io))
                if !matches!(
                    io.kind(),
                    std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
                ) =>
            {
                e
            }
            Error::Io(_)
            | Error::Storage(redb::Error::DatabaseAlreadyOpen)
            | Error::Unreadable { .. } => e,
            other => unreadable(path, other),
        })
    }

    fn write_genesis(wt: &redb::WriteTransaction, g: &Genesis) -> Result<()> {
        let h = g.hash;
        let mut writes: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        let gs = GovernanceState {
            admin_threshold: g.admin_threshold,
            seq: 0,
            orgs: g.orgs.iter().map(|o| o.name.clone()).collect(),
        };
        writes.insert(StateKey::Governance.to_bytes(), Some(gs.to_bytes()));
        writes.insert(StateKey::Validators.to_bytes(), Some(g.validators.to_bytes()));
        for o in &g.orgs {
            writes.insert(StateKey::Org(o.name.clone()).to_bytes(), Some(o.to_bytes()));
        }
        if !g.supervisors.is_empty() {
            let s = crate::state::Supervisors(g.supervisors.clone());
            writes.insert(StateKey::Supervisors.to_bytes(), Some(s.to_bytes()));
        }
        let nodes_src: std::collections::HashMap<Hash32, Node> = std::collections::HashMap::new();
        let up = smt::update(h, &nodes_src, EMPTY_ROOT, &tree_updates(h, &writes))?;
        let (root, nodes) = (up.root, up.new_nodes);
        let header = BlockHeader {
            version: HEADER_VERSION,
            chain_id: g.chain_id(),
            height: 0,
            prev_hash: [0; 32],
            tx_root: merkle::root(h, &[]),
            tx_count: 0,
            state_root: root,
            time_ms: g.time_ms,
            hash_alg: h,
            validator_set_hash: g.validators.hash(h),
        };
        write_block(
            wt,
            BlockWrite {
                header: &header,
                cert: None,
                ids: &[],
                txs: &[],
                writes: &writes,
                nodes: &nodes,
                stale: &[],
            },
        )
    }

    fn read_tip(db: &Database) -> Result<BlockHeader> {
        let rt = db.begin_read().storage()?;
        let meta = rt.open_table(META).storage()?;
        let tip = meta.get(META_TIP).storage()?.ok_or(Error::Corrupt("no tip"))?;
        let height = u64::from_be_bytes(tip.value().try_into().map_err(|_| Error::Corrupt("tip"))?);
        let headers = rt.open_table(HEADERS).storage()?;
        let h = headers.get(height).storage()?.ok_or(Error::Corrupt("tip header missing"))?;
        BlockHeader::from_bytes(h.value())
    }

    /// The genesis this ledger was created from.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The chain id every signature covers.
    pub fn chain_id(&self) -> Hash32 {
        self.chain_id
    }

    /// The ledger hash.
    pub fn hash_alg(&self) -> LedgerHash {
        self.genesis.hash
    }

    /// The latest committed header.
    pub fn tip(&self) -> &BlockHeader {
        &self.tip
    }

    fn get<T: Decode>(&self, key: &StateKey) -> Result<Option<T>> {
        catch_storage_panic(&self.path, || {
            let snap = Snapshot::open(&self.db)?;
            match snap.get(&key.to_bytes())? {
                None => Ok(None),
                Some(b) => T::from_bytes(&b).map(Some),
            }
        })
    }

    /// Raw state value.
    pub fn state_value(&self, key: &StateKey) -> Result<Option<Vec<u8>>> {
        catch_storage_panic(&self.path, || Snapshot::open(&self.db)?.get(&key.to_bytes()))
    }

    /// Raw state value under raw key bytes (for checking receipts against the database).
    pub fn raw_state_value(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        catch_storage_panic(&self.path, || Snapshot::open(&self.db)?.get(key))
    }

    /// The validator set that certifies the next block.
    pub fn validator_set(&self) -> Result<ValidatorSet> {
        self.get(&StateKey::Validators)?.ok_or(Error::Corrupt("validator set missing"))
    }

    /// Resolves a `did:tessera` document (deactivated documents resolve with the flag set). A
    /// `did:key` has no stored document: its key is the identifier (see [`Ledger::resolve_key`]).
    pub fn resolve(&self, did: &Did) -> Result<DidDocument> {
        match did {
            Did::Tessera(id) => self
                .get(&StateKey::Did(id.clone()))?
                .ok_or_else(|| Error::UnknownDid(did.to_string())),
            Did::Key(_) => Err(Error::InvalidDid("did:key has no stored document".into())),
        }
    }

    /// Resolves a key reference to the public key that may sign for it now: the `did:key` key
    /// itself, or the named method of an active `did:tessera` document.
    pub fn resolve_key(&self, kref: &KeyRef) -> Result<PublicKey> {
        match &kref.did {
            Did::Key(pk) => Ok(*pk),
            Did::Tessera(_) => {
                let doc = self.resolve(&kref.did)?;
                if doc.deactivated {
                    return Err(Error::DidDeactivated(kref.did.to_string()));
                }
                doc.method(&kref.method)
                    .copied()
                    .ok_or_else(|| Error::UnknownDid(format!("{}#{}", kref.did, kref.method)))
            }
        }
    }

    /// Decodes a typed state entry.
    pub fn state<T: Decode>(&self, key: &StateKey) -> Result<Option<T>> {
        self.get(key)
    }

    /// Executes `txs` on top of the tip at block time `time_ms` (raised to the tip's time if
    /// lower), without writing. Failed transactions are listed in `rejected`.
    pub fn prepare(&self, txs: Vec<Transaction>, time_ms: u64) -> Result<PreparedBlock> {
        catch_storage_panic(&self.path, || {
            let h = self.hash_alg();
            let snap = Snapshot::open(&self.db)?;
            let height = self.tip.height + 1;
            let time_ms = time_ms.max(self.tip.time_ms);
            let validator_set: ValidatorSet = snap
                .get(&StateKey::Validators.to_bytes())?
                .map(|b| ValidatorSet::from_bytes(&b))
                .transpose()?
                .ok_or(Error::Corrupt("validator set missing"))?;
            // Signatures resolvable from committed state are checked on worker threads while this
            // thread executes optimistically (see `exec`).
            let jobs: Vec<SigJob> = {
                let pre = Executor::new(self.chain_id, height, time_ms, &snap);
                txs.iter().flat_map(|t| pre.sig_jobs(t)).collect()
            };
            let (verified, mut ex, mut results) = std::thread::scope(|scope| {
                let worker = scope.spawn(|| verify_parallel(&jobs));
                let mut ex = Executor::new(self.chain_id, height, time_ms, &snap);
                ex.set_optimistic();
                let results: Vec<Result<()>> = txs.iter().map(|tx| ex.apply(tx)).collect();
                // A panicked worker verified nothing: the strict re-run below checks everything.
                let verified: HashSet<Hash32> =
                    worker.join().unwrap_or_default().into_iter().collect();
                (verified, ex, results)
            });
            if !ex.take_assumed().iter().all(|m| verified.contains(m)) {
                ex = Executor::new(self.chain_id, height, time_ms, &snap);
                ex.add_verified(verified);
                results = txs.iter().map(|tx| ex.apply(tx)).collect();
            }
            let mut accepted = Vec::with_capacity(txs.len());
            let mut ids = Vec::with_capacity(txs.len());
            let mut rejected = Vec::new();
            for (tx, r) in txs.into_iter().zip(results) {
                let id = tx.id(h);
                match r {
                    Ok(()) => {
                        ids.push(id);
                        accepted.push(tx);
                    }
                    Err(e) => rejected.push((id, e)),
                }
            }
            let writes = ex.into_writes();
            let up = smt::update(h, &snap, self.tip.state_root, &tree_updates(h, &writes))?;
            let (state_root, nodes, stale) = (up.root, up.new_nodes, up.stale);
            let header = BlockHeader {
                version: HEADER_VERSION,
                chain_id: self.chain_id,
                height,
                prev_hash: self.tip.hash(),
                tx_root: merkle::root(h, &ids),
                tx_count: u32::try_from(ids.len()).map_err(|_| Error::Misuse("block too large"))?,
                state_root,
                time_ms,
                hash_alg: h,
                validator_set_hash: validator_set.hash(h),
            };
            Ok(PreparedBlock { header, txs: accepted, rejected, tx_ids: ids, writes, nodes, stale })
        })
    }

    /// Commits a prepared block with its certificate, after checking that it extends the tip and
    /// that the certificate carries a quorum of the current validator set.
    pub fn commit(&mut self, block: PreparedBlock, cert: &CommitCertificate) -> Result<()> {
        let path = self.path.clone();
        catch_storage_panic(&path, || {
            if block.header.height != self.tip.height + 1
                || block.header.prev_hash != self.tip.hash()
            {
                return Err(Error::Misuse("prepared block does not extend the tip"));
            }
            cert.verify(&block.header, &self.validator_set()?)?;
            let wt = self.db.begin_write().storage()?;
            write_block(
                &wt,
                BlockWrite {
                    header: &block.header,
                    cert: Some(cert),
                    ids: &block.tx_ids,
                    txs: &block.txs,
                    writes: &block.writes,
                    nodes: &block.nodes,
                    stale: &block.stale,
                },
            )?;
            wt.commit().storage()?;
            self.tip = block.header;
            Ok(())
        })
    }

    /// What the database file holds, in bytes: (stored, metadata, fragmented) — the keys and
    /// values, the B-tree overhead, and free pages inside the file (which grows in steps, so its
    /// length says little about the data). Takes and aborts a write transaction.
    pub fn storage_stats(&self) -> Result<(u64, u64, u64)> {
        catch_storage_panic(&self.path, || {
            let wt = self.db.begin_write().storage()?;
            let s = wt.stats().storage()?;
            let out = (s.stored_bytes(), s.metadata_bytes(), s.fragmented_bytes());
            wt.abort().storage()?;
            Ok(out)
        })
    }

    /// Header at `height`.
    pub fn header(&self, height: u64) -> Result<Option<BlockHeader>> {
        catch_storage_panic(&self.path, || {
            let rt = self.db.begin_read().storage()?;
            let t = rt.open_table(HEADERS).storage()?;
            t.get(height).storage()?.map(|g| BlockHeader::from_bytes(g.value())).transpose()
        })
    }

    /// Certificate of the block at `height` (none for genesis).
    pub fn certificate(&self, height: u64) -> Result<Option<CommitCertificate>> {
        catch_storage_panic(&self.path, || {
            let rt = self.db.begin_read().storage()?;
            let t = rt.open_table(CERTS).storage()?;
            t.get(height).storage()?.map(|g| CommitCertificate::from_bytes(g.value())).transpose()
        })
    }

    /// Receipt that the transaction `id` is in a certified block.
    pub fn tx_receipt(&self, id: &Hash32) -> Result<Receipt> {
        catch_storage_panic(&self.path, || {
            let rt = self.db.begin_read().storage()?;
            let txs = rt.open_table(TXS).storage()?;
            let rec = txs
                .get(id.as_slice())
                .storage()?
                .ok_or_else(|| Error::NotFound { what: "transaction", id: hex(id) })?;
            let v = rec.value();
            let (pos, tx_bytes) = v.split_at_checked(12).ok_or(Error::Corrupt("tx entry"))?;
            let height =
                u64::from_be_bytes(pos[..8].try_into().map_err(|_| Error::Corrupt("tx entry"))?);
            let index =
                u32::from_be_bytes(pos[8..].try_into().map_err(|_| Error::Corrupt("tx entry"))?);
            let list = rt.open_table(BLOCK_TXS).storage()?;
            let ids_raw = list.get(height).storage()?.ok_or(Error::Corrupt("block tx list"))?;
            let ids: Vec<Hash32> = ids_raw
                .value()
                .chunks_exact(32)
                .map(|c| c.try_into().map_err(|_| Error::Corrupt("block tx list")))
                .collect::<Result<_>>()?;
            let idx = usize::try_from(index).map_err(|_| Error::Corrupt("tx index"))?;
            let proof = merkle::prove(self.hash_alg(), &ids, idx)?;
            let header = self.header(height)?.ok_or(Error::Corrupt("header missing"))?;
            let certificate =
                self.certificate(height)?.ok_or(Error::Corrupt("certificate missing"))?;
            Ok(Receipt {
                entry: ReceiptEntry::Transaction(tx_bytes.to_vec()),
                proof: ReceiptProof::Transaction(proof),
                header,
                certificate,
            })
        })
    }

    /// Receipt for a state entry (present or absent) at the latest certified block.
    pub fn state_receipt(&self, key: &StateKey) -> Result<Receipt> {
        catch_storage_panic(&self.path, || {
            if self.tip.height == 0 {
                return Err(Error::Misuse("no certified block yet"));
            }
            let snap = Snapshot::open(&self.db)?;
            let raw = key.to_bytes();
            let value = snap.get(&raw)?;
            let h = self.hash_alg();
            let proof = smt::prove(&snap, self.tip.state_root, &h.hash(&[&raw]))?;
            let certificate =
                self.certificate(self.tip.height)?.ok_or(Error::Corrupt("certificate missing"))?;
            Ok(Receipt {
                entry: ReceiptEntry::State { key: raw, value },
                proof: ReceiptProof::State(proof),
                header: self.tip.clone(),
                certificate,
            })
        })
    }

    /// Full consistency check (for recovery tests and audits): the header chain links, every
    /// block's transaction list matches its header, and the state values rebuild the tip's state
    /// root. Cost is linear in the database size.
    pub fn check_integrity(&self) -> Result<()> {
        catch_storage_panic(&self.path, || {
            let h = self.hash_alg();
            let rt = self.db.begin_read().storage()?;
            let headers = rt.open_table(HEADERS).storage()?;
            let lists = rt.open_table(BLOCK_TXS).storage()?;
            let mut prev: Option<BlockHeader> = None;
            for height in 0..=self.tip.height {
                let hd = headers.get(height).storage()?.ok_or(Error::Corrupt("header gap"))?;
                let hd = BlockHeader::from_bytes(hd.value())?;
                if let Some(p) = &prev
                    && hd.prev_hash != p.hash()
                {
                    return Err(Error::Corrupt("header chain broken"));
                }
                let ids: Vec<Hash32> = match lists.get(height).storage()? {
                    Some(g) => {
                        g.value().chunks_exact(32).filter_map(|c| c.try_into().ok()).collect()
                    }
                    None => Vec::new(),
                };
                if merkle::root(h, &ids) != hd.tx_root {
                    return Err(Error::Corrupt("transaction list does not match header"));
                }
                prev = Some(hd);
            }
            if headers.get(self.tip.height + 1).storage()?.is_some() {
                return Err(Error::Corrupt("header beyond tip"));
            }
            let state = rt.open_table(STATE).storage()?;
            let mut ups = Vec::new();
            for item in state.iter().storage()? {
                let (k, v) = item.storage()?;
                ups.push((h.hash(&[k.value()]), Some(h.hash(&[v.value()]))));
            }
            let scratch: std::collections::HashMap<Hash32, Node> = std::collections::HashMap::new();
            let rebuilt = smt::update(h, &scratch, EMPTY_ROOT, &ups)?;
            if rebuilt.root != self.tip.state_root {
                return Err(Error::Corrupt("state does not match the tip's state root"));
            }
            // Pruning keeps exactly the live tree.
            let stored = rt.open_table(NODES).storage()?.len().storage()?;
            if usize::try_from(stored).ok() != Some(rebuilt.new_nodes.len()) {
                return Err(Error::Corrupt("tree holds stale or missing nodes"));
            }
            Ok(())
        })
    }
}

fn tree_updates(
    h: LedgerHash,
    writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
) -> Vec<(Hash32, Option<Hash32>)> {
    writes.iter().map(|(k, v)| (h.hash(&[k]), v.as_ref().map(|v| h.hash(&[v])))).collect()
}

/// Everything one block writes.
struct BlockWrite<'a> {
    header: &'a BlockHeader,
    cert: Option<&'a CommitCertificate>,
    ids: &'a [Hash32],
    txs: &'a [Transaction],
    writes: &'a BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    nodes: &'a [(Hash32, Node)],
    stale: &'a [Hash32],
}

fn write_block(wt: &redb::WriteTransaction, b: BlockWrite<'_>) -> Result<()> {
    let BlockWrite { header, cert, ids, txs, writes, nodes, stale } = b;
    let height = header.height;
    wt.open_table(HEADERS).storage()?.insert(height, header.to_bytes().as_slice()).storage()?;
    if let Some(c) = cert {
        wt.open_table(CERTS).storage()?.insert(height, c.to_bytes().as_slice()).storage()?;
    }
    wt.open_table(BLOCK_TXS).storage()?.insert(height, ids.concat().as_slice()).storage()?;
    {
        let mut t = wt.open_table(TXS).storage()?;
        for (i, (id, tx)) in ids.iter().zip(txs).enumerate() {
            let mut v = Vec::with_capacity(256);
            v.extend_from_slice(&height.to_be_bytes());
            v.extend_from_slice(&u32::try_from(i).unwrap_or(u32::MAX).to_be_bytes());
            v.extend_from_slice(&tx.to_bytes());
            t.insert(id.as_slice(), v.as_slice()).storage()?;
        }
    }
    {
        let mut t = wt.open_table(STATE).storage()?;
        for (k, v) in writes {
            match v {
                Some(v) => {
                    t.insert(k.as_slice(), v.as_slice()).storage()?;
                }
                None => {
                    t.remove(k.as_slice()).storage()?;
                }
            }
        }
    }
    {
        let mut t = wt.open_table(NODES).storage()?;
        for hash in stale {
            t.remove(hash.as_slice()).storage()?;
        }
        for (hash, n) in nodes {
            t.insert(hash.as_slice(), n.to_bytes().as_slice()).storage()?;
        }
    }
    wt.open_table(META).storage()?.insert(META_TIP, height.to_be_bytes().as_slice()).storage()?;
    crate::audit::index::index_block(wt, header, ids, txs)?;
    Ok(())
}

/// Verifies signature jobs on all cores, each thread decompressing every distinct key once;
/// returns the memo keys of those that verified.
fn verify_parallel(jobs: &[SigJob]) -> Vec<Hash32> {
    fn run(part: &[SigJob]) -> Vec<Hash32> {
        let mut keys: std::collections::HashMap<PublicKey, Option<ParsedKey>> =
            std::collections::HashMap::new();
        part.iter()
            .filter(|(pk, m, s)| {
                keys.entry(*pk)
                    .or_insert_with(|| pk.parse().ok())
                    .as_ref()
                    .is_some_and(|k| k.verify(m, s).is_ok())
            })
            .map(|(pk, m, s)| sig_memo(pk, m, s))
            .collect()
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(16);
    if jobs.len() < 16 || threads == 1 {
        return run(jobs);
    }
    let chunk = jobs.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> =
            jobs.chunks(chunk).map(|part| scope.spawn(move || run(part))).collect();
        // A panicking worker only loses its memo entries; execution re-verifies them.
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}

fn unreadable(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::Unreadable { path: path.to_path_buf(), reason: why.to_string() }
}

/// Runs `f`, turning a panic inside `redb` on a damaged file into [`Error::Unreadable`]: the
/// storage engine trusts its own pages, and a node must not crash on a bad disk. Nothing `f`
/// touches outlives a panic except the database handle, which the caller drops or keeps using
/// (every later access goes through this boundary again).
pub(crate) fn catch_storage_panic<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(unreadable(path, format_args!("storage engine panicked: {msg}")))
        }
    }
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
