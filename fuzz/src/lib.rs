//! Fuzz targets for every decoder of untrusted input in Tessera, on the stable toolchain.
//!
//! Each [`Target`] is one format (channel frames, OT and SPDZ messages, BFV and Paillier
//! ciphertexts and keys, ledger objects, DID documents, TEE evidence, job specs, the node's
//! ledger wire, CSV and IDX files). Its seeds are real encodings made at start-up; its check
//! decodes one input and asserts more than "no panic": accepted inputs re-encode to themselves,
//! decoded values pass their own validation, no single allocation exceeds a cap set by the
//! input's size ([`alloc_track`]), and protocol peers fed mutated transcripts end in typed errors.
//!
//! [`engine::fuzz`] mutates the corpus with a seeded PRG (see [`engine`] for why there is no
//! coverage feedback and what stands in for it). `cargo test -p tessera-fuzz` runs every target
//! for a bounded number of executions; `fuzz/run.sh <seconds>` runs each for that long through
//! the `tessera-fuzz` binary, which also replays saved inputs.
//!
//! Layer: above every crate it fuzzes; nothing depends on it. It installs a global allocator
//! (a counting wrapper around `System`), so link it into test and fuzz binaries only.

pub mod alloc_track;
pub mod engine;
pub mod panic_capture;
pub mod target;
pub mod targets;

pub use engine::{Budget, Finding, Report, execute, fuzz};
pub use target::{Target, Verdict};
