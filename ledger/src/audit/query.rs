//! Audit queries and their answers, and how the ledger answers them from the index.

use super::batch::prove_many;
use super::index::{
    AUDIT, KIND_DATASET, KIND_DID, KIND_GRANT, KIND_GRANT_USE, KIND_OWNER, KIND_TIME, Pos, prefix,
    program_prefix, time_key,
};
use crate::block::{BlockHeader, CommitCertificate};
use crate::codec::{Decode, Encode, MAX_ID_LEN, Reader, Writer};
use crate::did::Did;
use crate::error::{Error, Result, StorageExt};
use crate::hash::Hash32;
use crate::ledger::{Ledger, catch_storage_panic};
use crate::receipt::{Receipt, ReceiptEntry, ReceiptProof};
use crate::smt;
use crate::state::StateKey;
use crate::store::{BLOCK_TXS, CERTS, HEADERS, Snapshot, TXS};
use redb::ReadableDatabase as _;

/// Most items in one answer.
pub const MAX_ITEMS: usize = 1000;
/// An answer stops growing past this many encoded bytes (the service's responses are bounded).
pub const ANSWER_BUDGET: usize = 2 << 20;
/// Longest cursor.
const MAX_CURSOR: usize = 512;
/// Longest DID string in a query.
const MAX_DID: usize = 256;

/// Which slice of the results: up to `limit` items after the `after` cursor (from a previous
/// answer's `next`; `None` starts at the beginning).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// Opaque cursor from [`Answer::next`].
    pub after: Option<Vec<u8>>,
    /// Most items wanted (clamped to 1..=[`MAX_ITEMS`]).
    pub limit: u32,
}

impl Page {
    /// The first `limit` results.
    pub fn first(limit: u32) -> Self {
        Self { after: None, limit }
    }

    fn limit(&self) -> usize {
        usize::try_from(self.limit).unwrap_or(MAX_ITEMS).clamp(1, MAX_ITEMS)
    }
}

/// An audit question. Every answer carries receipts a verifier checks offline
/// ([`super::verify_answer`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    /// Certified headers (with their transaction ids) from `from` to `to`, inclusive; genesis
    /// (height 0, uncertified) is never returned.
    Blocks {
        /// First height.
        from: u64,
        /// Last height.
        to: u64,
        /// Paging.
        page: Page,
    },
    /// Transactions a DID signed, took part in (computations), was granted or was the subject of.
    ByDid {
        /// The DID.
        did: Did,
        /// Paging.
        page: Page,
    },
    /// Transactions that registered, granted, revoked or used a data set.
    ByDataSet {
        /// Data set id.
        dataset: String,
        /// Paging.
        page: Page,
    },
    /// Grants and computations naming a program.
    ByProgram {
        /// Program hash.
        program: Hash32,
        /// Paging.
        page: Page,
    },
    /// Transactions in blocks whose time lies in `from_ms..=to_ms`.
    ByTime {
        /// Earliest block time (Unix ms).
        from_ms: u64,
        /// Latest block time.
        to_ms: u64,
        /// Paging.
        page: Page,
    },
    /// A grant's history: its creation, its revocation and every job that used it.
    GrantHistory {
        /// Data set id.
        dataset: String,
        /// Grant id.
        grant: String,
        /// Paging.
        page: Page,
    },
    /// The grants on a data set, as state receipts at the latest block (whose records give
    /// the state: active, revoked, expired or used up).
    GrantsOf {
        /// Data set id.
        dataset: String,
        /// Paging.
        page: Page,
    },
    /// The data sets a DID registered, as state receipts at the latest block.
    DataSetsOf {
        /// Owner DID.
        owner: Did,
        /// Paging.
        page: Page,
    },
}

impl Query {
    /// The paging part.
    pub fn page(&self) -> &Page {
        match self {
            Self::Blocks { page, .. }
            | Self::ByDid { page, .. }
            | Self::ByDataSet { page, .. }
            | Self::ByProgram { page, .. }
            | Self::ByTime { page, .. }
            | Self::GrantHistory { page, .. }
            | Self::GrantsOf { page, .. }
            | Self::DataSetsOf { page, .. } => page,
        }
    }

    /// The same query for the page after `next`.
    pub fn with_after(&self, next: Vec<u8>) -> Self {
        let mut q = self.clone();
        match &mut q {
            Self::Blocks { page, .. }
            | Self::ByDid { page, .. }
            | Self::ByDataSet { page, .. }
            | Self::ByProgram { page, .. }
            | Self::ByTime { page, .. }
            | Self::GrantHistory { page, .. }
            | Self::GrantsOf { page, .. }
            | Self::DataSetsOf { page, .. } => page.after = Some(next),
        }
        q
    }
}

/// One result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A certified block header and the ids of its transactions (which hash to its root).
    Block {
        /// The header.
        header: BlockHeader,
        /// Validator signatures over it.
        certificate: CommitCertificate,
        /// Its transaction ids, in order.
        tx_ids: Vec<Hash32>,
    },
    /// A transaction receipt.
    Tx(Receipt),
    /// A state receipt.
    State(Receipt),
}

/// An answer: items in chain (or key) order and, if there are more, the cursor for the next page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The results.
    pub items: Vec<Item>,
    /// Cursor for the next page, `None` on the last.
    pub next: Option<Vec<u8>>,
}

// ---- encoding ----

impl Encode for Page {
    fn encode(&self, w: &mut Writer) {
        match &self.after {
            None => w.u8(0),
            Some(c) => {
                w.u8(1);
                w.bytes(c);
            }
        }
        w.u32(self.limit);
    }
}

impl Decode for Page {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let after = match r.u8()? {
            0 => None,
            1 => Some(r.bytes(MAX_CURSOR)?),
            _ => return Err(Error::Malformed("cursor tag")),
        };
        Ok(Self { after, limit: r.u32()? })
    }
}

fn did_str(w: &mut Writer, d: &Did) {
    w.str(&d.to_string());
}

fn read_did(r: &mut Reader<'_>) -> Result<Did> {
    Did::parse(&r.string(MAX_DID)?)
}

impl Encode for Query {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::Blocks { from, to, page } => {
                w.u8(1);
                w.u64(*from);
                w.u64(*to);
                page.encode(w);
            }
            Self::ByDid { did, page } => {
                w.u8(2);
                did_str(w, did);
                page.encode(w);
            }
            Self::ByDataSet { dataset, page } => {
                w.u8(3);
                w.str(dataset);
                page.encode(w);
            }
            Self::ByProgram { program, page } => {
                w.u8(4);
                w.raw(program);
                page.encode(w);
            }
            Self::ByTime { from_ms, to_ms, page } => {
                w.u8(5);
                w.u64(*from_ms);
                w.u64(*to_ms);
                page.encode(w);
            }
            Self::GrantHistory { dataset, grant, page } => {
                w.u8(6);
                w.str(dataset);
                w.str(grant);
                page.encode(w);
            }
            Self::GrantsOf { dataset, page } => {
                w.u8(7);
                w.str(dataset);
                page.encode(w);
            }
            Self::DataSetsOf { owner, page } => {
                w.u8(8);
                did_str(w, owner);
                page.encode(w);
            }
        }
    }
}

impl Decode for Query {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(match r.u8()? {
            1 => Self::Blocks { from: r.u64()?, to: r.u64()?, page: Page::decode(r)? },
            2 => Self::ByDid { did: read_did(r)?, page: Page::decode(r)? },
            3 => Self::ByDataSet { dataset: r.string(MAX_ID_LEN)?, page: Page::decode(r)? },
            4 => Self::ByProgram { program: r.array()?, page: Page::decode(r)? },
            5 => Self::ByTime { from_ms: r.u64()?, to_ms: r.u64()?, page: Page::decode(r)? },
            6 => Self::GrantHistory {
                dataset: r.string(MAX_ID_LEN)?,
                grant: r.string(MAX_ID_LEN)?,
                page: Page::decode(r)?,
            },
            7 => Self::GrantsOf { dataset: r.string(MAX_ID_LEN)?, page: Page::decode(r)? },
            8 => Self::DataSetsOf { owner: read_did(r)?, page: Page::decode(r)? },
            _ => return Err(Error::Malformed("audit query tag")),
        })
    }
}

impl Encode for Item {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::Block { header, certificate, tx_ids } => {
                w.u8(1);
                header.encode(w);
                certificate.encode(w);
                w.list(tx_ids);
            }
            Self::Tx(rc) => {
                w.u8(2);
                rc.encode(w);
            }
            Self::State(rc) => {
                w.u8(3);
                rc.encode(w);
            }
        }
    }
}

/// Most transaction ids one block item may carry (blocks hold at most a few thousand).
const MAX_BLOCK_IDS: usize = 1 << 16;

impl Decode for Item {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(match r.u8()? {
            1 => Self::Block {
                header: BlockHeader::decode(r)?,
                certificate: CommitCertificate::decode(r)?,
                tx_ids: r.list(MAX_BLOCK_IDS)?,
            },
            2 => Self::Tx(Receipt::decode(r)?),
            3 => Self::State(Receipt::decode(r)?),
            _ => return Err(Error::Malformed("audit item tag")),
        })
    }
}

impl Encode for Answer {
    fn encode(&self, w: &mut Writer) {
        w.list(&self.items);
        match &self.next {
            None => w.u8(0),
            Some(c) => {
                w.u8(1);
                w.bytes(c);
            }
        }
    }
}

impl Decode for Answer {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let items = r.list(MAX_ITEMS)?;
        let next = match r.u8()? {
            0 => None,
            1 => Some(r.bytes(MAX_CURSOR)?),
            _ => return Err(Error::Malformed("cursor tag")),
        };
        Ok(Self { items, next })
    }
}

// ---- answering ----

/// Upper end of a prefix range: the prefix followed by 0xff bytes longer than any suffix.
fn upper(prefix: &[u8]) -> Vec<u8> {
    let mut v = prefix.to_vec();
    v.extend_from_slice(&[0xff; 40]);
    v
}

/// Start of a scan: just after the cursor (the last key suffix returned) or the prefix itself.
fn lower(prefix: &[u8], after: Option<&[u8]>) -> Vec<u8> {
    let mut v = prefix.to_vec();
    if let Some(c) = after {
        v.extend_from_slice(c);
        // The smallest key above `prefix ‖ c`.
        v.push(0);
    }
    v
}

fn read_ids(list: &[u8]) -> Result<Vec<Hash32>> {
    list.chunks_exact(32)
        .map(|c| c.try_into().map_err(|_| Error::Corrupt("block tx list")))
        .collect()
}

impl Ledger {
    /// Answers an audit query from the index, with receipts. Access control is the caller's
    /// (the ledger service answers supervisors only).
    pub fn audit(&self, q: &Query) -> Result<Answer> {
        catch_storage_panic(&self.path, || match q {
            Query::Blocks { from, to, page } => self.blocks(*from, *to, page),
            Query::ByDid { did, page } => {
                self.tx_scan(&prefix(KIND_DID, &[did.to_string().as_bytes()]), page)
            }
            Query::ByDataSet { dataset, page } => {
                self.tx_scan(&prefix(KIND_DATASET, &[dataset.as_bytes()]), page)
            }
            Query::ByProgram { program, page } => self.tx_scan(&program_prefix(program), page),
            Query::GrantHistory { dataset, grant, page } => {
                self.tx_scan(&prefix(KIND_GRANT_USE, &[dataset.as_bytes(), grant.as_bytes()]), page)
            }
            Query::ByTime { from_ms, to_ms, page } => self.time_scan(*from_ms, *to_ms, page),
            Query::GrantsOf { dataset, page } => {
                let p = prefix(KIND_GRANT, &[dataset.as_bytes()]);
                self.state_scan(&p, page, |rest| {
                    let g = name_part(rest)?;
                    Ok(StateKey::Grant { dataset: dataset.clone(), grant: g })
                })
            }
            Query::DataSetsOf { owner, page } => {
                let p = prefix(KIND_OWNER, &[owner.to_string().as_bytes()]);
                self.state_scan(&p, page, |rest| Ok(StateKey::DataSet(name_part(rest)?)))
            }
        })
    }

    fn blocks(&self, from: u64, to: u64, page: &Page) -> Result<Answer> {
        let start = match &page.after {
            Some(c) => u64::from_be_bytes(
                c.as_slice().try_into().map_err(|_| Error::Malformed("block cursor"))?,
            )
            .saturating_add(1),
            None => from,
        }
        .max(from)
        .max(1);
        let to = to.min(self.tip.height);
        let rt = self.db.begin_read().storage()?;
        let headers = rt.open_table(HEADERS).storage()?;
        let certs = rt.open_table(CERTS).storage()?;
        let lists = rt.open_table(BLOCK_TXS).storage()?;
        let mut items = Vec::new();
        let mut size = 0usize;
        let mut height = start;
        while height <= to {
            if items.len() >= page.limit() || size >= ANSWER_BUDGET {
                let last = height - 1;
                return Ok(Answer { items, next: Some(last.to_be_bytes().to_vec()) });
            }
            let header = headers.get(height).storage()?.ok_or(Error::Corrupt("header gap"))?;
            let cert = certs.get(height).storage()?.ok_or(Error::Corrupt("certificate missing"))?;
            let ids = match lists.get(height).storage()? {
                Some(g) => read_ids(g.value())?,
                None => Vec::new(),
            };
            let item = Item::Block {
                header: BlockHeader::from_bytes(header.value())?,
                certificate: CommitCertificate::from_bytes(cert.value())?,
                tx_ids: ids,
            };
            size += item.to_bytes().len();
            items.push(item);
            height += 1;
        }
        Ok(Answer { items, next: None })
    }

    /// Transactions under an index prefix whose keys end in a position.
    fn tx_scan(&self, prefix: &[u8], page: &Page) -> Result<Answer> {
        let rt = self.db.begin_read().storage()?;
        let idx = rt.open_table(AUDIT).storage()?;
        let lo = lower(prefix, page.after.as_deref());
        let hi = upper(prefix);
        if lo >= hi {
            return Ok(Answer { items: vec![], next: None });
        }
        let mut found: Vec<(Pos, Hash32, Vec<u8>)> = Vec::new();
        let mut more = false;
        for e in idx.range(lo.as_slice()..hi.as_slice()).storage()? {
            let (k, v) = e.storage()?;
            if found.len() >= page.limit() {
                more = true;
                break;
            }
            let suffix = k.value().get(prefix.len()..).ok_or(Error::Corrupt("audit key"))?;
            let pos = Pos::from_bytes(suffix).map_err(|_| Error::Corrupt("audit key"))?;
            let id: Hash32 = v
                .value()
                .get(..32)
                .and_then(|b| b.try_into().ok())
                .ok_or(Error::Corrupt("audit entry"))?;
            found.push((pos, id, suffix.to_vec()));
        }
        self.tx_answer(&rt, found, more)
    }

    /// Builds transaction receipts for `found` (in chain order), one header, certificate and
    /// batch of proofs per block, stopping at the size budget.
    fn tx_answer(
        &self,
        rt: &redb::ReadTransaction,
        found: Vec<(Pos, Hash32, Vec<u8>)>,
        mut more: bool,
    ) -> Result<Answer> {
        let h = self.hash_alg();
        let headers = rt.open_table(HEADERS).storage()?;
        let certs = rt.open_table(CERTS).storage()?;
        let lists = rt.open_table(BLOCK_TXS).storage()?;
        let txs = rt.open_table(TXS).storage()?;
        let mut items = Vec::with_capacity(found.len());
        let mut size = 0usize;
        let mut next = None;
        let mut i = 0;
        'blocks: while i < found.len() {
            let height = found[i].0.height;
            let end =
                found[i..].iter().position(|f| f.0.height != height).map_or(found.len(), |n| i + n);
            let group = &found[i..end];
            let header = BlockHeader::from_bytes(
                headers.get(height).storage()?.ok_or(Error::Corrupt("header missing"))?.value(),
            )?;
            let certificate = CommitCertificate::from_bytes(
                certs.get(height).storage()?.ok_or(Error::Corrupt("certificate missing"))?.value(),
            )?;
            let ids = read_ids(
                lists.get(height).storage()?.ok_or(Error::Corrupt("block tx list"))?.value(),
            )?;
            let indices: Vec<usize> = group
                .iter()
                .map(|f| usize::try_from(f.0.index).map_err(|_| Error::Corrupt("tx index")))
                .collect::<Result<_>>()?;
            let proofs = prove_many(h, &ids, &indices)?;
            for ((pos, id, suffix), proof) in group.iter().zip(proofs) {
                if size >= ANSWER_BUDGET {
                    more = true;
                    break 'blocks;
                }
                if ids.get(usize::try_from(pos.index).unwrap_or(usize::MAX)) != Some(id) {
                    return Err(Error::Corrupt("audit index disagrees with the block"));
                }
                let rec = txs.get(id.as_slice()).storage()?.ok_or(Error::Corrupt("tx missing"))?;
                let bytes = rec.value().get(12..).ok_or(Error::Corrupt("tx entry"))?.to_vec();
                let rc = Receipt {
                    entry: ReceiptEntry::Transaction(bytes),
                    proof: ReceiptProof::Transaction(proof),
                    header: header.clone(),
                    certificate: certificate.clone(),
                };
                size += rc.to_bytes().len();
                items.push(Item::Tx(rc));
                next = Some(suffix.clone());
            }
            i = end;
        }
        Ok(Answer { items, next: if more { next } else { None } })
    }

    fn time_scan(&self, from_ms: u64, to_ms: u64, page: &Page) -> Result<Answer> {
        // Cursor: block time (8) ‖ height (8) ‖ index (4) of the last transaction returned.
        let (start, after_idx) = match &page.after {
            None => (time_key(from_ms, 0), None),
            Some(c) if c.len() == 20 => {
                let mut r = Reader::new(c);
                let (t, hgt, ix) = (r.u64()?, r.u64()?, r.u32()?);
                (time_key(t.max(from_ms), hgt), Some((hgt, ix)))
            }
            Some(_) => return Err(Error::Malformed("time cursor")),
        };
        let end = time_key(to_ms, u64::MAX);
        if start > end {
            return Ok(Answer { items: vec![], next: None });
        }
        let rt = self.db.begin_read().storage()?;
        let idx = rt.open_table(AUDIT).storage()?;
        let lists = rt.open_table(BLOCK_TXS).storage()?;
        let mut found: Vec<(Pos, Hash32, Vec<u8>)> = Vec::new();
        let mut more = false;
        'scan: for e in idx.range(start.as_slice()..=end.as_slice()).storage()? {
            let (k, _) = e.storage()?;
            let key = k.value();
            if key.first() != Some(&KIND_TIME) || key.len() != 17 {
                return Err(Error::Corrupt("audit time key"));
            }
            let mut r = Reader::new(&key[1..]);
            let (t, height) = (r.u64()?, r.u64()?);
            let ids = match lists.get(height).storage()? {
                Some(g) => read_ids(g.value())?,
                None => Vec::new(),
            };
            for (i, id) in ids.iter().enumerate() {
                let index = u32::try_from(i).map_err(|_| Error::Corrupt("tx index"))?;
                if after_idx.is_some_and(|(ah, ai)| height == ah && index <= ai) {
                    continue;
                }
                if found.len() >= page.limit() {
                    more = true;
                    break 'scan;
                }
                let mut cursor = Vec::with_capacity(20);
                cursor.extend_from_slice(&t.to_be_bytes());
                cursor.extend_from_slice(&height.to_be_bytes());
                cursor.extend_from_slice(&index.to_be_bytes());
                found.push((Pos { height, index }, *id, cursor));
            }
        }
        self.tx_answer(&rt, found, more)
    }

    /// State receipts for the entries under an index prefix whose suffix names the state key.
    fn state_scan(
        &self,
        prefix: &[u8],
        page: &Page,
        key_of: impl Fn(&[u8]) -> Result<StateKey>,
    ) -> Result<Answer> {
        if self.tip.height == 0 {
            return Ok(Answer { items: vec![], next: None });
        }
        let rt = self.db.begin_read().storage()?;
        let idx = rt.open_table(AUDIT).storage()?;
        let lo = lower(prefix, page.after.as_deref());
        let hi = upper(prefix);
        if lo >= hi {
            return Ok(Answer { items: vec![], next: None });
        }
        let mut keys = Vec::new();
        let mut more = false;
        for e in idx.range(lo.as_slice()..hi.as_slice()).storage()? {
            let (k, _) = e.storage()?;
            if keys.len() >= page.limit() {
                more = true;
                break;
            }
            let suffix = k.value().get(prefix.len()..).ok_or(Error::Corrupt("audit key"))?;
            keys.push((key_of(suffix)?, suffix.to_vec()));
        }
        let snap = Snapshot::open(&self.db)?;
        let h = self.hash_alg();
        let certificate = CommitCertificate::from_bytes(
            rt.open_table(CERTS)
                .storage()?
                .get(self.tip.height)
                .storage()?
                .ok_or(Error::Corrupt("certificate missing"))?
                .value(),
        )?;
        let mut items = Vec::with_capacity(keys.len());
        let mut size = 0usize;
        let mut next = None;
        for (key, suffix) in keys {
            if size >= ANSWER_BUDGET {
                more = true;
                break;
            }
            let raw = key.to_bytes();
            let value = crate::exec::StateRead::get(&snap, &raw)?;
            let proof = smt::prove(&snap, self.tip.state_root, &h.hash(&[&raw]))?;
            let rc = Receipt {
                entry: ReceiptEntry::State { key: raw, value },
                proof: ReceiptProof::State(proof),
                header: self.tip.clone(),
                certificate: certificate.clone(),
            };
            size += rc.to_bytes().len();
            items.push(Item::State(rc));
            next = Some(suffix);
        }
        Ok(Answer { items, next: if more { next } else { None } })
    }
}

/// The identifier at the start of a key suffix (length-prefixed), with nothing after it.
fn name_part(rest: &[u8]) -> Result<String> {
    let mut r = Reader::new(rest);
    let n = usize::from(r.u16()?);
    let s = String::from_utf8(r.take(n)?.to_vec()).map_err(|_| Error::Corrupt("audit key"))?;
    r.finish().map_err(|_| Error::Corrupt("audit key"))?;
    Ok(s)
}
