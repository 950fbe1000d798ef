//! The shared backend suite on the CPU, once per NTT engine and once through `Accelerator`.

mod common;

use tessera_accelerator::{Accelerator, Backend, CpuBackend, CpuNtt, ntt_primes};

mod tfhe_ntt_engine {
    use super::*;
    static BE: CpuBackend = CpuBackend::with_ntt(CpuNtt::TfheNtt);
    crate::backend_suite!(Some(&BE));
}

mod harvey_engine {
    use super::*;
    static BE: CpuBackend = CpuBackend::with_ntt(CpuNtt::Harvey);
    crate::backend_suite!(Some(&BE));
}

mod accelerator_cpu {
    use super::*;
    use std::sync::LazyLock;
    static BE: LazyLock<Accelerator> = LazyLock::new(Accelerator::cpu);
    crate::backend_suite!(Some(&*BE));
}

/// The two CPU engines lay out the NTT domain differently but agree on every product.
#[test]
fn engines_agree_in_the_coefficient_domain() {
    let n = 1 << 12;
    let moduli = [ntt_primes(61, n, 1).unwrap()[0], ntt_primes(45, n, 1).unwrap()[0]];
    let mut rng = common::Rng::new(9);
    let a = rng.rows(4, n, &moduli);
    let b = rng.rows(4, n, &moduli);
    let run = |be: &CpuBackend| {
        let (mut x, mut y) = (a.clone(), b.clone());
        be.ntt_forward_batch(&mut x, n, &moduli).unwrap();
        be.ntt_forward_batch(&mut y, n, &moduli).unwrap();
        let mut z = vec![0; x.len()];
        be.mul_mod(&mut z, &x, &y, n, &moduli).unwrap();
        be.ntt_inverse_batch(&mut z, n, &moduli).unwrap();
        z
    };
    assert_eq!(
        run(&CpuBackend::with_ntt(CpuNtt::TfheNtt)),
        run(&CpuBackend::with_ntt(CpuNtt::Harvey))
    );
}

#[test]
fn probe_returns_a_working_backend() {
    let acc = Accelerator::probe();
    let n = 16;
    let p = ntt_primes(40, n, 1).unwrap()[0];
    let host: Vec<u64> = (1..=n as u64).collect();
    let mut buf = acc.upload(&host).unwrap();
    acc.ntt_forward_batch(&mut buf, n, &[p]).unwrap();
    acc.ntt_inverse_batch(&mut buf, n, &[p]).unwrap();
    assert_eq!(acc.download(&buf).unwrap(), host, "backend {}", acc.name());
}
