//! FATE 1.11's hetero logistic regression at its defaults, simulated in plaintext, to find how
//! many iterations FATE-as-shipped needs to reach an accuracy (its bytes are then the
//! baseline schedule's exact per-iteration bytes times that count, see [`super::baseline`]).
//!
//! Defaults read from FATE's code (tag `v1.11.4`, paths under `python/federatedml/`):
//! `param/logistic_regression_param.py:206–218` (`HeteroLogisticParam`): `penalty='L2'`,
//! `alpha=1.0`, `optimizer='rmsprop'`, `batch_size=-1` (full batch), `learning_rate=0.01`,
//! `max_iter=100`, `early_stop='diff'`, `tol=1e-4`, `decay=1`, `decay_sqrt=True`,
//! `multi_class='ovr'`, intercept fitted (`InitParam`). The gradient is the Taylor one,
//! `(1/N) Σ (0.25 wx − 0.5 y) x` with `y ∈ {−1, 1}`
//! (`optim/gradient/hetero_lr_gradient_and_loss.py:38–61`), plus `α w` without the intercept
//! (`optim/optimizer.py:82–96`); RMSprop with `ρ = 0.99`, `ε = 1e-6`
//! (`optimizer.py:213–228`) at the decayed rate `0.01 / sqrt(1 + k)` in iteration `k`
//! (`optimizer.py:35–40`); the loss is the Taylor loss `log 2 − ½ y wx + ⅛ (wx)²` plus
//! `½ α ‖w‖²` (`hetero_lr_gradient_and_loss.py:188–213`), and training stops when two
//! consecutive losses differ by less than `tol` (`optim/convergence.py`, `DiffConverge`) or at
//! `max_iter`.

use crate::{Error, Result, VerticalDataset, metrics};

/// FATE 1.11's defaults for hetero LR (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FateLrDefaults {
    /// `learning_rate`.
    pub learning_rate: f64,
    /// `alpha` of the L2 penalty.
    pub alpha: f64,
    /// `max_iter`.
    pub max_iter: usize,
    /// `tol` of `early_stop='diff'`.
    pub tol: f64,
}

impl Default for FateLrDefaults {
    fn default() -> Self {
        Self { learning_rate: 0.01, alpha: 1.0, max_iter: 100, tol: 1e-4 }
    }
}

/// One simulated iteration: training loss after it and the test metrics of its model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FateLrIteration {
    /// Training loss (Taylor loss plus the L2 term).
    pub loss: f64,
    /// Test AUC.
    pub auc: f64,
    /// Test accuracy at threshold 0.5.
    pub accuracy: f64,
}

fn joined<'a>(
    g: &'a VerticalDataset,
    h: &'a VerticalDataset,
    i: usize,
) -> impl Iterator<Item = f64> + 'a {
    g.row(i).iter().chain(h.row(i)).copied().chain(std::iter::once(1.0))
}

/// Trains as FATE 1.11 does at its defaults (full batch, binary labels 0/1 at the guest) and
/// returns every iteration until FATE would stop.
#[allow(clippy::needless_range_loop)] // rows index labels and two datasets at once
pub fn fate_default_curve(
    cfg: &FateLrDefaults,
    train: (&VerticalDataset, &VerticalDataset),
    test: (&VerticalDataset, &VerticalDataset),
) -> Result<Vec<FateLrIteration>> {
    let y =
        train.0.labels.as_ref().ok_or_else(|| Error::Misuse("the guest needs labels".into()))?;
    let yt = test.0.labels.as_ref().ok_or_else(|| Error::Misuse("test labels".into()))?;
    let (n, nt) = (train.0.len(), test.0.len());
    if train.1.len() != n || test.1.len() != nt || n == 0 {
        return Err(Error::Misuse("rows are not aligned".into()));
    }
    let d = train.0.num_features() + train.1.num_features() + 1;
    let mut w = vec![0.0; d];
    let mut m = vec![0.0; d];
    let mut out = Vec::new();
    let mut prev: Option<f64> = None;
    for k in 0..cfg.max_iter {
        let mut grad = vec![0.0; d];
        for i in 0..n {
            let ypm = 2.0 * y[i] - 1.0;
            let wx: f64 = joined(train.0, train.1, i).zip(&w).map(|(x, w)| x * w).sum();
            let fore = 0.25 * wx - 0.5 * ypm;
            for (gj, x) in grad.iter_mut().zip(joined(train.0, train.1, i)) {
                *gj += fore * x / n as f64;
            }
        }
        for j in 0..d - 1 {
            grad[j] += cfg.alpha * w[j];
        }
        let rate = cfg.learning_rate / (1.0 + k as f64).sqrt();
        for j in 0..d {
            m[j] = 0.99 * m[j] + 0.01 * grad[j] * grad[j];
            w[j] -= rate * grad[j] / (m[j] + 1e-6).sqrt();
        }
        let mut loss = 0.0;
        for i in 0..n {
            let ypm = 2.0 * y[i] - 1.0;
            let wx: f64 = joined(train.0, train.1, i).zip(&w).map(|(x, w)| x * w).sum();
            loss += (2f64.ln() - 0.5 * ypm * wx + 0.125 * wx * wx) / n as f64;
        }
        loss += 0.5 * cfg.alpha * w[..d - 1].iter().map(|v| v * v).sum::<f64>();
        let scores: Vec<f64> = (0..nt)
            .map(|i| {
                let wx: f64 = joined(test.0, test.1, i).zip(&w).map(|(x, w)| x * w).sum();
                1.0 / (1.0 + (-wx).exp())
            })
            .collect();
        out.push(FateLrIteration {
            loss,
            auc: metrics::auc(yt, &scores),
            accuracy: metrics::accuracy(yt, &scores),
        });
        if prev.is_some_and(|p: f64| (p - loss).abs() < cfg.tol) {
            break;
        }
        prev = Some(loss);
    }
    Ok(out)
}

/// Iterations FATE needs to reach test AUC `target` (1-based), or `None` if it stops first.
pub fn iterations_to_auc(curve: &[FateLrIteration], target: f64) -> Option<usize> {
    curve.iter().position(|it| it.auc >= target).map(|k| k + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fate_defaults_learn_and_stop_by_the_diff_rule() {
        let ids: Vec<String> = (0..200).map(|i| i.to_string()).collect();
        let x: Vec<f64> = (0..200).map(|i| ((i * 37) % 200) as f64 / 100.0 - 1.0).collect();
        let y: Vec<f64> = x.iter().map(|&v| f64::from(u8::from(v > 0.1))).collect();
        let g =
            VerticalDataset::from_parts(ids.clone(), vec!["a".into()], x.clone(), Some(y)).unwrap();
        let h = VerticalDataset::from_parts(
            ids,
            vec!["b".into()],
            x.iter().map(|v| -v).collect(),
            None,
        )
        .unwrap();
        let cfg = FateLrDefaults::default();
        let curve = fate_default_curve(&cfg, (&g, &h), (&g, &h)).unwrap();
        let last = curve.last().unwrap();
        assert!(last.auc > 0.99, "{last:?}");
        // Stopped because two losses came within tol, before max_iter.
        let n = curve.len();
        assert!(n < cfg.max_iter && (curve[n - 1].loss - curve[n - 2].loss).abs() < cfg.tol);
        assert_eq!(iterations_to_auc(&curve, 2.0), None);
        assert!(iterations_to_auc(&curve, 0.9).unwrap() <= n);
    }
}
