//! **INSECURE** simulated enclave, for development and tests on machines without TEE hardware.
//!
//! # It protects nothing
//!
//! The "enclave" is ordinary code in the caller's process. Its evidence is signed with a
//! *development key that is public* (derived from a constant in this file), so anyone can forge
//! evidence for any measurement and any job; its "measurement" is whatever the caller declares;
//! its sealing key is derived from a secret held in ordinary memory. It exists so the rest of
//! Tessera can run the attestation flow end to end, and for nothing else.
//!
//! To keep it from being mistaken for a real backend: it is compiled only with the
//! `insecure-simulated` feature; a [`Verifier`](crate::Verifier) accepts its evidence only if the
//! policy opted in with [`Policy::allow_insecure_simulated`](crate::Policy::allow_insecure_simulated);
//! and the resulting claims always carry [`Assurance::Insecure`].
//!
//! Sealing follows the shape of SGX sealing to `MRENCLAVE`: an AES-256-GCM key derived with
//! HKDF-SHA-256 (RFC 5869) from the platform secret, with the measurement as `info`, so another
//! measurement, or the same measurement on another (simulated) platform, cannot open the blob.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use hkdf::Hkdf;
use p256::ecdsa::signature::{Signer, Verifier as _};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::backend::TeeBackend;
use crate::binding::{EnclaveKeyHash, JobCommitment, ReportData};
use crate::claims::{Assurance, Claims, Measurement, Platform, TcbClaim, VerificationTime};
use crate::error::{Result, TeeError};
use crate::evidence::Evidence;
use crate::policy::Policy;

/// Every simulated evidence blob starts with these bytes, so it cannot pass for anything else.
const MAGIC: &[u8; 32] = b"TESSERA-SIMULATED-INSECURE-TEE/1";
/// Seed of the public development signing key (public on purpose: this proves nothing).
const DEV_KEY_SEED: &[u8] = b"tessera/tee/v1/simulated/PUBLIC-DEVELOPMENT-KEY-NOT-A-SECRET";
const SEAL_SALT: &[u8] = b"tessera/tee/v1/simulated/seal";
const SEAL_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Length of encoded [`SimulatedEvidence`].
pub const SIMULATED_EVIDENCE_LEN: usize = 32 + 48 + 64 + 64;

fn dev_signing_key() -> Result<SigningKey> {
    let seed: [u8; 32] = Sha256::digest(DEV_KEY_SEED).into();
    SigningKey::from_slice(&seed).map_err(|_| TeeError::InvalidArgument("development key seed"))
}

/// The public development key that "signs" simulated evidence, in SEC1 form.
pub fn development_public_key() -> Result<Vec<u8>> {
    Ok(dev_signing_key()?.verifying_key().to_sec1_bytes().to_vec())
}

fn random_bytes<const N: usize>() -> Result<Zeroizing<[u8; N]>> {
    let mut out = Zeroizing::new([0u8; N]);
    getrandom::fill(out.as_mut()).map_err(|e| TeeError::Randomness(e.to_string()))?;
    Ok(out)
}

/// Simulated evidence: a declared measurement and report data, signed with the public
/// development key. **Anyone can produce it.**
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimulatedEvidence {
    measurement: [u8; 48],
    report_data: [u8; 64],
    signature: [u8; 64],
}

impl SimulatedEvidence {
    fn signed_bytes(measurement: &[u8; 48], report_data: &[u8; 64]) -> Vec<u8> {
        [MAGIC.as_slice(), measurement, report_data].concat()
    }

    /// The encoding: magic, measurement, report data, signature.
    pub fn to_bytes(&self) -> Vec<u8> {
        [MAGIC.as_slice(), &self.measurement, &self.report_data, &self.signature].concat()
    }

    /// Decodes [`to_bytes`](Self::to_bytes) output (the signature is checked by the verifier).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bad = |why| TeeError::malformed("simulated evidence", why);
        let (magic, rest) = bytes.split_first_chunk::<32>().ok_or(bad("too short"))?;
        if magic != MAGIC {
            return Err(bad("wrong magic"));
        }
        let (measurement, rest) = rest.split_first_chunk::<48>().ok_or(bad("too short"))?;
        let (report_data, rest) = rest.split_first_chunk::<64>().ok_or(bad("too short"))?;
        let signature: &[u8; 64] = rest.try_into().map_err(|_| bad("wrong length"))?;
        Ok(Self { measurement: *measurement, report_data: *report_data, signature: *signature })
    }

    /// The measurement the simulated enclave declared.
    pub fn measurement(&self) -> &[u8; 48] {
        &self.measurement
    }

    /// The report data (the job binding).
    pub fn report_data(&self) -> &[u8; 64] {
        &self.report_data
    }
}

/// Appraises simulated evidence: refused unless the policy opted in to this measurement.
pub(crate) fn verify(
    evidence: &SimulatedEvidence,
    policy: &Policy,
    now: VerificationTime,
) -> Result<Claims> {
    if policy.insecure_simulated.is_empty() {
        return Err(TeeError::SimulatedRefused);
    }
    let key = VerifyingKey::from_sec1_bytes(&development_public_key()?)
        .map_err(|_| TeeError::InvalidArgument("development key"))?;
    let signature = Signature::from_slice(&evidence.signature)
        .map_err(|e| TeeError::SignatureInvalid(format!("simulated evidence: {e}")))?;
    key.verify(
        &SimulatedEvidence::signed_bytes(&evidence.measurement, &evidence.report_data),
        &signature,
    )
    .map_err(|e| TeeError::SignatureInvalid(format!("simulated evidence: {e}")))?;
    if !policy.insecure_simulated.contains(&evidence.measurement) {
        return Err(TeeError::UnexpectedMeasurement);
    }
    Ok(Claims {
        platform: Platform::Simulated,
        assurance: Assurance::Insecure,
        measurement: Measurement::Simulated { measurement: evidence.measurement },
        tcb: TcbClaim::None,
        report_data: evidence.report_data,
        binding: None,
        verified_at: now,
    })
}

/// An in-process "enclave" with a declared measurement. **It protects nothing** (module docs).
pub struct SimulatedEnclave {
    measurement: [u8; 48],
    platform_secret: Zeroizing<[u8; 32]>,
    enclave_key: SigningKey,
}

impl core::fmt::Debug for SimulatedEnclave {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SimulatedEnclave")
            .field("measurement", &self.measurement)
            .finish_non_exhaustive()
    }
}

impl SimulatedEnclave {
    /// A simulated enclave on a fresh simulated platform (random sealing secret and enclave key).
    pub fn new(measurement: [u8; 48]) -> Result<Self> {
        Self::on_platform(measurement, *random_bytes::<32>()?)
    }

    /// A simulated enclave on the simulated platform identified by `platform_secret`: enclaves
    /// given the same secret and measurement can unseal each other's data (a "restart").
    pub fn on_platform(measurement: [u8; 48], platform_secret: [u8; 32]) -> Result<Self> {
        let enclave_key = loop {
            // A uniformly random 32-byte string is a valid P-256 scalar with overwhelming odds.
            if let Ok(key) = SigningKey::from_slice(random_bytes::<32>()?.as_ref()) {
                break key;
            }
        };
        Ok(Self { measurement, platform_secret: Zeroizing::new(platform_secret), enclave_key })
    }

    /// The measurement this enclave declares.
    pub fn measurement(&self) -> &[u8; 48] {
        &self.measurement
    }

    fn sealing_cipher(&self) -> Result<Aes256Gcm> {
        let hk = Hkdf::<Sha256>::new(Some(SEAL_SALT), self.platform_secret.as_ref());
        let mut key = Zeroizing::new([0u8; 32]);
        hk.expand(&self.measurement, key.as_mut())
            .map_err(|_| TeeError::InvalidArgument("HKDF output length"))?;
        Aes256Gcm::new_from_slice(key.as_ref())
            .map_err(|_| TeeError::InvalidArgument("AES-256 key length"))
    }
}

impl TeeBackend for SimulatedEnclave {
    fn platform(&self) -> Platform {
        Platform::Simulated
    }

    fn enclave_public_key(&self) -> Vec<u8> {
        self.enclave_key.verifying_key().to_sec1_bytes().to_vec()
    }

    fn attest(&self, job: &JobCommitment) -> Result<Evidence> {
        let key_hash = EnclaveKeyHash::of_public_key(&self.enclave_public_key());
        let report_data = ReportData::bind(job, &key_hash).0;
        let signature: Signature = dev_signing_key()?
            .sign(&SimulatedEvidence::signed_bytes(&self.measurement, &report_data));
        Ok(Evidence::Simulated(SimulatedEvidence {
            measurement: self.measurement,
            report_data,
            signature: signature.to_bytes().into(),
        }))
    }

    fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let nonce = random_bytes::<NONCE_LEN>()?;
        let ciphertext = self
            .sealing_cipher()?
            .encrypt((&*nonce).into(), Payload { msg: plaintext, aad })
            .map_err(|_| TeeError::InvalidArgument("plaintext too long to seal"))?;
        Ok([&[SEAL_VERSION], nonce.as_slice(), &ciphertext].concat())
    }

    fn unseal(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let (version, rest) = sealed.split_first().ok_or(TeeError::UnsealFailed)?;
        if *version != SEAL_VERSION || rest.len() < NONCE_LEN + TAG_LEN {
            return Err(TeeError::UnsealFailed);
        }
        let (nonce, ciphertext) =
            rest.split_first_chunk::<NONCE_LEN>().ok_or(TeeError::UnsealFailed)?;
        self.sealing_cipher()?
            .decrypt(nonce.into(), Payload { msg: ciphertext, aad })
            .map(Zeroizing::new)
            .map_err(|_| TeeError::UnsealFailed)
    }
}
