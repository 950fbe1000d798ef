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
use tessera_protocols::spdz::MascotConfig;

use crate::error::{Error, Result};
use crate::home::Home;
use crate::ledgerclient::NodeLedger;
use crate::stats::{self, StatsParams};
use crate::tls::PeerInfo;
use crate::transport::{MeshConfig, QuicChannel};

/// Domain tag of program hashes.
const PROGRAM_DOMAIN: &[u8] = b"tessera-node/program/v1";
/// Domain tag of input commitments.
const INPUT_DOMAIN: &[u8] = b"tessera-node/input/v1";
/// Domain tag of result hashes.
const RESULT_DOMAIN: &[u8] = b"tessera-node/result/v1";

/// The program of a job and its parameters.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "name", deny_unknown_fields)]
pub enum Program {
    /// Joint statistics of one column ([`crate::stats`]).
    #[serde(rename = "joint-stats")]
    JointStats(StatsParams),
}

impl Program {
    /// The program hash: ledger hash (SHA-256) of its canonical JSON under a domain tag.
    pub fn hash(&self) -> Result<Hash32> {
        let canon = serde_json::to_vec(self).map_err(|e| Error::invalid("program", e))?;
        Ok(LedgerHash::Sha256.hash(&[PROGRAM_DOMAIN, &canon]))
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
}

/// A job spec (TOML).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// Unique job id.
    pub job_id: String,
    /// Program and parameters.
    pub program: Program,
    /// Participants in party order.
    #[serde(rename = "party")]
    pub parties: Vec<PartySpec>,
    /// DIDs that learn the result (this version: every participant).
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
        let Program::JointStats(p) = &self.program;
        p.validate()?;
        if self.parties.len() < 2 || self.parties.len() > 16 {
            return Err(Error::invalid("job spec", "need 2 to 16 parties"));
        }
        let dids = self.dids()?;
        for (i, d) in dids.iter().enumerate() {
            if dids[..i].contains(d) {
                return Err(Error::invalid("job spec", format!("{d} appears twice")));
            }
        }
        let mut outs: Vec<Did> = self
            .outputs
            .iter()
            .map(|o| Did::parse(o).map_err(|e| Error::invalid("outputs", e)))
            .collect::<Result<_>>()?;
        outs.sort();
        let mut all = dids.clone();
        all.sort();
        if outs != all {
            return Err(Error::invalid(
                "outputs",
                "this version opens the result to every participant; list them all",
            ));
        }
        Ok(())
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

/// Options of a job run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Peers must connect within this.
    pub connect_timeout: Duration,
    /// QUIC idle timeout.
    pub idle_timeout: Duration,
    /// Receive timeout of the channel.
    pub recv_timeout: Duration,
    /// MASCOT batch size.
    pub mascot_batch: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(10),
            recv_timeout: Duration::from_secs(120),
            mascot_batch: 1024,
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
    /// The result file's bytes (canonical JSON).
    #[serde(skip)]
    pub result_bytes: Vec<u8>,
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
    let values = read_column(&data)?;
    let parties = resolve_parties(&ledger, spec)?;
    progress("connecting to peers (QUIC, DID-bound mutual TLS)");
    let mut mesh = MeshConfig::new(&spec.job_id, me, parties);
    mesh.bind = Some(home.config.listen);
    mesh.connect_timeout = opts.connect_timeout;
    mesh.idle_timeout = opts.idle_timeout;
    mesh.channel.recv_timeout = opts.recv_timeout;
    let mut ch = QuicChannel::connect(home.tls_pkcs8(), &mesh)?;
    let compute_start = Instant::now();
    let r = compute_and_anchor(home, &ledger, spec, &mut ch, &values, &data, opts, progress);
    let stats: ChannelStats = ch.stats();
    let compute_ms = compute_start.elapsed().as_millis() as u64;
    let r = r.map_err(|e| name_peer(e, &ch));
    drop(ch);
    let (result_bytes, result, height) = r?;
    Ok(JobOutcome {
        job_id: spec.job_id.clone(),
        party: me,
        result_bytes,
        result_hash: hex::encode(result),
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

#[allow(clippy::too_many_arguments)]
fn compute_and_anchor(
    home: &Home,
    ledger: &NodeLedger,
    spec: &JobSpec,
    ch: &mut QuicChannel,
    values: &[u64],
    data: &[u8],
    opts: &RunOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<(Vec<u8>, Hash32, u64)> {
    let me = ch.party();
    let mascot = MascotConfig { batch: opts.mascot_batch, ..MascotConfig::default() };
    let Program::JointStats(params) = &spec.program;
    let result = stats::run(ch, values, params, mascot, progress)?;
    let result_bytes =
        serde_json::to_vec_pretty(&result).map_err(|e| Error::invalid("result", e))?;
    let rhash = result_hash(&result_bytes);

    progress("exchanging input commitments");
    let my_input = LedgerHash::Sha256.hash(&[INPUT_DOMAIN, spec.job_id.as_bytes(), data]);
    ch.broadcast(&my_input)?;
    let mut inputs = Vec::with_capacity(spec.parties.len());
    for (p, ps) in spec.parties.iter().enumerate() {
        let commitment: Hash32 = if p == me.index() {
            my_input
        } else {
            let raw = ch.recv(crate::pid(p))?;
            raw.as_slice().try_into().map_err(|_| Error::invalid("peer message", "commitment"))?
        };
        inputs.push(InputCommitment {
            dataset: ps.dataset.clone(),
            grant: ps.grant.clone(),
            commitment,
        });
    }
    let mut c = Commitment {
        job_id: spec.job_id.clone(),
        participants: spec.dids()?,
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
    if rec.commitment.result_hash != rhash || rec.commitment.signatures.len() != c.signatures.len()
    {
        return Err(Error::Verification("the anchored commitment differs from ours".into()));
    }
    let _ = height;
    Ok((result_bytes, rhash, rec.height))
}
