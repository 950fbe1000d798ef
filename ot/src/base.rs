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
//!    receiver's `b_i·A`); outputs `k_i = H(sid, S, R, i, A, B_i, b_i·A)`.
//! 3. Sender: outputs `k_i^0 = H(sid, S, R, i, A, B_i, a·B_i)` and
//!    `k_i^1 = H(sid, S, R, i, A, B_i, a·(B_i − A))`.
//!
//! Binding (issue #21): `sid = session.derive("tessera/ot/base", [S, R])` for sender `S` and
//! receiver `R`. The Schnorr challenge is drawn from a [`Transcript`] started on `sid` with the
//! sender as prover and the receiver's id, `A`, `R` and `n` absorbed, so a proof is valid only in
//! this session, from this sender, to this receiver: it cannot be replayed from another run nor
//! reflected by the receiver back at its author (a reflected proof names the wrong prover). The
//! key hash binds `sid` and both ids as well, so keys of two sessions or two pairs never coincide
//! even on equal points. Freshness of `session` is the caller's duty; a caller running several
//! batches in one session must pass a distinct derived id to each. Both functions mark the step
//! `"ot/base"` on the channel ([`Channel::begin_step`]).
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
use tessera_mpc::{Channel, PartyId, Prg, SessionId, Transcript};
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

/// The step label both sides give [`Channel::begin_step`].
pub const STEP: &str = "ot/base";

/// What every hash of one batch is bound to: the derived session id and both roles.
struct Context {
    sid: SessionId,
    sender: PartyId,
    receiver: PartyId,
}

impl Context {
    fn new(session: &SessionId, sender: PartyId, receiver: PartyId) -> Self {
        Self { sid: session.derive(b"tessera/ot/base", &[sender, receiver]), sender, receiver }
    }

    fn key(
        &self,
        i: usize,
        a: &CompressedRistretto,
        b: &[u8],
        shared: &CompressedRistretto,
    ) -> u128 {
        let mut h = Sha256::new();
        h.update(b"tessera/ot/base/key/v2");
        h.update(self.sid.as_bytes());
        h.update(self.sender.0.to_le_bytes());
        h.update(self.receiver.0.to_le_bytes());
        h.update((i as u64).to_le_bytes());
        h.update(a.as_bytes());
        h.update(b);
        h.update(shared.as_bytes());
        let mut d: [u8; 32] = h.finalize().into();
        let mut k = [0u8; 16];
        k.copy_from_slice(&d[..16]);
        d.zeroize();
        let out = u128::from_le_bytes(k);
        k.zeroize();
        out
    }

    fn proof_challenge(
        &self,
        a: &CompressedRistretto,
        r: &CompressedRistretto,
        n: usize,
    ) -> Scalar {
        let mut t = Transcript::new(b"tessera/ot/base/schnorr/v2", &self.sid, self.sender);
        t.append(b"receiver", &self.receiver.0.to_le_bytes());
        t.append(b"A", a.as_bytes());
        t.append(b"R", r.as_bytes());
        t.append(b"n", &(n as u64).to_le_bytes());
        let mut prg = Prg::from_seed(&t.challenge_seed(b"c"));
        random_scalar(&mut prg)
    }
}

/// Runs `n` base OTs as the sender with receiver `peer` in `session`; returns the pairs
/// `(k_i^0, k_i^1)`.
pub fn send<C: Channel + ?Sized>(
    ch: &mut C,
    peer: PartyId,
    n: usize,
    session: &SessionId,
    prg: &mut Prg,
) -> Result<Vec<[u128; 2]>> {
    ch.begin_step(STEP);
    let cx = Context::new(session, ch.party(), peer);
    let mut a = random_scalar(prg);
    let big_a = RistrettoPoint::mul_base(&a);
    let a_c = big_a.compress();
    // Schnorr proof of knowledge of a.
    let mut r = random_scalar(prg);
    let r_c = RistrettoPoint::mul_base(&r).compress();
    let c = cx.proof_challenge(&a_c, &r_c, n);
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
        .map(|(i, (enc, pair))| [cx.key(i, &a_c, enc, &pair[0]), cx.key(i, &a_c, enc, &pair[1])])
        .collect();
    a_half.zeroize();
    Ok(out)
}

/// Runs `choices.len()` base OTs as the receiver with sender `peer` in `session`, with choice
/// bits `choices`; returns `k_i^{c_i}`.
pub fn receive<C: Channel + ?Sized>(
    ch: &mut C,
    peer: PartyId,
    choices: &[bool],
    session: &SessionId,
    prg: &mut Prg,
) -> Result<Vec<u128>> {
    ch.begin_step(STEP);
    let cx = Context::new(session, peer, ch.party());
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
    let c = cx.proof_challenge(&a_c, &r.compress(), n);
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
        .map(|(i, (enc, s))| cx.key(i, &a_c, enc.as_bytes(), s))
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

    fn sid(b: u8) -> SessionId {
        SessionId::from_bytes([b; 32])
    }

    #[test]
    fn receiver_gets_exactly_the_chosen_key() {
        let choices: Vec<bool> = (0..130).map(|i| i % 3 == 0).collect();
        let runs = run_in_memory(2, |ch: &mut dyn Channel| {
            if ch.party().index() == 0 {
                let mut prg = Prg::from_seed(&Seed([1; 16]));
                send(ch, PartyId(1), 130, &sid(1), &mut prg).map(|k| (k, Vec::new()))
            } else {
                let mut prg = Prg::from_seed(&Seed([2; 16]));
                receive(ch, PartyId(0), &choices, &sid(1), &mut prg).map(|k| (Vec::new(), k))
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
                receive(ch, PartyId(0), &[true; 4], &sid(1), &mut prg).map(|_| ())
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
                    receive(ch, PartyId(0), &[true; 4], &sid(1), &mut prg).map(|_| ())
                }
            });
            assert!(matches!(runs[1].output, Err(Error::InvalidPoint)));
        }
    }

    /// A valid proof made in one session is refused in another: the Fiat–Shamir challenge
    /// depends on the session (with the v1 transcript, which named no session, it verified).
    #[test]
    fn proof_from_another_session_is_rejected() {
        for (mine, theirs, ok) in [(1, 1, true), (1, 2, false)] {
            let runs = run_in_memory(2, |ch: &mut dyn Channel| {
                if ch.party().index() == 0 {
                    let mut prg = Prg::from_seed(&Seed([5; 16]));
                    // The receiver may abort after the first flow; the sender's result is moot.
                    let _ = send(ch, PartyId(1), 4, &sid(mine), &mut prg);
                    Ok(())
                } else {
                    let mut prg = Prg::from_seed(&Seed([6; 16]));
                    receive(ch, PartyId(0), &[true; 4], &sid(theirs), &mut prg).map(|_| ())
                }
            });
            if ok {
                assert!(runs[1].output.is_ok(), "{:?}", runs[1].output);
            } else {
                assert!(matches!(runs[1].output, Err(Error::InvalidProof)), "{:?}", runs[1].output);
            }
        }
    }

    /// Party 1 runs a base OT as receiver of party 0, then, as sender of a second batch to party
    /// 0 in the same session, reflects party 0's own first flow `A ‖ R ‖ z` (it knows no
    /// exponent for `A`). The proof names party 0 as prover, so party 0 refuses it; with an
    /// unbound transcript it verified and party 1 chose both of party 0's keys' inputs.
    #[test]
    fn reflected_proof_is_rejected() {
        let runs = run_in_memory(2, |ch: &mut dyn Channel| {
            let s = sid(9);
            if ch.party().index() == 0 {
                let mut prg = Prg::from_seed(&Seed([7; 16]));
                send(ch, PartyId(1), 4, &s, &mut prg)?;
                receive(ch, PartyId(1), &[false, true, false, true], &s, &mut prg).map(|_| ())
            } else {
                let first = ch.recv(PartyId(0))?;
                let b = RISTRETTO_BASEPOINT_POINT.compress().to_bytes();
                ch.send(PartyId(0), &b.repeat(4))?;
                ch.send(PartyId(0), &first).map_err(Error::from)
            }
        });
        assert!(runs[1].output.is_ok(), "{:?}", runs[1].output);
        assert!(matches!(runs[0].output, Err(Error::InvalidProof)), "{:?}", runs[0].output);
    }

    /// Keys depend on the session and on the roles, not only on the points.
    #[test]
    fn keys_are_bound_to_session_and_roles() {
        let a = RistrettoPoint::mul_base(&Scalar::from(3u64)).compress();
        let b = RistrettoPoint::mul_base(&Scalar::from(5u64)).compress();
        let ab = RistrettoPoint::mul_base(&Scalar::from(15u64)).compress();
        let k = |s: u8, x: u16, y: u16| {
            Context::new(&sid(s), PartyId(x), PartyId(y)).key(0, &a, b.as_bytes(), &ab)
        };
        assert_ne!(k(1, 0, 1), k(2, 0, 1));
        assert_ne!(k(1, 0, 1), k(1, 1, 0));
        assert_ne!(k(1, 0, 1), k(1, 0, 2));
        assert_eq!(k(1, 0, 1), k(1, 0, 1));
    }
}
