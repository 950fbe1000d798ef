//! Framed, counted message links between numbered parties.
//!
//! A [`Channel`] is one party's view of the network: it can send a byte message to any other party
//! and receive the next message from any other party, in order per link. Every implementation counts
//! exactly what crosses the wire, so benchmarks print bytes and rounds next to time.
//!
//! Framing is the same for every transport: a 4-byte little-endian length, then the payload.
//! Counters include that header ([`FRAME_HEADER_BYTES`]) so in-memory and TCP figures agree byte for
//! byte.
//!
//! What a peer can make a party hold is bounded: frames are read incrementally (a header alone
//! allocates nothing), and bytes that arrived but were not read yet are charged to a per-link and a
//! per-session cap ([`ChannelConfig`], [`budget`]). A peer that crosses either is cut off and
//! `recv` from it returns [`Error::MemoryCap`].

#[cfg(feature = "test-adversary")]
pub mod adversary;
pub mod budget;
mod counters;
mod memory;
mod shaper;
mod tcp;

use std::time::Duration;

pub use counters::ChannelStats;
pub(crate) use counters::Counters;
pub use memory::{MemoryChannel, memory_network};
pub use shaper::{LinkShape, ShapedChannel};
pub use tcp::{TcpChannel, bind_loopback};

use crate::{Error, PartyId, Result};

/// Bytes of framing that precede every payload on the wire.
pub const FRAME_HEADER_BYTES: u64 = 4;

/// Limits that protect a party from a misbehaving or vanished peer.
///
/// Build it with `..ChannelConfig::default()` so that new limits get their defaults. Keep
/// `max_frame_bytes + FRAME_COST < max_buffered_bytes_per_link <= max_buffered_bytes` (a queued
/// frame is charged its length plus [`budget::FRAME_COST`]): a frame that does not fit a cap can
/// never be received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelConfig {
    /// The largest payload accepted from a peer; a bigger frame is an error, not an allocation.
    pub max_frame_bytes: usize,
    /// How long `recv` waits for a peer before giving up with [`Error::Timeout`].
    pub recv_timeout: Duration,
    /// The most one peer can make this party hold of frames it sent but this party has not read
    /// (the frame still arriving included). Crossing it cuts that link only.
    ///
    /// Default 512 MiB: one frame of the default maximum plus as much again queued behind it.
    /// Protocols send ahead of the reader (MASCOT queues several 8 MiB COPEe messages and ~25 MB
    /// of Gilboa corrections per batch), but tens of megabytes, not hundreds.
    pub max_buffered_bytes_per_link: usize,
    /// The most all peers together can make this party hold: the session cap. Crossing it cuts
    /// the link whose bytes crossed it (any cut aborts the computation, which needs every party).
    /// That peer need not be the one that filled the budget, so a `MemoryCap` error with
    /// `session: true` names no culprit; only the per-link cap does.
    ///
    /// Default 1 GiB: two full links, so with three parties only the per-link cap ever applies.
    pub max_buffered_bytes: usize,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        Self {
            max_frame_bytes: 256 << 20,
            recv_timeout: Duration::from_secs(60),
            max_buffered_bytes_per_link: 512 << 20,
            max_buffered_bytes: 1 << 30,
        }
    }
}

/// One party's links to every other party of a computation.
///
/// Messages on a link arrive in the order they were sent. `send` never waits for the receiver to
/// read (implementations buffer), so two parties may both send before they both receive.
pub trait Channel: Send {
    /// This party's id.
    fn party(&self) -> PartyId;

    /// The number of parties, including this one.
    fn num_parties(&self) -> usize;

    /// Sends one framed message to `to`.
    fn send(&mut self, to: PartyId, payload: &[u8]) -> Result<()>;

    /// Receives the next message from `from`, waiting at most the configured timeout.
    fn recv(&mut self, from: PartyId) -> Result<Vec<u8>>;

    /// Exact counters of what crossed this party's links so far.
    fn stats(&self) -> ChannelStats;

    /// Marks that the protocol begins `step` (e.g. `"spdz/mac-check/coins"`). Sends nothing:
    /// transports ignore it, wrappers may use it (tests attack one step exactly; tracing).
    fn begin_step(&mut self, step: &'static str) {
        let _ = step;
    }

    /// Every party but this one, in order.
    fn peers(&self) -> Vec<PartyId> {
        let me = self.party();
        PartyId::all(self.num_parties()).filter(|p| *p != me).collect()
    }

    /// Sends the same message to every other party.
    fn broadcast(&mut self, payload: &[u8]) -> Result<()> {
        for peer in self.peers() {
            self.send(peer, payload)?;
        }
        Ok(())
    }

    /// Receives one message from every other party; the entry for this party is empty.
    fn recv_from_all(&mut self) -> Result<Vec<Vec<u8>>> {
        let mut out = vec![Vec::new(); self.num_parties()];
        for peer in self.peers() {
            out[peer.index()] = self.recv(peer)?;
        }
        Ok(out)
    }

    /// Sends `payload` to `peer` and returns the message it sent in the same round.
    fn exchange(&mut self, peer: PartyId, payload: &[u8]) -> Result<Vec<u8>> {
        self.send(peer, payload)?;
        self.recv(peer)
    }

    /// Receives a message that must be exactly `len` bytes long.
    fn recv_exact(&mut self, from: PartyId, len: usize) -> Result<Vec<u8>> {
        let msg = self.recv(from)?;
        if msg.len() != len {
            return Err(Error::BadLength { expected: len, got: msg.len() });
        }
        Ok(msg)
    }
}

/// Checks that `peer` names another party of an `n`-party network.
pub(crate) fn check_peer(me: PartyId, peer: PartyId, n: usize) -> Result<()> {
    if peer == me {
        return Err(Error::Misuse("a party cannot message itself"));
    }
    if peer.index() >= n {
        return Err(Error::Misuse("party id out of range"));
    }
    Ok(())
}

macro_rules! forward_channel {
    ($($ty:ty),*) => {$(
        impl<C: Channel + ?Sized> Channel for $ty {
            fn party(&self) -> PartyId {
                (**self).party()
            }
            fn num_parties(&self) -> usize {
                (**self).num_parties()
            }
            fn send(&mut self, to: PartyId, payload: &[u8]) -> Result<()> {
                (**self).send(to, payload)
            }
            fn recv(&mut self, from: PartyId) -> Result<Vec<u8>> {
                (**self).recv(from)
            }
            fn stats(&self) -> ChannelStats {
                (**self).stats()
            }
            fn begin_step(&mut self, step: &'static str) {
                (**self).begin_step(step)
            }
        }
    )*};
}

forward_channel!(Box<C>, &mut C);
