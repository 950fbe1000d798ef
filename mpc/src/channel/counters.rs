//! Byte, message and round counters shared by every transport.

use std::ops::Sub;

use super::FRAME_HEADER_BYTES;

/// What crossed one party's links, counted exactly (framing included).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChannelStats {
    /// Bytes this party put on the wire, headers included.
    pub bytes_sent: u64,
    /// Bytes this party took off the wire, headers included.
    pub bytes_received: u64,
    /// Frames sent.
    pub messages_sent: u64,
    /// Frames received.
    pub messages_received: u64,
    /// Communication rounds: maximal runs of sends not interrupted by a receive.
    pub rounds: u64,
}

impl Sub for ChannelStats {
    type Output = ChannelStats;

    /// The traffic between two snapshots of the same channel.
    fn sub(self, earlier: ChannelStats) -> ChannelStats {
        ChannelStats {
            bytes_sent: self.bytes_sent - earlier.bytes_sent,
            bytes_received: self.bytes_received - earlier.bytes_received,
            messages_sent: self.messages_sent - earlier.messages_sent,
            messages_received: self.messages_received - earlier.messages_received,
            rounds: self.rounds - earlier.rounds,
        }
    }
}

/// Mutable counters kept by a transport.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    stats: ChannelStats,
    last_was_send: bool,
}

impl Counters {
    pub(crate) fn on_send(&mut self, payload_len: usize) {
        self.stats.bytes_sent += payload_len as u64 + FRAME_HEADER_BYTES;
        self.stats.messages_sent += 1;
        if !self.last_was_send {
            self.stats.rounds += 1;
            self.last_was_send = true;
        }
    }

    pub(crate) fn on_recv(&mut self, payload_len: usize) {
        self.stats.bytes_received += payload_len as u64 + FRAME_HEADER_BYTES;
        self.stats.messages_received += 1;
        self.last_was_send = false;
    }

    pub(crate) fn snapshot(&self) -> ChannelStats {
        self.stats
    }
}
