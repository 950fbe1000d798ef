//! Real Intel SGX and TDX quotes: each verifies at its time with the expected claims, and each
//! is refused when a signed byte is flipped, the root is swapped, the collateral has expired,
//! the measurement or TCB status is not the expected one, or it is presented as the wrong kind.

mod common;

use dcap_qvl::quote::Quote;
use tessera_tee::{
    Assurance, Binding, DcapEvidence, EnclaveKeyHash, Evidence, JobCommitment, Measurement,
    Platform, Policy, SgxIdentity, TcbClaim, TcbException, TcbStatus, TdxIdentity, TeeError,
    VerificationTime, Verifier,
};

use common::{hex_array, load, load_all};

/// 2025-06-20, inside the SGX and TDX (v4) collateral's validity.
const T_2025: VerificationTime = VerificationTime::from_unix_secs(1_750_377_600);
/// 2026-10-09, inside the TDX 1.5 collateral's validity.
const T_2026: VerificationTime = VerificationTime::from_unix_secs(1_791_504_000);
/// 2025-07-20: the 2025 TCB info and QE identity expired on 2025-07-19.
const T_2025_EXPIRED: VerificationTime = VerificationTime::from_unix_secs(1_752_969_600);
/// 2026-11-08: the TDX 1.5 TCB info expired on 2026-11-07.
const T_2026_EXPIRED: VerificationTime = VerificationTime::from_unix_secs(1_794_182_400);
/// 2025-06-18: before the 2025 TCB info was issued (2025-06-19).
const T_2025_TOO_EARLY: VerificationTime = VerificationTime::from_unix_secs(1_750_204_800);

const SGX_MR_ENCLAVE: &str = "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb";
const SGX_MR_SIGNER: &str = "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6";
const SGX_ADVISORIES: [&str; 2] = ["INTEL-SA-00289", "INTEL-SA-00615"];

struct TdxSample {
    quote: &'static str,
    collateral: &'static str,
    time: VerificationTime,
    expired: VerificationTime,
    mr_td: &'static str,
    rtmrs: [&'static str; 4],
    report_data: &'static str,
}

const TDX_V4: TdxSample = TdxSample {
    quote: "intel/tdx_quote",
    collateral: "intel/tdx_quote_collateral.json",
    time: T_2025,
    expired: T_2025_EXPIRED,
    mr_td: "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7",
    rtmrs: [
        "44c0197b39157fdd7a4dcc44767f9d6b0bb3977c7a8e347b8492f827fe9d9e5c48aca29b220b80b6a540cf994b9bc9c0",
        "0084452c01668329d4bc06acdf58a7205c26743304509973949e5619bf81a6a7aea8c323c173019b3093d54e579e9378",
        "d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d7330733642e01d48c3132",
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    ],
    report_data: "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20",
};

const TDX_V15: TdxSample = TdxSample {
    quote: "intel/tdx_quote_td15ex",
    collateral: "intel/tdx_quote_td15ex_collateral.json",
    time: T_2026,
    expired: T_2026_EXPIRED,
    mr_td: "2a674327c50218dba880066b349b8d559d749ed68dce33fd651c184a877d084b07a9e583767a7ad5da13ed91deec2b70",
    rtmrs: [
        "0345d2a146eec673fb3861a4d88c5093ef0934b142884294377628cf09fb21bfa979acec61e79f925f5fccaad0827165",
        "3484cd07ba093cede0938303617d6da58f3c6a895ddd5461b3bdd0b29f40e869d4c92642867b44bd3619451bd78ff2d0",
        "83b7a9a35ed613c17a8b9d36a49f28b095f54daa78b328c93eef10ae3e21094c1411467e3371157c4cde5e0beb72dcb8",
        "556d4986cae57e7e3756b6471e4951be6f5f1b4e70942c72325223d6af239da90f1484eeb627727e6d2c0755393b5fdf",
    ],
    report_data: "2945321c99222c3622a14cf7feaab073e799be14b5f3e73cd2e6cad64e5f062463ad204f33f0a39e47d098330db88ca5b5d0a7afce540dfe4c4fe4a377190731",
};

fn sgx_exception() -> TcbException {
    TcbException::new(TcbStatus::ConfigurationAndSwHardeningNeeded, &SGX_ADVISORIES).unwrap()
}

fn sgx_policy(root: &[u8]) -> Policy {
    Policy::new()
        .pin_intel_root(root)
        .accept_tcb(sgx_exception())
        .expect_sgx(SgxIdentity::Enclave { mr_enclave: hex_array(SGX_MR_ENCLAVE) })
}

fn tdx_identity(s: &TdxSample) -> TdxIdentity {
    TdxIdentity::new(hex_array(s.mr_td), s.rtmrs.map(hex_array))
}

/// The TDX samples come from a multi-package platform registered as "dynamic", with "cached keys" and SMT on; the strict
/// default refuses that (see `tdx_strict_platform_flags_refuse_dynamic_platform`).
fn tdx_policy(root: &[u8], s: &TdxSample) -> Policy {
    Policy::new()
        .pin_intel_root(root)
        .allow_dynamic_platform(true)
        .allow_cached_keys(true)
        .allow_smt(true)
        .expect_tdx(tdx_identity(s))
}

/// Offset of the first occurrence of `needle` in `hay`.
fn offset_of(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).position(|w| w == needle).expect("field present in quote")
}

/// Offset of the ISV report signature: the auth data (after the signed part) starts with its
/// 4-byte length, then the 64-byte ECDSA signature.
fn signature_offset(quote: &[u8]) -> usize {
    Quote::parse(quote).unwrap().signed_length() + 4
}

fn flipped(bytes: &[u8], at: usize, mask: u8) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[at] ^= mask;
    b
}

fn sgx_evidence(quote: Vec<u8>, collateral: &[u8]) -> Evidence {
    Evidence::Sgx(DcapEvidence::new(quote, collateral).unwrap())
}

fn tdx_evidence(quote: Vec<u8>, collateral: &[u8]) -> Evidence {
    Evidence::Tdx(DcapEvidence::new(quote, collateral).unwrap())
}

fn sgx_files() -> Option<[Vec<u8>; 3]> {
    load_all(["intel/sgx_quote", "intel/sgx_quote_collateral.json", "intel/TrustedRootCA.der"])
}

#[test]
fn sgx_sample_verifies_with_expected_claims() {
    let [quote, coll, root] = require!(sgx_files());
    let claims =
        Verifier::new(sgx_policy(&root)).appraise(&sgx_evidence(quote, &coll), T_2025).unwrap();
    assert_eq!(claims.platform, Platform::IntelSgx);
    assert_eq!(claims.assurance, Assurance::Hardware);
    assert!(!claims.is_insecure());
    assert_eq!(
        claims.measurement,
        Measurement::Sgx {
            mr_enclave: hex_array(SGX_MR_ENCLAVE),
            mr_signer: hex_array(SGX_MR_SIGNER),
            isv_prod_id: 0,
            isv_svn: 0,
        }
    );
    assert_eq!(
        claims.tcb,
        TcbClaim::Intel {
            status: TcbStatus::ConfigurationAndSwHardeningNeeded,
            advisory_ids: SGX_ADVISORIES.map(String::from).to_vec(),
        }
    );
    let mut report_data = [0u8; 64];
    report_data[..13].copy_from_slice(b"Hello, world!");
    assert_eq!(claims.report_data, report_data);
    assert_eq!(claims.binding, None);
    assert_eq!(claims.verified_at, T_2025);
}

#[test]
fn sgx_signer_identity_is_accepted() {
    let [quote, coll, root] = require!(sgx_files());
    let policy = |min_isv_svn, isv_prod_id| {
        Policy::new().pin_intel_root(&root).accept_tcb(sgx_exception()).expect_sgx(
            SgxIdentity::Signer { mr_signer: hex_array(SGX_MR_SIGNER), isv_prod_id, min_isv_svn },
        )
    };
    let ev = sgx_evidence(quote, &coll);
    assert!(Verifier::new(policy(0, 0)).appraise(&ev, T_2025).is_ok());
    for p in [policy(1, 0), policy(0, 1)] {
        assert!(matches!(
            Verifier::new(p).appraise(&ev, T_2025),
            Err(TeeError::UnexpectedMeasurement)
        ));
    }
}

#[test]
fn sgx_strict_default_refuses_its_tcb_status() {
    let [quote, coll, root] = require!(sgx_files());
    let ev = sgx_evidence(quote, &coll);
    let strict = Policy::new()
        .pin_intel_root(&root)
        .expect_sgx(SgxIdentity::Enclave { mr_enclave: hex_array(SGX_MR_ENCLAVE) });
    let err = Verifier::new(strict.clone()).appraise(&ev, T_2025).unwrap_err();
    assert!(
        matches!(
            err,
            TeeError::TcbNotAccepted { status: TcbStatus::ConfigurationAndSwHardeningNeeded, .. }
        ),
        "{err}"
    );
    // An exception that names only one of the two advisories is not enough.
    let partial = strict.clone().accept_tcb(
        TcbException::new(TcbStatus::ConfigurationAndSwHardeningNeeded, &["INTEL-SA-00289"])
            .unwrap(),
    );
    assert!(matches!(
        Verifier::new(partial).appraise(&ev, T_2025),
        Err(TeeError::TcbNotAccepted { .. })
    ));
    // An exception for another status does not apply either.
    let other = strict
        .accept_tcb(TcbException::new(TcbStatus::SwHardeningNeeded, &SGX_ADVISORIES).unwrap());
    assert!(matches!(
        Verifier::new(other).appraise(&ev, T_2025),
        Err(TeeError::TcbNotAccepted { .. })
    ));
}

#[test]
fn sgx_flipped_signed_bytes_are_refused() {
    let [quote, coll, root] = require!(sgx_files());
    let verifier = Verifier::new(sgx_policy(&root));
    assert!(verifier.appraise(&sgx_evidence(quote.clone(), &coll), T_2025).is_ok());
    let parsed = Quote::parse(&quote).unwrap();
    let report = parsed.report.as_sgx().unwrap();
    let cases = [
        ("MRENCLAVE", offset_of(&quote, &report.mr_enclave), 0x01),
        ("report data", offset_of(&quote, &report.report_data), 0x01),
        ("ISV signature", signature_offset(&quote), 0x01),
        // ATTRIBUTES.DEBUG sits 48 bytes before MRENCLAVE.
        ("debug attribute", offset_of(&quote, &report.mr_enclave) - 48, 0x02),
        ("ISV prod id", offset_of(&quote, &report.mr_enclave) + 224, 0x01),
    ];
    for (what, at, mask) in cases {
        let err =
            verifier.appraise(&sgx_evidence(flipped(&quote, at, mask), &coll), T_2025).unwrap_err();
        assert!(matches!(err, TeeError::DcapRejected(_)), "{what}: {err}");
    }
}

#[test]
fn sgx_tampered_collateral_is_refused() {
    let [quote, coll, root] = require!(sgx_files());
    let verifier = Verifier::new(sgx_policy(&root));
    assert!(verifier.appraise(&sgx_evidence(quote.clone(), &coll), T_2025).is_ok());
    // Intel signs the TCB info JSON: upgrade the platform's status inside it.
    let mut json: serde_json::Value = serde_json::from_slice(&coll).unwrap();
    let tcb_info = json["tcb_info"].as_str().unwrap().to_string();
    assert!(tcb_info.contains("ConfigurationAndSWHardeningNeeded"));
    json["tcb_info"] = tcb_info.replacen("ConfigurationAndSWHardeningNeeded", "UpToDate", 1).into();
    let forged = serde_json::to_vec(&json).unwrap();
    let err = verifier.appraise(&sgx_evidence(quote.clone(), &forged), T_2025).unwrap_err();
    assert!(matches!(err, TeeError::DcapRejected(_)), "{err}");
    // Garbage collateral is a decode error, not a panic.
    assert!(matches!(
        DcapEvidence::new(quote, b"{\"tcb_info\": 3}"),
        Err(TeeError::Malformed { .. })
    ));
}

#[test]
fn sgx_swapped_root_is_refused() {
    let [quote, coll, _root] = require!(sgx_files());
    let ark = require!(load("amd/ark.pem"));
    let other_root = sev::certs::snp::Certificate::from_pem(&ark).unwrap().to_der().unwrap();
    let err = Verifier::new(sgx_policy(&other_root))
        .appraise(&sgx_evidence(quote.clone(), &coll), T_2025)
        .unwrap_err();
    assert!(matches!(err, TeeError::DcapRejected(_)), "{err}");
    // No root pinned at all.
    let unpinned = Policy::new().accept_tcb(sgx_exception());
    assert!(matches!(
        Verifier::new(unpinned).appraise(&sgx_evidence(quote, &coll), T_2025),
        Err(TeeError::NoPinnedRoot("Intel"))
    ));
}

#[test]
fn sgx_outside_collateral_validity_is_refused() {
    let [quote, coll, root] = require!(sgx_files());
    let verifier = Verifier::new(sgx_policy(&root));
    let ev = sgx_evidence(quote, &coll);
    assert!(verifier.appraise(&ev, T_2025).is_ok());
    for t in [T_2025_EXPIRED, T_2025_TOO_EARLY] {
        let err = verifier.appraise(&ev, t).unwrap_err();
        assert!(matches!(err, TeeError::DcapRejected(_)), "{err}");
    }
}

#[test]
fn sgx_unexpected_measurement_is_refused() {
    let [quote, coll, root] = require!(sgx_files());
    let mut other: [u8; 32] = hex_array(SGX_MR_ENCLAVE);
    other[31] ^= 1;
    let policy = Policy::new()
        .pin_intel_root(&root)
        .accept_tcb(sgx_exception())
        .expect_sgx(SgxIdentity::Enclave { mr_enclave: other });
    assert!(matches!(
        Verifier::new(policy).appraise(&sgx_evidence(quote, &coll), T_2025),
        Err(TeeError::UnexpectedMeasurement)
    ));
}

#[test]
fn sgx_quote_presented_as_tdx_is_refused() {
    let [quote, coll, root] = require!(sgx_files());
    let err =
        Verifier::new(sgx_policy(&root)).appraise(&tdx_evidence(quote, &coll), T_2025).unwrap_err();
    assert!(matches!(err, TeeError::KindMismatch { .. }), "{err}");
}

#[test]
fn sgx_binding_for_another_job_fails() {
    let [quote, coll, root] = require!(sgx_files());
    let binding = Binding::new(JobCommitment([1; 32]), EnclaveKeyHash::of_public_key(b"pk"));
    assert!(matches!(
        Verifier::new(sgx_policy(&root)).verify_bound(
            &sgx_evidence(quote, &coll),
            &binding,
            T_2025
        ),
        Err(TeeError::BindingMismatch)
    ));
}

#[test]
fn truncated_quotes_are_errors_not_panics() {
    let [quote, coll, root] = require!(sgx_files());
    let verifier = Verifier::new(sgx_policy(&root));
    for len in (0..quote.len()).step_by(61) {
        let ev = sgx_evidence(quote[..len].to_vec(), &coll);
        assert!(verifier.appraise(&ev, T_2025).is_err(), "length {len}");
    }
    assert!(DcapEvidence::new(vec![0; 65 * 1024], &coll).is_err());
}

fn tdx_files(s: &TdxSample) -> Option<[Vec<u8>; 3]> {
    load_all([s.quote, s.collateral, "intel/TrustedRootCA.der"])
}

fn check_tdx_sample(s: &TdxSample) {
    let [quote, coll, root] = require!(tdx_files(s));
    let claims =
        Verifier::new(tdx_policy(&root, s)).appraise(&tdx_evidence(quote, &coll), s.time).unwrap();
    assert_eq!(claims.platform, Platform::IntelTdx);
    assert_eq!(claims.assurance, Assurance::Hardware);
    match &claims.measurement {
        Measurement::Tdx { mr_td, rtmrs, .. } => {
            assert_eq!(*mr_td, hex_array::<48>(s.mr_td));
            assert_eq!(*rtmrs, s.rtmrs.map(hex_array::<48>));
        }
        other => panic!("not a TDX measurement: {other:?}"),
    }
    assert_eq!(claims.tcb, TcbClaim::Intel { status: TcbStatus::UpToDate, advisory_ids: vec![] });
    assert_eq!(claims.report_data, hex_array::<64>(s.report_data));
}

#[test]
fn tdx_samples_verify_with_expected_claims() {
    check_tdx_sample(&TDX_V4);
    check_tdx_sample(&TDX_V15);
}

fn check_tdx_tampering(s: &TdxSample) {
    let [quote, coll, root] = require!(tdx_files(s));
    let verifier = Verifier::new(tdx_policy(&root, s));
    assert!(verifier.appraise(&tdx_evidence(quote.clone(), &coll), s.time).is_ok());
    let mr_td: [u8; 48] = hex_array(s.mr_td);
    let rtmr0: [u8; 48] = hex_array(s.rtmrs[0]);
    let report_data: [u8; 64] = hex_array(s.report_data);
    let cases = [
        ("MRTD", offset_of(&quote, &mr_td), 0x01),
        ("RTMR0", offset_of(&quote, &rtmr0), 0x01),
        ("report data", offset_of(&quote, &report_data), 0x01),
        ("quote signature", signature_offset(&quote), 0x01),
        // TDATTRIBUTES (TUD.DEBUG is bit 0) sits 16 bytes before MRTD.
        ("debug attribute", offset_of(&quote, &mr_td) - 16, 0x01),
    ];
    for (what, at, mask) in cases {
        let err =
            verifier.appraise(&tdx_evidence(flipped(&quote, at, mask), &coll), s.time).unwrap_err();
        assert!(matches!(err, TeeError::DcapRejected(_)), "{}: {what}: {err}", s.quote);
    }
}

#[test]
fn tdx_flipped_signed_bytes_are_refused() {
    check_tdx_tampering(&TDX_V4);
    check_tdx_tampering(&TDX_V15);
}

/// No single byte of the header, the report body or the quote signature can change unnoticed.
/// (The 4-byte auth-data length between body and signature is unsigned framing, like the
/// padding: a TDX quote whose length field is off by one still parses to the same claims.)
#[test]
fn no_signed_quote_byte_can_change_unnoticed() {
    let [sgx, sgx_coll, root] = require!(sgx_files());
    let [tdx, tdx_coll, _] = require!(tdx_files(&TDX_V4));
    let sgx_verifier = Verifier::new(sgx_policy(&root));
    let tdx_verifier = Verifier::new(tdx_policy(&root, &TDX_V4));
    let signed = |q: &[u8]| {
        let sig = signature_offset(q);
        (0..sig - 4).chain(sig..sig + 64)
    };
    let accepted: Vec<usize> = signed(&sgx)
        .filter(|&i| {
            let ev = sgx_evidence(flipped(&sgx, i, 0x01), &sgx_coll);
            sgx_verifier.appraise(&ev, T_2025).is_ok()
        })
        .collect();
    assert!(accepted.is_empty(), "SGX flips accepted at {accepted:?}");
    let accepted: Vec<usize> = signed(&tdx)
        .filter(|&i| {
            let ev = tdx_evidence(flipped(&tdx, i, 0x01), &tdx_coll);
            tdx_verifier.appraise(&ev, TDX_V4.time).is_ok()
        })
        .collect();
    assert!(accepted.is_empty(), "TDX flips accepted at {accepted:?}");
}

#[test]
fn tdx_expired_collateral_is_refused() {
    for s in [&TDX_V4, &TDX_V15] {
        let [quote, coll, root] = require!(tdx_files(s));
        let verifier = Verifier::new(tdx_policy(&root, s));
        let ev = tdx_evidence(quote, &coll);
        assert!(verifier.appraise(&ev, s.time).is_ok());
        let err = verifier.appraise(&ev, s.expired).unwrap_err();
        assert!(matches!(err, TeeError::DcapRejected(_)), "{err}");
    }
}

#[test]
fn tdx_unexpected_rtmr_is_refused_unless_ignored() {
    let s = &TDX_V15;
    let [quote, coll, root] = require!(tdx_files(s));
    let ev = tdx_evidence(quote, &coll);
    let mut rtmrs = s.rtmrs.map(hex_array::<48>);
    rtmrs[3][0] ^= 1;
    let wrong = TdxIdentity::new(hex_array(s.mr_td), rtmrs);
    let policy = Policy::new()
        .pin_intel_root(&root)
        .allow_dynamic_platform(true)
        .allow_cached_keys(true)
        .allow_smt(true)
        .expect_tdx(wrong.clone());
    assert!(matches!(
        Verifier::new(policy).appraise(&ev, s.time),
        Err(TeeError::UnexpectedMeasurement)
    ));
    let relaxed = Policy::new()
        .pin_intel_root(&root)
        .allow_dynamic_platform(true)
        .allow_cached_keys(true)
        .allow_smt(true)
        .expect_tdx(wrong.ignore_rtmr(3).unwrap());
    assert!(Verifier::new(relaxed).appraise(&ev, s.time).is_ok());
}

#[test]
fn tdx_strict_platform_flags_refuse_dynamic_platform() {
    let s = &TDX_V4;
    let [quote, coll, root] = require!(tdx_files(s));
    let strict = Policy::new().pin_intel_root(&root).expect_tdx(tdx_identity(s));
    let err = Verifier::new(strict).appraise(&tdx_evidence(quote, &coll), s.time).unwrap_err();
    assert!(matches!(&err, TeeError::DcapRejected(m) if m.contains("Dynamic platform")), "{err}");
}

#[test]
fn tdx_quote_presented_as_sgx_is_refused() {
    let s = &TDX_V4;
    let [quote, coll, root] = require!(tdx_files(s));
    let err = Verifier::new(tdx_policy(&root, s))
        .appraise(&sgx_evidence(quote, &coll), s.time)
        .unwrap_err();
    assert!(matches!(err, TeeError::KindMismatch { .. }), "{err}");
}

/// The tail of a TDX quote is unsigned padding: changing it leaves the verdict and the claims
/// unchanged, which is why a quote must be identified by its signed claims and never by a hash
/// of its raw bytes.
#[test]
fn tdx_unsigned_padding_does_not_change_claims() {
    let s = &TDX_V4;
    let [quote, coll, root] = require!(tdx_files(s));
    let verifier = Verifier::new(tdx_policy(&root, s));
    let original = verifier.appraise(&tdx_evidence(quote.clone(), &coll), s.time).unwrap();
    let last = quote.len() - 1;
    assert_eq!(quote[last], 0, "the sample ends in zero padding");
    let padded = flipped(&quote, last, 0xFF);
    let again = verifier.appraise(&tdx_evidence(padded, &coll), s.time).unwrap();
    assert_eq!(original, again);
}
