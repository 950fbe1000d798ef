//! Channels: exact counters, ordering, and every failure mode ends in a typed error, in bounded time.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use tessera_mpc::channel::{
    FRAME_HEADER_BYTES, LinkShape, ShapedChannel, TcpChannel, bind_loopback, memory_network,
};
use tessera_mpc::harness::{self, Transport};
use tessera_mpc::{Channel, ChannelConfig, ChannelStats, Error, PartyId};

const MIB: usize = 1 << 20;

/// Tight limits, so that honest traffic in every test runs under small buffering caps.
fn quick() -> ChannelConfig {
    ChannelConfig {
        max_frame_bytes: MIB,
        recv_timeout: Duration::from_millis(500),
        max_buffered_bytes_per_link: 4 * MIB,
        max_buffered_bytes: 6 * MIB,
    }
}

/// Party i sends message sizes 1..=k to every peer, then reads everything back.
fn ping_all(ch: &mut dyn Channel, k: usize) -> Result<Vec<Vec<u8>>, Error> {
    for len in 1..=k {
        let msg: Vec<u8> = (0..len).map(|b| (b + ch.party().index()) as u8).collect();
        ch.broadcast(&msg)?;
    }
    let mut got = Vec::new();
    for peer in ch.peers() {
        for _ in 1..=k {
            got.push(ch.recv(peer)?);
        }
    }
    Ok(got)
}

#[test]
fn counters_are_exact_to_the_byte_on_every_transport() {
    let k = 50;
    let payload: u64 = (1..=k as u64).sum();
    for transport in [Transport::Memory, Transport::TcpLoopback] {
        let runs = harness::run_parties(3, transport, quick(), |ch| ping_all(ch, k)).unwrap();
        for run in runs {
            let got = run.output.unwrap();
            assert_eq!(got.len(), 2 * k);
            // Per-link order is preserved.
            assert_eq!(got[0].len(), 1);
            assert_eq!(got[k - 1].len(), k);
            let expect = ChannelStats {
                bytes_sent: 2 * (payload + k as u64 * FRAME_HEADER_BYTES),
                bytes_received: 2 * (payload + k as u64 * FRAME_HEADER_BYTES),
                messages_sent: 2 * k as u64,
                messages_received: 2 * k as u64,
                rounds: 1,
            };
            assert_eq!(run.stats, expect, "{transport}");
        }
    }
}

#[test]
fn rounds_count_send_runs_between_receives() {
    let runs = harness::run_in_memory(2, |ch| {
        let peer = ch.peers()[0];
        for _ in 0..3 {
            ch.exchange(peer, b"x").unwrap();
        }
        ch.stats()
    });
    assert!(runs.iter().all(|r| r.output.rounds == 3 && r.output.messages_sent == 3));
}

#[test]
fn large_simultaneous_sends_do_not_deadlock_over_tcp() {
    // Both parties write 32 MiB before reading: TCP buffers alone would deadlock.
    let big = vec![7u8; 32 << 20];
    let cfg = ChannelConfig {
        max_frame_bytes: 64 << 20,
        max_buffered_bytes_per_link: 64 << 20,
        max_buffered_bytes: 64 << 20,
        ..quick()
    };
    let runs = harness::run_parties(2, Transport::TcpLoopback, cfg, |ch| {
        let peer = ch.peers()[0];
        ch.send(peer, &big)?;
        ch.recv(peer).map(|m| m.len())
    })
    .unwrap();
    assert!(runs.iter().all(|r| *r.output.as_ref().unwrap() == big.len()));
}

#[test]
fn oversized_frame_is_rejected_in_memory_and_over_tcp() {
    let cfg = ChannelConfig { max_frame_bytes: 1000, ..quick() };
    let mut net = memory_network(2, cfg);
    let mut b = net.pop().unwrap();
    let mut a = net.pop().unwrap();
    a.send(PartyId(1), &[0u8; 1001]).unwrap();
    assert!(matches!(b.recv(PartyId(0)), Err(Error::FrameTooLarge { len: 1001, max: 1000, .. })));

    let runs = harness::run_parties(2, Transport::TcpLoopback, cfg, |ch| {
        if ch.party() == PartyId(0) {
            ch.send(PartyId(1), &[0u8; 5000]).map(|_| ())
        } else {
            ch.recv(PartyId(0)).map(|_| ())
        }
    })
    .unwrap();
    assert!(matches!(runs[1].output, Err(Error::FrameTooLarge { len: 5000, .. })));
}

/// Connects party 0 (returned) to a raw party 1 that speaks our hello and then runs `behaviour`.
fn raw_peer<T: Send + 'static>(
    config: ChannelConfig,
    behaviour: impl FnOnce(TcpStream) -> T + Send + 'static,
) -> (TcpChannel, thread::JoinHandle<T>) {
    let (listeners, addrs) = bind_loopback(2).unwrap();
    let target = addrs[0];
    let evil = thread::spawn(move || {
        let mut s = TcpStream::connect(target).unwrap();
        let mut hello = b"TESSERA1".to_vec();
        hello.extend_from_slice(&1u16.to_le_bytes());
        s.write_all(&hello).unwrap();
        behaviour(s)
    });
    let ch = TcpChannel::connect(PartyId(0), &listeners[0], &addrs, config).unwrap();
    (ch, evil)
}

/// A raw peer that speaks our hello and then misbehaves on the wire.
fn raw_peer_then<F: FnOnce(TcpStream) + Send + 'static>(behaviour: F) -> Result<Vec<u8>, Error> {
    let (mut ch, evil) = raw_peer(quick(), behaviour);
    let started = Instant::now();
    let out = ch.recv(PartyId(1));
    assert!(started.elapsed() < Duration::from_secs(3), "error took too long");
    evil.join().unwrap();
    out
}

#[test]
fn truncated_frame_gives_typed_error() {
    let out = raw_peer_then(|mut s| {
        s.write_all(&100u32.to_le_bytes()).unwrap();
        s.write_all(&[1u8; 40]).unwrap();
        // Drop: the stream ends 60 bytes short.
    });
    assert!(matches!(out, Err(Error::TruncatedFrame { expected: 104, got: 44, .. })), "{out:?}");
}

#[test]
fn truncated_header_gives_typed_error() {
    let out = raw_peer_then(|mut s| s.write_all(&[1u8, 2]).unwrap());
    assert!(matches!(out, Err(Error::TruncatedFrame { got: 2, .. })), "{out:?}");
}

#[test]
fn vanished_peer_is_reported_not_hung() {
    let out = raw_peer_then(drop);
    assert!(matches!(out, Err(Error::PeerDisconnected { .. })), "{out:?}");

    let mut net = memory_network(2, quick());
    drop(net.pop());
    let mut a = net.pop().unwrap();
    assert!(matches!(a.recv(PartyId(1)), Err(Error::PeerDisconnected { .. })));
    assert!(matches!(a.send(PartyId(1), b"x"), Err(Error::PeerDisconnected { .. })));
}

#[test]
fn silent_peer_times_out() {
    let out = raw_peer_then(|mut s| {
        thread::sleep(Duration::from_millis(900));
        let _ = s.write_all(&[]);
    });
    assert!(matches!(out, Err(Error::Timeout { .. })), "{out:?}");
}

#[test]
fn stray_connection_is_ignored_during_setup() {
    let (listeners, addrs) = bind_loopback(2).unwrap();
    // Someone else connects first and speaks nonsense.
    let mut stray = TcpStream::connect(addrs[0]).unwrap();
    stray.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let a1 = addrs.clone();
    let l1 = listeners.into_iter().collect::<Vec<TcpListener>>();
    let (l0, l1) = {
        let mut it = l1.into_iter();
        (it.next().unwrap(), it.next().unwrap())
    };
    let h = thread::spawn(move || {
        let mut c = TcpChannel::connect(PartyId(1), &l1, &a1, quick()).unwrap();
        c.send(PartyId(0), b"ok").unwrap();
        let _ = c.recv(PartyId(0));
    });
    let mut c0 = TcpChannel::connect(PartyId(0), &l0, &addrs, quick()).unwrap();
    assert_eq!(c0.recv(PartyId(1)).unwrap(), b"ok");
    c0.send(PartyId(1), b"bye").unwrap();
    h.join().unwrap();
    let mut sink = Vec::new();
    let _ = stray.read_to_end(&mut sink);
}

#[test]
fn misuse_is_reported() {
    let mut net = memory_network(2, quick());
    assert!(matches!(net[0].send(PartyId(0), b"x"), Err(Error::Misuse(_))));
    assert!(matches!(net[0].send(PartyId(5), b"x"), Err(Error::Misuse(_))));
    assert!(harness::run_parties(0, Transport::Memory, quick(), |_| ()).is_err());
}

#[test]
fn shaper_adds_latency_and_bandwidth_but_not_bytes() {
    let shape = LinkShape::new(8.0, 20); // 1 MB/s, 20 ms one way
    let runs = harness::run_parties(2, Transport::ShapedMemory(shape), quick(), |ch| {
        let peer = ch.peers()[0];
        let start = Instant::now();
        // Three simultaneous exchanges: each waits one one-way latency. The first may overlap
        // the other thread's late start (its message was stamped before our clock started), so
        // only the last two are certain: ≥ 2 × 20 ms.
        for _ in 0..3 {
            ch.exchange(peer, b"ping").unwrap();
        }
        let latency_part = start.elapsed();
        // 100 kB at 1 MB/s: ≥ 100 ms of transmission.
        let t = Instant::now();
        ch.send(peer, &vec![0u8; 100_000]).unwrap();
        ch.recv(peer).unwrap();
        (latency_part, t.elapsed(), ch.stats())
    })
    .unwrap();
    for r in runs {
        let (lat, bw, stats) = r.output;
        assert!(lat >= Duration::from_millis(40), "{lat:?}");
        assert!(bw >= Duration::from_millis(100), "{bw:?}");
        assert_eq!(stats.bytes_sent, 3 * (4 + 4) + 100_000 + 4);
    }
    // A wrapped channel reports the same party and size.
    let net = memory_network(2, quick());
    let s = ShapedChannel::new(net.into_iter().next().unwrap(), shape);
    assert_eq!((s.party(), s.num_parties()), (PartyId(0), 2));
}

/// Frames of exactly `max_frame_bytes`: each is legal, together they are a flood.
fn flood_frame() -> Vec<u8> {
    let mut frame = (MIB as u32).to_le_bytes().to_vec();
    frame.resize(4 + MIB, 0xee);
    frame
}

#[test]
fn flooding_peer_is_cut_off_within_the_cap_over_tcp() {
    let cfg = quick();
    let (mut ch, flooder) = raw_peer(cfg, |mut s| {
        s.set_write_timeout(Some(Duration::from_secs(1))).unwrap();
        let frame = flood_frame();
        (0..64).take_while(|_| s.write_all(&frame).is_ok()).count()
    });
    // Nobody reads while the peer floods; the flooder stops once its writes fail or stall.
    let sent = flooder.join().unwrap();
    assert!(sent >= 4, "the flood should outrun the cap, only {sent} frames went out");
    let cap = cfg.max_buffered_bytes_per_link;
    assert!(
        ch.peak_buffered_bytes() <= cap,
        "held {} over a cap of {cap}",
        ch.peak_buffered_bytes()
    );
    assert!(ch.peak_buffered_bytes() >= 3 * MIB, "the queue should have filled towards the cap");
    let err = ch.recv(PartyId(1)).unwrap_err();
    assert!(matches!(err, Error::MemoryCap { cap: c, session: false, .. } if c == cap), "{err:?}");
    // Cutting the link freed what it held; the link stays closed.
    assert_eq!(ch.buffered_bytes(), 0);
    assert!(matches!(ch.recv(PartyId(1)), Err(Error::PeerDisconnected { .. })));
}

#[test]
fn announced_frame_is_not_allocated_before_its_bytes_arrive() {
    let cfg = ChannelConfig {
        max_frame_bytes: 64 * MIB,
        max_buffered_bytes_per_link: 128 * MIB,
        max_buffered_bytes: 128 * MIB,
        recv_timeout: Duration::from_secs(5),
    };
    let (go_on, wait) = std::sync::mpsc::channel::<()>();
    let (sent, has_sent) = std::sync::mpsc::channel::<usize>();
    let (mut ch, peer) = raw_peer(cfg, move |mut s| {
        s.write_all(&(64 * MIB as u32).to_le_bytes()).unwrap();
        s.write_all(&[1u8; 1000]).unwrap();
        sent.send(1000).unwrap();
        wait.recv().unwrap();
        s.write_all(&vec![2u8; 3 * MIB]).unwrap();
        sent.send(1000 + 3 * MIB).unwrap();
        wait.recv().unwrap();
        // Drop: the frame ends 61 MiB short.
    });
    // Waits until the reader's buffer covers what was sent, then lets it read the rest.
    let settle = |ch: &TcpChannel, arrived: usize| {
        let deadline = Instant::now() + Duration::from_secs(3);
        while ch.buffered_bytes() < arrived && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        thread::sleep(Duration::from_millis(50));
    };
    let arrived = has_sent.recv().unwrap();
    settle(&ch, arrived);
    // A header and 1000 bytes cost one growth step, not 64 MiB.
    assert!(ch.peak_buffered_bytes() <= 64 * 1024 + 64, "held {}", ch.peak_buffered_bytes());
    go_on.send(()).unwrap();
    let arrived = has_sent.recv().unwrap();
    settle(&ch, arrived);
    // The buffer grows at most to twice what arrived.
    assert!(ch.buffered_bytes() >= arrived, "{} < {arrived}", ch.buffered_bytes());
    assert!(ch.peak_buffered_bytes() <= 2 * arrived + 64, "held {}", ch.peak_buffered_bytes());
    go_on.send(()).unwrap();
    peer.join().unwrap();
    let out = ch.recv(PartyId(1));
    assert!(
        matches!(out, Err(Error::TruncatedFrame { got, .. }) if got == 4 + arrived as u64),
        "{out:?}"
    );
    assert_eq!(ch.buffered_bytes(), 0, "the abandoned frame's charge was released");
}

#[test]
fn flooding_peer_is_cut_off_in_memory_and_other_links_keep_working() {
    let cfg = quick();
    let mut net = memory_network(3, cfg);
    let mut honest = net.pop().unwrap();
    let mut me = net.pop().unwrap();
    let mut flooder = net.pop().unwrap();
    let frame = vec![0xeeu8; MIB];
    let sent = (0..64).take_while(|_| flooder.send(PartyId(1), &frame).is_ok()).count();
    assert_eq!(sent, 3, "a 4 MiB cap holds three 1 MiB frames");
    assert!(me.peak_buffered_bytes() <= cfg.max_buffered_bytes_per_link);
    // The flooder's link is closed for good; the honest peer's is not.
    assert!(matches!(flooder.send(PartyId(1), b"x"), Err(Error::PeerDisconnected { .. })));
    honest.send(PartyId(1), b"still here").unwrap();
    let err = me.recv(PartyId(0)).unwrap_err();
    assert!(matches!(err, Error::MemoryCap { peer: PartyId(0), session: false, .. }), "{err:?}");
    assert_eq!(me.recv(PartyId(2)).unwrap(), b"still here");
    assert_eq!(me.buffered_bytes(), 0);
}

#[test]
fn session_cap_bounds_all_links_together() {
    // 4 MiB per link but 6 MiB in all: two peers at 3 MiB each would cross it.
    let cfg = quick();
    let mut net = memory_network(3, cfg);
    let mut p2 = net.pop().unwrap();
    let mut me = net.pop().unwrap();
    let mut p0 = net.pop().unwrap();
    let frame = vec![0u8; MIB];
    for _ in 0..3 {
        p0.send(PartyId(1), &frame).unwrap();
    }
    let sent = (0..4).take_while(|_| p2.send(PartyId(1), &frame).is_ok()).count();
    assert_eq!(sent, 2);
    assert!(me.peak_buffered_bytes() <= cfg.max_buffered_bytes);
    let err = me.recv(PartyId(2)).unwrap_err();
    assert!(
        matches!(err, Error::MemoryCap { session: true, cap, .. } if cap == 6 * MIB),
        "{err:?}"
    );
    for _ in 0..3 {
        assert_eq!(me.recv(PartyId(0)).unwrap().len(), MIB);
    }
}

#[test]
fn honest_traffic_near_the_cap_flows_indefinitely() {
    // 3 MiB queued at a time under a 4 MiB cap, 20 times over: reads must give the budget back.
    for transport in [Transport::Memory, Transport::TcpLoopback] {
        let runs = harness::run_parties(2, transport, quick(), |ch| {
            let peer = ch.peers()[0];
            let frame = vec![ch.party().index() as u8; MIB];
            for _ in 0..20 {
                for _ in 0..3 {
                    ch.send(peer, &frame)?;
                }
                for _ in 0..3 {
                    ch.recv_exact(peer, MIB)?;
                }
                // A barrier, so neither side runs a batch ahead of the other's reads.
                ch.exchange(peer, b"done")?;
            }
            Ok::<_, Error>(())
        })
        .unwrap();
        for r in runs {
            r.output.unwrap_or_else(|e| panic!("{transport}: {e}"));
        }
    }
}
