//! Matrix triples: correctness against plaintext for several shapes and party counts, the
//! online product with and without a triple, fixed-point products, and the attacks (a wrong
//! product returned, an inconsistent left factor, a corrupted C, a reflected sacrifice coin, a
//! malformed or altered ciphertext): every honest party aborts with a typed error.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{F, dealer_session, mine};
use tessera_accelerator::Accelerator;
use tessera_mpc::channel::adversary::{self, Action, Rule, Tamper};
use tessera_mpc::harness::{PartyRun, run_in_memory, run_on};
use tessera_mpc::{Channel, ChannelConfig, Field, PartyId, Prg, Ring, Seed};
use tessera_protocols::Error;
use tessera_protocols::fixed::{self, FixedPoint};
use tessera_protocols::spdz::matrix::{Conv2dShape, MatrixShape, MatrixTripleGen, im2col_plain};
use tessera_protocols::spdz::{Fault, Preprocessing, Session};

fn acc() -> Arc<Accelerator> {
    Arc::new(Accelerator::cpu())
}

fn plain_matmul(a: &[F], b: &[F], m: usize, k: usize, n: usize) -> Vec<F> {
    let mut c = vec![F::ZERO; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|l| a[i * k + l] * b[l * n + j]).sum();
        }
    }
    c
}

fn inputs(m: usize, k: usize, n: usize) -> (Vec<F>, Vec<F>) {
    let mut prg = Prg::from_seed(&Seed([9; 16]));
    (F::random_vec(&mut prg, m * k), F::random_vec(&mut prg, k * n))
}

/// Party 0 inputs X, party 1 inputs Y; everyone preprocesses one triple and multiplies.
fn product_via_triple(
    ch: &mut dyn Channel,
    (m, k, n): (usize, usize, usize),
) -> tessera_protocols::Result<(Vec<F>, usize)> {
    let (x, y) = inputs(m, k, n);
    let mut generator = MatrixTripleGen::setup(ch, acc())?;
    let me = ch.party();
    let mut s = dealer_session(ch, 4);
    s.preprocess_matmul(&mut generator, (m, k, n))?;
    let waiting = s.matrix_triples_available((m, k, n));
    let xs = s.input(PartyId(0), mine(me, PartyId(0), &x), m * k)?;
    let ys = s.input(PartyId(1), mine(me, PartyId(1), &y), k * n)?;
    let z = s.matmul(&xs, &ys, (m, k, n))?;
    assert_eq!(s.matrix_triples_available((m, k, n)), 0, "the triple is consumed");
    Ok((s.output(&z)?, waiting))
}

#[test]
fn products_match_plaintext_for_several_shapes() {
    for shape in [(3, 5, 2), (1, 17, 4), (8, 8, 8), (20, 70, 9), (5, 1, 6)] {
        let (m, k, n) = shape;
        let (x, y) = inputs(m, k, n);
        let want = plain_matmul(&x, &y, m, k, n);
        for run in run_in_memory(2, |ch| product_via_triple(ch, shape)) {
            let (got, waiting) = run.output.unwrap();
            assert_eq!(waiting, 1);
            assert_eq!(got, want, "{m}×{k}×{n}");
        }
    }
}

#[test]
fn three_parties_make_triples_pairwise() {
    let shape = (4, 6, 3);
    let (x, y) = inputs(4, 6, 3);
    let want = plain_matmul(&x, &y, 4, 6, 3);
    for run in run_in_memory(3, |ch| product_via_triple(ch, shape)) {
        assert_eq!(run.output.unwrap().0, want);
    }
}

#[test]
fn the_triple_itself_is_a_correct_product() {
    // Open A, B, C of a generated triple directly.
    let runs = run_in_memory(2, |ch| -> tessera_protocols::Result<_> {
        let mut generator = MatrixTripleGen::setup(ch, acc())?;
        let me = ch.party();
        let mut prep = tessera_protocols::spdz::insecure_dealer::InsecureDealer::<F>::new(
            &Seed([5; 16]),
            me,
            2,
        );
        let t = generator.generate(ch, &mut prep, MatrixShape::new(3, 4, 5))?;
        assert_eq!(t.shape(), MatrixShape::new(3, 4, 5));
        let mut s = Session::new(ch, prep);
        let (a, b, c) = t.into_shares();
        Ok((s.output(&a)?, s.output(&b)?, s.output(&c)?))
    });
    for run in runs {
        let (a, b, c) = run.output.unwrap();
        assert_eq!(c, plain_matmul(&a, &b, 3, 4, 5));
        assert!(a.iter().any(|v| *v != F::ZERO));
    }
}

#[test]
fn without_a_triple_matmul_falls_back_to_elementwise_triples() {
    let (m, k, n) = (3, 4, 2);
    let (x, y) = inputs(m, k, n);
    let want = plain_matmul(&x, &y, m, k, n);
    let runs = run_in_memory(2, |ch| -> tessera_protocols::Result<_> {
        let me = ch.party();
        let mut s = dealer_session(ch, 6);
        let xs = s.input(PartyId(0), mine(me, PartyId(0), &x), m * k)?;
        let ys = s.input(PartyId(1), mine(me, PartyId(1), &y), k * n)?;
        let before = s.stats().bytes_sent;
        let z = s.matmul(&xs, &ys, (m, k, n))?;
        // Element-wise: 2·m·k·n opened values of 16 bytes.
        assert!(s.stats().bytes_sent - before >= (2 * m * k * n * 16) as u64);
        s.output(&z)
    });
    for run in runs {
        assert_eq!(run.output.unwrap(), want);
    }
}

#[test]
fn shapes_are_checked() {
    let runs = run_in_memory(2, |ch| -> tessera_protocols::Result<()> {
        let mut generator = MatrixTripleGen::setup(ch, acc())?;
        let mut s = dealer_session(ch, 7);
        s.preprocess_matmul(&mut generator, (2, 3, 4))?;
        let x = s.random_values(6)?;
        let y = s.random_values(11)?;
        s.matmul(&x, &y, (2, 3, 4)).map(|_| ())
    });
    for run in runs {
        assert!(matches!(run.output, Err(Error::Misuse(_))), "{:?}", run.output);
    }
}

#[test]
fn fixed_point_matmul_truncates_once_per_entry() {
    let (m, k, n) = (2, 3, 2);
    let fx = FixedPoint::default();
    let xr = [0.5, -1.25, 2.0, 3.0, 0.75, -0.5];
    let yr = [1.5, -2.0, 0.25, 1.0, -1.0, 0.5];
    let runs = run_in_memory(2, |ch| -> tessera_protocols::Result<_> {
        let me = ch.party();
        let mut generator = MatrixTripleGen::setup(ch, acc())?;
        let mut s = dealer_session(ch, 8);
        s.preprocess_matmul(&mut generator, (m, k, n))?;
        let enc = |v: &[f64]| v.iter().map(|x| fx.encode::<F>(*x)).collect::<Result<Vec<_>, _>>();
        let (xe, ye) = (enc(&xr)?, enc(&yr)?);
        let xs = s.input(PartyId(0), mine(me, PartyId(0), &xe), m * k)?;
        let ys = s.input(PartyId(1), mine(me, PartyId(1), &ye), k * n)?;
        let z = fixed::matmul(&mut s, fx, &xs, &ys, (m, k, n))?;
        let out = s.output(&z)?;
        Ok(fx.decode_all::<F>(&out))
    });
    for run in runs {
        let got = run.output.unwrap();
        for i in 0..m {
            for j in 0..n {
                let want: f64 = (0..k).map(|l| xr[i * k + l] * yr[l * n + j]).sum();
                assert!((got[i * n + j] - want).abs() < 2e-4, "{got:?}");
            }
        }
    }
}

// ---- convolution ----

/// Direct convolution over plaintext, independent of im2col: `out[oy][ox][co] =
/// Σ in[oy·s+dy−p][ox·s+dx−p][c] · k[dy][dx][c][co]` over in-range positions.
fn plain_conv(input: &[F], kernel: &[F], s: &Conv2dShape) -> Vec<F> {
    let (oh, ow) = s.output_size().unwrap();
    let mut out = vec![F::ZERO; oh * ow * s.out_channels];
    for oy in 0..oh {
        for ox in 0..ow {
            for co in 0..s.out_channels {
                let mut acc = F::ZERO;
                for dy in 0..s.kernel_height {
                    for dx in 0..s.kernel_width {
                        let (y, x) = (oy * s.stride + dy, ox * s.stride + dx);
                        if y < s.padding || x < s.padding {
                            continue;
                        }
                        let (y, x) = (y - s.padding, x - s.padding);
                        if y >= s.height || x >= s.width {
                            continue;
                        }
                        for c in 0..s.in_channels {
                            let kv = kernel[((dy * s.kernel_width + dx) * s.in_channels + c)
                                * s.out_channels
                                + co];
                            acc += input[(y * s.width + x) * s.in_channels + c] * kv;
                        }
                    }
                }
                out[(oy * ow + ox) * s.out_channels + co] = acc;
            }
        }
    }
    out
}

fn conv_shapes() -> Vec<Conv2dShape> {
    let base = Conv2dShape {
        height: 6,
        width: 5,
        in_channels: 3,
        out_channels: 2,
        kernel_height: 3,
        kernel_width: 3,
        stride: 1,
        padding: 1,
    };
    vec![
        base,
        Conv2dShape { stride: 2, ..base },
        Conv2dShape { padding: 0, kernel_width: 2, out_channels: 4, ..base },
        Conv2dShape { in_channels: 1, out_channels: 1, kernel_height: 1, kernel_width: 1, ..base },
    ]
}

#[test]
fn im2col_times_the_kernel_is_the_direct_convolution() {
    for s in conv_shapes() {
        let mut prg = Prg::from_seed(&Seed([4; 16]));
        let input = F::random_vec(&mut prg, s.input_len());
        let kernel = F::random_vec(&mut prg, s.kernel_len());
        let (m, k, n) = s.matmul_shape().unwrap();
        let patches = im2col_plain(&input, &s).unwrap();
        assert_eq!(plain_matmul(&patches, &kernel, m, k, n), plain_conv(&input, &kernel, &s));
    }
}

#[test]
fn conv2d_matches_plaintext_with_and_without_a_triple() {
    for (i, shape) in conv_shapes().into_iter().enumerate() {
        let mut prg = Prg::from_seed(&Seed([6; 16]));
        let input = F::random_vec(&mut prg, shape.input_len());
        let kernel = F::random_vec(&mut prg, shape.kernel_len());
        let want = plain_conv(&input, &kernel, &shape);
        let with_triple = i % 2 == 0;
        let runs = run_in_memory(2, |ch| -> tessera_protocols::Result<_> {
            let me = ch.party();
            let mut generator = MatrixTripleGen::setup(ch, acc())?;
            let mut s = dealer_session(ch, 10);
            if with_triple {
                s.preprocess_conv2d(&mut generator, shape)?;
            }
            let mkn = shape.matmul_shape()?;
            assert_eq!(s.matrix_triples_available(mkn), usize::from(with_triple));
            let xs = s.input(PartyId(0), mine(me, PartyId(0), &input), shape.input_len())?;
            let ks = s.input(PartyId(1), mine(me, PartyId(1), &kernel), shape.kernel_len())?;
            let z = s.conv2d(&xs, &ks, shape)?;
            assert_eq!(s.matrix_triples_available(mkn), 0);
            s.output(&z)
        });
        for run in runs {
            assert_eq!(run.output.unwrap(), want, "{shape:?} with triple {with_triple}");
        }
    }
}

#[test]
fn fixed_point_conv2d_truncates_once_per_entry() {
    let shape = Conv2dShape {
        height: 4,
        width: 4,
        in_channels: 2,
        out_channels: 2,
        kernel_height: 3,
        kernel_width: 3,
        stride: 1,
        padding: 1,
    };
    let fx = FixedPoint::default();
    let xr: Vec<f64> = (0..shape.input_len()).map(|i| (i as f64 - 10.0) / 8.0).collect();
    let kr: Vec<f64> = (0..shape.kernel_len()).map(|i| (i as f64 % 7.0 - 3.0) / 4.0).collect();
    let runs = run_in_memory(2, |ch| -> tessera_protocols::Result<_> {
        let me = ch.party();
        let mut generator = MatrixTripleGen::setup(ch, acc())?;
        let mut s = dealer_session(ch, 11);
        s.preprocess_conv2d(&mut generator, shape)?;
        let (xe, ke) = (fx.encode_all::<F>(&xr)?, fx.encode_all::<F>(&kr)?);
        let xs = s.input(PartyId(0), mine(me, PartyId(0), &xe), xe.len())?;
        let ks = s.input(PartyId(1), mine(me, PartyId(1), &ke), ke.len())?;
        let z = fixed::conv2d(&mut s, fx, &xs, &ks, shape)?;
        Ok(fx.decode_all::<F>(&s.output(&z)?))
    });
    // Plaintext reference in f64 through the exact-integer convolution of the encodings.
    let scale = (1u64 << fx.f()) as f64;
    let enc = |v: &[f64]| -> Vec<F> { v.iter().map(|x| fx.encode::<F>(*x).unwrap()).collect() };
    let exact = plain_conv(&enc(&xr), &enc(&kr), &shape);
    for run in runs {
        let got = run.output.unwrap();
        for (g, e) in got.iter().zip(&exact) {
            let want = e.to_i128() as f64 / scale / scale;
            assert!((g - want).abs() < 2e-4, "{g} vs {want}");
        }
    }
}

#[test]
fn conv2d_checks_its_shapes() {
    let shape = conv_shapes()[0];
    let runs = run_in_memory(2, |ch| -> tessera_protocols::Result<()> {
        let mut s = dealer_session(ch, 12);
        let x = s.random_values(shape.input_len())?;
        let k = s.random_values(shape.kernel_len() - 1)?;
        s.conv2d(&x, &k, shape).map(|_| ())
    });
    for run in runs {
        assert!(matches!(run.output, Err(Error::Misuse(_))), "{:?}", run.output);
    }
}

// ---- attacks ----

/// Every party sets up; `cheater` (if any) arms `fault`; all try one triple then a second call.
fn generate_with_fault(
    ch: &mut dyn Channel,
    cheater: PartyId,
    fault: Option<Fault>,
) -> (tessera_protocols::Result<()>, tessera_protocols::Result<()>) {
    let mut generator = match MatrixTripleGen::setup(ch, acc()) {
        Ok(g) => g,
        Err(e) => return (Err(e), Err(Error::Aborted)),
    };
    if let (Some(f), true) = (fault, ch.party() == cheater) {
        generator.inject_fault(f);
    }
    let mut prep = tessera_protocols::spdz::insecure_dealer::InsecureDealer::<F>::new(
        &Seed([3; 16]),
        ch.party(),
        ch.num_parties(),
    );
    let first = generator.generate(ch, &mut prep, MatrixShape::new(4, 5, 3)).map(|_| ());
    let second = generator.generate(ch, &mut prep, MatrixShape::new(4, 5, 3)).map(|_| ());
    let _ = prep.triples(ch, 1).map(|_| ());
    (first, second)
}

fn assert_honest_abort<T: std::fmt::Debug>(
    runs: &[PartyRun<(tessera_protocols::Result<T>, tessera_protocols::Result<T>)>],
    cheaters: &[PartyId],
    what: &str,
    expected: impl Fn(&Error) -> bool,
) {
    for run in runs.iter().filter(|r| !cheaters.contains(&r.party)) {
        let (first, second) = &run.output;
        match first {
            Err(e) if expected(e) => {}
            other => panic!("{what}: honest {} got {other:?}", run.party),
        }
        assert!(matches!(second, Err(Error::Aborted)), "{what}: locked, got {second:?}");
    }
}

#[test]
fn cheating_evaluators_and_corrupted_shares_fail_the_sacrifice() {
    for fault in [Fault::MatrixWrongProduct, Fault::MatrixWrongLeft, Fault::MatrixCorruptC] {
        for n in [2, 3] {
            let cheater = PartyId(1);
            let runs = run_in_memory(n, |ch| generate_with_fault(ch, cheater, Some(fault)));
            assert_honest_abort(&runs, &[cheater], &format!("{fault:?} n={n}"), |e| {
                matches!(e, Error::MatrixSacrifice)
            });
        }
    }
}

#[test]
fn an_honest_run_of_the_attack_harness_passes() {
    let runs = run_in_memory(2, |ch| generate_with_fault(ch, PartyId(1), None));
    for run in runs {
        assert!(run.output.0.is_ok(), "{:?}", run.output.0);
        assert!(run.output.1.is_ok());
    }
}

fn run_attacked<T: Send>(
    n: usize,
    rules: impl Fn(PartyId) -> Vec<Rule>,
    program: impl Fn(&mut dyn Channel) -> T + Sync,
) -> Vec<PartyRun<T>> {
    let config =
        ChannelConfig { recv_timeout: Duration::from_secs(20), ..ChannelConfig::default() };
    run_on(adversary::network(n, config, rules), |ch| program(&mut **ch))
}

fn rewrite(f: impl Fn(&[u8]) -> Vec<u8> + Send + Sync + 'static) -> Action {
    Action::Rewrite { rush: false, f: Box::new(move |t: &Tamper<'_>| f(t.outgoing)) }
}

#[test]
fn a_truncated_upload_is_a_typed_decoding_error() {
    let rules = |p: PartyId| {
        if p == PartyId(1) {
            vec![Rule::on("spdz/matrix/upload", rewrite(|m| m[..m.len() - 1].to_vec())).message(0)]
        } else {
            Vec::new()
        }
    };
    let runs = run_attacked(2, rules, |ch| generate_with_fault(ch, PartyId(1), None));
    assert_honest_abort(&runs, &[PartyId(1)], "truncated upload", |e| {
        matches!(e, Error::He(tessera_fhe::Error::MalformedCiphertext(_)))
    });
}

#[test]
fn an_altered_returned_ciphertext_fails_the_sacrifice() {
    // Change the first limb of c0 on the first 64 coefficients of a returned product (every
    // word stays reduced, so it decodes): each changed coefficient decrypts to an unrelated
    // value mod t, among them the output positions of the tile (4×5×3 is one tile with kt = 5,
    // so C[0][0] sits at coefficient 4), and the sacrifice catches the wrong product. Changing a
    // coefficient that is no output position is harmless and would not be caught.
    let rules = |p: PartyId| {
        if p == PartyId(1) {
            vec![
                Rule::on(
                    "spdz/matrix/return",
                    rewrite(|m| {
                        let mut m = m.to_vec();
                        for w in m[1..1 + 64 * 8].chunks_exact_mut(8) {
                            let v = u64::from_le_bytes(w.try_into().unwrap());
                            let bumped = if v == 0 { 1 } else { v - 1 };
                            w.copy_from_slice(&bumped.to_le_bytes());
                        }
                        m
                    }),
                )
                .message(0),
            ]
        } else {
            Vec::new()
        }
    };
    let runs = run_attacked(2, rules, |ch| generate_with_fault(ch, PartyId(1), None));
    assert_honest_abort(&runs, &[PartyId(1)], "altered return", |e| {
        matches!(e, Error::MatrixSacrifice)
    });
}

#[test]
fn a_reflected_sacrifice_coin_is_refused() {
    let rules = |p: PartyId| {
        if p == PartyId(1) {
            vec![Rule::on("spdz/matrix/sacrifice/coins", Action::ReflectCoherently).occurrence(0)]
        } else {
            Vec::new()
        }
    };
    let runs = run_attacked(2, rules, |ch| generate_with_fault(ch, PartyId(1), None));
    assert_honest_abort(&runs, &[PartyId(1)], "reflected coin", |e| {
        matches!(e, Error::Reflected(_))
    });
}

#[test]
fn an_equivocated_c_opening_is_caught() {
    // Three parties: the cheater sends party 2 a different masked C share than party 0.
    let rules = |p: PartyId| {
        if p == PartyId(1) {
            vec![
                Rule::on(
                    "spdz/matrix/auth",
                    rewrite(|m| {
                        let mut v = F::decode_slice(m).unwrap();
                        v[0] += F::ONE;
                        F::encode_slice(&v)
                    }),
                )
                .to(PartyId(2)),
            ]
        } else {
            Vec::new()
        }
    };
    let runs = run_attacked(3, rules, |ch| generate_with_fault(ch, PartyId(1), None));
    assert_honest_abort(&runs, &[PartyId(1)], "equivocation", |e| {
        matches!(e, Error::BroadcastMismatch)
    });
}

#[test]
fn a_failed_generation_aborts_the_session() {
    let runs =
        run_in_memory(2, |ch| -> (tessera_protocols::Result<()>, tessera_protocols::Result<()>) {
            let mut generator = MatrixTripleGen::setup(ch, acc()).unwrap();
            if ch.party() == PartyId(1) {
                generator.inject_fault(Fault::MatrixCorruptC);
            }
            let mut s = dealer_session(ch, 2);
            let first = s.preprocess_matmul(&mut generator, (2, 2, 2));
            let x = s.random_values(4).map(|_| ());
            (first, x)
        });
    for run in runs.iter().filter(|r| r.party == PartyId(0)) {
        assert!(matches!(run.output.0, Err(Error::MatrixSacrifice)));
        assert!(matches!(run.output.1, Err(Error::Aborted)));
    }
}
