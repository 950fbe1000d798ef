//! The built-in programs other than `joint-stats` ([`crate::stats`]), and what they share: who
//! receives a result ([`Recipients`], [`reveal`]), table data files ([`read_table`]) and
//! identifier alignment by private set intersection ([`align`]).
//!
//! | program | computation | parties | security |
//! | --- | --- | --- | --- |
//! | [`psi_aggregate`] | ECDH-PSI on ids, then sum/mean over the intersection on SPDZ | 2–3 | PSI semi-honest, aggregate malicious with abort |
//! | [`secure_lr`] | logistic regression on secret-shared data (horizontal, or vertical after PSI), SPDZ fixed point | 2–16 | malicious with abort (PSI of a vertical split: semi-honest) |
//! | [`federated`] | `tessera-federated` hetero LR / SecureBoost (Paillier), vertical split | 2 | semi-honest |
//!
//! **Outputs to a subset.** A job's `outputs` may name fewer than all participants. SPDZ programs
//! then open their result with [`tessera_protocols::spdz::Session::output_to`] once per recipient:
//! every party opens `x + r` for a mask `r` only the recipient knows (MAC-checked like any
//! output), so a non-recipient sees only uniformly masked values and its process never holds the
//! result. The federated programs send their summary from the guest to the recipients only.

pub mod align;
pub mod federated;
pub mod prep;
pub mod psi_aggregate;
pub mod secure_lr;

use tessera_federated::VerticalDataset;
use tessera_mpc::{Field, PartyId};
use tessera_protocols::spdz::{Preprocessing, Session, Shared};

use crate::error::{Error, Result};

/// `tessera job --help`: the programs, their parameters and data file formats.
pub const HELP: &str = r#"Job spec (TOML): job_id, outputs (DIDs that learn the result: one to all participants; the
others get the receipt only), [program] with name and parameters, one [[party]] per participant
(did, dataset, grant; role = "guest"|"host" for federated programs). The program hash (what
grants name) is the hash of the canonical [program] table.

Programs, parameters (defaults) and each party's data file:
  joint-stats            histogram_edges ([]), squares ("owner"|"triples"|"none"; "owner")
                         file: one non-negative integer per line, optional header line.
                         result: count, sum, mean, variance, histogram (SPDZ).
  psi-aggregate          column ("value"), combine ("sum"|"product"; "sum"). 2 or 3 parties.
                         file: CSV "id,<column>[,...]", integer values in [0, 2^32).
                         ECDH-PSI aligns ids (reveals the intersection; with 3 parties party 0
                         runs PSI with each other party), then SPDZ sums the row values
                         (combined by sum or product) over it. result: intersection_size, sum, mean.
  secure-lr              label ("y"), epochs (5), learning_rate (1.0), sigmoid ("linear"|"cubic";
                         "linear"), frac_bits (13), split ("horizontal"|"vertical"; "horizontal").
                         horizontal: every party holds whole rows; file: CSV
                         "id,<label>,<features...>", the same feature columns at every party.
                         vertical: every party holds other columns of the same ids (aligned by
                         ECDH-PSI), one party's file also has the label column.
                         Labels 0/1, standardised features (|x| <= 16).
                         result: weights and intercept (logistic regression trained on SPDZ).
  federated-lr           label ("y"), epochs (10), learning_rate (0.15), batch_size (full),
                         key_bits (2048). 2 parties, vertical split, semi-honest (Paillier).
  federated-secureboost  label ("y"), trees (5), max_depth (3), learning_rate (0.3), max_bins (32),
                         key_bits (2048).
                         file (both federated): CSV "id,<features...>"; the guest's also has the
                         label column. Rows are aligned by ECDH-PSI on id. result (guest and any
                         other recipient): rows, train_accuracy, train_auc, model_hashes; each
                         party keeps its own model part in <home>/jobs/<job>/model.json.

The SPDZ programs (joint-stats, psi-aggregate, secure-lr) also take preprocessing ("vole" |
"mascot"; "vole"): the protocol that makes their triples, masks and bits; part of the program
hash. "vole" (VOLE SPDZ on Ferret COT and Wolverine VOLE) sends about a third of MASCOT's bits
and is faster from 64 triples up; its fixed setup is larger, so a job with almost no
multiplications (count and sum only) finishes ~0.4 s sooner on "mascot". Both are
malicious-secure with abort against a dishonest majority.

With outputs naming a subset, results are opened only to those parties (SPDZ output_to) and the
result file carries a random salt, so the anchored hash hides it from the others."#;

/// The parties that learn a job's result, in party order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipients {
    parties: Vec<PartyId>,
    n: usize,
}

impl Recipients {
    /// Every one of `n` parties.
    pub fn all(n: usize) -> Self {
        Self { parties: (0..n).map(crate::pid).collect(), n }
    }

    /// The parties of `indices` among `n` (sorted, distinct, each below `n`, at least one).
    pub fn new(mut indices: Vec<usize>, n: usize) -> Result<Self> {
        indices.sort_unstable();
        indices.dedup();
        if indices.is_empty() || indices.iter().any(|&i| i >= n) {
            return Err(Error::invalid("outputs", "need one to all participants"));
        }
        Ok(Self { parties: indices.into_iter().map(crate::pid).collect(), n })
    }

    /// Whether every participant receives.
    pub fn is_all(&self) -> bool {
        self.parties.len() == self.n
    }

    /// Whether `p` receives.
    pub fn contains(&self, p: PartyId) -> bool {
        self.parties.contains(&p)
    }

    /// The recipients in party order.
    pub fn parties(&self) -> &[PartyId] {
        &self.parties
    }

    /// The lowest-numbered recipient.
    pub fn first(&self) -> PartyId {
        self.parties.first().copied().unwrap_or(PartyId(0))
    }
}

/// Opens `x` to the recipients only: `Some(values)` at a recipient, `None` elsewhere. With every
/// party receiving it is one [`Session::output`]; otherwise one
/// [`Session::output_to`] per recipient (one mask per value and recipient).
pub fn reveal<F: Field, P: Preprocessing<F>>(
    s: &mut Session<'_, F, P>,
    x: &Shared<F>,
    to: &Recipients,
) -> Result<Option<Vec<F>>> {
    if to.is_all() {
        return Ok(Some(s.output(x)?));
    }
    let me = s.party();
    let mut mine = None;
    for &r in to.parties() {
        let got = s.output_to(x, r)?;
        if r == me {
            mine = got;
        }
    }
    s.check()?;
    Ok(mine)
}

/// Reads a table data file: CSV with a header line, an identifier column `id`, optionally a label
/// column, and numeric feature columns (every other column).
pub fn read_table(bytes: &[u8], label: Option<&str>) -> Result<VerticalDataset> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::invalid("data file", "not UTF-8"))?;
    VerticalDataset::from_csv_str("data file", text, "id", label)
        .map_err(|e| Error::invalid("data file", e))
}

/// A shared vector of the public constants `values` (no communication).
pub(crate) fn constant<F: Field, P: Preprocessing<F>>(
    s: &Session<'_, F, P>,
    like: &Shared<F>,
    values: &[F],
) -> Result<Shared<F>> {
    let zero = like.slice(0..1)?.scale(F::ZERO).repeat(0, values.len())?;
    Ok(s.add_public(&zero, values)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_mpc::{Channel, Fp127, Ring, harness};
    use tessera_protocols::spdz::{Mascot, MascotConfig};

    #[test]
    fn reveal_to_a_subset_reaches_only_the_recipient() {
        let runs = harness::run_in_memory(3, |ch: &mut dyn Channel| -> Result<_> {
            let me = ch.party();
            let prep =
                Mascot::<Fp127>::setup(ch, MascotConfig { batch: 16, ..Default::default() })?;
            let mut s = Session::new(ch, prep);
            let mine = [Fp127::from_u64(1000 + me.0 as u64)];
            let mut total = Shared::empty();
            for p in 0..3 {
                let x = s.input(crate::pid(p), (p == me.index()).then_some(&mine[..]), 1)?;
                total = if p == 0 { x } else { total.add(&x)? };
            }
            reveal(&mut s, &total, &Recipients::new(vec![1], 3)?)
        });
        assert_eq!(runs[0].output.as_ref().unwrap(), &None);
        assert_eq!(runs[1].output.as_ref().unwrap(), &Some(vec![Fp127::from_u64(3003)]));
        assert_eq!(runs[2].output.as_ref().unwrap(), &None);
    }
}
