//! `tessera-tee` verifies remote-attestation evidence from Intel SGX, Intel TDX and AMD SEV-SNP
//! against an explicit policy, binds it to a Tessera job, and offers an **insecure** simulated
//! enclave for development.
//!
//! # Layer
//!
//! A leaf of the stack beside `ledger` (see `ARCHITECTURE.md`): it depends on no other Tessera
//! crate, only on `dcap-qvl` (Intel DCAP quote verification, pure Rust), `sev` (SEV-SNP
//! reports and AMD certificates, pure Rust) and RustCrypto primitives. `node` uses it.
//!
//! # Flow
//!
//! ```text
//!  prover (inside a TEE)                         verifier
//!  report_data = SHA-512(domain, job, H(pk)) ──► Evidence ──► Verifier::verify_bound(ev, binding, now)
//!                                                  │   signatures up to pinned vendor roots at `now`
//!                                                  │   TCB status / minimum TCB, measurement, no debug
//!                                                  └─► report_data == binding (constant time) ──► Claims
//! ```
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), tessera_tee::TeeError> {
//! use tessera_tee::{
//!     AmdProduct, AmdRootChain, Binding, EnclaveKeyHash, Evidence, JobCommitment, Policy,
//!     SnpEvidence, SnpIdentity, SnpTcb, VerificationTime, Verifier,
//! };
//!
//! // What the verifier accepts: AMD's Milan chain, one guest image, a minimum firmware TCB.
//! let min_tcb = SnpTcb { bootloader: 3, tee: 0, snp: 8, microcode: 115, fmc: None };
//! let policy = Policy::new()
//!     .pin_amd_roots(AmdProduct::Milan, AmdRootChain::builtin(AmdProduct::Milan)?)
//!     .expect_snp(SnpIdentity { measurement: [0x42; 48], min_tcb });
//! let verifier = Verifier::new(policy);
//!
//! // The job the evidence must be for, and the enclave key the prover announced.
//! let binding = Binding::new(JobCommitment([7; 32]), EnclaveKeyHash::of_public_key(b"enclave pk"));
//!
//! // Evidence from the prover (here a blank report, which is refused), checked at a time the
//! // caller chooses: the library never reads the clock.
//! let evidence = Evidence::SevSnp(SnpEvidence::new(vec![0; 1184], vec![], AmdProduct::Milan)?);
//! let now = VerificationTime::from_unix_secs(1_750_377_600);
//! assert!(verifier.verify_bound(&evidence, &binding, now).is_err());
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//!
//! - `insecure-simulated` (off by default): the `SimulatedEnclave` backend and
//!   `Evidence::Simulated`. It pulls in `aes-gcm`, `hkdf`, `p256` and `getrandom`. It protects
//!   nothing; see the `simulated` module. This crate's own tests and benchmarks turn it on
//!   through a dev-dependency on the crate itself, so they run in CI without flags.
//!
//! # Security
//!
//! - Trust comes only from roots pinned in the [`Policy`]: Intel's SGX root CA, and per AMD
//!   product the ARK/ASK pair. Intel collateral and AMD certificates are checked at the
//!   [`VerificationTime`] the caller passes, so expired collateral is refused.
//! - The TCB rule is strict by default (`UpToDate` only); each exception names a status and the
//!   advisories accepted with it. Debug enclaves, TDs and guests are always refused; SEV-SNP
//!   reports must come from VMPL 0 and match their VCEK's chip id and TCB.
//! - Evidence is tied to a job only through the signed `report_data`, recomputed from the job
//!   commitment and the enclave key hash and compared in constant time; a quote is never
//!   identified by a hash of its raw bytes (TDX quotes carry unsigned padding).
//! - Simulated evidence is accepted only by a policy that opts in, and its claims say
//!   [`Assurance::Insecure`].
//! - Parsing of untrusted evidence never panics and allocations are bounded by size checks.

#![forbid(unsafe_code)]

mod amd;
mod backend;
mod binding;
mod claims;
mod der_bounds;
mod error;
mod evidence;
mod intel;
mod policy;
#[cfg(feature = "insecure-simulated")]
pub mod simulated;
mod verifier;

pub use amd::SNP_REPORT_LEN;
pub use backend::TeeBackend;
pub use binding::{Binding, EnclaveKeyHash, JobCommitment, ReportData};
pub use claims::{
    Assurance, Claims, Measurement, Platform, SnpTcb, TcbClaim, TcbStatus, VerificationTime,
};
pub use error::{Result, TeeError};
pub use evidence::{DcapEvidence, Evidence, MAX_EVIDENCE_LEN, SnpEvidence};
pub use policy::{
    AmdProduct, AmdRootChain, Policy, SgxIdentity, SnpIdentity, TcbException, TdxIdentity,
};
#[cfg(feature = "insecure-simulated")]
pub use simulated::{SimulatedEnclave, SimulatedEvidence};
pub use verifier::Verifier;
