//! One test suite for every backend: each kernel against a plain reference on random nonzero
//! inputs, for several primes and sizes. `backend_suite!` instantiates it for a backend.

#![allow(dead_code, unreachable_pub)]

use tessera_accelerator::{Backend, DeviceBuffer, Error, MatShape, ntt_primes};

/// SplitMix64: deterministic test randomness without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[1, q)`: never zero, so a kernel that drops a term cannot pass by luck.
    pub fn nonzero_below(&mut self, q: u64) -> u64 {
        1 + self.next_u64() % (q - 1)
    }

    /// `rows × row_len` words, row r reduced modulo `moduli[r % len]`.
    pub fn rows(&mut self, rows: usize, row_len: usize, moduli: &[u64]) -> Vec<u64> {
        (0..rows * row_len)
            .map(|i| self.nonzero_below(moduli[(i / row_len) % moduli.len()]))
            .collect()
    }
}

fn mulmod(a: u64, b: u64, q: u64) -> u64 {
    (u128::from(a) * u128::from(b) % u128::from(q)) as u64
}

/// Schoolbook product in `Z_q[X]/(X^n + 1)`.
pub fn negacyclic_schoolbook(a: &[u64], b: &[u64], q: u64) -> Vec<u64> {
    let n = a.len();
    let mut c = vec![0u128; n];
    let q128 = u128::from(q);
    for (i, &x) in a.iter().enumerate() {
        for (j, &y) in b.iter().enumerate() {
            let p = u128::from(mulmod(x, y, q));
            let k = i + j;
            if k < n {
                c[k] = (c[k] + p) % q128;
            } else {
                c[k - n] = (c[k - n] + q128 - p) % q128;
            }
        }
    }
    c.into_iter().map(|v| v as u64).collect()
}

/// One coefficient of the negacyclic product, in O(n).
pub fn negacyclic_coefficient(a: &[u64], b: &[u64], q: u64, k: usize) -> u64 {
    let n = a.len();
    let q128 = u128::from(q);
    let mut acc = 0u128;
    for i in 0..n {
        let p = u128::from(mulmod(a[i], b[(k + n - i) % n], q));
        acc = if i <= k { (acc + p) % q128 } else { (acc + q128 - p) % q128 };
    }
    acc as u64
}

/// Primes of several sizes that support length `n` (including a small one where it exists).
pub fn primes_for(n: usize) -> Vec<u64> {
    let mut ps = vec![
        ntt_primes(62, n, 1).unwrap()[0],
        ntt_primes(60, n, 2).unwrap()[1],
        ntt_primes(50, n, 1).unwrap()[0],
        ntt_primes(36, n, 1).unwrap()[0],
    ];
    if (65537 - 1) % (2 * n as u64) == 0 {
        ps.push(65537);
    }
    ps
}

pub const LOG_SIZES: [u32; 8] = [4, 5, 10, 11, 12, 13, 16, 17];

pub fn ntt_roundtrip<B: Backend>(be: &B) {
    let mut rng = Rng::new(1);
    for log_n in LOG_SIZES {
        let n = 1usize << log_n;
        let primes = primes_for(n);
        // Each prime alone, then all primes as one RNS batch of two polynomials.
        let mut layouts: Vec<Vec<u64>> = primes.iter().map(|&p| vec![p]).collect();
        layouts.push(primes.clone());
        for moduli in layouts {
            let rows = if n >= 1 << 16 { moduli.len() } else { 2 * moduli.len() + 1 };
            let host = rng.rows(rows, n, &moduli);
            let mut buf = be.upload(&host).unwrap();
            be.ntt_forward_batch(&mut buf, n, &moduli).unwrap();
            let evals = be.download(&buf).unwrap();
            assert_ne!(evals, host, "{}: forward NTT left data unchanged", be.name());
            for (i, &v) in evals.iter().enumerate() {
                assert!(v < moduli[(i / n) % moduli.len()], "NTT output not reduced");
            }
            be.ntt_inverse_batch(&mut buf, n, &moduli).unwrap();
            assert_eq!(be.download(&buf).unwrap(), host, "{}: INTT∘NTT ≠ id, n={n}", be.name());
        }
    }
}

/// Multiplies row pairs through the NTT on the backend and returns the product rows.
fn ntt_products<B: Backend>(be: &B, a: &[u64], b: &[u64], n: usize, moduli: &[u64]) -> Vec<u64> {
    let mut da = be.upload(a).unwrap();
    let mut db = be.upload(b).unwrap();
    be.ntt_forward_batch(&mut da, n, moduli).unwrap();
    be.ntt_forward_batch(&mut db, n, moduli).unwrap();
    let mut dc = be.zeros(a.len()).unwrap();
    be.mul_mod(&mut dc, &da, &db, n, moduli).unwrap();
    be.ntt_inverse_batch(&mut dc, n, moduli).unwrap();
    be.download(&dc).unwrap()
}

pub fn ntt_convolution_matches_schoolbook<B: Backend>(be: &B) {
    let mut rng = Rng::new(2);
    for log_n in [4u32, 5, 8, 10, 11] {
        let n = 1usize << log_n;
        let moduli = primes_for(n);
        let rows = moduli.len() + 1;
        let a = rng.rows(rows, n, &moduli);
        let b = rng.rows(rows, n, &moduli);
        let c = ntt_products(be, &a, &b, n, &moduli);
        for r in 0..rows {
            let q = moduli[r % moduli.len()];
            let expect = negacyclic_schoolbook(&a[r * n..(r + 1) * n], &b[r * n..(r + 1) * n], q);
            assert_eq!(&c[r * n..(r + 1) * n], &expect[..], "{}: n={n} q={q}", be.name());
        }
    }
}

/// For the largest sizes a full schoolbook product is too slow; check sampled coefficients.
pub fn ntt_convolution_large_sampled<B: Backend>(be: &B) {
    let mut rng = Rng::new(3);
    for log_n in [12u32, 16, 17] {
        let n = 1usize << log_n;
        let moduli = vec![ntt_primes(62, n, 1).unwrap()[0], ntt_primes(50, n, 1).unwrap()[0]];
        let a = rng.rows(2, n, &moduli);
        let b = rng.rows(2, n, &moduli);
        let c = ntt_products(be, &a, &b, n, &moduli);
        for (r, &q) in moduli.iter().enumerate() {
            let (ra, rb) = (&a[r * n..(r + 1) * n], &b[r * n..(r + 1) * n]);
            let mut ks: Vec<usize> = (0..12).map(|_| rng.next_u64() as usize % n).collect();
            ks.extend([0, 1, n / 2, n - 1]);
            for k in ks {
                assert_eq!(c[r * n + k], negacyclic_coefficient(ra, rb, q, k), "n={n} k={k}");
            }
        }
    }
}

/// Moduli for pointwise kernels: NTT primes and arbitrary (even, tiny) moduli alike.
pub fn pointwise_moduli() -> Vec<Vec<u64>> {
    vec![
        vec![(1u64 << 62) - 57],
        vec![ntt_primes(60, 1024, 1).unwrap()[0]],
        vec![(1 << 61) + 12345, 1 << 40, 3],
        vec![97, (1 << 62) - 1, 1 << 32],
    ]
}

pub fn pointwise_ops_match_reference<B: Backend>(be: &B) {
    let mut rng = Rng::new(4);
    for moduli in pointwise_moduli() {
        for (rows, row_len) in [(1, 1), (7, 33), (moduli.len() * 3, 1000), (2, 70_000)] {
            let a = rng.rows(rows, row_len, &moduli);
            let b = rng.rows(rows, row_len, &moduli);
            let acc0 = rng.rows(rows, row_len, &moduli);
            let q_of = |i: usize| moduli[(i / row_len) % moduli.len()];
            let (da, db) = (be.upload(&a).unwrap(), be.upload(&b).unwrap());
            let mut out = be.zeros(a.len()).unwrap();

            be.add_mod(&mut out, &da, &db, row_len, &moduli).unwrap();
            let got = be.download(&out).unwrap();
            for i in 0..a.len() {
                let q = q_of(i);
                assert_eq!(
                    u128::from(got[i]),
                    (u128::from(a[i]) + u128::from(b[i])) % u128::from(q)
                );
            }
            be.sub_mod(&mut out, &da, &db, row_len, &moduli).unwrap();
            let got = be.download(&out).unwrap();
            for i in 0..a.len() {
                let q = q_of(i);
                assert_eq!(
                    got[i],
                    ((u128::from(a[i]) + u128::from(q) - u128::from(b[i])) % u128::from(q)) as u64
                );
            }
            be.mul_mod(&mut out, &da, &db, row_len, &moduli).unwrap();
            let got = be.download(&out).unwrap();
            for i in 0..a.len() {
                assert_eq!(got[i], mulmod(a[i], b[i], q_of(i)), "{}: mul i={i}", be.name());
            }
            let mut acc = be.upload(&acc0).unwrap();
            be.mul_acc_mod(&mut acc, &da, &db, row_len, &moduli).unwrap();
            be.mul_acc_mod(&mut acc, &db, &db, row_len, &moduli).unwrap();
            let got = be.download(&acc).unwrap();
            for i in 0..a.len() {
                let q = q_of(i);
                let expect = (u128::from(acc0[i])
                    + u128::from(mulmod(a[i], b[i], q))
                    + u128::from(mulmod(b[i], b[i], q)))
                    % u128::from(q);
                assert_eq!(u128::from(got[i]), expect, "{}: mac i={i}", be.name());
            }
        }
    }
}

/// Worst-case words: everything `q - 1`, so every partial sum is as large as it can be.
fn edge_or_random(rng: &mut Rng, len: usize, q: u64, edge: bool) -> Vec<u64> {
    (0..len).map(|_| if edge { q - 1 } else { rng.nonzero_below(q) }).collect()
}

fn dot(a: &[u64], b: &[u64], q: u64) -> u64 {
    a.iter().zip(b).fold(0u128, |acc, (&x, &y)| (acc + u128::from(mulmod(x, y, q))) % u128::from(q))
        as u64
}

pub fn matvec_matches_reference<B: Backend>(be: &B) {
    let mut rng = Rng::new(5);
    for q in [(1u64 << 62) - 57, ntt_primes(50, 1024, 1).unwrap()[0], 12_289, 2] {
        for (rows, cols, edge) in
            [(1, 1, false), (37, 53, false), (5, 1000, true), (300, 17, false)]
        {
            let m = edge_or_random(&mut rng, rows * cols, q, edge);
            let v = edge_or_random(&mut rng, cols, q, edge);
            let mut out = be.zeros(rows).unwrap();
            be.matvec_mod(
                &mut out,
                &be.upload(&m).unwrap(),
                &be.upload(&v).unwrap(),
                rows,
                cols,
                q,
            )
            .unwrap();
            let got = be.download(&out).unwrap();
            for r in 0..rows {
                assert_eq!(
                    got[r],
                    dot(&m[r * cols..(r + 1) * cols], &v, q),
                    "{}: row {r}",
                    be.name()
                );
            }
        }
    }
}

pub fn matmul_matches_reference<B: Backend>(be: &B) {
    let mut rng = Rng::new(6);
    for q in [(1u64 << 62) - 57, ntt_primes(60, 1024, 1).unwrap()[0], 65_537] {
        for (m, k, n, edge) in
            [(1, 1, 1, false), (37, 53, 29, false), (16, 16, 16, true), (3, 200, 70, false)]
        {
            let s = MatShape { m, k, n };
            let a = edge_or_random(&mut rng, m * k, q, edge);
            let b = edge_or_random(&mut rng, k * n, q, edge);
            let mut out = be.zeros(m * n).unwrap();
            be.matmul_mod(&mut out, &be.upload(&a).unwrap(), &be.upload(&b).unwrap(), s, q)
                .unwrap();
            let got = be.download(&out).unwrap();
            for i in 0..m {
                for j in 0..n {
                    let col: Vec<u64> = (0..k).map(|t| b[t * n + j]).collect();
                    assert_eq!(
                        got[i * n + j],
                        dot(&a[i * k..(i + 1) * k], &col, q),
                        "{}: ({i},{j})",
                        be.name()
                    );
                }
            }
        }
    }
}

pub fn misuse_is_refused<B: Backend>(be: &B) {
    let n = 1024;
    let p = ntt_primes(60, n, 1).unwrap()[0];
    let mut buf = be.upload(&vec![1u64; n]).unwrap();
    let err = |r: Result<(), Error>| r.unwrap_err();
    assert!(matches!(
        err(be.ntt_forward_batch(&mut buf, 1000, &[p])),
        Error::UnsupportedSize { .. }
    ));
    assert!(matches!(
        err(be.ntt_forward_batch(&mut buf, 1 << 18, &[p])),
        Error::UnsupportedSize { .. }
    ));
    assert!(matches!(
        err(be.ntt_forward_batch(&mut buf, 512 * 3, &[p])),
        Error::UnsupportedSize { .. }
    ));
    assert!(matches!(err(be.ntt_forward_batch(&mut buf, n, &[])), Error::NoModuli));
    // 2^62 - 57 is prime but not 1 mod 2048; p + 2 is not prime.
    assert!(matches!(
        err(be.ntt_forward_batch(&mut buf, n, &[(1 << 62) - 57])),
        Error::NotNttFriendly { .. }
    ));
    assert!(matches!(
        err(be.ntt_inverse_batch(&mut buf, n, &[p + 2])),
        Error::NotNttFriendly { .. }
    ));
    assert!(matches!(
        err(be.ntt_forward_batch(&mut buf, n, &[1 << 62])),
        Error::InvalidModulus { .. }
    ));
    let mut short = be.upload(&vec![1u64; n + 1]).unwrap();
    assert!(matches!(err(be.ntt_forward_batch(&mut short, n, &[p])), Error::ShapeMismatch { .. }));

    let a = be.upload(&[1, 2, 3]).unwrap();
    let b = be.upload(&[1, 2]).unwrap();
    let mut out = be.zeros(3).unwrap();
    assert!(matches!(err(be.add_mod(&mut out, &a, &b, 1, &[7])), Error::ShapeMismatch { .. }));
    assert!(matches!(err(be.mul_mod(&mut out, &a, &a, 2, &[7])), Error::ShapeMismatch { .. }));
    assert!(matches!(err(be.mul_mod(&mut out, &a, &a, 0, &[7])), Error::ShapeMismatch { .. }));
    assert!(matches!(err(be.sub_mod(&mut out, &a, &a, 1, &[1])), Error::InvalidModulus { .. }));
    assert!(matches!(err(be.matvec_mod(&mut out, &a, &b, 3, 2, 7)), Error::ShapeMismatch { .. }));
    let s = MatShape { m: 1, k: 3, n: 1 };
    assert!(matches!(err(be.matmul_mod(&mut out, &a, &a, s, 7)), Error::ShapeMismatch { .. }));
    let huge = MatShape { m: usize::MAX, k: 2, n: 1 };
    assert!(matches!(err(be.matmul_mod(&mut out, &a, &a, huge, 7)), Error::ShapeMismatch { .. }));
    // A refused call leaves the buffer as it was.
    assert_eq!(be.download(&buf).unwrap(), vec![1u64; n]);
    assert_eq!(out.len(), 3);
}

pub fn empty_batches_are_no_ops<B: Backend>(be: &B) {
    let p = ntt_primes(60, 1024, 1).unwrap()[0];
    let mut e = be.zeros(0).unwrap();
    be.ntt_forward_batch(&mut e, 1024, &[p]).unwrap();
    let e2 = be.upload(&[]).unwrap();
    let mut o = be.zeros(0).unwrap();
    be.mul_acc_mod(&mut o, &e, &e2, 4, &[p]).unwrap();
    assert!(be.download(&o).unwrap().is_empty());
}

/// Instantiates the suite: `$make` is an expression giving `Option<&impl Backend>` (None skips).
#[macro_export]
macro_rules! backend_suite {
    ($make:expr) => {
        #[test]
        fn ntt_roundtrip() {
            if let Some(be) = $make {
                common::ntt_roundtrip(be);
            }
        }
        #[test]
        fn ntt_convolution_matches_schoolbook() {
            if let Some(be) = $make {
                common::ntt_convolution_matches_schoolbook(be);
            }
        }
        #[test]
        fn ntt_convolution_large_sampled() {
            if let Some(be) = $make {
                common::ntt_convolution_large_sampled(be);
            }
        }
        #[test]
        fn pointwise_ops_match_reference() {
            if let Some(be) = $make {
                common::pointwise_ops_match_reference(be);
            }
        }
        #[test]
        fn matvec_matches_reference() {
            if let Some(be) = $make {
                common::matvec_matches_reference(be);
            }
        }
        #[test]
        fn matmul_matches_reference() {
            if let Some(be) = $make {
                common::matmul_matches_reference(be);
            }
        }
        #[test]
        fn misuse_is_refused() {
            if let Some(be) = $make {
                common::misuse_is_refused(be);
            }
        }
        #[test]
        fn empty_batches_are_no_ops() {
            if let Some(be) = $make {
                common::empty_batches_are_no_ops(be);
            }
        }
    };
}
