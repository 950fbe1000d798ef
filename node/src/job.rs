//! Jobs: the TOML spec, the program hash, the authorisation check, and running a job to an
//! anchored commitment.
//!
//! A spec names the job, the program and its parameters, one `[[party]]` per participant (DID,
//! data set, grant) and the output recipients. The program hash is the ledger hash of the
//! canonical JSON of `[program]` under a domain tag, so grants can be issued before any job exists
//! and cover every job of that program. Before any data moves, every node checks on the ledger
//! that every party's input is granted to this program and these participants, and that its own
//! data file still hashes to the registered content hash. After the computation, every party
//! signs the same [`Commitment`]; party 0 anchors it and the others confirm it on the ledger.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tessera_ledger::{
    Approval, Commitment, DataSet, Did, GrantRecord, Hash32, HashAlg, InputCommitment, JobRecord,
    LedgerHash, Signature, StateKey, TxBody,
};
use tessera_mpc::{Channel, ChannelStats, PartyId};

use crate::error::{Error, Result};
use crate::home::Home;
use crate::ledgerclient::NodeLedger;
use crate::programs::Recipients;
use crate::programs::federated::{self, FederatedBoostParams, FederatedLrParams, Role};
use crate::programs::prep::PrepOptions;
use crate::programs::psi_aggregate::{self, PsiAggregateParams};
use crate::programs::secure_lr::{self, SecureLrParams};
use crate::stats::{self, StatsParams};
use crate::tls::PeerInfo;
use crate::transport::{CutPlan, MeshConfig, QuicChannel};

/// Domain tag of program hashes.
const PROGRAM_DOMAIN: &[u8] = b"tessera-node/program/v1";
/// Domain tag of input commitments.
const INPUT_DOMAIN: &[u8] = b"tessera-node/input/v2";
/// Domain tag of result hashes.
const RESULT_DOMAIN: &[u8] = b"tessera-node/result/v1";

/// The program of a job and its parameters.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "name", deny_unknown_fields)]
pub enum Program {
    /// Joint statistics of one column ([`crate::stats`]).
    #[serde(rename = "joint-stats")]
    JointStats(StatsParams),
    /// Private intersection, then an aggregate over it ([`programs::psi_aggregate`]).
    #[serde(rename = "psi-aggregate")]
    PsiAggregate(PsiAggregateParams),
    /// Logistic regression on SPDZ ([`programs::secure_lr`]).
    #[serde(rename = "secure-lr")]
    SecureLr(SecureLrParams),
    /// Vertical federated logistic regression ([`programs::federated`]).
    #[serde(rename = "federated-lr")]
    FederatedLr(FederatedLrParams),
    /// Vertical federated SecureBoost ([`programs::federated`]).
    #[serde(rename = "federated-secureboost")]
    FederatedSecureBoost(FederatedBoostParams),
}

impl Program {
    /// The program hash: ledger hash (SHA-256) of its canonical JSON under a domain tag.
    pub fn hash(&self) -> Result<Hash32> {
        let canon = serde_json::to_vec(self).map_err(|e| Error::invalid("program", e))?;
        Ok(LedgerHash::Sha256.hash(&[PROGRAM_DOMAIN, &canon]))
    }

    /// The program's name as a spec writes it.
    pub fn name(&self) -> &'static str {
        match self {
            Program::JointStats(_) => "joint-stats",
            Program::PsiAggregate(_) => "psi-aggregate",
            Program::SecureLr(_) => "secure-lr",
            Program::FederatedLr(_) => "federated-lr",
            Program::FederatedSecureBoost(_) => "federated-secureboost",
        }
    }

    fn is_federated(&self) -> bool {
        matches!(self, Program::FederatedLr(_) | Program::FederatedSecureBoost(_))
    }

    fn validate(&self, parties: usize) -> Result<()> {
        match self {
            Program::JointStats(p) => p.validate(),
            Program::PsiAggregate(p) => p.validate(parties),
            Program::SecureLr(p) => p.validate(),
            Program::FederatedLr(p) => p.validate(),
            Program::FederatedSecureBoost(p) => p.validate(),
        }
    }
}

/// One participant of a job.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PartySpec {
    /// The participant's DID.
    pub did: String,
    /// The data set it contributes.
    pub dataset: String,
    /// The grant that authorises that use.
    pub grant: String,
    /// Its side in a federated program (`guest` holds the label, `host` features only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// A job spec (TOML).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// Unique job id.
    pub job_id: String,
    /// Program and parameters.
    pub program: Program,
    /// Participants in party order.
    #[serde(rename = "party")]
    pub parties: Vec<PartySpec>,
    /// DIDs that learn the result: one to all participants. The others get no result, only the
    /// anchored commitment (which binds the result's salted hash).
    pub outputs: Vec<String>,
}

impl JobSpec {
    /// Parses and checks a spec.
    pub fn parse(text: &str) -> Result<Self> {
        let spec: Self = toml::from_str(text).map_err(|e| Error::invalid("job spec", e))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Loads a spec file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text)
    }

    /// TOML text of the spec.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string_pretty(self).map_err(|e| Error::invalid("job spec", e))
    }

    fn validate(&self) -> Result<()> {
        if self.parties.len() < 2 || self.parties.len() > 16 {
            return Err(Error::invalid("job spec", "need 2 to 16 parties"));
        }
        self.program.validate(self.parties.len())?;
        let dids = self.dids()?;
        for (i, d) in dids.iter().enumerate() {
            if dids[..i].contains(d) {
                return Err(Error::invalid("job spec", format!("{d} appears twice")));
            }
        }
        let to = self.recipients()?;
        if self.program.is_federated() {
            let roles: Vec<Option<Role>> = self.parties.iter().map(|p| p.role).collect();
            let guest = match roles.as_slice() {
                [Some(Role::Guest), Some(Role::Host)] => 0,
                [Some(Role::Host), Some(Role::Guest)] => 1,
                _ => {
                    return Err(Error::invalid(
                        "job spec",
                        "federated programs need 2 parties, one with role = \"guest\" and one with role = \"host\"",
                    ));
                }
            };
            if !to.contains(crate::pid(guest)) {
                return Err(Error::invalid("outputs", "the guest computes the summary: list it"));
            }
        } else if self.parties.iter().any(|p| p.role.is_some()) {
            return Err(Error::invalid("job spec", "role applies to federated programs only"));
        }
        Ok(())
    }

    /// The parties that learn the result.
    pub fn recipients(&self) -> Result<Recipients> {
        let dids = self.dids()?;
        let mut idx = Vec::with_capacity(self.outputs.len());
        for o in &self.outputs {
            let d = Did::parse(o).map_err(|e| Error::invalid("outputs", e))?;
            let i = dids
                .iter()
                .position(|x| *x == d)
                .ok_or_else(|| Error::invalid("outputs", format!("{d} is not a participant")))?;
            if idx.contains(&i) {
                return Err(Error::invalid("outputs", format!("{d} appears twice")));
            }
            idx.push(i);
        }
        Recipients::new(idx, dids.len())
    }

    /// Participants' DIDs in party order.
    pub fn dids(&self) -> Result<Vec<Did>> {
        self.parties
            .iter()
            .map(|p| Did::parse(&p.did).map_err(|e| Error::invalid("party DID", e)))
            .collect()
    }
}

/// Checks on the ledger that every input of `spec` is granted to its program and participants.
/// Nothing is sent to anyone before this passes.
pub fn check_authorised(ledger: &NodeLedger, spec: &JobSpec, now_ms: u64) -> Result<()> {
    let program = spec.program.hash()?;
    let dids = spec.dids()?;
    {
        let l = ledger;
        if l.state_value(&StateKey::Job(spec.job_id.clone()))?.is_some() {
            return Err(Error::NotAuthorised(format!("job {} already ran", spec.job_id)));
        }
        for (p, did) in spec.parties.iter().zip(&dids) {
            let ds: DataSet = l.state(&StateKey::DataSet(p.dataset.clone()))?.ok_or_else(|| {
                Error::NotAuthorised(format!("data set {} is not registered", p.dataset))
            })?;
            if ds.owner != *did {
                return Err(Error::NotAuthorised(format!(
                    "data set {} belongs to {}, not {did}",
                    p.dataset, ds.owner
                )));
            }
            let key = StateKey::Grant { dataset: p.dataset.clone(), grant: p.grant.clone() };
            let g: GrantRecord = l.state(&key)?.ok_or_else(|| {
                Error::NotAuthorised(format!("no grant {} on data set {}", p.grant, p.dataset))
            })?;
            let why = if g.revoked {
                Some("is revoked".to_owned())
            } else if now_ms >= g.expires_at_ms {
                Some("has expired".to_owned())
            } else if g.uses >= g.max_uses {
                Some("is used up".to_owned())
            } else if g.program_hash != program {
                Some("covers another program".to_owned())
            } else {
                dids.iter()
                    .find(|d| **d != ds.owner && !g.grantees.contains(d))
                    .map(|d| format!("does not name {d}"))
            };
            if let Some(why) = why {
                return Err(Error::NotAuthorised(format!(
                    "grant {} on {} {why}",
                    p.grant, p.dataset
                )));
            }
        }
        Ok(())
    }
}

/// Reads a data file: one non-negative integer per line, an optional non-numeric header line.
pub fn read_column(bytes: &[u8]) -> Result<Vec<u64>> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::invalid("data file", "not UTF-8"))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match line.parse::<u64>() {
            Ok(v) => out.push(v),
            Err(_) if i == 0 => {}
            Err(_) => {
                return Err(Error::invalid("data file", format!("line {}: {line:?}", i + 1)));
            }
        }
    }
    Ok(out)
}

/// Checks that a file is a data file of some program: a column of integers (`joint-stats`) or
/// a CSV table with an `id` column and numeric columns (the other programs). Each program checks
/// its own columns when a job runs.
pub fn check_data_file(bytes: &[u8]) -> Result<()> {
    match read_column(bytes) {
        Ok(_) => Ok(()),
        Err(column) => crate::programs::read_table(bytes, None).map(|_| ()).map_err(|table| {
            Error::invalid(
                "data file",
                format!("neither a column of integers ({column}) nor a table with an id column ({table})"),
            )
        }),
    }
}

/// Options of a job run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Peers must connect within this.
    pub connect_timeout: Duration,
    /// QUIC idle timeout.
    pub idle_timeout: Duration,
    /// Receive timeout of the channel.
    pub recv_timeout: Duration,
    /// Preprocessing batch size (triples, masks or bits per batch).
    pub prep_batch: usize,
    /// Fault injection for reliability tests (see [`CutPlan`]); never set by the CLI.
    pub cut: Option<CutPlan>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(10),
            recv_timeout: Duration::from_secs(120),
            prep_batch: 1024,
            cut: None,
        }
    }
}

/// What a finished job reports.
#[derive(Clone, Debug, Serialize)]
pub struct JobOutcome {
    /// The job.
    pub job_id: String,
    /// This party's index.
    pub party: usize,
    /// Whether this party is a recipient of the result.
    pub recipient: bool,
    /// The result file's bytes (canonical JSON); `None` at a party that is not a recipient.
    #[serde(skip)]
    pub result_bytes: Option<Vec<u8>>,
    /// This party's private model file (federated programs), kept by this party only.
    #[serde(skip)]
    pub model_file: Option<Vec<u8>>,
    /// Hex result hash as anchored.
    pub result_hash: String,
    /// Hex program hash.
    pub program_hash: String,
    /// Block height that anchored the commitment.
    pub anchored_at: u64,
    /// Bytes this party sent (framing included).
    pub bytes_sent: u64,
    /// Bytes this party received.
    pub bytes_received: u64,
    /// Communication rounds.
    pub rounds: u64,
    /// Wall time of the secure computation.
    pub compute_ms: u64,
    /// Wall time from start to anchored.
    pub total_ms: u64,
}

/// The commitment `party` publishes to its input `data` in job `job_id`: the job id and the
/// party's DID are hashed in (length-prefixed), so two parties holding the same file commit
/// differently and a peer that echoes our commitment back is caught (it never names the peer).
pub fn input_commitment(job_id: &str, party: &Did, data: &[u8]) -> Hash32 {
    let did = party.to_string();
    LedgerHash::Sha256.hash(&[
        INPUT_DOMAIN,
        &(job_id.len() as u64).to_le_bytes(),
        job_id.as_bytes(),
        &(did.len() as u64).to_le_bytes(),
        did.as_bytes(),
        data,
    ])
}

/// Checks that the commitment anchored under our job is the one we signed, in every field
/// (chain, job, participants, program, inputs, result). Comparing only the result hash and the
/// number of signatures would accept a commitment that party 0 anchored under our job id with
/// other participants (its own sybil DIDs) or other inputs.
fn check_anchored(anchored: &Commitment, ours: &Commitment, chain: &Hash32) -> Result<()> {
    if anchored.signing_message(chain) != ours.signing_message(chain)
        || anchored.signatures.len() != ours.signatures.len()
    {
        return Err(Error::Verification("the anchored commitment differs from ours".into()));
    }
    Ok(())
}

/// The result hash of result bytes.
pub fn result_hash(bytes: &[u8]) -> Hash32 {
    LedgerHash::Sha256.hash(&[RESULT_DOMAIN, bytes])
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Resolves every participant's endpoint and certificate key.
pub fn resolve_parties(ledger: &NodeLedger, spec: &JobSpec) -> Result<Vec<PeerInfo>> {
    let dids = spec.dids()?;
    dids.iter()
        .map(|d| {
            let doc = ledger
                .resolve(d)
                .map_err(|e| Error::Identity(format!("cannot resolve {d}: {e}")))?;
            PeerInfo::from_document(&doc)
        })
        .collect()
}

/// Runs `spec` as the node of `home`: authorisation, mesh, computation, signatures, anchoring.
pub fn run(
    home: &Home,
    spec: &JobSpec,
    opts: &RunOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<JobOutcome> {
    let start = Instant::now();
    let ledger = NodeLedger::open(home)?;
    let me_did = home.did();
    let dids = spec.dids()?;
    let me = dids.iter().position(|d| *d == me_did).ok_or_else(|| {
        Error::Usage(format!("{me_did} is not a participant of job {}", spec.job_id))
    })?;
    let mine = &spec.parties[me];
    progress("checking grants on the ledger");
    check_authorised(&ledger, spec, now_ms())?;
    let path = home.config.datasets.get(&mine.dataset).ok_or_else(|| {
        Error::Usage(format!("data set {} was not registered from this home", mine.dataset))
    })?;
    let data = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let registered: DataSet = ledger
        .state(&StateKey::DataSet(mine.dataset.clone()))?
        .ok_or_else(|| Error::NotAuthorised(format!("data set {} vanished", mine.dataset)))?;
    if registered.content_hash != HashAlg::Sha256.digest(&data) {
        return Err(Error::NotAuthorised(format!(
            "{} no longer matches the content hash registered for {}",
            path.display(),
            mine.dataset
        )));
    }
    let input = Input::parse(spec, me, &data)?;
    let parties = resolve_parties(&ledger, spec)?;
    progress("connecting to peers (QUIC, DID-bound mutual TLS)");
    let mut mesh = MeshConfig::new(&spec.job_id, me, parties);
    mesh.bind = Some(home.config.listen);
    mesh.connect_timeout = opts.connect_timeout;
    mesh.idle_timeout = opts.idle_timeout;
    mesh.channel.recv_timeout = opts.recv_timeout;
    mesh.cut = opts.cut.clone();
    let mut ch = QuicChannel::connect(home.tls_pkcs8(), &mesh)?;
    let compute_start = Instant::now();
    let r = compute_and_anchor(home, &ledger, spec, &mut ch, &input, &data, opts, progress);
    let stats: ChannelStats = ch.stats();
    let compute_ms = compute_start.elapsed().as_millis() as u64;
    let r = r.map_err(|e| name_peer(e, &ch));
    drop(ch);
    let (done, height) = r?;
    Ok(JobOutcome {
        job_id: spec.job_id.clone(),
        party: me,
        recipient: done.result_bytes.is_some(),
        result_bytes: done.result_bytes,
        model_file: done.model_file,
        result_hash: hex::encode(done.result_hash),
        program_hash: hex::encode(spec.program.hash()?),
        anchored_at: height,
        bytes_sent: stats.bytes_sent,
        bytes_received: stats.bytes_received,
        rounds: stats.rounds,
        compute_ms,
        total_ms: start.elapsed().as_millis() as u64,
    })
}

/// The channel error at the root of `e`, if any.
fn channel_root(e: &Error) -> Option<&tessera_mpc::Error> {
    use tessera_protocols::Error as P;
    match e {
        Error::Channel(m) | Error::Mpc(P::Channel(m) | P::Ot(tessera_ot::Error::Channel(m))) => {
            Some(m)
        }
        _ => None,
    }
}

/// Names the DID behind a party number in a channel error: a peer that left or went silent.
fn name_peer(e: Error, ch: &QuicChannel) -> Error {
    let peer = match channel_root(&e) {
        Some(
            tessera_mpc::Error::PeerDisconnected { peer }
            | tessera_mpc::Error::Timeout { peer, .. },
        ) => *peer,
        _ => return e,
    };
    Error::Peer {
        peer: ch.did_of(peer).to_owned(),
        reason: format!("left or went silent mid-job; stopped, nothing anchored ({e})"),
    }
}

/// A party's parsed input, by program.
enum Input {
    Column(Vec<u64>),
    Keyed(Vec<String>, Vec<u64>),
    Rows(secure_lr::Rows),
    Table(tessera_federated::VerticalDataset, Role),
}

impl Input {
    /// Parses party `me`'s data file for the spec's program (before anything is sent).
    fn parse(spec: &JobSpec, me: usize, data: &[u8]) -> Result<Self> {
        let role = spec.parties.get(me).and_then(|p| p.role).unwrap_or(Role::Host);
        Ok(match &spec.program {
            Program::JointStats(_) => Input::Column(read_column(data)?),
            Program::PsiAggregate(p) => {
                let (ids, values) = psi_aggregate::read_input(data, p)?;
                Input::Keyed(ids, values)
            }
            Program::SecureLr(p) => Input::Rows(secure_lr::read_input(data, p)?),
            Program::FederatedLr(p) => {
                Input::Table(federated::read_input(data, &federated::Model::Lr(p), role)?, role)
            }
            Program::FederatedSecureBoost(p) => {
                Input::Table(federated::read_input(data, &federated::Model::Boost(p), role)?, role)
            }
        })
    }
}

/// What the computation left this party with.
struct Computed {
    /// The result, at recipients.
    result: Option<serde_json::Value>,
    /// A private model file.
    model_file: Option<Vec<u8>>,
}

fn to_json<T: Serialize>(v: Option<T>) -> Result<Option<serde_json::Value>> {
    v.map(|v| serde_json::to_value(v).map_err(|e| Error::invalid("result", e))).transpose()
}

/// Runs the spec's program on `input`.
fn compute(
    ch: &mut QuicChannel,
    spec: &JobSpec,
    input: &Input,
    to: &Recipients,
    prep: PrepOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<Computed> {
    let plain = |result| Computed { result, model_file: None };
    Ok(match (&spec.program, input) {
        (Program::JointStats(p), Input::Column(v)) => {
            plain(to_json(stats::run(ch, v, p, to, prep, progress)?)?)
        }
        (Program::PsiAggregate(p), Input::Keyed(ids, v)) => {
            plain(to_json(psi_aggregate::run(ch, ids, v, p, to, prep, progress)?)?)
        }
        (Program::SecureLr(p), Input::Rows(rows)) => {
            plain(to_json(secure_lr::run(ch, rows, p, to, prep, progress)?)?)
        }
        (Program::FederatedLr(p), Input::Table(t, role)) => {
            let o = federated::run(ch, t, &federated::Model::Lr(p), *role, to, progress)?;
            Computed { result: to_json(o.result)?, model_file: Some(o.model_file) }
        }
        (Program::FederatedSecureBoost(p), Input::Table(t, role)) => {
            let o = federated::run(ch, t, &federated::Model::Boost(p), *role, to, progress)?;
            Computed { result: to_json(o.result)?, model_file: Some(o.model_file) }
        }
        _ => return Err(Error::Usage("input does not match the program".into())),
    })
}

/// The result bytes (at recipients) and the result hash every party signs.
///
/// With every party receiving, the result file is the result's JSON. Otherwise the first
/// recipient draws a 32-byte salt and sends it to the other recipients only, the result file
/// carries it (so its hash is a hiding commitment: a non-recipient cannot test guesses of a
/// low-entropy result against it), and every recipient sends the hash to every non-recipient,
/// which requires them to agree. The signatures on the commitment then catch any disagreement.
fn finish_result(
    ch: &mut QuicChannel,
    to: &Recipients,
    result: Option<serde_json::Value>,
) -> Result<(Option<Vec<u8>>, Hash32)> {
    let me = ch.party();
    let pretty = |v: &serde_json::Value| -> Result<Vec<u8>> {
        serde_json::to_vec_pretty(v).map_err(|e| Error::invalid("result", e))
    };
    match (to.contains(me), result) {
        (true, Some(v)) if to.is_all() => {
            let bytes = pretty(&v)?;
            let h = result_hash(&bytes);
            Ok((Some(bytes), h))
        }
        (true, Some(mut v)) => {
            let salt = if me == to.first() {
                let mut salt = [0u8; 32];
                getrandom::fill(&mut salt)
                    .map_err(|e| Error::Transport(format!("randomness: {e}")))?;
                for &r in to.parties().iter().filter(|r| **r != me) {
                    ch.send(r, &salt)?;
                }
                salt
            } else {
                ch.recv(to.first())?
                    .as_slice()
                    .try_into()
                    .map_err(|_| Error::invalid("peer message", "salt"))?
            };
            let obj =
                v.as_object_mut().ok_or_else(|| Error::invalid("result", "not a JSON object"))?;
            obj.insert("salt".into(), serde_json::Value::String(hex::encode(salt)));
            let bytes = pretty(&v)?;
            let h = result_hash(&bytes);
            for p in (0..ch.num_parties()).map(crate::pid).filter(|p| !to.contains(*p)) {
                ch.send(p, &h)?;
            }
            Ok((Some(bytes), h))
        }
        (false, None) => {
            let mut agreed: Option<Hash32> = None;
            for &r in to.parties() {
                let h: Hash32 = ch
                    .recv(r)?
                    .as_slice()
                    .try_into()
                    .map_err(|_| Error::invalid("peer message", "result hash"))?;
                if agreed.is_some_and(|a| a != h) {
                    return Err(Error::Verification("recipients disagree on the result".into()));
                }
                agreed = Some(h);
            }
            agreed.map(|h| (None, h)).ok_or_else(|| Error::invalid("outputs", "no recipient"))
        }
        _ => Err(Error::Usage("a recipient got no result, or a non-recipient got one".into())),
    }
}

/// What a party holds after anchoring.
struct Done {
    result_bytes: Option<Vec<u8>>,
    result_hash: Hash32,
    model_file: Option<Vec<u8>>,
}

#[allow(clippy::too_many_arguments)]
fn compute_and_anchor(
    home: &Home,
    ledger: &NodeLedger,
    spec: &JobSpec,
    ch: &mut QuicChannel,
    input: &Input,
    data: &[u8],
    opts: &RunOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<(Done, u64)> {
    let me = ch.party();
    let prep = PrepOptions { batch: opts.prep_batch };
    let to = spec.recipients()?;
    let computed = compute(ch, spec, input, &to, prep, progress)?;
    // Step labels of the node's own rounds (fault-injection tests classify cuts by them).
    ch.begin_step("node/job/result");
    let (result_bytes, rhash) = finish_result(ch, &to, computed.result)?;

    progress("exchanging input commitments");
    ch.begin_step("node/job/inputs");
    let dids = spec.dids()?;
    let my_input = input_commitment(&spec.job_id, &dids[me.index()], data);
    ch.broadcast(&my_input)?;
    let mut inputs = Vec::with_capacity(spec.parties.len());
    for (p, ps) in spec.parties.iter().enumerate() {
        let commitment: Hash32 = if p == me.index() {
            my_input
        } else {
            let raw = ch.recv(crate::pid(p))?;
            let theirs: Hash32 = raw
                .as_slice()
                .try_into()
                .map_err(|_| Error::invalid("peer message", "commitment"))?;
            if theirs == my_input {
                return Err(Error::Verification(format!(
                    "{} sent back our own input commitment",
                    dids[p]
                )));
            }
            theirs
        };
        inputs.push(InputCommitment {
            dataset: ps.dataset.clone(),
            grant: ps.grant.clone(),
            commitment,
        });
    }
    let mut c = Commitment {
        job_id: spec.job_id.clone(),
        participants: dids,
        program_hash: spec.program.hash()?,
        inputs,
        result_hash: rhash,
        tee_evidence_hash: None,
        signatures: vec![],
    };
    progress("signing the commitment");
    let chain = ledger.chain_id();
    let msg = c.signing_message(&chain);
    let my_sig = home.key().sign(&msg);
    ch.begin_step("node/job/sign");
    ch.broadcast(&my_sig.0)?;
    let keys = c
        .participants
        .iter()
        .map(|d| {
            ledger.resolve_key(&tessera_ledger::KeyRef::new(d.clone(), crate::home::SIGNING_METHOD))
        })
        .collect::<Result<Vec<_>>>()?;
    for (p, did) in c.participants.clone().iter().enumerate() {
        let sig = if p == me.index() {
            my_sig
        } else {
            let raw = ch.recv(crate::pid(p))?;
            let a: [u8; 64] = raw
                .as_slice()
                .try_into()
                .map_err(|_| Error::invalid("peer message", "signature"))?;
            let s = Signature(a);
            keys[p]
                .verify(&msg, &s)
                .map_err(|_| Error::Verification(format!("{did} signed a different commitment")))?;
            s
        };
        c.signatures.push(Approval {
            signer: tessera_ledger::KeyRef::new(did.clone(), crate::home::SIGNING_METHOD),
            signature: sig,
        });
    }
    ch.begin_step("node/job/anchor");
    let height = if me.index() == 0 {
        progress("anchoring the commitment on the ledger");
        let r = ledger.submit(&home.key_ref(), home.key(), TxBody::Commit(c.clone()));
        let word: &[u8] = if r.is_ok() { b"anchored" } else { b"failed" };
        ch.broadcast(word)?;
        r?;
        ledger.height()?
    } else {
        progress("waiting for party 0 to anchor");
        let word = ch.recv(PartyId(0))?;
        if word != b"anchored" {
            return Err(Error::Rejected("party 0 could not anchor the commitment".into()));
        }
        0
    };
    let rec: JobRecord = ledger
        .state(&StateKey::Job(spec.job_id.clone()))?
        .ok_or_else(|| Error::Verification("the commitment is not on the ledger".into()))?;
    check_anchored(&rec.commitment, &c, &chain)?;
    let _ = height;
    Ok((Done { result_bytes, result_hash: rhash, model_file: computed.model_file }, rec.height))
}

/// Writes what a finished job leaves at this party under `<home>/jobs/<job>/`: the result file
/// (recipients only; at `out` if given), the private model file (federated programs) and the
/// job's receipt from the ledger (everyone). Returns the `--json` value and a human line.
pub fn write_outputs(
    home: &Home,
    o: &JobOutcome,
    out: Option<&Path>,
) -> Result<(serde_json::Value, String)> {
    let dir = home.dir.join("jobs").join(&o.job_id);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let mut v = serde_json::to_value(o).map_err(|e| Error::invalid("outcome", e))?;
    let mut human = format!(
        "job {} done as party {}: anchored at block {} (result hash {}); sent {} B, received {} B in {} ms",
        o.job_id, o.party, o.anchored_at, o.result_hash, o.bytes_sent, o.bytes_received, o.total_ms
    );
    match &o.result_bytes {
        Some(bytes) => {
            let path = out.map(Path::to_path_buf).unwrap_or_else(|| dir.join("result.json"));
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
            v["result_file"] = serde_json::json!(path);
            v["result"] = serde_json::from_slice(bytes).unwrap_or_default();
            human.push_str(&format!("\nresult: {}", path.display()));
        }
        None => human.push_str("\nnot a recipient: no result file (the receipt proves the job)"),
    }
    if let Some(model) = &o.model_file {
        let path = dir.join("model.json");
        std::fs::write(&path, model).map_err(|e| Error::io(&path, e))?;
        v["model_file"] = serde_json::json!(path);
        human.push_str(&format!("\nmodel part (private to this node): {}", path.display()));
    }
    let ledger = NodeLedger::open(home)?;
    let (_, receipt) = crate::ops::job_status(&ledger, &o.job_id)?;
    let path = dir.join("receipt.bin");
    std::fs::write(&path, tessera_ledger::Encode::to_bytes(&receipt))
        .map_err(|e| Error::io(&path, e))?;
    v["receipt_file"] = serde_json::json!(path);
    human.push_str(&format!("\nreceipt: {}", path.display()));
    Ok((v, human))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARTIES: &str = r#"
        [[party]]
        did = "did:tessera:a"
        dataset = "a-data"
        grant = "g"
        [[party]]
        did = "did:tessera:b"
        dataset = "b-data"
        grant = "g"
    "#;

    fn spec(outputs: &str, program: &str, parties: &str) -> Result<JobSpec> {
        JobSpec::parse(&format!(
            "job_id = \"j\"\noutputs = [{outputs}]\n[program]\n{program}\n{parties}"
        ))
    }

    #[test]
    fn outputs_name_one_to_all_participants() {
        let p = "name = \"joint-stats\"";
        let s = spec("\"did:tessera:b\"", p, PARTIES).unwrap();
        let to = s.recipients().unwrap();
        assert!(!to.is_all() && to.contains(PartyId(1)) && !to.contains(PartyId(0)));
        assert!(spec("", p, PARTIES).is_err());
        assert!(spec("\"did:tessera:c\"", p, PARTIES).is_err());
        assert!(spec("\"did:tessera:a\", \"did:tessera:a\"", p, PARTIES).is_err());
    }

    #[test]
    fn federated_programs_need_a_guest_and_a_host() {
        let p = "name = \"federated-lr\"";
        let outs = "\"did:tessera:a\"";
        assert!(spec(outs, p, PARTIES).is_err(), "roles missing");
        let roles = PARTIES.replacen("grant = \"g\"", "grant = \"g\"\nrole = \"guest\"", 1);
        let roles = roles.replacen(
            "\"b-data\"\n        grant = \"g\"",
            "\"b-data\"\ngrant = \"g\"\nrole = \"host\"",
            1,
        );
        assert!(spec(outs, p, &roles).is_ok());
        // The guest computes the summary, so it must receive it.
        assert!(spec("\"did:tessera:b\"", p, &roles).is_err());
        // Roles mean nothing to other programs.
        assert!(spec(outs, "name = \"joint-stats\"", &roles).is_err());
    }

    #[test]
    fn input_commitments_name_the_job_and_the_party() {
        let (a, b) = (Did::parse("did:tessera:a").unwrap(), Did::parse("did:tessera:b").unwrap());
        let c = input_commitment("j", &a, b"same file");
        // Two parties with the same file: an echo of one is never the other's commitment.
        assert_ne!(c, input_commitment("j", &b, b"same file"));
        assert_ne!(c, input_commitment("j2", &a, b"same file"));
        assert_ne!(c, input_commitment("j", &a, b"other file"));
        // Length prefixes: moving a byte between job id and DID changes the commitment.
        assert_ne!(input_commitment("j1", &a, b"x"), input_commitment("j", &a, b"1x"));
    }

    #[test]
    fn an_anchored_commitment_with_our_result_hash_but_other_fields_is_refused() {
        let chain = [3u8; 32];
        let did = |s: &str| Did::parse(s).unwrap();
        let approval = |d: &str| Approval {
            signer: tessera_ledger::KeyRef::new(did(d), "key-1"),
            signature: Signature([0; 64]),
        };
        let ours = Commitment {
            job_id: "j".into(),
            participants: vec![did("did:tessera:a"), did("did:tessera:b")],
            program_hash: [1; 32],
            inputs: vec![InputCommitment {
                dataset: "d".into(),
                grant: "g".into(),
                commitment: [2; 32],
            }],
            result_hash: [4; 32],
            tee_evidence_hash: None,
            signatures: vec![approval("did:tessera:a"), approval("did:tessera:b")],
        };
        check_anchored(&ours, &ours, &chain).unwrap();
        // Party 0 anchors, under our job id, a commitment with the same result hash and as many
        // signatures, but signed by DIDs it controls, or over other inputs.
        let mut sybil = ours.clone();
        sybil.participants[1] = did("did:tessera:mallory");
        sybil.signatures[1] = approval("did:tessera:mallory");
        let mut other_inputs = ours.clone();
        other_inputs.inputs.clear();
        for forged in [sybil, other_inputs] {
            assert_eq!(forged.result_hash, ours.result_hash);
            assert!(matches!(check_anchored(&forged, &ours, &chain), Err(Error::Verification(_))));
        }
    }

    #[test]
    fn program_hash_covers_parameters_not_their_spelling() {
        let outs = "\"did:tessera:a\"";
        let a = spec(outs, "name = \"secure-lr\"\nepochs = 3\nlabel = \"y\"", PARTIES).unwrap();
        let b = spec(outs, "label = \"y\"\nname = \"secure-lr\"\nepochs = 3", PARTIES).unwrap();
        let c = spec(outs, "name = \"secure-lr\"\nepochs = 4", PARTIES).unwrap();
        let d = spec(outs, "name = \"psi-aggregate\"", PARTIES).unwrap();
        assert_eq!(a.program.hash().unwrap(), b.program.hash().unwrap());
        assert_ne!(a.program.hash().unwrap(), c.program.hash().unwrap());
        assert_ne!(a.program.hash().unwrap(), d.program.hash().unwrap());
        assert!(spec(outs, "name = \"secure-lr\"\nepochs = 0", PARTIES).is_err());
        assert!(spec(outs, "name = \"secure-lr\"\nunknown = 1", PARTIES).is_err());
    }

    #[test]
    fn data_files_are_columns_or_id_tables() {
        assert!(check_data_file(b"age\n1\n2\n").is_ok());
        assert!(check_data_file(b"id,x,y\na,1.5,0\nb,2,1\n").is_ok());
        assert!(check_data_file(b"id,x\na,oops\n").is_err());
        assert!(check_data_file(b"1\n2\nthree\n").is_err());
    }

    #[test]
    fn the_program_table_names_its_preprocessing() {
        let outs = "\"did:tessera:a\"";
        for name in ["joint-stats", "secure-lr"] {
            let dflt = spec(outs, &format!("name = \"{name}\""), PARTIES).unwrap();
            let explicit = format!("name = \"{name}\"\npreprocessing = \"vole\"");
            let explicit = spec(outs, &explicit, PARTIES).unwrap();
            // The default is written out, so the hash grants name fixes the protocol.
            assert_eq!(dflt.program.hash().unwrap(), explicit.program.hash().unwrap());
            let mascot = format!("name = \"{name}\"\npreprocessing = \"mascot\"");
            let mascot = spec(outs, &mascot, PARTIES).unwrap();
            // A grant for one protocol does not authorise the other.
            assert_ne!(dflt.program.hash().unwrap(), mascot.program.hash().unwrap());
            let bogus = format!("name = \"{name}\"\npreprocessing = \"trust-me\"");
            let err = spec(outs, &bogus, PARTIES).unwrap_err().to_string();
            assert!(err.contains("preprocessing") || err.contains("trust-me"), "{err}");
        }
    }
}
