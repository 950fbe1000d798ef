//! What a verifier accepts: pinned vendor roots, accepted TCB statuses, expected measurements.
//!
//! A new [`Policy`] accepts nothing: it pins no root, expects no measurement, and accepts only the
//! Intel TCB status `UpToDate`. Every relaxation is a named call, so a policy reads as the list
//! of exceptions its author decided to make. Debug enclaves, TDs and guests are always refused,
//! SEV-SNP reports must come from VMPL 0, and Intel's `Revoked` status can never be accepted.

use std::time::Duration;

use sev::certs::snp::{Certificate, Verifiable};

use crate::claims::{SnpTcb, TcbStatus};
use crate::error::{Result, TeeError};

/// An AMD EPYC product line; each has its own ARK/ASK chain.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AmdProduct {
    /// Third generation EPYC.
    Milan,
    /// Fourth generation EPYC.
    Genoa,
    /// Fifth generation EPYC.
    Turin,
}

impl AmdProduct {
    /// The product name as AMD writes it in certificates (`SEV-Milan`, VCEK product `Milan-B0`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Milan => "Milan",
            Self::Genoa => "Genoa",
            Self::Turin => "Turin",
        }
    }
}

/// A pinned AMD root (ARK) and signing key (ASK) for one product, checked when pinned.
#[derive(Clone, Debug)]
pub struct AmdRootChain {
    pub(crate) ask: Certificate,
    pub(crate) ark_validity: (u64, u64),
    pub(crate) ask_validity: (u64, u64),
}

impl AmdRootChain {
    /// Pins an ARK and ASK given in PEM, after checking that the ARK is self-signed and signs the
    /// ASK. The caller vouches for the ARK itself (compare it with AMD's published one).
    pub fn from_pem(ark_pem: &[u8], ask_pem: &[u8]) -> Result<Self> {
        let ark = Certificate::from_pem(ark_pem).map_err(|e| TeeError::malformed("ARK", e))?;
        let ask = Certificate::from_pem(ask_pem).map_err(|e| TeeError::malformed("ASK", e))?;
        Self::from_certs(ark, ask)
    }

    /// As [`from_pem`](Self::from_pem), from DER.
    pub fn from_der(ark_der: &[u8], ask_der: &[u8]) -> Result<Self> {
        let ark = Certificate::from_der(ark_der).map_err(|e| TeeError::malformed("ARK", e))?;
        let ask = Certificate::from_der(ask_der).map_err(|e| TeeError::malformed("ASK", e))?;
        Self::from_certs(ark, ask)
    }

    /// The ARK/ASK chain for `product` that ships inside the `sev` crate (AMD's public chains).
    pub fn builtin(product: AmdProduct) -> Result<Self> {
        use sev::certs::snp::builtin::{genoa, milan, turin};
        let (ark, ask) = match product {
            AmdProduct::Milan => (milan::ARK, milan::ASK),
            AmdProduct::Genoa => (genoa::ARK, genoa::ASK),
            AmdProduct::Turin => (turin::ARK, turin::ASK),
        };
        Self::from_pem(ark, ask)
    }

    fn from_certs(ark: Certificate, ask: Certificate) -> Result<Self> {
        (&ark, &ark)
            .verify()
            .map_err(|e| TeeError::SignatureInvalid(format!("ARK is not self-signed: {e}")))?;
        (&ark, &ask)
            .verify()
            .map_err(|e| TeeError::SignatureInvalid(format!("ARK does not sign ASK: {e}")))?;
        let ark_validity = crate::amd::validity(&x509_cert::Certificate::from(ark));
        let ask_validity = crate::amd::validity(&x509_cert::Certificate::from(ask.clone()));
        Ok(Self { ask, ark_validity, ask_validity })
    }
}

/// A named exception to the strict TCB rule: accept `status` when every advisory that applies
/// to the platform is one of `advisories` (which the policy's author reviewed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcbException {
    pub(crate) status: TcbStatus,
    pub(crate) advisories: Vec<String>,
}

impl TcbException {
    /// Accept `status` together with exactly these (or fewer) advisories.
    ///
    /// `Revoked` cannot be accepted: that is an [`TeeError::InvalidArgument`].
    pub fn new(status: TcbStatus, advisories: &[&str]) -> Result<Self> {
        if status == TcbStatus::Revoked {
            return Err(TeeError::InvalidArgument("a revoked TCB cannot be accepted"));
        }
        Ok(Self { status, advisories: advisories.iter().map(|a| a.to_ascii_uppercase()).collect() })
    }

    pub(crate) fn covers(&self, status: TcbStatus, advisories: &[String]) -> bool {
        self.status == status
            && advisories.iter().all(|a| self.advisories.contains(&a.to_ascii_uppercase()))
    }
}

/// An SGX enclave identity the policy expects.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SgxIdentity {
    /// Exactly this enclave build.
    Enclave {
        /// Expected MRENCLAVE.
        mr_enclave: [u8; 32],
    },
    /// Any enclave of this signer and product at or above a security version.
    Signer {
        /// Expected MRSIGNER.
        mr_signer: [u8; 32],
        /// Expected ISV product id.
        isv_prod_id: u16,
        /// Minimum ISV SVN.
        min_isv_svn: u16,
    },
}

/// A TDX trust domain identity the policy expects: MRTD and the four RTMRs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TdxIdentity {
    pub(crate) mr_td: [u8; 48],
    pub(crate) rtmrs: [Option<[u8; 48]>; 4],
}

impl TdxIdentity {
    /// Expect this MRTD and exactly these RTMR0..RTMR3.
    pub fn new(mr_td: [u8; 48], rtmrs: [[u8; 48]; 4]) -> Self {
        Self { mr_td, rtmrs: rtmrs.map(Some) }
    }

    /// Stop checking RTMR `index` (0..=3), e.g. RTMR3 when the TD extends it at run time.
    pub fn ignore_rtmr(mut self, index: usize) -> Result<Self> {
        let slot = self
            .rtmrs
            .get_mut(index)
            .ok_or(TeeError::InvalidArgument("RTMR index must be 0..=3"))?;
        *slot = None;
        Ok(self)
    }
}

/// An SEV-SNP guest identity the policy expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnpIdentity {
    /// Expected launch measurement.
    pub measurement: [u8; 48],
    /// Minimum reported TCB (compared component by component).
    pub min_tcb: SnpTcb,
}

/// The verifier's policy. See the module docs for what the defaults refuse.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub(crate) intel_root_der: Option<Vec<u8>>,
    pub(crate) amd_roots: Vec<(AmdProduct, AmdRootChain)>,
    pub(crate) tcb_exceptions: Vec<TcbException>,
    pub(crate) out_of_date_grace: Duration,
    pub(crate) allow_smt: bool,
    pub(crate) allow_dynamic_platform: bool,
    pub(crate) allow_cached_keys: bool,
    pub(crate) sgx: Vec<SgxIdentity>,
    pub(crate) tdx: Vec<TdxIdentity>,
    pub(crate) snp: Vec<SnpIdentity>,
    #[cfg(feature = "insecure-simulated")]
    pub(crate) insecure_simulated: Vec<[u8; 48]>,
}

impl Policy {
    /// A policy that accepts nothing until roots and measurements are added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Pins Intel's SGX root CA (DER). Quotes must chain to exactly this certificate.
    pub fn pin_intel_root(mut self, root_der: &[u8]) -> Self {
        self.intel_root_der = Some(root_der.to_vec());
        self
    }

    /// Pins the ARK/ASK chain for an AMD product, replacing any earlier pin for that product.
    pub fn pin_amd_roots(mut self, product: AmdProduct, chain: AmdRootChain) -> Self {
        self.amd_roots.retain(|(p, _)| *p != product);
        self.amd_roots.push((product, chain));
        self
    }

    /// Accepts an Intel TCB status other than `UpToDate`, with the advisories named.
    pub fn accept_tcb(mut self, exception: TcbException) -> Self {
        self.tcb_exceptions.push(exception);
        self
    }

    /// For accepted out-of-date statuses: how long after the TCB level's date it stays
    /// acceptable (Intel's grace period; default zero).
    pub fn out_of_date_grace(mut self, grace: Duration) -> Self {
        self.out_of_date_grace = grace;
        self
    }

    /// Accepts Intel platforms whose PCK certificate says SMT (hyper-threading) is enabled.
    pub fn allow_smt(mut self, allow: bool) -> Self {
        self.allow_smt = allow;
        self
    }

    /// Accepts Intel multi-package platforms whose PCK certificate says "dynamic platform"
    /// (packages may be added after registration).
    pub fn allow_dynamic_platform(mut self, allow: bool) -> Self {
        self.allow_dynamic_platform = allow;
        self
    }

    /// Accepts Intel multi-package platforms whose PCK certificate says "cached keys"
    /// (platform keys are kept by the registration service).
    pub fn allow_cached_keys(mut self, allow: bool) -> Self {
        self.allow_cached_keys = allow;
        self
    }

    /// Accepts SGX enclaves with this identity.
    pub fn expect_sgx(mut self, identity: SgxIdentity) -> Self {
        self.sgx.push(identity);
        self
    }

    /// Accepts TDX trust domains with this identity.
    pub fn expect_tdx(mut self, identity: TdxIdentity) -> Self {
        self.tdx.push(identity);
        self
    }

    /// Accepts SEV-SNP guests with this identity.
    pub fn expect_snp(mut self, identity: SnpIdentity) -> Self {
        self.snp.push(identity);
        self
    }

    /// Opts in to **insecure** simulated evidence that declares this measurement. Simulated
    /// evidence proves nothing; only development and test policies should call this.
    #[cfg(feature = "insecure-simulated")]
    pub fn allow_insecure_simulated(mut self, measurement: [u8; 48]) -> Self {
        self.insecure_simulated.push(measurement);
        self
    }

    pub(crate) fn amd_chain(&self, product: AmdProduct) -> Option<&AmdRootChain> {
        self.amd_roots.iter().find(|(p, _)| *p == product).map(|(_, c)| c)
    }

    /// Whether an Intel TCB verdict is accepted: `UpToDate`, or covered by a named exception.
    pub(crate) fn accepts_intel_tcb(&self, status: TcbStatus, advisories: &[String]) -> bool {
        status == TcbStatus::UpToDate
            || self.tcb_exceptions.iter().any(|e| e.covers(status, advisories))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_default_accepts_only_up_to_date() {
        let p = Policy::new();
        assert!(p.accepts_intel_tcb(TcbStatus::UpToDate, &[]));
        assert!(!p.accepts_intel_tcb(TcbStatus::SwHardeningNeeded, &[]));
        assert!(!p.accepts_intel_tcb(TcbStatus::OutOfDate, &[]));
    }

    #[test]
    fn exception_needs_every_advisory_named() {
        let p = Policy::new().accept_tcb(
            TcbException::new(TcbStatus::SwHardeningNeeded, &["INTEL-SA-00615"]).unwrap(),
        );
        let a = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(p.accepts_intel_tcb(TcbStatus::SwHardeningNeeded, &a(&["intel-sa-00615"])));
        assert!(!p.accepts_intel_tcb(
            TcbStatus::SwHardeningNeeded,
            &a(&["INTEL-SA-00615", "INTEL-SA-00289"])
        ));
        assert!(!p.accepts_intel_tcb(TcbStatus::ConfigurationNeeded, &a(&["INTEL-SA-00615"])));
    }

    #[test]
    fn revoked_cannot_be_accepted() {
        assert!(matches!(
            TcbException::new(TcbStatus::Revoked, &[]),
            Err(TeeError::InvalidArgument(_))
        ));
    }

    #[test]
    fn rtmr_index_is_checked() {
        let id = TdxIdentity::new([0; 48], [[0; 48]; 4]);
        assert!(id.clone().ignore_rtmr(3).is_ok());
        assert!(id.ignore_rtmr(4).is_err());
    }
}
