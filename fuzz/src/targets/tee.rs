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
    /// The genuine DCAP quotes with their collateral, for `tee_collateral`.
    dcap: Vec<DcapSeed>,
}

/// A genuine quote and its collateral JSON split into its fields (sorted by name).
struct DcapSeed {
    quote: Vec<u8>,
    tdx: bool,
    fields: Vec<(String, String)>,
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
        let mut dcap = Vec::new();
        if let Some(root) = dataset("intel/TrustedRootCA.der") {
            policy = policy.pin_intel_root(&root);
        }
        for (quote, collateral, tdx) in [
            ("intel/sgx_quote", "intel/sgx_quote_collateral.json", false),
            ("intel/tdx_quote", "intel/tdx_quote_collateral.json", true),
            ("intel/tdx_quote_td15ex", "intel/tdx_quote_td15ex_collateral.json", true),
        ] {
            if let (Some(q), Some(c)) = (dataset(quote), dataset(collateral))
                && let Ok(e) = DcapEvidence::new(q.clone(), &c)
            {
                evidence.push(if tdx { Evidence::Tdx(e) } else { Evidence::Sgx(e) });
                if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(&c) {
                    let fields = map
                        .into_iter()
                        .filter_map(|(k, v)| Some((k, v.as_str()?.to_owned())))
                        .collect();
                    dcap.push(DcapSeed { quote: q, tdx, fields });
                }
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
        Fixture { verifier, seeds, genuine, dcap }
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

/// `tee_collateral` input: byte 0 picks a genuine quote (high nibble) and one collateral field
/// (low nibble); the rest replaces that field's text. This reaches what byte mutations of the
/// whole envelope rarely do: `dcap-qvl`'s PEM certificate chains, the CRLs' DER, the TCB info and
/// QE identity JSON and their signatures, each behind a quote that is otherwise genuine.
fn collateral_case(data: &[u8]) -> Option<(&'static DcapSeed, Vec<u8>)> {
    let f = fixture();
    let (&pick, text) = data.split_first()?;
    let seed = f.dcap.get(usize::from(pick >> 4) % f.dcap.len().max(1))?;
    let field = usize::from(pick & 0x0f) % seed.fields.len().max(1);
    let mut map = serde_json::Map::new();
    for (i, (k, v)) in seed.fields.iter().enumerate() {
        let v = if i == field { String::from_utf8_lossy(text).into_owned() } else { v.clone() };
        map.insert(k.clone(), serde_json::Value::String(v));
    }
    let json = serde_json::to_vec(&serde_json::Value::Object(map)).ok()?;
    Some((seed, json))
}

fn collateral_seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (s, seed) in fixture().dcap.iter().enumerate().take(16) {
        for (f, (_, v)) in seed.fields.iter().enumerate().take(16) {
            let mut input = vec![((s as u8) << 4) | f as u8];
            input.extend_from_slice(v.as_bytes());
            out.push(input);
        }
    }
    out
}

fn check_collateral(data: &[u8]) -> Verdict {
    let f = fixture();
    let Some((seed, json)) = collateral_case(data) else {
        return Verdict::Rejected("no DCAP seed for this input".into());
    };
    let r = DcapEvidence::new(seed.quote.clone(), &json);
    if let Ok(e) = &r {
        let e = if seed.tdx { Evidence::Tdx(e.clone()) } else { Evidence::Sgx(e.clone()) };
        for t in [T_2025, T_2026] {
            if let Ok(claims) = f.verifier.appraise(&e, t) {
                let got = format!("{claims:?}");
                // A change immaterial to the check (text outside a PEM armour) may still
                // verify, but only with the genuine claims: a changed TCB status is a forgery.
                assert!(f.genuine.contains(&got), "collateral mutation verified: {got}");
            }
        }
    }
    Verdict::of(&r)
}

/// The TEE targets.
pub fn targets() -> Vec<Target> {
    vec![
        Target {
            name: "tee_collateral",
            about: "DCAP collateral fields (PEM chains, CRL DER, TCB info/QE identity JSON and signatures) behind genuine quotes, through Verifier::appraise",
            seeds: collateral_seeds,
            check: check_collateral,
            max_len: 32 << 10,
            dict: &[
                b"-----BEGIN CERTIFICATE-----",
                b"-----END CERTIFICATE-----",
                b"\n",
                b"\"",
                b"{",
                b"}",
                b":",
                b",",
            ],
            alloc_fixed: 2 << 20,
            ci_execs: 200,
        },
        Target {
            name: "tee_evidence",
            about: "Evidence::from_bytes + Verifier::appraise (DCAP quote, collateral, SNP report, VCEK)",
            seeds: || fixture().seeds.clone(),
            check,
            max_len: 64 << 10,
            dict: &[b"TTEE", b"\"", b"{", b"}", b"0x", b"-----BEGIN"],
            alloc_fixed: 2 << 20,
            ci_execs: 300,
        },
    ]
}
