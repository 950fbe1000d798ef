//! The one error type of `tessera-ot`.

/// Everything that can go wrong in an OT protocol.
///
/// Transport failures (from the channel), a peer caught cheating, malformed peer messages and
/// caller misuse are separate variants, so a caller can tell "the network broke" from "the peer
/// is malicious" from "we called it wrong".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The channel failed: the peer disconnected, timed out, or sent a frame of the wrong size.
    #[error(transparent)]
    Channel(#[from] tessera_mpc::Error),
    /// The OT-extension consistency check failed: the receiver's rows do not all encode the same
    /// choice bits, so it tried to learn bits of the sender's global Δ. Abort the session.
    #[error("OT extension consistency check failed: the receiver sent inconsistent rows")]
    ConsistencyCheck,
    /// Ferret's SPCOT consistency check failed at the COT receiver: the sender's GGM trees (or
    /// its check digest) are inconsistent with every honest run, so it cheated. Abort the session.
    #[error("Ferret SPCOT consistency check failed: the sender sent inconsistent GGM trees")]
    SpcotCheck,
    /// The receiver's commitment to its share of the check's challenge seed did not open (a
    /// cheater, or a commitment replayed from another session, direction or call).
    #[error("the receiver's challenge commitment does not open")]
    CommitmentMismatch,
    /// A base-OT message holds a byte string that is not a canonical Ristretto255 point, or the
    /// identity where a non-trivial point is required.
    #[error("base OT: invalid group element from the peer")]
    InvalidPoint,
    /// The base-OT sender's proof of knowledge of its secret exponent does not verify.
    #[error("base OT: the sender's proof of knowledge does not verify")]
    InvalidProof,
    /// A message from the peer had the wrong length for the protocol step.
    #[error("malformed message: {got} bytes where {expected} were expected")]
    BadMessage {
        /// The expected length in bytes.
        expected: usize,
        /// The received length in bytes.
        got: usize,
    },
    /// A VOLE consistency check failed (module [`crate::vole`]): the base-VOLE check (the
    /// non-Δ party's COPEe inputs were inconsistent) or the single-point check (a malformed GGM
    /// tree, a wrong correction or check value, or a Δ holder that used two different Δs).
    /// The named step says which. Abort the session.
    #[error("VOLE consistency check failed ({0}): the peer cheated")]
    VoleCheck(&'static str),
    /// An earlier call on this extension object failed (a failed check, a commitment that did
    /// not open, a malformed message or a broken channel), so it refuses every later call. A
    /// failed check may already have told a cheating receiver a bit of Δ; a retry would tell it
    /// another, and after a channel error the two parties' streams are out of step.
    #[error("OT extension aborted after an earlier failure; set up a new session")]
    Aborted,
    /// The caller asked for something impossible (an unsupported parameter, mismatched lengths).
    #[error("misuse: {0}")]
    Misuse(&'static str),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Receives a message from `peer` that must be exactly `len` bytes long.
pub(crate) fn recv_exact<C: tessera_mpc::Channel + ?Sized>(
    ch: &mut C,
    peer: tessera_mpc::PartyId,
    len: usize,
) -> Result<Vec<u8>> {
    let msg = ch.recv(peer)?;
    if msg.len() != len {
        return Err(Error::BadMessage { expected: len, got: msg.len() });
    }
    Ok(msg)
}
