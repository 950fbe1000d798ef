//! Field and ring arithmetic against a big-integer reference.

use num_bigint::BigUint;
use proptest::prelude::*;
use tessera_mpc::{Error, Field, Fp127, Prg, Ring, Seed, Z64};

fn p() -> BigUint {
    BigUint::from(Fp127::MODULUS)
}

fn big(x: Fp127) -> BigUint {
    BigUint::from(x.to_u128())
}

fn from_big(x: &BigUint) -> u128 {
    let digits = (x % p()).to_u64_digits();
    digits.iter().rev().fold(0u128, |acc, d| (acc << 64) | u128::from(*d))
}

/// Values that break careless reductions: 0, 1, p − 1, p − 2, and values near 2^64 and 2^126.
fn edge_or_any() -> impl Strategy<Value = u128> {
    let p = Fp127::MODULUS;
    prop_oneof![
        Just(0u128),
        Just(1u128),
        Just(p - 1),
        Just(p - 2),
        Just(u64::MAX as u128),
        Just(1u128 << 64),
        Just(1u128 << 126),
        Just((1u128 << 126) - 1),
        0..p,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn fp127_ops_match_bigint(a in edge_or_any(), b in edge_or_any()) {
        let (x, y) = (Fp127::from_u128(a), Fp127::from_u128(b));
        let (ba, bb) = (big(x), big(y));
        prop_assert_eq!((x + y).to_u128(), from_big(&(&ba + &bb)));
        prop_assert_eq!((x - y).to_u128(), from_big(&(&ba + p() - &bb)));
        prop_assert_eq!((x * y).to_u128(), from_big(&(&ba * &bb)));
        prop_assert_eq!((-x).to_u128(), from_big(&(p() - &ba)));
        if a != 0 {
            let inv = x.inverse().unwrap();
            prop_assert_eq!(inv * x, Fp127::ONE);
            prop_assert_eq!(big(inv), ba.modpow(&(p() - 2u32), &p()));
        }
    }

    #[test]
    fn fp127_reduction_of_any_u128(v in any::<u128>()) {
        prop_assert_eq!(Fp127::from_u128(v).to_u128(), from_big(&BigUint::from(v)));
    }

    #[test]
    fn fp127_squares_have_roots(a in edge_or_any()) {
        let x = Fp127::from_u128(a);
        let sq = x * x;
        let r = sq.sqrt().unwrap();
        prop_assert!(r == x || r == -x);
    }

    #[test]
    fn fp127_encoding_round_trips(a in edge_or_any()) {
        let x = Fp127::from_u128(a);
        let mut buf = [0u8; 16];
        x.write_le(&mut buf);
        prop_assert_eq!(buf, a.to_le_bytes());
        prop_assert_eq!(Fp127::read_le(&buf).unwrap(), x);
    }

    #[test]
    fn fp127_non_canonical_bytes_rejected(v in Fp127::MODULUS..=u128::MAX) {
        let rejected = matches!(Fp127::read_le(&v.to_le_bytes()), Err(Error::NonCanonical { .. }));
        prop_assert!(rejected);
    }

    #[test]
    fn z64_matches_wrapping_arithmetic(a in any::<u64>(), b in any::<u64>()) {
        let m = BigUint::from(1u8) << 64;
        let (x, y) = (Z64(a), Z64(b));
        let to = |v: BigUint| -> u64 { let r: BigUint = v % &m; r.to_u64_digits().first().copied().unwrap_or(0) };
        prop_assert_eq!((x * y).0, to(BigUint::from(a) * BigUint::from(b)));
        prop_assert_eq!((x + y).0, to(BigUint::from(a) + BigUint::from(b)));
        prop_assert_eq!((x - y).0, to(BigUint::from(a) + &m - BigUint::from(b)));
        prop_assert_eq!(Z64::decode_slice(&Z64::encode_slice(&[x, y])).unwrap(), vec![x, y]);
    }
}

#[test]
fn non_residues_have_no_root() {
    // −1 is a non-residue because p ≡ 3 mod 4.
    assert!((-Fp127::ONE).sqrt().is_none());
    assert_eq!(Fp127::ZERO.sqrt(), Some(Fp127::ZERO));
    assert!(Fp127::ZERO.inverse().is_none());
}

#[test]
fn encodings_of_wrong_length_are_rejected() {
    assert!(Fp127::read_le(&[0u8; 15]).is_err());
    assert!(Fp127::decode_slice(&[0u8; 17]).is_err());
    assert!(matches!(Fp127::decode_exact(&[0u8; 32], 3), Err(Error::BadLength { .. })));
    assert!(Z64::read_le(&[0u8; 9]).is_err());
}

#[test]
fn random_elements_are_canonical_and_spread() {
    let mut prg = Prg::from_seed(&Seed([9; 16]));
    let v = Fp127::random_vec(&mut prg, 10_000);
    // Every element is canonical and the top bit of the 127 is set about half the time.
    let high = v.iter().filter(|x| x.to_u128() >> 126 == 1).count();
    assert!(v.iter().all(|x| x.to_u128() < Fp127::MODULUS));
    assert!((4_500..5_500).contains(&high), "{high}");
}

#[test]
fn signed_conversions_round_trip() {
    for v in [-5i128, 0, 7, -(1i128 << 100), (1i128 << 120)] {
        assert_eq!(Fp127::from_i128(v).to_i128(), v);
    }
}
