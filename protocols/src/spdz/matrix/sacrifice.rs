//! The matrix sacrifice: `(A', C' = A'·B)` checks `(A, B, C)`, compressed by Freivalds.
//!
//! MASCOT's sacrifice (Keller–Orsini–Scholl, CCS 2016, §5, Fig. 9 "Sacrifice") lifted to
//! matrices: with a coin-tossed scalar `t`, open `ρ = t·A − A'` and check
//! `(t·C − C' − ρ·B) = t·E − E'` is zero, where `E = C − A·B` and `E' = C' − A'·B` are the errors
//! a cheater introduced before `t` was known. Instead of opening the `m×n` matrix, multiply it by
//! a coin-tossed vector `r ∈ F^n` (Freivalds, "Probabilistic machines can use less running
//! time", IFIP 1977): a nonzero matrix maps to zero with probability at most `1/p`. Both
//! openings are MAC-checked before the result is read. A triple with `E ≠ 0` passes with
//! probability at most `2/p` (the `t` that makes `t·E = E'` and the `r` in a kernel) plus the MAC
//! check's `2/p`: about 2^-125 in the 127-bit field. `ρ` is uniform given `A` because `A'` is,
//! so the opening reveals nothing about the triple that is kept.

use tessera_mpc::coin::Coins;
use tessera_mpc::field::slice;
use tessera_mpc::{Channel, Field, Prg};

use super::linalg::{public_times_shared, shared_times_public};
use super::triple::{MatrixShape, MatrixTriple, SacrificePassed};
use crate::spdz::Shared;
use crate::spdz::mac_check::{OpenedLog, mac_check, toss};
use crate::{Error, Result};

/// Coins of the sacrifice (`t` and the Freivalds vector).
pub(crate) const SACRIFICE_COINS: &str = "spdz/matrix/sacrifice/coins";
/// Openings of `ρ` and of the compressed check.
pub(crate) const OPEN_STEP: &str = "spdz/matrix/open";

/// Opens `x` and records it for the MAC check.
fn open<F: Field>(ch: &mut dyn Channel, x: &Shared<F>, log: &mut OpenedLog<F>) -> Result<Vec<F>> {
    ch.begin_step(OPEN_STEP);
    ch.broadcast(&F::encode_slice(&x.value))?;
    let mut total = x.value.clone();
    for peer in ch.peers() {
        let theirs = F::decode_exact(&ch.recv(peer)?, x.len())?;
        slice::add_assign(&mut total, &theirs);
    }
    log.record(&total, &x.mac);
    Ok(total)
}

/// The authenticated candidates: `C = A·B` and `C' = A'·B` claimed.
pub(super) struct Candidates<F> {
    pub(super) shape: MatrixShape,
    pub(super) a: Shared<F>,
    pub(super) a2: Shared<F>,
    pub(super) b: Shared<F>,
    pub(super) c: Shared<F>,
    pub(super) c2: Shared<F>,
}

/// Runs the sacrifice; `log` holds what the candidates' authentication broadcast (checked in the
/// same MAC check). Returns the checked triple `(A, B, C)`.
pub(super) fn sacrifice<F: Field>(
    ch: &mut dyn Channel,
    coins: &mut Coins,
    alpha_i: F,
    mut log: OpenedLog<F>,
    cand: Candidates<F>,
) -> Result<MatrixTriple<F>> {
    let (m, k, n) = cand.shape.dims();
    let seed = toss(coins, ch, SACRIFICE_COINS)?;
    let mut prg = Prg::from_seed(&seed);
    let t = F::random(&mut prg);
    let r = F::random_vec(&mut prg, n);
    let rho_sh = cand.a.scale(t).sub(&cand.a2)?;
    let rho = open(ch, &rho_sh, &mut log)?;
    // z = (t·C − C' − ρ·B)·r = t·(C·r) − C'·r − ρ·(B·r)
    let br = shared_times_public(&cand.b, &r, (k, n, 1))?;
    let cr = shared_times_public(&cand.c, &r, (m, n, 1))?;
    let c2r = shared_times_public(&cand.c2, &r, (m, n, 1))?;
    let z_sh = cr.scale(t).sub(&c2r)?.sub(&public_times_shared(&rho, &br, (m, k, 1))?)?;
    let z = open(ch, &z_sh, &mut log)?;
    mac_check(ch, coins, alpha_i, &mut log)?;
    if z.iter().any(|v| *v != F::ZERO) {
        return Err(Error::MatrixSacrifice);
    }
    Ok(MatrixTriple::checked(SacrificePassed(()), cand.shape, cand.a, cand.b, cand.c))
}
