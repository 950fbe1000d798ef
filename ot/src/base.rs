//! Base OT: a batch of maliciously secure 1-out-of-2 random OTs over Ristretto255.
//!
//! Follows Chou and Orlandi, "The Simplest Protocol for Oblivious Transfer" (LATINCRYPT 2015),
//! §3 (Figure 1), with the fixes of Hauck and Loss, "Efficient and Universally Composable Protocols
//! for Oblivious Transfer from the CDH Assumption" (ePrint 2017/1011), §4: the sender proves
//! knowledge of its exponent `a` with a Fiat–Shamir Schnorr proof, every key hash binds the
//! sender's point `A`, the receiver's point `B_i` and the OT index, and the group is prime order
//! (Ristretto255, so no small-subgroup points exist and encodings are canonical).
//!
//! Protocol, for `n` OTs in two flows:
//! 1. Sender: `a ← Z_ℓ`, `A = a·G`, Schnorr proof `(R, z)` of `a`; sends `A ‖ R ‖ z`.
//! 2. Receiver: checks the proof; for each `i`, `b_i ← Z_ℓ`, `B_i = b_i·G + c_i·A`; sends all
//!    `B_i` at once (fixed-base work only, so the sender's variable-base products overlap the
//!    receiver's `b_i·A`); outputs `k_i = H(i, A, B_i, b_i·A)`.
//! 3. Sender: outputs `k_i^0 = H(i, A, B_i, a·B_i)` and `k_i^1 = H(i, A, B_i, a·(B_i − A))`.
//!
//! Security: malicious, under CDH in the random-oracle model (H = SHA-256), κ = 128 (outputs are
//! 128-bit keys; Ristretto255 gives ≈ 126-bit security). The outputs are *random* OTs: the
//! extension protocols use them as PRG seeds.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoBasepointTable, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable};
use tessera_mpc::{Channel, PartyId, Prg, Transcript};
use zeroize::Zeroize;

use crate::error::{Error, Result, recv_exact};

/// A uniformly random scalar from 512 PRG bits (bias 2^-259).
fn random_scalar(prg: &mut Prg) -> Scalar {
    let mut wide = [0u8; 64];
    prg.fill_bytes(&mut wide);
    let s = Scalar::from_bytes_mod_order_wide(&wide);
    wide.zeroize();
    s
}

fn decode_point(bytes: &[u8]) -> Result<RistrettoPoint> {
    let c = CompressedRistretto::from_slice(bytes).map_err(|_| Error::InvalidPoint)?;
    c.decompress().ok_or(Error::InvalidPoint)
}

fn key(i: usize, a: &CompressedRistretto, b: &[u8], shared: &CompressedRistretto) -> u128 {
    let mut h = Sha256::new();
    h.update(b"tessera/ot/base/key/v1");
    h.update((i as u64).to_le_bytes());
    h.update(a.as_bytes());
    h.update(b);
    h.update(shared.as_bytes());
    let d: [u8; 32] = h.finalize().into();
    let mut k = [0u8; 16];
    k.copy_from_slice(&d[..16]);
    u128::from_le_bytes(k)
}

fn proof_challenge(a: &CompressedRistretto, r: &CompressedRistretto, n: usize) -> Scalar {
    let mut t = Transcript::new(b"tessera/ot/base/schnorr/v1");
    t.append(b"A", a.as_bytes());
    t.append(b"R", r.as_bytes());
    t.append(b"n", &(n as u64).to_le_bytes());
    let mut prg = Prg::from_seed(&t.challenge_seed(b"c"));
    random_scalar(&mut prg)
}

/// Runs `n` base OTs as the sender; returns the pairs `(k_i^0, k_i^1)`.
pub fn send<C: Channel + ?Sized>(
    ch: &mut C,
    peer: PartyId,
    n: usize,
    prg: &mut Prg,
) -> Result<Vec<[u128; 2]>> {
    let mut a = random_scalar(prg);
    let big_a = RistrettoPoint::mul_base(&a);
    let a_c = big_a.compress();
    // Schnorr proof of knowledge of a.
    let mut r = random_scalar(prg);
    let r_c = RistrettoPoint::mul_base(&r).compress();
    let c = proof_challenge(&a_c, &r_c, n);
    let z = r + c * a;
    r.zeroize();
    let mut first = Vec::with_capacity(96);
    first.extend_from_slice(a_c.as_bytes());
    first.extend_from_slice(r_c.as_bytes());
    first.extend_from_slice(z.as_bytes());
    ch.send(peer, &first)?;

    // Compressing costs an inversion; halve the exponent and let dalek's batched
    // double-and-compress share one inversion across the batch.
    let mut a_half = a * Scalar::from(2u64).invert();
    a.zeroize();
    let a_half_a = a_half * big_a;
    let msg = recv_exact(ch, peer, 32 * n)?;
    let mut points = Vec::with_capacity(2 * n);
    for enc in msg.chunks_exact(32) {
        let half = a_half * decode_point(enc)?;
        points.push(half);
        points.push(half - a_half_a);
    }
    let shared = RistrettoPoint::double_and_compress_batch(&points);
    let out = msg
        .chunks_exact(32)
        .zip(shared.chunks_exact(2))
        .enumerate()
        .map(|(i, (enc, pair))| [key(i, &a_c, enc, &pair[0]), key(i, &a_c, enc, &pair[1])])
        .collect();
    a_half.zeroize();
    Ok(out)
}

/// Runs `n` base OTs as the receiver with choice bits `choices`; returns `k_i^{c_i}`.
pub fn receive<C: Channel + ?Sized>(
    ch: &mut C,
    peer: PartyId,
    choices: &[bool],
    prg: &mut Prg,
) -> Result<Vec<u128>> {
    let n = choices.len();
    let first = recv_exact(ch, peer, 96)?;
    let big_a = decode_point(&first[..32])?;
    if big_a.is_identity() {
        return Err(Error::InvalidPoint);
    }
    let r = decode_point(&first[32..64])?;
    let mut z_bytes = [0u8; 32];
    z_bytes.copy_from_slice(&first[64..]);
    let z =
        Option::<Scalar>::from(Scalar::from_canonical_bytes(z_bytes)).ok_or(Error::InvalidProof)?;
    let a_c = big_a.compress();
    let c = proof_challenge(&a_c, &r.compress(), n);
    if RistrettoPoint::mul_base(&z) != r + c * big_a {
        return Err(Error::InvalidProof);
    }

    // The B_i need only fixed-base products: compute and send them all first, so the sender's
    // variable-base work overlaps the receiver's b_i·A (through a precomputed table for A). Points
    // are computed halved (with b_i/2 and A/2) so that dalek's batched double-and-compress
    // encodes them with one shared inversion.
    let inv2 = Scalar::from(2u64).invert();
    let a_half = inv2 * big_a;
    let mut b_halves = Vec::with_capacity(n);
    let mut points = Vec::with_capacity(n);
    for &choice in choices {
        let b_half = random_scalar(prg) * inv2;
        let bg = &b_half * RISTRETTO_BASEPOINT_TABLE;
        let chosen = Choice::from(u8::from(choice));
        points.push(RistrettoPoint::conditional_select(&bg, &(bg + a_half), chosen));
        b_halves.push(b_half);
    }
    let encoded = RistrettoPoint::double_and_compress_batch(&points);
    let msg: Vec<u8> = encoded.iter().flat_map(|e| e.to_bytes()).collect();
    ch.send(peer, &msg)?;

    let table_a = RistrettoBasepointTable::create(&big_a);
    points.clear();
    points.extend(b_halves.iter().map(|b| b * &table_a));
    b_halves.zeroize();
    let shared = RistrettoPoint::double_and_compress_batch(&points);
    let out = encoded
        .iter()
        .zip(&shared)
        .enumerate()
        .map(|(i, (enc, s))| key(i, &a_c, enc.as_bytes(), s))
        .collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
    use curve25519_dalek::traits::Identity;
    use tessera_mpc::Seed;
    use tessera_mpc::harness::run_in_memory;

    #[test]
    fn receiver_gets_exactly_the_chosen_key() {
        let choices: Vec<bool> = (0..130).map(|i| i % 3 == 0).collect();
        let runs = run_in_memory(2, |ch: &mut dyn Channel| {
            if ch.party().index() == 0 {
                let mut prg = Prg::from_seed(&Seed([1; 16]));
                send(ch, PartyId(1), 130, &mut prg).map(|k| (k, Vec::new()))
            } else {
                let mut prg = Prg::from_seed(&Seed([2; 16]));
                receive(ch, PartyId(0), &choices, &mut prg).map(|k| (Vec::new(), k))
            }
        });
        let mut it = runs.into_iter();
        let (pairs, _) = it.next().unwrap().output.unwrap();
        let (_, got) = it.next().unwrap().output.unwrap();
        for i in 0..130 {
            let c = usize::from(choices[i]);
            assert_eq!(got[i], pairs[i][c]);
            assert_ne!(got[i], pairs[i][1 - c]);
        }
    }

    #[test]
    fn forged_proof_is_rejected() {
        let runs = run_in_memory(2, |ch: &mut dyn Channel| {
            if ch.party().index() == 0 {
                // A sender that does not know the discrete log of A: random A, R, z.
                let mut prg = Prg::from_seed(&Seed([3; 16]));
                let mut msg = Vec::new();
                for _ in 0..2 {
                    let p = RistrettoPoint::mul_base(&random_scalar(&mut prg));
                    msg.extend_from_slice(p.compress().as_bytes());
                }
                msg.extend_from_slice(random_scalar(&mut prg).as_bytes());
                ch.send(PartyId(1), &msg).map_err(Error::from)
            } else {
                let mut prg = Prg::from_seed(&Seed([4; 16]));
                receive(ch, PartyId(0), &[true; 4], &mut prg).map(|_| ())
            }
        });
        assert!(matches!(runs[1].output, Err(Error::InvalidProof)));
    }

    #[test]
    fn identity_and_garbage_points_are_rejected() {
        for first in [RistrettoPoint::identity().compress().to_bytes(), [0xFF; 32]] {
            let runs = run_in_memory(2, |ch: &mut dyn Channel| {
                if ch.party().index() == 0 {
                    let mut msg = first.to_vec();
                    msg.extend_from_slice(RISTRETTO_BASEPOINT_POINT.compress().as_bytes());
                    msg.extend_from_slice(&[0u8; 32]);
                    ch.send(PartyId(1), &msg).map_err(Error::from)
                } else {
                    let mut prg = Prg::from_seed(&Seed([4; 16]));
                    receive(ch, PartyId(0), &[true; 4], &mut prg).map(|_| ())
                }
            });
            assert!(matches!(runs[1].output, Err(Error::InvalidPoint)));
        }
    }
}
