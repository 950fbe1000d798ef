//! CPU backend: single-thread kernels, with rayon spreading rows across cores.
//!
//! The NTT engine is chosen per backend: `tfhe-ntt` (AVX2/AVX-512 Shoup butterflies, Zama) or
//! this crate's scalar Harvey NTT ([`NttTable::forward`]). Both compute the same negacyclic
//! transform up to the order and root of their NTT domain, so coefficient-domain results agree;
//! a buffer must be transformed back by the same backend that transformed it forward.

use std::sync::{Arc, OnceLock};

use rayon::prelude::*;
use tfhe_ntt::prime64::Plan;

use crate::Error;
use crate::arith::{Modulus, add_mod, sub_mod};
use crate::backend::{
    Backend, DeviceBuffer, MatShape, PointwiseOp, check_matmul, check_matvec, check_ntt,
    check_rows, check_same_len,
};
use crate::table::PlanCache;

/// Which single-thread NTT the CPU backend runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CpuNtt {
    /// `tfhe_ntt::prime64::Plan`, SIMD where the CPU has it (the default: fastest measured here).
    #[default]
    TfheNtt,
    /// This crate's scalar Harvey NTT, the same algorithm and layout as the CUDA kernels.
    Harvey,
}

/// Host-memory backend.
#[derive(Clone, Debug, Default)]
pub struct CpuBackend {
    ntt: CpuNtt,
}

/// A CPU buffer is a plain vector.
impl DeviceBuffer for Vec<u64> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
}

/// Below this many words per task, rayon's splitting costs more than it saves.
const MIN_PAR_WORDS: usize = 1 << 12;
/// Products of two words below 2^62 are below 2^124, so eight of them plus a residue fit in a
/// `u128` with room to spare; dot products reduce every `DOT_CHUNK` terms.
const DOT_CHUNK: usize = 8;

fn tfhe_plan(p: u64, n: usize) -> Result<Arc<Plan>, Error> {
    static CACHE: OnceLock<PlanCache<Plan>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let lock = || cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(plan) = lock().get(&(p, n)) {
        return Ok(Arc::clone(plan));
    }
    let plan = Arc::new(Plan::try_new(n, p).ok_or(Error::NotNttFriendly { modulus: p, n })?);
    Ok(Arc::clone(lock().entry((p, n)).or_insert(plan)))
}

impl CpuBackend {
    /// The default CPU backend (`tfhe-ntt` transforms).
    pub fn new() -> Self {
        Self::default()
    }

    /// A CPU backend with a chosen NTT engine.
    pub const fn with_ntt(ntt: CpuNtt) -> Self {
        Self { ntt }
    }

    /// The NTT engine in use.
    pub fn ntt_engine(&self) -> CpuNtt {
        self.ntt
    }

    fn transform(
        &self,
        data: &mut [u64],
        n: usize,
        moduli: &[u64],
        forward: bool,
    ) -> Result<(), Error> {
        let tables = check_ntt(data.len(), n, moduli)?;
        match self.ntt {
            CpuNtt::Harvey => {
                data.par_chunks_mut(n).enumerate().for_each(|(r, row)| {
                    let t = &tables[r % tables.len()];
                    if forward { t.forward(row) } else { t.inverse(row) }
                });
            }
            CpuNtt::TfheNtt => {
                let plans = tables
                    .iter()
                    .map(|t| tfhe_plan(t.modulus(), n))
                    .collect::<Result<Vec<_>, _>>()?;
                data.par_chunks_mut(n).enumerate().for_each(|(r, row)| {
                    let plan = &plans[r % plans.len()];
                    if forward {
                        plan.fwd(row);
                    } else {
                        plan.inv(row);
                        plan.normalize(row);
                    }
                });
            }
        }
        Ok(())
    }

    /// Applies `f(out, a, b, q)` row by row.
    fn rowwise(
        out: &mut [u64],
        a: &[u64],
        b: &[u64],
        row_len: usize,
        moduli: &[u64],
        f: impl Fn(&mut [u64], &[u64], &[u64], &Modulus) + Sync,
    ) -> Result<(), Error> {
        check_same_len(out.len(), a.len(), b.len())?;
        let ms = check_rows(out.len(), row_len, moduli)?;
        let rows_per_task = MIN_PAR_WORDS.div_ceil(row_len);
        out.par_chunks_mut(row_len)
            .zip(a.par_chunks(row_len).zip(b.par_chunks(row_len)))
            .enumerate()
            .with_min_len(rows_per_task)
            .for_each(|(r, (o, (x, y)))| f(o, x, y, &ms[r % ms.len()]));
        Ok(())
    }
}

/// `Σ a_i·b_i mod q`, reducing the 128-bit accumulator every [`DOT_CHUNK`] terms.
fn dot_mod(a: &[u64], b: &[u64], m: &Modulus) -> u64 {
    let mut acc = 0u64;
    for (xa, xb) in a.chunks(DOT_CHUNK).zip(b.chunks(DOT_CHUNK)) {
        let mut wide = u128::from(acc);
        for (&x, &y) in xa.iter().zip(xb) {
            wide += u128::from(x) * u128::from(y);
        }
        acc = m.reduce_u128(wide);
    }
    acc
}

impl Backend for CpuBackend {
    type Buffer = Vec<u64>;

    fn name(&self) -> &'static str {
        "cpu"
    }

    fn upload(&self, host: &[u64]) -> Result<Vec<u64>, Error> {
        Ok(host.to_vec())
    }

    fn zeros(&self, len: usize) -> Result<Vec<u64>, Error> {
        Ok(vec![0; len])
    }

    fn download(&self, buf: &Vec<u64>) -> Result<Vec<u64>, Error> {
        Ok(buf.clone())
    }

    fn ntt_forward_batch(
        &self,
        data: &mut Vec<u64>,
        n: usize,
        moduli: &[u64],
    ) -> Result<(), Error> {
        self.transform(data, n, moduli, true)
    }

    fn ntt_inverse_batch(
        &self,
        data: &mut Vec<u64>,
        n: usize,
        moduli: &[u64],
    ) -> Result<(), Error> {
        self.transform(data, n, moduli, false)
    }

    fn pointwise(
        &self,
        out: &mut Vec<u64>,
        a: &Vec<u64>,
        b: &Vec<u64>,
        row_len: usize,
        moduli: &[u64],
        op: PointwiseOp,
    ) -> Result<(), Error> {
        let rows = |o: &mut [u64], x: &[u64], y: &[u64], m: &Modulus| {
            let q = m.value();
            let triples = o.iter_mut().zip(x).zip(y);
            match op {
                PointwiseOp::Add => triples.for_each(|((o, &x), &y)| *o = add_mod(x, y, q)),
                PointwiseOp::Sub => triples.for_each(|((o, &x), &y)| *o = sub_mod(x, y, q)),
                PointwiseOp::Mul => triples.for_each(|((o, &x), &y)| *o = m.mul(x, y)),
                PointwiseOp::MulAcc => triples.for_each(|((o, &x), &y)| {
                    *o = m.reduce_u128(u128::from(x) * u128::from(y) + u128::from(*o));
                }),
            }
        };
        Self::rowwise(out, a, b, row_len, moduli, rows)
    }

    fn matvec_mod(
        &self,
        out: &mut Vec<u64>,
        matrix: &Vec<u64>,
        vector: &Vec<u64>,
        rows: usize,
        cols: usize,
        q: u64,
    ) -> Result<(), Error> {
        let m = check_matvec(out.len(), matrix.len(), vector.len(), rows, cols, q)?;
        if cols == 0 {
            out.fill(0);
            return Ok(());
        }
        out.par_iter_mut()
            .zip(matrix.par_chunks(cols))
            .with_min_len(MIN_PAR_WORDS.div_ceil(cols))
            .for_each(|(o, row)| *o = dot_mod(row, vector, &m));
        Ok(())
    }

    fn matmul_mod(
        &self,
        out: &mut Vec<u64>,
        a: &Vec<u64>,
        b: &Vec<u64>,
        s: MatShape,
        q: u64,
    ) -> Result<(), Error> {
        let m = check_matmul(out.len(), a.len(), b.len(), s, q)?;
        if s.n == 0 {
            return Ok(());
        }
        if s.k == 0 {
            out.fill(0);
            return Ok(());
        }
        // Row i of the result is Σ_k A[i][k]·B[k][·]: stream rows of B into a row of u128
        // accumulators, so every access is sequential.
        out.par_chunks_mut(s.n)
            .zip(a.par_chunks(s.k))
            .with_min_len(MIN_PAR_WORDS.div_ceil(s.n * s.k).max(1))
            .for_each_init(
                || vec![0u128; s.n],
                |wide, (o, a_row)| {
                    wide.fill(0);
                    for (kk, &x) in a_row.iter().enumerate() {
                        let b_row = &b[kk * s.n..(kk + 1) * s.n];
                        for (w, &y) in wide.iter_mut().zip(b_row) {
                            *w += u128::from(x) * u128::from(y);
                        }
                        if kk % DOT_CHUNK == DOT_CHUNK - 1 {
                            for w in wide.iter_mut() {
                                *w = u128::from(m.reduce_u128(*w));
                            }
                        }
                    }
                    for (o, &w) in o.iter_mut().zip(wide.iter()) {
                        *o = m.reduce_u128(w);
                    }
                },
            );
        Ok(())
    }
}
