//! One suite for every `AdditiveHe` scheme: round trips and homomorphic identities on random
//! data, and a long chain of operations that must still decrypt exactly.

use std::sync::Arc;

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use tessera_accelerator::Accelerator;
use tessera_fhe::{AdditiveHe, Bfv, BfvParamId, BfvParameters, Paillier};

fn random_values(rng: &mut ChaCha20Rng, count: usize, t: u64) -> Vec<u64> {
    (0..count).map(|_| 1 + rng.next_u64() % (t - 1)).collect()
}

fn homomorphic_identities<H: AdditiveHe>(he: &H, seed: u64) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let t = he.plaintext_modulus();
    let (pk, sk) = he.keygen(&mut rng).unwrap();
    let slots = he.slots();
    for _ in 0..3 {
        let a = random_values(&mut rng, slots, t);
        let b = random_values(&mut rng, slots, t);
        let k = 1 + rng.next_u64() % (t - 1);
        let ca = he.encrypt(&pk, &a, &mut rng).unwrap();
        let cb = he.encrypt(&pk, &b, &mut rng).unwrap();
        assert_eq!(he.decrypt(&sk, &ca).unwrap(), a, "{}: round trip", he.name());
        let sum = he.add(&pk, &ca, &cb).unwrap();
        let expect: Vec<u64> = a.iter().zip(&b).map(|(x, y)| (x + y) % t).collect();
        assert_eq!(he.decrypt(&sk, &sum).unwrap(), expect, "{}: add", he.name());
        let scaled = he.mul_scalar(&pk, &ca, k).unwrap();
        let expect: Vec<u64> =
            a.iter().map(|&x| (u128::from(x) * u128::from(k) % u128::from(t)) as u64).collect();
        assert_eq!(he.decrypt(&sk, &scaled).unwrap(), expect, "{}: mul_scalar", he.name());
        assert!(he.ciphertext_bytes(&pk, &ca) > 0);
    }
    // Partial vectors fill the remaining slots with zero; out-of-range values are refused.
    let short = he.encrypt(&pk, &[t - 1], &mut rng).unwrap();
    let got = he.decrypt(&sk, &short).unwrap();
    assert_eq!(got[0], t - 1);
    assert!(got[1..].iter().all(|&v| v == 0));
    assert!(he.encrypt(&pk, &[t], &mut rng).is_err());
    assert!(he.encrypt(&pk, &vec![1; slots + 1], &mut rng).is_err());
}

/// A weighted sum of `terms` fresh ciphertexts with scalars up to `max_k`: the shape of a
/// gradient aggregation. Every slot must decrypt exactly (no decryption failure).
fn long_weighted_sum<H: AdditiveHe>(he: &H, terms: usize, max_k: u64, seed: u64) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let t = he.plaintext_modulus();
    let (pk, sk) = he.keygen(&mut rng).unwrap();
    let slots = he.slots();
    let mut expect = vec![0u128; slots];
    let mut acc: Option<H::Ciphertext> = None;
    for _ in 0..terms {
        let v = random_values(&mut rng, slots, t);
        let k = 1 + rng.next_u64() % max_k;
        for (e, &x) in expect.iter_mut().zip(&v) {
            *e = (*e + u128::from(x) * u128::from(k)) % u128::from(t);
        }
        let c = he.mul_scalar(&pk, &he.encrypt(&pk, &v, &mut rng).unwrap(), k).unwrap();
        acc = Some(match acc {
            None => c,
            Some(a) => he.add(&pk, &a, &c).unwrap(),
        });
    }
    let got = he.decrypt(&sk, &acc.unwrap()).unwrap();
    let expect: Vec<u64> = expect.into_iter().map(|e| e as u64).collect();
    assert_eq!(got, expect, "{}: weighted sum of {terms}", he.name());
}

fn bfv(id: BfvParamId) -> Bfv {
    Bfv::new(BfvParameters::from_id(id).unwrap(), Arc::new(Accelerator::probe())).unwrap()
}

#[test]
fn bfv_4096_identities() {
    homomorphic_identities(&bfv(BfvParamId::N4096T65537), 1);
}

#[test]
fn bfv_8192_identities() {
    homomorphic_identities(&bfv(BfvParamId::N8192T40), 2);
}

#[test]
fn bfv_4096_long_weighted_sum() {
    // 64 terms with weights up to 2^16: noise grows to ~64·2^16·|e| ≪ Δ/2 ≈ 2^91.
    long_weighted_sum(&bfv(BfvParamId::N4096T65537), 64, 65_536, 3);
}

#[test]
fn bfv_8192_long_weighted_sum() {
    long_weighted_sum(&bfv(BfvParamId::N8192T40), 16, 1 << 39, 4);
}

fn paillier() -> Paillier {
    // 1024-bit keys keep the debug-profile suite fast; the bench uses 2048.
    Paillier { modulus_bits: 1024, plaintext_modulus: (1 << 40) + 15 }
}

#[test]
fn paillier_identities() {
    homomorphic_identities(&paillier(), 5);
}

#[test]
fn paillier_long_weighted_sum() {
    long_weighted_sum(&paillier(), 64, 1 << 20, 6);
}
