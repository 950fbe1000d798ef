//! Batched number-theoretic transforms and modular vector/matrix kernels on plain `u64` words,
//! with a CPU backend and a CUDA backend that return identical bits.
//!
//! **Layer:** bottom of the lattice-HE stack (see `ARCHITECTURE.md`); it depends on no other
//! Tessera crate, only on `tfhe-ntt`, `rayon`, `thiserror`, `tracing` and (feature `cuda`)
//! `cudarc`. `tessera-fhe` builds RLWE arithmetic on it.
//!
//! # Model
//! A buffer is a run of rows of `row_len` words; row `r` lives modulo `moduli[r % moduli.len()]`
//! (one modulus: a plain batch; `L` RNS primes: polynomials stored limb after limb). Moduli are
//! below `2^62`; NTT moduli are primes `≡ 1 (mod 2N)` ([`ntt_primes`] finds them) and
//! `N = 2^4 … 2^17`. Twiddles are built once per `(prime, N)` and cached ([`NttTable::cached`]).
//! Callers pick a backend once ([`Accelerator::probe`]) and keep data in its buffers across calls.
//! What the forward NTT leaves in a buffer is backend-specific; everything in the coefficient
//! domain is bit-identical across backends.
//!
//! ```
//! use tessera_accelerator::{Accelerator, Backend, ntt_primes};
//!
//! # fn main() -> Result<(), tessera_accelerator::Error> {
//! let n = 1024;
//! let p = ntt_primes(60, n, 1)?[0];
//! let acc = Accelerator::probe(); // CUDA when a device works, else CPU
//!
//! // (1 + X) · (1 + X^{N-1}) = 1 + X + X^{N-1} + X^N ≡ X + X^{N-1} (mod X^N + 1)
//! let mut a = vec![0u64; n];
//! a[0] = 1;
//! a[1] = 1;
//! let mut b = vec![0u64; n];
//! b[0] = 1;
//! b[n - 1] = 1;
//! let (mut a, mut b) = (acc.upload(&a)?, acc.upload(&b)?);
//! acc.ntt_forward_batch(&mut a, n, &[p])?;
//! acc.ntt_forward_batch(&mut b, n, &[p])?;
//! let mut c = acc.zeros(n)?;
//! acc.mul_mod(&mut c, &a, &b, n, &[p])?;
//! acc.ntt_inverse_batch(&mut c, n, &[p])?;
//! let c = acc.download(&c)?;
//! assert_eq!((c[0], c[1], c[n - 1]), (0, 1, 1));
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//! * `cuda` (default): the CUDA backend through `cudarc` with `dynamic-loading`; `libcuda` and
//!   `libnvrtc` are opened at run time, so builds and tests need no toolkit. Kernels are CUDA C
//!   compiled by NVRTC for the device found. Without a device, [`Accelerator::probe`] logs the
//!   reason and returns the CPU backend.
//!
//! # Testing without a GPU
//! `tests/cuda_backend.rs` runs the shared suite on a device and prints "skipped: no CUDA
//! device" without one. `emulation/run.sh` compiles `src/cuda/kernels.cu` as host C++ (one
//! thread per CUDA thread, barriers for `__syncthreads` and warp shuffles) with the same launch
//! plan and checks every kernel against plain references; it needs only `g++`.
//!
//! # Security
//! Kernels are constant time in the data only where the CPU's `u64` multiply and the compiled
//! branches are (conditional subtractions may compile to branches); they hold no secrets of their
//! own and zeroise nothing: callers that put secret keys in buffers own their lifetime. Inputs
//! must be reduced; unreduced words give wrong (never undefined) results.

mod arith;
mod backend;
mod cpu;
#[cfg(feature = "cuda")]
mod cuda;
mod error;
mod handle;
mod prime;
mod table;

pub use arith::{MAX_MODULUS_BITS, Modulus, mul_shoup, shoup};
pub use backend::{Backend, DeviceBuffer, MatShape, PointwiseOp};
pub use cpu::{CpuBackend, CpuNtt};
#[cfg(feature = "cuda")]
pub use cuda::{CudaBackend, CudaBuffer};
pub use error::Error;
pub use handle::{Accelerator, AcceleratorBuffer, BACKEND_ENV, BackendKind};
pub use prime::{is_prime, ntt_primes};
pub use table::{MAX_LOG_N, MIN_LOG_N, NttTable};
