//! The plaintext reference: logistic regression on the joined columns.

use serde::{Deserialize, Serialize};

use super::{HeteroLogisticRegression, sigmoid};
use crate::{Error, Result, VerticalDataset};

/// Logistic regression trained in the clear on the joined columns (the reference the federated
/// model must match): exact sigmoid gradient, same learning rate, L2, epochs and batches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlainLr {
    /// Guest weights then each host's weights, in host order.
    pub weights: Vec<f64>,
    /// Intercept.
    pub intercept: f64,
}

/// The residual the plaintext reference descends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlainLoss {
    /// Logistic loss: residual `σ(u) − y` (the usual model, and the reference for accuracy).
    Logistic,
    /// FATE's second-order Taylor expansion at 0: residual `0.25·u + 0.5 − y`, the loss both
    /// federated protocols optimise (see the [module docs](super)), in the clear.
    Taylor,
}

impl PlainLoss {
    fn residual(self, u: f64, y: f64) -> f64 {
        match self {
            Self::Logistic => sigmoid(u) - y,
            Self::Taylor => 0.25 * u + 0.5 - y,
        }
    }
}

fn joined_row<'a>(
    guest: &'a VerticalDataset,
    hosts: &'a [&VerticalDataset],
    i: usize,
) -> impl Iterator<Item = &'a f64> + 'a {
    guest.row(i).iter().chain(hosts.iter().flat_map(move |h| h.row(i).iter()))
}

impl PlainLr {
    /// Trains on `guest` (with 0/1 labels) joined column-wise with `host` (same rows, same order).
    pub fn fit(
        cfg: &HeteroLogisticRegression,
        guest: &VerticalDataset,
        host: &VerticalDataset,
    ) -> Result<Self> {
        let y =
            guest.labels.as_ref().ok_or_else(|| Error::Misuse("the guest needs labels".into()))?;
        Self::fit_hosts(cfg, guest, &[host], y)
    }

    /// Trains on `guest` joined with several hosts, against the 0/1 targets `y`.
    pub fn fit_hosts(
        cfg: &HeteroLogisticRegression,
        guest: &VerticalDataset,
        hosts: &[&VerticalDataset],
        y: &[f64],
    ) -> Result<Self> {
        Self::fit_hosts_with(cfg, guest, hosts, y, PlainLoss::Logistic)
    }

    /// [`Self::fit_hosts`] with the given loss.
    pub fn fit_hosts_with(
        cfg: &HeteroLogisticRegression,
        guest: &VerticalDataset,
        hosts: &[&VerticalDataset],
        y: &[f64],
        loss: PlainLoss,
    ) -> Result<Self> {
        if hosts.iter().any(|h| h.ids != guest.ids) || y.len() != guest.len() {
            return Err(Error::Misuse("guest and host rows are not aligned".into()));
        }
        let dim = guest.num_features() + hosts.iter().map(|h| h.num_features()).sum::<usize>();
        let mut w = vec![0.0; dim];
        let mut b = 0.0;
        for _ in 0..cfg.epochs {
            for batch in cfg.batches(guest.len()) {
                let m = batch.len() as f64;
                let mut grad = vec![0.0; dim];
                let mut gb = 0.0;
                for i in batch {
                    let u: f64 =
                        w.iter().zip(joined_row(guest, hosts, i)).map(|(a, x)| a * x).sum();
                    let r = loss.residual(u + b, y[i]);
                    for (g, x) in grad.iter_mut().zip(joined_row(guest, hosts, i)) {
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

    /// One-vs-rest models for labels `0..classes` at the guest.
    pub fn fit_multiclass(
        cfg: &HeteroLogisticRegression,
        guest: &VerticalDataset,
        host: &VerticalDataset,
        classes: usize,
    ) -> Result<Vec<Self>> {
        Self::fit_multiclass_with(cfg, guest, host, classes, PlainLoss::Logistic)
    }

    /// [`Self::fit_multiclass`] with the given loss.
    pub fn fit_multiclass_with(
        cfg: &HeteroLogisticRegression,
        guest: &VerticalDataset,
        host: &VerticalDataset,
        classes: usize,
        loss: PlainLoss,
    ) -> Result<Vec<Self>> {
        let y =
            guest.labels.as_ref().ok_or_else(|| Error::Misuse("the guest needs labels".into()))?;
        (0..classes)
            .map(|k| {
                let yk: Vec<f64> =
                    y.iter().map(|&v| if v as usize == k { 1.0 } else { 0.0 }).collect();
                Self::fit_hosts_with(cfg, guest, &[host], &yk, loss)
            })
            .collect()
    }

    /// Probabilities for aligned `guest` and `host` rows.
    pub fn predict(&self, guest: &VerticalDataset, host: &VerticalDataset) -> Vec<f64> {
        self.predict_hosts(guest, &[host])
    }

    /// Probabilities for aligned `guest` and `hosts` rows.
    pub fn predict_hosts(&self, guest: &VerticalDataset, hosts: &[&VerticalDataset]) -> Vec<f64> {
        (0..guest.len())
            .map(|i| {
                let u: f64 =
                    self.weights.iter().zip(joined_row(guest, hosts, i)).map(|(a, x)| a * x).sum();
                sigmoid(u + self.intercept)
            })
            .collect()
    }

    /// The one-vs-rest class (highest score) of each row.
    pub fn predict_classes(
        models: &[Self],
        guest: &VerticalDataset,
        host: &VerticalDataset,
    ) -> Vec<f64> {
        let scores: Vec<Vec<f64>> = models.iter().map(|m| m.predict(guest, host)).collect();
        super::predict::argmax_classes(&scores, guest.len())
    }
}
