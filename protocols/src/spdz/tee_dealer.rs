//! Enclave-assisted preprocessing: a trusted dealer deals authenticated triples, input masks and
//! bits; the online phase stays SPDZ.
//!
//! **Trust model.** The dealer is meant to run in an attested enclave (TEE). It chooses the MAC
//! key α and every triple, mask and bit, so it sees every secret of the preprocessing; whoever
//! breaks the enclave (or runs a fake one) breaks privacy *and* correctness of everything. What
//! still holds with an honest dealer: the online phase and its MAC check are unchanged, so up to
//! n − 1 malicious *computing* parties are caught exactly as with [`super::Mascot`] (each party
//! only ever receives its own shares, on its own link). This is a different, weaker trust model
//! than MASCOT's; a deployment must say which one ran. Not done here (node integration, later):
//! verifying the enclave's attestation evidence, keying the dealer links to the enclave key in
//! it, and recording the trust model in the anchor. Channels must be authenticated.
//!
//! **Parties.** The dealer is the last party index of the setup channel (`n` computing parties
//! `0..n`, dealer `n`); all `n + 1` agree the session id with [`SessionId::agree`]. The computing
//! parties then run [`Session`](super::Session) over a [`ComputingChannel`], a view that hides
//! the dealer from the online phase but lets [`TeeDealerPrep`] reach it.
//!
//! **Lockstep.** Every computing party sends the dealer each request (kind, owner, count); the
//! dealer serves only when all requests agree, and otherwise sends every party a refusal
//! ([`Error::DealerRefused`]): a party that desynchronises is noticed before any material flows.
//! Either side locks after any failure ([`Error::Aborted`]).
//!
//! **Bandwidth.** Per batch, every computing party gets a fresh 16-byte PRG seed from which it
//! expands its value and MAC shares; only the last computing party gets explicit corrections. The
//! value shares of `a`, `b` and of masks are free for everyone (their sum *defines* the secret),
//! so corrections are 4 field elements per triple (`c`, and the MACs of `a`, `b`, `c`: 64 bytes
//! in [`tessera_mpc::Fp127`]), 1 per mask (its MAC) plus the mask in the clear to its owner, and 2
//! per bit. Each party's request is 7 bytes per batch; frames add 4 bytes each.

use tessera_mpc::{Channel, ChannelStats, Field, PartyId, Prg, Seed, SessionId};
use zeroize::Zeroize;

use super::Shared;
use super::prep::{InputMasks, Preprocessing, Triples};
use crate::{Error, Result};

/// The largest batch one request may ask for: bounds the dealer's work and every reply
/// (4 · 2^16 elements of 16 bytes = 4 MiB).
pub const MAX_BATCH: usize = 1 << 16;

const SESSION_LABEL: &[u8] = b"tessera/tee-dealer/v1";
const SETUP_STEP: &str = "tee-dealer/setup";
const REQUEST_STEP: &str = "tee-dealer/request";
const REQUEST_BYTES: usize = 7;

const KIND_TRIPLES: u8 = 0;
const KIND_MASKS: u8 = 1;
const KIND_BITS: u8 = 2;
const KIND_DONE: u8 = 3;

const REPLY_REFUSED: u8 = 0;
const REPLY_MATERIAL: u8 = 1;
const REPLY_CLOSED: u8 = 2;

/// What a computing party asks the dealer for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Request {
    Triples(usize),
    Masks(PartyId, usize),
    Bits(usize),
    Done,
}

impl Request {
    fn encode(self) -> [u8; REQUEST_BYTES] {
        let (kind, owner, count) = match self {
            Request::Triples(m) => (KIND_TRIPLES, 0, m),
            Request::Masks(o, m) => (KIND_MASKS, o.0, m),
            Request::Bits(m) => (KIND_BITS, 0, m),
            Request::Done => (KIND_DONE, 0, 0),
        };
        let mut out = [0u8; REQUEST_BYTES];
        out[0] = kind;
        out[1..3].copy_from_slice(&owner.to_le_bytes());
        // Counts are at most MAX_BATCH, so they fit.
        out[3..7].copy_from_slice(&(count as u32).to_le_bytes());
        out
    }

    /// Decodes and validates a request for `n` computing parties; `None` if malformed.
    fn decode(bytes: &[u8], n: usize) -> Option<Self> {
        if bytes.len() != REQUEST_BYTES {
            return None;
        }
        let owner = u16::from_le_bytes([bytes[1], bytes[2]]);
        let count = u32::from_le_bytes([bytes[3], bytes[4], bytes[5], bytes[6]]) as usize;
        let sized = (1..=MAX_BATCH).contains(&count);
        match bytes[0] {
            KIND_TRIPLES if sized && owner == 0 => Some(Request::Triples(count)),
            KIND_MASKS if sized && usize::from(owner) < n => {
                Some(Request::Masks(PartyId(owner), count))
            }
            KIND_BITS if sized && owner == 0 => Some(Request::Bits(count)),
            KIND_DONE if count == 0 && owner == 0 => Some(Request::Done),
            _ => None,
        }
    }

    /// Columns of `count` elements per kind: `free` ones every party expands from its seed
    /// (their sum defines the secret), then `fixed` ones that the last party gets as corrections.
    fn layout(self) -> (usize, usize, usize) {
        match self {
            // a, b | c, mac(a), mac(b), mac(c)
            Request::Triples(m) => (m, 2, 4),
            // r | mac(r)
            Request::Masks(_, m) => (m, 1, 1),
            // | bit, mac(bit)
            Request::Bits(m) => (m, 0, 2),
            Request::Done => (0, 0, 0),
        }
    }
}

/// Masks in the clear and the party that owns them.
type OwnedClear<F> = (PartyId, Vec<F>);

/// Expands one party's seeded columns: `free` ones, then `fixed` ones (the caller passes 0 for
/// the last party, whose fixed columns are corrections).
fn expand<F: Field>(seed: &Seed, m: usize, free: usize, fixed: usize) -> Vec<Vec<F>> {
    let mut prg = Prg::from_seed(seed);
    (0..free + fixed).map(|_| F::random_vec(&mut prg, m)).collect()
}

/// A view of a channel without its last party (the dealer), for the online phase: peers,
/// broadcasts and the party count cover the computing parties only, while [`TeeDealerPrep`]
/// still sends to and receives from the dealer (index [`Channel::num_parties`] of the view).
pub struct ComputingChannel<'a> {
    inner: &'a mut dyn Channel,
}

impl<'a> ComputingChannel<'a> {
    /// Wraps the setup channel, whose last party is the dealer.
    pub fn new(inner: &'a mut dyn Channel) -> Self {
        Self { inner }
    }
}

impl Channel for ComputingChannel<'_> {
    fn party(&self) -> PartyId {
        self.inner.party()
    }
    fn num_parties(&self) -> usize {
        self.inner.num_parties().saturating_sub(1)
    }
    fn send(&mut self, to: PartyId, payload: &[u8]) -> tessera_mpc::Result<()> {
        self.inner.send(to, payload)
    }
    fn recv(&mut self, from: PartyId) -> tessera_mpc::Result<Vec<u8>> {
        self.inner.recv(from)
    }
    fn stats(&self) -> ChannelStats {
        self.inner.stats()
    }
    fn begin_step(&mut self, step: &'static str) {
        self.inner.begin_step(step)
    }
}

/// The dealer of a setup channel (its last party), which needs at least 2 computing parties.
fn dealer_of(ch: &dyn Channel) -> Result<PartyId> {
    let total = ch.num_parties();
    if total < 3 {
        return Err(Error::Misuse(
            "TEE dealer: need at least 2 computing parties and a dealer".into(),
        ));
    }
    Ok(PartyId((total - 1) as u16))
}

/// Counters of what the dealer has served.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DealerStats {
    /// Triples dealt.
    pub triples: u64,
    /// Input masks dealt.
    pub input_masks: u64,
    /// Random bits dealt.
    pub bits: u64,
}

/// The dealer's side (meant to run inside the enclave): holds α and serves the computing
/// parties' agreed requests. See the module docs for the trust model.
pub struct TeeDealer<F: Field> {
    n: usize,
    alpha: Vec<F>,
    prg: Prg,
    aborted: bool,
    stats: DealerStats,
}

impl<F: Field> TeeDealer<F> {
    /// Setup on the dealer (the last party of `ch`): agrees the session id with every party and
    /// sends each computing party its fresh MAC key share α_i.
    pub fn setup(ch: &mut dyn Channel) -> Result<Self> {
        let dealer = dealer_of(ch)?;
        if ch.party() != dealer {
            return Err(Error::Misuse("TEE dealer: the dealer must be the last party".into()));
        }
        let n = dealer.index();
        SessionId::agree(ch, SESSION_LABEL)?;
        let mut prg = Prg::from_entropy();
        let alpha = F::random_vec(&mut prg, n);
        ch.begin_step(SETUP_STEP);
        for (i, a) in alpha.iter().enumerate() {
            let mut msg = F::encode_slice(std::slice::from_ref(a));
            let sent = ch.send(PartyId(i as u16), &msg);
            msg.zeroize();
            sent?;
        }
        Ok(Self { n, alpha, prg, aborted: false, stats: DealerStats::default() })
    }

    /// What has been dealt so far.
    pub fn stats(&self) -> DealerStats {
        self.stats
    }

    /// Serves requests until every computing party says it is done (returns the counters), or
    /// until a failure (returned; the dealer is then locked).
    pub fn serve(&mut self, ch: &mut dyn Channel) -> Result<DealerStats> {
        while !self.serve_one(ch)? {}
        Ok(self.stats)
    }

    /// Serves one request from every computing party; `true` once they all said they are done.
    /// Requests that disagree or are malformed get every party a refusal and lock the dealer.
    pub fn serve_one(&mut self, ch: &mut dyn Channel) -> Result<bool> {
        if self.aborted {
            return Err(Error::Aborted);
        }
        let r = self.serve_inner(ch);
        if r.is_err() {
            self.aborted = true;
        }
        r
    }

    fn serve_inner(&mut self, ch: &mut dyn Channel) -> Result<bool> {
        ch.begin_step(REQUEST_STEP);
        let mut agreed: Option<Request> = None;
        let mut failure: Option<Error> = None;
        for i in 0..self.n {
            match ch.recv(PartyId(i as u16)) {
                Ok(bytes) => match (Request::decode(&bytes, self.n), agreed) {
                    (Some(r), None) if i == 0 => agreed = Some(r),
                    (Some(r), Some(a)) if r == a => {}
                    _ => {
                        failure.get_or_insert(Error::DealerRefused);
                    }
                },
                Err(e) => {
                    failure.get_or_insert(e.into());
                }
            }
        }
        let request = match (failure, agreed) {
            (None, Some(r)) => r,
            (failure, _) => {
                // Best effort: a party whose link failed cannot be told.
                for i in 0..self.n {
                    let _ = ch.send(PartyId(i as u16), &[REPLY_REFUSED]);
                }
                return Err(failure.unwrap_or(Error::DealerRefused));
            }
        };
        if request == Request::Done {
            for i in 0..self.n {
                ch.send(PartyId(i as u16), &[REPLY_CLOSED])?;
            }
            return Ok(true);
        }
        self.deal(ch, request)?;
        Ok(false)
    }

    /// Deals one agreed batch: a seed to every party, corrections to the last, masks to owners.
    fn deal(&mut self, ch: &mut dyn Channel, request: Request) -> Result<()> {
        let (m, free, fixed) = request.layout();
        let last = self.n - 1;
        let seeds: Vec<Seed> = (0..self.n).map(|_| self.prg.next_seed()).collect();
        // Sums over parties of the free columns, and over all but the last of the fixed ones.
        let mut sums = vec![vec![F::ZERO; m]; free + fixed];
        for (i, seed) in seeds.iter().enumerate() {
            let cols = expand::<F>(seed, m, free, if i == last { 0 } else { fixed });
            for (sum, col) in sums.iter_mut().zip(&cols) {
                tessera_mpc::field::slice::add_assign(sum, col);
            }
        }
        let alpha: F = self.alpha.iter().copied().sum();
        let mac = |xs: &[F]| -> Vec<F> { xs.iter().map(|x| alpha * *x).collect() };
        // The secrets' target columns, in the fixed layout.
        let (targets, clear): (Vec<Vec<F>>, Option<OwnedClear<F>>) = match request {
            Request::Triples(_) => {
                let (a, b) = (&sums[0], &sums[1]);
                let c: Vec<F> = a.iter().zip(b).map(|(x, y)| *x * *y).collect();
                (vec![c.clone(), mac(a), mac(b), mac(&c)], None)
            }
            Request::Masks(owner, _) => (vec![mac(&sums[0])], Some((owner, sums[0].clone()))),
            Request::Bits(_) => {
                let bits: Vec<F> =
                    (0..m).map(|_| F::from_u64(u64::from(self.prg.next_bool()))).collect();
                let macs = mac(&bits);
                (vec![bits, macs], None)
            }
            Request::Done => (Vec::new(), None),
        };
        for (i, seed) in seeds.iter().enumerate() {
            // The whole reply in one buffer of its final size, so no copy of a secret is left
            // behind by reallocation; it is zeroized once sent.
            let mut elements: Vec<F> = Vec::new();
            if i == last {
                for (t, s) in targets.iter().zip(&sums[free..]) {
                    elements.extend(t.iter().zip(s).map(|(t, s)| *t - *s));
                }
            }
            if let Some((owner, r)) = &clear
                && owner.index() == i
            {
                elements.extend_from_slice(r);
            }
            let mut msg = vec![0u8; 1 + 16 + elements.len() * F::BYTES];
            msg[0] = REPLY_MATERIAL;
            msg[1..17].copy_from_slice(&seed.0);
            for (x, out) in elements.iter().zip(msg[17..].chunks_exact_mut(F::BYTES)) {
                x.write_le(out);
            }
            elements.iter_mut().for_each(|x| *x = F::ZERO);
            let sent = ch.send(PartyId(i as u16), &msg);
            msg.zeroize();
            sent?;
        }
        match request {
            Request::Triples(_) => self.stats.triples += m as u64,
            Request::Masks(..) => self.stats.input_masks += m as u64,
            Request::Bits(_) => self.stats.bits += m as u64,
            Request::Done => {}
        }
        Ok(())
    }
}

impl<F: Field> Drop for TeeDealer<F> {
    fn drop(&mut self) {
        // Field elements are plain data: overwrite the key shares (seeds zeroize themselves).
        self.alpha.iter_mut().for_each(|a| *a = F::ZERO);
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    }
}

/// A computing party's preprocessing, received from the [`TeeDealer`]. Every computing party
/// must make the same calls in the same order (the dealer refuses otherwise).
pub struct TeeDealerPrep<F: Field> {
    me: PartyId,
    n: usize,
    dealer: PartyId,
    alpha: F,
    session: SessionId,
    online_sessions: u64,
    aborted: bool,
}

impl<F: Field> TeeDealerPrep<F> {
    /// Setup on a computing party over the setup channel (dealer last): agrees the session id
    /// with every party and receives this party's MAC key share from the dealer.
    pub fn setup(ch: &mut dyn Channel) -> Result<Self> {
        let dealer = dealer_of(ch)?;
        let me = ch.party();
        if me == dealer {
            return Err(Error::Misuse(
                "TEE dealer: the dealer runs TeeDealer, not TeeDealerPrep".into(),
            ));
        }
        let session = SessionId::agree(ch, SESSION_LABEL)?;
        ch.begin_step(SETUP_STEP);
        let mut msg = ch.recv(dealer)?;
        let alpha = F::decode_exact(&msg, 1);
        msg.zeroize();
        let alpha = alpha?.first().copied().ok_or(Error::DealerMessage("empty key share"))?;
        Ok(Self {
            me,
            n: dealer.index(),
            dealer,
            alpha,
            session,
            online_sessions: 0,
            aborted: false,
        })
    }

    /// Whether an earlier failure locked this object.
    pub fn is_aborted(&self) -> bool {
        self.aborted
    }

    /// Tells the dealer this party is done (over the setup channel or its [`ComputingChannel`]);
    /// it stops serving once every party has. Fails with [`Error::DealerRefused`] if the other
    /// parties asked for something else. After a failure (this source was locked) it still tells
    /// the dealer, so the dealer is not left waiting, and then returns [`Error::Aborted`].
    pub fn finish(mut self, ch: &mut dyn Channel) -> Result<()> {
        let locked = std::mem::replace(&mut self.aborted, false);
        let done = self.guarded(ch, true, |p, ch| {
            ch.send(p.dealer, &Request::Done.encode())?;
            match ch.recv(p.dealer)?.as_slice() {
                [REPLY_CLOSED] => Ok(()),
                [REPLY_REFUSED] => Err(Error::DealerRefused),
                _ => Err(Error::DealerMessage("bad reply to done")),
            }
        });
        if locked { done.and(Err(Error::Aborted)) } else { done }
    }

    fn guarded<T>(
        &mut self,
        ch: &mut dyn Channel,
        any_view: bool,
        f: impl FnOnce(&mut Self, &mut dyn Channel) -> Result<T>,
    ) -> Result<T> {
        if self.aborted {
            return Err(Error::Aborted);
        }
        // Material calls come from the online phase, which must run on the `ComputingChannel`
        // view (on the setup channel its broadcasts would reach the dealer).
        let n_ok = ch.num_parties() == self.n || (any_view && ch.num_parties() == self.n + 1);
        let r = if ch.party() != self.me || !n_ok {
            Err(Error::Misuse("TEE dealer: use this party's ComputingChannel".into()))
        } else {
            f(self, ch)
        };
        if r.is_err() {
            self.aborted = true;
        }
        r
    }

    /// Requests `count` items of one kind in batches; returns the columns (free then fixed) and
    /// the clear masks if this party owns them.
    fn fetch(
        &mut self,
        ch: &mut dyn Channel,
        make: impl Fn(usize) -> Request,
        count: usize,
    ) -> Result<(Vec<Vec<F>>, Vec<F>)> {
        let mut cols: Vec<Vec<F>> = Vec::new();
        let mut clear = Vec::new();
        let mut done = 0;
        while done < count {
            let request = make((count - done).min(MAX_BATCH));
            let (m, free, fixed) = request.layout();
            ch.begin_step(REQUEST_STEP);
            ch.send(self.dealer, &request.encode())?;
            let mut reply = ch.recv(self.dealer)?;
            let got = self.decode_reply(&reply, request, m, free, fixed);
            reply.zeroize();
            let (batch, batch_clear) = got?;
            if cols.is_empty() {
                cols = vec![Vec::with_capacity(count); batch.len()];
            }
            for (c, b) in cols.iter_mut().zip(batch) {
                c.extend(b);
            }
            clear.extend(batch_clear);
            done += m;
        }
        Ok((cols, clear))
    }

    fn decode_reply(
        &self,
        reply: &[u8],
        request: Request,
        m: usize,
        free: usize,
        fixed: usize,
    ) -> Result<(Vec<Vec<F>>, Vec<F>)> {
        let (tag, body) = reply.split_first().ok_or(Error::DealerMessage("empty reply"))?;
        match *tag {
            REPLY_MATERIAL => {}
            REPLY_REFUSED if body.is_empty() => return Err(Error::DealerRefused),
            _ => return Err(Error::DealerMessage("unknown reply")),
        }
        let last = self.me.index() + 1 == self.n;
        let owns = matches!(request, Request::Masks(o, _) if o == self.me);
        let corrections = if last { fixed * m } else { 0 };
        let clear_len = if owns { m } else { 0 };
        let want = 16 + (corrections + clear_len) * F::BYTES;
        if body.len() != want {
            return Err(
                tessera_mpc::Error::BadLength { expected: want + 1, got: reply.len() }.into()
            );
        }
        let mut seed = Seed([0; 16]);
        seed.0.copy_from_slice(&body[..16]);
        let mut cols = expand::<F>(&seed, m, free, if last { 0 } else { fixed });
        let rest = &body[16..];
        let (corr, clear) = rest.split_at(corrections * F::BYTES);
        if last {
            let corr = F::decode_exact(corr, corrections)?;
            cols.extend(corr.chunks_exact(m.max(1)).map(<[F]>::to_vec));
        }
        let clear = F::decode_exact(clear, clear_len)?;
        Ok((cols, clear))
    }
}

impl<F: Field> Preprocessing<F> for TeeDealerPrep<F> {
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
        self.guarded(ch, false, |p, ch| {
            let (mut c, _) = p.fetch(ch, Request::Triples, n)?;
            if n == 0 {
                return Ok(Triples { a: Shared::empty(), b: Shared::empty(), c: Shared::empty() });
            }
            let [a, b, cv, am, bm, cm]: [Vec<F>; 6] = std::mem::take(&mut c)
                .try_into()
                .map_err(|_| Error::DealerMessage("triple layout"))?;
            Ok(Triples {
                a: Shared::from_parts(a, am),
                b: Shared::from_parts(b, bm),
                c: Shared::from_parts(cv, cm),
            })
        })
    }

    fn input_masks(
        &mut self,
        ch: &mut dyn Channel,
        owner: PartyId,
        n: usize,
    ) -> Result<InputMasks<F>> {
        if owner.index() >= self.n {
            return Err(Error::Misuse(format!("no computing party {owner}")));
        }
        self.guarded(ch, false, |p, ch| {
            let (c, clear) = p.fetch(ch, |m| Request::Masks(owner, m), n)?;
            let clear = (owner == p.me).then_some(clear);
            let shares = match <[Vec<F>; 2]>::try_from(c) {
                Ok([v, mac]) => Shared::from_parts(v, mac),
                Err(c) if c.is_empty() => Shared::empty(),
                Err(_) => return Err(Error::DealerMessage("mask layout")),
            };
            Ok(InputMasks { shares, clear })
        })
    }

    fn bits(&mut self, ch: &mut dyn Channel, n: usize) -> Result<Shared<F>> {
        self.guarded(ch, false, |p, ch| {
            let (c, _) = p.fetch(ch, Request::Bits, n)?;
            match <[Vec<F>; 2]>::try_from(c) {
                Ok([v, mac]) => Ok(Shared::from_parts(v, mac)),
                Err(c) if c.is_empty() => Ok(Shared::empty()),
                Err(_) => Err(Error::DealerMessage("bit layout")),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_bad_ones_are_refused() {
        for r in [
            Request::Triples(1),
            Request::Triples(MAX_BATCH),
            Request::Masks(PartyId(1), 5),
            Request::Bits(3),
            Request::Done,
        ] {
            assert_eq!(Request::decode(&r.encode(), 2), Some(r));
        }
        assert_eq!(Request::decode(&Request::Masks(PartyId(2), 5).encode(), 2), None);
        assert_eq!(Request::decode(&Request::Triples(0).encode(), 2), None);
        assert_eq!(Request::decode(&Request::Triples(MAX_BATCH + 1).encode(), 2), None);
        assert_eq!(Request::decode(&[9, 0, 0, 1, 0, 0, 0], 2), None);
        assert_eq!(Request::decode(&[0, 0, 0, 1, 0, 0], 2), None);
    }
}
