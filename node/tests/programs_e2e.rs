//! End-to-end tests of the programs beyond the default joint statistics, and of outputs to a
//! subset of the parties: a ledger and 2 or 3 nodes as separate `tessera` processes on loopback.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Output};

use common::{node_home, ok, tessera};
use tessera_node::programs::secure_lr::{self, SecureLrParams};

/// A ledger and one node per name, each with its data file registered and granted to the job.
struct Net {
    dir: tempfile::TempDir,
    homes: Vec<PathBuf>,
}

impl Net {
    /// `program` is the `[program]` table's body, `roles` optional `role` lines per party.
    fn new(
        names: &[&str],
        files: &[String],
        program: &str,
        outputs: &[&str],
        roles: &[&str],
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("ledger");
        ok(tessera(None, &["ledger", "start", "--dir", ledger.to_str().unwrap()]));
        let mut homes = Vec::new();
        let mut parties = String::new();
        for (i, name) in names.iter().enumerate() {
            let flags = ["--ledger", ledger.to_str().unwrap()];
            homes.push(node_home(dir.path(), name, &flags, &files[i]));
            let role = roles.get(i).map(|r| format!("role = \"{r}\"\n")).unwrap_or_default();
            parties.push_str(&format!(
                "[[party]]\ndid = \"did:tessera:{name}\"\ndataset = \"{name}-data\"\ngrant = \"g1\"\n{role}"
            ));
        }
        let outs: Vec<String> = outputs.iter().map(|o| format!("\"did:tessera:{o}\"")).collect();
        let spec = format!(
            "job_id = \"job-1\"\noutputs = [{}]\n[program]\n{program}\n{parties}",
            outs.join(", ")
        );
        let spec_path = dir.path().join("job.toml");
        std::fs::write(&spec_path, spec).unwrap();
        for (i, name) in names.iter().enumerate() {
            common::grant(&homes[i], name, &spec_path, &[]);
        }
        Self { dir, homes }
    }

    fn spawn(&self, i: usize) -> Child {
        let spec = self.dir.path().join("job.toml");
        common::spawn(&self.homes[i], &["--json", "job", "run", "--spec", spec.to_str().unwrap()])
    }

    /// Runs the job at every node; returns each one's `--json` output.
    fn run(&self) -> Vec<serde_json::Value> {
        let kids: Vec<Child> = (0..self.homes.len()).map(|i| self.spawn(i)).collect();
        kids.into_iter()
            .enumerate()
            .map(|(i, k)| {
                let o = k.wait_with_output().unwrap();
                let out = String::from_utf8_lossy(&o.stdout).into_owned();
                assert!(
                    o.status.success(),
                    "party {i}: {out}\n{}",
                    String::from_utf8_lossy(&o.stderr)
                );
                serde_json::from_str(out.trim()).unwrap()
            })
            .collect()
    }

    fn job_dir(&self, i: usize) -> PathBuf {
        self.homes[i].join("jobs").join("job-1")
    }
}

fn verify(net: &Net, home: usize, result: &Path) -> Output {
    tessera(Some(&net.homes[home]), &["verify", "job-1", "--result", result.to_str().unwrap()])
}

#[test]
fn joint_stats_to_one_recipient_leaves_the_others_without_the_result() {
    let files: Vec<String> = (0..3)
        .map(|i| (0..20).map(|k| format!("{}\n", 1000 + k * 17 + i * 101)).collect())
        .collect();
    let sum: u64 = (0..3).flat_map(|i| (0..20).map(move |k| 1000 + k * 17 + i * 101)).sum();
    let net = Net::new(
        &["alice", "bob", "carol"],
        &files,
        "name = \"joint-stats\"\nsquares = \"owner\"",
        &["bob"],
        &[],
    );
    let outs = net.run();
    let hash = outs[1]["result_hash"].as_str().unwrap().to_owned();
    // bob learns the statistics.
    assert_eq!(outs[1]["recipient"], true);
    assert_eq!(outs[1]["result"]["sum"].as_u64(), Some(sum));
    let file = net.job_dir(1).join("result.json");
    ok(verify(&net, 0, &file));
    // alice and carol: same anchored hash, a receipt, no result anywhere.
    for i in [0, 2] {
        assert_eq!(outs[i]["recipient"], false);
        assert_eq!(outs[i]["result_hash"].as_str(), Some(hash.as_str()));
        assert!(outs[i].get("result").is_none() && outs[i].get("result_file").is_none());
        assert!(!outs[i].to_string().contains(&sum.to_string()));
        assert!(!net.job_dir(i).join("result.json").exists());
        assert!(net.job_dir(i).join("receipt.bin").exists());
    }
    // The result file carries a salt: without it (a non-recipient guessing the result) the
    // committed hash does not match.
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(v["salt"].as_str().map(str::len), Some(64));
    let mut guess = v.clone();
    guess.as_object_mut().unwrap().remove("salt");
    let guess_file = net.dir.path().join("guess.json");
    std::fs::write(&guess_file, serde_json::to_vec_pretty(&guess).unwrap()).unwrap();
    assert_eq!(verify(&net, 0, &guess_file).status.code(), Some(9));
}

#[test]
fn joint_stats_on_mascot_preprocessing_matches_the_sum() {
    let files: Vec<String> =
        (0..3).map(|i| (0..10).map(|k| format!("{}\n", 500 + k * 13 + i * 7)).collect()).collect();
    let sum: u64 = (0..3).flat_map(|i| (0..10).map(move |k| 500 + k * 13 + i * 7)).sum();
    let net = Net::new(
        &["alice", "bob", "carol"],
        &files,
        "name = \"joint-stats\"\npreprocessing = \"mascot\"",
        &["alice", "bob", "carol"],
        &[],
    );
    let outs = net.run();
    for out in &outs {
        assert_eq!(out["result"]["sum"].as_u64(), Some(sum), "{out}");
    }
    ok(verify(&net, 2, &net.job_dir(0).join("result.json")));
}

#[test]
fn psi_aggregate_sums_products_over_the_intersection() {
    // alice: u0..u39 with value i; bob: u20..u59 with value 3; carol: even ids, value 2.
    let alice: String = (0..40).map(|i| format!("u{i},{i},{}\n", 30 + i)).collect();
    let bob: String = (20..60).rev().map(|i| format!("u{i},3\n")).collect();
    let carol: String = (0..80).filter(|i| i % 2 == 0).map(|i| format!("u{i},2\n")).collect();
    let files = vec![
        format!("id,spend,age\n{alice}"),
        format!("id,spend\n{bob}"),
        format!("id,spend\n{carol}"),
    ];
    let net = Net::new(
        &["alice", "bob", "carol"],
        &files,
        "name = \"psi-aggregate\"\ncolumn = \"spend\"\ncombine = \"product\"",
        &["alice", "carol"],
        &[],
    );
    let outs = net.run();
    let common: Vec<u64> = (20..40).filter(|i| i % 2 == 0).collect();
    let expect: u64 = common.iter().map(|i| i * 3 * 2).sum();
    for i in [0, 2] {
        let r = &outs[i]["result"];
        assert_eq!(r["intersection_size"].as_u64(), Some(common.len() as u64), "{r}");
        assert_eq!(r["sum"].as_u64(), Some(expect), "{r}");
    }
    assert_eq!(outs[1]["recipient"], false);
    assert!(!net.job_dir(1).join("result.json").exists());
    ok(verify(&net, 1, &net.job_dir(2).join("result.json")));
}

fn breast(range: std::ops::Range<usize>, file: &str) -> Option<(String, Vec<String>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/fate").join(file);
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("{} absent: skipping", path.display());
        return None;
    };
    let mut lines = text.lines();
    let header = lines.next()?.to_owned();
    Some((header, lines.skip(range.start).take(range.len()).map(str::to_owned).collect()))
}

#[test]
fn secure_lr_three_nodes_matches_plaintext_training() {
    let Some((header, rows)) = breast(0..45, "breast_hetero_guest.csv") else { return };
    let files: Vec<String> =
        (0..3).map(|p| format!("{header}\n{}\n", rows[p * 15..(p + 1) * 15].join("\n"))).collect();
    let net = Net::new(
        &["alice", "bob", "carol"],
        &files,
        "name = \"secure-lr\"\nepochs = 3\nlearning_rate = 1.0",
        &["alice", "bob", "carol"],
        &[],
    );
    let outs = net.run();
    let model = &outs[0]["result"];
    assert_eq!(outs[1]["result"]["weights"], model["weights"]);
    let all = secure_lr::read_input(
        format!("{header}\n{}\n", rows.join("\n")).as_bytes(),
        &SecureLrParams::default(),
    )
    .unwrap();
    let params = SecureLrParams { epochs: 3, ..SecureLrParams::default() };
    let (w, b) = secure_lr::train_plain(&all, &params);
    let got: Vec<f64> =
        model["weights"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    for (g, p) in got.iter().zip(&w).chain([(&model["intercept"].as_f64().unwrap(), &b)]) {
        assert!((g - p).abs() < 0.01, "secure {got:?} vs plaintext {w:?}");
    }
}

#[test]
fn secure_lr_vertical_split_two_nodes() {
    // alice (party 0): 5 host columns of customers 10..50; bob (party 1): y and 10 guest columns
    // of customers 0..40. 30 customers in common.
    let Some((gh, g)) = breast(0..40, "breast_hetero_guest.csv") else { return };
    let Some((hh, h)) = breast(10..50, "breast_hetero_host.csv") else { return };
    let cut = |line: &str| line.split(',').take(6).collect::<Vec<_>>().join(",");
    let host: Vec<String> = h.iter().map(|l| cut(l)).collect();
    let files =
        vec![format!("{}\n{}\n", cut(&hh), host.join("\n")), format!("{gh}\n{}\n", g.join("\n"))];
    let net = Net::new(
        &["alice", "bob"],
        &files,
        "name = \"secure-lr\"\nsplit = \"vertical\"\nepochs = 2",
        &["alice"],
        &[],
    );
    let outs = net.run();
    let model = &outs[0]["result"];
    assert_eq!(model["rows"].as_u64(), Some(30), "{model}");
    assert_eq!(outs[1]["recipient"], false);
    // The same training in the clear on the joined rows (alice's columns first).
    let guest = secure_lr::read_input(files[1].as_bytes(), &SecureLrParams::default()).unwrap();
    let mut joined = String::from("id,y");
    for n in cut(&hh).split(',').skip(1).map(|c| format!("h{c}")).chain(guest.names.clone()) {
        joined.push_str(&format!(",{n}"));
    }
    joined.push('\n');
    for (k, line) in host.iter().enumerate().take(30) {
        let gi = k + 10; // host row k is customer gi, guest row gi
        let mut cells = line.split(',');
        let id = cells.next().unwrap();
        assert_eq!(id, guest.ids[gi]);
        let hx: Vec<&str> = cells.collect();
        let gx: Vec<String> = guest.x[gi * 10..(gi + 1) * 10].iter().map(f64::to_string).collect();
        joined.push_str(&format!("{id},{},{},{}\n", guest.y[gi], hx.join(","), gx.join(",")));
    }
    let plain = secure_lr::read_input(joined.as_bytes(), &SecureLrParams::default()).unwrap();
    let params = SecureLrParams { epochs: 2, ..SecureLrParams::default() };
    let (w, b) = secure_lr::train_plain(&plain, &params);
    let got: Vec<f64> =
        model["weights"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(got.len(), 15);
    for (g, p) in got.iter().zip(&w).chain([(&model["intercept"].as_f64().unwrap(), &b)]) {
        assert!((g - p).abs() < 0.01, "secure {got:?} vs plaintext {w:?}");
    }
}

fn federated(program: &str) {
    let Some((gh, g)) = breast(0..150, "breast_hetero_guest.csv") else { return };
    let Some((hh, h)) = breast(30..200, "breast_hetero_host.csv") else { return };
    let files = vec![format!("{gh}\n{}\n", g.join("\n")), format!("{hh}\n{}\n", h.join("\n"))];
    let net = Net::new(
        &["alice", "bob"],
        &files,
        &format!("name = \"{program}\"\nkey_bits = 1024"),
        &["alice", "bob"],
        &["guest", "host"],
    );
    let outs = net.run();
    let r = &outs[0]["result"];
    assert_eq!(outs[1]["result"], *r);
    assert_eq!(r["rows"].as_u64(), Some(120), "{r}");
    assert!(r["train_accuracy"].as_f64().unwrap() > 0.9, "{r}");
    for i in 0..2 {
        let model = std::fs::read(net.job_dir(i).join("model.json")).unwrap();
        let h = hex::encode(tessera_node::programs::federated::model_hash(&model));
        assert_eq!(r["model_hashes"][i].as_str(), Some(h.as_str()));
    }
    ok(verify(&net, 1, &net.job_dir(0).join("result.json")));
}

#[test]
fn federated_lr_two_nodes() {
    federated("federated-lr");
}

#[test]
fn federated_secureboost_two_nodes() {
    federated("federated-secureboost");
}
