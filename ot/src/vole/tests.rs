//! Correctness of the VOLE correlations (attacks are in `attack_tests`).

use tessera_mpc::harness::run_in_memory;
use tessera_mpc::{Channel, Fp127, PartyId, Prg, Ring, SessionId};

use super::*;

fn sid() -> SessionId {
    SessionId::from_bytes([7; 32])
}

#[test]
fn random_and_chosen_correlations_hold_across_extensions() {
    let sizes = [1usize, 700, 1500, 3000, 5];
    let runs = run_in_memory(2, move |ch: &mut dyn Channel| -> Result<_> {
        let mut prg = Prg::from_entropy();
        let params = VoleParams::insecure_for_tests();
        if ch.party() == PartyId(0) {
            let mut s = Sender::<Fp127>::setup_with(ch, PartyId(1), &sid(), &mut prg, params)?;
            let mut out = Vec::new();
            for &n in &sizes {
                let (u, m) = s.random(ch, n)?;
                let x = Fp127::random_vec(&mut prg, n);
                let mx = s.chosen(ch, &x)?;
                out.push((u, m, x, mx));
            }
            Ok((out, Vec::new(), Fp127::ZERO))
        } else {
            let delta = Fp127::random(&mut prg);
            let mut r = Receiver::setup_with(ch, PartyId(0), delta, &sid(), &mut prg, params)?;
            let mut out = Vec::new();
            for &n in &sizes {
                out.push((r.random(ch, n)?, r.chosen(ch, n)?));
            }
            Ok((Vec::new(), out, delta))
        }
    });
    let (sent, _, _) = runs[0].output.as_ref().unwrap();
    let (_, recv, delta) = runs[1].output.as_ref().unwrap();
    for ((u, m, x, mx), (k, kx)) in sent.iter().zip(recv) {
        for i in 0..u.len() {
            assert_eq!(m[i], k[i] + u[i] * *delta);
            assert_eq!(mx[i], kx[i] + x[i] * *delta);
        }
    }
}

/// The `Debug` strings of a freshly set-up pair.
pub(super) fn pair_debug(delta: Fp127) -> Vec<String> {
    let runs = run_in_memory(2, move |ch: &mut dyn Channel| -> Result<String> {
        let mut prg = Prg::from_entropy();
        let params = VoleParams::insecure_for_tests();
        if ch.party() == PartyId(0) {
            let mut s = Sender::<Fp127>::setup_with(ch, PartyId(1), &sid(), &mut prg, params)?;
            s.random(ch, 10)?;
            Ok(format!("{s:?}"))
        } else {
            let mut r = Receiver::setup_with(ch, PartyId(0), delta, &sid(), &mut prg, params)?;
            r.random(ch, 10)?;
            Ok(format!("{r:?}"))
        }
    });
    runs.into_iter().map(|r| r.output.unwrap()).collect()
}
