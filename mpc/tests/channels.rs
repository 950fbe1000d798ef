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

fn quick() -> ChannelConfig {
    ChannelConfig { max_frame_bytes: 1 << 20, recv_timeout: Duration::from_millis(500) }
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
    let cfg = ChannelConfig { max_frame_bytes: 64 << 20, ..quick() };
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

/// A raw peer that speaks our hello and then misbehaves on the wire.
fn raw_peer_then<F: FnOnce(TcpStream) + Send + 'static>(behaviour: F) -> Result<Vec<u8>, Error> {
    let (listeners, addrs) = bind_loopback(2).unwrap();
    let target = addrs[0];
    let evil = thread::spawn(move || {
        let mut s = TcpStream::connect(target).unwrap();
        let mut hello = b"TESSERA1".to_vec();
        hello.extend_from_slice(&1u16.to_le_bytes());
        s.write_all(&hello).unwrap();
        behaviour(s);
    });
    let mut ch = TcpChannel::connect(PartyId(0), &listeners[0], &addrs, quick()).unwrap();
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
        // Three simultaneous exchanges: each waits one one-way latency, ≥ 3 × 20 ms.
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
        assert!(lat >= Duration::from_millis(60), "{lat:?}");
        assert!(bw >= Duration::from_millis(100), "{bw:?}");
        assert_eq!(stats.bytes_sent, 3 * (4 + 4) + 100_000 + 4);
    }
    // A wrapped channel reports the same party and size.
    let net = memory_network(2, quick());
    let s = ShapedChannel::new(net.into_iter().next().unwrap(), shape);
    assert_eq!((s.party(), s.num_parties()), (PartyId(0), 2));
}
