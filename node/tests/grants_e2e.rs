//! End-to-end over the served ledger: a `tessera ledger start --listen` process and three nodes
//! as separate processes that reach it over QUIC with mutual TLS and find each other through the
//! `TesseraNode` endpoints of their DID documents. A job succeeds and verifies; a revoked, an
//! expired and a used-up grant are each refused before any data moves (exit code 5, a message
//! naming the cause, no peer connection, nothing anchored); a stopped ledger is a clear error.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tessera");
const NAMES: [&str; 3] = ["alice", "bob", "carol"];

fn tessera(home: Option<&Path>, args: &[&str]) -> Output {
    let mut c = Command::new(BIN);
    if let Some(h) = home {
        c.arg("--home").arg(h);
    }
    c.args(args).output().expect("run tessera")
}

fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "tessera failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

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
        let mut homes = Vec::new();
        for (i, name) in NAMES.iter().enumerate() {
            let home = dir.path().join(name);
            ok(tessera(
                Some(&home),
                &[
                    "init",
                    "--name",
                    name,
                    "--ledger-remote",
                    &endpoint,
                    "--ledger-validator",
                    &validator,
                ],
            ));
            ok(tessera(Some(&home), &["did", "create"]));
            let data = dir.path().join(format!("{name}.csv"));
            let rows: String =
                (0..20).map(|k| format!("{}\n", (k * 7 + i * 13) % 90 + 10)).collect();
            std::fs::write(&data, format!("value\n{rows}")).unwrap();
            ok(tessera(
                Some(&home),
                &["dataset", "register", &format!("{name}-data"), data.to_str().unwrap()],
            ));
            homes.push(home);
        }
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
        let parties: String = NAMES
            .iter()
            .map(|n| {
                format!(
                    "[[party]]\ndid = \"did:tessera:{n}\"\ndataset = \"{n}-data\"\ngrant = \"g1\"\n"
                )
            })
            .collect();
        let spec = format!(
            "job_id = \"{job}\"\noutputs = [\"did:tessera:alice\", \"did:tessera:bob\", \"did:tessera:carol\"]\n\
             [program]\nname = \"joint-stats\"\nhistogram_edges = [0, 50, 100]\nsquares = \"owner\"\n{parties}"
        );
        std::fs::write(self.path(&format!("{job}.toml")), spec).unwrap();
    }

    fn grant(&self, i: usize, extra: &[&str]) {
        let spec = self.path("job-1.toml");
        let ds = format!("{}-data", NAMES[i]);
        let mut args =
            vec!["grant", "--dataset", &ds, "--grant", "g1", "--spec", spec.to_str().unwrap()];
        args.extend_from_slice(extra);
        ok(tessera(Some(self.home(i)), &args));
    }

    fn spawn(&self, i: usize, job: &str) -> Child {
        let spec = self.path(&format!("{job}.toml"));
        let out = self.path(&format!("{job}-result-{i}.json"));
        Command::new(BIN)
            .arg("--home")
            .arg(self.home(i))
            .args(["-v", "job", "run", "--spec", spec.to_str().unwrap()])
            .args(["--out", out.to_str().unwrap(), "--connect-timeout", "20"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Runs `job` on all three nodes; returns each exit code and output.
    fn run(&self, job: &str) -> Vec<(i32, String)> {
        let kids: Vec<Child> = (0..3).map(|i| self.spawn(i, job)).collect();
        kids.into_iter()
            .map(|c| {
                let o = c.wait_with_output().unwrap();
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                );
                (o.status.code().unwrap_or(-1), text)
            })
            .collect()
    }

    fn anchored(&self, job: &str) -> bool {
        let s = ok(tessera(Some(self.home(0)), &["--json", "job", "status", job]));
        let v: serde_json::Value = serde_json::from_str(s.trim()).unwrap();
        v["anchored"].as_bool().unwrap()
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
    let c = Command::new(BIN)
        .arg("--home")
        .arg(net.home(2))
        .args(["job", "run", "--spec", net.path("job-1.toml").to_str().unwrap()])
        .args(["--connect-timeout", "3"])
        .output()
        .unwrap();
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
