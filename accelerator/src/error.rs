//! The crate's error type.

/// Everything a kernel call or backend probe can refuse.
///
/// Shape and modulus variants are caller misuse; `DeviceUnavailable`, `Driver` and
/// `KernelCompile` come from the CUDA runtime and never from the data.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A modulus outside `[2, 2^62)`.
    #[error("modulus {modulus} is outside [2, 2^62)")]
    InvalidModulus {
        /// The rejected modulus.
        modulus: u64,
    },
    /// An NTT was asked for with a modulus that is not a prime `≡ 1 (mod 2N)`.
    #[error("modulus {modulus} is not a prime congruent to 1 mod 2N for N = {n}")]
    NotNttFriendly {
        /// The rejected modulus.
        modulus: u64,
        /// The transform length asked for.
        n: usize,
    },
    /// A transform length that is not a power of two in `[2^4, 2^17]`.
    #[error("transform length {n} is not a power of two in [2^4, 2^17]")]
    UnsupportedSize {
        /// The rejected length.
        n: usize,
    },
    /// Fewer NTT-friendly primes of the requested size exist than were asked for.
    #[error("fewer than {count} primes below 2^{bits} are congruent to 1 mod 2N for N = {n}")]
    NotEnoughPrimes {
        /// Bit bound requested.
        bits: u32,
        /// Ring dimension requested.
        n: usize,
        /// Number of primes requested.
        count: usize,
    },
    /// Buffer lengths disagree with the shape of the operation.
    #[error("{what}: expected length {expected}, found {found}")]
    ShapeMismatch {
        /// Which operand or dimension disagrees.
        what: &'static str,
        /// The length the shape implies.
        expected: usize,
        /// The length supplied.
        found: usize,
    },
    /// The operation needs at least one modulus.
    #[error("no moduli given")]
    NoModuli,
    /// A buffer made by one backend was handed to another.
    #[error("buffer belongs to a different backend")]
    ForeignBuffer,
    /// No usable CUDA device: library, driver or device missing.
    #[error("no CUDA device: {0}")]
    DeviceUnavailable(String),
    /// The CUDA driver reported an error during a call.
    #[error("CUDA driver error: {0}")]
    Driver(String),
    /// NVRTC failed to compile the embedded kernels.
    #[error("CUDA kernel compilation failed: {0}")]
    KernelCompile(String),
}
