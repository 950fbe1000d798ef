//! A cheater that controls its own endpoint, through the public API only: it rushes, reflects,
//! replays and equivocates messages of SPDZ's and MASCOT's coin tosses and openings (with the
//! `test-adversary` channel wrapper of `tessera-mpc`). In every run every honest party must
//! abort, with the error of the defence that stopped the attack; a later call on the same object
//! returns `Aborted`.
//!
//! Where an attack would succeed without the defence, the test says so: a reflected coin toss
//! gives seed s ⊕ s = 0 in two-party SPDZ, so the cheater knows the MAC check's coefficients (and
//! shifts two outputs by errors that cancel in the combination) or the sacrifice's (and passes a
//! bad triple with matched Gilboa corrections). The tests assert the *specific* error, so a
//! defence that only caught the cheater later, or by luck, would fail them.

mod common;

use std::time::Duration;

use common::{F, dealer_session, mine};
use tessera_mpc::channel::adversary::{self, Action, Rule, Tamper};
use tessera_mpc::harness::{PartyRun, run_on};
use tessera_mpc::{Channel, ChannelConfig, PartyId, Prg, Ring, Seed};
use tessera_protocols::Error;
use tessera_protocols::spdz::{Fault, Mascot, MascotConfig, OtExtension, Preprocessing};

const MAC_COINS: &str = "spdz/mac-check/coins";
const MAC_SIGMA: &str = "spdz/mac-check/sigma";
const AUTH_COINS: &str = "mascot/auth-check/coins";
const COMBINE_COINS: &str = "mascot/combine/coins";
const SACRIFICE_COINS: &str = "mascot/sacrifice/coins";

/// Runs `program` on `n` in-memory parties; party `p` sends through an [`Adversary`] with
/// `rules(p)` when that is not empty.
fn run_attacked<T: Send>(
    n: usize,
    rules: impl Fn(PartyId) -> Vec<Rule>,
    program: impl Fn(&mut dyn Channel) -> T + Sync,
) -> Vec<PartyRun<T>> {
    let config = ChannelConfig { recv_timeout: Duration::from_secs(3), ..ChannelConfig::default() };
    let channels = adversary::network(n, config, rules);
    run_on(channels, |ch| program(&mut **ch))
}

/// The cases of every attack: (parties, cheaters, victims the cheaters attack).
fn cases() -> Vec<(usize, Vec<PartyId>)> {
    vec![(2, vec![PartyId(1)]), (3, vec![PartyId(1)]), (3, vec![PartyId(1), PartyId(2)])]
}

/// Rules for `p`: `make()` if `p` cheats, aimed at the honest parties only (colluders talk
/// normally to each other).
fn for_cheaters(
    cheaters: &[PartyId],
    n: usize,
    make: impl Fn() -> Vec<Rule>,
) -> impl Fn(PartyId) -> Vec<Rule> {
    let cheaters = cheaters.to_vec();
    move |p| {
        if !cheaters.contains(&p) {
            return Vec::new();
        }
        let honest = PartyId::all(n).filter(|q| !cheaters.contains(q));
        honest.flat_map(|h| make().into_iter().map(move |r| r.to(h))).collect()
    }
}

/// Every honest party aborts; at least one with the error of the defence that `expected`
/// names, the others with it or with a channel error (an honest party that stopped first
/// disconnects from the ones still sending, which then stop too).
fn assert_honest<T: std::fmt::Debug>(
    runs: &[PartyRun<tessera_protocols::Result<T>>],
    cheaters: &[PartyId],
    what: &str,
    expected: impl Fn(&Error) -> bool,
) {
    let all: Vec<String> = runs.iter().map(|r| format!("{}: {:?}", r.party, r.output)).collect();
    let mut caught = 0;
    for run in runs.iter().filter(|r| !cheaters.contains(&r.party)) {
        match &run.output {
            Err(e) if expected(e) => caught += 1,
            Err(Error::Channel(_)) => {}
            other => panic!("{what}: honest {} got {other:?}; all: {all:?}", run.party),
        }
    }
    assert!(caught > 0, "{what}: no honest party caught the attack; all: {all:?}");
}

/// Coefficients the MAC check would use if its coin were fixed to zero by reflection.
fn zero_coin_coefficients(n: usize) -> Vec<F> {
    F::random_vec(&mut Prg::from_seed(&Seed([0; 16])), n)
}

/// Adds errors e = (r_1, −r_0) to the first two opened shares: Σ r_j·e_j = 0 for the
/// coefficients r of a zero coin, so they would pass a MAC check on that coin.
fn cancelling_errors() -> Action {
    let r = zero_coin_coefficients(2);
    Action::Rewrite {
        rush: false,
        f: Box::new(move |t: &Tamper<'_>| {
            let mut v = F::decode_exact(t.outgoing, 2).expect("two opened values");
            v[0] += r[1];
            v[1] -= r[0];
            F::encode_slice(&v)
        }),
    }
}

/// P0 inputs two values and everyone outputs them: the output opening is the first `spdz/open`
/// and the check of it is the second MAC check (the first checks nothing opened yet).
fn input_and_output(ch: &mut dyn Channel) -> tessera_protocols::Result<Vec<F>> {
    let me = ch.party();
    let mut s = dealer_session(ch, 21);
    let v = [F::from_u64(1000), F::from_u64(2000)];
    let x = s.input(PartyId(0), mine(me, PartyId(0), &v), 2)?;
    let out = s.output(&x);
    // A session that failed stays failed.
    if out.is_err() {
        assert!(matches!(s.output(&x), Err(Error::Aborted)));
    }
    out
}

#[test]
fn reflected_mac_check_coins_with_cancelling_errors_are_refused() {
    for (n, cheaters) in cases() {
        let rules = for_cheaters(&cheaters, n, || {
            vec![
                Rule::on(MAC_COINS, Action::ReflectCoherently).occurrence(1),
                Rule::on("spdz/open", cancelling_errors()).occurrence(0),
            ]
        });
        let runs = run_attacked(n, rules, input_and_output);
        assert_honest(&runs, &cheaters, &format!("n={n} {cheaters:?}"), |e| {
            matches!(e, Error::Reflected(MAC_COINS))
        });
    }
}

#[test]
fn cancelling_errors_without_fixed_coins_fail_the_mac_check() {
    for (n, cheaters) in cases() {
        let rules = for_cheaters(&cheaters, n, || {
            vec![Rule::on("spdz/open", cancelling_errors()).occurrence(0)]
        });
        let runs = run_attacked(n, rules, input_and_output);
        assert_honest(&runs, &cheaters, &format!("n={n} {cheaters:?}"), |e| {
            matches!(e, Error::MacCheck)
        });
    }
}

#[test]
fn reflected_sigma_commitments_are_refused() {
    for (n, cheaters) in cases() {
        let rules = for_cheaters(&cheaters, n, || {
            vec![Rule::on(MAC_SIGMA, Action::ReflectCoherently).occurrence(1)]
        });
        let runs = run_attacked(n, rules, input_and_output);
        assert_honest(&runs, &cheaters, &format!("n={n} {cheaters:?}"), |e| {
            matches!(e, Error::Reflected(MAC_SIGMA))
        });
    }
}

#[test]
fn replayed_coin_toss_messages_are_refused() {
    // The second MAC check's coin messages are the first check's, sent again.
    for (n, cheaters) in cases() {
        let rules = for_cheaters(&cheaters, n, || {
            vec![Rule::on(MAC_COINS, Action::Replay { occurrence: 0 }).occurrence(1)]
        });
        let runs = run_attacked(n, rules, input_and_output);
        assert_honest(&runs, &cheaters, &format!("n={n} {cheaters:?}"), |e| {
            matches!(e, Error::CommitmentMismatch(MAC_COINS))
        });
    }
}

#[test]
fn equivocating_openings_and_inputs_are_caught() {
    // A cheater sends the second honest party other shares than the first.
    let bump = || Action::Rewrite {
        rush: false,
        f: Box::new(|t: &Tamper<'_>| {
            let mut v = t.outgoing.to_vec();
            v[0] ^= 1;
            v
        }),
    };
    let opening = run_attacked(
        3,
        |p| {
            if p == PartyId(1) {
                vec![Rule::on("spdz/open", bump()).occurrence(0).to(PartyId(2))]
            } else {
                Vec::new()
            }
        },
        input_and_output,
    );
    assert_honest(&opening, &[PartyId(1)], "opening", |e| matches!(e, Error::MacCheck));
    // The input owner equivocates on its masked input.
    let input = run_attacked(
        3,
        |p| {
            if p == PartyId(0) {
                vec![Rule::on("spdz/input", bump()).to(PartyId(2))]
            } else {
                Vec::new()
            }
        },
        input_and_output,
    );
    assert_honest(&input, &[PartyId(0)], "input", |e| matches!(e, Error::BroadcastMismatch));
}

/// MASCOT setup and one batch of eight triples; a failed batch is retried once, which must
/// return `Aborted` without touching the network.
fn mascot_batch(
    ch: &mut dyn Channel,
    ot: OtExtension,
    fault: Option<(PartyId, Fault)>,
) -> tessera_protocols::Result<()> {
    let me = ch.party();
    let mut prep = Mascot::<F>::setup(ch, MascotConfig { ot, batch: 8 })?;
    if let Some((cheater, f)) = fault
        && cheater == me
    {
        prep.inject_fault(f);
    }
    let first = prep.triples(ch, 8).map(|_| ());
    if first.is_err() {
        assert!(prep.is_aborted());
        let before = ch.stats();
        assert!(matches!(prep.triples(ch, 8), Err(Error::Aborted)));
        assert!(matches!(prep.input_masks(ch, me, 1), Err(Error::Aborted)));
        assert!(matches!(prep.bits(ch, 1), Err(Error::Aborted)));
        assert_eq!(ch.stats(), before, "a locked MASCOT must not talk");
    }
    first
}

#[test]
fn reflected_mascot_coins_are_refused_at_every_check() {
    for step in [AUTH_COINS, COMBINE_COINS, SACRIFICE_COINS] {
        for (n, cheaters) in cases() {
            let rules = for_cheaters(&cheaters, n, || {
                vec![Rule::on(step, Action::ReflectCoherently).occurrence(0)]
            });
            let runs =
                run_attacked(n, rules, |ch| mascot_batch(ch, OtExtension::SoftSpoken(4), None));
            assert_honest(
                &runs,
                &cheaters,
                &format!("{step} n={n} {cheaters:?}"),
                |e| matches!(e, Error::Reflected(s) if *s == step),
            );
        }
    }
}

#[test]
fn a_bad_triple_with_a_matched_shift_is_caught() {
    for ot in [OtExtension::Kos, OtExtension::SoftSpoken(4)] {
        for (n, cheaters) in cases() {
            let fault = Some((cheaters[0], Fault::MascotMatchedShift));
            // With the sacrifice coin fixed by reflection, the matched shift would pass.
            let rules = for_cheaters(&cheaters, n, || {
                vec![Rule::on(SACRIFICE_COINS, Action::ReflectCoherently).occurrence(0)]
            });
            let runs = run_attacked(n, rules, |ch| mascot_batch(ch, ot, fault));
            assert_honest(&runs, &cheaters, &format!("{ot:?} reflect n={n} {cheaters:?}"), |e| {
                matches!(e, Error::Reflected(SACRIFICE_COINS))
            });
            // With a fair coin they fail the sacrifice.
            let runs = run_attacked(n, |_| Vec::new(), |ch| mascot_batch(ch, ot, fault));
            assert_honest(&runs, &cheaters, &format!("{ot:?} fair n={n} {cheaters:?}"), |e| {
                matches!(e, Error::Sacrifice)
            });
        }
    }
}

#[test]
fn a_gilboa_sender_using_two_different_bs_in_one_triple_is_caught() {
    // The sender multiplies one limb with b + 1: c is no longer a·b for the b that is
    // authenticated, and the sacrifice (which shares b between the two triples) sees it.
    for ot in [OtExtension::Kos, OtExtension::SoftSpoken(4)] {
        for (n, cheaters) in cases() {
            let fault = Some((cheaters[0], Fault::MascotSplitB));
            let runs = run_attacked(n, |_| Vec::new(), |ch| mascot_batch(ch, ot, fault));
            assert_honest(&runs, &cheaters, &format!("{ot:?} n={n} {cheaters:?}"), |e| {
                matches!(e, Error::Sacrifice)
            });
        }
    }
}

#[test]
fn coins_replayed_from_an_earlier_mascot_session_are_refused() {
    // Two MASCOT sessions on one channel; in the second the cheater replays its first
    // session's authentication-check coin messages.
    for (n, cheaters) in cases() {
        let rules = for_cheaters(&cheaters, n, || {
            vec![Rule::on(AUTH_COINS, Action::Replay { occurrence: 0 }).occurrence(1)]
        });
        let runs = run_attacked(n, rules, |ch| {
            // A batch authenticates once: occurrence 0 is the first session's, 1 the second's,
            // whose coin counter is back at the same value, so only the session id differs.
            mascot_batch(ch, OtExtension::SoftSpoken(4), None)?;
            mascot_batch(ch, OtExtension::SoftSpoken(4), None)
        });
        assert_honest(&runs, &cheaters, &format!("n={n} {cheaters:?}"), |e| {
            matches!(e, Error::CommitmentMismatch(AUTH_COINS))
        });
    }
}

#[test]
fn preprocessing_of_a_failed_session_hands_out_nothing_more() {
    // The cheater's cancelling errors fail the MAC check of a MASCOT session; the honest
    // party's MASCOT must then be locked, so the same MAC key never serves a second session.
    let rules = for_cheaters(&[PartyId(1)], 2, || {
        vec![Rule::on("spdz/open", cancelling_errors()).occurrence(0)]
    });
    let runs = run_attacked(2, rules, |ch| {
        let me = ch.party();
        let prep = Mascot::<F>::setup(ch, MascotConfig { batch: 8, ..MascotConfig::default() })?;
        let mut s = tessera_protocols::spdz::Session::new(ch, prep);
        let v = [F::from_u64(5), F::from_u64(6)];
        let x = s.input(PartyId(0), mine(me, PartyId(0), &v), 2)?;
        let out = s.output(&x);
        let prep = s.into_preprocessing();
        assert_eq!(prep.is_aborted(), out.is_err());
        out.map(|_| ())
    });
    assert_honest(&runs, &[PartyId(1)], "locked", |e| matches!(e, Error::MacCheck));
}

#[test]
fn coins_replayed_from_an_earlier_online_session_on_the_same_material_are_refused() {
    // Two online sessions draw from one preprocessing source in turn; in the second, the
    // cheater replays its first check's coin messages, whose instance counter is the same, so
    // only the per-session id tells them apart.
    for (n, cheaters) in cases() {
        let rules = for_cheaters(&cheaters, n, || {
            vec![Rule::on(MAC_COINS, Action::Replay { occurrence: 0 }).occurrence(2)]
        });
        let runs = run_attacked(n, rules, |ch| {
            let me = ch.party();
            let v = [F::from_u64(7), F::from_u64(8)];
            let mut first = dealer_session(ch, 31);
            let x = first.input(PartyId(0), mine(me, PartyId(0), &v), 2)?;
            first.output(&x)?;
            let prep = first.into_preprocessing();
            let mut second = tessera_protocols::spdz::Session::new(ch, prep);
            let y = second.input(PartyId(0), mine(me, PartyId(0), &v), 2)?;
            second.output(&y)
        });
        assert_honest(&runs, &cheaters, &format!("n={n} {cheaters:?}"), |e| {
            matches!(e, Error::CommitmentMismatch(MAC_COINS))
        });
    }
}
