//! Ferret: silent correlated OT from primal LPN with regular noise, maliciously secure.
//!
//! Follows Yang, Weng, Lan, Zhang and Wang, "Ferret: Fast Extension for coRRElated OT with small
//! communication" (CCS 2020): each round turns `R = k + t·h + 128` COTs into `n` COTs by
//! primal LPN (§3, Figure 3) over the public 10-local code of module `lpn` (Ferret's own
//! random local code, not a structured one such as Silver), with a regular-noise MPCOT made of
//! `t` GGM-tree single-point COTs (§4, Figures 4–5, module `spcot`) and the malicious
//! consistency check of §4.2 batched over the trees (§5; module `mpcot`). Rounds bootstrap
//! (§5, "bootstrapping"): every round keeps `R` of its outputs for the next, so only the first
//! round's COTs come from SoftSpokenOT ([`crate::softspoken`], k = [`FerretParams::base_k`]).
//!
//! The correlation is the crate's: the sender holds the global Δ and `q_i`, the receiver a random
//! bit `b_i` and `t_i = q_i ⊕ b_i·Δ`. [`Sender::random_cot`] / [`Receiver::random_cot`] serve
//! COTs from an internal buffer and run rounds as needed; both parties must make matching calls.
//!
//! Parameters ([`FerretParams`], all for 128-bit computational security against the known
//! attacks on regular-noise LPN, from Ferret's Table 2 and its implementation):
//! - [`FerretParams::STANDARD`]: one round with n = 649,728, k = 36,288, t = 1,269 (2^9 leaves
//!   per tree) fed by SoftSpokenOT, then rounds with n = 10,805,248, k = 589,760, t = 1,319
//!   (2^13 leaves) that each hand out 10,198,213 COTs for about 0.45 bits sent per COT;
//! - [`FerretParams::SMALL`]: every round on the 649,728 set (601,891 COTs per round, ~5.2 bits
//!   per COT) for callers that want little memory;
//! - [`FerretParams::insecure_test_only`]: tiny and **insecure**, for tests.
//!
//! Security: malicious sender or receiver, κ = 128 computational (LPN as above, AES as an
//! ideal cipher for the GGM PRG, SHA-256 and the TCCR hash as random oracles), statistical
//! ≥ 2^-100 for the check (a polynomial identity of degree ≤ n over GF(2^128)), on top of
//! SoftSpokenOT's base correlations (see its module doc for its selective-failure bound on Δ).
//! A malicious sender can make the check pass or fail depending on a predicate of the
//! receiver's noise positions of its choice (Ferret §4.2: the selective-failure "guess" of
//! F_spCOT); the LPN parameters are set for that leakage (§5). Because each failure is a guess,
//! any failed call — a failed check ([`crate::Error::SpcotCheck`]), a malformed or truncated
//! frame ([`crate::Error::BadMessage`]), a channel error — locks the object: later calls
//! return [`crate::Error::Aborted`]. A malicious receiver learns nothing about Δ: what it sees
//! beyond its COTs is a hash of a value offset by a multiple of Δ (module `mpcot`).
//!
//! Binding: the pair's id is `session.derive("tessera/ot/ferret", [sender, receiver])`; the
//! base OTs, the code, the check key and digest and the level-hash tweaks derive from it and the
//! round counter, so nothing replays across sessions, directions or rounds.
//!
//! Steps ([`tessera_mpc::Channel::begin_step`]): SoftSpokenOT's at setup, then per round
//! [`GGM_STEP`] (the sender's tree messages) and [`CHECK_STEP`] (the receiver's key seed and
//! `x*`, the sender's digest).
//!
//! ```
//! use tessera_mpc::{Channel, PartyId, Prg, SessionId, harness};
//! use tessera_ot::ferret::{self, FerretParams};
//!
//! let runs = harness::run_in_memory(2, |ch: &mut dyn Channel| -> tessera_ot::Result<_> {
//!     let mut prg = Prg::from_entropy();
//!     let session = SessionId::agree(ch, b"example")?;
//!     let params = FerretParams::insecure_test_only(); // use FerretParams::STANDARD for real
//!     if ch.party() == PartyId(0) {
//!         let mut s = ferret::Sender::setup_with(ch, PartyId(1), &session, params, &mut prg)?;
//!         Ok((s.random_cot(ch, 5000)?, Vec::new(), s.delta()))
//!     } else {
//!         let mut r = ferret::Receiver::setup_with(ch, PartyId(0), &session, params, &mut prg)?;
//!         let (b, t) = r.random_cot(ch, 5000)?;
//!         Ok((t, b, 0))
//!     }
//! });
//! let (q, _, delta) = runs[0].output.as_ref().unwrap();
//! let (t, b, _) = runs[1].output.as_ref().unwrap();
//! for i in 0..5000 {
//!     assert_eq!(t[i], q[i] ^ if b[i] { *delta } else { 0 });
//! }
//! ```

mod lpn;
mod mpcot;
mod params;
mod spcot;

pub use mpcot::{CHECK_STEP, GGM_STEP};
pub use params::{CHECK_COTS, FerretParams, LpnParams};

use tessera_mpc::{Channel, PartyId, Prg, SessionId};
use zeroize::Zeroize;

use crate::block::{bit, pack_bits};
use crate::error::{Error, Result};
use crate::softspoken;
use mpcot::Round;

/// The pair's protocol id (sender first).
fn protocol_id(session: &SessionId, sender: PartyId, receiver: PartyId) -> SessionId {
    session.derive(b"tessera/ot/ferret", &[sender, receiver])
}

/// The base correlations' id.
fn base_id(sid: &SessionId) -> SessionId {
    sid.derive(b"tessera/ot/ferret/base", &[])
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

/// The COT sender: holds Δ.
pub struct Sender {
    peer: PartyId,
    sid: SessionId,
    params: FerretParams,
    delta: u128,
    rounds: u64,
    /// The next round's pool.
    reserve: Vec<u128>,
    /// The last round's outputs; `buf[pos..]` are still to hand out.
    buf: Vec<u128>,
    pos: usize,
    prg: Prg,
    aborted: bool,
}

/// The COT receiver: gets random bits `b_i` and `t_i = q_i ⊕ b_i·Δ`.
pub struct Receiver {
    peer: PartyId,
    sid: SessionId,
    params: FerretParams,
    rounds: u64,
    reserve_t: Vec<u128>,
    /// The next round's bits, one 0/1 byte each.
    reserve_b: Vec<u8>,
    buf_t: Vec<u128>,
    buf_b: Vec<u8>,
    pos: usize,
    prg: Prg,
    aborted: bool,
}

impl Sender {
    /// Sets up with `peer` under [`FerretParams::STANDARD`]; the receiver must pass the same
    /// `session`.
    pub fn setup<C: Channel + ?Sized>(
        ch: &mut C,
        peer: PartyId,
        session: &SessionId,
        prg: &mut Prg,
    ) -> Result<Self> {
        Self::setup_with(ch, peer, session, FerretParams::STANDARD, prg)
    }

    /// Sets up with `params` (the receiver must pass the same): SoftSpokenOT base OTs and the
    /// first round's `params.round(0).reserve()` base COTs. No Ferret round runs yet.
    pub fn setup_with<C: Channel + ?Sized>(
        ch: &mut C,
        peer: PartyId,
        session: &SessionId,
        params: FerretParams,
        prg: &mut Prg,
    ) -> Result<Self> {
        params.validate()?;
        let me = ch.party();
        if me == peer {
            return Err(Error::Misuse("Ferret peer must be another party"));
        }
        let sid = protocol_id(session, me, peer);
        let mut base = softspoken::Sender::setup(ch, peer, params.base_k, &base_id(&sid), prg)?;
        let reserve = base.correlated(ch, params.base_cots())?;
        Ok(Self {
            peer,
            sid,
            params,
            delta: base.delta(),
            rounds: 0,
            reserve,
            buf: Vec::new(),
            pos: 0,
            prg: Prg::from_seed(&prg.next_seed()),
            aborted: false,
        })
    }

    /// The global correlation Δ.
    pub fn delta(&self) -> u128 {
        self.delta
    }

    /// The parameters this pair runs.
    pub fn params(&self) -> FerretParams {
        self.params
    }

    /// COTs buffered (served without a round).
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// `n` random COTs: returns the `q_i` (the receiver gets random `b_i` and
    /// `t_i = q_i ⊕ b_i·Δ`). Serves from the buffer, running rounds (with bootstrapping) as
    /// needed. The peer must call [`Receiver::random_cot`] with the same `n`.
    pub fn random_cot<C: Channel + ?Sized>(&mut self, ch: &mut C, n: usize) -> Result<Vec<u128>> {
        live(self.aborted)?;
        let r = self.take(ch, n);
        seal(&mut self.aborted, r)
    }

    fn take<C: Channel + ?Sized>(&mut self, ch: &mut C, n: usize) -> Result<Vec<u128>> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            if self.pos == self.buf.len()
                && let Err(e) = self.round(ch)
            {
                out.zeroize();
                return Err(e);
            }
            let m = (n - out.len()).min(self.buf.len() - self.pos);
            out.extend_from_slice(&self.buf[self.pos..self.pos + m]);
            self.pos += m;
        }
        Ok(out)
    }

    fn round<C: Channel + ?Sized>(&mut self, ch: &mut C) -> Result<()> {
        let round = Round {
            sid: &self.sid,
            counter: self.rounds,
            params: self.params.round(self.rounds),
        };
        self.buf.zeroize();
        self.buf = Vec::new();
        self.pos = 0;
        let fresh = mpcot::send(ch, self.peer, &round, self.delta, &self.reserve, &mut self.prg)?;
        let keep = self.params.main.reserve();
        self.reserve.zeroize();
        self.reserve = fresh[..keep].to_vec();
        self.buf = fresh;
        self.pos = keep;
        self.rounds += 1;
        Ok(())
    }
}

impl Receiver {
    /// Sets up with `peer` under [`FerretParams::STANDARD`]; the sender must pass the same
    /// `session`.
    pub fn setup<C: Channel + ?Sized>(
        ch: &mut C,
        peer: PartyId,
        session: &SessionId,
        prg: &mut Prg,
    ) -> Result<Self> {
        Self::setup_with(ch, peer, session, FerretParams::STANDARD, prg)
    }

    /// Sets up with `params` (the sender must pass the same). See [`Sender::setup_with`].
    pub fn setup_with<C: Channel + ?Sized>(
        ch: &mut C,
        peer: PartyId,
        session: &SessionId,
        params: FerretParams,
        prg: &mut Prg,
    ) -> Result<Self> {
        params.validate()?;
        let me = ch.party();
        if me == peer {
            return Err(Error::Misuse("Ferret peer must be another party"));
        }
        let sid = protocol_id(session, peer, me);
        let mut base = softspoken::Receiver::setup(ch, peer, params.base_k, &base_id(&sid), prg)?;
        let n = params.base_cots();
        let mut packed = vec![0u8; n.div_ceil(8)];
        prg.fill_bytes(&mut packed);
        let mut choices: Vec<bool> = (0..n).map(|i| bit(&packed, i)).collect();
        let reserve_t = base.correlated(ch, &choices)?;
        let reserve_b = choices.iter().map(|&b| u8::from(b)).collect();
        choices.zeroize();
        packed.zeroize();
        Ok(Self {
            peer,
            sid,
            params,
            rounds: 0,
            reserve_t,
            reserve_b,
            buf_t: Vec::new(),
            buf_b: Vec::new(),
            pos: 0,
            prg: Prg::from_seed(&prg.next_seed()),
            aborted: false,
        })
    }

    /// The parameters this pair runs.
    pub fn params(&self) -> FerretParams {
        self.params
    }

    /// COTs buffered (served without a round).
    pub fn buffered(&self) -> usize {
        self.buf_t.len() - self.pos
    }

    /// `n` random COTs: returns the random bits `b_i` and `t_i = q_i ⊕ b_i·Δ`. The peer must
    /// call [`Sender::random_cot`] with the same `n`.
    pub fn random_cot<C: Channel + ?Sized>(
        &mut self,
        ch: &mut C,
        n: usize,
    ) -> Result<(Vec<bool>, Vec<u128>)> {
        live(self.aborted)?;
        let r = self.take(ch, n);
        seal(&mut self.aborted, r)
    }

    /// [`Receiver::random_cot`] with the bits packed little-endian (bit `i % 8` of byte `i / 8`).
    pub fn random_cot_packed<C: Channel + ?Sized>(
        &mut self,
        ch: &mut C,
        n: usize,
    ) -> Result<(Vec<u8>, Vec<u128>)> {
        let (mut bits, t) = self.random_cot(ch, n)?;
        let mut packed = vec![0u8; n.div_ceil(8)];
        pack_bits(&bits, &mut packed);
        bits.zeroize();
        Ok((packed, t))
    }

    fn take<C: Channel + ?Sized>(
        &mut self,
        ch: &mut C,
        n: usize,
    ) -> Result<(Vec<bool>, Vec<u128>)> {
        let mut out_t = Vec::with_capacity(n);
        let mut out_b = Vec::with_capacity(n);
        while out_t.len() < n {
            if self.pos == self.buf_t.len()
                && let Err(e) = self.round(ch)
            {
                out_t.zeroize();
                out_b.zeroize();
                return Err(e);
            }
            let m = (n - out_t.len()).min(self.buf_t.len() - self.pos);
            out_t.extend_from_slice(&self.buf_t[self.pos..self.pos + m]);
            out_b.extend(self.buf_b[self.pos..self.pos + m].iter().map(|&b| b == 1));
            self.pos += m;
        }
        Ok((out_b, out_t))
    }

    fn round<C: Channel + ?Sized>(&mut self, ch: &mut C) -> Result<()> {
        let round = Round {
            sid: &self.sid,
            counter: self.rounds,
            params: self.params.round(self.rounds),
        };
        self.buf_t.zeroize();
        self.buf_b.zeroize();
        self.buf_t = Vec::new();
        self.buf_b = Vec::new();
        self.pos = 0;
        let (fresh_t, fresh_b) = mpcot::receive(
            ch,
            self.peer,
            &round,
            &self.reserve_t,
            &self.reserve_b,
            &mut self.prg,
        )?;
        let keep = self.params.main.reserve();
        self.reserve_t.zeroize();
        self.reserve_b.zeroize();
        self.reserve_t = fresh_t[..keep].to_vec();
        self.reserve_b = fresh_b[..keep].to_vec();
        self.buf_t = fresh_t;
        self.buf_b = fresh_b;
        self.pos = keep;
        self.rounds += 1;
        Ok(())
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.delta.zeroize();
        self.reserve.zeroize();
        self.buf.zeroize();
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.reserve_t.zeroize();
        self.reserve_b.zeroize();
        self.buf_t.zeroize();
        self.buf_b.zeroize();
    }
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ferret::Sender")
            .field("peer", &self.peer)
            .field("params", &self.params)
            .field("rounds", &self.rounds)
            .field("buffered", &self.buffered())
            .field("aborted", &self.aborted)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ferret::Receiver")
            .field("peer", &self.peer)
            .field("params", &self.params)
            .field("rounds", &self.rounds)
            .field("buffered", &self.buffered())
            .field("aborted", &self.aborted)
            .finish_non_exhaustive()
    }
}
