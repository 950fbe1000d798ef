//! The scheme against plaintext arithmetic, the parameter bounds, and strict decoding.

use std::sync::{Arc, OnceLock};

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use tessera_accelerator::Accelerator;

use super::params::{self, PLAINTEXT_MODULUS as T};
use super::*;

fn he() -> &'static MatrixHe {
    static HE: OnceLock<MatrixHe> = OnceLock::new();
    HE.get_or_init(|| MatrixHe::new(Arc::new(Accelerator::cpu())).unwrap())
}

fn random_values(rng: &mut ChaCha20Rng, n: usize) -> Vec<u128> {
    (0..n).map(|_| ((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64())) % T).collect()
}

fn field_matmul(a: &[u128], b: &[u128], m: usize, k: usize, n: usize) -> Vec<u128> {
    let mut c = vec![0u128; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut acc = 0u128;
            for l in 0..k {
                acc = arith::add(acc, arith::mul(a[i * k + l], b[l * n + j]));
            }
            c[i * n + j] = acc;
        }
    }
    c
}

#[test]
fn parameters_meet_the_security_table_and_the_flooding_bound() {
    let he = he();
    assert!(he.log_q() <= params::MAX_LOG_Q_128, "log q = {}", he.log_q());
    assert!(f64::from(he.log_q()) >= params::required_log_q(), "need {}", params::required_log_q());
    assert_eq!(params::flood_bits(), params::FLOOD_BITS);
    assert!(params::log2_honest_bound() > 150.0 && params::log2_honest_bound() < 160.0);
    for &q in he.moduli() {
        assert_eq!(q % (2 * params::RING_DEGREE as u64), 1);
    }
}

#[test]
fn fresh_encryptions_decrypt() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let (_, sk) = he().keygen(&mut rng).unwrap();
    let mut m = random_values(&mut rng, 100);
    m[0] = T - 1;
    m[1] = 0;
    let ct = he().encrypt(&sk, &m, &mut rng).unwrap();
    let back = he().decrypt_seeded(&sk, &ct).unwrap();
    assert_eq!(&back[..100], &m[..]);
    assert!(back[100..].iter().all(|&v| v == 0));
    assert!(he().encrypt(&sk, &[T], &mut rng).is_err());
}

#[test]
fn flooded_tile_products_decrypt_to_the_matrix_product_plus_mask() {
    let he = he();
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let (mut pk, sk) = he.keygen(&mut rng).unwrap();
    // A shape that needs several tiles in every direction at this ring degree.
    for &(m, k, n) in &[(40, 300, 70), (1, 64, 5)] {
        let tiling = MatrixTiling::new(m, k, n, he.ring_degree()).unwrap();
        let (tm, tk, tn) = tiling.tiles();
        let a = random_values(&mut rng, m * k);
        let b = random_values(&mut rng, k * n);
        let uploads: Vec<_> = tiling
            .encode_right(&b)
            .unwrap()
            .iter()
            .map(|p| he.encrypt(&sk, p, &mut rng).unwrap())
            .collect();
        // Through the wire format, as a peer would see them.
        let uploads: Vec<_> = uploads
            .iter()
            .map(|c| SeededCiphertext::from_bytes(he, &c.to_bytes()).unwrap())
            .collect();
        let prepared: Vec<_> = uploads.iter().map(|c| he.prepare(c).unwrap()).collect();
        let left: Vec<_> =
            tiling.encode_left(&a).unwrap().iter().map(|p| he.prepare_plain(p).unwrap()).collect();
        let mut masks = Vec::new();
        let mut results = Vec::new();
        for ti in 0..tm {
            for tj in 0..tn {
                let terms: Vec<_> =
                    (0..tk).map(|tl| (&prepared[tl * tn + tj], &left[ti * tk + tl])).collect();
                let mask = random_values(&mut rng, he.ring_degree());
                let ct = he.multiply_accumulate(&mut pk, &terms, &mask, &mut rng).unwrap();
                let ct = MatCiphertext::from_bytes(he, &ct.to_bytes()).unwrap();
                results.push(he.decrypt(&sk, &ct).unwrap());
                masks.push(mask);
            }
        }
        let got = tiling.decode_product(&results).unwrap();
        let mask = tiling.decode_product(&masks).unwrap();
        let want = field_matmul(&a, &b, m, k, n);
        for ((g, r), w) in got.iter().zip(&mask).zip(&want) {
            assert_eq!(arith::sub(*g, *r), *w, "{m}x{k}x{n}");
        }
    }
}

#[test]
fn decoding_rejects_malformed_bytes() {
    let he = he();
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let (pk, sk) = he.keygen(&mut rng).unwrap();
    let ct = he.encrypt(&sk, &[5], &mut rng).unwrap();
    let good = ct.to_bytes();
    assert!(SeededCiphertext::from_bytes(he, &good[..good.len() - 1]).is_err());
    assert!(SeededCiphertext::from_bytes(he, &[]).is_err());
    let mut bad_tag = good.clone();
    bad_tag[0] ^= 1;
    assert!(SeededCiphertext::from_bytes(he, &bad_tag).is_err());
    let mut unreduced = good.clone();
    unreduced[1..9].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        SeededCiphertext::from_bytes(he, &unreduced),
        Err(crate::Error::MalformedCiphertext(_))
    ));
    assert!(MatCiphertext::from_bytes(he, &good).is_err());
    let pkb = pk.to_bytes();
    assert!(MatPublicKey::from_bytes(he, &pkb).is_ok());
    assert!(MatPublicKey::from_bytes(he, &pkb[..10]).is_err());
}
