//! `tessera`: the Tessera node command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde_json::json;
use tessera_node::home::{Home, RemoteLedger};
use tessera_node::job::{JobSpec, RunOptions};
use tessera_node::ledgerclient::NodeLedger;
use tessera_node::ledgerdir::LedgerDir;
use tessera_node::ledgerserve::LedgerServer;
use tessera_node::stats::Squares;
use tessera_node::{Error, Result, demo, ops, verify};

const EXIT_CODES: &str = "Exit codes: 0 success; 2 usage; 3 file or spec invalid (a missing or \
damaged ledger.redb or validator.guard included); 4 ledger \
refused, failed or unreachable; 5 not authorised (grant missing, revoked, expired, used up or for another \
program; not a supervisor, for `audit`); 6 peer identity refused (TLS/DID mismatch); 7 peer unreachable or left, transport \
error; 8 secure computation failed (e.g. MAC check); 9 verification failed.";

/// Tessera node: authorised secure computation between organisations, anchored on a ledger.
#[derive(Parser)]
#[command(name = "tessera", version, after_help = EXIT_CODES)]
struct Cli {
    /// Node home directory (default: $TESSERA_HOME, else ~/.tessera).
    #[arg(long, global = true)]
    home: Option<PathBuf>,
    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// More logging on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create a node home: Ed25519 (or SM2) signing key, TLS key, DID and config.
    Init {
        /// Node name; the DID is did:tessera:<name>.
        #[arg(long)]
        name: String,
        /// Signing key suite: ed25519 or sm2.
        #[arg(long, default_value = "ed25519")]
        suite: String,
        /// QUIC listen address (IPv4); default: a free loopback port.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Endpoint published in the DID document (quic://host:port); default: the listen address.
        #[arg(long)]
        endpoint: Option<String>,
        /// Ledger directory on this host (see `tessera ledger start`).
        #[arg(long, required_unless_present = "ledger_remote")]
        ledger: Option<PathBuf>,
        /// A served ledger's endpoint (quic://host:port), instead of a directory.
        #[arg(long, conflicts_with = "ledger", requires = "ledger_validator")]
        ledger_remote: Option<String>,
        /// The served ledger's validator (did:key), as `tessera ledger start --listen` prints it.
        #[arg(long, requires = "ledger_remote")]
        ledger_validator: Option<String>,
    },
    /// The embedded single-validator ledger.
    #[command(subcommand)]
    Ledger(LedgerCmd),
    /// DIDs: publish, show, resolve, back up and recover.
    #[command(subcommand)]
    Did(DidCmd),
    /// Data sets.
    #[command(subcommand)]
    Dataset(DatasetCmd),
    /// Grant a data set to a program for some participants.
    Grant(GrantArgs),
    /// Revoke a grant.
    Revoke {
        /// Data set id.
        #[arg(long)]
        dataset: String,
        /// Grant id.
        #[arg(long)]
        grant: String,
    },
    /// Jobs: propose, run, join, status.
    #[command(subcommand, after_long_help = tessera_node::programs::HELP)]
    Job(JobCmd),
    /// Verify a job's anchored commitment (receipt against the validator set) and a result file.
    Verify {
        /// Job id.
        job: String,
        /// Result file to check against the committed hash.
        #[arg(long)]
        result: Option<PathBuf>,
        /// Receipt file (from `job status --receipt`); default: fetch from the ledger.
        #[arg(long)]
        receipt: Option<PathBuf>,
        /// Genesis file naming the trusted validators; default: the ledger's genesis.json.
        #[arg(long)]
        genesis: Option<PathBuf>,
        /// Ledger directory; default: the home's.
        #[arg(long)]
        ledger: Option<PathBuf>,
    },
    /// Supervision: blocks, transactions, grants and usage reports, each checked against the
    /// validator set (supervisors only).
    Audit(tessera_node::audit::AuditArgs),
    /// Start a ledger and three nodes on loopback, run a joint-statistics job, verify it.
    Demo {
        /// Values per party.
        #[arg(long, default_value_t = 200)]
        values: usize,
        /// Squares for the variance: triples (SPDZ multiplications) or owner.
        #[arg(long, default_value = "triples")]
        squares: String,
        /// Keep the temporary directory.
        #[arg(long)]
        keep: bool,
        /// Nodes share the ledger directory instead of reaching the served ledger over QUIC.
        #[arg(long)]
        local_ledger: bool,
    },
}

#[derive(Subcommand)]
enum LedgerCmd {
    /// Create the ledger (genesis, validator key and signing record) in an empty directory, or
    /// check and report on an existing one.
    Start {
        /// Ledger directory.
        #[arg(long)]
        dir: PathBuf,
        /// Chain name.
        #[arg(long, default_value = "tessera-local")]
        chain: String,
        /// Serve the ledger to other hosts on this UDP address (QUIC, mutual TLS) until stopped.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// A supervisor DID (did:tessera) to name in a new ledger's genesis (repeatable): it may
        /// run `tessera audit` and sign nothing but its own DID document.
        #[arg(long = "supervisor")]
        supervisors: Vec<String>,
    },
}

#[derive(Subcommand)]
enum DidCmd {
    /// Publish this node's DID document (signing key, TLS key, TesseraNode endpoint) on the ledger.
    Create {
        /// Endpoint to publish (quic://host:port); saved in the config. Default: the configured one.
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Publish an update of this node's DID document (for example a new endpoint).
    Update {
        /// New endpoint to publish (quic://host:port); saved in the config.
        #[arg(long)]
        endpoint: Option<String>,
        /// New QUIC listen address; saved in the config.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Show this node's DID and document.
    Show,
    /// Resolve a DID on the ledger.
    Resolve {
        /// The DID.
        did: String,
    },
    /// Back up control of this DID: a fresh recovery key shared k-of-n among holders, each share
    /// sealed to the holder's DID key and published on the ledger with its Feldman commitments;
    /// the recovery key becomes a controller of the DID beside its own keys.
    Backup {
        /// Holder DIDs, comma-separated (did:tessera:<id>[#method], default method key-1, or
        /// did:key).
        #[arg(long, value_delimiter = ',', required = true)]
        holders: Vec<String>,
        /// How many holders are needed to recover (2 to the number of holders).
        #[arg(long)]
        threshold: u8,
        /// Backup id (default: b<unix seconds>).
        #[arg(long)]
        id: Option<String>,
    },
    /// As a holder of another DID's backup: open your share, check it against the published
    /// commitments and seal it to the owner's new key, in a share file for the owner.
    BackupShare {
        /// The DID being recovered.
        #[arg(long)]
        did: String,
        /// Backup id.
        #[arg(long)]
        backup: String,
        /// The owner's new key (did:key), as `did recover` printed it; confirm it with the owner.
        #[arg(long)]
        to: String,
        /// Share file to write (not overwritten).
        #[arg(long)]
        out: PathBuf,
    },
    /// Recover this DID after losing its key, from a new home of the same name: without
    /// --share, print what to ask the holders; with threshold share files, rotate the DID to
    /// this home's keys (bad shares are reported and skipped).
    Recover {
        /// Backup id.
        #[arg(long)]
        backup: String,
        /// A share file from a holder (repeatable).
        #[arg(long = "share")]
        shares: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum DatasetCmd {
    /// Register a data file (joint-stats: one integer per line, optional header; other programs:
    /// CSV with an `id` column, see `tessera job --help`) as a data set.
    Register {
        /// Data set id.
        id: String,
        /// The file; only its hashes go on the ledger.
        file: PathBuf,
    },
}

#[derive(Args)]
struct GrantArgs {
    /// Data set id.
    #[arg(long)]
    dataset: String,
    /// Grant id.
    #[arg(long)]
    grant: String,
    /// Program hash (hex), as `job propose` prints it.
    #[arg(long, conflicts_with = "spec")]
    program_hash: Option<String>,
    /// Take program and participants from a job spec.
    #[arg(long)]
    spec: Option<PathBuf>,
    /// Grantee DIDs (default with --spec: its participants).
    #[arg(long = "to")]
    to: Vec<String>,
    /// Maximum uses.
    #[arg(long, default_value_t = 1)]
    uses: u64,
    /// Validity in hours.
    #[arg(long, default_value_t = 24)]
    hours: u64,
    /// Validity in seconds (overrides --hours).
    #[arg(long)]
    valid_secs: Option<u64>,
}

#[derive(Args, Clone)]
struct RunArgs {
    /// Job spec (TOML).
    #[arg(long)]
    spec: PathBuf,
    /// Where to write the result (default: <home>/jobs/<job>/result.json).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Seconds to wait for peers to connect.
    #[arg(long, default_value_t = 30)]
    connect_timeout: u64,
    /// Seconds of silence after which a peer is considered gone.
    #[arg(long, default_value_t = 10)]
    idle_timeout: u64,
}

#[derive(Subcommand)]
enum JobCmd {
    /// Check a spec and print its program hash and the grants it needs.
    Propose {
        /// Job spec (TOML).
        #[arg(long)]
        spec: PathBuf,
    },
    /// Run a job as this node (every participant runs it; party 0 anchors).
    Run(RunArgs),
    /// Same as `run`, for a participant that did not propose the job.
    Join(RunArgs),
    /// Show a job's record on the ledger; optionally export its receipt.
    Status {
        /// Job id.
        job: String,
        /// Write the proof (state receipt and grant evidence, binary) here; `tessera verify
        /// --receipt` checks it with nothing but the genesis.
        #[arg(long)]
        receipt: Option<PathBuf>,
    },
}

fn home_dir(cli: &Cli) -> Result<PathBuf> {
    if let Some(h) = &cli.home {
        return Ok(h.clone());
    }
    if let Some(h) = std::env::var_os("TESSERA_HOME") {
        return Ok(PathBuf::from(h));
    }
    std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".tessera"))
        .ok_or_else(|| Error::Usage("no --home, TESSERA_HOME or HOME".into()))
}

fn out(cli: &Cli, value: serde_json::Value, human: &str) {
    if cli.json {
        println!("{value}");
    } else {
        println!("{human}");
    }
}

fn spinner(cli: &Cli) -> indicatif::ProgressBar {
    if cli.json {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new_spinner();
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if cli.json {
                println!("{}", json!({"error": e.to_string(), "exit_code": e.exit_code()}));
            }
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn ledger_of(cli: &Cli, explicit: Option<&Path>) -> Result<NodeLedger> {
    match explicit {
        Some(p) => Ok(NodeLedger::Local(LedgerDir::open(p)?)),
        None => NodeLedger::open(&Home::load(&home_dir(cli)?)?),
    }
}

fn run(cli: &Cli) -> Result<()> {
    match &cli.cmd {
        Cmd::Init { name, suite, listen, endpoint, ledger, ledger_remote, ledger_validator } => {
            let dir = home_dir(cli)?;
            if let Some(e) = endpoint {
                tessera_node::tls::endpoint_addr_syntax(e)?;
            }
            let remote = match (ledger_remote, ledger_validator) {
                (Some(endpoint), Some(validator)) => {
                    tessera_node::tls::endpoint_addr_syntax(endpoint)?;
                    tessera_node::ledgerclient::validator_key(validator)?;
                    Some(RemoteLedger { endpoint: endpoint.clone(), validator: validator.clone() })
                }
                _ => None,
            };
            let mut home =
                Home::init(&dir, name, suite, *listen, ledger.as_deref().unwrap_or(Path::new("")))?;
            if endpoint.is_some() || remote.is_some() {
                home.config.endpoint = endpoint.clone();
                home.config.ledger_remote = remote;
                home.save()?;
            }
            out(
                cli,
                json!({"home": dir, "did": home.did().to_string(), "listen": home.config.listen}),
                &format!(
                    "initialised {} as {} (QUIC {}); publish it with `tessera did create`",
                    dir.display(),
                    home.did(),
                    home.config.listen
                ),
            );
        }
        Cmd::Ledger(LedgerCmd::Start { dir, chain, listen, supervisors }) => {
            let l = if dir.join("genesis.json").exists() {
                if !supervisors.is_empty() {
                    return Err(Error::Usage(
                        "--supervisor names supervisors in a new ledger's genesis; an existing \
                         ledger adds them by governance"
                            .into(),
                    ));
                }
                LedgerDir::open(dir)?
            } else {
                let s = supervisors
                    .iter()
                    .map(|d| tessera_ledger::Did::parse(d).map_err(|e| Error::invalid("DID", e)))
                    .collect::<Result<Vec<_>>>()?;
                LedgerDir::create_with(dir, chain, &s)?
            };
            // Fails here, naming the file, if the database or the signing record is missing or
            // damaged, or the database was re-created or rolled back under the validator.
            let h = l.check_validator()?;
            let id = hex::encode(l.chain_id());
            out(
                cli,
                json!({"dir": dir, "chain_id": id, "height": h}),
                &format!(
                    "ledger {} ready in {} (chain {id}, height {h}); nodes on this host use it \
                     with `tessera init --ledger {}`",
                    l.genesis().chain_name,
                    dir.display(),
                    dir.display()
                ),
            );
            if let Some(listen) = listen {
                let server = LedgerServer::start(l, *listen)?;
                let uri = server.endpoint_uri();
                let validator = server.validator_did().to_string();
                out(
                    cli,
                    json!({"serving": uri, "validator": validator}),
                    &format!(
                        "serving the ledger on {uri}; nodes elsewhere use it with `tessera init \
                         --ledger-remote {uri} --ledger-validator {validator}`"
                    ),
                );
                use std::io::Write as _;
                let _ = std::io::stdout().flush();
                server.wait();
            }
        }
        Cmd::Did(DidCmd::Create { endpoint }) => {
            let mut home = Home::load(&home_dir(cli)?)?;
            if let Some(e) = endpoint {
                tessera_node::tls::endpoint_addr_syntax(e)?;
                home.config.endpoint = Some(e.clone());
                home.save()?;
            }
            let tx = ops::did_create(&home)?;
            out(
                cli,
                json!({"did": home.did().to_string(), "tx": hex::encode(tx)}),
                &format!("published {} (tx {})", home.did(), hex::encode(tx)),
            );
        }
        Cmd::Did(DidCmd::Update { endpoint, listen }) => {
            let mut home = Home::load(&home_dir(cli)?)?;
            if let Some(e) = endpoint {
                tessera_node::tls::endpoint_addr_syntax(e)?;
                home.config.endpoint = Some(e.clone());
            }
            if let Some(l) = listen {
                home.config.listen = *l;
            }
            home.save()?;
            let tx = ops::did_update(&home)?;
            let ep = home.config.published_endpoint();
            out(
                cli,
                json!({"did": home.did().to_string(), "endpoint": ep, "tx": hex::encode(tx)}),
                &format!("updated {} (endpoint {ep}, tx {})", home.did(), hex::encode(tx)),
            );
        }
        Cmd::Did(DidCmd::Show) => {
            let home = Home::load(&home_dir(cli)?)?;
            let doc = ops::my_document(&home)?;
            let v = doc_json(&doc);
            out(cli, v.clone(), &serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        Cmd::Did(DidCmd::Resolve { did }) => {
            let l = ledger_of(cli, None)?;
            let doc = ops::did_resolve(&l, did)?;
            let v = doc_json(&doc);
            out(cli, v.clone(), &serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        Cmd::Did(DidCmd::Backup { holders, threshold, id }) => {
            let home = Home::load(&home_dir(cli)?)?;
            let id = id.clone().unwrap_or_else(|| {
                let s = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                format!("b{s}")
            });
            let r = tessera_node::recovery::backup(&home, holders, *threshold, &id)?;
            out(
                cli,
                serde_json::to_value(&r).unwrap_or_default(),
                &format!(
                    "backup {} of {}: {} of {} holders ({}) may rotate it with recovery key {}",
                    r.backup,
                    r.did,
                    r.threshold,
                    r.holders.len(),
                    r.holders.join(", "),
                    r.recovery_key
                ),
            );
        }
        Cmd::Did(DidCmd::BackupShare { did, backup, to, out: path }) => {
            let home = Home::load(&home_dir(cli)?)?;
            let f = tessera_node::recovery::backup_share(&home, did, backup, to)?;
            tessera_node::recovery::write_share_file(path, &f)?;
            out(
                cli,
                json!({"did": f.did, "backup": f.backup, "index": f.index, "to": f.to, "file": path}),
                &format!(
                    "share {} of backup {} of {} checked and sealed to {} in {}; give the file to the owner",
                    f.index,
                    f.backup,
                    f.did,
                    f.to,
                    path.display()
                ),
            );
        }
        Cmd::Did(DidCmd::Recover { backup, shares }) => {
            let home = Home::load(&home_dir(cli)?)?;
            if shares.is_empty() {
                let cmd = tessera_node::recovery::request(&home, backup);
                let key = tessera_ledger::Did::Key(home.key().public_key()).to_string();
                out(
                    cli,
                    json!({"did": home.did().to_string(), "backup": backup, "new_key": key, "holder_command": cmd}),
                    &format!(
                        "this home's new key is {key}; ask each holder of backup {backup} to \
                         check it with you and run:\n  {cmd}\nthen run `tessera did recover \
                         --backup {backup} --share <file> ...` with their files"
                    ),
                );
            } else {
                let r = tessera_node::recovery::recover(&home, backup, shares)?;
                for (f, why) in &r.refused {
                    eprintln!("refused {f}: {why}");
                }
                out(
                    cli,
                    serde_json::to_value(&r).unwrap_or_default(),
                    &format!(
                        "recovered {} with shares {}; it is now controlled by {} (tx {})",
                        r.did,
                        r.used
                            .iter()
                            .map(|(i, f)| format!("{i} ({f})"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        r.new_key,
                        r.tx
                    ),
                );
            }
        }
        Cmd::Dataset(DatasetCmd::Register { id, file }) => {
            let mut home = Home::load(&home_dir(cli)?)?;
            let tx = ops::dataset_register(&mut home, id, file)?;
            out(
                cli,
                json!({"dataset": id, "tx": hex::encode(tx)}),
                &format!("registered data set {id} (tx {})", hex::encode(tx)),
            );
        }
        Cmd::Grant(g) => {
            let home = Home::load(&home_dir(cli)?)?;
            let (hash, mut to) = match (&g.program_hash, &g.spec) {
                (Some(h), None) => (ops::parse_hash(h)?, vec![]),
                (None, Some(s)) => {
                    let spec = JobSpec::load(s)?;
                    (spec.program.hash()?, spec.parties.iter().map(|p| p.did.clone()).collect())
                }
                _ => return Err(Error::Usage("give --program-hash or --spec".into())),
            };
            if !g.to.is_empty() {
                to = g.to.clone();
            }
            let valid = Duration::from_secs(g.valid_secs.unwrap_or(g.hours.saturating_mul(3600)));
            let tx = ops::grant_for(&home, &g.dataset, &g.grant, hash, &to, g.uses, valid)?;
            out(
                cli,
                json!({"dataset": g.dataset, "grant": g.grant, "program_hash": hex::encode(hash), "grantees": to, "tx": hex::encode(tx)}),
                &format!(
                    "granted {} as {} to program {} for {}",
                    g.dataset,
                    g.grant,
                    hex::encode(hash),
                    to.join(", ")
                ),
            );
        }
        Cmd::Revoke { dataset, grant } => {
            let home = Home::load(&home_dir(cli)?)?;
            let tx = ops::revoke(&home, dataset, grant)?;
            out(
                cli,
                json!({"dataset": dataset, "grant": grant, "tx": hex::encode(tx)}),
                &format!("revoked {grant} on {dataset}"),
            );
        }
        Cmd::Job(JobCmd::Propose { spec }) => {
            let spec = JobSpec::load(spec)?;
            let h = hex::encode(spec.program.hash()?);
            let grants: Vec<String> = spec
                .parties
                .iter()
                .map(|p| {
                    format!(
                        "  {}: tessera grant --dataset {} --grant {} --spec <spec>",
                        p.did, p.dataset, p.grant
                    )
                })
                .collect();
            out(
                cli,
                json!({"job_id": spec.job_id, "program_hash": h, "participants": spec.parties.iter().map(|p| &p.did).collect::<Vec<_>>()}),
                &format!(
                    "job {} is well formed; program hash {h}\ngrants needed:\n{}",
                    spec.job_id,
                    grants.join("\n")
                ),
            );
        }
        Cmd::Job(JobCmd::Run(a) | JobCmd::Join(a)) => {
            let home = Home::load(&home_dir(cli)?)?;
            let spec = JobSpec::load(&a.spec)?;
            let opts = RunOptions {
                connect_timeout: Duration::from_secs(a.connect_timeout),
                idle_timeout: Duration::from_secs(a.idle_timeout.max(1)),
                ..RunOptions::default()
            };
            let pb = spinner(cli);
            let r = tessera_node::job::run(&home, &spec, &opts, &mut |m| {
                tracing::info!("{m}");
                pb.set_message(m.to_owned());
            });
            pb.finish_and_clear();
            let o = r?;
            let (v, human) = tessera_node::job::write_outputs(&home, &o, a.out.as_deref())?;
            out(cli, v, &human);
        }
        Cmd::Job(JobCmd::Status { job, receipt }) => {
            let l = ledger_of(cli, None)?;
            let (rec, rcpt) = ops::job_status(&l, job)?;
            if let Some(p) = receipt {
                // An anchored job's proof carries its grant evidence; an absent job's receipt
                // (proving it absent) has none.
                let bytes = match &rec {
                    Some(_) => verify::proof_bytes(&rcpt, &l.job_evidence(job)?),
                    None => tessera_ledger::Encode::to_bytes(&rcpt),
                };
                std::fs::write(p, bytes).map_err(|e| Error::io(p, e))?;
            }
            match rec {
                None => {
                    out(
                        cli,
                        json!({"job_id": job, "anchored": false}),
                        &format!("job {job} is not on the ledger"),
                    );
                }
                Some(r) => {
                    let c = &r.commitment;
                    out(
                        cli,
                        json!({"job_id": job, "anchored": true, "height": r.height, "submitter": r.submitter.to_string(),
                               "participants": c.participants.iter().map(ToString::to_string).collect::<Vec<_>>(),
                               "program_hash": hex::encode(c.program_hash), "result_hash": hex::encode(c.result_hash)}),
                        &format!(
                            "job {job} anchored at block {} by {}; result hash {}",
                            r.height,
                            r.submitter,
                            hex::encode(c.result_hash)
                        ),
                    );
                }
            }
        }
        Cmd::Verify { job, result, receipt, genesis, ledger } => {
            let proof = receipt.as_deref().map(verify::read_proof).transpose()?;
            let (g, rc, ev) = match (genesis, proof) {
                // A proof file with its grant evidence needs nothing but the genesis.
                (Some(g), Some((rc, Some(ev)))) => (verify::read_genesis(g)?, rc, Some(ev)),
                (_, proof) => {
                    let offline = genesis.is_some() && proof.is_some();
                    let l = match ledger_of(cli, ledger.as_deref()) {
                        Ok(l) => l,
                        Err(e) if offline => {
                            return Err(Error::Verification(format!(
                                "the receipt file carries no grant evidence and no ledger is at \
                                 hand to fetch it ({e}); export a proof with `job status --receipt`"
                            )));
                        }
                        Err(e) => return Err(e),
                    };
                    let g = match genesis {
                        Some(g) => verify::read_genesis(g)?,
                        None => l.genesis().clone(),
                    };
                    let (rc, ev) = match proof {
                        Some((rc, Some(ev))) => (rc, Some(ev)),
                        Some((rc, None)) => (rc, None),
                        None => (ops::job_status(&l, job)?.1, None),
                    };
                    let ev = match ev {
                        Some(ev) => Some(ev),
                        // A job that is not on the ledger has no evidence: verify says why.
                        None => match l.job_evidence(job) {
                            Ok(ev) => Some(ev),
                            Err(Error::Ledger(tessera_ledger::Error::NotFound { .. })) => None,
                            Err(e) => return Err(e),
                        },
                    };
                    (g, rc, ev)
                }
            };
            let v = verify::verify(&g, job, &rc, ev.as_ref(), result.as_deref())?;
            out(
                cli,
                serde_json::to_value(&v).unwrap_or_default(),
                &format!(
                    "OK: job {job} anchored at block {} and signed by {}; receipt certified by the validator set; inputs under {}{}",
                    v.anchored_at,
                    v.participants.join(", "),
                    v.grants
                        .iter()
                        .map(|g| format!(
                            "grant {} on {} (granted at block {})",
                            g.grant, g.dataset, g.granted_at
                        ))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if v.result_file_checked {
                        "; result file matches the committed hash"
                    } else {
                        ""
                    }
                ),
            );
        }
        Cmd::Audit(a) => {
            let home = home_dir(cli).ok();
            let o = tessera_node::audit::run(a, home.as_deref())?;
            if cli.json {
                println!("{}", o.json);
            } else if a.csv {
                print!("{}", o.csv);
            } else {
                println!("{}", o.text);
            }
        }
        Cmd::Demo { values, squares, keep, local_ledger } => {
            let squares = match squares.as_str() {
                "triples" => Squares::Triples,
                "owner" => Squares::Owner,
                s => return Err(Error::Usage(format!("--squares {s}: use triples or owner"))),
            };
            let opts = demo::DemoOptions {
                values: *values,
                squares,
                keep: *keep,
                dir: None,
                served_ledger: !*local_ledger,
            };
            let json_mode = cli.json;
            let report = demo::run(&opts, &mut |line| {
                if !json_mode {
                    println!("{line}");
                }
            })?;
            if cli.json {
                println!("{}", serde_json::to_string(&report).unwrap_or_default());
            } else {
                println!("demo finished in {} ms", report.total_ms);
            }
            if !report.matches_cleartext || !report.tampered_result_rejected {
                return Err(Error::Verification("demo self-check failed".into()));
            }
        }
    }
    Ok(())
}

fn doc_json(doc: &tessera_ledger::DidDocument) -> serde_json::Value {
    json!({
        "did": doc.did().to_string(),
        "version": doc.version,
        "deactivated": doc.deactivated,
        "controllers": doc.controllers.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "threshold": doc.threshold,
        "service": doc.services.iter().map(|s| json!({"id": s.id, "type": s.kind, "serviceEndpoint": s.endpoint})).collect::<Vec<_>>(),
        "methods": doc.methods.iter().map(|m| json!({"id": m.id, "suite": format!("{:?}", m.key.suite()), "key": hex::encode(m.key.as_bytes())})).collect::<Vec<_>>(),
    })
}
