//! Base VOLE from OT: COPEe with Wolverine's check, for the first extension's inputs.
//!
//! Follows Keller, Orsini and Scholl, "MASCOT" (CCS 2016), §3 (Figure 5, COPEe), as
//! Weng–Yang–Katz–Wang, "Wolverine" (S&P 2021), §3 use it for base sVOLE over F_p, with
//! Wolverine's check on a random combination (their Figure 3).
//!
//! Setup: ℓ = ⌈log2 p⌉ base OTs ([`crate::base`], bound to the session) in which the Δ holder
//! is the OT receiver choosing the bits `Δ_j` of Δ, once. Both sides key AES-CTR streams with
//! the OT keys: the sender holds `G(k_j^0), G(k_j^1)`, the Δ holder `G(k_j^{Δ_j})`.
//!
//! Extend `n` inputs `u` (the sender's): for every bit `j` the sender draws `t_j^b = G(k_j^b)`
//! as field elements and sends `τ_j = t_j^0 − t_j^1 − u` (ℓ field elements per VOLE); the Δ
//! holder sets `q_j = t_j^{Δ_j} + Δ_j·τ_j = t_j^0 − Δ_j·u`. With `k = Σ_j 2^j q_j` and
//! `m = Σ_j 2^j t_j^0`: `m = k + u·Δ`.
//!
//! Check (Wolverine Fig. 3): one extra VOLE masks it. After every `τ` is sent, the Δ holder
//! sends a fresh seed; `χ_i` are expanded from a hash of it bound to the session and the call;
//! the sender replies `X = Σ χ_i u_i + u_n`, `Z = Σ χ_i m_i + m_n` and the Δ holder checks
//! `Z = Σ χ_i k_i + k_n + X·Δ`. A sender that used different inputs in different bit positions
//! gets a correlation that is not linear in Δ and passes only by guessing the Δ bits its
//! deviation depends on: like KOS15's and MASCOT's check (MASCOT §3, Lemma; Wolverine §3), a
//! selective failure that leaks t bits of Δ with probability 2^-t of not being caught, plus
//! 1/p of luck for the linear combination. One try per Δ: a failure locks the object.
//! A cheating Δ holder has no message to corrupt: its only input is its OT choices, which
//! *define* `Δ = Σ_j 2^j Δ_j mod p`.

use tessera_mpc::{Channel, Field, PartyId, Prg, Seed, SessionId};

use super::wire::{ct_eq, hash128, put, recv_elems, wipe, wipe_vec};
use crate::base;
use crate::error::{Error, Result, recv_exact};

/// The step of the sender's COPEe corrections.
pub const COPE_STEP: &str = "ot/vole/cope";
/// The step of the base check: the Δ holder's seed, the sender's reply.
pub const BASE_CHECK_STEP: &str = "ot/vole/base-check";

fn bits<F: Field>() -> usize {
    F::MODULUS_BITS as usize
}

fn ot_session(sid: &SessionId) -> SessionId {
    sid.derive(b"tessera/ot/vole/cope-ot", &[])
}

fn chi<F: Field>(sid: &SessionId, counter: u64, seed: u128, n: usize) -> Vec<F> {
    let key = hash128(b"tessera/ot/vole/base-chi", sid, counter, &seed.to_le_bytes());
    F::random_vec(&mut Prg::from_seed(&Seed(key.to_le_bytes())), n)
}

/// The non-Δ side of COPEe: both streams of every bit.
pub(crate) struct CopeSender {
    streams: Vec<[Prg; 2]>,
}

/// The Δ-holding side of COPEe: Δ's bits (as 0/1 field elements) and the chosen streams.
pub(crate) struct CopeReceiver<F: Field> {
    delta: F,
    bits: Vec<F>,
    streams: Vec<Prg>,
}

impl<F: Field> Drop for CopeReceiver<F> {
    fn drop(&mut self) {
        wipe(&mut self.bits);
        self.delta = F::ZERO;
        std::hint::black_box(&self.delta);
    }
}

impl CopeSender {
    /// Runs the ℓ base OTs as OT sender.
    pub(crate) fn setup<F: Field, C: Channel + ?Sized>(
        ch: &mut C,
        peer: PartyId,
        sid: &SessionId,
        prg: &mut Prg,
    ) -> Result<Self> {
        let keys = base::send(ch, peer, bits::<F>(), &ot_session(sid), prg)?;
        let streams = keys
            .iter()
            .map(|[a, b]| {
                [Prg::from_seed(&Seed(a.to_le_bytes())), Prg::from_seed(&Seed(b.to_le_bytes()))]
            })
            .collect();
        Ok(Self { streams })
    }

    /// COPEe on the inputs `u`: sends the corrections, returns `m` (`m = k + u·Δ`).
    fn extend<F: Field, C: Channel + ?Sized>(
        &mut self,
        ch: &mut C,
        peer: PartyId,
        u: &[F],
    ) -> Result<Vec<F>> {
        ch.begin_step(COPE_STEP);
        let n = u.len();
        let (mut m, mut t0, mut t1) = (vec![F::ZERO; n], vec![F::ZERO; n], vec![F::ZERO; n]);
        let mut msg = Vec::with_capacity(n * F::BYTES);
        let (mut pow, two) = (F::ONE, F::from_u64(2));
        let mut sent = Ok(());
        for [s0, s1] in &mut self.streams {
            F::fill_random(s0, &mut t0);
            F::fill_random(s1, &mut t1);
            for ((a, b), x) in t1.iter_mut().zip(&t0).zip(u) {
                *a = *b - *a - *x;
            }
            msg.clear();
            put(&mut msg, &t1);
            sent = ch.send(peer, &msg);
            if sent.is_err() {
                break;
            }
            for (mi, a) in m.iter_mut().zip(&t0) {
                *mi += pow * *a;
            }
            pow *= two;
        }
        wipe(&mut t0);
        wipe(&mut t1);
        msg.fill(0);
        match sent {
            Ok(()) => Ok(m),
            Err(e) => {
                wipe_vec(m);
                Err(e.into())
            }
        }
    }

    /// `n` random base VOLEs `(u, m)`, checked by the Δ holder with one extra VOLE.
    pub(crate) fn random<F: Field, C: Channel + ?Sized>(
        &mut self,
        ch: &mut C,
        peer: PartyId,
        sid: &SessionId,
        counter: u64,
        n: usize,
        prg: &mut Prg,
    ) -> Result<(Vec<F>, Vec<F>)> {
        let mut u = F::random_vec(prg, n + 1);
        let mut m = self.extend(ch, peer, &u)?;
        ch.begin_step(BASE_CHECK_STEP);
        let seed = match recv_exact(ch, peer, 16) {
            Ok(b) => u128::from_le_bytes(b.try_into().unwrap_or([0; 16])),
            Err(e) => {
                wipe(&mut u);
                wipe(&mut m);
                return Err(e);
            }
        };
        let chi = chi::<F>(sid, counter, seed, n);
        let x: F = chi.iter().zip(&u).map(|(c, v)| *c * *v).sum::<F>() + u[n];
        let z: F = chi.iter().zip(&m).map(|(c, v)| *c * *v).sum::<F>() + m[n];
        let mut reply = Vec::with_capacity(2 * F::BYTES);
        put(&mut reply, &[x, z]);
        if let Err(e) = ch.send(peer, &reply) {
            wipe(&mut u);
            wipe(&mut m);
            return Err(e.into());
        }
        u.truncate(n);
        m.truncate(n);
        Ok((u, m))
    }
}

impl<F: Field> CopeReceiver<F> {
    /// Runs the ℓ base OTs as OT receiver choosing the bits of `delta`.
    pub(crate) fn setup<C: Channel + ?Sized>(
        ch: &mut C,
        peer: PartyId,
        delta: F,
        sid: &SessionId,
        prg: &mut Prg,
    ) -> Result<Self> {
        let d = delta.to_u128();
        let choices: Vec<bool> = (0..bits::<F>()).map(|j| (d >> j) & 1 == 1).collect();
        let keys = base::receive(ch, peer, &choices, &ot_session(sid), prg)?;
        let bits = choices.iter().map(|&b| F::from_u64(u64::from(b))).collect();
        let streams = keys.iter().map(|k| Prg::from_seed(&Seed(k.to_le_bytes()))).collect();
        Ok(Self { delta, bits, streams })
    }

    fn extend<C: Channel + ?Sized>(
        &mut self,
        ch: &mut C,
        peer: PartyId,
        n: usize,
    ) -> Result<Vec<F>> {
        ch.begin_step(COPE_STEP);
        let (mut k, mut t) = (vec![F::ZERO; n], vec![F::ZERO; n]);
        let (mut pow, two) = (F::ONE, F::from_u64(2));
        for (s, bit) in self.streams.iter_mut().zip(&self.bits) {
            F::fill_random(s, &mut t);
            let tau = match recv_elems::<F, C>(ch, peer, n) {
                Ok(v) => v,
                Err(e) => {
                    wipe(&mut t);
                    wipe(&mut k);
                    return Err(e);
                }
            };
            for ((ki, ti), x) in k.iter_mut().zip(&t).zip(&tau) {
                *ki += pow * (*ti + *bit * *x);
            }
            pow *= two;
        }
        wipe(&mut t);
        Ok(k)
    }

    /// `n` random base VOLEs: the keys `k`; fails with [`Error::VoleCheck`] if the sender's
    /// corrections were inconsistent.
    pub(crate) fn random<C: Channel + ?Sized>(
        &mut self,
        ch: &mut C,
        peer: PartyId,
        sid: &SessionId,
        counter: u64,
        n: usize,
        prg: &mut Prg,
    ) -> Result<Vec<F>> {
        let mut k = self.extend(ch, peer, n + 1)?;
        ch.begin_step(BASE_CHECK_STEP);
        let seed = prg.next_u128();
        let checked = ch.send(peer, &seed.to_le_bytes()).map_err(Error::from).and_then(|()| {
            let xz = recv_elems::<F, C>(ch, peer, 2)?;
            let chi = chi::<F>(sid, counter, seed, n);
            let y: F = chi.iter().zip(&k).map(|(c, v)| *c * *v).sum::<F>() + k[n];
            let want = y + xz[0] * self.delta;
            if ct_eq(want, xz[1]) { Ok(()) } else { Err(Error::VoleCheck("base VOLE")) }
        });
        if let Err(e) = checked {
            wipe(&mut k);
            return Err(e);
        }
        k.truncate(n);
        Ok(k)
    }
}
