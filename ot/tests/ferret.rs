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

/// The sender's (Δ, all q).
type SenderOut = (u128, Vec<u128>);
/// The receiver's (all b, all t).
type ReceiverOut = (Vec<bool>, Vec<u128>);
/// A frame rewrite used by an attack.
type Rewrite = fn(&[u8]) -> Vec<u8>;

/// Runs `calls` matching `random_cot` calls; returns (Δ, all q) and (all b, all t).
fn run(calls: &[usize], params: FerretParams) -> (SenderOut, ReceiverOut) {
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

#[test]
fn small_standard_shaped_set_runs_one_round() {
    // One round of the SMALL set's shape is too slow for a debug test; a mid-sized insecure set
    // with bootstrap = None checks the path where SoftSpokenOT feeds the main round directly.
    let params = FerretParams {
        bootstrap: None,
        main: ferret::LpnParams { n: 8192, k: 700, t: 64 },
        base_k: 8,
    };
    let ((delta, q), (b, t)) = run(&[9000], params);
    assert_correlated(delta, &q, &b, &t);
}

type Outcomes = (Vec<Result<(), Error>>, Vec<Result<(), Error>>);

/// The sender runs `sender_calls` calls of `n` COTs through an adversary with `s_rules`, the
/// receiver `receiver_calls` calls through one with `r_rules`; returns every call's outcome.
fn attacked(
    s_rules: impl Fn() -> Vec<Rule> + Sync,
    r_rules: impl Fn() -> Vec<Rule> + Sync,
    sender_calls: usize,
    receiver_calls: usize,
    n: usize,
) -> Outcomes {
    let runs = run_in_memory(2, |ch: &mut dyn Channel| -> Result<Vec<Result<(), Error>>, Error> {
        let mut prg = Prg::from_entropy();
        let mut out = Vec::new();
        if ch.party() == PartyId(0) {
            let mut adv = Adversary::new(ch, s_rules());
            let mut s =
                ferret::Sender::setup_with(&mut adv, PartyId(1), &session(3), TEST, &mut prg)?;
            for _ in 0..sender_calls {
                out.push(s.random_cot(&mut adv, n).map(drop));
            }
        } else {
            let mut adv = Adversary::new(ch, r_rules());
            let mut r =
                ferret::Receiver::setup_with(&mut adv, PartyId(0), &session(3), TEST, &mut prg)?;
            for _ in 0..receiver_calls {
                out.push(r.random_cot(&mut adv, n).map(drop));
            }
        }
        Ok(out)
    });
    let mut it = runs.into_iter().map(|r| r.output.expect("setup"));
    (it.next().unwrap(), it.next().unwrap())
}

fn rewrite(
    step: &'static str,
    occurrence: usize,
    f: impl Fn(&[u8]) -> Vec<u8> + Send + 'static,
) -> Vec<Rule> {
    let rule = Rule::on(step, Action::Rewrite { rush: false, f: Box::new(move |t| f(t.outgoing)) });
    vec![rule.occurrence(occurrence).message(0)]
}

/// A sender attack on its message of `step` in round `occurrence`: the receiver must fail its
/// first call with `want` and refuse the next one.
fn sender_attack(
    step: &'static str,
    occurrence: usize,
    f: impl Fn(&[u8]) -> Vec<u8> + Send + Sync + Clone + 'static,
    want: fn(&Error) -> bool,
) {
    // 1 COT per call on the first round; the main round comes with the 2nd call of 1184.
    let n = if occurrence == 0 { 10 } else { 1184 };
    let calls = occurrence + 1;
    let (_, r) = attacked(|| rewrite(step, occurrence, f.clone()), Vec::new, calls, calls + 1, n);
    for (i, res) in r.iter().enumerate().take(occurrence) {
        assert!(res.is_ok(), "call {i} before the attack: {res:?}");
    }
    let caught = &r[occurrence];
    assert!(matches!(caught, Err(e) if want(e)), "{step}/{occurrence}: {caught:?}");
    assert!(matches!(r[occurrence + 1], Err(Error::Aborted)), "{:?}", r[occurrence + 1]);
}

fn is_check(e: &Error) -> bool {
    matches!(e, Error::SpcotCheck)
}

fn is_bad_message(e: &Error) -> bool {
    matches!(e, Error::BadMessage { .. })
}

/// Wrong level sums in one tree (both masked sums of level 2 of tree 3, so whichever the
/// receiver unmasks is wrong): the rebuilt subtree is off and the check catches it, in the
/// bootstrap round and in a main round.
#[test]
fn a_malformed_ggm_tree_is_caught() {
    let h = 7;
    let at = 3 * 16 * (2 * h + 1) + 16 * 2; // tree 3, level 2 (0-based pair 1)
    let corrupt = move |m: &[u8]| {
        let mut m = m.to_vec();
        m[at] ^= 1;
        m[at + 16] ^= 1;
        m
    };
    sender_attack(GGM_STEP, 0, corrupt, is_check);
    sender_attack(GGM_STEP, 1, corrupt, is_check);
}

/// A wrong final correction `c` of one tree (the punctured leaf off by a constant).
#[test]
fn a_wrong_tree_correction_is_caught() {
    let h = 7;
    let at = 5 * 16 * (2 * h + 1) + 16 * 2 * h; // tree 5's c
    sender_attack(
        GGM_STEP,
        0,
        move |m| {
            let mut m = m.to_vec();
            m[at + 4] ^= 0x10;
            m
        },
        is_check,
    );
}

/// A wrong SPCOT consistency digest.
#[test]
fn a_wrong_check_digest_is_caught() {
    let flip = |m: &[u8]| {
        let mut m = m.to_vec();
        m[7] ^= 0x80;
        m
    };
    sender_attack(CHECK_STEP, 0, flip, is_check);
    sender_attack(CHECK_STEP, 1, flip, is_check);
}

/// Truncated and oversized frames are typed errors (no panic, no hang) and lock the receiver.
#[test]
fn truncated_and_oversized_sender_frames_are_refused() {
    let cut = |m: &[u8]| m[..m.len() - 1].to_vec();
    let long = |m: &[u8]| [m, &[0u8; 17]].concat();
    let empty = |_: &[u8]| Vec::new();
    sender_attack(GGM_STEP, 0, cut, is_bad_message);
    sender_attack(GGM_STEP, 0, long, is_bad_message);
    sender_attack(GGM_STEP, 1, empty, is_bad_message);
    sender_attack(CHECK_STEP, 0, cut, is_bad_message);
    sender_attack(CHECK_STEP, 0, long, is_bad_message);
}

/// A receiver whose check message (key seed, x*) is truncated or oversized: the sender refuses
/// it with a typed error and is locked.
#[test]
fn malformed_receiver_check_frames_lock_the_sender() {
    let cut = |m: &[u8]| m[..16].to_vec();
    let long = |m: &[u8]| [m, m].concat();
    let attacks: [Rewrite; 2] = [cut, long];
    for f in attacks {
        let (s, _) = attacked(Vec::new, move || rewrite(CHECK_STEP, 0, f), 2, 1, 10);
        assert!(matches!(s[0], Err(Error::BadMessage { .. })), "{:?}", s[0]);
        assert!(matches!(s[1], Err(Error::Aborted)), "{:?}", s[1]);
    }
}

/// A receiver that lies in its check message gains nothing and is not "caught" by the sender
/// (the sender checks nothing): it only fails its own check — the digest it receives is a hash
/// of a value offset by x*'s error times Δ.
#[test]
fn a_receiver_lying_in_x_star_only_fails_itself() {
    let lie = |m: &[u8]| {
        let mut m = m.to_vec();
        m[20] ^= 1; // x*
        m
    };
    let (s, r) = attacked(Vec::new, move || rewrite(CHECK_STEP, 0, lie), 1, 1, 10);
    assert!(s[0].is_ok(), "{:?}", s[0]);
    assert!(matches!(r[0], Err(Error::SpcotCheck)), "{:?}", r[0]);
}

/// Two parties with different session ids get no COTs: some step fails on at least one side,
/// with an error, not a hang, and never with wrong-but-accepted outputs on both.
#[test]
fn mismatched_sessions_fail() {
    let runs = run_in_memory(2, |ch: &mut dyn Channel| -> Result<(), Error> {
        let mut prg = Prg::from_entropy();
        if ch.party() == PartyId(0) {
            let mut s = ferret::Sender::setup_with(ch, PartyId(1), &session(4), TEST, &mut prg)?;
            s.random_cot(ch, 100).map(drop)
        } else {
            let mut r = ferret::Receiver::setup_with(ch, PartyId(0), &session(5), TEST, &mut prg)?;
            r.random_cot(ch, 100).map(drop)
        }
    });
    let errors: Vec<_> = runs.iter().filter_map(|r| r.output.as_ref().err()).collect();
    assert!(!errors.is_empty(), "both parties accepted mismatched sessions");
}

#[test]
fn debug_output_hides_secrets() {
    let runs = run_in_memory(2, |ch: &mut dyn Channel| -> Result<String, Error> {
        let mut prg = Prg::from_entropy();
        if ch.party() == PartyId(0) {
            let s = ferret::Sender::setup_with(ch, PartyId(1), &session(6), TEST, &mut prg)?;
            Ok(format!("{s:?}|{:x}", s.delta()))
        } else {
            let r = ferret::Receiver::setup_with(ch, PartyId(0), &session(6), TEST, &mut prg)?;
            Ok(format!("{r:?}"))
        }
    });
    let s = runs[0].output.as_ref().unwrap();
    let (debug, delta) = s.split_once('|').unwrap();
    assert!(debug.contains("ferret::Sender") && !debug.contains(delta), "{debug}");
    assert!(runs[1].output.as_ref().unwrap().contains("ferret::Receiver"));
}

#[test]
fn invalid_parameters_are_refused_before_any_traffic() {
    let bad = FerretParams { base_k: 3, ..TEST };
    let runs = run_in_memory(2, |ch: &mut dyn Channel| {
        let mut prg = Prg::from_entropy();
        let r = if ch.party() == PartyId(0) {
            ferret::Sender::setup_with(ch, PartyId(1), &session(7), bad, &mut prg).map(drop)
        } else {
            ferret::Receiver::setup_with(ch, PartyId(0), &session(7), bad, &mut prg).map(drop)
        };
        (r, ch.stats().bytes_sent)
    });
    for r in runs {
        assert!(matches!(r.output.0, Err(Error::Misuse(_))));
        assert_eq!(r.output.1, 0);
    }
}

#[test]
fn packed_bits_match_the_correlation() {
    let runs = run_in_memory(2, |ch: &mut dyn Channel| -> Result<_, Error> {
        let mut prg = Prg::from_entropy();
        if ch.party() == PartyId(0) {
            let mut s = ferret::Sender::setup_with(ch, PartyId(1), &session(8), TEST, &mut prg)?;
            Ok((s.random_cot(ch, 1500)?, Vec::new(), s.delta()))
        } else {
            let mut r = ferret::Receiver::setup_with(ch, PartyId(0), &session(8), TEST, &mut prg)?;
            let (packed, t) = r.random_cot_packed(ch, 1500)?;
            assert_eq!(packed.len(), 188);
            Ok((t, packed, 0))
        }
    });
    let (q, _, delta) = runs[0].output.as_ref().unwrap();
    let (t, packed, _) = runs[1].output.as_ref().unwrap();
    let bits: Vec<bool> = (0..1500).map(|i| (packed[i / 8] >> (i % 8)) & 1 == 1).collect();
    assert_correlated(*delta, q, &bits, t);
}
