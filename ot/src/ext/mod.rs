//! The part of malicious OT extension that KOS15 and SoftSpokenOT share.
//!
//! Both protocols end in the same correlation: the sender holds a global Δ and rows `q_i`, the
//! receiver holds choice bits `r_i` and rows `t_i = q_i ⊕ r_i·Δ`. They differ only in how the
//! 128 columns of that matrix are made from the base OTs; a *core* ([`SenderCore`],
//! [`ReceiverCore`]) does that for one chunk of rows. This module drives the cores chunk by chunk
//! (so working memory stays bounded by [`CHUNK_ROWS`]), runs the consistency check, and turns the
//! correlation into correlated, random or chosen-message OT.
//!
//! The consistency check is the one of Keller, Orsini and Scholl, "Actively Secure OT Extension
//! with Optimal Overhead" (CRYPTO 2015), §3 (its "check correlation" phase), which Roy,
//! "SoftSpokenOT" (CRYPTO 2022), §5 reuses for the subspace-VOLE extension:
//! [`PAD_ROWS`] ≥ κ + σ = 128 + 64 extra random rows are extended and discarded; the challenge
//! `χ_i ∈ GF(2^128)` is expanded from a seed tossed jointly after the receiver has sent every
//! row (the receiver commits to its half before it sees the sender's, so neither side picks χ);
//! the receiver sends `x = Σ r_i·χ_i` and `t = Σ t_i·χ_i`, and the sender checks
//! `Σ q_i·χ_i = t ⊕ x·Δ`. A receiver that used different choice bits in different columns passes
//! only by guessing the Δ bits it would learn (KOS15, Theorem 1; σ = 64 statistical security for
//! the check, κ = 128): learning t bits costs a 2^-t chance of not being caught.
//!
//! Binding (issue #21). Each direction has its own id `session.derive("tessera/ot/ext/check",
//! [sender, receiver])`, `session` being the protocol's derived id. The receiver's commitment to
//! its seed share is bound ([`tessera_mpc::commit::Binding`]) to that id, to the receiver as
//! committer, to the step [`CHECK_STEP`] and to a call counter both objects advance on every
//! call, so a commitment and its opening replayed from another session, direction or call do not
//! open. The χ seed is hashed from the same id, the counter and both shares, so two calls never
//! share a challenge even if a share repeats.
//!
//! Abort. After any error in `correlated`, `random` or `chosen` — a failed check, a commitment
//! that does not open, a malformed message, a channel failure — the object is locked and every
//! later call returns [`Error::Aborted`]. A failed check is exactly the event a selective-failure
//! attack observes, so the cheater gets one try per Δ (a fresh Δ needs a fresh setup); after a
//! channel error the two sides' PRG streams and counters are out of step.
//!
//! Steps marked on the channel ([`Channel::begin_step`]), per call: [`ROWS_STEP`] (the receiver's
//! column messages), [`CHECK_STEP`] (the receiver's commitment, the sender's seed share, the
//! receiver's reply: opening, seed share, `x`, `t`) and, for chosen OT, [`CHOSEN_STEP`] (the
//! sender's masked messages).
//!
//! Outputs of random and chosen OT are hashed with the tweakable correlation-robust hash
//! [`crate::hash::tccr`], one fresh tweak per OT, so the Δ correlation does not leak.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tessera_mpc::commit::{self, Binding, Commitment, Opening};
use tessera_mpc::{Channel, PartyId, Prg, Seed, SessionId};
use zeroize::Zeroize;

use crate::block::{bit, gf_mul, load, mask128, pack_bits, transpose_columns};
use crate::error::{Error, Result, recv_exact};
use crate::hash::tccr_batch;

/// Rows extended per message: 16 Ki rows keep a chunk's 128 columns (256 KiB) in L2.
pub(crate) const CHUNK_ROWS: usize = 1 << 14;

/// Extra random rows sacrificed to hide the receiver's choices in the check (≥ κ + σ).
pub(crate) const PAD_ROWS: usize = 256;

/// The step of the receiver's column messages.
pub(crate) const ROWS_STEP: &str = "ot/ext/rows";
/// The step of the consistency check: commitment, seed share, reply.
pub(crate) const CHECK_STEP: &str = "ot/ext/check";
/// The step of the sender's masked messages in chosen OT.
pub(crate) const CHOSEN_STEP: &str = "ot/ext/chosen";

/// What one direction's checks are bound to: the direction's id and both roles.
struct CheckContext {
    sid: SessionId,
    receiver: PartyId,
    counter: u64,
}

impl CheckContext {
    fn new(session: &SessionId, sender: PartyId, receiver: PartyId) -> Self {
        Self {
            sid: session.derive(b"tessera/ot/ext/check", &[sender, receiver]),
            receiver,
            counter: 0,
        }
    }

    /// Starts a call: returns its counter value and advances it.
    fn next(&mut self) -> u64 {
        let c = self.counter;
        self.counter += 1;
        c
    }

    fn binding(&self, counter: u64) -> Binding<'_> {
        Binding { session: &self.sid, committer: self.receiver, step: CHECK_STEP, counter }
    }

    /// The χ seed of call `counter`: a hash of the bound context and both seed shares.
    fn chi_seed(&self, counter: u64, seed_s: u128, seed_r: u128) -> u128 {
        let mut h = Sha256::new();
        h.update(b"tessera/ot/ext/chi/v1");
        h.update(self.sid.as_bytes());
        h.update(counter.to_le_bytes());
        h.update(seed_s.to_le_bytes());
        h.update(seed_r.to_le_bytes());
        let d: [u8; 32] = h.finalize().into();
        load(&d, 0)
    }
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

/// The sender (Δ holder) half of a column generator.
pub(crate) trait SenderCore: Send {
    /// The global correlation Δ.
    fn delta(&self) -> u128;
    /// Length of the receiver's message for a chunk of `rows` rows.
    fn msg_len(&self, rows: usize, fixed: bool) -> usize;
    /// Writes the chunk's 128 columns of Q (column-major, `rows / 8` bytes each) from the
    /// receiver's message; `fixed` says whether the receiver chose its choice bits.
    fn extend(&mut self, rows: usize, fixed: bool, msg: &[u8], cols: &mut [u8]);
}

/// The receiver half of a column generator.
pub(crate) trait ReceiverCore: Send {
    /// Writes the chunk's 128 columns of T and the message for the sender. With `fixed`, the
    /// packed `choices` are the receiver's; otherwise the core overwrites them with its own.
    fn extend(
        &mut self,
        rows: usize,
        fixed: bool,
        choices: &mut [u8],
        cols: &mut [u8],
        msg: &mut Vec<u8>,
    );
}

fn total_rows(n: usize) -> usize {
    n.div_ceil(128) * 128 + PAD_ROWS
}

/// `(Σ χ_i·rows_i, Σ_{bit_i = 1} χ_i)` with the χ_i expanded from `seed`.
///
/// Done without a field multiplication per row: the χ matrix is drawn column by column (bit `k`
/// of every χ_i from one PRG stream, 16 random bytes per row as before, so the χ_i stay uniform
/// and independent), and by bilinearity `Σ_i χ_i·q_i = Σ_k x^k·R_k` with
/// `R_k = Σ_{i: χ_i[k] = 1} q_i`. The `R_k` are sums over subsets of rows, computed eight rows
/// at a time with a 256-entry table of their XOR combinations (the "method of four Russians");
/// the final 128 field products are negligible. `rows.len()` must be a multiple of 8.
fn check_sums(rows: &[u128], bits: Option<&[u8]>, seed: u128) -> (u128, u128) {
    const GROUPS: usize = 1024;
    let mut prg = Prg::from_seed(&Seed(seed.to_le_bytes()));
    // Byte `k` of group `g`: bits χ_{8g..8g+8}[k].
    let mut chi = vec![0u8; 128 * GROUPS];
    let mut sums = [0u128; 128];
    // Byte `k % 8` of word `k / 8`: the running AND-sums whose parities are the bits of x.
    let mut parity = [0u64; 16];
    let mut table = [0u128; 256];
    for (g, eight) in rows.chunks_exact(8).enumerate() {
        if g % GROUPS == 0 {
            prg.fill_bytes(&mut chi);
        }
        let c = &chi[128 * (g % GROUPS)..128 * (g % GROUPS + 1)];
        for (i, row) in eight.iter().enumerate() {
            let (lo, hi) = table.split_at_mut(1 << i);
            for (h, l) in hi[..1 << i].iter_mut().zip(lo.iter()) {
                *h = l ^ row;
            }
        }
        for (s, &ck) in sums.iter_mut().zip(c) {
            *s ^= table[usize::from(ck)];
        }
        if let Some(bits) = bits {
            // Eight bytes of (r-byte AND χ-byte) per 64-bit word.
            let rb = u64::from(bits[g]) * 0x0101_0101_0101_0101;
            for (p, ck) in parity.iter_mut().zip(c.chunks_exact(8)) {
                let mut w = [0u8; 8];
                w.copy_from_slice(ck);
                *p ^= rb & u64::from_le_bytes(w);
            }
        }
    }
    chi.zeroize();
    table.zeroize();
    let acc = sums.iter().enumerate().fold(0u128, |a, (k, s)| a ^ gf_mul(1u128 << k, *s));
    let x = parity
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .enumerate()
        .fold(0u128, |a, (k, p)| a | (u128::from(p.count_ones() & 1) << k));
    sums.zeroize();
    (acc, x)
}

/// The Δ-holding side of an OT extension.
pub(crate) struct ExtSender<S> {
    core: S,
    peer: PartyId,
    prg: Prg,
    tweak: u128,
    check: CheckContext,
    aborted: bool,
}

impl<S: SenderCore> ExtSender<S> {
    /// The sender `me` of the extension to `peer`, in `session` (the protocol's derived id).
    pub(crate) fn new(core: S, me: PartyId, peer: PartyId, session: &SessionId, prg: Prg) -> Self {
        let check = CheckContext::new(session, me, peer);
        Self { core, peer, prg, tweak: 0, check, aborted: false }
    }

    pub(crate) fn delta(&self) -> u128 {
        self.core.delta()
    }

    /// Extends and checks `n` rows `q_i`. `on_chunk(start, rows)` sees each chunk of rows as soon
    /// as it is transposed (while it is in cache; padding rows included), before the check: it
    /// must not release anything derived from them.
    fn extend<C: Channel + ?Sized>(
        &mut self,
        ch: &mut C,
        n: usize,
        fixed: bool,
        mut on_chunk: impl FnMut(usize, &[u128]),
    ) -> Result<Vec<u128>> {
        let counter = self.check.next();
        let total = total_rows(n);
        let peer = self.peer;
        ch.begin_step(ROWS_STEP);
        let mut q = vec![0u128; total];
        let mut cols = vec![0u8; 16 * CHUNK_ROWS.min(total)];
        let mut start = 0;
        while start < total {
            let rows = CHUNK_ROWS.min(total - start);
            let msg = match recv_exact(ch, peer, self.core.msg_len(rows, fixed)) {
                Ok(m) => m,
                Err(e) => {
                    q.zeroize();
                    cols.zeroize();
                    return Err(e);
                }
            };
            self.core.extend(rows, fixed, &msg, &mut cols[..16 * rows]);
            transpose_columns(&cols[..16 * rows], rows, &mut q[start..start + rows]);
            on_chunk(start, &q[start..start + rows]);
            start += rows;
        }
        cols.zeroize();

        // Coin toss for the challenge (the receiver's share committed before it sees ours),
        // then the check.
        ch.begin_step(CHECK_STEP);
        let checked = self.check(ch, counter, &q);
        if let Err(e) = checked {
            q.zeroize();
            return Err(e);
        }
        q.truncate(n);
        Ok(q)
    }

    fn check<C: Channel + ?Sized>(&mut self, ch: &mut C, counter: u64, q: &[u128]) -> Result<()> {
        let peer = self.peer;
        let commitment = recv_exact(ch, peer, 32)?;
        let seed_s = self.prg.next_u128();
        ch.send(peer, &seed_s.to_le_bytes())?;
        let reply = recv_exact(ch, peer, 64)?;
        let word = |i: usize| load(&reply, i);
        let (opening, seed_r, x, t) = (word(0), word(1), word(2), word(3));
        let mut com = [0u8; 32];
        com.copy_from_slice(&commitment);
        commit::verify(
            &self.check.binding(counter),
            &Commitment(com),
            &seed_r.to_le_bytes(),
            &Opening(opening.to_le_bytes()),
        )
        .map_err(|_| Error::CommitmentMismatch)?;
        let (acc, _) = check_sums(q, None, self.check.chi_seed(counter, seed_s, seed_r));
        let expected = t ^ gf_mul(x, self.core.delta());
        if bool::from(acc.ct_eq(&expected)) { Ok(()) } else { Err(Error::ConsistencyCheck) }
    }

    pub(crate) fn correlated<C: Channel + ?Sized>(
        &mut self,
        ch: &mut C,
        n: usize,
    ) -> Result<Vec<u128>> {
        live(self.aborted)?;
        let r = self.extend(ch, n, true, |_, _| ());
        seal(&mut self.aborted, r)
    }

    pub(crate) fn random<C: Channel + ?Sized>(
        &mut self,
        ch: &mut C,
        n: usize,
    ) -> Result<Vec<[u128; 2]>> {
        live(self.aborted)?;
        let r = self.random_unguarded(ch, n);
        seal(&mut self.aborted, r)
    }

    fn random_unguarded<C: Channel + ?Sized>(
        &mut self,
        ch: &mut C,
        n: usize,
    ) -> Result<Vec<[u128; 2]>> {
        // Hash each chunk right after its transpose, while it is in cache; nothing leaves this
        // function unless the check passes.
        let delta = self.core.delta();
        let first_tweak = self.tweak;
        let mut out = vec![[0u128; 2]; n];
        let mut h0 = vec![0u128; CHUNK_ROWS];
        let mut h1 = vec![0u128; CHUNK_ROWS];
        let hash = |start: usize, rows: &[u128]| {
            let m = rows.len().min(n.saturating_sub(start));
            if m == 0 {
                return; // padding rows only
            }
            let tweak = first_tweak + start as u128;
            tccr_batch(tweak, 0, &rows[..m], &mut h0[..m]);
            tccr_batch(tweak, delta, &rows[..m], &mut h1[..m]);
            for ((o, a), b) in out[start..start + m].iter_mut().zip(&h0).zip(&h1) {
                *o = [*a, *b];
            }
        };
        let checked = self.extend(ch, n, false, hash);
        h0.zeroize();
        h1.zeroize();
        match checked {
            Ok(mut q) => {
                q.zeroize();
                self.tweak += n as u128;
                Ok(out)
            }
            Err(e) => {
                out.zeroize();
                Err(e)
            }
        }
    }

    pub(crate) fn chosen<C: Channel + ?Sized>(
        &mut self,
        ch: &mut C,
        msgs: &[[u128; 2]],
    ) -> Result<()> {
        live(self.aborted)?;
        let r = self.chosen_unguarded(ch, msgs);
        seal(&mut self.aborted, r)
    }

    fn chosen_unguarded<C: Channel + ?Sized>(
        &mut self,
        ch: &mut C,
        msgs: &[[u128; 2]],
    ) -> Result<()> {
        let mut q = self.extend(ch, msgs.len(), true, |_, _| ())?;
        ch.begin_step(CHOSEN_STEP);
        let delta = self.core.delta();
        let mut h0 = vec![0u128; CHUNK_ROWS];
        let mut h1 = vec![0u128; CHUNK_ROWS];
        let mut out = Vec::with_capacity(32 * CHUNK_ROWS);
        let mut sent = Ok(());
        for (qs, ms) in q.chunks(CHUNK_ROWS).zip(msgs.chunks(CHUNK_ROWS)) {
            let m = qs.len();
            tccr_batch(self.tweak, 0, qs, &mut h0[..m]);
            tccr_batch(self.tweak, delta, qs, &mut h1[..m]);
            self.tweak += m as u128;
            out.clear();
            for ((a, b), pair) in h0.iter().zip(&h1).zip(ms) {
                out.extend_from_slice(&(pair[0] ^ a).to_le_bytes());
                out.extend_from_slice(&(pair[1] ^ b).to_le_bytes());
            }
            sent = ch.send(self.peer, &out);
            if sent.is_err() {
                break;
            }
        }
        q.zeroize();
        h0.zeroize();
        h1.zeroize();
        out.zeroize();
        sent.map_err(Error::from)
    }
}

/// A hook that rewrites an outgoing extension message (tests play a cheating receiver).
#[cfg(test)]
pub(crate) type Tamper = Box<dyn FnMut(&mut [u8], usize) + Send>;

/// The choosing side of an OT extension.
pub(crate) struct ExtReceiver<R> {
    core: R,
    peer: PartyId,
    prg: Prg,
    tweak: u128,
    check: CheckContext,
    aborted: bool,
    #[cfg(test)]
    pub(crate) tamper: Option<Tamper>,
}

impl<R: ReceiverCore> ExtReceiver<R> {
    /// The receiver `me` of the extension from `peer`, in `session` (the protocol's derived id).
    pub(crate) fn new(core: R, me: PartyId, peer: PartyId, session: &SessionId, prg: Prg) -> Self {
        Self {
            core,
            peer,
            prg,
            tweak: 0,
            check: CheckContext::new(session, peer, me),
            aborted: false,
            #[cfg(test)]
            tamper: None,
        }
    }

    /// Extends `n` rows `t_i` and proves them consistent; returns them with all packed choices.
    fn extend<C: Channel + ?Sized>(
        &mut self,
        ch: &mut C,
        n: usize,
        choices: Option<&[bool]>,
    ) -> Result<(Vec<u128>, Vec<u8>)> {
        let counter = self.check.next();
        let total = total_rows(n);
        let peer = self.peer;
        let fixed = choices.is_some();
        ch.begin_step(ROWS_STEP);
        let mut packed = vec![0u8; total / 8];
        if let Some(choices) = choices {
            // The caller's bits, then random padding rows.
            self.prg.fill_bytes(&mut packed);
            let mut head = vec![0u8; n.div_ceil(8)];
            pack_bits(choices, &mut head);
            if !n.is_multiple_of(8) {
                let keep = 0xFFu8 << (n % 8);
                head[n / 8] |= packed[n / 8] & keep;
            }
            packed[..head.len()].copy_from_slice(&head);
            head.zeroize();
        }
        let mut t = vec![0u128; total];
        let mut cols = vec![0u8; 16 * CHUNK_ROWS.min(total)];
        let mut msg = Vec::new();
        let mut start = 0;
        let mut sent = Ok(());
        while start < total {
            let rows = CHUNK_ROWS.min(total - start);
            msg.clear();
            let bits = &mut packed[start / 8..(start + rows) / 8];
            self.core.extend(rows, fixed, bits, &mut cols[..16 * rows], &mut msg);
            #[cfg(test)]
            if let Some(tamper) = self.tamper.as_mut() {
                tamper(&mut msg, rows);
            }
            sent = ch.send(peer, &msg);
            if sent.is_err() {
                break;
            }
            transpose_columns(&cols[..16 * rows], rows, &mut t[start..start + rows]);
            start += rows;
        }
        cols.zeroize();
        msg.zeroize();
        let checked = sent.map_err(Error::from).and_then(|()| {
            ch.begin_step(CHECK_STEP);
            self.prove(ch, counter, &t, &packed)
        });
        if let Err(e) = checked {
            t.zeroize();
            packed.zeroize();
            return Err(e);
        }
        t.truncate(n);
        Ok((t, packed))
    }

    /// The receiver's half of the check: commit to a seed share, receive the sender's, reply.
    fn prove<C: Channel + ?Sized>(
        &mut self,
        ch: &mut C,
        counter: u64,
        t: &[u128],
        packed: &[u8],
    ) -> Result<()> {
        let peer = self.peer;
        let seed_r = self.prg.next_u128();
        let (commitment, opening) =
            commit::commit(&self.check.binding(counter), &seed_r.to_le_bytes(), &mut self.prg);
        ch.send(peer, &commitment.0)?;
        let seed_s = load(&recv_exact(ch, peer, 16)?, 0);
        let (sum, x) = check_sums(t, Some(packed), self.check.chi_seed(counter, seed_s, seed_r));
        let mut reply = Vec::with_capacity(64);
        reply.extend_from_slice(&opening.0);
        for w in [seed_r, x, sum] {
            reply.extend_from_slice(&w.to_le_bytes());
        }
        ch.send(peer, &reply)?;
        Ok(())
    }

    pub(crate) fn correlated<C: Channel + ?Sized>(
        &mut self,
        ch: &mut C,
        choices: &[bool],
    ) -> Result<Vec<u128>> {
        live(self.aborted)?;
        let r = self.extend(ch, choices.len(), Some(choices)).map(|(t, _)| t);
        seal(&mut self.aborted, r)
    }

    pub(crate) fn random<C: Channel + ?Sized>(
        &mut self,
        ch: &mut C,
        n: usize,
    ) -> Result<(Vec<bool>, Vec<u128>)> {
        live(self.aborted)?;
        let r = self.extend(ch, n, None);
        let (mut t, mut packed) = seal(&mut self.aborted, r)?;
        let choices = (0..n).map(|i| bit(&packed, i)).collect();
        let mut out = vec![0u128; n];
        tccr_batch(self.tweak, 0, &t, &mut out);
        self.tweak += n as u128;
        t.zeroize();
        packed.zeroize();
        Ok((choices, out))
    }

    pub(crate) fn chosen<C: Channel + ?Sized>(
        &mut self,
        ch: &mut C,
        choices: &[bool],
    ) -> Result<Vec<u128>> {
        live(self.aborted)?;
        let r = self.chosen_unguarded(ch, choices);
        seal(&mut self.aborted, r)
    }

    fn chosen_unguarded<C: Channel + ?Sized>(
        &mut self,
        ch: &mut C,
        choices: &[bool],
    ) -> Result<Vec<u128>> {
        let (mut t, mut packed) = self.extend(ch, choices.len(), Some(choices))?;
        packed.zeroize();
        ch.begin_step(CHOSEN_STEP);
        let mut out = vec![0u128; t.len()];
        let mut got = Ok(());
        for ((ts, cs), os) in
            t.chunks(CHUNK_ROWS).zip(choices.chunks(CHUNK_ROWS)).zip(out.chunks_mut(CHUNK_ROWS))
        {
            let m = ts.len();
            tccr_batch(self.tweak, 0, ts, os);
            self.tweak += m as u128;
            let y = match recv_exact(ch, self.peer, 32 * m) {
                Ok(y) => y,
                Err(e) => {
                    got = Err(e);
                    break;
                }
            };
            for (i, (o, &c)) in os.iter_mut().zip(cs).enumerate() {
                let (y0, y1) = (load(&y, 2 * i), load(&y, 2 * i + 1));
                *o ^= y0 ^ ((y0 ^ y1) & mask128(c));
            }
        }
        t.zeroize();
        if let Err(e) = got {
            out.zeroize();
            return Err(e);
        }
        Ok(out)
    }
}

/// Writes the public `Sender`/`Receiver` wrappers of one extension protocol.
macro_rules! public_api {
    ($sender_core:ty, $receiver_core:ty) => {
        /// The sender of the OT extension: holds the global Δ.
        pub struct Sender {
            inner: $crate::ext::ExtSender<$sender_core>,
        }

        /// The receiver of the OT extension: picks (or receives random) choice bits.
        pub struct Receiver {
            inner: $crate::ext::ExtReceiver<$receiver_core>,
        }

        impl Sender {
            /// The global correlation Δ: for correlated OT, `t_i = q_i ⊕ b_i·Δ`.
            pub fn delta(&self) -> u128 {
                self.inner.delta()
            }

            /// `n` correlated OTs: returns `q_i`; the receiver gets `t_i = q_i ⊕ b_i·Δ` for its
            /// chosen bits `b_i`. The peer must call [`Receiver::correlated`] with `n` choices.
            pub fn correlated<C: tessera_mpc::Channel + ?Sized>(
                &mut self,
                ch: &mut C,
                n: usize,
            ) -> $crate::Result<Vec<u128>> {
                self.inner.correlated(ch, n)
            }

            /// `n` random OTs: returns the pairs `(m_i^0, m_i^1)`; the receiver gets random bits
            /// `b_i` and `m_i^{b_i}`. The peer must call [`Receiver::random`] with the same `n`.
            pub fn random<C: tessera_mpc::Channel + ?Sized>(
                &mut self,
                ch: &mut C,
                n: usize,
            ) -> $crate::Result<Vec<[u128; 2]>> {
                self.inner.random(ch, n)
            }

            /// Chosen-message OT of `msgs.len()` pairs; the receiver learns `msgs[i][b_i]` only.
            /// The peer must call [`Receiver::chosen`] with as many choices.
            pub fn chosen<C: tessera_mpc::Channel + ?Sized>(
                &mut self,
                ch: &mut C,
                msgs: &[[u128; 2]],
            ) -> $crate::Result<()> {
                self.inner.chosen(ch, msgs)
            }
        }

        impl Receiver {
            /// Correlated OTs on `choices`: returns `t_i = q_i ⊕ b_i·Δ`.
            pub fn correlated<C: tessera_mpc::Channel + ?Sized>(
                &mut self,
                ch: &mut C,
                choices: &[bool],
            ) -> $crate::Result<Vec<u128>> {
                self.inner.correlated(ch, choices)
            }

            /// `n` random OTs: returns the random choice bits `b_i` and `m_i^{b_i}`.
            pub fn random<C: tessera_mpc::Channel + ?Sized>(
                &mut self,
                ch: &mut C,
                n: usize,
            ) -> $crate::Result<(Vec<bool>, Vec<u128>)> {
                self.inner.random(ch, n)
            }

            /// Chosen-message OTs on `choices`: returns `msgs[i][b_i]`.
            pub fn chosen<C: tessera_mpc::Channel + ?Sized>(
                &mut self,
                ch: &mut C,
                choices: &[bool],
            ) -> $crate::Result<Vec<u128>> {
                self.inner.chosen(ch, choices)
            }
        }

        impl std::fmt::Debug for Sender {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("Sender(<secret state>)")
            }
        }

        impl std::fmt::Debug for Receiver {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("Receiver(<secret state>)")
            }
        }
    };
}

pub(crate) use public_api;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_check_equals_the_per_row_definition() {
        let rows_n = 2048 + 8 * 1024; // crosses a χ refill
        let mut prg = Prg::from_seed(&Seed([11; 16]));
        let rows: Vec<u128> = (0..rows_n).map(|_| prg.next_u128()).collect();
        let mut bits = vec![0u8; rows_n / 8];
        prg.fill_bytes(&mut bits);
        let (acc, x) = check_sums(&rows, Some(&bits), 42);

        // χ_i rebuilt from the same column-wise stream, then Σ χ_i·q_i and Σ r_i·χ_i.
        let mut chi_prg = Prg::from_seed(&Seed(42u128.to_le_bytes()));
        let mut chunk = vec![0u8; 128 * 1024];
        let (mut want_acc, mut want_x) = (0u128, 0u128);
        for (i, row) in rows.iter().enumerate() {
            let g = i / 8;
            if g % 1024 == 0 && i % 8 == 0 {
                chi_prg.fill_bytes(&mut chunk);
            }
            let c = &chunk[128 * (g % 1024)..];
            let chi_i = (0..128).fold(0u128, |a, k| a | (u128::from((c[k] >> (i % 8)) & 1) << k));
            want_acc ^= gf_mul(chi_i, *row);
            want_x ^= chi_i & mask128(bit(&bits, i));
        }
        assert_eq!((acc, x), (want_acc, want_x));
    }
}
