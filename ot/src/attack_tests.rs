//! Attacks on the extension: a receiver that uses inconsistent rows must be caught.
//!
//! The cheating receiver follows the protocol but rewrites its column messages before sending,
//! so that row 5 encodes different choice bits in different columns — the attack that lets an
//! IKNP receiver learn bits of Δ. The sender's consistency check must abort.

use tessera_mpc::harness::run_in_memory;
use tessera_mpc::{Channel, PartyId, Prg};

use crate::ext::Tamper;
use crate::{Error, kos, softspoken};

const ROW: usize = 5;

/// Flips row `ROW` in segments `segments` of a message made of `rows / 8`-byte segments.
fn flip_row(segments: std::ops::Range<usize>) -> Tamper {
    let mut first = true;
    Box::new(move |msg: &mut [u8], rows: usize| {
        if std::mem::take(&mut first) {
            for s in segments.clone() {
                msg[s * rows / 8 + ROW / 8] ^= 1 << (ROW % 8);
            }
        }
    })
}

#[derive(Clone, Copy)]
enum Proto {
    Kos,
    Ss(usize),
}

/// Runs `n` correlated (or random) OTs with a tampering receiver; returns the sender's result.
fn attack(proto: Proto, random: bool, segments: std::ops::Range<usize>) -> Result<(), Error> {
    let n = 1000;
    let runs = run_in_memory(2, |ch: &mut dyn Channel| {
        let mut prg = Prg::from_entropy();
        let choices = vec![false; n];
        if ch.party() == PartyId(0) {
            let out = match proto {
                Proto::Kos => {
                    let mut s = kos::Sender::setup(ch, PartyId(1), &mut prg)?;
                    s.correlated(ch, n).map(drop)
                }
                Proto::Ss(k) => {
                    let mut s = softspoken::Sender::setup(ch, PartyId(1), k, &mut prg)?;
                    if random { s.random(ch, n).map(drop) } else { s.correlated(ch, n).map(drop) }
                }
            };
            Ok(Some(out))
        } else {
            match proto {
                Proto::Kos => {
                    let mut r = kos::Receiver::setup(ch, PartyId(0), &mut prg)?;
                    r.set_tamper(flip_row(segments.clone()));
                    r.correlated(ch, &choices)?;
                }
                Proto::Ss(k) => {
                    let mut r = softspoken::Receiver::setup(ch, PartyId(0), k, &mut prg)?;
                    r.set_tamper(flip_row(segments.clone()));
                    if random {
                        r.random(ch, n)?;
                    } else {
                        r.correlated(ch, &choices)?;
                    }
                }
            }
            Ok::<_, Error>(None)
        }
    });
    runs.into_iter().next().and_then(|r| r.output.ok()).flatten().expect("sender ran")
}

#[test]
fn kos_catches_rows_with_mixed_choice_bits() {
    // Row 5 claims choice 1 in columns 0..64 and 0 in the rest: the check fails unless Δ's low
    // 64 bits are all zero (probability 2^-64).
    let sender = attack(Proto::Kos, false, 0..64);
    assert!(matches!(sender, Err(Error::ConsistencyCheck)), "{sender:?}");
    // A single column, repeated: caught unless Δ_j = 0, so over 20 runs almost surely caught.
    let caught = (0..20)
        .filter(|_| matches!(attack(Proto::Kos, false, 3..4), Err(Error::ConsistencyCheck)))
        .count();
    assert!(caught > 0);
}

#[test]
fn softspoken_catches_blocks_with_mixed_choice_bits() {
    for k in [2, 4, 8] {
        // Random OT: the message holds blocks 1.. (block 0 defines the choices); flipping row 5
        // in all of them makes blocks 1.. disagree with block 0.
        let sender = attack(Proto::Ss(k), true, 0..128 / k - 1);
        assert!(matches!(sender, Err(Error::ConsistencyCheck)), "k = {k}: {sender:?}");
        // Chosen choices: the message holds every block; flip half of them.
        let sender = attack(Proto::Ss(k), false, 0..64 / k);
        assert!(matches!(sender, Err(Error::ConsistencyCheck)), "k = {k}: {sender:?}");
    }
}
