//! Item 4c: the ledger service (`tessera ledger start --listen`, a separate process) killed with
//! SIGKILL in a loop while a client submits a stream of transactions through it.
//!
//! The client signs transaction `n` (a data-set registration with nonce `n`) once and submits
//! that same signed transaction until it is settled: acknowledged (the service answered with a
//! receipt the client verified), or refused as a replayed nonce (it had been applied before a
//! kill cut the answer off). Each attempt runs on a fresh connection in its own thread; when the
//! test kills or restarts the service it tells the client, which abandons the attempt in flight
//! (whose answer would otherwise arrive only after QUIC's 30 s idle timeout) and retries. After
//! every kill the database on disk — what the restarted service opens — passes
//! `check_integrity`, its tip certificate verifies, the tip never goes back, and every
//! transaction acknowledged so far has a receipt that verifies. At the end the blocks hold
//! exactly the settled transactions, each once (sum of the headers' transaction counts), and the
//! signer's nonce is the last settled one.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use tessera_ledger::{Hash32, HashAlg, StateKey, Transaction, TxBody, verify_receipt};
use tessera_node::Error;
use tessera_node::home::{Home, RemoteLedger as RemoteConfig, free_loopback_addr};
use tessera_node::ledgerclient::RemoteLedger;
use tessera_node::ledgerdir::LedgerDir;

use super::faults::Rng;

const BIN: &str = env!("CARGO_BIN_EXE_tessera");

/// The service process.
struct Service(Child);

impl Service {
    /// Starts the service on `dir` at `addr`; returns it once it serves, with its validator.
    fn start(dir: &Path, addr: std::net::SocketAddr) -> (Self, String) {
        let child = Command::new(BIN)
            .args(["--json", "ledger", "start", "--dir", dir.to_str().unwrap()])
            .args(["--listen", &addr.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut svc = Self(child);
        let mut lines = BufReader::new(svc.0.stdout.take().unwrap()).lines();
        loop {
            let line = lines.next().expect("ledger service ended before serving").unwrap();
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            if let Some(k) = v["validator"].as_str() {
                return (svc, k.to_owned());
            }
        }
    }

    /// SIGKILL, then reap.
    fn kill(self) {
        drop(self);
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill(); // SIGKILL on Unix
        let _ = self.0.wait();
    }
}

/// How a transaction was settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Settled {
    /// The service acknowledged it with a receipt.
    Acked,
    /// Refused as a replay: it had been applied, its answer lost to a kill.
    AppliedBeforeKill,
}

#[derive(Default)]
struct Shared {
    /// Bumped at every kill and every restart: attempts in flight are abandoned.
    epoch: AtomicU64,
    stop: AtomicBool,
    /// Acknowledgements, by nonce (abandoned attempts may add late ones).
    acked: Mutex<BTreeMap<u64, Hash32>>,
    settled: Mutex<BTreeMap<u64, (Hash32, Settled)>>,
    /// The transaction being submitted when the client stopped.
    pending: Mutex<Option<(u64, Hash32)>>,
    abandoned: AtomicU64,
    failed_attempts: AtomicU64,
    /// A failure that ends the test (a rejection other than a replay, a wedged transaction).
    fatal: Mutex<Option<String>>,
}

struct Client {
    home: Home,
    tls: Vec<u8>,
    remote: RemoteConfig,
    chain: Hash32,
}

impl Client {
    fn tx(&self, nonce: u64) -> Transaction {
        let body = TxBody::RegisterDataSet {
            id: format!("soak-{nonce}"),
            content_hash: HashAlg::Sha256.digest(&nonce.to_be_bytes()),
            schema_hash: HashAlg::Sha256.digest(b"soak"),
        };
        Transaction::sign(&self.chain, self.home.key_ref(), nonce, body, self.home.key())
    }

    /// Submits nonces `first..` until told to stop.
    fn run(self, first: u64, shared: Arc<Shared>) {
        let alg = tessera_ledger::LedgerHash::Sha256;
        for nonce in first.. {
            let tx = self.tx(nonce);
            let id = tx.id(alg);
            *shared.pending.lock().unwrap() = Some((nonce, id));
            let since = Instant::now();
            loop {
                if shared.stop.load(Ordering::Relaxed) {
                    return;
                }
                if since.elapsed() > Duration::from_secs(90) {
                    *shared.fatal.lock().unwrap() =
                        Some(format!("transaction {nonce} unsettled after 90 s"));
                    return;
                }
                let epoch = shared.epoch.load(Ordering::Relaxed);
                let (send, recv) = mpsc::channel();
                let (tls, did, remote, tx, sh) = (
                    self.tls.clone(),
                    self.home.did(),
                    self.remote.clone(),
                    tx.clone(),
                    shared.clone(),
                );
                thread::spawn(move || {
                    let r = RemoteLedger::connect(&tls, &did, &remote)
                        .and_then(|l| l.submit_signed(&tx));
                    if let Ok(id) = &r {
                        sh.acked.lock().unwrap().insert(nonce, *id);
                    }
                    let _ = send.send(r);
                });
                let answer = loop {
                    match recv.recv_timeout(Duration::from_millis(20)) {
                        Ok(r) => break Some(r),
                        Err(mpsc::RecvTimeoutError::Timeout)
                            if shared.epoch.load(Ordering::Relaxed) == epoch
                                && !shared.stop.load(Ordering::Relaxed) => {}
                        Err(_) => break None,
                    }
                };
                let settled = match answer {
                    Some(Ok(got)) => {
                        assert_eq!(got, id);
                        Settled::Acked
                    }
                    Some(Err(Error::Rejected(why))) if why.contains("replayed nonce") => {
                        Settled::AppliedBeforeKill
                    }
                    Some(Err(Error::Rejected(why))) => {
                        *shared.fatal.lock().unwrap() =
                            Some(format!("transaction {nonce} rejected: {why}"));
                        return;
                    }
                    Some(Err(_)) => {
                        // The service is down or restarting: retry the same transaction.
                        shared.failed_attempts.fetch_add(1, Ordering::Relaxed);
                        thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                    None => {
                        shared.abandoned.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                };
                shared.settled.lock().unwrap().insert(nonce, (id, settled));
                break;
            }
        }
    }
}

/// What a soak observed (printed).
#[derive(Debug)]
#[allow(dead_code, reason = "read through Debug")]
struct Soak {
    kills: usize,
    settled: usize,
    acked: usize,
    applied_before_kill: usize,
    abandoned: u64,
    failed_attempts: u64,
    tip: u64,
    seconds: f64,
}

/// Checks the database on disk: integrity, the tip's certificate, and a receipt for every
/// transaction in `ids`. Returns the tip height.
fn check_disk(dir: &Path, ids: &[Hash32]) -> u64 {
    LedgerDir::open(dir)
        .unwrap()
        .read(|l| {
            l.check_integrity()?;
            let tip = l.tip().clone();
            let vs = l.validator_set()?;
            if tip.height > 0 {
                let cert = l.certificate(tip.height)?.expect("tip certificate");
                cert.verify(&tip, &vs)?;
            }
            for id in ids {
                verify_receipt(&l.tx_receipt(id)?, &l.chain_id(), &vs)?;
            }
            Ok(tip.height)
        })
        .unwrap_or_else(|e| panic!("ledger on disk after a kill: {e}"))
}

fn soak(kills: usize, seed: u64) -> Soak {
    let start = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let dir: PathBuf = tmp.path().join("ledger");
    let addr = free_loopback_addr().unwrap();
    let (mut svc, validator) = Service::start(&dir, addr);
    let remote = RemoteConfig { endpoint: tessera_node::tls::quic_uri(addr), validator };
    let mut home =
        Home::init(&tmp.path().join("client"), "soak", "ed25519", None, Path::new("")).unwrap();
    home.config.ledger_remote = Some(remote.clone());
    home.save().unwrap();
    tessera_node::ops::did_create(&home).unwrap();
    let tls =
        hex::decode(std::fs::read_to_string(home.dir.join("tls.key")).unwrap().trim()).unwrap();
    let ledger = LedgerDir::open(&dir).unwrap();
    let nonce_key = StateKey::Nonce(home.did().to_string());
    let (base, first) = ledger
        .read(|l| {
            let last = l
                .state_value(&nonce_key)?
                .map_or(0, |b| u64::from_be_bytes(b.as_slice().try_into().expect("8-byte nonce")));
            Ok((l.tip().height, last + 1))
        })
        .unwrap();
    let client = Client { home, tls, remote, chain: ledger.chain_id() };
    let shared = Arc::new(Shared::default());
    let submitter = {
        let sh = shared.clone();
        thread::spawn(move || client.run(first, sh))
    };
    let mut rng = Rng(seed);
    let mut last_tip = base;
    let mut checked = 0u64;
    for k in 0..kills {
        // Let a few submissions through, then kill at a random moment.
        thread::sleep(Duration::from_millis(30 + rng.below(370)));
        svc.kill();
        shared.epoch.fetch_add(1, Ordering::Relaxed);
        let new: Vec<Hash32> =
            shared.acked.lock().unwrap().range(checked..).map(|(_, id)| *id).collect();
        checked = shared.acked.lock().unwrap().keys().next_back().map_or(checked, |n| n + 1);
        let tip = check_disk(&dir, &new);
        assert!(tip >= last_tip, "kill {k}: the tip went back from {last_tip} to {tip}");
        last_tip = tip;
        if let Some(f) = shared.fatal.lock().unwrap().as_ref() {
            panic!("kill {k}: {f}");
        }
        svc = Service::start(&dir, addr).0;
        shared.epoch.fetch_add(1, Ordering::Relaxed);
    }
    // Let the client settle what is in flight, then stop it and the service.
    thread::sleep(Duration::from_millis(500));
    shared.stop.store(true, Ordering::Relaxed);
    submitter.join().unwrap();
    svc.kill();
    if let Some(f) = shared.fatal.lock().unwrap().as_ref() {
        panic!("{f}");
    }
    // Nothing writes any more: the blocks must hold exactly the settled transactions, once.
    let settled = shared.settled.lock().unwrap().clone();
    let acked = shared.acked.lock().unwrap().clone();
    for (n, id) in &acked {
        assert_eq!(settled.get(n).map(|s| s.0), Some(*id), "acknowledged {n} not settled");
    }
    let ids: Vec<Hash32> = settled.values().map(|s| s.0).collect();
    let tip = check_disk(&dir, &ids);
    let pending = *shared.pending.lock().unwrap();
    let (count, pending_applied, last_nonce) = ledger
        .read(|l| {
            let mut count = 0u64;
            for h in base + 1..=l.tip().height {
                count += u64::from(l.header(h)?.expect("header").tx_count);
            }
            for n in settled.keys() {
                assert!(
                    l.state_value(&StateKey::DataSet(format!("soak-{n}")))?.is_some(),
                    "data set of settled transaction {n} missing"
                );
            }
            let pending_applied = match pending {
                Some((n, id)) if !settled.contains_key(&n) => l.tx_receipt(&id).is_ok(),
                _ => false,
            };
            let last = l
                .state_value(&nonce_key)?
                .map(|b| u64::from_be_bytes(b.as_slice().try_into().expect("8-byte nonce")));
            Ok((count, pending_applied, last))
        })
        .unwrap();
    let expected = settled.len() as u64 + u64::from(pending_applied);
    assert_eq!(count, expected, "blocks hold {count} transactions, {expected} were settled");
    let top = settled.keys().next_back().copied().unwrap_or(first - 1) + u64::from(pending_applied);
    assert_eq!(last_nonce, Some(top), "the signer's nonce is not the last settled one");
    // Settled nonces are consecutive: none was skipped.
    assert!(settled.keys().copied().eq(first..first + settled.len() as u64));
    let by = |s: Settled| settled.values().filter(|v| v.1 == s).count();
    Soak {
        kills,
        settled: settled.len(),
        acked: by(Settled::Acked),
        applied_before_kill: by(Settled::AppliedBeforeKill),
        abandoned: shared.abandoned.load(Ordering::Relaxed),
        failed_attempts: shared.failed_attempts.load(Ordering::Relaxed),
        tip,
        seconds: start.elapsed().as_secs_f64(),
    }
}

#[test]
fn ledger_service_killed_under_submissions_loses_and_repeats_nothing() {
    let s = soak(5, 1);
    eprintln!("{s:?}");
    assert!(s.settled > 0);
}

/// The recorded soak (docs/RELIABILITY.md, "Faults").
#[test]
#[ignore = "soak: run with --release --ignored --nocapture (a few minutes)"]
fn ledger_service_kill9_soak() {
    let kills = std::env::var("TESSERA_KILLS").ok().and_then(|s| s.parse().ok()).unwrap_or(120);
    let s = soak(kills, 20);
    eprintln!("{s:?}");
    assert!(s.kills >= 100);
}
