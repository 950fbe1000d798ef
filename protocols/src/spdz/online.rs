//! The SPDZ online phase: input, linear operations, Beaver multiplication, checked output.
//!
//! Damgård–Pastro–Smart–Zakarias, "Multiparty computation from somewhat homomorphic encryption"
//! (CRYPTO 2012), §4 (online phase), with the MAC check of DKLPSS (ESORICS 2013) batched over all
//! values opened since the last check.
//!
//! Security: malicious, dishonest majority, **with abort**. A coalition of up to n − 1 parties
//! cannot make an honest party accept a wrong result except with probability about 2/p ≈ 2^-126
//! per check, *given* that the check's coefficients are unpredictable when the errors are chosen:
//! the coins are tossed with [`tessera_mpc::coin::Coins`], bound to a session id derived from the
//! preprocessing's, to the committer, the step and a counter, so reflecting or replaying
//! commitments is refused (see [`super::mac_check`]). What a cheater can still do: make every
//! honest party abort at any point (no guaranteed output), and learn an output before the honest
//! parties learn that the check of it failed (no fairness) — as in every SPDZ-family protocol.
//! No result is released by [`Session::output`] before every value opened so far is checked.

use tessera_mpc::coin::Coins;
use tessera_mpc::{Channel, Field, Fp127, PartyId};

use super::mac_check::{OpenedLog, mac_check};
use super::matrix::{
    Conv2dShape, MatrixShape, MatrixTriple, MatrixTripleGen, field_matmul, im2col_shared,
    public_times_shared, shared_times_public,
};
use super::prep::Preprocessing;
use super::{Shared, Triples};
use crate::{Error, Result};

/// Opened values are checked automatically once this many await a check, bounding memory.
const AUTO_CHECK_AFTER: usize = 1 << 22;

/// Step label of an input's masked broadcast (see `Channel::begin_step`).
pub(crate) const INPUT_STEP: &str = "spdz/input";
/// Step label of an opening.
pub(crate) const OPEN_STEP: &str = "spdz/open";

/// One party's side of a SPDZ computation.
///
/// Every party runs the same program on its own session; calls must match across parties
/// (same operations, same order, same lengths). The first failed check aborts the session for
/// good: later calls return [`Error::Aborted`].
pub struct Session<'a, F: Field, P: Preprocessing<F>> {
    ch: &'a mut dyn Channel,
    prep: P,
    alpha_i: F,
    coins: Coins,
    log: OpenedLog<F>,
    aborted: bool,
    fault: super::fault::FaultSlot,
    /// Checked matrix triples waiting for a product of their shape.
    matrix_triples: Vec<MatrixTriple<F>>,
}

impl<'a, F: Field, P: Preprocessing<F>> Session<'a, F, P> {
    /// A session over `ch` that draws its preprocessing from `prep`.
    pub fn new(ch: &'a mut dyn Channel, mut prep: P) -> Self {
        let alpha_i = prep.mac_key_share();
        let coins = Coins::new(prep.online_session());
        Self {
            ch,
            prep,
            alpha_i,
            coins,
            log: OpenedLog::default(),
            aborted: false,
            fault: Default::default(),
            matrix_triples: Vec::new(),
        }
    }

    /// Makes this party cheat in the given way (tests only).
    #[cfg(feature = "test-faults")]
    pub fn inject_fault(&mut self, fault: super::Fault) {
        self.fault.set(fault);
    }

    fn faulty(&self, f: super::Fault) -> bool {
        self.fault.is(f)
    }

    /// This party's id.
    pub fn party(&self) -> PartyId {
        self.ch.party()
    }

    /// The number of parties.
    pub fn num_parties(&self) -> usize {
        self.ch.num_parties()
    }

    /// The channel's traffic so far.
    pub fn stats(&self) -> tessera_mpc::ChannelStats {
        self.ch.stats()
    }

    /// The preprocessing source (for statistics).
    pub fn preprocessing(&self) -> &P {
        &self.prep
    }

    /// Ends the session and gives back the preprocessing source (e.g. to tell a dealer that
    /// this party is done with [`super::TeeDealerPrep::finish`]). If the session failed, the
    /// source is locked ([`Preprocessing::abort`]) and hands out nothing more.
    pub fn into_preprocessing(self) -> P {
        self.prep
    }

    fn guard(&self) -> Result<()> {
        if self.aborted { Err(Error::Aborted) } else { Ok(()) }
    }

    /// Marks the session aborted if `r` is an error, so nothing is output after a failure.
    fn watch<T>(&mut self, r: Result<T>) -> Result<T> {
        if r.is_err() {
            self.aborted = true;
            self.prep.abort();
        }
        r
    }

    /// Secret-shares `values` held by `owner` (`None` on every other party), `n` of them.
    pub fn input(&mut self, owner: PartyId, values: Option<&[F]>, n: usize) -> Result<Shared<F>> {
        self.guard()?;
        let r = self.input_inner(owner, values, n);
        self.watch(r)
    }

    fn input_inner(&mut self, owner: PartyId, values: Option<&[F]>, n: usize) -> Result<Shared<F>> {
        if owner.index() >= self.num_parties() {
            return Err(Error::Misuse(format!("no party {owner}")));
        }
        let masks = self.prep.input_masks(self.ch, owner, n)?;
        self.ch.begin_step(INPUT_STEP);
        let eps = if owner == self.party() {
            let (values, r) = match (values, masks.clear.as_ref()) {
                (Some(v), Some(r)) if v.len() == n && r.len() == n => (v, r),
                _ => return Err(Error::Misuse(format!("the owner must supply {n} input values"))),
            };
            let eps: Vec<F> = values.iter().zip(r).map(|(x, r)| *x - *r).collect();
            let msg = F::encode_slice(&eps);
            let peers = self.ch.peers();
            let last_peer = peers.last().copied();
            for peer in peers {
                if self.faulty(super::Fault::InputEquivocation) && Some(peer) == last_peer {
                    let mut lie = eps.clone();
                    if let Some(first) = lie.first_mut() {
                        *first += F::ONE;
                    }
                    self.ch.send(peer, &F::encode_slice(&lie))?;
                } else {
                    self.ch.send(peer, &msg)?;
                }
            }
            self.log.record_broadcast(owner.index(), &msg);
            eps
        } else {
            let msg = self.ch.recv(owner)?;
            let eps = F::decode_exact(&msg, n)?;
            self.log.record_broadcast(owner.index(), &msg);
            eps
        };
        masks.shares.add_public(&eps, self.alpha_i, self.party().index() == 0)
    }

    /// `[x + c]` for public `c`.
    pub fn add_public(&self, x: &Shared<F>, c: &[F]) -> Result<Shared<F>> {
        x.add_public(c, self.alpha_i, self.party().index() == 0)
    }

    /// Opens `x` to every party without checking its MAC yet (the value is logged for the next
    /// check). Only for values that are masked or will be checked before anything is output.
    pub(crate) fn open_unchecked(&mut self, x: &Shared<F>) -> Result<Vec<F>> {
        self.guard()?;
        let r = self.open_inner(x);
        self.watch(r)
    }

    fn open_inner(&mut self, x: &Shared<F>) -> Result<Vec<F>> {
        self.ch.begin_step(OPEN_STEP);
        let mut mine = x.value.clone();
        if let (true, Some(v)) = (self.faulty(super::Fault::OpenShareOffset), mine.first_mut()) {
            *v += F::ONE;
        }
        self.ch.broadcast(&F::encode_slice(&mine))?;
        let mut total = mine;
        for peer in self.ch.peers() {
            let theirs = F::decode_exact(&self.ch.recv(peer)?, x.len())?;
            tessera_mpc::field::slice::add_assign(&mut total, &theirs);
        }
        let mut macs = x.mac.clone();
        if let (true, Some(m)) = (self.faulty(super::Fault::OpenMacOffset), macs.first_mut()) {
            *m += F::ONE;
        }
        self.log.record(&total, &macs);
        if self.log.pending() > AUTO_CHECK_AFTER {
            mac_check(self.ch, &mut self.coins, self.alpha_i, &mut self.log)?;
        }
        Ok(total)
    }

    /// Checks every value opened so far; aborts the session if any was tampered with.
    pub fn check(&mut self) -> Result<()> {
        self.guard()?;
        let r = mac_check(self.ch, &mut self.coins, self.alpha_i, &mut self.log);
        self.watch(r)
    }

    /// Opens `x` to every party after checking all earlier openings, then checks `x` itself.
    pub fn output(&mut self, x: &Shared<F>) -> Result<Vec<F>> {
        self.check()?;
        let y = self.open_unchecked(x)?;
        self.check()?;
        Ok(y)
    }

    /// Opens `x` to `recipient` only: everyone opens `x + r` for a mask `r` that only the
    /// recipient knows (checked like any output), and the recipient removes `r`.
    pub fn output_to(&mut self, x: &Shared<F>, recipient: PartyId) -> Result<Option<Vec<F>>> {
        self.guard()?;
        let masks = self.prep.input_masks(self.ch, recipient, x.len());
        let masks = self.watch(masks)?;
        let masked = x.add(&masks.shares)?;
        let y = self.output(&masked)?;
        Ok(masks.clear.map(|r| y.iter().zip(&r).map(|(y, r)| *y - *r).collect()))
    }

    /// `[x·y]` element-wise, one round (Beaver's trick with one triple per element).
    pub fn mul(&mut self, x: &Shared<F>, y: &Shared<F>) -> Result<Shared<F>> {
        self.guard()?;
        if x.len() != y.len() {
            return Err(Error::Misuse(format!("mul of lengths {} and {}", x.len(), y.len())));
        }
        let t = self.prep.triples(self.ch, x.len());
        let t = self.watch(t)?;
        self.mul_with_triples(x, y, t)
    }

    /// Beaver multiplication with triples drawn earlier (to keep preprocessing out of a timed
    /// online phase). The triples must come from this session's preprocessing; they are
    /// consumed, so none can serve two products (which would open x − x′).
    pub fn mul_with_triples(
        &mut self,
        x: &Shared<F>,
        y: &Shared<F>,
        mut t: Triples<F>,
    ) -> Result<Shared<F>> {
        if x.len() != y.len() || x.len() != t.len() {
            return Err(Error::Misuse(format!(
                "mul of lengths {} and {} with {} triples",
                x.len(),
                y.len(),
                t.len()
            )));
        }
        if self.faulty(super::Fault::TripleOffset) {
            t.c.value.iter_mut().for_each(|c| *c += F::ONE);
        }
        let n = x.len();
        let d = x.sub(&t.a)?;
        let e = y.sub(&t.b)?;
        let de = self.open_unchecked(&Shared::concat(&[&d, &e]))?;
        let (d, e) = de.split_at(n);
        // z = c + d·[b] + e·[a] + d·e
        let mut z = t.c.add(&t.b.mul_public(d)?)?.add(&t.a.mul_public(e)?)?;
        let de_prod: Vec<F> = d.iter().zip(e).map(|(d, e)| *d * *e).collect();
        z = self.add_public(&z, &de_prod)?;
        Ok(z)
    }

    /// `n` shared uniformly random bits.
    pub fn random_bits(&mut self, n: usize) -> Result<Shared<F>> {
        self.guard()?;
        let r = self.prep.bits(self.ch, n);
        self.watch(r)
    }

    /// `n` shared uniformly random field elements nobody knows (the `a` of fresh triples).
    pub fn random_values(&mut self, n: usize) -> Result<Shared<F>> {
        self.guard()?;
        let r = self.prep.triples(self.ch, n).map(|t| t.a);
        self.watch(r)
    }

    /// The inner product `[Σ x_i·y_i]` (one round, n triples).
    pub fn dot(&mut self, x: &Shared<F>, y: &Shared<F>) -> Result<Shared<F>> {
        Ok(self.mul(x, y)?.sum())
    }

    /// The product of an `m×k` and a `k×n` matrix, row-major, one round. Uses a preprocessed
    /// matrix triple of this shape when one is waiting ([`Session::preprocess_matmul`]): then it
    /// opens only `X − A` and `Y − B` (`m·k + k·n` values). Otherwise it falls back to
    /// [`Session::matmul_elementwise`] (m·k·n Beaver triples). Opened values are MAC-checked with
    /// the session's other openings.
    pub fn matmul(
        &mut self,
        a: &Shared<F>,
        b: &Shared<F>,
        (m, k, n): (usize, usize, usize),
    ) -> Result<Shared<F>> {
        self.guard()?;
        let shape = MatrixShape::new(m, k, n);
        match self.matrix_triples.iter().position(|t| t.shape() == shape) {
            Some(i) => {
                let t = self.matrix_triples.swap_remove(i);
                self.matmul_with_triple(a, b, t)
            }
            None => self.matmul_elementwise(a, b, (m, k, n)),
        }
    }

    /// How many preprocessed matrix triples of this shape are waiting.
    pub fn matrix_triples_available(&self, (m, k, n): (usize, usize, usize)) -> usize {
        let shape = MatrixShape::new(m, k, n);
        self.matrix_triples.iter().filter(|t| t.shape() == shape).count()
    }

    /// Beaver's trick on matrices with a checked matrix triple (consumed): open `D = X − A`,
    /// `E = Y − B`, then `[X·Y] = [C] + D·[B] + [A]·E + D·E`. The triple must come from this
    /// session's preprocessing (its MAC key), else the next MAC check fails.
    pub fn matmul_with_triple(
        &mut self,
        x: &Shared<F>,
        y: &Shared<F>,
        triple: MatrixTriple<F>,
    ) -> Result<Shared<F>> {
        self.guard()?;
        let (m, k, n) = triple.shape().dims();
        if x.len() != m * k || y.len() != k * n {
            return Err(Error::Misuse(format!(
                "matmul of {} and {} elements with a {m}×{k}×{n} matrix triple",
                x.len(),
                y.len()
            )));
        }
        let (ta, tb, mut tc) = triple.into_shares();
        if self.faulty(super::Fault::TripleOffset) {
            tc.value.iter_mut().for_each(|c| *c += F::ONE);
        }
        let d = x.sub(&ta)?;
        let e = y.sub(&tb)?;
        let de = self.open_unchecked(&Shared::concat(&[&d, &e]))?;
        let (d, e) = de.split_at(m * k);
        let z = tc.add(&public_times_shared(d, &tb, (m, k, n))?)?.add(&shared_times_public(
            &ta,
            e,
            (m, k, n),
        )?)?;
        self.add_public(&z, &field_matmul(d, e, m, k, n))
    }

    /// A 2-D convolution (channels, stride, zero padding; layouts in [`Conv2dShape`]) of a shared
    /// input by a shared kernel: im2col (local) then [`Session::matmul`] of shape
    /// [`Conv2dShape::matmul_shape`], so it uses a matrix triple of that shape when one is waiting
    /// ([`Session::preprocess_conv2d`]) and element-wise triples otherwise.
    pub fn conv2d(
        &mut self,
        input: &Shared<F>,
        kernel: &Shared<F>,
        shape: Conv2dShape,
    ) -> Result<Shared<F>> {
        self.guard()?;
        let mkn = shape.matmul_shape()?;
        if kernel.len() != shape.kernel_len() {
            return Err(Error::Misuse(format!("convolution kernel of {} elements", kernel.len())));
        }
        let patches = im2col_shared(input, &shape)?;
        self.matmul(&patches, kernel, mkn)
    }

    /// The product by element-wise Beaver triples (one round, m·k·n triples).
    pub fn matmul_elementwise(
        &mut self,
        a: &Shared<F>,
        b: &Shared<F>,
        (m, k, n): (usize, usize, usize),
    ) -> Result<Shared<F>> {
        if a.len() != m * k || b.len() != k * n {
            return Err(Error::Misuse(format!(
                "matmul of {} and {} elements as {m}×{k} by {k}×{n}",
                a.len(),
                b.len()
            )));
        }
        let mut left = Shared::empty();
        let mut right = Shared::empty();
        for i in 0..m {
            for j in 0..n {
                for l in 0..k {
                    left.value.push(a.value[i * k + l]);
                    left.mac.push(a.mac[i * k + l]);
                    right.value.push(b.value[l * n + j]);
                    right.mac.push(b.mac[l * n + j]);
                }
            }
        }
        let prod = self.mul(&left, &right)?;
        let mut out = Shared::empty();
        for cell in 0..m * n {
            let s = prod.slice(cell * k..(cell + 1) * k)?.sum();
            out.value.extend(s.value);
            out.mac.extend(s.mac);
        }
        Ok(out)
    }
}

impl<P: Preprocessing<Fp127>> Session<'_, Fp127, P> {
    /// Makes one checked matrix triple for [`Session::conv2d`] of `shape` (its im2col product).
    pub fn preprocess_conv2d(
        &mut self,
        generator: &mut MatrixTripleGen,
        shape: Conv2dShape,
    ) -> Result<()> {
        self.guard()?;
        let mkn = shape.matmul_shape()?;
        self.preprocess_matmul(generator, mkn)
    }

    /// Makes one checked matrix triple of shape `m×k` by `k×n` with `generator` over this
    /// session's channel and preprocessing, and keeps it for the next [`Session::matmul`] of that
    /// shape. A failure aborts the session (and locks the generator and the preprocessing).
    pub fn preprocess_matmul(
        &mut self,
        generator: &mut MatrixTripleGen,
        (m, k, n): (usize, usize, usize),
    ) -> Result<()> {
        self.guard()?;
        let t = generator.generate(self.ch, &mut self.prep, MatrixShape::new(m, k, n));
        let t = self.watch(t)?;
        self.matrix_triples.push(t);
        Ok(())
    }
}
