//! Bounded resources against a hostile participant (issue #20, item 5): a peer that completes
//! the mutual-TLS handshake and the hello as a real participant, then announces a 4 GiB frame,
//! opens 10,000 streams, or trickles a frame a byte at a time. Each is cut off (or gets
//! nothing) with the honest node's receive buffers under the stated cap.
//!
//! The attacker speaks raw QUIC through this module's own `dial` (so the hello is the real
//! one) and then writes whatever bytes it likes on the link's stream.

use std::time::{Duration, Instant};

use super::*;
use tessera_ledger::Did;

const MIB: usize = 1 << 20;

/// Two participants: `honest` (party 0, a real [`QuicChannel`]) and a raw attacker (party 1).
/// `honest` runs on its own thread with `configure`d limits; `attack` gets the attacker's
/// established link (after the hello) on a runtime of its own.
fn with_attacker<T: Send>(
    configure: impl Fn(&mut ChannelConfig),
    honest: impl FnOnce(&mut QuicChannel) -> T + Send,
    attack: impl AsyncFnOnce(Connection, SendStream, RecvStream),
) -> T {
    let keys: Vec<rcgen::KeyPair> =
        (0..2).map(|_| rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap()).collect();
    let parties: Vec<PeerInfo> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| PeerInfo {
            did: Did::tessera(&format!("p{i}")).unwrap(),
            addr: crate::home::free_loopback_addr().unwrap(),
            tls_key: k.public_key_raw().try_into().unwrap(),
        })
        .collect();
    let mut cfg = MeshConfig::new("limits", 0, parties.clone());
    configure(&mut cfg.channel);
    let pkcs8 = keys[0].serialize_der();
    let attacker_pkcs8 = keys[1].serialize_der();
    std::thread::scope(|s| {
        let h = s.spawn(move || {
            let mut ch = QuicChannel::connect(&pkcs8, &cfg).unwrap();
            honest(&mut ch)
        });
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let transport = transport_config(Duration::from_secs(10)).unwrap();
            let client = tls::client_config(&attacker_pkcs8, &parties[0]).unwrap();
            let qcc = quinn::crypto::rustls::QuicClientConfig::try_from(client).unwrap();
            let mut cc = quinn::ClientConfig::new(Arc::new(qcc));
            cc.transport_config(transport);
            let ep = Endpoint::client(parties[1].addr).unwrap();
            let hello = Hello { job: "limits".into(), party: 1, did: parties[1].did.to_string() };
            let deadline = Instant::now() + Duration::from_secs(30);
            let (_, (conn, s, r)) =
                dial(ep, cc, 0, parties[0].clone(), hello, deadline).await.unwrap();
            attack(conn, s, r).await;
        });
        h.join().unwrap()
    })
}

/// Writes `bytes` (in 64 KiB pieces) until done or the peer stops reading; returns how much went.
async fn pour(s: &mut SendStream, total: usize) -> usize {
    let chunk = vec![0xA5u8; 64 << 10];
    let mut sent = 0;
    while sent < total {
        match tokio::time::timeout(Duration::from_secs(5), s.write_all(&chunk)).await {
            Ok(Ok(())) => sent += chunk.len(),
            _ => break,
        }
    }
    sent
}

#[test]
fn a_4_gib_frame_header_is_refused_or_cut_at_the_link_cap() {
    // Default frame limit (256 MiB): the header alone is refused, nothing is allocated.
    let (err, peak) = with_attacker(
        |_| {},
        |ch| {
            let e = ch.recv(crate::pid(1)).unwrap_err();
            (e, ch.peak_buffered_bytes())
        },
        async |_c, mut s, _r| {
            s.write_all(&u32::MAX.to_le_bytes()).await.unwrap();
            tokio::time::sleep(Duration::from_millis(500)).await;
        },
    );
    assert!(
        matches!(err, tessera_mpc::Error::FrameTooLarge { len, .. } if len == u32::MAX as u64),
        "{err}"
    );
    assert_eq!(peak, 0, "nothing is held for a refused header");

    // A node that accepts 4 GiB frames: the frame grows only as bytes arrive, and the link is
    // cut when it would pass the 4 MiB per-link cap, however much the attacker pours in.
    let (err, peak) = with_attacker(
        |c| {
            c.max_frame_bytes = u32::MAX as usize;
            c.max_buffered_bytes_per_link = 4 * MIB;
            c.max_buffered_bytes = 8 * MIB;
        },
        |ch| {
            let e = ch.recv(crate::pid(1)).unwrap_err();
            (e, ch.peak_buffered_bytes())
        },
        async |_c, mut s, _r| {
            s.write_all(&u32::MAX.to_le_bytes()).await.unwrap();
            let sent = pour(&mut s, 64 * MIB).await;
            assert!(sent < 64 * MIB, "the honest node kept reading past its cap ({sent} bytes)");
        },
    );
    assert!(
        matches!(err, tessera_mpc::Error::MemoryCap { session: false, cap, .. } if cap == 4 * MIB),
        "{err}"
    );
    assert!(peak <= 4 * MIB, "held {peak} bytes");
}

#[test]
fn ten_thousand_streams_get_no_credit_and_the_link_still_works() {
    let (frame, peak) = with_attacker(
        |_| {},
        |ch| {
            let m = ch.recv(crate::pid(1)).unwrap();
            (m, ch.peak_buffered_bytes())
        },
        async |c, mut s, _r| {
            // The link's one bidirectional stream is the only one allowed: no further stream,
            // either kind, is granted credit, so none can carry a byte to the honest node.
            let mut opened = 0;
            let deadline = Instant::now() + Duration::from_secs(3);
            for _ in 0..10_000 {
                let left = deadline.saturating_duration_since(Instant::now());
                if let Ok(Ok(_)) = tokio::time::timeout(left, c.open_bi()).await {
                    opened += 1;
                }
                if Instant::now() >= deadline {
                    break;
                }
            }
            let uni = tokio::time::timeout(Duration::from_millis(300), c.open_uni()).await;
            assert_eq!(opened, 0, "extra bidirectional streams opened");
            assert!(!matches!(uni, Ok(Ok(_))), "a unidirectional stream opened");
            write_frame(&mut s, b"still one link").await.unwrap();
            tokio::time::sleep(Duration::from_millis(500)).await;
        },
    );
    assert_eq!(frame, b"still one link");
    assert!(peak <= queued_cost(14), "held {peak} bytes");
}

#[test]
fn a_trickling_peer_times_out_holding_only_what_it_sent() {
    let started = Instant::now();
    let (err, peak) = with_attacker(
        |c| c.recv_timeout = Duration::from_secs(2),
        |ch| {
            let e = ch.recv(crate::pid(1)).unwrap_err();
            (e, ch.peak_buffered_bytes())
        },
        async |_c, mut s, _r| {
            // A 1 MiB frame, one byte every 100 ms: about 30 bytes before the receiver gives up.
            s.write_all(&(MIB as u32).to_le_bytes()).await.unwrap();
            for _ in 0..30 {
                if s.write_all(&[1]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        },
    );
    println!("trickle: {err} after {:?}, peak held {peak} bytes", started.elapsed());
    assert!(matches!(err, tessera_mpc::Error::Timeout { .. }), "{err}");
    // The frame buffer grows in steps of at most what has arrived (the first step is 64 KiB),
    // never to the announced 1 MiB.
    assert!(peak <= queued_cost(64 << 10), "held {peak} bytes");
}
