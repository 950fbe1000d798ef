//! What a verifier concludes from evidence: a set of typed claims.
//!
//! Claims are only produced after every check of the policy passed, so holding a [`Claims`] means
//! "this evidence was appraised and accepted at `verified_at`". Simulated evidence yields claims
//! whose [`Assurance`] is [`Assurance::Insecure`]; code that acts on claims must look at it.

use crate::binding::Binding;

/// The moment at which evidence is appraised, always given by the caller (Unix seconds).
///
/// Collateral and certificates expire, so the same evidence is valid at one time and refused at
/// another; the library never reads the clock itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VerificationTime(u64);

impl VerificationTime {
    /// A verification time in seconds since the Unix epoch.
    pub const fn from_unix_secs(secs: u64) -> Self {
        Self(secs)
    }

    /// Seconds since the Unix epoch.
    pub const fn unix_secs(self) -> u64 {
        self.0
    }
}

/// The kind of trusted execution environment the evidence comes from.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Platform {
    /// An Intel SGX enclave (DCAP quote, version 3).
    IntelSgx,
    /// An Intel TDX trust domain (DCAP quote, version 4 or 5).
    IntelTdx,
    /// An AMD SEV-SNP guest.
    AmdSevSnp,
    /// The in-process simulated enclave: no hardware, no protection.
    Simulated,
}

impl Platform {
    /// A short name for messages.
    pub const fn name(self) -> &'static str {
        match self {
            Self::IntelSgx => "Intel SGX",
            Self::IntelTdx => "Intel TDX",
            Self::AmdSevSnp => "AMD SEV-SNP",
            Self::Simulated => "simulated",
        }
    }
}

/// How much the claims can be trusted.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Assurance {
    /// Signed by vendor hardware whose keys chain to a pinned vendor root.
    Hardware,
    /// Produced by the simulated backend: anyone can forge it; it protects nothing.
    Insecure,
}

/// Intel's TCB status for a platform (as converged by Intel's QVL rules).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TcbStatus {
    /// Fully patched.
    UpToDate,
    /// Patched, but the enclave software needs hardening against known issues.
    SwHardeningNeeded,
    /// Patched, but the platform configuration needs changes (e.g. disable hyper-threading).
    ConfigurationNeeded,
    /// Both of the above.
    ConfigurationAndSwHardeningNeeded,
    /// The platform misses security updates.
    OutOfDate,
    /// Out of date and needs configuration changes.
    OutOfDateConfigurationNeeded,
    /// TDX 1.5: launched on an out-of-date TCB, the current TCB is fine; relaunch advised.
    TdRelaunchAdvised,
    /// TDX 1.5: relaunch advised and configuration needed.
    TdRelaunchAdvisedConfigurationNeeded,
    /// The platform's keys are revoked. Never accepted.
    Revoked,
}

impl core::fmt::Display for TcbStatus {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self, f)
    }
}

/// Security version numbers of an SEV-SNP platform (the `TCB_VERSION` structure).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SnpTcb {
    /// SVN of the PSP bootloader.
    pub bootloader: u8,
    /// SVN of the PSP operating system.
    pub tee: u8,
    /// SVN of the SNP firmware.
    pub snp: u8,
    /// Lowest microcode patch level of all cores.
    pub microcode: u8,
    /// SVN of the FMC firmware (Turin and later only).
    pub fmc: Option<u8>,
}

impl SnpTcb {
    /// Whether every component is at least the one in `minimum` (a missing FMC counts as 0).
    pub fn meets(&self, minimum: &SnpTcb) -> bool {
        self.bootloader >= minimum.bootloader
            && self.tee >= minimum.tee
            && self.snp >= minimum.snp
            && self.microcode >= minimum.microcode
            && self.fmc.unwrap_or(0) >= minimum.fmc.unwrap_or(0)
    }
}

impl core::fmt::Display for SnpTcb {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "bl={} tee={} snp={} ucode={}",
            self.bootloader, self.tee, self.snp, self.microcode
        )?;
        if let Some(fmc) = self.fmc {
            write!(f, " fmc={fmc}")?;
        }
        Ok(())
    }
}

/// The measured identity of the code that produced the evidence.
#[allow(
    clippy::large_enum_variant,
    reason = "built once per verification; boxing the TDX registers would only add a pointer"
)]
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Measurement {
    /// An SGX enclave's identity.
    Sgx {
        /// Hash of the enclave's initial contents (MRENCLAVE).
        mr_enclave: [u8; 32],
        /// Hash of the key that signed the enclave (MRSIGNER).
        mr_signer: [u8; 32],
        /// The signer's product id for this enclave.
        isv_prod_id: u16,
        /// The enclave's security version number.
        isv_svn: u16,
    },
    /// A TDX trust domain's identity.
    Tdx {
        /// Measurement of the initial TD contents (MRTD).
        mr_td: [u8; 48],
        /// Run-time extendable measurement registers RTMR0..RTMR3.
        rtmrs: [[u8; 48]; 4],
        /// Software-defined configuration id (MRCONFIGID).
        mr_config_id: [u8; 48],
        /// Software-defined owner id (MROWNER).
        mr_owner: [u8; 48],
        /// Software-defined owner configuration (MROWNERCONFIG).
        mr_owner_config: [u8; 48],
    },
    /// An SEV-SNP guest's identity.
    Snp {
        /// The launch measurement.
        measurement: [u8; 48],
        /// Data the hypervisor supplied at launch.
        host_data: [u8; 32],
        /// The guest's security version number.
        guest_svn: u32,
        /// The guest policy bits set at launch.
        guest_policy: u64,
    },
    /// The simulated enclave's declared (not measured!) identity.
    Simulated {
        /// The measurement the simulated enclave claims for itself.
        measurement: [u8; 48],
    },
}

/// The platform's security level, as judged by its vendor's rules.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TcbClaim {
    /// Intel's converged TCB status and the advisories that apply.
    Intel {
        /// The status the policy accepted.
        status: TcbStatus,
        /// Intel security advisory ids (e.g. `INTEL-SA-00615`).
        advisory_ids: Vec<String>,
    },
    /// The SEV-SNP TCB the VCEK was derived from, and the chip it belongs to.
    AmdSnp {
        /// The reported TCB (checked against the VCEK and the policy minimum).
        reported: SnpTcb,
        /// The chip's unique id (checked against the VCEK).
        chip_id: [u8; 64],
    },
    /// No platform at all: simulated.
    None,
}

/// Everything a verifier established about one piece of evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    /// Which TEE produced it.
    pub platform: Platform,
    /// Whether it is backed by hardware; `Insecure` for simulated evidence.
    pub assurance: Assurance,
    /// The measured identity, matched against the policy.
    pub measurement: Measurement,
    /// The platform TCB, accepted by the policy.
    pub tcb: TcbClaim,
    /// The 64 signed bytes the enclave chose to report.
    pub report_data: [u8; 64],
    /// The job and key the report data was checked to commit to, if a binding was checked.
    pub binding: Option<Binding>,
    /// The time at which the evidence was appraised.
    pub verified_at: VerificationTime,
}

impl Claims {
    /// True when the claims come from simulated evidence and prove nothing.
    pub fn is_insecure(&self) -> bool {
        self.assurance == Assurance::Insecure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snp_tcb_minimum_is_componentwise() {
        let min = SnpTcb { bootloader: 3, tee: 0, snp: 8, microcode: 115, fmc: None };
        let mut t = min;
        assert!(t.meets(&min));
        t.snp = 7;
        assert!(!t.meets(&min));
        t.snp = 20;
        t.microcode = 114;
        assert!(!t.meets(&min));
        let fmc_min = SnpTcb { fmc: Some(1), ..min };
        assert!(!min.meets(&fmc_min));
    }
}
