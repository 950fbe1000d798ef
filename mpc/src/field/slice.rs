//! Element-wise operations on vectors of ring elements.
//!
//! Protocols work on whole vectors (one round multiplies a vector), so these are the hot loops of
//! the online phase. Lengths must match; a mismatch is a caller bug and panics with both lengths.

use super::Ring;

fn check(a: usize, b: usize) {
    assert_eq!(a, b, "vector lengths differ: {a} vs {b}");
}

/// `a[i] += b[i]`.
pub fn add_assign<R: Ring>(a: &mut [R], b: &[R]) {
    check(a.len(), b.len());
    a.iter_mut().zip(b).for_each(|(x, y)| *x += *y);
}

/// `a[i] -= b[i]`.
pub fn sub_assign<R: Ring>(a: &mut [R], b: &[R]) {
    check(a.len(), b.len());
    a.iter_mut().zip(b).for_each(|(x, y)| *x -= *y);
}

/// `a[i] *= b[i]`.
pub fn mul_assign<R: Ring>(a: &mut [R], b: &[R]) {
    check(a.len(), b.len());
    a.iter_mut().zip(b).for_each(|(x, y)| *x *= *y);
}

/// `a[i] *= k`.
pub fn scale<R: Ring>(a: &mut [R], k: R) {
    a.iter_mut().for_each(|x| *x *= k);
}

/// `a[i] + b[i]` as a new vector.
pub fn add<R: Ring>(a: &[R], b: &[R]) -> Vec<R> {
    check(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| *x + *y).collect()
}

/// `a[i] - b[i]` as a new vector.
pub fn sub<R: Ring>(a: &[R], b: &[R]) -> Vec<R> {
    check(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| *x - *y).collect()
}

/// `a[i] * b[i]` as a new vector.
pub fn mul<R: Ring>(a: &[R], b: &[R]) -> Vec<R> {
    check(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| *x * *y).collect()
}

/// `Σ a[i]·b[i]`.
pub fn inner_product<R: Ring>(a: &[R], b: &[R]) -> R {
    check(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| *x * *y).sum()
}

/// `acc[i] += k · b[i]`.
pub fn add_scaled<R: Ring>(acc: &mut [R], k: R, b: &[R]) {
    check(acc.len(), b.len());
    acc.iter_mut().zip(b).for_each(|(x, y)| *x += k * *y);
}
