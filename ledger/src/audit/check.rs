//! Offline checking of audit answers: every receipt against the validator set, and every item
//! against the query it answers.
//!
//! What a checked answer proves: each item is genuine (certified by a quorum of the trusted
//! validators, on this chain) and belongs to the query (the transaction involves the DID, data
//! set, program or grant asked about; the block time lies in the range; the state entry is a
//! grant of that data set or a data set of that owner), items are in chain order after the
//! cursor, and a block range is contiguous and hash-linked from its first height. What it does not
//! prove: that nothing was left out of a transaction listing (the index is not authenticated by the
//! state root, so completeness rests on the validators' honesty). For the jobs of a grant the
//! grant's state receipt bounds it: the `uses` counter is certified ([`super::grant_state`]).

use super::index::{Pos, touches};
use super::query::{Answer, Item, Query};
use crate::block::{BlockHeader, ValidatorSet};
use crate::codec::Decode;
use crate::error::{Error, Result};
use crate::hash::Hash32;
use crate::merkle;
use crate::receipt::{Receipt, ReceiptEntry, ReceiptProof, verify_receipt};
use crate::state::{DataSet, GrantRecord, StateKey};
use crate::tx::Transaction;

/// One checked result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checked {
    /// A certified block.
    Block {
        /// Its header.
        header: BlockHeader,
        /// Its transaction ids.
        tx_ids: Vec<Hash32>,
    },
    /// A transaction in a certified block.
    Tx {
        /// Where it sits.
        pos: Pos,
        /// Its block's time.
        time_ms: u64,
        /// Its id.
        id: Hash32,
        /// The transaction.
        tx: Box<Transaction>,
    },
    /// A state entry at a certified block.
    State {
        /// The block's height.
        height: u64,
        /// The block's time.
        time_ms: u64,
        /// The raw state key.
        key: Vec<u8>,
        /// Its value (present: the state queries only return existing entries).
        value: Vec<u8>,
    },
}

fn bad(why: &'static str) -> Error {
    Error::ProofInvalid(why)
}

/// The transaction a receipt speaks for and its position, after verifying the receipt.
pub(crate) fn checked_tx(
    rc: &Receipt,
    chain_id: &Hash32,
    validators: &ValidatorSet,
) -> Result<(Pos, Hash32, Transaction)> {
    Checker::new(chain_id, validators).tx(rc)
}

/// Verifies receipts, checking each distinct header's certificate once: an answer's receipts
/// mostly share a few blocks, and the quorum of signatures is the costly part. A receipt whose
/// header was already found certified has only its Merkle proof checked (the header is the same
/// bytes, so the certificate that covers it is the one already checked).
struct Checker<'a> {
    chain_id: &'a Hash32,
    validators: &'a ValidatorSet,
    certified: std::collections::HashSet<Hash32>,
}

impl<'a> Checker<'a> {
    fn new(chain_id: &'a Hash32, validators: &'a ValidatorSet) -> Self {
        Self { chain_id, validators, certified: Default::default() }
    }

    fn receipt(&mut self, rc: &Receipt) -> Result<()> {
        let hh = rc.header.hash();
        if !self.certified.contains(&hh) {
            verify_receipt(rc, self.chain_id, self.validators)?;
            self.certified.insert(hh);
            return Ok(());
        }
        // Same certified header: the proof alone (as `verify_receipt` checks it).
        let h = rc.header.hash_alg;
        match (&rc.entry, &rc.proof) {
            (ReceiptEntry::Transaction(bytes), ReceiptProof::Transaction(p)) => {
                if p.tree_size != rc.header.tx_count {
                    return Err(Error::ProofInvalid("tree size differs from header"));
                }
                p.verify(h, &h.hash(&[bytes]), &rc.header.tx_root)
            }
            (ReceiptEntry::State { key, value }, ReceiptProof::State(p)) => {
                let vh = value.as_ref().map(|v| h.hash(&[v]));
                p.verify(h, &rc.header.state_root, &h.hash(&[key]), vh.as_ref())
            }
            _ => Err(Error::ProofInvalid("proof kind does not match entry")),
        }
    }

    fn tx(&mut self, rc: &Receipt) -> Result<(Pos, Hash32, Transaction)> {
        self.receipt(rc)?;
        let (ReceiptEntry::Transaction(bytes), ReceiptProof::Transaction(p)) =
            (&rc.entry, &rc.proof)
        else {
            return Err(bad("expected a transaction receipt"));
        };
        let tx = Transaction::from_bytes(bytes)?;
        let id = rc.header.hash_alg.hash(&[bytes]);
        Ok((Pos { height: rc.header.height, index: p.index }, id, tx))
    }

    fn state(&mut self, rc: &Receipt) -> Result<(Vec<u8>, Vec<u8>)> {
        self.receipt(rc)?;
        match &rc.entry {
            ReceiptEntry::State { key, value: Some(v) } => Ok((key.clone(), v.clone())),
            _ => Err(bad("expected a state receipt of a present entry")),
        }
    }
}

/// The state entry a receipt speaks for, after verifying it; absent entries are refused.
pub(crate) fn checked_state(
    rc: &Receipt,
    chain_id: &Hash32,
    validators: &ValidatorSet,
) -> Result<(Vec<u8>, Vec<u8>)> {
    Checker::new(chain_id, validators).state(rc)
}

/// Checks `answer` to `query` for the chain `chain_id` against the trusted `validators`, offline;
/// returns the results. See the module documentation for what this proves.
pub fn verify_answer(
    query: &Query,
    answer: &Answer,
    chain_id: &Hash32,
    validators: &ValidatorSet,
) -> Result<Vec<Checked>> {
    let mut ck = Checker::new(chain_id, validators);
    let page = query.page();
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX).clamp(1, super::MAX_ITEMS);
    if answer.items.len() > limit {
        return Err(bad("more items than the query's limit"));
    }
    match query {
        Query::Blocks { from, to, page } => {
            let after = match &page.after {
                None => None,
                Some(c) => Some(u64::from_be_bytes(
                    c.as_slice().try_into().map_err(|_| Error::Malformed("block cursor"))?,
                )),
            };
            let start = after.map_or(*from, |a| a.saturating_add(1)).max(*from).max(1);
            let mut out = Vec::with_capacity(answer.items.len());
            let mut prev: Option<BlockHeader> = None;
            for (n, item) in answer.items.iter().enumerate() {
                let Item::Block { header, certificate, tx_ids } = item else {
                    return Err(bad("a block query answered with another item"));
                };
                if header.chain_id != *chain_id {
                    return Err(Error::WrongChain);
                }
                certificate.verify(header, validators)?;
                if merkle::root(header.hash_alg, tx_ids) != header.tx_root
                    || usize::try_from(header.tx_count).ok() != Some(tx_ids.len())
                {
                    return Err(bad("transaction ids do not match the header"));
                }
                let want = start.saturating_add(n as u64);
                if header.height != want || header.height > *to {
                    return Err(bad("block heights not contiguous from the first asked"));
                }
                if let Some(p) = &prev
                    && header.prev_hash != p.hash()
                {
                    return Err(bad("blocks not hash-linked"));
                }
                prev = Some(header.clone());
                out.push(Checked::Block { header: header.clone(), tx_ids: tx_ids.clone() });
            }
            Ok(out)
        }
        Query::GrantsOf { .. } | Query::DataSetsOf { .. } => {
            let mut out = Vec::with_capacity(answer.items.len());
            let mut seen: Vec<Vec<u8>> = Vec::new();
            for item in &answer.items {
                let Item::State(rc) = item else {
                    return Err(bad("a state query answered with another item"));
                };
                let (key, value) = ck.state(rc)?;
                let fits = match query {
                    Query::GrantsOf { dataset, .. } => {
                        let pre =
                            StateKey::Grant { dataset: dataset.clone(), grant: String::new() }
                                .to_bytes();
                        key.starts_with(&pre)
                            && key.len() > pre.len()
                            && !key[pre.len()..].contains(&b'/')
                            && GrantRecord::from_bytes(&value).is_ok()
                    }
                    Query::DataSetsOf { owner, .. } => {
                        key.starts_with(&StateKey::DataSet(String::new()).to_bytes())
                            && DataSet::from_bytes(&value).is_ok_and(|d| d.owner == *owner)
                    }
                    _ => false,
                };
                if !fits {
                    return Err(bad("a state entry that does not belong to the query"));
                }
                if seen.contains(&key) {
                    return Err(bad("an entry repeated"));
                }
                seen.push(key.clone());
                out.push(Checked::State {
                    height: rc.header.height,
                    time_ms: rc.header.time_ms,
                    key,
                    value,
                });
            }
            Ok(out)
        }
        _ => {
            // Transaction listings; the cursor of the index queries is the last position.
            let after = match (query, &page.after) {
                (Query::ByTime { .. }, Some(c)) if c.len() == 20 => {
                    Some(Pos::from_bytes(&c[8..]).map_err(|_| Error::Malformed("time cursor"))?)
                }
                (Query::ByTime { .. }, Some(_)) => return Err(Error::Malformed("time cursor")),
                (_, Some(c)) => Some(Pos::from_bytes(c).map_err(|_| Error::Malformed("cursor"))?),
                (_, None) => None,
            };
            let mut last = after;
            let mut out = Vec::with_capacity(answer.items.len());
            for item in &answer.items {
                let Item::Tx(rc) = item else {
                    return Err(bad("a transaction query answered with another item"));
                };
                let (pos, id, tx) = ck.tx(rc)?;
                if last.is_some_and(|l| pos <= l) {
                    return Err(bad("transactions out of chain order or before the cursor"));
                }
                last = Some(pos);
                let t = touches(&tx);
                let fits = match query {
                    Query::ByDid { did, .. } => t.roles_of(did) != 0,
                    Query::ByDataSet { dataset, .. } => t.datasets.contains(dataset),
                    Query::ByProgram { program, .. } => t.programs.contains(program),
                    Query::GrantHistory { dataset, grant, .. } => {
                        t.grants.iter().any(|(d, g)| d == dataset && g == grant)
                    }
                    Query::ByTime { from_ms, to_ms, .. } => {
                        (*from_ms..=*to_ms).contains(&rc.header.time_ms)
                    }
                    _ => false,
                };
                if !fits {
                    return Err(bad("a transaction that does not belong to the query"));
                }
                out.push(Checked::Tx { pos, time_ms: rc.header.time_ms, id, tx: Box::new(tx) });
            }
            Ok(out)
        }
    }
}
