//! Homomorphic-encryption wire formats: BFV ciphertexts (full, seeded, compressed), public and
//! Galois keys; Paillier public keys and ciphertexts.
//!
//! The BFV decoders promise one encoding per value, so an accepted input must re-encode to
//! itself; an accepted ciphertext must decrypt without error. An accepted Paillier ciphertext
//! re-encodes to itself (fixed width) and decrypts; a public key round-trips its modulus.

use std::sync::{Arc, OnceLock};

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tessera_accelerator::Accelerator;
use tessera_fhe::{
    Bfv, BfvParamId, BfvParameters, BfvPublicKey, BfvSecretKey, PaillierPublicKey,
    PaillierSecretKey, paillier_keygen,
};

use crate::target::{SMALL_FIXED, Target, Verdict};

struct BfvFixture {
    he: Bfv,
    sk: BfvSecretKey,
    seeds: Vec<Vec<u8>>,
}

fn bfv() -> &'static BfvFixture {
    static F: OnceLock<BfvFixture> = OnceLock::new();
    F.get_or_init(|| {
        let params = BfvParameters::from_id(BfvParamId::N4096T65537).expect("params");
        let he = Bfv::new(params, Arc::new(Accelerator::probe())).expect("bfv");
        let mut rng = ChaCha20Rng::seed_from_u64(20);
        let (pk, sk): (BfvPublicKey, BfvSecretKey) = he.keygen(&mut rng).expect("keygen");
        let values: Vec<u64> = (0..64).collect();
        let full = he.encrypt(&pk, &values, &mut rng).expect("encrypt");
        let seeded = he.encrypt_symmetric(&sk, &values, &mut rng).expect("encrypt");
        let low = he.mod_switch_down(&full).expect("mod switch");
        let gk = he.galois_keygen(&sk, 3, &mut rng).expect("galois");
        let seeds = vec![
            [&[0u8][..], &he.ciphertext_to_bytes(&full).expect("bytes")].concat(),
            [&[0u8][..], &he.ciphertext_to_bytes(&seeded).expect("bytes")].concat(),
            [&[0u8][..], &he.ciphertext_to_bytes(&low).expect("bytes")].concat(),
            [&[1u8][..], &he.ciphertext_to_compressed_bytes(&low).expect("bytes")].concat(),
            [&[2u8][..], &he.public_key_to_bytes(&pk)].concat(),
            [&[3u8][..], &he.galois_key_to_bytes(&gk)].concat(),
        ];
        BfvFixture { he, sk, seeds }
    })
}

fn check_bfv(data: &[u8]) -> Verdict {
    let Some((&which, rest)) = data.split_first() else {
        return Verdict::Rejected("empty".into());
    };
    let f = bfv();
    let he = &f.he;
    match which % 4 {
        0 => {
            let r = he.ciphertext_from_bytes(rest);
            if let Ok(ct) = &r {
                assert_eq!(he.ciphertext_to_bytes(ct).expect("encode"), rest, "BFV ciphertext");
                assert_eq!(he.ciphertext_len(ct).expect("len"), rest.len());
                let m = he.decrypt(&f.sk, ct).expect("an accepted ciphertext decrypts");
                assert_eq!(m.len(), he.params().n);
            }
            Verdict::of(&r)
        }
        1 => {
            let r = he.compressed_ciphertext_from_bytes(rest);
            if let Ok(ct) = &r {
                let again = he.ciphertext_to_compressed_bytes(ct).expect("encode");
                assert_eq!(again, rest, "compressed BFV ciphertext: one encoding per value");
                he.decrypt(&f.sk, ct).expect("an accepted ciphertext decrypts");
            }
            Verdict::of(&r)
        }
        2 => {
            let r = he.public_key_from_bytes(rest);
            if let Ok(pk) = &r {
                assert_eq!(he.public_key_to_bytes(pk), rest, "BFV public key");
            }
            Verdict::of(&r)
        }
        _ => {
            let r = he.galois_key_from_bytes(rest);
            if let Ok(gk) = &r {
                assert_eq!(he.galois_key_to_bytes(gk), rest, "BFV Galois key");
            }
            Verdict::of(&r)
        }
    }
}

struct PaillierFixture {
    pk: PaillierPublicKey,
    sk: PaillierSecretKey,
    seeds: Vec<Vec<u8>>,
}

fn paillier() -> &'static PaillierFixture {
    static F: OnceLock<PaillierFixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(21);
        let (pk, sk) = paillier_keygen(1024, &mut rng).expect("keygen");
        let mut seeds = vec![[&[0u8][..], &pk.to_bytes()].concat()];
        for m in [0u32, 1, 12345] {
            let c = pk.encrypt(&num_bigint_dig::BigUint::from(m), &mut rng).expect("encrypt");
            seeds.push([&[1u8][..], &pk.ciphertext_to_bytes(&c)].concat());
        }
        PaillierFixture { pk, sk, seeds }
    })
}

fn check_paillier(data: &[u8]) -> Verdict {
    let Some((&which, rest)) = data.split_first() else {
        return Verdict::Rejected("empty".into());
    };
    let f = paillier();
    if which % 2 == 0 {
        let r = PaillierPublicKey::from_bytes(rest);
        if let Ok(pk) = &r {
            let back = PaillierPublicKey::from_bytes(&pk.to_bytes()).expect("re-parse");
            assert_eq!(back.modulus(), pk.modulus(), "Paillier key round trip");
            let start = rest.iter().position(|&b| b != 0).unwrap_or(rest.len());
            assert_eq!(pk.to_bytes(), &rest[start..], "Paillier key bytes");
        }
        Verdict::of(&r)
    } else {
        let r = f.pk.ciphertext_from_bytes(rest);
        if let Ok(c) = &r {
            assert_eq!(f.pk.ciphertext_to_bytes(c), rest, "Paillier ciphertext");
            let m = f.sk.decrypt(c);
            assert!(&m < f.pk.modulus(), "Paillier plaintext below n");
        }
        Verdict::of(&r)
    }
}

/// The HE targets.
pub fn targets() -> Vec<Target> {
    vec![
        Target {
            name: "fhe_bfv",
            about: "Bfv::{ciphertext,compressed_ciphertext,public_key,galois_key}_from_bytes",
            seeds: || bfv().seeds.clone(),
            check: check_bfv,
            max_len: 256 << 10,
            dict: &[b"TBC1", b"TBK1", b"TBG1"],
            alloc_fixed: 4 << 20,
            ci_execs: 300,
        },
        Target {
            name: "fhe_paillier",
            about: "PaillierPublicKey::from_bytes, ciphertext_from_bytes",
            seeds: || paillier().seeds.clone(),
            check: check_paillier,
            max_len: 2048,
            dict: &[],
            alloc_fixed: SMALL_FIXED,
            ci_execs: 500,
        },
    ]
}
