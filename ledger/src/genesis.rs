//! The genesis file: organisations with their admin keys, the k-of-n admin threshold for
//! governance, the initial validator set, and the ledger hash.
//!
//! The file is JSON for people; keys are written as `did:key` strings. Its canonical binary
//! encoding, hashed with the chosen ledger hash, is the chain id that every signature covers.

use crate::block::{Validator, ValidatorSet};
use crate::codec::{Decode, Encode, MAX_ID_LEN, MAX_LIST, Reader, Writer};
use crate::did::{Did, check_id};
use crate::error::{Error, Result};
use crate::hash::{Hash32, LedgerHash};
use crate::keys::PublicKey;
use serde::{Deserialize, Serialize};

/// An organisation and the admin keys it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Org {
    /// Unique name.
    pub name: String,
    /// Keys that approve governance actions on the organisation's behalf.
    pub admins: Vec<PublicKey>,
}

impl Org {
    pub(crate) fn validate(&self) -> Result<()> {
        check_id(&self.name).map_err(|_| Error::InvalidGovernance("organisation name"))?;
        if self.admins.is_empty() || self.admins.len() > 16 {
            return Err(Error::InvalidGovernance("an organisation needs 1 to 16 admin keys"));
        }
        for (i, k) in self.admins.iter().enumerate() {
            k.validate()?;
            if self.admins[..i].contains(k) {
                return Err(Error::InvalidGovernance("duplicate admin key"));
            }
        }
        Ok(())
    }
}

impl Encode for Org {
    fn encode(&self, w: &mut Writer) {
        w.str(&self.name);
        w.list(&self.admins);
    }
}

impl Decode for Org {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self { name: r.string(MAX_ID_LEN)?, admins: r.list(16)? })
    }
}

/// Parsed, validated genesis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Genesis {
    /// Human name of the ledger.
    pub chain_name: String,
    /// Genesis time, Unix milliseconds.
    pub time_ms: u64,
    /// Hash for headers, trees and ids.
    pub hash: LedgerHash,
    /// Founding organisations.
    pub orgs: Vec<Org>,
    /// Admin approvals (k) needed for governance, out of all admin keys of all organisations (n).
    pub admin_threshold: u8,
    /// Initial validators.
    pub validators: ValidatorSet,
    /// Supervisors (`did:tessera` DIDs): they may read the whole ledger through the audit
    /// queries and nothing more (they hold no admin key and may sign nothing but their own DID
    /// document). Governance adds and removes them later.
    pub supervisors: Vec<Did>,
}

impl Genesis {
    /// Checks names, keys and that `1 ≤ k ≤ n`.
    pub fn validate(&self) -> Result<()> {
        if self.orgs.is_empty() || self.orgs.len() > MAX_LIST {
            return Err(Error::InvalidGenesis("need 1 to 256 organisations".into()));
        }
        for (i, o) in self.orgs.iter().enumerate() {
            o.validate()?;
            if self.orgs[..i].iter().any(|p| p.name == o.name) {
                return Err(Error::InvalidGenesis(format!("duplicate organisation {}", o.name)));
            }
        }
        let n: usize = self.orgs.iter().map(|o| o.admins.len()).sum();
        if self.admin_threshold == 0 || usize::from(self.admin_threshold) > n {
            return Err(Error::InvalidGenesis(format!(
                "admin threshold {} outside 1..={n}",
                self.admin_threshold
            )));
        }
        check_supervisors(&self.supervisors)
            .map_err(|e| Error::InvalidGenesis(format!("supervisors: {e}")))?;
        self.validators.validate()
    }

    /// The chain id: ledger hash of the canonical encoding.
    pub fn chain_id(&self) -> Hash32 {
        self.hash.hash(&[b"tessera-ledger/genesis/v1", &self.to_bytes()])
    }

    /// Parses and validates a JSON genesis file.
    pub fn from_json(text: &str) -> Result<Self> {
        let f: GenesisFile = serde_json::from_str(text)?;
        let key = |s: &str| -> Result<PublicKey> {
            match Did::parse(s)? {
                Did::Key(k) => Ok(k),
                Did::Tessera(_) => Err(Error::InvalidGenesis(format!("{s} is not a did:key"))),
            }
        };
        let mut orgs = Vec::with_capacity(f.organisations.len());
        for o in &f.organisations {
            let admins = o.admins.iter().map(|a| key(a)).collect::<Result<Vec<_>>>()?;
            orgs.push(Org { name: o.name.clone(), admins });
        }
        let mut validators = Vec::with_capacity(f.validators.len());
        for v in &f.validators {
            validators.push(Validator { name: v.name.clone(), key: key(&v.key)? });
        }
        let g = Self {
            chain_name: f.chain,
            time_ms: f.time_ms,
            hash: LedgerHash::from_name(&f.hash)?,
            orgs,
            admin_threshold: f.admin_threshold,
            validators: ValidatorSet { validators },
            supervisors: f.supervisors.iter().map(|s| Did::parse(s)).collect::<Result<Vec<_>>>()?,
        };
        g.validate()?;
        Ok(g)
    }

    /// Writes the JSON form.
    pub fn to_json(&self) -> Result<String> {
        let f = GenesisFile {
            chain: self.chain_name.clone(),
            time_ms: self.time_ms,
            hash: self.hash.name().into(),
            admin_threshold: self.admin_threshold,
            organisations: self
                .orgs
                .iter()
                .map(|o| OrgFile {
                    name: o.name.clone(),
                    admins: o.admins.iter().map(|k| Did::Key(*k).to_string()).collect(),
                })
                .collect(),
            validators: self
                .validators
                .validators
                .iter()
                .map(|v| ValidatorFile { name: v.name.clone(), key: Did::Key(v.key).to_string() })
                .collect(),
            supervisors: self.supervisors.iter().map(ToString::to_string).collect(),
        };
        Ok(serde_json::to_string_pretty(&f)?)
    }
}

impl Encode for Genesis {
    fn encode(&self, w: &mut Writer) {
        w.str(&self.chain_name);
        w.u64(self.time_ms);
        self.hash.encode(w);
        w.list(&self.orgs);
        w.u8(self.admin_threshold);
        self.validators.encode(w);
        // Absent when empty, so a genesis without supervisors keeps the encoding (and chain id)
        // it had before supervisors existed.
        if !self.supervisors.is_empty() {
            w.u8(1);
            w.list(&self.supervisors);
        }
    }
}

impl Decode for Genesis {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            chain_name: r.string(MAX_ID_LEN)?,
            time_ms: r.u64()?,
            hash: LedgerHash::decode(r)?,
            orgs: r.list(MAX_LIST)?,
            admin_threshold: r.u8()?,
            validators: ValidatorSet::decode(r)?,
            supervisors: match r.remaining() {
                // A genesis is always a whole buffer: the supervisor list, if any, ends it.
                0 => Vec::new(),
                _ => {
                    if r.u8()? != 1 {
                        return Err(Error::Malformed("genesis supervisors tag"));
                    }
                    let s: Vec<Did> = r.list(MAX_LIST)?;
                    if s.is_empty() {
                        return Err(Error::Malformed("empty supervisor list is written absent"));
                    }
                    s
                }
            },
        })
    }
}

/// Supervisors must be distinct `did:tessera` DIDs (they connect to the ledger service as
/// members), at most [`MAX_LIST`].
pub(crate) fn check_supervisors(s: &[Did]) -> Result<()> {
    if s.len() > MAX_LIST {
        return Err(Error::InvalidGovernance("more than 256 supervisors"));
    }
    for (i, d) in s.iter().enumerate() {
        if !matches!(d, Did::Tessera(_)) {
            return Err(Error::InvalidGovernance("a supervisor is a did:tessera DID"));
        }
        if s[..i].contains(d) {
            return Err(Error::InvalidGovernance("duplicate supervisor"));
        }
    }
    Ok(())
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenesisFile {
    chain: String,
    time_ms: u64,
    hash: String,
    admin_threshold: u8,
    organisations: Vec<OrgFile>,
    validators: Vec<ValidatorFile>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    supervisors: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgFile {
    name: String,
    admins: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidatorFile {
    name: String,
    key: String,
}
