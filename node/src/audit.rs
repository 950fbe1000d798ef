//! `tessera audit`: the supervisor's view of the ledger. Lists blocks, transactions (by DID, data
//! set, program or time), the grants of a data set with their state, a grant's history, and a
//! usage report for a DID (which computations touched its data, when, with whom, under which
//! grant), as text, JSON (`--json`), CSV (`--csv`) or an SVG timeline (`report --svg`).
//!
//! Every answer is checked against the validator set of the ledger's genesis before it is shown
//! ([`tessera_ledger::audit::verify_answer`]), and `--save FILE` keeps the answers with their
//! receipts so that `tessera audit check FILE --genesis genesis.json` re-checks them offline.
//!
//! **Who may ask.** Through a node home the caller's DID must be a supervisor of the ledger
//! (named in its genesis or added by governance): a served ledger enforces it, and so does this
//! command on a local directory. `--ledger DIR` reads a ledger directory directly, as the
//! operator who holds its files (and could read them anyway).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde::Serialize;
use tessera_ledger::audit::{Answer, Checked, GrantState, Page, Query, grant_state, verify_answer};
use tessera_ledger::codec::{Reader, Writer};
use tessera_ledger::{
    DataSet, Decode, Did, Encode, Genesis, GrantRecord, StateKey, Supervisors, TxBody,
};

use crate::error::{Error, Result};
use crate::home::Home;
use crate::ledgerclient::NodeLedger;
use crate::ledgerdir::LedgerDir;

/// `tessera audit` arguments.
#[derive(Args, Debug)]
pub struct AuditArgs {
    /// What to ask.
    #[command(subcommand)]
    pub cmd: AuditCmd,
    /// Print CSV on stdout instead of text.
    #[arg(long, global = true)]
    pub csv: bool,
    /// Read this ledger directory directly (operator), instead of through the node home.
    #[arg(long, global = true)]
    pub ledger: Option<PathBuf>,
    /// Also write the answers with their receipts here (check with `tessera audit check`).
    #[arg(long, global = true)]
    pub save: Option<PathBuf>,
    /// Most results per listing.
    #[arg(long, global = true, default_value_t = 10_000)]
    pub limit: usize,
}

/// `tessera audit` subcommands.
#[derive(Subcommand, Debug)]
pub enum AuditCmd {
    /// Certified blocks in a height range.
    Blocks {
        /// First height.
        #[arg(long, default_value_t = 1)]
        from: u64,
        /// Last height (default: the tip).
        #[arg(long, default_value_t = u64::MAX)]
        to: u64,
    },
    /// Transactions by DID, data set, program or block time (exactly one selector).
    Txs {
        /// Signed, took part in, was granted, or was the subject of.
        #[arg(long)]
        did: Option<String>,
        /// Registered, granted, revoked or used this data set.
        #[arg(long)]
        dataset: Option<String>,
        /// Granted or ran this program (hex hash).
        #[arg(long)]
        program: Option<String>,
        /// Earliest block time, Unix ms (with --to-ms).
        #[arg(long, requires = "to_ms")]
        from_ms: Option<u64>,
        /// Latest block time, Unix ms.
        #[arg(long, requires = "from_ms")]
        to_ms: Option<u64>,
    },
    /// The grants on a data set with their state (active, revoked, expired, used-up).
    Grants {
        /// Data set id.
        #[arg(long)]
        dataset: String,
    },
    /// A grant's history: its creation, the jobs that used it, its revocation.
    Jobs {
        /// Data set id.
        #[arg(long)]
        dataset: String,
        /// Grant id.
        #[arg(long)]
        grant: String,
    },
    /// Usage report for a DID: computations that touched its data, and those it took part in.
    Report {
        /// The DID.
        #[arg(long)]
        did: String,
        /// Also draw the report as an SVG timeline into this file.
        #[arg(long)]
        svg: Option<PathBuf>,
    },
    /// Re-check answers saved with `--save` against a genesis file, offline.
    Check {
        /// The saved answers.
        file: PathBuf,
        /// Genesis file naming the trusted validators.
        #[arg(long)]
        genesis: PathBuf,
    },
}

/// What a command printed: JSON, CSV and text forms.
#[derive(Debug)]
pub struct Output {
    /// For `--json`.
    pub json: serde_json::Value,
    /// For `--csv`.
    pub csv: String,
    /// For people.
    pub text: String,
}

/// One transaction, flattened.
#[derive(Clone, Debug, Serialize)]
pub struct TxRow {
    /// Block height.
    pub height: u64,
    /// Index in the block.
    pub index: u32,
    /// Block time, Unix ms.
    pub time_ms: u64,
    /// Transaction id (hex).
    pub tx: String,
    /// Kind: create-did, update-did, deactivate-did, register, grant, revoke, job, governance.
    pub kind: &'static str,
    /// Signing DID.
    pub signer: String,
    /// Data set(s) concerned, `;`-separated.
    pub dataset: String,
    /// Grant(s) concerned, `;`-separated (`dataset/grant` for jobs).
    pub grant: String,
    /// Program hash (hex), for grants and jobs.
    pub program: String,
    /// Job id.
    pub job: String,
    /// Participants (jobs) or grantees (grants), `;`-separated.
    pub parties: String,
}

impl TxRow {
    fn of(c: &Checked) -> Option<Self> {
        let Checked::Tx { pos, time_ms, id, tx } = c else { return None };
        let mut r = TxRow {
            height: pos.height,
            index: pos.index,
            time_ms: *time_ms,
            tx: hex::encode(id),
            kind: "",
            signer: tx.signer.did.to_string(),
            dataset: String::new(),
            grant: String::new(),
            program: String::new(),
            job: String::new(),
            parties: String::new(),
        };
        let join = |v: &[Did]| v.iter().map(ToString::to_string).collect::<Vec<_>>().join(";");
        match &tx.body {
            TxBody::CreateDid(_) => r.kind = "create-did",
            TxBody::UpdateDid { .. } => r.kind = "update-did",
            TxBody::DeactivateDid { .. } => r.kind = "deactivate-did",
            TxBody::RegisterDataSet { id, .. } => {
                r.kind = "register";
                r.dataset = id.clone();
            }
            TxBody::Grant { dataset, grant, program_hash, grantees, .. } => {
                r.kind = "grant";
                r.dataset = dataset.clone();
                r.grant = grant.clone();
                r.program = hex::encode(program_hash);
                r.parties = join(grantees);
            }
            TxBody::Revoke { dataset, grant } => {
                r.kind = "revoke";
                r.dataset = dataset.clone();
                r.grant = grant.clone();
            }
            TxBody::Commit(c) => {
                r.kind = "job";
                r.job = c.job_id.clone();
                r.program = hex::encode(c.program_hash);
                r.parties = join(&c.participants);
                let mut ds: Vec<&str> = c.inputs.iter().map(|i| i.dataset.as_str()).collect();
                ds.dedup();
                r.dataset = ds.join(";");
                r.grant = c
                    .inputs
                    .iter()
                    .map(|i| format!("{}/{}", i.dataset, i.grant))
                    .collect::<Vec<_>>()
                    .join(";");
            }
            TxBody::Governance { .. } => r.kind = "governance",
            TxBody::CreateDids(regs) => {
                r.kind = "create-dids";
                let dids: Vec<Did> = regs.iter().map(|g| g.document.did()).collect();
                r.parties = join(&dids);
            }
            TxBody::RecoveryBackup(b) => {
                r.kind = "recovery-backup";
                let holders: Vec<Did> = b.shares.iter().map(|s| s.holder.did.clone()).collect();
                r.parties = join(&holders);
            }
        }
        Some(r)
    }
}

/// One grant with its state.
#[derive(Clone, Debug, Serialize)]
pub struct GrantRow {
    /// Data set.
    pub dataset: String,
    /// Grant.
    pub grant: String,
    /// active, revoked, expired or used-up, at the receipt's block.
    pub state: &'static str,
    /// Program hash (hex).
    pub program: String,
    /// Grantees, `;`-separated.
    pub grantees: String,
    /// Uses so far.
    pub uses: u64,
    /// Maximum uses.
    pub max_uses: u64,
    /// Expiry, Unix ms.
    pub expires_at_ms: u64,
    /// Height of the block the state is proven at.
    pub as_of_height: u64,
}

/// One certified block.
#[derive(Clone, Debug, Serialize)]
pub struct BlockRow {
    /// Height.
    pub height: u64,
    /// Block time, Unix ms.
    pub time_ms: u64,
    /// Header hash (hex).
    pub hash: String,
    /// Transactions.
    pub tx_count: u32,
}

/// One use of a data set, or one job the DID took part in, in a report.
#[derive(Clone, Debug, Serialize)]
pub struct UseRow {
    /// `data-used` (the DID's data set was an input) or `participant`.
    pub role: &'static str,
    /// Job id.
    pub job: String,
    /// Block height of the anchoring.
    pub height: u64,
    /// Block time, Unix ms.
    pub time_ms: u64,
    /// Data set (for `data-used`; `;`-separated inputs for `participant`).
    pub dataset: String,
    /// Grant(s).
    pub grant: String,
    /// Program hash (hex).
    pub program: String,
    /// With whom: the participants, `;`-separated.
    pub participants: String,
    /// Who anchored it.
    pub submitter: String,
}

/// A DID's usage report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The DID.
    pub did: String,
    /// Its data sets.
    pub datasets: Vec<String>,
    /// The grants on them, with state.
    pub grants: Vec<GrantRow>,
    /// Grant creations and revocations on its data sets (height, time, kind, dataset, grant).
    pub grant_events: Vec<TxRow>,
    /// Computations that used its data, and those it took part in, in chain order.
    pub uses: Vec<UseRow>,
}

/// Runs `tessera audit`; `home` is the node home, if one is configured.
pub fn run(a: &AuditArgs, home: Option<&Path>) -> Result<Output> {
    if let AuditCmd::Check { file, genesis } = &a.cmd {
        return check_file(file, genesis);
    }
    let ledger = open(a, home)?;
    let mut s = Session { ledger: &ledger, saved: Vec::new(), limit: a.limit.max(1) };
    let out = match &a.cmd {
        AuditCmd::Blocks { from, to } => {
            let rows: Vec<BlockRow> = s
                .all(Query::Blocks { from: *from, to: *to, page: Page::first(256) })?
                .iter()
                .filter_map(|c| match c {
                    Checked::Block { header, tx_ids } => Some(BlockRow {
                        height: header.height,
                        time_ms: header.time_ms,
                        hash: hex::encode(header.hash()),
                        tx_count: u32::try_from(tx_ids.len()).unwrap_or(u32::MAX),
                    }),
                    _ => None,
                })
                .collect();
            let text = rows
                .iter()
                .map(|b| {
                    format!("block {} at {} ms: {} tx, {}", b.height, b.time_ms, b.tx_count, b.hash)
                })
                .collect::<Vec<_>>()
                .join("\n");
            listing(&rows, text)
        }
        AuditCmd::Txs { did, dataset, program, from_ms, to_ms } => {
            let page = Page::first(500);
            let q = match (did, dataset, program, from_ms.zip(*to_ms)) {
                (Some(d), None, None, None) => Query::ByDid { did: parse_did(d)?, page },
                (None, Some(d), None, None) => Query::ByDataSet { dataset: d.clone(), page },
                (None, None, Some(p), None) => {
                    Query::ByProgram { program: crate::ops::parse_hash(p)?, page }
                }
                (None, None, None, Some((from_ms, to_ms))) => {
                    Query::ByTime { from_ms, to_ms, page }
                }
                _ => {
                    return Err(Error::Usage(
                        "give exactly one of --did, --dataset, --program, --from-ms/--to-ms".into(),
                    ));
                }
            };
            tx_listing(s.txs(q)?)
        }
        AuditCmd::Jobs { dataset, grant } => tx_listing(s.txs(Query::GrantHistory {
            dataset: dataset.clone(),
            grant: grant.clone(),
            page: Page::first(500),
        })?),
        AuditCmd::Grants { dataset } => {
            let rows = s.grants(dataset)?;
            let text = rows
                .iter()
                .map(|g| {
                    format!(
                        "{}/{}: {} (program {}…, {} of {} uses, grantees {})",
                        g.dataset,
                        g.grant,
                        g.state,
                        &g.program[..16],
                        g.uses,
                        g.max_uses,
                        g.grantees
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            listing(&rows, text)
        }
        AuditCmd::Report { did, svg } => {
            let r = s.report(&parse_did(did)?)?;
            if let Some(path) = svg {
                std::fs::write(path, timeline_svg(&r)).map_err(|e| Error::io(path, e))?;
            }
            Output {
                json: serde_json::to_value(&r).unwrap_or_default(),
                csv: csv_of(&r.uses),
                text: report_text(&r),
            }
        }
        AuditCmd::Check { .. } => unreachable!("handled above"),
    };
    if let Some(path) = &a.save {
        std::fs::write(path, save_bytes(&s.saved)).map_err(|e| Error::io(path, e))?;
    }
    Ok(out)
}

fn parse_did(s: &str) -> Result<Did> {
    Did::parse(s).map_err(|e| Error::invalid("DID", e))
}

/// The ledger to ask, after checking that the caller may.
fn open(a: &AuditArgs, home: Option<&Path>) -> Result<NodeLedger> {
    if let Some(dir) = &a.ledger {
        return Ok(NodeLedger::Local(LedgerDir::open(dir)?));
    }
    let dir = home.ok_or_else(|| Error::Usage("no node home: give --home or --ledger".into()))?;
    let home = Home::load(dir)?;
    let l = NodeLedger::open(&home)?;
    if let NodeLedger::Local(_) = &l {
        // A served ledger checks this itself; a local directory is checked here, by the same rule.
        let s: Option<Supervisors> = l.state(&StateKey::Supervisors)?;
        if !s.is_some_and(|s| s.0.contains(&home.did())) {
            return Err(Error::NotAuthorised(format!(
                "{} is not a supervisor of this ledger",
                home.did()
            )));
        }
    }
    Ok(l)
}

struct Session<'a> {
    ledger: &'a NodeLedger,
    saved: Vec<(Query, Answer)>,
    limit: usize,
}

impl Session<'_> {
    /// Every page of `q`, up to the limit, checked.
    fn all(&mut self, mut q: Query) -> Result<Vec<Checked>> {
        let mut out = Vec::new();
        loop {
            let (a, checked) = self.ledger.audit(&q)?;
            out.extend(checked);
            let next = a.next.clone();
            self.saved.push((q.clone(), a));
            match next {
                Some(n) if out.len() < self.limit => q = q.with_after(n),
                _ => break,
            }
        }
        out.truncate(self.limit);
        Ok(out)
    }

    fn txs(&mut self, q: Query) -> Result<Vec<TxRow>> {
        Ok(self.all(q)?.iter().filter_map(TxRow::of).collect())
    }

    fn grants(&mut self, dataset: &str) -> Result<Vec<GrantRow>> {
        let q = Query::GrantsOf { dataset: dataset.to_owned(), page: Page::first(500) };
        let mut rows = Vec::new();
        for c in self.all(q)? {
            let Checked::State { height, time_ms, key, value } = c else { continue };
            let g = GrantRecord::from_bytes(&value)?;
            let prefix = format!("grant/{dataset}/");
            let name = String::from_utf8_lossy(key.get(prefix.len()..).unwrap_or_default());
            let state: GrantState = grant_state(&g, time_ms);
            rows.push(GrantRow {
                dataset: dataset.to_owned(),
                grant: name.into_owned(),
                state: state.name(),
                program: hex::encode(g.program_hash),
                grantees: g.grantees.iter().map(ToString::to_string).collect::<Vec<_>>().join(";"),
                uses: g.uses,
                max_uses: g.max_uses,
                expires_at_ms: g.expires_at_ms,
                as_of_height: height,
            });
        }
        rows.sort_by(|a, b| a.grant.cmp(&b.grant));
        Ok(rows)
    }

    fn report(&mut self, did: &Did) -> Result<Report> {
        let mut datasets = Vec::new();
        for c in self.all(Query::DataSetsOf { owner: did.clone(), page: Page::first(500) })? {
            if let Checked::State { key, value, .. } = c {
                DataSet::from_bytes(&value)?;
                let id = key.strip_prefix(b"dataset/".as_slice()).unwrap_or_default();
                datasets.push(String::from_utf8_lossy(id).into_owned());
            }
        }
        let mut grants = Vec::new();
        let mut grant_events = Vec::new();
        // Keyed by (height, index, dataset) so a job on two of its data sets shows twice.
        let mut uses: BTreeMap<(u64, u32, &'static str, String), UseRow> = BTreeMap::new();
        for ds in &datasets {
            let rows = self.grants(ds)?;
            for g in &rows {
                let q = Query::GrantHistory {
                    dataset: ds.clone(),
                    grant: g.grant.clone(),
                    page: Page::first(500),
                };
                for c in self.all(q)? {
                    let Some(row) = TxRow::of(&c) else { continue };
                    let Checked::Tx { tx, .. } = &c else { continue };
                    match &tx.body {
                        TxBody::Commit(cm) => {
                            let key = (row.height, row.index, "data-used", ds.clone());
                            let e = uses.entry(key).or_insert_with(|| use_row("data-used", &row));
                            e.dataset = ds.clone();
                            let mine: Vec<String> = cm
                                .inputs
                                .iter()
                                .filter(|i| i.dataset == *ds)
                                .map(|i| i.grant.clone())
                                .collect();
                            e.grant = mine.join(";");
                        }
                        _ => grant_events.push(row),
                    }
                }
            }
            grants.extend(rows);
        }
        let q = Query::ByDid { did: did.clone(), page: Page::first(500) };
        for c in self.all(q)? {
            let Checked::Tx { tx, .. } = &c else { continue };
            let (TxBody::Commit(cm), Some(row)) = (&tx.body, TxRow::of(&c)) else { continue };
            if cm.participants.contains(did) {
                uses.insert(
                    (row.height, row.index, "participant", String::new()),
                    use_row("participant", &row),
                );
            }
        }
        grant_events.sort_by_key(|r| (r.height, r.index));
        grant_events.dedup_by_key(|r| (r.height, r.index));
        Ok(Report {
            did: did.to_string(),
            datasets,
            grants,
            grant_events,
            uses: uses.into_values().collect(),
        })
    }
}

fn use_row(role: &'static str, r: &TxRow) -> UseRow {
    UseRow {
        role,
        job: r.job.clone(),
        height: r.height,
        time_ms: r.time_ms,
        dataset: r.dataset.clone(),
        grant: r.grant.clone(),
        program: r.program.clone(),
        participants: r.parties.clone(),
        submitter: r.signer.clone(),
    }
}

fn listing<T: Serialize>(rows: &[T], text: String) -> Output {
    Output {
        json: serde_json::to_value(rows).unwrap_or_default(),
        csv: csv_of(rows),
        text: if text.is_empty() { "(none)".into() } else { text },
    }
}

fn tx_listing(rows: Vec<TxRow>) -> Output {
    let text = rows
        .iter()
        .map(|r| {
            let mut s =
                format!("{}.{} at {} ms: {} by {}", r.height, r.index, r.time_ms, r.kind, r.signer);
            for (k, v) in [
                ("job", &r.job),
                ("data set", &r.dataset),
                ("grant", &r.grant),
                ("with", &r.parties),
            ] {
                if !v.is_empty() {
                    let _ = write!(s, "; {k} {v}");
                }
            }
            s
        })
        .collect::<Vec<_>>()
        .join("\n");
    listing(&rows, text)
}

fn report_text(r: &Report) -> String {
    let mut s = format!("usage report for {}\n", r.did);
    let _ = writeln!(
        s,
        "data sets: {}",
        if r.datasets.is_empty() { "none".into() } else { r.datasets.join(", ") }
    );
    for g in &r.grants {
        let _ = writeln!(
            s,
            "  grant {}/{}: {}, {} of {} uses, to {}",
            g.dataset, g.grant, g.state, g.uses, g.max_uses, g.grantees
        );
    }
    let _ = writeln!(s, "computations ({}):", r.uses.len());
    for u in &r.uses {
        let how = match u.role {
            "data-used" => format!("used {} under grant {}", u.dataset, u.grant),
            _ => format!("took part (inputs {})", u.grant),
        };
        let _ = writeln!(
            s,
            "  job {} at block {} ({} ms): {how}; with {}; anchored by {}",
            u.job, u.height, u.time_ms, u.participants, u.submitter
        );
    }
    s.trim_end().to_owned()
}

/// CSV with a header row from the rows' JSON field names (RFC 4180 quoting).
fn csv_of<T: Serialize>(rows: &[T]) -> String {
    let mut out = String::new();
    let vals: Vec<serde_json::Value> =
        rows.iter().filter_map(|r| serde_json::to_value(r).ok()).collect();
    let Some(serde_json::Value::Object(first)) = vals.first() else { return out };
    let cols: Vec<&String> = first.keys().collect();
    let cell = |v: &serde_json::Value| -> String {
        let s = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s
        }
    };
    out.push_str(&cols.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(","));
    out.push('\n');
    for v in &vals {
        let line: Vec<String> = cols.iter().map(|c| cell(&v[c.as_str()])).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The report as a timeline: one lane per grant of the DID's data sets plus one for the jobs it
/// took part in; grants (squares), revocations (crosses) and jobs (dots) placed by block height.
pub fn timeline_svg(r: &Report) -> String {
    let mut lanes: Vec<String> =
        r.grants.iter().map(|g| format!("{}/{}", g.dataset, g.grant)).collect();
    lanes.push("took part".into());
    let heights: Vec<u64> =
        r.uses.iter().map(|u| u.height).chain(r.grant_events.iter().map(|e| e.height)).collect();
    let (lo, hi) = (
        heights.iter().copied().min().unwrap_or(0),
        heights.iter().copied().max().unwrap_or(1).max(1),
    );
    let (left, width, lane_h) = (180.0, 720.0, 36.0);
    let x = |h: u64| left + width * (h.saturating_sub(lo)) as f64 / ((hi - lo).max(1)) as f64;
    let total_h = 60.0 + lane_h * lanes.len() as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{total_h}\" font-family=\"sans-serif\" font-size=\"12\">\n",
        left + width + 40.0
    );
    let _ = writeln!(s, "<title>usage of the data of {}</title>", esc(&r.did));
    let _ = writeln!(
        s,
        "<text x=\"10\" y=\"20\" font-weight=\"bold\">{}: blocks {lo}–{hi}</text>",
        esc(&r.did)
    );
    let lane_y =
        |name: &str| lanes.iter().position(|l| l == name).map(|i| 50.0 + lane_h * i as f64);
    for (i, l) in lanes.iter().enumerate() {
        let y = 50.0 + lane_h * i as f64;
        let _ = writeln!(s, "<text x=\"10\" y=\"{}\">{}</text>", y + 4.0, esc(l));
        let _ = writeln!(
            s,
            "<line x1=\"{left}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#ccc\"/>",
            left + width
        );
    }
    for e in &r.grant_events {
        let Some(y) = lane_y(&format!("{}/{}", e.dataset, e.grant)) else { continue };
        let cx = x(e.height);
        if e.kind == "revoke" {
            let _ = writeln!(
                s,
                "<path d=\"M{} {} l10 10 m0 -10 l-10 10\" stroke=\"#c00\" stroke-width=\"2\"><title>revoked at block {}</title></path>",
                cx - 5.0,
                y - 5.0,
                e.height
            );
        } else {
            let _ = writeln!(
                s,
                "<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"#2a7\"><title>granted at block {}</title></rect>",
                cx - 5.0,
                y - 5.0,
                e.height
            );
        }
    }
    for u in &r.uses {
        let lane = match u.role {
            "data-used" => format!("{}/{}", u.dataset, u.grant.split(';').next().unwrap_or("")),
            _ => "took part".into(),
        };
        let Some(y) = lane_y(&lane) else { continue };
        let _ = writeln!(
            s,
            "<circle cx=\"{}\" cy=\"{y}\" r=\"6\" fill=\"#36c\"><title>job {} at block {} ({} ms) with {}</title></circle>",
            x(u.height),
            esc(&u.job),
            u.height,
            u.time_ms,
            esc(&u.participants)
        );
    }
    s.push_str("</svg>\n");
    s
}

const SAVE_MAGIC: &[u8; 8] = b"TSAUDIT1";
/// Most answers one saved file may hold.
const MAX_SAVED: usize = 1 << 16;
/// Largest saved file read back.
const MAX_SAVE_FILE: u64 = 1 << 30;

fn save_bytes(saved: &[(Query, Answer)]) -> Vec<u8> {
    let mut w = Writer::new();
    w.raw(SAVE_MAGIC);
    w.len(saved.len());
    for (q, a) in saved {
        q.encode(&mut w);
        a.encode(&mut w);
    }
    w.into_bytes()
}

fn check_file(file: &Path, genesis: &Path) -> Result<Output> {
    let g: Genesis = crate::verify::read_genesis(genesis)?;
    let meta = std::fs::metadata(file).map_err(|e| Error::io(file, e))?;
    if meta.len() > MAX_SAVE_FILE {
        return Err(Error::invalid("saved answers", "file too large"));
    }
    let bytes = std::fs::read(file).map_err(|e| Error::io(file, e))?;
    let bad = |e: tessera_ledger::Error| Error::Verification(format!("saved answers: {e}"));
    let rest = bytes
        .strip_prefix(SAVE_MAGIC.as_slice())
        .ok_or_else(|| Error::Verification("not a file of saved audit answers".into()))?;
    let mut r = Reader::new(rest);
    let n = r.len(MAX_SAVED).map_err(bad)?;
    let mut items = 0usize;
    let mut top: u64 = 0;
    for _ in 0..n {
        let q = Query::decode(&mut r).map_err(bad)?;
        let a = Answer::decode(&mut r).map_err(bad)?;
        let checked = verify_answer(&q, &a, &g.chain_id(), &g.validators).map_err(bad)?;
        items += checked.len();
        for c in &checked {
            let h = match c {
                Checked::Block { header, .. } => header.height,
                Checked::Tx { pos, .. } => pos.height,
                Checked::State { height, .. } => *height,
            };
            top = top.max(h);
        }
    }
    r.finish().map_err(bad)?;
    let text = format!(
        "OK: {n} answers, {items} items, every receipt certified by the validator set of {} (highest block {top})",
        g.chain_name
    );
    Ok(Output {
        json: serde_json::json!({"answers": n, "items": items, "highest_block": top}),
        csv: format!("answers,items,highest_block\n{n},{items},{top}\n"),
        text,
    })
}
