//! Vertical federated learning for Tessera: parties that hold different columns of the same
//! customers align their rows with private set intersection and train logistic regression
//! ([`lr`]) and SecureBoost ([`boost`]) together, exchanging packed Paillier aggregates where
//! FATE sends one ciphertext per value.
//!
//! **Layer:** above `protocols` (ECDH-PSI in [`tessera_protocols::psi`]), `fhe` (Paillier,
//! BFV), `accelerator` (BFV's backend) and `mpc` (channels, harness). Allowed dependencies: those crates, `num-bigint-dig`, `rand_*`,
//! `rayon`, `serde`/`serde_json` (model files), `flate2` (MNIST), `thiserror`.
//!
//! ```
//! use tessera_federated::{HeteroLogisticRegression, Role, VerticalDataset, metrics};
//! use tessera_mpc::{PartyId, harness::run_in_memory};
//!
//! // Guest: label and one feature; host: another feature of the same (already aligned) rows.
//! let ids: Vec<String> = (0..40).map(|i| i.to_string()).collect();
//! let x: Vec<f64> = (0..40).map(|i| (i as f64 - 20.0) / 10.0).collect();
//! let y: Vec<f64> = x.iter().map(|&v| if v > 0.0 { 1.0 } else { 0.0 }).collect();
//! let guest = VerticalDataset::from_parts(ids.clone(), vec!["g".into()], x.clone(), Some(y.clone())).unwrap();
//! let host = VerticalDataset::from_parts(ids, vec!["h".into()], x, None).unwrap();
//! let lr = HeteroLogisticRegression::new().key_bits(512).epochs(5).learning_rate(0.5);
//! let runs = run_in_memory(2, |ch| {
//!     let (role, data) = if ch.party().0 == 0 { (Role::Guest, &guest) } else { (Role::Host, &host) };
//!     let peer = PartyId(1 - ch.party().0);
//!     let trained = lr.fit(ch, peer, role, data)?;
//!     let (scores, _) = trained.model.predict(ch, peer, data, lr.protocol_kind())?;
//!     Ok::<_, tessera_federated::Error>(scores)
//! });
//! let scores = runs[0].output.as_ref().unwrap().as_ref().unwrap();
//! assert!(metrics::accuracy(&y, scores) > 0.9);
//! ```
//!
//! # Features
//! None. LR: binary and one-vs-rest multiclass, one guest and one or more hosts.
//!
//! # Security
//! Semi-honest parties (one guest, one or more hosts), no trusted arbiter, no collusion. Paillier is
//! IND-CPA under DCR (2048-bit by default, ~112-bit security); what each party learns is listed
//! in [`lr`]. Inputs from files and peers are untrusted: loaders and decoders return errors,
//! never panic, and check every length before allocating.

#![forbid(unsafe_code)]

pub mod boost;
pub mod data;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod lr;
pub mod metrics;
pub mod model;
mod paillier;
pub mod plot;
pub mod stats;

pub use boost::{BoostModel, BoostProtocol, HeteroSecureBoost};
pub use data::VerticalDataset;
pub use error::{Error, Result};
pub use lr::{
    HeteroLogisticRegression, LrModel, LrMulticlassTraining, LrProtocol, LrTraining, Parties,
    PlainLr, Role,
};
pub use stats::PhaseStats;

/// Aligns this party's rows with the peer's by ECDH-PSI on the ID column and returns the
/// intersection's rows in the order both parties share.
pub fn align(
    ch: &mut dyn tessera_mpc::Channel,
    peer: tessera_mpc::PartyId,
    data: &VerticalDataset,
) -> Result<VerticalDataset> {
    let out = tessera_protocols::psi::ecdh_psi(ch, peer, &data.ids)?;
    data.select(&out.aligned_rows)
}
