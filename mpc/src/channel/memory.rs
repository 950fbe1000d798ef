//! In-process links for tests and single-process benchmarks.
//!
//! Queues are unbounded by count but not by bytes: a send is charged to the receiver's
//! [`BufferBudget`] when it enters the queue, as a TCP reader charges what it takes off the wire.
//! A send that would cross a cap cuts the link instead (the sender gets
//! [`Error::PeerDisconnected`], the receiver [`Error::MemoryCap`]).

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, unbounded};

use super::budget::{BufferBudget, LinkBudget, queued_cost};
use super::{Channel, ChannelConfig, ChannelStats, Counters, check_peer};
use crate::{Error, PartyId, Result};

/// One end of a directed link: the queue and the receiver's budget for it.
struct End<Q> {
    queue: Q,
    budget: LinkBudget,
}

type Outgoing = Option<End<Sender<Vec<u8>>>>;
type Incoming = Option<End<Receiver<Vec<u8>>>>;

/// One party's end of an in-memory network made by [`memory_network`].
///
/// Dropping it disconnects the party: peers then get [`Error::PeerDisconnected`] once they have
/// read what it sent before leaving.
pub struct MemoryChannel {
    me: PartyId,
    to: Vec<Outgoing>,
    from: Vec<Incoming>,
    config: ChannelConfig,
    counters: Counters,
    budget: BufferBudget,
}

/// Builds a fully connected in-memory network of `n` parties; entry `i` belongs to party `i`.
pub fn memory_network(n: usize, config: ChannelConfig) -> Vec<MemoryChannel> {
    let budgets: Vec<BufferBudget> = (0..n).map(|_| BufferBudget::new(&config)).collect();
    let mut to: Vec<Vec<Outgoing>> = (0..n).map(|_| (0..n).map(|_| None).collect()).collect();
    let mut from: Vec<Vec<Incoming>> = (0..n).map(|_| (0..n).map(|_| None).collect()).collect();
    for i in 0..n {
        for j in 0..n {
            if i != j {
                let (tx, rx) = unbounded();
                let budget = budgets[j].link(PartyId(i as u16));
                to[i][j] = Some(End { queue: tx, budget: budget.clone() });
                from[j][i] = Some(End { queue: rx, budget });
            }
        }
    }
    to.into_iter()
        .zip(from)
        .zip(budgets)
        .enumerate()
        .map(|(i, ((to, from), budget))| MemoryChannel {
            me: PartyId(i as u16),
            to,
            from,
            config,
            counters: Counters::default(),
            budget,
        })
        .collect()
}

impl MemoryChannel {
    /// Bytes peers have queued for this party that it has not read yet.
    pub fn buffered_bytes(&self) -> usize {
        self.budget.buffered()
    }

    /// The most this party has held unread at once.
    pub fn peak_buffered_bytes(&self) -> usize {
        self.budget.peak()
    }

    /// Drops the link from `from` after it was cut, releasing what it had queued.
    fn drop_cut_link(&mut self, from: PartyId) -> Error {
        let Some(end) = self.from[from.index()].take() else {
            return Error::PeerDisconnected { peer: from };
        };
        while let Ok(msg) = end.queue.try_recv() {
            end.budget.release(queued_cost(msg.len()));
        }
        end.budget.cut_error().unwrap_or(Error::PeerDisconnected { peer: from })
    }
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
        if link.budget.charge(queued_cost(payload.len())).is_err() {
            // The receiver cut us off: it reports the cap, we see a closed link.
            self.to[to.index()] = None;
            return Err(Error::PeerDisconnected { peer: to });
        }
        if link.queue.send(payload.to_vec()).is_err() {
            link.budget.release(queued_cost(payload.len()));
            return Err(Error::PeerDisconnected { peer: to });
        }
        self.counters.on_send(payload.len());
        Ok(())
    }

    fn recv(&mut self, from: PartyId) -> Result<Vec<u8>> {
        check_peer(self.me, from, self.num_parties())?;
        let link =
            self.from[from.index()].as_ref().ok_or(Error::PeerDisconnected { peer: from })?;
        if link.budget.is_cut() {
            return Err(self.drop_cut_link(from));
        }
        let msg = match link.queue.recv_timeout(self.config.recv_timeout) {
            Ok(msg) => msg,
            Err(RecvTimeoutError::Timeout) => {
                return Err(Error::Timeout { peer: from, after: self.config.recv_timeout });
            }
            Err(RecvTimeoutError::Disconnected) if link.budget.is_cut() => {
                return Err(self.drop_cut_link(from));
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Error::PeerDisconnected { peer: from });
            }
        };
        link.budget.release(queued_cost(msg.len()));
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
