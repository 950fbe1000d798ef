//! The foundation of Tessera's MPC stack: the field and ring types shares live in, a fast seeded
//! PRG, commitments and transcripts, counted channels between parties, and additive sharing.
//!
//! Layer: the bottom of the stack (see `ARCHITECTURE.md`). It depends only on primitive crates
//! (`aes`, `sha2`, `subtle`, `zeroize`) and is imported by `ot`, `protocols` and everything above.
//!
//! ```
//! use tessera_mpc::{Channel, Fp127, Prg, Ring, harness, share};
//!
//! // Three parties add their private inputs; each learns only the sum.
//! let runs = harness::run_in_memory(3, |ch: &mut dyn Channel| {
//!     let me = ch.party().index();
//!     let mut prg = Prg::from_entropy();
//!     let input = [Fp127::from_u64(10 * (me as u64 + 1))];
//!     // Share the input: one share to each party.
//!     let shares = share::share(&input, 3, &mut prg)?;
//!     for peer in ch.peers() {
//!         ch.send(peer, &Fp127::encode_slice(&shares[peer.index()]))?;
//!     }
//!     let mut sum = shares[me][0];
//!     for peer in ch.peers() {
//!         sum += Fp127::decode_exact(&ch.recv(peer)?, 1)?[0];
//!     }
//!     // Open the sum of shares.
//!     ch.broadcast(&Fp127::encode_slice(&[sum]))?;
//!     for peer in ch.peers() {
//!         sum += Fp127::decode_exact(&ch.recv(peer)?, 1)?[0];
//!     }
//!     Ok::<_, tessera_mpc::Error>(sum)
//! });
//! for run in runs {
//!     assert_eq!(run.output.unwrap(), Fp127::from_u64(60));
//! }
//! ```
//!
//! Security note: the PRG is AES-128-CTR, so a seed must never be reused for two purposes (derive
//! children with [`Prg::next_seed`]). Channels authenticate nobody: the node layer runs them over
//! mutually authenticated TLS. Everything read from a channel is untrusted and decoded with
//! length and range checks ([`Ring::decode_exact`]).

#![forbid(unsafe_code)]

pub mod channel;
pub mod coin;
pub mod commit;
mod error;
pub mod field;
pub mod harness;
mod party;
mod prg;
mod session;
pub mod share;
mod transcript;

pub use channel::{Channel, ChannelConfig, ChannelStats};
pub use error::{Error, Result};
pub use field::{Field, Fp127, Ring, Z64};
pub use party::PartyId;
pub use prg::{Prg, Seed};
pub use session::SessionId;
pub use transcript::Transcript;
