//! Intel SGX and TDX: DCAP quotes verified with `dcap-qvl`, then appraised against the policy.
//!
//! `dcap-qvl` (pure Rust, RustCrypto backend) checks the quote's and collateral's signatures up
//! to the pinned Intel root, the CRLs, the validity of every certificate and of the TCB info and
//! QE identity at the caller's time, the quoting enclave's identity and the TCB level, following
//! Intel's DCAP quote verification library (QVL). The glue here adds what a Tessera policy asks:
//! the TCB status through named exceptions, the expected measurements, and a refusal of debug
//! enclaves and TDs that does not depend on the library's own flag.

use dcap_qvl::configs::RustCryptoConfig;
use dcap_qvl::quote::{EnclaveReport, Report, TDReport10};
use dcap_qvl::verify::QuoteVerifier;
use dcap_qvl::{Policy as _, QuoteCollateralV3, QuotePolicy};

use crate::claims::{
    Assurance, Claims, Measurement, Platform, TcbClaim, TcbStatus, VerificationTime,
};
use crate::error::{Result, TeeError};
use crate::policy::{Policy, SgxIdentity};

/// Largest quote accepted (real quotes are about 5 KiB).
const MAX_QUOTE_LEN: usize = 64 * 1024;
/// Largest collateral JSON accepted (real collateral is 14 to 25 KiB).
const MAX_COLLATERAL_LEN: usize = 1024 * 1024;

/// A DCAP quote (SGX or TDX) with the collateral needed to verify it offline.
#[derive(Clone, Debug)]
pub struct DcapEvidence {
    quote: Vec<u8>,
    collateral: QuoteCollateralV3,
}

impl DcapEvidence {
    /// Wraps a raw quote and its collateral in the JSON form Intel's PCCS and `dcap-qvl` use.
    /// Only sizes and the JSON shape are checked here; the verifier checks everything else.
    pub fn new(quote: Vec<u8>, collateral_json: &[u8]) -> Result<Self> {
        if quote.len() > MAX_QUOTE_LEN {
            return Err(TeeError::malformed("DCAP quote", "longer than 64 KiB"));
        }
        if collateral_json.len() > MAX_COLLATERAL_LEN {
            return Err(TeeError::malformed("DCAP collateral", "longer than 1 MiB"));
        }
        let collateral = serde_json::from_slice(collateral_json)
            .map_err(|e| TeeError::malformed("DCAP collateral", e))?;
        Ok(Self { quote, collateral })
    }

    /// The raw quote bytes.
    pub fn quote(&self) -> &[u8] {
        &self.quote
    }

    /// The collateral in its JSON form (as accepted by [`new`](Self::new)).
    pub fn collateral_json(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(&self.collateral).map_err(|e| TeeError::malformed("DCAP collateral", e))
    }
}

const TEE_TYPE_SGX: u32 = 0x0000_0000;
const TEE_TYPE_TDX: u32 = 0x0000_0081;

fn tee_type_name(tee_type: u32) -> &'static str {
    match tee_type {
        TEE_TYPE_SGX => Platform::IntelSgx.name(),
        TEE_TYPE_TDX => Platform::IntelTdx.name(),
        _ => "unknown TEE type",
    }
}

pub(crate) fn map_status(status: dcap_qvl::TcbStatus) -> TcbStatus {
    use dcap_qvl::TcbStatus as D;
    match status {
        D::UpToDate => TcbStatus::UpToDate,
        D::SWHardeningNeeded => TcbStatus::SwHardeningNeeded,
        D::ConfigurationNeeded => TcbStatus::ConfigurationNeeded,
        D::ConfigurationAndSWHardeningNeeded => TcbStatus::ConfigurationAndSwHardeningNeeded,
        D::OutOfDate => TcbStatus::OutOfDate,
        D::OutOfDateConfigurationNeeded => TcbStatus::OutOfDateConfigurationNeeded,
        D::TDRelaunchAdvised => TcbStatus::TdRelaunchAdvised,
        D::TDRelaunchAdvisedConfigurationNeeded => TcbStatus::TdRelaunchAdvisedConfigurationNeeded,
        D::Revoked => TcbStatus::Revoked,
    }
}

/// Verifies a DCAP quote presented as `platform` (SGX or TDX) and appraises it.
pub(crate) fn verify(
    evidence: &DcapEvidence,
    platform: Platform,
    policy: &Policy,
    now: VerificationTime,
) -> Result<Claims> {
    let root = policy.intel_root_der.as_ref().ok_or(TeeError::NoPinnedRoot("Intel"))?;
    let now_secs = now.unix_secs();
    let verifier = QuoteVerifier::<RustCryptoConfig>::new_with_config(root.clone());
    // Cryptographic verification only; appraisal follows, in our order and with our errors.
    let claims = verifier
        .verify_with_policy(
            &evidence.quote,
            &evidence.collateral,
            now_secs,
            &QuotePolicy::claims_only(now_secs),
        )
        .map_err(|e| TeeError::DcapRejected(format!("{e:#}")))?;

    let expected_type = match platform {
        Platform::IntelSgx => TEE_TYPE_SGX,
        _ => TEE_TYPE_TDX,
    };
    if claims.tee_type != expected_type {
        return Err(TeeError::KindMismatch {
            expected: platform.name(),
            found: tee_type_name(claims.tee_type),
        });
    }

    let status = map_status(claims.tcb.status);
    if !policy.accepts_intel_tcb(status, &claims.tcb.advisory_ids) {
        return Err(TeeError::TcbNotAccepted {
            status,
            advisories: claims.tcb.advisory_ids.clone(),
        });
    }
    // The rest of Intel's appraisal for the status just accepted: collateral expiry at `now`,
    // the grace period of out-of-date levels, and the PCK certificate's platform flags.
    QuotePolicy::strict(now_secs)
        .allow_status(claims.tcb.status)
        .platform_grace_period(policy.out_of_date_grace)
        .allow_smt(policy.allow_smt)
        .allow_dynamic_platform(policy.allow_dynamic_platform)
        .allow_cached_keys(policy.allow_cached_keys)
        .validate(&claims)
        .map_err(|e| TeeError::DcapRejected(format!("{e:#}")))?;

    let (measurement, report_data) = match &claims.report {
        Report::SgxEnclave(report) => (appraise_sgx(report, policy)?, report.report_data),
        report => {
            let td = report.as_td10().ok_or(TeeError::KindMismatch {
                expected: platform.name(),
                found: tee_type_name(claims.tee_type),
            })?;
            (appraise_td(td, policy)?, td.report_data)
        }
    };
    Ok(Claims {
        platform,
        assurance: Assurance::Hardware,
        measurement,
        tcb: TcbClaim::Intel { status, advisory_ids: claims.tcb.advisory_ids },
        report_data,
        binding: None,
        verified_at: now,
    })
}

/// SGX `ATTRIBUTES.DEBUG` (bit 1): the enclave's memory is readable by a debugger.
const SGX_ATTRIBUTE_DEBUG: u8 = 0x02;

/// Refuses debug enclaves and matches the enclave identity against the policy.
pub(crate) fn appraise_sgx(report: &EnclaveReport, policy: &Policy) -> Result<Measurement> {
    if report.attributes[0] & SGX_ATTRIBUTE_DEBUG != 0 {
        return Err(TeeError::DebugRefused);
    }
    let expected = policy.sgx.iter().any(|id| match id {
        SgxIdentity::Enclave { mr_enclave } => *mr_enclave == report.mr_enclave,
        SgxIdentity::Signer { mr_signer, isv_prod_id, min_isv_svn } => {
            *mr_signer == report.mr_signer
                && *isv_prod_id == report.isv_prod_id
                && report.isv_svn >= *min_isv_svn
        }
    });
    if !expected {
        return Err(TeeError::UnexpectedMeasurement);
    }
    Ok(Measurement::Sgx {
        mr_enclave: report.mr_enclave,
        mr_signer: report.mr_signer,
        isv_prod_id: report.isv_prod_id,
        isv_svn: report.isv_svn,
    })
}

/// Refuses TDs with any TD-under-debug bit (TDX module ABI, `TDATTRIBUTES.TUD`, bits 7:0) and
/// matches MRTD and the RTMRs against the policy.
pub(crate) fn appraise_td(report: &TDReport10, policy: &Policy) -> Result<Measurement> {
    if report.td_attributes[0] != 0 {
        return Err(TeeError::DebugRefused);
    }
    let rtmrs = [report.rt_mr0, report.rt_mr1, report.rt_mr2, report.rt_mr3];
    let expected = policy.tdx.iter().any(|id| {
        id.mr_td == report.mr_td
            && id.rtmrs.iter().zip(&rtmrs).all(|(want, got)| want.is_none_or(|w| w == *got))
    });
    if !expected {
        return Err(TeeError::UnexpectedMeasurement);
    }
    Ok(Measurement::Tdx {
        mr_td: report.mr_td,
        rtmrs,
        mr_config_id: report.mr_config_id,
        mr_owner: report.mr_owner,
        mr_owner_config: report.mr_owner_config,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::TdxIdentity;

    fn sgx_report() -> EnclaveReport {
        EnclaveReport {
            cpu_svn: [0; 16],
            misc_select: 0,
            reserved1: [0; 28],
            attributes: [0x05, 0, 0, 0, 0, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0],
            mr_enclave: [0x11; 32],
            reserved2: [0; 32],
            mr_signer: [0x22; 32],
            reserved3: [0; 96],
            isv_prod_id: 7,
            isv_svn: 3,
            reserved4: [0; 60],
            report_data: [0; 64],
        }
    }

    #[test]
    fn sgx_debug_enclave_is_refused_even_when_expected() {
        let policy = Policy::new().expect_sgx(SgxIdentity::Enclave { mr_enclave: [0x11; 32] });
        assert!(appraise_sgx(&sgx_report(), &policy).is_ok());
        let mut debug = sgx_report();
        debug.attributes[0] |= SGX_ATTRIBUTE_DEBUG;
        assert!(matches!(appraise_sgx(&debug, &policy), Err(TeeError::DebugRefused)));
    }

    #[test]
    fn sgx_signer_identity_checks_product_and_svn() {
        let signer = |isv_prod_id, min_isv_svn| {
            Policy::new().expect_sgx(SgxIdentity::Signer {
                mr_signer: [0x22; 32],
                isv_prod_id,
                min_isv_svn,
            })
        };
        assert!(appraise_sgx(&sgx_report(), &signer(7, 3)).is_ok());
        assert!(appraise_sgx(&sgx_report(), &signer(7, 4)).is_err());
        assert!(appraise_sgx(&sgx_report(), &signer(8, 0)).is_err());
        assert!(appraise_sgx(&sgx_report(), &Policy::new()).is_err());
    }

    fn td_report() -> TDReport10 {
        TDReport10 {
            tee_tcb_svn: [0; 16],
            mr_seam: [0; 48],
            mr_signer_seam: [0; 48],
            seam_attributes: [0; 8],
            td_attributes: [0, 0, 0, 0x10, 0, 0, 0, 0],
            xfam: [0; 8],
            mr_td: [0x33; 48],
            mr_config_id: [0; 48],
            mr_owner: [0; 48],
            mr_owner_config: [0; 48],
            rt_mr0: [0x40; 48],
            rt_mr1: [0x41; 48],
            rt_mr2: [0x42; 48],
            rt_mr3: [0x43; 48],
            report_data: [0; 64],
        }
    }

    #[test]
    fn td_debug_is_refused_and_rtmrs_are_matched() {
        let id = TdxIdentity::new([0x33; 48], [[0x40; 48], [0x41; 48], [0x42; 48], [0x43; 48]]);
        let policy = Policy::new().expect_tdx(id.clone());
        assert!(appraise_td(&td_report(), &policy).is_ok());

        let mut debug = td_report();
        debug.td_attributes[0] = 0x01;
        assert!(matches!(appraise_td(&debug, &policy), Err(TeeError::DebugRefused)));

        let mut other_rtmr3 = td_report();
        other_rtmr3.rt_mr3[0] ^= 1;
        assert!(matches!(appraise_td(&other_rtmr3, &policy), Err(TeeError::UnexpectedMeasurement)));
        let relaxed = Policy::new().expect_tdx(id.ignore_rtmr(3).unwrap());
        assert!(appraise_td(&other_rtmr3, &relaxed).is_ok());
    }
}
