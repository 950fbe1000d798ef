//! Homomorphic encryption for Tessera: packed lattice additive HE (BFV) whose polynomial
//! arithmetic runs on `tessera-accelerator`, and Paillier as the baseline FATE uses.
//!
//! **Layer:** above `accelerator` (its NTT kernels); below `protocols` and `federated`.
//! Allowed dependencies: `tessera-accelerator`, `num-bigint-dig` (Paillier), RustCrypto-style
//! utility crates (`rand_core`, `rand_chacha`, `zeroize`, `subtle`), `thiserror`.
//!
//! ```
//! use std::sync::Arc;
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! use tessera_accelerator::Accelerator;
//! use tessera_fhe::{AdditiveHe, Bfv, BfvParamId, BfvParameters};
//!
//! # fn main() -> Result<(), tessera_fhe::Error> {
//! let mut rng = ChaCha20Rng::from_entropy();
//! let he = Bfv::new(BfvParameters::from_id(BfvParamId::N4096T65537)?, Arc::new(Accelerator::probe()))?;
//! let (pk, sk) = he.keygen(&mut rng)?;
//! let a = he.encrypt(&pk, &[1, 2, 3], &mut rng)?;
//! let b = he.encrypt(&pk, &[10, 20, 30], &mut rng)?;
//! let sum = AdditiveHe::add(&he, &pk, &a, &b)?;
//! assert_eq!(&he.decrypt(&sk, &sum)?[..3], &[11, 22, 33]);
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//! * `tfhe` (off by default: a long first build): TFHE integers `u8` … `u64` through Zama's
//!   `tfhe` crate on the CPU ([`tfhe_int`]). `tfhe` grants no patent rights: commercial use needs
//!   Zama's patent licence (see the README).
//! * `gpu`: `tfhe`'s CUDA backend, passed through; needs nvcc and a CUDA toolkit at build time,
//!   so `--all-features` builds need them too. `tfhe_int` itself still evaluates on the CPU.
//!
//! # Security
//! Both schemes are IND-CPA only (semi-honest use): ciphertexts are malleable and carry no
//! integrity. BFV sets are 128-bit classical per the HE standard table; Paillier at 2048 bits
//! is about 112-bit. Secret keys zeroise on drop; decryption of a ciphertext built from
//! untrusted bytes is safe (decoding rejects malformed input) but its result is meaningless.

#![forbid(unsafe_code)]

mod additive;
pub mod bfv;
mod error;
pub mod matrix;
pub mod paillier;
#[cfg(feature = "tfhe")]
pub mod tfhe_int;

pub use additive::{AdditiveHe, Paillier};
pub use bfv::{
    Bfv, BfvCiphertext, BfvGaloisKey, BfvNttCiphertext, BfvParamId, BfvParameters, BfvPublicKey,
    BfvRelinKey, BfvSecretKey,
};
pub use error::Error;
pub use paillier::{PaillierCiphertext, PaillierPublicKey, PaillierSecretKey, paillier_keygen};
