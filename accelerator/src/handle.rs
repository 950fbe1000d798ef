//! [`Accelerator`]: the backend chosen once at start-up, behind the same [`Backend`] trait.

use crate::Error;
use crate::backend::{Backend, DeviceBuffer, MatShape, PointwiseOp};
use crate::cpu::CpuBackend;
#[cfg(feature = "cuda")]
use crate::cuda::{CudaBackend, CudaBuffer};

/// Environment variable that forces a backend: `cpu` or `cuda`.
pub const BACKEND_ENV: &str = "TESSERA_ACCELERATOR";

/// Which backend an [`Accelerator`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// Host CPU with rayon.
    Cpu,
    /// A CUDA device.
    Cuda,
}

/// The backend picked by [`Accelerator::probe`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Accelerator {
    /// CPU backend.
    Cpu(CpuBackend),
    /// CUDA backend.
    #[cfg(feature = "cuda")]
    Cuda(Box<CudaBackend>),
}

/// A buffer owned by an [`Accelerator`].
#[derive(Debug)]
#[non_exhaustive]
pub enum AcceleratorBuffer {
    /// Host memory.
    Cpu(Vec<u64>),
    /// Device memory.
    #[cfg(feature = "cuda")]
    Cuda(CudaBuffer),
}

impl DeviceBuffer for AcceleratorBuffer {
    fn len(&self) -> usize {
        match self {
            Self::Cpu(v) => v.len(),
            #[cfg(feature = "cuda")]
            Self::Cuda(b) => b.len(),
        }
    }
}

impl Accelerator {
    /// Uses the first CUDA device when one works, else the CPU; logs the choice.
    ///
    /// `TESSERA_ACCELERATOR=cpu` skips the probe; `=cuda` still falls back, with a warning.
    pub fn probe() -> Self {
        let forced = std::env::var(BACKEND_ENV).ok();
        if forced.as_deref() == Some("cpu") {
            tracing::info!(target: "tessera_accelerator", "backend: cpu (forced by {BACKEND_ENV})");
            return Self::cpu();
        }
        #[cfg(feature = "cuda")]
        match CudaBackend::new(0) {
            Ok(gpu) => {
                tracing::info!(target: "tessera_accelerator", device = gpu.device_name(), "backend: cuda");
                return Self::Cuda(Box::new(gpu));
            }
            Err(e) => {
                if forced.as_deref() == Some("cuda") {
                    tracing::warn!(target: "tessera_accelerator", error = %e, "CUDA forced but unavailable; backend: cpu");
                } else {
                    tracing::info!(target: "tessera_accelerator", reason = %e, "no usable CUDA device; backend: cpu");
                }
            }
        }
        #[cfg(not(feature = "cuda"))]
        tracing::info!(target: "tessera_accelerator", "built without the `cuda` feature; backend: cpu");
        Self::cpu()
    }

    /// The CPU backend, without probing.
    pub fn cpu() -> Self {
        Self::Cpu(CpuBackend::new())
    }

    /// Which backend this is.
    pub fn kind(&self) -> BackendKind {
        match self {
            Self::Cpu(_) => BackendKind::Cpu,
            #[cfg(feature = "cuda")]
            Self::Cuda(_) => BackendKind::Cuda,
        }
    }
}

/// Dispatches one call: `$mut_buf` and `$buf` name buffers that must all belong to `self`'s
/// backend (else [`Error::ForeignBuffer`]).
macro_rules! dispatch {
    ($self:ident, $method:ident, [$($mb:ident),*], [$($b:ident),*] $(, $arg:expr)*) => {
        match $self {
            Accelerator::Cpu(be) => {
                // Irrefutable when the `cuda` feature is off.
                $(#[allow(irrefutable_let_patterns)]
                let AcceleratorBuffer::Cpu($mb) = $mb else { return Err(Error::ForeignBuffer) };)*
                $(#[allow(irrefutable_let_patterns)]
                let AcceleratorBuffer::Cpu($b) = $b else { return Err(Error::ForeignBuffer) };)*
                be.$method($($mb,)* $($b,)* $($arg),*)
            }
            #[cfg(feature = "cuda")]
            Accelerator::Cuda(be) => {
                $(let AcceleratorBuffer::Cuda($mb) = $mb else { return Err(Error::ForeignBuffer) };)*
                $(let AcceleratorBuffer::Cuda($b) = $b else { return Err(Error::ForeignBuffer) };)*
                be.$method($($mb,)* $($b,)* $($arg),*)
            }
        }
    };
}

impl Backend for Accelerator {
    type Buffer = AcceleratorBuffer;

    fn name(&self) -> &'static str {
        match self {
            Self::Cpu(b) => b.name(),
            #[cfg(feature = "cuda")]
            Self::Cuda(b) => b.name(),
        }
    }

    fn upload(&self, host: &[u64]) -> Result<AcceleratorBuffer, Error> {
        Ok(match self {
            Self::Cpu(b) => AcceleratorBuffer::Cpu(b.upload(host)?),
            #[cfg(feature = "cuda")]
            Self::Cuda(b) => AcceleratorBuffer::Cuda(b.upload(host)?),
        })
    }

    fn zeros(&self, len: usize) -> Result<AcceleratorBuffer, Error> {
        Ok(match self {
            Self::Cpu(b) => AcceleratorBuffer::Cpu(b.zeros(len)?),
            #[cfg(feature = "cuda")]
            Self::Cuda(b) => AcceleratorBuffer::Cuda(b.zeros(len)?),
        })
    }

    fn download(&self, buf: &AcceleratorBuffer) -> Result<Vec<u64>, Error> {
        dispatch!(self, download, [], [buf])
    }

    fn ntt_forward_batch(
        &self,
        data: &mut AcceleratorBuffer,
        n: usize,
        moduli: &[u64],
    ) -> Result<(), Error> {
        dispatch!(self, ntt_forward_batch, [data], [], n, moduli)
    }

    fn ntt_inverse_batch(
        &self,
        data: &mut AcceleratorBuffer,
        n: usize,
        moduli: &[u64],
    ) -> Result<(), Error> {
        dispatch!(self, ntt_inverse_batch, [data], [], n, moduli)
    }

    fn pointwise(
        &self,
        out: &mut AcceleratorBuffer,
        a: &AcceleratorBuffer,
        b: &AcceleratorBuffer,
        row_len: usize,
        moduli: &[u64],
        op: PointwiseOp,
    ) -> Result<(), Error> {
        dispatch!(self, pointwise, [out], [a, b], row_len, moduli, op)
    }

    fn matvec_mod(
        &self,
        out: &mut AcceleratorBuffer,
        matrix: &AcceleratorBuffer,
        vector: &AcceleratorBuffer,
        rows: usize,
        cols: usize,
        q: u64,
    ) -> Result<(), Error> {
        dispatch!(self, matvec_mod, [out], [matrix, vector], rows, cols, q)
    }

    fn matmul_mod(
        &self,
        out: &mut AcceleratorBuffer,
        a: &AcceleratorBuffer,
        b: &AcceleratorBuffer,
        shape: MatShape,
        q: u64,
    ) -> Result<(), Error> {
        dispatch!(self, matmul_mod, [out], [a, b], shape, q)
    }
}
