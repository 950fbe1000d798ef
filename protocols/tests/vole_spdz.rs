//! VoleSpdz preprocessing: correct material for 2 and 3 parties, the online phase runs on it,
//! and cheating in it is caught (faults injected in the protocol, and a cheater that rewrites,
//! reflects, replays or truncates its messages through the adversarial channel).

mod common;

use std::time::Duration;

use common::{F, mine, vole_session, vole_session_on};
use proptest::prelude::*;
use tessera_mpc::channel::adversary::{self, Action, Rule, Tamper};
use tessera_mpc::harness::{PartyRun, run_in_memory, run_on};
use tessera_mpc::{Channel, ChannelConfig, Field, PartyId, Prg, Ring, Seed};
use tessera_protocols::Error;
use tessera_protocols::spdz::vole::{
    AUTH_CHECK_COINS, COMBINE_COINS, GILBOA_STEP, SACRIFICE_COINS,
};
use tessera_protocols::spdz::{
    Fault, Preprocessing, Session, VoleBackend, VoleSpdz, VoleSpdzConfig,
};

fn config(batch: usize) -> VoleSpdzConfig {
    VoleSpdzConfig { batch, backend: VoleBackend::InsecureToyParams }
}

#[test]
fn vole_spdz_triples_bits_and_masks_serve_an_online_session() {
    for (n, backend) in [
        (2, VoleBackend::InsecureToyParams),
        (3, VoleBackend::InsecureToyParams),
        (2, VoleBackend::StandIn),
        (3, VoleBackend::StandIn),
    ] {
        let runs = run_in_memory(n, |ch| {
            let me = ch.party();
            let mut s = vole_session_on(ch, 40, backend)?;
            let v: Vec<F> = (0..50).map(|i| F::from_u64(i * 7 + 1)).collect();
            let last = PartyId((n - 1) as u16);
            let x = s.input(PartyId(0), mine(me, PartyId(0), &v), 50)?;
            let y = s.input(last, mine(me, last, &v), 50)?;
            let z = s.mul(&x, &y)?;
            let bits = s.random_bits(64)?;
            Ok::<_, Error>((s.output(&z)?, s.output(&bits)?))
        });
        for run in &runs {
            let (z, bits) = run.output.as_ref().unwrap();
            let expect: Vec<F> = (0..50).map(|i| F::from_u64((i * 7 + 1) * (i * 7 + 1))).collect();
            assert_eq!(z, &expect, "n={n}");
            assert!(bits.iter().all(|b| *b == F::ZERO || *b == F::ONE), "n={n}");
            let ones = bits.iter().filter(|b| **b == F::ONE).count();
            assert!((10..=54).contains(&ones), "n={n}: {ones} ones in 64 random bits");
        }
    }
}

/// Opens `count` triples through a session (each opening is MAC-checked) and returns a, b, c.
fn open_triples(n: usize, batch: usize, count: usize) -> Vec<(Vec<F>, Vec<F>, Vec<F>)> {
    run_in_memory(n, |ch| {
        let mut prep = VoleSpdz::<F>::setup(ch, config(batch))?;
        let (ta, tb, tc) = prep.triples(ch, count)?.into_shares();
        let mut s = Session::new(ch, prep);
        Ok::<_, Error>((s.output(&ta)?, s.output(&tb)?, s.output(&tc)?))
    })
    .into_iter()
    .map(|r| r.output.unwrap())
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    #[test]
    fn triples_satisfy_c_equals_ab_under_valid_macs(
        n in 2usize..=3,
        batch in 1usize..24,
        count in 1usize..40,
    ) {
        let runs = open_triples(n, batch, count);
        let (a, b, c) = &runs[0];
        prop_assert_eq!(a.len(), count);
        for i in 0..count {
            prop_assert_eq!(a[i] * b[i], c[i]);
        }
        // Fresh, distinct factors (a repeat among random field elements would mean a bug).
        let mut sorted: Vec<u128> = a.iter().map(|x| x.to_u128()).collect();
        sorted.sort_unstable();
        sorted.dedup();
        prop_assert_eq!(sorted.len(), count);
        for other in &runs[1..] {
            prop_assert_eq!(other, &runs[0]);
        }
    }
}

#[test]
fn the_silent_backend_with_128_bit_parameters_makes_correct_triples() {
    let runs = run_in_memory(2, |ch| {
        let mut prep = VoleSpdz::<F>::setup(
            ch,
            VoleSpdzConfig { batch: 64, backend: VoleBackend::SilentSmall },
        )?;
        let (ta, tb, tc) = prep.triples(ch, 64)?.into_shares();
        let mut s = Session::new(ch, prep);
        Ok::<_, Error>((s.output(&ta)?, s.output(&tb)?, s.output(&tc)?))
    });
    let (a, b, c) = runs[0].output.as_ref().unwrap();
    for i in 0..64 {
        assert_eq!(a[i] * b[i], c[i]);
    }
}

#[test]
fn input_masks_are_known_to_their_owner_only_and_correct() {
    let runs = run_in_memory(3, |ch| {
        let me = ch.party();
        let mut prep = VoleSpdz::<F>::setup(ch, config(16))?;
        let masks = prep.input_masks(ch, PartyId(1), 20)?;
        assert_eq!(masks.clear.is_some(), me == PartyId(1));
        let clear = masks.clear.clone();
        let mut s = Session::new(ch, prep);
        Ok::<_, Error>((s.output(&masks.shares)?, clear))
    });
    let (opened, _) = runs[0].output.as_ref().unwrap();
    let (_, clear) = runs[1].output.as_ref().unwrap();
    assert_eq!(Some(opened), clear.as_ref());
}

fn run_cheater(n: usize, cheater: usize, fault: Fault) -> Vec<tessera_protocols::Result<()>> {
    run_in_memory(n, |ch| {
        let me = ch.party();
        let mut prep = VoleSpdz::<F>::setup(ch, config(8))?;
        if me.index() == cheater {
            prep.inject_fault(fault);
        }
        let r = prep.triples(ch, 8).map(|_| ());
        assert_eq!(prep.is_aborted(), r.is_err());
        r
    })
    .into_iter()
    .map(|r| r.output)
    .collect()
}

#[test]
fn a_wrong_triple_is_caught_by_the_sacrifice() {
    for n in [2, 3] {
        for cheater in 0..n {
            for (p, r) in run_cheater(n, cheater, Fault::VoleSpdzTripleOffset).iter().enumerate() {
                if p != cheater {
                    assert!(matches!(r, Err(Error::Sacrifice)), "n={n} cheater={cheater}: {r:?}");
                }
            }
        }
    }
}

#[test]
fn an_owner_authenticating_another_value_to_one_peer_is_caught() {
    for n in [2, 3] {
        for cheater in 0..n {
            let runs = run_cheater(n, cheater, Fault::VoleSpdzInconsistentAuth);
            for (p, r) in runs.iter().enumerate() {
                if p != cheater {
                    assert!(
                        matches!(r, Err(Error::AuthenticationCheck)),
                        "n={n} cheater={cheater}: {r:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn lying_about_an_input_under_vole_spdz_is_caught() {
    let runs = run_in_memory(3, |ch| {
        let me = ch.party();
        let mut s = vole_session(ch, 8)?;
        if me == PartyId(0) {
            s.inject_fault(Fault::InputEquivocation);
        }
        let v = [F::from_u64(1), F::from_u64(2)];
        let x = s.input(PartyId(0), mine(me, PartyId(0), &v), 2)?;
        s.output(&x)
    });
    assert!(matches!(runs[1].output, Err(Error::BroadcastMismatch)), "{:?}", runs[1].output);
    assert!(matches!(runs[2].output, Err(Error::BroadcastMismatch)), "{:?}", runs[2].output);
}

#[test]
fn tampering_with_online_shares_or_macs_on_vole_spdz_is_caught() {
    for fault in [Fault::OpenShareOffset, Fault::OpenMacOffset, Fault::TripleOffset] {
        for n in [2, 3] {
            let runs = run_in_memory(n, |ch| {
                let me = ch.party();
                let mut s = vole_session(ch, 8)?;
                if me == PartyId(1) {
                    s.inject_fault(fault);
                }
                let v = [F::from_u64(3), F::from_u64(4)];
                let x = s.input(PartyId(0), mine(me, PartyId(0), &v), 2)?;
                let y = s.mul(&x, &x)?;
                let out = s.output(&y);
                let prep = s.into_preprocessing();
                assert_eq!(prep.is_aborted(), out.is_err(), "a failed session locks VoleSpdz");
                out
            });
            for run in runs.iter().filter(|r| r.party != PartyId(1)) {
                assert!(
                    matches!(run.output, Err(Error::MacCheck)),
                    "{fault:?} n={n}: {}: {:?}",
                    run.party,
                    run.output
                );
            }
        }
    }
}

// ---- A cheater at the channel: reflection, replay, rewritten and truncated messages. ----

fn run_attacked<T: Send>(
    n: usize,
    rules: impl Fn(PartyId) -> Vec<Rule>,
    program: impl Fn(&mut dyn Channel) -> T + Sync,
) -> Vec<PartyRun<T>> {
    let config = ChannelConfig { recv_timeout: Duration::from_secs(3), ..ChannelConfig::default() };
    let channels = adversary::network(n, config, rules);
    run_on(channels, |ch| program(&mut **ch))
}

fn cases() -> Vec<(usize, Vec<PartyId>)> {
    vec![(2, vec![PartyId(1)]), (3, vec![PartyId(1)]), (3, vec![PartyId(1), PartyId(2)])]
}

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

/// Every honest party errs; at least one with the defence's error, the others with it or a
/// channel error (a peer that stopped first disconnects).
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
            Err(Error::Channel(_) | Error::Ot(tessera_ot::Error::Channel(_))) => {}
            other => panic!("{what}: honest {} got {other:?}; all: {all:?}", run.party),
        }
    }
    assert!(caught > 0, "{what}: no honest party caught the attack; all: {all:?}");
}

/// Setup and one batch of eight triples; a failed batch locks the object, which must then
/// refuse everything without touching the network.
fn vole_batch(
    ch: &mut dyn Channel,
    fault: Option<(PartyId, Fault)>,
) -> tessera_protocols::Result<()> {
    let me = ch.party();
    let mut prep = VoleSpdz::<F>::setup(ch, config(8))?;
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
        assert_eq!(ch.stats(), before, "a locked VoleSpdz must not talk");
    }
    first
}

#[test]
fn reflected_coins_are_refused_at_every_check() {
    for step in [AUTH_CHECK_COINS, COMBINE_COINS, SACRIFICE_COINS] {
        for (n, cheaters) in cases() {
            let rules = for_cheaters(&cheaters, n, || {
                vec![Rule::on(step, Action::ReflectCoherently).occurrence(0)]
            });
            let runs = run_attacked(n, rules, |ch| vole_batch(ch, None));
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
    for (n, cheaters) in cases() {
        let fault = Some((cheaters[0], Fault::VoleSpdzMatchedShift));
        // With the sacrifice coin fixed by reflection, the matched shift would pass.
        let rules = for_cheaters(&cheaters, n, || {
            vec![Rule::on(SACRIFICE_COINS, Action::ReflectCoherently).occurrence(0)]
        });
        let runs = run_attacked(n, rules, |ch| vole_batch(ch, fault));
        assert_honest(&runs, &cheaters, &format!("reflect n={n} {cheaters:?}"), |e| {
            matches!(e, Error::Reflected(SACRIFICE_COINS))
        });
        // With a fair coin they fail the sacrifice.
        let runs = run_attacked(n, |_| Vec::new(), |ch| vole_batch(ch, fault));
        assert_honest(&runs, &cheaters, &format!("fair n={n} {cheaters:?}"), |e| {
            matches!(e, Error::Sacrifice)
        });
    }
}

#[test]
fn a_gilboa_sender_using_two_different_bs_in_one_triple_is_caught() {
    for (n, cheaters) in cases() {
        let fault = Some((cheaters[0], Fault::VoleSpdzSplitB));
        let runs = run_attacked(n, |_| Vec::new(), |ch| vole_batch(ch, fault));
        assert_honest(&runs, &cheaters, &format!("n={n} {cheaters:?}"), |e| {
            matches!(e, Error::Sacrifice)
        });
    }
}

#[test]
fn coins_replayed_from_an_earlier_vole_spdz_session_are_refused() {
    for (n, cheaters) in cases() {
        let rules = for_cheaters(&cheaters, n, || {
            vec![Rule::on(AUTH_CHECK_COINS, Action::Replay { occurrence: 0 }).occurrence(1)]
        });
        let runs = run_attacked(n, rules, |ch| {
            vole_batch(ch, None)?;
            vole_batch(ch, None)
        });
        assert_honest(&runs, &cheaters, &format!("n={n} {cheaters:?}"), |e| {
            matches!(e, Error::CommitmentMismatch(AUTH_CHECK_COINS))
        });
    }
}

#[test]
fn corrupted_gilboa_corrections_fail_the_sacrifice() {
    // Flip a bit of one correction: the product is off by a bit-dependent error.
    for (n, cheaters) in cases() {
        let rules = for_cheaters(&cheaters, n, || {
            vec![Rule::on(
                GILBOA_STEP,
                Action::Rewrite {
                    rush: false,
                    f: Box::new(|t: &Tamper<'_>| {
                        let mut v = t.outgoing.to_vec();
                        if let Some(x) = v.get_mut(3) {
                            *x ^= 0x10;
                        }
                        v
                    }),
                },
            )]
        });
        // The receiver's bit under the flipped correction is 0 half the time, and then the
        // product is right: run until the attack is caught at least once, and check every run.
        let mut caught = false;
        for _ in 0..40 {
            let runs = run_attacked(n, &rules, |ch| vole_batch(ch, None));
            let honest: Vec<_> = runs.iter().filter(|r| !cheaters.contains(&r.party)).collect();
            if honest.iter().all(|r| r.output.is_ok()) {
                continue; // the flipped correction met a zero bit: nothing changed
            }
            assert_honest(&runs, &cheaters, &format!("n={n} {cheaters:?}"), |e| {
                matches!(e, Error::Sacrifice)
            });
            caught = true;
            break;
        }
        assert!(caught, "n={n}: a flipped correction was never caught in 40 runs");
    }
}

#[test]
fn truncated_and_oversized_gilboa_frames_are_refused() {
    for grow in [false, true] {
        for (n, cheaters) in cases() {
            let rules = for_cheaters(&cheaters, n, || {
                vec![Rule::on(
                    GILBOA_STEP,
                    Action::Rewrite {
                        rush: false,
                        f: Box::new(move |t: &Tamper<'_>| {
                            let mut v = t.outgoing.to_vec();
                            if grow {
                                v.extend_from_slice(&[0; 16]);
                            } else {
                                v.truncate(v.len().saturating_sub(1));
                            }
                            v
                        }),
                    },
                )]
            });
            let runs = run_attacked(n, rules, |ch| vole_batch(ch, None));
            assert_honest(&runs, &cheaters, &format!("grow={grow} n={n} {cheaters:?}"), |e| {
                matches!(e, Error::Channel(_))
            });
        }
    }
}

/// Coefficients a zero coin would give, and errors on two opened shares that cancel under them.
fn cancelling_errors() -> Action {
    let r = F::random_vec(&mut Prg::from_seed(&Seed([0; 16])), 2);
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

#[test]
fn online_cheating_on_vole_spdz_material_is_caught_and_locks_it() {
    for (n, cheaters) in cases() {
        let rules = for_cheaters(&cheaters, n, || {
            vec![Rule::on("spdz/open", cancelling_errors()).occurrence(0)]
        });
        let runs = run_attacked(n, rules, |ch| {
            let me = ch.party();
            let mut s = vole_session(ch, 8)?;
            let v = [F::from_u64(5), F::from_u64(6)];
            let x = s.input(PartyId(0), mine(me, PartyId(0), &v), 2)?;
            let out = s.output(&x);
            let prep = s.into_preprocessing();
            assert_eq!(prep.is_aborted(), out.is_err());
            out.map(|_| ())
        });
        assert_honest(&runs, &cheaters, &format!("n={n} {cheaters:?}"), |e| {
            matches!(e, Error::MacCheck)
        });
    }
}
