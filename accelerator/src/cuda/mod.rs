//! CUDA backend: `cudarc` with run-time loading of `libcuda` and `libnvrtc`, kernels embedded as
//! CUDA C (`kernels.cu`) and compiled by NVRTC for the device found at start-up.
//!
//! Nothing here links against CUDA: without a driver, [`CudaBackend::new`] returns
//! [`Error::DeviceUnavailable`] and [`crate::Accelerator::probe`] falls back to the CPU.
//!
//! Launch plan for a batch of `rows` length-`n` NTTs: the stages whose butterfly span exceeds
//! one shared-memory chunk (`c = min(n, 2048)` words) run as one global-memory kernel each; the
//! remaining `log2 c` stages run in one kernel per chunk in shared memory. So an `n = 2^16`
//! transform costs 6 passes over the batch, and one launch per pass serves the whole batch.

#![allow(unsafe_code)]

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, CudaStream, DriverError, LaunchConfig, PushKernelArg,
};
use cudarc::nvrtc::{CompileOptions, compile_ptx_with_opts};

use crate::Error;
use crate::arith::Modulus;
use crate::backend::{
    Backend, DeviceBuffer, MatShape, PointwiseOp, check_matmul, check_matvec, check_ntt,
    check_rows, check_same_len,
};

const SOURCE: &str = include_str!("kernels.cu");
/// log2 of the largest shared-memory chunk (2048 words = 16 KiB, 1024 threads).
const LOG_CHUNK: u32 = 11;
/// Threads per block for the one-thread-per-item kernels.
const BLOCK: u32 = 256;
/// Tile edge of the matmul kernel (must match `TILE` in `kernels.cu`).
const TILE: u32 = 16;
/// The most blocks a grid-stride pointwise launch uses.
const MAX_POINTWISE_BLOCKS: u64 = 65_535;

/// A buffer in device memory.
#[derive(Debug)]
pub struct CudaBuffer {
    data: CudaSlice<u64>,
}

impl DeviceBuffer for CudaBuffer {
    fn len(&self) -> usize {
        self.data.len()
    }
}

struct Kernels {
    fwd_stage: CudaFunction,
    fwd_tail: CudaFunction,
    inv_stage: CudaFunction,
    inv_tail: CudaFunction,
    pointwise: CudaFunction,
    matvec: CudaFunction,
    matmul: CudaFunction,
}

/// Twiddles and per-prime constants of one `(moduli, n)` batch layout, resident on the device.
struct NttDeviceTables {
    twiddles: CudaSlice<u64>,
    params: CudaSlice<u64>,
}

/// `(moduli of the batch, N)`.
type LayoutKey = (Vec<u64>, usize);

/// One CUDA device with its compiled kernels and cached tables.
pub struct CudaBackend {
    stream: Arc<CudaStream>,
    kernels: Kernels,
    device_name: String,
    ntt_tables: Mutex<HashMap<LayoutKey, Arc<NttDeviceTables>>>,
    modulus_params: Mutex<HashMap<Vec<u64>, Arc<CudaSlice<u64>>>>,
}

impl std::fmt::Debug for CudaBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CudaBackend").field("device", &self.device_name).finish_non_exhaustive()
    }
}

fn driver(e: DriverError) -> Error {
    Error::Driver(e.to_string())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Cache maps are only ever extended by single inserts, so a poisoned lock holds no torn state.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn grid_for(items: u64, per_block: u32) -> Result<u32, Error> {
    u32::try_from(items.div_ceil(u64::from(per_block))).map_err(|_| Error::ShapeMismatch {
        what: "launch grid (too many items for one launch)",
        expected: u32::MAX as usize,
        found: items as usize,
    })
}

impl CudaBackend {
    /// Opens device `ordinal`, compiles the kernels and returns the backend.
    ///
    /// Fails with [`Error::DeviceUnavailable`] when the driver or NVRTC library is missing or no
    /// such device exists, and with [`Error::KernelCompile`] when NVRTC or the driver rejects
    /// the kernels.
    pub fn new(ordinal: usize) -> Result<Self, Error> {
        // SAFETY: `is_culib_present` only attempts to dlopen the candidate library names and
        // drops the handles; it calls no CUDA function.
        let have_driver = unsafe { cudarc::driver::sys::is_culib_present() };
        if !have_driver {
            return Err(Error::DeviceUnavailable("libcuda not found".into()));
        }
        // SAFETY: as above, for libnvrtc.
        let have_nvrtc = unsafe { cudarc::nvrtc::sys::is_culib_present() };
        if !have_nvrtc {
            return Err(Error::DeviceUnavailable("libnvrtc not found".into()));
        }
        // cudarc panics when a symbol it expects is missing from an old driver; turn that into
        // an error so the caller can fall back to the CPU.
        catch_unwind(AssertUnwindSafe(|| Self::open(ordinal))).unwrap_or_else(|_| {
            Err(Error::DeviceUnavailable("CUDA initialisation panicked".into()))
        })
    }

    fn open(ordinal: usize) -> Result<Self, Error> {
        let count =
            CudaContext::device_count().map_err(|e| Error::DeviceUnavailable(e.to_string()))?;
        if usize::try_from(count).map_or(true, |c| ordinal >= c) {
            return Err(Error::DeviceUnavailable(format!(
                "device {ordinal} requested, {count} present"
            )));
        }
        let ctx = CudaContext::new(ordinal).map_err(|e| Error::DeviceUnavailable(e.to_string()))?;
        let (major, minor) = ctx.compute_capability().map_err(driver)?;
        let device_name = ctx.name().map_err(driver)?;
        let opts = CompileOptions {
            options: vec![format!("--gpu-architecture=compute_{major}{minor}")],
            name: Some("tessera_accelerator.cu".into()),
            ..Default::default()
        };
        let ptx =
            compile_ptx_with_opts(SOURCE, opts).map_err(|e| Error::KernelCompile(e.to_string()))?;
        let module = ctx.load_module(ptx).map_err(|e| Error::KernelCompile(e.to_string()))?;
        let f = |name: &str| {
            module.load_function(name).map_err(|e| Error::KernelCompile(format!("{name}: {e}")))
        };
        let kernels = Kernels {
            fwd_stage: f("ntt_fwd_stage")?,
            fwd_tail: f("ntt_fwd_tail")?,
            inv_stage: f("ntt_inv_stage")?,
            inv_tail: f("ntt_inv_tail")?,
            pointwise: f("pointwise")?,
            matvec: f("matvec")?,
            matmul: f("matmul")?,
        };
        Ok(Self {
            stream: ctx.default_stream(),
            kernels,
            device_name: format!("{device_name} (sm_{major}{minor})"),
            ntt_tables: Mutex::new(HashMap::new()),
            modulus_params: Mutex::new(HashMap::new()),
        })
    }

    /// The device's name and compute capability.
    pub fn device_name(&self) -> &str {
        &self.device_name
    }

    /// Waits for all queued kernels (for timing; downloads synchronise on their own).
    pub fn synchronize(&self) -> Result<(), Error> {
        self.stream.synchronize().map_err(driver)
    }

    fn tables(&self, n: usize, moduli: &[u64], len: usize) -> Result<Arc<NttDeviceTables>, Error> {
        let key = (moduli.to_vec(), n);
        if let Some(t) = lock(&self.ntt_tables).get(&key) {
            // The host tables validated this layout when the entry was made.
            check_rows(len, n, moduli)?;
            return Ok(Arc::clone(t));
        }
        let host = check_ntt(len, n, moduli)?;
        let mut twiddles = Vec::with_capacity(4 * n * host.len());
        let mut params = Vec::with_capacity(3 * host.len());
        for t in &host {
            twiddles.extend_from_slice(&t.device_block());
            params.extend_from_slice(&t.device_params());
        }
        let tables = Arc::new(NttDeviceTables {
            twiddles: self.stream.clone_htod(&twiddles).map_err(driver)?,
            params: self.stream.clone_htod(&params).map_err(driver)?,
        });
        Ok(Arc::clone(lock(&self.ntt_tables).entry(key).or_insert(tables)))
    }

    fn modulus_words(&self, moduli: &[Modulus]) -> Result<Arc<CudaSlice<u64>>, Error> {
        let key: Vec<u64> = moduli.iter().map(Modulus::value).collect();
        if let Some(p) = lock(&self.modulus_params).get(&key) {
            return Ok(Arc::clone(p));
        }
        let words: Vec<u64> = moduli.iter().flat_map(Modulus::device_words).collect();
        let dev = Arc::new(self.stream.clone_htod(&words).map_err(driver)?);
        Ok(Arc::clone(lock(&self.modulus_params).entry(key).or_insert(dev)))
    }

    fn transform(
        &self,
        data: &mut CudaBuffer,
        n: usize,
        moduli: &[u64],
        forward: bool,
    ) -> Result<(), Error> {
        let tables = self.tables(n, moduli, data.len())?;
        let rows = (data.len() / n) as u64;
        if rows == 0 {
            return Ok(());
        }
        let log_n = n.trailing_zeros();
        let log_c = log_n.min(LOG_CHUNK);
        let num_moduli = moduli.len() as u32;
        let stage_cfg = LaunchConfig {
            grid_dim: (grid_for(rows * (n as u64 / 2), BLOCK)?, 1, 1),
            block_dim: (BLOCK, 1, 1),
            shared_mem_bytes: 0,
        };
        let tail_cfg = LaunchConfig {
            grid_dim: (grid_for(rows * (n as u64 >> log_c), 1)?, 1, 1),
            block_dim: (1 << (log_c - 1), 1, 1),
            shared_mem_bytes: (8u32) << log_c,
        };
        let k = &self.kernels;
        if forward {
            for log_t in (log_c..log_n).rev() {
                let mut l = self.stream.launch_builder(&k.fwd_stage);
                l.arg(&mut data.data)
                    .arg(&tables.twiddles)
                    .arg(&tables.params)
                    .arg(&log_n)
                    .arg(&num_moduli)
                    .arg(&rows)
                    .arg(&log_t);
                // SAFETY: argument types and order match `ntt_fwd_stage`; the grid covers
                // exactly rows·n/2 butterflies (extra threads return), each touching indices
                // below n of its own row, and `check_ntt` proved data.len() = rows·n and that
                // the tables hold 4n words and 3 params per modulus.
                unsafe { l.launch(stage_cfg) }.map_err(driver)?;
            }
            let mut l = self.stream.launch_builder(&k.fwd_tail);
            l.arg(&mut data.data)
                .arg(&tables.twiddles)
                .arg(&tables.params)
                .arg(&log_n)
                .arg(&num_moduli)
                .arg(&log_c);
            // SAFETY: one block per aligned c-word chunk (rows·n/c blocks), c/2 threads each
            // touching two words of the chunk, shared memory sized to c words; types match.
            unsafe { l.launch(tail_cfg) }.map_err(driver)?;
        } else {
            let scale_in_tail = u32::from(log_c == log_n);
            let mut l = self.stream.launch_builder(&k.inv_tail);
            l.arg(&mut data.data)
                .arg(&tables.twiddles)
                .arg(&tables.params)
                .arg(&log_n)
                .arg(&num_moduli)
                .arg(&log_c)
                .arg(&scale_in_tail);
            // SAFETY: as for the forward tail.
            unsafe { l.launch(tail_cfg) }.map_err(driver)?;
            for log_t in log_c..log_n {
                let scale = u32::from(log_t == log_n - 1);
                let mut l = self.stream.launch_builder(&k.inv_stage);
                l.arg(&mut data.data)
                    .arg(&tables.twiddles)
                    .arg(&tables.params)
                    .arg(&log_n)
                    .arg(&num_moduli)
                    .arg(&rows)
                    .arg(&log_t)
                    .arg(&scale);
                // SAFETY: as for the forward stage.
                unsafe { l.launch(stage_cfg) }.map_err(driver)?;
            }
        }
        Ok(())
    }

    fn launch_pointwise(
        &self,
        out: &mut CudaBuffer,
        a: &CudaBuffer,
        b: &CudaBuffer,
        row_len: usize,
        moduli: &[u64],
        op: u32,
    ) -> Result<(), Error> {
        check_same_len(out.len(), a.len(), b.len())?;
        let ms = check_rows(out.len(), row_len, moduli)?;
        let len = out.len() as u64;
        if len == 0 {
            return Ok(());
        }
        let params = self.modulus_words(&ms)?;
        let blocks = len.div_ceil(u64::from(BLOCK)).min(MAX_POINTWISE_BLOCKS) as u32;
        let cfg = LaunchConfig {
            grid_dim: (blocks, 1, 1),
            block_dim: (BLOCK, 1, 1),
            shared_mem_bytes: 0,
        };
        let row_len = row_len as u64;
        let num_moduli = moduli.len() as u32;
        let mut l = self.stream.launch_builder(&self.kernels.pointwise);
        l.arg(&mut out.data)
            .arg(&a.data)
            .arg(&b.data)
            .arg(params.as_ref())
            .arg(&len)
            .arg(&row_len)
            .arg(&num_moduli)
            .arg(&op);
        // SAFETY: types and order match `pointwise`; the grid-stride loop stays below `len`,
        // which `check_same_len` proved is the length of all three buffers; `params` holds
        // 3 words per modulus and the kernel indexes modulus `(idx / row_len) % num_moduli`.
        unsafe { l.launch(cfg) }.map_err(driver)?;
        Ok(())
    }
}

impl Backend for CudaBackend {
    type Buffer = CudaBuffer;

    fn name(&self) -> &'static str {
        "cuda"
    }

    fn upload(&self, host: &[u64]) -> Result<CudaBuffer, Error> {
        if host.is_empty() {
            return self.zeros(0);
        }
        Ok(CudaBuffer { data: self.stream.clone_htod(host).map_err(driver)? })
    }

    fn zeros(&self, len: usize) -> Result<CudaBuffer, Error> {
        let data =
            if len == 0 { self.stream.null::<u64>() } else { self.stream.alloc_zeros::<u64>(len) };
        Ok(CudaBuffer { data: data.map_err(driver)? })
    }

    fn download(&self, buf: &CudaBuffer) -> Result<Vec<u64>, Error> {
        if buf.is_empty() {
            return Ok(Vec::new());
        }
        self.stream.clone_dtoh(&buf.data).map_err(driver)
    }

    fn ntt_forward_batch(
        &self,
        data: &mut CudaBuffer,
        n: usize,
        moduli: &[u64],
    ) -> Result<(), Error> {
        self.transform(data, n, moduli, true)
    }

    fn ntt_inverse_batch(
        &self,
        data: &mut CudaBuffer,
        n: usize,
        moduli: &[u64],
    ) -> Result<(), Error> {
        self.transform(data, n, moduli, false)
    }

    fn pointwise(
        &self,
        out: &mut CudaBuffer,
        a: &CudaBuffer,
        b: &CudaBuffer,
        row_len: usize,
        moduli: &[u64],
        op: PointwiseOp,
    ) -> Result<(), Error> {
        self.launch_pointwise(out, a, b, row_len, moduli, op as u32)
    }

    fn matvec_mod(
        &self,
        out: &mut CudaBuffer,
        matrix: &CudaBuffer,
        vector: &CudaBuffer,
        rows: usize,
        cols: usize,
        q: u64,
    ) -> Result<(), Error> {
        let m = check_matvec(out.len(), matrix.len(), vector.len(), rows, cols, q)?;
        if rows == 0 {
            return Ok(());
        }
        let params = self.modulus_words(&[m])?;
        let warps_per_block = u64::from(BLOCK / 32);
        let cfg = LaunchConfig {
            grid_dim: (grid_for(rows as u64, warps_per_block as u32)?, 1, 1),
            block_dim: (BLOCK, 1, 1),
            shared_mem_bytes: 0,
        };
        let (rows, cols) = (rows as u64, cols as u64);
        let mut l = self.stream.launch_builder(&self.kernels.matvec);
        l.arg(&mut out.data)
            .arg(&matrix.data)
            .arg(&vector.data)
            .arg(params.as_ref())
            .arg(&rows)
            .arg(&cols);
        // SAFETY: types match `matvec`; warps with index ≥ rows exit, lanes read columns below
        // `cols`, and `check_matvec` proved matrix = rows·cols, vector = cols, out = rows words.
        unsafe { l.launch(cfg) }.map_err(driver)?;
        Ok(())
    }

    fn matmul_mod(
        &self,
        out: &mut CudaBuffer,
        a: &CudaBuffer,
        b: &CudaBuffer,
        s: MatShape,
        q: u64,
    ) -> Result<(), Error> {
        let m = check_matmul(out.len(), a.len(), b.len(), s, q)?;
        if s.m == 0 || s.n == 0 {
            return Ok(());
        }
        let params = self.modulus_words(&[m])?;
        let gy = grid_for(s.m as u64, TILE)?;
        if gy > 65_535 {
            return Err(Error::ShapeMismatch {
                what: "matmul rows (at most 65535 tiles of 16 rows per launch)",
                expected: 65_535 * TILE as usize,
                found: s.m,
            });
        }
        let cfg = LaunchConfig {
            grid_dim: (grid_for(s.n as u64, TILE)?, gy, 1),
            block_dim: (TILE, TILE, 1),
            shared_mem_bytes: 0,
        };
        let (mm, kk, nn) = (s.m as u64, s.k as u64, s.n as u64);
        let mut l = self.stream.launch_builder(&self.kernels.matmul);
        l.arg(&mut out.data)
            .arg(&a.data)
            .arg(&b.data)
            .arg(params.as_ref())
            .arg(&mm)
            .arg(&kk)
            .arg(&nn);
        // SAFETY: types match `matmul`; every load is guarded by row < m, col < n and the inner
        // index < k, every store by row < m and col < n, and `check_matmul` proved the lengths.
        unsafe { l.launch(cfg) }.map_err(driver)?;
        Ok(())
    }
}
