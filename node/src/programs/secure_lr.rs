//! The `secure-lr` program: logistic regression trained on secret-shared data with SPDZ (MASCOT
//! preprocessing) in fixed point; the model is opened to the recipients only.
//!
//! **Split.** `split = "horizontal"` (default): every party holds whole rows (an `id`, the same
//! feature columns, and the 0/1 label); the training set is the union of the parties' rows.
//! `split = "vertical"`: every party holds some feature columns of the same customers and exactly
//! one party holds the label column; rows are matched on `id` by ECDH-PSI ([`super::align`],
//! which reveals the intersection; semi-honest) and the training set is the intersection. Either
//! way each party secret-shares its part (features in fixed point with `frac_bits` fractional
//! bits; a public constant 1 row gives the intercept) and the labels; nobody sees another party's
//! values, only the final weights are opened.
//!
//! **Training.** Full-batch gradient descent from w = 0 for `epochs` epochs:
//! `w ← w − (lr/N)·Xᵀ(σ(Xw) − y)`, with σ approximated by
//! - `sigmoid = "linear"` (default): σ(z) ≈ ½ + z/4, its first-order Taylor expansion at 0, the
//!   approximation FATE's hetero LR and Aono et al. (IEICE 2016, §3) train with. The gradient is
//!   then a degree-2 polynomial of shared values, so no truncation is needed until the update:
//!   one epoch costs 2·N·(d+1) multiplications and d+1 truncations.
//! - `sigmoid = "cubic"`: [`tessera_protocols::fixed::sigmoid`] (0.5 + 0.197z − 0.004z³ clamped
//!   to [0, 1] outside [−5, 5], two comparisons per row, Catrina–de Hoogh SCN 2010): closer to the
//!   true logistic loss, about 10× the cost per row.
//!
//! Products are brought back to `frac_bits` by probabilistic truncation (Catrina–Saxena, FC 2010,
//! §3.1); the update's constant lr/N is applied as an integer scaled by 2^g before one truncation,
//! with g chosen so it keeps 10 significant bits. [`train_plain`] runs the same algorithm in
//! floating point; the tests compare the two.
//!
//! **Security.** Malicious security with abort for the training (SPDZ MACs, statistical security
//! ≥ 2^-64 per check). Opened masked values (see [`tessera_protocols::fixed`]) are 2^-κ-close to
//! independent of the secrets, per value: κ = 64 for the cubic sigmoid's truncations and
//! comparisons (k = 2f + 20 ≤ 60) and κ_u = min(64, 125 − k_u) ≥ 40 for the update truncation,
//! whose k_u = 3f + g + 10 (linear) or 2f + g + 10 (cubic) grows with log₂(N/lr) (default f = 13,
//! lr = 1: κ_u = 58 at 60 rows, 44 at 2^20; larger k_u is refused). Per session, by the union
//! bound: ≤ epochs·(d+1)·2^-κ_u, plus 7·epochs·N·2^-64 for the cubic sigmoid (at the limits,
//! 200 epochs and 257 weights, below 2^-24). What is revealed: the row
//! count and feature names of every party (horizontal: checked equal; vertical: also which party
//! holds the label, and the PSI intersection), and the weights to the recipients. Features must
//! be standardised: |x| ≤ 16 is enforced; a learning rate so large that training diverges
//! (|lr·gradient/N| ≥ 2^8) makes the truncation's range assumption fail and the weights
//! meaningless (never the security of the inputs beyond the statistical mask bounds above).

use serde::{Deserialize, Serialize};
use tessera_ledger::LedgerHash;
use tessera_mpc::{Channel, Field, Fp127, Ring};
use tessera_protocols::fixed::{self, FixedPoint};
use tessera_protocols::spdz::{Session, Shared};

use super::prep::{PrepKind, PrepOptions};
use super::{Recipients, constant, reveal};
use crate::error::{Error, Result};

/// Largest feature magnitude accepted.
pub const MAX_FEATURE: f64 = 16.0;
/// Most rows over all parties.
pub const MAX_ROWS: usize = 1 << 20;
/// Most features.
pub const MAX_FEATURES: usize = 256;

/// How the logistic function is approximated.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SigmoidApprox {
    /// ½ + z/4.
    #[default]
    Linear,
    /// The protocols crate's clamped cubic.
    Cubic,
}

/// How the training rows are spread over the parties.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Every party holds whole rows (same feature columns, its own label column).
    #[default]
    Horizontal,
    /// Every party holds some feature columns of the same customers (matched on `id` by PSI);
    /// exactly one party holds the label column.
    Vertical,
}

/// Parameters of `secure-lr` (part of the program hash).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecureLrParams {
    /// The label column (0/1).
    #[serde(default = "default_label")]
    pub label: String,
    /// Training epochs (full batch).
    #[serde(default = "default_epochs")]
    pub epochs: u32,
    /// Learning rate.
    #[serde(default = "default_lr")]
    pub learning_rate: f64,
    /// Sigmoid approximation.
    #[serde(default)]
    pub sigmoid: SigmoidApprox,
    /// Fractional bits of the fixed-point encoding.
    #[serde(default = "default_frac")]
    pub frac_bits: u32,
    /// How rows are spread over the parties.
    #[serde(default)]
    pub split: Split,
    /// Which protocol makes the SPDZ preprocessing.
    #[serde(default)]
    pub preprocessing: PrepKind,
}

fn default_label() -> String {
    "y".into()
}
fn default_epochs() -> u32 {
    5
}
fn default_lr() -> f64 {
    1.0
}
fn default_frac() -> u32 {
    13
}

impl Default for SecureLrParams {
    fn default() -> Self {
        Self {
            label: default_label(),
            epochs: default_epochs(),
            learning_rate: default_lr(),
            sigmoid: SigmoidApprox::Linear,
            frac_bits: default_frac(),
            split: Split::Horizontal,
            preprocessing: PrepKind::default(),
        }
    }
}

impl SecureLrParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        if !(1..=200).contains(&self.epochs) {
            return Err(Error::invalid("epochs", "1 to 200"));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 16.0) {
            return Err(Error::invalid("learning_rate", "in (0, 16]"));
        }
        if !(8..=20).contains(&self.frac_bits) {
            return Err(Error::invalid("frac_bits", "8 to 20"));
        }
        if self.label.is_empty() || self.label == "id" {
            return Err(Error::invalid("label", "name the label column"));
        }
        Ok(())
    }
}

/// The trained model (what the recipients learn).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SecureLrResult {
    /// Training rows over all parties.
    pub rows: u64,
    /// Feature names, in weight order.
    pub features: Vec<String>,
    /// Weights.
    pub weights: Vec<f64>,
    /// Intercept.
    pub intercept: f64,
    /// Epochs trained.
    pub epochs: u32,
    /// Sigmoid approximation used in training.
    pub sigmoid: SigmoidApprox,
}

impl SecureLrResult {
    /// The predicted probability of a row (exact logistic function).
    pub fn predict(&self, row: &[f64]) -> f64 {
        let z: f64 = self.weights.iter().zip(row).map(|(w, x)| w * x).sum::<f64>() + self.intercept;
        1.0 / (1.0 + (-z).exp())
    }

    /// Share of `rows` (row-major, `features.len()` wide) classified as `labels` at 0.5.
    pub fn accuracy(&self, rows: &[f64], labels: &[f64]) -> f64 {
        accuracy(&self.weights, self.intercept, rows, labels)
    }
}

fn accuracy(w: &[f64], b: f64, rows: &[f64], labels: &[f64]) -> f64 {
    let d = w.len().max(1);
    let hits = rows
        .chunks_exact(d)
        .zip(labels)
        .filter(|(x, y)| {
            let z: f64 = w.iter().zip(*x).map(|(w, x)| w * x).sum::<f64>() + b;
            (z >= 0.0) == (**y >= 0.5)
        })
        .count();
    hits as f64 / labels.len().max(1) as f64
}

/// A party's rows: feature names, row-major features, labels.
#[derive(Clone, Debug)]
pub struct Rows {
    /// Feature names.
    pub names: Vec<String>,
    /// Row-major features.
    pub x: Vec<f64>,
    /// 0/1 labels (empty at a vertical party without the label column).
    pub y: Vec<f64>,
    /// Row identifiers (used to align a vertical split).
    pub ids: Vec<String>,
    /// Whether this party holds the label column.
    pub labelled: bool,
}

impl Rows {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Rows `r` (clamped to the rows there are).
    pub fn rows(&self, r: std::ops::Range<usize>) -> Rows {
        let d = self.names.len();
        let r = r.start.min(self.len())..r.end.min(self.len());
        Rows {
            names: self.names.clone(),
            x: self.x[r.start * d..r.end * d].to_vec(),
            y: self.y.get(r.clone()).map(<[f64]>::to_vec).unwrap_or_default(),
            ids: self.ids[r].to_vec(),
            labelled: self.labelled,
        }
    }

    /// Feature columns `c` of every row, with or without the labels (a vertical part).
    pub fn columns(&self, c: std::ops::Range<usize>, labelled: bool) -> Rows {
        let d = self.names.len();
        let c = c.start.min(d)..c.end.min(d);
        Rows {
            names: self.names[c.clone()].to_vec(),
            x: self.x.chunks_exact(d.max(1)).flat_map(|row| row[c.clone()].to_vec()).collect(),
            y: if labelled { self.y.clone() } else { vec![] },
            ids: self.ids.clone(),
            labelled: labelled && self.labelled,
        }
    }
}

/// Reads this party's rows: CSV with `id`, the label column (horizontal split: at every party;
/// vertical: at one party) and feature columns.
pub fn read_input(bytes: &[u8], params: &SecureLrParams) -> Result<Rows> {
    let has_label = match params.split {
        Split::Horizontal => true,
        Split::Vertical => {
            let text = std::str::from_utf8(bytes).unwrap_or_default();
            let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
            header.split(',').any(|c| c.trim() == params.label)
        }
    };
    let t = super::read_table(bytes, has_label.then_some(params.label.as_str()))?;
    let y = t.labels.unwrap_or_default();
    if y.iter().any(|v| *v != 0.0 && *v != 1.0) {
        return Err(Error::invalid("data file", "labels must be 0 or 1"));
    }
    if t.feature_names.is_empty() || t.feature_names.len() > MAX_FEATURES {
        return Err(Error::invalid("data file", "1 to 256 feature columns"));
    }
    if t.features.iter().any(|v| v.abs() > MAX_FEATURE) {
        return Err(Error::invalid("data file", "features must be standardised (|x| ≤ 16)"));
    }
    Ok(Rows { names: t.feature_names, x: t.features, y, ids: t.ids, labelled: has_label })
}

/// The same training in floating point (for tests and comparison), on the concatenated rows.
pub fn train_plain(rows: &Rows, params: &SecureLrParams) -> (Vec<f64>, f64) {
    let d = rows.names.len();
    let n = rows.y.len().max(1) as f64;
    let mut w = vec![0.0; d + 1];
    let sig = |z: f64| match params.sigmoid {
        SigmoidApprox::Linear => 0.5 + z / 4.0,
        SigmoidApprox::Cubic if z < -5.0 => 0.0,
        SigmoidApprox::Cubic if z > 5.0 => 1.0,
        SigmoidApprox::Cubic => 0.5 + 0.197 * z - 0.004 * z * z * z,
    };
    for _ in 0..params.epochs {
        let mut g = vec![0.0; d + 1];
        for (x, y) in rows.x.chunks_exact(d).zip(&rows.y) {
            let z: f64 = w[..d].iter().zip(x).map(|(w, x)| w * x).sum::<f64>() + w[d];
            let e = sig(z) - y;
            for j in 0..d {
                g[j] += e * x[j];
            }
            g[d] += e;
        }
        for j in 0..=d {
            w[j] -= params.learning_rate / n * g[j];
        }
    }
    let b = w.pop().unwrap_or(0.0);
    (w, b)
}

/// The plaintext model's accuracy (for comparison).
pub fn plain_accuracy(w: &[f64], b: f64, rows: &[f64], labels: &[f64]) -> f64 {
    accuracy(w, b, rows, labels)
}

fn names_hash(names: &[String]) -> [u8; 32] {
    let joined = names.join("\n");
    LedgerHash::Sha256.hash(&[b"tessera-node/secure-lr/features", joined.as_bytes()])
}

/// The public shape of a job, agreed before anything is shared.
struct Shape {
    /// Training rows.
    n: usize,
    /// Feature names in weight order.
    names: Vec<String>,
    /// Rows (horizontal) or feature columns (vertical) of each party.
    per_party: Vec<usize>,
    /// The party holding the labels (vertical).
    labeller: usize,
    /// This party's rows to use, in the common order (vertical: after PSI).
    my_rows: Vec<usize>,
}

fn recv_hello(ch: &mut dyn Channel, p: usize) -> Result<serde_json::Value> {
    let raw = ch.recv(crate::pid(p))?;
    serde_json::from_slice(&raw).map_err(|e| Error::invalid("peer message", e))
}

/// Horizontal: row counts are exchanged and feature names checked equal.
fn shape_horizontal(ch: &mut dyn Channel, rows: &Rows) -> Result<Shape> {
    let me = ch.party().index();
    let my_hash = hex::encode(names_hash(&rows.names));
    let hello = serde_json::json!({"rows": rows.len(), "names": my_hash});
    ch.broadcast(hello.to_string().as_bytes())?;
    let mut per_party = vec![0usize; ch.num_parties()];
    for (p, c) in per_party.iter_mut().enumerate() {
        if p == me {
            *c = rows.len();
            continue;
        }
        let v = recv_hello(ch, p)?;
        if v["names"].as_str() != Some(my_hash.as_str()) {
            return Err(Error::invalid(
                "input",
                format!("party {p} has other feature columns (names and order must match)"),
            ));
        }
        *c = v["rows"]
            .as_u64()
            .filter(|r| *r <= MAX_ROWS as u64)
            .ok_or_else(|| Error::invalid("peer message", format!("party {p}: row count")))?
            as usize;
    }
    Ok(Shape {
        n: per_party.iter().sum(),
        names: rows.names.clone(),
        per_party,
        labeller: 0,
        my_rows: (0..rows.len()).collect(),
    })
}

/// Vertical: ids aligned by PSI, then column names and the labeller exchanged.
fn shape_vertical(
    ch: &mut dyn Channel,
    rows: &Rows,
    progress: super::super::stats::Progress<'_>,
) -> Result<Shape> {
    let me = ch.party().index();
    progress("aligning ids (ECDH-PSI over Ristretto255)");
    let my_rows = super::align::align_all(ch, &rows.ids)?;
    let n = my_rows.len();
    let hello = serde_json::json!({"rows": n, "names": rows.names, "labelled": rows.labelled});
    ch.broadcast(hello.to_string().as_bytes())?;
    let mut names = Vec::new();
    let mut per_party = Vec::with_capacity(ch.num_parties());
    let mut labellers = Vec::new();
    for p in 0..ch.num_parties() {
        let (theirs, labelled) = if p == me {
            (rows.names.clone(), rows.labelled)
        } else {
            let v = recv_hello(ch, p)?;
            if v["rows"].as_u64() != Some(n as u64) {
                return Err(Error::invalid("peer message", format!("party {p}: aligned rows")));
            }
            let theirs: Vec<String> = serde_json::from_value(v["names"].clone())
                .map_err(|e| Error::invalid("peer message", e))?;
            (theirs, v["labelled"].as_bool().unwrap_or(false))
        };
        if labelled {
            labellers.push(p);
        }
        per_party.push(theirs.len());
        names.extend(theirs);
    }
    let [labeller] = labellers[..] else {
        return Err(Error::invalid("input", "exactly one party must hold the label column"));
    };
    if names.len() > MAX_FEATURES {
        return Err(Error::invalid("input", "more than 256 features in all"));
    }
    Ok(Shape { n, names, per_party, labeller, my_rows })
}

/// Runs `secure-lr` as this party; `Some(model)` at recipients.
pub fn run(
    ch: &mut dyn Channel,
    rows: &Rows,
    params: &SecureLrParams,
    to: &Recipients,
    prep_opts: PrepOptions,
    progress: super::super::stats::Progress<'_>,
) -> Result<Option<SecureLrResult>> {
    params.validate()?;
    let d = rows.names.len();
    if d == 0 || rows.x.len() != rows.len() * d || rows.len() > MAX_ROWS {
        return Err(Error::invalid("input", "rows × features"));
    }
    if rows.labelled && rows.y.len() != rows.len() {
        return Err(Error::invalid("input", "one label per row"));
    }
    let n_parties = ch.num_parties();
    let me = ch.party();
    progress("exchanging the data's shape");
    let shape = match params.split {
        Split::Horizontal => shape_horizontal(ch, rows)?,
        Split::Vertical => shape_vertical(ch, rows, progress)?,
    };
    let n = shape.n;
    if !(2..=MAX_ROWS).contains(&n) {
        return Err(Error::invalid("input", "need 2 to 2^20 rows in all"));
    }
    let width = shape.names.len() + 1;
    let f = params.frac_bits;
    // The update: Δ = trunc(c · g_raw, e_bits + g) with c = round(lr/(factor·N)·2^g).
    let (e_bits, factor) = match params.sigmoid {
        SigmoidApprox::Linear => (2 * f, 4.0),
        SigmoidApprox::Cubic => (f, 1.0),
    };
    let g = 10 + (factor * n as f64 / params.learning_rate).log2().ceil().max(0.0) as u32;
    // The update's integers (k = f + e_bits + g + 10, up to 85) may exceed the 61 bits that
    // 64-bit masks allow in the 127-bit field: those truncations get the widest masks that fit.
    let fx_update =
        FixedPoint::with_widest_masks::<Fp127>(f, f + e_bits + g + 10).map_err(|_| {
            Error::invalid(
                "secure-lr",
                "too many rows for the fixed-point range: raise learning_rate",
            )
        })?;
    let c = (params.learning_rate / (factor * n as f64) * (1u128 << g) as f64).round() as u64;
    let fx = FixedPoint::new::<Fp127>(f, 2 * f + 20)?;

    progress(super::prep::setup_phase(params.preprocessing));
    let prep = super::prep::setup(ch, params.preprocessing, prep_opts.at_most(2 * n * width, 64))?;
    let mut s = Session::new(ch, prep);
    // This party's block, column-major: feature j of every used row, then the next feature.
    let mut my_x = Vec::with_capacity(d * shape.my_rows.len());
    for j in 0..d {
        for &r in &shape.my_rows {
            let v = rows.x.get(r * d + j).ok_or_else(|| Error::invalid("input", "row"))?;
            my_x.push(fx.encode::<Fp127>(*v)?);
        }
    }
    let my_y: Vec<Fp127> = shape
        .my_rows
        .iter()
        .map(|&r| Fp127::from_u64(u64::from(rows.y.get(r) == Some(&1.0))))
        .collect();
    // Xᵀ (width × n, row-major) and y, all secret-shared.
    let mut xt_rows: Vec<Shared<Fp127>> = Vec::with_capacity(width);
    let y = match params.split {
        Split::Horizontal => {
            let mut blocks = Vec::with_capacity(n_parties);
            let mut ys = Vec::with_capacity(n_parties);
            for (p, &cnt) in shape.per_party.iter().enumerate() {
                progress(&format!("secret-sharing the rows of party {p}"));
                let owner = crate::pid(p);
                blocks.push(s.input(owner, (owner == me).then_some(&my_x[..]), cnt * d)?);
                ys.push(s.input(owner, (owner == me).then_some(&my_y[..]), cnt)?);
            }
            for j in 0..d {
                let parts = blocks
                    .iter()
                    .zip(&shape.per_party)
                    .map(|(b, &cnt)| b.slice(j * cnt..(j + 1) * cnt))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                xt_rows.push(Shared::concat(&parts.iter().collect::<Vec<_>>()));
            }
            Shared::concat(&ys.iter().collect::<Vec<_>>())
        }
        Split::Vertical => {
            for (p, &cols) in shape.per_party.iter().enumerate() {
                progress(&format!("secret-sharing the columns of party {p}"));
                let owner = crate::pid(p);
                let block = s.input(owner, (owner == me).then_some(&my_x[..]), cols * n)?;
                for j in 0..cols {
                    xt_rows.push(block.slice(j * n..(j + 1) * n)?);
                }
            }
            let owner = crate::pid(shape.labeller);
            s.input(owner, (owner == me).then_some(&my_y[..]), n)?
        }
    };
    xt_rows.push(constant(&s, &y, &vec![fx.encode::<Fp127>(1.0)?; n])?);
    let xt = Shared::concat(&xt_rows.iter().collect::<Vec<_>>());
    drop(xt_rows);
    let mut w = constant(&s, &y, &vec![Fp127::ZERO; width])?;
    let two_f = Fp127::from_u128(1u128 << (2 * f));
    for epoch in 0..params.epochs {
        progress(&format!("epoch {}/{}", epoch + 1, params.epochs));
        let z_raw = s.matmul(&w, &xt, (1, width, n))?;
        let e = match params.sigmoid {
            SigmoidApprox::Linear => {
                // 4·e·2^(2f) = z_raw + 2·2^(2f) − 4·2^(2f)·y
                let e = z_raw.sub(&y.scale(two_f * Fp127::from_u64(4)))?;
                s.add_public(&e, &vec![two_f * Fp127::from_u64(2); n])?
            }
            SigmoidApprox::Cubic => {
                let z = fixed::trunc_pr(&mut s, fx, &z_raw, f)?;
                let sg = fixed::sigmoid(&mut s, fx, &z)?;
                sg.sub(&y.scale(Fp127::from_u128(1u128 << f)))?
            }
        };
        let g_raw = s.matmul(&xt, &e, (width, n, 1))?;
        let delta =
            fixed::trunc_pr(&mut s, fx_update, &g_raw.scale(Fp127::from_u64(c)), e_bits + g)?;
        w = w.sub(&delta)?;
    }
    progress("opening the model to the recipients");
    let out = reveal(&mut s, &w, to)?;
    Ok(out.map(|v| {
        let mut weights = fx.decode_all(&v);
        let intercept = weights.pop().unwrap_or(0.0);
        SecureLrResult {
            rows: n as u64,
            features: shape.names.clone(),
            weights,
            intercept,
            epochs: params.epochs,
            sigmoid: params.sigmoid,
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_mpc::harness;

    /// The first `n` rows of FATE's breast data set (guest part: label y and 10 features), or a
    /// synthetic separable set when the data sets are absent.
    pub(crate) fn breast_rows(n: usize) -> (Rows, Rows) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/datasets/fate/breast_hetero_guest.csv");
        if let Ok(bytes) = std::fs::read(&path) {
            let all = read_input(&bytes, &SecureLrParams::default()).unwrap();
            return (all.rows(0..n), all.rows(n..all.len()));
        }
        println!("{} absent: using synthetic data", path.display());
        let mk = |range: std::ops::Range<usize>| {
            let mut x = Vec::new();
            let mut y = Vec::new();
            let ids = range.clone().map(|i| format!("r{i}")).collect();
            for i in range {
                let a = ((i * 37) % 19) as f64 / 6.0 - 1.5;
                let b = ((i * 11) % 23) as f64 / 8.0 - 1.4;
                x.extend([a, b]);
                y.push(if a + 0.5 * b > 0.1 { 1.0 } else { 0.0 });
            }
            Rows { names: vec!["a".into(), "b".into()], x, y, ids, labelled: true }
        };
        (mk(0..n), mk(n..n + 300))
    }

    fn split(rows: &Rows, parts: usize) -> Vec<Rows> {
        let n = rows.len();
        (0..parts).map(|p| rows.rows(p * n / parts..(p + 1) * n / parts)).collect()
    }

    #[test]
    fn secure_training_matches_plaintext_training() {
        let (train, test) = breast_rows(60);
        let params = SecureLrParams { epochs: 4, ..SecureLrParams::default() };
        let parts = split(&train, 3);
        let runs = harness::run_in_memory(3, |ch: &mut dyn Channel| {
            let to = Recipients::new(vec![0, 1], 3)?;
            let cfg = PrepOptions { batch: 1024 };
            let mine = &parts[ch.party().index()];
            run(ch, mine, &params, &to, cfg, &mut |_| {})
        });
        let model = runs[0].output.as_ref().unwrap().clone().unwrap();
        assert_eq!(runs[1].output.as_ref().unwrap().as_ref(), Some(&model));
        assert!(runs[2].output.as_ref().unwrap().is_none());
        let (pw, pb) = train_plain(&train, &params);
        let worst = model
            .weights
            .iter()
            .chain([&model.intercept])
            .zip(pw.iter().chain([&pb]))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(worst < 0.01, "weights differ by {worst}: {model:?} vs {pw:?} {pb}");
        let secure_acc = model.accuracy(&test.x, &test.y);
        let plain_acc = plain_accuracy(&pw, pb, &test.x, &test.y);
        println!("held-out accuracy: secure {secure_acc:.4}, plaintext {plain_acc:.4}");
        assert!((secure_acc - plain_acc).abs() <= 0.01, "{secure_acc} vs {plain_acc}");
        assert!(secure_acc > 0.85, "{secure_acc}");
    }

    #[test]
    fn vertical_split_after_psi_matches_plaintext_training() {
        let (train, test) = breast_rows(40);
        let d = train.names.len();
        let params =
            SecureLrParams { epochs: 3, split: Split::Vertical, ..SecureLrParams::default() };
        // Party 1 holds the label and the first columns; party 0 the others, for rows in another
        // order and with 10 extra customers party 1 does not have.
        let mut p0 = train.columns(d / 2..d, false);
        let extra = test.columns(d / 2..d, false).rows(0..10);
        let w = d - d / 2;
        let mut x = extra.x.clone();
        for r in (0..train.len()).rev() {
            x.extend_from_slice(&p0.x[r * w..(r + 1) * w]);
        }
        p0.x = x;
        p0.ids = extra.ids.iter().chain(train.ids.iter().rev()).cloned().collect();
        let parts = [p0, train.columns(0..d / 2, true)];
        let runs = harness::run_in_memory(2, |ch: &mut dyn Channel| {
            let mine = &parts[ch.party().index()];
            let cfg = PrepOptions { batch: 1024 };
            run(ch, mine, &params, &Recipients::all(2), cfg, &mut |_| {})
        });
        let model = runs[0].output.as_ref().unwrap().clone().unwrap();
        assert_eq!(model.rows, 40);
        // Weights come in party order: party 0's columns, then party 1's.
        let plain = Rows {
            names: parts[0].names.iter().chain(&parts[1].names).cloned().collect(),
            x: train
                .x
                .chunks_exact(d)
                .flat_map(|row| {
                    row[d / 2..].iter().chain(&row[..d / 2]).copied().collect::<Vec<_>>()
                })
                .collect(),
            ..train.clone()
        };
        assert_eq!(model.features, plain.names);
        let (pw, pb) = train_plain(&plain, &params);
        for (a, b) in model.weights.iter().chain([&model.intercept]).zip(pw.iter().chain([&pb])) {
            assert!((a - b).abs() < 0.01, "{model:?} vs {pw:?} {pb}");
        }
    }

    #[test]
    fn parties_with_other_feature_columns_are_refused_before_sharing() {
        let a = read_input(b"id,y,x1,x2\na,1,0.5,1\nb,0,-1,0\n", &SecureLrParams::default());
        let b = read_input(b"id,y,x2,x1\nc,1,0.5,1\nd,0,-1,0\n", &SecureLrParams::default());
        let parts = [a.unwrap(), b.unwrap()];
        let runs = harness::run_in_memory(2, |ch: &mut dyn Channel| {
            let mine = &parts[ch.party().index()];
            let cfg = PrepOptions { batch: 16 };
            run(ch, mine, &SecureLrParams::default(), &Recipients::all(2), cfg, &mut |_| {})
        });
        for r in runs {
            let e = r.output.unwrap_err().to_string();
            assert!(e.contains("other feature columns"), "{e}");
        }
        // A vertical party without the label column reads as unlabelled; with it, labelled.
        let v = SecureLrParams { split: Split::Vertical, ..SecureLrParams::default() };
        let host = read_input(b"id,x1,x2\na,0.5,1\n", &v).unwrap();
        assert!(!host.labelled && host.y.is_empty() && host.names.len() == 2);
        let guest = read_input(b"id,x3,y\na,0.5,1\n", &v).unwrap();
        assert!(guest.labelled && guest.y == vec![1.0] && guest.names == vec!["x3".to_string()]);
        // Unstandardised features and non-0/1 labels are refused when reading.
        assert!(read_input(b"id,y,x\na,1,99\n", &SecureLrParams::default()).is_err());
        assert!(read_input(b"id,y,x\na,2,0.5\n", &SecureLrParams::default()).is_err());
    }

    /// The cubic sigmoid costs about 1,750 MASCOT triples per row and epoch (two comparisons and
    /// five truncations), so this runs only on request:
    /// `cargo test -p tessera-node --lib cubic -- --ignored`.
    #[test]
    #[ignore = "slow: ~40k MASCOT triples"]
    fn cubic_sigmoid_training_matches_plaintext() {
        let (train, _) = breast_rows(12);
        let params = SecureLrParams {
            epochs: 2,
            sigmoid: SigmoidApprox::Cubic,
            ..SecureLrParams::default()
        };
        let parts = split(&train, 2);
        let runs = harness::run_in_memory(2, |ch: &mut dyn Channel| {
            let cfg = PrepOptions { batch: 2048 };
            let mine = &parts[ch.party().index()];
            run(ch, mine, &params, &Recipients::all(2), cfg, &mut |_| {})
        });
        let model = runs[0].output.as_ref().unwrap().clone().unwrap();
        let (pw, pb) = train_plain(&train, &params);
        for (a, b) in model.weights.iter().chain([&model.intercept]).zip(pw.iter().chain([&pb])) {
            assert!((a - b).abs() < 0.01, "{model:?} vs {pw:?} {pb}");
        }
    }
}
