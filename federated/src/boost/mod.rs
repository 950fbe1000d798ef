//! Vertical gradient boosting: SecureBoost (Cheng et al., "SecureBoost: A Lossless Federated
//! Learning Framework", IEEE Intelligent Systems 2021, Algorithms 1–3), XGBoost-style
//! second-order split gain and leaf weights, binary logistic or softmax (one tree per class
//! per round) objective, optional gradient-based one-side sampling (GOSS: Ke et al.,
//! "LightGBM", NeurIPS 2017, §3, Algorithm 2).
//!
//! The guest holds the labels, so it computes gradients `g` and hessians `h`, encrypts them
//! under its own key and sends them to the host once per tree. For every tree level the host
//! sums the ciphertexts of each histogrammed node's samples per (feature, bin) — encrypted bin
//! histograms, see [`hist`] — and returns them; the guest decrypts, finds the best split over
//! both parties' features and tells the host which of its (feature, bin) pairs won, if any.
//! The host applies its own splits and returns the left/right partition. Histogram
//! subtraction: of two siblings only the one with fewer sampled rows is histogrammed; the
//! guest derives the other as parent − smaller after decryption. With GOSS the guest keeps the
//! `top` fraction of rows by `|g|` and a random `other` fraction of the rest (their `g, h`
//! scaled by `(1 − top)/other`), sends the host the sample bitmask with the upload, and only
//! the sampled rows are encrypted and histogrammed; every row still follows the splits, so all
//! training scores are updated.
//!
//! **[`BoostProtocol::Tessera`]** (default): packed RLWE histograms ([`hist`], BFV with 2,048
//! samples' `(g, h)` per 55 KB ciphertext and up to 2,048 `(g, h)` bin sums per 38 KB result);
//! prediction in one message of bit-packed host decisions.
//! **[`BoostProtocol::TesseraPaillier`]**: the earlier packed-Paillier schedule (one 2048-bit
//! ciphertext per sample, 15 bins per histogram ciphertext), same prediction.
//! **[`BoostProtocol::FateBaseline`]**: FATE's schedule with one 2048-bit Paillier ciphertext
//! per value, and FATE's multi-round prediction ([`predict`]).
//!
//! Security: semi-honest, two parties, guest-held keys (BFV: IND-CPA under RLWE at 128 bits,
//! see [`hist`] for what the result noise may carry; Paillier: IND-CPA under DCR). As in
//! SecureBoost, the host learns the sample partition of every node (needed to build
//! histograms) and, with GOSS, which rows were sampled; the guest learns the per-bin gradient
//! sums of the host's features and, in prediction, the host's split decisions for the rows it
//! scores; the host learns no gradient, label or leaf value.

pub mod fate;
pub mod hist;
pub mod predict;

use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use tessera_mpc::{Channel, PartyId};

use crate::lr::Role;
use crate::stats::{PhaseStats, PhaseTimer};
use crate::{Error, Result, VerticalDataset};
use hist::{GuestHe, HostHe, Scheme};

/// Which message schedule to train with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoostProtocol {
    /// Packed RLWE (BFV) gradients and histograms, bit-packed prediction.
    Tessera,
    /// Packed Paillier: one ciphertext per sample, 15 bins per histogram ciphertext.
    TesseraPaillier,
    /// FATE's schedule: one Paillier ciphertext per value, multi-round prediction.
    FateBaseline,
}

impl BoostProtocol {
    fn scheme(self) -> Scheme {
        match self {
            Self::Tessera => Scheme::Bfv,
            Self::TesseraPaillier => Scheme::PaillierPacked,
            Self::FateBaseline => Scheme::PaillierPerValue,
        }
    }
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
    classes: usize,
    goss: Option<(f64, f64)>,
    stride_keys: bool,
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
            classes: 2,
            goss: None,
            stride_keys: false,
        }
    }
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

fn two() -> usize {
    2
}

/// The guest's part: tree structures, its thresholds and the leaf weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuestModel {
    /// Trees as node arrays, root first; with `classes > 2`, tree `t` scores class
    /// `t % classes`.
    pub trees: Vec<Vec<GuestNode>>,
    /// Initial score (log-odds of the base rate) of the binary objective.
    pub base_score: f64,
    /// Number of classes (2: binary logistic; more: softmax).
    #[serde(default = "two")]
    pub classes: usize,
    /// Initial per-class scores (log class priors) of the softmax objective.
    #[serde(default)]
    pub base_scores: Vec<f64>,
}

/// The host's part: only its own split rules, which the guest refers to by index.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostModel {
    /// `(feature, threshold)`: `x[feature] ≤ threshold` goes left.
    pub splits: Vec<(usize, f64)>,
    /// Index of the first split of each tree (FATE-schedule prediction numbers a tree's host
    /// nodes locally).
    #[serde(default)]
    pub tree_starts: Vec<usize>,
    /// For each split, the split that directly follows it on the left/right when that child
    /// is again a host split (what the host learns anyway from the node partitions; FATE's
    /// host walks such chains in one prediction round).
    #[serde(default)]
    pub children: Vec<[Option<usize>; 2]>,
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
    /// Training log-loss after each boosting round (guest only).
    pub loss_history: Vec<f64>,
}

/// Quantile bin edges of one column: `bin(x) = #edges < x`, so `bin ≤ b ⇔ x ≤ edges[b]`.
///
/// The `k/max_bins` quantiles, deduplicated, without an edge at the column's maximum (nothing
/// lies above it, so it would only add an empty bin to every histogram). So a column has one
/// bin per distinct split point including its maximum, as in FATE's quantile binning (FATE 1.x
/// `federatedml/feature/binning/quantile_binning.py`: split points are the unique quantiles
/// up to the maximum): a constant column has a single bin, a column of `v < max_bins` distinct
/// values at most `v` bins (MNIST's blank border pixels and sparse 0-or-few-values pixels).
fn bin_edges(values: &mut [f64], max_bins: usize) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    let Some(&max) = values.last() else { return Vec::new() };
    let mut edges: Vec<f64> = (1..max_bins)
        .map(|k| values[(k * values.len() / max_bins).min(values.len() - 1)])
        .filter(|&e| e < max)
        .collect();
    edges.dedup();
    edges
}

pub(crate) struct Binned {
    edges: Vec<Vec<f64>>,
    /// Row-major bin indices.
    bins: Vec<u16>,
    pub(crate) d: usize,
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

    pub(crate) fn bin(&self, i: usize, j: usize) -> usize {
        usize::from(self.bins[i * self.d + j])
    }

    pub(crate) fn num_bins(&self, j: usize) -> usize {
        self.edges[j].len() + 1
    }
}

/// Per (feature, bin) sums of g and h.
pub(crate) type Hist = Vec<Vec<(f64, f64)>>;

/// A node's chosen split: the guest's `(feature, threshold)` (or `None` for a host split) and
/// which of the node's samples go left.
type Chosen = (Option<(usize, f64)>, Vec<bool>);

fn sigmoid(u: f64) -> f64 {
    1.0 / (1.0 + (-u).exp())
}

fn softmax(s: &[f64]) -> Vec<f64> {
    let m = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = s.iter().map(|&v| (v - m).exp()).collect();
    let z: f64 = e.iter().sum();
    e.into_iter().map(|v| v / z).collect()
}

pub(crate) fn bits_of(mask: &[bool]) -> Vec<u8> {
    let mut out = vec![0u8; mask.len().div_ceil(8)];
    for (i, &b) in mask.iter().enumerate() {
        if b {
            out[i / 8] |= 1 << (i % 8);
        }
    }
    out
}

pub(crate) fn mask_of(bytes: &[u8], len: usize) -> Result<Vec<bool>> {
    if bytes.len() != len.div_ceil(8) {
        return Err(Error::PeerMessage("wrong bitmask length"));
    }
    Ok((0..len).map(|i| bytes[i / 8] >> (i % 8) & 1 == 1).collect())
}

pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let (a, b) = self.0.split_at_checked(n).ok_or(Error::PeerMessage("truncated message"))?;
        self.0 = b;
        Ok(a)
    }
    pub(crate) fn u32(&mut self) -> Result<usize> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }
    pub(crate) fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
}

/// An open node both parties track: its tree index and its rows.
struct Open {
    node: usize,
    samples: Vec<usize>,
    /// Whether the host histograms it (root, or the sibling with fewer sampled rows).
    histogrammed: bool,
    /// Index of its sibling in the open list and of the parent's host histogram.
    sibling: Option<usize>,
    parent_hist: Option<usize>,
}

/// Rows of a node that were uploaded, as `(upload position, row)`.
fn uploaded(samples: &[usize], pos: &[Option<usize>]) -> Vec<(usize, usize)> {
    samples.iter().filter_map(|&i| pos.get(i).copied().flatten().map(|p| (p, i))).collect()
}

/// Splits a node's rows by its left mask and says which child is histogrammed (the one with
/// fewer uploaded rows, the left on ties); both parties apply the same rule.
fn children_of(
    samples: &[usize],
    left_mask: &[bool],
    pos: &[Option<usize>],
) -> ((Vec<usize>, Vec<usize>), bool) {
    let left: Vec<usize> =
        samples.iter().zip(left_mask).filter(|(_, m)| **m).map(|(&i, _)| i).collect();
    let right: Vec<usize> =
        samples.iter().zip(left_mask).filter(|(_, m)| !**m).map(|(&i, _)| i).collect();
    let count = |v: &[usize]| v.iter().filter(|&&i| pos[i].is_some()).count();
    let left_small = count(&left) <= count(&right);
    ((left, right), left_small)
}

/// The host's open node: rows, histogrammed, and the host split (and side) it hangs under.
type HostOpen = (Vec<usize>, bool, Option<(usize, usize)>);

/// One tree's gradient upload: which rows (GOSS) and their weighted `(g, h)`.
struct Upload {
    pos: Vec<Option<usize>>,
    g: Vec<f64>,
    h: Vec<f64>,
}

impl HeteroSecureBoost {
    /// Defaults: 5 trees of depth 3, learning rate 0.3, 32 bins, λ = 1, binary objective, no
    /// GOSS, Tessera protocol (2048-bit Paillier where a Paillier schedule is chosen).
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of boosting rounds (trees per class).
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
    /// Paillier modulus size (Paillier schedules only).
    pub fn key_bits(mut self, bits: usize) -> Self {
        self.key_bits = bits;
        self
    }
    /// Number of classes: 2 (default) trains the binary logistic objective with labels 0/1;
    /// `k > 2` the softmax objective with labels `0..k`, one tree per class per round.
    pub fn classes(mut self, k: usize) -> Self {
        self.classes = k;
        self
    }
    /// Gradient-based one-side sampling: keep the `top` fraction of rows by `|g|` and a
    /// random `other` fraction of the rest per tree.
    pub fn goss(mut self, top: f64, other: f64) -> Self {
        self.goss = Some((top, other));
        self
    }

    /// Packed RLWE only: also send rotation keys for the rotate-and-sum strides from a node's
    /// histogram size up to 1024 (110 KB each) so small histograms take less host computation
    /// (up to 128× fewer rotations). Always on with more than 8,192 rows (four or more
    /// uploaded ciphertexts), where the gradient upload dominates the traffic anyway.
    pub fn stride_keys(mut self, on: bool) -> Self {
        self.stride_keys = on;
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

    fn total_trees(&self) -> usize {
        self.trees * if self.classes > 2 { self.classes } else { 1 }
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
        if !(2..=256).contains(&self.classes) {
            return Err(Error::Misuse("2 ≤ classes ≤ 256".into()));
        }
        if let Some((a, b)) = self.goss
            && !(a > 0.0 && b > 0.0 && a + b <= 1.0)
        {
            return Err(Error::Misuse("GOSS needs top > 0, other > 0, top + other ≤ 1".into()));
        }
        let n = data.len();
        let setup_timer = PhaseTimer::start("setup", ch);
        // The row count, the scheme and the guest's public material (key or rotation keys).
        let (guest_he, host_he) = match role {
            Role::Guest => {
                let scheme = self.protocol.scheme();
                let (he, payload) = GuestHe::setup(scheme, self.key_bits, n, self.stride_keys)?;
                let mut msg = (n as u64).to_le_bytes().to_vec();
                msg.push(scheme as u8);
                msg.extend_from_slice(&payload);
                ch.send(peer, &msg)?;
                (Some(he), None)
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
                let scheme = Scheme::from_byte(r.byte()?)?;
                (None, Some(HostHe::from_setup(scheme, r.0)?))
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
        // Packed RLWE: the guest's rotation keys, sized to a node's host histogram.
        let (guest_he, host_he) = match (guest_he, host_he) {
            (Some(he), None) => {
                let many = n > 4 * 2048 || self.stride_keys;
                if let Some(keys) = he.rotation_keys(host_bins.iter().sum(), many)? {
                    ch.send(peer, &keys)?;
                }
                (Some(he), None)
            }
            (None, Some(mut he)) => {
                if he.wants_keys() {
                    he.add_keys(&ch.recv(peer)?)?;
                }
                (None, Some(he))
            }
            other => other,
        };
        let setup = setup_timer.finish(ch);
        let train_timer = PhaseTimer::start("train", ch);
        let result = match (guest_he, host_he) {
            (Some(mut he), _) => self.fit_guest(ch, peer, data, &binned, &host_bins, &mut he)?,
            (_, Some(mut he)) => (self.fit_host(ch, peer, data, &binned, &mut he)?, Vec::new()),
            _ => return Err(Error::Misuse("no keys".into())),
        };
        Ok(BoostTraining {
            model: result.0,
            phases: vec![setup, train_timer.finish(ch)],
            loss_history: result.1,
        })
    }

    /// GOSS selection (or all rows) and the weighted gradients of the uploaded rows.
    fn sample(&self, g: &[f64], h: &[f64], rng: &mut impl RngCore) -> Upload {
        let n = g.len();
        let keep: Vec<(usize, f64)> = match self.goss {
            None => (0..n).map(|i| (i, 1.0)).collect(),
            Some((a, b)) => {
                let mut order: Vec<usize> = (0..n).collect();
                order.sort_by(|&x, &y| g[y].abs().total_cmp(&g[x].abs()));
                let top = ((a * n as f64).ceil() as usize).min(n);
                let rest = &mut order[top..];
                let other = ((b * n as f64).ceil() as usize).min(rest.len());
                // Partial Fisher–Yates for `other` random rows of the rest.
                for k in 0..other {
                    let r = k + (rng.next_u64() % (rest.len() - k) as u64) as usize;
                    rest.swap(k, r);
                }
                let w = (1.0 - a) / b;
                let mut keep: Vec<(usize, f64)> = order[..top].iter().map(|&i| (i, 1.0)).collect();
                keep.extend(order[top..top + other].iter().map(|&i| (i, w)));
                keep.sort_unstable_by_key(|&(i, _)| i);
                keep
            }
        };
        let mut pos = vec![None; n];
        let mut gw = vec![0.0; n];
        let mut hw = vec![0.0; n];
        for (p, &(i, w)) in keep.iter().enumerate() {
            pos[i] = Some(p);
            gw[i] = g[i] * w;
            hw[i] = h[i] * w;
        }
        Upload { pos, g: gw, h: hw }
    }

    #[allow(clippy::too_many_arguments)]
    fn fit_guest(
        &self,
        ch: &mut dyn Channel,
        peer: PartyId,
        data: &VerticalDataset,
        binned: &Binned,
        host_bins: &[usize],
        he: &mut GuestHe,
    ) -> Result<(BoostModel, Vec<f64>)> {
        let y =
            data.labels.clone().ok_or_else(|| Error::Misuse("the guest needs labels".into()))?;
        let k = self.classes;
        if k == 2 && y.iter().any(|&v| v != 0.0 && v != 1.0) {
            return Err(Error::Misuse("binary labels must be 0 or 1".into()));
        }
        if k > 2 && y.iter().any(|&v| v < 0.0 || v >= k as f64 || v.fract() != 0.0) {
            return Err(Error::Misuse(format!("multiclass labels must be 0..{k}")));
        }
        let n = y.len();
        let mut rng = rand_chacha::ChaCha20Rng::from_entropy();
        // Scores per row and class (one column for the binary objective).
        let dims = if k > 2 { k } else { 1 };
        let (base_score, base_scores) = if k > 2 {
            let priors: Vec<f64> = (0..k)
                .map(|c| {
                    (y.iter().filter(|&&v| v as usize == c).count() as f64 / n.max(1) as f64)
                        .max(1e-6)
                        .ln()
                })
                .collect();
            (0.0, priors)
        } else {
            let rate = (y.iter().sum::<f64>() / n.max(1) as f64).clamp(1e-6, 1.0 - 1e-6);
            ((rate / (1.0 - rate)).ln(), Vec::new())
        };
        let mut score: Vec<Vec<f64>> =
            (0..n).map(|_| if k > 2 { base_scores.clone() } else { vec![base_score] }).collect();
        let mut trees = Vec::new();
        let mut loss_history = Vec::new();
        for _ in 0..self.trees {
            // Gradients of this round for every class (softmax: FATE's p(1 − p) hessian).
            let probs: Vec<Vec<f64>> = score
                .iter()
                .map(|s| if k > 2 { softmax(s) } else { vec![sigmoid(s[0])] })
                .collect();
            let mut round_leaves = Vec::new();
            #[allow(clippy::needless_range_loop)]
            for c in 0..dims {
                let target = |i: usize| -> f64 {
                    if k > 2 { f64::from(u8::from(y[i] as usize == c)) } else { y[i] }
                };
                let g: Vec<f64> = (0..n).map(|i| probs[i][c] - target(i)).collect();
                let h: Vec<f64> = (0..n).map(|i| probs[i][c] * (1.0 - probs[i][c])).collect();
                let up = self.sample(&g, &h, &mut rng);
                let (nodes, leaves) = self.grow_guest(ch, peer, binned, host_bins, he, &up)?;
                trees.push(nodes);
                round_leaves.push((c, leaves));
            }
            for (c, leaves) in round_leaves {
                for (rows, leaf) in leaves {
                    for i in rows {
                        score[i][c] += leaf;
                    }
                }
            }
            let loss = if k > 2 {
                -score
                    .iter()
                    .zip(&y)
                    .map(|(s, &yi)| softmax(s)[yi as usize].max(1e-15).ln())
                    .sum::<f64>()
                    / n.max(1) as f64
            } else {
                let p: Vec<f64> = score.iter().map(|s| sigmoid(s[0])).collect();
                crate::metrics::log_loss(&y, &p)
            };
            loss_history.push(loss);
        }
        Ok((
            BoostModel::Guest(GuestModel { trees, base_score, classes: k, base_scores }),
            loss_history,
        ))
    }

    /// Grows one tree at the guest; returns its nodes and each leaf's rows and weight.
    #[allow(clippy::type_complexity)]
    fn grow_guest(
        &self,
        ch: &mut dyn Channel,
        peer: PartyId,
        binned: &Binned,
        host_bins: &[usize],
        he: &mut GuestHe,
        up: &Upload,
    ) -> Result<(Vec<GuestNode>, Vec<(Vec<usize>, f64)>)> {
        let (g, h, pos) = (&up.g, &up.h, &up.pos);
        let n = g.len();
        let rows: Vec<usize> = (0..n).filter(|&i| pos[i].is_some()).collect();
        let gs: Vec<f64> = rows.iter().map(|&i| g[i]).collect();
        let hs: Vec<f64> = rows.iter().map(|&i| h[i]).collect();
        // Sampling flag (and bitmask), then the encrypted gradients.
        let mut msg = Vec::new();
        if self.goss.is_some() {
            msg.push(1u8);
            msg.extend_from_slice(&bits_of(&pos.iter().map(Option::is_some).collect::<Vec<_>>()));
        } else {
            msg.push(0u8);
        }
        msg.extend_from_slice(&he.upload(&gs, &hs)?);
        ch.send(peer, &msg)?;

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
            let count = open.iter().filter(|o| o.histogrammed).count();
            let msg = ch.recv(peer)?;
            let decoded = he.decode(&msg, count, host_bins)?;
            let mut hists: Vec<Option<Hist>> = vec![None; open.len()];
            let mut it = decoded.into_iter();
            for (k, _) in open.iter().enumerate().filter(|(_, o)| o.histogrammed) {
                hists[k] = Some(it.next().ok_or(Error::PeerMessage("histograms"))?);
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
                    let par =
                        parent_hists.get(parent).ok_or(Error::PeerMessage("missing histogram"))?;
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
                    for &i in o.samples.iter().filter(|&&i| pos[i].is_some()) {
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
                    let left_mask = mask_of(r.take(o.samples.len().div_ceil(8))?, o.samples.len())?;
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
                let ((left, right), left_small) = children_of(&o.samples, left_mask, pos);
                let parent = next_parent_hists.len();
                next_parent_hists.push(hists[k].clone().unwrap_or_default());
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
            depth += 1;
            if depth >= self.max_depth {
                // Children at the maximal depth become leaves without another round.
                for o in &next_open {
                    let total = o.samples.iter().fold((0.0, 0.0), |a, &i| (a.0 + g[i], a.1 + h[i]));
                    let leaf = -total.0 / (total.1 + self.lambda) * self.learning_rate;
                    nodes[o.node] = GuestNode::Leaf(leaf);
                    leaves.push((o.samples.clone(), leaf));
                }
                next_open.clear();
            }
            open = next_open;
            parent_hists = next_parent_hists;
        }
        Ok((nodes, leaves))
    }

    fn fit_host(
        &self,
        ch: &mut dyn Channel,
        peer: PartyId,
        data: &VerticalDataset,
        binned: &Binned,
        he: &mut HostHe,
    ) -> Result<BoostModel> {
        let n = data.len();
        let mut model =
            HostModel { splits: Vec::new(), tree_starts: Vec::new(), children: Vec::new() };
        for _ in 0..self.total_trees() {
            model.tree_starts.push(model.splits.len());
            let msg = ch.recv(peer)?;
            let mut r = Reader(&msg);
            let pos: Vec<Option<usize>> = match r.byte()? {
                0 => (0..n).map(Some).collect(),
                1 => {
                    let mask = mask_of(r.take(n.div_ceil(8))?, n)?;
                    let mut p = 0;
                    mask.iter()
                        .map(|&m| {
                            m.then(|| {
                                p += 1;
                                p - 1
                            })
                        })
                        .collect()
                }
                _ => return Err(Error::PeerMessage("unknown sampling flag")),
            };
            let m = pos.iter().filter(|p| p.is_some()).count();
            he.load(r.0, m)?;
            // Open nodes: rows, histogrammed, and the host split (and side) they hang under.
            let mut open: Vec<HostOpen> = vec![((0..n).collect(), true, None)];
            let mut depth = 0;
            while !open.is_empty() {
                let nodes: Vec<Vec<(usize, usize)>> = open
                    .iter()
                    .filter(|o| o.1)
                    .map(|(samples, _, _)| uploaded(samples, &pos))
                    .collect();
                ch.send(peer, &he.histograms(&nodes, binned)?)?;
                // The guest's decisions, in open-node order.
                let msg = ch.recv(peer)?;
                let mut r = Reader(&msg);
                let mut next = Vec::new();
                let mut reply = Vec::new();
                for (samples, _, origin) in &open {
                    let (left_mask, me) = match r.byte()? {
                        0 => continue,
                        1 => (mask_of(r.take(samples.len().div_ceil(8))?, samples.len())?, None),
                        2 => {
                            let (j, b) = (r.u32()?, r.u32()?);
                            let edge = binned
                                .edges
                                .get(j)
                                .and_then(|e| e.get(b))
                                .copied()
                                .ok_or(Error::PeerMessage("split on an unknown host bin"))?;
                            let mask: Vec<bool> =
                                samples.iter().map(|&i| binned.bin(i, j) <= b).collect();
                            let id = model.splits.len();
                            reply.extend_from_slice(&(id as u32).to_le_bytes());
                            reply.extend_from_slice(&bits_of(&mask));
                            model.splits.push((j, edge));
                            model.children.push([None, None]);
                            if let Some((parent, side)) = *origin {
                                model.children[parent][side] = Some(id);
                            }
                            (mask, Some(id))
                        }
                        _ => return Err(Error::PeerMessage("unknown decision")),
                    };
                    let ((left, right), left_small) = children_of(samples, &left_mask, &pos);
                    next.push((left, left_small, me.map(|id| (id, 0))));
                    next.push((right, !left_small, me.map(|id| (id, 1))));
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
        Ok(BoostModel::Host(model))
    }
}

/// Plaintext gradient boosting on the joined columns with the same bins and parameters (the
/// reference SecureBoost must match: SecureBoost is lossless up to quantisation). Returns the
/// guest's prediction on the test rows (probabilities of class 1, or of every class).
pub fn plaintext_boost(
    cfg: &HeteroSecureBoost,
    guest: &VerticalDataset,
    host: &VerticalDataset,
    test: (&VerticalDataset, &VerticalDataset),
) -> Result<Vec<f64>> {
    plaintext_boost_proba(cfg, guest, host, test).map(|p| {
        if cfg.classes > 2 {
            p.iter().map(|r| predict::argmax(r) as f64).collect()
        } else {
            p.into_iter().map(|r| r[0]).collect()
        }
    })
}

/// [`plaintext_boost`] returning per-row class probabilities (one column, `P(y = 1)`, for the
/// binary objective).
pub fn plaintext_boost_proba(
    cfg: &HeteroSecureBoost,
    guest: &VerticalDataset,
    host: &VerticalDataset,
    test: (&VerticalDataset, &VerticalDataset),
) -> Result<Vec<Vec<f64>>> {
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
    // A "federation" with a featureless host is plaintext boosting on the joined data (the
    // host contributes no histogram, so the cheapest Paillier key serves; exact to 2^-20).
    let cfg = cfg.clone().key_bits(512).protocol(BoostProtocol::TesseraPaillier);
    let runs = tessera_mpc::harness::run_in_memory(2, |ch| {
        let me = ch.party().0;
        let peer = PartyId(1 - me);
        let (role, d, t) =
            if me == 0 { (Role::Guest, &train, &test) } else { (Role::Host, &empty, &empty_test) };
        let fit = cfg.fit(ch, peer, role, d)?;
        fit.model.predict_proba(ch, peer, t, cfg.protocol).map(|(s, _)| s)
    });
    for r in runs {
        if let Some(s) = r.output? {
            return Ok(s);
        }
    }
    Err(Error::Misuse("no guest output".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column_data(cols: &[Vec<f64>]) -> VerticalDataset {
        let n = cols[0].len();
        let features = (0..n).flat_map(|i| cols.iter().map(move |c| c[i])).collect();
        VerticalDataset::from_parts(
            (0..n).map(|i| i.to_string()).collect(),
            (0..cols.len()).map(|j| format!("f{j}")).collect(),
            features,
            None,
        )
        .unwrap()
    }

    /// No bin is ever empty on the training rows: a constant column (MNIST's blank border) has
    /// one bin, a column of few distinct values one bin per value, a continuous one `max_bins`.
    #[test]
    fn binning_wastes_no_bins_on_constant_or_few_valued_columns() {
        let constant = vec![0.0; 100];
        // 90 zeros, five 0.5 and five 1.0 (a sparse pixel).
        let sparse: Vec<f64> = (0..100)
            .map(|i| {
                if i < 90 {
                    0.0
                } else if i < 95 {
                    0.5
                } else {
                    1.0
                }
            })
            .collect();
        let continuous: Vec<f64> = (0..100).map(|i| f64::from((i * 37) % 100)).collect();
        let binned = Binned::new(&column_data(&[constant, sparse, continuous]), 32);
        assert_eq!(binned.num_bins(0), 1);
        assert_eq!(binned.num_bins(1), 3);
        assert_eq!(binned.num_bins(2), 32);
        for j in 0..3 {
            let mut used = vec![0usize; binned.num_bins(j)];
            for i in 0..100 {
                used[binned.bin(i, j)] += 1;
            }
            assert!(used.iter().all(|&c| c > 0), "column {j}: an empty bin in {used:?}");
        }
        // The split "bin ≤ b" is "x ≤ edges[b]" for every interior edge.
        for i in 0..100 {
            assert_eq!(binned.bin(i, 1) == 0, i < 90);
        }
    }
}
