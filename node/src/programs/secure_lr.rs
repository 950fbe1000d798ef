//! The `secure-lr` program: logistic regression trained on secret-shared data with SPDZ (MASCOT
//! preprocessing) in fixed point; the model is opened to the recipients only.
//!
//! **Split: horizontal.** Every party holds whole rows (an `id`, the same feature columns, and
//! the 0/1 label); the training set is the union of the parties' rows. Each party secret-shares
//! its rows (features in fixed point with `frac_bits` fractional bits, plus a constant 1 for the
//! intercept) and labels; nobody sees another party's rows, only the final weights are opened.
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
//! **Security.** Malicious security with abort (SPDZ MACs, statistical security ≥ 2^-64 per
//! check; truncation masks hide opened values to 2^-40). What is revealed: the row count of every
//! party and the feature names (checked equal), and the weights to the recipients. Features must
//! be standardised: |x| ≤ 16 is enforced; a learning rate so large that training diverges
//! (|lr·gradient/N| ≥ 2^8) makes the truncation's range assumption fail and the weights
//! meaningless (never the security of the inputs beyond the 2^-40 statistical mask bound).

use serde::{Deserialize, Serialize};
use tessera_ledger::LedgerHash;
use tessera_mpc::{Channel, Field, Fp127, Ring};
use tessera_protocols::fixed::{self, FixedPoint};
use tessera_protocols::spdz::{Mascot, MascotConfig, Session, Shared};

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
    /// 0/1 labels.
    pub y: Vec<f64>,
}

/// Reads this party's rows: CSV with `id`, the label column and feature columns.
pub fn read_input(bytes: &[u8], params: &SecureLrParams) -> Result<Rows> {
    let t = super::read_table(bytes, Some(&params.label))?;
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
    Ok(Rows { names: t.feature_names, x: t.features, y })
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

/// Runs `secure-lr` as this party; `Some(model)` at recipients.
pub fn run(
    ch: &mut dyn Channel,
    rows: &Rows,
    params: &SecureLrParams,
    to: &Recipients,
    mascot: MascotConfig,
    progress: super::super::stats::Progress<'_>,
) -> Result<Option<SecureLrResult>> {
    params.validate()?;
    let d = rows.names.len();
    let mine = rows.y.len();
    if d == 0 || rows.x.len() != mine * d || mine > MAX_ROWS {
        return Err(Error::invalid("input", "rows × features"));
    }
    let n_parties = ch.num_parties();
    let me = ch.party();
    progress("exchanging row counts and feature names");
    let my_hash = names_hash(&rows.names);
    let mut hello = (mine as u64).to_le_bytes().to_vec();
    hello.extend_from_slice(&my_hash);
    ch.broadcast(&hello)?;
    let mut counts = vec![0usize; n_parties];
    for (p, c) in counts.iter_mut().enumerate() {
        if p == me.index() {
            *c = mine;
            continue;
        }
        let raw = ch.recv(crate::pid(p))?;
        if raw.len() != 40 || raw[8..] != my_hash {
            return Err(Error::invalid(
                "input",
                format!("party {p} has other feature columns (names and order must match)"),
            ));
        }
        let mut a = [0u8; 8];
        a.copy_from_slice(&raw[..8]);
        let v = u64::from_le_bytes(a);
        if v > MAX_ROWS as u64 {
            return Err(Error::invalid("peer message", format!("party {p} announced {v} rows")));
        }
        *c = v as usize;
    }
    let n: usize = counts.iter().sum();
    if !(2..=MAX_ROWS).contains(&n) {
        return Err(Error::invalid("input", "need 2 to 2^20 rows in all"));
    }
    let width = d + 1;
    let f = params.frac_bits;
    // The update: Δ = trunc(c · g_raw, e_bits + g) with c = round(lr/(factor·N)·2^g).
    let (e_bits, factor) = match params.sigmoid {
        SigmoidApprox::Linear => (2 * f, 4.0),
        SigmoidApprox::Cubic => (f, 1.0),
    };
    let g = 10 + (factor * n as f64 / params.learning_rate).log2().ceil().max(0.0) as u32;
    let fx_update = FixedPoint::new::<Fp127>(f, f + e_bits + g + 10).map_err(|_| {
        Error::invalid("secure-lr", "too many rows for the fixed-point range: raise learning_rate")
    })?;
    let c = (params.learning_rate / (factor * n as f64) * (1u128 << g) as f64).round() as u64;
    let fx = FixedPoint::new::<Fp127>(f, 2 * f + 20)?;

    progress("MASCOT setup");
    let mascot = MascotConfig { batch: mascot.batch.min((2 * n * width).max(64)), ..mascot };
    let prep = Mascot::<Fp127>::setup(ch, mascot)?;
    let mut s = Session::new(ch, prep);
    let mut my_x = Vec::with_capacity(mine * width);
    for x in rows.x.chunks_exact(d) {
        for v in x {
            my_x.push(fx.encode::<Fp127>(*v)?);
        }
        my_x.push(fx.encode::<Fp127>(1.0)?);
    }
    let my_y: Vec<Fp127> = rows.y.iter().map(|v| Fp127::from_u64(u64::from(*v == 1.0))).collect();
    let mut xs = Vec::with_capacity(n_parties);
    let mut ys = Vec::with_capacity(n_parties);
    for (p, &cnt) in counts.iter().enumerate() {
        progress(&format!("secret-sharing the rows of party {p}"));
        let owner = crate::pid(p);
        xs.push(s.input(owner, (owner == me).then_some(&my_x[..]), cnt * width)?);
        ys.push(s.input(owner, (owner == me).then_some(&my_y[..]), cnt)?);
    }
    let x = Shared::concat(&xs.iter().collect::<Vec<_>>());
    let y = Shared::concat(&ys.iter().collect::<Vec<_>>());
    let mut w = constant(&s, &x, &vec![Fp127::ZERO; width])?;
    let two_f = Fp127::from_u128(1u128 << (2 * f));
    for epoch in 0..params.epochs {
        progress(&format!("epoch {}/{}", epoch + 1, params.epochs));
        let z_raw = s.matmul(&x, &w, (n, width, 1))?;
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
        let g_raw = s.matmul(&e, &x, (1, n, width))?;
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
            features: rows.names.clone(),
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
            let d = all.names.len();
            let take = |r: std::ops::Range<usize>| Rows {
                names: all.names.clone(),
                x: all.x[r.start * d..r.end * d].to_vec(),
                y: all.y[r].to_vec(),
            };
            let total = all.y.len();
            return (take(0..n), take(n..total));
        }
        println!("{} absent: using synthetic data", path.display());
        let mk = |range: std::ops::Range<usize>| {
            let mut x = Vec::new();
            let mut y = Vec::new();
            for i in range {
                let a = ((i * 37) % 19) as f64 / 6.0 - 1.5;
                let b = ((i * 11) % 23) as f64 / 8.0 - 1.4;
                x.extend([a, b]);
                y.push(if a + 0.5 * b > 0.1 { 1.0 } else { 0.0 });
            }
            Rows { names: vec!["a".into(), "b".into()], x, y }
        };
        (mk(0..n), mk(n..n + 300))
    }

    fn split(rows: &Rows, parts: usize) -> Vec<Rows> {
        let d = rows.names.len();
        let n = rows.y.len();
        (0..parts)
            .map(|p| {
                let r = p * n / parts..(p + 1) * n / parts;
                Rows {
                    names: rows.names.clone(),
                    x: rows.x[r.start * d..r.end * d].to_vec(),
                    y: rows.y[r].to_vec(),
                }
            })
            .collect()
    }

    #[test]
    fn secure_training_matches_plaintext_training() {
        let (train, test) = breast_rows(60);
        let params = SecureLrParams { epochs: 4, ..SecureLrParams::default() };
        let parts = split(&train, 3);
        let runs = harness::run_in_memory(3, |ch: &mut dyn Channel| {
            let to = Recipients::new(vec![0, 1], 3)?;
            let cfg = MascotConfig { batch: 1024, ..MascotConfig::default() };
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
    fn parties_with_other_feature_columns_are_refused_before_sharing() {
        let a = read_input(b"id,y,x1,x2\na,1,0.5,1\nb,0,-1,0\n", &SecureLrParams::default());
        let b = read_input(b"id,y,x2,x1\nc,1,0.5,1\nd,0,-1,0\n", &SecureLrParams::default());
        let parts = [a.unwrap(), b.unwrap()];
        let runs = harness::run_in_memory(2, |ch: &mut dyn Channel| {
            let mine = &parts[ch.party().index()];
            let cfg = MascotConfig { batch: 16, ..MascotConfig::default() };
            run(ch, mine, &SecureLrParams::default(), &Recipients::all(2), cfg, &mut |_| {})
        });
        for r in runs {
            let e = r.output.unwrap_err().to_string();
            assert!(e.contains("other feature columns"), "{e}");
        }
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
            let cfg = MascotConfig { batch: 2048, ..MascotConfig::default() };
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
