//! Every fuzz target for a bounded number of executions (each target's `ci_execs`, and at most
//! a few seconds), from a fixed seed: CI's share of the fuzzing. A finding fails the test with
//! the message and the input in hex, to become a regression test in the crate that owns the
//! decoder. Longer runs: `fuzz/run.sh <seconds>`.

use std::time::Duration;

use tessera_fuzz::targets::all;
use tessera_fuzz::{Budget, fuzz};

#[test]
fn every_target_holds_its_properties_on_a_bounded_run() {
    let mut failures = Vec::new();
    for t in all() {
        let budget = Budget { execs: t.ci_execs, time: Duration::from_secs(4) };
        let r = fuzz(&t, budget, 20, true);
        println!(
            "{}: {} execs in {:.2}s, {} accepted, corpus {}, {} rejection kinds",
            t.name,
            r.execs,
            r.elapsed.as_secs_f64(),
            r.accepted,
            r.corpus,
            r.rejection_kinds
        );
        // The seeds are real encodings: each target must accept some input, or its checks
        // never ran past the decoder's first rejection.
        if r.accepted == 0 && r.findings.is_empty() {
            failures.push(format!("{}: no input accepted, not even a seed", t.name));
        }
        for f in r.findings {
            let hex: String = f.input.iter().map(|b| format!("{b:02x}")).collect();
            failures.push(format!("{}: {}\n  input {hex}", t.name, f.message));
        }
    }
    assert!(failures.is_empty(), "fuzz findings:\n{}", failures.join("\n"));
}
