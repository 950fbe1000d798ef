//! Runs every party of a computation as a thread of one process.
//!
//! Tests and benchmarks write the party's program once, as a closure over its channel, and this
//! harness runs n copies over the chosen transport, returning each party's output, its exact
//! traffic and its wall time.

use std::thread;
use std::time::{Duration, Instant};

use crate::channel::{
    Channel, ChannelConfig, ChannelStats, LinkShape, ShapedChannel, TcpChannel, bind_loopback,
    memory_network,
};
use crate::{Error, PartyId, Result};

/// The links the parties talk over.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Transport {
    /// In-process queues.
    Memory,
    /// TCP over 127.0.0.1.
    TcpLoopback,
    /// In-process queues shaped to a WAN link.
    ShapedMemory(LinkShape),
    /// TCP loopback shaped to a WAN link.
    ShapedTcp(LinkShape),
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Memory => write!(f, "memory"),
            Transport::TcpLoopback => write!(f, "tcp-loopback"),
            Transport::ShapedMemory(s) | Transport::ShapedTcp(s) => {
                write!(f, "shaped {} Mbit/s {} ms", s.bandwidth_mbps, s.latency.as_millis())
            }
        }
    }
}

/// One party's result from a harness run.
#[derive(Debug)]
pub struct PartyRun<T> {
    /// Which party this was.
    pub party: PartyId,
    /// What its program returned.
    pub output: T,
    /// Its traffic.
    pub stats: ChannelStats,
    /// Its wall time, from start to return.
    pub elapsed: Duration,
}

/// Runs `program` once per party over already connected `channels`.
pub fn run_on<C, T, F>(channels: Vec<C>, program: F) -> Vec<PartyRun<T>>
where
    C: Channel,
    T: Send,
    F: Fn(&mut C) -> T + Sync,
{
    thread::scope(|scope| {
        let handles: Vec<_> = channels
            .into_iter()
            .map(|mut ch| {
                let program = &program;
                scope.spawn(move || {
                    let start = Instant::now();
                    let output = program(&mut ch);
                    let elapsed = start.elapsed();
                    PartyRun { party: ch.party(), output, stats: ch.stats(), elapsed }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

/// Connects `n` parties over `transport` and runs `program` once per party.
pub fn run_parties<T, F>(
    n: usize,
    transport: Transport,
    config: ChannelConfig,
    program: F,
) -> Result<Vec<PartyRun<T>>>
where
    T: Send,
    F: Fn(&mut dyn Channel) -> T + Sync,
{
    if n == 0 {
        return Err(Error::Misuse("a computation needs at least one party"));
    }
    let channels: Vec<Box<dyn Channel>> = match transport {
        Transport::Memory => boxed(memory_network(n, config)),
        Transport::ShapedMemory(shape) => boxed(
            memory_network(n, config).into_iter().map(|c| ShapedChannel::new(c, shape)).collect(),
        ),
        Transport::TcpLoopback => boxed(connect_loopback(n, config)?),
        Transport::ShapedTcp(shape) => boxed(
            connect_loopback(n, config)?
                .into_iter()
                .map(|c| ShapedChannel::new(c, shape))
                .collect(),
        ),
    };
    Ok(run_on(channels, |ch: &mut Box<dyn Channel>| program(ch.as_mut())))
}

/// Runs `program` over in-memory channels with default limits.
pub fn run_in_memory<T, F>(n: usize, program: F) -> Vec<PartyRun<T>>
where
    T: Send,
    F: Fn(&mut dyn Channel) -> T + Sync,
{
    let channels: Vec<Box<dyn Channel>> = boxed(memory_network(n, ChannelConfig::default()));
    run_on(channels, |ch: &mut Box<dyn Channel>| program(ch.as_mut()))
}

fn boxed<C: Channel + 'static>(v: Vec<C>) -> Vec<Box<dyn Channel>> {
    v.into_iter().map(|c| Box::new(c) as Box<dyn Channel>).collect()
}

/// Connects `n` TCP parties on loopback (each dials in its own thread, as separate hosts would).
pub fn connect_loopback(n: usize, config: ChannelConfig) -> Result<Vec<TcpChannel>> {
    let (listeners, addrs) = bind_loopback(n)?;
    thread::scope(|scope| {
        let handles: Vec<_> = listeners
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let addrs = &addrs;
                scope.spawn(move || TcpChannel::connect(PartyId(i as u16), l, addrs, config))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}
