//! BFV-specific checks: symmetric (seeded) encryption, plaintext polynomial products, wire
//! formats and their refusal of corrupted bytes, and the decryption failure rate.

use std::sync::Arc;

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use tessera_accelerator::Accelerator;
use tessera_fhe::{Bfv, BfvParamId, BfvParameters, Error};

fn setup(id: BfvParamId) -> (Bfv, ChaCha20Rng) {
    let he = Bfv::new(BfvParameters::from_id(id).unwrap(), Arc::new(Accelerator::probe())).unwrap();
    (he, ChaCha20Rng::seed_from_u64(id as u64 * 100))
}

fn values(rng: &mut ChaCha20Rng, n: usize, t: u64) -> Vec<u64> {
    (0..n).map(|_| 1 + rng.next_u64() % (t - 1)).collect()
}

#[test]
fn symmetric_encryption_round_trips_and_ships_a_seed() {
    let (he, mut rng) = setup(BfvParamId::N4096T65537);
    let (pk, sk) = he.keygen(&mut rng).unwrap();
    let t = he.params().plaintext_modulus;
    let m = values(&mut rng, 4096, t);
    let c = he.encrypt_symmetric(&sk, &m, &mut rng).unwrap();
    assert_eq!(he.decrypt(&sk, &c).unwrap(), m);
    let seeded = he.ciphertext_to_bytes(&c).unwrap();
    let full = he.ciphertext_to_bytes(&he.add(&c, &c).unwrap()).unwrap();
    // 2 limbs × 4096 × 54 bits = 55 296 bytes per polynomial.
    assert_eq!(seeded.len(), 7 + 55_296 + 32);
    assert_eq!(full.len(), 7 + 2 * 55_296);
    let back = he.ciphertext_from_bytes(&seeded).unwrap();
    assert_eq!(back, c);
    assert_eq!(he.decrypt(&sk, &back).unwrap(), m);
    let pk_bytes = he.public_key_to_bytes(&pk);
    assert_eq!(he.public_key_from_bytes(&pk_bytes).unwrap(), pk);
}

#[test]
fn mul_plain_is_the_negacyclic_product_mod_t() {
    let (he, mut rng) = setup(BfvParamId::N4096T65537);
    let (pk, sk) = he.keygen(&mut rng).unwrap();
    let (n, t) = (4096usize, he.params().plaintext_modulus);
    let m = values(&mut rng, n, t);
    // A sparse plaintext keeps the schoolbook reference fast.
    let mut p = vec![0u64; n];
    for _ in 0..8 {
        p[rng.next_u64() as usize % n] = 1 + rng.next_u64() % (t - 1);
    }
    let c = he.mul_plain(&he.encrypt(&pk, &m, &mut rng).unwrap(), &p).unwrap();
    let mut expect = vec![0u64; n];
    for (j, &pj) in p.iter().enumerate().filter(|(_, v)| **v != 0) {
        for (i, &mi) in m.iter().enumerate() {
            let prod = mi * pj % t;
            let k = i + j;
            if k < n {
                expect[k] = (expect[k] + prod) % t;
            } else {
                expect[k - n] = (expect[k - n] + t - prod) % t;
            }
        }
    }
    assert_eq!(he.decrypt(&sk, &c).unwrap(), expect);
}

#[test]
fn corrupted_or_foreign_bytes_are_refused() {
    let (he, mut rng) = setup(BfvParamId::N4096T65537);
    let (pk, _sk) = he.keygen(&mut rng).unwrap();
    let c = he.encrypt(&pk, &[1, 2, 3], &mut rng).unwrap();
    let bytes = he.ciphertext_to_bytes(&c).unwrap();
    let malformed =
        |b: &[u8]| matches!(he.ciphertext_from_bytes(b), Err(Error::MalformedCiphertext(_)));
    assert!(malformed(&bytes[..bytes.len() - 1]));
    assert!(malformed(&[bytes.as_slice(), &[0]].concat()));
    assert!(malformed(&bytes[..3]));
    assert!(malformed(&[]));
    let mut wrong_magic = bytes.clone();
    wrong_magic[0] ^= 1;
    assert!(malformed(&wrong_magic));
    let mut wrong_kind = bytes.clone();
    wrong_kind[5] = 7;
    assert!(malformed(&wrong_kind));
    // A word of all ones (≥ q) is refused.
    let mut too_big = bytes.clone();
    for b in &mut too_big[7..7 + 7] {
        *b = 0xff;
    }
    assert!(malformed(&too_big));
    // Parameters of another set are refused.
    let (other, _) = setup(BfvParamId::N8192T40);
    assert!(matches!(other.ciphertext_from_bytes(&bytes), Err(Error::MalformedCiphertext(_))));
    let pkb = he.public_key_to_bytes(&pk);
    assert!(matches!(he.public_key_from_bytes(&pkb[1..]), Err(Error::MalformedKey(_))));
    assert!(matches!(other.public_key_from_bytes(&pkb), Err(Error::MalformedKey(_))));
    // Operands of another parameter set are refused, not mixed.
    let (opk, _) = other.keygen(&mut rng).unwrap();
    let oc = other.encrypt(&opk, &[1], &mut rng).unwrap();
    assert!(matches!(he.add(&c, &oc), Err(Error::KeyMismatch)));
    assert!(matches!(he.encrypt(&opk, &[1], &mut rng), Err(Error::KeyMismatch)));
}

/// Fresh public-key encryptions of random vectors across many keys: every one of the
/// 40 × 4096 slots must decrypt exactly. The failure probability per slot at these parameters is
/// far below 2^-100 (noise ≲ 2^14 vs Δ/2 ≈ 2^91), so any failure here is a bug.
#[test]
fn no_decryption_failures_over_many_encryptions() {
    let (he, mut rng) = setup(BfvParamId::N4096T65537);
    let t = he.params().plaintext_modulus;
    for _ in 0..4 {
        let (pk, sk) = he.keygen(&mut rng).unwrap();
        for _ in 0..10 {
            let m = values(&mut rng, 4096, t);
            assert_eq!(he.decrypt(&sk, &he.encrypt(&pk, &m, &mut rng).unwrap()).unwrap(), m);
        }
    }
}

#[test]
fn modulus_switching_shrinks_and_preserves_the_plaintext() {
    for id in [BfvParamId::N4096T65537, BfvParamId::N8192T40] {
        let (he, mut rng) = setup(id);
        let (pk, sk) = he.keygen(&mut rng).unwrap();
        let (n, t) = (he.params().n, he.params().plaintext_modulus);
        let limbs = he.params().moduli.len();
        let a = values(&mut rng, n, t);
        let b = values(&mut rng, n, t);
        let c = he
            .add(
                &he.encrypt(&pk, &a, &mut rng).unwrap(),
                &he.mul_scalar(&he.encrypt(&pk, &b, &mut rng).unwrap(), 3).unwrap(),
            )
            .unwrap();
        let expect: Vec<u64> = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| ((u128::from(x) + 3 * u128::from(y)) % u128::from(t)) as u64)
            .collect();
        let mut cur = c.clone();
        for level in (1..limbs).rev() {
            let down = he.mod_switch_down(&cur).unwrap();
            assert_eq!(he.level(&down).unwrap(), level);
            assert_eq!(he.decrypt(&sk, &down).unwrap(), expect, "{id:?} at level {level}");
            let bytes = he.ciphertext_to_bytes(&down).unwrap();
            assert_eq!(bytes.len(), 7 + 2 * (level * n * 54).div_ceil(8));
            assert_eq!(he.ciphertext_from_bytes(&bytes).unwrap(), down);
            // Mixing levels is refused; adding at one level works.
            assert!(matches!(he.add(&down, &cur), Err(Error::LevelMismatch)));
            let twice = he.add(&down, &down).unwrap();
            let doubled: Vec<u64> = expect.iter().map(|&x| (x * 2) % t).collect();
            assert_eq!(he.decrypt(&sk, &twice).unwrap(), doubled);
            cur = down;
        }
        assert!(he.mod_switch_down(&cur).is_err());
    }
}

#[test]
fn slot_packing_multiplies_slot_by_slot() {
    for id in [BfvParamId::N4096T65537, BfvParamId::N8192T40] {
        let (he, mut rng) = setup(id);
        let (pk, sk) = he.keygen(&mut rng).unwrap();
        let (n, t) = (he.params().n, he.params().plaintext_modulus);
        let a = values(&mut rng, n, t);
        let b = values(&mut rng, n, t);
        assert_eq!(he.decode_slots(&he.encode_slots(&a).unwrap()).unwrap(), a);
        let c = he.encrypt_slots(&pk, &a, &mut rng).unwrap();
        assert_eq!(he.decrypt_slots(&sk, &c).unwrap(), a);
        let prod = he.mul_plain_slots(&c, &b).unwrap();
        let expect: Vec<u64> = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| (u128::from(x) * u128::from(y) % u128::from(t)) as u64)
            .collect();
        assert_eq!(he.decrypt_slots(&sk, &prod).unwrap(), expect, "{id:?}");
        let sum = he.add(&c, &he.encrypt_slots(&pk, &b, &mut rng).unwrap()).unwrap();
        let expect: Vec<u64> = a.iter().zip(&b).map(|(&x, &y)| (x + y) % t).collect();
        assert_eq!(he.decrypt_slots(&sk, &sum).unwrap(), expect);
    }
}

fn negacyclic_mod_t(a: &[u64], b: &[u64], t: u64) -> Vec<u64> {
    let n = a.len();
    let mut out = vec![0u128; n];
    let t128 = u128::from(t);
    for (i, &x) in a.iter().enumerate() {
        for (j, &y) in b.iter().enumerate() {
            let p = u128::from(x) * u128::from(y) % t128;
            let k = i + j;
            if k < n {
                out[k] = (out[k] + p) % t128;
            } else {
                out[k - n] = (out[k - n] + t128 - p) % t128;
            }
        }
    }
    out.into_iter().map(|v| v as u64).collect()
}

#[test]
fn ciphertext_multiplication_with_relinearisation() {
    for id in [BfvParamId::N4096T65537, BfvParamId::N8192T40] {
        let (he, mut rng) = setup(id);
        let (pk, sk) = he.keygen(&mut rng).unwrap();
        let rlk = he.relin_keygen(&sk, &mut rng).unwrap();
        let (n, t) = (he.params().n, he.params().plaintext_modulus);
        // Slot packing: the product is slot-wise.
        let a = values(&mut rng, n, t);
        let b = values(&mut rng, n, t);
        let ca = he.encrypt_slots(&pk, &a, &mut rng).unwrap();
        let cb = he.encrypt_slots(&pk, &b, &mut rng).unwrap();
        let prod = he.mul(&ca, &cb, &rlk).unwrap();
        let expect: Vec<u64> = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| (u128::from(x) * u128::from(y) % u128::from(t)) as u64)
            .collect();
        assert_eq!(he.decrypt_slots(&sk, &prod).unwrap(), expect, "{id:?} slots");
        // The product still adds, scales and switches down like a fresh ciphertext.
        let more = he.add(&prod, &ca).unwrap();
        let expect2: Vec<u64> = expect.iter().zip(&a).map(|(&x, &y)| (x + y) % t).collect();
        let down = he.mod_switch_down(&more).unwrap();
        assert_eq!(he.decrypt_slots(&sk, &down).unwrap(), expect2, "{id:?} after switch");
        // Coefficient packing: the negacyclic product mod t.
        if n == 4096 {
            let ma = values(&mut rng, n, t);
            let mb = values(&mut rng, n, t);
            let c = he
                .mul(
                    &he.encrypt(&pk, &ma, &mut rng).unwrap(),
                    &he.encrypt(&pk, &mb, &mut rng).unwrap(),
                    &rlk,
                )
                .unwrap();
            assert_eq!(he.decrypt(&sk, &c).unwrap(), negacyclic_mod_t(&ma, &mb, t));
        }
        // A relinearisation key of another secret key gives a wrong product, not the right one.
        let (_, other_sk) = he.keygen(&mut rng).unwrap();
        let wrong = he.relin_keygen(&other_sk, &mut rng).unwrap();
        let bad = he.mul(&ca, &cb, &wrong).unwrap();
        assert_ne!(he.decrypt_slots(&sk, &bad).unwrap(), expect);
        // Switched-down operands are refused.
        assert!(matches!(
            he.mul(&he.mod_switch_down(&ca).unwrap(), &cb, &rlk),
            Err(Error::LevelMismatch)
        ));
    }
}

#[test]
fn galois_keys_rotate_and_swap_rows() {
    let (he, mut rng) = setup(BfvParamId::N4096T65537);
    let (pk, sk) = he.keygen(&mut rng).unwrap();
    let (n, t) = (he.params().n, he.params().plaintext_modulus);
    let half = n / 2;
    let v = values(&mut rng, n, t);
    let c = he.encrypt_slots(&pk, &v, &mut rng).unwrap();
    for steps in [1i64, 5, -3] {
        let gk = he.galois_keygen(&sk, he.rotation_element(steps), &mut rng).unwrap();
        let rotated = he.decrypt_slots(&sk, &he.apply_galois(&c, &gk).unwrap()).unwrap();
        let r = steps.rem_euclid(half as i64) as usize;
        let expect: Vec<u64> = (0..n)
            .map(|i| {
                let (row, col) = (i / half, i % half);
                v[row * half + (col + r) % half]
            })
            .collect();
        assert_eq!(rotated, expect, "rotate by {steps}");
    }
    let swap = he.galois_keygen(&sk, 2 * n - 1, &mut rng).unwrap();
    let swapped = he.decrypt_slots(&sk, &he.apply_galois(&c, &swap).unwrap()).unwrap();
    assert_eq!(&swapped[..half], &v[half..]);
    assert_eq!(&swapped[half..], &v[..half]);
    assert!(he.galois_keygen(&sk, 4, &mut rng).is_err());
    // A key for another secret key does not rotate this ciphertext correctly.
    let (_, other) = he.keygen(&mut rng).unwrap();
    let wrong = he.galois_keygen(&other, he.rotation_element(1), &mut rng).unwrap();
    let bad = he.decrypt_slots(&sk, &he.apply_galois(&c, &wrong).unwrap()).unwrap();
    assert_ne!(bad[..half], v[1..=half]);
}

#[test]
fn ciphertext_len_matches_the_encoding() {
    let (he, mut rng) = setup(BfvParamId::N4096T65537);
    let (pk, sk) = he.keygen(&mut rng).unwrap();
    let fresh = he.encrypt(&pk, &[5], &mut rng).unwrap();
    let seeded = he.encrypt_symmetric(&sk, &[5], &mut rng).unwrap();
    let low = he.mod_switch_down(&fresh).unwrap();
    for ct in [&fresh, &seeded, &low] {
        assert_eq!(he.ciphertext_len(ct).unwrap(), he.ciphertext_to_bytes(ct).unwrap().len());
    }
}
