//! Attacks on the VOLE extension by either party, each of which must end in a typed error on
//! the honest side (never a wrong output, a panic or a hang), after which both objects refuse
//! every call ([`Error::Aborted`]).

use tessera_mpc::channel::adversary::{Action, Rule, network};
use tessera_mpc::harness::run_on;
use tessera_mpc::{Channel, ChannelConfig, Fp127, PartyId, Prg, Ring, SessionId};

use super::spvole::Cheat;
use super::*;

fn sid() -> SessionId {
    SessionId::from_bytes([9; 32])
}

/// Level 0 of the test parameters: t = 32 trees of depth 4.
const T0: usize = 32;
const H0: usize = 4;

/// What each party saw: setup, then `random(1000)`, `chosen(50)`, `random(10)`.
struct Outcome {
    sender: Vec<Result<(), Error>>,
    receiver: Vec<Result<(), Error>>,
}

/// Runs the scenario with `rules(p)` on party `p`'s channel (0 = sender, 1 = Δ holder), the
/// Δ holder deviating by `cheat`, and the given session ids.
fn scenario(
    rules: impl Fn(PartyId) -> Vec<Rule>,
    cheat: Cheat<Fp127>,
    delta: Fp127,
    sids: [SessionId; 2],
) -> Outcome {
    let channels = network(2, ChannelConfig::default(), rules);
    let runs = run_on(channels, |ch: &mut Box<dyn Channel>| {
        let ch = ch.as_mut();
        let mut prg = Prg::from_entropy();
        let params = VoleParams::insecure_for_tests();
        let mut out = Vec::new();
        if ch.party() == PartyId(0) {
            let mut s =
                match Sender::<Fp127>::setup_with(ch, PartyId(1), &sids[0], &mut prg, params) {
                    Ok(s) => s,
                    Err(e) => return vec![Err(e)],
                };
            out.push(Ok(()));
            out.push(s.random(ch, 1000).map(drop));
            out.push(s.chosen(ch, &[Fp127::from_u64(3); 50]).map(drop));
            out.push(s.random(ch, 10).map(drop));
        } else {
            let mut r =
                match Receiver::setup_with(ch, PartyId(0), delta, &sids[1], &mut prg, params) {
                    Ok(r) => r,
                    Err(e) => return vec![Err(e)],
                };
            r.cheat = cheat;
            out.push(Ok(()));
            out.push(r.random(ch, 1000).map(drop));
            out.push(r.chosen(ch, 50).map(drop));
            out.push(r.random(ch, 10).map(drop));
        }
        out
    });
    let mut it = runs.into_iter().map(|r| r.output);
    let sender = it.next().unwrap_or_default();
    let receiver = it.next().unwrap_or_default();
    Outcome { sender, receiver }
}

fn rewrite(
    step: &'static str,
    occurrence: usize,
    message: usize,
    f: impl FnMut(&mut Vec<u8>) + Send + 'static,
) -> Rule {
    let mut f = f;
    Rule::on(
        step,
        Action::Rewrite {
            rush: false,
            f: Box::new(move |t| {
                let mut m = t.outgoing.to_vec();
                f(&mut m);
                m
            }),
        },
    )
    .occurrence(occurrence)
    .message(message)
}

fn on(p: PartyId, who: usize, rule: impl Fn() -> Rule) -> Vec<Rule> {
    if p == PartyId(who as _) { vec![rule()] } else { Vec::new() }
}

fn delta() -> Fp127 {
    Fp127::new(0xA5A5_5A5A_0123_4567_89AB_CDEF_1357_9BDF)
}

/// Setup succeeded, call 1 failed as `first` says on the side(s) `check` names, and every
/// later call is refused.
fn assert_caught(side: &[Result<(), Error>], first: impl Fn(&Error) -> bool, who: &str) {
    assert!(matches!(side.first(), Some(Ok(()))), "{who}: setup {:?}", side.first());
    match side.get(1) {
        Some(Err(e)) if first(e) => {}
        other => panic!("{who}: first call {other:?}"),
    }
    for r in &side[2..] {
        assert!(matches!(r, Err(Error::Aborted)), "{who}: later call {r:?}");
    }
}

fn is_check(e: &Error) -> bool {
    matches!(e, Error::VoleCheck(_))
}

fn is_check_or_gone(e: &Error) -> bool {
    matches!(e, Error::VoleCheck(_) | Error::Channel(_))
}

#[test]
fn honest_run_passes_the_scenario() {
    let o = scenario(|_| Vec::new(), Cheat::default(), delta(), [sid(), sid()]);
    assert!(
        o.sender.iter().chain(&o.receiver).all(Result::is_ok),
        "{:?} {:?}",
        o.sender,
        o.receiver
    );
    assert_eq!(o.sender.len(), 4);
}

#[test]
fn malformed_ggm_tree_is_caught_and_locks_both() {
    // Both level sums of level 1 of tree 0: the sender's tree is wrong whatever its α.
    let rules = |p| {
        on(p, 1, || {
            rewrite(GGM_STEP, 0, 0, |m| {
                m[0] ^= 1;
                m[16] ^= 1;
            })
        })
    };
    let o = scenario(rules, Cheat::default(), delta(), [sid(), sid()]);
    assert_caught(&o.sender, is_check, "sender");
    assert_caught(&o.receiver, is_check, "receiver");
    // A Δ holder that lies about the check (opens V_B anyway) is caught by the sender itself.
    let lying = Cheat { open_anyway: true, ..Cheat::default() };
    let o = scenario(rules, lying, delta(), [sid(), sid()]);
    assert_caught(&o.sender, is_check, "sender");
}

#[test]
fn wrong_correction_d_is_caught() {
    let rules = |p| on(p, 1, || rewrite(GGM_STEP, 1, 0, |m| m[32 * 64 * 5] ^= 2));
    // Occurrence 1: level 1 (t = 64, h = 5), d_0 right after the level sums.
    let o =
        scenario(rules, Cheat { open_anyway: true, ..Cheat::default() }, delta(), [sid(), sid()]);
    assert_caught(&o.sender, is_check, "sender");
    let rules = |p| on(p, 1, || rewrite(GGM_STEP, 0, 0, |m| m[32 * T0 * H0] ^= 2));
    let o = scenario(rules, Cheat::default(), delta(), [sid(), sid()]);
    assert_caught(&o.sender, is_check, "sender");
    assert_caught(&o.receiver, is_check, "receiver");
}

#[test]
fn wrong_check_values_from_the_sender_are_caught() {
    // x' (after the 16-byte seed), then V_A.
    for (message, at) in [(0usize, 16usize), (1, 0)] {
        let rules = move |p| on(p, 0, move || rewrite(CHECK_STEP, 0, message, move |m| m[at] ^= 2));
        let o = scenario(rules, Cheat::default(), delta(), [sid(), sid()]);
        assert_caught(&o.receiver, is_check, "receiver");
        assert_caught(&o.sender, is_check, "sender");
    }
}

#[test]
fn a_delta_holder_with_two_deltas_is_caught() {
    // Δ in the base VOLEs (COPEe), Δ' = Δ + 1 in the single-point steps.
    let two = Cheat { delta: Some(delta() + Fp127::ONE), open_anyway: false };
    let o = scenario(|_| Vec::new(), two, delta(), [sid(), sid()]);
    assert_caught(&o.receiver, is_check, "receiver");
    assert_caught(&o.sender, is_check, "sender");
    // Even if it then claims the check passed, the sender sees V_A ≠ V_B.
    let lying = Cheat { open_anyway: true, ..two };
    let o = scenario(|_| Vec::new(), lying, delta(), [sid(), sid()]);
    assert_caught(&o.sender, is_check, "sender");
}

/// A sender that uses a different input in bit position `j` of COPEe: caught exactly when
/// Δ_j = 1. The selective failure the module doc accounts for (one Δ bit per try, and a try
/// ends the session).
#[test]
fn inconsistent_cope_inputs_are_a_selective_failure_on_one_delta_bit() {
    let d = delta().to_u128();
    for j in [0usize, 1, 2, 3, 5, 8] {
        let rules = move |p| on(p, 0, move || rewrite(COPE_STEP, 0, j, |m| m[0] ^= 2));
        let o = scenario(rules, Cheat::default(), delta(), [sid(), sid()]);
        if (d >> j) & 1 == 1 {
            assert!(matches!(o.receiver[..], [Err(Error::VoleCheck(_))]), "j={j} {:?}", o.receiver);
            // The sender does not wait for a verdict at setup: its next call finds the Δ
            // holder gone.
            assert_caught(&o.sender, |e| matches!(e, Error::Channel(_)), "sender");
        } else {
            // The Δ holder's keys are unchanged, so everything runs: the guess "Δ_j = 0" held.
            assert!(o.receiver.iter().all(Result::is_ok), "j={j} {:?}", o.receiver);
        }
    }
}

#[test]
fn wrong_base_check_reply_is_caught_at_setup() {
    let rules = |p| on(p, 0, || rewrite(BASE_CHECK_STEP, 0, 0, |m| m[16] ^= 2));
    let o = scenario(rules, Cheat::default(), delta(), [sid(), sid()]);
    assert!(matches!(o.receiver[..], [Err(Error::VoleCheck(_))]), "{:?}", o.receiver);
    assert!(o.sender.iter().any(Result::is_err), "{:?}", o.sender);
}

#[test]
fn truncated_oversized_and_non_canonical_frames_are_typed_errors() {
    let bad_len = |e: &Error| matches!(e, Error::BadMessage { .. });
    // GGM frame one byte short / one byte long: the sender rejects it.
    for grow in [false, true] {
        let rules = move |p| {
            on(p, 1, move || {
                rewrite(
                    GGM_STEP,
                    0,
                    0,
                    move |m| if grow { m.push(0) } else { m.truncate(m.len() - 1) },
                )
            })
        };
        let o = scenario(rules, Cheat::default(), delta(), [sid(), sid()]);
        assert_caught(&o.sender, bad_len, "sender");
        assert_caught(&o.receiver, is_check_or_gone, "receiver");
    }
    // Chosen-input corrections: short, long, and a non-canonical element (≥ p).
    let cases: [fn(&mut Vec<u8>); 3] =
        [|m| m.truncate(m.len() - 16), |m| m.extend([0; 16]), |m| m[..16].fill(0xFF)];
    for (i, f) in cases.into_iter().enumerate() {
        let rules = move |p| on(p, 0, move || rewrite(CHOSEN_STEP, 0, 0, f));
        let o = scenario(rules, Cheat::default(), delta(), [sid(), sid()]);
        assert!(matches!(o.receiver[..2], [Ok(()), Ok(())]), "{:?}", o.receiver);
        let ok = match &o.receiver[2] {
            Err(Error::BadMessage { .. }) => i < 2,
            Err(Error::Channel(tessera_mpc::Error::NonCanonical { .. })) => i == 2,
            _ => false,
        };
        assert!(ok, "case {i}: {:?}", o.receiver[2]);
        assert!(matches!(o.receiver[3], Err(Error::Aborted)));
    }
    // A truncated COPEe frame fails the Δ holder's setup.
    let rules = |p| on(p, 0, || rewrite(COPE_STEP, 0, 3, |m| m.truncate(5)));
    let o = scenario(rules, Cheat::default(), delta(), [sid(), sid()]);
    assert!(matches!(o.receiver[..], [Err(Error::BadMessage { .. })]), "{:?}", o.receiver);
}

#[test]
fn mismatched_session_ids_fail_on_both_sides() {
    let other = SessionId::from_bytes([10; 32]);
    let o = scenario(|_| Vec::new(), Cheat::default(), delta(), [sid(), other]);
    assert!(o.sender.iter().any(Result::is_err), "{:?}", o.sender);
    assert!(o.receiver.iter().any(Result::is_err), "{:?}", o.receiver);
}

#[test]
fn debug_output_hides_secrets() {
    let o = crate::vole::tests::pair_debug(delta());
    let d = delta().to_u128().to_string();
    assert!(!o.iter().any(|s| s.contains(&d)));
    assert!(o.iter().all(|s| s.contains("vole::")));
}
