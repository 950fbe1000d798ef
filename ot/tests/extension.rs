//! End-to-end correctness of every OT-extension variant, and failure on a vanished peer.
//!
//! Each variant runs on 10^6 OTs (the bar) in a single call plus a few odd sizes that
//! cross chunk and tile boundaries; outputs are checked against the sender's at the choice bit,
//! and against the other message, which the receiver must never hold.

use tessera_mpc::channel::memory_network;
use tessera_mpc::harness::{Transport, run_parties};
use tessera_mpc::{Channel, ChannelConfig, PartyId, Prg, Seed, SessionId};
use tessera_ot::{Error, kos, softspoken};

const MILLION: usize = 1_000_000;

fn fixed_sid() -> SessionId {
    SessionId::from_bytes([42; 32])
}

/// One protocol under test, set up on both sides.
#[derive(Clone, Copy, Debug)]
enum Proto {
    Kos,
    SoftSpoken(usize),
}

enum S {
    Kos(Box<kos::Sender>),
    Ss(Box<softspoken::Sender>),
}
enum R {
    Kos(Box<kos::Receiver>),
    Ss(Box<softspoken::Receiver>),
}

impl Proto {
    fn sender(self, ch: &mut dyn Channel, sid: &SessionId, prg: &mut Prg) -> Result<S, Error> {
        Ok(match self {
            Proto::Kos => S::Kos(Box::new(kos::Sender::setup(ch, PartyId(1), sid, prg)?)),
            Proto::SoftSpoken(k) => {
                S::Ss(Box::new(softspoken::Sender::setup(ch, PartyId(1), k, sid, prg)?))
            }
        })
    }
    fn receiver(self, ch: &mut dyn Channel, sid: &SessionId, prg: &mut Prg) -> Result<R, Error> {
        Ok(match self {
            Proto::Kos => R::Kos(Box::new(kos::Receiver::setup(ch, PartyId(0), sid, prg)?)),
            Proto::SoftSpoken(k) => {
                R::Ss(Box::new(softspoken::Receiver::setup(ch, PartyId(0), k, sid, prg)?))
            }
        })
    }
}

macro_rules! both {
    ($x:expr, $v:ident => $body:expr) => {
        match $x {
            S::Kos($v) => $body,
            S::Ss($v) => $body,
        }
    };
}
macro_rules! bothr {
    ($x:expr, $v:ident => $body:expr) => {
        match $x {
            R::Kos($v) => $body,
            R::Ss($v) => $body,
        }
    };
}

#[derive(Debug)]
enum Out {
    Sender { delta: u128, corr: Vec<u128>, rand: Vec<[u128; 2]> },
    Receiver { corr: Vec<u128>, rand: (Vec<bool>, Vec<u128>), chosen: Vec<u128> },
}

fn choices(n: usize, seed: u8) -> Vec<bool> {
    let mut prg = Prg::from_seed(&Seed([seed; 16]));
    (0..n).map(|_| prg.next_bool()).collect()
}

fn messages(n: usize) -> Vec<[u128; 2]> {
    let mut prg = Prg::from_seed(&Seed([77; 16]));
    (0..n).map(|_| [prg.next_u128(), prg.next_u128()]).collect()
}

/// Runs correlated, random and chosen OT of size `n` back to back on one setup.
fn run_all(proto: Proto, n: usize, transport: Transport) {
    let bits = choices(n, 5);
    let msgs = messages(n);
    let runs = run_parties(2, transport, ChannelConfig::default(), |ch: &mut dyn Channel| {
        let mut prg = Prg::from_entropy();
        let sid = SessionId::agree(ch, b"tessera/ot/tests")?;
        if ch.party() == PartyId(0) {
            let mut s = proto.sender(ch, &sid, &mut prg)?;
            both!(&mut s, s => {
                let corr = s.correlated(ch, n)?;
                let rand = s.random(ch, n)?;
                s.chosen(ch, &msgs)?;
                Ok::<_, Error>(Out::Sender { delta: s.delta(), corr, rand })
            })
        } else {
            let mut r = proto.receiver(ch, &sid, &mut prg)?;
            bothr!(&mut r, r => {
                let corr = r.correlated(ch, &bits)?;
                let rand = r.random(ch, n)?;
                let chosen = r.chosen(ch, &bits)?;
                Ok(Out::Receiver { corr, rand, chosen })
            })
        }
    })
    .expect("network setup");
    let mut it = runs.into_iter().map(|r| r.output.expect("protocol run"));
    let (
        Some(Out::Sender { delta, corr: q, rand: pairs }),
        Some(Out::Receiver { corr: t, rand: (rbits, rmsgs), chosen }),
    ) = (it.next(), it.next())
    else {
        panic!("unexpected outputs");
    };
    assert_eq!((q.len(), t.len(), pairs.len(), rmsgs.len(), chosen.len()), (n, n, n, n, n));
    assert_ne!(delta, 0);
    for i in 0..n {
        let b = usize::from(bits[i]);
        assert_eq!(t[i], q[i] ^ if bits[i] { delta } else { 0 }, "{proto:?} correlated OT {i}");
        let rb = usize::from(rbits[i]);
        assert_eq!(rmsgs[i], pairs[i][rb], "{proto:?} random OT {i}");
        assert_ne!(rmsgs[i], pairs[i][1 - rb], "{proto:?} random OT {i} leaks the other message");
        assert_eq!(chosen[i], msgs[i][b], "{proto:?} chosen OT {i}");
        assert_ne!(chosen[i], msgs[i][1 - b], "{proto:?} chosen OT {i} leaks the other message");
    }
    // Random choices must look random: a stuck bit would pass the equalities above.
    let ones = rbits.iter().filter(|&&b| b).count();
    assert!(n < 1000 || (ones > n * 45 / 100 && ones < n * 55 / 100), "{proto:?}: {ones} of {n}");
}

#[test]
fn kos_million() {
    run_all(Proto::Kos, MILLION, Transport::Memory);
}

#[test]
fn softspoken_k2_million() {
    run_all(Proto::SoftSpoken(2), MILLION, Transport::Memory);
}

#[test]
fn softspoken_k4_million() {
    run_all(Proto::SoftSpoken(4), MILLION, Transport::Memory);
}

#[test]
fn softspoken_k8_million() {
    run_all(Proto::SoftSpoken(8), MILLION, Transport::Memory);
}

#[test]
fn odd_sizes_over_tcp() {
    for proto in [Proto::Kos, Proto::SoftSpoken(2), Proto::SoftSpoken(4), Proto::SoftSpoken(8)] {
        for n in [0, 1, 127, 129, 16_385] {
            run_all(proto, n, Transport::TcpLoopback);
        }
    }
}

/// The receiver (or sender) runs setup, then its process vanishes mid-protocol: the survivor
/// must get an error, not hang or panic.
#[test]
fn vanished_peer_is_an_error() {
    for proto in [Proto::Kos, Proto::SoftSpoken(4)] {
        for sender_dies in [false, true] {
            let config = ChannelConfig {
                recv_timeout: std::time::Duration::from_secs(20),
                ..Default::default()
            };
            let mut chans = memory_network(2, config).into_iter();
            let (mut c0, mut c1) = (chans.next().unwrap(), chans.next().unwrap());
            let survivor = std::thread::scope(|scope| {
                let s = scope.spawn(move || {
                    let mut prg = Prg::from_entropy();
                    let mut s = proto.sender(&mut c0, &fixed_sid(), &mut prg)?;
                    if sender_dies {
                        drop(c0);
                        return Ok(());
                    }
                    both!(&mut s, s => s.correlated(&mut c0, 100_000).map(|_| ()))
                });
                let r = scope.spawn(move || {
                    let mut prg = Prg::from_entropy();
                    let mut r = proto.receiver(&mut c1, &fixed_sid(), &mut prg)?;
                    if !sender_dies {
                        // Send the first message of the extension (one chunk of 2^14 rows,
                        // correlated OT: 128/k columns of 2^11 bytes), then vanish.
                        let columns = match proto {
                            Proto::Kos => 128,
                            Proto::SoftSpoken(k) => 128 / k,
                        };
                        c1.send(PartyId(0), &vec![0u8; columns * (1 << 11)])?;
                        drop(c1);
                        return Ok(());
                    }
                    bothr!(&mut r, r => r.chosen(&mut c1, &vec![true; 100_000]).map(|_| ()))
                });
                let (s, r) = (s.join().unwrap(), r.join().unwrap());
                if sender_dies { r } else { s }
            });
            assert!(
                matches!(
                    survivor,
                    Err(Error::Channel(tessera_mpc::Error::PeerDisconnected { .. }))
                ),
                "{proto:?} sender_dies={sender_dies}: {survivor:?}"
            );
        }
    }
}

/// A receiver that deviates at the byte level: after an honest setup it sends messages of the
/// wrong length, or right-length messages whose check reply does not open its commitment. The
/// sender must return a typed error (never panic or accept).
#[test]
fn malformed_receiver_messages_are_refused() {
    // (message lengths to send before the 64-byte reply, expected error)
    let n = 100;
    let rows = 128 + 256; // n rounded up to 128, plus the check's padding rows
    let ext = 128 * rows / 8;
    let cases: Vec<(Vec<usize>, &str)> = vec![
        (vec![ext - 1], "bad-length extension message"),
        (vec![ext, 31], "bad-length commitment"),
        (vec![ext, 32], "commitment that does not open"),
    ];
    for (lens, what) in cases {
        let runs =
            run_parties(2, Transport::Memory, ChannelConfig::default(), |ch: &mut dyn Channel| {
                let mut prg = Prg::from_entropy();
                if ch.party() == PartyId(0) {
                    let mut s = kos::Sender::setup(ch, PartyId(1), &fixed_sid(), &mut prg)?;
                    let first = s.correlated(ch, n).map(drop);
                    // Whatever went wrong, the sender is locked now.
                    let again = s.correlated(ch, n).map(drop);
                    assert!(matches!(again, Err(Error::Aborted)), "{what}: {again:?}");
                    first
                } else {
                    let _r = kos::Receiver::setup(ch, PartyId(0), &fixed_sid(), &mut prg)?;
                    for &len in &lens {
                        let mut junk = vec![0u8; len];
                        prg.fill_bytes(&mut junk);
                        ch.send(PartyId(0), &junk)?;
                    }
                    if lens == [ext, 32] {
                        let _seed = ch.recv(PartyId(0))?;
                        ch.send(PartyId(0), &[7u8; 64])?;
                    }
                    Ok(())
                }
            })
            .expect("network setup");
        let sender = &runs[0].output;
        let ok = match what {
            "commitment that does not open" => matches!(sender, Err(Error::CommitmentMismatch)),
            _ => matches!(sender, Err(Error::BadMessage { .. })),
        };
        assert!(ok, "{what}: {sender:?}");
    }
}
