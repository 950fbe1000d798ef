//! Two-party private set intersection on identifiers (ECDH-PSI), returning each party's rows of
//! the intersection in one common order: the sample alignment step of vertical federated learning.
//!
//! Follows the Diffie–Hellman PSI of Huberman, Franklin and Hogg, "Enhancing privacy and trust in
//! electronic communities", ACM EC 1999, §3 (as analysed by De Cristofaro and Tsudik, FC 2010,
//! §3, Fig. 2), over the prime-order Ristretto255 group:
//!
//! 1. each party hashes its identifiers to the group (`H(x)`, SHA-512 with a domain tag, then
//!    Elligator-based `RistrettoPoint::from_uniform_bytes`), raises them to a fresh secret scalar
//!    `a` and sends the points **in a random order**;
//! 2. each party raises the peer's points to its own scalar and returns them in the order received;
//! 3. each party undoes its shuffle, so it holds `a·b·H(x)` for each of its own rows, and compares
//!    them with the set `{a·b·H(y)}` it computed for the peer's (shuffled, position-free) points.
//!
//! Both parties learn the intersection and its size and the size of the peer's set; nothing about
//! the other rows (their double-blinded values are pseudorandom under DDH) and nothing about the
//! position of the peer's rows, thanks to the shuffle. The common row order is the order of the
//! double-blinded values, which both parties compute identically.
//!
//! Security: semi-honest, under the decisional Diffie–Hellman assumption in Ristretto255
//! (about 126-bit security) with `H` modelled as a random oracle. A malicious party could
//! substitute points (learning whether chosen identifiers are present); run it only between
//! parties that follow the protocol, as FATE's intersection does. Two rounds. A peer that sends
//! back any of our own blinded points (a reflection, which would make us believe our whole set is
//! in the intersection) is refused; a re-blinded reflection cannot be told from honest points.

use std::collections::HashMap;

use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};
use tessera_mpc::{Channel, PartyId, Prg};
use zeroize::Zeroize;

use crate::{Error, Result};

/// Domain tag of the hash to the group, so these points are never reused by another protocol.
const HASH_DOMAIN: &[u8] = b"tessera/psi/ecdh-ristretto255/v1";
/// Bytes of a compressed Ristretto point on the wire.
const POINT_BYTES: usize = 32;

/// What one party learns from [`ecdh_psi`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PsiOutput {
    /// Indices into this party's identifier list, one per element of the intersection, in the
    /// order both parties share: row `k` here and row `k` at the peer are the same identifier.
    pub aligned_rows: Vec<usize>,
    /// How many identifiers the peer put in.
    pub peer_set_size: usize,
}

/// Hashes an identifier to Ristretto255 (a random oracle onto the group).
fn hash_to_group(id: &[u8]) -> RistrettoPoint {
    let mut h = Sha512::new();
    h.update(HASH_DOMAIN);
    h.update((id.len() as u64).to_le_bytes());
    h.update(id);
    let digest = h.finalize();
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&digest);
    RistrettoPoint::from_uniform_bytes(&wide)
}

fn random_scalar(prg: &mut Prg) -> Scalar {
    let mut wide = [0u8; 64];
    prg.fill_bytes(&mut wide);
    let s = Scalar::from_bytes_mod_order_wide(&wide);
    wide.zeroize();
    s
}

/// A uniformly random permutation of `0..n` (Fisher–Yates with rejection-free 128-bit draws).
fn random_permutation(n: usize, prg: &mut Prg) -> Vec<usize> {
    let mut perm: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        // Bias of at most n / 2^128: negligible.
        let j = (prg.next_u128() % (i as u128 + 1)) as usize;
        perm.swap(i, j);
    }
    perm
}

fn encode_points(points: &[RistrettoPoint]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + points.len() * POINT_BYTES);
    out.extend_from_slice(&(points.len() as u64).to_le_bytes());
    for p in points {
        out.extend_from_slice(p.compress().as_bytes());
    }
    out
}

fn decode_points(bytes: &[u8], expected: Option<usize>) -> Result<Vec<RistrettoPoint>> {
    let bad_len = |got| {
        Error::Channel(tessera_mpc::Error::BadLength {
            expected: expected.map_or(8, |n| 8 + n * POINT_BYTES),
            got,
        })
    };
    let (head, body) = bytes.split_at_checked(8).ok_or_else(|| bad_len(bytes.len()))?;
    let mut len = [0u8; 8];
    len.copy_from_slice(head);
    let count = u64::from_le_bytes(len);
    let count_ok =
        usize::try_from(count).ok().filter(|&c| c.checked_mul(POINT_BYTES) == Some(body.len()));
    let count = match (count_ok, expected) {
        (Some(c), None) => c,
        (Some(c), Some(e)) if c == e => c,
        _ => return Err(bad_len(bytes.len())),
    };
    let mut points = Vec::with_capacity(count);
    for chunk in body.chunks_exact(POINT_BYTES) {
        let c = CompressedRistretto::from_slice(chunk).map_err(|_| bad_len(bytes.len()))?;
        let p = c.decompress().ok_or(Error::Channel(tessera_mpc::Error::NonCanonical {
            what: "Ristretto255 point",
        }))?;
        points.push(p);
    }
    Ok(points)
}

/// Step labels ([`Channel::begin_step`]) of the two rounds.
const STEP_BLIND: &str = "psi/blind";
const STEP_DOUBLE: &str = "psi/double";

/// Refuses a round-1 message in which the peer sends back any of our own blinded points.
///
/// An honest peer's points `b·H(y)` equal our `a·H(x)` only with negligible probability. A peer
/// that reflects our points and then our round-2 answer makes us believe that every one of our
/// rows is in the intersection. This check stops that naive reflection only: a malicious peer can
/// re-blind what it reflects (send `c·a·H(x)`), which no check can tell from honest points; the
/// protocol is semi-honest (see the module docs).
fn refuse_reflected(mine: &[u8], theirs: &[u8], peer: PartyId) -> Result<()> {
    let (Some(mine), Some(theirs)) = (mine.get(8..), theirs.get(8..)) else {
        return Ok(()); // a short message fails to decode right after
    };
    let ours: std::collections::HashSet<&[u8]> = mine.chunks_exact(POINT_BYTES).collect();
    if theirs.chunks_exact(POINT_BYTES).any(|c| ours.contains(c)) {
        return Err(Error::Channel(tessera_mpc::Error::Reflected { peer, step: STEP_BLIND }));
    }
    Ok(())
}

/// Runs ECDH-PSI with `peer` on this party's identifiers (`ids` must be distinct; duplicates
/// are refused, since they would make the alignment ambiguous).
///
/// Both parties call it at the same time; each gets the indices of its own rows that are in the
/// intersection, in the common order.
pub fn ecdh_psi<I: AsRef<[u8]>>(
    ch: &mut dyn Channel,
    peer: PartyId,
    ids: &[I],
) -> Result<PsiOutput> {
    if peer == ch.party() {
        return Err(Error::Misuse("PSI peer must be another party".into()));
    }
    let mut prg = Prg::from_entropy();
    let mut secret = random_scalar(&mut prg);

    let hashed: Vec<RistrettoPoint> = ids.iter().map(|id| hash_to_group(id.as_ref())).collect();
    {
        let mut seen = std::collections::HashSet::with_capacity(hashed.len());
        if let Some(i) = hashed.iter().position(|p| !seen.insert(p.compress().to_bytes())) {
            secret.zeroize();
            return Err(Error::Misuse(format!("duplicate identifier at row {i}")));
        }
    }

    // Round 1: our blinded points, shuffled, so the peer learns no positions.
    ch.begin_step(STEP_BLIND);
    let perm = random_permutation(hashed.len(), &mut prg);
    let blinded: Vec<RistrettoPoint> = perm.iter().map(|&i| hashed[i] * secret).collect();
    let mine = encode_points(&blinded);
    ch.send(peer, &mine)?;
    let raw = ch.recv(peer)?;
    if let Err(e) = refuse_reflected(&mine, &raw, peer) {
        secret.zeroize();
        return Err(e);
    }
    let theirs = decode_points(&raw, None)?;

    // Round 2: blind theirs again and return them in the order received.
    ch.begin_step(STEP_DOUBLE);
    let theirs_double: Vec<RistrettoPoint> = theirs.iter().map(|p| p * secret).collect();
    secret.zeroize();
    ch.send(peer, &encode_points(&theirs_double))?;
    let ours_double = decode_points(&ch.recv(peer)?, Some(hashed.len()))?;

    // Undo our shuffle: ours_double[k] belongs to our row perm[k].
    let peer_set: std::collections::HashSet<[u8; 32]> =
        theirs_double.iter().map(|p| p.compress().to_bytes()).collect();
    let mut common: Vec<([u8; 32], usize)> = ours_double
        .iter()
        .zip(&perm)
        .map(|(p, &row)| (p.compress().to_bytes(), row))
        .filter(|(key, _)| peer_set.contains(key))
        .collect();
    common.sort_unstable();
    // Distinct inputs give distinct double-blinded points; a repeated key means a cheating peer.
    let mut uniq: HashMap<[u8; 32], usize> = HashMap::with_capacity(common.len());
    for (key, row) in &common {
        if uniq.insert(*key, *row).is_some() {
            return Err(Error::Misuse("peer returned a repeated point".into()));
        }
    }
    Ok(PsiOutput {
        aligned_rows: common.into_iter().map(|(_, row)| row).collect(),
        peer_set_size: theirs.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_mpc::harness::run_in_memory;

    fn ids(range: std::ops::Range<u32>) -> Vec<String> {
        range.map(|i| format!("user-{i}")).collect()
    }

    #[test]
    fn returns_exactly_the_intersection_in_a_common_order() {
        // Party 0 holds users 0..300 in reverse order; party 1 holds 200..500 plus a few odd ones.
        let a: Vec<String> = ids(0..300).into_iter().rev().collect();
        let mut b = ids(200..500);
        b.push("someone-else".into());
        let runs = run_in_memory(2, |ch| {
            let (mine, peer) =
                if ch.party().index() == 0 { (&a, PartyId(1)) } else { (&b, PartyId(0)) };
            ecdh_psi(ch, peer, mine)
        });
        let out0 = runs[0].output.as_ref().unwrap();
        let out1 = runs[1].output.as_ref().unwrap();
        let got0: Vec<&String> = out0.aligned_rows.iter().map(|&i| &a[i]).collect();
        let got1: Vec<&String> = out1.aligned_rows.iter().map(|&i| &b[i]).collect();
        assert_eq!(got0, got1, "both parties see the same order");
        let mut expected: Vec<String> = ids(200..300);
        expected.sort();
        let mut got: Vec<String> = got0.into_iter().cloned().collect();
        got.sort();
        assert_eq!(got, expected, "exactly the intersection");
        assert_eq!(out0.peer_set_size, b.len());
        assert_eq!(out1.peer_set_size, a.len());
        // Two rounds each way: the blinded set, then the double-blinded one.
        assert_eq!(runs[0].stats.rounds, 2);
    }

    #[test]
    fn disjoint_and_empty_sets() {
        let a = ids(0..10);
        let b = ids(10..20);
        let empty: Vec<String> = Vec::new();
        let runs = run_in_memory(2, |ch| {
            let mine = if ch.party().index() == 0 { &a } else { &b };
            {
                let peer = PartyId(1 - ch.party().0);
                ecdh_psi(ch, peer, mine)
            }
        });
        assert!(runs.iter().all(|r| r.output.as_ref().unwrap().aligned_rows.is_empty()));
        let runs = run_in_memory(2, |ch| {
            let mine = if ch.party().index() == 0 { &a } else { &empty };
            {
                let peer = PartyId(1 - ch.party().0);
                ecdh_psi(ch, peer, mine)
            }
        });
        assert!(runs.iter().all(|r| r.output.as_ref().unwrap().aligned_rows.is_empty()));
    }

    #[test]
    fn a_peer_reflecting_our_points_is_refused() {
        use tessera_mpc::channel::adversary::{Action, Adversary, Rule};
        // Party 1 rushes: it reads party 0's blinded points and sends them back as its own, then
        // returns party 0's double-blinded answer as party 0's points. Unchecked, party 0 would
        // find every one of its rows in the intersection (party 1's ids are disjoint from its).
        let a = ids(0..20);
        let b = ids(100..120);
        let runs = run_in_memory(2, |ch| {
            if ch.party().index() == 0 {
                ecdh_psi(ch, PartyId(1), &a).map(|o| o.aligned_rows.len())
            } else {
                let rules = vec![
                    Rule::on(STEP_BLIND, Action::Reflect),
                    Rule::on(STEP_DOUBLE, Action::Reflect),
                ];
                let mut adv = Adversary::new(ch, rules);
                let _ = ecdh_psi(&mut adv, PartyId(0), &b);
                Ok(0)
            }
        });
        assert!(
            matches!(
                &runs[0].output,
                Err(Error::Channel(tessera_mpc::Error::Reflected { step: STEP_BLIND, .. }))
            ),
            "{:?}",
            runs[0].output
        );
    }

    #[test]
    fn refuses_duplicates_and_malformed_points() {
        let dup = vec!["x".to_string(), "y".into(), "x".into()];
        let runs = run_in_memory(2, |ch| {
            if ch.party().index() == 0 {
                ecdh_psi(ch, PartyId(1), &dup).map(|_| ())
            } else {
                Ok(())
            }
        });
        assert!(matches!(&runs[0].output, Err(Error::Misuse(m)) if m.contains("row 2")));
        let ids0 = ids(0..4);
        let runs = run_in_memory(2, |ch| {
            if ch.party().index() == 0 {
                ecdh_psi(ch, PartyId(1), &ids0).map(|_| ())
            } else {
                // A peer that sends bytes that are no Ristretto point where points belong.
                let mut bogus = 1u64.to_le_bytes().to_vec();
                bogus.extend_from_slice(&[0xff; 32]);
                ch.send(PartyId(0), &bogus)?;
                let _ = ch.recv(PartyId(0));
                Ok(())
            }
        });
        assert!(matches!(
            &runs[0].output,
            Err(Error::Channel(tessera_mpc::Error::NonCanonical { .. }))
        ));
    }
}
