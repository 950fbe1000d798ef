//! Maliciously secure **matrix triples** `([A], [B], [C = A·B])` from homomorphic encryption, for
//! SPDZ over `F_p`, `p = 2^127 − 1`, with `n ≥ 2` parties (pairwise cross terms).
//!
//! After Chen–Kim–Razenshteyn–Rotaru–Song–Wagh, "Maliciously secure matrix multiplication with
//! applications to private deep learning" (ASIACRYPT 2020, ePrint 2020/451, §4): the cross terms
//! `A_i·B_j` of the product of additively shared matrices come from HE, so the traffic is linear
//! in the matrix sizes, not in `m·k·n`. Steps of [`MatrixTripleGen::generate`]:
//!
//! 1. **Random shares.** Party i's `A_i`, `A'_i` (`m×k`) and `B_i` (`k×n`) are its own input masks
//!    from the session's [`crate::spdz::Preprocessing`] (`input_masks`): uniform, authenticated
//!    under the SPDZ MAC key, known in the clear to party i only. So authentication works with any
//!    source (MASCOT's COPEe, the TEE dealer, later VOLE).
//! 2. **Cross terms** (`tessera_fhe::matrix`, Cheetah's coefficient encoding, Huang et al. USENIX
//!    Security 2022 §3.1): party j encrypts the tiles of `B_j` under its own RLWE key and sends them
//!    to every peer; party i multiplies them by the tiles of `A_i` and of `A'_i`, adds uniform masks
//!    `R` on every coefficient, re-randomises with a **noise-flooded** encryption of zero (flooding
//!    `2^253 ≥ 2^64·N·2^18·B_honest`, see `tessera_fhe::matrix::params`) and returns; party j
//!    decrypts `A_i·B_j + R`, party i keeps `−R`.
//! 3. **Authentication of C, C'.** Each party opens `C_i − r` for fresh input masks `r` it owns;
//!    everyone adds the opening to the mask shares (SPDZ's input protocol, DPSZ CRYPTO 2012 §4).
//!    A party can input any value here; that is an additive error in `C`, which step 4 catches.
//! 4. **Matrix sacrifice** ([`sacrifice`] module docs): coin-tossed `t`, open `ρ = t·A − A'`, open
//!    `(t·C − C' − ρ·B)·r` for a coin-tossed Freivalds vector `r`, MAC-check both (and the views of
//!    every broadcast of step 3), require zero.
//!
//! Convolutions ([`Conv2dShape`], [`crate::spdz::Session::conv2d`]) are matrix products after
//! im2col, so they use matrix triples of the im2col shape (see the `conv` module's docs for the
//! cost of that choice).
//!
//! A [`MatrixTriple`] can only be built by the sacrifice after it passed (a private token type),
//! so no unchecked triple reaches [`crate::spdz::Session::matmul`].
//!
//! **Security.** Malicious, dishonest majority, with abort. Correctness: a triple with `C ≠ A·B`
//! (a wrong product returned, an inconsistent left factor, a corrupted `C_i`, an encryption of a
//! different `B_j`) passes with probability at most about 2^-125. Privacy of the honest shares:
//! RLWE at 128-bit security, flooding at σ = 64 **provided every party's uploads are well-formed
//! encryptions** (bounded noise, plaintexts in range). Without a zero-knowledge proof of plaintext
//! knowledge and bounded noise (TopGear, Baum–Cozzo–Smart SAC 2019), which this module does not
//! have yet, a malicious encryptor can send an oversized ciphertext that breaks the flooding and
//! learns about the evaluator's `A_i`, `A'_i` (random triple shares, not inputs; a triple leaked
//! this way still gives wrong-free but not private products). Until the proof lands, this module is
//! **malicious-secure for correctness and semi-honest for privacy against the encryptor**. The
//! public keys exchanged at setup are likewise unproven. All coins are tossed on
//! [`tessera_mpc::coin::Coins`] bound to a session id agreed at setup (`SessionId::agree`), the
//! committer, the step and a counter. After any failure the generator and the preprocessing
//! source are locked.

mod conv;
mod generate;
mod linalg;
pub mod sacrifice;
mod triple;

pub(crate) use conv::im2col_shared;
pub use conv::{Conv2dShape, im2col_plain};
pub use generate::{MAX_DIMENSION, MatrixStats, MatrixTripleGen};
pub(crate) use linalg::{matmul as field_matmul, public_times_shared, shared_times_public};
pub use triple::{MatrixShape, MatrixTriple};
