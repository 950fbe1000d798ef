//! Encrypted gradient histograms, the one expensive step of SecureBoost: the guest uploads its
//! quantised `(g, h)` once per tree and the host returns, per tree level, the per-(feature, bin)
//! sums over the samples of every histogrammed node.
//!
//! * **Packed RLWE** ([`super::BoostProtocol::Tessera`], BFV `N4096T30`): the guest puts `g` in
//!   slot row 0 and `h` in slot row 1 (2,048 samples per ciphertext, seeded symmetric
//!   encryption: 55 KB). The host computes all bin sums of a level as one encrypted 0/1 matrix
//!   times the gradient vector by the Halevi–Shoup diagonal method (Halevi–Shoup, "Algorithms
//!   in HElib", CRYPTO 2014, §4.1, hybrid form for a `K × 2048` matrix): `w = Σ_k rot(M_k ⊙ g,
//!   k)` with `M_k` the mask of diagonal `k` pre-rotated so every plaintext product acts on a
//!   fresh ciphertext, evaluated by Horner's rule with a single rotation key (`K - 1` rotations
//!   by one), then `log2(2048/K)` rotate-and-sum steps fold the 2048 columns onto `K` rows.
//!   Slot `r` of row 0/1 then holds the `g`/`h` sum of histogram row `r` = (node, feature, bin),
//!   and every other slot a copy of some row's sum. The host switches the result down to one
//!   RNS limb and sends it compressed (`Bfv::ciphertext_to_compressed_bytes`: 34 bits per
//!   coefficient of `c0`, 40 of `c1`, 37.9 KB instead of 55.3 KB).
//! * **Packed Paillier** ([`super::BoostProtocol::TesseraPaillier`]): a sample's `(g, h)` in
//!   one ciphertext (two 64-bit slots), 15 bins per returned ciphertext (Horner in base
//!   `2^128`), re-randomised.
//! * **FATE** ([`super::BoostProtocol::FateBaseline`]): one 2048-bit Paillier ciphertext per
//!   value in both directions, not re-randomised (as FATE).
//!
//! Security (packed RLWE): IND-CPA of BFV under RLWE at 128-bit classical security (HE
//! standard table for `N = 4096`, `log q = 108`), plus the circular-security assumption of the
//! rotation keys. The host only ever holds ciphertexts and rotation keys. The guest decrypts
//! the bin sums and nothing else of the plaintext (the other slots repeat them), but the reply
//! is not re-randomised: its noise *and* its `c1` are functions of the host's 0/1 masks and of
//! values the guest knows (its own uploads, errors and rotation key), so a guest that analyses
//! the reply beyond decrypting it could in principle learn more about the host's bin
//! memberships than the sums. Re-randomising `c1` needs an encryption of zero from the guest
//! (a public key, 55 KB more per training); hiding the noise needs flooding (below). We
//! assume a semi-honest guest that only reads the decrypted slots (by our estimate the noise
//! budget left after the modulus switch, `Δ/2 ≈ 2^23` against noise ~2^17, is too small to
//! flood statistically; the compression's rounding, ~2^20.5, is a deterministic function of
//! the ciphertext and hides nothing either); the same model under which SecureBoost already
//! reveals every node's partition to the host. Flooding would need a larger ring (`N = 8192`,
//! three limbs, so the reply can carry ~40 bits of smudging noise above the computation's):
//! by our estimate 1.5× the upload bytes per row and 4.5× the rotation key. A reply that decrypts outside the range a true bin sum can take is
//! refused.

use std::collections::BTreeMap;
use std::sync::Arc;

use num_bigint_dig::BigUint;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rayon::prelude::*;
use tessera_accelerator::Accelerator;
use tessera_fhe::{
    Bfv, BfvCiphertext, BfvGaloisKey, BfvNttCiphertext, BfvParamId, BfvParameters, BfvSecretKey,
    PaillierCiphertext, PaillierPublicKey, PaillierSecretKey, paillier_keygen,
};

use super::{Binned, Hist, Reader};
use crate::paillier::{
    decode_cts, decrypt_signed, encode_cts, encrypt_all, encrypt_zero, pack, quantise,
    signed_to_zn, unpack,
};
use crate::{Error, Result};

/// Fractional bits of the quantised gradients in the Paillier schedules.
const GH_SCALE: u32 = 20;
/// BFV parameter set of the packed-RLWE histograms.
pub(crate) const BFV_PARAMS: BfvParamId = BfvParamId::N4096T30;
/// Slots per row (`N/2`): samples per uploaded ciphertext and histogram rows per result.
const ROW: usize = 2048;
/// Smallest rotate-and-sum stride the guest sends a key for (each stride key is 110 KB; with
/// them a result needs `K` = the next power of two above its row count diagonals instead of
/// always 2048, i.e. fewer plaintext products and rotations for small histograms).
const MIN_STRIDE: usize = 16;

/// Bins per packed Paillier histogram ciphertext: two 64-bit slots each, one spare pair for
/// the sign (15 at 2048 bits).
fn bins_per_ct(pk: &PaillierPublicKey) -> usize {
    (pk.modulus().bits() / 128).saturating_sub(1).max(1)
}

fn bfv() -> Result<Bfv> {
    Ok(Bfv::new(BfvParameters::from_id(BFV_PARAMS)?, Arc::new(Accelerator::probe()))?)
}

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::from_entropy()
}

fn put_blob(out: &mut Vec<u8>, blob: &[u8]) {
    out.extend_from_slice(&(blob.len() as u32).to_le_bytes());
    out.extend_from_slice(blob);
}

fn take_blob<'a>(r: &mut Reader<'a>) -> Result<&'a [u8]> {
    let len = r.u32()?;
    r.take(len)
}

/// Wire tag of the setup message.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    PaillierPacked = 1,
    PaillierPerValue = 2,
    Bfv = 3,
}

impl Scheme {
    pub(crate) fn from_byte(b: u8) -> Result<Self> {
        match b {
            1 => Ok(Self::PaillierPacked),
            2 => Ok(Self::PaillierPerValue),
            3 => Ok(Self::Bfv),
            _ => Err(Error::PeerMessage("unknown histogram scheme")),
        }
    }
}

/// The guest's side: keys, upload, decoding (one per training, so the variants' sizes do not
/// matter).
#[allow(clippy::large_enum_variant)]
pub(crate) enum GuestHe {
    Paillier {
        pk: PaillierPublicKey,
        sk: PaillierSecretKey,
        packed: bool,
    },
    Bfv {
        he: Box<Bfv>,
        sk: BfvSecretKey,
        scale: f64,
        /// Largest magnitude a correct bin sum can have (quantised): a decrypted value beyond
        /// it means the noise overflowed or the host misbehaved.
        limit: f64,
    },
}

impl GuestHe {
    /// Generates keys; returns the engine and its setup payload for the host (public key, or
    /// rotation keys).
    pub(super) fn setup(
        scheme: Scheme,
        key_bits: usize,
        rows: usize,
        stride_keys: bool,
    ) -> Result<(Self, Vec<u8>)> {
        let mut rng = rng();
        match scheme {
            Scheme::PaillierPacked | Scheme::PaillierPerValue => {
                let (pk, sk) = paillier_keygen(key_bits, &mut rng)?;
                let bytes = pk.to_bytes();
                Ok((Self::Paillier { pk, sk, packed: scheme == Scheme::PaillierPacked }, bytes))
            }
            Scheme::Bfv => {
                let he = bfv()?;
                let (_, sk) = he.keygen(&mut rng)?;
                let _ = (rows, stride_keys);
                Ok((Self::Bfv { he: Box::new(he), sk, scale: 1.0, limit: 0.0 }, Vec::new()))
            }
        }
    }

    /// Packed RLWE: the rotation keys for the host, once the size of a node's histogram
    /// (`host_rows`) is known: the key for rotations by one, and with `strides` the keys for
    /// every rotate-and-sum stride from the first power of two `≥ host_rows` up to 1024.
    pub(super) fn rotation_keys(&self, host_rows: usize, strides: bool) -> Result<Option<Vec<u8>>> {
        let Self::Bfv { he, sk, .. } = self else { return Ok(None) };
        let mut rng = rng();
        let mut steps = vec![1usize];
        if strides {
            let mut s = host_rows.next_power_of_two().max(MIN_STRIDE);
            while s < ROW {
                steps.push(s);
                s *= 2;
            }
        }
        let mut out = vec![steps.len() as u8];
        for s in steps {
            let gk = he.galois_keygen(sk, he.rotation_element(s as i64), &mut rng)?;
            put_blob(&mut out, &he.galois_key_to_bytes(&gk));
        }
        Ok(Some(out))
    }

    /// Encrypts the `(g, h)` of the uploaded rows.
    pub(super) fn upload(&mut self, g: &[f64], h: &[f64]) -> Result<Vec<u8>> {
        match self {
            Self::Paillier { pk, packed, .. } => {
                let n = pk.modulus().clone();
                let gq = g.iter().map(|&v| quantise(v, GH_SCALE));
                let hq = h.iter().map(|&v| quantise(v, GH_SCALE));
                let plain: Vec<BigUint> = if *packed {
                    gq.zip(hq).map(|(a, b)| pack(&[a, b], &n)).collect()
                } else {
                    gq.zip(hq)
                        .flat_map(|(a, b)| [signed_to_zn(a.into(), &n), signed_to_zn(b.into(), &n)])
                        .collect()
                };
                Ok(encode_cts(pk, &encrypt_all(pk, &plain)?))
            }
            Self::Bfv { he, sk, scale, limit } => {
                let t = he.params().plaintext_modulus;
                // The largest possible bin sum, with half a unit of rounding per value, must
                // stay inside (-t/2, t/2).
                let bound = g
                    .iter()
                    .map(|v| v.abs())
                    .sum::<f64>()
                    .max(h.iter().map(|v| v.abs()).sum::<f64>())
                    .max(1e-9);
                let room = (t / 2 - 1) as f64 - g.len() as f64;
                let bits = (room / bound).log2().floor().clamp(1.0, 24.0);
                *scale = bits.exp2();
                *limit = bound * *scale + g.len() as f64;
                let to_t = |v: f64| ((v * *scale).round() as i64).rem_euclid(t as i64) as u64;
                let chunks: Vec<(&[f64], &[f64])> = g.chunks(ROW).zip(h.chunks(ROW)).collect();
                let cts = chunks
                    .par_iter()
                    .map(|(gc, hc)| {
                        let mut slots = vec![0u64; 2 * ROW];
                        for (i, (&a, &b)) in gc.iter().zip(hc.iter()).enumerate() {
                            slots[i] = to_t(a);
                            slots[ROW + i] = to_t(b);
                        }
                        let p = he.encode_slots(&slots)?;
                        let ct = he.encrypt_symmetric(sk, &p, &mut rng())?;
                        Ok(he.ciphertext_to_bytes(&ct)?)
                    })
                    .collect::<Result<Vec<_>>>()?;
                let mut out = Vec::new();
                for c in cts {
                    put_blob(&mut out, &c);
                }
                Ok(out)
            }
        }
    }

    /// Decodes the histograms of `nodes` histogrammed nodes over the host's features.
    pub(crate) fn decode(
        &self,
        msg: &[u8],
        nodes: usize,
        host_bins: &[usize],
    ) -> Result<Vec<Hist>> {
        let per_node: usize = host_bins.iter().sum();
        let rows = nodes * per_node;
        // Per histogram row (node, feature, bin): the (g, h) sums.
        let sums: Vec<(f64, f64)> = match self {
            Self::Paillier { pk, sk, packed } => {
                let modulus = pk.modulus().clone();
                let scale = f64::from(1u32 << GH_SCALE);
                if *packed {
                    let per_feature: Vec<usize> =
                        host_bins.iter().map(|&b| b.div_ceil(bins_per_ct(pk))).collect();
                    let count = nodes * per_feature.iter().sum::<usize>();
                    let cts = decode_cts(pk, msg, count)?;
                    let mut out = Vec::with_capacity(rows);
                    let mut it = cts.iter();
                    for _ in 0..nodes {
                        for &b in host_bins {
                            let mut left = b;
                            while left > 0 {
                                let here = bins_per_ct(pk).min(left);
                                let ct = it.next().ok_or(Error::PeerMessage("histograms"))?;
                                let v = unpack(&sk.decrypt(ct), &modulus, 2 * here);
                                out.extend(
                                    v.chunks_exact(2)
                                        .map(|p| (p[0] as f64 / scale, p[1] as f64 / scale)),
                                );
                                left -= here;
                            }
                        }
                    }
                    out
                } else {
                    let cts = decode_cts(pk, msg, 2 * rows)?;
                    cts.par_chunks(2)
                        .map(|pair| {
                            let gs = decrypt_signed(sk, &modulus, &pair[0]) as f64 / scale;
                            let hs = decrypt_signed(sk, &modulus, &pair[1]) as f64 / scale;
                            (gs, hs)
                        })
                        .collect()
                }
            }
            Self::Bfv { he, sk, scale, limit } => {
                let t = he.params().plaintext_modulus;
                let centre = |v: u64| if v > t / 2 { v as f64 - t as f64 } else { v as f64 };
                let mut r = Reader(msg);
                let groups = rows.div_ceil(ROW);
                let mut blobs = Vec::with_capacity(groups);
                for _ in 0..groups {
                    blobs.push(take_blob(&mut r)?);
                }
                if !r.0.is_empty() {
                    return Err(Error::PeerMessage("trailing bytes after histograms"));
                }
                let decoded = blobs
                    .par_iter()
                    .map(|b| {
                        let ct = he.compressed_ciphertext_from_bytes(b)?;
                        Ok(he.decrypt_slots(sk, &ct)?)
                    })
                    .collect::<Result<Vec<_>>>()?;
                let mut out = Vec::with_capacity(rows);
                for (k, slots) in decoded.iter().enumerate() {
                    let here = ROW.min(rows - k * ROW);
                    for s in 0..here {
                        let (gs, hs) = (centre(slots[s]), centre(slots[ROW + s]));
                        if gs.abs() > *limit || hs.abs() > *limit {
                            return Err(Error::PeerMessage("histogram sum out of range"));
                        }
                        out.push((gs / *scale, hs / *scale));
                    }
                }
                out
            }
        };
        let mut it = sums.into_iter();
        let mut hists = Vec::with_capacity(nodes);
        for _ in 0..nodes {
            let mut hist: Hist = Vec::with_capacity(host_bins.len());
            for &b in host_bins {
                hist.push(it.by_ref().take(b).collect());
            }
            hists.push(hist);
        }
        Ok(hists)
    }
}

/// The host's side: the guest's public material and this tree's encrypted gradients.
pub(crate) enum HostHe {
    Paillier { pk: PaillierPublicKey, packed: bool, enc: Vec<PaillierCiphertext> },
    Bfv { he: Box<Bfv>, keys: BTreeMap<usize, BfvGaloisKey>, enc: Vec<BfvNttCiphertext> },
}

impl HostHe {
    pub(crate) fn from_setup(scheme: Scheme, payload: &[u8]) -> Result<Self> {
        match scheme {
            Scheme::PaillierPacked | Scheme::PaillierPerValue => Ok(Self::Paillier {
                pk: PaillierPublicKey::from_bytes(payload)?,
                packed: scheme == Scheme::PaillierPacked,
                enc: Vec::new(),
            }),
            Scheme::Bfv => {
                if !payload.is_empty() {
                    return Err(Error::PeerMessage("unexpected setup payload"));
                }
                Ok(Self::Bfv { he: Box::new(bfv()?), keys: BTreeMap::new(), enc: Vec::new() })
            }
        }
    }

    /// Whether [`HostHe::add_keys`] must follow the bin counts.
    pub(super) fn wants_keys(&self) -> bool {
        matches!(self, Self::Bfv { .. })
    }

    /// Packed RLWE: parses the guest's rotation keys (by one, and optional power-of-two
    /// strides below 2048).
    pub(crate) fn add_keys(&mut self, payload: &[u8]) -> Result<()> {
        let Self::Bfv { he, keys, .. } = self else {
            return Err(Error::PeerMessage("rotation keys for a Paillier schedule"));
        };
        let mut r = Reader(payload);
        let count = usize::from(r.byte()?);
        let steps: Vec<usize> = (0..11).map(|b| 1usize << b).collect();
        for _ in 0..count {
            let gk = he.galois_key_from_bytes(take_blob(&mut r)?)?;
            let step = steps
                .iter()
                .copied()
                .find(|&s| he.rotation_element(s as i64) == gk.element())
                .ok_or(Error::PeerMessage("unexpected rotation key"))?;
            keys.insert(step, gk);
        }
        if !r.0.is_empty() || !keys.contains_key(&1) {
            return Err(Error::PeerMessage("rotation keys"));
        }
        Ok(())
    }

    /// Parses the encrypted gradients of `m` uploaded rows.
    pub(crate) fn load(&mut self, msg: &[u8], m: usize) -> Result<()> {
        match self {
            Self::Paillier { pk, packed, enc } => {
                *enc = decode_cts(pk, msg, m * if *packed { 1 } else { 2 })?;
            }
            Self::Bfv { he, enc, .. } => {
                let mut r = Reader(msg);
                let mut blobs = Vec::new();
                for _ in 0..m.div_ceil(ROW) {
                    blobs.push(take_blob(&mut r)?);
                }
                if !r.0.is_empty() {
                    return Err(Error::PeerMessage("trailing bytes after gradients"));
                }
                let top = he.params().moduli.len();
                *enc = blobs
                    .par_iter()
                    .map(|b| {
                        let ct = he.ciphertext_from_bytes(b)?;
                        if he.level(&ct)? != top {
                            return Err(Error::PeerMessage("gradient ciphertext level"));
                        }
                        Ok(he.to_ntt_form(&ct)?)
                    })
                    .collect::<Result<Vec<_>>>()?;
            }
        }
        Ok(())
    }

    /// Histograms of the given nodes, each a list of `(upload position, row)` of its uploaded
    /// samples, over this party's binned features.
    pub(super) fn histograms(
        &self,
        nodes: &[Vec<(usize, usize)>],
        binned: &Binned,
    ) -> Result<Vec<u8>> {
        match self {
            Self::Paillier { pk, packed, enc } => {
                let per = if *packed { 1 } else { 2 };
                let zero = encrypt_zero(pk)?;
                let shift = BigUint::from(1u8) << 128usize;
                // One feature's bin sums (per value), then, packed, its Horner-packed
                // ciphertexts; features in parallel (the order of the output is unchanged).
                let feature = |samples: &[(usize, usize)], j: usize| -> Result<Vec<_>> {
                    let nb = binned.num_bins(j);
                    let mut sums: Vec<Vec<Option<PaillierCiphertext>>> = vec![vec![None; per]; nb];
                    for &(p, i) in samples {
                        let b = binned.bin(i, j);
                        for (v, slot) in sums[b].iter_mut().enumerate() {
                            let c = enc.get(p * per + v).ok_or(Error::PeerMessage("row"))?;
                            *slot = Some(match slot.take() {
                                Some(acc) => pk.add(&acc, c),
                                None => c.clone(),
                            });
                        }
                    }
                    if !*packed {
                        return Ok(sums.into_iter().flatten().collect::<Vec<_>>());
                    }
                    Ok(sums
                        .chunks(bins_per_ct(pk))
                        .map(|chunk| {
                            // Horner: bin 0 in the lowest slots.
                            let mut acc: Option<PaillierCiphertext> = None;
                            for bin in chunk.iter().rev() {
                                let shifted = acc.map(|a| pk.mul_scalar(&a, &shift));
                                acc = match (shifted, &bin[0]) {
                                    (Some(a), Some(c)) => Some(pk.add(&a, c)),
                                    (Some(a), None) => Some(a),
                                    (None, c) => c.clone(),
                                };
                            }
                            acc
                        })
                        .collect())
                };
                let mut sums: Vec<Option<PaillierCiphertext>> = Vec::new();
                for samples in nodes {
                    let per_feature = (0..binned.d)
                        .into_par_iter()
                        .map(|j| feature(samples, j))
                        .collect::<Result<Vec<_>>>()?;
                    sums.extend(per_feature.into_iter().flatten());
                }
                let out: Vec<PaillierCiphertext> = if *packed {
                    // Re-randomised, so the guest cannot match a bin sum against the
                    // per-sample ciphertexts it sent.
                    let zeros = vec![BigUint::from(0u8); sums.len()];
                    let fresh = encrypt_all(pk, &zeros)?;
                    sums.into_iter()
                        .zip(fresh)
                        .map(|(a, z)| a.map_or_else(|| z.clone(), |a| pk.add(&a, &z)))
                        .collect()
                } else {
                    // Empty bins (FATE schedule): one encryption of zero, not re-randomised.
                    sums.into_iter().map(|c| c.unwrap_or_else(|| zero.clone())).collect()
                };
                Ok(encode_cts(pk, &out))
            }
            Self::Bfv { he, keys, enc } => {
                // Histogram rows (node, feature, bin) of each uploaded sample.
                let per_node: usize = (0..binned.d).map(|j| binned.num_bins(j)).sum();
                let rows = nodes.len() * per_node;
                let mut entries: Vec<(usize, usize)> = Vec::new(); // (row, upload position)
                for (k, samples) in nodes.iter().enumerate() {
                    for &(p, i) in samples {
                        let mut off = k * per_node;
                        for j in 0..binned.d {
                            entries.push((off + binned.bin(i, j), p));
                            off += binned.num_bins(j);
                        }
                    }
                }
                // Smallest K whose rotate-and-sum strides K, 2K, …, 1024 all have keys.
                let mut k_min = ROW;
                while k_min > 1 && keys.contains_key(&(k_min / 2)) && k_min / 2 >= 2 {
                    k_min /= 2;
                }
                let mut out = Vec::new();
                for g in 0..rows.div_ceil(ROW) {
                    let lo = g * ROW;
                    let here = ROW.min(rows - lo);
                    let k_diag = here.next_power_of_two().clamp(k_min, ROW);
                    let ct = self.masked_sums(he, keys, enc, &entries, lo, here, k_diag)?;
                    // One limb, then compressed (decrypted only): 38 KB instead of 55.
                    let last = he.mod_switch_down(&ct)?;
                    put_blob(&mut out, &he.ciphertext_to_compressed_bytes(&last)?);
                }
                Ok(out)
            }
        }
    }

    /// One result ciphertext: slot `r` (rows 0 and 1) = Σ of the `(g, h)` slots whose entries
    /// name histogram row `lo + r`, for `r < here`, with `k_diag` diagonals.
    #[allow(clippy::too_many_arguments)]
    fn masked_sums(
        &self,
        he: &Bfv,
        keys: &BTreeMap<usize, BfvGaloisKey>,
        enc: &[BfvNttCiphertext],
        entries: &[(usize, usize)],
        lo: usize,
        here: usize,
        k_diag: usize,
    ) -> Result<BfvCiphertext> {
        let key = |s: usize| keys.get(&s).ok_or(Error::PeerMessage("missing rotation key"));
        // Sparse masks: diagonal k, chunk c → slots.
        let mut masks: Vec<BTreeMap<usize, Vec<usize>>> = vec![BTreeMap::new(); k_diag];
        for &(row, p) in entries {
            if row < lo || row >= lo + here {
                continue;
            }
            let (c, s) = (p / ROW, p % ROW);
            let k = (s + k_diag - (row - lo) % k_diag) % k_diag;
            masks[k].entry(c).or_default().push(s);
        }
        let diagonal = |k: usize| -> Result<Option<BfvCiphertext>> {
            let dense: Vec<(usize, Vec<u64>)> = masks[k]
                .iter()
                .map(|(&c, slots)| {
                    let mut m = vec![0u64; 2 * ROW];
                    for &s in slots {
                        m[s] = 1;
                        m[ROW + s] = 1;
                    }
                    (c, m)
                })
                .collect();
            let terms = dense
                .iter()
                .map(|(c, m)| {
                    enc.get(*c).map(|e| (e, &m[..])).ok_or(Error::PeerMessage("upload position"))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(he.dot_plain_slots(&terms)?)
        };
        // Horner over the diagonals from the last: acc = rot(acc, 1) + X_k, in parallel blocks.
        let one = key(1)?;
        let mut acc: Option<BfvCiphertext> = None;
        let block = 32;
        let mut end = k_diag;
        while end > 0 {
            let start = end.saturating_sub(block);
            let xs: Vec<Option<BfvCiphertext>> =
                (start..end).into_par_iter().map(diagonal).collect::<Result<_>>()?;
            for x in xs.into_iter().rev() {
                acc = match (acc.take(), x) {
                    (Some(a), Some(x)) => Some(he.add(&he.apply_galois(&a, one)?, &x)?),
                    (Some(a), None) => Some(he.apply_galois(&a, one)?),
                    (None, x) => x,
                };
            }
            end = start;
        }
        // No sample at all: the trivial encryption of zero (0, 0) reveals nothing.
        let mut acc = match acc {
            Some(a) => a,
            None => {
                let first = enc.first().ok_or(Error::PeerMessage("no gradients"))?;
                he.dot_plain_slots(&[(first, &[0u64; 2 * ROW][..])])?
                    .ok_or(Error::PeerMessage("no gradients"))?
            }
        };
        let mut stride = k_diag;
        while stride < ROW {
            acc = he.add(&acc, &he.apply_galois(&acc, key(stride)?)?)?;
            stride *= 2;
        }
        Ok(acc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A host that answers with a ciphertext it made up (here: under its own key), or with
    /// truncated bytes, is refused with an error, never a panic or a silent wrong histogram.
    #[test]
    fn forged_or_truncated_histograms_are_refused() {
        let (mut guest, _) = GuestHe::setup(Scheme::Bfv, 0, 100, false).unwrap();
        let g: Vec<f64> = (0..100).map(|i| f64::from(i) / 100.0 - 0.5).collect();
        let h = vec![0.25; 100];
        guest.upload(&g, &h).unwrap();
        let he = bfv().unwrap();
        let (_, other) = he.keygen(&mut rng()).unwrap();
        let forged = he.encrypt_symmetric(&other, &[7; 16], &mut rng()).unwrap();
        let forged = he.mod_switch_down(&forged).unwrap();
        let mut msg = Vec::new();
        put_blob(&mut msg, &he.ciphertext_to_compressed_bytes(&forged).unwrap());
        // 2,048 rows: a forged value falls outside the range a true sum can take with
        // probability ~1/4 each, so all 4,096 passing is out of the question.
        let bins = [256; 8];
        assert!(matches!(guest.decode(&msg, 1, &bins), Err(Error::PeerMessage(_))));
        assert!(guest.decode(&msg[..msg.len() - 1], 1, &bins).is_err());
        assert!(guest.decode(&[msg.clone(), vec![0]].concat(), 1, &bins).is_err());
    }
}
