//! Evidence as it arrives from a prover: one variant per kind of TEE.

pub use crate::amd::SnpEvidence;
pub use crate::intel::DcapEvidence;

use crate::claims::Platform;

/// Attestation evidence of any supported kind.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub enum Evidence {
    /// An Intel SGX DCAP quote (version 3) with its collateral.
    Sgx(DcapEvidence),
    /// An Intel TDX DCAP quote (version 4 or 5) with its collateral.
    Tdx(DcapEvidence),
    /// An AMD SEV-SNP report with the chip's VCEK.
    SevSnp(SnpEvidence),
    /// Evidence from the simulated backend: **insecure**, anyone can forge it.
    #[cfg(feature = "insecure-simulated")]
    Simulated(crate::simulated::SimulatedEvidence),
}

impl Evidence {
    /// The platform this evidence claims to come from.
    pub fn platform(&self) -> Platform {
        match self {
            Self::Sgx(_) => Platform::IntelSgx,
            Self::Tdx(_) => Platform::IntelTdx,
            Self::SevSnp(_) => Platform::AmdSevSnp,
            #[cfg(feature = "insecure-simulated")]
            Self::Simulated(_) => Platform::Simulated,
        }
    }
}
