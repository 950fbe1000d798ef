//! LPN parameter sets for Ferret: code length `n`, dimension `k`, noise weight `t`, all public.
//!
//! Each extension consumes [`LpnParams::reserve`] COTs — `k` for the LPN secret, `t·h` for the
//! GGM trees (`h = log2(n / t)`) and 128 for the consistency check — and makes `n` new ones.

use crate::error::{Error, Result};

/// COTs each extension spends on the batched SPCOT consistency check (κ = 128).
pub const CHECK_COTS: usize = 128;

/// One primal-LPN instance with regular noise over GF(2): `n = t · 2^h` outputs, a secret of `k`
/// bits and one noisy position in each of `t` blocks of `2^h` positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LpnParams {
    /// Outputs of one extension (the code length).
    pub n: usize,
    /// The LPN dimension (secret length).
    pub k: usize,
    /// The noise weight: the number of GGM trees (single-point COTs).
    pub t: usize,
}

impl LpnParams {
    /// Ferret's main set for 128-bit security (Yang et al., CCS 2020, Table 2, primal LPN with
    /// regular noise, the set used with bootstrapping): 1,319 trees of 2^13 leaves.
    pub const FERRET_MAIN: Self = Self { n: 10_805_248, k: 589_760, t: 1_319 };

    /// The smaller 128-bit set Ferret's implementation (emp-ot) uses for its first, bootstrapping
    /// round: 1,269 trees of 2^9 leaves. It makes enough COTs to reserve for one main round.
    pub const FERRET_BOOTSTRAP: Self = Self { n: 649_728, k: 36_288, t: 1_269 };

    /// log2 of the leaves per tree. Valid only after [`LpnParams::validate`].
    pub fn tree_height(&self) -> usize {
        (self.n / self.t).trailing_zeros() as usize
    }

    /// Leaves per tree.
    pub fn leaves(&self) -> usize {
        self.n / self.t
    }

    /// COTs one extension with these parameters consumes.
    pub fn reserve(&self) -> usize {
        self.k + self.t * self.tree_height() + CHECK_COTS
    }

    /// Checks the shape: `t ≥ 1`, `n = t · 2^h` with `1 ≤ h ≤ 24`, `1 ≤ k < 2^32`, `n < 2^40`.
    pub fn validate(&self) -> Result<()> {
        if self.t == 0 || self.k == 0 || self.k >= 1 << 32 || self.n >= 1 << 40 {
            return Err(Error::Misuse("Ferret LPN parameters out of range"));
        }
        if !self.n.is_multiple_of(self.t) {
            return Err(Error::Misuse("Ferret LPN: n must be a multiple of t"));
        }
        let leaves = self.n / self.t;
        if !leaves.is_power_of_two() || !(2..=1 << 24).contains(&leaves) {
            return Err(Error::Misuse("Ferret LPN: n / t must be a power of two in 2..=2^24"));
        }
        Ok(())
    }
}

/// Which LPN instances a Ferret pair runs: an optional first (bootstrapping) round, then `main`
/// for every later round, and the SoftSpokenOT parameter of the base correlations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FerretParams {
    /// The first round's instance (fed from SoftSpokenOT); `None` feeds `main` directly.
    pub bootstrap: Option<LpnParams>,
    /// The instance of every later round (each reserves `main.reserve()` of its outputs).
    pub main: LpnParams,
    /// SoftSpokenOT's k ∈ {2, 4, 8} for the base COTs of the first round.
    pub base_k: usize,
}

impl Default for FerretParams {
    /// [`FerretParams::STANDARD`].
    fn default() -> Self {
        Self::STANDARD
    }
}

impl FerretParams {
    /// 128-bit security, large batches: bootstrap with [`LpnParams::FERRET_BOOTSTRAP`], then
    /// [`LpnParams::FERRET_MAIN`] rounds of 10.2 M usable COTs at about 0.45 bits each.
    /// About 350 MB of memory per party while a round runs.
    pub const STANDARD: Self = Self {
        bootstrap: Some(LpnParams::FERRET_BOOTSTRAP),
        main: LpnParams::FERRET_MAIN,
        base_k: 8,
    };

    /// 128-bit security, small batches: every round on [`LpnParams::FERRET_BOOTSTRAP`]
    /// (0.6 M usable COTs per round, about 5.2 bits each, about 20 MB of memory).
    pub const SMALL: Self =
        Self { bootstrap: None, main: LpnParams::FERRET_BOOTSTRAP, base_k: 8 };

    /// **INSECURE — for tests only.** Tiny instances (4,096 outputs per round, k = 512) that
    /// give no security at all; they exist so that tests exercise bootstrapping in milliseconds.
    pub const fn insecure_test_only() -> Self {
        Self {
            bootstrap: Some(LpnParams { n: 2048, k: 256, t: 16 }),
            main: LpnParams { n: 4096, k: 512, t: 32 },
            base_k: 4,
        }
    }

    /// The parameters of round `round` (0-based).
    pub(crate) fn round(&self, round: u64) -> LpnParams {
        match (round, self.bootstrap) {
            (0, Some(b)) => b,
            _ => self.main,
        }
    }

    /// COTs the base OT extension must make: the first round's reserve.
    pub(crate) fn base_cots(&self) -> usize {
        self.round(0).reserve()
    }

    /// Checks every instance and that each round makes enough COTs for the next one and some
    /// for the caller.
    pub fn validate(&self) -> Result<()> {
        if !matches!(self.base_k, 2 | 4 | 8) {
            return Err(Error::Misuse("Ferret base_k must be 2, 4 or 8"));
        }
        self.main.validate()?;
        if self.main.n <= self.main.reserve() {
            return Err(Error::Misuse("Ferret main round makes no COTs beyond its own reserve"));
        }
        if let Some(b) = self.bootstrap {
            b.validate()?;
            if b.n < self.main.reserve() {
                return Err(Error::Misuse("Ferret bootstrap round cannot feed the main round"));
            }
        }
        Ok(())
    }

    /// COTs a round hands to the caller (its outputs minus the next round's reserve).
    pub fn usable_per_round(&self, round: u64) -> usize {
        self.round(round).n - self.main.reserve()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_sets_are_valid_and_chain() {
        for p in [FerretParams::STANDARD, FerretParams::SMALL, FerretParams::insecure_test_only()]
        {
            p.validate().unwrap();
        }
        assert_eq!(LpnParams::FERRET_MAIN.tree_height(), 13);
        assert_eq!(LpnParams::FERRET_BOOTSTRAP.tree_height(), 9);
        assert_eq!(LpnParams::FERRET_MAIN.reserve(), 589_760 + 1_319 * 13 + 128);
    }

    #[test]
    fn bad_shapes_are_refused() {
        assert!(LpnParams { n: 1000, k: 10, t: 3 }.validate().is_err());
        assert!(LpnParams { n: 96, k: 10, t: 32 }.validate().is_err());
        assert!(LpnParams { n: 64, k: 0, t: 2 }.validate().is_err());
        let starving = FerretParams {
            bootstrap: None,
            main: LpnParams { n: 256, k: 200, t: 2 },
            base_k: 4,
        };
        assert!(starving.validate().is_err());
    }
}
