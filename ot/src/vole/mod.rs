//! Malicious random and chosen-input VOLE over a prime field (the SPDZ field `Fp127`).
//!
//! Correlation: the [`Receiver`] holds Δ (in SPDZ its MAC-key share) and keys `k_i`; the
//! [`Sender`] holds `u_i` and `m_i = k_i + u_i·Δ`. [`Sender::random`] / [`Receiver::random`]
//! give uniformly random `u_i`; [`Sender::chosen`] / [`Receiver::chosen`] give the sender's own
//! `x_i` at one field element sent per value (`x_i − u_i` on a random VOLE).
//!
//! Construction: Wolverine's sVOLE extension over F_p (Weng–Yang–Katz–Wang, "Wolverine: Fast,
//! Scalable, and Communication-Efficient Zero-Knowledge Proofs for Boolean and Arithmetic
//! Circuits", IEEE S&P 2021, §3–§4):
//! - base sVOLE from OT: COPEe (Keller–Orsini–Scholl, MASCOT, CCS 2016, §3 Fig. 5) with
//!   Wolverine's random-combination check (module `base`), only for the first level's inputs;
//! - single-point sVOLE from a GGM tree whose OTs come from SoftSpokenOT (k = 4,
//!   [`crate::softspoken`], random OT: the punctured point is the receiver's random choices),
//!   `t` of them per extension for regular noise, with Wolverine's batched malicious
//!   consistency check (module `spvole`);
//! - the primal LPN encoding `y = x·A + e` with a d-local code, `d = 10` (module `lpn`);
//! - bootstrapping: each extension of a level with parameters `(n, k, t)` consumes `k + t + 1`
//!   VOLEs and its first outputs are reserved for the next one; the rest are served.
//!
//! Parameters ([`VoleParams::wolverine`], the default; Wolverine's primal-LPN table for 128-bit
//! security, the same set as emp-zk's `fp_default`):
//!
//! | level | n          | k       | t     | tree leaves | from                 |
//! |-------|------------|---------|-------|-------------|----------------------|
//! | 0     | 9 600      | 1 220   | 600   | 2^4         | 1 821 COPEe VOLEs    |
//! | 1     | 166 400    | 5 060   | 2 600 | 2^6         | level 0              |
//! | 2+    | 10 168 320 | 158 000 | 4 965 | 2^11        | level 1, then itself |
//!
//! Each level-2 extension serves 10 005 354 VOLEs. Wolverine estimated these sets over
//! F_{2^61−1}; the attacks its estimate covers (Gaussian elimination, information-set decoding,
//! low-weight parity checks, Pooled Gauss) do not get cheaper over a larger field, so they carry
//! over to p = 2^127 − 1. Later algebraic attacks on *regular* noise (Briaud–Øygarden,
//! Eurocrypt 2023) lower some regular-LPN estimates by a few bits; this module does not
//! re-estimate. [`VoleParams::insecure_for_tests`] is a toy set for fast tests only.
//!
//! Security: malicious (either party), κ = 128 computational (LPN, AES as an ideal cipher for
//! the GGM PRG and the OT hashes), statistical error ≤ 2^-64 per check: the single-point check
//! fails to catch an error with probability ≤ n/p < 2^-100; the base check with 1/p, plus the
//! selective failures both papers allow (a cheating Δ holder may learn a predicate on the noise
//! positions, a cheating sender t bits of Δ with probability 2^-t of not being caught). Those
//! allow one try: after any failed call both objects are locked (later calls return
//! [`crate::Error::Aborted`]); a failed check ([`crate::Error::VoleCheck`]) proves that the peer
//! cheated. Everything is bound to the caller's session: the id `session.derive("tessera/ot/
//! vole/<field>", [sender, receiver])` seeds the base OTs, the SoftSpoken setup, the challenges,
//! the commitment and the LPN code; both sides count extensions in lockstep.
//!
//! Steps marked on the channel: `"ot/base"` and the SoftSpoken steps at setup,
//! [`COPE_STEP`] and [`BASE_CHECK_STEP`] (setup), then per extension the OT-extension steps,
//! [`SPVOLE_STEP`], [`GGM_STEP`], [`CHECK_STEP`], and per chosen call [`CHOSEN_STEP`].
//!
//! Side channel: the non-Δ side's GGM reconstruction indexes by its secret noise position.
//!
//! ```
//! use tessera_mpc::{Channel, Fp127, PartyId, Prg, Ring, SessionId, harness};
//! use tessera_ot::vole::{self, VoleParams};
//!
//! let runs = harness::run_in_memory(2, |ch: &mut dyn Channel| -> tessera_ot::Result<_> {
//!     let mut prg = Prg::from_entropy();
//!     let session = SessionId::agree(ch, b"example")?;
//!     let params = VoleParams::insecure_for_tests(); // fast for the example only
//!     if ch.party() == PartyId(0) {
//!         let mut s = vole::Sender::<Fp127>::setup_with(ch, PartyId(1), &session, &mut prg, params)?;
//!         let m = s.chosen(ch, &[Fp127::from_u64(7)])?;
//!         Ok((m[0], Fp127::ZERO))
//!     } else {
//!         let delta = Fp127::random(&mut prg);
//!         let mut r = vole::Receiver::setup_with(ch, PartyId(0), delta, &session, &mut prg, params)?;
//!         let k = r.chosen(ch, 1)?;
//!         Ok((k[0], delta))
//!     }
//! });
//! let (m, _) = runs[0].output.as_ref().unwrap();
//! let (k, delta) = runs[1].output.as_ref().unwrap();
//! assert_eq!(*m, *k + Fp127::from_u64(7) * *delta);
//! ```

mod base;
mod ggm;
mod lpn;
mod params;
mod spvole;
mod wire;

use tessera_mpc::{Channel, Field, PartyId, Prg, SessionId};

pub use base::{BASE_CHECK_STEP, COPE_STEP};
pub use params::{LpnParams, VoleParams};
pub use spvole::{CHECK_STEP, GGM_STEP, SPVOLE_STEP};

use crate::error::{Error, Result};
use crate::softspoken;
use wire::{FRAME_ELEMS, hash128, put, recv_elems, wipe, wipe_vec};

/// The step of the sender's corrections `x_i − u_i` in chosen-input VOLE.
pub const CHOSEN_STEP: &str = "ot/vole/chosen";

/// SoftSpokenOT's parameter for the GGM trees' OTs.
const SOFTSPOKEN_K: usize = 4;

fn protocol_id<F: Field>(session: &SessionId, sender: PartyId, receiver: PartyId) -> SessionId {
    let label = [b"tessera/ot/vole/".as_slice(), F::NAME.as_bytes()].concat();
    session.derive(&label, &[sender, receiver])
}

fn ggm_ot_session(sid: &SessionId) -> SessionId {
    sid.derive(b"tessera/ot/vole/ggm-ot", &[])
}

fn lpn_key(sid: &SessionId, counter: u64) -> u128 {
    hash128(b"tessera/ot/vole/lpn", sid, counter, &[])
}

fn check_peer(me: PartyId, peer: PartyId) -> Result<()> {
    if me == peer { Err(Error::Misuse("a VOLE peer must be another party")) } else { Ok(()) }
}

/// Refuses a locked object.
fn live(aborted: bool) -> Result<()> {
    if aborted { Err(Error::Aborted) } else { Ok(()) }
}

/// Locks the object on any error.
fn seal<T>(aborted: &mut bool, r: Result<T>) -> Result<T> {
    if r.is_err() {
        *aborted = true;
    }
    r
}

/// The Δ holder: holds Δ and the keys `k_i`.
pub struct Receiver<F: Field> {
    me: PartyId,
    peer: PartyId,
    sid: SessionId,
    delta: F,
    params: VoleParams,
    ot: softspoken::Sender,
    level: usize,
    counter: u64,
    /// Keys of the VOLEs the next extension consumes.
    reserve: Vec<F>,
    buf: Vec<F>,
    pos: usize,
    prg: Prg,
    aborted: bool,
    pub(crate) cheat: spvole::Cheat<F>,
}

/// The non-Δ side: holds `u_i` and `m_i = k_i + u_i·Δ`.
pub struct Sender<F: Field> {
    me: PartyId,
    peer: PartyId,
    sid: SessionId,
    params: VoleParams,
    ot: softspoken::Receiver,
    level: usize,
    counter: u64,
    reserve_u: Vec<F>,
    reserve_m: Vec<F>,
    buf_u: Vec<F>,
    buf_m: Vec<F>,
    pos: usize,
    prg: Prg,
    aborted: bool,
}

impl<F: Field> Receiver<F> {
    /// Sets up with `peer` (the [`Sender`]) under Δ = `delta` and the default (128-bit)
    /// parameters: base OTs, SoftSpokenOT, the base VOLEs and their check.
    pub fn setup<C: Channel + ?Sized>(
        ch: &mut C,
        peer: PartyId,
        delta: F,
        session: &SessionId,
        prg: &mut Prg,
    ) -> Result<Self> {
        Self::setup_with(ch, peer, delta, session, prg, VoleParams::default())
    }

    /// [`Receiver::setup`] with explicit parameters (both sides must pass the same).
    pub fn setup_with<C: Channel + ?Sized>(
        ch: &mut C,
        peer: PartyId,
        delta: F,
        session: &SessionId,
        prg: &mut Prg,
        params: VoleParams,
    ) -> Result<Self> {
        let me = ch.party();
        check_peer(me, peer)?;
        let sid = protocol_id::<F>(session, peer, me);
        let mut cope = base::CopeReceiver::setup(ch, peer, delta, &sid, prg)?;
        let ot = softspoken::Sender::setup(ch, peer, SOFTSPOKEN_K, &ggm_ot_session(&sid), prg)?;
        let reserve = cope.random(ch, peer, &sid, 0, params.base_count(), prg)?;
        Ok(Self {
            me,
            peer,
            sid,
            delta,
            params,
            ot,
            level: 0,
            counter: 0,
            reserve,
            buf: Vec::new(),
            pos: 0,
            prg: Prg::from_seed(&prg.next_seed()),
            aborted: false,
            cheat: spvole::Cheat::default(),
        })
    }

    /// The global key Δ.
    pub fn delta(&self) -> F {
        self.delta
    }

    /// `n` random VOLEs: returns the keys `k_i` (the sender gets random `u_i` and
    /// `m_i = k_i + u_i·Δ`). The peer must call [`Sender::random`] with the same `n`.
    pub fn random<C: Channel + ?Sized>(&mut self, ch: &mut C, n: usize) -> Result<Vec<F>> {
        live(self.aborted)?;
        let r = self.take(ch, n);
        seal(&mut self.aborted, r)
    }

    /// `n` chosen-input VOLEs: returns `k_i` with `m_i = k_i + x_i·Δ` for the sender's `x_i`.
    /// The peer must call [`Sender::chosen`] with `n` values.
    pub fn chosen<C: Channel + ?Sized>(&mut self, ch: &mut C, n: usize) -> Result<Vec<F>> {
        live(self.aborted)?;
        let r = self.chosen_unguarded(ch, n);
        seal(&mut self.aborted, r)
    }

    fn chosen_unguarded<C: Channel + ?Sized>(&mut self, ch: &mut C, n: usize) -> Result<Vec<F>> {
        let mut k = self.take(ch, n)?;
        ch.begin_step(CHOSEN_STEP);
        for chunk in k.chunks_mut(FRAME_ELEMS) {
            match recv_elems::<F, C>(ch, self.peer, chunk.len()) {
                Ok(delta_x) => {
                    for (ki, dx) in chunk.iter_mut().zip(&delta_x) {
                        *ki -= *dx * self.delta;
                    }
                }
                Err(e) => {
                    wipe_vec(k);
                    return Err(e);
                }
            }
        }
        Ok(k)
    }

    fn take<C: Channel + ?Sized>(&mut self, ch: &mut C, n: usize) -> Result<Vec<F>> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            if self.pos == self.buf.len() {
                if let Err(e) = self.extend(ch) {
                    wipe_vec(out);
                    return Err(e);
                }
            }
            let m = (n - out.len()).min(self.buf.len() - self.pos);
            let served = &mut self.buf[self.pos..self.pos + m];
            out.extend_from_slice(served);
            wipe(served);
            self.pos += m;
        }
        Ok(out)
    }

    /// One extension: consumes the reserve, refills it and the buffer.
    fn extend<C: Channel + ?Sized>(&mut self, ch: &mut C) -> Result<()> {
        let lp = self.params.level(self.level);
        let next = self.params.level(self.level + 1).consumed();
        let cx = spvole::Ctx {
            sid: &self.sid,
            counter: self.counter,
            sender: self.peer,
            receiver: self.me,
        };
        let base = std::mem::take(&mut self.reserve);
        let (x, masks) = base.split_at(lp.k);
        let mut v = spvole::receive(
            ch,
            &cx,
            &lp,
            self.delta,
            masks,
            &mut self.ot,
            &mut self.prg,
            self.cheat,
        )?;
        lpn::encode(lpn_key(&self.sid, self.counter), [x], [&mut v[..]]);
        wipe_vec(base);
        let served = v.split_off(next);
        self.reserve = v;
        wipe_vec(std::mem::replace(&mut self.buf, served));
        self.pos = 0;
        self.level += 1;
        self.counter += 1;
        Ok(())
    }
}

impl<F: Field> Sender<F> {
    /// Sets up with `peer` (the [`Receiver`], the Δ holder) under the default (128-bit)
    /// parameters.
    pub fn setup<C: Channel + ?Sized>(
        ch: &mut C,
        peer: PartyId,
        session: &SessionId,
        prg: &mut Prg,
    ) -> Result<Self> {
        Self::setup_with(ch, peer, session, prg, VoleParams::default())
    }

    /// [`Sender::setup`] with explicit parameters (both sides must pass the same).
    pub fn setup_with<C: Channel + ?Sized>(
        ch: &mut C,
        peer: PartyId,
        session: &SessionId,
        prg: &mut Prg,
        params: VoleParams,
    ) -> Result<Self> {
        let me = ch.party();
        check_peer(me, peer)?;
        let sid = protocol_id::<F>(session, me, peer);
        let mut cope = base::CopeSender::setup::<F, C>(ch, peer, &sid, prg)?;
        let ot = softspoken::Receiver::setup(ch, peer, SOFTSPOKEN_K, &ggm_ot_session(&sid), prg)?;
        let (reserve_u, reserve_m) = cope.random(ch, peer, &sid, 0, params.base_count(), prg)?;
        Ok(Self {
            me,
            peer,
            sid,
            params,
            ot,
            level: 0,
            counter: 0,
            reserve_u,
            reserve_m,
            buf_u: Vec::new(),
            buf_m: Vec::new(),
            pos: 0,
            prg: Prg::from_seed(&prg.next_seed()),
            aborted: false,
        })
    }

    /// `n` random VOLEs: returns `(u, m)` with `m_i = k_i + u_i·Δ`. The peer must call
    /// [`Receiver::random`] with the same `n`.
    pub fn random<C: Channel + ?Sized>(
        &mut self,
        ch: &mut C,
        n: usize,
    ) -> Result<(Vec<F>, Vec<F>)> {
        live(self.aborted)?;
        let r = self.take(ch, n);
        seal(&mut self.aborted, r)
    }

    /// Chosen-input VOLEs on `x`: returns `m_i = k_i + x_i·Δ`; sends one field element per
    /// value. The peer must call [`Receiver::chosen`] with `x.len()`.
    pub fn chosen<C: Channel + ?Sized>(&mut self, ch: &mut C, x: &[F]) -> Result<Vec<F>> {
        live(self.aborted)?;
        let r = self.chosen_unguarded(ch, x);
        seal(&mut self.aborted, r)
    }

    fn chosen_unguarded<C: Channel + ?Sized>(&mut self, ch: &mut C, x: &[F]) -> Result<Vec<F>> {
        let (mut u, m) = self.take(ch, x.len())?;
        ch.begin_step(CHOSEN_STEP);
        let mut msg = Vec::with_capacity(FRAME_ELEMS.min(x.len()) * F::BYTES);
        let mut sent = Ok(());
        for (us, xs) in u.chunks_mut(FRAME_ELEMS).zip(x.chunks(FRAME_ELEMS)) {
            for (ui, xi) in us.iter_mut().zip(xs) {
                *ui = *xi - *ui;
            }
            msg.clear();
            put(&mut msg, us);
            sent = ch.send(self.peer, &msg);
            if sent.is_err() {
                break;
            }
        }
        wipe(&mut u);
        msg.fill(0);
        match sent {
            Ok(()) => Ok(m),
            Err(e) => {
                wipe_vec(m);
                Err(e.into())
            }
        }
    }

    fn take<C: Channel + ?Sized>(&mut self, ch: &mut C, n: usize) -> Result<(Vec<F>, Vec<F>)> {
        let (mut u, mut m) = (Vec::with_capacity(n), Vec::with_capacity(n));
        while u.len() < n {
            if self.pos == self.buf_u.len() {
                if let Err(e) = self.extend(ch) {
                    wipe_vec(u);
                    wipe_vec(m);
                    return Err(e);
                }
            }
            let c = (n - u.len()).min(self.buf_u.len() - self.pos);
            let range = self.pos..self.pos + c;
            u.extend_from_slice(&self.buf_u[range.clone()]);
            m.extend_from_slice(&self.buf_m[range.clone()]);
            wipe(&mut self.buf_u[range.clone()]);
            wipe(&mut self.buf_m[range]);
            self.pos += c;
        }
        Ok((u, m))
    }

    fn extend<C: Channel + ?Sized>(&mut self, ch: &mut C) -> Result<()> {
        let lp = self.params.level(self.level);
        let next = self.params.level(self.level + 1).consumed();
        let cx = spvole::Ctx {
            sid: &self.sid,
            counter: self.counter,
            sender: self.me,
            receiver: self.peer,
        };
        let (bu, bm) = (std::mem::take(&mut self.reserve_u), std::mem::take(&mut self.reserve_m));
        let k = lp.k;
        let (noise, mut w) =
            spvole::send(ch, &cx, &lp, &bu[k..], &bm[k..], &mut self.ot, &mut self.prg)?;
        let mut u = vec![F::ZERO; lp.n];
        for (p, b) in noise {
            u[p] = b;
        }
        lpn::encode(
            lpn_key(&self.sid, self.counter),
            [&bu[..k], &bm[..k]],
            [&mut u[..], &mut w[..]],
        );
        wipe_vec(bu);
        wipe_vec(bm);
        let (served_u, served_m) = (u.split_off(next), w.split_off(next));
        self.reserve_u = u;
        self.reserve_m = w;
        wipe_vec(std::mem::replace(&mut self.buf_u, served_u));
        wipe_vec(std::mem::replace(&mut self.buf_m, served_m));
        self.pos = 0;
        self.level += 1;
        self.counter += 1;
        Ok(())
    }
}

impl<F: Field> Drop for Receiver<F> {
    fn drop(&mut self) {
        wipe(&mut self.reserve);
        wipe(&mut self.buf);
        self.delta = F::ZERO;
        std::hint::black_box(&self.delta);
    }
}

impl<F: Field> Drop for Sender<F> {
    fn drop(&mut self) {
        wipe(&mut self.reserve_u);
        wipe(&mut self.reserve_m);
        wipe(&mut self.buf_u);
        wipe(&mut self.buf_m);
    }
}

impl<F: Field> std::fmt::Debug for Receiver<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("vole::Receiver")
            .field("peer", &self.peer)
            .field("extensions", &self.counter)
            .field("buffered", &(self.buf.len() - self.pos))
            .field("aborted", &self.aborted)
            .finish_non_exhaustive()
    }
}

impl<F: Field> std::fmt::Debug for Sender<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("vole::Sender")
            .field("peer", &self.peer)
            .field("extensions", &self.counter)
            .field("buffered", &(self.buf_u.len() - self.pos))
            .field("aborted", &self.aborted)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod attack_tests;
#[cfg(test)]
mod tests;
