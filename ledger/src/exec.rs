//! Transaction execution: the rules that decide whether a transaction may change the state.
//!
//! Each transaction runs against a two-level overlay (block, then transaction) over the committed
//! state; a failing transaction leaves no trace and is reported, the others go into the block.
//! Signature checks are the costly part, so the block builder verifies them on worker threads
//! (keys resolved against committed state) while this thread executes the block *optimistically*,
//! assuming each check passes and recording it. If every assumed check is then found verified the
//! optimistic result is exactly the strict one; otherwise (a bad signature, or a key created or
//! rotated earlier in the same block) the block is executed again strictly, with the verified
//! checks as a memo.

use crate::block::ValidatorSet;
use crate::codec::{Decode, Encode};
use crate::did::{Did, DidDocument, KeyRef};
use crate::error::{Error, Result};
use crate::genesis::Org;
use crate::hash::{Hash32, LedgerHash};
use crate::keys::{PublicKey, Signature};
use crate::recovery::RecoveryBackup;
use crate::state::{
    DataSet, GovernanceState, GrantRecord, JobRecord, StateKey, Supervisors, check_name,
    decode_nonce,
};
use crate::tx::{
    AdminApproval, Approval, Commitment, DidRegistration, GovAction, Transaction, TxBody,
    did_create_message, did_update_message, governance_message,
};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};

/// Read access to committed state values.
pub(crate) trait StateRead {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
}

type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Memo key for a verified signature.
pub(crate) fn sig_memo(pk: &PublicKey, msg: &[u8], sig: &Signature) -> Hash32 {
    LedgerHash::Sha256.hash(&[&pk.to_bytes(), &sig.0, msg])
}

/// A signature to check: key, message, signature.
pub(crate) type SigJob = (PublicKey, Vec<u8>, Signature);

pub(crate) struct Executor<'a> {
    pub(crate) chain_id: Hash32,
    pub(crate) height: u64,
    pub(crate) time_ms: u64,
    base: &'a dyn StateRead,
    block: Writes,
    tx: Writes,
    verified: HashSet<Hash32>,
    /// In optimistic mode, signature checks that miss the memo are assumed to pass and recorded
    /// here; the caller must find every one of them verified, or execute the block again.
    assumed: Option<RefCell<Vec<Hash32>>>,
}

impl<'a> Executor<'a> {
    pub(crate) fn new(
        chain_id: Hash32,
        height: u64,
        time_ms: u64,
        base: &'a dyn StateRead,
    ) -> Self {
        Self {
            chain_id,
            height,
            time_ms,
            base,
            block: Writes::new(),
            tx: Writes::new(),
            verified: HashSet::new(),
            assumed: None,
        }
    }

    /// Switches to optimistic mode (see [`Executor::take_assumed`]).
    pub(crate) fn set_optimistic(&mut self) {
        self.assumed = Some(RefCell::new(Vec::new()));
    }

    /// The signature checks assumed in optimistic mode.
    pub(crate) fn take_assumed(&mut self) -> Vec<Hash32> {
        self.assumed.take().map(RefCell::into_inner).unwrap_or_default()
    }

    /// Records signatures already verified (by the parallel pre-pass).
    pub(crate) fn add_verified(&mut self, memo: impl IntoIterator<Item = Hash32>) {
        self.verified.extend(memo);
    }

    /// The block's writes so far.
    pub(crate) fn into_writes(self) -> Writes {
        self.block
    }

    fn raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(v) = self.tx.get(key) {
            return Ok(v.clone());
        }
        if let Some(v) = self.block.get(key) {
            return Ok(v.clone());
        }
        self.base.get(key)
    }

    pub(crate) fn get<T: Decode>(&self, key: &StateKey) -> Result<Option<T>> {
        match self.raw(&key.to_bytes())? {
            None => Ok(None),
            Some(b) => T::from_bytes(&b).map(Some).map_err(|_| Error::Corrupt("state entry")),
        }
    }

    fn put<T: Encode>(&mut self, key: &StateKey, v: &T) {
        self.tx.insert(key.to_bytes(), Some(v.to_bytes()));
    }

    fn delete(&mut self, key: &StateKey) {
        self.tx.insert(key.to_bytes(), None);
    }

    fn exists(&self, key: &StateKey) -> Result<bool> {
        Ok(self.raw(&key.to_bytes())?.is_some())
    }

    /// Resolves a key reference to an active key.
    pub(crate) fn resolve_key(&self, kr: &KeyRef) -> Result<PublicKey> {
        match &kr.did {
            Did::Key(pk) => Ok(*pk),
            Did::Tessera(id) => {
                let doc: DidDocument = self
                    .get(&StateKey::Did(id.clone()))?
                    .ok_or_else(|| Error::UnknownDid(kr.did.to_string()))?;
                if doc.deactivated {
                    return Err(Error::DidDeactivated(kr.did.to_string()));
                }
                doc.method(&kr.method)
                    .copied()
                    .ok_or_else(|| Error::UnknownDid(format!("{}#{}", kr.did, kr.method)))
            }
        }
    }

    fn verify(&self, pk: &PublicKey, msg: &[u8], sig: &Signature) -> Result<()> {
        let memo = sig_memo(pk, msg, sig);
        if self.verified.contains(&memo) {
            return Ok(());
        }
        if let Some(assumed) = &self.assumed {
            assumed.borrow_mut().push(memo);
            return Ok(());
        }
        pk.verify(msg, sig)
    }

    fn signer_key(&self, tx: &Transaction) -> Result<PublicKey> {
        if let (TxBody::CreateDid(doc), Did::Tessera(id)) = (&tx.body, &tx.signer.did)
            && *id == doc.id
        {
            return doc.method(&tx.signer.method).copied().ok_or_else(|| {
                Error::UnknownDid(format!("{}#{}", tx.signer.did, tx.signer.method))
            });
        }
        self.resolve_key(&tx.signer)
    }

    /// The signature checks `tx` needs that can be resolved now, for the parallel pre-pass.
    pub(crate) fn sig_jobs(&self, tx: &Transaction) -> Vec<SigJob> {
        let mut jobs = Vec::new();
        if let Ok(pk) = self.signer_key(tx) {
            jobs.push((pk, tx.signing_message(&self.chain_id), tx.signature));
        }
        match &tx.body {
            TxBody::Commit(c) => {
                let msg = c.signing_message(&self.chain_id);
                for a in &c.signatures {
                    if let Ok(pk) = self.resolve_key(&a.signer) {
                        jobs.push((pk, msg.clone(), a.signature));
                    }
                }
            }
            TxBody::Governance { seq, action, approvals } => {
                let msg = governance_message(&self.chain_id, *seq, action);
                for a in approvals {
                    jobs.push((a.admin, msg.clone(), a.signature));
                }
            }
            TxBody::CreateDids(regs) => {
                for r in regs {
                    if let Some(pk) = r.document.method(&r.method) {
                        jobs.push((
                            *pk,
                            did_create_message(&self.chain_id, &r.document),
                            r.signature,
                        ));
                    }
                }
            }
            _ => {}
        }
        jobs
    }

    /// Executes `tx`; on error the state is unchanged.
    pub(crate) fn apply(&mut self, tx: &Transaction) -> Result<()> {
        let r = self.apply_inner(tx);
        let writes = core::mem::take(&mut self.tx);
        if r.is_ok() {
            self.block.extend(writes);
        }
        r
    }

    fn apply_inner(&mut self, tx: &Transaction) -> Result<()> {
        let pk = self.signer_key(tx)?;
        self.verify(&pk, &tx.signing_message(&self.chain_id), &tx.signature)?;
        let nonce_key = StateKey::Nonce(tx.signer.did.to_string());
        let last = match self.raw(&nonce_key.to_bytes())? {
            Some(b) => decode_nonce(&b)?,
            None => 0,
        };
        if tx.nonce <= last {
            return Err(Error::ReplayedNonce { last, got: tx.nonce });
        }
        self.tx.insert(nonce_key.to_bytes(), Some(tx.nonce.to_be_bytes().to_vec()));
        let signer = &tx.signer.did;
        let own_document = match &tx.body {
            TxBody::CreateDid(d) | TxBody::UpdateDid { document: d, .. } => d.did() == *signer,
            TxBody::DeactivateDid { id, .. } => Did::Tessera(id.clone()) == *signer,
            _ => false,
        };
        if !own_document && self.is_supervisor(signer)? {
            return Err(Error::NotAuthorised(
                "a supervisor reads only: it signs nothing but its own DID document",
            ));
        }
        match &tx.body {
            TxBody::CreateDid(doc) => self.create_did(signer, doc),
            TxBody::UpdateDid { document, approvals } => self.update_did(document, approvals),
            TxBody::DeactivateDid { id, approvals } => self.deactivate_did(id, approvals),
            TxBody::RegisterDataSet { id, content_hash, schema_hash } => {
                check_name("data set id", id)?;
                let key = StateKey::DataSet(id.clone());
                if self.exists(&key)? {
                    return Err(Error::AlreadyExists { what: "data set", id: id.clone() });
                }
                let ds = DataSet {
                    owner: signer.clone(),
                    content_hash: content_hash.clone(),
                    schema_hash: schema_hash.clone(),
                    registered_at: self.height,
                };
                self.put(&key, &ds);
                Ok(())
            }
            TxBody::Grant { dataset, grant, program_hash, grantees, expires_at_ms, max_uses } => {
                self.owned_dataset(signer, dataset)?;
                check_name("grant id", grant)?;
                let key = StateKey::Grant { dataset: dataset.clone(), grant: grant.clone() };
                if self.exists(&key)? {
                    return Err(Error::AlreadyExists { what: "grant", id: grant.clone() });
                }
                if grantees.is_empty() || has_duplicates(grantees) {
                    return Err(Error::Malformed("grantees empty or repeated"));
                }
                if self.any_supervisor(grantees)? {
                    return Err(Error::NotAuthorised("a supervisor cannot be a grantee"));
                }
                if *max_uses == 0 {
                    return Err(Error::Malformed("max_uses is zero"));
                }
                if *expires_at_ms <= self.time_ms {
                    return Err(Error::GrantExpired(grant.clone()));
                }
                let rec = GrantRecord {
                    program_hash: *program_hash,
                    grantees: grantees.clone(),
                    expires_at_ms: *expires_at_ms,
                    max_uses: *max_uses,
                    uses: 0,
                    revoked: false,
                };
                self.put(&key, &rec);
                Ok(())
            }
            TxBody::Revoke { dataset, grant } => {
                self.owned_dataset(signer, dataset)?;
                let key = StateKey::Grant { dataset: dataset.clone(), grant: grant.clone() };
                let mut rec: GrantRecord = self.get(&key)?.ok_or_else(|| Error::MissingGrant {
                    dataset: dataset.clone(),
                    grant: grant.clone(),
                })?;
                if rec.revoked {
                    return Err(Error::GrantRevoked(grant.clone()));
                }
                rec.revoked = true;
                self.put(&key, &rec);
                Ok(())
            }
            TxBody::Commit(c) => self.commit(signer, c),
            TxBody::Governance { seq, action, approvals } => {
                self.governance(*seq, action, approvals)
            }
            TxBody::RecoveryBackup(b) => self.recovery_backup(signer, b),
            TxBody::CreateDids(regs) => self.create_dids(regs),
        }
    }

    /// A batch of self-signed DID registrations, all or nothing. No nonce is stored for the new
    /// DIDs (their first transaction uses nonce 1, as after [`TxBody::CreateDid`]); a replayed
    /// registration is refused because the DID exists.
    fn create_dids(&mut self, regs: &[DidRegistration]) -> Result<()> {
        if regs.is_empty() {
            return Err(Error::Malformed("empty DID batch"));
        }
        for (index, r) in regs.iter().enumerate() {
            self.register_did(r).map_err(|e| Error::BatchEntry { index, source: Box::new(e) })?;
        }
        Ok(())
    }

    fn register_did(&mut self, r: &DidRegistration) -> Result<()> {
        let doc = &r.document;
        doc.validate()?;
        if doc.version != 0 || doc.deactivated {
            return Err(Error::InvalidDid("a new document has version 0 and is active".into()));
        }
        let pk = doc
            .method(&r.method)
            .copied()
            .ok_or_else(|| Error::UnknownDid(format!("{}#{}", doc.did(), r.method)))?;
        let key = StateKey::Did(doc.id.clone());
        if self.exists(&key)? {
            return Err(Error::AlreadyExists { what: "DID", id: doc.did().to_string() });
        }
        self.verify(&pk, &did_create_message(&self.chain_id, doc), &r.signature)?;
        self.put(&key, doc);
        Ok(())
    }

    /// A recovery backup: published by the DID's own key, its recovery key already a controller
    /// of the document, every share sealed to its holder's current key, never overwritten.
    fn recovery_backup(&mut self, signer: &Did, b: &RecoveryBackup) -> Result<()> {
        let doc = self.active_doc(&b.did)?;
        if *signer != doc.did() {
            return Err(Error::NotAuthorised(
                "a recovery backup is published by one of the DID's own keys",
            ));
        }
        b.validate()?;
        if !doc.controllers.contains(&b.recovery_did()?) {
            return Err(Error::Backup("the backup's recovery key is not a controller of the DID"));
        }
        for s in &b.shares {
            if self.resolve_key(&s.holder)? != s.key {
                return Err(Error::Backup("a share is sealed to a key its holder no longer has"));
            }
        }
        let key = StateKey::Recovery { did: b.did.clone(), backup: b.id.clone() };
        if self.exists(&key)? {
            return Err(Error::AlreadyExists { what: "recovery backup", id: b.id.clone() });
        }
        self.put(&key, b);
        Ok(())
    }

    fn supervisors(&self) -> Result<Supervisors> {
        Ok(self.get(&StateKey::Supervisors)?.unwrap_or_default())
    }

    fn is_supervisor(&self, did: &Did) -> Result<bool> {
        Ok(self.supervisors()?.0.contains(did))
    }

    fn any_supervisor(&self, dids: &[Did]) -> Result<bool> {
        let s = self.supervisors()?;
        Ok(dids.iter().any(|d| s.0.contains(d)))
    }

    fn owned_dataset(&self, signer: &Did, id: &str) -> Result<DataSet> {
        let ds: DataSet = self
            .get(&StateKey::DataSet(id.to_owned()))?
            .ok_or_else(|| Error::NotFound { what: "data set", id: id.to_owned() })?;
        if ds.owner != *signer {
            return Err(Error::NotAuthorised("only the data set owner may grant or revoke"));
        }
        Ok(ds)
    }

    fn create_did(&mut self, signer: &Did, doc: &DidDocument) -> Result<()> {
        if *signer != doc.did() {
            return Err(Error::NotAuthorised("a DID document is created by one of its own keys"));
        }
        doc.validate()?;
        if doc.version != 0 || doc.deactivated {
            return Err(Error::InvalidDid("a new document has version 0 and is active".into()));
        }
        let key = StateKey::Did(doc.id.clone());
        if self.exists(&key)? {
            return Err(Error::AlreadyExists { what: "DID", id: doc.did().to_string() });
        }
        self.put(&key, doc);
        Ok(())
    }

    /// Counts distinct valid controller approvals of `msg` and checks the threshold. A document
    /// without controllers is controlled by its own keys (threshold 1).
    fn check_controllers(
        &self,
        doc: &DidDocument,
        msg: &[u8],
        approvals: &[Approval],
    ) -> Result<()> {
        let own = [doc.did()];
        let controllers: &[Did] = if doc.controllers.is_empty() { &own } else { &doc.controllers };
        let mut seen: Vec<&Did> = Vec::new();
        for a in approvals {
            if !controllers.contains(&a.signer.did) {
                return Err(Error::NotAuthorised("approval from a DID that is not a controller"));
            }
            if seen.contains(&&a.signer.did) {
                return Err(Error::NotAuthorised("two approvals from one controller"));
            }
            let pk = self.resolve_key(&a.signer)?;
            self.verify(&pk, msg, &a.signature)?;
            seen.push(&a.signer.did);
        }
        let needed = usize::from(doc.threshold).max(1);
        if seen.len() < needed {
            return Err(Error::ThresholdNotMet { needed, got: seen.len() });
        }
        Ok(())
    }

    fn active_doc(&self, id: &str) -> Result<DidDocument> {
        let doc: DidDocument = self
            .get(&StateKey::Did(id.to_owned()))?
            .ok_or_else(|| Error::UnknownDid(format!("did:tessera:{id}")))?;
        if doc.deactivated {
            return Err(Error::DidDeactivated(format!("did:tessera:{id}")));
        }
        Ok(doc)
    }

    fn update_did(&mut self, new: &DidDocument, approvals: &[Approval]) -> Result<()> {
        let cur = self.active_doc(&new.id)?;
        new.validate()?;
        if new.deactivated || Some(new.version) != cur.version.checked_add(1) {
            return Err(Error::InvalidDid("update must be active with version + 1".into()));
        }
        let msg = did_update_message(&self.chain_id, &cur.id, cur.version, Some(new));
        self.check_controllers(&cur, &msg, approvals)?;
        self.put(&StateKey::Did(new.id.clone()), new);
        Ok(())
    }

    fn deactivate_did(&mut self, id: &str, approvals: &[Approval]) -> Result<()> {
        let mut cur = self.active_doc(id)?;
        let msg = did_update_message(&self.chain_id, id, cur.version, None);
        self.check_controllers(&cur, &msg, approvals)?;
        cur.deactivated = true;
        cur.version = cur.version.saturating_add(1);
        self.put(&StateKey::Did(id.to_owned()), &cur);
        Ok(())
    }

    fn commit(&mut self, submitter: &Did, c: &Commitment) -> Result<()> {
        check_name("job id", &c.job_id)?;
        let job_key = StateKey::Job(c.job_id.clone());
        if self.exists(&job_key)? {
            return Err(Error::AlreadyExists { what: "job", id: c.job_id.clone() });
        }
        if c.participants.is_empty() || has_duplicates(&c.participants) {
            return Err(Error::Malformed("participants empty or repeated"));
        }
        // Without an input the commitment would be anchored as a job under no grant at all.
        if c.inputs.is_empty() {
            return Err(Error::NoInputs);
        }
        if self.any_supervisor(&c.participants)? {
            return Err(Error::NotAuthorised("a supervisor cannot take part in a computation"));
        }
        if c.signatures.len() != c.participants.len() {
            return Err(Error::ThresholdNotMet {
                needed: c.participants.len(),
                got: c.signatures.len(),
            });
        }
        let msg = c.signing_message(&self.chain_id);
        for (p, a) in c.participants.iter().zip(&c.signatures) {
            if a.signer.did != *p {
                return Err(Error::NotAuthorised("participant signatures out of order"));
            }
            let pk = self.resolve_key(&a.signer)?;
            self.verify(&pk, &msg, &a.signature)?;
        }
        for input in &c.inputs {
            let ds: DataSet = self
                .get(&StateKey::DataSet(input.dataset.clone()))?
                .ok_or_else(|| Error::NotFound { what: "data set", id: input.dataset.clone() })?;
            let gkey =
                StateKey::Grant { dataset: input.dataset.clone(), grant: input.grant.clone() };
            let mut g: GrantRecord = self.get(&gkey)?.ok_or_else(|| Error::MissingGrant {
                dataset: input.dataset.clone(),
                grant: input.grant.clone(),
            })?;
            if g.revoked {
                return Err(Error::GrantRevoked(input.grant.clone()));
            }
            if self.time_ms >= g.expires_at_ms {
                return Err(Error::GrantExpired(input.grant.clone()));
            }
            if g.uses >= g.max_uses {
                return Err(Error::GrantExhausted(input.grant.clone()));
            }
            let covers = g.program_hash == c.program_hash
                && c.participants.iter().all(|p| *p == ds.owner || g.grantees.contains(p));
            if !covers {
                return Err(Error::GrantMismatch(input.grant.clone()));
            }
            g.uses += 1;
            self.put(&gkey, &g);
        }
        let rec = JobRecord {
            commitment: c.clone(),
            submitter: submitter.clone(),
            height: self.height,
            time_ms: self.time_ms,
        };
        self.put(&job_key, &rec);
        Ok(())
    }

    fn governance(
        &mut self,
        seq: u64,
        action: &GovAction,
        approvals: &[AdminApproval],
    ) -> Result<()> {
        let mut gs: GovernanceState =
            self.get(&StateKey::Governance)?.ok_or(Error::Corrupt("governance entry missing"))?;
        if Some(seq) != gs.seq.checked_add(1) {
            return Err(Error::ReplayedNonce { last: gs.seq, got: seq });
        }
        let mut admins: Vec<PublicKey> = Vec::new();
        for name in &gs.orgs {
            let org: Org =
                self.get(&StateKey::Org(name.clone()))?.ok_or(Error::Corrupt("organisation"))?;
            admins.extend(org.admins);
        }
        let msg = governance_message(&self.chain_id, seq, action);
        let mut seen: Vec<PublicKey> = Vec::new();
        for a in approvals {
            if !admins.contains(&a.admin) {
                return Err(Error::NotAuthorised("approval from a key that is not an admin"));
            }
            if seen.contains(&a.admin) {
                return Err(Error::NotAuthorised("two approvals from one admin key"));
            }
            self.verify(&a.admin, &msg, &a.signature)?;
            seen.push(a.admin);
        }
        let needed = usize::from(gs.admin_threshold);
        if seen.len() < needed {
            return Err(Error::ThresholdNotMet { needed, got: seen.len() });
        }
        match action {
            GovAction::AddOrg(org) => {
                org.validate()?;
                if gs.orgs.contains(&org.name) {
                    return Err(Error::AlreadyExists {
                        what: "organisation",
                        id: org.name.clone(),
                    });
                }
                if org.admins.iter().any(|k| admins.contains(k)) {
                    return Err(Error::InvalidGovernance(
                        "admin key already belongs to an organisation",
                    ));
                }
                gs.orgs.push(org.name.clone());
                self.put(&StateKey::Org(org.name.clone()), org);
            }
            GovAction::RemoveOrg(name) => {
                let org: Org = self
                    .get(&StateKey::Org(name.clone()))?
                    .ok_or_else(|| Error::NotFound { what: "organisation", id: name.clone() })?;
                if admins.len().saturating_sub(org.admins.len()) < needed {
                    return Err(Error::InvalidGovernance(
                        "removal leaves fewer admins than the threshold",
                    ));
                }
                gs.orgs.retain(|n| n != name);
                self.delete(&StateKey::Org(name.clone()));
            }
            GovAction::AddValidator(v) => {
                let mut set: ValidatorSet =
                    self.get(&StateKey::Validators)?.ok_or(Error::Corrupt("validator set"))?;
                set.validators.push(v.clone());
                set.validate()?;
                self.put(&StateKey::Validators, &set);
            }
            GovAction::RemoveValidator(name) => {
                let mut set: ValidatorSet =
                    self.get(&StateKey::Validators)?.ok_or(Error::Corrupt("validator set"))?;
                let before = set.validators.len();
                set.validators.retain(|v| v.name != *name);
                if set.validators.len() == before {
                    return Err(Error::NotFound { what: "validator", id: name.clone() });
                }
                set.validate()?;
                self.put(&StateKey::Validators, &set);
            }
            GovAction::AddSupervisor(did) => {
                let mut s = self.supervisors()?;
                if s.0.contains(did) {
                    return Err(Error::AlreadyExists { what: "supervisor", id: did.to_string() });
                }
                s.0.push(did.clone());
                crate::genesis::check_supervisors(&s.0)?;
                self.put(&StateKey::Supervisors, &s);
            }
            GovAction::RemoveSupervisor(did) => {
                let mut s = self.supervisors()?;
                let before = s.0.len();
                s.0.retain(|d| d != did);
                if s.0.len() == before {
                    return Err(Error::NotFound { what: "supervisor", id: did.to_string() });
                }
                if s.0.is_empty() {
                    self.delete(&StateKey::Supervisors);
                } else {
                    self.put(&StateKey::Supervisors, &s);
                }
            }
        }
        gs.seq = seq;
        self.put(&StateKey::Governance, &gs);
        Ok(())
    }
}

fn has_duplicates(v: &[Did]) -> bool {
    v.iter().enumerate().any(|(i, d)| v[..i].contains(d))
}
