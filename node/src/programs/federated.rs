//! The `federated-lr` and `federated-secureboost` programs: a thin adapter from a job to
//! `tessera-federated`'s [`HeteroLogisticRegression`] and [`HeteroSecureBoost`] (vertical split,
//! packed Paillier, semi-honest, two parties).
//!
//! The `[[party]]` with `role = "guest"` holds the label column and some features, the one with
//! `role = "host"` other features of the same customers. The job:
//! 1. aligns the rows by ECDH-PSI on the `id` column ([`tessera_federated::align`]: both learn the
//!    intersection);
//! 2. trains (`fit`) with each party's role; each party keeps its own part of the model (the
//!    host's weights or split thresholds never leave it) and writes it as a private model file;
//! 3. scores the training rows (`predict`: only the guest gets the scores) and computes training
//!    accuracy and AUC at the guest;
//! 4. each party commits to its model part by a salted hash; the guest sends the summary
//!    (row count, metrics, both model hashes) to the recipients, and the job's commitment binds
//!    it, so a party can later prove which model it trained.
//!
//! The guest computes the summary, so it must be a recipient. Security is that of
//! `tessera-federated`: semi-honest parties, Paillier at `key_bits` (2048 by default, ~112-bit
//! security; 1024 is accepted for tests and is not secure for production).

use serde::{Deserialize, Serialize};
use tessera_federated::{
    HeteroLogisticRegression, HeteroSecureBoost, Role as FedRole, VerticalDataset, metrics,
};
use tessera_ledger::LedgerHash;
use tessera_mpc::{Channel, PartyId};

use super::Recipients;
use crate::error::{Error, Result};

/// Domain tag of model-part hashes.
const MODEL_DOMAIN: &[u8] = b"tessera-node/model-part/v1";

/// A party's side in a vertical (federated) program.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Holds the labels.
    Guest,
    /// Holds features only.
    Host,
}

impl From<Role> for FedRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Guest => FedRole::Guest,
            Role::Host => FedRole::Host,
        }
    }
}

fn default_label() -> String {
    "y".into()
}
fn default_key_bits() -> usize {
    2048
}

fn check_key_bits(bits: usize) -> Result<()> {
    if !(1024..=4096).contains(&bits) || !bits.is_multiple_of(64) {
        return Err(Error::invalid("key_bits", "1024 to 4096, a multiple of 64"));
    }
    Ok(())
}

/// Parameters of `federated-lr` (part of the program hash).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FederatedLrParams {
    /// The guest's label column (0/1).
    #[serde(default = "default_label")]
    pub label: String,
    /// Epochs.
    #[serde(default = "lr_epochs")]
    pub epochs: usize,
    /// Learning rate.
    #[serde(default = "lr_rate")]
    pub learning_rate: f64,
    /// Mini-batch size (absent: full batch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// Paillier modulus bits.
    #[serde(default = "default_key_bits")]
    pub key_bits: usize,
}

fn lr_epochs() -> usize {
    10
}
fn lr_rate() -> f64 {
    0.15
}

impl Default for FederatedLrParams {
    fn default() -> Self {
        Self {
            label: default_label(),
            epochs: lr_epochs(),
            learning_rate: lr_rate(),
            batch_size: None,
            key_bits: default_key_bits(),
        }
    }
}

impl FederatedLrParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        check_key_bits(self.key_bits)?;
        let ok = (1..=1000).contains(&self.epochs)
            && self.learning_rate > 0.0
            && self.learning_rate < 100.0
            && self.batch_size != Some(0);
        if !ok {
            return Err(Error::invalid("federated-lr", "1–1000 epochs, 0 < lr < 100, batch ≥ 1"));
        }
        Ok(())
    }
}

/// Parameters of `federated-secureboost` (part of the program hash).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FederatedBoostParams {
    /// The guest's label column (0/1).
    #[serde(default = "default_label")]
    pub label: String,
    /// Trees.
    #[serde(default = "boost_trees")]
    pub trees: usize,
    /// Depth of each tree.
    #[serde(default = "boost_depth")]
    pub max_depth: usize,
    /// Shrinkage.
    #[serde(default = "boost_rate")]
    pub learning_rate: f64,
    /// Bins per feature.
    #[serde(default = "boost_bins")]
    pub max_bins: usize,
    /// Paillier modulus bits.
    #[serde(default = "default_key_bits")]
    pub key_bits: usize,
}

fn boost_trees() -> usize {
    5
}
fn boost_depth() -> usize {
    3
}
fn boost_rate() -> f64 {
    0.3
}
fn boost_bins() -> usize {
    32
}

impl Default for FederatedBoostParams {
    fn default() -> Self {
        Self {
            label: default_label(),
            trees: boost_trees(),
            max_depth: boost_depth(),
            learning_rate: boost_rate(),
            max_bins: boost_bins(),
            key_bits: default_key_bits(),
        }
    }
}

impl FederatedBoostParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        check_key_bits(self.key_bits)?;
        let ok = (1..=200).contains(&self.trees)
            && (1..=16).contains(&self.max_depth)
            && (2..=256).contains(&self.max_bins)
            && self.learning_rate > 0.0
            && self.learning_rate <= 1.0;
        if !ok {
            return Err(Error::invalid(
                "federated-secureboost",
                "1–200 trees, depth 1–16, 2–256 bins, 0 < lr ≤ 1",
            ));
        }
        Ok(())
    }
}

/// Which federated model to train.
#[derive(Clone, Debug)]
pub enum Model<'a> {
    /// Hetero logistic regression.
    Lr(&'a FederatedLrParams),
    /// SecureBoost.
    Boost(&'a FederatedBoostParams),
}

impl Model<'_> {
    fn label(&self) -> &str {
        match self {
            Model::Lr(p) => &p.label,
            Model::Boost(p) => &p.label,
        }
    }
    fn name(&self) -> &'static str {
        match self {
            Model::Lr(_) => "federated-lr",
            Model::Boost(_) => "federated-secureboost",
        }
    }
}

/// Reads this party's table: `id`, the label column at the guest, features.
pub fn read_input(bytes: &[u8], model: &Model<'_>, role: Role) -> Result<VerticalDataset> {
    let t = super::read_table(bytes, (role == Role::Guest).then(|| model.label()))?;
    if t.feature_names.is_empty() {
        return Err(Error::invalid("data file", "no feature columns"));
    }
    if t.labels.as_ref().is_some_and(|y| y.iter().any(|v| *v != 0.0 && *v != 1.0)) {
        return Err(Error::invalid("data file", "labels must be 0 or 1"));
    }
    Ok(t)
}

/// The summary the recipients get (the job's result).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FederatedResult {
    /// The program.
    pub program: String,
    /// Rows in the PSI intersection (the training set).
    pub rows: u64,
    /// Training accuracy (guest's scores at 0.5).
    pub train_accuracy: f64,
    /// Training ROC AUC.
    pub train_auc: f64,
    /// Salted hash (hex) of each party's model file, in party order.
    pub model_hashes: Vec<String>,
}

/// What one party takes away.
#[derive(Clone, Debug)]
pub struct FederatedOutcome {
    /// The summary, at recipients.
    pub result: Option<FederatedResult>,
    /// This party's model file (JSON with a salt; private to this party).
    pub model_file: Vec<u8>,
}

/// The hash a model file is committed under.
pub fn model_hash(file: &[u8]) -> [u8; 32] {
    LedgerHash::Sha256.hash(&[MODEL_DOMAIN, file])
}

fn fed(e: tessera_federated::Error) -> Error {
    match e {
        tessera_federated::Error::Channel(c) => Error::Channel(c),
        tessera_federated::Error::Psi(p) => Error::Mpc(p),
        other => Error::Federated(other.to_string()),
    }
}

/// Runs a federated program as this party (2 parties).
pub fn run(
    ch: &mut dyn Channel,
    data: &VerticalDataset,
    model: &Model<'_>,
    role: Role,
    to: &Recipients,
    progress: super::super::stats::Progress<'_>,
) -> Result<FederatedOutcome> {
    if ch.num_parties() != 2 {
        return Err(Error::invalid("job spec", "federated programs run between 2 parties"));
    }
    let me = ch.party();
    let peer = PartyId(1 - me.0);
    progress("aligning ids (ECDH-PSI over Ristretto255)");
    let aligned = tessera_federated::align(ch, peer, data).map_err(fed)?;
    if aligned.len() < 2 {
        return Err(Error::invalid("input", "fewer than 2 common ids"));
    }
    progress(&format!("{} common rows; training {} as {role:?}", aligned.len(), model.name()));
    let (part, scores) = match model {
        Model::Lr(p) => {
            let lr = HeteroLogisticRegression::new()
                .epochs(p.epochs)
                .learning_rate(p.learning_rate)
                .batch_size(p.batch_size)
                .key_bits(p.key_bits);
            let t = lr.fit(ch, peer, role.into(), &aligned).map_err(fed)?;
            progress("scoring the training rows");
            let (scores, _) =
                t.model.predict(ch, peer, &aligned, lr.protocol_kind()).map_err(fed)?;
            (serde_json::to_value(&t.model).map_err(|e| Error::invalid("model", e))?, scores)
        }
        Model::Boost(p) => {
            let sb = HeteroSecureBoost::new()
                .trees(p.trees)
                .max_depth(p.max_depth)
                .learning_rate(p.learning_rate)
                .max_bins(p.max_bins)
                .key_bits(p.key_bits);
            let t = sb.fit(ch, peer, role.into(), &aligned).map_err(fed)?;
            progress("scoring the training rows");
            let (scores, _) =
                t.model.predict(ch, peer, &aligned, sb.protocol_kind()).map_err(fed)?;
            (serde_json::to_value(&t.model).map_err(|e| Error::invalid("model", e))?, scores)
        }
    };
    let mut salt = [0u8; 32];
    getrandom::fill(&mut salt).map_err(|e| Error::Transport(format!("randomness: {e}")))?;
    let file = serde_json::json!({
        "program": model.name(),
        "role": role,
        "rows": aligned.len(),
        "salt": hex::encode(salt),
        "model": part,
    });
    let model_file = serde_json::to_vec_pretty(&file).map_err(|e| Error::invalid("model", e))?;
    let mine = model_hash(&model_file);
    progress("exchanging model commitments");
    ch.send(peer, &mine)?;
    let theirs: [u8; 32] = ch
        .recv(peer)?
        .as_slice()
        .try_into()
        .map_err(|_| Error::invalid("peer message", "model hash"))?;
    if theirs == mine {
        // Our salted hash echoed back: the peer would commit to our model part as its own.
        return Err(Error::Verification("the peer sent back our own model commitment".into()));
    }
    let mut hashes = vec![hex::encode(mine), hex::encode(theirs)];
    if me.0 == 1 {
        hashes.swap(0, 1);
    }
    let result = match role {
        Role::Guest => {
            let y = aligned.labels.as_deref().unwrap_or_default();
            let s = scores.ok_or_else(|| Error::invalid("federated", "guest got no scores"))?;
            let summary = FederatedResult {
                program: model.name().into(),
                rows: aligned.len() as u64,
                train_accuracy: metrics::accuracy(y, &s),
                train_auc: metrics::auc(y, &s),
                model_hashes: hashes,
            };
            if to.contains(peer) {
                let bytes =
                    serde_json::to_vec(&summary).map_err(|e| Error::invalid("result", e))?;
                ch.send(peer, &bytes)?;
            }
            Some(summary)
        }
        Role::Host if to.contains(me) => {
            let raw = ch.recv(peer)?;
            let summary: FederatedResult = serde_json::from_slice(&raw)
                .map_err(|e| Error::invalid("peer message", format!("summary: {e}")))?;
            if summary.model_hashes != hashes || summary.rows != aligned.len() as u64 {
                return Err(Error::Verification(
                    "the guest's summary does not commit to our model or row count".into(),
                ));
            }
            Some(summary)
        }
        Role::Host => None,
    };
    Ok(FederatedOutcome { result, model_file })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_mpc::harness;

    fn tables() -> (Vec<u8>, Vec<u8>) {
        // 80 customers at the guest, 70 at the host, 60 in common; y = [a + b > 0].
        let mut g = String::from("id,y,a\n");
        let mut h = String::from("id,b\n");
        for i in 0..80 {
            let a = ((i * 37) % 17) as f64 / 5.0 - 1.6;
            let b = ((i * 13) % 11) as f64 / 4.0 - 1.2;
            let y = u8::from(a + b > 0.0);
            g.push_str(&format!("c{i},{y},{a}\n"));
            if i >= 20 {
                h.push_str(&format!("c{i},{b}\n"));
            }
        }
        for i in 100..110 {
            h.push_str(&format!("c{i},0.5\n"));
        }
        (g.into_bytes(), h.into_bytes())
    }

    #[test]
    fn federated_lr_trains_and_commits_to_both_model_parts() {
        let (g, h) = tables();
        let params = FederatedLrParams {
            key_bits: 1024,
            epochs: 8,
            learning_rate: 0.5,
            ..Default::default()
        };
        let runs = harness::run_in_memory(2, |ch: &mut dyn Channel| {
            let role = if ch.party().0 == 0 { Role::Guest } else { Role::Host };
            let bytes = if role == Role::Guest { &g } else { &h };
            let data = read_input(bytes, &Model::Lr(&params), role)?;
            run(ch, &data, &Model::Lr(&params), role, &Recipients::new(vec![0], 2)?, &mut |_| {})
        });
        let guest = runs[0].output.as_ref().unwrap();
        let host = runs[1].output.as_ref().unwrap();
        let summary = guest.result.clone().unwrap();
        assert!(host.result.is_none());
        assert_eq!(summary.rows, 60);
        assert!(summary.train_accuracy > 0.85, "{summary:?}");
        assert_eq!(summary.model_hashes[0], hex::encode(model_hash(&guest.model_file)));
        assert_eq!(summary.model_hashes[1], hex::encode(model_hash(&host.model_file)));
    }
}
