//! The TEE-dealer preprocessing: correct material, computing cheaters still caught online,
//! disagreeing requests refused, malformed dealer messages rejected, locking after failure.

use tessera_mpc::{Channel, Fp127, PartyId, Ring, harness::run_in_memory};
use tessera_protocols::spdz::tee_dealer::MAX_BATCH;
use tessera_protocols::spdz::{
    ComputingChannel, Fault, Preprocessing, Session, Shared, TeeDealer, TeeDealerPrep,
};
use tessera_protocols::{Error, Result};

type F = Fp127;

fn mine(me: PartyId, owner: PartyId, v: &[F]) -> Option<&[F]> {
    (me == owner).then_some(v)
}

/// Runs `n` computing parties plus the dealer (last); `program` runs on each computing party's
/// online session. Returns the computing parties' results and the dealer's.
fn run(
    n: usize,
    program: impl Fn(&mut Session<'_, F, TeeDealerPrep<F>>) -> Result<Vec<F>> + Sync,
) -> (Vec<Result<Vec<F>>>, Result<()>) {
    let mut runs: Vec<Result<Vec<F>>> = run_in_memory(n + 1, |ch: &mut dyn Channel| {
        if ch.party().index() == n {
            let mut dealer = TeeDealer::<F>::setup(ch)?;
            dealer.serve(ch)?;
            return Ok(Vec::new());
        }
        let prep = TeeDealerPrep::<F>::setup(ch)?;
        let mut view = ComputingChannel::new(ch);
        let mut s = Session::new(&mut view, prep);
        let out = program(&mut s);
        // Always release the dealer, so a failed computation never leaves it waiting.
        let done = s.into_preprocessing().finish(&mut view);
        let out = out?;
        done?;
        Ok(out)
    })
    .into_iter()
    .map(|r| r.output)
    .collect();
    let dealer = runs.pop().map(|r| r.map(|_| ())).unwrap_or(Ok(()));
    (runs, dealer)
}

fn vals(xs: &[u64]) -> Vec<F> {
    xs.iter().copied().map(F::from_u64).collect()
}

#[test]
fn input_mul_output_match_plaintext() {
    for n in [2, 3] {
        let (results, dealer) = run(n, |s| {
            let me = s.party();
            let inputs: Vec<Vec<F>> =
                (0..n).map(|p| vals(&[p as u64 + 2, 10 * p as u64 + 3, 7])).collect();
            let mut acc = s.input(PartyId(0), mine(me, PartyId(0), &inputs[0]), 3)?;
            for (p, v) in inputs.iter().enumerate().skip(1) {
                let x = s.input(PartyId(p as u16), mine(me, PartyId(p as u16), v), 3)?;
                acc = s.mul(&acc, &x)?;
            }
            let bits = s.random_bits(64)?;
            let bits = s.output(&bits)?;
            if bits.iter().any(|b| *b != F::ZERO && *b != F::ONE) {
                return Err(Error::Misuse("a dealt bit is not a bit".into()));
            }
            s.output(&acc)
        });
        dealer.unwrap();
        let mut expect = vals(&[1, 1, 1]);
        for p in 0..n as u64 {
            for (e, x) in expect.iter_mut().zip(vals(&[p + 2, 10 * p + 3, 7])) {
                *e *= x;
            }
        }
        for r in results {
            assert_eq!(r.unwrap(), expect, "n={n}");
        }
    }
}

#[test]
fn dealt_triples_are_correct_and_differ_across_batches() {
    // More than one batch, to cover the batching; every opened c must equal a·b.
    let count = MAX_BATCH + 5;
    let runs = run_in_memory(3, |ch: &mut dyn Channel| -> Result<Vec<F>> {
        if ch.party().index() == 2 {
            TeeDealer::<F>::setup(ch)?.serve(ch)?;
            return Ok(Vec::new());
        }
        let mut prep = TeeDealerPrep::<F>::setup(ch)?;
        let mut view = ComputingChannel::new(ch);
        let (a, b, c) = prep.triples(&mut view, count)?.into_shares();
        let mut s = Session::new(&mut view, prep);
        let opened = s.output(&Shared::concat(&[&a, &b, &c]))?;
        s.into_preprocessing().finish(&mut view)?;
        Ok(opened)
    });
    let opened = runs[0].output.as_ref().unwrap();
    assert_eq!(opened, runs[1].output.as_ref().unwrap());
    let (a, rest) = opened.split_at(count);
    let (b, c) = rest.split_at(count);
    for i in 0..count {
        assert_eq!(a[i] * b[i], c[i], "triple {i}");
    }
    assert_ne!(a[0], a[MAX_BATCH]);
    assert_ne!(a[0], b[0]);
}

#[test]
fn a_cheating_computing_party_is_caught_by_the_mac_check() {
    for n in [2, 3] {
        for cheater in 0..n {
            for fault in [Fault::OpenShareOffset, Fault::OpenMacOffset, Fault::TripleOffset] {
                let (results, dealer) = run(n, |s| {
                    let me = s.party();
                    if me.index() == cheater {
                        s.inject_fault(fault);
                    }
                    let v = vals(&[1, 2, 3, 4]);
                    let x = s.input(PartyId(0), mine(me, PartyId(0), &v), 4)?;
                    let y = s.input(PartyId(1), mine(me, PartyId(1), &v), 4)?;
                    let z = s.mul(&x, &y)?;
                    s.output(&z)
                });
                dealer.unwrap();
                for (p, r) in results.iter().enumerate() {
                    if p != cheater {
                        assert!(
                            matches!(r, Err(Error::MacCheck)),
                            "n={n} cheater={cheater} {fault:?}: party {p} got {r:?}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn disagreeing_requests_make_the_dealer_refuse_everyone() {
    for n in [2, 3] {
        let runs = run_in_memory(n + 1, |ch: &mut dyn Channel| -> Result<()> {
            let me = ch.party().index();
            if me == n {
                let mut dealer = TeeDealer::<F>::setup(ch)?;
                let first = dealer.serve(ch).map(|_| ());
                assert!(matches!(dealer.serve_one(ch), Err(Error::Aborted)));
                return first;
            }
            let mut prep = TeeDealerPrep::<F>::setup(ch)?;
            let mut view = ComputingChannel::new(ch);
            // The last party is out of step: it asks for one triple more.
            let want = if me == n - 1 { 5 } else { 4 };
            let first = prep.triples(&mut view, want).map(|_| ());
            assert!(prep.is_aborted());
            assert!(matches!(prep.triples(&mut view, 4), Err(Error::Aborted)));
            first
        });
        for r in runs {
            assert!(
                matches!(r.output, Err(Error::DealerRefused)),
                "n={n}: party {} got {:?}",
                r.party,
                r.output
            );
        }
    }
}

#[test]
fn a_request_of_another_kind_is_refused_too() {
    let runs = run_in_memory(3, |ch: &mut dyn Channel| -> Result<()> {
        let me = ch.party().index();
        if me == 2 {
            return TeeDealer::<F>::setup(ch)?.serve(ch).map(|_| ());
        }
        let mut prep = TeeDealerPrep::<F>::setup(ch)?;
        let mut view = ComputingChannel::new(ch);
        if me == 0 {
            prep.bits(&mut view, 4).map(|_| ())
        } else {
            prep.input_masks(&mut view, PartyId(0), 4).map(|_| ())
        }
    });
    for r in runs {
        assert!(matches!(r.output, Err(Error::DealerRefused)), "{:?}", r.output);
    }
}

/// A dealer that answers the first request with `reply` (to every computing party).
fn with_bad_dealer(reply: &[u8]) -> Vec<Result<()>> {
    run_in_memory(3, |ch: &mut dyn Channel| -> Result<()> {
        let me = ch.party().index();
        if me == 2 {
            let _dealer = TeeDealer::<F>::setup(ch)?;
            for p in 0..2 {
                ch.recv(PartyId(p))?;
            }
            for p in 0..2 {
                ch.send(PartyId(p), reply)?;
            }
            return Ok(());
        }
        let mut prep = TeeDealerPrep::<F>::setup(ch)?;
        let mut view = ComputingChannel::new(ch);
        let first = prep.triples(&mut view, 3).map(|_| ());
        assert!(matches!(prep.triples(&mut view, 3), Err(Error::Aborted)));
        first
    })
    .into_iter()
    .take(2)
    .map(|r| r.output)
    .collect()
}

#[test]
fn malformed_dealer_messages_are_typed_errors() {
    // Material tag, seed cut short.
    for r in with_bad_dealer(&[1, 0, 0, 0]) {
        assert!(matches!(r, Err(Error::Channel(tessera_mpc::Error::BadLength { .. }))), "{r:?}");
    }
    // Material with one byte too many (a correction cut or padded is never accepted).
    let long: &'static [u8] = &[1; 18];
    for r in with_bad_dealer(long) {
        assert!(matches!(r, Err(Error::Channel(tessera_mpc::Error::BadLength { .. }))), "{r:?}");
    }
    // Unknown tag, empty reply, a refusal with trailing bytes.
    for bad in [&[7u8, 0][..], &[][..], &[0, 1][..]] {
        for r in with_bad_dealer(bad) {
            assert!(matches!(r, Err(Error::DealerMessage(_))), "{bad:?}: {r:?}");
        }
    }
}

#[test]
fn the_online_phase_must_run_on_the_computing_view() {
    let runs = run_in_memory(3, |ch: &mut dyn Channel| -> Result<()> {
        if ch.party().index() == 2 {
            // Nobody asks; the parties' misuse is local.
            let _ = TeeDealer::<F>::setup(ch)?;
            return Ok(());
        }
        let mut prep = TeeDealerPrep::<F>::setup(ch)?;
        match prep.triples(ch, 1) {
            Err(Error::Misuse(_)) => Ok(()),
            other => panic!("{:?}", other.map(|t| t.len())),
        }
    });
    for r in runs {
        r.output.unwrap();
    }
}

#[test]
fn each_party_gets_different_key_shares_and_only_its_own() {
    let runs = run_in_memory(4, |ch: &mut dyn Channel| -> Result<Option<F>> {
        if ch.party().index() == 3 {
            TeeDealer::<F>::setup(ch)?.serve(ch)?;
            return Ok(None);
        }
        let prep = TeeDealerPrep::<F>::setup(ch)?;
        let alpha = prep.mac_key_share();
        let mut view = ComputingChannel::new(ch);
        prep.finish(&mut view)?;
        Ok(Some(alpha))
    });
    let shares: Vec<F> = runs.into_iter().filter_map(|r| r.output.unwrap()).collect();
    assert_eq!(shares.len(), 3);
    assert_ne!(shares[0], shares[1]);
    assert_ne!(shares[1], shares[2]);
}
