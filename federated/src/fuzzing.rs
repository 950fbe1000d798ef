//! Entry points for `tessera-fuzz` into the decoders of peers' training messages, which the
//! protocols keep crate-private. Not an API: each function only forwards to the decoder the
//! training runs and reports what it accepted, so a fuzz target can check it.

use tessera_fhe::{PaillierCiphertext, PaillierPublicKey, PaillierSecretKey};

use crate::Result;
use crate::boost::hist::{GuestHe, HostHe, Scheme};

/// Vertical LR setup (`lr::parse_header`): a peer's row count, row width and Paillier key.
/// Returns the width and the key.
pub fn lr_header(msg: &[u8], n: usize) -> Result<(usize, PaillierPublicKey)> {
    crate::lr::parse_header(msg, n)
}

/// The header [`lr_header`] parses, as the training writes it.
pub fn lr_header_bytes(n: usize, width: usize, pk: &PaillierPublicKey) -> Vec<u8> {
    crate::lr::header(n, width, pk)
}

/// Vertical LR (Tessera schedule): a peer's header and encrypted rows. Returns the row width
/// and the number of ciphertexts accepted.
pub fn lr_peer_rows(head: &[u8], body: &[u8], n: usize) -> Result<(usize, usize)> {
    crate::lr::tessera::parse_peer_rows(head, body, n)
}

/// Ciphertexts per row of `width` values under `pk` (so a seed can be built to size).
pub fn lr_ciphertexts_per_row(pk: &PaillierPublicKey, width: usize) -> usize {
    width.div_ceil(crate::paillier::slots_per_ciphertext(pk))
}

/// Exactly `count` Paillier ciphertexts back to back (`paillier::decode_cts`).
pub fn paillier_cts(
    pk: &PaillierPublicKey,
    bytes: &[u8],
    count: usize,
) -> Result<Vec<PaillierCiphertext>> {
    crate::paillier::decode_cts(pk, bytes, count)
}

/// The encoding [`paillier_cts`] parses.
pub fn paillier_cts_bytes(pk: &PaillierPublicKey, cts: &[PaillierCiphertext]) -> Vec<u8> {
    crate::paillier::encode_cts(pk, cts)
}

/// SecureBoost host: the guest's setup (scheme byte and payload), optional rotation keys and
/// the encrypted gradients of `m` rows, in the order the host receives them.
pub fn boost_host(
    scheme: u8,
    setup: &[u8],
    keys: Option<&[u8]>,
    gradients: &[u8],
    m: usize,
) -> Result<()> {
    let mut host = HostHe::from_setup(Scheme::from_byte(scheme)?, setup)?;
    if let Some(k) = keys {
        host.add_keys(k)?;
    }
    host.load(gradients, m)
}

/// SecureBoost guest with a fixed Paillier key: decodes a host's histograms of `nodes` nodes
/// over features with `host_bins` bins. Returns the (g, h) sums, node by node.
pub fn boost_guest_paillier(
    pk: &PaillierPublicKey,
    sk: &PaillierSecretKey,
    packed: bool,
    msg: &[u8],
    nodes: usize,
    host_bins: &[usize],
) -> Result<Vec<crate::boost::Hist>> {
    let guest = GuestHe::Paillier { pk: pk.clone(), sk: sk.clone(), packed };
    guest.decode(msg, nodes, host_bins)
}

/// SecureBoost split masks (`boost::mask_of`).
pub fn boost_mask(bytes: &[u8], len: usize) -> Result<Vec<bool>> {
    crate::boost::mask_of(bytes, len)
}

/// The encoding [`boost_mask`] parses.
pub fn boost_mask_bytes(mask: &[bool]) -> Vec<u8> {
    crate::boost::bits_of(mask)
}
