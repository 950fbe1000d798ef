//! `tessera did backup`, `did backup-share` and `did recover`, driven as separate processes:
//! alice backs up her DID to three holders (threshold 2), loses her home, and recovers from a
//! new one while one holder is offline and another's share file is corrupted (detected, reported
//! and skipped); the DID then answers to the new key only.

mod common;

use std::path::Path;

use common::{ok, tessera};

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("{e}: {s}"))
}

fn home(dir: &Path, name: &str, suite: &str, ledger: &str) -> std::path::PathBuf {
    let h = dir.join(name);
    ok(tessera(Some(&h), &["init", "--name", name, "--suite", suite, "--ledger", ledger]));
    ok(tessera(Some(&h), &["did", "create"]));
    h
}

#[test]
fn three_holders_threshold_two_one_offline_one_corrupted() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let l = ledger.to_str().unwrap();
    ok(tessera(None, &["ledger", "start", "--dir", l]));
    let alice = home(dir.path(), "alice", "ed25519", l);
    let bob = home(dir.path(), "bob", "sm2", l);
    let carol = home(dir.path(), "carol", "ed25519", l);
    let dave = home(dir.path(), "dave", "sm2", l);

    let v = json(&ok(tessera(
        Some(&alice),
        &[
            "--json",
            "did",
            "backup",
            "--holders",
            "did:tessera:bob,did:tessera:carol,did:tessera:dave",
            "--threshold",
            "2",
            "--id",
            "b1",
        ],
    )));
    let rk = v["recovery_key"].as_str().unwrap().to_owned();
    assert!(rk.starts_with("did:key:z"), "{v}");
    assert_eq!(v["holders"].as_array().unwrap().len(), 3);
    let doc = json(&ok(tessera(Some(&bob), &["--json", "did", "resolve", "did:tessera:alice"])));
    assert_eq!(doc["controllers"], serde_json::json!(["did:tessera:alice", rk]));
    // A threshold of one is refused.
    let o = tessera(
        Some(&alice),
        &["did", "backup", "--holders", "did:tessera:bob,did:tessera:carol", "--threshold", "1"],
    );
    assert!(!o.status.success());

    // Alice loses her home and makes a new one with the same name.
    let old = dir.path().join("alice-old");
    std::fs::rename(&alice, &old).unwrap();
    let alice2 = dir.path().join("alice-new");
    ok(tessera(Some(&alice2), &["init", "--name", "alice", "--ledger", l]));
    let req = json(&ok(tessera(Some(&alice2), &["--json", "did", "recover", "--backup", "b1"])));
    let new_key = req["new_key"].as_str().unwrap().to_owned();
    assert!(req["holder_command"].as_str().unwrap().contains(&new_key));

    // Bob is offline; carol and dave answer, but dave's file is damaged on the way.
    let share = |h: &Path, name: &str| {
        let f = dir.path().join(format!("{name}.share"));
        ok(tessera(
            Some(h),
            &[
                "did",
                "backup-share",
                "--did",
                "did:tessera:alice",
                "--backup",
                "b1",
                "--to",
                &new_key,
                "--out",
                f.to_str().unwrap(),
            ],
        ));
        f
    };
    let carol_f = share(&carol, "carol");
    let dave_f = share(&dave, "dave");
    let mut d: serde_json::Value = json(&std::fs::read_to_string(&dave_f).unwrap());
    let mut sealed = d["sealed"].as_str().unwrap().to_owned();
    let mid = sealed.len() / 2;
    let flipped = if &sealed[mid..=mid] == "0" { "1" } else { "0" };
    sealed.replace_range(mid..=mid, flipped);
    d["sealed"] = serde_json::Value::String(sealed);
    std::fs::write(&dave_f, d.to_string()).unwrap();
    // A non-holder has no share.
    let eve = home(dir.path(), "eve", "ed25519", l);
    let o = tessera(
        Some(&eve),
        &[
            "did",
            "backup-share",
            "--did",
            "did:tessera:alice",
            "--backup",
            "b1",
            "--to",
            &new_key,
            "--out",
            dir.path().join("eve.share").to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());

    let args = |files: &[&Path]| {
        let mut a = vec![
            "--json".to_owned(),
            "did".into(),
            "recover".into(),
            "--backup".into(),
            "b1".into(),
        ];
        for f in files {
            a.push("--share".into());
            a.push(f.to_str().unwrap().into());
        }
        a
    };
    let run = |files: &[&Path]| {
        let a = args(files);
        tessera(Some(&alice2), &a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let o = run(&[&carol_f, &dave_f]);
    assert_eq!(o.status.code(), Some(9), "one good share must not recover");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("dave.share"), "the bad file is named: {err}");
    assert!(!err.contains("carol.share"), "{err}");

    // Bob comes back: carol and bob recover it; dave's file is reported and skipped.
    let bob_f = share(&bob, "bob");
    let o = run(&[&dave_f, &carol_f, &bob_f]);
    let v = json(&ok(o));
    let used: Vec<u64> =
        v["used"].as_array().unwrap().iter().map(|u| u[0].as_u64().unwrap()).collect();
    assert_eq!(used, vec![2, 1], "{v}");
    let refused = v["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{v}");
    assert!(refused[0][0].as_str().unwrap().ends_with("dave.share"));

    // Alice's DID now answers to the new home's key, and to nothing else.
    let doc = json(&ok(tessera(Some(&bob), &["--json", "did", "resolve", "did:tessera:alice"])));
    let mine = json(&ok(tessera(Some(&alice2), &["--json", "did", "show"])));
    assert_eq!(doc["methods"], mine["methods"]);
    assert_eq!(doc["controllers"], serde_json::json!([]));
    let data = dir.path().join("a.csv");
    std::fs::write(&data, "value\n1\n2\n").unwrap();
    ok(tessera(Some(&alice2), &["dataset", "register", "alice-data", data.to_str().unwrap()]));
    let o = tessera(Some(&old), &["dataset", "register", "old-data", data.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4), "the lost key no longer signs for alice");
    // The same share files cannot rotate it again: the recovery key is no longer a controller.
    let o = run(&[&carol_f, &bob_f]);
    assert!(!o.status.success());
}
