//! The one error type of `tessera-mpc`.

use std::time::Duration;

use crate::PartyId;

/// Everything that can go wrong in the foundation layer.
///
/// Transport failures, malformed input from a peer, and caller misuse are kept apart so that a
/// protocol can tell "the network broke" from "a peer sent garbage" from "we called it wrong".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A peer announced or sent a frame larger than the configured maximum.
    #[error("frame of {len} bytes from party {peer} exceeds the maximum of {max} bytes")]
    FrameTooLarge {
        /// The peer that sent it.
        peer: PartyId,
        /// The announced length.
        len: u64,
        /// The configured maximum.
        max: usize,
    },
    /// The stream ended inside a frame.
    #[error("truncated frame from party {peer}: expected {expected} bytes, got {got}")]
    TruncatedFrame {
        /// The peer that sent it.
        peer: PartyId,
        /// Bytes the frame header promised (header included).
        expected: u64,
        /// Bytes that arrived before the stream ended.
        got: u64,
    },
    /// A peer made this party buffer more unread bytes than a configured cap allows; the link to
    /// it was cut and what it had queued was dropped.
    #[error(
        "party {peer} would have made this party buffer {buffered} unread bytes, over the {} cap \
         of {cap}; its link was cut",
        if *session { "session" } else { "per-link" }
    )]
    MemoryCap {
        /// The peer whose bytes crossed the cap.
        peer: PartyId,
        /// What the link (or, for the session cap, the session) would have held.
        buffered: usize,
        /// The cap that was crossed.
        cap: usize,
        /// Whether the session-wide cap, rather than the link's own, was crossed.
        session: bool,
    },
    /// The peer closed its side or its process went away.
    #[error("party {peer} disconnected")]
    PeerDisconnected {
        /// The peer that vanished.
        peer: PartyId,
    },
    /// Nothing arrived from a peer within the receive timeout.
    #[error("timed out after {after:?} waiting for party {peer}")]
    Timeout {
        /// The silent peer.
        peer: PartyId,
        /// The timeout that elapsed.
        after: Duration,
    },
    /// An operating-system I/O error on a link.
    #[error("I/O error on the link to party {peer}: {source}")]
    Io {
        /// The peer at the other end of the link.
        peer: PartyId,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Setting up a network failed (bind, connect, handshake).
    #[error("network setup failed: {0}")]
    Setup(String),
    /// Bytes do not encode an element canonically (out of range or wrong length).
    #[error("non-canonical encoding of {what}")]
    NonCanonical {
        /// The type being decoded.
        what: &'static str,
    },
    /// A message had the wrong length for what the protocol expected.
    #[error("message of {got} bytes where {expected} were expected")]
    BadLength {
        /// The expected length in bytes.
        expected: usize,
        /// The received length in bytes.
        got: usize,
    },
    /// A commitment did not open to the claimed value.
    #[error("commitment opening does not match")]
    CommitmentMismatch,
    /// A peer's opening in a commit-and-open step did not match its commitment (a cheater, or a
    /// replay from another session, step or instance).
    #[error("party {peer}'s opening in step {step} does not match its commitment")]
    OpeningMismatch {
        /// The peer whose opening failed.
        peer: PartyId,
        /// The protocol step.
        step: &'static str,
    },
    /// A peer sent back this party's own commitment or nonce (a reflection attack).
    #[error("party {peer} reflected this party's own message in step {step}")]
    Reflected {
        /// The reflecting peer.
        peer: PartyId,
        /// The protocol step.
        step: &'static str,
    },
    /// An earlier check failed; this object refuses further use.
    #[error("aborted after an earlier failure; refusing to go on")]
    Aborted,
    /// The caller asked for something impossible (bad party id, zero parties, ...).
    #[error("misuse: {0}")]
    Misuse(&'static str),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
