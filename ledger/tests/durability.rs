//! Crash safety: a child process writing blocks is killed with SIGKILL at varying moments; the
//! database must reopen at the last committed block with state matching its root, and keep going.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tessera_ledger::*;

const CHILD_ENV: &str = "TESSERA_LEDGER_CRASH_CHILD";

fn genesis(validator: &KeyPair) -> Genesis {
    Genesis {
        chain_name: "crash".into(),
        time_ms: 0,
        hash: LedgerHash::Sha256,
        orgs: vec![Org { name: "o".into(), admins: vec![validator.public_key()] }],
        admin_threshold: 1,
        supervisors: vec![],
        validators: ValidatorSet::new(vec![Validator {
            name: "v".into(),
            key: validator.public_key(),
        }])
        .unwrap(),
    }
}

/// The writer run in the child: seals blocks of data-set registrations forever, printing each
/// committed height. Ignored so it only runs when the parent starts it.
#[test]
#[ignore = "child process of `sigkill_mid_write_reopens_at_last_block`"]
fn crash_child_writer() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    let dir = std::path::PathBuf::from(dir);
    let seed: [u8; 32] = std::fs::read(dir.join("validator.key")).unwrap().try_into().unwrap();
    let validator = KeyPair::from_secret(SignatureSuite::Ed25519, &seed).unwrap();
    let g = genesis(&validator);
    let ledger = Ledger::open(dir.join("l.redb"), &g).unwrap();
    let chain = ledger.chain_id();
    let start = ledger.tip().height;
    let guard = SignGuard::open(dir.join("validator.guard")).unwrap();
    let mut engine =
        SingleValidator::new(ledger, validator, guard, EngineConfig::default()).unwrap();
    let user = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let me = KeyRef::did_key(user.public_key());
    let mut nonce = 0u64;
    for b in 0..100_000u64 {
        for _ in 0..50 {
            nonce += 1;
            let body = TxBody::RegisterDataSet {
                id: format!("d-{}-{}-{nonce}", start, b),
                content_hash: HashAlg::Sha256.digest(&nonce.to_be_bytes()),
                schema_hash: HashAlg::Sha256.digest(b"s"),
            };
            engine.submit(Transaction::sign(&chain, me.clone(), nonce, body, &user)).unwrap();
        }
        let out = engine.seal(b + 1).unwrap().unwrap();
        assert!(out.rejected.is_empty());
        println!("committed {}", out.height);
    }
}

#[test]
fn sigkill_mid_write_reopens_at_last_block() {
    let dir = tempfile::tempdir().unwrap();
    let validator = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    std::fs::write(dir.path().join("validator.key"), validator.secret_bytes().as_ref()).unwrap();
    drop(Ledger::create(dir.path().join("l.redb"), &genesis(&validator)).unwrap());
    SignGuard::create(dir.path().join("validator.guard")).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut last_seen = 0u64;
    for round in 0..4u64 {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child_writer", "--ignored", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        // Let it commit a few blocks, then kill it at a moment that varies by round.
        let target = 3 + round * 2;
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut reported = 0u64;
        let mut count = 0;
        while count < target {
            assert!(Instant::now() < deadline, "child made no progress");
            let Some(Ok(line)) = lines.next() else { panic!("child exited early") };
            if let Some(h) = line.strip_prefix("committed ") {
                reported = h.trim().parse().unwrap();
                count += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(3 + 7 * round));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        drop(lines);

        let ledger = Ledger::open_existing(dir.path().join("l.redb")).unwrap();
        let tip = ledger.tip().height;
        assert!(tip >= reported, "lost a committed block: tip {tip} < reported {reported}");
        assert!(tip > last_seen);
        ledger.check_integrity().unwrap();
        // Every transaction of the tip block has a valid receipt.
        let cert = ledger.certificate(tip).unwrap().unwrap();
        cert.verify(ledger.tip(), &ledger.validator_set().unwrap()).unwrap();
        last_seen = tip;
    }
    // After the crashes the ledger keeps working.
    let ledger = Ledger::open_existing(dir.path().join("l.redb")).unwrap();
    let g = ledger.genesis().clone();
    let chain = ledger.chain_id();
    let guard = SignGuard::open(dir.path().join("validator.guard")).unwrap();
    let mut engine =
        SingleValidator::new(ledger, validator, guard, EngineConfig::default()).unwrap();
    let user = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
    let body = TxBody::RegisterDataSet {
        id: "after-crash".into(),
        content_hash: HashAlg::Sha256.digest(b"x"),
        schema_hash: HashAlg::Sha256.digest(b"s"),
    };
    let id = engine
        .submit(Transaction::sign(&chain, KeyRef::did_key(user.public_key()), 1, body, &user))
        .unwrap();
    engine.seal(u64::MAX / 2).unwrap().unwrap();
    verify_receipt(&engine.ledger().tx_receipt(&id).unwrap(), &g.chain_id(), &g.validators)
        .unwrap();
    engine.ledger().check_integrity().unwrap();
}
