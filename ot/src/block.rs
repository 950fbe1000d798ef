//! 128-bit blocks, packed choice bits, the 128×128 bit-matrix transpose and GF(2^128) products.
//!
//! OT extension produces its correlations column by column (one PRG stream per base OT) but
//! hands them out row by row (one 128-bit string per OT). The transpose between the two views is
//! done on 128×128 tiles with the classic recursive block swap (Hacker's Delight §7-3) on `u128`
//! words: seven rounds of 64 masked swaps, no SIMD intrinsics and no `unsafe`.

use polyval::hazmat::FieldElement;

/// One OT string: 128 bits, bit `j` of row `i` being column `j` of the extension matrix.
pub type Block = u128;

/// Reads the 16-byte little-endian block at `i` of `bytes`.
#[inline]
pub(crate) fn load(bytes: &[u8], i: usize) -> u128 {
    let mut b = [0u8; 16];
    b.copy_from_slice(&bytes[16 * i..16 * i + 16]);
    u128::from_le_bytes(b)
}

/// Transposes one 128×128 tile in place: afterwards bit `j` of `a[i]` is the old bit `i` of
/// `a[j]`.
///
/// The tile is kept as two arrays of 64-bit halves: the first swap level (64×64 quadrants) is
/// then a plain exchange of halves, and the other six levels are 64-bit mask-and-shift steps
/// on independent lanes, which compile to short loops the optimiser vectorises.
pub(crate) fn transpose_tile(a: &mut [u128; 128]) {
    const MASKS: [u64; 6] = [
        0x0000_0000_FFFF_FFFF,
        0x0000_FFFF_0000_FFFF,
        0x00FF_00FF_00FF_00FF,
        0x0F0F_0F0F_0F0F_0F0F,
        0x3333_3333_3333_3333,
        0x5555_5555_5555_5555,
    ];
    let mut lo = [0u64; 128];
    let mut hi = [0u64; 128];
    for (r, w) in a.iter().enumerate() {
        lo[r] = *w as u64;
        hi[r] = (*w >> 64) as u64;
    }
    // Level 64: (rows 0..64, columns 64..128) <-> (rows 64..128, columns 0..64).
    let (hi_top, _) = hi.split_at_mut(64);
    let (_, lo_bottom) = lo.split_at_mut(64);
    hi_top.swap_with_slice(lo_bottom);
    // Levels 32..1 in every 2s×2s sub-tile of each half.
    for half in [&mut lo, &mut hi] {
        let mut s = 32;
        for mask in MASKS {
            for pair in half.chunks_exact_mut(2 * s) {
                let (top, bottom) = pair.split_at_mut(s);
                for (x, y) in top.iter_mut().zip(bottom.iter_mut()) {
                    let t = ((*x >> s) ^ *y) & mask;
                    *y ^= t;
                    *x ^= t << s;
                }
            }
            s /= 2;
        }
    }
    for (r, w) in a.iter_mut().enumerate() {
        *w = u128::from(lo[r]) | (u128::from(hi[r]) << 64);
    }
}

/// Turns 128 column streams into rows.
///
/// `cols` holds 128 columns of `rows / 8` bytes each, column `j` at `cols[j * rows / 8..]`, bit
/// `i` of a column (byte `i / 8`, bit `i % 8`) belonging to row `i`; `out[i]` receives row `i`
/// with column `j` at bit `j`. `rows` must be a multiple of 128.
pub(crate) fn transpose_columns(cols: &[u8], rows: usize, out: &mut [u128]) {
    debug_assert_eq!(rows % 128, 0);
    debug_assert_eq!(cols.len(), rows * 16);
    let col_bytes = rows / 8;
    let mut tile = [0u128; 128];
    for (t, rows_out) in out[..rows].chunks_exact_mut(128).enumerate() {
        for (j, w) in tile.iter_mut().enumerate() {
            *w = load(&cols[j * col_bytes..], t);
        }
        transpose_tile(&mut tile);
        rows_out.copy_from_slice(&tile);
    }
}

/// Packs booleans into little-endian bit order (bit `i % 8` of byte `i / 8`), padding with zero.
pub(crate) fn pack_bits(bits: &[bool], out: &mut [u8]) {
    out.fill(0);
    for (i, &b) in bits.iter().enumerate() {
        out[i / 8] |= u8::from(b) << (i % 8);
    }
}

/// Bit `i` of a packed bit string.
#[inline]
pub(crate) fn bit(bytes: &[u8], i: usize) -> bool {
    (bytes[i / 8] >> (i % 8)) & 1 == 1
}

/// XORs `src` into `dst` (equal lengths).
#[inline]
pub(crate) fn xor_into(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d ^= s;
    }
}

/// `a · b` in GF(2^128) as POLYVAL represents it (RFC 8452: multiplication times x^-128).
///
/// The extra constant factor keeps the product bilinear and commutative, which is all the
/// consistency checks need. The `hazmat` field element is RustCrypto's constant-time portable
/// carry-less multiplication.
#[inline]
pub(crate) fn gf_mul(a: u128, b: u128) -> u128 {
    (FieldElement::from(a) * FieldElement::from(b)).into()
}

/// The all-ones mask when `b` is set, zero otherwise, without a branch.
#[inline]
pub(crate) fn mask128(b: bool) -> u128 {
    0u128.wrapping_sub(u128::from(b))
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)] // bit (i, j) loops read best as index loops
mod tests {
    use super::*;
    use tessera_mpc::{Prg, Seed};

    #[test]
    fn transpose_moves_every_bit_to_its_mirror() {
        let mut prg = Prg::from_seed(&Seed([9; 16]));
        let orig: [u128; 128] = std::array::from_fn(|_| prg.next_u128());
        let mut t = orig;
        transpose_tile(&mut t);
        for i in 0..128 {
            for j in 0..128 {
                assert_eq!((t[i] >> j) & 1, (orig[j] >> i) & 1, "bit ({i},{j})");
            }
        }
        transpose_tile(&mut t);
        assert_eq!(t, orig);
    }

    #[test]
    fn columns_become_rows() {
        let rows = 256;
        let mut prg = Prg::from_seed(&Seed([2; 16]));
        let mut cols = vec![0u8; rows * 16];
        prg.fill_bytes(&mut cols);
        let mut out = vec![0u128; rows];
        transpose_columns(&cols, rows, &mut out);
        for i in 0..rows {
            for j in 0..128 {
                assert_eq!((out[i] >> j) & 1 == 1, bit(&cols[j * rows / 8..], i));
            }
        }
    }

    #[test]
    fn gf_mul_is_bilinear_and_commutative() {
        let mut prg = Prg::from_seed(&Seed([5; 16]));
        for _ in 0..100 {
            let (a, b, c) = (prg.next_u128(), prg.next_u128(), prg.next_u128());
            assert_eq!(gf_mul(a, b), gf_mul(b, a));
            assert_eq!(gf_mul(a ^ c, b), gf_mul(a, b) ^ gf_mul(c, b));
            assert_ne!(gf_mul(a, b), 0);
        }
    }
}
