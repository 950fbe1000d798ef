//! AMD SEV-SNP: an attestation report with the chip's VCEK, checked against pinned ARK/ASK roots.
//!
//! `sev` parses the report and checks the RSA-PSS signatures ASK → VCEK and the ECDSA P-384
//! report signature (pure Rust, `crypto_nossl`). What it lacks is written here, following AMD's
//! "Versioned Chip Endorsement Key (VCEK) Certificate and KDS Interface Specification" (57230)
//! and the SEV-SNP ABI specification (56860, `ATTESTATION_REPORT`): certificate validity at the
//! caller's time; the VCEK's extensions (product name, `hwID`, TCB SPLs) against the report's
//! chip id and reported TCB, so a VCEK for another chip or TCB cannot vouch for it; and the
//! policy (VMPL 0, no debug, expected measurement, minimum TCB).

use sev::certs::snp::{Certificate, Verifiable};
use sev::firmware::guest::AttestationReport;
use sev::firmware::host::TcbVersion;
use sev::parser::ByteParser;
use x509_cert::der::Decode;
use x509_cert::der::asn1::{Ia5StringRef, ObjectIdentifier, OctetStringRef};

use crate::claims::{Assurance, Claims, Measurement, Platform, SnpTcb, TcbClaim, VerificationTime};
use crate::error::{Result, TeeError};
use crate::policy::{AmdProduct, Policy};

/// Length of an SEV-SNP attestation report.
pub const SNP_REPORT_LEN: usize = 1184;
/// Largest VCEK certificate accepted (real ones are about 1.4 KiB).
const MAX_VCEK_LEN: usize = 16 * 1024;
/// Signature algorithm 1: ECDSA P-384 with SHA-384 (the only one defined).
const SIG_ALGO_ECDSA_P384_SHA384: u32 = 1;

const OID_PRODUCT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3704.1.2");
const OID_BL_SPL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3704.1.3.1");
const OID_TEE_SPL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3704.1.3.2");
const OID_SNP_SPL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3704.1.3.3");
const OID_UCODE_SPL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3704.1.3.8");
const OID_FMC_SPL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3704.1.3.9");
const OID_HW_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3704.1.4");

/// An SEV-SNP attestation report with the VCEK certificate of the chip that signed it.
#[derive(Clone, Debug)]
pub struct SnpEvidence {
    report: Vec<u8>,
    vcek_der: Vec<u8>,
    product: AmdProduct,
}

impl SnpEvidence {
    /// Wraps a raw report (1184 bytes), the chip's VCEK (DER) and the product whose pinned
    /// ARK/ASK must have issued the VCEK.
    pub fn new(report: Vec<u8>, vcek_der: Vec<u8>, product: AmdProduct) -> Result<Self> {
        if report.len() != SNP_REPORT_LEN {
            return Err(TeeError::malformed("SEV-SNP report", "length is not 1184 bytes"));
        }
        if vcek_der.len() > MAX_VCEK_LEN {
            return Err(TeeError::malformed("VCEK", "longer than 16 KiB"));
        }
        Ok(Self { report, vcek_der, product })
    }

    /// The raw report bytes.
    pub fn report(&self) -> &[u8] {
        &self.report
    }

    /// The VCEK certificate (DER).
    pub fn vcek_der(&self) -> &[u8] {
        &self.vcek_der
    }

    /// The product the evidence claims to come from.
    pub fn product(&self) -> AmdProduct {
        self.product
    }
}

/// `notBefore` and `notAfter` of a certificate, in Unix seconds.
pub(crate) fn validity(cert: &x509_cert::Certificate) -> (u64, u64) {
    let v = &cert.tbs_certificate.validity;
    (v.not_before.to_unix_duration().as_secs(), v.not_after.to_unix_duration().as_secs())
}

fn check_validity(cert: &'static str, (not_before, not_after): (u64, u64), now: u64) -> Result<()> {
    if now < not_before || now > not_after {
        return Err(TeeError::CertificateNotValidAt { cert, time: now, not_before, not_after });
    }
    Ok(())
}

/// The AMD extensions of a VCEK that tie it to one chip, TCB and product.
struct VcekIdentity {
    product_name: String,
    hw_id: Vec<u8>,
    tcb: SnpTcb,
}

fn extension(cert: &x509_cert::Certificate, oid: ObjectIdentifier) -> Option<&[u8]> {
    cert.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == oid)
        .map(|e| e.extn_value.as_bytes())
}

fn spl(cert: &x509_cert::Certificate, oid: ObjectIdentifier, name: &'static str) -> Result<u8> {
    let raw = extension(cert, oid).ok_or(TeeError::malformed("VCEK", name))?;
    u8::from_der(raw).map_err(|e| TeeError::malformed("VCEK", format!("{name}: {e}")))
}

fn vcek_identity(cert: &x509_cert::Certificate) -> Result<VcekIdentity> {
    let name_raw = extension(cert, OID_PRODUCT_NAME)
        .ok_or(TeeError::malformed("VCEK", "no productName extension"))?;
    let product_name = Ia5StringRef::from_der(name_raw)
        .map_err(|e| TeeError::malformed("VCEK", format!("productName: {e}")))?
        .to_string();
    // hwID is the raw chip id in some VCEKs and a DER OCTET STRING around it in others.
    let hw_raw =
        extension(cert, OID_HW_ID).ok_or(TeeError::malformed("VCEK", "no hwID extension"))?;
    let hw_id = match OctetStringRef::from_der(hw_raw) {
        Ok(inner) => inner.as_bytes().to_vec(),
        Err(_) => hw_raw.to_vec(),
    };
    let fmc = match extension(cert, OID_FMC_SPL) {
        Some(_) => Some(spl(cert, OID_FMC_SPL, "fmcSPL")?),
        None => None,
    };
    Ok(VcekIdentity {
        product_name,
        hw_id,
        tcb: SnpTcb {
            bootloader: spl(cert, OID_BL_SPL, "blSPL")?,
            tee: spl(cert, OID_TEE_SPL, "teeSPL")?,
            snp: spl(cert, OID_SNP_SPL, "snpSPL")?,
            microcode: spl(cert, OID_UCODE_SPL, "ucodeSPL")?,
            fmc,
        },
    })
}

fn snp_tcb(t: &TcbVersion) -> SnpTcb {
    SnpTcb { bootloader: t.bootloader, tee: t.tee, snp: t.snp, microcode: t.microcode, fmc: t.fmc }
}

/// Verifies an SEV-SNP report and its VCEK against the pinned chain and appraises it.
pub(crate) fn verify(
    evidence: &SnpEvidence,
    policy: &Policy,
    now: VerificationTime,
) -> Result<Claims> {
    let now_secs = now.unix_secs();
    let chain = policy
        .amd_chain(evidence.product)
        .ok_or(TeeError::NoPinnedRoot(evidence.product.name()))?;

    let report = AttestationReport::from_bytes(&evidence.report)
        .map_err(|e| TeeError::malformed("SEV-SNP report", e))?;
    // The signature is checked over `sev`'s re-encoding of the parsed report; insisting that it
    // reproduces the received bytes means the signature covers exactly what was received.
    let reencoded = report.to_bytes().map_err(|e| TeeError::malformed("SEV-SNP report", e))?;
    if reencoded.as_slice() != evidence.report.as_slice() {
        return Err(TeeError::malformed("SEV-SNP report", "reserved bytes are not zero"));
    }

    // r and s are 72-byte little-endian fields holding 48-byte P-384 scalars; `sev` reads only
    // the low 48 bytes, so the high bytes must be zero or the report would be malleable.
    let high_zero = |x: &[u8; 72]| x.iter().skip(48).all(|b| *b == 0);
    if !high_zero(report.signature.r()) || !high_zero(report.signature.s()) {
        return Err(TeeError::malformed("SEV-SNP report", "signature scalar has non-zero padding"));
    }

    check_validity("ARK", chain.ark_validity, now_secs)?;
    check_validity("ASK", chain.ask_validity, now_secs)?;
    crate::der_bounds::check(&evidence.vcek_der).map_err(|e| TeeError::malformed("VCEK", e))?;
    let vcek_x509 = x509_cert::Certificate::from_der(&evidence.vcek_der)
        .map_err(|e| TeeError::malformed("VCEK", e))?;
    check_validity("VCEK", validity(&vcek_x509), now_secs)?;
    let vcek = Certificate::from(vcek_x509.clone());
    (&chain.ask, &vcek).verify().map_err(|e| {
        TeeError::SignatureInvalid(format!("pinned ASK does not sign the VCEK: {e}"))
    })?;

    let id = vcek_identity(&vcek_x509)?;
    if !id.product_name.starts_with(evidence.product.name()) {
        return Err(TeeError::VcekMismatch("VCEK is for another product"));
    }
    let chip_id_matches = match id.hw_id.len() {
        64 => id.hw_id == report.chip_id,
        // Turin and later: an 8-byte hwID, the rest of the chip id is zero.
        8 => report.chip_id.starts_with(&id.hw_id) && report.chip_id[8..].iter().all(|b| *b == 0),
        _ => false,
    };
    if !chip_id_matches {
        return Err(TeeError::VcekMismatch("chip id differs from the VCEK's hwID"));
    }
    let reported = snp_tcb(&report.reported_tcb);
    if reported != id.tcb {
        return Err(TeeError::VcekMismatch("reported TCB differs from the VCEK's TCB"));
    }

    // KEY_INFO.SIGNING_KEY: 0 is the VCEK (1 a VLEK, 7 unsigned); only VCEKs are verified here.
    if report.key_info.signing_key() != 0 {
        return Err(TeeError::VcekMismatch("report is not signed by a VCEK"));
    }
    if report.sig_algo != SIG_ALGO_ECDSA_P384_SHA384 {
        return Err(TeeError::malformed("SEV-SNP report", "unknown signature algorithm"));
    }
    (&vcek, &report)
        .verify()
        .map_err(|e| TeeError::SignatureInvalid(format!("VCEK does not sign the report: {e}")))?;

    let measurement = appraise(&report, policy)?;
    Ok(Claims {
        platform: Platform::AmdSevSnp,
        assurance: Assurance::Hardware,
        measurement,
        tcb: TcbClaim::AmdSnp { reported, chip_id: report.chip_id },
        report_data: report.report_data,
        binding: None,
        verified_at: now,
    })
}

/// The policy part: VMPL 0, no debug, an expected measurement at or above its minimum TCB.
pub(crate) fn appraise(report: &AttestationReport, policy: &Policy) -> Result<Measurement> {
    if report.vmpl != 0 {
        return Err(TeeError::VmplNotZero(report.vmpl));
    }
    if report.policy.debug_allowed() {
        return Err(TeeError::DebugRefused);
    }
    let reported = snp_tcb(&report.reported_tcb);
    let mut candidates =
        policy.snp.iter().filter(|id| id.measurement == report.measurement).peekable();
    let first = candidates.peek().cloned().ok_or(TeeError::UnexpectedMeasurement)?;
    if !candidates.any(|id| reported.meets(&id.min_tcb)) {
        return Err(TeeError::TcbBelowMinimum {
            reported: reported.to_string(),
            minimum: first.min_tcb.to_string(),
        });
    }
    Ok(Measurement::Snp {
        measurement: report.measurement,
        host_data: report.host_data,
        guest_svn: report.guest_svn,
        guest_policy: u64::from(report.policy),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::SnpIdentity;

    fn policy() -> Policy {
        Policy::new().expect_snp(SnpIdentity {
            measurement: [0x55; 48],
            min_tcb: SnpTcb { bootloader: 2, tee: 0, snp: 6, microcode: 100, fmc: None },
        })
    }

    fn report() -> AttestationReport {
        AttestationReport {
            measurement: [0x55; 48],
            reported_tcb: TcbVersion { fmc: None, bootloader: 3, tee: 0, snp: 8, microcode: 115 },
            ..Default::default()
        }
    }

    #[test]
    fn accepts_expected_guest() {
        assert!(appraise(&report(), &policy()).is_ok());
    }

    #[test]
    fn debug_guest_is_refused() {
        let mut r = report();
        r.policy.set_debug_allowed(true);
        assert!(matches!(appraise(&r, &policy()), Err(TeeError::DebugRefused)));
    }

    #[test]
    fn only_vmpl0_is_accepted() {
        let mut r = report();
        r.vmpl = 1;
        assert!(matches!(appraise(&r, &policy()), Err(TeeError::VmplNotZero(1))));
    }

    #[test]
    fn tcb_below_minimum_is_refused() {
        let mut r = report();
        r.reported_tcb.snp = 5;
        assert!(matches!(appraise(&r, &policy()), Err(TeeError::TcbBelowMinimum { .. })));
        let mut r = report();
        r.measurement[0] ^= 1;
        assert!(matches!(appraise(&r, &policy()), Err(TeeError::UnexpectedMeasurement)));
    }
}
