//! FATE 1.11's hetero SecureBoost as it ships — `cipher_compress` on — as an exact byte count,
//! the baseline Tessera's SecureBoost is compared against.
//!
//! Read from FATE's code (tag `v1.11.4`, paths under `python/federatedml/`):
//!
//! * Defaults (`param/boosting_param.py:487–501`, `HeteroSecureBoostParam`): `num_trees=5`,
//!   `learning_rate=0.3`, `bin_num=32`, `cipher_compress=True`, `new_ver=True`,
//!   `encrypt_param=EncryptParam()`; tree (`boosting_param.py:144–148`, `DecisionTreeParam`):
//!   `max_depth=3`, `criterion_params=[0.1, 0]` (L2 λ = 0.1), `min_sample_split=2`,
//!   `min_leaf_node=1`, `min_child_weight=0`, `min_impurity_split=1e-3`,
//!   `max_split_nodes=2^16` (`util/consts.py:197`).
//! * Key: `EncryptParam(key_length=PAILLIER_KEYPAIR_N_LENGTH)` (`param/encrypt_param.py:39`)
//!   with `PAILLIER_KEYPAIR_N_LENGTH = 2048` (`secureprotol/conf/__init__.py:17`): a ciphertext
//!   lives in `Z_{n²}`, 4,096 bits = 512 bytes.
//! * Gradient upload (`ensemble/basic_algorithms/decision_tree/tree_core/g_h_optim.py:85–126`,
//!   `GHPacker`): for classification `g ∈ [−1, 1]`, `h ≤ 1`, precision `2^52` (line 13);
//!   `g + 1` and `h` as integers of `g_max_int = int(2 · n · 2^52) + 1` and
//!   `h_max_int = int(n · 2^52) + 1` (lines 119–126), packed side by side into one plaintext
//!   per row (`cipher_compressor/packer.py:30–57`: a new integer only when the bits exceed
//!   `max_int.bit_length() − 1`, `max_int = n // 3 − 1`, `secureprotol/fate_paillier.py:59`).
//!   So one ciphertext per row and tree; two (`g`, `h`) with `cipher_compress` off.
//! * Split information (`tree_core/splitter.py:263–371`): the host sends, for **every** node of
//!   a layer (it derives the larger sibling by histogram subtraction itself,
//!   `hetero_decision_tree_host.py:377–379`), one cumulative `(g, h)` ciphertext per candidate
//!   split `(feature, bin)` with at least `min_leaf_node` rows on each side (lines 283–295),
//!   shuffled (line 352), in batches of `bin_num` (`batch_size=self.bin_num`,
//!   `hetero_decision_tree_host.py:389`), each batch followed by the node's `(g, h)` total
//!   (`g_h_optim.py:191–194`). With compression each batch goes out as packages of
//!   `compress_num = max_bit // (g_bits + h_bits)` values per ciphertext
//!   (`packer.py:69–74`, `compressor.py:109–161`, `NormalCipherPackage`: `c · 2^pad + c'`);
//!   without it, two ciphertexts per value. Each split info also carries its `mask_id` and
//!   `sample_count` in the clear (`splitter.py:293–294`), counted here as 4 bytes each.
//!
//! The count is a lower bound on what FATE puts on the wire: ciphertexts at their raw 512 bytes
//! (FATE pickles Python big integers inside table rows, with the rows' keys), the per-split
//! fields at 8 bytes, and the rest (node positions, dispatch of rows at host splits, the best
//! split per node, the tree sync) as the bitmasks Tessera's own schedule needs for the same
//! information — FATE sends them as keyed tables, far larger. Prediction is measured, not
//! modelled: FATE's multi-round prediction ([`super::predict`]) runs on the trained model.

use crate::boost::{Binned, BoostModel, GuestNode};
use crate::{Error, Result, VerticalDataset};

/// FATE 1.11's default Paillier modulus (`secureprotol/conf/__init__.py:17`).
pub const FATE_KEY_BITS: usize = 2048;
/// FATE's fixed-point precision of packed gradients (`g_h_optim.py:13`).
pub const FATE_PRECISION_BITS: u32 = 52;
/// Bytes of the per-split plaintext fields FATE sends with each split info (`mask_id` and
/// `sample_count`, 4 bytes each at least).
const SPLIT_INFO_FIELDS: u64 = 8;

/// `int.bit_length()` of `⌊x · 2^52⌋ + 1` for a positive integer `x`.
fn bits_of_scaled(x: u64) -> u32 {
    let v = u128::from(x) << FATE_PRECISION_BITS;
    128 - (v + 1).leading_zeros()
}

/// GHPacker's layout for `n` training rows and a `key_bits` Paillier key, as FATE computes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GhPacking {
    /// Bits of the packed `g + 1` (sum over `n` rows): `bit_length(int(2 n 2^52) + 1)`.
    pub g_bits: u32,
    /// Bits of the packed `h`: `bit_length(int(n 2^52) + 1)`.
    pub h_bits: u32,
    /// Plaintext bits one ciphertext may fill: `bit_length(n // 3 − 1) − 1`; we take the
    /// larger of its two possible values for a `key_bits`-bit modulus (`key_bits − 2`), so
    /// FATE is given the higher capacity.
    pub max_bit: u32,
    /// Packed `(g, h)` pairs per ciphertext in the host's compressed split information
    /// (`compress_num` of `cipher_compress_suggest`).
    pub per_ciphertext: usize,
}

impl GhPacking {
    /// The layout FATE's guest computes (`GHPacker._compute_packing_parameter`,
    /// `GuestIntegerPacker.__init__` and `cipher_compress_suggest`).
    pub fn new(rows: usize, key_bits: usize) -> Result<Self> {
        let n = rows.max(1) as u64;
        let g_bits = bits_of_scaled(2 * n);
        let h_bits = bits_of_scaled(n);
        let max_bit = key_bits.saturating_sub(2) as u32;
        if g_bits + h_bits >= max_bit {
            return Err(Error::Misuse("key too small for FATE's g/h packing".into()));
        }
        let per_ciphertext = (max_bit / (g_bits + h_bits)) as usize;
        Ok(Self { g_bits, h_bits, max_bit, per_ciphertext })
    }
}

/// FATE 1.11's training traffic for one data set, split by message kind (bytes, both
/// directions).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FateTraffic {
    /// Encrypted `(g, h)` per row and tree, guest → host.
    pub gradients: u64,
    /// Encrypted split information, host → guest.
    pub split_infos: u64,
    /// Ciphertexts among the split information.
    pub split_ciphertexts: u64,
    /// Split candidates sent.
    pub candidates: u64,
    /// Node partitions and best-split choices, both ways (lower bound, see the module docs).
    pub control: u64,
}

impl FateTraffic {
    /// All training bytes.
    pub fn total(&self) -> u64 {
        self.gradients + self.split_infos + self.control
    }
}

/// The rows of every node FATE's host computes split information for, per tree and depth
/// `< max_depth`: the nodes of each layer (leaves included, FATE learns they are leaves only
/// after the split search), found by routing the training rows through the trained trees.
pub fn layer_rows(
    guest: &BoostModel,
    host: &BoostModel,
    guest_train: &VerticalDataset,
    host_train: &VerticalDataset,
    max_depth: usize,
) -> Result<Vec<Vec<Vec<Vec<usize>>>>> {
    let (BoostModel::Guest(g), BoostModel::Host(h)) = (guest, host) else {
        return Err(Error::Misuse("layer_rows needs the guest's and the host's models".into()));
    };
    if guest_train.len() != host_train.len() {
        return Err(Error::Misuse("guest and host rows are not aligned".into()));
    }
    let n = guest_train.len();
    let mut out = Vec::with_capacity(g.trees.len());
    for tree in &g.trees {
        let mut layers = Vec::new();
        let mut open: Vec<(usize, Vec<usize>)> = vec![(0, (0..n).collect())];
        for _ in 0..max_depth {
            if open.is_empty() {
                break;
            }
            layers.push(open.iter().map(|(_, rows)| rows.clone()).collect());
            let mut next = Vec::new();
            for (node, rows) in open {
                let goes_left = |i: usize| -> Result<Option<(usize, usize, bool)>> {
                    Ok(match tree.get(node) {
                        Some(GuestNode::Guest { feature, threshold, left, right }) => {
                            let x = guest_train.row(i).get(*feature).copied();
                            let x = x.ok_or(Error::Misuse("guest feature".into()))?;
                            Some((*left, *right, x <= *threshold))
                        }
                        Some(GuestNode::Host { split, left, right }) => {
                            let &(feature, threshold) = h
                                .splits
                                .get(*split)
                                .ok_or(Error::Misuse("unknown host split".into()))?;
                            let x = host_train.row(i).get(feature).copied();
                            let x = x.ok_or(Error::Misuse("host feature".into()))?;
                            Some((*left, *right, x <= threshold))
                        }
                        _ => None,
                    })
                };
                let mut children: Option<(usize, usize)> = None;
                let (mut l, mut r) = (Vec::new(), Vec::new());
                for &i in &rows {
                    if let Some((a, b, left)) = goes_left(i)? {
                        children = Some((a, b));
                        if left { l.push(i) } else { r.push(i) }
                    }
                }
                if let Some((a, b)) = children {
                    next.push((a, l));
                    next.push((b, r));
                }
            }
            open = next;
        }
        out.push(layers);
    }
    Ok(out)
}

/// FATE 1.11's training bytes for these layers (from [`layer_rows`]) over the host's
/// training columns, `compressed` = FATE's default (`cipher_compress=True`) or the
/// uncompressed schedule, `n` training rows, FATE's `bin_num`.
pub fn secureboost_traffic(
    host_train: &VerticalDataset,
    layers: &[Vec<Vec<Vec<usize>>>],
    bin_num: usize,
    key_bits: usize,
    compressed: bool,
) -> Result<FateTraffic> {
    let n = host_train.len();
    let ct = (2 * key_bits / 8) as u64;
    let packing = GhPacking::new(n, key_bits)?;
    let binned = Binned::new(host_train, bin_num);
    let mut t = FateTraffic::default();
    for tree in layers {
        t.gradients += n as u64 * ct * if compressed { 1 } else { 2 };
        for (depth, layer) in tree.iter().enumerate() {
            // The partition of each split parent into this layer's two children.
            if depth > 0 {
                for pair in layer.chunks(2) {
                    let rows: usize = pair.iter().map(Vec::len).sum();
                    t.control += rows.div_ceil(8) as u64;
                }
            }
            for rows in layer {
                let m = candidates(&binned, rows) as u64;
                t.candidates += m;
                let mut left = m;
                while left > 0 {
                    let batch = left.min(bin_num as u64);
                    left -= batch;
                    // The batch's split infos and the node's (g, h) total.
                    let values = batch + 1;
                    let cts = if compressed {
                        values.div_ceil(packing.per_ciphertext as u64)
                    } else {
                        2 * values
                    };
                    t.split_ciphertexts += cts;
                    t.split_infos += cts * ct + SPLIT_INFO_FIELDS * batch;
                }
                // The guest's best split per node (its mask id).
                t.control += 4;
            }
        }
    }
    Ok(t)
}

/// Candidate splits FATE's host sends for a node with these rows: per feature, the bins
/// `b < bins − 1` with at least one row on each side (`min_leaf_node = 1`), none for a node
/// below `min_sample_split = 2` rows.
fn candidates(binned: &Binned, rows: &[usize]) -> usize {
    if rows.len() < 2 {
        return 0;
    }
    let mut total = 0;
    for j in 0..binned.d {
        let nb = binned.num_bins(j);
        let mut counts = vec![0usize; nb];
        for &i in rows {
            counts[binned.bin(i, j)] += 1;
        }
        let mut left = 0;
        for &c in counts.iter().take(nb.saturating_sub(1)) {
            left += c;
            if left >= 1 && left < rows.len() {
                total += 1;
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint_dig::BigUint;
    use num_traits::{One, ToPrimitive};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use tessera_fhe::paillier_keygen;

    #[test]
    fn packing_widths_are_fates() {
        // 455 breast training rows: 2·455·2^52 needs 62 bits, 455·2^52 61; 16 per ciphertext.
        let p = GhPacking::new(455, 2048).unwrap();
        assert_eq!((p.g_bits, p.h_bits, p.per_ciphertext), (62, 61, 16));
        // 24,000 credit rows: 68 + 67 bits, 15 per ciphertext.
        let p = GhPacking::new(24_000, 2048).unwrap();
        assert_eq!((p.g_bits, p.h_bits, p.per_ciphertext), (68, 67, 15));
        assert_eq!(GhPacking::new(8000, 1024).unwrap().per_ciphertext, 7);
    }

    /// FATE's packing and compression done with real Paillier: `per_ciphertext` cumulative
    /// `(g + 1, h)` sums at 2^52 precision fit one ciphertext and decrypt exactly, so the
    /// capacity the count assumes is one FATE can reach.
    #[test]
    fn fate_compression_decrypts_at_the_counted_capacity() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let (pk, sk) = paillier_keygen(1024, &mut rng).unwrap();
        let rows = 300usize;
        let p = GhPacking::new(rows, pk.modulus().bits()).unwrap();
        let prec = 1u64 << FATE_PRECISION_BITS;
        // Gradients of a logistic loss: g ∈ [−1, 1], h ∈ [0, 1/4].
        let gh: Vec<(f64, f64)> = (0..rows)
            .map(|i| {
                let q = (i as f64 * 0.37).sin() * 0.5 + 0.5;
                (q - f64::from(u8::from(i % 3 == 0)), q * (1.0 - q))
            })
            .collect();
        let enc: Vec<_> = gh
            .iter()
            .map(|&(g, h)| {
                let gi = BigUint::from(((g + 1.0) * prec as f64).round() as u64);
                let hi = BigUint::from((h * prec as f64).round() as u64);
                pk.encrypt(&((gi << p.h_bits as usize) + hi), &mut rng).unwrap()
            })
            .collect();
        // Cumulative sums over the first 20, 40, … rows: one package of `per_ciphertext`.
        let prefixes: Vec<usize> =
            (1..=p.per_ciphertext).map(|k| k * rows / p.per_ciphertext).collect();
        let sums: Vec<_> = prefixes
            .iter()
            .map(|&k| enc[1..k].iter().fold(enc[0].clone(), |a, c| pk.add(&a, c)))
            .collect();
        let pad = BigUint::one() << (p.g_bits + p.h_bits) as usize;
        let package =
            sums[1..].iter().fold(sums[0].clone(), |a, c| pk.add(&pk.mul_scalar(&a, &pad), c));
        let mut plain = sk.decrypt(&package);
        let width = (p.g_bits + p.h_bits) as usize;
        let mask = (BigUint::one() << width) - BigUint::one();
        for &k in prefixes.iter().rev() {
            let v = &plain & &mask;
            plain >>= width;
            let h =
                (&v & ((BigUint::one() << p.h_bits as usize) - BigUint::one())).to_u128().unwrap();
            let g = (v >> p.h_bits as usize).to_u128().unwrap();
            let (gs, hs) = gh[..k].iter().fold((0.0, 0.0), |a, x| (a.0 + x.0, a.1 + x.1));
            let got_g = g as f64 / prec as f64 - k as f64;
            assert!((got_g - gs).abs() < 1e-9 && (h as f64 / prec as f64 - hs).abs() < 1e-9);
        }
        assert_eq!(plain, BigUint::default());
    }

    #[test]
    fn candidates_skip_empty_sides_and_tiny_nodes() {
        let ids: Vec<String> = (0..8).map(|i| i.to_string()).collect();
        // Column 0: four values; column 1 constant (one bin, no candidate).
        let x: Vec<f64> = (0..8).flat_map(|i| [f64::from(i % 4), 1.0]).collect();
        let d = VerticalDataset::from_parts(ids, vec!["a".into(), "b".into()], x, None).unwrap();
        let b = Binned::new(&d, 32);
        assert_eq!(candidates(&b, &(0..8).collect::<Vec<_>>()), 3);
        // Rows with values 2 and 3 only: bins 0 and 1 leave the left side empty.
        assert_eq!(candidates(&b, &[2, 3, 6, 7]), 1);
        assert_eq!(candidates(&b, &[2]), 0);
    }
}
