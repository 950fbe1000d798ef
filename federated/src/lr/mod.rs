//! Vertical (hetero) logistic regression: a guest with labels and features and one or more hosts
//! with features of the same aligned rows train one linear model, each keeping its own weights.
//!
//! Both protocols use the second-order Taylor expansion of the logistic loss around 0 that FATE
//! uses (Hardy et al., "Private federated learning on vertically partitioned data via entity
//! resolution and additively homomorphic encryption", arXiv:1711.10677, §3.2): with
//! `u = u_g + Σ_h u_h` (the parties' partial products) the residual is `d = 0.25 u + 0.5 − y`,
//! so the gradients are linear in the partial products:
//!
//! * guest: `g_g = X_gᵀ z + 0.25 X_gᵀ Σ_h u_h`, host `h`: `g_h = 0.25 X_hᵀ (4z + Σ_h' u_h')`,
//!   with `z = 0.25 u_g + 0.5 − y` known only to the guest.
//!
//! **[`LrProtocol::Tessera`]** ([`tessera`]) needs one cross term per party and batch. At setup
//! each party encrypts its own quantised rows once under its own Paillier key, several features
//! packed per ciphertext (the guest appends `1` and `2y − 1` for the bias and the loss), and
//! sends them to the guest (the guest sends its rows to every host, and relays each host's rows
//! to the other hosts). Per batch, each host sends the guest packed aggregates
//! `Σ_i u_h,i·[[x̃_g,i]]` (and `Σ_i u_h,i·[[x_h',i]]` for every other host `h'`); the guest adds
//! `Σ_i 4z_i·[[x_h,i]]` and the other hosts' terms homomorphically and returns one re-randomised
//! aggregate per host. Each party decrypts only the aggregate over the batch that its own
//! gradient needs. Per-sample values never cross, in plaintext or encrypted; traffic per batch
//! is a few ciphertexts instead of two per sample. One round trip per batch. Multiclass is
//! one-vs-rest over the same encrypted rows (one label slot per class). Optionally each party
//! takes several local steps per exchange (FedBCD, see
//! [`HeteroLogisticRegression::local_steps`]), so fewer exchanges reach the same accuracy.
//!
//! **[`LrProtocol::FateBaseline`]** ([`baseline`]) is FATE's message schedule (FATE 1.x hetero
//! LR, guest and host gradients through masked decryption), with the arbiter's decryption done
//! by the peer that holds the key: the host sends `[[u_h,i]]` and the guest `[[z_i]]`, one
//! 2048-bit Paillier ciphertext per sample; each computes its encrypted gradient, one
//! ciphertext per feature, masks it and has the peer decrypt it. Three rounds per batch. FATE's
//! additional `[[u_h²]]` loss ciphertexts are left out, which only makes the baseline cheaper.
//! Multiclass is FATE's one-vs-rest: one binary training per class. Two parties only.
//!
//! Prediction ([`predict`]): hosts send their partial scores; see there for the quantisation.
//!
//! Security: semi-honest, no arbiter, no collusion. Paillier (IND-CPA under DCR) at the chosen
//! modulus size; masks for decryption are 40 bits wider than the masked value (statistical
//! security 2^-40). What each party learns: its own weights and, per batch, its own gradient
//! (as in FATE); with one host the guest also learns `Σ u_h²` of each batch (an aggregate, for
//! the loss); with several hosts the guest learns `X̃_gᵀ u_h` per host rather than only their
//! sum. Hosts see other hosts' rows only encrypted under those hosts' keys. In prediction the
//! guest learns the (quantised) scores, hence `u_h` of the rows it asked for, and the hosts learn
//! nothing.

pub mod baseline;
pub mod fate;
mod plain;
pub mod predict;
pub mod tessera;

use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};
use tessera_fhe::{PaillierPublicKey, PaillierSecretKey, paillier_keygen};
use tessera_mpc::{Channel, PartyId};

use crate::stats::PhaseStats;
use crate::{Error, Result, VerticalDataset};

pub use plain::{PlainLoss, PlainLr};
pub use predict::{DEFAULT_PREDICT_BITS, predict_multiclass};

/// Which side of the vertical split a party holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Holds the labels (and features).
    Guest,
    /// Holds features only.
    Host,
}

/// Which message schedule to train with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LrProtocol {
    /// Encrypted rows once, one packed aggregate ciphertext per party and batch.
    Tessera,
    /// FATE's schedule: one Paillier ciphertext per sample and per gradient value.
    FateBaseline,
}

/// Who plays which role in a run: one guest and one or more hosts, the same at every party.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parties {
    /// The party with the labels.
    pub guest: PartyId,
    /// The feature-only parties, in an order every party agrees on.
    pub hosts: Vec<PartyId>,
}

impl Parties {
    /// Two parties: `me` in `role` and `peer` in the other role.
    pub fn two(me: PartyId, peer: PartyId, role: Role) -> Self {
        match role {
            Role::Guest => Self { guest: me, hosts: vec![peer] },
            Role::Host => Self { guest: peer, hosts: vec![me] },
        }
    }

    /// `me`'s role, or an error if `me` is not listed (or listed twice).
    pub fn role_of(&self, me: PartyId) -> Result<Role> {
        let as_host = self.hosts.iter().filter(|&&h| h == me).count();
        match (self.guest == me, as_host) {
            (true, 0) => Ok(Role::Guest),
            (false, 1) => Ok(Role::Host),
            _ => Err(Error::Misuse(format!("party {} must be the guest or one host", me.0))),
        }
    }

    fn check(&self, me: PartyId, role: Role) -> Result<()> {
        if self.hosts.is_empty() {
            return Err(Error::Misuse("at least one host is needed".into()));
        }
        let mut all: Vec<u16> = self.hosts.iter().map(|h| h.0).collect();
        all.push(self.guest.0);
        all.sort_unstable();
        all.dedup();
        if all.len() != self.hosts.len() + 1 {
            return Err(Error::Misuse("guest and hosts must be distinct parties".into()));
        }
        if self.role_of(me)? != role {
            return Err(Error::Misuse("the role does not match the party list".into()));
        }
        Ok(())
    }
}

/// Builder and trainer for vertical logistic regression (see the module docs).
#[derive(Clone, Debug)]
pub struct HeteroLogisticRegression {
    learning_rate: f64,
    l2: f64,
    epochs: usize,
    batch_size: Option<usize>,
    protocol: LrProtocol,
    key_bits: usize,
    scale_bits: u32,
    predict_bits: u32,
    local_steps: usize,
    allow_small_batches: bool,
}

impl Default for HeteroLogisticRegression {
    fn default() -> Self {
        Self {
            learning_rate: 0.15,
            l2: 0.01,
            epochs: 10,
            batch_size: None,
            protocol: LrProtocol::Tessera,
            key_bits: tessera_fhe::paillier::DEFAULT_MODULUS_BITS,
            scale_bits: 12,
            predict_bits: DEFAULT_PREDICT_BITS,
            local_steps: 1,
            allow_small_batches: false,
        }
    }
}

/// One party's part of a trained model: its own weights (and the intercept at the guest).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LrModel {
    /// Which side this part belongs to.
    pub role: Role,
    /// Names of this party's features, in weight order.
    pub feature_names: Vec<String>,
    /// This party's weights.
    pub weights: Vec<f64>,
    /// The intercept (guest only; zero at the host).
    pub intercept: f64,
}

/// What [`HeteroLogisticRegression::fit`] returns to one party.
#[derive(Clone, Debug)]
pub struct LrTraining {
    /// This party's model.
    pub model: LrModel,
    /// Traffic per phase ("setup", "train").
    pub phases: Vec<PhaseStats>,
    /// Taylor loss per batch (guest, Tessera protocol with one host only; empty otherwise).
    pub loss_history: Vec<f64>,
}

/// What [`HeteroLogisticRegression::fit_multiclass`] returns to one party: one-vs-rest models.
#[derive(Clone, Debug)]
pub struct LrMulticlassTraining {
    /// This party's part of the model for class `k` at index `k`.
    pub models: Vec<LrModel>,
    /// Traffic per phase ("setup", "train").
    pub phases: Vec<PhaseStats>,
    /// Mean over classes of the Taylor loss per batch (as in [`LrTraining::loss_history`]).
    pub loss_history: Vec<f64>,
}

pub(crate) fn dot(w: &[f64], x: &[f64]) -> f64 {
    w.iter().zip(x).map(|(a, b)| a * b).sum()
}

pub(crate) fn u64_at(bytes: &[u8], at: usize) -> Result<u64> {
    let b = bytes.get(at..at + 8).ok_or(Error::PeerMessage("truncated header"))?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Ok(u64::from_le_bytes(a))
}

pub(crate) fn sigmoid(u: f64) -> f64 {
    1.0 / (1.0 + (-u).exp())
}

/// Weights and intercept of one class, as trained so far.
pub(crate) type ClassWeights = (Vec<f64>, f64);

/// A party's own key pair.
pub(crate) fn keygen(bits: usize) -> Result<(PaillierPublicKey, PaillierSecretKey)> {
    let mut rng = rand_chacha::ChaCha20Rng::from_rng(rand_core::OsRng)
        .map_err(|_| Error::Misuse("no OS randomness".into()))?;
    Ok(paillier_keygen(bits, &mut rng)?)
}

/// The setup header: row count, encrypted-row width and public key.
pub(crate) fn header(n: usize, width: usize, pk: &PaillierPublicKey) -> Vec<u8> {
    let mut msg = Vec::new();
    msg.extend_from_slice(&(n as u64).to_le_bytes());
    msg.extend_from_slice(&(width as u64).to_le_bytes());
    msg.extend_from_slice(&pk.to_bytes());
    msg
}

/// Parses a peer's [`header`], checking that its rows are aligned with ours.
pub(crate) fn parse_header(msg: &[u8], n: usize) -> Result<(usize, PaillierPublicKey)> {
    let peer_n = u64_at(msg, 0)?;
    let width = u64_at(msg, 8)?;
    if peer_n != n as u64 {
        return Err(Error::Misuse(format!(
            "rows are not aligned: {n} here, {peer_n} at the peer (run the PSI first)"
        )));
    }
    if width == 0 || width > 1 << 20 {
        return Err(Error::PeerMessage("feature count out of range"));
    }
    let pk = PaillierPublicKey::from_bytes(msg.get(16..).unwrap_or_default())?;
    Ok((width as usize, pk))
}

impl HeteroLogisticRegression {
    /// Defaults: learning rate 0.15, L2 0.01, 10 epochs, full batch, [`LrProtocol::Tessera`],
    /// 2048-bit Paillier, 12 fractional bits, [`DEFAULT_PREDICT_BITS`]-bit prediction messages.
    pub fn new() -> Self {
        Self::default()
    }

    /// Gradient-descent step size.
    pub fn learning_rate(mut self, lr: f64) -> Self {
        self.learning_rate = lr;
        self
    }

    /// L2 penalty `λ/2 · |w|²` (the intercept is not penalised).
    pub fn l2(mut self, l2: f64) -> Self {
        self.l2 = l2;
        self
    }

    /// Passes over the data.
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Rows per mini-batch (`None`: the whole data set).
    pub fn batch_size(mut self, batch: Option<usize>) -> Self {
        self.batch_size = batch;
        self
    }

    /// The message schedule.
    pub fn protocol(mut self, protocol: LrProtocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// Paillier modulus size (2048 for benchmarks; tests may use 512 for speed only).
    pub fn key_bits(mut self, bits: usize) -> Self {
        self.key_bits = bits;
        self
    }

    /// Fractional bits of the fixed-point encoding of features and partial products.
    pub fn scale_bits(mut self, bits: u32) -> Self {
        self.scale_bits = bits;
        self
    }

    /// Bits per partial score in [`LrProtocol::Tessera`] prediction (1–16; see [`predict`]).
    pub fn predict_bits(mut self, bits: u32) -> Self {
        self.predict_bits = bits;
        self
    }

    /// Gradient steps each party takes per exchange ([`LrProtocol::Tessera`] only; default 1).
    ///
    /// The parallel variant of FedBCD (Liu et al., "FedBCD: A communication-efficient
    /// collaborative learning framework for distributed features", IEEE Trans. Signal
    /// Processing 70, 2022; arXiv:1912.11187): after an exchange each party takes `q` steps on
    /// the same batch, recomputing its own partial products from its updated weights and
    /// keeping the cross terms the exchange brought. With the Taylor loss a party's gradient is
    /// its own term plus a cross term that is linear in the other parties' products, so the
    /// only approximation is that the cross term is `q − 1` steps stale. Each exchange makes
    /// more progress, so fewer exchanges (bytes, rounds) reach a given accuracy; nothing new
    /// crosses the wire.
    pub fn local_steps(mut self, q: usize) -> Self {
        self.local_steps = q;
        self
    }

    /// Allows batches of no more rows than a host has features (default: refused).
    ///
    /// A host learns its own gradient `g_h = X_hᵀ r / m` of each batch (from its weight
    /// update, in both schedules, as in FATE). With `m ≤ d_h` rows and `X_h` of full row rank it
    /// solves that system for the batch's residuals `r`; at the first step, with zero weights,
    /// `r = 0.25 u + 0.5 − y = 0.5 − y`, so it reads every label of the batch off the signs
    /// (`tests/lr.rs::small_batches_leak_labels_to_the_host_and_are_refused` runs the attack).
    /// The guest therefore refuses, before anything is encrypted, any batch — the last one of
    /// an epoch included — with at most as many rows as a host declared features; allow it only
    /// where the labels are not secret from the hosts.
    pub fn allow_small_batches(mut self, allow: bool) -> Self {
        self.allow_small_batches = allow;
        self
    }

    /// The guest's check of [`Self::allow_small_batches`] against a host's feature count.
    pub(crate) fn check_batches_hide_labels(&self, n: usize, host_features: usize) -> Result<()> {
        if self.allow_small_batches {
            return Ok(());
        }
        match self.batches(n).iter().map(|b| b.len()).min() {
            Some(m) if m <= host_features => Err(Error::Misuse(format!(
                "a batch of {m} rows is no larger than the host's {host_features} features: the \
                 host could solve its gradient for the residuals and learn the labels (use larger \
                 batches, a batch size that divides the rows, or allow_small_batches)"
            ))),
            _ => Ok(()),
        }
    }

    /// The message schedule this estimator trains with.
    pub fn protocol_kind(&self) -> LrProtocol {
        self.protocol
    }

    /// Bits per partial score in prediction.
    pub fn predict_bits_kind(&self) -> u32 {
        self.predict_bits
    }

    pub(crate) fn batches(&self, n: usize) -> Vec<std::ops::Range<usize>> {
        let b = self.batch_size.unwrap_or(n).clamp(1, n.max(1));
        (0..n).step_by(b).map(|s| s..(s + b).min(n)).collect()
    }

    fn check_config(&self) -> Result<()> {
        if self.scale_bits > 20
            || self.epochs == 0
            || self.learning_rate.is_nan()
            || self.learning_rate <= 0.0
        {
            return Err(Error::Misuse("scale_bits ≤ 20, epochs ≥ 1 and learning rate > 0".into()));
        }
        if !(1..=64).contains(&self.local_steps) {
            return Err(Error::Misuse("local_steps must lie in 1..=64".into()));
        }
        if self.local_steps > 1 && self.protocol != LrProtocol::Tessera {
            return Err(Error::Misuse(
                "local_steps > 1 applies to LrProtocol::Tessera only (FATE's schedule has none)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Trains a binary model; both parties call it at once with their own role and their
    /// aligned rows (labels 0 or 1 at the guest).
    pub fn fit(
        &self,
        ch: &mut dyn Channel,
        peer: PartyId,
        role: Role,
        data: &VerticalDataset,
    ) -> Result<LrTraining> {
        let parties = Parties::two(ch.party(), peer, role);
        self.fit_parties(ch, &parties, role, data)
    }

    /// Trains a binary model with one guest and any number of hosts (every party calls it with
    /// the same `parties`). [`LrProtocol::FateBaseline`] supports one host only.
    pub fn fit_parties(
        &self,
        ch: &mut dyn Channel,
        parties: &Parties,
        role: Role,
        data: &VerticalDataset,
    ) -> Result<LrTraining> {
        let targets = match (role, &data.labels) {
            (Role::Guest, Some(l)) => {
                if l.iter().any(|&y| y != 0.0 && y != 1.0) {
                    return Err(Error::Misuse("binary labels must be 0 or 1".into()));
                }
                vec![l.clone()]
            }
            (Role::Guest, None) => return Err(Error::Misuse("the guest needs labels".into())),
            (Role::Host, _) => Vec::new(),
        };
        let t = self.fit_targets(ch, parties, role, data, &targets, 1)?;
        let model = t.models.into_iter().next().ok_or(Error::Misuse("no model".into()))?;
        Ok(LrTraining { model, phases: t.phases, loss_history: t.loss_history })
    }

    /// Trains `classes` one-vs-rest models (labels `0..classes` at the guest) over one setup.
    pub fn fit_multiclass(
        &self,
        ch: &mut dyn Channel,
        parties: &Parties,
        role: Role,
        data: &VerticalDataset,
        classes: usize,
    ) -> Result<LrMulticlassTraining> {
        if !(2..=1024).contains(&classes) {
            return Err(Error::Misuse("2 to 1024 classes".into()));
        }
        let targets = match (role, &data.labels) {
            (Role::Guest, Some(l)) => {
                if let Some(bad) =
                    l.iter().find(|&&y| y.fract() != 0.0 || y < 0.0 || y >= classes as f64)
                {
                    return Err(Error::Misuse(format!(
                        "label {bad} is not a class in 0..{classes}"
                    )));
                }
                (0..classes)
                    .map(|k| l.iter().map(|&y| if y as usize == k { 1.0 } else { 0.0 }).collect())
                    .collect()
            }
            (Role::Guest, None) => return Err(Error::Misuse("the guest needs labels".into())),
            (Role::Host, _) => Vec::new(),
        };
        self.fit_targets(ch, parties, role, data, &targets, classes)
    }

    fn fit_targets(
        &self,
        ch: &mut dyn Channel,
        parties: &Parties,
        role: Role,
        data: &VerticalDataset,
        targets: &[Vec<f64>],
        classes: usize,
    ) -> Result<LrMulticlassTraining> {
        self.check_config()?;
        parties.check(ch.party(), role)?;
        let (weights, phases, loss_history) = match self.protocol {
            LrProtocol::Tessera => tessera::train(self, ch, parties, role, data, targets, classes)?,
            LrProtocol::FateBaseline => {
                if parties.hosts.len() != 1 {
                    return Err(Error::Misuse("the FATE baseline runs with one host".into()));
                }
                let peer = if role == Role::Guest { parties.hosts[0] } else { parties.guest };
                baseline::train(self, ch, peer, role, data, targets, classes)?
            }
        };
        let models = weights
            .into_iter()
            .map(|(w, b)| LrModel {
                role,
                feature_names: data.feature_names.clone(),
                weights: w,
                intercept: if role == Role::Guest { b } else { 0.0 },
            })
            .collect();
        Ok(LrMulticlassTraining { models, phases, loss_history })
    }
}
