//! The SPDZ online phase against plaintext evaluation, and every cheating party is caught.

mod common;

use std::time::Duration;

use common::{F, dealer_session, mine};
use proptest::prelude::*;
use tessera_mpc::harness::{Transport, run_parties};
use tessera_mpc::{Channel, ChannelConfig, Field, PartyId, Prg, Ring, Seed};
use tessera_protocols::Error;
use tessera_protocols::spdz::{Fault, Shared};

/// One step of a random straight-line program over vectors held in registers.
#[derive(Clone, Copy, Debug)]
enum Op {
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    Scale(usize, u64),
    AddPublic(usize, u64),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..8usize, 0..8usize).prop_map(|(a, b)| Op::Add(a, b)),
        (0..8usize, 0..8usize).prop_map(|(a, b)| Op::Sub(a, b)),
        (0..8usize, 0..8usize).prop_map(|(a, b)| Op::Mul(a, b)),
        (0..8usize, any::<u64>()).prop_map(|(a, k)| Op::Scale(a, k)),
        (0..8usize, any::<u64>()).prop_map(|(a, k)| Op::AddPublic(a, k)),
    ]
}

const LEN: usize = 5;

/// Plaintext: registers start as the parties' inputs (register i from party i mod n).
fn eval_plain(inputs: &[Vec<F>], ops: &[Op]) -> Vec<Vec<F>> {
    let mut regs: Vec<Vec<F>> = inputs.to_vec();
    for op in ops {
        let r = regs.len();
        let v: Vec<F> = match *op {
            Op::Add(a, b) => (0..LEN).map(|i| regs[a % r][i] + regs[b % r][i]).collect(),
            Op::Sub(a, b) => (0..LEN).map(|i| regs[a % r][i] - regs[b % r][i]).collect(),
            Op::Mul(a, b) => (0..LEN).map(|i| regs[a % r][i] * regs[b % r][i]).collect(),
            Op::Scale(a, k) => regs[a % r].iter().map(|x| *x * F::from_u64(k)).collect(),
            Op::AddPublic(a, k) => regs[a % r].iter().map(|x| *x + F::from_u64(k)).collect(),
        };
        regs.push(v);
    }
    regs
}

fn eval_mpc(
    ch: &mut dyn Channel,
    inputs: &[Vec<F>],
    ops: &[Op],
) -> tessera_protocols::Result<Vec<Vec<F>>> {
    let me = ch.party();
    let n = ch.num_parties();
    let mut s = dealer_session(ch, 11);
    let mut regs: Vec<Shared<F>> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let owner = PartyId((i % n) as u16);
        regs.push(s.input(owner, mine(me, owner, input), LEN)?);
    }
    for op in ops {
        let r = regs.len();
        let v = match *op {
            Op::Add(a, b) => regs[a % r].add(&regs[b % r])?,
            Op::Sub(a, b) => regs[a % r].sub(&regs[b % r])?,
            Op::Mul(a, b) => {
                let (x, y) = (regs[a % r].clone(), regs[b % r].clone());
                s.mul(&x, &y)?
            }
            Op::Scale(a, k) => regs[a % r].scale(F::from_u64(k)),
            Op::AddPublic(a, k) => s.add_public(&regs[a % r], &[F::from_u64(k); LEN])?,
        };
        regs.push(v);
    }
    regs.iter().map(|r| s.output(r)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_programs_match_plaintext(
        n in 2usize..=3,
        seed in any::<[u8; 16]>(),
        ops in prop::collection::vec(op_strategy(), 1..12),
    ) {
        let mut prg = Prg::from_seed(&Seed(seed));
        let inputs: Vec<Vec<F>> = (0..4).map(|_| F::random_vec(&mut prg, LEN)).collect();
        let expect = eval_plain(&inputs, &ops);
        let runs = tessera_mpc::harness::run_in_memory(n, |ch| eval_mpc(ch, &inputs, &ops));
        for run in runs {
            prop_assert_eq!(run.output.as_ref().unwrap(), &expect);
        }
    }
}

#[test]
fn private_output_reaches_only_its_recipient() {
    let runs = tessera_mpc::harness::run_in_memory(3, |ch| {
        let me = ch.party();
        let mut s = dealer_session(ch, 3);
        let v = [F::from_u64(5), F::from_u64(7)];
        let x = s.input(PartyId(2), mine(me, PartyId(2), &v), 2)?;
        let y = s.mul(&x, &x)?;
        s.output_to(&y, PartyId(1))
    });
    assert_eq!(runs[0].output.as_ref().unwrap(), &None);
    assert_eq!(runs[1].output.as_ref().unwrap(), &Some(vec![F::from_u64(25), F::from_u64(49)]));
    assert_eq!(runs[2].output.as_ref().unwrap(), &None);
}

#[test]
fn matmul_and_dot_match_plaintext() {
    let runs = tessera_mpc::harness::run_in_memory(2, |ch| {
        let me = ch.party();
        let mut s = dealer_session(ch, 4);
        let a: Vec<F> = (1..=6).map(F::from_u64).collect(); // 2×3
        let b: Vec<F> = (1..=6).map(|v| F::from_u64(v * 10)).collect(); // 3×2
        let sa = s.input(PartyId(0), mine(me, PartyId(0), &a), 6)?;
        let sb = s.input(PartyId(1), mine(me, PartyId(1), &b), 6)?;
        let c = s.matmul(&sa, &sb, (2, 3, 2))?;
        let d = s.dot(&sa, &sa)?;
        Ok::<_, Error>((s.output(&c)?, s.output(&d)?))
    });
    let (c, d) = runs[0].output.as_ref().unwrap();
    // [[1,2,3],[4,5,6]] × [[10,20],[30,40],[50,60]]
    let expect: Vec<F> = [220u64, 280, 490, 640].map(F::from_u64).to_vec();
    assert_eq!(c, &expect);
    assert_eq!(d, &vec![F::from_u64(91)]);
}

/// Runs a small program where `cheater` misbehaves in the way `fault` says; returns each
/// party's result.
fn run_with_cheater(
    n: usize,
    cheater: usize,
    fault: Fault,
) -> Vec<tessera_protocols::Result<Vec<F>>> {
    tessera_mpc::harness::run_in_memory(n, |ch| {
        let me = ch.party();
        let mut s = dealer_session(ch, 9);
        if me.index() == cheater {
            s.inject_fault(fault);
        }
        let v: Vec<F> = (1..=4).map(F::from_u64).collect();
        let owner = PartyId(cheater as u16);
        let x = s.input(owner, mine(me, owner, &v), 4)?;
        let y = s.input(
            PartyId(((cheater + 1) % n) as u16),
            mine(me, PartyId(((cheater + 1) % n) as u16), &v),
            4,
        )?;
        let z = s.mul(&x, &y)?;
        s.output(&z)
    })
    .into_iter()
    .map(|r| r.output)
    .collect()
}

#[test]
fn every_cheat_aborts_every_honest_party() {
    for n in [2, 3] {
        for cheater in 0..n {
            for (fault, expect) in [
                (Fault::OpenShareOffset, "mac"),
                (Fault::OpenMacOffset, "mac"),
                (Fault::TripleOffset, "mac"),
                (Fault::InputEquivocation, "broadcast"),
            ] {
                if fault == Fault::InputEquivocation && n == 2 {
                    continue; // with one receiver there is nobody to contradict
                }
                let results = run_with_cheater(n, cheater, fault);
                for (p, r) in results.iter().enumerate() {
                    if p == cheater {
                        continue;
                    }
                    match (r, expect) {
                        (Err(Error::MacCheck), "mac")
                        | (Err(Error::BroadcastMismatch), "broadcast") => {}
                        // Equivocation towards the last party: the others see it as a mismatch too.
                        (Err(Error::MacCheck), "broadcast") => {}
                        other => {
                            panic!("n={n} cheater={cheater} {fault:?}: party {p} got {other:?}")
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn nothing_is_output_after_a_failed_check() {
    let runs = tessera_mpc::harness::run_in_memory(2, |ch| {
        let me = ch.party();
        let mut s = dealer_session(ch, 5);
        if me == PartyId(1) {
            s.inject_fault(Fault::OpenShareOffset);
        }
        let v = [F::from_u64(3)];
        let x = s.input(PartyId(0), mine(me, PartyId(0), &v), 1)?;
        let first = s.output(&x);
        let second = s.output(&x);
        Ok::<_, Error>((first.is_err(), matches!(second, Err(Error::Aborted))))
    });
    assert_eq!(runs[0].output.as_ref().unwrap(), &(true, true));
}

#[test]
fn a_party_that_disconnects_makes_the_others_fail_not_hang() {
    let config = ChannelConfig { recv_timeout: Duration::from_secs(2), ..ChannelConfig::default() };
    for transport in [Transport::Memory, Transport::TcpLoopback] {
        let started = std::time::Instant::now();
        let runs = run_parties(3, transport, config, |ch| {
            let me = ch.party();
            let mut s = dealer_session(ch, 6);
            let v = [F::from_u64(3)];
            let x = s.input(PartyId(0), mine(me, PartyId(0), &v), 1)?;
            if me == PartyId(2) {
                return Ok(Vec::new()); // leaves: its channel is dropped
            }
            let y = s.mul(&x, &x)?;
            s.output(&y)
        })
        .unwrap();
        assert!(runs[0].output.is_err() && runs[1].output.is_err(), "{transport}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{transport}: took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn input_from_the_wrong_party_or_length_is_misuse() {
    let runs = tessera_mpc::harness::run_in_memory(2, |ch| {
        let mut s = dealer_session(ch, 7);
        s.input(PartyId(9), None, 1).map(|_| ())
    });
    assert!(runs.iter().all(|r| matches!(r.output, Err(Error::Misuse(_)))));
    let _ = F::MODULUS;
}
