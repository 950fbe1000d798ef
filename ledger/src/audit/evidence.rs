//! Evidence that a job's inputs were authorised, checkable offline: for each grant a job used,
//! the receipt of the transaction that created it, a state receipt of the grant after the job,
//! and the receipt of its revocation if it was revoked.
//!
//! [`verify_job_evidence`] then shows, from certified data only, that each grant existed before
//! the job's commitment (earlier in the chain), names the job's program, covers every
//! participant (a grantee or the data set's owner, who signed the grant), had not expired at the
//! job's block time, and was not revoked before the job: a revocation is final and happens at
//! most once, so a grant whose latest state says "not revoked" was never revoked, and one that
//! says "revoked" must come with its revocation, which must lie after the job.

use super::check::{checked_state, checked_tx};
use super::index::{AUDIT, KIND_GRANT, KIND_GRANT_USE, KIND_JOB, Pos, prefix};
use crate::block::ValidatorSet;
use crate::codec::{Decode, Encode, MAX_ID_LEN, MAX_LIST, Reader, Writer};
use crate::error::{Error, Result, StorageExt};
use crate::hash::Hash32;
use crate::ledger::{Ledger, catch_storage_panic};
use crate::receipt::Receipt;
use crate::state::{GrantRecord, JobRecord, StateKey};
use crate::tx::{Transaction, TxBody};
use redb::ReadableDatabase as _;

/// The evidence for one grant a job used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantEvidence {
    /// Data set.
    pub dataset: String,
    /// Grant.
    pub grant: String,
    /// Receipt of the `Grant` transaction.
    pub grant_tx: Receipt,
    /// State receipt of the grant at a block at or after the job's.
    pub state: Receipt,
    /// Receipt of the `Revoke` transaction, if the state says revoked.
    pub revoke_tx: Option<Receipt>,
}

/// The evidence for a job: its commitment's transaction and one [`GrantEvidence`] per grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobEvidence {
    /// Receipt of the `Commit` transaction that anchored the job.
    pub commit_tx: Receipt,
    /// One entry per distinct (data set, grant) among the inputs.
    pub grants: Vec<GrantEvidence>,
}

/// What [`verify_job_evidence`] established for one grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantUse {
    /// Data set.
    pub dataset: String,
    /// Grant.
    pub grant: String,
    /// Where the grant was created.
    pub granted_at: Pos,
    /// Its expiry (Unix ms), after the job's block time.
    pub expires_at_ms: u64,
    /// Where it was revoked, after the job, if it was.
    pub revoked_at: Option<Pos>,
}

impl Encode for GrantEvidence {
    fn encode(&self, w: &mut Writer) {
        w.str(&self.dataset);
        w.str(&self.grant);
        self.grant_tx.encode(w);
        self.state.encode(w);
        w.option(self.revoke_tx.as_ref());
    }
}

impl Decode for GrantEvidence {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            dataset: r.string(MAX_ID_LEN)?,
            grant: r.string(MAX_ID_LEN)?,
            grant_tx: Receipt::decode(r)?,
            state: Receipt::decode(r)?,
            revoke_tx: r.option()?,
        })
    }
}

impl Encode for JobEvidence {
    fn encode(&self, w: &mut Writer) {
        self.commit_tx.encode(w);
        w.list(&self.grants);
    }
}

impl Decode for JobEvidence {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self { commit_tx: Receipt::decode(r)?, grants: r.list(MAX_LIST)? })
    }
}

fn pos_id(v: &[u8]) -> Result<(Pos, Hash32)> {
    let pos = Pos::from_bytes(v.get(..12).ok_or(Error::Corrupt("audit entry"))?)?;
    let id = v.get(12..).and_then(|b| b.try_into().ok()).ok_or(Error::Corrupt("audit entry"))?;
    Ok((pos, id))
}

impl Ledger {
    /// The evidence that job `job_id`'s inputs were authorised (see [`verify_job_evidence`]).
    pub fn job_evidence(&self, job_id: &str) -> Result<JobEvidence> {
        let (commit_id, pairs, revoked_ids) = catch_storage_panic(&self.path, || {
            let rt = self.db.begin_read().storage()?;
            let idx = rt.open_table(AUDIT).storage()?;
            let j = idx
                .get(prefix(KIND_JOB, &[job_id.as_bytes()]).as_slice())
                .storage()?
                .ok_or_else(|| Error::NotFound { what: "job", id: job_id.to_owned() })?;
            let (_, commit_id) = pos_id(j.value())?;
            let rec: JobRecord = self
                .state(&StateKey::Job(job_id.to_owned()))?
                .ok_or(Error::Corrupt("indexed job without record"))?;
            let mut pairs: Vec<(String, String, Hash32)> = Vec::new();
            let mut revoked_ids: Vec<Option<Hash32>> = Vec::new();
            for i in &rec.commitment.inputs {
                if pairs.iter().any(|(d, g, _)| *d == i.dataset && *g == i.grant) {
                    continue;
                }
                let gk = prefix(KIND_GRANT, &[i.dataset.as_bytes(), i.grant.as_bytes()]);
                let e = idx.get(gk.as_slice()).storage()?.ok_or(Error::Corrupt("grant index"))?;
                let (_, gid) = pos_id(e.value())?;
                let g: GrantRecord = self
                    .state(&StateKey::Grant { dataset: i.dataset.clone(), grant: i.grant.clone() })?
                    .ok_or(Error::Corrupt("grant record"))?;
                let mut revoke = None;
                if g.revoked {
                    let p = prefix(KIND_GRANT_USE, &[i.dataset.as_bytes(), i.grant.as_bytes()]);
                    let hi = [p.as_slice(), &[0xff; 16]].concat();
                    let txs = rt.open_table(crate::store::TXS).storage()?;
                    for e in idx.range(p.as_slice()..hi.as_slice()).storage()? {
                        let (_, v) = e.storage()?;
                        let id: Hash32 =
                            v.value().try_into().map_err(|_| Error::Corrupt("audit"))?;
                        let t = txs.get(id.as_slice()).storage()?.ok_or(Error::Corrupt("tx"))?;
                        let tx = Transaction::from_bytes(
                            t.value().get(12..).ok_or(Error::Corrupt("tx entry"))?,
                        )?;
                        if matches!(tx.body, TxBody::Revoke { .. }) {
                            revoke = Some(id);
                        }
                    }
                }
                pairs.push((i.dataset.clone(), i.grant.clone(), gid));
                revoked_ids.push(revoke);
            }
            Ok((commit_id, pairs, revoked_ids))
        })?;
        let commit_tx = self.tx_receipt(&commit_id)?;
        let mut grants = Vec::with_capacity(pairs.len());
        for ((dataset, grant, gid), rid) in pairs.into_iter().zip(revoked_ids) {
            let state = self.state_receipt(&StateKey::Grant {
                dataset: dataset.clone(),
                grant: grant.clone(),
            })?;
            let revoke_tx = rid.map(|id| self.tx_receipt(&id)).transpose()?;
            grants.push(GrantEvidence {
                dataset,
                grant,
                grant_tx: self.tx_receipt(&gid)?,
                state,
                revoke_tx,
            });
        }
        Ok(JobEvidence { commit_tx, grants })
    }
}

fn refuse(why: impl Into<String>) -> Error {
    Error::Evidence(why.into())
}

/// Checks that the job recorded as `record` (taken from a verified state receipt) was authorised
/// by every grant it names, from `evidence` alone, for chain `chain_id` and the trusted
/// `validators`. See the module documentation; failures are [`Error::Evidence`] (or the receipt
/// error of a receipt that does not verify).
pub fn verify_job_evidence(
    record: &JobRecord,
    evidence: &JobEvidence,
    chain_id: &Hash32,
    validators: &ValidatorSet,
) -> Result<Vec<GrantUse>> {
    let c = &record.commitment;
    if c.inputs.is_empty() {
        return Err(refuse("the commitment has no inputs: no grant authorised it"));
    }
    let (job_pos, _, commit) = checked_tx(&evidence.commit_tx, chain_id, validators)?;
    match &commit.body {
        TxBody::Commit(x) if x == c && job_pos.height == record.height => {}
        _ => return Err(refuse("the commitment transaction is not this job's")),
    }
    let mut out = Vec::new();
    for input in &c.inputs {
        if out.iter().any(|u: &GrantUse| u.dataset == input.dataset && u.grant == input.grant) {
            continue;
        }
        let (ds, g) = (&input.dataset, &input.grant);
        let ev = evidence
            .grants
            .iter()
            .find(|e| e.dataset == *ds && e.grant == *g)
            .ok_or_else(|| refuse(format!("no evidence for grant {g} on {ds}")))?;
        // The grant's creation: before the job, for this program and these participants.
        let (granted_at, _, gtx) = checked_tx(&ev.grant_tx, chain_id, validators)?;
        let TxBody::Grant { dataset, grant, program_hash, grantees, expires_at_ms, .. } = &gtx.body
        else {
            return Err(refuse(format!("the receipt for {g} is not a grant")));
        };
        if dataset != ds || grant != g {
            return Err(refuse(format!("the grant receipt is for {grant} on {dataset}")));
        }
        if granted_at >= job_pos {
            return Err(refuse(format!("grant {g} did not exist before the job")));
        }
        if *program_hash != c.program_hash {
            return Err(refuse(format!("grant {g} names another program")));
        }
        // The data set's owner signed the grant (the ledger lets only the owner grant).
        let owner = &gtx.signer.did;
        if let Some(p) = c.participants.iter().find(|p| *p != owner && !grantees.contains(p)) {
            return Err(refuse(format!("grant {g} does not cover participant {p}")));
        }
        if record.time_ms >= *expires_at_ms {
            return Err(refuse(format!("grant {g} had expired at the job's block time")));
        }
        // Its state after the job: revoked only with a revocation after the job.
        let (key, value) = checked_state(&ev.state, chain_id, validators)?;
        if key != (StateKey::Grant { dataset: ds.clone(), grant: g.clone() }).to_bytes() {
            return Err(refuse(format!("the state receipt is not grant {g}'s")));
        }
        if ev.state.header.height < record.height {
            return Err(refuse(format!("the state of grant {g} predates the job")));
        }
        let rec = GrantRecord::from_bytes(&value)?;
        if rec.program_hash != *program_hash || rec.uses == 0 || rec.uses > rec.max_uses {
            return Err(refuse(format!("grant {g}'s record does not match its creation")));
        }
        let revoked_at = match (&ev.revoke_tx, rec.revoked) {
            (None, false) => None,
            (Some(rc), true) => {
                let (at, _, rtx) = checked_tx(rc, chain_id, validators)?;
                match &rtx.body {
                    TxBody::Revoke { dataset, grant } if dataset == ds && grant == g => {}
                    _ => return Err(refuse(format!("the revocation receipt is not {g}'s"))),
                }
                if at <= job_pos {
                    return Err(refuse(format!("grant {g} was revoked before the job")));
                }
                Some(at)
            }
            (None, true) => {
                return Err(refuse(format!("grant {g} is revoked; revocation missing")));
            }
            (Some(_), false) => {
                return Err(refuse(format!("a revocation of {g} that its state does not show")));
            }
        };
        out.push(GrantUse {
            dataset: ds.clone(),
            grant: g.clone(),
            granted_at,
            expires_at_ms: *expires_at_ms,
            revoked_at,
        });
    }
    Ok(out)
}
