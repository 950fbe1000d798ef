//! Oblivious transfer for Tessera: maliciously secure base OT and OT extension (KOS15 and
//! SoftSpokenOT) producing correlated, random and chosen-message OT of 128-bit strings.
//!
//! Layer: above `mpc` (channels, PRG, commitments), below `protocols` (SPDZ/MASCOT triples).
//! Dependencies: `tessera-mpc` and primitive crates only (`curve25519-dalek`, `aes`, `polyval`,
//! `sha2`, `subtle`, `zeroize`).
//!
//! # API
//! - [`base::send`] / [`base::receive`]: a batch of random 1-out-of-2 OTs over Ristretto255.
//! - [`kos::Sender`] / [`kos::Receiver`] (KOS15) and [`softspoken::Sender`] /
//!   [`softspoken::Receiver`] (SoftSpokenOT, k ∈ {2, 4, 8}) share one interface:
//!   - `setup(ch, peer, session, prg)` (SoftSpoken: `setup(ch, peer, k, session, prg)`) runs
//!     the base OTs once, bound to `session` (a [`tessera_mpc::SessionId`] both parties pass);
//!   - `Sender::delta()` is the global correlation Δ;
//!   - `Sender::correlated(ch, n) -> Vec<u128>` (the `q_i`) with
//!     `Receiver::correlated(ch, &choices) -> Vec<u128>` (the `t_i = q_i ⊕ b_i·Δ`);
//!   - `Sender::random(ch, n) -> Vec<[u128; 2]>` with `Receiver::random(ch, n) -> (bits, msgs)`;
//!   - `Sender::chosen(ch, &pairs)` with `Receiver::chosen(ch, &choices) -> Vec<u128>`.
//!
//!   Calls can be repeated after one setup (each continues the same PRG streams and runs its own
//!   consistency check); the two parties must make matching calls in the same order. After any
//!   failed call the object is locked: later calls return [`Error::Aborted`].
//! - [`ferret`]: Ferret silent correlated OT (primal LPN with regular noise, bootstrapped;
//!   malicious): `ferret::Sender::setup(ch, peer, session, prg)` (or `setup_with(.., params, ..)`),
//!   `Sender::delta()`, `Sender::random_cot(ch, n) -> Vec<u128>` (the `q_i`) with
//!   `Receiver::random_cot(ch, n) -> (bits, t)`, `t_i = q_i ⊕ b_i·Δ`, at under half a bit of
//!   communication per COT in steady state.
//! - [`vole`]: malicious random and chosen-input VOLE over a prime field (the SPDZ field):
//!   [`vole::Receiver`] (the Δ holder, keys `k_i`) and [`vole::Sender`] (`u_i`,
//!   `m_i = k_i + u_i·Δ`), Wolverine's sVOLE extension (COPEe base VOLE, GGM single-point
//!   VOLE with the malicious check, primal LPN, bootstrapping); `setup`, `random(ch, n)`,
//!   `chosen`.
//! - [`hash`]: the fixed-key-AES correlation-robust hashes of Guo–Katz–Wang–Yu.
//!
//! ```
//! use tessera_mpc::{Channel, PartyId, Prg, SessionId, harness};
//! use tessera_ot::softspoken;
//!
//! let runs = harness::run_in_memory(2, |ch: &mut dyn Channel| -> tessera_ot::Result<_> {
//!     let mut prg = Prg::from_entropy();
//!     let session = SessionId::agree(ch, b"example")?;
//!     if ch.party() == PartyId(0) {
//!         let mut s = softspoken::Sender::setup(ch, PartyId(1), 4, &session, &mut prg)?;
//!         s.chosen(ch, &[[10, 11], [20, 21], [30, 31]])?;
//!         Ok(Vec::new())
//!     } else {
//!         let mut r = softspoken::Receiver::setup(ch, PartyId(0), 4, &session, &mut prg)?;
//!         r.chosen(ch, &[true, false, true])
//!     }
//! });
//! assert_eq!(runs[1].output.as_ref().unwrap(), &vec![11, 20, 31]);
//! ```
//!
//! Features: none.
//!
//! Security note: everything here is secure against a malicious peer with κ = 128 computational
//! and σ = 64 statistical security (each module's doc names its paper and section), in the
//! combined sense of KOS15 (§3, Theorem 1): a malicious OT-extension receiver can still *try*
//! to learn t bits of the sender's Δ by a selective failure — in KOS with a row whose choice bits
//! differ across columns, in SoftSpokenOT also by corrupting GGM level sums at setup, which makes
//! the check pass exactly when the targeted Δ bits are 0 — and it succeeds only with probability
//! 2^-t of not being caught, leaving 128 − t bits to guess. That bound allows one try per Δ, so a
//! failed call locks the object ([`Error::Aborted`]) and a failed check
//! ([`Error::ConsistencyCheck`]) means the peer cheated: abort the session, do not retry with
//! that peer. Every proof, commitment, challenge and key hash is bound to the caller's
//! [`tessera_mpc::SessionId`] and both party ids, so nothing replays across sessions or reflects
//! between the two directions; the session id must be fresh (e.g. [`tessera_mpc::SessionId::agree`]).
//! The channel authenticates nobody; the node runs it over mutually authenticated TLS.
//! Constant time: secrets are combined with masks, not branches, except SoftSpoken's
//! GGM-tree reconstruction at setup, whose memory access pattern depends on Δ (once per setup).

#![forbid(unsafe_code)]

pub mod base;
mod block;
mod error;
mod ext;
pub mod ferret;
pub mod hash;
pub mod kos;
pub mod softspoken;
pub mod vole;

pub use block::Block;
pub use error::{Error, Result};

#[cfg(test)]
mod attack_tests;
