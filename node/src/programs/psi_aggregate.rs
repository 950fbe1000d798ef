//! The `psi-aggregate` program: parties hold `(id, value)` tables; the rows whose id every party
//! holds are found by ECDH-PSI ([`super::align`]) and an aggregate of their values over that
//! intersection is computed on SPDZ with MASCOT and opened to the recipients only.
//!
//! Each row of the intersection combines the parties' values of that id (`combine = "sum"`:
//! `Σ_p v_p`, linear; `"product"`: `Π_p v_p`, one SPDZ multiplication per row and extra party,
//! e.g. spend × exposure). The result is the intersection size, the sum of the combined values
//! over it, and their mean.
//!
//! **What it reveals.** The PSI step reveals the intersection itself (see [`super::align`] for
//! exactly what each party learns with 2 or 3 parties); the intersection size is part of the
//! result. The values stay secret-shared: only the sum is opened, and only to the recipients. So
//! with `combine = "sum"` a party learns nothing about the others' values beyond the sum; note
//! that a party holding every value of the aggregate (2 parties, `sum`, a recipient) can
//! subtract its own part. Security: PSI semi-honest (DDH in Ristretto255), aggregate malicious
//! with abort (SPDZ, statistical security ≥ 2^-64).
//!
//! Limits: 2 or 3 parties (products of three 32-bit values over 2^24 rows stay below the 127-bit
//! field); values are non-negative integers below 2^32; at most 2^24 rows per party.

use serde::{Deserialize, Serialize};
use tessera_mpc::{Channel, Field, Fp127, Ring};
use tessera_protocols::spdz::{Session, Shared};

use super::prep::{self, PrepKind, PrepOptions};
use super::{Recipients, reveal};
use crate::error::{Error, Result};

/// Largest value (exclusive).
pub const MAX_VALUE: u64 = 1 << 32;
/// Most rows per party.
pub const MAX_ROWS: usize = 1 << 24;

/// How a row's values combine across parties.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Combine {
    /// Sum of the parties' values.
    #[default]
    Sum,
    /// Product of the parties' values.
    Product,
}

/// Parameters of `psi-aggregate` (part of the program hash).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PsiAggregateParams {
    /// The value column every party's table has.
    #[serde(default = "default_column")]
    pub column: String,
    /// How a row's values combine.
    #[serde(default)]
    pub combine: Combine,
    /// Which protocol makes the SPDZ preprocessing.
    #[serde(default)]
    pub preprocessing: PrepKind,
}

fn default_column() -> String {
    "value".into()
}

impl Default for PsiAggregateParams {
    fn default() -> Self {
        Self { column: default_column(), combine: Combine::Sum, preprocessing: PrepKind::default() }
    }
}

impl PsiAggregateParams {
    /// Checks the parameters for `parties` participants.
    pub fn validate(&self, parties: usize) -> Result<()> {
        if self.column.is_empty() || self.column == "id" {
            return Err(Error::invalid("column", "name a value column other than id"));
        }
        if !(2..=3).contains(&parties) {
            return Err(Error::invalid("job spec", "psi-aggregate runs between 2 or 3 parties"));
        }
        Ok(())
    }
}

/// What the recipients learn.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PsiAggregateResult {
    /// Rows in the intersection.
    pub intersection_size: u64,
    /// How rows combined.
    pub combine: Combine,
    /// Sum of the combined values over the intersection.
    pub sum: u128,
    /// `sum / intersection_size` (absent for an empty intersection).
    pub mean: Option<f64>,
}

/// This party's `(ids, values)` from a table with an `id` and the value column.
pub fn read_input(bytes: &[u8], params: &PsiAggregateParams) -> Result<(Vec<String>, Vec<u64>)> {
    let t = super::read_table(bytes, Some(&params.column))?;
    let values = t.labels.unwrap_or_default();
    if t.ids.len() > MAX_ROWS {
        return Err(Error::invalid("data file", "more than 2^24 rows"));
    }
    let values: Vec<u64> = values
        .iter()
        .map(|&v| {
            if v >= 0.0 && v < MAX_VALUE as f64 && v.fract() == 0.0 {
                Ok(v as u64)
            } else {
                Err(Error::invalid("data file", format!("{v}: values are integers in [0, 2^32)")))
            }
        })
        .collect::<Result<_>>()?;
    Ok((t.ids, values))
}

/// Runs `psi-aggregate` as this party; `Some(result)` at recipients.
pub fn run(
    ch: &mut dyn Channel,
    ids: &[String],
    values: &[u64],
    params: &PsiAggregateParams,
    to: &Recipients,
    prep_opts: PrepOptions,
    progress: super::super::stats::Progress<'_>,
) -> Result<Option<PsiAggregateResult>> {
    params.validate(ch.num_parties())?;
    if ids.len() != values.len() || values.iter().any(|v| *v >= MAX_VALUE) {
        return Err(Error::invalid("input", "one value below 2^32 per id"));
    }
    progress("private set intersection (ECDH-PSI over Ristretto255)");
    let rows = super::align::align_all(ch, ids)?;
    let size = rows.len();
    progress(&format!("intersection: {size} rows; {}", prep::setup_phase(params.preprocessing)));
    let mut s_rows = Vec::with_capacity(size);
    for &r in &rows {
        s_rows.push(Fp127::from_u64(*values.get(r).ok_or_else(|| Error::invalid("input", "row"))?));
    }
    if size == 0 {
        progress("empty intersection: nothing to aggregate");
        // Nothing is secret-shared; the size (0) is what everyone learned from the PSI.
        return Ok(to.contains(ch.party()).then_some(PsiAggregateResult {
            intersection_size: 0,
            combine: params.combine,
            sum: 0,
            mean: None,
        }));
    }
    let n = ch.num_parties();
    let me = ch.party();
    let products = if params.combine == Combine::Product { size * (n - 1) } else { 0 };
    let opts = prep_opts.at_most(size * (n + 1) + products, 16);
    let prep = prep::setup(ch, params.preprocessing, opts)?;
    let mut s = Session::new(ch, prep);
    let mut acc: Option<Shared<Fp127>> = None;
    for p in 0..n {
        progress(&format!("sharing the intersection's values of party {p}"));
        let owner = crate::pid(p);
        let col = s.input(owner, (owner == me).then_some(&s_rows[..]), size)?;
        acc = Some(match (acc, params.combine) {
            (None, _) => col,
            (Some(a), Combine::Sum) => a.add(&col)?,
            (Some(a), Combine::Product) => {
                progress("multiplying row values");
                s.mul(&a, &col)?
            }
        });
    }
    let total = acc.ok_or_else(|| Error::invalid("input", "no parties"))?.sum();
    progress("opening the aggregate to the recipients");
    let out = reveal(&mut s, &total, to)?;
    Ok(out.map(|v| {
        let sum = v.first().map(|x| x.to_u128()).unwrap_or(0);
        PsiAggregateResult {
            intersection_size: size as u64,
            combine: params.combine,
            sum,
            mean: Some(sum as f64 / size as f64),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_mpc::harness;

    #[test]
    fn aggregates_over_the_intersection_only_for_recipients() {
        // ids u0..u29 at party 0 (value i), u10..u39 at party 1 (value 2i), even ids at party 2 (value 3).
        let tables: Vec<(Vec<String>, Vec<u64>)> = vec![
            ((0..30).map(|i| format!("u{i}")).collect(), (0..30).collect()),
            ((10..40).map(|i| format!("u{i}")).collect(), (10..40).map(|i| 2 * i).collect()),
            ((0..50).filter(|i| i % 2 == 0).map(|i| format!("u{i}")).collect(), vec![3; 25]),
        ];
        let common: Vec<u64> = (10..30).filter(|i| i % 2 == 0).collect();
        for combine in [Combine::Sum, Combine::Product] {
            let params = PsiAggregateParams { column: "v".into(), combine, ..Default::default() };
            let runs = harness::run_in_memory(3, |ch: &mut dyn Channel| {
                let (ids, vals) = &tables[ch.party().index()];
                let to = Recipients::new(vec![0, 2], 3)?;
                let cfg = PrepOptions { batch: 16 };
                run(ch, ids, vals, &params, &to, cfg, &mut |_| {})
            });
            let expect: u128 = common
                .iter()
                .map(|&i| match combine {
                    Combine::Sum => u128::from(i + 2 * i + 3),
                    Combine::Product => u128::from(i * 2 * i * 3),
                })
                .sum();
            for p in [0, 2] {
                let r = runs[p].output.as_ref().unwrap().clone().unwrap();
                assert_eq!(r.intersection_size, common.len() as u64);
                assert_eq!(r.sum, expect, "{combine:?}");
            }
            assert!(runs[1].output.as_ref().unwrap().is_none());
        }
    }
}
