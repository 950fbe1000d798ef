//! TEE evidence: the `TTEE` envelope, and behind it the DCAP quote and collateral JSON, the SNP
//! report and VCEK certificate, and the simulated evidence, all through `Verifier::appraise`.
//!
//! Seeds are the real SGX, TDX and SEV-SNP evidence in `shared/datasets/tee` (when present) and
//! simulated evidence. Accepted envelopes must re-encode stably (decode ∘ encode is the
//! identity on the re-encoding; collateral JSON may be re-serialised); any evidence the verifier
//! accepts must carry the claims of one of the genuine seeds (else a mutation forged a quote).

use std::sync::OnceLock;

use tessera_tee::{
    AmdProduct, AmdRootChain, DcapEvidence, Evidence, JobCommitment, Policy, SimulatedEnclave,
    SnpEvidence, TeeBackend, VerificationTime, Verifier,
};

use crate::target::{Target, Verdict};

const T_2025: VerificationTime = VerificationTime::from_unix_secs(1_750_377_600);
const T_2026: VerificationTime = VerificationTime::from_unix_secs(1_791_504_000);
const SIM_MEASUREMENT: [u8; 48] = [0xA5; 48];

struct Fixture {
    verifier: Verifier,
    seeds: Vec<Vec<u8>>,
    genuine: Vec<String>,
}

fn dataset(name: &str) -> Option<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/datasets/tee");
    std::fs::read(format!("{dir}/{name}"))
        .or_else(|_| std::fs::read(format!("/work/shared/datasets/tee/{name}")))
        .ok()
}

fn unhex(text: &[u8]) -> Vec<u8> {
    let clean: Vec<u8> = text.iter().copied().filter(|c| c.is_ascii_hexdigit()).collect();
    clean
        .chunks_exact(2)
        .filter_map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut policy = Policy::new().allow_insecure_simulated(SIM_MEASUREMENT);
        let mut evidence = Vec::new();
        if let Some(root) = dataset("intel/TrustedRootCA.der") {
            policy = policy.pin_intel_root(&root);
        }
        for (quote, collateral, tdx) in [
            ("intel/sgx_quote", "intel/sgx_quote_collateral.json", false),
            ("intel/tdx_quote", "intel/tdx_quote_collateral.json", true),
            ("intel/tdx_quote_td15ex", "intel/tdx_quote_td15ex_collateral.json", true),
        ] {
            if let (Some(q), Some(c)) = (dataset(quote), dataset(collateral))
                && let Ok(e) = DcapEvidence::new(q, &c)
            {
                evidence.push(if tdx { Evidence::Tdx(e) } else { Evidence::Sgx(e) });
            }
        }
        if let (Some(ark), Some(ask), Some(report), Some(vcek)) = (
            dataset("amd/ark.pem"),
            dataset("amd/ask.pem"),
            dataset("amd/report_milan.hex"),
            dataset("amd/vcek_milan.der"),
        ) {
            if let Ok(chain) = AmdRootChain::from_pem(&ark, &ask) {
                policy = policy.pin_amd_roots(AmdProduct::Milan, chain);
            }
            if let Ok(e) = SnpEvidence::new(unhex(&report), vcek, AmdProduct::Milan) {
                evidence.push(Evidence::SevSnp(e));
            }
        }
        let enclave = SimulatedEnclave::new(SIM_MEASUREMENT).expect("simulated enclave");
        evidence.push(enclave.attest(&JobCommitment([0x10; 32])).expect("attest"));
        let verifier = Verifier::new(policy);
        let mut genuine = Vec::new();
        for e in &evidence {
            for t in [T_2025, T_2026] {
                if let Ok(c) = verifier.appraise(e, t) {
                    genuine.push(format!("{c:?}"));
                }
            }
        }
        let seeds = evidence.iter().filter_map(|e| e.to_bytes().ok()).collect();
        Fixture { verifier, seeds, genuine }
    })
}

fn check(data: &[u8]) -> Verdict {
    let f = fixture();
    let r = Evidence::from_bytes(data);
    if let Ok(e) = &r {
        let once = e.to_bytes().expect("decoded evidence re-encodes");
        let again = Evidence::from_bytes(&once).expect("re-encoded evidence decodes");
        assert_eq!(again.to_bytes().expect("encode"), once, "evidence re-encoding is stable");
        let _ = e.platform();
        for t in [T_2025, T_2026] {
            if let Ok(claims) = f.verifier.appraise(e, t) {
                let got = format!("{claims:?}");
                assert!(f.genuine.contains(&got), "mutated evidence verified: {got}");
            }
        }
    }
    Verdict::of(&r)
}

/// The TEE target.
pub fn targets() -> Vec<Target> {
    vec![Target {
        name: "tee_evidence",
        about: "Evidence::from_bytes + Verifier::appraise (DCAP quote, collateral, SNP report, VCEK)",
        seeds: || fixture().seeds.clone(),
        check,
        max_len: 64 << 10,
        dict: &[b"TTEE", b"\"", b"{", b"}", b"0x", b"-----BEGIN"],
        alloc_fixed: 2 << 20,
        ci_execs: 300,
    }]
}
