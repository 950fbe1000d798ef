//! SPDZ: arithmetic MPC with information-theoretic MACs, secure against a malicious majority.
//!
//! - [`Shared`]: authenticated shares of a vector;
//! - [`Session`]: the online phase (input, linear ops, multiplication, checked output);
//! - [`Preprocessing`]: what the online phase consumes, made by [`Mascot`] (OT-based, secure),
//!   by [`VoleSpdz`] (VOLE-authenticated, Gilboa on random COT: secure, less traffic) or
//!   by [`tee_dealer`] (an attested enclave deals it: much faster, trusts the enclave) or by
//!   [`insecure_dealer`] (tests and online-only benchmarks);
//! - [`matrix`]: HE-based matrix triples with a matrix sacrifice, behind [`Session::matmul`].

#[doc(hidden)]
pub mod fault;
mod gilboa;
mod mac_check;
pub mod mascot;
pub mod matrix;
mod online;
mod prep;
mod sacrifice;
mod shares;
pub mod tee_dealer;
pub mod vole;

#[doc(hidden)]
pub use fault::Fault;
pub use mascot::{Mascot, MascotConfig, MascotStats, OtExtension};
pub use online::Session;
pub use prep::{InputMasks, Preprocessing, Triples, insecure_dealer};
pub use shares::Shared;
pub use tee_dealer::{ComputingChannel, DealerStats, TeeDealer, TeeDealerPrep};
pub use vole::{Backend as VoleBackend, VoleSpdz, VoleSpdzConfig, VoleSpdzStats};
