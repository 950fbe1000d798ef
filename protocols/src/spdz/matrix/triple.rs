//! The matrix triple type: only the sacrifice can make one.

use tessera_mpc::Field;

use crate::spdz::Shared;

/// The shape of a product `A·B` with `A` of `m×k` and `B` of `k×n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MatrixShape {
    /// Rows of `A` (and of `C`).
    pub m: usize,
    /// Columns of `A`, rows of `B`.
    pub k: usize,
    /// Columns of `B` (and of `C`).
    pub n: usize,
}

impl MatrixShape {
    /// The shape `m×k` times `k×n`.
    pub fn new(m: usize, k: usize, n: usize) -> Self {
        Self { m, k, n }
    }

    /// As a tuple `(m, k, n)`.
    pub fn dims(&self) -> (usize, usize, usize) {
        (self.m, self.k, self.n)
    }
}

/// Proof that the matrix sacrifice passed; only [`super::sacrifice`] can make one.
pub(super) struct SacrificePassed(pub(super) ());

/// Authenticated shares `[A]` (`m×k`), `[B]` (`k×n`), `[C] = [A·B]` (`m×n`), row-major.
///
/// Like [`crate::spdz::Triples`], a matrix triple must be used once (Beaver's trick opens
/// `X − A`), so it has no `Clone`, and the only constructor takes the token that the matrix
/// sacrifice hands out after the check passed: an unchecked triple cannot reach the online phase.
///
/// ```compile_fail
/// # fn reuse(t: tessera_protocols::spdz::matrix::MatrixTriple<tessera_mpc::Fp127>) {
/// let again = t.clone(); // no Clone
/// # }
/// ```
///
/// ```compile_fail
/// use tessera_protocols::spdz::{Shared, matrix::{MatrixShape, MatrixTriple}};
/// let s = Shared::<tessera_mpc::Fp127>::empty();
/// let t = MatrixTriple { shape: MatrixShape::new(0, 0, 0), a: s.clone(), b: s.clone(), c: s };
/// ```
#[derive(Debug)]
pub struct MatrixTriple<F> {
    shape: MatrixShape,
    a: Shared<F>,
    b: Shared<F>,
    c: Shared<F>,
}

impl<F: Field> MatrixTriple<F> {
    pub(super) fn checked(
        _passed: SacrificePassed,
        shape: MatrixShape,
        a: Shared<F>,
        b: Shared<F>,
        c: Shared<F>,
    ) -> Self {
        Self { shape, a, b, c }
    }

    /// The shape this triple serves.
    pub fn shape(&self) -> MatrixShape {
        self.shape
    }

    /// The shares of `A`, `B` and `C`, consuming the triple; they cannot be turned back into one.
    pub fn into_shares(self) -> (Shared<F>, Shared<F>, Shared<F>) {
        (self.a, self.b, self.c)
    }
}
