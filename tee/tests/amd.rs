//! A real AMD SEV-SNP report (Milan) with its VCEK: it verifies with the expected claims at a time
//! inside the certificates' validity, and is refused when a signed byte is flipped, the chip id
//! or TCB disagrees with the VCEK, the root is swapped (Genoa for Milan), the time falls outside
//! the certificates' validity, or the measurement or TCB is not the expected one.

mod common;

use tessera_tee::{
    AmdProduct, AmdRootChain, Assurance, Binding, EnclaveKeyHash, Evidence, JobCommitment,
    Measurement, Platform, Policy, SnpEvidence, SnpIdentity, SnpTcb, TcbClaim, TeeError,
    VerificationTime, Verifier,
};

use common::{hex_array, load, load_all, unhex};

/// 2025-06-20, inside the VCEK's validity (2023-04-03 to 2030-04-03).
const T: VerificationTime = VerificationTime::from_unix_secs(1_750_377_600);
/// 2023-01-01: before the VCEK's notBefore.
const T_TOO_EARLY: VerificationTime = VerificationTime::from_unix_secs(1_672_531_200);
/// 2030-04-04: after the VCEK's notAfter.
const T_EXPIRED: VerificationTime = VerificationTime::from_unix_secs(1_901_491_200);

const MEASUREMENT: &str = "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f";
const REPORT_DATA: &str = "d447b55d197491bfe15cf298f9de9986b7a7c4be2468b4f6e2d53b71d7c645810b0f2cdfca0040433be063fc1a8293f0f3f8dae7b79fecb3d1cd82bd6a93ebfd";
const CHIP_ID: &str = "d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc15d7af38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6";
const REPORTED_TCB: SnpTcb = SnpTcb { bootloader: 3, tee: 0, snp: 8, microcode: 115, fmc: None };

// Offsets in the ATTESTATION_REPORT structure (SEV-SNP ABI specification, table 23).
const OFF_POLICY: usize = 0x08;
const OFF_VMPL: usize = 0x30;
const OFF_RESERVED: usize = 0x4C;
const OFF_REPORT_DATA: usize = 0x50;
const OFF_MEASUREMENT: usize = 0x90;
const OFF_REPORTED_TCB: usize = 0x180;
const OFF_CHIP_ID: usize = 0x1A0;
const OFF_SIGNATURE: usize = 0x2A0;

struct Files {
    report: Vec<u8>,
    vcek: Vec<u8>,
    ark: Vec<u8>,
    ask: Vec<u8>,
}

fn files() -> Option<Files> {
    let [report_hex, vcek, ark, ask] =
        load_all(["amd/report_milan.hex", "amd/vcek_milan.der", "amd/ark.pem", "amd/ask.pem"])?;
    let report = unhex(std::str::from_utf8(&report_hex).expect("hex text"));
    Some(Files { report, vcek, ark, ask })
}

fn expected_identity() -> SnpIdentity {
    SnpIdentity { measurement: hex_array(MEASUREMENT), min_tcb: REPORTED_TCB }
}

fn policy(f: &Files) -> Policy {
    Policy::new()
        .pin_amd_roots(AmdProduct::Milan, AmdRootChain::from_pem(&f.ark, &f.ask).unwrap())
        .expect_snp(expected_identity())
}

fn evidence(report: Vec<u8>, vcek: &[u8]) -> Evidence {
    Evidence::SevSnp(SnpEvidence::new(report, vcek.to_vec(), AmdProduct::Milan).unwrap())
}

fn flipped(bytes: &[u8], at: usize, mask: u8) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[at] ^= mask;
    b
}

#[test]
fn milan_sample_verifies_with_expected_claims() {
    let f = require!(files());
    let claims =
        Verifier::new(policy(&f)).appraise(&evidence(f.report.clone(), &f.vcek), T).unwrap();
    assert_eq!(claims.platform, Platform::AmdSevSnp);
    assert_eq!(claims.assurance, Assurance::Hardware);
    assert_eq!(
        claims.measurement,
        Measurement::Snp {
            measurement: hex_array(MEASUREMENT),
            host_data: [0; 32],
            guest_svn: 0,
            guest_policy: 0x3_0000,
        }
    );
    assert_eq!(
        claims.tcb,
        TcbClaim::AmdSnp { reported: REPORTED_TCB, chip_id: hex_array(CHIP_ID) }
    );
    assert_eq!(claims.report_data, hex_array::<64>(REPORT_DATA));
    assert_eq!(claims.verified_at, T);
}

#[test]
fn chain_shipped_with_sev_is_the_dataset_chain() {
    let f = require!(files());
    let builtin = Policy::new()
        .pin_amd_roots(AmdProduct::Milan, AmdRootChain::builtin(AmdProduct::Milan).unwrap())
        .expect_snp(expected_identity());
    assert!(Verifier::new(builtin).appraise(&evidence(f.report, &f.vcek), T).is_ok());
}

#[test]
fn flipped_signed_bytes_are_refused() {
    let f = require!(files());
    let verifier = Verifier::new(policy(&f));
    assert!(verifier.appraise(&evidence(f.report.clone(), &f.vcek), T).is_ok());
    let cases = [
        ("measurement", OFF_MEASUREMENT, 0x01),
        ("report data", OFF_REPORT_DATA, 0x01),
        ("signature r", OFF_SIGNATURE, 0x01),
        ("signature s", OFF_SIGNATURE + 72, 0x01),
        // Guest policy bit 19 is DEBUG: the report would then be refused as debug, but the
        // flip already breaks the signature.
        ("guest policy (debug bit)", OFF_POLICY + 2, 0x08),
        ("VMPL", OFF_VMPL, 0x01),
    ];
    for (what, at, mask) in cases {
        let err =
            verifier.appraise(&evidence(flipped(&f.report, at, mask), &f.vcek), T).unwrap_err();
        assert!(matches!(err, TeeError::SignatureInvalid(_)), "{what}: {err}");
    }
}

/// Every byte of the report is either signed, or reserved and required to be zero, or part of
/// the signature: no single flipped byte goes unnoticed (so the raw report is not malleable).
#[test]
fn no_report_byte_can_change_unnoticed() {
    let f = require!(files());
    let verifier = Verifier::new(policy(&f));
    let accepted: Vec<usize> = (0..f.report.len())
        .filter(|&i| verifier.appraise(&evidence(flipped(&f.report, i, 0x01), &f.vcek), T).is_ok())
        .collect();
    assert!(accepted.is_empty(), "flips accepted at offsets {accepted:x?}");
}

#[test]
fn report_must_match_its_vcek() {
    let f = require!(files());
    let verifier = Verifier::new(policy(&f));
    for (what, at) in [("chip id", OFF_CHIP_ID), ("reported TCB (snp)", OFF_REPORTED_TCB + 6)] {
        let err =
            verifier.appraise(&evidence(flipped(&f.report, at, 0x01), &f.vcek), T).unwrap_err();
        assert!(matches!(err, TeeError::VcekMismatch(_)), "{what}: {err}");
    }
}

#[test]
fn reserved_bytes_are_refused() {
    let f = require!(files());
    let err = Verifier::new(policy(&f))
        .appraise(&evidence(flipped(&f.report, OFF_RESERVED, 0x01), &f.vcek), T)
        .unwrap_err();
    assert!(matches!(err, TeeError::Malformed { .. }), "{err}");
}

#[test]
fn genoa_root_for_milan_is_refused() {
    let f = require!(files());
    let genoa = AmdRootChain::builtin(AmdProduct::Genoa).unwrap();
    // Genoa's chain pinned in Milan's place.
    let swapped = Policy::new()
        .pin_amd_roots(AmdProduct::Milan, genoa.clone())
        .expect_snp(expected_identity());
    let err = Verifier::new(swapped).appraise(&evidence(f.report.clone(), &f.vcek), T).unwrap_err();
    assert!(matches!(err, TeeError::SignatureInvalid(_)), "{err}");
    // The evidence claims Genoa: Genoa's pinned chain does not sign a Milan VCEK.
    let genoa_ev = Evidence::SevSnp(
        SnpEvidence::new(f.report.clone(), f.vcek.clone(), AmdProduct::Genoa).unwrap(),
    );
    let both = policy(&f).pin_amd_roots(AmdProduct::Genoa, genoa);
    let err = Verifier::new(both).appraise(&genoa_ev, T).unwrap_err();
    assert!(matches!(err, TeeError::SignatureInvalid(_)), "{err}");
    // The evidence claims Genoa and no Genoa root is pinned.
    assert!(matches!(
        Verifier::new(policy(&f)).appraise(&genoa_ev, T),
        Err(TeeError::NoPinnedRoot("Genoa"))
    ));
}

#[test]
fn non_amd_roots_cannot_be_pinned() {
    let f = require!(files());
    let intel_root = require!(load("intel/TrustedRootCA.der"));
    let ask_der = sev::certs::snp::Certificate::from_pem(&f.ask).unwrap().to_der().unwrap();
    // Intel's root is not an RSA-PSS self-signed AMD root.
    assert!(AmdRootChain::from_der(&intel_root, &ask_der).is_err());
    // ARK and ASK swapped: the ASK is not self-signed.
    assert!(AmdRootChain::from_pem(&f.ask, &f.ark).is_err());
}

#[test]
fn certificates_are_checked_at_the_given_time() {
    let f = require!(files());
    let verifier = Verifier::new(policy(&f));
    let ev = evidence(f.report, &f.vcek);
    for t in [T_TOO_EARLY, T_EXPIRED] {
        let err = verifier.appraise(&ev, t).unwrap_err();
        assert!(matches!(err, TeeError::CertificateNotValidAt { cert: "VCEK", .. }), "{err}");
    }
}

#[test]
fn unexpected_measurement_or_low_tcb_is_refused() {
    let f = require!(files());
    let ev = evidence(f.report.clone(), &f.vcek);
    let mut other: [u8; 48] = hex_array(MEASUREMENT);
    other[0] ^= 1;
    let roots = || {
        Policy::new()
            .pin_amd_roots(AmdProduct::Milan, AmdRootChain::from_pem(&f.ark, &f.ask).unwrap())
    };
    let wrong = roots().expect_snp(SnpIdentity { measurement: other, min_tcb: SnpTcb::default() });
    assert!(matches!(Verifier::new(wrong).appraise(&ev, T), Err(TeeError::UnexpectedMeasurement)));
    let newer = roots().expect_snp(SnpIdentity {
        measurement: hex_array(MEASUREMENT),
        min_tcb: SnpTcb { snp: 9, ..REPORTED_TCB },
    });
    assert!(matches!(Verifier::new(newer).appraise(&ev, T), Err(TeeError::TcbBelowMinimum { .. })));
    assert!(matches!(
        Verifier::new(roots()).appraise(&ev, T),
        Err(TeeError::UnexpectedMeasurement)
    ));
}

#[test]
fn binding_for_another_job_fails() {
    let f = require!(files());
    let binding = Binding::new(JobCommitment([3; 32]), EnclaveKeyHash::of_public_key(b"pk"));
    assert!(matches!(
        Verifier::new(policy(&f)).verify_bound(&evidence(f.report, &f.vcek), &binding, T),
        Err(TeeError::BindingMismatch)
    ));
}

#[test]
fn malformed_inputs_are_errors_not_panics() {
    let f = require!(files());
    for len in [0, 100, 1183, 1185] {
        assert!(SnpEvidence::new(vec![0; len], f.vcek.clone(), AmdProduct::Milan).is_err());
    }
    let verifier = Verifier::new(policy(&f));
    // A zero report (version 0, masked chip id) and a garbage or wrong VCEK.
    assert!(verifier.appraise(&evidence(vec![0; 1184], &f.vcek), T).is_err());
    for vcek in [vec![], vec![0x30, 0x82, 0xff], f.vcek[..f.vcek.len() / 2].to_vec()] {
        let err = verifier.appraise(&evidence(f.report.clone(), &vcek), T).unwrap_err();
        assert!(matches!(err, TeeError::Malformed { .. }), "{err}");
    }
    let ask_der = sev::certs::snp::Certificate::from_pem(&f.ask).unwrap().to_der().unwrap();
    assert!(verifier.appraise(&evidence(f.report, &ask_der), T).is_err());
}
