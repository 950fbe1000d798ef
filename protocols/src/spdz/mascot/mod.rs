//! MASCOT preprocessing: authenticated triples, input masks and bits from oblivious transfer.
//!
//! Keller–Orsini–Scholl, "MASCOT: Faster malicious arithmetic secure computation with oblivious
//! transfer" (CCS 2016). Secure against a malicious, dishonest majority with κ = 128
//! computational security (OT, PRG, commitments) and statistical security about 2^-64 or better
//! per check over the 127-bit field (2^-66 for the triples' factors, below). The pieces:
//! - authentication of each party's values with [`copee`] and the check of §4.2 (Fig. 7): one
//!   extra random value per owner masks a coin-tossed linear combination that is opened and
//!   MAC-checked, so an owner that used inconsistent values across COPEe rows is caught;
//! - triples as in the paper's Π_Triple (§5, Fig. 8 Multiply, then Combine and Sacrifice): every
//!   party samples **one** b and 384 random bits, read as 6 limbs X_k < 2^64 (the candidates;
//!   the paper uses τ = 3 field elements); every ordered pair multiplies the receiver's limbs
//!   with the sender's b by Gilboa on chosen-bit OT extension ([`gilboa`], one element per OT);
//!   coin-tossed r, r̂ combine the candidates into a = Σ r_k·X_k and â = Σ r̂_k·X_k with their
//!   products c, ĉ, so (a, b, c) and (â, b, ĉ) share b; a, b, c, â, ĉ are authenticated; a coin
//!   s then opens ρ = s·a − â and s·c − ĉ − ρ·b is checked to be zero by its MAC alone. Module
//!   `spdz::sacrifice` has the argument and the bound: (a, â) is 2^-66-close to uniform against
//!   a selective-failure Gilboa sender, a wrong triple passes with probability about 2/p;
//! - random bits by squaring (§6 / Damgård et al.): open r² for a random [r], take the square
//!   root t (p ≡ 3 mod 4), and set [bit] = (r/t + 1)/2.
//!
//! Everything opened here goes through the batched MAC check before the material is released.
//! Work is done in batches whose size bounds memory.
//!
//! Every coin toss above (authentication check, combining, sacrifice, and the MAC checks) runs on
//! [`tessera_mpc::coin::Coins`] bound to a session id that the parties agree on at setup from
//! fresh nonces ([`SessionId::agree`]), to the committer, the step and a counter: a rushing party
//! can neither reflect the honest commitments back nor replay old ones, so the coefficients the
//! checks' soundness rests on stay unpredictable to any coalition short of all parties. The base
//! OTs and OT extensions are bound to ids derived from the same session per pair and direction.
//! After any failed check or protocol error the object is locked: every later call returns
//! [`Error::Aborted`], so a selective-failure prober gets no second try with the same Δ and α.

pub(crate) mod copee;
pub(crate) mod gilboa;

use std::collections::VecDeque;

use tessera_mpc::coin::Coins;
use tessera_mpc::field::slice;
use tessera_mpc::{Channel, Field, PartyId, Prg, SessionId};

use self::copee::{CopeeReceiver, CopeeSender};
pub use self::gilboa::OtExtension;
use self::gilboa::{CotReceiver, CotSender, multiply_receive, multiply_send};
use super::Shared;
use super::gilboa::{LIMB_BITS, LIMBS, limb_values};
use super::mac_check::{OpenedLog, coin_error, mac_check, open_into, toss};
use super::prep::{InputMasks, Preprocessing, Triples};
use super::sacrifice;
use crate::{Error, Result};

/// Step labels of MASCOT's coin tosses (targets for attack tests, see `Channel::begin_step`).
pub(crate) const AUTH_CHECK_COINS: &str = "mascot/auth-check/coins";
/// The coins that combine the τ candidate triples.
pub(crate) const COMBINE_COINS: &str = "mascot/combine/coins";
/// The coins of the sacrifice.
pub(crate) const SACRIFICE_COINS: &str = "mascot/sacrifice/coins";
/// Openings inside MASCOT's checks.
pub(crate) const OPEN_STEP: &str = "mascot/open";

/// First hash tweak of the Gilboa outputs: bit 127 set keeps them apart from the tweaks the OT
/// extension objects use for their own random and chosen OTs (0, 1, 2, …).
const GILBOA_TWEAKS: u128 = 1 << 127;

/// Parameters of MASCOT preprocessing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MascotConfig {
    /// The OT extension under the triple multiplications.
    pub ot: OtExtension,
    /// Triples (and masks, and bits) made per batch: larger batches amortise the fixed rounds of
    /// each batch; memory grows linearly (about 60 KiB per triple per peer while a batch runs).
    pub batch: usize,
}

impl Default for MascotConfig {
    fn default() -> Self {
        Self { ot: OtExtension::SoftSpoken(4), batch: 2048 }
    }
}

/// Counters of what MASCOT has produced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MascotStats {
    /// Triples generated (including ones still buffered).
    pub triples: u64,
    /// Input masks generated.
    pub input_masks: u64,
    /// Random bits generated.
    pub bits: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Sender,
    Receiver,
}

/// The order in which a party plays its two roles with each peer, identical on both ends of
/// every pair (lower id sends first), so interactive OT runs never wait on each other in a cycle.
fn schedule(me: PartyId, n: usize) -> Vec<(PartyId, Role)> {
    let mut out = Vec::with_capacity(2 * n);
    for peer in PartyId::all(n).filter(|p| *p != me) {
        if me < peer {
            out.push((peer, Role::Sender));
            out.push((peer, Role::Receiver));
        } else {
            out.push((peer, Role::Receiver));
            out.push((peer, Role::Sender));
        }
    }
    out
}

struct PeerLinks<F> {
    copee_send: CopeeSender<F>,
    copee_recv: CopeeReceiver<F>,
    cot_send: CotSender,
    cot_send_tweak: u128,
    cot_recv: CotReceiver,
    cot_recv_tweak: u128,
}

/// One party's MASCOT preprocessing state. Every party must create it and draw from it with
/// the same calls in the same order.
pub struct Mascot<F: Field> {
    me: PartyId,
    n: usize,
    alpha: F,
    prg: Prg,
    session: SessionId,
    online_sessions: u64,
    coins: Coins,
    aborted: bool,
    peers: Vec<Option<PeerLinks<F>>>,
    config: MascotConfig,
    triples: VecDeque<(F, F, F, F, F, F)>,
    masks: Vec<VecDeque<(F, F, Option<F>)>>,
    bits: VecDeque<(F, F)>,
    stats: MascotStats,
    fault: super::fault::FaultSlot,
}

impl<F: Field> Mascot<F> {
    /// Runs the one-time setup with every peer: a fresh session id (one round of nonces), a
    /// fresh MAC key share, base OTs for COPEe in both directions, and OT-extension setup in
    /// both directions.
    pub fn setup(ch: &mut dyn Channel, config: MascotConfig) -> Result<Self> {
        if config.batch == 0 {
            return Err(Error::Misuse("MASCOT batch size must be positive".into()));
        }
        // Limbs below 2^64 must be distinct field elements; the Gilboa hash fills 128 bits.
        if !(65..=128).contains(&F::MODULUS_BITS) {
            return Err(Error::Misuse("MASCOT needs a field of 65 to 128 bits".into()));
        }
        let me = ch.party();
        let n = ch.num_parties();
        let sid = SessionId::agree(ch, b"tessera/mascot").map_err(coin_error)?;
        let mut prg = Prg::from_entropy();
        let alpha = F::random(&mut prg);
        let mut copee_send: Vec<Option<CopeeSender<F>>> = (0..n).map(|_| None).collect();
        let mut copee_recv: Vec<Option<CopeeReceiver<F>>> = (0..n).map(|_| None).collect();
        let mut cot_send: Vec<Option<CotSender>> = (0..n).map(|_| None).collect();
        let mut cot_recv: Vec<Option<CotReceiver>> = (0..n).map(|_| None).collect();
        for (peer, role) in schedule(me, n) {
            let i = peer.index();
            // Ids per pair and direction: [value owner / OT sender, key holder / OT receiver].
            let (sender, receiver) = match role {
                Role::Sender => (me, peer),
                Role::Receiver => (peer, me),
            };
            let copee_sid = sid.derive(b"tessera/mascot/copee", &[sender, receiver]);
            let cot_sid = sid.derive(b"tessera/mascot/cot", &[sender, receiver]);
            match role {
                Role::Sender => {
                    copee_send[i] = Some(CopeeSender::setup(ch, peer, &copee_sid, &mut prg)?);
                    cot_send[i] = Some(CotSender::setup(ch, peer, config.ot, &cot_sid, &mut prg)?);
                }
                Role::Receiver => {
                    copee_recv[i] =
                        Some(CopeeReceiver::setup(ch, peer, alpha, &copee_sid, &mut prg)?);
                    cot_recv[i] =
                        Some(CotReceiver::setup(ch, peer, config.ot, &cot_sid, &mut prg)?);
                }
            }
        }
        let peers = copee_send
            .into_iter()
            .zip(copee_recv)
            .zip(cot_send.into_iter().zip(cot_recv))
            .map(|((cs, cr), (os, or))| match (cs, cr, os, or) {
                (Some(copee_send), Some(copee_recv), Some(cot_send), Some(cot_recv)) => {
                    Some(PeerLinks {
                        copee_send,
                        copee_recv,
                        cot_send,
                        cot_send_tweak: GILBOA_TWEAKS,
                        cot_recv,
                        cot_recv_tweak: GILBOA_TWEAKS,
                    })
                }
                _ => None,
            })
            .collect();
        Ok(Self {
            me,
            n,
            alpha,
            prg,
            session: sid,
            online_sessions: 0,
            coins: Coins::new(sid.derive(b"tessera/mascot/checks", &[])),
            aborted: false,
            peers,
            config,
            triples: VecDeque::new(),
            masks: (0..n).map(|_| VecDeque::new()).collect(),
            bits: VecDeque::new(),
            stats: MascotStats::default(),
            fault: Default::default(),
        })
    }

    /// Makes this party cheat in the given way during preprocessing (tests only).
    #[cfg(feature = "test-faults")]
    pub fn inject_fault(&mut self, fault: super::Fault) {
        self.fault.set(fault);
    }

    fn faulty(&self, f: super::Fault) -> bool {
        self.fault.is(f)
    }

    /// What has been produced so far.
    pub fn stats(&self) -> MascotStats {
        self.stats
    }

    /// Whether an earlier failure locked this object (every call then returns
    /// [`Error::Aborted`]).
    pub fn is_aborted(&self) -> bool {
        self.aborted
    }

    /// Runs `f` unless locked, and locks on any error: a failed check means a peer cheated,
    /// and a protocol error leaves the parties' streams out of step.
    fn guarded<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.aborted {
            return Err(Error::Aborted);
        }
        let r = f(self);
        if r.is_err() {
            self.aborted = true;
        }
        r
    }

    fn links(&mut self, peer: PartyId) -> Result<&mut PeerLinks<F>> {
        self.peers
            .get_mut(peer.index())
            .and_then(Option::as_mut)
            .ok_or_else(|| Error::Misuse(format!("no MASCOT links to {peer}")))
    }

    /// Authenticates values: `mine` are this party's own values (empty when `only_owner` names
    /// someone else). Returns, per owner, this party's authenticated shares of that owner's
    /// values, after MASCOT's authentication check. `count` is the number of values per owner.
    fn authenticate(
        &mut self,
        ch: &mut dyn Channel,
        mine: &[F],
        count: usize,
        only_owner: Option<PartyId>,
    ) -> Result<Vec<Shared<F>>> {
        let owners: Vec<PartyId> = match only_owner {
            Some(o) => vec![o],
            None => PartyId::all(self.n).collect(),
        };
        let i_own = owners.contains(&self.me);
        // One extra random value per owner hides the combination opened by the check.
        let mut values = mine.to_vec();
        if i_own {
            if values.len() != count {
                return Err(Error::Misuse("authenticate: wrong number of own values".into()));
            }
            values.push(F::random(&mut self.prg));
        }
        let tamper = self.faulty(super::Fault::MascotCopeeInconsistent);
        let mut out: Vec<Shared<F>> = Vec::with_capacity(owners.len());
        let mut own_macs = vec![F::ZERO; count + 1];
        if i_own {
            slice::add_scaled(&mut own_macs, self.alpha, &values);
            let me = self.me;
            for peer in PartyId::all(self.n).filter(|p| *p != me) {
                let shares = self.links(peer)?.copee_send.extend(ch, &values, tamper)?;
                slice::add_assign(&mut own_macs, &shares);
            }
        }
        for &owner in &owners {
            if owner == self.me {
                out.push(Shared::from_parts(values.clone(), own_macs.clone()));
            } else {
                let macs = self.links(owner)?.copee_recv.extend(ch, count + 1)?;
                out.push(Shared::from_parts(vec![F::ZERO; count + 1], macs));
            }
        }
        // Check: open Σ_owners (Σ_j s_j·[x_j] + [x_extra]) and MAC-check it.
        let seed = toss(&mut self.coins, ch, AUTH_CHECK_COINS)?;
        let mut coeffs = F::random_vec(&mut Prg::from_seed(&seed), count);
        coeffs.push(F::ONE);
        let mut combo = Shared::from_parts(vec![F::ZERO], vec![F::ZERO]);
        for s in &out {
            combo = combo.add(&s.linear_combination(&coeffs)?)?;
        }
        let mut log = OpenedLog::default();
        open_into(ch, &combo, &mut log, OPEN_STEP)?;
        mac_check(ch, &mut self.coins, self.alpha, &mut log).map_err(|e| match e {
            Error::MacCheck => Error::AuthenticationCheck,
            other => other,
        })?;
        out.iter().map(|s| s.slice(0..count)).collect()
    }

    /// Makes one batch of `m` checked triples and appends them to the buffer.
    fn make_triples(&mut self, ch: &mut dyn Channel, m: usize) -> Result<()> {
        // This party's factor candidates: 384 random bits per triple, chosen OT bits with
        // every peer, read as LIMBS limbs of 64 bits.
        let bits: Vec<bool> = {
            let words: Vec<u64> = (0..m * LIMBS).map(|_| self.prg.next_u64()).collect();
            words.iter().flat_map(|w| (0..LIMB_BITS).map(move |l| (w >> l) & 1 == 1)).collect()
        };
        let b = F::random_vec(&mut self.prg, m);
        let honest_inputs = sacrifice::sender_inputs(&b, false);
        let split = self.faulty(super::Fault::MascotSplitB);
        let last_peer = PartyId::all(self.n).filter(|p| *p != self.me).last();
        // cross[i]: shares of X_i·b (limb i) with every peer, summed.
        let mut cross = vec![F::ZERO; m * LIMBS];
        for (peer, role) in schedule(self.me, self.n) {
            let links = self.links(peer)?;
            let shares = match role {
                Role::Sender => {
                    let inputs = if split && Some(peer) == last_peer {
                        sacrifice::sender_inputs(&b, true)
                    } else {
                        honest_inputs.clone()
                    };
                    multiply_send(
                        ch,
                        peer,
                        &mut links.cot_send,
                        &mut links.cot_send_tweak,
                        &inputs,
                    )?
                }
                Role::Receiver => multiply_receive(
                    ch,
                    peer,
                    &mut links.cot_recv,
                    &mut links.cot_recv_tweak,
                    &bits,
                )?,
            };
            slice::add_assign(&mut cross, &shares);
        }
        // Combine with coins tossed after every Gilboa message is sent.
        let seed = toss(&mut self.coins, ch, COMBINE_COINS)?;
        let mut own = sacrifice::combine(&seed, &limb_values(&bits), &b, &cross);
        if self.faulty(super::Fault::MascotTripleOffset) {
            for c in &mut own[sacrifice::C * m..(sacrifice::C + 1) * m] {
                *c += F::ONE;
            }
        }
        if self.faulty(super::Fault::MascotMatchedShift) {
            sacrifice::matched_shift(&mut own);
        }
        let per_owner = self.authenticate(ch, &own, 5 * m, None)?;
        let mut all = Shared::from_parts(vec![F::ZERO; 5 * m], vec![F::ZERO; 5 * m]);
        for s in &per_owner {
            all = all.add(s)?;
        }
        let steps = sacrifice::Steps { coins: SACRIFICE_COINS, open: OPEN_STEP };
        let [ta, tb, tc] = sacrifice::sacrifice(ch, &mut self.coins, self.alpha, &all, &steps)?;
        for p in 0..m {
            self.triples.push_back((
                ta.value[p],
                ta.mac[p],
                tb.value[p],
                tb.mac[p],
                tc.value[p],
                tc.mac[p],
            ));
        }
        self.stats.triples += m as u64;
        Ok(())
    }

    fn take_triples(&mut self, ch: &mut dyn Channel, n: usize) -> Result<Triples<F>> {
        while self.triples.len() < n {
            let m = self.config.batch.max(n - self.triples.len()).min(self.config.batch * 4);
            self.make_triples(ch, m)?;
        }
        let mut t = Triples { a: Shared::empty(), b: Shared::empty(), c: Shared::empty() };
        for (av, am, bv, bm, cv, cm) in self.triples.drain(..n) {
            t.a.value.push(av);
            t.a.mac.push(am);
            t.b.value.push(bv);
            t.b.mac.push(bm);
            t.c.value.push(cv);
            t.c.mac.push(cm);
        }
        Ok(t)
    }

    fn make_masks(&mut self, ch: &mut dyn Channel, owner: PartyId, m: usize) -> Result<()> {
        let clear = if owner == self.me { F::random_vec(&mut self.prg, m) } else { Vec::new() };
        let shares = self.authenticate(ch, &clear, m, Some(owner))?;
        let s = shares.into_iter().next().ok_or_else(|| Error::Misuse("no owner".into()))?;
        let queue = &mut self.masks[owner.index()];
        for p in 0..m {
            queue.push_back((s.value[p], s.mac[p], clear.get(p).copied()));
        }
        self.stats.input_masks += m as u64;
        Ok(())
    }

    fn make_bits(&mut self, ch: &mut dyn Channel, m: usize) -> Result<()> {
        // [r] from fresh triples' a, squared with a second triple batch (Beaver).
        let t1 = self.take_triples(ch, m)?;
        let t2 = self.take_triples(ch, m)?;
        let r = t1.a;
        let mut log = OpenedLog::default();
        let de_sh = Shared::concat(&[&r.sub(&t2.a)?, &r.sub(&t2.b)?]);
        let de = open_into(ch, &de_sh, &mut log, OPEN_STEP)?;
        let (d, e) = de.split_at(m);
        let first = self.me.index() == 0;
        let prod: Vec<F> = d.iter().zip(e).map(|(d, e)| *d * *e).collect();
        let sq = t2.c.add(&t2.b.mul_public(d)?)?.add(&t2.a.mul_public(e)?)?;
        let sq = sq.add_public(&prod, self.alpha, first)?;
        let squares = open_into(ch, &sq, &mut log, OPEN_STEP)?;
        mac_check(ch, &mut self.coins, self.alpha, &mut log)?;
        let two_inv = F::from_u64(2)
            .inverse()
            .ok_or_else(|| Error::Misuse("field of characteristic 2".into()))?;
        for (p, square) in squares.iter().enumerate() {
            // r = 0 happens with probability 1/p; such a slot is skipped.
            let Some(root) = square.sqrt() else { return Err(Error::MacCheck) };
            let Some(inv) = root.inverse() else { continue };
            let k = inv * two_inv;
            // bit = (r/t + 1)/2 = k·r + 1/2
            let v = r.value[p] * k + if first { two_inv } else { F::ZERO };
            let mac = r.mac[p] * k + self.alpha * two_inv;
            self.bits.push_back((v, mac));
        }
        self.stats.bits += m as u64;
        Ok(())
    }
}

impl<F: Field> Preprocessing<F> for Mascot<F> {
    fn mac_key_share(&self) -> F {
        self.alpha
    }

    fn online_session(&mut self) -> SessionId {
        super::prep::next_online_session(&self.session, &mut self.online_sessions)
    }

    fn abort(&mut self) {
        self.aborted = true;
    }

    fn triples(&mut self, ch: &mut dyn Channel, n: usize) -> Result<Triples<F>> {
        self.guarded(|m| m.take_triples(ch, n))
    }

    fn input_masks(
        &mut self,
        ch: &mut dyn Channel,
        owner: PartyId,
        n: usize,
    ) -> Result<InputMasks<F>> {
        if owner.index() >= self.n {
            return Err(Error::Misuse(format!("no party {owner}")));
        }
        self.guarded(|m| m.take_masks(ch, owner, n))
    }

    fn bits(&mut self, ch: &mut dyn Channel, n: usize) -> Result<Shared<F>> {
        self.guarded(|m| m.take_bits(ch, n))
    }
}

impl<F: Field> Mascot<F> {
    fn take_masks(
        &mut self,
        ch: &mut dyn Channel,
        owner: PartyId,
        n: usize,
    ) -> Result<InputMasks<F>> {
        while self.masks[owner.index()].len() < n {
            let need = n - self.masks[owner.index()].len();
            let m = self.config.batch.max(need).min(self.config.batch * 4);
            self.make_masks(ch, owner, m)?;
        }
        let mut shares = Shared::empty();
        let mut clear = Vec::new();
        for (v, mac, c) in self.masks[owner.index()].drain(..n) {
            shares.value.push(v);
            shares.mac.push(mac);
            if let Some(c) = c {
                clear.push(c);
            }
        }
        let clear = (owner == self.me).then_some(clear);
        Ok(InputMasks { shares, clear })
    }

    fn take_bits(&mut self, ch: &mut dyn Channel, n: usize) -> Result<Shared<F>> {
        while self.bits.len() < n {
            let m = self.config.batch.max(n - self.bits.len()).min(self.config.batch * 4);
            self.make_bits(ch, m)?;
        }
        let mut out = Shared::empty();
        for (v, mac) in self.bits.drain(..n) {
            out.value.push(v);
            out.mac.push(mac);
        }
        Ok(out)
    }
}
