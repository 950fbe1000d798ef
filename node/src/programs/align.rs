//! Aligning the rows of 2 or more parties on the identifiers they all hold, with two-party
//! ECDH-PSI ([`tessera_protocols::psi::ecdh_psi`], Huberman–Franklin–Hogg, EC 1999, §3) between a
//! designated party (party 0) and each other party.
//!
//! 1. Party 0 runs ECDH-PSI with party 1, then party 2, …; each pair gets the indices of its rows
//!    in their pairwise intersection, in an order both share (the pseudorandom order of the
//!    double-blinded points).
//! 2. Party 0 intersects those: the global intersection G is its rows present in every pairwise
//!    intersection, ordered as in its intersection with party 1 (pseudorandom, so G's order says
//!    nothing about party 0's file order).
//! 3. Party 0 sends each party p the positions of G's rows in their pairwise common order; p maps
//!    them to its own rows.
//!
//! **What it reveals.** With 2 parties: exactly the intersection (its identifiers) and both set
//! sizes, to both. With 3 or more: every party learns the global intersection and the size of
//! party 0's set; party p also learns which of its identifiers party 0 holds (their pairwise
//! intersection); party 0 learns every pairwise intersection with itself and every set size.
//! The PSI is secure against semi-honest parties only (a malicious party could probe chosen
//! identifiers, and party 0 could misalign rows); what runs after it on SPDZ is malicious-secure
//! for the rows it is given.

use tessera_mpc::{Channel, PartyId};
use tessera_protocols::psi::ecdh_psi;

use crate::error::{Error, Result};

/// This party's rows of the global intersection, in the order every party shares.
pub fn align_all<I: AsRef<[u8]>>(ch: &mut dyn Channel, ids: &[I]) -> Result<Vec<usize>> {
    let n = ch.num_parties();
    let me = ch.party();
    if me.index() != 0 {
        let pair = ecdh_psi(ch, PartyId(0), ids)?;
        let raw = ch.recv(PartyId(0))?;
        if raw.len() % 4 != 0 || raw.len() / 4 > pair.aligned_rows.len() {
            return Err(Error::invalid("peer message", "alignment positions"));
        }
        let mut seen = vec![false; pair.aligned_rows.len()];
        let mut rows = Vec::with_capacity(raw.len() / 4);
        for c in raw.chunks_exact(4) {
            let k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize;
            match (pair.aligned_rows.get(k), seen.get_mut(k)) {
                (Some(&row), Some(s)) if !*s => {
                    *s = true;
                    rows.push(row);
                }
                _ => return Err(Error::invalid("peer message", "alignment position")),
            }
        }
        return Ok(rows);
    }
    // Party 0: pairwise PSI with everyone, in party order.
    let mut pairs = Vec::with_capacity(n.saturating_sub(1));
    for p in 1..n {
        pairs.push(ecdh_psi(ch, crate::pid(p), ids)?.aligned_rows);
    }
    // position[p][row] = Some(k): our row `row` is at position k of the intersection with p+1.
    let position: Vec<Vec<Option<u32>>> = pairs
        .iter()
        .map(|rows| {
            let mut pos = vec![None; ids.len()];
            for (k, &r) in rows.iter().enumerate() {
                if let Some(slot) = pos.get_mut(r) {
                    *slot = u32::try_from(k).ok();
                }
            }
            pos
        })
        .collect();
    let global: Vec<usize> = pairs
        .first()
        .map(|first| {
            first
                .iter()
                .copied()
                .filter(|&r| position.iter().all(|pos| pos.get(r).copied().flatten().is_some()))
                .collect()
        })
        .unwrap_or_default();
    for (i, pos) in position.iter().enumerate() {
        let msg: Vec<u8> = global
            .iter()
            .filter_map(|&r| pos.get(r).copied().flatten())
            .flat_map(u32::to_le_bytes)
            .collect();
        ch.send(crate::pid(i + 1), &msg)?;
    }
    Ok(global)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_mpc::harness;

    #[test]
    fn three_parties_get_the_common_ids_in_one_order() {
        let sets: Vec<Vec<String>> = vec![
            (0..40).map(|i| format!("u{i}")).collect(),
            (20..70).rev().map(|i| format!("u{i}")).collect(),
            (0..100).filter(|i| i % 2 == 0).map(|i| format!("u{i}")).collect(),
        ];
        let runs = harness::run_in_memory(3, |ch: &mut dyn Channel| {
            let mine = &sets[ch.party().index()];
            align_all(ch, mine)
        });
        let picked: Vec<Vec<&String>> = runs
            .iter()
            .enumerate()
            .map(|(p, r)| r.output.as_ref().unwrap().iter().map(|&i| &sets[p][i]).collect())
            .collect();
        let mut expect: Vec<String> =
            (20..40).filter(|i| i % 2 == 0).map(|i| format!("u{i}")).collect();
        assert_eq!(picked[0], picked[1]);
        assert_eq!(picked[0], picked[2]);
        let mut got: Vec<String> = picked[0].iter().map(|s| (*s).clone()).collect();
        got.sort();
        expect.sort();
        assert_eq!(got, expect);
    }
}
