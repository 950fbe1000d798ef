//! The README's first command: `tessera demo` runs a ledger and three nodes end to end and checks
//! itself. Run here as a separate process, with fewer values so the test stays short.

mod common;

use common::BIN;
use std::process::Command;

fn demo(extra: &[&str]) -> serde_json::Value {
    let out = Command::new(BIN)
        .args(["--json", "demo", "--values", "40"])
        .args(extra)
        .output()
        .expect("run tessera demo");
    assert!(
        out.status.success(),
        "demo failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().expect("the demo prints its report");
    serde_json::from_str(line).expect("the report is JSON")
}

fn check(report: &serde_json::Value) {
    assert_eq!(report["matches_cleartext"], true, "{report}");
    assert_eq!(report["tampered_result_rejected"], true, "{report}");
    assert_eq!(report["result"]["count"], 3 * 40, "{report}");
    let verified = &report["verified"];
    assert_eq!(verified["result_file_checked"], true, "{report}");
    assert_eq!(verified["participants"].as_array().map(Vec::len), Some(3), "{report}");
    assert_eq!(report["parties"].as_array().map(Vec::len), Some(3), "{report}");
}

#[test]
fn demo_with_the_served_ledger_verifies() {
    check(&demo(&[]));
}

#[test]
fn demo_with_a_shared_ledger_directory_verifies() {
    check(&demo(&["--local-ledger"]));
}
