//! The shared backend suite on a CUDA device, plus bit-for-bit comparison with the CPU.
//! Every test prints "skipped: no CUDA device" and passes when no driver or device exists.
#![cfg(feature = "cuda")]

mod common;

use std::sync::OnceLock;

use tessera_accelerator::{
    Accelerator, AcceleratorBuffer, Backend, CpuBackend, CpuNtt, CudaBackend, Error, MatShape,
    NttTable, ntt_primes,
};

fn gpu() -> Option<&'static CudaBackend> {
    static GPU: OnceLock<Result<CudaBackend, Error>> = OnceLock::new();
    match GPU.get_or_init(|| CudaBackend::new(0)) {
        Ok(be) => Some(be),
        // Only a missing library or device skips; a device whose kernels fail to compile or
        // load is a failure.
        Err(Error::DeviceUnavailable(why)) => {
            eprintln!("skipped: no CUDA device ({why})");
            None
        }
        Err(e) => panic!("CUDA device present but unusable: {e}"),
    }
}

crate::backend_suite!(gpu());

/// The GPU's NTT domain uses this crate's tables and order, so it must equal the CPU's Harvey
/// transform word for word (a stronger check than the round trip).
#[test]
fn forward_ntt_matches_cpu_harvey_layout() {
    let Some(be) = gpu() else { return };
    let mut rng = common::Rng::new(21);
    for log_n in [4u32, 10, 11, 12, 16, 17] {
        let n = 1usize << log_n;
        let moduli = common::primes_for(n);
        let host = rng.rows(moduli.len(), n, &moduli);
        let mut dev = be.upload(&host).unwrap();
        be.ntt_forward_batch(&mut dev, n, &moduli).unwrap();
        let got = be.download(&dev).unwrap();
        let mut cpu = host.clone();
        CpuBackend::with_ntt(CpuNtt::Harvey).ntt_forward_batch(&mut cpu, n, &moduli).unwrap();
        assert_eq!(got, cpu, "n={n}");
        for (r, row) in host.chunks(n).enumerate() {
            let mut one = row.to_vec();
            NttTable::cached(moduli[r], n).unwrap().forward(&mut one);
            assert_eq!(&got[r * n..(r + 1) * n], &one[..]);
        }
    }
}

#[test]
fn gpu_and_cpu_agree_bit_for_bit() {
    let Some(be) = gpu() else { return };
    let cpu = CpuBackend::new();
    let n = 1 << 16;
    let moduli = ntt_primes(60, n, 3).unwrap();
    let mut rng = common::Rng::new(22);
    let a = rng.rows(6, n, &moduli);
    let b = rng.rows(6, n, &moduli);
    // c = a·b + a in the coefficient domain, on each backend.
    let on_gpu = {
        let (mut x, mut y) = (be.upload(&a).unwrap(), be.upload(&b).unwrap());
        be.ntt_forward_batch(&mut x, n, &moduli).unwrap();
        be.ntt_forward_batch(&mut y, n, &moduli).unwrap();
        let mut z = be.zeros(a.len()).unwrap();
        be.mul_acc_mod(&mut z, &x, &y, n, &moduli).unwrap();
        be.ntt_inverse_batch(&mut z, n, &moduli).unwrap();
        let mut out = be.zeros(a.len()).unwrap();
        be.add_mod(&mut out, &z, &be.upload(&a).unwrap(), n, &moduli).unwrap();
        be.download(&out).unwrap()
    };
    let on_cpu = {
        let (mut x, mut y) = (a.clone(), b.clone());
        cpu.ntt_forward_batch(&mut x, n, &moduli).unwrap();
        cpu.ntt_forward_batch(&mut y, n, &moduli).unwrap();
        let mut z = vec![0; a.len()];
        cpu.mul_acc_mod(&mut z, &x, &y, n, &moduli).unwrap();
        cpu.ntt_inverse_batch(&mut z, n, &moduli).unwrap();
        let mut out = vec![0; a.len()];
        cpu.add_mod(&mut out, &z, &a, n, &moduli).unwrap();
        out
    };
    assert_eq!(on_gpu, on_cpu);

    let q = moduli[0];
    let s = MatShape { m: 64, k: 257, n: 33 };
    let x = rng.rows(1, s.m * s.k, &[q]);
    let y = rng.rows(1, s.k * s.n, &[q]);
    let mut g = be.zeros(s.m * s.n).unwrap();
    be.matmul_mod(&mut g, &be.upload(&x).unwrap(), &be.upload(&y).unwrap(), s, q).unwrap();
    let mut c = vec![0; s.m * s.n];
    cpu.matmul_mod(&mut c, &x, &y, s, q).unwrap();
    assert_eq!(be.download(&g).unwrap(), c);
}

#[test]
fn probe_prefers_the_gpu_and_refuses_foreign_buffers() {
    let Some(_) = gpu() else { return };
    let acc = Accelerator::probe();
    assert_eq!(acc.name(), "cuda");
    let foreign = AcceleratorBuffer::Cpu(vec![1, 2, 3]);
    assert!(matches!(acc.download(&foreign), Err(Error::ForeignBuffer)));
}
