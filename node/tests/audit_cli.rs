//! `tessera audit` and the grant checks of `tessera verify`, driven as separate processes: a
//! ledger whose genesis names a supervisor, three nodes that run a joint-statistics job, then the
//! supervisor's listings (JSON, CSV), usage report (text, JSON, SVG), saved answers re-checked
//! offline (and refused once tampered), a non-supervisor refused with exit code 5, and `verify`
//! checking the job's grants from the ledger and from an exported proof, before and after a
//! revocation.

mod common;

use std::path::PathBuf;
use std::process::Child;

use tessera_ledger::Decode as _;

use common::{NAMES, finish, grant, joint_stats_spec, node_home, ok, tessera, values_csv};

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("{e}: {s}"))
}

#[test]
fn supervisor_audits_a_real_job_and_verify_checks_its_grants() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let l = ledger.to_str().unwrap();
    ok(tessera(None, &["ledger", "start", "--dir", l, "--supervisor", "did:tessera:regulator"]));
    let genesis = ledger.join("genesis.json");
    let g = genesis.to_str().unwrap();
    assert!(std::fs::read_to_string(&genesis).unwrap().contains("did:tessera:regulator"));
    let homes: Vec<PathBuf> = NAMES
        .iter()
        .enumerate()
        .map(|(i, n)| node_home(dir.path(), n, &["--ledger", l], &values_csv(i, 12)))
        .collect();
    let reg = dir.path().join("regulator");
    ok(tessera(Some(&reg), &["init", "--name", "regulator", "--ledger", l]));
    ok(tessera(Some(&reg), &["did", "create"]));
    let spec = dir.path().join("job.toml");
    std::fs::write(&spec, joint_stats_spec("job-1", "owner")).unwrap();
    for (i, n) in NAMES.iter().enumerate() {
        grant(&homes[i], n, &spec, &[]);
    }
    let kids: Vec<Child> = (0..3)
        .map(|i| {
            let out = dir.path().join(format!("r{i}.json"));
            common::spawn(
                &homes[i],
                &["job", "run", "--spec", spec.to_str().unwrap(), "--out", out.to_str().unwrap()],
            )
        })
        .collect();
    for (i, k) in kids.into_iter().enumerate() {
        let (code, text) = finish(k);
        assert_eq!(code, 0, "party {i}: {text}");
    }

    let audit = |args: &[&str]| tessera(Some(&reg), &[&["audit"], args].concat());
    // Transactions touching alice's data set: its registration, the grant, the job.
    let v = json(&ok(tessera(Some(&reg), &["--json", "audit", "txs", "--dataset", "alice-data"])));
    let kinds: Vec<&str> =
        v.as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["register", "grant", "job"]);
    assert_eq!(v[2]["job"], "job-1");
    assert_eq!(v[2]["grant"], "alice-data/g1;bob-data/g1;carol-data/g1");
    // The same as CSV: a header and three rows.
    let csv = ok(audit(&["--csv", "txs", "--dataset", "alice-data"]));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].contains("kind") && lines[0].contains("height"));
    assert!(lines[3].contains("job-1"));
    // Grants: the job used g1's only use.
    let v = json(&ok(tessera(Some(&reg), &["--json", "audit", "grants", "--dataset", "bob-data"])));
    assert_eq!(v[0]["grant"], "g1");
    assert_eq!(v[0]["state"], "used-up");
    // Blocks: contiguous from 1 to the tip.
    let v = json(&ok(tessera(Some(&reg), &["--json", "audit", "blocks"])));
    let hs: Vec<u64> =
        v.as_array().unwrap().iter().map(|b| b["height"].as_u64().unwrap()).collect();
    assert_eq!(hs, (1..=hs.len() as u64).collect::<Vec<_>>());
    assert!(hs.len() >= 11);
    // The usage report: carol's data was used in job-1, with alice and bob, under g1.
    let svg = dir.path().join("carol.svg");
    let save = dir.path().join("answers.bin");
    let text = ok(audit(&[
        "--save",
        save.to_str().unwrap(),
        "report",
        "--did",
        "did:tessera:carol",
        "--svg",
        svg.to_str().unwrap(),
    ]));
    assert!(text.contains("job job-1"), "{text}");
    assert!(text.contains("used carol-data under grant g1"), "{text}");
    assert!(text.contains("did:tessera:alice;did:tessera:bob;did:tessera:carol"), "{text}");
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(
        picture.starts_with("<svg")
            && picture.contains("job job-1")
            && picture.contains("carol-data/g1")
    );
    let v = json(&ok(tessera(
        Some(&reg),
        &["--json", "audit", "report", "--did", "did:tessera:carol"],
    )));
    assert_eq!(v["datasets"], serde_json::json!(["carol-data"]));
    assert_eq!(v["uses"].as_array().unwrap().len(), 2);
    // The saved answers re-check offline against the genesis; a tampered copy does not.
    let out = ok(tessera(None, &["audit", "check", save.to_str().unwrap(), "--genesis", g]));
    assert!(out.starts_with("OK:"), "{out}");
    let bytes = std::fs::read(&save).unwrap();
    let mut refused = 0;
    for pos in (8..bytes.len()).step_by((bytes.len() / 10).max(1)) {
        let mut t = bytes.clone();
        t[pos] ^= 0x10;
        let tf = dir.path().join("tampered.bin");
        std::fs::write(&tf, &t).unwrap();
        let o = tessera(None, &["audit", "check", tf.to_str().unwrap(), "--genesis", g]);
        if o.status.code() == Some(9) {
            refused += 1;
        } else {
            // Only a cursor byte may change without effect on what is proven.
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
    }
    assert!(refused >= 8, "only {refused} tampers refused");

    // A node that is not a supervisor: refused, exit code 5.
    let o = tessera(Some(&homes[0]), &["audit", "txs", "--did", "did:tessera:bob"]);
    assert_eq!(o.status.code(), Some(5), "{}", String::from_utf8_lossy(&o.stderr));
    // Usage errors: two selectors.
    let o = audit(&["txs", "--did", "did:tessera:bob", "--dataset", "x"]);
    assert_eq!(o.status.code(), Some(2));

    // verify checks the grants: from the ledger, and offline from an exported proof.
    let v = json(&ok(tessera(Some(&homes[1]), &["--json", "verify", "job-1"])));
    assert_eq!(v["grants"].as_array().unwrap().len(), 3);
    let proof = dir.path().join("proof.bin");
    ok(tessera(Some(&homes[2]), &["job", "status", "job-1", "--receipt", proof.to_str().unwrap()]));
    ok(tessera(None, &["verify", "job-1", "--receipt", proof.to_str().unwrap(), "--genesis", g]));
    // Revoked after the job: still verifies, and says where.
    ok(tessera(Some(&homes[0]), &["revoke", "--dataset", "alice-data", "--grant", "g1"]));
    let v = json(&ok(tessera(Some(&homes[1]), &["--json", "verify", "job-1"])));
    let a = v["grants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["dataset"] == "alice-data")
        .unwrap()
        .clone();
    assert!(a["revoked_at"].as_u64().unwrap() > v["anchored_at"].as_u64().unwrap());
    let v =
        json(&ok(tessera(Some(&reg), &["--json", "audit", "grants", "--dataset", "alice-data"])));
    assert_eq!(v[0]["state"], "revoked");
    // A bare receipt without evidence and without a ledger to ask: refused, not waved through.
    let bare = dir.path().join("jobs-receipt.bin");
    let full = std::fs::read(&proof).unwrap();
    let rc = tessera_ledger::Receipt::decode(&mut tessera_ledger::codec::Reader::new(&full[8..]))
        .unwrap();
    std::fs::write(&bare, tessera_ledger::Encode::to_bytes(&rc)).unwrap();
    let o =
        tessera(None, &["verify", "job-1", "--receipt", bare.to_str().unwrap(), "--genesis", g]);
    assert_eq!(o.status.code(), Some(9), "{}", String::from_utf8_lossy(&o.stderr));
    // With the ledger at hand the evidence is fetched and it verifies.
    ok(tessera(None, &["verify", "job-1", "--receipt", bare.to_str().unwrap(), "--ledger", l]));
}
