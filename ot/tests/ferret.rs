//! Ferret COT: correlations across rounds (bootstrapping), session binding, and a malicious
//! sender (malformed GGM trees, a wrong check digest, truncated and oversized frames) caught by
//! the receiver with a typed error, which then refuses every later call.

use tessera_mpc::channel::adversary::{Action, Adversary, Rule};
use tessera_mpc::harness::run_in_memory;
use tessera_mpc::{Channel, PartyId, Prg, SessionId};
use tessera_ot::Error;
use tessera_ot::ferret::{self, CHECK_STEP, FerretParams, GGM_STEP};

const TEST: FerretParams = FerretParams::insecure_test_only();

fn session(b: u8) -> SessionId {
    SessionId::from_bytes([b; 32])
}

/// Runs `calls` matching `random_cot` calls; returns (Δ, all q) and (all b, all t).
fn run(calls: &[usize], params: FerretParams) -> ((u128, Vec<u128>), (Vec<bool>, Vec<u128>)) {
    let runs = run_in_memory(2, |ch: &mut dyn Channel| -> Result<_, Error> {
        let mut prg = Prg::from_entropy();
        if ch.party() == PartyId(0) {
            let mut s = ferret::Sender::setup_with(ch, PartyId(1), &session(1), params, &mut prg)?;
            let mut q = Vec::new();
            for &n in calls {
                let got = s.random_cot(ch, n)?;
                assert_eq!(got.len(), n);
                q.extend(got);
            }
            Ok(((s.delta(), q), (Vec::new(), Vec::new())))
        } else {
            let mut r =
                ferret::Receiver::setup_with(ch, PartyId(0), &session(1), params, &mut prg)?;
            let (mut b, mut t) = (Vec::new(), Vec::new());
            for &n in calls {
                let (bits, ts) = r.random_cot(ch, n)?;
                assert_eq!((bits.len(), ts.len()), (n, n));
                b.extend(bits);
                t.extend(ts);
            }
            Ok(((0, Vec::new()), (b, t)))
        }
    });
    let mut it = runs.into_iter().map(|r| r.output.expect("party"));
    let (s, _) = it.next().unwrap();
    let (_, r) = it.next().unwrap();
    (s, r)
}

fn assert_correlated(delta: u128, q: &[u128], b: &[bool], t: &[u128]) {
    assert_eq!(q.len(), t.len());
    for (i, ((q, b), t)) in q.iter().zip(b).zip(t).enumerate() {
        assert_eq!(*t, q ^ if *b { delta } else { 0 }, "COT {i}");
    }
}

#[test]
fn correlations_hold_across_rounds() {
    // Bootstrap round: 2048 − 864 = 1184 usable; main rounds: 4096 − 864 = 3232 each. These
    // calls cross four round boundaries, one of them inside a call.
    let calls = [1, 1000, 183, 1, 3232, 5000, 7];
    let ((delta, q), (b, t)) = run(&calls, TEST);
    assert_correlated(delta, &q, &b, &t);
    // Not degenerate: the bits are balanced, the q distinct.
    let ones = b.iter().filter(|&&x| x).count();
    assert!(ones > q.len() / 3 && ones < 2 * q.len() / 3, "{ones} of {}", q.len());
    let distinct: std::collections::HashSet<_> = q.iter().collect();
    assert_eq!(distinct.len(), q.len());
}
