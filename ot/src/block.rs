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
pub(crate) fn transpose_tile(a: &mut [u128; 128]) {
    const MASKS: [u128; 7] = [
        0x0000_0000_0000_0000_FFFF_FFFF_FFFF_FFFF,
        0x0000_0000_FFFF_FFFF_0000_0000_FFFF_FFFF,
        0x0000_FFFF_0000_FFFF_0000_FFFF_0000_FFFF,
        0x00FF_00FF_00FF_00FF_00FF_00FF_00FF_00FF,
        0x0F0F_0F0F_0F0F_0F0F_0F0F_0F0F_0F0F_0F0F,
        0x3333_3333_3333_3333_3333_3333_3333_3333,
        0x5555_5555_5555_5555_5555_5555_5555_5555,
    ];
    let mut s = 64;
    for mask in MASKS {
        // Swap the (row bit s = 0, column bit s = 1) quadrant with (row bit s = 1, column bit
        // s = 0) in every 2s×2s sub-tile.
        let mut base = 0;
        while base < 128 {
            for r in base..base + s {
                let t = ((a[r] >> s) ^ a[r + s]) & mask;
                a[r + s] ^= t;
                a[r] ^= t << s;
            }
            base += 2 * s;
        }
        s /= 2;
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
