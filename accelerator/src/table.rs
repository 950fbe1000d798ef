//! Twiddle tables per `(prime, N)` and this crate's own single-thread negacyclic NTT.
//!
//! The transform is Harvey's lazy Cooley–Tukey / Gentleman–Sande pair ("Faster arithmetic for
//! number-theoretic transforms", J. Symb. Comp. 60, 2014, Alg. 4 and its inverse), merged with the
//! negacyclic twist by indexing bit-reversed powers of `ψ` (Longa–Naehrig, "Speeding up the NTT
//! for RLWE", CANS 2016, Alg. 1 and 2). Forward keeps values in `[0, 4p)`, inverse in `[0, 2p)`,
//! hence `p < 2^62`. Input: coefficients in natural order; NTT domain: evaluations in bit-reversed
//! order. The CUDA kernels use the same tables and index arithmetic.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::Error;
use crate::arith::{Modulus, mul_shoup, mul_shoup_lazy, shoup};
use crate::prime::primitive_root_2n;

/// Smallest supported transform length, `2^MIN_LOG_N`.
pub const MIN_LOG_N: u32 = 4;
/// Largest supported transform length, `2^MAX_LOG_N`.
pub const MAX_LOG_N: u32 = 17;

/// Precomputed twiddles for one `(prime, N)`.
#[derive(Debug)]
pub struct NttTable {
    p: u64,
    n: usize,
    /// `ψ^{bitrev(i)}`, index 0 unused.
    fwd: Vec<u64>,
    fwd_shoup: Vec<u64>,
    /// `ψ^{-bitrev(i)}`, index 0 unused.
    inv: Vec<u64>,
    inv_shoup: Vec<u64>,
    n_inv: u64,
    n_inv_shoup: u64,
}

/// A process-wide map from `(prime, N)` to a shared precomputed plan.
pub(crate) type PlanCache<V> = Mutex<HashMap<(u64, usize), Arc<V>>>;

fn bit_reverse(i: usize, log_n: u32) -> usize {
    i.reverse_bits() >> (usize::BITS - log_n)
}

/// Checks that `n` is a power of two in `[2^MIN_LOG_N, 2^MAX_LOG_N]` and returns `log2 n`.
pub(crate) fn checked_log_n(n: usize) -> Result<u32, Error> {
    if n.is_power_of_two() && (MIN_LOG_N..=MAX_LOG_N).contains(&n.trailing_zeros()) {
        Ok(n.trailing_zeros())
    } else {
        Err(Error::UnsupportedSize { n })
    }
}

impl NttTable {
    /// Builds the tables; fails unless `p < 2^62` is prime, `p ≡ 1 (mod 2n)` and `n` is a
    /// supported power of two. Prefer [`NttTable::cached`], which builds each table once.
    pub fn new(p: u64, n: usize) -> Result<Self, Error> {
        let log_n = checked_log_n(n)?;
        let psi = primitive_root_2n(p, n)?;
        let m = Modulus::new(p)?;
        let psi_inv = m.inv_prime(psi);
        let mut fwd = vec![0u64; n];
        let mut inv = vec![0u64; n];
        let (mut pw, mut ipw) = (1u64, 1u64);
        for i in 0..n {
            let r = bit_reverse(i, log_n);
            fwd[r] = pw;
            inv[r] = ipw;
            pw = m.mul(pw, psi);
            ipw = m.mul(ipw, psi_inv);
        }
        let fwd_shoup = fwd.iter().map(|&w| shoup(w, p)).collect();
        let inv_shoup = inv.iter().map(|&w| shoup(w, p)).collect();
        let n_inv = m.inv_prime(n as u64 % p);
        Ok(Self { p, n, fwd, fwd_shoup, inv, inv_shoup, n_inv, n_inv_shoup: shoup(n_inv, p) })
    }

    /// The process-wide table for `(p, n)`, built on first use.
    pub fn cached(p: u64, n: usize) -> Result<Arc<Self>, Error> {
        static CACHE: OnceLock<PlanCache<NttTable>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        if let Some(t) = lock(cache).get(&(p, n)) {
            return Ok(Arc::clone(t));
        }
        // Build outside the lock: a 2^17 table takes milliseconds and other threads may want
        // other tables meanwhile. A racing duplicate build is harmless.
        let table = Arc::new(Self::new(p, n)?);
        Ok(Arc::clone(lock(cache).entry((p, n)).or_insert(table)))
    }

    /// The prime.
    pub fn modulus(&self) -> u64 {
        self.p
    }

    /// The transform length.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always false: tables have at least `2^MIN_LOG_N` entries.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// `[ψ-powers | Shoup | ψ^{-1}-powers | Shoup]`, the block the CUDA kernels read.
    #[cfg(feature = "cuda")]
    pub(crate) fn device_block(&self) -> Vec<u64> {
        let mut out = Vec::with_capacity(4 * self.n);
        out.extend_from_slice(&self.fwd);
        out.extend_from_slice(&self.fwd_shoup);
        out.extend_from_slice(&self.inv);
        out.extend_from_slice(&self.inv_shoup);
        out
    }

    /// `[p, N^{-1}, Shoup(N^{-1})]`, the per-prime parameters the CUDA kernels read.
    #[cfg(feature = "cuda")]
    pub(crate) fn device_params(&self) -> [u64; 3] {
        [self.p, self.n_inv, self.n_inv_shoup]
    }

    /// Forward negacyclic NTT in place: natural-order coefficients in `[0, p)` to bit-reversed
    /// evaluations in `[0, p)`.
    ///
    /// # Panics
    /// If `a.len() != self.len()` (a caller bug; the backends check lengths first).
    pub fn forward(&self, a: &mut [u64]) {
        assert_eq!(a.len(), self.n, "NTT input length");
        let p = self.p;
        let two_p = 2 * p;
        let mut t = self.n;
        let mut m = 1;
        while m < self.n {
            t >>= 1;
            // Group i spans a[2it .. 2it + 2t] with twiddle index m + i; iterating chunks and
            // twiddles together keeps bounds checks out of the butterfly loop.
            let twiddles = self.fwd[m..2 * m].iter().zip(&self.fwd_shoup[m..2 * m]);
            for (group, (&w, &ws)) in a.chunks_exact_mut(2 * t).zip(twiddles) {
                let (lo, hi) = group.split_at_mut(t);
                for (x, y) in lo.iter_mut().zip(hi.iter_mut()) {
                    let mut u = *x;
                    if u >= two_p {
                        u -= two_p;
                    }
                    let v = mul_shoup_lazy(*y, w, ws, p);
                    *x = u + v;
                    *y = u + two_p - v;
                }
            }
            m <<= 1;
        }
        for x in a.iter_mut() {
            let mut v = *x;
            if v >= two_p {
                v -= two_p;
            }
            if v >= p {
                v -= p;
            }
            *x = v;
        }
    }

    /// Inverse of [`NttTable::forward`], including the `N^{-1}` scaling.
    ///
    /// # Panics
    /// If `a.len() != self.len()`.
    pub fn inverse(&self, a: &mut [u64]) {
        assert_eq!(a.len(), self.n, "NTT input length");
        let p = self.p;
        let two_p = 2 * p;
        let mut t = 1;
        let mut m = self.n >> 1;
        while m >= 1 {
            let twiddles = self.inv[m..2 * m].iter().zip(&self.inv_shoup[m..2 * m]);
            for (group, (&w, &ws)) in a.chunks_exact_mut(2 * t).zip(twiddles) {
                let (lo, hi) = group.split_at_mut(t);
                for (x, y) in lo.iter_mut().zip(hi.iter_mut()) {
                    let (u, v) = (*x, *y);
                    let mut s = u + v;
                    if s >= two_p {
                        s -= two_p;
                    }
                    *x = s;
                    *y = mul_shoup_lazy(u + two_p - v, w, ws, p);
                }
            }
            t <<= 1;
            m >>= 1;
        }
        for x in a.iter_mut() {
            *x = mul_shoup(*x, self.n_inv, self.n_inv_shoup, p);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the cache lock cannot leave a half-written entry (inserts are
    // single calls), so a poisoned lock is safe to reuse.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prime::ntt_primes;

    #[test]
    fn forward_evaluates_at_odd_powers_of_psi() {
        let n = 16;
        let p = ntt_primes(40, n, 1).unwrap()[0];
        let t = NttTable::new(p, n).unwrap();
        let m = Modulus::new(p).unwrap();
        let psi = primitive_root_2n(p, n).unwrap();
        let coeffs: Vec<u64> = (0..n as u64).map(|i| (i * 7919 + 3) % p).collect();
        let mut a = coeffs.clone();
        t.forward(&mut a);
        for (slot, &value) in a.iter().enumerate() {
            // Slot j holds the evaluation at ψ^(2·bitrev(j)+1).
            let x = m.pow(psi, 2 * bit_reverse(slot, 4) as u64 + 1);
            let eval = coeffs.iter().rev().fold(0u64, |acc, &c| m.add(m.mul(acc, x), c));
            assert_eq!(value, eval, "slot {slot}");
        }
        t.inverse(&mut a);
        assert_eq!(a, coeffs);
    }

    #[test]
    fn cache_returns_one_table_per_key() {
        let p = ntt_primes(50, 1024, 1).unwrap()[0];
        let a = NttTable::cached(p, 1024).unwrap();
        let b = NttTable::cached(p, 1024).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(NttTable::cached(p, 3).is_err());
        assert!(NttTable::cached(p + 2, 1024).is_err());
    }
}
