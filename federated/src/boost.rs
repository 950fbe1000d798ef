//! Vertical gradient boosting: SecureBoost (Cheng et al., "SecureBoost: A Lossless Federated
//! Learning Framework", IEEE Intelligent Systems 2021, Algorithms 1–3), binary logistic
//! objective, XGBoost-style second-order split gain and leaf weights.
//!
//! The guest holds the labels, so it computes gradients `g` and hessians `h`, encrypts them
//! under its own Paillier key and sends them to the host. For every tree node the host sums the
//! ciphertexts of the node's samples per (feature, bin) — encrypted bin histograms — and
//! returns them; the guest decrypts, finds the best split over both parties' features and tells
//! the host which of its (feature, bin) pairs won, if any. The host applies its own splits and
//! returns the left/right partition. Histogram subtraction: of two siblings only the smaller is
//! histogrammed; the guest derives the other as parent − smaller after decryption.
//!
//! **[`BoostProtocol::Tessera`]** packs a sample's quantised `(g, h)` into one ciphertext (two
//! 64-bit slots) and the host packs 15 bins (30 slots) of a histogram into one ciphertext by
//! Horner's rule (`acc·2^128 + bin`), so a histogram of `B` bins costs `⌈B/15⌉` ciphertexts.
//! Host decisions in prediction are bit-packed.
//! **[`BoostProtocol::FateBaseline`]** follows FATE's schedule with one 2048-bit Paillier
//! ciphertext per value: `[[g_i]]` and `[[h_i]]` per sample and tree, and two ciphertexts per
//! (feature, bin) of each histogram; host decisions in prediction take a byte each. Like FATE,
//! the baseline does not re-randomise bin sums (a one-sample bin then equals a ciphertext the
//! guest sent, telling it that sample's bin); Tessera re-randomises every histogram ciphertext.
//!
//! Security: semi-honest, two parties, guest-held key (Paillier, IND-CPA under DCR). As in
//! SecureBoost, the host learns the sample partition of every node (needed to build
//! histograms), and the guest learns the per-bin gradient sums of the host's features and, in
//! prediction, the host's split decisions for the rows it scores; the host learns no gradient,
//! label or leaf value. Prediction takes one message from host to guest.

use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};
use tessera_fhe::{PaillierCiphertext, PaillierPublicKey, paillier_keygen};
use tessera_mpc::{Channel, PartyId};

use crate::lr::Role;
use crate::paillier::{
    decode_cts, decrypt_signed, encode_cts, encrypt_all, encrypt_zero, pack, quantise,
    signed_to_zn, unpack,
};
use crate::stats::{PhaseStats, PhaseTimer};
use crate::{Error, Result, VerticalDataset};

/// Which message schedule to train with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoostProtocol {
    /// One ciphertext per sample, 15 bins per histogram ciphertext, bit-packed decisions.
    Tessera,
    /// FATE's schedule: one Paillier ciphertext per value.
    FateBaseline,
}

/// Builder and trainer for SecureBoost (see the module docs).
#[derive(Clone, Debug)]
pub struct HeteroSecureBoost {
    trees: usize,
    max_depth: usize,
    learning_rate: f64,
    max_bins: usize,
    lambda: f64,
    min_child_weight: f64,
    protocol: BoostProtocol,
    key_bits: usize,
}

impl Default for HeteroSecureBoost {
    fn default() -> Self {
        Self {
            trees: 5,
            max_depth: 3,
            learning_rate: 0.3,
            max_bins: 32,
            lambda: 1.0,
            min_child_weight: 1e-3,
            protocol: BoostProtocol::Tessera,
            key_bits: tessera_fhe::paillier::DEFAULT_MODULUS_BITS,
        }
    }
}

/// Fractional bits of the quantised gradients and hessians.
const GH_SCALE: u32 = 20;
/// Bins per packed histogram ciphertext: two 64-bit slots each, one spare pair for the sign
/// (15 at 2048 bits).
fn bins_per_ct(pk: &PaillierPublicKey) -> usize {
    (pk.modulus().bits() / 128).saturating_sub(1).max(1)
}

/// A node of a tree as the guest stores it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum GuestNode {
    /// A leaf and its (learning-rate scaled) weight.
    Leaf(f64),
    /// A split on a guest feature: `x[feature] ≤ threshold` goes left.
    Guest {
        /// Feature index.
        feature: usize,
        /// Threshold.
        threshold: f64,
        /// Left child index.
        left: usize,
        /// Right child index.
        right: usize,
    },
    /// A split the host holds, by its index in the host's split table.
    Host {
        /// Index in [`HostModel::splits`].
        split: usize,
        /// Left child index.
        left: usize,
        /// Right child index.
        right: usize,
    },
}

/// The guest's part: tree structures, its thresholds and the leaf weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuestModel {
    /// Trees as node arrays, root first.
    pub trees: Vec<Vec<GuestNode>>,
    /// Initial score (log-odds of the base rate).
    pub base_score: f64,
}

/// The host's part: only its own split rules, which the guest refers to by index.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostModel {
    /// `(feature, threshold)`: `x[feature] ≤ threshold` goes left.
    pub splits: Vec<(usize, f64)>,
}

/// One party's trained model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum BoostModel {
    /// The guest's part.
    Guest(GuestModel),
    /// The host's part.
    Host(HostModel),
}

/// What [`HeteroSecureBoost::fit`] returns to one party.
#[derive(Clone, Debug)]
pub struct BoostTraining {
    /// This party's model.
    pub model: BoostModel,
    /// Traffic per phase ("setup", "train").
    pub phases: Vec<PhaseStats>,
    /// Training log-loss after each tree (guest only).
    pub loss_history: Vec<f64>,
}

/// Quantile bin edges of one column: `bin(x) = #edges < x`, so `bin ≤ b ⇔ x ≤ edges[b]`.
fn bin_edges(values: &mut [f64], max_bins: usize) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    let mut edges: Vec<f64> = (1..max_bins)
        .map(|k| values[(k * values.len() / max_bins).min(values.len() - 1)])
        .collect();
    edges.dedup();
    edges
}

struct Binned {
    edges: Vec<Vec<f64>>,
    /// Row-major bin indices.
    bins: Vec<u16>,
    d: usize,
}

impl Binned {
    fn new(data: &VerticalDataset, max_bins: usize) -> Self {
        let d = data.num_features();
        let n = data.len();
        let edges: Vec<Vec<f64>> = (0..d)
            .map(|j| {
                let mut col: Vec<f64> = (0..n).map(|i| data.row(i)[j]).collect();
                if col.is_empty() { Vec::new() } else { bin_edges(&mut col, max_bins) }
            })
            .collect();
        let mut bins = Vec::with_capacity(n * d);
        for i in 0..n {
            for (j, e) in edges.iter().enumerate() {
                let x = data.row(i)[j];
                bins.push(e.partition_point(|&t| t < x) as u16);
            }
        }
        Self { edges, bins, d }
    }

    fn bin(&self, i: usize, j: usize) -> usize {
        usize::from(self.bins[i * self.d + j])
    }

    fn num_bins(&self, j: usize) -> usize {
        self.edges[j].len() + 1
    }
}

/// Per (feature, bin) sums of g and h.
type Hist = Vec<Vec<(f64, f64)>>;

/// A node's chosen split: the guest's `(feature, threshold)` (or `None` for a host split) and
/// which of the node's samples go left.
type Chosen = (Option<(usize, f64)>, Vec<bool>);

fn sigmoid(u: f64) -> f64 {
    1.0 / (1.0 + (-u).exp())
}

fn bits_of(mask: &[bool]) -> Vec<u8> {
    let mut out = vec![0u8; mask.len().div_ceil(8)];
    for (i, &b) in mask.iter().enumerate() {
        if b {
            out[i / 8] |= 1 << (i % 8);
        }
    }
    out
}

fn mask_of(bytes: &[u8], len: usize) -> Result<Vec<bool>> {
    if bytes.len() != len.div_ceil(8) {
        return Err(Error::PeerMessage("wrong bitmask length"));
    }
    Ok((0..len).map(|i| bytes[i / 8] >> (i % 8) & 1 == 1).collect())
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let (a, b) = self.0.split_at_checked(n).ok_or(Error::PeerMessage("truncated message"))?;
        self.0 = b;
        Ok(a)
    }
    fn u32(&mut self) -> Result<usize> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }
    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
}

/// An open node both parties track: its tree index and its samples.
struct Open {
    node: usize,
    samples: Vec<usize>,
    /// Whether the host histograms it (root, or the smaller of two siblings).
    histogrammed: bool,
    /// Index of its sibling in the open list and of the parent's host histogram.
    sibling: Option<usize>,
    parent_hist: Option<usize>,
}

impl HeteroSecureBoost {
    /// Defaults: 5 trees of depth 3, learning rate 0.3, 32 bins, λ = 1, Tessera protocol,
    /// 2048-bit Paillier.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of trees.
    pub fn trees(mut self, t: usize) -> Self {
        self.trees = t;
        self
    }
    /// Maximum depth of a tree.
    pub fn max_depth(mut self, d: usize) -> Self {
        self.max_depth = d;
        self
    }
    /// Shrinkage of leaf weights.
    pub fn learning_rate(mut self, lr: f64) -> Self {
        self.learning_rate = lr;
        self
    }
    /// Quantile bins per feature (2–256).
    pub fn max_bins(mut self, b: usize) -> Self {
        self.max_bins = b;
        self
    }
    /// L2 penalty on leaf weights.
    pub fn lambda(mut self, l: f64) -> Self {
        self.lambda = l;
        self
    }
    /// The message schedule.
    pub fn protocol(mut self, p: BoostProtocol) -> Self {
        self.protocol = p;
        self
    }
    /// The configured message schedule.
    pub fn protocol_kind(&self) -> BoostProtocol {
        self.protocol
    }
    /// Paillier modulus size.
    pub fn key_bits(mut self, bits: usize) -> Self {
        self.key_bits = bits;
        self
    }

    fn gain(&self, g: f64, h: f64) -> f64 {
        g * g / (h + self.lambda)
    }

    /// Best split of one histogram: `(gain, feature, bin)`.
    fn best_split(&self, hist: &Hist, total: (f64, f64)) -> Option<(f64, usize, usize)> {
        let mut best: Option<(f64, usize, usize)> = None;
        let parent = self.gain(total.0, total.1);
        for (j, bins) in hist.iter().enumerate() {
            let (mut gl, mut hl) = (0.0, 0.0);
            for (b, &(g, h)) in bins.iter().enumerate().take(bins.len().saturating_sub(1)) {
                gl += g;
                hl += h;
                let (gr, hr) = (total.0 - gl, total.1 - hl);
                if hl < self.min_child_weight || hr < self.min_child_weight {
                    continue;
                }
                let gain = self.gain(gl, hl) + self.gain(gr, hr) - parent;
                if gain > 1e-9 && best.is_none_or(|(bg, _, _)| gain > bg) {
                    best = Some((gain, j, b));
                }
            }
        }
        best
    }

    /// Trains; both parties call it at once with their own role and aligned rows.
    pub fn fit(
        &self,
        ch: &mut dyn Channel,
        peer: PartyId,
        role: Role,
        data: &VerticalDataset,
    ) -> Result<BoostTraining> {
        if !(2..=256).contains(&self.max_bins) || self.max_depth == 0 || self.max_depth > 16 {
            return Err(Error::Misuse("2 ≤ max_bins ≤ 256 and 1 ≤ max_depth ≤ 16".into()));
        }
        let n = data.len();
        let setup_timer = PhaseTimer::start("setup", ch);
        // The guest's public key and the row count.
        let (keys, peer_pk) = match role {
            Role::Guest => {
                let mut rng = rand_chacha::ChaCha20Rng::from_rng(rand_core::OsRng)
                    .map_err(|_| Error::Misuse("no OS randomness".into()))?;
                let (pk, sk) = paillier_keygen(self.key_bits, &mut rng)?;
                let mut msg = (n as u64).to_le_bytes().to_vec();
                msg.extend_from_slice(&pk.to_bytes());
                ch.send(peer, &msg)?;
                (Some((pk, sk)), None)
            }
            Role::Host => {
                let msg = ch.recv(peer)?;
                let mut r = Reader(&msg);
                let peer_n = u64::from_le_bytes(r.take(8)?.try_into().unwrap_or_default());
                if peer_n != n as u64 {
                    return Err(Error::Misuse(format!(
                        "rows are not aligned: {n} here, {peer_n} at the guest (run the PSI first)"
                    )));
                }
                (None, Some(PaillierPublicKey::from_bytes(r.0)?))
            }
        };
        let binned = Binned::new(data, self.max_bins);
        // The host tells the guest how many bins each of its features has.
        let host_bins: Vec<usize> = match role {
            Role::Host => {
                let mut msg = Vec::new();
                for j in 0..binned.d {
                    msg.extend_from_slice(&(binned.num_bins(j) as u32).to_le_bytes());
                }
                ch.send(peer, &msg)?;
                Vec::new()
            }
            Role::Guest => {
                let msg = ch.recv(peer)?;
                if msg.len() % 4 != 0 || msg.len() / 4 > 1 << 16 {
                    return Err(Error::PeerMessage("bad bin counts"));
                }
                let mut r = Reader(&msg);
                (0..msg.len() / 4)
                    .map(|_| {
                        r.u32().and_then(|b| {
                            if (1..=257).contains(&b) {
                                Ok(b)
                            } else {
                                Err(Error::PeerMessage("bin count out of range"))
                            }
                        })
                    })
                    .collect::<Result<_>>()?
            }
        };
        let setup = setup_timer.finish(ch);
        let train_timer = PhaseTimer::start("train", ch);
        let result = match role {
            Role::Guest => {
                let (pk, sk) = keys.ok_or_else(|| Error::Misuse("guest keys".into()))?;
                self.fit_guest(ch, peer, data, &binned, &host_bins, &pk, &sk)?
            }
            Role::Host => {
                let pk = peer_pk.ok_or_else(|| Error::Misuse("host key".into()))?;
                (self.fit_host(ch, peer, data, &binned, &pk)?, Vec::new())
            }
        };
        Ok(BoostTraining {
            model: result.0,
            phases: vec![setup, train_timer.finish(ch)],
            loss_history: result.1,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn fit_guest(
        &self,
        ch: &mut dyn Channel,
        peer: PartyId,
        data: &VerticalDataset,
        binned: &Binned,
        host_bins: &[usize],
        pk: &PaillierPublicKey,
        sk: &tessera_fhe::PaillierSecretKey,
    ) -> Result<(BoostModel, Vec<f64>)> {
        let y =
            data.labels.clone().ok_or_else(|| Error::Misuse("the guest needs labels".into()))?;
        if y.iter().any(|&v| v != 0.0 && v != 1.0) {
            return Err(Error::Misuse("binary labels must be 0 or 1".into()));
        }
        let n = y.len();
        let rate = (y.iter().sum::<f64>() / n.max(1) as f64).clamp(1e-6, 1.0 - 1e-6);
        let base_score = (rate / (1.0 - rate)).ln();
        let mut score = vec![base_score; n];
        let mut trees = Vec::new();
        let mut loss_history = Vec::new();
        let modulus = pk.modulus().clone();
        for _ in 0..self.trees {
            let p: Vec<f64> = score.iter().map(|&s| sigmoid(s)).collect();
            let g: Vec<f64> = p.iter().zip(&y).map(|(p, y)| p - y).collect();
            let h: Vec<f64> = p.iter().map(|p| p * (1.0 - p)).collect();
            let gq: Vec<i64> = g.iter().map(|&v| quantise(v, GH_SCALE)).collect();
            let hq: Vec<i64> = h.iter().map(|&v| quantise(v, GH_SCALE)).collect();
            let plain: Vec<_> = match self.protocol {
                BoostProtocol::Tessera => {
                    gq.iter().zip(&hq).map(|(&a, &b)| pack(&[a, b], &modulus)).collect()
                }
                BoostProtocol::FateBaseline => gq
                    .iter()
                    .zip(&hq)
                    .flat_map(|(&a, &b)| {
                        [signed_to_zn(a.into(), &modulus), signed_to_zn(b.into(), &modulus)]
                    })
                    .collect(),
            };
            ch.send(peer, &encode_cts(pk, &encrypt_all(pk, &plain)?))?;

            let mut nodes: Vec<GuestNode> = vec![GuestNode::Leaf(0.0)];
            // Training rows of each finished leaf, to update the scores without routing (the
            // guest cannot evaluate the host's splits).
            let mut leaves: Vec<(Vec<usize>, f64)> = Vec::new();
            let mut open = vec![Open {
                node: 0,
                samples: (0..n).collect(),
                histogrammed: true,
                sibling: None,
                parent_hist: None,
            }];
            // Decrypted host histograms of the open nodes (by position in `open`).
            let mut parent_hists: Vec<Hist> = Vec::new();
            let mut depth = 0;
            while !open.is_empty() {
                // Receive the host histograms of the histogrammed nodes.
                let msg = ch.recv(peer)?;
                let per_feature: Vec<usize> = host_bins
                    .iter()
                    .map(|&b| match self.protocol {
                        BoostProtocol::Tessera => b.div_ceil(bins_per_ct(pk)),
                        BoostProtocol::FateBaseline => 2 * b,
                    })
                    .collect();
                let per_node: usize = per_feature.iter().sum();
                let count = open.iter().filter(|o| o.histogrammed).count();
                let cts = decode_cts(pk, &msg, count * per_node)?;
                let mut hists: Vec<Option<Hist>> = vec![None; open.len()];
                let mut it = cts.chunks(per_node.max(1));
                let scale = f64::from(1u32 << GH_SCALE);
                for (k, o) in open.iter().enumerate().filter(|(_, o)| o.histogrammed) {
                    let chunk = if per_node == 0 {
                        &[][..]
                    } else {
                        it.next().ok_or(Error::PeerMessage("histograms"))?
                    };
                    let mut hist: Hist = Vec::with_capacity(host_bins.len());
                    let mut at = 0;
                    for (j, &b) in host_bins.iter().enumerate() {
                        let cs = &chunk[at..at + per_feature[j]];
                        at += per_feature[j];
                        let mut bins = Vec::with_capacity(b);
                        match self.protocol {
                            BoostProtocol::Tessera => {
                                for (c, ct) in cs.iter().enumerate() {
                                    let here = bins_per_ct(pk).min(b - c * bins_per_ct(pk));
                                    let v = unpack(&sk.decrypt(ct), &modulus, 2 * here);
                                    bins.extend(
                                        v.chunks_exact(2)
                                            .map(|p| (p[0] as f64 / scale, p[1] as f64 / scale)),
                                    );
                                }
                            }
                            BoostProtocol::FateBaseline => {
                                for pair in cs.chunks_exact(2) {
                                    let gs = decrypt_signed(sk, &modulus, &pair[0]) as f64 / scale;
                                    let hs = decrypt_signed(sk, &modulus, &pair[1]) as f64 / scale;
                                    bins.push((gs, hs));
                                }
                            }
                        }
                        hist.push(bins);
                    }
                    let _ = o;
                    hists[k] = Some(hist);
                }
                // Histogram subtraction: the larger sibling is parent − smaller.
                for k in 0..open.len() {
                    if hists[k].is_none() {
                        let (sib, parent) = match (open[k].sibling, open[k].parent_hist) {
                            (Some(s), Some(p)) => (s, p),
                            _ => return Err(Error::PeerMessage("missing histogram")),
                        };
                        let small =
                            hists[sib].clone().ok_or(Error::PeerMessage("missing histogram"))?;
                        let par = parent_hists
                            .get(parent)
                            .ok_or(Error::PeerMessage("missing histogram"))?;
                        hists[k] = Some(
                            par.iter()
                                .zip(&small)
                                .map(|(pb, sb)| {
                                    pb.iter().zip(sb).map(|(a, b)| (a.0 - b.0, a.1 - b.1)).collect()
                                })
                                .collect(),
                        );
                    }
                }
                // Decide every open node.
                let mut decisions = Vec::new();
                let mut pending_host = Vec::new();
                // Per open node: (guest rule or None for a host split, left mask).
                let mut splits_here: Vec<Option<Chosen>> = vec![None; open.len()];
                let mut host_split_ids: Vec<usize> = vec![0; open.len()];
                let mut next_open = Vec::new();
                let mut next_parent_hists = Vec::new();
                for (k, o) in open.iter().enumerate() {
                    let total = o.samples.iter().fold((0.0, 0.0), |a, &i| (a.0 + g[i], a.1 + h[i]));
                    let leaf = -total.0 / (total.1 + self.lambda) * self.learning_rate;
                    let mut best: Option<(f64, bool, usize, usize)> = None;
                    if depth < self.max_depth && o.samples.len() > 1 {
                        let mut own: Hist =
                            (0..binned.d).map(|j| vec![(0.0, 0.0); binned.num_bins(j)]).collect();
                        for &i in &o.samples {
                            for (j, bins) in own.iter_mut().enumerate() {
                                let b = &mut bins[binned.bin(i, j)];
                                b.0 += g[i];
                                b.1 += h[i];
                            }
                        }
                        if let Some((gain, j, b)) = self.best_split(&own, total) {
                            best = Some((gain, true, j, b));
                        }
                        if let Some(hist) = &hists[k]
                            && let Some((gain, j, b)) = self.best_split(hist, total)
                            && best.is_none_or(|(bg, ..)| gain > bg)
                        {
                            best = Some((gain, false, j, b));
                        }
                    }
                    match best {
                        None => {
                            nodes[o.node] = GuestNode::Leaf(leaf);
                            leaves.push((o.samples.clone(), leaf));
                            decisions.push(0u8);
                        }
                        Some((_, true, j, b)) => {
                            let left_mask: Vec<bool> =
                                o.samples.iter().map(|&i| binned.bin(i, j) <= b).collect();
                            decisions.push(1);
                            decisions.extend_from_slice(&bits_of(&left_mask));
                            splits_here[k] = Some((Some((j, binned.edges[j][b])), left_mask));
                        }
                        Some((_, false, j, b)) => {
                            decisions.push(2);
                            decisions.extend_from_slice(&(j as u32).to_le_bytes());
                            decisions.extend_from_slice(&(b as u32).to_le_bytes());
                            pending_host.push(k);
                        }
                    }
                }
                ch.send(peer, &decisions)?;
                if !pending_host.is_empty() {
                    // The host returns the split index and the left mask of each host split.
                    let msg = ch.recv(peer)?;
                    let mut r = Reader(&msg);
                    for &k in &pending_host {
                        let o = &open[k];
                        host_split_ids[k] = r.u32()?;
                        let left_mask =
                            mask_of(r.take(o.samples.len().div_ceil(8))?, o.samples.len())?;
                        splits_here[k] = Some((None, left_mask));
                    }
                    if !r.0.is_empty() {
                        return Err(Error::PeerMessage("trailing bytes after host splits"));
                    }
                }
                // Children in open-node order, as the host builds them.
                for (k, o) in open.iter().enumerate() {
                    let Some((rule, left_mask)) = &splits_here[k] else { continue };
                    let (l, r) = (nodes.len(), nodes.len() + 1);
                    nodes.push(GuestNode::Leaf(0.0));
                    nodes.push(GuestNode::Leaf(0.0));
                    nodes[o.node] = match rule {
                        Some((feature, threshold)) => GuestNode::Guest {
                            feature: *feature,
                            threshold: *threshold,
                            left: l,
                            right: r,
                        },
                        None => GuestNode::Host { split: host_split_ids[k], left: l, right: r },
                    };
                    self.push_children(
                        o,
                        left_mask,
                        (l, r),
                        k,
                        &hists,
                        &mut next_open,
                        &mut next_parent_hists,
                    );
                }
                depth += 1;
                if depth >= self.max_depth {
                    // Children at the maximal depth become leaves without another round.
                    for o in &next_open {
                        let total =
                            o.samples.iter().fold((0.0, 0.0), |a, &i| (a.0 + g[i], a.1 + h[i]));
                        let leaf = -total.0 / (total.1 + self.lambda) * self.learning_rate;
                        nodes[o.node] = GuestNode::Leaf(leaf);
                        leaves.push((o.samples.clone(), leaf));
                    }
                    next_open.clear();
                }
                open = next_open;
                parent_hists = next_parent_hists;
            }
            // Update scores with the new tree.
            for (rows, leaf) in &leaves {
                for &i in rows {
                    score[i] += leaf;
                }
            }
            trees.push(nodes);
            let p: Vec<f64> = score.iter().map(|&s| sigmoid(s)).collect();
            loss_history.push(crate::metrics::log_loss(&y, &p));
        }
        Ok((BoostModel::Guest(GuestModel { trees, base_score }), loss_history))
    }

    #[allow(clippy::too_many_arguments)]
    fn push_children(
        &self,
        o: &Open,
        left_mask: &[bool],
        (l, r): (usize, usize),
        k: usize,
        hists: &[Option<Hist>],
        next_open: &mut Vec<Open>,
        next_parent_hists: &mut Vec<Hist>,
    ) {
        let left: Vec<usize> =
            o.samples.iter().zip(left_mask).filter(|(_, m)| **m).map(|(&i, _)| i).collect();
        let right: Vec<usize> =
            o.samples.iter().zip(left_mask).filter(|(_, m)| !**m).map(|(&i, _)| i).collect();
        let parent = next_parent_hists.len();
        next_parent_hists.push(hists[k].clone().unwrap_or_default());
        let left_small = left.len() <= right.len();
        let base = next_open.len();
        next_open.push(Open {
            node: l,
            samples: left,
            histogrammed: left_small,
            sibling: Some(base + 1),
            parent_hist: Some(parent),
        });
        next_open.push(Open {
            node: r,
            samples: right,
            histogrammed: !left_small,
            sibling: Some(base),
            parent_hist: Some(parent),
        });
    }

    fn fit_host(
        &self,
        ch: &mut dyn Channel,
        peer: PartyId,
        data: &VerticalDataset,
        binned: &Binned,
        pk: &PaillierPublicKey,
    ) -> Result<BoostModel> {
        let n = data.len();
        let mut splits: Vec<(usize, f64)> = Vec::new();
        let per_sample = if self.protocol == BoostProtocol::Tessera { 1 } else { 2 };
        let shift = num_bigint_dig::BigUint::from(1u8) << 128usize;
        for _ in 0..self.trees {
            let enc = decode_cts(pk, &ch.recv(peer)?, n * per_sample)?;
            let zero = encrypt_zero(pk)?;
            let mut open: Vec<(Vec<usize>, bool)> = vec![((0..n).collect(), true)];
            let mut depth = 0;
            while !open.is_empty() {
                // Encrypted histograms of the histogrammed nodes.
                let mut out: Vec<PaillierCiphertext> = Vec::new();
                // Tessera: packed histogram ciphertexts, re-randomised below so the guest cannot
                // match a bin sum against the per-sample ciphertexts it sent.
                let mut packed: Vec<Option<PaillierCiphertext>> = Vec::new();
                for (samples, histogrammed) in &open {
                    if !histogrammed {
                        continue;
                    }
                    for j in 0..binned.d {
                        let nb = binned.num_bins(j);
                        let mut sums: Vec<Vec<Option<PaillierCiphertext>>> =
                            vec![vec![None; per_sample]; nb];
                        for &i in samples {
                            let b = binned.bin(i, j);
                            for (v, slot) in sums[b].iter_mut().enumerate() {
                                let c = &enc[i * per_sample + v];
                                *slot = Some(match slot.take() {
                                    Some(acc) => pk.add(&acc, c),
                                    None => c.clone(),
                                });
                            }
                        }
                        match self.protocol {
                            BoostProtocol::Tessera => {
                                for chunk in sums.chunks(bins_per_ct(pk)) {
                                    // Horner: bin 0 in the lowest slots.
                                    let mut acc: Option<PaillierCiphertext> = None;
                                    for bin in chunk.iter().rev() {
                                        let shifted = acc.map(|a| pk.mul_scalar(&a, &shift));
                                        acc = match (shifted, &bin[0]) {
                                            (Some(a), Some(c)) => Some(pk.add(&a, c)),
                                            (Some(a), None) => Some(a),
                                            (None, c) => c.clone(),
                                        };
                                    }
                                    packed.push(acc);
                                }
                            }
                            BoostProtocol::FateBaseline => {
                                for bin in sums {
                                    for v in bin {
                                        out.push(v.unwrap_or_else(|| zero.clone()));
                                    }
                                }
                            }
                        }
                    }
                }
                if self.protocol == BoostProtocol::Tessera {
                    let zeros = vec![num_bigint_dig::BigUint::from(0u8); packed.len()];
                    let fresh = encrypt_all(pk, &zeros)?;
                    out = packed
                        .into_iter()
                        .zip(fresh)
                        .map(|(a, z)| a.map_or_else(|| z.clone(), |a| pk.add(&a, &z)))
                        .collect();
                }
                ch.send(peer, &encode_cts(pk, &out))?;
                // The guest's decisions, in open-node order.
                let msg = ch.recv(peer)?;
                let mut r = Reader(&msg);
                let mut next: Vec<(Vec<usize>, bool)> = Vec::new();
                let mut reply = Vec::new();
                for (samples, _) in &open {
                    let left_mask =
                        match r.byte()? {
                            0 => continue,
                            1 => mask_of(r.take(samples.len().div_ceil(8))?, samples.len())?,
                            2 => {
                                let (j, b) = (r.u32()?, r.u32()?);
                                let edge =
                                    binned.edges.get(j).and_then(|e| e.get(b)).copied().ok_or(
                                        Error::PeerMessage("split on an unknown host bin"),
                                    )?;
                                let mask: Vec<bool> =
                                    samples.iter().map(|&i| binned.bin(i, j) <= b).collect();
                                reply.extend_from_slice(&(splits.len() as u32).to_le_bytes());
                                reply.extend_from_slice(&bits_of(&mask));
                                splits.push((j, edge));
                                mask
                            }
                            _ => return Err(Error::PeerMessage("unknown decision")),
                        };
                    let left: Vec<usize> = samples
                        .iter()
                        .zip(&left_mask)
                        .filter(|(_, m)| **m)
                        .map(|(&i, _)| i)
                        .collect();
                    let right: Vec<usize> = samples
                        .iter()
                        .zip(&left_mask)
                        .filter(|(_, m)| !**m)
                        .map(|(&i, _)| i)
                        .collect();
                    let left_small = left.len() <= right.len();
                    next.push((left, left_small));
                    next.push((right, !left_small));
                }
                if !r.0.is_empty() {
                    return Err(Error::PeerMessage("trailing bytes after decisions"));
                }
                if !reply.is_empty() {
                    ch.send(peer, &reply)?;
                }
                depth += 1;
                if depth >= self.max_depth {
                    next.clear();
                }
                open = next;
            }
        }
        Ok(BoostModel::Host(HostModel { splits }))
    }
}

/// Follows a tree to its leaf: `guest(j, t)` answers guest splits, `host(split)` host splits.
fn route(
    nodes: &[GuestNode],
    guest: impl Fn(usize, f64) -> bool,
    host: impl Fn(usize) -> bool,
) -> Result<f64> {
    let mut k = 0;
    for _ in 0..=nodes.len() {
        match nodes.get(k).ok_or(Error::Misuse("tree node out of range".into()))? {
            GuestNode::Leaf(v) => return Ok(*v),
            GuestNode::Guest { feature, threshold, left, right } => {
                k = if guest(*feature, *threshold) { *left } else { *right };
            }
            GuestNode::Host { split, left, right } => {
                k = if host(*split) { *left } else { *right };
            }
        }
    }
    Err(Error::Misuse("tree has a cycle".into()))
}

impl BoostModel {
    /// Scores aligned rows in one message: the host sends its decision for every (split, row)
    /// (bit-packed in [`BoostProtocol::Tessera`], a byte each in the baseline); the guest
    /// routes and gets `Some(probabilities)`, the host `None`.
    pub fn predict(
        &self,
        ch: &mut dyn Channel,
        peer: PartyId,
        data: &VerticalDataset,
        protocol: BoostProtocol,
    ) -> Result<(Option<Vec<f64>>, PhaseStats)> {
        let timer = PhaseTimer::start("predict", ch);
        let n = data.len();
        match self {
            BoostModel::Host(m) => {
                let mut msg = (n as u64).to_le_bytes().to_vec();
                for &(j, t) in &m.splits {
                    if j >= data.num_features() {
                        return Err(Error::Misuse("model and data features differ".into()));
                    }
                    let mask: Vec<bool> = (0..n).map(|i| data.row(i)[j] <= t).collect();
                    match protocol {
                        BoostProtocol::Tessera => msg.extend_from_slice(&bits_of(&mask)),
                        BoostProtocol::FateBaseline => {
                            msg.extend(mask.iter().map(|&b| u8::from(b)))
                        }
                    }
                }
                ch.send(peer, &msg)?;
                Ok((None, timer.finish(ch)))
            }
            BoostModel::Guest(m) => {
                let msg = ch.recv(peer)?;
                let mut r = Reader(&msg);
                if u64::from_le_bytes(r.take(8)?.try_into().unwrap_or_default()) != n as u64 {
                    return Err(Error::Misuse(
                        "prediction rows are not aligned with the host's".into(),
                    ));
                }
                let per = match protocol {
                    BoostProtocol::Tessera => n.div_ceil(8),
                    BoostProtocol::FateBaseline => n,
                };
                if per > 0 && !r.0.len().is_multiple_of(per) {
                    return Err(Error::PeerMessage("decision table length"));
                }
                let table = r.0;
                let host = |split: usize, i: usize| -> bool {
                    match protocol {
                        BoostProtocol::Tessera => {
                            table.get(split * per + i / 8).is_some_and(|b| b >> (i % 8) & 1 == 1)
                        }
                        BoostProtocol::FateBaseline => {
                            table.get(split * per + i).is_some_and(|&b| b == 1)
                        }
                    }
                };
                let mut scores = Vec::with_capacity(n);
                for i in 0..n {
                    let mut s = m.base_score;
                    for t in &m.trees {
                        s += route(
                            t,
                            |j, th| data.row(i).get(j).is_some_and(|&x| x <= th),
                            |k| host(k, i),
                        )?;
                    }
                    scores.push(sigmoid(s));
                }
                Ok((Some(scores), timer.finish(ch)))
            }
        }
    }
}

/// Plaintext gradient boosting on the joined columns with the same bins and parameters (the
/// reference SecureBoost must match: SecureBoost is lossless up to quantisation).
pub fn plaintext_boost(
    cfg: &HeteroSecureBoost,
    guest: &VerticalDataset,
    host: &VerticalDataset,
    test: (&VerticalDataset, &VerticalDataset),
) -> Result<Vec<f64>> {
    let join = |g: &VerticalDataset, h: &VerticalDataset| -> Result<VerticalDataset> {
        let mut f = Vec::with_capacity(g.len() * (g.num_features() + h.num_features()));
        for i in 0..g.len() {
            f.extend_from_slice(g.row(i));
            f.extend_from_slice(h.row(i));
        }
        let mut names = g.feature_names.clone();
        names.extend(h.feature_names.iter().map(|n| format!("host_{n}")));
        VerticalDataset::from_parts(g.ids.clone(), names, f, g.labels.clone())
    };
    let train = join(guest, host)?;
    let test = join(test.0, test.1)?;
    let empty = VerticalDataset::from_parts(train.ids.clone(), vec![], vec![], None)?;
    let empty_test = VerticalDataset::from_parts(test.ids.clone(), vec![], vec![], None)?;
    // A "federation" with a featureless host is plaintext boosting on the joined data; run it
    // over the in-memory harness with the cheapest key (the host contributes no histogram).
    let cfg = cfg.clone().key_bits(512);
    let runs = tessera_mpc::harness::run_in_memory(2, |ch| {
        let me = ch.party().0;
        let peer = PartyId(1 - me);
        let (role, d, t) =
            if me == 0 { (Role::Guest, &train, &test) } else { (Role::Host, &empty, &empty_test) };
        let fit = cfg.fit(ch, peer, role, d)?;
        fit.model.predict(ch, peer, t, cfg.protocol).map(|(s, _)| s)
    });
    for r in runs {
        if let Some(s) = r.output? {
            return Ok(s);
        }
    }
    Err(Error::Misuse("no guest output".into()))
}
