//! The one error type of `tessera-protocols`.

/// Everything that can go wrong in a protocol run.
///
/// A failed check means some party cheated (or the network corrupted data): every honest party
/// aborts and outputs nothing further. Check failures name the check but carry no secret data,
/// so the error tells a cheater nothing it did not know.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The channel failed: a peer disconnected, timed out, or sent a malformed frame.
    #[error(transparent)]
    Channel(#[from] tessera_mpc::Error),
    /// The oblivious-transfer layer failed or caught a cheating peer.
    #[error(transparent)]
    Ot(#[from] tessera_ot::Error),
    /// The batched MAC check on opened values failed: some party lied about a share or a MAC.
    #[error("MAC check failed: an opened value or its MAC was altered")]
    MacCheck,
    /// Parties saw different broadcast messages (a party equivocated in an input or opening).
    #[error(
        "broadcast consistency check failed: a party sent different messages to different parties"
    )]
    BroadcastMismatch,
    /// A commitment in a coin toss or MAC check did not open (a cheater, or a commitment
    /// replayed from another session, step or instance).
    #[error("commitment in the {0} step does not open")]
    CommitmentMismatch(&'static str),
    /// A peer sent this party's own commitment back in a coin toss or MAC check.
    #[error("a peer reflected this party's commitment in the {0} step")]
    Reflected(&'static str),
    /// The check on authenticated values (MASCOT Fig. 7, used by MASCOT and VoleSpdz) failed: a
    /// value owner was inconsistent in COPEe or across its VOLEs.
    #[error("authentication check failed: a party authenticated inconsistent values")]
    AuthenticationCheck,
    /// The sacrifice step (MASCOT, VoleSpdz) found a triple with c ≠ a·b.
    #[error("sacrifice failed: a multiplication triple was incorrect")]
    Sacrifice,
    /// The matrix sacrifice found a matrix triple with C ≠ A·B (a party returned a wrong
    /// product or corrupted its share of C).
    #[error("matrix sacrifice failed: a matrix triple was incorrect")]
    MatrixSacrifice,
    /// The homomorphic-encryption layer refused: a peer sent a malformed key or ciphertext, or
    /// parameters were misused.
    #[error(transparent)]
    He(#[from] tessera_fhe::Error),
    /// The TEE dealer refused a batch: the computing parties' requests disagreed or were
    /// malformed (some party is out of step or cheating), or a party's link to it failed.
    #[error("the TEE dealer refused: the computing parties' requests disagree")]
    DealerRefused,
    /// A message from the TEE dealer had the wrong form.
    #[error("malformed message from the TEE dealer: {0}")]
    DealerMessage(&'static str),
    /// A previous check failed; the session refuses to go on.
    #[error("the session aborted after a failed check and outputs nothing further")]
    Aborted,
    /// The caller asked for something impossible (mismatched lengths, a bad party id, ...).
    #[error("misuse: {0}")]
    Misuse(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
