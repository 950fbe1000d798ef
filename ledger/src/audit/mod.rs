//! Supervision: an index of the chain maintained at commit, audit queries answered from it with
//! receipts a verifier checks offline, and evidence that a job's inputs were authorised.
//!
//! **Index.** [`index`] keeps one `redb` table, written in the same transaction as each block:
//! transactions by DID (submitter, participant, grantee, subject), by data set, by program, by
//! grant (creation, revocation, every job that used it), blocks by time, grants per data set,
//! data sets per owner and the transaction of each job. Queries are prefix range scans, never a
//! scan of the chain. Older databases get the index built once when opened.
//!
//! **Answers.** [`Ledger::audit`](crate::Ledger::audit) answers a [`Query`] with an [`Answer`]:
//! certified headers with their transaction ids, transaction receipts (RFC 6962 paths, built in
//! one pass per block) or state receipts at the latest block, paged by an opaque cursor and
//! bounded in items and bytes. [`verify_answer`] checks an answer offline; see [`check`] for
//! what that proves and what it does not (completeness of a listing).
//!
//! **Who may ask.** The ledger answers anyone who holds the file; the ledger service answers
//! supervisors only: the DIDs named in the genesis or added by governance
//! ([`crate::GovAction::AddSupervisor`]), who may read everything and sign nothing but their own
//! DID document.

mod batch;
pub mod check;
pub mod evidence;
pub mod index;
mod query;

pub use check::{Checked, verify_answer};
pub use evidence::{GrantEvidence, GrantUse, JobEvidence, verify_job_evidence};
pub use index::{Pos, ROLE_GRANTEE, ROLE_PARTICIPANT, ROLE_SUBJECT, ROLE_SUBMITTER};
pub use query::{ANSWER_BUDGET, Answer, Item, MAX_ITEMS, Page, Query};

use crate::state::GrantRecord;

/// A grant's state at a block time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantState {
    /// Usable.
    Active,
    /// Revoked by the owner.
    Revoked,
    /// Its expiry passed.
    Expired,
    /// Every use spent.
    UsedUp,
}

impl GrantState {
    /// Lower-case name, for reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
            Self::UsedUp => "used-up",
        }
    }
}

/// The state of `g` at block time `time_ms` (revoked before used up before expired).
pub fn grant_state(g: &GrantRecord, time_ms: u64) -> GrantState {
    if g.revoked {
        GrantState::Revoked
    } else if g.uses >= g.max_uses {
        GrantState::UsedUp
    } else if time_ms >= g.expires_at_ms {
        GrantState::Expired
    } else {
        GrantState::Active
    }
}
