//! TFHE wire formats (`tessera-fhe/tfhe`): `EncryptedUint<u8>`, `EncryptedUint<u32>` and
//! `EncryptedBool` ciphertexts checked against the owner's parameters, and client keys.
//!
//! An accepted ciphertext must decrypt without a panic and survive a re-encode and re-parse with
//! the same plaintext; an accepted client key must re-encode to bytes that parse again to a key
//! decrypting the fixture's ciphertexts identically (so a key with other parameters cannot
//! slip through). Built only with this crate's `tfhe` feature (a long first build).

use std::sync::OnceLock;

use tessera_fhe::tfhe_int::{EncryptedBool, EncryptedUint, TfheClientKey};

use crate::target::{Target, Verdict};

struct TfheFixture {
    key: TfheClientKey,
    probe: EncryptedUint<u8>,
    seeds: Vec<Vec<u8>>,
}

fn fixture() -> &'static TfheFixture {
    static F: OnceLock<TfheFixture> = OnceLock::new();
    F.get_or_init(|| {
        let key = TfheClientKey::generate();
        let probe = EncryptedUint::<u8>::encrypt(0xA5, &key);
        let mut seeds = Vec::new();
        for v in [0u8, 7, 255] {
            let ct = EncryptedUint::<u8>::encrypt(v, &key).to_bytes().expect("encode");
            seeds.push([&[0u8][..], &ct].concat());
        }
        let wide = EncryptedUint::<u32>::encrypt(123_456, &key).to_bytes().expect("encode");
        seeds.push([&[1u8][..], &wide].concat());
        for b in [false, true] {
            seeds.push(
                [&[2u8][..], &EncryptedBool::encrypt(b, &key).to_bytes().expect("encode")].concat(),
            );
        }
        seeds.push([&[3u8][..], &key.to_bytes().expect("encode")[..]].concat());
        TfheFixture { key, probe, seeds }
    })
}

fn check_uint<T: tessera_fhe::tfhe_int::Uint + PartialEq + std::fmt::Debug>(
    rest: &[u8],
    key: &TfheClientKey,
) -> Verdict {
    let r = EncryptedUint::<T>::from_bytes(rest, key);
    if let Ok(ct) = &r {
        let m = ct.decrypt(key);
        let again = EncryptedUint::<T>::from_bytes(&ct.to_bytes().expect("re-encode"), key)
            .expect("a re-encoded ciphertext parses");
        assert_eq!(again.decrypt(key), m, "TFHE ciphertext round trip");
    }
    Verdict::of(&r)
}

fn check_tfhe(data: &[u8]) -> Verdict {
    let Some((&which, rest)) = data.split_first() else {
        return Verdict::Rejected("empty".into());
    };
    let f = fixture();
    match which % 4 {
        0 => check_uint::<u8>(rest, &f.key),
        1 => check_uint::<u32>(rest, &f.key),
        2 => {
            let r = EncryptedBool::from_bytes(rest, &f.key);
            if let Ok(ct) = &r {
                let m = ct.decrypt(&f.key);
                let again = EncryptedBool::from_bytes(&ct.to_bytes().expect("re-encode"), &f.key)
                    .expect("a re-encoded bit parses");
                assert_eq!(again.decrypt(&f.key), m, "TFHE bit round trip");
            }
            Verdict::of(&r)
        }
        _ => {
            let r = TfheClientKey::from_bytes(rest);
            if let Ok(k) = &r {
                let again = TfheClientKey::from_bytes(&k.to_bytes().expect("re-encode")[..])
                    .expect("a re-encoded client key parses");
                // Encrypting under it and decrypting with the re-parsed copy agree.
                let ct = EncryptedUint::<u8>::encrypt(0x3C, k);
                assert_eq!(ct.decrypt(&again), 0x3C, "client key round trip");
                let _ = f.probe.decrypt(k);
            }
            Verdict::of(&r)
        }
    }
}

/// The TFHE target.
pub fn targets() -> Vec<Target> {
    vec![Target {
        name: "fhe_tfhe",
        about: "EncryptedUint<u8|u32>, EncryptedBool, TfheClientKey from_bytes (feature tfhe)",
        seeds: || fixture().seeds.clone(),
        check: check_tfhe,
        max_len: 1 << 20,
        dict: &[],
        alloc_fixed: 64 << 20,
        ci_execs: 20,
    }]
}
