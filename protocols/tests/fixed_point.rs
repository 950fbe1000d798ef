//! Fixed-point arithmetic and comparisons against plaintext, within their stated error.

mod common;

use common::{F, dealer_session, mine};
use tessera_mpc::{Channel, ChannelStats, Field, PartyId, Prg, Ring, Seed};
use tessera_protocols::Error;
use tessera_protocols::fixed::{self, FixedPoint};
use tessera_protocols::spdz::insecure_dealer::InsecureDealer;
use tessera_protocols::spdz::{InputMasks, Preprocessing, Session, Shared, Triples};

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
    // 64-bit masks beside k-bit integers must fit the 127-bit field with a bit to spare.
    assert!(FixedPoint::new::<F>(20, 61).is_ok());
    assert!(FixedPoint::new::<F>(20, 62).is_err());
    assert!(FixedPoint::new::<F>(16, 90).is_err());
    assert_eq!(FixedPoint::default(), FixedPoint::new::<F>(16, 61).unwrap());
    assert_eq!(FixedPoint::default().kappa(), 64);
    // Wider integers only with narrower (stated) masks, never below 40 bits.
    assert_eq!(FixedPoint::with_widest_masks::<F>(20, 80).unwrap().kappa(), 45);
    assert!(FixedPoint::with_widest_masks::<F>(20, 86).is_err());
    // The default's range: |x| < 2^44.
    assert!(fx.encode::<F>(17_592_186_044_415.0).is_ok());
    assert!(fx.encode::<F>(-17_592_186_044_416.0).is_err());
}

/// Records what this party sends and receives, so a test can rebuild the values it opened.
struct Tap<'a> {
    inner: &'a mut dyn Channel,
    sent: Vec<Vec<u8>>,
    received: Vec<Vec<u8>>,
}

impl Channel for Tap<'_> {
    fn party(&self) -> PartyId {
        self.inner.party()
    }
    fn num_parties(&self) -> usize {
        self.inner.num_parties()
    }
    fn send(&mut self, to: PartyId, payload: &[u8]) -> tessera_mpc::Result<()> {
        self.sent.push(payload.to_vec());
        self.inner.send(to, payload)
    }
    fn recv(&mut self, from: PartyId) -> tessera_mpc::Result<Vec<u8>> {
        let msg = self.inner.recv(from)?;
        self.received.push(msg.clone());
        Ok(msg)
    }
    fn stats(&self) -> ChannelStats {
        self.inner.stats()
    }
}

/// The dealer, except that every random bit is 0: masks r = 0, so an opened masked value shows
/// exactly the offset that the protocol added to its input.
struct ZeroBits(InsecureDealer<F>);

impl Preprocessing<F> for ZeroBits {
    fn mac_key_share(&self) -> F {
        self.0.mac_key_share()
    }
    fn online_session(&mut self) -> tessera_mpc::SessionId {
        self.0.online_session()
    }
    fn abort(&mut self) {
        self.0.abort()
    }
    fn triples(&mut self, ch: &mut dyn Channel, n: usize) -> tessera_protocols::Result<Triples<F>> {
        self.0.triples(ch, n)
    }
    fn input_masks(
        &mut self,
        ch: &mut dyn Channel,
        owner: PartyId,
        n: usize,
    ) -> tessera_protocols::Result<InputMasks<F>> {
        self.0.input_masks(ch, owner, n)
    }
    fn bits(&mut self, ch: &mut dyn Channel, n: usize) -> tessera_protocols::Result<Shared<F>> {
        let b = self.0.bits(ch, n)?;
        b.sub(&b) // shares and MACs of 0: valid under any key
    }
}

type ZeroSession<'a> = Session<'a, F, ZeroBits>;

/// Runs `protocol` on the public-constant sharing of `a` with all-zero masks; returns the first
/// value it opened and its output.
fn first_opening(
    a: &[F],
    protocol: impl Fn(&mut ZeroSession<'_>, &Shared<F>) -> tessera_protocols::Result<Shared<F>> + Sync,
) -> (Vec<F>, Vec<F>) {
    let runs = tessera_mpc::harness::run_in_memory(2, |ch| {
        let me = ch.party();
        let mut tap = Tap { inner: ch, sent: vec![], received: vec![] };
        let dealer = InsecureDealer::new(&Seed([7; 16]), me, 2);
        let mut s = Session::new(&mut tap, ZeroBits(dealer));
        let zero = s.random_bits(a.len())?;
        let x = s.add_public(&zero, a)?; // no traffic so far
        let y = protocol(&mut s, &x)?;
        let out = s.output(&y)?;
        drop(s);
        let mine = F::decode_exact(&tap.sent[0], a.len())?;
        let theirs = F::decode_exact(&tap.received[0], a.len())?;
        let opened = mine.iter().zip(&theirs).map(|(m, t)| *m + *t).collect();
        Ok::<_, Error>((opened, out))
    });
    runs[0].output.as_ref().map_err(|e| e.to_string()).unwrap().clone()
}

/// Every masked opening (EQZ, LTZ, TruncPr) adds 2^(k−1) first, so for any |a| < 2^(k−1) the
/// opened a + 2^(k−1) + r lies in [0, 2^(k+κ) + 2^k) and never wraps mod p. With masks forced
/// to 0 the opened value is a + 2^(k−1) itself; the former EQZ opened a + r, which for a < 0
/// and r < |a| (probability |a|/2^(k+κ)) is p − (|a| − r): a sign leak this test catches.
#[test]
fn masked_openings_never_wrap_for_negative_inputs() {
    let fx = FixedPoint::default();
    let half = 1i128 << (fx.k() - 1);
    let raw = [-(half - 1), -half / 3, -65536, -1, 0, 1, 65536, half / 3, half - 1];
    let a: Vec<F> = raw.iter().map(|v| F::from_i128(*v)).collect();
    let bound = (1u128 << (fx.k() + fx.kappa())) + (1u128 << fx.k());
    let in_range = |name: &str, c: &[F]| {
        for (v, c) in raw.iter().zip(c) {
            let c = c.to_u128();
            assert!(c < bound, "{name}({v}) opened {c}, outside [0, 2^(k+κ) + 2^k)");
            assert_eq!(c as i128, v + half, "{name}({v}): the offset is 2^(k−1)");
        }
    };
    let (c, eq) = first_opening(&a, |s, x| fixed::eqz(s, fx, x));
    in_range("eqz", &c);
    let (c, lt) = first_opening(&a, |s, x| fixed::ltz(s, fx, x));
    in_range("ltz", &c);
    let (c, tr) = first_opening(&a, |s, x| fixed::trunc_pr(s, fx, x, fx.f()));
    in_range("trunc_pr", &c);
    for (i, v) in raw.iter().enumerate() {
        assert_eq!(eq[i], F::from_u64(u64::from(*v == 0)), "eqz({v})");
        assert_eq!(lt[i], F::from_u64(u64::from(*v < 0)), "ltz({v})");
        // With r = 0 the rounding is deterministic: ⌊a / 2^f⌋.
        assert_eq!(tr[i].to_i128(), v.div_euclid(1 << fx.f()), "trunc_pr({v})");
    }
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
