//! TFHE integers (feature `tfhe`): operations on random values against the plaintext result for
//! `u8`, `u16` and `u64`, key and ciphertext round-trips through bytes, and refusal of truncated,
//! corrupted, oversized, trailing, mistyped and wrong-parameter bytes.
//!
//! One key set per test binary (key generation takes seconds); the server key always reaches the
//! evaluator through its byte form, as it would over the network.
#![cfg(feature = "tfhe")]

use std::sync::OnceLock;

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use tessera_fhe::Error;
use tessera_fhe::tfhe_int::{
    EncryptedBool, EncryptedUint, MAX_CIPHERTEXT_BYTES, TfheClientKey, TfheCompressedServerKey,
    TfheError, TfheObject, TfheServerKey, Uint,
};
use tfhe::prelude::FheEncrypt;
use tfhe::safe_serialization::safe_serialize;
use tfhe::shortint::parameters::PARAM_MESSAGE_2_CARRY_2_KS_PBS_GAUSSIAN_2M128;
use tfhe::shortint::parameters::v1_8::V1_8_PARAM_MESSAGE_1_CARRY_1_KS_PBS_GAUSSIAN_2M128;

struct Keys {
    client: TfheClientKey,
    server: TfheServerKey,
    server_key_bytes: Vec<u8>,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let client = TfheClientKey::generate();
        let server_key_bytes = client.compressed_server_key().to_bytes().unwrap();
        let server = TfheCompressedServerKey::from_bytes(&server_key_bytes).unwrap().decompress();
        Keys { client, server, server_key_bytes }
    })
}

fn rng() -> ChaCha20Rng {
    let seed = rand_core::OsRng.next_u64();
    println!("rng seed {seed}");
    ChaCha20Rng::seed_from_u64(seed)
}

/// The evaluator's result travels back as bytes, and the owner parses it against its own key.
fn round_trip<T: Uint>(ct: &EncryptedUint<T>) -> T {
    let k = keys();
    EncryptedUint::<T>::from_bytes(&ct.to_bytes().unwrap(), &k.client).unwrap().decrypt(&k.client)
}

fn bit(ct: &EncryptedBool) -> bool {
    let k = keys();
    EncryptedBool::from_bytes(&ct.to_bytes().unwrap(), &k.client).unwrap().decrypt(&k.client)
}

#[test]
fn uint8_every_operation_matches_plaintext() {
    let k = keys();
    let mut rng = rng();
    let (a, b) = (rng.next_u32() as u8, rng.next_u32() as u8);
    let (ca, cb) = (EncryptedUint::encrypt(a, &k.client), EncryptedUint::encrypt(b, &k.client));
    let s = &k.server;
    assert_eq!(round_trip(&s.add(&ca, &cb)), a.wrapping_add(b), "{a} + {b}");
    assert_eq!(round_trip(&s.sub(&ca, &cb)), a.wrapping_sub(b), "{a} - {b}");
    assert_eq!(round_trip(&s.mul(&ca, &cb)), a.wrapping_mul(b), "{a} * {b}");
    assert_eq!(round_trip(&s.bitand(&ca, &cb)), a & b);
    assert_eq!(round_trip(&s.bitor(&ca, &cb)), a | b);
    assert_eq!(round_trip(&s.bitxor(&ca, &cb)), a ^ b);
    assert_eq!(round_trip(&s.not(&ca)), !a);
    assert_eq!(round_trip(&s.min(&ca, &cb)), a.min(b), "min({a}, {b})");
    assert_eq!(round_trip(&s.max(&ca, &cb)), a.max(b), "max({a}, {b})");
    assert_eq!(bit(&s.lt(&ca, &cb)), a < b, "{a} < {b}");
    assert_eq!(bit(&s.le(&ca, &cb)), a <= b);
    assert_eq!(bit(&s.gt(&ca, &cb)), a > b);
    assert_eq!(bit(&s.ge(&ca, &cb)), a >= b);
    assert_eq!(bit(&s.ne(&ca, &cb)), a != b);
    // Equal operands, so that `eq` is seen returning true as well as false.
    let ca2 = EncryptedUint::encrypt(a, &k.client);
    assert!(bit(&s.eq(&ca, &ca2)));
    assert!(bit(&s.le(&ca, &ca2)) && !bit(&s.lt(&ca, &ca2)));
    assert_eq!(bit(&s.eq(&ca, &cb)), a == b);
    // A public constant, added on the evaluator's side.
    let c = rng.next_u32() as u8;
    let cc = EncryptedUint::trivial(c, &k.server);
    assert_eq!(round_trip(&s.add(&ca, &cc)), a.wrapping_add(c));
}

#[test]
fn uint16_select_and_boolean_logic() {
    let k = keys();
    let mut rng = rng();
    let (a, b) = (rng.next_u32() as u16, rng.next_u32() as u16);
    let (ca, cb) = (EncryptedUint::encrypt(a, &k.client), EncryptedUint::encrypt(b, &k.client));
    let s = &k.server;
    assert_eq!(round_trip(&s.sub(&ca, &cb)), a.wrapping_sub(b), "{a} - {b}");
    assert_eq!(round_trip(&s.mul(&ca, &cb)), a.wrapping_mul(b), "{a} * {b}");
    for cond in [true, false] {
        let c = EncryptedBool::encrypt(cond, &k.client);
        assert_eq!(round_trip(&s.select(&c, &ca, &cb)), if cond { a } else { b });
    }
    // select(a < b, a, b) is min(a, b), computed without the evaluator learning the order.
    assert_eq!(round_trip(&s.select(&s.lt(&ca, &cb), &ca, &cb)), a.min(b));
    let (t, f) =
        (EncryptedBool::encrypt(true, &k.client), EncryptedBool::encrypt(false, &k.client));
    assert!(!bit(&s.and(&t, &f)) && bit(&s.and(&t, &t)));
    assert!(bit(&s.or(&t, &f)) && !bit(&s.or(&f, &f)));
    assert!(bit(&s.not_bool(&f)) && !bit(&s.not_bool(&t)));
}

#[test]
fn uint64_arithmetic_and_comparison_match_plaintext() {
    let k = keys();
    let mut rng = rng();
    let (a, b) = (rng.next_u64(), rng.next_u64());
    let (ca, cb) = (EncryptedUint::encrypt(a, &k.client), EncryptedUint::encrypt(b, &k.client));
    let s = &k.server;
    assert_eq!(round_trip(&s.add(&ca, &cb)), a.wrapping_add(b), "{a} + {b}");
    assert_eq!(round_trip(&s.sub(&ca, &cb)), a.wrapping_sub(b), "{a} - {b}");
    assert_eq!(round_trip(&s.mul(&ca, &cb)), a.wrapping_mul(b), "{a} * {b}");
    assert_eq!(round_trip(&s.bitxor(&ca, &cb)), a ^ b);
    assert_eq!(bit(&s.gt(&ca, &cb)), a > b, "{a} > {b}");
    assert_eq!(round_trip(&s.max(&ca, &cb)), a.max(b));
    // Carries across every block: u64::MAX + 1 wraps to 0.
    let max = EncryptedUint::encrypt(u64::MAX, &k.client);
    let one = EncryptedUint::encrypt(1u64, &k.client);
    assert_eq!(round_trip(&s.add(&max, &one)), 0);
}

#[test]
fn keys_round_trip_through_bytes() {
    let k = keys();
    let bytes = k.client.to_bytes().unwrap();
    let restored = TfheClientKey::from_bytes(&bytes).unwrap();
    let ct = EncryptedUint::encrypt(0xBEEFu16, &k.client);
    assert_eq!(ct.decrypt(&restored), 0xBEEF);
    assert_eq!(EncryptedUint::encrypt(0x1234u16, &restored).decrypt(&k.client), 0x1234);

    let again = TfheCompressedServerKey::from_bytes(&k.server_key_bytes).unwrap();
    assert_eq!(again.to_bytes().unwrap(), k.server_key_bytes);
    println!(
        "client key {} bytes, compressed server key {} bytes",
        bytes.len(),
        k.server_key_bytes.len()
    );
}

#[test]
fn truncated_trailing_oversized_and_mistyped_bytes_are_refused() {
    let k = keys();
    let ct = EncryptedUint::encrypt(77u8, &k.client);
    let bytes = ct.to_bytes().unwrap();
    let what = TfheObject::Uint(8);
    for cut in [0, 1, 8, bytes.len() / 2, bytes.len() - 1] {
        assert_eq!(
            EncryptedUint::<u8>::from_bytes(&bytes[..cut], &k.server).unwrap_err(),
            TfheError::Malformed(what),
            "cut at {cut}"
        );
    }
    let mut long = bytes.clone();
    long.push(0);
    assert_eq!(
        EncryptedUint::<u8>::from_bytes(&long, &k.server).unwrap_err(),
        TfheError::TrailingBytes { what, extra: 1 }
    );
    let huge = vec![0u8; MAX_CIPHERTEXT_BYTES as usize + 1];
    assert!(matches!(
        EncryptedUint::<u64>::from_bytes(&huge, &k.server),
        Err(TfheError::TooLarge { len, .. }) if len == huge.len()
    ));
    // The header names the type family (a ciphertext is not a bit or a key); within `FheUint`
    // the width shows only in the block count, which the conformance check compares.
    assert_eq!(
        EncryptedUint::<u64>::from_bytes(&bytes, &k.server).unwrap_err(),
        TfheError::NotConformant(TfheObject::Uint(64))
    );
    assert!(EncryptedBool::from_bytes(&bytes, &k.server).is_err());
    assert_eq!(
        TfheCompressedServerKey::from_bytes(&bytes).unwrap_err(),
        TfheError::Malformed(TfheObject::CompressedServerKey)
    );
    assert!(TfheClientKey::from_bytes(&bytes).is_err());
    let sk = &k.server_key_bytes;
    assert!(TfheCompressedServerKey::from_bytes(&sk[..sk.len() - 1]).is_err());
    assert!(TfheCompressedServerKey::from_bytes(&sk[..sk.len() / 3]).is_err());
    // The crate-level error keeps keys and ciphertexts apart.
    assert_eq!(
        Error::from(TfheError::Malformed(TfheObject::CompressedServerKey)),
        Error::MalformedKey("TFHE compressed server key")
    );
    assert_eq!(
        Error::from(TfheError::Malformed(what)),
        Error::MalformedCiphertext("TFHE FheUint8")
    );
}

#[test]
fn corrupted_ciphertext_bytes_never_panic() {
    let k = keys();
    let mut rng = rng();
    let bytes = EncryptedUint::encrypt(5u8, &k.client).to_bytes().unwrap();
    let (mut refused, mut accepted) = (0, 0);
    for _ in 0..300 {
        let mut bad = bytes.clone();
        // Mostly the header and metadata (the first and last few hundred bytes), sometimes the body.
        let pos = match rng.next_u32() % 3 {
            0 => rng.next_u32() as usize % 256,
            1 => bad.len() - 1 - rng.next_u32() as usize % 256,
            _ => rng.next_u32() as usize % bad.len(),
        };
        bad[pos] ^= 1 << (rng.next_u32() % 8);
        match EncryptedUint::<u8>::from_bytes(&bad, &k.server) {
            Err(_) => refused += 1,
            Ok(ct) => {
                // A flipped mask or body bit is undetectable (no integrity): the ciphertext is
                // still well-shaped, so it decrypts (to anything) without panicking.
                let _ = ct.decrypt(&k.client);
                accepted += 1;
            }
        }
    }
    println!("{refused} refused, {accepted} accepted as well-shaped");
    assert!(refused > 0, "no corruption was caught");
}

#[test]
fn objects_for_other_parameters_are_refused() {
    let k = keys();
    // A well-formed FheUint8 under 1-bit blocks (the high-level API takes 1- or 2-bit blocks):
    // 8 blocks of another LWE dimension.
    let other = tfhe::ClientKey::generate(tfhe::ConfigBuilder::with_custom_parameters(
        V1_8_PARAM_MESSAGE_1_CARRY_1_KS_PBS_GAUSSIAN_2M128,
    ));
    let foreign = tfhe::FheUint8::encrypt(9u8, &other);
    let mut bytes = Vec::new();
    safe_serialize(&foreign, &mut bytes, 1 << 24).unwrap();
    assert_eq!(
        EncryptedUint::<u8>::from_bytes(&bytes, &k.server).unwrap_err(),
        TfheError::NotConformant(TfheObject::Uint(8))
    );
    assert_eq!(
        EncryptedUint::<u8>::from_bytes(&bytes, &k.client).unwrap_err(),
        TfheError::NotConformant(TfheObject::Uint(8))
    );
    let mut key_bytes = Vec::new();
    safe_serialize(&other, &mut key_bytes, 1 << 24).unwrap();
    assert_eq!(
        TfheClientKey::from_bytes(&key_bytes).unwrap_err(),
        TfheError::NotConformant(TfheObject::ClientKey)
    );

    // A genuine compressed server key for another (2-bit, Gaussian) parameter set.
    let gaussian = tfhe::ClientKey::generate(tfhe::ConfigBuilder::with_custom_parameters(
        PARAM_MESSAGE_2_CARRY_2_KS_PBS_GAUSSIAN_2M128,
    ));
    let mut server_bytes = Vec::new();
    safe_serialize(&tfhe::CompressedServerKey::new(&gaussian), &mut server_bytes, 1 << 30).unwrap();
    assert_eq!(
        TfheCompressedServerKey::from_bytes(&server_bytes).unwrap_err(),
        TfheError::NotConformant(TfheObject::CompressedServerKey)
    );
}
