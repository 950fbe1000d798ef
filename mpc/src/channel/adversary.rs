//! A channel wrapper that makes its party a malicious network participant, for attack tests
//! (feature `test-adversary`; never in a product build).
//!
//! A malicious party controls its endpoint: it may **rush** (wait for the honest parties'
//! messages of a round before sending its own), **reflect** a message back to its sender,
//! **replay** an earlier message, **equivocate** (send different messages to different peers) or
//! rewrite anything it sends. [`Adversary`] wraps the party's real channel and applies [`Rule`]s
//! to what the party's own (honest) code sends. Rules target a protocol step by the label the
//! protocol gives [`Channel::begin_step`], an occurrence of that step, a peer and a message index
//! within the step, so a test attacks exactly one coin toss or one opening without knowing the
//! message schedule.
//!
//! Rushing is real: to reflect or rewrite message `i` of a step towards peer `p`, the wrapper first
//! reads `p`'s message `i` of the same step from the wire (buffering it for the party's code) and
//! only then sends. It therefore works in rounds where every party sends before it receives
//! (commit-and-open, openings, input broadcasts), as a rushing adversary does.

use std::collections::{HashMap, VecDeque};

use super::{Channel, ChannelConfig, ChannelStats, memory_network};
use crate::{Error, PartyId, Result};

/// Computes the message to send from what a [`Tamper`] shows.
pub type RewriteFn = Box<dyn FnMut(&Tamper<'_>) -> Vec<u8> + Send>;

/// What a rule does to a message this party sends.
pub enum Action {
    /// Send the peer its own message of the same position instead (rushing).
    Reflect,
    /// Reflect, and also hand this party's code its own message in place of the peer's: the
    /// cheater's view then agrees with the victim's (both see the same two messages), so the
    /// cheater stays coherent in later steps.
    ReflectCoherently,
    /// Send what this party sent at the same position of an earlier occurrence of the step.
    Replay {
        /// The earlier occurrence (0-based).
        occurrence: usize,
    },
    /// Replace the message by what the closure returns. With `rush`, the closure also sees the
    /// peer's message of the same position, read from the wire first.
    Rewrite {
        /// Wait for the peer's message first.
        rush: bool,
        /// Computes the message to send.
        f: RewriteFn,
    },
}

/// What a [`Action::Rewrite`] closure sees.
#[derive(Debug)]
pub struct Tamper<'a> {
    /// The peer the message goes to.
    pub to: PartyId,
    /// The step's label.
    pub step: &'a str,
    /// Which occurrence of the step (0-based).
    pub occurrence: usize,
    /// The message's index within the step on this link (0-based).
    pub index: usize,
    /// What this party's code wanted to send.
    pub outgoing: &'a [u8],
    /// The peer's message of the same position (with `rush` only).
    pub rushed: Option<&'a [u8]>,
}

/// One attack: which messages it applies to and what it does.
pub struct Rule {
    step: &'static str,
    occurrence: Option<usize>,
    to: Option<PartyId>,
    index: Option<usize>,
    action: Action,
}

impl Rule {
    /// A rule on every message of every occurrence of `step`, to every peer.
    pub fn on(step: &'static str, action: Action) -> Self {
        Self { step, occurrence: None, to: None, index: None, action }
    }

    /// Only in occurrence `k` (0-based) of the step.
    pub fn occurrence(mut self, k: usize) -> Self {
        self.occurrence = Some(k);
        self
    }

    /// Only towards `peer` (so different peers can get different messages: equivocation).
    pub fn to(mut self, peer: PartyId) -> Self {
        self.to = Some(peer);
        self
    }

    /// Only message `i` (0-based) of the step on each link.
    pub fn message(mut self, i: usize) -> Self {
        self.index = Some(i);
        self
    }

    fn applies(&self, step: &str, occurrence: usize, to: PartyId, index: usize) -> bool {
        self.step == step
            && self.occurrence.is_none_or(|k| k == occurrence)
            && self.to.is_none_or(|p| p == to)
            && self.index.is_none_or(|i| i == index)
    }
}

#[derive(Default)]
struct Link {
    /// Messages read from the wire but not yet handed to the party's code.
    inbox: VecDeque<Vec<u8>>,
    /// Messages read from the wire so far.
    pulled: usize,
    /// Messages handed to the party's code so far.
    consumed: usize,
    /// Incoming index at which the current step began.
    step_base: usize,
    /// Messages sent in the current step.
    sent_in_step: usize,
    /// Replacements for incoming messages, by absolute index (coherent reflection).
    echo: HashMap<usize, Vec<u8>>,
    /// What the party's code sent, by (step, occurrence, index).
    sent: HashMap<(&'static str, usize, usize), Vec<u8>>,
}

/// A party's channel under an attacker's control. See the module docs.
pub struct Adversary<C> {
    inner: C,
    rules: Vec<Rule>,
    step: (&'static str, usize),
    occurrences: HashMap<&'static str, usize>,
    links: Vec<Link>,
    /// How many messages the rules rewrote (tests check the attack really ran).
    pub tampered: usize,
}

impl<C: Channel> Adversary<C> {
    /// Wraps `inner` with `rules` (applied in order; the first that matches a message wins).
    pub fn new(inner: C, rules: Vec<Rule>) -> Self {
        let links = (0..inner.num_parties()).map(|_| Link::default()).collect();
        Self { inner, rules, step: ("", 0), occurrences: HashMap::new(), links, tampered: 0 }
    }

    /// Reads from the wire until message `abs` of `peer` is buffered; returns it.
    fn pull_until(&mut self, peer: PartyId, abs: usize) -> Result<Vec<u8>> {
        while self.links[peer.index()].pulled <= abs {
            let msg = self.inner.recv(peer)?;
            let link = &mut self.links[peer.index()];
            link.inbox.push_back(msg);
            link.pulled += 1;
        }
        let link = &self.links[peer.index()];
        let at = abs.checked_sub(link.consumed).ok_or(Error::Misuse("message already consumed"))?;
        link.inbox.get(at).cloned().ok_or(Error::Misuse("message not buffered"))
    }
}

impl<C: Channel> Channel for Adversary<C> {
    fn party(&self) -> PartyId {
        self.inner.party()
    }

    fn num_parties(&self) -> usize {
        self.inner.num_parties()
    }

    fn begin_step(&mut self, step: &'static str) {
        let k = self.occurrences.entry(step).or_insert(0);
        self.step = (step, *k);
        *k += 1;
        for link in &mut self.links {
            link.step_base = link.consumed;
            link.sent_in_step = 0;
        }
        self.inner.begin_step(step);
    }

    fn send(&mut self, to: PartyId, payload: &[u8]) -> Result<()> {
        let (step, occurrence) = self.step;
        let link = self.links.get_mut(to.index()).ok_or(Error::Misuse("party id out of range"))?;
        let index = link.sent_in_step;
        link.sent_in_step += 1;
        let abs = link.step_base + index;
        link.sent.insert((step, occurrence, index), payload.to_vec());
        let Some(r) = self.rules.iter().position(|r| r.applies(step, occurrence, to, index)) else {
            return self.inner.send(to, payload);
        };
        enum Kind {
            Reflect { coherent: bool },
            Replay(usize),
            Rewrite { rush: bool },
        }
        let kind = match &self.rules[r].action {
            Action::Reflect => Kind::Reflect { coherent: false },
            Action::ReflectCoherently => Kind::Reflect { coherent: true },
            Action::Replay { occurrence } => Kind::Replay(*occurrence),
            Action::Rewrite { rush, .. } => Kind::Rewrite { rush: *rush },
        };
        let out = match kind {
            Kind::Reflect { coherent } => {
                let theirs = self.pull_until(to, abs)?;
                if coherent {
                    self.links[to.index()].echo.insert(abs, payload.to_vec());
                }
                theirs
            }
            Kind::Replay(earlier) => self.links[to.index()]
                .sent
                .get(&(step, earlier, index))
                .cloned()
                .ok_or(Error::Misuse("nothing to replay at that position"))?,
            Kind::Rewrite { rush } => {
                let rushed = if rush { Some(self.pull_until(to, abs)?) } else { None };
                let t = Tamper {
                    to,
                    step,
                    occurrence,
                    index,
                    outgoing: payload,
                    rushed: rushed.as_deref(),
                };
                match &mut self.rules[r].action {
                    Action::Rewrite { f, .. } => f(&t),
                    _ => payload.to_vec(),
                }
            }
        };
        self.tampered += 1;
        self.inner.send(to, &out)
    }

    fn recv(&mut self, from: PartyId) -> Result<Vec<u8>> {
        let link =
            self.links.get_mut(from.index()).ok_or(Error::Misuse("party id out of range"))?;
        let msg = match link.inbox.pop_front() {
            Some(m) => m,
            None => {
                let m = self.inner.recv(from)?;
                let link = &mut self.links[from.index()];
                link.pulled += 1;
                m
            }
        };
        let link = &mut self.links[from.index()];
        let abs = link.consumed;
        link.consumed += 1;
        Ok(link.echo.remove(&abs).unwrap_or(msg))
    }

    fn stats(&self) -> ChannelStats {
        self.inner.stats()
    }
}

/// An in-memory network of `n` parties in which party `p` sends through an [`Adversary`] with
/// `rules(p)`, or directly when that is empty: the usual setup of an attack test.
pub fn network(
    n: usize,
    config: ChannelConfig,
    rules: impl Fn(PartyId) -> Vec<Rule>,
) -> Vec<Box<dyn Channel>> {
    memory_network(n, config)
        .into_iter()
        .map(|ch| {
            let r = rules(ch.party());
            if r.is_empty() {
                Box::new(ch) as Box<dyn Channel>
            } else {
                Box::new(Adversary::new(ch, r))
            }
        })
        .collect()
}
