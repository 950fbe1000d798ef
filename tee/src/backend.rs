//! The interface a TEE backend offers to the node: attest to a job, seal and unseal data.
//!
//! Only the simulated backend implements it today (behind the `insecure-simulated` feature); a
//! real SGX, TDX or SEV-SNP backend implements the same trait inside the enclave, using the
//! platform's report and sealing-key instructions.

use zeroize::Zeroizing;

use crate::binding::{EnclaveKeyHash, JobCommitment};
use crate::claims::Platform;
use crate::error::Result;
use crate::evidence::Evidence;

/// A trusted execution environment as seen from inside it.
pub trait TeeBackend {
    /// The kind of TEE this backend runs on.
    fn platform(&self) -> Platform;

    /// The enclave's public key (its encoding is the backend's), whose hash the evidence binds.
    fn enclave_public_key(&self) -> Vec<u8>;

    /// The hash of [`enclave_public_key`](Self::enclave_public_key) as it enters report data.
    fn enclave_key_hash(&self) -> EnclaveKeyHash {
        EnclaveKeyHash::of_public_key(&self.enclave_public_key())
    }

    /// Produces evidence whose report data binds `job` and this enclave's key
    /// ([`crate::ReportData::bind`]).
    fn attest(&self, job: &JobCommitment) -> Result<Evidence>;

    /// Encrypts `plaintext` under a key only this measurement on this platform can derive;
    /// `aad` is authenticated, not encrypted.
    fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>>;

    /// Opens a blob made by [`seal`](Self::seal) with the same `aad`; fails if another
    /// measurement or platform sealed it or if it was changed.
    fn unseal(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>>;
}
