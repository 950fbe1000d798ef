//! The `joint-stats` program: count, sum, mean, variance and histogram of one numeric column
//! that several parties hold in parts, on SPDZ with MASCOT preprocessing.
//!
//! Protocol (over [`tessera_protocols::spdz`], malicious security with abort for the
//! computation, statistical security ≥ 2^-64 per check, κ = 128): the parties announce how many
//! values each holds (public), run MASCOT preprocessing, and secret-share every value of their
//! column with SPDZ input masks, so the column exists only as authenticated shares. The sum is a
//! local linear operation on the shares. Squares for the variance are made either with MASCOT
//! triples (`squares = "triples"`: the product of the shared value with itself) or input by the
//! owner as a second shared column (`squares = "owner"`, far cheaper; a malicious owner could then
//! input squares inconsistent with its values, which skews only the variance it contributes, an
//! influence it already has by choosing its inputs). Histogram counts are binned by each owner on
//! its own values and secret-shared; only the totals are opened. One opening with a MAC check
//! reveals exactly `[sum, sum of squares, bin totals]`, to the job's recipients only (to a
//! subset through [`crate::programs::reveal`]: the others see masked values).

use serde::{Deserialize, Serialize};
use tessera_mpc::{Channel, Field, Fp127, Ring};
use tessera_protocols::spdz::{Session, Shared};

use crate::programs::prep::{self, PrepKind, PrepOptions};

use crate::error::{Error, Result};
use crate::programs::{Recipients, reveal};

/// Largest value a party may contribute (2^40), so sums of squares of up to 2^40 values cannot
/// wrap in the 127-bit field.
pub const MAX_VALUE: u64 = 1 << 40;
/// Most values one party may contribute.
pub const MAX_COUNT: u64 = 1 << 24;

/// How squares are formed.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Squares {
    /// No variance.
    None,
    /// The owner inputs each square as a shared value.
    #[default]
    Owner,
    /// Each square is a SPDZ multiplication (one MASCOT triple per value).
    Triples,
}

/// Parameters of `joint-stats` (part of the program hash).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StatsParams {
    /// Histogram bin edges, strictly increasing; bin i is `[edges[i], edges[i+1])`, values outside
    /// every bin are not counted in the histogram. Empty: no histogram.
    #[serde(default)]
    pub histogram_edges: Vec<u64>,
    /// How squares (for the variance) are formed.
    #[serde(default)]
    pub squares: Squares,
    /// Which protocol makes the SPDZ preprocessing.
    #[serde(default)]
    pub preprocessing: PrepKind,
}

impl StatsParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        if self.histogram_edges.len() == 1 || self.histogram_edges.len() > 1025 {
            return Err(Error::invalid("histogram_edges", "need 0 or 2 to 1025 edges"));
        }
        if self.histogram_edges.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::invalid("histogram_edges", "edges must increase strictly"));
        }
        Ok(())
    }

    fn bins(&self) -> usize {
        self.histogram_edges.len().saturating_sub(1)
    }

    /// Local bin counts of `values`.
    pub fn local_histogram(&self, values: &[u64]) -> Vec<u64> {
        let mut counts = vec![0u64; self.bins()];
        for &v in values {
            let i = self.histogram_edges.partition_point(|e| *e <= v);
            if i >= 1
                && let Some(c) = counts.get_mut(i - 1)
            {
                *c += 1;
            }
        }
        counts
    }
}

/// The opened result.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StatsResult {
    /// Number of values over all parties.
    pub count: u64,
    /// Sum of all values.
    pub sum: u128,
    /// Sum of squares (absent without variance).
    pub sum_of_squares: Option<u128>,
    /// `sum / count`.
    pub mean: f64,
    /// Population variance `sum_of_squares / count − mean²`.
    pub variance: Option<f64>,
    /// Bin edges and total counts.
    pub histogram_edges: Vec<u64>,
    /// Total count per bin.
    pub histogram: Vec<u64>,
}

/// Progress callback: a phase name.
pub type Progress<'a> = &'a mut dyn FnMut(&str);

/// Runs `joint-stats` as this party with its values; `Some(result)` at the recipients `to`.
pub fn run(
    ch: &mut dyn Channel,
    values: &[u64],
    params: &StatsParams,
    to: &Recipients,
    prep_opts: PrepOptions,
    progress: Progress<'_>,
) -> Result<Option<StatsResult>> {
    params.validate()?;
    if values.len() as u64 > MAX_COUNT || values.iter().any(|v| *v > MAX_VALUE) {
        return Err(Error::invalid("input", "too many values or a value above 2^40"));
    }
    let me = ch.party();
    let n = ch.num_parties();
    progress("exchanging sizes");
    ch.broadcast(&(values.len() as u64).to_le_bytes())?;
    let mut counts = vec![0usize; n];
    for (p, c) in counts.iter_mut().enumerate() {
        if p == me.index() {
            *c = values.len();
            continue;
        }
        let raw = ch.recv(crate::pid(p))?;
        let a: [u8; 8] = raw
            .as_slice()
            .try_into()
            .map_err(|_| Error::invalid("peer message", "size is not 8 bytes"))?;
        let v = u64::from_le_bytes(a);
        if v > MAX_COUNT {
            return Err(Error::invalid("peer message", format!("party {p} announced {v} values")));
        }
        *c = v as usize;
    }
    let total: usize = counts.iter().sum();
    if total == 0 {
        return Err(Error::invalid("input", "no values at all"));
    }
    progress(prep::setup_phase(params.preprocessing));
    let prep = prep::setup(ch, params.preprocessing, prep_opts.at_most(total, 16))?;
    let mut s = Session::new(ch, prep);
    let mine: Vec<Fp127> = values.iter().map(|v| Fp127::from_u64(*v)).collect();
    let my_sq: Vec<Fp127> =
        values.iter().map(|v| Fp127::new(u128::from(*v) * u128::from(*v))).collect();
    let hist: Vec<Fp127> =
        params.local_histogram(values).into_iter().map(Fp127::from_u64).collect();
    let bins = params.bins();
    let mut cols = Vec::with_capacity(n);
    let mut sq_cols = Vec::new();
    let mut hists = Vec::new();
    for (p, &c) in counts.iter().enumerate() {
        progress(&format!("sharing inputs of party {p}"));
        let owner = crate::pid(p);
        let is_me = owner == me;
        cols.push(s.input(owner, is_me.then_some(&mine[..]), c)?);
        if params.squares == Squares::Owner {
            sq_cols.push(s.input(owner, is_me.then_some(&my_sq[..]), c)?);
        }
        if bins > 0 {
            hists.push(s.input(owner, is_me.then_some(&hist[..]), bins)?);
        }
    }
    let column = Shared::concat(&cols.iter().collect::<Vec<_>>());
    let sum = column.sum();
    let mut opened = vec![sum];
    match params.squares {
        Squares::None => {}
        Squares::Owner => {
            opened.push(Shared::concat(&sq_cols.iter().collect::<Vec<_>>()).sum());
        }
        Squares::Triples => {
            progress("squaring with triples");
            opened.push(s.dot(&column, &column)?);
        }
    }
    if let Some((first, rest)) = hists.split_first() {
        let mut h = first.clone();
        for x in rest {
            h = h.add(x)?;
        }
        opened.push(h);
    }
    progress("opening and MAC check");
    let Some(out) = reveal(&mut s, &Shared::concat(&opened.iter().collect::<Vec<_>>()), to)? else {
        return Ok(None);
    };
    let mut it = out.iter().map(|x| x.to_u128());
    let sum = it.next().ok_or_else(|| Error::invalid("output", "empty"))?;
    let sum_of_squares = match params.squares {
        Squares::None => None,
        _ => Some(it.next().ok_or_else(|| Error::invalid("output", "short"))?),
    };
    let histogram: Vec<u64> = it.map(|x| u64::try_from(x).unwrap_or(u64::MAX)).collect();
    let count = total as u64;
    let mean = sum as f64 / count as f64;
    let variance = sum_of_squares.map(|q| (q as f64 / count as f64 - mean * mean).max(0.0));
    Ok(Some(StatsResult {
        count,
        sum,
        sum_of_squares,
        mean,
        variance,
        histogram_edges: params.histogram_edges.clone(),
        histogram,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_mpc::harness;

    #[test]
    fn three_parties_agree_with_plain_statistics() {
        let data: Vec<Vec<u64>> = vec![vec![1, 5, 9, 30], vec![2, 2], vec![40, 7, 7]];
        for squares in [Squares::Owner, Squares::Triples] {
            let params =
                StatsParams { histogram_edges: vec![0, 5, 10, 50], squares, ..Default::default() };
            let d = data.clone();
            let p = params.clone();
            let runs = harness::run_in_memory(3, move |ch: &mut dyn Channel| {
                let mine = d[ch.party().index()].clone();
                let cfg = PrepOptions { batch: 16 };
                run(ch, &mine, &p, &Recipients::all(3), cfg, &mut |_| {})
            });
            let all: Vec<u64> = data.concat();
            let sum: u64 = all.iter().sum();
            let sq: u64 = all.iter().map(|x| x * x).sum();
            for r in runs {
                let r = r.output.unwrap().unwrap();
                assert_eq!(r.count, 9);
                assert_eq!(r.sum, u128::from(sum));
                assert_eq!(r.sum_of_squares, Some(u128::from(sq)));
                assert_eq!(r.histogram, vec![3, 4, 2]);
            }
        }
    }

    #[test]
    fn only_recipients_get_the_statistics() {
        let data: Vec<Vec<u64>> = vec![vec![4, 8], vec![15], vec![16, 23, 42]];
        let params =
            StatsParams { histogram_edges: vec![], squares: Squares::Owner, ..Default::default() };
        let runs = harness::run_in_memory(3, |ch: &mut dyn Channel| {
            let mine = data[ch.party().index()].clone();
            let cfg = PrepOptions { batch: 16 };
            run(ch, &mine, &params, &Recipients::new(vec![2], 3)?, cfg, &mut |_| {})
        });
        assert!(runs[0].output.as_ref().unwrap().is_none());
        assert!(runs[1].output.as_ref().unwrap().is_none());
        let r = runs[2].output.as_ref().unwrap().clone().unwrap();
        assert_eq!((r.count, r.sum), (6, 108));
    }
}
