//! `tessera demo`: a ledger and three nodes on loopback in temporary homes, data registered and
//! granted, a joint-statistics job run over QUIC with DID-bound TLS, anchored and verified.
//!
//! The ledger is served over QUIC with mutual TLS ([`crate::ledgerserve`]) as it would be for
//! nodes on other hosts: each node is configured with the service's address and the validator's
//! `did:key`, and finds its peers by resolving their DIDs' `TesseraNode` endpoints there. The
//! three nodes run as threads of this process (each with its own home, keys, QUIC endpoint and
//! ledger connection); the end-to-end tests run the same steps as separate processes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::home::Home;
use crate::home::RemoteLedger;
use crate::job::{JobOutcome, JobSpec, PartySpec, Program, RunOptions};
use crate::ledgerclient::NodeLedger;
use crate::ledgerdir::LedgerDir;
use crate::ledgerserve::LedgerServer;
use crate::stats::{Squares, StatsParams};
use crate::{ops, verify};

/// Demo settings.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Values per party.
    pub values: usize,
    /// How squares are formed.
    pub squares: Squares,
    /// Keep the temporary directory (and print it).
    pub keep: bool,
    /// Where to create it (default: the system temp dir).
    pub dir: Option<PathBuf>,
    /// Serve the ledger over the transport (default); `false`: nodes share the directory.
    pub served_ledger: bool,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self { values: 200, squares: Squares::Triples, keep: false, dir: None, served_ledger: true }
    }
}

/// The demo's summary.
#[derive(Clone, Debug, Serialize)]
pub struct DemoReport {
    /// The job id.
    pub job_id: String,
    /// Each party's outcome.
    pub parties: Vec<JobOutcome>,
    /// The result as opened.
    pub result: serde_json::Value,
    /// The verification.
    pub verified: verify::Verified,
    /// Whether the opened result equals the statistics computed in the clear.
    pub matches_cleartext: bool,
    /// Whether a tampered result file was rejected.
    pub tampered_result_rejected: bool,
    /// Total wall time.
    pub total_ms: u64,
}

/// Sample data: `n` ages of one organisation's customers (deterministic per seed).
pub fn sample_ages(seed: u64, n: usize) -> Vec<u64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            18 + (s % 50) + ((s >> 20) % 25)
        })
        .collect()
}

fn write_column(path: &Path, header: &str, values: &[u64]) -> Result<()> {
    let mut text = format!("{header}\n");
    for v in values {
        text.push_str(&v.to_string());
        text.push('\n');
    }
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

/// Runs the demo; `say` prints one step.
pub fn run(opts: &DemoOptions, say: &mut dyn FnMut(&str)) -> Result<DemoReport> {
    let start = Instant::now();
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let root = opts
        .dir
        .clone()
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("tessera-demo-{}-{stamp}", std::process::id()));
    let r = run_in(&root, opts, say, start);
    if opts.keep {
        say(&format!("kept {}", root.display()));
    } else {
        let _ = std::fs::remove_dir_all(&root);
    }
    r
}

fn run_in(
    root: &Path,
    opts: &DemoOptions,
    say: &mut dyn FnMut(&str),
    start: Instant,
) -> Result<DemoReport> {
    let t = Instant::now();
    let ledger = LedgerDir::create(&root.join("ledger"), "tessera-demo")?;
    let server = if opts.served_ledger {
        Some(LedgerServer::start(ledger.clone(), std::net::SocketAddr::from(([127, 0, 0, 1], 0)))?)
    } else {
        None
    };
    let remote = server.as_ref().map(|s| RemoteLedger {
        endpoint: s.endpoint_uri(),
        validator: s.validator_did().to_string(),
    });
    say(&format!(
        "1. ledger started: single validator, chain {}, {} ({} ms)",
        &hex::encode(ledger.chain_id())[..16],
        match &remote {
            Some(r) => format!("served on {} as {}", r.endpoint, r.validator),
            None => format!("shared directory {}", ledger.path().display()),
        },
        t.elapsed().as_millis()
    ));

    let names = ["hospital-a", "hospital-b", "insurer-c"];
    let mut homes = Vec::new();
    for name in names {
        let t = Instant::now();
        let mut home = Home::init(&root.join(name), name, "ed25519", None, ledger.path())?;
        if remote.is_some() {
            home.config.ledger_remote = remote.clone();
            home.save()?;
        }
        ops::did_create(&home)?;
        say(&format!(
            "2. node {} initialised, DID published with service endpoint {} and its TLS key ({} ms)",
            home.did(),
            home.config.published_endpoint(),
            t.elapsed().as_millis()
        ));
        homes.push(home);
    }

    let squares = opts.squares;
    let program = Program::JointStats(StatsParams {
        histogram_edges: vec![18, 30, 45, 60, 75, 100],
        squares,
        ..StatsParams::default()
    });
    let program_hash = program.hash()?;
    let dids: Vec<String> = homes.iter().map(|h| h.did().to_string()).collect();
    let mut all_values = Vec::new();
    let mut parties = Vec::new();
    for (i, home) in homes.iter_mut().enumerate() {
        let t = Instant::now();
        let values = sample_ages(i as u64 + 1, opts.values);
        all_values.extend_from_slice(&values);
        let file = home.dir.join("ages.csv");
        write_column(&file, "age", &values)?;
        let ds = format!("{}-ages", home.config.name);
        ops::dataset_register(home, &ds, &file)?;
        ops::grant(home, &ds, "stats-2026", program_hash, &dids, 5, 24)?;
        say(&format!(
            "3. {} registered data set {ds} ({} values) and granted it to program {}… for all three ({} ms)",
            home.did(),
            values.len(),
            &hex::encode(program_hash)[..16],
            t.elapsed().as_millis()
        ));
        parties.push(PartySpec {
            did: home.did().to_string(),
            dataset: ds,
            grant: "stats-2026".into(),
            role: None,
        });
    }
    let spec = JobSpec {
        job_id: format!("demo-stats-{}", std::process::id()),
        program,
        parties,
        outputs: dids.clone(),
    };
    std::fs::write(root.join("job.toml"), spec.to_toml()?)
        .map_err(|e| Error::io(root.join("job.toml"), e))?;

    say(&format!(
        "4. running job {} on SPDZ (VOLE preprocessing) between 3 nodes over QUIC with DID-bound mutual TLS…",
        spec.job_id
    ));
    let t = Instant::now();
    let opts_run = RunOptions::default();
    let outcomes: Vec<Result<JobOutcome>> = std::thread::scope(|s| {
        let handles: Vec<_> = homes
            .iter()
            .map(|home| {
                let spec = &spec;
                let opts_run = &opts_run;
                s.spawn(move || crate::job::run(home, spec, opts_run, &mut |_| {}))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(Error::Usage("node thread panicked".into()))))
            .collect()
    });
    let outcomes: Vec<JobOutcome> = outcomes.into_iter().collect::<Result<_>>()?;
    for o in &outcomes {
        say(&format!(
            "   party {} ({}): sent {:.2} MB, received {:.2} MB, {} rounds, compute {} ms",
            o.party,
            dids[o.party],
            o.bytes_sent as f64 / 1e6,
            o.bytes_received as f64 / 1e6,
            o.rounds,
            o.compute_ms
        ));
    }
    let first = outcomes.first().ok_or_else(|| Error::Usage("no outcome".into()))?;
    if outcomes.iter().any(|o| o.result_bytes != first.result_bytes) {
        return Err(Error::Verification("parties disagree on the result".into()));
    }
    let first_bytes =
        first.result_bytes.clone().ok_or_else(|| Error::Usage("no result at party 0".into()))?;
    let result: serde_json::Value =
        serde_json::from_slice(&first_bytes).map_err(|e| Error::invalid("result", e))?;
    say(&format!(
        "5. result opened to all three and anchored at block {} ({} ms): count {}, mean {:.3}, variance {:.3}, histogram {}",
        first.anchored_at,
        t.elapsed().as_millis(),
        result["count"],
        result["mean"].as_f64().unwrap_or(f64::NAN),
        result["variance"].as_f64().unwrap_or(f64::NAN),
        result["histogram"]
    ));
    let n = all_values.len() as f64;
    let sum: u64 = all_values.iter().sum();
    let mean = sum as f64 / n;
    let matches_cleartext = result["sum"].as_u64() == Some(sum)
        && result["count"].as_u64() == Some(all_values.len() as u64)
        && (result["mean"].as_f64().unwrap_or(f64::NAN) - mean).abs() < 1e-9;

    let t = Instant::now();
    let result_file = root.join("result.json");
    std::fs::write(&result_file, &first_bytes).map_err(|e| Error::io(&result_file, e))?;
    let l0 = NodeLedger::open(&homes[0])?;
    let (_, receipt) = ops::job_status(&l0, &spec.job_id)?;
    let evidence = l0.job_evidence(&spec.job_id)?;
    drop(l0);
    drop(server);
    let receipt_file = root.join("receipt.bin");
    std::fs::write(&receipt_file, tessera_ledger::Encode::to_bytes(&receipt))
        .map_err(|e| Error::io(&receipt_file, e))?;
    let genesis = verify::read_genesis(&ledger.path().join("genesis.json"))?;
    let receipt = verify::read_receipt(&receipt_file)?;
    let verified =
        verify::verify(&genesis, &spec.job_id, &receipt, Some(&evidence), Some(&result_file))?;
    say(&format!(
        "6. verified offline against the validator set: receipt ({} bytes) at height {}, {} signatures, result hash {}… matches ({} ms)",
        tessera_ledger::Encode::to_bytes(&receipt).len(),
        verified.height,
        verified.participants.len(),
        &verified.result_hash[..16],
        t.elapsed().as_millis()
    ));
    let mut tampered = first_bytes.clone();
    if let Some(b) = tampered.iter_mut().find(|b| b.is_ascii_digit()) {
        *b = if *b == b'9' { b'8' } else { *b + 1 };
    }
    let tampered_file = root.join("result-tampered.json");
    std::fs::write(&tampered_file, &tampered).map_err(|e| Error::io(&tampered_file, e))?;
    let tampered_result_rejected =
        verify::verify(&genesis, &spec.job_id, &receipt, Some(&evidence), Some(&tampered_file))
            .is_err();
    say(&format!(
        "7. a tampered result file is {} by verify; cleartext check of the statistics: {}",
        if tampered_result_rejected { "rejected" } else { "ACCEPTED (bug)" },
        if matches_cleartext { "matches" } else { "MISMATCH (bug)" }
    ));
    Ok(DemoReport {
        job_id: spec.job_id,
        parties: outcomes,
        result,
        verified,
        matches_cleartext,
        tampered_result_rejected,
        total_ms: start.elapsed().as_millis() as u64,
    })
}
