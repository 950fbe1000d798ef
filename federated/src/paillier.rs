//! Paillier helpers for the protocols: fixed-point quantisation, signed values, several 64-bit
//! slots packed into one plaintext, parallel encryption, signed weighted sums of ciphertexts and
//! wire encoding with count checks.
//!
//! Packing follows the classic slot layout (e.g. Jost et al., "Encryption performance
//! improvements of the Paillier cryptosystem", IACR ePrint 2015/864, §4): a vector `v` becomes
//! the integer `Σ v_j · 2^(64 j)` taken modulo `n`; signed slots decode by centred digit
//! extraction, exact while every slot stays inside `(-2^63, 2^63)`.

use num_bigint_dig::{BigInt, BigUint, Sign};
use num_traits::{One, Signed, ToPrimitive, Zero};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rayon::prelude::*;
use tessera_fhe::{PaillierCiphertext, PaillierPublicKey, PaillierSecretKey};

use crate::{Error, Result};

/// Bits per packed slot.
pub(crate) const SLOT_BITS: usize = 64;

/// Quantises `x` to a signed integer with `scale_bits` fractional bits, saturating at ±2^40 so
/// that sums of products stay far inside a slot.
pub(crate) fn quantise(x: f64, scale_bits: u32) -> i64 {
    const LIMIT: f64 = (1u64 << 40) as f64;
    (x * f64::from(1u32 << scale_bits)).round().clamp(-LIMIT, LIMIT) as i64
}

/// Slots that fit one plaintext below `n`, keeping a spare slot of headroom for the sign.
pub(crate) fn slots_per_ciphertext(pk: &PaillierPublicKey) -> usize {
    (pk.modulus().bits() / SLOT_BITS).saturating_sub(1).max(1)
}

fn to_zn(v: &BigInt, n: &BigUint) -> BigUint {
    let n_int = BigInt::from_biguint(Sign::Plus, n.clone());
    let r = ((v % &n_int) + &n_int) % &n_int;
    r.to_biguint().unwrap_or_default()
}

/// The plaintext `Σ v_j 2^(64 j) mod n`.
pub(crate) fn pack(values: &[i64], n: &BigUint) -> BigUint {
    let mut acc = BigInt::zero();
    for &v in values.iter().rev() {
        acc = (acc << SLOT_BITS) + BigInt::from(v);
    }
    to_zn(&acc, n)
}

/// Inverse of [`pack`] for slot values in `(-2^63, 2^63)`.
pub(crate) fn unpack(m: &BigUint, n: &BigUint, count: usize) -> Vec<i64> {
    let mut v = BigInt::from_biguint(Sign::Plus, m.clone());
    let n_int = BigInt::from_biguint(Sign::Plus, n.clone());
    if v > (&n_int >> 1) {
        v -= &n_int;
    }
    let base = BigInt::one() << SLOT_BITS;
    let half = BigInt::one() << (SLOT_BITS - 1);
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let mut r = ((&v % &base) + &base) % &base;
        if r >= half {
            r -= &base;
        }
        out.push(r.to_i64().unwrap_or_default());
        v = (v - r) >> SLOT_BITS;
    }
    out
}

/// A signed integer (far below `n/2`) as an element of `Z_n`.
pub(crate) fn signed_to_zn(v: i128, n: &BigUint) -> BigUint {
    to_zn(&BigInt::from(v), n)
}

/// Decrypts one ciphertext holding a single signed value.
pub(crate) fn decrypt_signed(sk: &PaillierSecretKey, n: &BigUint, c: &PaillierCiphertext) -> i128 {
    let m = BigInt::from_biguint(Sign::Plus, sk.decrypt(c));
    let n_int = BigInt::from_biguint(Sign::Plus, n.clone());
    let v = if m > (&n_int >> 1) { m - n_int } else { m };
    let mag = v.abs().to_i128().unwrap_or(i128::MAX);
    if v.is_negative() { -mag } else { mag }
}

/// Encrypts each plaintext in parallel, each worker with its own freshly seeded CSPRNG.
pub(crate) fn encrypt_all(
    pk: &PaillierPublicKey,
    plain: &[BigUint],
) -> Result<Vec<PaillierCiphertext>> {
    plain
        .par_chunks(64)
        .map(|chunk| {
            let mut rng = ChaCha20Rng::from_entropy();
            chunk
                .iter()
                .map(|m| pk.encrypt(m, &mut rng).map_err(Error::from))
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<Vec<Vec<_>>>>()
        .map(|v| v.into_iter().flatten().collect())
}

/// Encryption of zero, for re-randomising a result before it leaves.
pub(crate) fn encrypt_zero(pk: &PaillierPublicKey) -> Result<PaillierCiphertext> {
    Ok(pk.encrypt(&BigUint::zero(), &mut ChaCha20Rng::from_entropy())?)
}

/// `Σ k_i · c_i` for signed scalars, re-randomised: one multi-exponentiation
/// ([`PaillierPublicKey::linear_combination`]) and one fresh randomiser.
pub(crate) fn weighted_sum<'a>(
    pk: &PaillierPublicKey,
    terms: impl Iterator<Item = (i64, &'a PaillierCiphertext)>,
) -> Result<PaillierCiphertext> {
    let terms: Vec<(i64, &PaillierCiphertext)> = terms.collect();
    let sum = pk.linear_combination(&terms)?;
    Ok(pk.rerandomise(&sum, &mut ChaCha20Rng::from_entropy()))
}

/// Ciphertexts back to back, each in fixed width.
pub(crate) fn encode_cts(pk: &PaillierPublicKey, cts: &[PaillierCiphertext]) -> Vec<u8> {
    let mut out = Vec::with_capacity(cts.len() * pk.ciphertext_len());
    for c in cts {
        out.extend_from_slice(&pk.ciphertext_to_bytes(c));
    }
    out
}

/// Parses exactly `count` ciphertexts (each checked to lie in `Z*_{n²}`).
pub(crate) fn decode_cts(
    pk: &PaillierPublicKey,
    bytes: &[u8],
    count: usize,
) -> Result<Vec<PaillierCiphertext>> {
    let len = pk.ciphertext_len();
    if Some(bytes.len()) != count.checked_mul(len) {
        return Err(Error::PeerMessage("wrong number of ciphertext bytes"));
    }
    bytes.par_chunks(len).map(|c| pk.ciphertext_from_bytes(c).map_err(Error::from)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_fhe::paillier_keygen;

    #[test]
    fn packed_signed_sums_round_trip() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let (pk, sk) = paillier_keygen(512, &mut rng).unwrap();
        let n = pk.modulus().clone();
        let rows = [vec![3i64, -5, 1 << 40, 0], vec![-7i64, 2, -(1 << 40), 9]];
        let cts = encrypt_all(&pk, &rows.iter().map(|r| pack(r, &n)).collect::<Vec<_>>()).unwrap();
        let s = weighted_sum(&pk, [(-3i64, &cts[0]), (4, &cts[1])].into_iter()).unwrap();
        let got = unpack(&sk.decrypt(&s), &n, 4);
        let want: Vec<i64> = (0..4).map(|j| -3 * rows[0][j] + 4 * rows[1][j]).collect();
        assert_eq!(got, want);
        let c = pk.encrypt(&signed_to_zn(-12345, &n), &mut rng).unwrap();
        assert_eq!(decrypt_signed(&sk, &n, &c), -12345);
        assert!(decode_cts(&pk, &encode_cts(&pk, &cts)[1..], 2).is_err());
        assert_eq!(decode_cts(&pk, &encode_cts(&pk, &cts), 2).unwrap(), cts);
    }
}
