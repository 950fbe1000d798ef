//! End-to-end over the served ledger: a `tessera ledger start --listen` process and three nodes
//! as separate processes that reach it over QUIC with mutual TLS and find each other through the
//! `TesseraNode` endpoints of their DID documents. A job succeeds and verifies; a revoked, an
//! expired and a used-up grant are each refused before any data moves (exit code 5, a message
//! naming the cause, no peer connection, nothing anchored); a stopped ledger is a clear error.

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, NAMES, finish, joint_stats_spec, node_home, ok, tessera, values_csv};

/// The ledger service process; killed on drop.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Net {
    dir: tempfile::TempDir,
    service: Option<Service>,
    homes: Vec<PathBuf>,
}

impl Net {
    /// A served ledger and three nodes (DIDs published through it, data registered).
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("ledger");
        let mut child = Command::new(BIN)
            .args(["--json", "ledger", "start", "--dir", ledger.to_str().unwrap()])
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (endpoint, validator) = loop {
            let line = lines.next().expect("ledger service ended").unwrap();
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            if let (Some(e), Some(k)) = (v["serving"].as_str(), v["validator"].as_str()) {
                break (e.to_owned(), k.to_owned());
            }
        };
        let service = Service(child);
        let flags = ["--ledger-remote", &endpoint, "--ledger-validator", &validator];
        let homes = NAMES
            .iter()
            .enumerate()
            .map(|(i, name)| node_home(dir.path(), name, &flags, &values_csv(i, 20)))
            .collect();
        let net = Self { dir, service: Some(service), homes };
        net.write_spec("job-1");
        net.write_spec("job-2");
        net
    }

    fn home(&self, i: usize) -> &Path {
        &self.homes[i]
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write_spec(&self, job: &str) {
        std::fs::write(self.path(&format!("{job}.toml")), joint_stats_spec(job, "owner")).unwrap();
    }

    fn grant(&self, i: usize, extra: &[&str]) {
        common::grant(self.home(i), NAMES[i], &self.path("job-1.toml"), extra);
    }

    fn spawn(&self, i: usize, job: &str) -> Child {
        let spec = self.path(&format!("{job}.toml"));
        let out = self.path(&format!("{job}-result-{i}.json"));
        let (spec, out) = (spec.to_str().unwrap(), out.to_str().unwrap());
        let args = ["-v", "job", "run", "--spec", spec, "--out", out, "--connect-timeout", "20"];
        common::spawn(self.home(i), &args)
    }

    /// Runs `job` on all three nodes; returns each exit code and output.
    fn run(&self, job: &str) -> Vec<(i32, String)> {
        let kids: Vec<Child> = (0..3).map(|i| self.spawn(i, job)).collect();
        kids.into_iter().map(finish).collect()
    }

    fn anchored(&self, job: &str) -> bool {
        common::anchored(self.home(0), job)
    }

    fn grant_uses(&self, i: usize) -> u64 {
        // The ledger directory is readable locally too; the service does not lock it out.
        let l = tessera_node::ledgerdir::LedgerDir::open(&self.path("ledger")).unwrap();
        let key = tessera_ledger::StateKey::Grant {
            dataset: format!("{}-data", NAMES[i]),
            grant: "g1".into(),
        };
        let g: tessera_ledger::GrantRecord = l.read(|l| Ok(l.state(&key)?)).unwrap().unwrap();
        g.uses
    }
}

/// Every party is refused with exit code 5 and `why`, before any peer connection.
fn assert_refused(runs: &[(i32, String)], why: &str) {
    for (i, (code, text)) in runs.iter().enumerate() {
        assert_eq!(*code, 5, "party {i}: {text}");
        assert!(text.contains(why), "party {i} does not say {why:?}: {text}");
        assert!(
            !text.contains("connected to peer") && !text.contains("accepted peer"),
            "party {i} moved data: {text}"
        );
    }
}

#[test]
fn revoked_grant_is_refused_before_any_data_moves() {
    let net = Net::new();
    for i in 0..3 {
        net.grant(i, &[]);
    }
    ok(tessera(Some(net.home(2)), &["revoke", "--dataset", "carol-data", "--grant", "g1"]));
    let t = Instant::now();
    assert_refused(&net.run("job-1"), "grant g1 on carol-data is revoked");
    assert!(t.elapsed() < Duration::from_secs(15), "refused only after a timeout");
    assert!(!net.anchored("job-1"));
    assert_eq!(net.grant_uses(0), 0);
}

#[test]
fn expired_grant_is_refused_before_any_data_moves() {
    let net = Net::new();
    net.grant(0, &[]);
    net.grant(1, &["--valid-secs", "2"]);
    net.grant(2, &[]);
    std::thread::sleep(Duration::from_millis(2500));
    assert_refused(&net.run("job-1"), "grant g1 on bob-data has expired");
    assert!(!net.anchored("job-1"));
}

#[test]
fn job_over_served_ledger_verifies_then_a_used_up_grant_is_refused() {
    let mut net = Net::new();
    for i in 0..3 {
        net.grant(i, &["--uses", "1"]);
    }
    // A peer that is not up is a clear error (exit 7) once the connect timeout has passed.
    let spec = net.path("job-1.toml");
    let args = ["job", "run", "--spec", spec.to_str().unwrap(), "--connect-timeout", "3"];
    let c = tessera(Some(net.home(2)), &args);
    let err = String::from_utf8_lossy(&c.stderr);
    assert_eq!(c.status.code(), Some(7), "{err}");
    assert!(err.contains("unreachable at 127.0.0.1:"), "{err}");
    // bob moves to another port and publishes it: peers find him through his DID document.
    let port = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    ok(tessera(Some(net.home(1)), &["did", "update", "--listen", &port.to_string()]));
    let s = ok(tessera(Some(net.home(0)), &["--json", "did", "resolve", "did:tessera:bob"]));
    let doc: serde_json::Value = serde_json::from_str(s.trim()).unwrap();
    assert_eq!(doc["service"][0]["serviceEndpoint"], format!("quic://{port}"));
    assert_eq!(doc["version"], 1);
    // The first job runs end to end through the served ledger and uses every grant once.
    for (i, (code, text)) in net.run("job-1").iter().enumerate() {
        assert_eq!(*code, 0, "party {i}: {text}");
    }
    assert!(net.anchored("job-1"));
    let result = net.path("job-1-result-1.json");
    let s = ok(tessera(
        Some(net.home(1)),
        &["--json", "verify", "job-1", "--result", result.to_str().unwrap()],
    ));
    let v: serde_json::Value = serde_json::from_str(s.trim()).unwrap();
    assert_eq!(v["participants"].as_array().unwrap().len(), 3);
    assert_eq!(net.grant_uses(2), 1);
    // Peers were found through the DID documents' service endpoints.
    let s = ok(tessera(Some(net.home(0)), &["--json", "did", "resolve", "did:tessera:bob"]));
    let doc: serde_json::Value = serde_json::from_str(s.trim()).unwrap();
    assert_eq!(doc["service"][0]["type"], "TesseraNode");
    assert!(
        doc["service"][0]["serviceEndpoint"].as_str().unwrap().starts_with("quic://127.0.0.1:")
    );

    // The same program again: the grants allowed one use.
    assert_refused(&net.run("job-2"), "is used up");
    assert!(!net.anchored("job-2"));
    assert_eq!(net.grant_uses(2), 1);

    // With the ledger service gone, commands fail with a clear error and the ledger exit code.
    net.service = None;
    let o = tessera(Some(net.home(0)), &["job", "status", "job-1"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("unreachable"), "{err}");
}
