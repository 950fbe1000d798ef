//! LPN parameter sets of the VOLE extension.
//!
//! One extension of a level with parameters `(n, k, t, h)` turns `k + t + 1` VOLEs into `n`:
//! `k` are the LPN secret, `t` mask the `t` single-point VOLEs (one per GGM tree of `2^h`
//! leaves, `n = t·2^h`: regular noise) and one masks the batched consistency check.

use crate::error::{Error, Result};

/// One level of the extension: `n` outputs from `k + t + 1` inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LpnParams {
    /// Outputs per extension (the LPN code length): `t · 2^log_leaves`.
    pub n: usize,
    /// The LPN dimension (the secret's length).
    pub k: usize,
    /// The noise weight: one nonzero entry in each of `t` blocks of `2^log_leaves`.
    pub t: usize,
    /// log2 of the leaves of each GGM tree (the block length of the regular noise).
    pub log_leaves: u32,
}

impl LpnParams {
    /// VOLEs one extension of this level consumes.
    pub const fn consumed(&self) -> usize {
        self.k + self.t + 1
    }

    fn validate(&self) -> Result<()> {
        let ok = (2..=20).contains(&self.log_leaves)
            && self.t > 0
            && self.k > 0
            && self.t.checked_shl(self.log_leaves).is_some_and(|n| n == self.n)
            && self.n <= 1 << 26
            && self.k <= 1 << 24;
        if ok { Ok(()) } else { Err(Error::Misuse("inconsistent VOLE LPN parameters")) }
    }
}

/// The levels of the extension: `levels[0]` runs on base VOLEs (COPEe), each later level on
/// VOLEs the previous one reserved, and the last level repeats for ever (each run reserving the
/// inputs of the next: bootstrapping).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoleParams {
    levels: Vec<LpnParams>,
}

/// Most base (COPEe) VOLEs a parameter set may ask for: each costs ~127 field elements.
const MAX_BASE: usize = 1 << 16;

impl VoleParams {
    /// A chain of levels; each level's `n` must cover the next one's inputs (and the last's
    /// its own, with outputs left over).
    pub fn new(levels: Vec<LpnParams>) -> Result<Self> {
        let (first, last) = match (levels.first(), levels.last()) {
            (Some(f), Some(l)) => (*f, *l),
            _ => return Err(Error::Misuse("VOLE parameters need at least one level")),
        };
        for l in &levels {
            l.validate()?;
        }
        if first.consumed() > MAX_BASE {
            return Err(Error::Misuse("VOLE parameters: too many base VOLEs"));
        }
        for w in levels.windows(2) {
            if w[0].n < w[1].consumed() {
                return Err(Error::Misuse("VOLE parameters: a level cannot feed the next"));
            }
        }
        if last.n <= last.consumed() {
            return Err(Error::Misuse("VOLE parameters: the last level cannot feed itself"));
        }
        Ok(Self { levels })
    }

    /// Wolverine's parameters for 128-bit security (Weng–Yang–Katz–Wang, S&P 2021, the primal
    /// LPN table for VOLE over F_p; the same three levels as emp-zk's `fp_default`):
    /// `(n, k, t, h)` = (9 600, 1 220, 600, 4) → (166 400, 5 060, 2 600, 6) →
    /// (10 168 320, 158 000, 4 965, 11) repeated.
    pub fn wolverine() -> Self {
        let levels = vec![
            LpnParams { n: 9_600, k: 1_220, t: 600, log_leaves: 4 },
            LpnParams { n: 166_400, k: 5_060, t: 2_600, log_leaves: 6 },
            LpnParams { n: 10_168_320, k: 158_000, t: 4_965, log_leaves: 11 },
        ];
        Self { levels }
    }

    /// **Insecure** toy parameters for tests: tiny LPN instances that exercise every level
    /// and bootstrapping in milliseconds. Never use them for real data.
    pub fn insecure_for_tests() -> Self {
        let levels = vec![
            LpnParams { n: 512, k: 100, t: 32, log_leaves: 4 },
            LpnParams { n: 2_048, k: 300, t: 64, log_leaves: 5 },
        ];
        Self { levels }
    }

    /// The levels, first to last.
    pub fn levels(&self) -> &[LpnParams] {
        &self.levels
    }

    /// Level `i`'s parameters (the last level repeats).
    pub(crate) fn level(&self, i: usize) -> LpnParams {
        self.levels[i.min(self.levels.len() - 1)]
    }

    /// VOLEs made from OT (COPEe) at setup.
    pub(crate) fn base_count(&self) -> usize {
        self.levels[0].consumed()
    }
}

impl Default for VoleParams {
    fn default() -> Self {
        Self::wolverine()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_sets_validate() {
        for p in [VoleParams::wolverine(), VoleParams::insecure_for_tests()] {
            assert_eq!(VoleParams::new(p.levels().to_vec()).unwrap(), p);
        }
    }

    #[test]
    fn broken_chains_are_refused() {
        let bad = LpnParams { n: 500, k: 100, t: 32, log_leaves: 4 };
        assert!(VoleParams::new(vec![bad]).is_err());
        let small = LpnParams { n: 256, k: 100, t: 16, log_leaves: 4 };
        let big = LpnParams { n: 2_048, k: 300, t: 64, log_leaves: 5 };
        assert!(VoleParams::new(vec![small, big]).is_err());
        assert!(VoleParams::new(vec![]).is_err());
    }
}
