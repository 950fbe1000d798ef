//! Compact sparse Merkle tree over 256-bit key hashes, with inclusion and absence proofs.
//!
//! Follows the "compact" sparse Merkle tree of Dahlberg, Pulls and Peeters (*Efficient Sparse
//! Merkle Trees*, NordSec 2016, §3) as used by Diem's Jellyfish tree: a subtree holding one leaf is
//! replaced by that leaf, so a tree of `m` keys has depth about `log2 m` instead of 256 and an
//! update costs `O(log m)` hashes. The shape depends only on the set of keys, so the root is
//! canonical.
//!
//! We wrote it rather than use the `jmt` crate: `jmt` 0.12 is tied to the previous RustCrypto
//! generation (`sha2` 0.10, `digest` 0.10) and to its own versioned storage traits, while this
//! ledger needs SM3 as well as SHA-256 and stores nodes content-addressed in `redb`.
//!
//! Hashes (with `H` the ledger hash): empty subtree = 32 zero bytes; leaf = `H(0x20 ‖ key ‖
//! value_hash)`; internal = `H(0x21 ‖ left ‖ right)`. Security: a proof is sound if `H` is
//! collision resistant and the validators certified a root built by this code.

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::{Error, Result};
use crate::hash::{Hash32, LedgerHash};
use std::collections::HashMap;

/// Root of the empty tree.
pub const EMPTY_ROOT: Hash32 = [0u8; 32];
const LEAF_TAG: u8 = 0x20;
const INTERNAL_TAG: u8 = 0x21;

/// A stored tree node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    /// A key and the hash of its value.
    Leaf {
        /// Key hash.
        key: Hash32,
        /// Value hash.
        value: Hash32,
    },
    /// Two children (either may be empty).
    Internal {
        /// Left child hash (bit 0).
        left: Hash32,
        /// Right child hash (bit 1).
        right: Hash32,
    },
}

impl Node {
    /// Node hash.
    pub fn hash(&self, h: LedgerHash) -> Hash32 {
        match self {
            Self::Leaf { key, value } => h.hash(&[&[LEAF_TAG], key, value]),
            Self::Internal { left, right } => h.hash(&[&[INTERNAL_TAG], left, right]),
        }
    }
}

impl Encode for Node {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::Leaf { key, value } => {
                w.u8(LEAF_TAG);
                w.raw(key);
                w.raw(value);
            }
            Self::Internal { left, right } => {
                w.u8(INTERNAL_TAG);
                w.raw(left);
                w.raw(right);
            }
        }
    }
}

impl Decode for Node {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match r.u8()? {
            LEAF_TAG => Ok(Self::Leaf { key: r.array()?, value: r.array()? }),
            INTERNAL_TAG => Ok(Self::Internal { left: r.array()?, right: r.array()? }),
            _ => Err(Error::Malformed("tree node tag")),
        }
    }
}

/// Where nodes are read from.
pub trait NodeSource {
    /// The node with this hash, if stored.
    fn node(&self, hash: &Hash32) -> Result<Option<Node>>;
}

impl NodeSource for HashMap<Hash32, Node> {
    fn node(&self, hash: &Hash32) -> Result<Option<Node>> {
        Ok(self.get(hash).copied())
    }
}

fn bit(key: &Hash32, depth: usize) -> bool {
    (key[depth / 8] >> (7 - depth % 8)) & 1 == 1
}

fn load(src: &impl NodeSource, hash: &Hash32) -> Result<Option<Node>> {
    if *hash == EMPTY_ROOT {
        return Ok(None);
    }
    src.node(hash)?.map(Some).ok_or(Error::Corrupt("missing tree node"))
}

/// A subtree after an update, with enough shape to decide whether a parent collapses.
enum Sub {
    Empty,
    Leaf(Hash32),
    Internal(Hash32),
    Unchanged(Hash32),
}

/// The result of a batch update.
#[derive(Debug)]
pub struct TreeUpdate {
    /// New root.
    pub root: Hash32,
    /// Nodes to store.
    pub new_nodes: Vec<(Hash32, Node)>,
    /// Nodes of the old tree that the new tree no longer references. A node occurs at most once
    /// in a tree (its hash fixes its key set, hence its position), so these may be deleted when
    /// only the latest state must stay provable.
    pub stale: Vec<Hash32>,
}

/// Applies a batch of updates (`None` deletes) to the tree at `root`.
pub fn update(
    h: LedgerHash,
    src: &impl NodeSource,
    root: Hash32,
    updates: &[(Hash32, Option<Hash32>)],
) -> Result<TreeUpdate> {
    let mut sorted = updates.to_vec();
    sorted.sort_by_key(|a| a.0);
    // Keep the last update for each key.
    let mut dedup: Vec<(Hash32, Option<Hash32>)> = Vec::with_capacity(sorted.len());
    for u in sorted {
        match dedup.last_mut() {
            Some(last) if last.0 == u.0 => *last = u,
            _ => dedup.push(u),
        }
    }
    let mut u = Updater { h, src, out: Vec::new(), touched: Vec::new() };
    let sub = u.update_at(root, 0, &dedup)?;
    let root = u.resolve(sub)?.1;
    let fresh: std::collections::HashSet<Hash32> = u.out.iter().map(|(x, _)| *x).collect();
    let stale = u.touched.into_iter().filter(|x| !fresh.contains(x)).collect();
    Ok(TreeUpdate { root, new_nodes: u.out, stale })
}

struct Updater<'a, S> {
    h: LedgerHash,
    src: &'a S,
    out: Vec<(Hash32, Node)>,
    touched: Vec<Hash32>,
}

impl<S: NodeSource> Updater<'_, S> {
    fn write(&mut self, n: Node) -> Hash32 {
        let hash = n.hash(self.h);
        self.out.push((hash, n));
        hash
    }

    /// Returns (is_leaf_or_empty_kind, hash); `Unchanged` subtrees are loaded only when needed.
    fn resolve(&mut self, s: Sub) -> Result<(u8, Hash32)> {
        Ok(match s {
            Sub::Empty => (0, EMPTY_ROOT),
            Sub::Leaf(x) => (1, x),
            Sub::Internal(x) => (2, x),
            Sub::Unchanged(x) => match load(self.src, &x)? {
                None => (0, EMPTY_ROOT),
                Some(Node::Leaf { .. }) => (1, x),
                Some(Node::Internal { .. }) => (2, x),
            },
        })
    }

    fn combine(&mut self, l: Sub, r: Sub) -> Result<Sub> {
        // Only an empty sibling can make a parent collapse; otherwise the kinds do not matter.
        let l_empty = matches!(l, Sub::Empty);
        let r_empty = matches!(r, Sub::Empty);
        let (lk, lh) = self.kind(l, r_empty)?;
        let (rk, rh) = self.kind(r, l_empty)?;
        Ok(match (lk, rk) {
            (0, 0) => Sub::Empty,
            (0, 1) => Sub::Leaf(rh),
            (1, 0) => Sub::Leaf(lh),
            _ => Sub::Internal(self.write(Node::Internal { left: lh, right: rh })),
        })
    }

    /// Kind (0 empty, 1 leaf, 2 internal) and hash; an unchanged subtree is loaded only when
    /// `need` (its sibling is empty), otherwise it is reported as internal, which is all the
    /// caller needs to know.
    fn kind(&mut self, s: Sub, need: bool) -> Result<(u8, Hash32)> {
        match s {
            Sub::Unchanged(x) if !need => Ok((2, x)),
            other => self.resolve(other),
        }
    }

    fn update_at(
        &mut self,
        node: Hash32,
        depth: usize,
        ups: &[(Hash32, Option<Hash32>)],
    ) -> Result<Sub> {
        if ups.is_empty() {
            return Ok(if node == EMPTY_ROOT { Sub::Empty } else { Sub::Unchanged(node) });
        }
        if node != EMPTY_ROOT {
            self.touched.push(node);
        }
        match load(self.src, &node)? {
            None => {
                let leaves: Vec<(Hash32, Hash32)> =
                    ups.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
                self.build(depth, &leaves)
            }
            Some(Node::Leaf { key, value }) => {
                let mut leaves: Vec<(Hash32, Hash32)> = Vec::with_capacity(ups.len() + 1);
                if !ups.iter().any(|(k, _)| *k == key) {
                    leaves.push((key, value));
                }
                leaves.extend(ups.iter().filter_map(|(k, v)| v.map(|v| (*k, v))));
                leaves.sort_by_key(|a| a.0);
                self.build(depth, &leaves)
            }
            Some(Node::Internal { left, right }) => {
                if depth >= 256 {
                    return Err(Error::Corrupt("tree deeper than 256"));
                }
                let split = ups.partition_point(|(k, _)| !bit(k, depth));
                let (lu, ru) = ups.split_at(split);
                let l = self.update_at(left, depth + 1, lu)?;
                let r = self.update_at(right, depth + 1, ru)?;
                self.combine(l, r)
            }
        }
    }

    /// Builds the canonical subtree at `depth` for sorted, distinct `leaves`.
    fn build(&mut self, depth: usize, leaves: &[(Hash32, Hash32)]) -> Result<Sub> {
        match leaves {
            [] => Ok(Sub::Empty),
            [(key, value)] => Ok(Sub::Leaf(self.write(Node::Leaf { key: *key, value: *value }))),
            _ => {
                if depth >= 256 {
                    return Err(Error::Misuse("duplicate keys in tree build"));
                }
                let split = leaves.partition_point(|(k, _)| !bit(k, depth));
                let (l, r) = leaves.split_at(split);
                let l = self.build(depth + 1, l)?;
                let r = self.build(depth + 1, r)?;
                self.combine(l, r)
            }
        }
    }
}

/// What the path for a key ends at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Terminal {
    /// An empty subtree: the key is absent.
    Empty,
    /// A leaf: the key itself (present) or another key sharing the path prefix (absent).
    Leaf {
        /// The leaf's key hash.
        key: Hash32,
        /// The leaf's value hash.
        value: Hash32,
    },
}

/// Proof that a key is present with a value hash, or absent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtProof {
    /// Sibling hashes from the root down (`siblings[d]` is the sibling at depth `d + 1`).
    pub siblings: Vec<Hash32>,
    /// What the path ends at.
    pub terminal: Terminal,
}

/// Builds a proof for `key` in the tree at `root`.
pub fn prove(src: &impl NodeSource, root: Hash32, key: &Hash32) -> Result<SmtProof> {
    let mut siblings = Vec::new();
    let mut cur = root;
    loop {
        match load(src, &cur)? {
            None => return Ok(SmtProof { siblings, terminal: Terminal::Empty }),
            Some(Node::Leaf { key: k, value }) => {
                return Ok(SmtProof { siblings, terminal: Terminal::Leaf { key: k, value } });
            }
            Some(Node::Internal { left, right }) => {
                let depth = siblings.len();
                if depth >= 256 {
                    return Err(Error::Corrupt("tree deeper than 256"));
                }
                if bit(key, depth) {
                    siblings.push(left);
                    cur = right;
                } else {
                    siblings.push(right);
                    cur = left;
                }
            }
        }
    }
}

impl SmtProof {
    /// Checks that `key` maps to `value` (`None`: is absent) under `root`.
    pub fn verify(
        &self,
        h: LedgerHash,
        root: &Hash32,
        key: &Hash32,
        value: Option<&Hash32>,
    ) -> Result<()> {
        let depth = self.siblings.len();
        if depth > 256 {
            return Err(Error::ProofInvalid("path longer than 256"));
        }
        let mut acc = match (&self.terminal, value) {
            (Terminal::Leaf { key: k, value: v }, Some(want)) => {
                if k != key || v != want {
                    return Err(Error::ProofInvalid("leaf does not hold this key and value"));
                }
                Node::Leaf { key: *k, value: *v }.hash(h)
            }
            (Terminal::Leaf { key: k, value: v }, None) => {
                if k == key || (0..depth).any(|d| bit(k, d) != bit(key, d)) {
                    return Err(Error::ProofInvalid("leaf does not witness absence"));
                }
                Node::Leaf { key: *k, value: *v }.hash(h)
            }
            (Terminal::Empty, None) => EMPTY_ROOT,
            (Terminal::Empty, Some(_)) => {
                return Err(Error::ProofInvalid("path ends empty but a value is claimed"));
            }
        };
        for d in (0..depth).rev() {
            let sib = &self.siblings[d];
            acc = if bit(key, d) {
                Node::Internal { left: *sib, right: acc }.hash(h)
            } else {
                Node::Internal { left: acc, right: *sib }.hash(h)
            };
        }
        if acc == *root { Ok(()) } else { Err(Error::ProofInvalid("root mismatch")) }
    }
}

impl Encode for SmtProof {
    /// Depth, then a 256-bit map of non-empty siblings, then those siblings: chains of empty
    /// siblings along shared key prefixes cost one bit each.
    fn encode(&self, w: &mut Writer) {
        w.u16(u16::try_from(self.siblings.len()).unwrap_or(u16::MAX));
        let mut map = [0u8; 32];
        for (d, s) in self.siblings.iter().enumerate().take(256) {
            if *s != EMPTY_ROOT {
                map[d / 8] |= 0x80 >> (d % 8);
            }
        }
        w.raw(&map);
        for s in self.siblings.iter().filter(|s| **s != EMPTY_ROOT) {
            w.raw(s);
        }
        match &self.terminal {
            Terminal::Empty => w.u8(0),
            Terminal::Leaf { key, value } => {
                w.u8(1);
                w.raw(key);
                w.raw(value);
            }
        }
    }
}

impl Decode for SmtProof {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let depth = usize::from(r.u16()?);
        if depth > 256 {
            return Err(Error::Malformed("proof deeper than 256"));
        }
        let map: [u8; 32] = r.array()?;
        let mut siblings = Vec::with_capacity(depth);
        for d in 0..256 {
            let set = map[d / 8] & (0x80 >> (d % 8)) != 0;
            if d >= depth {
                if set {
                    return Err(Error::Malformed("proof bitmap beyond depth"));
                }
                continue;
            }
            if set {
                let s: Hash32 = r.array()?;
                if s == EMPTY_ROOT {
                    return Err(Error::Malformed("empty sibling marked present"));
                }
                siblings.push(s);
            } else {
                siblings.push(EMPTY_ROOT);
            }
        }
        let terminal = match r.u8()? {
            0 => Terminal::Empty,
            1 => Terminal::Leaf { key: r.array()?, value: r.array()? },
            _ => return Err(Error::Malformed("proof terminal tag")),
        };
        Ok(Self { siblings, terminal })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const H: LedgerHash = LedgerHash::Sha256;

    fn k(i: u32) -> Hash32 {
        H.hash(&[&i.to_be_bytes()])
    }

    /// Root computed from scratch for a set of leaves, to check incremental updates against.
    fn root_of(set: &BTreeMap<Hash32, Hash32>) -> Hash32 {
        let store: HashMap<Hash32, Node> = HashMap::new();
        let ups: Vec<_> = set.iter().map(|(k, v)| (*k, Some(*v))).collect();
        update(H, &store, EMPTY_ROOT, &ups).unwrap().root
    }

    #[test]
    fn incremental_updates_match_rebuild_and_proofs_verify() {
        let mut store: HashMap<Hash32, Node> = HashMap::new();
        let mut model = BTreeMap::new();
        let mut root = EMPTY_ROOT;
        for round in 0u32..20 {
            let mut ups = Vec::new();
            for j in 0..15u32 {
                let key = k((round * 7 + j * 13) % 60);
                let v = if (round + j) % 4 == 0 { None } else { Some(k(1000 + round * 100 + j)) };
                ups.push((key, v));
            }
            let up = update(H, &store, root, &ups).unwrap();
            for x in &up.stale {
                store.remove(x);
            }
            store.extend(up.new_nodes);
            root = up.root;
            // Apply to the model with last-write-wins, like `update`.
            for (key, v) in &ups {
                match v {
                    Some(v) => model.insert(*key, *v),
                    None => model.remove(key),
                };
            }
            assert_eq!(root, root_of(&model), "round {round}");
            for i in 0..70 {
                let key = k(i);
                let p = prove(&store, root, &key).unwrap();
                p.verify(H, &root, &key, model.get(&key)).unwrap();
                let p2 = SmtProof::from_bytes(&p.to_bytes()).unwrap();
                assert_eq!(p2, p);
                // The wrong claim is refused.
                let wrong = if model.contains_key(&key) { None } else { Some(k(9999)) };
                assert!(p.verify(H, &root, &key, wrong.as_ref()).is_err());
            }
        }
        // Deleting everything returns to the empty root.
        let ups: Vec<_> = model.keys().map(|k| (*k, None)).collect();
        assert_eq!(update(H, &store, root, &ups).unwrap().root, EMPTY_ROOT);
        // Pruning kept exactly the live nodes: a rebuild from scratch needs the same number.
        let mut fresh: HashMap<Hash32, Node> = HashMap::new();
        let ups: Vec<_> = model.iter().map(|(k, v)| (*k, Some(*v))).collect();
        fresh.extend(update(H, &fresh, EMPTY_ROOT, &ups).unwrap().new_nodes);
        assert_eq!(fresh.len(), store.len());
    }

    #[test]
    fn tampered_proofs_fail() {
        let mut store: HashMap<Hash32, Node> = HashMap::new();
        let ups: Vec<_> = (0..100).map(|i| (k(i), Some(k(i + 500)))).collect();
        let up = update(H, &store, EMPTY_ROOT, &ups).unwrap();
        let root = up.root;
        store.extend(up.new_nodes);
        let p = prove(&store, root, &k(5)).unwrap();
        let bytes = p.to_bytes();
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            if let Ok(q) = SmtProof::from_bytes(&b) {
                assert!(q.verify(H, &root, &k(5), Some(&k(505))).is_err(), "byte {i}");
            }
        }
    }
}
