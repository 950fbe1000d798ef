//! Regular-noise multi-point sVOLE: `t` single-point sVOLEs from GGM trees, with one batched
//! malicious consistency check.
//!
//! Follows Wolverine (Weng–Yang–Katz–Wang, S&P 2021), §4, Figure 5 (Π_spsVOLE) and its batched
//! check for `t` executions (§4, "batching the consistency checks"). Per extension, tree `j`
//! (of `2^h` leaves, block `j` of the noise) uses base VOLE `j` (`c_j = b_j + a_j·Δ`) and the
//! whole batch one more, `(x*, z*)` / `y*`:
//!
//! 1. GGM OTs: `t·h` random OTs from the OT extension, the Δ holder as OT sender. The other
//!    side's random choice bit `r` at level `l` of tree `j` picks the level sum it learns, so
//!    the path bit is `α_{j,l} = 1 − r` and `α_j` is uniform — no choice bits are sent.
//! 2. The non-Δ side draws `β_j ≠ 0` and sends `a'_j = β_j − a_j`; the Δ holder sets
//!    `γ_j = b_j − a'_j·Δ`, so `c_j = γ_j + β_j·Δ`.
//! 3. The Δ holder expands tree `j` from a fresh root to leaves `v_{j,i}` (as field elements),
//!    sends both level sums of every level masked with the two OT messages, and
//!    `d_j = γ_j − Σ_i v_{j,i}`. The other side rebuilds every leaf but `α_j` (module
//!    [`super::ggm`]) and sets `w_{j,α_j} = c_j − d_j − Σ_{i≠α_j} v_{j,i}`, so that
//!    `w = v + u·Δ` with `u = Σ_j β_j·e_{j·2^h + α_j}`.
//! 4. Check: the non-Δ side sends a fresh seed `s`, from which (hashed with the session and
//!    the extension's counter) both get `r`, `χ_i = r^(n−1−i)`; it also sends
//!    `x' = Σ_j χ_{pos_j}·β_j − x*`. The Δ holder computes `V_B = Σ χ_i v_i − (y* − Δ·x')`, the
//!    other side `V_A = Σ χ_i w_i − z*`; they compare with an equality test in which the Δ
//!    holder commits to `V_B` first (bound to session, party, step and counter), then sees
//!    `V_A`, and opens only if they are equal (otherwise it sends an empty "mismatch" frame).
//!
//! Why this order. A Δ holder that malformed a tree, sent a wrong `d_j`, or used a Δ' ≠ Δ in
//! steps 2–4 (two different Δs) gives the other side errors `e_i` fixed before `r` is drawn; the
//! check passes only if `Σ χ_i e_i` hits the offset it committed to: a predicate on the `α_j`
//! (the selective-failure guess Wolverine's F_spsVOLE allows) or luck of `n/p` (degree `n`
//! polynomial in `r`; `n/p < 2^-100` for every parameter set here). It commits before it sees
//! `V_A`, so learning `V_A` cannot help it pass. A non-Δ side that sent a wrong `x'` makes
//! `V_B = V_A + ε·Δ`: it must guess `ε·Δ` (probability `1/p`), and `V_B` is never opened to it
//! unless equal to its own `V_A`, so no Δ-dependent value leaks. Statistical security: 2^-64
//! is met with a wide margin (`≥ 2^-100`).

use tessera_mpc::commit::{self, Binding, Commitment, Opening};
use tessera_mpc::{Channel, Field, PartyId, Prg, SessionId};

use super::ggm;
use super::params::LpnParams;
use super::wire::{ct_eq, get, hash128, poly_coeff, poly_hash, put, recv_elems, wipe, wipe_vec};
use crate::block::load;
use crate::error::{Error, Result, recv_exact};
use crate::softspoken;

/// The step of the non-Δ side's `a'` corrections.
pub const SPVOLE_STEP: &str = "ot/vole/spvole";
/// The step of the Δ holder's masked GGM level sums and `d` corrections.
pub const GGM_STEP: &str = "ot/vole/ggm";
/// The step of the batched consistency check (seed and `x'`, commitment, `V_A`, opening).
pub const CHECK_STEP: &str = "ot/vole/check";

/// What one extension is bound to.
pub(crate) struct Ctx<'a> {
    pub(crate) sid: &'a SessionId,
    pub(crate) counter: u64,
    pub(crate) sender: PartyId,
    pub(crate) receiver: PartyId,
}

impl Ctx<'_> {
    fn binding(&self) -> Binding<'_> {
        Binding {
            session: self.sid,
            committer: self.receiver,
            step: CHECK_STEP,
            counter: self.counter,
        }
    }

    fn challenge<F: Field>(&self, seed: u128) -> F {
        F::from_u128(hash128(
            b"tessera/ot/vole/spvole-chi",
            self.sid,
            self.counter,
            &seed.to_le_bytes(),
        ))
    }
}

/// Deviations a test can make the Δ holder commit (all off in normal use).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Cheat<F> {
    /// Use this Δ' instead of Δ in the single-point steps (a Δ holder with two Δs).
    pub(crate) delta: Option<F>,
    /// Open `V_B` even when it differs from `V_A` (a Δ holder that lies about the check).
    pub(crate) open_anyway: bool,
}

fn nonzero<F: Field>(prg: &mut Prg) -> F {
    loop {
        let x = F::random(prg);
        if x != F::ZERO {
            return x;
        }
    }
}

/// The non-Δ side: returns the noise (position, β) of each tree and the dense `w`.
pub(crate) fn send<F: Field, C: Channel + ?Sized>(
    ch: &mut C,
    cx: &Ctx<'_>,
    lp: &LpnParams,
    base_u: &[F],
    base_m: &[F],
    ot: &mut softspoken::Receiver,
    prg: &mut Prg,
) -> Result<(Vec<(usize, F)>, Vec<F>)> {
    let (t, h, n) = (lp.t, lp.log_leaves as usize, lp.n);
    let leaves = 1usize << h;
    let peer = cx.receiver;
    let (bits, msgs) = ot.random(ch, t * h)?;

    ch.begin_step(SPVOLE_STEP);
    let mut beta: Vec<F> = (0..t).map(|_| nonzero(prg)).collect();
    let corr: Vec<F> = beta.iter().zip(base_u).map(|(b, a)| *b - *a).collect();
    let mut msg = Vec::with_capacity(t * F::BYTES);
    put(&mut msg, &corr);
    ch.send(peer, &msg)?;

    ch.begin_step(GGM_STEP);
    let frame = recv_exact(ch, peer, 32 * t * h + t * F::BYTES)?;
    let d: Vec<F> = get(&frame[32 * t * h..], t)?;
    let mut w = vec![F::ZERO; n];
    let mut noise = Vec::with_capacity(t);
    let (mut blk, mut scratch, mut known) = (vec![0u128; leaves], Vec::new(), vec![0u128; h]);
    for j in 0..t {
        let mut alpha = 0usize;
        for (l, kn) in known.iter_mut().enumerate() {
            let o = j * h + l;
            let r = usize::from(bits[o]);
            alpha |= (1 - r) << (h - 1 - l);
            *kn = load(&frame, 2 * o + r) ^ msgs[o];
        }
        ggm::punctured(alpha, &known, &mut blk, &mut scratch);
        let wj = &mut w[j * leaves..(j + 1) * leaves];
        let mut sum = F::ZERO;
        for (x, b) in wj.iter_mut().zip(&blk) {
            *x = F::from_u128(*b);
            sum += *x;
        }
        // Leaf α was 0, so `sum` is over the other leaves.
        wj[alpha] = base_m[j] - d[j] - sum;
        noise.push((j * leaves + alpha, beta[j]));
    }
    use zeroize::Zeroize;
    blk.zeroize();
    known.zeroize();

    ch.begin_step(CHECK_STEP);
    let seed = prg.next_u128();
    let r: F = cx.challenge(seed);
    let x_prime = noise.iter().map(|(p, b)| poly_coeff(r, n, *p) * *b).sum::<F>() - base_u[t];
    let mut msg = seed.to_le_bytes().to_vec();
    put(&mut msg, &[x_prime]);
    let checked = ch.send(peer, &msg).map_err(Error::from).and_then(|()| {
        let v_a = poly_hash(&w, r) - base_m[t];
        let com = recv_exact(ch, peer, 32)?;
        let mut out = Vec::with_capacity(F::BYTES);
        put(&mut out, &[v_a]);
        ch.send(peer, &out)?;
        let reply = ch.recv(peer)?;
        if reply.is_empty() {
            return Err(Error::VoleCheck("single-point VOLE"));
        }
        if reply.len() != F::BYTES + 16 {
            return Err(Error::BadMessage { expected: F::BYTES + 16, got: reply.len() });
        }
        let v_b: F = get(&reply[..F::BYTES], 1)?[0];
        let mut c = [0u8; 32];
        c.copy_from_slice(&com);
        let mut o = [0u8; 16];
        o.copy_from_slice(&reply[F::BYTES..]);
        commit::verify(&cx.binding(), &Commitment(c), &reply[..F::BYTES], &Opening(o))
            .map_err(|_| Error::CommitmentMismatch)?;
        if ct_eq(v_a, v_b) { Ok(()) } else { Err(Error::VoleCheck("single-point VOLE")) }
    });
    wipe(&mut beta);
    if let Err(e) = checked {
        wipe_vec(w);
        return Err(e);
    }
    Ok((noise, w))
}

/// The Δ holder: returns the dense `v` (`w = v + u·Δ`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn receive<F: Field, C: Channel + ?Sized>(
    ch: &mut C,
    cx: &Ctx<'_>,
    lp: &LpnParams,
    delta: F,
    base_k: &[F],
    ot: &mut softspoken::Sender,
    prg: &mut Prg,
    cheat: Cheat<F>,
) -> Result<Vec<F>> {
    let (t, h, n) = (lp.t, lp.log_leaves as usize, lp.n);
    let leaves = 1usize << h;
    let peer = cx.sender;
    let delta_sp = cheat.delta.unwrap_or(delta);
    let pairs = ot.random(ch, t * h)?;

    ch.begin_step(SPVOLE_STEP);
    let corr: Vec<F> = recv_elems::<F, C>(ch, peer, t)?;

    ch.begin_step(GGM_STEP);
    let mut v = vec![F::ZERO; n];
    let mut frame = Vec::with_capacity(32 * t * h + t * F::BYTES);
    let mut d = Vec::with_capacity(t);
    let (mut blk, mut scratch, mut sums) = (vec![0u128; leaves], Vec::new(), Vec::new());
    for j in 0..t {
        sums.clear();
        ggm::full(prg.next_u128(), &mut blk, &mut scratch, &mut sums);
        for (l, s) in sums.iter().enumerate() {
            let [m0, m1] = pairs[j * h + l];
            frame.extend_from_slice(&(s[0] ^ m0).to_le_bytes());
            frame.extend_from_slice(&(s[1] ^ m1).to_le_bytes());
        }
        let vj = &mut v[j * leaves..(j + 1) * leaves];
        let mut sum = F::ZERO;
        for (x, b) in vj.iter_mut().zip(&blk) {
            *x = F::from_u128(*b);
            sum += *x;
        }
        d.push(base_k[j] - corr[j] * delta_sp - sum);
    }
    use zeroize::Zeroize;
    blk.zeroize();
    sums.zeroize();
    put(&mut frame, &d);
    let sent = ch.send(peer, &frame);
    frame.zeroize();
    if let Err(e) = sent {
        wipe_vec(v);
        return Err(e.into());
    }

    ch.begin_step(CHECK_STEP);
    let checked = (|| {
        let msg = recv_exact(ch, peer, 16 + F::BYTES)?;
        let mut s = [0u8; 16];
        s.copy_from_slice(&msg[..16]);
        let x_prime: F = get(&msg[16..], 1)?[0];
        let r: F = cx.challenge(u128::from_le_bytes(s));
        let v_b = poly_hash(&v, r) - (base_k[t] - delta_sp * x_prime);
        let enc = F::encode_slice(&[v_b]);
        let (com, open) = commit::commit(&cx.binding(), &enc, prg);
        ch.send(peer, &com.0)?;
        let v_a: F = recv_elems::<F, C>(ch, peer, 1)?[0];
        let equal = ct_eq(v_a, v_b);
        if equal || cheat.open_anyway {
            let mut reply = enc.clone();
            reply.extend_from_slice(&open.0);
            ch.send(peer, &reply)?;
        } else {
            ch.send(peer, &[])?;
        }
        if equal { Ok(()) } else { Err(Error::VoleCheck("single-point VOLE")) }
    })();
    if let Err(e) = checked {
        wipe_vec(v);
        return Err(e);
    }
    Ok(v)
}
