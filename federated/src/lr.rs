//! Vertical (hetero) logistic regression: a guest with labels and features and a host with
//! features of the same aligned rows train one linear model, each keeping its own weights.
//!
//! Both protocols use the second-order Taylor expansion of the logistic loss around 0 that FATE
//! uses (Hardy et al., "Private federated learning on vertically partitioned data via entity
//! resolution and additively homomorphic encryption", arXiv:1711.10677, §3.2): with
//! `u = u_g + u_h` (the parties' partial products) the residual is `d = 0.25 u + 0.5 − y`, so
//! the gradients are linear in the partial products:
//!
//! * guest: `g_g = X_gᵀ z + 0.25 X_gᵀ u_h`, host: `g_h = X_hᵀ z + 0.25 X_hᵀ u_h`, with
//!   `z = 0.25 u_g + 0.5 − y` known only to the guest.
//!
//! **[`LrProtocol::Tessera`]** needs one cross term per party and batch. At setup each party
//! encrypts its own quantised rows once under its own Paillier key, several features packed per
//! ciphertext (the guest appends `1` and `2y − 1` for the bias and the loss), and sends them to
//! the peer. Per batch, the guest returns the one packed ciphertext `Σ_i z_i·[[x_h,i]]` and the
//! host `Σ_i u_h,i·[[x̃_g,i]]`, both re-randomised; each party decrypts only the aggregate over
//! the batch that its own gradient needs. Per-sample values never cross, in plaintext or
//! encrypted; traffic per batch is a few ciphertexts instead of two per sample. One round per
//! batch.
//!
//! **[`LrProtocol::FateBaseline`]** is FATE's message schedule (FATE 1.x hetero LR, guest and
//! host gradients through masked decryption), with the arbiter's decryption done by the peer
//! that holds the key: the host sends `[[u_h,i]]` and the guest `[[z_i]]`, one 2048-bit Paillier
//! ciphertext per sample; each computes its encrypted gradient, one ciphertext per feature,
//! masks it and has the peer decrypt it. Three rounds per batch. FATE's additional `[[u_h²]]`
//! loss ciphertexts are left out, which only makes the baseline cheaper.
//!
//! Security: semi-honest, two parties, no arbiter. Paillier (IND-CPA under DCR) at the chosen
//! modulus size; masks for decryption are 40 bits wider than the masked value (statistical
//! security 2^-40). What each party learns: its own weights and, per batch, its own gradient
//! (as in FATE); the guest also learns `Σ u_h²` of each batch (an aggregate, for the loss). In
//! prediction the guest learns the scores (hence `u_h` of the rows it asked for) and the host
//! learns nothing.

use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use tessera_fhe::{PaillierCiphertext, PaillierPublicKey, PaillierSecretKey, paillier_keygen};
use tessera_mpc::{Channel, PartyId};

use crate::VerticalDataset;
use crate::paillier::{
    decode_cts, decrypt_signed, encode_cts, encrypt_all, pack, quantise, signed_to_zn,
    slots_per_ciphertext, unpack, weighted_sum,
};
use crate::stats::{PhaseStats, PhaseTimer};
use crate::{Error, Result};

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
    /// Taylor loss per batch (guest, Tessera protocol only; empty otherwise).
    pub loss_history: Vec<f64>,
}

fn dot(w: &[f64], x: &[f64]) -> f64 {
    w.iter().zip(x).map(|(a, b)| a * b).sum()
}

fn u64_at(bytes: &[u8], at: usize) -> Result<u64> {
    let b = bytes.get(at..at + 8).ok_or(Error::PeerMessage("truncated header"))?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Ok(u64::from_le_bytes(a))
}

/// Bytes of a masked plaintext gradient value in the baseline's return leg.
const MASKED_BYTES: usize = 16;
/// Bits of the uniform mask added before the peer decrypts (value bits + 40).
const MASK_BITS: u32 = 100;

struct Setup {
    n: usize,
    pk: PaillierPublicKey,
    sk: PaillierSecretKey,
    peer_pk: PaillierPublicKey,
    peer_width: usize,
}

impl HeteroLogisticRegression {
    /// Defaults: learning rate 0.15, L2 0.01, 10 epochs, full batch, [`LrProtocol::Tessera`],
    /// 2048-bit Paillier, 12 fractional bits.
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

    /// The message schedule this estimator trains with.
    pub fn protocol_kind(&self) -> LrProtocol {
        self.protocol
    }

    fn batches(&self, n: usize) -> Vec<std::ops::Range<usize>> {
        let b = self.batch_size.unwrap_or(n).clamp(1, n.max(1));
        (0..n).step_by(b).map(|s| s..(s + b).min(n)).collect()
    }

    /// Trains; both parties call it at once with their own role and their aligned rows.
    pub fn fit(
        &self,
        ch: &mut dyn Channel,
        peer: PartyId,
        role: Role,
        data: &VerticalDataset,
    ) -> Result<LrTraining> {
        if self.scale_bits > 20
            || self.epochs == 0
            || self.learning_rate.is_nan()
            || self.learning_rate <= 0.0
        {
            return Err(Error::Misuse("scale_bits ≤ 20, epochs ≥ 1 and learning rate > 0".into()));
        }
        let labels = match (role, &data.labels) {
            (Role::Guest, Some(l)) => {
                if l.iter().any(|&y| y != 0.0 && y != 1.0) {
                    return Err(Error::Misuse("binary labels must be 0 or 1".into()));
                }
                l.clone()
            }
            (Role::Guest, None) => return Err(Error::Misuse("the guest needs labels".into())),
            (Role::Host, _) => Vec::new(),
        };
        let d = data.num_features();
        // The guest's encrypted rows carry two extra slots: 1 (intercept) and 2y − 1 (loss).
        let width = if role == Role::Guest { d + 2 } else { d };
        let timer = PhaseTimer::start("setup", ch);
        let setup = self.setup(ch, peer, data.len(), width)?;
        let mut phases = Vec::new();
        let n = setup.n;
        let mut w = vec![0.0; d];
        let mut b = 0.0;
        let mut loss_history = Vec::new();
        let (train_timer, setup_stats);
        match self.protocol {
            LrProtocol::Tessera => {
                // Encrypt own rows once and swap them.
                let s = self.scale_bits;
                let slots = slots_per_ciphertext(&setup.pk);
                let k = width.div_ceil(slots);
                let mut plain = Vec::with_capacity(n * k);
                for i in 0..n {
                    let mut row: Vec<i64> = data.row(i).iter().map(|&x| quantise(x, s)).collect();
                    if let Some(&y) = labels.get(i) {
                        row.push(quantise(1.0, s));
                        row.push(quantise(2.0 * y - 1.0, s));
                    }
                    for chunk in row.chunks(slots) {
                        plain.push(pack(chunk, setup.pk.modulus()));
                    }
                }
                let mine = encrypt_all(&setup.pk, &plain)?;
                ch.send(peer, &encode_cts(&setup.pk, &mine))?;
                let peer_k = setup.peer_width.div_ceil(slots_per_ciphertext(&setup.peer_pk));
                let peer_rows = decode_cts(&setup.peer_pk, &ch.recv(peer)?, n * peer_k)?;
                setup_stats = timer.finish(ch);
                train_timer = PhaseTimer::start("train", ch);
                for _ in 0..self.epochs {
                    for batch in self.batches(n) {
                        let loss = self.tessera_step(
                            ch, peer, role, data, &labels, &setup, &peer_rows, peer_k, k, batch,
                            &mut w, &mut b,
                        )?;
                        loss_history.extend(loss);
                    }
                }
            }
            LrProtocol::FateBaseline => {
                setup_stats = timer.finish(ch);
                train_timer = PhaseTimer::start("train", ch);
                for _ in 0..self.epochs {
                    for batch in self.batches(n) {
                        self.baseline_step(
                            ch, peer, role, data, &labels, &setup, batch, &mut w, &mut b,
                        )?;
                    }
                }
            }
        }
        phases.push(setup_stats);
        phases.push(train_timer.finish(ch));
        let model = LrModel {
            role,
            feature_names: data.feature_names.clone(),
            weights: w,
            intercept: if role == Role::Guest { b } else { 0.0 },
        };
        Ok(LrTraining { model, phases, loss_history })
    }

    /// Key generation and the exchange of public keys, row counts and encrypted-row widths.
    fn setup(&self, ch: &mut dyn Channel, peer: PartyId, n: usize, width: usize) -> Result<Setup> {
        let mut rng = rand_chacha::ChaCha20Rng::from_rng(rand_core::OsRng)
            .map_err(|_| Error::Misuse("no OS randomness".into()))?;
        let (pk, sk) = paillier_keygen(self.key_bits, &mut rng)?;
        let mut msg = Vec::new();
        msg.extend_from_slice(&(n as u64).to_le_bytes());
        msg.extend_from_slice(&(width as u64).to_le_bytes());
        msg.extend_from_slice(&pk.to_bytes());
        ch.send(peer, &msg)?;
        let theirs = ch.recv(peer)?;
        let peer_n = u64_at(&theirs, 0)?;
        let peer_width = u64_at(&theirs, 8)?;
        if peer_n != n as u64 {
            return Err(Error::Misuse(format!(
                "rows are not aligned: {n} here, {peer_n} at the peer (run the PSI first)"
            )));
        }
        if peer_width == 0 || peer_width > 1 << 20 {
            return Err(Error::PeerMessage("feature count out of range"));
        }
        let peer_pk = PaillierPublicKey::from_bytes(theirs.get(16..).unwrap_or_default())?;
        Ok(Setup { n, pk, sk, peer_pk, peer_width: peer_width as usize })
    }

    /// The guest's `z = 0.25 u_g + 0.5 − y` or the host's `u_h` over a batch.
    fn local_products(
        role: Role,
        data: &VerticalDataset,
        labels: &[f64],
        batch: &std::ops::Range<usize>,
        w: &[f64],
        b: f64,
    ) -> Vec<f64> {
        batch
            .clone()
            .map(|i| {
                let u = dot(w, data.row(i));
                match role {
                    Role::Guest => 0.25 * (u + b) + 0.5 - labels[i],
                    Role::Host => u,
                }
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn tessera_step(
        &self,
        ch: &mut dyn Channel,
        peer: PartyId,
        role: Role,
        data: &VerticalDataset,
        labels: &[f64],
        setup: &Setup,
        peer_rows: &[PaillierCiphertext],
        peer_k: usize,
        k: usize,
        batch: std::ops::Range<usize>,
        w: &mut [f64],
        b: &mut f64,
    ) -> Result<Option<f64>> {
        let s = self.scale_bits;
        let m = batch.len() as f64;
        let local = Self::local_products(role, data, labels, &batch, w, *b);
        let q: Vec<i64> = local.iter().map(|&v| quantise(v, s)).collect();
        // The packed aggregate Σ_i q_i·[[peer row i]], one ciphertext per packed chunk.
        let agg: Vec<PaillierCiphertext> = (0..peer_k)
            .map(|c| {
                weighted_sum(
                    &setup.peer_pk,
                    batch.clone().zip(&q).map(|(i, &qi)| (qi, peer_rows[i * peer_k + c].clone())),
                )
            })
            .collect::<Result<_>>()?;
        let mut msg = encode_cts(&setup.peer_pk, &agg);
        if role == Role::Host {
            let sum_sq: f64 = local.iter().map(|u| u * u).sum();
            msg.extend_from_slice(&sum_sq.to_le_bytes());
        }
        ch.send(peer, &msg)?;
        let reply = ch.recv(peer)?;
        let ct_bytes = k * setup.pk.ciphertext_len();
        let (ct_part, tail) =
            reply.split_at_checked(ct_bytes).ok_or(Error::PeerMessage("short aggregate"))?;
        let cts = decode_cts(&setup.pk, ct_part, k)?;
        let slots = slots_per_ciphertext(&setup.pk);
        let d = data.num_features();
        let width = if role == Role::Guest { d + 2 } else { d };
        let mut cross: Vec<f64> = Vec::with_capacity(width);
        for (c, ct) in cts.iter().enumerate() {
            let count = slots.min(width - c * slots);
            let vals = unpack(&setup.sk.decrypt(ct), setup.pk.modulus(), count);
            cross.extend(vals.into_iter().map(|v| v as f64 / f64::from(1u32 << s).powi(2)));
        }
        // The guest's Taylor loss at the weights this batch started from:
        // log 2 − ½·y'u + ⅛·u², with Σ u_g·u_h = w_g·(X_gᵀu_h) + b·Σ u_h.
        let loss = if role == Role::Guest {
            let tail: [u8; 8] =
                tail.try_into().map_err(|_| Error::PeerMessage("missing loss aggregate"))?;
            let sum_uh_sq = f64::from_le_bytes(tail);
            let ug_uh = dot(w, &cross[..d]) + *b * cross[d];
            let mut loss = -0.5 * cross[d + 1] + 0.125 * (2.0 * ug_uh + sum_uh_sq);
            for (i, &zi) in batch.clone().zip(&local) {
                let ug = 4.0 * (zi - 0.5 + labels[i]);
                let ys = 2.0 * labels[i] - 1.0;
                loss += std::f64::consts::LN_2 - 0.5 * ys * ug + 0.125 * ug * ug;
            }
            Some(loss / m)
        } else if tail.is_empty() {
            None
        } else {
            return Err(Error::PeerMessage("unexpected bytes after the aggregate"));
        };
        // Local half of the gradient: guest Σ z_i·x_i, host ¼·Σ u_h,i·x_i.
        let (own_weight, peer_weight) = if role == Role::Guest { (1.0, 0.25) } else { (0.25, 1.0) };
        let mut grad = vec![0.0; d];
        for (i, &l) in batch.clone().zip(&local) {
            for (g, &x) in grad.iter_mut().zip(data.row(i)) {
                *g += own_weight * l * x;
            }
        }
        for j in 0..d {
            let g = (grad[j] + peer_weight * cross[j]) / m + self.l2 * w[j];
            w[j] -= self.learning_rate * g;
        }
        if role == Role::Guest {
            let sum_z: f64 = local.iter().sum();
            *b -= self.learning_rate * (sum_z + 0.25 * cross[d]) / m;
        }
        Ok(loss)
    }

    #[allow(clippy::too_many_arguments)]
    fn baseline_step(
        &self,
        ch: &mut dyn Channel,
        peer: PartyId,
        role: Role,
        data: &VerticalDataset,
        labels: &[f64],
        setup: &Setup,
        batch: std::ops::Range<usize>,
        w: &mut [f64],
        b: &mut f64,
    ) -> Result<()> {
        let s = self.scale_bits;
        let m = batch.len();
        let local = Self::local_products(role, data, labels, &batch, w, *b);
        let q: Vec<i64> = local.iter().map(|&v| quantise(v, s)).collect();
        // Round 1: one ciphertext per sample (host: [[u_h]], guest: [[z]]) under own key.
        let plain: Vec<_> =
            q.iter().map(|&v| signed_to_zn(i128::from(v), setup.pk.modulus())).collect();
        ch.send(peer, &encode_cts(&setup.pk, &encrypt_all(&setup.pk, &plain)?))?;
        let enc_peer = decode_cts(&setup.peer_pk, &ch.recv(peer)?, m)?;
        // Round 2: the encrypted gradient of own features (guest: with the intercept), one
        // ciphertext per value, masked, for the peer (who holds the key) to decrypt.
        // 4·d_i = 4 z_i + u_h,i: the guest weighs the peer's [[u_h]] by x and adds Σ x·4z in
        // plaintext; the host weighs [[z]] by 4x and adds Σ x·u_h.
        let d = data.num_features();
        let cols = if role == Role::Guest { d + 1 } else { d };
        let (own_factor, peer_factor) = if role == Role::Guest { (4i64, 1i64) } else { (1, 4) };
        let feature = |i: usize, j: usize| -> i64 {
            if j < d { quantise(data.row(i)[j], s) } else { quantise(1.0, s) }
        };
        let mut masks = Vec::with_capacity(cols);
        let mut grads = Vec::with_capacity(cols);
        let mut rng = rand_chacha::ChaCha20Rng::from_rng(rand_core::OsRng)
            .map_err(|_| Error::Misuse("no OS randomness".into()))?;
        for j in 0..cols {
            let plain_part: i128 = batch
                .clone()
                .zip(&q)
                .map(|(i, &qi)| i128::from(feature(i, j)) * i128::from(own_factor * qi))
                .sum();
            let mask = (i128::from(rng.next_u64()) << 36) ^ i128::from(rng.next_u64() >> 28);
            let mask = mask & ((1i128 << MASK_BITS) - 1);
            let enc = weighted_sum(
                &setup.peer_pk,
                batch.clone().zip(&enc_peer).map(|(i, c)| (peer_factor * feature(i, j), c.clone())),
            )?;
            let add = setup
                .peer_pk
                .encrypt(&signed_to_zn(plain_part + mask, setup.peer_pk.modulus()), &mut rng)?;
            grads.push(setup.peer_pk.add(&enc, &add));
            masks.push(mask);
        }
        ch.send(peer, &encode_cts(&setup.peer_pk, &grads))?;
        let peer_cols = setup.peer_width.saturating_sub(if role == Role::Guest { 0 } else { 1 });
        let to_decrypt = decode_cts(&setup.pk, &ch.recv(peer)?, peer_cols)?;
        // Round 3: decrypt the peer's masked gradient and return it.
        let mut back = Vec::with_capacity(peer_cols * MASKED_BYTES);
        for c in &to_decrypt {
            back.extend_from_slice(&decrypt_signed(&setup.sk, setup.pk.modulus(), c).to_le_bytes());
        }
        ch.send(peer, &back)?;
        let masked = ch.recv(peer)?;
        if masked.len() != cols * MASKED_BYTES {
            return Err(Error::PeerMessage("wrong number of masked gradient values"));
        }
        let scale = f64::from(1u32 << s).powi(2) * 4.0 * m as f64;
        for (j, (chunk, mask)) in masked.chunks_exact(MASKED_BYTES).zip(&masks).enumerate() {
            let mut a = [0u8; MASKED_BYTES];
            a.copy_from_slice(chunk);
            let g = (i128::from_le_bytes(a) - mask) as f64 / scale;
            if j < d {
                w[j] -= self.learning_rate * (g + self.l2 * w[j]);
            } else {
                *b -= self.learning_rate * g;
            }
        }
        Ok(())
    }
}

fn sigmoid(u: f64) -> f64 {
    1.0 / (1.0 + (-u).exp())
}

/// Fractional bits of the host's quantised partial products in [`LrProtocol::Tessera`] prediction.
const PREDICT_SCALE_BITS: u32 = 8;

impl LrModel {
    /// Scores `data`'s rows (aligned with the peer's): the guest gets `Some(probabilities)`, the
    /// host `None`. The host sends only its partial products `u_h` (which the guest could derive
    /// from the scores anyway): as 16-bit fixed point in [`LrProtocol::Tessera`], as 64-bit
    /// floats in the baseline (FATE sends its `wx` table in plaintext).
    pub fn predict(
        &self,
        ch: &mut dyn Channel,
        peer: PartyId,
        data: &VerticalDataset,
        protocol: LrProtocol,
    ) -> Result<(Option<Vec<f64>>, PhaseStats)> {
        if data.num_features() != self.weights.len() {
            return Err(Error::Misuse(format!(
                "model has {} weights, data {} features",
                self.weights.len(),
                data.num_features()
            )));
        }
        let timer = PhaseTimer::start("predict", ch);
        let n = data.len();
        let local: Vec<f64> =
            (0..n).map(|i| dot(&self.weights, data.row(i)) + self.intercept).collect();
        match self.role {
            Role::Host => {
                let mut msg = (n as u64).to_le_bytes().to_vec();
                for u in &local {
                    match protocol {
                        LrProtocol::Tessera => {
                            let q = quantise(*u, PREDICT_SCALE_BITS)
                                .clamp(i16::MIN.into(), i16::MAX.into());
                            msg.extend_from_slice(&(q as i16).to_le_bytes());
                        }
                        LrProtocol::FateBaseline => msg.extend_from_slice(&u.to_le_bytes()),
                    }
                }
                ch.send(peer, &msg)?;
                Ok((None, timer.finish(ch)))
            }
            Role::Guest => {
                let msg = ch.recv(peer)?;
                if u64_at(&msg, 0)? != n as u64 {
                    return Err(Error::Misuse(
                        "prediction rows are not aligned with the host's".into(),
                    ));
                }
                let width = match protocol {
                    LrProtocol::Tessera => 2,
                    LrProtocol::FateBaseline => 8,
                };
                let body = &msg[8..];
                if body.len() != n * width {
                    return Err(Error::PeerMessage("wrong number of partial products"));
                }
                let scores = body
                    .chunks_exact(width)
                    .zip(&local)
                    .map(|(c, ug)| {
                        let uh = if width == 2 {
                            f64::from(i16::from_le_bytes([c[0], c[1]]))
                                / f64::from(1u32 << PREDICT_SCALE_BITS)
                        } else {
                            let mut a = [0u8; 8];
                            a.copy_from_slice(c);
                            f64::from_le_bytes(a)
                        };
                        sigmoid(ug + uh)
                    })
                    .collect();
                Ok((Some(scores), timer.finish(ch)))
            }
        }
    }
}

/// Logistic regression trained in the clear on the joined columns (the reference the federated
/// model must match): exact sigmoid gradient, same learning rate, L2, epochs and batches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlainLr {
    /// Guest weights then host weights.
    pub weights: Vec<f64>,
    /// Intercept.
    pub intercept: f64,
}

impl PlainLr {
    /// Trains on `guest` (with labels) joined column-wise with `host` (same rows, same order).
    pub fn fit(
        cfg: &HeteroLogisticRegression,
        guest: &VerticalDataset,
        host: &VerticalDataset,
    ) -> Result<Self> {
        let y =
            guest.labels.as_ref().ok_or_else(|| Error::Misuse("the guest needs labels".into()))?;
        if guest.ids != host.ids {
            return Err(Error::Misuse("guest and host rows are not aligned".into()));
        }
        let (dg, dh) = (guest.num_features(), host.num_features());
        let mut w = vec![0.0; dg + dh];
        let mut b = 0.0;
        for _ in 0..cfg.epochs {
            for batch in cfg.batches(guest.len()) {
                let m = batch.len() as f64;
                let mut grad = vec![0.0; dg + dh];
                let mut gb = 0.0;
                for i in batch {
                    let (xg, xh) = (guest.row(i), host.row(i));
                    let u = dot(&w[..dg], xg) + dot(&w[dg..], xh) + b;
                    let r = sigmoid(u) - y[i];
                    for (g, x) in grad.iter_mut().zip(xg.iter().chain(xh)) {
                        *g += r * x;
                    }
                    gb += r;
                }
                for (wj, g) in w.iter_mut().zip(&grad) {
                    *wj -= cfg.learning_rate * (g / m + cfg.l2 * *wj);
                }
                b -= cfg.learning_rate * gb / m;
            }
        }
        Ok(Self { weights: w, intercept: b })
    }

    /// Probabilities for aligned `guest` and `host` rows.
    pub fn predict(&self, guest: &VerticalDataset, host: &VerticalDataset) -> Vec<f64> {
        let dg = guest.num_features();
        (0..guest.len())
            .map(|i| {
                sigmoid(
                    dot(&self.weights[..dg], guest.row(i))
                        + dot(&self.weights[dg..], host.row(i))
                        + self.intercept,
                )
            })
            .collect()
    }
}
