//! `VoleSpdz`: SPDZ preprocessing authenticated by field VOLE, with Gilboa multiplication on
//! random correlated OT.
//!
//! The shape and security of MASCOT (Keller–Orsini–Scholl, "MASCOT: Faster malicious arithmetic
//! secure computation with oblivious transfer", CCS 2016; [`super::Mascot`]): malicious security
//! against a dishonest majority of n parties, pairwise two-party building blocks, κ = 128
//! computational security (COT/VOLE, PRG, hash commitments) and statistical security 2^-64 or
//! better per check over a field of 65 to 128 bits (the SPDZ field is the 127-bit `Fp127`).
//! What changes, step by step:
//!
//! 1. **Authentication by VOLE** (replaces COPEe, MASCOT §4.1 Fig. 6). Each ordered pair runs a
//!    chosen-input VOLE in which the key holder P_j's Δ is its MAC-key share α_j (the VOLE of
//!    Weng–Yang–Katz–Wang, "Wolverine", S&P 2021, §3–4; random VOLE turned chosen by sending
//!    x − u, one field element per value). For every value x of owner P_i, P_j obtains k_ij and
//!    P_i obtains m_ij = k_ij + x·α_j; P_i's MAC share is x·α_i + Σ_j m_ij and P_j's is −k_ij, so
//!    the MAC shares sum to x·α. **The authentication check of MASCOT §4.2 (Fig. 7) is kept**:
//!    a pairwise VOLE binds the owner to one x per peer, but nothing in it binds the owner to the
//!    *same* x towards different peers (x towards P_j, x′ towards P_k gives a MAC off by
//!    (x′ − x)·α_k); with the stand-in COPEe the owner can even vary x between rows. The check —
//!    one extra random value per owner, a coin-tossed combination Σ s_l·[x_l] + [x_extra]
//!    opened and MAC-checked — catches both, as in MASCOT's proof (the owner would have to guess
//!    the honest α_k).
//! 2. **Multiplication on random COTs** (MASCOT §5 Fig. 8 Multiply, module [`multiply`]): the
//!    receiver's factor is made of the random choice bits of random COTs, so no choice bit
//!    crosses the wire with its first peer (with each further peer one correction bit per COT
//!    derandomises the COTs to the same bits). The sender's input is its **one** b per triple,
//!    as in MASCOT's Π_Triple: one field element per COT (the Gilboa core is shared with
//!    MASCOT, module `spdz::gilboa`).
//! 3. **Combine with 6 limbs of 64 bits instead of τ = 3 field elements** (MASCOT §5, Combine).
//!    Every party's factors are a_i = Σ_{k<6} r_k·X_{i,k} and â_i = Σ_k r̂_k·X_{i,k}, where
//!    X_{i,k} < 2^64 are the integers spelled by its 384 COT bits and r, r̂ ∈ F^6 are coin-tossed
//!    *after* all Gilboa messages are sent; c and ĉ are the matching combinations of the limb
//!    products, so (a, b, c) and (â, b, ĉ) share b. (a, â) is a universal hash of the 384 bits
//!    into F², so by the leftover hash lemma a Gilboa sender that cheats selectively on L bits
//!    and passes (probability 2^-L) faces factors within 2^-L·½·2^-(384 − L − 254)/2 ≤ 2^-66 of
//!    uniform (module `spdz::sacrifice` spells the argument out).
//! 4. **Sacrifice** as MASCOT's Π_Triple (module `spdz::sacrifice`, shared with MASCOT): with
//!    coin-tossed s, open ρ = s·a − â and check s·c − ĉ − ρ·b = 0 by its MAC alone inside the
//!    batched MAC check ([`super::mac_check`]) on everything opened. A triple with c = a·b + e
//!    passes only if the cheater guessed s or forged a MAC: about 2/p.
//! 5. **Input masks**: the owner's random values, authenticated by step 1. **Random bits** by
//!    squaring (MASCOT §6, from Damgård et al.): open r² for a fresh random [r] (a triple's a,
//!    squared with a second triple), take its root t (p ≡ 3 mod 4), [bit] = (r/t + 1)/2.
//!
//! Every coin toss (authentication check, combine, sacrifice, MAC checks) runs on
//! [`tessera_mpc::coin::Coins`] bound to a session id agreed at setup from fresh nonces
//! ([`SessionId::agree`]), to the committer, the step and a counter, so a rushing party cannot
//! reflect or replay coins. The COTs and VOLEs are bound to ids derived per pair and direction.
//! After any failed check or protocol error the object is locked ([`Error::Aborted`]).
//!
//! Backends ([`Backend`]): the correlations come from `tessera_ot` (see module `sources`).

mod multiply;
mod sources;

use std::collections::VecDeque;

use tessera_mpc::coin::Coins;
use tessera_mpc::field::slice;
use tessera_mpc::{Channel, Field, PartyId, Prg, SessionId};

use self::sources::{CotReceiver, CotSender, VoleKeyHolder, VoleOwner};
use super::Shared;
use super::gilboa::{LIMBS, limb_values};
use super::mac_check::{OpenedLog, coin_error, mac_check, open_into, toss};
use super::prep::{InputMasks, Preprocessing, Triples};
use super::sacrifice;
use crate::{Error, Result};

/// Step labels of VoleSpdz's coin tosses (targets for attack tests, see `Channel::begin_step`).
pub const AUTH_CHECK_COINS: &str = "spdz/vole/auth-check/coins";
/// The coins that combine the limbs into each factor a_i.
pub const COMBINE_COINS: &str = "spdz/vole/combine/coins";
/// The coins of the sacrifice.
pub const SACRIFICE_COINS: &str = "spdz/vole/sacrifice/coins";
/// Openings inside VoleSpdz's checks.
pub const OPEN_STEP: &str = "spdz/vole/open";
/// The Gilboa messages.
pub const GILBOA_STEP: &str = multiply::GILBOA_STEP;

/// First hash tweak of the Gilboa outputs, apart from the COT sources' own tweaks.
const GILBOA_TWEAKS: u128 = 1 << 127;

/// Where the correlations come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// Ferret random COT (`tessera_ot::ferret`, its standard 128-bit parameters: under half a
    /// bit per COT, about 350 MB per COT instance while a round runs) and Wolverine VOLE
    /// (`tessera_ot::vole`, its 128-bit parameters). Pays off from millions of triples: its first
    /// round makes ~10 M correlations per pair and direction before the first triple.
    Silent,
    /// As [`Backend::Silent`] with smaller rounds of the same 128-bit parameter tables: Ferret's
    /// small set (about 20 MB per instance, about 5 bits per COT) and Wolverine's second VOLE
    /// level repeated (166,400 VOLEs per extension) instead of its 10 M level. The default: it
    /// was 2.8× faster than [`Backend::Silent`] at 65,536 triples for 1.5 % more bits
    /// (`docs/BENCHMARKS.md`, "VOLE SPDZ vs MASCOT").
    SilentSmall,
    /// **INSECURE — tests only**: the silent sources on toy LPN sizes that give no security,
    /// so tests run every code path in milliseconds.
    #[doc(hidden)]
    InsecureToyParams,
    /// Stand-ins on what MASCOT uses: SoftSpokenOT (k = 4) correlated OT on locally random
    /// choices for the COTs, MASCOT's COPEe for the VOLE. Same security; more traffic.
    StandIn,
}

/// Parameters of VoleSpdz preprocessing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VoleSpdzConfig {
    /// The correlation sources.
    pub backend: Backend,
    /// Triples (and masks, and bits) made per batch.
    pub batch: usize,
}

impl Default for VoleSpdzConfig {
    fn default() -> Self {
        Self { backend: Backend::SilentSmall, batch: 2048 }
    }
}

/// Counters of what VoleSpdz has produced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VoleSpdzStats {
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
/// every pair (lower id sends first), so interactive runs never wait on each other in a cycle.
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

struct PeerLinks<F: Field> {
    owner: VoleOwner<F>,
    key: VoleKeyHolder<F>,
    cot_send: CotSender,
    cot_send_tweak: u128,
    cot_recv: CotReceiver,
    cot_recv_tweak: u128,
}

type Triple<F> = (F, F, F, F, F, F);

/// One party's VoleSpdz preprocessing state. Every party must create it and draw from it with
/// the same calls in the same order.
pub struct VoleSpdz<F: Field> {
    me: PartyId,
    n: usize,
    alpha: F,
    prg: Prg,
    session: SessionId,
    online_sessions: u64,
    coins: Coins,
    aborted: bool,
    peers: Vec<Option<PeerLinks<F>>>,
    config: VoleSpdzConfig,
    triples: VecDeque<Triple<F>>,
    masks: Vec<VecDeque<(F, F, Option<F>)>>,
    bits: VecDeque<(F, F)>,
    stats: VoleSpdzStats,
    fault: super::fault::FaultSlot,
}

impl<F: Field> VoleSpdz<F> {
    /// One-time setup with every peer: a fresh session id (one round of nonces), a fresh MAC
    /// key share, and the COT and VOLE sources in both directions of every pair.
    pub fn setup(ch: &mut dyn Channel, config: VoleSpdzConfig) -> Result<Self> {
        if config.batch == 0 {
            return Err(Error::Misuse("VoleSpdz batch size must be positive".into()));
        }
        if !(65..=128).contains(&F::MODULUS_BITS) {
            return Err(Error::Misuse("VoleSpdz needs a field of 65 to 128 bits".into()));
        }
        let me = ch.party();
        let n = ch.num_parties();
        let sid = SessionId::agree(ch, b"tessera/spdz/vole").map_err(coin_error)?;
        let mut prg = Prg::from_entropy();
        let alpha = F::random(&mut prg);
        let mut links: Vec<[Option<PeerLinkPart<F>>; 2]> = (0..n).map(|_| [None, None]).collect();
        for (peer, role) in schedule(me, n) {
            // Ids per pair and direction: [value owner / COT sender, key holder / COT receiver].
            let (sender, receiver) = match role {
                Role::Sender => (me, peer),
                Role::Receiver => (peer, me),
            };
            let vole_sid = sid.derive(b"tessera/spdz/vole/vole", &[sender, receiver]);
            let cot_sid = sid.derive(b"tessera/spdz/vole/cot", &[sender, receiver]);
            let b = config.backend;
            let part = match role {
                Role::Sender => PeerLinkPart::Send(
                    VoleOwner::setup(ch, peer, b, &vole_sid, &mut prg)?,
                    CotSender::setup(ch, peer, b, &cot_sid, &mut prg)?,
                ),
                Role::Receiver => PeerLinkPart::Recv(
                    VoleKeyHolder::setup(ch, peer, b, alpha, &vole_sid, &mut prg)?,
                    CotReceiver::setup(ch, peer, b, &cot_sid, &mut prg)?,
                ),
            };
            links[peer.index()][usize::from(role == Role::Receiver)] = Some(part);
        }
        let peers = links
            .into_iter()
            .map(|[s, r]| match (s, r) {
                (
                    Some(PeerLinkPart::Send(owner, cot_send)),
                    Some(PeerLinkPart::Recv(key, cot_recv)),
                ) => Some(PeerLinks {
                    owner,
                    key,
                    cot_send,
                    cot_send_tweak: GILBOA_TWEAKS,
                    cot_recv,
                    cot_recv_tweak: GILBOA_TWEAKS,
                }),
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
            coins: Coins::new(sid.derive(b"tessera/spdz/vole/checks", &[])),
            aborted: false,
            peers,
            config,
            triples: VecDeque::new(),
            masks: (0..n).map(|_| VecDeque::new()).collect(),
            bits: VecDeque::new(),
            stats: VoleSpdzStats::default(),
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
    pub fn stats(&self) -> VoleSpdzStats {
        self.stats
    }

    /// Whether an earlier failure locked this object (every call then returns
    /// [`Error::Aborted`]).
    pub fn is_aborted(&self) -> bool {
        self.aborted
    }

    /// Runs `f` unless locked, and locks on any error.
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
            .ok_or_else(|| Error::Misuse(format!("no VoleSpdz links to {peer}")))
    }

    /// Authenticates values (step 1 of the module doc): `mine` are this party's own values
    /// (empty when `only_owner` names someone else), `count` per owner. Returns, per owner in
    /// id order, this party's authenticated shares of that owner's values, after the check.
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
        let mut values = mine.to_vec();
        if i_own {
            if values.len() != count {
                return Err(Error::Misuse("authenticate: wrong number of own values".into()));
            }
            // One extra random value per owner hides the combination opened by the check.
            values.push(F::random(&mut self.prg));
        }
        let tamper = self.faulty(super::Fault::VoleSpdzInconsistentAuth);
        let last_peer = PartyId::all(self.n).filter(|p| *p != self.me).last();
        let mut own_macs = vec![F::ZERO; count + 1];
        let mut theirs: Vec<Option<Shared<F>>> = (0..self.n).map(|_| None).collect();
        if i_own {
            slice::add_scaled(&mut own_macs, self.alpha, &values);
        }
        for (peer, role) in schedule(self.me, self.n) {
            match role {
                Role::Sender if i_own => {
                    // The cheat under test: another value towards the last peer.
                    let mut sent = values.clone();
                    if tamper && Some(peer) == last_peer {
                        sent[0] += F::ONE;
                    }
                    let m = self.links(peer)?.owner.chosen(ch, &sent)?;
                    slice::add_assign(&mut own_macs, &m);
                }
                Role::Receiver if owners.contains(&peer) => {
                    let k = self.links(peer)?.key.chosen(ch, count + 1)?;
                    let macs = k.into_iter().map(|k| -k).collect();
                    theirs[peer.index()] = Some(Shared::from_parts(vec![F::ZERO; count + 1], macs));
                }
                _ => {}
            }
        }
        let mut out: Vec<Shared<F>> = Vec::with_capacity(owners.len());
        for &owner in &owners {
            if owner == self.me {
                out.push(Shared::from_parts(values.clone(), own_macs.clone()));
            } else {
                let s = theirs[owner.index()]
                    .take()
                    .ok_or_else(|| Error::Misuse(format!("no VOLE output from {owner}")))?;
                out.push(s);
            }
        }
        // Check (MASCOT Fig. 7): open Σ_owners (Σ_l s_l·[x_l] + [x_extra]) and MAC-check it.
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
        let b = F::random_vec(&mut self.prg, m);
        let honest_inputs = sacrifice::sender_inputs(&b, false);
        let split = self.faulty(super::Fault::VoleSpdzSplitB);
        let last_peer = PartyId::all(self.n).filter(|p| *p != self.me).last();
        // cross[i]: shares of X_i·b (limb i) with every peer, summed.
        let mut cross = vec![F::ZERO; m * LIMBS];
        let mut my_bits: Option<Vec<bool>> = None;
        for (peer, role) in schedule(self.me, self.n) {
            let fix = first_receiver(peer, self.n) != Some(self.me);
            let links = self.links(peer)?;
            let shares = match role {
                Role::Sender => {
                    let inputs = if split && Some(peer) == last_peer {
                        sacrifice::sender_inputs(&b, true)
                    } else {
                        honest_inputs.clone()
                    };
                    let (cot, tweak) = (&mut links.cot_send, &mut links.cot_send_tweak);
                    multiply::send(ch, peer, cot, tweak, &inputs, fix)?
                }
                Role::Receiver => {
                    let (bits, shares) = multiply::receive(
                        ch,
                        peer,
                        &mut links.cot_recv,
                        &mut links.cot_recv_tweak,
                        m * LIMBS,
                        my_bits.as_deref(),
                    )?;
                    my_bits.get_or_insert(bits);
                    shares
                }
            };
            slice::add_assign(&mut cross, &shares);
        }
        let limbs: Vec<F> = match &my_bits {
            Some(bits) => limb_values(bits),
            // A single party has no peer: its factor's limbs are local random bits.
            None => (0..m * LIMBS).map(|_| F::from_u128(u128::from(self.prg.next_u64()))).collect(),
        };
        // Combine (step 3) with coins tossed after every Gilboa message is sent.
        let seed = toss(&mut self.coins, ch, COMBINE_COINS)?;
        let mut own = sacrifice::combine(&seed, &limbs, &b, &cross);
        if self.faulty(super::Fault::VoleSpdzTripleOffset) {
            own[sacrifice::C * m] += F::ONE;
        }
        if self.faulty(super::Fault::VoleSpdzMatchedShift) {
            sacrifice::matched_shift(&mut own);
        }
        let per_owner = self.authenticate(ch, &own, 5 * m, None)?;
        let mut all = Shared::from_parts(vec![F::ZERO; 5 * m], vec![F::ZERO; 5 * m]);
        for s in &per_owner {
            all = all.add(s)?;
        }
        // Sacrifice (step 4): (â, b, ĉ) checks (a, b, c).
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
            // A checked square has a root; r = 0 (probability 1/p) is skipped.
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

/// One half of a pair's links, as set up in schedule order.
enum PeerLinkPart<F: Field> {
    Send(VoleOwner<F>, CotSender),
    Recv(VoleKeyHolder<F>, CotReceiver),
}

/// The first peer `receiver` plays the Gilboa receiver with, in its schedule: with it the COT
/// bits are used as they come, with every later one they are derandomised.
fn first_receiver(receiver: PartyId, n: usize) -> Option<PartyId> {
    schedule(receiver, n).into_iter().find(|(_, role)| *role == Role::Receiver).map(|(p, _)| p)
}

impl<F: Field> Preprocessing<F> for VoleSpdz<F> {
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
