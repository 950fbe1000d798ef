//! The evidence wire encoding: real and simulated evidence round-trip to the same claims, and
//! every truncated or corrupted encoding is an error, never a panic.

mod common;

use tessera_tee::{
    AmdProduct, AmdRootChain, DcapEvidence, Evidence, JobCommitment, Policy, SgxIdentity,
    SimulatedEnclave, SnpEvidence, SnpIdentity, SnpTcb, TcbException, TcbStatus, TeeBackend,
    TeeError, VerificationTime, Verifier,
};

use common::{load_all, unhex};

const T: VerificationTime = VerificationTime::from_unix_secs(1_750_377_600);

fn assert_every_truncation_fails(bytes: &[u8]) {
    for len in 0..bytes.len() {
        assert!(Evidence::from_bytes(&bytes[..len]).is_err(), "length {len}");
    }
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert!(matches!(Evidence::from_bytes(&longer), Err(TeeError::Malformed { .. })));
}

#[test]
fn real_evidence_round_trips_to_the_same_claims() {
    let [sgx, coll, root, report_hex, vcek, ark, ask] = require!(load_all([
        "intel/sgx_quote",
        "intel/sgx_quote_collateral.json",
        "intel/TrustedRootCA.der",
        "amd/report_milan.hex",
        "amd/vcek_milan.der",
        "amd/ark.pem",
        "amd/ask.pem",
    ]));
    let parsed = dcap_qvl::quote::Quote::parse(&sgx).unwrap();
    let mr_enclave = parsed.report.as_sgx().unwrap().mr_enclave;
    let report = unhex(std::str::from_utf8(&report_hex).unwrap());
    let measurement: [u8; 48] = report[0x90..0xC0].try_into().unwrap();
    let verifier = Verifier::new(
        Policy::new()
            .pin_intel_root(&root)
            .accept_tcb(
                TcbException::new(
                    TcbStatus::ConfigurationAndSwHardeningNeeded,
                    &["INTEL-SA-00289", "INTEL-SA-00615"],
                )
                .unwrap(),
            )
            .expect_sgx(SgxIdentity::Enclave { mr_enclave })
            .pin_amd_roots(AmdProduct::Milan, AmdRootChain::from_pem(&ark, &ask).unwrap())
            .expect_snp(SnpIdentity { measurement, min_tcb: SnpTcb::default() }),
    );
    for ev in [
        Evidence::Sgx(DcapEvidence::new(sgx, &coll).unwrap()),
        Evidence::SevSnp(SnpEvidence::new(report, vcek, AmdProduct::Milan).unwrap()),
    ] {
        let bytes = ev.to_bytes().unwrap();
        let back = Evidence::from_bytes(&bytes).unwrap();
        assert_eq!(back.platform(), ev.platform());
        assert_eq!(verifier.appraise(&back, T).unwrap(), verifier.appraise(&ev, T).unwrap());
        assert_eq!(back.to_bytes().unwrap(), bytes);
        assert_every_truncation_fails(&bytes);
    }
}

#[test]
fn simulated_evidence_round_trips() {
    let enclave = SimulatedEnclave::new([1; 48]).unwrap();
    let ev = enclave.attest(&JobCommitment([2; 32])).unwrap();
    let bytes = ev.to_bytes().unwrap();
    let verifier = Verifier::new(Policy::new().allow_insecure_simulated([1; 48]));
    let back = Evidence::from_bytes(&bytes).unwrap();
    assert_eq!(verifier.appraise(&back, T).unwrap(), verifier.appraise(&ev, T).unwrap());
    assert_every_truncation_fails(&bytes);
}

#[test]
fn corrupted_headers_are_refused() {
    let enclave = SimulatedEnclave::new([1; 48]).unwrap();
    let bytes = enclave.attest(&JobCommitment([2; 32])).unwrap().to_bytes().unwrap();
    // Magic, version, kind.
    for at in 0..6 {
        let mut b = bytes.clone();
        b[at] ^= 0x40;
        assert!(Evidence::from_bytes(&b).is_err(), "byte {at}");
    }
    // A length field claiming more than is present.
    let mut b = bytes.clone();
    b[6..10].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(Evidence::from_bytes(&b), Err(TeeError::Malformed { .. })));
    // Unknown AMD product.
    let snp = [b"TTEE".as_slice(), &[1, 3, 9]].concat();
    assert!(Evidence::from_bytes(&snp).is_err());
    assert!(Evidence::from_bytes(&vec![0; tessera_tee::MAX_EVIDENCE_LEN + 1]).is_err());
}
