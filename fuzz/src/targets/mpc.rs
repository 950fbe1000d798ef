//! The MPC foundation's decoders: TCP channel frames (the real reader thread, over loopback) and
//! canonical field-element encodings (every OT and SPDZ message carries them).
//!
//! Frames: the input is the raw byte stream a peer sends after its hello. A reference parser of
//! the frame format says which payloads must arrive, in order, and which typed error must end
//! the stream (truncated frame, frame over the maximum, or disconnect); the channel must agree
//! exactly, and its buffer accounting must return to zero. Fields: accepted bytes re-encode to
//! themselves and every element is below the modulus.

use std::io::Write;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::Duration;

use tessera_mpc::channel::TcpChannel;
use tessera_mpc::{Channel, ChannelConfig, Error, Field, Fp127, PartyId, Ring, Z64};

use crate::target::{SMALL_FIXED, Target, Verdict};

const MAX_FRAME: usize = 1024;

fn config() -> ChannelConfig {
    ChannelConfig {
        max_frame_bytes: MAX_FRAME,
        recv_timeout: Duration::from_secs(10),
        // Above anything one input can queue (16 KiB of zero-length frames at 64 bytes each),
        // so the cap never depends on how fast this thread reads.
        max_buffered_bytes_per_link: 1 << 20,
        max_buffered_bytes: 2 << 20,
    }
}

/// What the reference parser expects at the end of the stream.
#[derive(Debug, PartialEq, Eq)]
enum End {
    Disconnected,
    Truncated,
    TooLarge,
}

fn reference(stream: &[u8]) -> (Vec<&[u8]>, End) {
    let mut frames = Vec::new();
    let mut rest = stream;
    loop {
        if rest.is_empty() {
            return (frames, End::Disconnected);
        }
        let Some((head, body)) = rest.split_first_chunk::<4>() else {
            return (frames, End::Truncated);
        };
        let len = u32::from_le_bytes(*head) as usize;
        if len > MAX_FRAME {
            return (frames, End::TooLarge);
        }
        let Some((payload, tail)) = body.split_at_checked(len) else {
            return (frames, End::Truncated);
        };
        frames.push(payload);
        rest = tail;
    }
}

fn check_frames(data: &[u8]) -> Verdict {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let peer = TcpStream::connect(addr).expect("connect");
    let mut hello = b"TESSERA1".to_vec();
    hello.extend_from_slice(&1u16.to_le_bytes());
    // Party 0 accepts party 1: write the hello and the stream, then end it, before the channel
    // even reads (the kernel buffers a few KiB).
    let writer = std::thread::spawn({
        let data = data.to_vec();
        let mut s = peer.try_clone().expect("clone");
        move || {
            let _ = s.write_all(&hello);
            let _ = s.write_all(&data);
            let _ = s.shutdown(Shutdown::Write);
        }
    });
    let mut ch = TcpChannel::connect(PartyId(0), &listener, &[addr, addr], config())
        .expect("the channel accepts our hello");
    let (expected, end) = reference(data);
    for (i, want) in expected.iter().enumerate() {
        match ch.recv(PartyId(1)) {
            Ok(got) => assert_eq!(&got, want, "frame {i} differs"),
            Err(e) => panic!("frame {i}: expected {} bytes, got error {e}", want.len()),
        }
    }
    let last = ch.recv(PartyId(1));
    let ok = matches!(
        (&end, &last),
        (End::Disconnected, Err(Error::PeerDisconnected { .. }))
            | (End::Truncated, Err(Error::TruncatedFrame { .. }))
            | (End::TooLarge, Err(Error::FrameTooLarge { .. }))
    );
    assert!(ok, "after {} frames expected {end:?}, got {last:?}", expected.len());
    assert!(ch.peak_buffered_bytes() <= config().max_buffered_bytes_per_link, "link cap");
    let _ = writer.join();
    let _ = peer.shutdown(Shutdown::Both);
    if expected.is_empty() { Verdict::Rejected(format!("{end:?}")) } else { Verdict::Accepted }
}

fn frame_seeds() -> Vec<Vec<u8>> {
    let frame = |p: &[u8]| [&(p.len() as u32).to_le_bytes()[..], p].concat();
    vec![
        [frame(b"hello"), frame(&[]), frame(&[7; 300])].concat(),
        frame(&[1; MAX_FRAME]),
        [frame(&Fp127::encode_slice(&[Fp127::from_u64(5); 8]))].concat(),
        vec![0, 0, 1],
    ]
}

fn field_round_trip<F: Ring>(bytes: &[u8]) -> Verdict {
    let r = F::decode_slice(bytes);
    if let Ok(v) = &r {
        assert_eq!(F::encode_slice(v), bytes, "{}: non-canonical bytes accepted", F::NAME);
        assert_eq!(v.len() * F::BYTES, bytes.len());
    }
    Verdict::of(&r)
}

fn check_field(data: &[u8]) -> Verdict {
    let Some((&which, rest)) = data.split_first() else {
        return Verdict::Rejected("empty".into());
    };
    match which % 3 {
        0 => {
            let v = field_round_trip::<Fp127>(rest);
            if let Ok(xs) = Fp127::decode_slice(rest) {
                for x in xs {
                    // Below the modulus: the canonical value is its own reduction.
                    let mut b = [0u8; 16];
                    x.write_le(&mut b);
                    assert!(u128::from_le_bytes(b) < Fp127::MODULUS, "Fp127 element ≥ p");
                }
            }
            v
        }
        1 => field_round_trip::<Z64>(rest),
        _ => {
            // `decode_exact` with the count the first byte names.
            let n = rest.first().map_or(0, |&b| usize::from(b));
            let r = Fp127::decode_exact(rest.get(1..).unwrap_or_default(), n);
            if let Ok(v) = &r {
                assert_eq!(v.len(), n);
            }
            Verdict::of(&r)
        }
    }
}

fn field_seeds() -> Vec<Vec<u8>> {
    let xs: Vec<Fp127> = (0..6).map(|i| Fp127::from_u64(i * 1_000_003)).collect();
    let zs: Vec<Z64> = (0..6).map(|i| Z64::from_u64(u64::MAX - i)).collect();
    vec![
        [&[0u8][..], &Fp127::encode_slice(&xs)].concat(),
        [&[1u8][..], &Z64::encode_slice(&zs)].concat(),
        [&[2u8, 6][..], &Fp127::encode_slice(&xs)].concat(),
        [&[0u8][..], &(Fp127::MODULUS - 1).to_le_bytes()].concat(),
    ]
}

/// The MPC targets.
pub fn targets() -> Vec<Target> {
    vec![
        Target {
            name: "mpc_frames",
            about: "TcpChannel reader: frame headers and payloads over loopback",
            seeds: frame_seeds,
            check: check_frames,
            max_len: 16 << 10,
            dict: &[b"\x00\x04\x00\x00", b"\x01\x04\x00\x00", b"\xff\xff\xff\xff"],
            // Decoding happens on the channel's reader thread; this thread only copies frames.
            alloc_fixed: SMALL_FIXED,
            ci_execs: 300,
        },
        Target {
            name: "mpc_field",
            about: "Ring::decode_slice / decode_exact for Fp127 and Z64",
            seeds: field_seeds,
            check: check_field,
            max_len: 2048,
            dict: &[],
            alloc_fixed: SMALL_FIXED,
            ci_execs: 4000,
        },
    ]
}
