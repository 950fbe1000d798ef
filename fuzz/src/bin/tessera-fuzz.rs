//! The fuzz driver: `tessera-fuzz list`, `tessera-fuzz run <target|all> <seconds> [seed]`,
//! `tessera-fuzz replay <target> <file>...`.
//!
//! `run` prints one line per target (executions, accepted, corpus, rejection kinds, peak
//! allocation, findings) and writes each finding's input to `fuzz/artifacts/<target>/`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use tessera_fuzz::engine::execute;
use tessera_fuzz::targets::{all, by_name};
use tessera_fuzz::{Budget, Target, fuzz};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn run(targets: Vec<Target>, seconds: u64, seed: u64) -> ExitCode {
    let artifacts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    let mut failed = false;
    for t in targets {
        let budget = Budget { execs: u64::MAX, time: Duration::from_secs(seconds) };
        let r = fuzz(&t, budget, seed, false);
        println!(
            "{:<16} execs {:>10}  time {:>7.1}s  exec/s {:>8.0}  accepted {:>8}  corpus {:>5}  rejection kinds {:>4}  peak alloc {:>9}  findings {}",
            t.name,
            r.execs,
            r.elapsed.as_secs_f64(),
            r.execs as f64 / r.elapsed.as_secs_f64().max(1e-9),
            r.accepted,
            r.corpus,
            r.rejection_kinds,
            r.peak_alloc,
            r.findings.len()
        );
        for f in &r.findings {
            failed = true;
            let dir = artifacts.join(t.name);
            let _ = std::fs::create_dir_all(&dir);
            let path = dir.join(format!("crash-{:016x}", fxhash(&f.input)));
            let _ = std::fs::write(&path, &f.input);
            println!(
                "  FINDING {}\n    input ({} bytes) {}\n    saved {}",
                f.message,
                f.input.len(),
                hex(&f.input[..f.input.len().min(256)]),
                path.display()
            );
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

fn fxhash(b: &[u8]) -> u64 {
    b.iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, &x| (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["list"] => {
            for t in all() {
                println!("{:<16} {}", t.name, t.about);
            }
            ExitCode::SUCCESS
        }
        ["run", name, secs, rest @ ..] => {
            let Ok(seconds) = secs.parse() else {
                eprintln!("seconds must be an integer");
                return ExitCode::FAILURE;
            };
            let seed = rest.first().and_then(|s| s.parse().ok()).unwrap_or(1);
            let targets = if *name == "all" {
                all()
            } else {
                match by_name(name) {
                    Some(t) => vec![t],
                    None => {
                        eprintln!("no target {name}; see `tessera-fuzz list`");
                        return ExitCode::FAILURE;
                    }
                }
            };
            run(targets, seconds, seed)
        }
        ["replay", name, files @ ..] => {
            let Some(t) = by_name(name) else {
                eprintln!("no target {name}");
                return ExitCode::FAILURE;
            };
            tessera_fuzz::panic_capture::install();
            let mut failed = false;
            for f in files {
                let input = std::fs::read(f).unwrap_or_default();
                match execute(&t, &input) {
                    Ok((v, peak)) => println!("{f}: {v:?} (peak alloc {peak})"),
                    Err(m) => {
                        failed = true;
                        println!("{f}: FINDING {m}");
                    }
                }
            }
            if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
        }
        _ => {
            eprintln!(
                "usage: tessera-fuzz list | run <target|all> <seconds> [seed] | replay <target> <file>..."
            );
            ExitCode::FAILURE
        }
    }
}
