//! The crate's one error type.
//!
//! Failed checks (a signature, a policy rule, a binding) are named apart from malformed input and
//! from caller misuse, so a caller can log *which* rule refused a piece of evidence. None of these
//! messages is secret: attestation evidence and policies are public.

use crate::TcbStatus;

/// Why evidence was refused, or an operation could not run.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum TeeError {
    /// The evidence (quote, report, certificate, collateral or sealed blob) could not be decoded.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// Which input was malformed.
        what: &'static str,
        /// What the decoder said.
        reason: String,
    },
    /// Intel's DCAP verification (certificate chains to the pinned root, CRLs, collateral
    /// signatures and validity at the verification time, QE identity, quote signature, TCB level
    /// matching) rejected the quote. Carries `dcap-qvl`'s message.
    #[error("Intel DCAP verification failed: {0}")]
    DcapRejected(String),
    /// A signature did not verify: in the AMD chain (ARK, ASK, VCEK, report) or on simulated
    /// evidence.
    #[error("signature check failed: {0}")]
    SignatureInvalid(String),
    /// A certificate is not valid at the verification time the caller passed.
    #[error(
        "{cert} certificate is not valid at Unix time {time} (valid {not_before}..={not_after})"
    )]
    CertificateNotValidAt {
        /// Which certificate.
        cert: &'static str,
        /// The verification time (Unix seconds).
        time: u64,
        /// Its notBefore (Unix seconds).
        not_before: u64,
        /// Its notAfter (Unix seconds).
        not_after: u64,
    },
    /// The policy pins no root for this evidence (Intel, or this AMD product).
    #[error("no pinned root of trust for {0}")]
    NoPinnedRoot(&'static str),
    /// The evidence says it is one kind (SGX, TDX) but its content is another.
    #[error("evidence kind mismatch: expected {expected}, found {found}")]
    KindMismatch {
        /// What the evidence was presented as.
        expected: &'static str,
        /// What its content is.
        found: &'static str,
    },
    /// The platform's Intel TCB status (with its advisories) is not accepted by the policy.
    #[error("TCB status {status} with advisories {advisories:?} is not accepted by the policy")]
    TcbNotAccepted {
        /// The converged TCB status of the platform.
        status: TcbStatus,
        /// Intel security advisories that apply to it.
        advisories: Vec<String>,
    },
    /// The SEV-SNP report's TCB is below the policy's minimum.
    #[error("reported TCB {reported} is below the policy minimum {minimum}")]
    TcbBelowMinimum {
        /// The TCB in the report.
        reported: String,
        /// The minimum the policy asks for.
        minimum: String,
    },
    /// The SEV-SNP report does not match the VCEK that signed it (chip id, TCB or product).
    #[error("report does not match its VCEK: {0}")]
    VcekMismatch(&'static str),
    /// The measured identity (MRENCLAVE/MRSIGNER, MRTD/RTMRs, SNP measurement) is not one the
    /// policy expects.
    #[error("measurement is not one the policy expects")]
    UnexpectedMeasurement,
    /// The enclave, TD or guest runs in debug mode (its memory is readable by the host).
    #[error("debug enclave refused")]
    DebugRefused,
    /// The SEV-SNP report was requested from a VMPL other than 0.
    #[error("report comes from VMPL {0}; only VMPL 0 is accepted")]
    VmplNotZero(u32),
    /// Simulated evidence met a policy that does not opt in to insecure evidence.
    #[error("simulated (insecure) evidence refused: the policy does not opt in")]
    SimulatedRefused,
    /// The report data does not commit to the expected job and enclave key.
    #[error("report data does not bind the expected job and enclave key")]
    BindingMismatch,
    /// A sealed blob failed authentication (wrong measurement, wrong platform key, or tampered).
    #[error("sealed data could not be opened")]
    UnsealFailed,
    /// The operating system's random number generator failed.
    #[error("randomness unavailable: {0}")]
    Randomness(String),
    /// The caller passed an invalid argument or policy (caller bug, never caused by evidence).
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
}

/// The crate's result type.
pub type Result<T> = core::result::Result<T, TeeError>;

impl TeeError {
    pub(crate) fn malformed(what: &'static str, reason: impl core::fmt::Display) -> Self {
        Self::Malformed { what, reason: reason.to_string() }
    }
}
