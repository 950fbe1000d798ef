//! The public d-local linear code of primal LPN: output `j` adds `D = 10` secret positions.
//!
//! Ferret (Yang et al., CCS 2020, §3.2 and §6) uses a random 10-local code: column `j` of the
//! `k × n` generator matrix has 10 uniformly random non-zero rows. It is the conservative choice
//! (no structured code such as Silver, whose LPN hardness was broken). The matrix is public and
//! never stored: the rows of column `j` are drawn from AES-128-CTR under a key both parties
//! derive from the session, so each party regenerates it on the fly at ~2.5 AES blocks per
//! output. The encoder works in chunks of [`CHUNK`] outputs so the index buffer stays in L1 and
//! the only cache misses are the 10 random reads into the secret (k ≤ 590 k entries).

use zeroize::Zeroize;

use crate::hash::AesCtr;

/// Secret positions per output.
pub(crate) const D: usize = 10;

/// Outputs encoded per index batch.
pub(crate) const CHUNK: usize = 1024;

/// Bytes of index keystream per output: `D` 32-bit words, padded to whole AES blocks per chunk.
const INDEX_BYTES: usize = 4 * D;

/// A stream of the code's row indices, column by column, each below `k`.
pub(crate) struct CodeStream {
    ctr: AesCtr,
    k: u64,
    raw: Vec<u8>,
    idx: Vec<u32>,
}

impl CodeStream {
    /// The code of dimension `k` keyed by the public `seed`.
    pub(crate) fn new(seed: u128, k: usize) -> Self {
        Self {
            ctr: AesCtr::new(seed),
            k: k as u64,
            raw: vec![0u8; INDEX_BYTES * CHUNK],
            idx: vec![0u32; D * CHUNK],
        }
    }

    /// The indices of the next `m ≤ CHUNK` columns, `D` per column.
    fn next(&mut self, m: usize) -> &[u32] {
        debug_assert!(m <= CHUNK);
        // 40 bytes per column; round up to a whole number of 16-byte blocks.
        let bytes = (INDEX_BYTES * m).div_ceil(16) * 16;
        self.ctr.fill(&mut self.raw[..bytes]);
        let (words, _) = self.raw[..INDEX_BYTES * m].as_chunks::<4>();
        for (o, w) in self.idx.iter_mut().zip(words) {
            // Multiply-shift reduction: the bias (k / 2^32 ≤ 2^-12.8 per index) is public.
            *o = ((u64::from(u32::from_le_bytes(*w)) * self.k) >> 32) as u32;
        }
        &self.idx[..D * m]
    }
}

/// Adds the code's secret sums to one chunk: `out[i] ^= Σ_{r ∈ rows(j)} secret[r]`.
pub(crate) fn add_chunk(code: &mut CodeStream, secret: &[u128], out: &mut [u128]) {
    let idx = code.next(out.len());
    for (o, rows) in out.iter_mut().zip(idx.as_chunks::<D>().0) {
        let mut acc = *o;
        for &r in rows {
            acc ^= secret[r as usize];
        }
        *o = acc;
    }
}

/// [`add_chunk`] for the receiver, which also adds the secret's bits into its choice bits.
pub(crate) fn add_chunk_with_bits(
    code: &mut CodeStream,
    secret: &[u128],
    secret_bits: &[u8],
    out: &mut [u128],
    out_bits: &mut [u8],
) {
    let idx = code.next(out.len());
    for ((o, b), rows) in out.iter_mut().zip(out_bits.iter_mut()).zip(idx.as_chunks::<D>().0) {
        let (mut acc, mut bit) = (*o, *b);
        for &r in rows {
            acc ^= secret[r as usize];
            bit ^= secret_bits[r as usize];
        }
        *o = acc;
        *b = bit;
    }
}

impl Drop for CodeStream {
    fn drop(&mut self) {
        // Public data; cleared only so buffers never carry anything between uses.
        self.raw.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_are_in_range_spread_and_reproducible() {
        let k = 1000;
        let mut a = CodeStream::new(7, k);
        let mut b = CodeStream::new(7, k);
        let mut hits = vec![0u32; k];
        for _ in 0..20 {
            let x = a.next(CHUNK).to_vec();
            assert_eq!(x, b.next(CHUNK));
            for &i in &x {
                hits[i as usize] += 1;
            }
        }
        // 204,800 draws over 1,000 rows: every row is hit, none wildly often.
        assert!(hits.iter().all(|&h| (100..400).contains(&h)), "{:?}", &hits[..10]);
        assert_ne!(CodeStream::new(8, k).next(4), CodeStream::new(7, k).next(4));
    }

    #[test]
    fn encoding_is_linear_in_the_secret() {
        let k = 300;
        let secret: Vec<u128> = (0..k as u128).map(|i| i * 0x1234_5678_9abc + 1).collect();
        let bits: Vec<u8> = (0..k).map(|i| (i % 3 == 0) as u8).collect();
        let mut out = vec![5u128; 777];
        let mut out_bits = vec![1u8; 777];
        add_chunk_with_bits(&mut CodeStream::new(3, k), &secret, &bits, &mut out, &mut out_bits);
        let mut code = CodeStream::new(3, k);
        let idx = code.next(777).to_vec();
        for j in 0..777 {
            let rows = &idx[D * j..D * (j + 1)];
            let want = rows.iter().fold(5u128, |a, &r| a ^ secret[r as usize]);
            let want_bit = rows.iter().fold(1u8, |a, &r| a ^ bits[r as usize]);
            assert_eq!((out[j], out_bits[j]), (want, want_bit));
        }
        let mut plain = vec![5u128; 777];
        add_chunk(&mut CodeStream::new(3, k), &secret, &mut plain);
        assert_eq!(plain, out);
    }
}
