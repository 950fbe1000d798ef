//! The verifier: evidence plus a caller-given time in, claims out, or the reason for refusal.

use crate::binding::Binding;
use crate::claims::{Claims, Platform, VerificationTime};
use crate::error::{Result, TeeError};
use crate::evidence::Evidence;
use crate::policy::Policy;

/// Verifies evidence against one [`Policy`].
#[derive(Clone, Debug)]
pub struct Verifier {
    policy: Policy,
}

impl Verifier {
    /// A verifier for `policy`.
    pub fn new(policy: Policy) -> Self {
        Self { policy }
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Checks that the evidence is genuine at `now` and satisfies the policy; the claims carry
    /// the report data unchecked (`binding: None`). Use [`verify_bound`](Self::verify_bound)
    /// to accept evidence for a job.
    pub fn appraise(&self, evidence: &Evidence, now: VerificationTime) -> Result<Claims> {
        match evidence {
            Evidence::Sgx(e) => crate::intel::verify(e, Platform::IntelSgx, &self.policy, now),
            Evidence::Tdx(e) => crate::intel::verify(e, Platform::IntelTdx, &self.policy, now),
            Evidence::SevSnp(e) => crate::amd::verify(e, &self.policy, now),
            #[cfg(feature = "insecure-simulated")]
            Evidence::Simulated(e) => crate::simulated::verify(e, &self.policy, now),
        }
    }

    /// [`appraise`](Self::appraise), then checks in constant time that the report data commits
    /// to `binding` (the job and the enclave key the caller expects).
    pub fn verify_bound(
        &self,
        evidence: &Evidence,
        binding: &Binding,
        now: VerificationTime,
    ) -> Result<Claims> {
        let mut claims = self.appraise(evidence, now)?;
        if !bool::from(binding.report_data().ct_matches(&claims.report_data)) {
            return Err(TeeError::BindingMismatch);
        }
        claims.binding = Some(*binding);
        Ok(claims)
    }
}
