//! Tessera's secure computation protocols: maliciously secure SPDZ with MASCOT preprocessing,
//! fixed-point arithmetic, comparison and the ML building blocks that run on top.
//!
//! Layer: above `mpc` (fields, channels, PRG) and `ot` (oblivious transfer); below `federated`
//! and `node`. Protocol code is synchronous over [`tessera_mpc::Channel`].
//!
//! ```
//! use tessera_mpc::{Channel, Fp127, PartyId, Ring, harness};
//! use tessera_protocols::spdz::{Mascot, MascotConfig, Session};
//!
//! // Two parties multiply their private inputs; both learn only the product.
//! let runs = harness::run_in_memory(2, |ch: &mut dyn Channel| -> tessera_protocols::Result<_> {
//!     let me = ch.party();
//!     let config = MascotConfig { batch: 16, ..MascotConfig::default() };
//!     let prep = Mascot::<Fp127>::setup(ch, config)?;
//!     let mut s = Session::new(ch, prep);
//!     let mine = [Fp127::from_u64(6 + me.0 as u64)];
//!     let x = s.input(PartyId(0), (me == PartyId(0)).then_some(&mine[..]), 1)?;
//!     let y = s.input(PartyId(1), (me == PartyId(1)).then_some(&mine[..]), 1)?;
//!     let z = s.mul(&x, &y)?;
//!     s.output(&z)
//! });
//! for run in runs {
//!     assert_eq!(run.output.unwrap(), vec![Fp127::from_u64(42)]);
//! }
//! ```
//!
//! Features: `test-faults` lets tests make a party cheat at chosen points; never enable it in a
//! product build.
//!
//! Security note: malicious security with abort against up to n − 1 corrupt parties. Every
//! check failure aborts the session, and `Session`, `Mascot` and the OT extensions lock
//! ([`Error::Aborted`] afterwards); no value is output after a failure. A cheater can always
//! force an abort and may see an output before the others learn its check failed (no fairness).
//! Per check, in the 127-bit field: the MAC check passes altered values with probability at most
//! 2/p ≈ 2^-126, the sacrifice passes a bad triple with probability 1/p, MASCOT's authentication
//! check about 2/p; the OT-extension consistency check gives σ = 64 (2^-64), the weakest figure
//! of the stack. These hold because every coin they use is tossed on session-bound commitments
//! (`tessera_mpc::coin::Coins`: reflections and replays are refused, all commitments arrive
//! before any opening). Computational security κ = 128. The fixed-point protocols open values masked
//! with κ_s statistical bits, so each opened value's distribution is within 2^-κ_s of one that
//! does not depend on the secret: κ_s = 64 for [`fixed::FixedPoint::new`] and the default
//! (2^-64 per opened value, N·2^-64 for a session that opens N), lower only for formats built
//! with [`fixed::FixedPoint::with_widest_masks`] (never below 2^-40 per value; such callers
//! state their session figure). Channels must be authenticated (the node runs them over mutual
//! TLS).

#![forbid(unsafe_code)]

mod error;
pub mod fixed;
pub mod psi;
pub mod spdz;

pub use error::{Error, Result};
