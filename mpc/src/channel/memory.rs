//! In-process links for tests and single-process benchmarks.

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, unbounded};

use super::{Channel, ChannelConfig, ChannelStats, Counters, check_peer};
use crate::{Error, PartyId, Result};

/// One party's end of an in-memory network made by [`memory_network`].
///
/// Dropping it disconnects the party: peers then get [`Error::PeerDisconnected`] once they have
/// read what it sent before leaving.
pub struct MemoryChannel {
    me: PartyId,
    to: Vec<Option<Sender<Vec<u8>>>>,
    from: Vec<Option<Receiver<Vec<u8>>>>,
    config: ChannelConfig,
    counters: Counters,
}

/// Builds a fully connected in-memory network of `n` parties; entry `i` belongs to party `i`.
pub fn memory_network(n: usize, config: ChannelConfig) -> Vec<MemoryChannel> {
    let mut to: Vec<Vec<Option<Sender<Vec<u8>>>>> = (0..n).map(|_| vec![None; n]).collect();
    let mut from: Vec<Vec<Option<Receiver<Vec<u8>>>>> = (0..n).map(|_| vec![None; n]).collect();
    for i in 0..n {
        for j in 0..n {
            if i != j {
                let (tx, rx) = unbounded();
                to[i][j] = Some(tx);
                from[j][i] = Some(rx);
            }
        }
    }
    to.into_iter()
        .zip(from)
        .enumerate()
        .map(|(i, (to, from))| MemoryChannel {
            me: PartyId(i as u16),
            to,
            from,
            config,
            counters: Counters::default(),
        })
        .collect()
}

impl Channel for MemoryChannel {
    fn party(&self) -> PartyId {
        self.me
    }

    fn num_parties(&self) -> usize {
        self.to.len()
    }

    fn send(&mut self, to: PartyId, payload: &[u8]) -> Result<()> {
        check_peer(self.me, to, self.num_parties())?;
        let link = self.to[to.index()].as_ref().ok_or(Error::PeerDisconnected { peer: to })?;
        link.send(payload.to_vec()).map_err(|_| Error::PeerDisconnected { peer: to })?;
        self.counters.on_send(payload.len());
        Ok(())
    }

    fn recv(&mut self, from: PartyId) -> Result<Vec<u8>> {
        check_peer(self.me, from, self.num_parties())?;
        let link =
            self.from[from.index()].as_ref().ok_or(Error::PeerDisconnected { peer: from })?;
        let msg = link.recv_timeout(self.config.recv_timeout).map_err(|e| match e {
            RecvTimeoutError::Timeout => {
                Error::Timeout { peer: from, after: self.config.recv_timeout }
            }
            RecvTimeoutError::Disconnected => Error::PeerDisconnected { peer: from },
        })?;
        if msg.len() > self.config.max_frame_bytes {
            return Err(Error::FrameTooLarge {
                peer: from,
                len: msg.len() as u64,
                max: self.config.max_frame_bytes,
            });
        }
        self.counters.on_recv(msg.len());
        Ok(msg)
    }

    fn stats(&self) -> ChannelStats {
        self.counters.snapshot()
    }
}
