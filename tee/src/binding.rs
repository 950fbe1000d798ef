//! Binding evidence to a job: what an enclave writes into its report's 64-byte `report_data`.
//!
//! ```text
//! job         = SHA-256("tessera/tee/v1/job" || chain_id[32] || u64_le(len(job_id)) || job_id
//!                       || program_hash[32])                      (JobCommitment::for_job)
//! key_hash    = SHA-512("tessera/tee/v1/enclave-key" || u64_le(len(pk)) || pk)
//! report_data = SHA-512("tessera/tee/v1/report-data" || job_commitment[32] || key_hash[64])
//! ```
//!
//! The domain strings keep these hashes apart from every other SHA-512 in Tessera; all later
//! fields have fixed lengths, so the encoding is injective. A verifier recomputes `report_data`
//! from the job it expects and the enclave key it was given, and compares it with the signed
//! field in constant time. A quote is identified by these signed fields, never by a hash of its
//! raw bytes: a TDX quote ends in unsigned padding that anyone may change.
//!
//! Freshness comes from the job commitment: [`JobCommitment::for_job`] names the ledger (chain
//! id), the job id (which that ledger accepts once) and the program, so evidence produced for one
//! job is no evidence for another job, another program or the same job id on another ledger.
//! There is no separate verifier nonce: a replay of evidence for the *same* job and enclave key
//! proves nothing new.

use sha2::{Digest, Sha256, Sha512};
use subtle::{Choice, ConstantTimeEq};

const JOB_DOMAIN: &[u8] = b"tessera/tee/v1/job";
const KEY_DOMAIN: &[u8] = b"tessera/tee/v1/enclave-key";
const REPORT_DATA_DOMAIN: &[u8] = b"tessera/tee/v1/report-data";

/// A 32-byte commitment to a job (computed by the layer that defines jobs, e.g. the ledger).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JobCommitment(pub [u8; 32]);

impl JobCommitment {
    /// The commitment to job `job_id` of program `program_hash` on the ledger `chain_id` (its
    /// genesis hash). Use this rather than a value of one's own making: a value that is not
    /// unique per job (a program hash alone, say) lets evidence be replayed across jobs.
    pub fn for_job(chain_id: &[u8; 32], job_id: &str, program_hash: &[u8; 32]) -> Self {
        let mut h = Sha256::new();
        h.update(JOB_DOMAIN);
        h.update(chain_id);
        h.update((job_id.len() as u64).to_le_bytes());
        h.update(job_id.as_bytes());
        h.update(program_hash);
        Self(h.finalize().into())
    }
}

/// The hash of an enclave's public key, as it enters the report data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EnclaveKeyHash([u8; 64]);

impl EnclaveKeyHash {
    /// Hashes an enclave public key (any encoding; the verifier must be given the same bytes).
    pub fn of_public_key(public_key: &[u8]) -> Self {
        let mut h = Sha512::new();
        h.update(KEY_DOMAIN);
        h.update((public_key.len() as u64).to_le_bytes());
        h.update(public_key);
        Self(h.finalize().into())
    }

    /// The 64 hash bytes.
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }
}

/// The 64 bytes an enclave puts in its report to commit to a job and to its own key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReportData(pub [u8; 64]);

impl ReportData {
    /// The report data that binds `job` to the enclave whose key hashes to `key`.
    pub fn bind(job: &JobCommitment, key: &EnclaveKeyHash) -> Self {
        let mut h = Sha512::new();
        h.update(REPORT_DATA_DOMAIN);
        h.update(job.0);
        h.update(key.0);
        Self(h.finalize().into())
    }

    /// The 64 bytes.
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }

    /// Whether `reported` equals these bytes, compared in constant time.
    pub fn ct_matches(&self, reported: &[u8; 64]) -> Choice {
        self.0.ct_eq(reported)
    }
}

/// The job and enclave key a verified report was bound to (recorded in the claims).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Binding {
    /// The job the evidence was produced for.
    pub job: JobCommitment,
    /// The hash of the enclave key that the evidence vouches for.
    pub enclave_key: EnclaveKeyHash,
}

impl Binding {
    /// A binding of `job` to the enclave key with hash `enclave_key`.
    pub fn new(job: JobCommitment, enclave_key: EnclaveKeyHash) -> Self {
        Self { job, enclave_key }
    }

    /// The report data this binding expects.
    pub fn report_data(&self) -> ReportData {
        ReportData::bind(&self.job, &self.enclave_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_separates_jobs_and_keys() {
        let k1 = EnclaveKeyHash::of_public_key(b"key one");
        let k2 = EnclaveKeyHash::of_public_key(b"key two");
        let j1 = JobCommitment([1; 32]);
        let j2 = JobCommitment([2; 32]);
        let rd = ReportData::bind(&j1, &k1);
        assert!(bool::from(rd.ct_matches(&ReportData::bind(&j1, &k1).0)));
        assert!(!bool::from(rd.ct_matches(&ReportData::bind(&j2, &k1).0)));
        assert!(!bool::from(rd.ct_matches(&ReportData::bind(&j1, &k2).0)));
        // The key hash is domain separated from the report data hash.
        assert_ne!(k1.0, ReportData::bind(&j1, &k1).0);
    }

    #[test]
    fn job_commitment_names_chain_job_and_program() {
        let j = JobCommitment::for_job(&[1; 32], "job-1", &[2; 32]);
        assert_eq!(j, JobCommitment::for_job(&[1; 32], "job-1", &[2; 32]));
        assert_ne!(j, JobCommitment::for_job(&[3; 32], "job-1", &[2; 32]));
        assert_ne!(j, JobCommitment::for_job(&[1; 32], "job-2", &[2; 32]));
        assert_ne!(j, JobCommitment::for_job(&[1; 32], "job-1", &[4; 32]));
    }

    #[test]
    fn key_hash_length_prefix_separates_encodings() {
        assert_ne!(EnclaveKeyHash::of_public_key(b"ab"), EnclaveKeyHash::of_public_key(b"ab\0"));
    }
}
