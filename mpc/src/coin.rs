//! Commit-then-open broadcasts and coin tossing, bound to a session.
//!
//! The classic commit-and-open coin toss (Blum, "Coin flipping by telephone", 1981; in SPDZ the
//! `F_Rand` of Damgård–Keller–Larraia–Pastro–Scholl–Smart, ESORICS 2013, §3): every party
//! broadcasts a commitment, **receives every other commitment before it sends any opening**, then
//! broadcasts its opening; the coin is the XOR of the opened shares. A rushing party sees the
//! honest commitments before it commits, so each commitment is bound (module [`crate::commit`])
//! to the session, to its committer, to the step and to a counter that every party advances in
//! lockstep: a reflected commitment names its author and does not open for the reflector, a
//! replayed one names another step or counter. A peer commitment equal to one's own is refused
//! outright ([`Error::Reflected`]). What a cheater can still do is abort after seeing the honest
//! openings, which makes every honest party stop: a coalition short of all parties cannot bias
//! the coin, only refuse to finish.
//!
//! Every call marks its step on the channel ([`Channel::begin_step`]), which test wrappers use to
//! attack exactly this step.

use crate::commit::{self, Binding, Commitment, Opening};
use crate::{Channel, Error, PartyId, Prg, Result, Seed, SessionId};

/// One party's commit-and-open state in a session: the session id and the step counter.
///
/// Every party of the session must make the same calls in the same order. After any failed call
/// the object refuses further use ([`Error::Aborted`]): the counters may no longer agree, and a
/// cheater must not get a second try.
pub struct Coins {
    session: SessionId,
    counter: u64,
    prg: Prg,
    aborted: bool,
}

impl std::fmt::Debug for Coins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coins")
            .field("session", &self.session)
            .field("counter", &self.counter)
            .field("aborted", &self.aborted)
            .finish_non_exhaustive()
    }
}

impl Coins {
    /// Coin tossing in `session`, with this party's randomness from the operating system.
    pub fn new(session: SessionId) -> Self {
        Self { session, counter: 0, prg: Prg::from_entropy(), aborted: false }
    }

    /// The session these coins are bound to.
    pub fn session(&self) -> &SessionId {
        &self.session
    }

    /// Commits every party to a message, then opens all: returns each party's message in party
    /// order (this party's own included). Two rounds. Every party's message must be
    /// `mine.len()` bytes long.
    pub fn commit_and_open(
        &mut self,
        ch: &mut dyn Channel,
        step: &'static str,
        mine: &[u8],
    ) -> Result<Vec<Vec<u8>>> {
        if self.aborted {
            return Err(Error::Aborted);
        }
        let r = self.run(ch, step, mine);
        if r.is_err() {
            self.aborted = true;
        }
        r
    }

    /// A jointly random seed that no coalition short of all parties controls. Two rounds.
    pub fn toss(&mut self, ch: &mut dyn Channel, step: &'static str) -> Result<Seed> {
        let mine = self.prg.next_seed();
        let all = self.commit_and_open(ch, step, &mine.0)?;
        let mut seed = [0u8; 16];
        for share in all {
            for (s, b) in seed.iter_mut().zip(share) {
                *s ^= b;
            }
        }
        Ok(Seed(seed))
    }

    fn run(
        &mut self,
        ch: &mut dyn Channel,
        step: &'static str,
        mine: &[u8],
    ) -> Result<Vec<Vec<u8>>> {
        ch.begin_step(step);
        let counter = self.counter;
        self.counter += 1;
        let me = ch.party();
        let session = self.session;
        let binding = |committer: PartyId| Binding { session: &session, committer, step, counter };
        let (c, o) = commit::commit(&binding(me), mine, &mut self.prg);
        ch.broadcast(&c.0)?;
        let mut commitments = vec![Commitment([0u8; 32]); ch.num_parties()];
        for peer in ch.peers() {
            let msg = ch.recv_exact(peer, 32)?;
            let mut theirs = [0u8; 32];
            theirs.copy_from_slice(&msg);
            if theirs == c.0 {
                return Err(Error::Reflected { peer, step });
            }
            commitments[peer.index()] = Commitment(theirs);
        }
        // Every commitment is in: only now may openings go out.
        let mut opening = o.0.to_vec();
        opening.extend_from_slice(mine);
        ch.broadcast(&opening)?;
        let mut out = vec![Vec::new(); ch.num_parties()];
        out[me.index()] = mine.to_vec();
        for peer in ch.peers() {
            let msg = ch.recv_exact(peer, 16 + mine.len())?;
            let mut r = [0u8; 16];
            r.copy_from_slice(&msg[..16]);
            commit::verify(&binding(peer), &commitments[peer.index()], &msg[16..], &Opening(r))
                .map_err(|_| Error::OpeningMismatch { peer, step })?;
            out[peer.index()] = msg[16..].to_vec();
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::run_in_memory;

    #[test]
    fn all_parties_get_the_same_fresh_coin() {
        let sid = SessionId::from_bytes([5; 32]);
        let runs = run_in_memory(3, |ch| {
            let mut coins = Coins::new(sid);
            Ok::<_, Error>((coins.toss(ch, "t")?, coins.toss(ch, "t")?))
        });
        let first = runs[0].output.as_ref().unwrap();
        assert_ne!(first.0, first.1);
        for r in &runs {
            assert_eq!(r.output.as_ref().unwrap(), first);
        }
    }

    #[test]
    fn parties_on_different_counters_abort_and_stay_aborted() {
        let sid = SessionId::from_bytes([5; 32]);
        let runs = run_in_memory(2, |ch| {
            let mut coins = Coins::new(sid);
            if ch.party() == PartyId(1) {
                coins.counter = 1; // replays of another instance look like this
            }
            let first = coins.toss(ch, "t").map(|_| ());
            let again = coins.toss(ch, "t").map(|_| ());
            Ok::<_, Error>((first, again))
        });
        for r in runs {
            let (first, again) = r.output.unwrap();
            assert!(matches!(first, Err(Error::OpeningMismatch { step: "t", .. })), "{first:?}");
            assert!(matches!(again, Err(Error::Aborted)));
        }
    }
}
