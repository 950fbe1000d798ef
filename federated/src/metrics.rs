//! Binary-classification metrics: accuracy, ROC AUC, Kolmogorov–Smirnov and log-loss.

/// Fraction of scores on the right side of 0.5.
pub fn accuracy(labels: &[f64], scores: &[f64]) -> f64 {
    if labels.is_empty() {
        return 0.0;
    }
    let right = labels.iter().zip(scores).filter(|(y, s)| (**s >= 0.5) == (**y >= 0.5)).count();
    right as f64 / labels.len() as f64
}

/// Positives and negatives counted along the scores in decreasing order, ties grouped: the
/// points of the ROC curve as (false-positive rate, true-positive rate).
pub fn roc_curve(labels: &[f64], scores: &[f64]) -> Vec<(f64, f64)> {
    let mut order: Vec<usize> = (0..labels.len().min(scores.len())).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let pos = order.iter().filter(|&&i| labels[i] >= 0.5).count() as f64;
    let neg = order.len() as f64 - pos;
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut points = vec![(0.0, 0.0)];
    let mut k = 0;
    while k < order.len() {
        let s = scores[order[k]];
        while k < order.len() && scores[order[k]] == s {
            if labels[order[k]] >= 0.5 {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            k += 1;
        }
        points
            .push((if neg > 0.0 { fp / neg } else { 0.0 }, if pos > 0.0 { tp / pos } else { 0.0 }));
    }
    points
}

/// Area under the ROC curve (trapezoids, so ties count one half).
pub fn auc(labels: &[f64], scores: &[f64]) -> f64 {
    roc_curve(labels, scores).windows(2).map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0).sum()
}

/// Kolmogorov–Smirnov statistic: the largest gap between true- and false-positive rates.
pub fn ks(labels: &[f64], scores: &[f64]) -> f64 {
    roc_curve(labels, scores).iter().map(|(f, t)| t - f).fold(0.0, f64::max)
}

/// Mean binary cross-entropy, with probabilities clipped to `[1e-15, 1 − 1e-15]`.
pub fn log_loss(labels: &[f64], scores: &[f64]) -> f64 {
    if labels.is_empty() {
        return 0.0;
    }
    let total: f64 = labels
        .iter()
        .zip(scores)
        .map(|(&y, &p)| {
            let p = p.clamp(1e-15, 1.0 - 1e-15);
            -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
        })
        .sum();
    total / labels.len() as f64
}

/// All four metrics at once.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BinaryMetrics {
    /// Accuracy at threshold 0.5.
    pub accuracy: f64,
    /// ROC AUC.
    pub auc: f64,
    /// Kolmogorov–Smirnov statistic.
    pub ks: f64,
    /// Log-loss.
    pub log_loss: f64,
}

impl BinaryMetrics {
    /// Evaluates `scores` (probabilities) against 0/1 `labels`.
    pub fn evaluate(labels: &[f64], scores: &[f64]) -> Self {
        Self {
            accuracy: accuracy(labels, scores),
            auc: auc(labels, scores),
            ks: ks(labels, scores),
            log_loss: log_loss(labels, scores),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let y = [0.0, 0.0, 1.0, 1.0];
        let s = [0.1, 0.4, 0.35, 0.8];
        assert!((auc(&y, &s) - 0.75).abs() < 1e-12);
        assert!((accuracy(&y, &s) - 0.75).abs() < 1e-12);
        assert!((ks(&y, &s) - 0.5).abs() < 1e-12);
        let perfect = [0.0, 0.1, 0.9, 1.0];
        assert!((auc(&y, &perfect) - 1.0).abs() < 1e-12);
        assert!((ks(&y, &perfect) - 1.0).abs() < 1e-12);
        assert!((log_loss(&[1.0], &[0.5]) - std::f64::consts::LN_2).abs() < 1e-12);
        // Constant scores: AUC one half.
        assert!((auc(&y, &[0.5; 4]) - 0.5).abs() < 1e-12);
    }
}
