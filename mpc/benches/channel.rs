//! Channel throughput: one party streams 1 MiB frames to the other, which echoes a tiny ack.
//!
//! `cargo bench -p tessera-mpc --bench channel`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tessera_mpc::harness::{Transport, run_parties};
use tessera_mpc::{Channel, ChannelConfig, PartyId};

const FRAME: usize = 1 << 20;
const FRAMES: usize = 64;

fn stream(ch: &mut dyn Channel) {
    let frame = vec![0xA5u8; FRAME];
    if ch.party() == PartyId(0) {
        for _ in 0..FRAMES {
            ch.send(PartyId(1), &frame).unwrap();
        }
        ch.recv(PartyId(1)).unwrap();
    } else {
        for _ in 0..FRAMES {
            assert_eq!(ch.recv(PartyId(0)).unwrap().len(), FRAME);
        }
        ch.send(PartyId(0), b"ack").unwrap();
    }
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("channel/throughput");
    g.throughput(Throughput::Bytes((FRAME * FRAMES) as u64));
    g.sample_size(10);
    for transport in [Transport::Memory, Transport::TcpLoopback] {
        g.bench_function(transport.to_string(), |b| {
            b.iter(|| run_parties(2, transport, ChannelConfig::default(), stream).unwrap())
        });
    }
    g.finish();
}

criterion_group!(channel, benches);
criterion_main!(channel);
