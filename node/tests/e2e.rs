//! End-to-end tests: a ledger and three nodes as separate `tessera` processes on loopback.

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use common::{
    NAMES, anchored, finish, grant, joint_stats_spec, node_home, ok, tessera, values_csv,
};

struct Net {
    dir: tempfile::TempDir,
    ledger: PathBuf,
    homes: Vec<PathBuf>,
}

impl Net {
    fn home(&self, i: usize) -> &Path {
        &self.homes[i]
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Ledger, three nodes with published DIDs and registered data; grants by `granting`.
    fn new(values: usize, squares: &str, granting: &[usize]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("ledger");
        ok(tessera(None, &["ledger", "start", "--dir", ledger.to_str().unwrap()]));
        let homes = NAMES
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let flags = ["--ledger", ledger.to_str().unwrap()];
                node_home(dir.path(), name, &flags, &values_csv(i, values))
            })
            .collect();
        std::fs::write(dir.path().join("job.toml"), joint_stats_spec("job-1", squares)).unwrap();
        let net = Self { dir, ledger, homes };
        for &i in granting {
            grant(net.home(i), NAMES[i], &net.path("job.toml"), &[]);
        }
        net
    }

    fn spawn(&self, i: usize, extra: &[&str]) -> Child {
        let spec = self.path("job.toml");
        let out = self.path(&format!("result-{i}.json"));
        let mut args = vec!["-v", "job", "run", "--spec", spec.to_str().unwrap()];
        args.extend_from_slice(&["--out", out.to_str().unwrap()]);
        args.extend_from_slice(extra);
        common::spawn(self.home(i), &args)
    }

    fn anchored(&self) -> bool {
        anchored(self.home(0), "job-1")
    }
}

#[test]
fn job_succeeds_verifies_and_tampering_is_rejected() {
    let net = Net::new(30, "triples", &[0, 1, 2]);
    let kids: Vec<Child> = (0..3).map(|i| net.spawn(i, &[])).collect();
    for (i, k) in kids.into_iter().enumerate() {
        let (code, text) = finish(k);
        assert_eq!(code, 0, "party {i}: {text}");
    }
    let r0 = std::fs::read(net.path("result-0.json")).unwrap();
    for i in 1..3 {
        assert_eq!(std::fs::read(net.path(&format!("result-{i}.json"))).unwrap(), r0);
    }
    let v: serde_json::Value = serde_json::from_slice(&r0).unwrap();
    let expect: u64 =
        (0..3).flat_map(|i| (0..30).map(move |k| ((k * 7 + i * 13) % 90 + 10) as u64)).sum();
    assert_eq!(v["sum"].as_u64(), Some(expect));
    assert_eq!(v["count"].as_u64(), Some(90));

    // verify, with the result file, against the ledger's validator set.
    let result = net.path("result-0.json");
    let s = ok(tessera(
        Some(net.home(1)),
        &["--json", "verify", "job-1", "--result", result.to_str().unwrap()],
    ));
    let v: serde_json::Value = serde_json::from_str(s.trim()).unwrap();
    assert_eq!(v["participants"].as_array().unwrap().len(), 3);

    // A tampered result file is rejected.
    let mut bad = r0.clone();
    let pos = bad.iter().position(|b| b.is_ascii_digit()).unwrap();
    bad[pos] = if bad[pos] == b'9' { b'1' } else { bad[pos] + 1 };
    let badf = net.path("bad-result.json");
    std::fs::write(&badf, &bad).unwrap();
    let o = tessera(Some(net.home(1)), &["verify", "job-1", "--result", badf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(9), "{}", String::from_utf8_lossy(&o.stderr));

    // An exported receipt verifies offline; every single-byte tamper is rejected.
    let rf = net.path("receipt.bin");
    ok(tessera(Some(net.home(2)), &["job", "status", "job-1", "--receipt", rf.to_str().unwrap()]));
    let genesis = net.ledger.join("genesis.json");
    let g = genesis.to_str().unwrap();
    ok(tessera(None, &["verify", "job-1", "--receipt", rf.to_str().unwrap(), "--genesis", g]));
    let receipt = std::fs::read(&rf).unwrap();
    let step = (receipt.len() / 12).max(1);
    for pos in (0..receipt.len()).step_by(step) {
        let mut t = receipt.clone();
        t[pos] ^= 0x01;
        let tf = net.path("tampered.bin");
        std::fs::write(&tf, &t).unwrap();
        let o =
            tessera(None, &["verify", "job-1", "--receipt", tf.to_str().unwrap(), "--genesis", g]);
        assert_eq!(o.status.code(), Some(9), "byte {pos} flipped was accepted");
    }
}

#[test]
fn missing_grant_is_refused_before_any_data_moves() {
    // carol never grants her data set.
    let net = Net::new(10, "owner", &[0, 1]);
    let start = Instant::now();
    let kids: Vec<Child> = (0..3).map(|i| net.spawn(i, &["--connect-timeout", "20"])).collect();
    for (i, k) in kids.into_iter().enumerate() {
        let (code, text) = finish(k);
        assert_eq!(code, 5, "party {i}: {text}");
        assert!(text.contains("no grant g1 on data set carol-data"), "{text}");
        assert!(!text.contains("connected to peer") && !text.contains("accepted peer"), "{text}");
    }
    // Refused at once, not after a connection timeout.
    assert!(start.elapsed() < Duration::from_secs(15));
    assert!(!net.anchored());
}

/// Reads a child's stderr until a line contains `pat`; returns the reader for the rest.
fn wait_for(c: &mut Child, pat: &str) -> std::io::Lines<BufReader<std::process::ChildStderr>> {
    let err = c.stderr.take().unwrap();
    let mut lines = BufReader::new(err).lines();
    loop {
        let line = lines.next().expect("log ended before the expected line").unwrap();
        if line.contains(pat) {
            return lines;
        }
    }
}

fn finish_with(
    c: Child,
    rest: std::io::Lines<BufReader<std::process::ChildStderr>>,
) -> (i32, String) {
    let text: Vec<String> = rest.map_while(Result::ok).collect();
    let (code, out) = finish(c);
    (code, format!("{out}{}", text.join("\n")))
}

#[test]
fn node_with_another_dids_certificate_is_refused() {
    let net = Net::new(10, "owner", &[0, 1, 2]);
    // mallory has her own keys and DID, and pretends to be bob (bob's config, her own keys).
    let mallory = net.path("mallory");
    ok(tessera(
        Some(&mallory),
        &["init", "--name", "mallory", "--ledger", net.ledger.to_str().unwrap()],
    ));
    ok(tessera(Some(&mallory), &["did", "create"]));
    std::fs::copy(net.home(1).join("config.toml"), mallory.join("config.toml")).unwrap();
    let spec = net.path("job.toml");
    let spawn = |home: &Path| {
        let args = ["-v", "job", "run", "--spec", spec.to_str().unwrap(), "--connect-timeout", "8"];
        common::spawn(home, &args)
    };
    // mallory listens on bob's endpoint first, so carol's dial reaches her.
    let mut m = spawn(&mallory);
    let m_rest = wait_for(&mut m, "listening on");
    let (cc, tc) = finish(spawn(net.home(2)));
    // carol dials "bob" and finds a certificate without bob's key.
    assert_eq!(cc, 6, "carol: {tc}");
    assert!(tc.contains("did:tessera:bob"), "{tc}");
    // mallory's certificate carries no participant's key: alice refuses her handshake.
    let a = spawn(net.home(0));
    let (cm, tm) = finish_with(m, m_rest);
    assert_eq!(cm, 6, "mallory: {tm}");
    // alice never hears from a genuine bob or carol.
    let (ca, ta) = finish(a);
    assert_eq!(ca, 7, "alice: {ta}");
    assert!(ta.contains("refused an incoming connection"), "{ta}");
    assert!(!net.anchored());
}

#[test]
fn killing_a_node_mid_job_stops_the_others_and_anchors_nothing() {
    let net = Net::new(150, "triples", &[0, 1, 2]);
    let extra = ["--idle-timeout", "2"];
    let a = net.spawn(0, &extra);
    let b = net.spawn(1, &extra);
    let mut c = net.spawn(2, &extra);
    // Wait until carol is inside the computation, then kill her.
    let _rest = wait_for(&mut c, "VOLE SPDZ setup");
    c.kill().unwrap();
    let _ = c.wait();
    let t = Instant::now();
    for (i, k) in [a, b].into_iter().enumerate() {
        let (code, text) = finish(k);
        assert_eq!(code, 7, "party {i}: {text}");
        assert!(text.contains("nothing anchored"), "{text}");
    }
    assert!(t.elapsed() < Duration::from_secs(30));
    assert!(!net.anchored());
}
