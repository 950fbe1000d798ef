//! Row-major matrix products over a field, for public matrices and for shares (values and MAC
//! shares alike, so the MAC relation survives every linear map).

use tessera_mpc::Field;

use crate::spdz::Shared;
use crate::{Error, Result};

/// `a·b` for row-major `a` (`m×k`) and `b` (`k×n`); the caller checks the lengths.
pub(crate) fn matmul<F: Field>(a: &[F], b: &[F], m: usize, k: usize, n: usize) -> Vec<F> {
    let mut out = vec![F::ZERO; m * n];
    for i in 0..m {
        let row = &mut out[i * n..(i + 1) * n];
        for l in 0..k {
            let x = a[i * k + l];
            for (o, &y) in row.iter_mut().zip(&b[l * n..(l + 1) * n]) {
                *o += x * y;
            }
        }
    }
    out
}

fn check(len: usize, rows: usize, cols: usize, what: &str) -> Result<()> {
    if len != rows * cols {
        return Err(Error::Misuse(format!("{what}: {len} elements is not {rows}×{cols}")));
    }
    Ok(())
}

/// `[P·X]` for a public `P` (`m×k`) and shared `X` (`k×n`), local.
pub(crate) fn public_times_shared<F: Field>(
    p: &[F],
    x: &Shared<F>,
    (m, k, n): (usize, usize, usize),
) -> Result<Shared<F>> {
    check(p.len(), m, k, "public left factor")?;
    check(x.len(), k, n, "shared right factor")?;
    Ok(Shared::from_parts(matmul(p, &x.value, m, k, n), matmul(p, &x.mac, m, k, n)))
}

/// `[X·P]` for shared `X` (`m×k`) and a public `P` (`k×n`), local.
pub(crate) fn shared_times_public<F: Field>(
    x: &Shared<F>,
    p: &[F],
    (m, k, n): (usize, usize, usize),
) -> Result<Shared<F>> {
    check(x.len(), m, k, "shared left factor")?;
    check(p.len(), k, n, "public right factor")?;
    Ok(Shared::from_parts(matmul(&x.value, p, m, k, n), matmul(&x.mac, p, m, k, n)))
}
