//! Prediction: the guest routes each row through every tree, asking the host for its splits.
//!
//! * Tessera ([`BoostProtocol::Tessera`], [`BoostProtocol::TesseraPaillier`]): one message;
//!   the host sends its decision for every (split, row), bit-packed, and the guest routes
//!   alone. The guest thereby learns all host decisions for the scored rows (also those off
//!   the row's path), the host learns nothing.
//! * FATE ([`BoostProtocol::FateBaseline`]): FATE's `boosting_fast_predict` (FATE 1.x,
//!   `federatedml/ensemble/boosting/hetero/hetero_secureboost_guest.py` and `_host.py`): in
//!   rounds, the guest walks its own nodes, then sends a stop flag and, for every row not yet
//!   at a leaf in all trees, a record `{node_pos, reach_leaf_node}` with one entry per tree;
//!   the host walks its consecutive nodes from each position and returns the same record; the
//!   guest merges and continues until every row is at a leaf. Modelled with the cheapest
//!   encoding FATE uses (`np.int8` positions in `predict_utils.generate_leaf_pos_dict`, one
//!   byte per `bool`), a 4-byte row key instead of FATE's sample-ID string, and a 1-byte stop
//!   flag, without FATE's pickling overhead: a lower bound on FATE's bytes. Positions are the
//!   tree-local host split index (guest to host) and the host's path code (host to guest).

use tessera_mpc::{Channel, PartyId};

use super::{
    BoostModel, BoostProtocol, GuestModel, GuestNode, HostModel, Reader, bits_of, sigmoid, softmax,
};
use crate::stats::{PhaseStats, PhaseTimer};
use crate::{Error, Result, VerticalDataset};

/// Index of the largest entry.
pub fn argmax(v: &[f64]) -> usize {
    v.iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |b, (i, &x)| if x > b.1 { (i, x) } else { b })
        .0
}

/// Longest host-node chain one FATE round resolves per tree (the path code is one byte).
const MAX_CHAIN: usize = 7;

impl GuestModel {
    fn probabilities(&self, scores: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
        scores
            .into_iter()
            .map(|s| if self.classes > 2 { softmax(&s) } else { vec![sigmoid(s[0])] })
            .collect()
    }

    fn initial(&self) -> Vec<f64> {
        if self.classes > 2 { self.base_scores.clone() } else { vec![self.base_score] }
    }

    fn class_of(&self, tree: usize) -> usize {
        if self.classes > 2 { tree % self.classes } else { 0 }
    }
}

fn node(nodes: &[GuestNode], k: usize) -> Result<&GuestNode> {
    nodes.get(k).ok_or(Error::Misuse("tree node out of range".into()))
}

/// Walks guest splits from `k` until a leaf (`Ok(Err(leaf))`) or a host split (`Ok(Ok(k))`).
fn walk_guest(
    nodes: &[GuestNode],
    mut k: usize,
    row: &[f64],
) -> Result<std::result::Result<usize, f64>> {
    for _ in 0..=nodes.len() {
        match node(nodes, k)? {
            GuestNode::Leaf(v) => return Ok(Err(*v)),
            GuestNode::Guest { feature, threshold, left, right } => {
                k = if row.get(*feature).is_some_and(|&x| x <= *threshold) {
                    *left
                } else {
                    *right
                };
            }
            GuestNode::Host { .. } => return Ok(Ok(k)),
        }
    }
    Err(Error::Misuse("tree has a cycle".into()))
}

impl BoostModel {
    /// Scores aligned rows; the guest gets `Some(P(y = 1))` for the binary objective, or
    /// `Some(predicted class)` for softmax; the host gets `None`.
    pub fn predict(
        &self,
        ch: &mut dyn Channel,
        peer: PartyId,
        data: &VerticalDataset,
        protocol: BoostProtocol,
    ) -> Result<(Option<Vec<f64>>, PhaseStats)> {
        let (p, stats) = self.predict_proba(ch, peer, data, protocol)?;
        let out = p.map(|rows| {
            rows.into_iter().map(|r| if r.len() == 1 { r[0] } else { argmax(&r) as f64 }).collect()
        });
        Ok((out, stats))
    }

    /// Scores aligned rows; the guest gets per-row class probabilities (one column, `P(y = 1)`,
    /// for the binary objective), the host `None`.
    pub fn predict_proba(
        &self,
        ch: &mut dyn Channel,
        peer: PartyId,
        data: &VerticalDataset,
        protocol: BoostProtocol,
    ) -> Result<(Option<Vec<Vec<f64>>>, PhaseStats)> {
        let timer = PhaseTimer::start("predict", ch);
        let out = match (self, protocol) {
            (BoostModel::Host(m), BoostProtocol::FateBaseline) => {
                host_fate(m, ch, peer, data)?;
                None
            }
            (BoostModel::Host(m), _) => {
                host_packed(m, ch, peer, data)?;
                None
            }
            (BoostModel::Guest(m), BoostProtocol::FateBaseline) => {
                Some(guest_fate(m, ch, peer, data)?)
            }
            (BoostModel::Guest(m), _) => Some(guest_packed(m, ch, peer, data)?),
        };
        Ok((out, timer.finish(ch)))
    }
}

fn host_packed(
    m: &HostModel,
    ch: &mut dyn Channel,
    peer: PartyId,
    data: &VerticalDataset,
) -> Result<()> {
    let n = data.len();
    let mut msg = (n as u64).to_le_bytes().to_vec();
    for &(j, t) in &m.splits {
        if j >= data.num_features() {
            return Err(Error::Misuse("model and data features differ".into()));
        }
        let mask: Vec<bool> = (0..n).map(|i| data.row(i)[j] <= t).collect();
        msg.extend_from_slice(&bits_of(&mask));
    }
    ch.send(peer, &msg)?;
    Ok(())
}

fn guest_packed(
    m: &GuestModel,
    ch: &mut dyn Channel,
    peer: PartyId,
    data: &VerticalDataset,
) -> Result<Vec<Vec<f64>>> {
    let n = data.len();
    let msg = ch.recv(peer)?;
    let mut r = Reader(&msg);
    if u64::from_le_bytes(r.take(8)?.try_into().unwrap_or_default()) != n as u64 {
        return Err(Error::Misuse("prediction rows are not aligned with the host's".into()));
    }
    let per = n.div_ceil(8);
    if per > 0 && !r.0.len().is_multiple_of(per) {
        return Err(Error::PeerMessage("decision table length"));
    }
    let table = r.0;
    let host = |split: usize, i: usize| -> Result<bool> {
        table
            .get(split * per + i / 8)
            .map(|b| b >> (i % 8) & 1 == 1)
            .ok_or(Error::PeerMessage("decision for an unknown host split"))
    };
    let mut scores = Vec::with_capacity(n);
    for i in 0..n {
        let mut s = m.initial();
        for (t, nodes) in m.trees.iter().enumerate() {
            let mut k = 0;
            let leaf = loop {
                match walk_guest(nodes, k, data.row(i))? {
                    Err(v) => break v,
                    Ok(h) => {
                        let GuestNode::Host { split, left, right } = node(nodes, h)? else {
                            return Err(Error::Misuse("tree node".into()));
                        };
                        k = if host(*split, i)? { *left } else { *right };
                    }
                }
            };
            let c = m.class_of(t);
            *s.get_mut(c).ok_or(Error::Misuse("class".into()))? += leaf;
        }
        scores.push(s);
    }
    Ok(m.probabilities(scores))
}

/// First host split id of each tree as the guest sees it (the host numbers splits in tree
/// order, so that is the tree's smallest id).
fn tree_starts(m: &GuestModel) -> Vec<usize> {
    m.trees
        .iter()
        .map(|nodes| {
            nodes
                .iter()
                .filter_map(|nd| {
                    if let GuestNode::Host { split, .. } = nd { Some(*split) } else { None }
                })
                .min()
                .unwrap_or(0)
        })
        .collect()
}

fn guest_fate(
    m: &GuestModel,
    ch: &mut dyn Channel,
    peer: PartyId,
    data: &VerticalDataset,
) -> Result<Vec<Vec<f64>>> {
    let n = data.len();
    let trees = m.trees.len();
    let starts = tree_starts(m);
    // Per row and tree: the current node, or the leaf value once reached.
    let mut at: Vec<Vec<std::result::Result<usize, f64>>> = vec![vec![Ok(0); trees]; n];
    for _round in 0..=64 {
        let mut active = Vec::new();
        for (i, row) in at.iter_mut().enumerate() {
            for (t, state) in row.iter_mut().enumerate() {
                if let Ok(k) = *state {
                    *state = walk_guest(&m.trees[t], k, data.row(i))?;
                }
            }
            if row.iter().any(|s| s.is_ok()) {
                active.push(i);
            }
        }
        if active.is_empty() {
            ch.send(peer, &[1])?;
            let mut scores = Vec::with_capacity(n);
            for row in &at {
                let mut s = m.initial();
                for (t, state) in row.iter().enumerate() {
                    if let Err(v) = state {
                        *s.get_mut(m.class_of(t)).ok_or(Error::Misuse("class".into()))? += v;
                    }
                }
                scores.push(s);
            }
            return Ok(m.probabilities(scores));
        }
        ch.send(peer, &[0])?;
        let mut msg = Vec::with_capacity(active.len() * (4 + 2 * trees));
        for &i in &active {
            msg.extend_from_slice(&(i as u32).to_le_bytes());
            for (t, state) in at[i].iter().enumerate() {
                match state {
                    Ok(k) => {
                        let GuestNode::Host { split, .. } = node(&m.trees[t], *k)? else {
                            return Err(Error::Misuse("tree node".into()));
                        };
                        let local = split - starts[t];
                        msg.push(u8::try_from(local).map_err(|_| {
                            Error::Misuse("more than 256 host splits in a tree".into())
                        })?);
                        msg.push(0);
                    }
                    Err(_) => msg.extend_from_slice(&[0, 1]),
                }
            }
        }
        ch.send(peer, &msg)?;
        let reply = ch.recv(peer)?;
        if reply.len() != msg.len() {
            return Err(Error::PeerMessage("prediction reply length"));
        }
        let mut r = Reader(&reply);
        for &i in &active {
            if r.u32()? != i {
                return Err(Error::PeerMessage("prediction reply order"));
            }
            #[allow(clippy::needless_range_loop)]
            for t in 0..trees {
                let (code, _reach) = (r.byte()?, r.byte()?);
                if let Ok(mut k) = at[i][t] {
                    if code == 0 {
                        return Err(Error::PeerMessage("empty host path"));
                    }
                    let len = 7 - code.leading_zeros() as usize;
                    for step in 0..len {
                        let GuestNode::Host { left, right, .. } = node(&m.trees[t], k)? else {
                            return Err(Error::PeerMessage("host path leaves the host nodes"));
                        };
                        k = if code >> step & 1 == 1 { *left } else { *right };
                    }
                    at[i][t] = Ok(k);
                }
            }
        }
    }
    Err(Error::PeerMessage("prediction did not finish"))
}

fn host_fate(
    m: &HostModel,
    ch: &mut dyn Channel,
    peer: PartyId,
    data: &VerticalDataset,
) -> Result<()> {
    let n = data.len();
    let trees = m.tree_starts.len();
    for _round in 0..=64 {
        let flag = ch.recv(peer)?;
        if flag.as_slice() == [1] {
            return Ok(());
        }
        let msg = ch.recv(peer)?;
        let rec = 4 + 2 * trees;
        if rec == 0 || !msg.len().is_multiple_of(rec) {
            return Err(Error::PeerMessage("prediction record length"));
        }
        let mut reply = Vec::with_capacity(msg.len());
        let mut r = Reader(&msg);
        while !r.0.is_empty() {
            let i = r.u32()?;
            let row = (i < n).then(|| data.row(i)).ok_or(Error::PeerMessage("row out of range"))?;
            reply.extend_from_slice(&(i as u32).to_le_bytes());
            for t in 0..trees {
                let (pos, reach) = (usize::from(r.byte()?), r.byte()?);
                if reach != 0 {
                    reply.extend_from_slice(&[0, reach]);
                    continue;
                }
                let end = m.tree_starts.get(t + 1).copied().unwrap_or(m.splits.len());
                let mut split = m.tree_starts[t] + pos;
                if split >= end {
                    return Err(Error::PeerMessage("unknown host node"));
                }
                // Walk the chain of this party's consecutive nodes; bit `k` of the code is the
                // `k`-th decision (1: left), the leading 1 marks the length.
                let (mut code, mut len) = (0u8, 0usize);
                loop {
                    let &(j, th) = m.splits.get(split).ok_or(Error::PeerMessage("split"))?;
                    let left = row.get(j).is_some_and(|&x| x <= th);
                    code |= u8::from(left) << len;
                    len += 1;
                    let next = m.children.get(split).and_then(|c| c[usize::from(!left)]);
                    match next {
                        Some(s) if len < MAX_CHAIN => split = s,
                        _ => break,
                    }
                }
                reply.extend_from_slice(&[code | 1 << len, 0]);
            }
        }
        ch.send(peer, &reply)?;
    }
    Err(Error::PeerMessage("prediction did not finish"))
}
