//! The insecure simulated backend: evidence is refused by default, accepted only by an opted-in
//! policy with `insecure` claims, bound to one job and key; sealing is bound to the measurement.

use tessera_tee::{
    Assurance, Binding, Evidence, JobCommitment, Measurement, Platform, Policy, SimulatedEnclave,
    SimulatedEvidence, TcbClaim, TeeBackend, TeeError, VerificationTime, Verifier,
};

const NOW: VerificationTime = VerificationTime::from_unix_secs(1_750_377_600);
const MEASUREMENT: [u8; 48] = [0xA5; 48];
const JOB: JobCommitment = JobCommitment([0x10; 32]);

fn opted_in() -> Verifier {
    Verifier::new(Policy::new().allow_insecure_simulated(MEASUREMENT))
}

fn simulated(ev: &Evidence) -> &SimulatedEvidence {
    match ev {
        Evidence::Simulated(s) => s,
        _ => panic!("not simulated"),
    }
}

#[test]
fn opted_in_policy_accepts_with_insecure_claims() {
    let enclave = SimulatedEnclave::new(MEASUREMENT).unwrap();
    let ev = enclave.attest(&JOB).unwrap();
    let binding = Binding::new(JOB, enclave.enclave_key_hash());
    let claims = opted_in().verify_bound(&ev, &binding, NOW).unwrap();
    assert_eq!(claims.platform, Platform::Simulated);
    assert_eq!(claims.assurance, Assurance::Insecure);
    assert!(claims.is_insecure());
    assert_eq!(claims.measurement, Measurement::Simulated { measurement: MEASUREMENT });
    assert_eq!(claims.tcb, TcbClaim::None);
    assert_eq!(claims.binding, Some(binding));
    assert_eq!(claims.report_data, binding.report_data().0);
    assert_eq!(claims.verified_at, NOW);
}

#[test]
fn default_policy_refuses_simulated_evidence() {
    let enclave = SimulatedEnclave::new(MEASUREMENT).unwrap();
    let ev = enclave.attest(&JOB).unwrap();
    let binding = Binding::new(JOB, enclave.enclave_key_hash());
    let err = Verifier::new(Policy::new()).verify_bound(&ev, &binding, NOW).unwrap_err();
    assert!(matches!(err, TeeError::SimulatedRefused), "{err}");
}

#[test]
fn opt_in_is_per_measurement() {
    let enclave = SimulatedEnclave::new([0x5A; 48]).unwrap();
    let ev = enclave.attest(&JOB).unwrap();
    assert!(matches!(opted_in().appraise(&ev, NOW), Err(TeeError::UnexpectedMeasurement)));
}

#[test]
fn binding_for_another_job_or_key_fails() {
    let enclave = SimulatedEnclave::new(MEASUREMENT).unwrap();
    let other = SimulatedEnclave::new(MEASUREMENT).unwrap();
    let ev = enclave.attest(&JOB).unwrap();
    let verifier = opted_in();
    let other_job = Binding::new(JobCommitment([0x11; 32]), enclave.enclave_key_hash());
    assert!(matches!(verifier.verify_bound(&ev, &other_job, NOW), Err(TeeError::BindingMismatch)));
    let other_key = Binding::new(JOB, other.enclave_key_hash());
    assert!(matches!(verifier.verify_bound(&ev, &other_key, NOW), Err(TeeError::BindingMismatch)));
}

#[test]
fn every_flipped_byte_is_refused() {
    let enclave = SimulatedEnclave::new(MEASUREMENT).unwrap();
    let ev = enclave.attest(&JOB).unwrap();
    let bytes = simulated(&ev).to_bytes();
    let verifier = opted_in();
    // Round trip first.
    let back = Evidence::Simulated(SimulatedEvidence::from_bytes(&bytes).unwrap());
    assert!(verifier.appraise(&back, NOW).is_ok());
    for i in 0..bytes.len() {
        let mut t = bytes.clone();
        t[i] ^= 0x01;
        let refused = match SimulatedEvidence::from_bytes(&t) {
            Err(_) => true,
            Ok(s) => verifier.appraise(&Evidence::Simulated(s), NOW).is_err(),
        };
        assert!(refused, "flipping byte {i} was not noticed");
    }
}

#[test]
fn malformed_evidence_is_an_error_not_a_panic() {
    let enclave = SimulatedEnclave::new(MEASUREMENT).unwrap();
    let bytes = simulated(&enclave.attest(&JOB).unwrap()).to_bytes();
    for len in 0..bytes.len() + 3 {
        let mut b = bytes.clone();
        b.resize(len, 0);
        if len != bytes.len() {
            assert!(SimulatedEvidence::from_bytes(&b).is_err(), "length {len}");
        }
    }
}

#[test]
fn sealing_is_bound_to_measurement_and_platform() {
    let secret = [7u8; 32];
    let enclave = SimulatedEnclave::on_platform(MEASUREMENT, secret).unwrap();
    let sealed = enclave.seal(b"model weights", b"job-1").unwrap();
    assert!(!sealed.windows(13).any(|w| w == b"model weights"));
    assert_eq!(enclave.unseal(&sealed, b"job-1").unwrap().as_slice(), b"model weights");
    // The same measurement on the same platform (a restart) opens it.
    let restarted = SimulatedEnclave::on_platform(MEASUREMENT, secret).unwrap();
    assert_eq!(restarted.unseal(&sealed, b"job-1").unwrap().as_slice(), b"model weights");
    // Another measurement, another platform, other aad, or a flipped byte do not.
    let other_code = SimulatedEnclave::on_platform([0x5A; 48], secret).unwrap();
    assert!(matches!(other_code.unseal(&sealed, b"job-1"), Err(TeeError::UnsealFailed)));
    let other_machine = SimulatedEnclave::on_platform(MEASUREMENT, [8u8; 32]).unwrap();
    assert!(other_machine.unseal(&sealed, b"job-1").is_err());
    assert!(enclave.unseal(&sealed, b"job-2").is_err());
    for i in 0..sealed.len() {
        let mut t = sealed.clone();
        t[i] ^= 0x80;
        assert!(enclave.unseal(&t, b"job-1").is_err(), "byte {i}");
    }
    for len in 0..sealed.len() {
        assert!(enclave.unseal(&sealed[..len], b"job-1").is_err());
    }
}

#[test]
fn seals_are_randomised() {
    let enclave = SimulatedEnclave::new(MEASUREMENT).unwrap();
    assert_ne!(enclave.seal(b"x", b"").unwrap(), enclave.seal(b"x", b"").unwrap());
}

#[test]
fn evidence_of_one_job_is_no_evidence_for_another_job_or_ledger() {
    // Evidence made for job "j-1" of a program on one ledger, replayed for the next job of the
    // same program, or for a job of the same id on another ledger.
    let (chain, program) = ([0x01; 32], [0x02; 32]);
    let job = JobCommitment::for_job(&chain, "j-1", &program);
    let enclave = SimulatedEnclave::new(MEASUREMENT).unwrap();
    let ev = enclave.attest(&job).unwrap();
    let verifier = opted_in();
    let key = enclave.enclave_key_hash();
    verifier.verify_bound(&ev, &Binding::new(job, key), NOW).unwrap();
    for other in [
        JobCommitment::for_job(&chain, "j-2", &program),
        JobCommitment::for_job(&[0x03; 32], "j-1", &program),
        JobCommitment::for_job(&chain, "j-1", &[0x04; 32]),
    ] {
        let r = verifier.verify_bound(&ev, &Binding::new(other, key), NOW);
        assert!(matches!(r, Err(TeeError::BindingMismatch)), "{other:?}");
    }
}
