//! Fixed-point ML building blocks: products, ReLU, sigmoid and reciprocal.

use tessera_mpc::Field;

use super::{FixedPoint, compare::ltz, trunc::trunc_pr};
use crate::spdz::{Preprocessing, Session, Shared};
use crate::{Error, Result};

/// Element-wise fixed-point product (one multiplication, one truncation).
pub fn mul<F: Field, P: Preprocessing<F>>(
    s: &mut Session<'_, F, P>,
    fx: FixedPoint,
    a: &Shared<F>,
    b: &Shared<F>,
) -> Result<Shared<F>> {
    let p = s.mul(a, b)?;
    trunc_pr(s, fx, &p, fx.f())
}

/// Fixed-point inner product: the 2f-bit sum is truncated once, not per term.
pub fn dot<F: Field, P: Preprocessing<F>>(
    s: &mut Session<'_, F, P>,
    fx: FixedPoint,
    a: &Shared<F>,
    b: &Shared<F>,
) -> Result<Shared<F>> {
    let p = s.dot(a, b)?;
    trunc_pr(s, fx, &p, fx.f())
}

/// Fixed-point matrix product (`m×k` by `k×n`, row-major) with one truncation per output
/// entry: the 2f-bit sums are truncated once, not per term. Uses a matrix triple when the session
/// has one of this shape, else element-wise triples ([`Session::matmul`]).
pub fn matmul<F: Field, P: Preprocessing<F>>(
    s: &mut Session<'_, F, P>,
    fx: FixedPoint,
    a: &Shared<F>,
    b: &Shared<F>,
    shape: (usize, usize, usize),
) -> Result<Shared<F>> {
    let p = s.matmul(a, b, shape)?;
    trunc_pr(s, fx, &p, fx.f())
}

/// Fixed-point 2-D convolution with one truncation per output entry ([`Session::conv2d`]).
pub fn conv2d<F: Field, P: Preprocessing<F>>(
    s: &mut Session<'_, F, P>,
    fx: FixedPoint,
    input: &Shared<F>,
    kernel: &Shared<F>,
    shape: crate::spdz::matrix::Conv2dShape,
) -> Result<Shared<F>> {
    let p = s.conv2d(input, kernel, shape)?;
    trunc_pr(s, fx, &p, fx.f())
}

/// ReLU(x) = x·[x ≥ 0].
pub fn relu<F: Field, P: Preprocessing<F>>(
    s: &mut Session<'_, F, P>,
    fx: FixedPoint,
    x: &Shared<F>,
) -> Result<Shared<F>> {
    let neg = ltz(s, fx, x)?;
    let pos = s.add_public(&neg.neg(), &vec![F::ONE; x.len()])?;
    s.mul(x, &pos)
}

/// The logistic function, approximated by 0.5 + 0.197·x − 0.004·x³ on [−5, 5] and clamped to
/// 0 and 1 outside; absolute error below 0.06 everywhere (tested).
pub fn sigmoid<F: Field, P: Preprocessing<F>>(
    s: &mut Session<'_, F, P>,
    fx: FixedPoint,
    x: &Shared<F>,
) -> Result<Shared<F>> {
    let n = x.len();
    let enc = |v: f64| fx.encode::<F>(v);
    let x2 = mul(s, fx, x, x)?;
    let x3 = mul(s, fx, &x2, x)?;
    let lin = trunc_pr(s, fx, &x.scale(enc(0.197)?), fx.f())?;
    let cub = trunc_pr(s, fx, &x3.scale(enc(0.004)?), fx.f())?;
    let poly = s.add_public(&lin.sub(&cub)?, &vec![enc(0.5)?; n])?;
    // below = [x < −5], above = [x > 5] (i.e. [5 − x < 0]).
    let below = ltz(s, fx, &s.add_public(x, &vec![enc(5.0)?; n])?)?;
    let above = ltz(s, fx, &s.add_public(&x.neg(), &vec![enc(5.0)?; n])?)?;
    // result = poly·(1 − below − above) + above·1.0
    let inside = s.add_public(&below.add(&above)?.neg(), &vec![F::ONE; n])?;
    let kept = s.mul(&poly, &inside)?;
    kept.add(&above.scale(enc(1.0)?))
}

/// 1/x by Newton–Raphson, y ← y·(2 − x·y), for 0 < x ≤ `max`, starting from y₀ = 1/max.
/// The relative error squares each step: `iterations` ≈ log₂(max/x_min) + log₂(f) suffices.
pub fn reciprocal<F: Field, P: Preprocessing<F>>(
    s: &mut Session<'_, F, P>,
    fx: FixedPoint,
    x: &Shared<F>,
    max: f64,
    iterations: u32,
) -> Result<Shared<F>> {
    if max.is_nan() || max <= 0.0 {
        return Err(Error::Misuse(format!("reciprocal needs a positive bound, got {max}")));
    }
    let n = x.len();
    let two = vec![fx.encode::<F>(2.0)?; n];
    let y0 = fx.encode::<F>(1.0 / max)?;
    let mut y = s.add_public(&x.scale(F::ZERO), &vec![y0; n])?;
    for _ in 0..iterations {
        let xy = mul(s, fx, x, &y)?;
        let corr = s.add_public(&xy.neg(), &two)?;
        y = mul(s, fx, &y, &corr)?;
    }
    Ok(y)
}
