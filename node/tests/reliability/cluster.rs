//! An in-process cluster for the load and fault tests: one ledger served over QUIC with mutual
//! TLS (as `tessera ledger start --listen` serves it) and trios of nodes, each node a set of
//! threads of this process with its own home, keys, QUIC endpoint and ledger connection, as in
//! `tessera demo`. A node binds its published endpoint for each job, so one node runs one job
//! at a time: `N` concurrent jobs run on `N` trios, all sharing the one ledger service.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tessera_ledger::StateKey;
use tessera_node::home::{Home, RemoteLedger};
use tessera_node::job::{self, JobOutcome, JobSpec, PartySpec, Program, RunOptions};
use tessera_node::ledgerclient::NodeLedger;
use tessera_node::ledgerdir::LedgerDir;
use tessera_node::ledgerserve::LedgerServer;
use tessera_node::stats::{Squares, StatsParams};
use tessera_node::{Error, ops};

/// Where a node listens and what it publishes (a shaping proxy sits between them).
pub(crate) type Placement = Option<(SocketAddr, String)>;

/// Three nodes that run jobs together, and their data.
pub(crate) struct Trio {
    pub(crate) homes: Vec<Home>,
    pub(crate) values: Vec<Vec<u64>>,
}

/// What one party's run of one job returned, and when.
pub(crate) struct PartyRun {
    pub(crate) result: Result<JobOutcome, Error>,
    /// From the job's start to this party's return.
    pub(crate) elapsed: Duration,
    /// When this party returned.
    pub(crate) ended: Instant,
}

pub(crate) struct Cluster {
    /// Held for their lifetime: the homes' directory and the ledger service.
    _dir: tempfile::TempDir,
    _server: LedgerServer,
    pub(crate) trios: Vec<Trio>,
    pub(crate) program: Program,
    jobs: AtomicU64,
}

/// The joint-statistics program the cluster's grants cover: `triples` squares every value with a
/// MASCOT triple (so a job has a triple-generation phase); otherwise only count and sum, the
/// cheapest job.
pub(crate) fn program(triples: bool) -> Program {
    Program::JointStats(StatsParams {
        histogram_edges: vec![],
        squares: if triples { Squares::Triples } else { Squares::None },
        preprocessing: Default::default(),
    })
}

impl Cluster {
    /// A served ledger and `trios` trios whose parties hold `values` values each; `place(t, i)`
    /// may set where node `i` of trio `t` listens and what it publishes.
    pub(crate) fn new(
        trios: usize,
        values: usize,
        program: Program,
        place: &(dyn Fn(usize, usize) -> Placement + Sync),
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ledger = LedgerDir::create(&dir.path().join("ledger"), "reliability").unwrap();
        let server = LedgerServer::start(ledger, SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let remote = RemoteLedger {
            endpoint: server.endpoint_uri(),
            validator: server.validator_did().to_string(),
        };
        let hash = program.hash().unwrap();
        let root = dir.path();
        let trios = std::thread::scope(|s| {
            let hs: Vec<_> = (0..trios)
                .map(|t| {
                    let remote = &remote;
                    s.spawn(move || make_trio(root, t, values, remote, hash, place))
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        Self { _dir: dir, _server: server, trios, program, jobs: AtomicU64::new(0) }
    }

    /// The spec of a fresh job of trio `t`.
    pub(crate) fn spec(&self, t: usize) -> JobSpec {
        let n = self.jobs.fetch_add(1, Ordering::Relaxed);
        let trio = &self.trios[t];
        let dids: Vec<String> = trio.homes.iter().map(|h| h.did().to_string()).collect();
        JobSpec {
            job_id: format!("job-{t}-{n}"),
            program: self.program.clone(),
            parties: trio
                .homes
                .iter()
                .map(|h| PartySpec {
                    did: h.did().to_string(),
                    dataset: format!("{}-data", h.config.name),
                    grant: "g".into(),
                    role: None,
                })
                .collect(),
            outputs: dids,
        }
    }

    /// Runs `spec` on trio `t`, party `i` with `opts(i)`; every party's run, in party order.
    pub(crate) fn run(
        &self,
        t: usize,
        spec: &JobSpec,
        opts: &(dyn Fn(usize) -> RunOptions + Sync),
    ) -> Vec<PartyRun> {
        let start = Instant::now();
        std::thread::scope(|s| {
            let hs: Vec<_> = self.trios[t]
                .homes
                .iter()
                .enumerate()
                .map(|(i, home)| {
                    let o = opts(i);
                    s.spawn(move || {
                        let result = job::run(home, spec, &o, &mut |_| {});
                        let ended = Instant::now();
                        PartyRun { result, elapsed: ended - start, ended }
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        })
    }

    /// Whether the ledger holds a commitment for `job`.
    pub(crate) fn anchored(&self, t: usize, job: &str) -> bool {
        let l = NodeLedger::open(&self.trios[t].homes[0]).unwrap();
        l.state_value(&StateKey::Job(job.to_owned())).unwrap().is_some()
    }

    /// Checks a successful run of trio `t`: every party anchored the same result, and it is
    /// right (see [`Cluster::check_result`]).
    pub(crate) fn check_success(&self, t: usize, runs: &[PartyRun]) -> Result<(), String> {
        let mut first: Option<&[u8]> = None;
        for (i, r) in runs.iter().enumerate() {
            let o = r.result.as_ref().map_err(|e| format!("party {i}: {e}"))?;
            let b = self.check_result(t, o).map_err(|e| format!("party {i}: {e}"))?;
            if *first.get_or_insert(b) != b {
                return Err("parties disagree on the result".into());
            }
        }
        Ok(())
    }

    /// Checks one party's result: its count and sum (and sum of squares) are those of the
    /// trio's values in the clear. Returns the result bytes.
    pub(crate) fn check_result<'a>(&self, t: usize, o: &'a JobOutcome) -> Result<&'a [u8], String> {
        let bytes = o.result_bytes.as_deref().ok_or("no result")?;
        let v: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| format!("result: {e}"))?;
        let all: Vec<u64> = self.trios[t].values.iter().flatten().copied().collect();
        let sum: u64 = all.iter().sum();
        if v["sum"].as_u64() != Some(sum) || v["count"].as_u64() != Some(all.len() as u64) {
            return Err(format!("wrong result {v}: expected count {} sum {sum}", all.len()));
        }
        if let Program::JointStats(StatsParams { squares: Squares::Triples, .. }) = self.program {
            let sq: u128 = all.iter().map(|x| u128::from(*x) * u128::from(*x)).sum();
            if v["sum_of_squares"].as_u64().map(u128::from) != Some(sq) {
                return Err(format!("wrong sum of squares {v}: expected {sq}"));
            }
        }
        Ok(bytes)
    }
}

fn make_trio(
    root: &Path,
    t: usize,
    values: usize,
    remote: &RemoteLedger,
    program_hash: tessera_ledger::Hash32,
    place: &(dyn Fn(usize, usize) -> Placement + Sync),
) -> Trio {
    let mut homes = Vec::new();
    for i in 0..3 {
        let name = format!("t{t}n{i}");
        let placed = place(t, i);
        let listen = placed.as_ref().map(|p| p.0);
        let mut home =
            Home::init(&root.join(&name), &name, "ed25519", listen, Path::new("")).unwrap();
        home.config.ledger_remote = Some(remote.clone());
        home.config.endpoint = placed.map(|p| p.1);
        home.save().unwrap();
        ops::did_create(&home).unwrap();
        homes.push(home);
    }
    let dids: Vec<String> = homes.iter().map(|h| h.did().to_string()).collect();
    let mut all = Vec::new();
    for (i, home) in homes.iter_mut().enumerate() {
        let vals: Vec<u64> =
            (0..values as u64).map(|k| 10 + (k * 7 + i as u64 * 13 + t as u64) % 90).collect();
        let file = home.dir.join("data.csv");
        let text: String = vals.iter().map(|v| format!("{v}\n")).collect();
        std::fs::write(&file, format!("value\n{text}")).unwrap();
        let ds = format!("{}-data", home.config.name);
        ops::dataset_register(home, &ds, &file).unwrap();
        ops::grant(home, &ds, "g", program_hash, &dids, 1_000_000, 24).unwrap();
        all.push(vals);
    }
    Trio { homes, values: all }
}

/// Options for reliability runs: short timeouts, so a dead peer is noticed in seconds.
pub(crate) fn quick_options() -> RunOptions {
    RunOptions {
        connect_timeout: Duration::from_secs(20),
        idle_timeout: Duration::from_secs(2),
        recv_timeout: Duration::from_secs(20),
        ..RunOptions::default()
    }
}

/// Resident set size of this process in bytes (`/proc/self/status`).
pub(crate) fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Open file descriptors of this process (`/proc/self/fd`).
pub(crate) fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// The `q`-quantile (0..=1) of `xs` by nearest rank.
pub(crate) fn quantile(xs: &[Duration], q: f64) -> Duration {
    let mut v = xs.to_vec();
    v.sort();
    if v.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}
