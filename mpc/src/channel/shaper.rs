//! A wrapper that gives any channel the bandwidth and latency of a wide-area link.
//!
//! Benchmarks run every party on one machine, where links are nearly free; wrapping each party's
//! channel in a [`ShapedChannel`] reproduces WAN figures. A send occupies the outgoing link for
//! `bytes · 8 / bandwidth` (the sender waits while its link is busy, as a saturated NIC would), and
//! each message becomes readable `latency` after it left. The departure stamp travels in an 8-byte
//! prefix that the counters do not report, so shaped and unshaped runs count the same bytes.
//! Stamps are wall-clock nanoseconds, so shaped parties must share a clock (one host).

use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{Channel, ChannelStats, FRAME_HEADER_BYTES};
use crate::{Error, PartyId, Result};

/// The bytes of the arrival stamp the shaper adds to every frame.
const STAMP_BYTES: usize = 8;

/// The shape of every outgoing link of a party.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkShape {
    /// Link bandwidth in megabits per second.
    pub bandwidth_mbps: f64,
    /// One-way latency.
    pub latency: Duration,
}

impl LinkShape {
    /// A link of `mbps` Mbit/s with a one-way latency of `latency_ms` milliseconds.
    pub fn new(mbps: f64, latency_ms: u64) -> Self {
        Self { bandwidth_mbps: mbps, latency: Duration::from_millis(latency_ms) }
    }

    fn transmit_time(&self, bytes: u64) -> Duration {
        Duration::from_secs_f64(bytes as f64 * 8.0 / (self.bandwidth_mbps * 1e6))
    }
}

/// Wraps a channel so that its sends obey a [`LinkShape`].
pub struct ShapedChannel<C> {
    inner: C,
    shape: LinkShape,
    link_free_at: Vec<Instant>,
}

impl<C: Channel> ShapedChannel<C> {
    /// Shapes every outgoing link of `inner`.
    pub fn new(inner: C, shape: LinkShape) -> Self {
        let n = inner.num_parties();
        Self { inner, shape, link_free_at: vec![Instant::now(); n] }
    }

    /// The wrapped channel.
    pub fn into_inner(self) -> C {
        self.inner
    }
}

fn now_nanos() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

impl<C: Channel> Channel for ShapedChannel<C> {
    fn party(&self) -> PartyId {
        self.inner.party()
    }

    fn num_parties(&self) -> usize {
        self.inner.num_parties()
    }

    fn send(&mut self, to: PartyId, payload: &[u8]) -> Result<()> {
        let slot =
            self.link_free_at.get_mut(to.index()).ok_or(Error::Misuse("party id out of range"))?;
        let start = (*slot).max(Instant::now());
        let done = start + self.shape.transmit_time(payload.len() as u64 + FRAME_HEADER_BYTES);
        *slot = done;
        let wait = done.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            thread::sleep(wait);
        }
        let arrival = now_nanos() + self.shape.latency.as_nanos() as u64;
        let mut framed = Vec::with_capacity(STAMP_BYTES + payload.len());
        framed.extend_from_slice(&arrival.to_le_bytes());
        framed.extend_from_slice(payload);
        self.inner.send(to, &framed)
    }

    fn recv(&mut self, from: PartyId) -> Result<Vec<u8>> {
        let mut framed = self.inner.recv(from)?;
        if framed.len() < STAMP_BYTES {
            return Err(Error::BadLength { expected: STAMP_BYTES, got: framed.len() });
        }
        let mut stamp = [0u8; STAMP_BYTES];
        stamp.copy_from_slice(&framed[..STAMP_BYTES]);
        let arrival = u64::from_le_bytes(stamp);
        let now = now_nanos();
        if arrival > now {
            // Never trust a peer's stamp to park us for long.
            let wait = Duration::from_nanos(arrival - now).min(self.shape.latency * 2);
            thread::sleep(wait);
        }
        framed.drain(..STAMP_BYTES);
        Ok(framed)
    }

    fn begin_step(&mut self, step: &'static str) {
        self.inner.begin_step(step);
    }

    fn stats(&self) -> ChannelStats {
        let mut s = self.inner.stats();
        s.bytes_sent -= s.messages_sent * STAMP_BYTES as u64;
        s.bytes_received -= s.messages_received * STAMP_BYTES as u64;
        s
    }
}
