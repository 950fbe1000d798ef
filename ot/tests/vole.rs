//! End-to-end VOLE over Fp127: the correlation `m = k + u·Δ` (random) and `m = k + x·Δ`
//! (chosen) across many extensions, over TCP loopback, and with the 128-bit parameters.

use tessera_mpc::harness::{Transport, run_parties};
use tessera_mpc::{Channel, ChannelConfig, Fp127, PartyId, Prg, Ring, SessionId};
use tessera_ot::Error;
use tessera_ot::vole::{Receiver, Sender, VoleParams};

type SenderOut = Vec<(Vec<Fp127>, Vec<Fp127>)>;
type ReceiverOut = (Vec<Vec<Fp127>>, Fp127);

/// Runs `calls` (`(n, chosen)`: chosen-input or random VOLEs) and checks every
/// correlation; returns the bytes both parties sent.
fn run(transport: Transport, params: VoleParams, calls: &[(usize, bool)]) -> u64 {
    let runs = run_parties(2, transport, ChannelConfig::default(), |ch: &mut dyn Channel| {
        let mut prg = Prg::from_entropy();
        let sid = SessionId::agree(ch, b"tessera/ot/vole/test")?;
        if ch.party() == PartyId(0) {
            let mut s =
                Sender::<Fp127>::setup_with(ch, PartyId(1), &sid, &mut prg, params.clone())?;
            let mut out: SenderOut = Vec::new();
            for &(n, chosen) in calls {
                if chosen {
                    let x = Fp127::random_vec(&mut prg, n);
                    let m = s.chosen(ch, &x)?;
                    out.push((x, m));
                } else {
                    let (u, m) = s.random(ch, n)?;
                    out.push((u, m));
                }
            }
            Ok::<_, Error>((Some(out), None))
        } else {
            let delta = Fp127::random(&mut prg);
            let mut r =
                Receiver::setup_with(ch, PartyId(0), delta, &sid, &mut prg, params.clone())?;
            assert_eq!(r.delta(), delta);
            let mut keys = Vec::new();
            for &(n, chosen) in calls {
                keys.push(if chosen { r.chosen(ch, n)? } else { r.random(ch, n)? });
            }
            let out: ReceiverOut = (keys, delta);
            Ok((None, Some(out)))
        }
    })
    .expect("network");
    let bytes = runs.iter().map(|r| r.stats.bytes_sent).sum();
    let mut outs = runs.into_iter().map(|r| r.output.expect("party failed"));
    let sent = outs.next().and_then(|o| o.0).expect("sender output");
    let (keys, delta) = outs.next().and_then(|o| o.1).expect("receiver output");
    let mut all_u = Vec::new();
    for ((x, m), k) in sent.iter().zip(&keys) {
        assert_eq!((x.len(), m.len()), (k.len(), k.len()));
        for i in 0..k.len() {
            assert_eq!(m[i], k[i] + x[i] * delta, "call of {} at {i}", k.len());
        }
        all_u.extend_from_slice(x);
    }
    // Random u's are not degenerate (a broken LPN would repeat or zero them).
    let mut sorted: Vec<u128> = all_u.iter().map(tessera_mpc::Field::to_u128).collect();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), all_u.len());
    bytes
}

#[test]
fn many_extensions_in_memory_and_over_tcp() {
    // The toy parameters serve 1 683 VOLEs per extension: these calls cross ~12 boundaries.
    let calls = [(1, false), (2000, false), (3000, true), (7, true), (15_000, false), (1, true)];
    for transport in [Transport::Memory, Transport::TcpLoopback] {
        run(transport, VoleParams::insecure_for_tests(), &calls);
    }
}

#[test]
fn wolverine_parameters_bootstrap_to_the_main_level() {
    // 200 000 VOLEs need levels 0 (9 600), 1 (166 400) and one level-2 extension
    // (10 168 320), so every level of the 128-bit set runs.
    let calls = [(150_000, false), (50_000, true)];
    let bytes = run(Transport::Memory, VoleParams::wolverine(), &calls);
    // Setup (~3.7 MB of COPEe) plus three extensions: well under one field element per VOLE
    // of the level-2 extension's output.
    assert!(bytes < 10_168_320 * 16 / 4, "{bytes} bytes");
}

#[test]
fn zero_length_calls_and_self_peer() {
    let runs =
        run_parties(2, Transport::Memory, ChannelConfig::default(), |ch: &mut dyn Channel| {
            let mut prg = Prg::from_entropy();
            let sid = SessionId::from_bytes([1; 32]);
            let params = VoleParams::insecure_for_tests();
            let me = ch.party();
            let selfish = Sender::<Fp127>::setup_with(ch, me, &sid, &mut prg, params.clone());
            assert!(matches!(selfish, Err(Error::Misuse(_))));
            if me == PartyId(0) {
                let mut s = Sender::<Fp127>::setup_with(ch, PartyId(1), &sid, &mut prg, params)?;
                assert!(s.random(ch, 0)?.0.is_empty());
                assert!(s.chosen(ch, &[])?.is_empty());
            } else {
                let mut r =
                    Receiver::setup_with(ch, PartyId(0), Fp127::ONE, &sid, &mut prg, params)?;
                assert!(r.random(ch, 0)?.is_empty());
                assert!(r.chosen(ch, 0)?.is_empty());
            }
            Ok::<_, Error>(())
        })
        .expect("network");
    for r in runs {
        r.output.expect("party");
    }
}
