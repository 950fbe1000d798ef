//! Helpers shared by the end-to-end tests, which run the `tessera` binary as separate
//! processes: one call of the binary, its outcome, a node home with a registered data set, the
//! joint-statistics job spec, grants and the ledger's anchoring of a job.
// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_tessera");
pub(crate) const NAMES: [&str; 3] = ["alice", "bob", "carol"];

/// Runs `tessera [--home home] args` to completion.
pub(crate) fn tessera(home: Option<&Path>, args: &[&str]) -> Output {
    let mut c = Command::new(BIN);
    if let Some(h) = home {
        c.arg("--home").arg(h);
    }
    c.args(args).output().expect("run tessera")
}

/// The stdout of a successful run; fails the test with both streams otherwise.
pub(crate) fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "tessera failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Starts `tessera --home home args` in the background with stdout and stderr piped.
pub(crate) fn spawn(home: &Path, args: &[&str]) -> Child {
    Command::new(BIN)
        .arg("--home")
        .arg(home)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a child; returns its exit code (-1 if killed) and stdout followed by stderr.
pub(crate) fn finish(c: Child) -> (i32, String) {
    let o = c.wait_with_output().unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    (o.status.code().unwrap_or(-1), text)
}

/// Creates node home `dir/name` (`ledger`: the `init` flags naming its ledger), publishes its
/// DID and registers `data`, written to `dir/name.csv`, as data set `{name}-data`.
pub(crate) fn node_home(dir: &Path, name: &str, ledger: &[&str], data: &str) -> PathBuf {
    let home = dir.join(name);
    let mut init = vec!["init", "--name", name];
    init.extend_from_slice(ledger);
    ok(tessera(Some(&home), &init));
    ok(tessera(Some(&home), &["did", "create"]));
    let file = dir.join(format!("{name}.csv"));
    std::fs::write(&file, data).unwrap();
    ok(tessera(
        Some(&home),
        &["dataset", "register", &format!("{name}-data"), file.to_str().unwrap()],
    ));
    home
}

/// Party `i`'s data file: a `value` column of `n` values in 10..100.
pub(crate) fn values_csv(i: usize, n: usize) -> String {
    let rows: String = (0..n).map(|k| format!("{}\n", (k * 7 + i * 13) % 90 + 10)).collect();
    format!("value\n{rows}")
}

/// A joint-statistics job `job` over the data sets of [`NAMES`], all of them recipients.
pub(crate) fn joint_stats_spec(job: &str, squares: &str) -> String {
    let parties: String = NAMES
        .iter()
        .map(|n| {
            format!(
                "[[party]]\ndid = \"did:tessera:{n}\"\ndataset = \"{n}-data\"\ngrant = \"g1\"\n"
            )
        })
        .collect();
    format!(
        "job_id = \"{job}\"\noutputs = [\"did:tessera:alice\", \"did:tessera:bob\", \"did:tessera:carol\"]\n\
         [program]\nname = \"joint-stats\"\nhistogram_edges = [0, 50, 100]\nsquares = \"{squares}\"\n{parties}"
    )
}

/// The node at `home` grants its data set `{name}-data` as grant `g1` to the job in `spec`.
pub(crate) fn grant(home: &Path, name: &str, spec: &Path, extra: &[&str]) {
    let ds = format!("{name}-data");
    let mut args =
        vec!["grant", "--dataset", &ds, "--grant", "g1", "--spec", spec.to_str().unwrap()];
    args.extend_from_slice(extra);
    ok(tessera(Some(home), &args));
}

/// Whether the ledger (as seen from `home`) has anchored `job`'s result.
pub(crate) fn anchored(home: &Path, job: &str) -> bool {
    let s = ok(tessera(Some(home), &["--json", "job", "status", job]));
    let v: serde_json::Value = serde_json::from_str(s.trim()).unwrap();
    v["anchored"].as_bool().unwrap()
}
