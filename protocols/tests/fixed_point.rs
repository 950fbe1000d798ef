//! Fixed-point arithmetic and comparisons against plaintext, within their stated error.

mod common;

use common::{F, dealer_session, mine};
use tessera_mpc::{Field, PartyId, Prg, Ring, Seed};
use tessera_protocols::Error;
use tessera_protocols::fixed::{self, FixedPoint};

const ULP: f64 = 1.0 / 65536.0;

fn inputs() -> Vec<f64> {
    let mut prg = Prg::from_seed(&Seed([21; 16]));
    let mut v: Vec<f64> =
        (0..40).map(|_| (prg.next_u64() % 2_000_000) as f64 / 1000.0 - 1000.0).collect();
    v.extend([0.0, -0.0, ULP, -ULP, 1.0, -1.0, 4.99, -4.99, 5.01, -5.01, 123.456]);
    v
}

/// Runs `f` on party 0's shared `a` and party 1's shared `b` in a 2-party dealer session.
fn run2<T: Send + Clone>(
    a: &[f64],
    b: &[f64],
    f: impl Fn(
        &mut tessera_protocols::spdz::Session<
            '_,
            F,
            tessera_protocols::spdz::insecure_dealer::InsecureDealer<F>,
        >,
        FixedPoint,
        &tessera_protocols::spdz::Shared<F>,
        &tessera_protocols::spdz::Shared<F>,
    ) -> tessera_protocols::Result<T>
    + Sync,
) -> T {
    let fx = FixedPoint::default();
    let ea: Vec<F> = fx.encode_all(a).unwrap();
    let eb: Vec<F> = fx.encode_all(b).unwrap();
    let runs = tessera_mpc::harness::run_in_memory(2, |ch| {
        let me = ch.party();
        let mut s = dealer_session(ch, 31);
        let x = s.input(PartyId(0), mine(me, PartyId(0), &ea), ea.len())?;
        let y = s.input(PartyId(1), mine(me, PartyId(1), &eb), eb.len())?;
        f(&mut s, fx, &x, &y)
    });
    runs[0].output.as_ref().map_err(|e| e.to_string()).unwrap().clone()
}

#[test]
fn encoding_round_trips_and_rejects_out_of_range() {
    let fx = FixedPoint::default();
    for x in inputs() {
        let v: F = fx.encode(x).unwrap();
        assert!((fx.decode(v) - x).abs() <= ULP / 2.0);
    }
    assert!(fx.encode::<F>(1e30).is_err());
    assert!(fx.encode::<F>(f64::NAN).is_err());
    assert!(FixedPoint::new::<F>(16, 90).is_err());
    assert!(FixedPoint::new::<F>(20, 80).is_ok());
}

#[test]
fn products_are_within_one_ulp() {
    let a = inputs();
    let b: Vec<f64> = a.iter().rev().map(|x| x / 7.0).collect();
    let fx = FixedPoint::default();
    let out = run2(&a, &b, |s, fx, x, y| {
        let p = fixed::mul(s, fx, x, y)?;
        s.output(&p)
    });
    for ((x, y), got) in a.iter().zip(&b).zip(fx.decode_all(&out)) {
        let ex = fx.decode::<F>(fx.encode(*x).unwrap()) * fx.decode::<F>(fx.encode(*y).unwrap());
        assert!((got - ex).abs() <= 1.0001 * ULP, "{x}·{y}: got {got}, expected {ex}");
    }
}

#[test]
fn comparisons_equality_and_relu_are_exact() {
    let a = inputs();
    let mut b: Vec<f64> = a.iter().rev().cloned().collect();
    b[3] = a[3]; // at least one equal pair
    let fx = FixedPoint::default();
    let (lt, eq, relu, ltz) = run2(&a, &b, |s, fx, x, y| {
        let lt = fixed::less_than(s, fx, x, y)?;
        let eq = fixed::eqz(s, fx, &x.sub(y)?)?;
        let r = fixed::relu(s, fx, x)?;
        let z = fixed::ltz(s, fx, x)?;
        Ok::<_, Error>((s.output(&lt)?, s.output(&eq)?, s.output(&r)?, s.output(&z)?))
    });
    for i in 0..a.len() {
        let (x, y) =
            (fx.encode::<F>(a[i]).unwrap().to_i128(), fx.encode::<F>(b[i]).unwrap().to_i128());
        assert_eq!(lt[i], F::from_u64(u64::from(x < y)), "{} < {}", a[i], b[i]);
        assert_eq!(eq[i], F::from_u64(u64::from(x == y)), "{} == {}", a[i], b[i]);
        assert_eq!(ltz[i], F::from_u64(u64::from(x < 0)), "{} < 0", a[i]);
        assert_eq!(relu[i].to_i128(), x.max(0), "relu({})", a[i]);
    }
}

#[test]
fn sigmoid_is_within_its_stated_error() {
    let a: Vec<f64> = (-80..=80).map(|i| i as f64 / 8.0).collect();
    let fx = FixedPoint::default();
    let out = run2(&a, &a, |s, fx, x, _| {
        let y = fixed::sigmoid(s, fx, x)?;
        s.output(&y)
    });
    for (x, got) in a.iter().zip(fx.decode_all(&out)) {
        let exact = 1.0 / (1.0 + (-x).exp());
        assert!((got - exact).abs() < 0.06, "sigmoid({x}) = {got}, exact {exact}");
    }
}

#[test]
fn reciprocal_converges() {
    let a: Vec<f64> = vec![0.5, 1.0, 3.0, 10.0, 77.0, 250.0];
    let fx = FixedPoint::default();
    let out = run2(&a, &a, |s, fx, x, _| {
        let y = fixed::reciprocal(s, fx, x, 256.0, 14)?;
        s.output(&y)
    });
    for (x, got) in a.iter().zip(fx.decode_all(&out)) {
        assert!((got - 1.0 / x).abs() < 1e-3 + 1e-3 / x, "1/{x} = {got}");
    }
}
