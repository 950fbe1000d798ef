//! What the online phase consumes: multiplication triples, input masks and random bits, all
//! authenticated under the session's MAC key.
//!
//! [`Preprocessing`] is the seam between offline and online: [`super::Mascot`] produces the
//! material with OT-based MASCOT, and the test-only [`insecure_dealer`] derives it from a seed
//! every party knows (so the online phase can be tested and benchmarked on its own).

use tessera_mpc::{Channel, Field, PartyId, SessionId};

use super::Shared;
use crate::Result;

/// Authenticated triples `[a], [b], [c]` with `c = a·b`, element-wise.
///
/// A triple must be used once: Beaver multiplication opens x − a, so two products on the same
/// triple open x − x′. Hence no `Clone`, no public constructor (only this crate's
/// [`Preprocessing`] sources make them) and [`super::Session::mul_with_triples`] consumes them;
/// [`Triples::into_shares`] gives the shares up for good.
///
/// ```compile_fail
/// # fn reuse(t: tessera_protocols::spdz::Triples<tessera_mpc::Fp127>) {
/// let again: tessera_protocols::spdz::Triples<_> = t.clone(); // no Clone
/// # }
/// ```
#[derive(Debug)]
pub struct Triples<F> {
    pub(crate) a: Shared<F>,
    pub(crate) b: Shared<F>,
    pub(crate) c: Shared<F>,
}

impl<F: Field> Triples<F> {
    /// The number of triples.
    pub fn len(&self) -> usize {
        self.a.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.a.is_empty()
    }

    /// The shares of `a`, `b` and `c`, consuming the triples (e.g. to open and test them);
    /// they cannot be turned back into [`Triples`].
    pub fn into_shares(self) -> (Shared<F>, Shared<F>, Shared<F>) {
        (self.a, self.b, self.c)
    }
}

/// Authenticated random masks `[r]` whose values only their owner knows.
#[derive(Clone, Debug)]
pub struct InputMasks<F> {
    /// Shares of the masks.
    pub shares: Shared<F>,
    /// The masks in the clear, for the owner only.
    pub clear: Option<Vec<F>>,
}

/// The id of online session number `*count` on material made in `base`; advances the count.
pub(crate) fn next_online_session(base: &SessionId, count: &mut u64) -> SessionId {
    let k = *count;
    *count += 1;
    base.derive(format!("tessera/spdz/online/{k}").as_bytes(), &[])
}

/// A source of preprocessing material. Every party must make the same calls in the same order.
///
/// [`Triples`] have no public constructor, so an implementation outside this crate can only pass
/// on triples from one of this crate's sources, each at most once.
pub trait Preprocessing<F: Field> {
    /// This party's share α_i of the global MAC key.
    fn mac_key_share(&self) -> F;

    /// A fresh id for the next online session drawing from this source: derived from the
    /// session the material was made in and a counter this call advances (every party calls it
    /// in the same order, so the ids agree). The online phase binds its coin tosses to it, so
    /// they cannot be replayed from another session, not even from an earlier online session
    /// on the same material.
    fn online_session(&mut self) -> SessionId;

    /// `n` multiplication triples.
    fn triples(&mut self, ch: &mut dyn Channel, n: usize) -> Result<Triples<F>>;

    /// `n` input masks owned by `owner`.
    fn input_masks(
        &mut self,
        ch: &mut dyn Channel,
        owner: PartyId,
        n: usize,
    ) -> Result<InputMasks<F>>;

    /// `n` uniformly random shared bits.
    fn bits(&mut self, ch: &mut dyn Channel, n: usize) -> Result<Shared<F>>;

    /// Locks this source for good: every later call returns [`crate::Error::Aborted`]. The
    /// online phase calls it when any of its checks fails, so material under the same MAC key is
    /// never handed to a second session after a cheater was caught (no second try at a
    /// selective failure).
    fn abort(&mut self);
}

pub mod insecure_dealer {
    //! **Insecure**: preprocessing derived from a seed that every party knows.
    //!
    //! Every party expands the same seed into the full sharing of the MAC key and of all triples,
    //! masks and bits, and keeps its own share. Anyone with the seed knows every secret, so this
    //! protects nothing; it exists so the online phase can be tested and benchmarked apart from
    //! MASCOT (as MP-SPDZ's "fake" offline phase does). Its session id is derived from the seed,
    //! so two dealer sessions with one seed share an id (and could replay each other).

    use sha2::{Digest, Sha256};
    use tessera_mpc::{Channel, Field, PartyId, Prg, Seed, SessionId};

    use super::{InputMasks, Preprocessing, Triples};
    use crate::Result;
    use crate::spdz::Shared;

    /// The insecure seeded dealer. See the module docs.
    pub struct InsecureDealer<F> {
        me: usize,
        n: usize,
        prg: Prg,
        alpha: Vec<F>,
        session: SessionId,
        online_sessions: u64,
        aborted: bool,
    }

    impl<F: Field> InsecureDealer<F> {
        /// A dealer for party `me` of `n`, from the seed all parties share.
        pub fn new(seed: &Seed, me: PartyId, n: usize) -> Self {
            let mut prg = Prg::from_seed(seed);
            let alpha = F::random_vec(&mut prg, n);
            let mut h = Sha256::new();
            h.update(b"tessera/insecure-dealer/session/v1");
            h.update(seed.0);
            let session = SessionId::from_bytes(h.finalize().into());
            Self { me: me.index(), n, prg, alpha, session, online_sessions: 0, aborted: false }
        }

        fn check(&self) -> Result<()> {
            if self.aborted { Err(crate::Error::Aborted) } else { Ok(()) }
        }

        /// Shares of `values` for every party; returns this party's.
        fn share(&mut self, values: &[F]) -> Shared<F> {
            let key: F = self.alpha.iter().copied().sum();
            let mut mine = Shared::empty();
            for &v in values {
                let shares = F::random_vec(&mut self.prg, self.n - 1);
                let macs = F::random_vec(&mut self.prg, self.n - 1);
                let last_v = v - shares.iter().copied().sum::<F>();
                let last_m = key * v - macs.iter().copied().sum::<F>();
                let (sv, sm) = if self.me + 1 == self.n {
                    (last_v, last_m)
                } else {
                    (shares[self.me], macs[self.me])
                };
                mine.value.push(sv);
                mine.mac.push(sm);
            }
            mine
        }
    }

    impl<F: Field> Preprocessing<F> for InsecureDealer<F> {
        fn mac_key_share(&self) -> F {
            self.alpha[self.me]
        }

        fn online_session(&mut self) -> SessionId {
            super::next_online_session(&self.session, &mut self.online_sessions)
        }

        fn abort(&mut self) {
            self.aborted = true;
        }

        fn triples(&mut self, _ch: &mut dyn Channel, n: usize) -> Result<Triples<F>> {
            self.check()?;
            let a = F::random_vec(&mut self.prg, n);
            let b = F::random_vec(&mut self.prg, n);
            let c: Vec<F> = a.iter().zip(&b).map(|(x, y)| *x * *y).collect();
            Ok(Triples { a: self.share(&a), b: self.share(&b), c: self.share(&c) })
        }

        fn input_masks(
            &mut self,
            _ch: &mut dyn Channel,
            owner: PartyId,
            n: usize,
        ) -> Result<InputMasks<F>> {
            self.check()?;
            let r = F::random_vec(&mut self.prg, n);
            let shares = self.share(&r);
            Ok(InputMasks { shares, clear: (owner.index() == self.me).then_some(r) })
        }

        fn bits(&mut self, _ch: &mut dyn Channel, n: usize) -> Result<Shared<F>> {
            self.check()?;
            let bits: Vec<F> =
                (0..n).map(|_| F::from_u64(u64::from(self.prg.next_bool()))).collect();
            Ok(self.share(&bits))
        }
    }
}
