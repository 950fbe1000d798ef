//! The one trait callers program against, and the shape checks every backend shares.
//!
//! Data layout: a buffer is a sequence of rows of `row_len` words (for NTTs, `row_len = N`);
//! row `r` is reduced modulo `moduli[r % moduli.len()]`. One modulus gives a plain batch; `L`
//! moduli give a batch of RNS polynomials with their limbs stored one after another.

use std::sync::Arc;

use crate::Error;
use crate::arith::Modulus;
use crate::table::{NttTable, checked_log_n};

/// A buffer owned by a backend (host memory for the CPU, device memory for CUDA).
pub trait DeviceBuffer: Send + Sync {
    /// Number of `u64` words.
    fn len(&self) -> usize;
    /// Whether the buffer holds no words.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Shape of a matrix product `(m × k) · (k × n)`, all row-major.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatShape {
    /// Rows of the left factor and of the result.
    pub m: usize,
    /// Columns of the left factor, rows of the right factor.
    pub k: usize,
    /// Columns of the right factor and of the result.
    pub n: usize,
}

/// An elementwise modular kernel. The discriminants are the CUDA kernel's `op` codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum PointwiseOp {
    /// `out = a + b mod q`.
    Add = 0,
    /// `out = a - b mod q`.
    Sub = 1,
    /// `out = a · b mod q`.
    Mul = 2,
    /// `out = out + a · b mod q`.
    MulAcc = 3,
}

/// Batched NTT and modular kernels over buffers that stay on the backend between calls.
///
/// Inputs must be reduced (each word below its row's modulus); outputs always are. Every
/// backend returns bit-identical coefficient-domain results. The NTT domain (what
/// [`Backend::ntt_forward_batch`] leaves in the buffer) is backend-specific: only pointwise
/// kernels and [`Backend::ntt_inverse_batch`] may read it.
pub trait Backend: Send + Sync {
    /// The backend's buffer type.
    type Buffer: DeviceBuffer;

    /// Short name for logs ("cpu", "cuda").
    fn name(&self) -> &'static str;

    /// Copies host words into a new backend buffer.
    fn upload(&self, host: &[u64]) -> Result<Self::Buffer, Error>;
    /// A new buffer of `len` zero words.
    fn zeros(&self, len: usize) -> Result<Self::Buffer, Error>;
    /// Copies a backend buffer back to the host.
    fn download(&self, buf: &Self::Buffer) -> Result<Vec<u64>, Error>;

    /// Forward negacyclic NTT of every row (length `n`) in place.
    fn ntt_forward_batch(
        &self,
        data: &mut Self::Buffer,
        n: usize,
        moduli: &[u64],
    ) -> Result<(), Error>;
    /// Inverse of [`Backend::ntt_forward_batch`], scaling by `n^{-1}` included.
    fn ntt_inverse_batch(
        &self,
        data: &mut Self::Buffer,
        n: usize,
        moduli: &[u64],
    ) -> Result<(), Error>;

    /// The elementwise kernel `op` on every row: `out = a ∘ b`, or `out += a · b` for
    /// [`PointwiseOp::MulAcc`]. The one entry point backends implement; the named methods
    /// below call it.
    fn pointwise(
        &self,
        out: &mut Self::Buffer,
        a: &Self::Buffer,
        b: &Self::Buffer,
        row_len: usize,
        moduli: &[u64],
        op: PointwiseOp,
    ) -> Result<(), Error>;

    /// `out = a + b` elementwise.
    fn add_mod(
        &self,
        out: &mut Self::Buffer,
        a: &Self::Buffer,
        b: &Self::Buffer,
        row_len: usize,
        moduli: &[u64],
    ) -> Result<(), Error> {
        self.pointwise(out, a, b, row_len, moduli, PointwiseOp::Add)
    }
    /// `out = a - b` elementwise.
    fn sub_mod(
        &self,
        out: &mut Self::Buffer,
        a: &Self::Buffer,
        b: &Self::Buffer,
        row_len: usize,
        moduli: &[u64],
    ) -> Result<(), Error> {
        self.pointwise(out, a, b, row_len, moduli, PointwiseOp::Sub)
    }
    /// `out = a · b` elementwise.
    fn mul_mod(
        &self,
        out: &mut Self::Buffer,
        a: &Self::Buffer,
        b: &Self::Buffer,
        row_len: usize,
        moduli: &[u64],
    ) -> Result<(), Error> {
        self.pointwise(out, a, b, row_len, moduli, PointwiseOp::Mul)
    }
    /// `acc += a · b` elementwise.
    fn mul_acc_mod(
        &self,
        acc: &mut Self::Buffer,
        a: &Self::Buffer,
        b: &Self::Buffer,
        row_len: usize,
        moduli: &[u64],
    ) -> Result<(), Error> {
        self.pointwise(acc, a, b, row_len, moduli, PointwiseOp::MulAcc)
    }

    /// `out = M · v mod q` for a row-major `rows × cols` matrix `M`.
    fn matvec_mod(
        &self,
        out: &mut Self::Buffer,
        matrix: &Self::Buffer,
        vector: &Self::Buffer,
        rows: usize,
        cols: usize,
        q: u64,
    ) -> Result<(), Error>;
    /// `out = A · B mod q` for row-major `A` (`m × k`) and `B` (`k × n`).
    fn matmul_mod(
        &self,
        out: &mut Self::Buffer,
        a: &Self::Buffer,
        b: &Self::Buffer,
        shape: MatShape,
        q: u64,
    ) -> Result<(), Error>;
}

/// Checks a row layout and returns the parsed moduli.
pub(crate) fn check_rows(
    len: usize,
    row_len: usize,
    moduli: &[u64],
) -> Result<Vec<Modulus>, Error> {
    if moduli.is_empty() {
        return Err(Error::NoModuli);
    }
    if row_len == 0 || !len.is_multiple_of(row_len) {
        return Err(Error::ShapeMismatch {
            what: "buffer length as a multiple of the row length",
            expected: len.next_multiple_of(row_len.max(1)),
            found: len,
        });
    }
    moduli.iter().map(|&q| Modulus::new(q)).collect()
}

/// Checks an NTT batch and returns the (cached) tables, one per modulus.
pub(crate) fn check_ntt(len: usize, n: usize, moduli: &[u64]) -> Result<Vec<Arc<NttTable>>, Error> {
    checked_log_n(n)?;
    check_rows(len, n, moduli)?;
    moduli.iter().map(|&p| NttTable::cached(p, n)).collect()
}

/// Checks that the three operands of a pointwise kernel have one length.
pub(crate) fn check_same_len(out: usize, a: usize, b: usize) -> Result<(), Error> {
    for (what, found) in [("left operand", a), ("right operand", b)] {
        if found != out {
            return Err(Error::ShapeMismatch { what, expected: out, found });
        }
    }
    Ok(())
}

fn expect_len(what: &'static str, expected: Option<usize>, found: usize) -> Result<(), Error> {
    match expected {
        Some(expected) if expected == found => Ok(()),
        _ => Err(Error::ShapeMismatch { what, expected: expected.unwrap_or(usize::MAX), found }),
    }
}

/// Checks a matrix-vector product's operand lengths.
pub(crate) fn check_matvec(
    out: usize,
    matrix: usize,
    vector: usize,
    rows: usize,
    cols: usize,
    q: u64,
) -> Result<Modulus, Error> {
    expect_len("matrix", rows.checked_mul(cols), matrix)?;
    expect_len("vector", Some(cols), vector)?;
    expect_len("output", Some(rows), out)?;
    Modulus::new(q)
}

/// Checks a matrix product's operand lengths.
pub(crate) fn check_matmul(
    out: usize,
    a: usize,
    b: usize,
    s: MatShape,
    q: u64,
) -> Result<Modulus, Error> {
    expect_len("left matrix", s.m.checked_mul(s.k), a)?;
    expect_len("right matrix", s.k.checked_mul(s.n), b)?;
    expect_len("output", s.m.checked_mul(s.n), out)?;
    Modulus::new(q)
}
