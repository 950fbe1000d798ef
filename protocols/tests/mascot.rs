//! MASCOT preprocessing: correct material, and cheating in it is caught.

mod common;

use common::{F, mascot_session, mine};
use tessera_mpc::{PartyId, Ring};
use tessera_protocols::Error;
use tessera_protocols::spdz::{Fault, Mascot, MascotConfig, OtExtension, Preprocessing, Session};

#[test]
fn mascot_triples_bits_and_masks_are_correct() {
    for n in [2, 3] {
        let runs = tessera_mpc::harness::run_in_memory(n, |ch| {
            let me = ch.party();
            let mut s = mascot_session(ch, 40)?;
            // Triples: open a, b, c through the session and check c = a·b.
            let t = s.random_values(1)?; // draws from the same triple buffer
            let v: Vec<F> = (0..50).map(|i| F::from_u64(i * 7 + 1)).collect();
            let x = s.input(PartyId(0), mine(me, PartyId(0), &v), 50)?;
            let y = s.input(PartyId((n - 1) as u16), mine(me, PartyId((n - 1) as u16), &v), 50)?;
            let z = s.mul(&x, &y)?;
            let bits = s.random_bits(64)?;
            Ok::<_, Error>((s.output(&z)?, s.output(&bits)?, s.output(&t)?))
        });
        for run in &runs {
            let (z, bits, _) = run.output.as_ref().unwrap();
            let expect: Vec<F> = (0..50).map(|i| F::from_u64((i * 7 + 1) * (i * 7 + 1))).collect();
            assert_eq!(z, &expect, "n={n}");
            assert!(bits.iter().all(|b| *b == F::ZERO || *b == F::ONE), "n={n}");
            let ones = bits.iter().filter(|b| **b == F::ONE).count();
            assert!((10..=54).contains(&ones), "n={n}: {ones} ones in 64 random bits");
        }
    }
}

#[test]
fn mascot_with_kos_and_every_softspoken_k() {
    for ot in [OtExtension::Kos, OtExtension::SoftSpoken(2), OtExtension::SoftSpoken(8)] {
        let runs = tessera_mpc::harness::run_in_memory(2, |ch| {
            let mut prep = Mascot::<F>::setup(ch, MascotConfig { ot, batch: 8 })?;
            let (ta, tb, tc) = prep.triples(ch, 8)?.into_shares();
            let mut s = Session::new(ch, prep);
            let a = s.output(&ta)?;
            let b = s.output(&tb)?;
            let c = s.output(&tc)?;
            Ok::<_, Error>((a, b, c))
        });
        let (a, b, c) = runs[0].output.as_ref().unwrap();
        for i in 0..8 {
            assert_eq!(a[i] * b[i], c[i], "{ot:?}");
        }
        assert!(a.iter().all(|x| *x != F::ZERO));
    }
}

fn run_mascot_cheater(
    n: usize,
    cheater: usize,
    fault: Fault,
) -> Vec<tessera_protocols::Result<()>> {
    tessera_mpc::harness::run_in_memory(n, |ch| {
        let me = ch.party();
        let mut prep =
            Mascot::<F>::setup(ch, MascotConfig { batch: 8, ..MascotConfig::default() })?;
        if me.index() == cheater {
            prep.inject_fault(fault);
        }
        prep.triples(ch, 8).map(|_| ())
    })
    .into_iter()
    .map(|r| r.output)
    .collect()
}

#[test]
fn a_wrong_triple_is_caught_by_the_sacrifice() {
    for n in [2, 3] {
        for cheater in 0..n {
            for (p, r) in
                run_mascot_cheater(n, cheater, Fault::MascotTripleOffset).iter().enumerate()
            {
                if p != cheater {
                    assert!(matches!(r, Err(Error::Sacrifice)), "n={n} cheater={cheater}: {r:?}");
                }
            }
        }
    }
}

#[test]
fn inconsistent_copee_rows_are_caught_by_the_authentication_check() {
    for n in [2, 3] {
        for cheater in 0..n {
            for (p, r) in
                run_mascot_cheater(n, cheater, Fault::MascotCopeeInconsistent).iter().enumerate()
            {
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
fn lying_about_an_input_under_mascot_is_caught() {
    let runs = tessera_mpc::harness::run_in_memory(3, |ch| {
        let me = ch.party();
        let mut s = mascot_session(ch, 8)?;
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
