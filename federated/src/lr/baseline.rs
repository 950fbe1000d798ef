//! The FATE-compatible baseline schedule (see the [module docs](super)): one Paillier
//! ciphertext per sample and per gradient value, three rounds per batch, two parties; multiclass
//! as FATE's one-vs-rest, one full binary training per class.

use std::ops::Range;

use rand_core::{RngCore, SeedableRng};
use tessera_fhe::{PaillierCiphertext, PaillierPublicKey, PaillierSecretKey};
use tessera_mpc::{Channel, PartyId};

use super::{ClassWeights, HeteroLogisticRegression, Role, dot, header, keygen, parse_header};
use crate::paillier::{
    decode_cts, decrypt_signed, encode_cts, encrypt_all, quantise, signed_to_zn,
};
use crate::stats::{PhaseStats, PhaseTimer};
use crate::{Error, Result, VerticalDataset};

/// Bytes of a masked plaintext gradient value in the baseline's return leg.
const MASKED_BYTES: usize = 16;
/// Bits of the uniform mask added before the peer decrypts (value bits + 40).
const MASK_BITS: u32 = 100;

/// Step labels ([`Channel::begin_step`]) of the setup and of a batch's three rounds.
pub(crate) const STEP_SETUP: &str = "lr-baseline/setup";
pub(crate) const STEP_ROWS: &str = "lr-baseline/encrypted-rows";
pub(crate) const STEP_GRADIENT: &str = "lr-baseline/masked-gradient";
pub(crate) const STEP_DECRYPTED: &str = "lr-baseline/decrypted";

/// Refuses to decrypt, for the peer, any of the ciphertexts we sent it this batch.
///
/// Our round-1 ciphertexts hold our per-sample values (the guest's `z` carries its labels); a
/// peer that returned them as its "masked gradient" would get them decrypted. This stops the
/// naive reflection only: a re-randomised or homomorphically shifted copy cannot be told from an
/// honest gradient, which is why the schedule is semi-honest, as FATE's is (see the module docs).
fn refuse_own_ciphertexts(mine: &[u8], theirs: &[u8], len: usize, peer: PartyId) -> Result<()> {
    if len == 0 {
        return Ok(());
    }
    let ours: std::collections::HashSet<&[u8]> = mine.chunks_exact(len).collect();
    if theirs.chunks_exact(len).any(|c| ours.contains(c)) {
        return Err(Error::Channel(tessera_mpc::Error::Reflected { peer, step: STEP_GRADIENT }));
    }
    Ok(())
}

struct Setup {
    pk: PaillierPublicKey,
    sk: PaillierSecretKey,
    peer_pk: PaillierPublicKey,
    /// Gradient columns of the peer (the guest's include the intercept).
    peer_cols: usize,
}

/// Trains `classes` binary models one after the other (FATE's one-vs-rest) over one key setup.
pub(super) fn train(
    cfg: &HeteroLogisticRegression,
    ch: &mut dyn Channel,
    peer: PartyId,
    role: Role,
    data: &VerticalDataset,
    targets: &[Vec<f64>],
    classes: usize,
) -> Result<(Vec<ClassWeights>, Vec<PhaseStats>, Vec<f64>)> {
    let n = data.len();
    let d = data.num_features();
    let timer = PhaseTimer::start("setup", ch);
    let (pk, sk) = keygen(cfg.key_bits)?;
    let cols = if role == Role::Guest { d + 1 } else { d };
    ch.begin_step(STEP_SETUP);
    ch.send(peer, &header(n, cols, &pk))?;
    let (peer_cols, peer_pk) = parse_header(&ch.recv(peer)?, n)?;
    if role == Role::Guest {
        cfg.check_batches_hide_labels(n, peer_cols)?;
    }
    if peer_pk == pk {
        // Our own key reflected: we would decrypt for the peer what we encrypted for it.
        return Err(Error::Channel(tessera_mpc::Error::Reflected { peer, step: STEP_SETUP }));
    }
    let setup = Setup { pk, sk, peer_pk, peer_cols };
    let mut phases = vec![timer.finish(ch)];
    let train_timer = PhaseTimer::start("train", ch);
    let mut out = Vec::with_capacity(classes);
    for class in 0..classes {
        let labels: &[f64] = targets.get(class).map(Vec::as_slice).unwrap_or_default();
        let mut w = vec![0.0; d];
        let mut b = 0.0;
        for _ in 0..cfg.epochs {
            for batch in cfg.batches(n) {
                step(cfg, ch, peer, role, data, labels, &setup, batch, &mut w, &mut b)?;
            }
        }
        out.push((w, b));
    }
    phases.push(train_timer.finish(ch));
    Ok((out, phases, Vec::new()))
}

#[allow(clippy::too_many_arguments)]
fn step(
    cfg: &HeteroLogisticRegression,
    ch: &mut dyn Channel,
    peer: PartyId,
    role: Role,
    data: &VerticalDataset,
    labels: &[f64],
    setup: &Setup,
    batch: Range<usize>,
    w: &mut [f64],
    b: &mut f64,
) -> Result<()> {
    let s = cfg.scale_bits;
    let m = batch.len();
    // The guest's z = 0.25 u_g + 0.5 − y or the host's u_h.
    let q: Vec<i64> = batch
        .clone()
        .map(|i| {
            let u = dot(w, data.row(i));
            let v = match role {
                Role::Guest => 0.25 * (u + *b) + 0.5 - labels[i],
                Role::Host => u,
            };
            quantise(v, s)
        })
        .collect();
    // Round 1: one ciphertext per sample (host: [[u_h]], guest: [[z]]) under own key.
    let plain: Vec<_> =
        q.iter().map(|&v| signed_to_zn(i128::from(v), setup.pk.modulus())).collect();
    ch.begin_step(STEP_ROWS);
    let mine = encode_cts(&setup.pk, &encrypt_all(&setup.pk, &plain)?);
    ch.send(peer, &mine)?;
    let enc_peer = decode_cts(&setup.peer_pk, &ch.recv(peer)?, m)?;
    // Round 2: the encrypted gradient of own features (guest: with the intercept), one
    // ciphertext per value, masked, for the peer (who holds the key) to decrypt.
    // 4·d_i = 4 z_i + u_h,i: the guest weighs the peer's [[u_h]] by x and adds Σ x·4z in
    // plaintext; the host weighs [[z]] by 4x and adds Σ x·u_h.
    let d = data.num_features();
    let cols = if role == Role::Guest { d + 1 } else { d };
    let (own_factor, peer_factor) = if role == Role::Guest { (4i64, 1i64) } else { (1, 4) };
    let feature = |i: usize, j: usize| -> i64 {
        if j < d { quantise(data.row(i)[j], s) } else { quantise(1.0, s) }
    };
    let mut masks = Vec::with_capacity(cols);
    let mut grads = Vec::with_capacity(cols);
    let mut rng = rand_chacha::ChaCha20Rng::from_rng(rand_core::OsRng)
        .map_err(|_| Error::Misuse("no OS randomness".into()))?;
    for j in 0..cols {
        let plain_part: i128 = batch
            .clone()
            .zip(&q)
            .map(|(i, &qi)| i128::from(feature(i, j)) * i128::from(own_factor * qi))
            .sum();
        let mask = (i128::from(rng.next_u64()) << 36) ^ i128::from(rng.next_u64() >> 28);
        let mask = mask & ((1i128 << MASK_BITS) - 1);
        // Not re-randomised here: adding the fresh encryption below does that.
        let terms: Vec<(i64, &PaillierCiphertext)> =
            batch.clone().zip(&enc_peer).map(|(i, c)| (peer_factor * feature(i, j), c)).collect();
        let enc = setup.peer_pk.linear_combination(&terms)?;
        let add = setup
            .peer_pk
            .encrypt(&signed_to_zn(plain_part + mask, setup.peer_pk.modulus()), &mut rng)?;
        grads.push(setup.peer_pk.add(&enc, &add));
        masks.push(mask);
    }
    ch.begin_step(STEP_GRADIENT);
    ch.send(peer, &encode_cts(&setup.peer_pk, &grads))?;
    let raw = ch.recv(peer)?;
    refuse_own_ciphertexts(&mine, &raw, setup.pk.ciphertext_len(), peer)?;
    let to_decrypt = decode_cts(&setup.pk, &raw, setup.peer_cols)?;
    // Round 3: decrypt the peer's masked gradient and return it.
    ch.begin_step(STEP_DECRYPTED);
    let mut back = Vec::with_capacity(setup.peer_cols * MASKED_BYTES);
    for c in &to_decrypt {
        back.extend_from_slice(&decrypt_signed(&setup.sk, setup.pk.modulus(), c).to_le_bytes());
    }
    ch.send(peer, &back)?;
    let masked = ch.recv(peer)?;
    if masked.len() != cols * MASKED_BYTES {
        return Err(Error::PeerMessage("wrong number of masked gradient values"));
    }
    let scale = f64::from(1u32 << s).powi(2) * 4.0 * m as f64;
    for (j, (chunk, mask)) in masked.chunks_exact(MASKED_BYTES).zip(&masks).enumerate() {
        let mut a = [0u8; MASKED_BYTES];
        a.copy_from_slice(chunk);
        let g = (i128::from_le_bytes(a) - mask) as f64 / scale;
        if j < d {
            w[j] -= cfg.learning_rate * (g + cfg.l2 * w[j]);
        } else {
            *b -= cfg.learning_rate * g;
        }
    }
    Ok(())
}
