//! Verification time per evidence kind (the full `Verifier::appraise`: signatures up to the
//! pinned roots, collateral and certificate dates, TCB and policy). Run with
//! `cargo bench -p tessera-tee --bench verify`.

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sha2::{Digest, Sha256};
use tessera_tee::{
    AmdProduct, AmdRootChain, DcapEvidence, Evidence, JobCommitment, Policy, SgxIdentity,
    SimulatedEnclave, SnpEvidence, SnpIdentity, SnpTcb, TcbException, TcbStatus, TdxIdentity,
    TeeBackend, VerificationTime, Verifier,
};

const DATASET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/datasets/tee");
const INTEL_TIME: VerificationTime = VerificationTime::from_unix_secs(1_750_377_600);
const TD15_TIME: VerificationTime = VerificationTime::from_unix_secs(1_791_504_000);

fn read(name: &str) -> Option<Vec<u8>> {
    std::fs::read(format!("{DATASET}/{name}")).ok()
}

/// An accepting policy built from the evidence's own identity (the bench times verification,
/// not policy authoring).
fn bench_real(c: &mut Criterion) {
    let (Some(root), Some(ark), Some(ask)) =
        (read("intel/TrustedRootCA.der"), read("amd/ark.pem"), read("amd/ask.pem"))
    else {
        println!("SKIPPED real evidence: {DATASET} is absent");
        return;
    };
    // The TDX samples' platform is a registered multi-package one (dynamic, cached keys, SMT).
    let mut policy = Policy::new()
        .pin_intel_root(&root)
        .allow_dynamic_platform(true)
        .allow_cached_keys(true)
        .allow_smt(true)
        .pin_amd_roots(AmdProduct::Milan, AmdRootChain::from_pem(&ark, &ask).expect("AMD chain"))
        .accept_tcb(
            TcbException::new(
                TcbStatus::ConfigurationAndSwHardeningNeeded,
                &["INTEL-SA-00289", "INTEL-SA-00615"],
            )
            .expect("exception"),
        );
    let mut cases: Vec<(&str, Evidence, VerificationTime)> = Vec::new();
    for (name, quote, coll, time) in [
        ("sgx", "intel/sgx_quote", "intel/sgx_quote_collateral.json", INTEL_TIME),
        ("tdx", "intel/tdx_quote", "intel/tdx_quote_collateral.json", INTEL_TIME),
        ("tdx_1.5", "intel/tdx_quote_td15ex", "intel/tdx_quote_td15ex_collateral.json", TD15_TIME),
    ] {
        let (Some(q), Some(col)) = (read(quote), read(coll)) else { continue };
        let parsed = dcap_qvl::quote::Quote::parse(&q).expect("quote");
        let ev = DcapEvidence::new(q, &col).expect("collateral");
        if let Some(r) = parsed.report.as_sgx() {
            policy = policy.expect_sgx(SgxIdentity::Enclave { mr_enclave: r.mr_enclave });
            cases.push((name, Evidence::Sgx(ev), time));
        } else if let Some(r) = parsed.report.as_td10() {
            policy = policy
                .expect_tdx(TdxIdentity::new(r.mr_td, [r.rt_mr0, r.rt_mr1, r.rt_mr2, r.rt_mr3]));
            cases.push((name, Evidence::Tdx(ev), time));
        }
    }
    if let (Some(hex_report), Some(vcek)) =
        (read("amd/report_milan.hex"), read("amd/vcek_milan.der"))
    {
        let text: String = String::from_utf8_lossy(&hex_report).split_whitespace().collect();
        let report = hex::decode(text).expect("hex");
        let measurement: [u8; 48] = report[0x90..0xC0].try_into().expect("measurement");
        policy = policy.expect_snp(SnpIdentity { measurement, min_tcb: SnpTcb::default() });
        let ev = SnpEvidence::new(report, vcek, AmdProduct::Milan).expect("snp");
        cases.push(("sev_snp", Evidence::SevSnp(ev), INTEL_TIME));
    }
    let verifier = Verifier::new(policy);
    for (name, ev, time) in &cases {
        verifier.appraise(ev, *time).expect("sample verifies");
        print_cpu_time(name, || verifier.appraise(black_box(ev), *time));
    }
    let mut group = c.benchmark_group("tee_verify");
    for (name, ev, time) in &cases {
        group.bench_function(*name, |b| b.iter(|| verifier.appraise(black_box(ev), *time)));
    }
    group.finish();
}

/// Prints the thread CPU time of one call, averaged over 200 calls. On a loaded machine this is
/// the cost of a verification; criterion's wall time also counts time spent descheduled.
fn print_cpu_time<T>(name: &str, mut f: impl FnMut() -> T) {
    const N: u32 = 200;
    for _ in 0..10 {
        black_box(f());
    }
    let start = cpu_time::ThreadTime::now();
    for _ in 0..N {
        black_box(f());
    }
    let per_call = start.elapsed() / N;
    println!(
        "tee_verify/{name}: thread CPU time {:.3} ms per verification",
        per_call.as_secs_f64() * 1e3
    );
}

fn bench_simulated(c: &mut Criterion) {
    let measurement: [u8; 48] = {
        let mut m = [0u8; 48];
        m[..32].copy_from_slice(&Sha256::digest(b"bench enclave"));
        m
    };
    let enclave = SimulatedEnclave::new(measurement).expect("enclave");
    let ev = enclave.attest(&JobCommitment([9; 32])).expect("attest");
    let verifier = Verifier::new(Policy::new().allow_insecure_simulated(measurement));
    print_cpu_time("simulated", || verifier.appraise(black_box(&ev), INTEL_TIME));
    let mut group = c.benchmark_group("tee_verify");
    group.bench_function("simulated", |b| b.iter(|| verifier.appraise(black_box(&ev), INTEL_TIME)));
    group.finish();
    let blob = vec![0x5au8; 4096];
    let mut group = c.benchmark_group("tee_simulated_seal");
    group.throughput(criterion::Throughput::Bytes(blob.len() as u64));
    group.bench_function("seal_4KiB", |b| b.iter(|| enclave.seal(black_box(&blob), b"aad")));
    let sealed = enclave.seal(&blob, b"aad").expect("seal");
    group.bench_function("unseal_4KiB", |b| b.iter(|| enclave.unseal(black_box(&sealed), b"aad")));
    group.finish();
}

criterion_group!(benches, bench_real, bench_simulated);
criterion_main!(benches);
