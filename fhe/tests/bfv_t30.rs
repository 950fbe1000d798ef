//! The `N4096T30` set at the sizes SecureBoost's packed histograms use: Galois keys on the
//! wire (seed-compressed, strict decoding), and the noise of the diagonal masked-sum circuit
//! (plaintext 0/1 slot masks on fresh ciphertexts, 2047 rotations by one, a modulus switch)
//! still decrypting exactly, with the products summed in NTT form.

use std::sync::Arc;

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use tessera_accelerator::Accelerator;
use tessera_fhe::{Bfv, BfvParamId, BfvParameters, Error};

fn setup() -> (Bfv, ChaCha20Rng) {
    let p = BfvParameters::from_id(BfvParamId::N4096T30).unwrap();
    (Bfv::new(p, Arc::new(Accelerator::probe())).unwrap(), ChaCha20Rng::seed_from_u64(30))
}

#[test]
fn galois_keys_round_trip_and_refuse_tampering() {
    let (he, mut rng) = setup();
    let (_, sk) = he.keygen(&mut rng).unwrap();
    let gk = he.galois_keygen(&sk, he.rotation_element(1), &mut rng).unwrap();
    let bytes = he.galois_key_to_bytes(&gk);
    // 2 digits × 2 limbs × 4096 × 54 bits, header, element and two seeds.
    assert_eq!(bytes.len(), 7 + 4 + 2 * 55_296 + 64);
    let back = he.galois_key_from_bytes(&bytes).unwrap();
    assert_eq!(back, gk);
    // The decoded key rotates like the original.
    let t = he.params().plaintext_modulus;
    let v: Vec<u64> = (0..4096).map(|_| rng.next_u64() % t).collect();
    let ct = he.encrypt_symmetric(&sk, &he.encode_slots(&v).unwrap(), &mut rng).unwrap();
    let r = he.decrypt_slots(&sk, &he.apply_galois(&ct, &back).unwrap()).unwrap();
    assert_eq!(r[..2047], v[1..2048]);
    assert_eq!(r[2047], v[0]);
    // Truncated, extended, wrong magic, even element, word above its prime: refused.
    for bad in [
        bytes[..bytes.len() - 1].to_vec(),
        [bytes.clone(), vec![0]].concat(),
        [b"XXXX".to_vec(), bytes[4..].to_vec()].concat(),
        {
            let mut b = bytes.clone();
            b[7] = 2;
            b
        },
        {
            let mut b = bytes.clone();
            b[11..18].fill(0xff);
            b
        },
    ] {
        assert!(matches!(he.galois_key_from_bytes(&bad), Err(Error::MalformedKey(_))));
    }
}

/// `Σ_k rot(Σ_c M_{k,c} ⊙ G_c, k)` with `K = 2048` diagonals, Horner-evaluated with one
/// rotation key, then switched to one limb: slot `r` of each row is the masked sum of row `r`.
#[test]
fn diagonal_masked_sums_decrypt_exactly_after_2047_rotations() {
    let (he, mut rng) = setup();
    let (_, sk) = he.keygen(&mut rng).unwrap();
    let gk = he.galois_keygen(&sk, he.rotation_element(1), &mut rng).unwrap();
    let t = he.params().plaintext_modulus;
    let half = 2048usize;
    let chunks = 2;
    // Values up to 2^20 in magnitude (signed, mod t), as quantised gradients are.
    let vals: Vec<Vec<i64>> = (0..chunks)
        .map(|_| (0..4096).map(|_| (rng.next_u64() % (1 << 21)) as i64 - (1 << 20)).collect())
        .collect();
    let to_t = |v: i64| v.rem_euclid(t as i64) as u64;
    let cts: Vec<_> = vals
        .iter()
        .map(|v| {
            let slots: Vec<u64> = v.iter().map(|&x| to_t(x)).collect();
            he.encrypt_symmetric(&sk, &he.encode_slots(&slots).unwrap(), &mut rng).unwrap()
        })
        .collect();
    // Each (chunk, slot) belongs to 8 pseudo-random rows: mask (k, c) holds slot s when one of
    // them is (s - k) mod K.
    let rows_of = |c: usize, s: usize| -> Vec<usize> {
        (0..8).map(|j| (c * 7919 + s * 104_729 + j * 1_000_003) % 2039).collect()
    };
    let mut masks = vec![vec![vec![0u64; 4096]; chunks]; half];
    let mut expect = vec![[0i64; 2]; half];
    for c in 0..chunks {
        for s in 0..half {
            for r in rows_of(c, s) {
                let k = (s + half - r) % half;
                masks[k][c][s] = 1;
                masks[k][c][half + s] = 1;
                expect[r][0] += vals[c][s];
                expect[r][1] += vals[c][half + s];
            }
        }
    }
    let ntt: Vec<_> = cts.iter().map(|c| he.to_ntt_form(c).unwrap()).collect();
    let mut acc: Option<tessera_fhe::BfvCiphertext> = None;
    for k in (0..half).rev() {
        let terms: Vec<_> = (0..chunks).map(|c| (&ntt[c], &masks[k][c][..])).collect();
        let x = he.dot_plain_slots(&terms).unwrap().unwrap();
        if k == 5 {
            // The NTT-form sum equals the sum of ordinary plaintext products.
            let a = he.mul_plain_slots(&cts[0], &masks[k][0]).unwrap();
            let b = he.mul_plain_slots(&cts[1], &masks[k][1]).unwrap();
            assert_eq!(he.add(&a, &b).unwrap(), x);
        }
        acc = Some(match acc {
            Some(a) => he.add(&he.apply_galois(&a, &gk).unwrap(), &x).unwrap(),
            None => x,
        });
    }
    let out = he.mod_switch_down(&acc.unwrap()).unwrap();
    // Sent as is, and compressed to 34 + 40 bits per coefficient: both decrypt exactly.
    let full = he.ciphertext_to_bytes(&out).unwrap();
    let small = he.ciphertext_to_compressed_bytes(&out).unwrap();
    assert_eq!(small.len(), he.compressed_ciphertext_len());
    assert!(small.len() * 100 < full.len() * 70, "{} vs {} bytes", small.len(), full.len());
    let centre = |v: u64| if v > t / 2 { v as i64 - t as i64 } else { v as i64 };
    for received in [out.clone(), he.compressed_ciphertext_from_bytes(&small).unwrap()] {
        let got = he.decrypt_slots(&sk, &received).unwrap();
        for r in 0..half {
            assert_eq!(centre(got[r]), expect[r][0], "row 0 slot {r}");
            assert_eq!(centre(got[half + r]), expect[r][1], "row 1 slot {r}");
        }
    }
    // Malformed compressed bytes are refused, never misread.
    assert!(he.compressed_ciphertext_from_bytes(&small[..small.len() - 1]).is_err());
    assert!(he.compressed_ciphertext_from_bytes(&full).is_err());
    let mut wrong_kind = small.clone();
    wrong_kind[5] = 0;
    assert!(he.compressed_ciphertext_from_bytes(&wrong_kind).is_err());
    // A two-limb ciphertext is not compressed (the rounding would destroy it for later use).
    assert!(he.ciphertext_to_compressed_bytes(&cts[0]).is_err());
}
