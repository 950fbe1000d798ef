//! Field elements on the wire, challenges from hashes, and wiping secrets.

use sha2::{Digest, Sha256};
use tessera_mpc::{Channel, Field, PartyId, SessionId};

use crate::error::{Result, recv_exact};

/// Field elements per frame when a message is split (16 KiB·64 = 1 MiB for 16-byte elements).
pub(crate) const FRAME_ELEMS: usize = 1 << 16;

/// Appends the canonical encodings of `xs` to `out`.
pub(crate) fn put<F: Field>(out: &mut Vec<u8>, xs: &[F]) {
    let start = out.len();
    out.resize(start + xs.len() * F::BYTES, 0);
    for (x, c) in xs.iter().zip(out[start..].chunks_exact_mut(F::BYTES)) {
        x.write_le(c);
    }
}

/// Decodes exactly `n` elements from `bytes`, each checked canonical (`< p`).
pub(crate) fn get<F: Field>(bytes: &[u8], n: usize) -> Result<Vec<F>> {
    Ok(F::decode_exact(bytes, n)?)
}

/// Receives one frame of exactly `n` field elements (length and range checked).
pub(crate) fn recv_elems<F: Field, C: Channel + ?Sized>(
    ch: &mut C,
    peer: PartyId,
    n: usize,
) -> Result<Vec<F>> {
    let bytes = recv_exact(ch, peer, n * F::BYTES)?;
    get(&bytes, n)
}

/// A 128-bit value hashed from a labelled context: the seed of a challenge or a code.
pub(crate) fn hash128(label: &[u8], sid: &SessionId, counter: u64, extra: &[u8]) -> u128 {
    let mut h = Sha256::new();
    h.update((label.len() as u64).to_le_bytes());
    h.update(label);
    h.update(sid.as_bytes());
    h.update(counter.to_le_bytes());
    h.update(extra);
    let d: [u8; 32] = h.finalize().into();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    u128::from_le_bytes(b)
}

/// Constant-time equality of two field elements (by their encodings).
pub(crate) fn ct_eq<F: Field>(a: F, b: F) -> bool {
    use subtle::ConstantTimeEq;
    let (x, y) = (F::encode_slice(&[a]), F::encode_slice(&[b]));
    bool::from(x.ct_eq(&y))
}

/// Overwrites secret field elements (best effort: `Field` types are plain `Copy` values, so
/// there is no volatile write; `black_box` keeps the stores from being elided).
pub(crate) fn wipe<F: Field>(xs: &mut [F]) {
    xs.fill(F::ZERO);
    std::hint::black_box(xs);
}

/// Drops a vector of secrets after wiping it.
pub(crate) fn wipe_vec<F: Field>(mut xs: Vec<F>) {
    wipe(&mut xs);
}

/// `Σ_i r^(n−1−i)·xs[i]` (a polynomial hash in `r`), in four interleaved Horner lanes.
/// `xs.len()` must be a multiple of 4.
pub(crate) fn poly_hash<F: Field>(xs: &[F], r: F) -> F {
    debug_assert!(xs.len().is_multiple_of(4));
    let r2 = r * r;
    let r3 = r2 * r;
    let r4 = r2 * r2;
    let mut acc = [F::ZERO; 4];
    for c in xs.chunks_exact(4) {
        for (a, x) in acc.iter_mut().zip(c) {
            *a = *a * r4 + *x;
        }
    }
    acc[0] * r3 + acc[1] * r2 + acc[2] * r + acc[3]
}

/// The coefficient of `xs[i]` in [`poly_hash`] over `n` elements: `r^(n−1−i)`.
pub(crate) fn poly_coeff<F: Field>(r: F, n: usize, i: usize) -> F {
    r.pow((n - 1 - i) as u128)
}

#[cfg(test)]
mod tests {
    use tessera_mpc::{Fp127, Prg, Ring, Seed};

    use super::*;

    #[test]
    fn poly_hash_is_the_sum_of_its_coefficients() {
        let mut prg = Prg::from_seed(&Seed([3; 16]));
        let xs = Fp127::random_vec(&mut prg, 64);
        let r = Fp127::random(&mut prg);
        let want: Fp127 = xs.iter().enumerate().map(|(i, x)| *x * poly_coeff(r, 64, i)).sum();
        assert_eq!(poly_hash(&xs, r), want);
    }
}
