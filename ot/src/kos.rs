//! KOS15: maliciously secure OT extension on IKNP.
//!
//! Follows Keller, Orsini and Scholl, "Actively Secure OT Extension with Optimal Overhead"
//! (CRYPTO 2015), §3, itself the IKNP extension of Ishai, Kilian, Nissim and Petrank
//! (CRYPTO 2003) with a correlation check. Roles are reversed for the base OTs: the extension
//! sender picks Δ and receives `k_j^{Δ_j}` in 128 base OTs ([`crate::base`]); the receiver knows
//! both `k_j^0, k_j^1`. For each chunk of rows, the receiver sends the columns
//! `u^j = G(k_j^0) ⊕ G(k_j^1) ⊕ r` (128 bits per OT), keeps `t^j = G(k_j^0)`, and the sender sets
//! `q^j = G(k_j^{Δ_j}) ⊕ Δ_j·u^j = t^j ⊕ Δ_j·r`; rows then satisfy `t_i = q_i ⊕ r_i·Δ`. `G` is
//! AES-128-CTR. The consistency check and the output hashing are shared with SoftSpokenOT
//! (module `ext`).
//!
//! Security: malicious sender and receiver, κ = 128 computational, σ = 64 statistical for the
//! check (KOS15, Theorem 1), given maliciously secure base OTs. The check does not stop a
//! malicious receiver from *trying* to learn Δ: a row whose choice bits differ in t columns
//! passes exactly when it guesses those t bits of Δ, so it learns t bits with probability 2^-t
//! of not being caught and must still guess the other 128 − t (KOS15, §3, proof of Theorem 1:
//! the combined cost stays 2^-128). That bound needs a single try per Δ: after a failed check the
//! objects are locked ([`crate::Error::Aborted`]), and a new Δ needs a new setup. Everything is
//! bound to the caller's `session` (base OTs, the check's commitment and challenge; module
//! `ext`). Communication: 128 bits per OT (plus 256 bits per OT for chosen messages), plus 256
//! padding rows and 112 bytes per call.
//!
//! ```
//! use tessera_mpc::{Channel, PartyId, Prg, SessionId, harness};
//! use tessera_ot::kos;
//!
//! let runs = harness::run_in_memory(2, |ch: &mut dyn Channel| -> tessera_ot::Result<_> {
//!     let mut prg = Prg::from_entropy();
//!     // A fresh id both parties agree on (or one the caller made unique).
//!     let session = SessionId::agree(ch, b"example")?;
//!     if ch.party() == PartyId(0) {
//!         let mut s = kos::Sender::setup(ch, PartyId(1), &session, &mut prg)?;
//!         let q = s.correlated(ch, 1000)?;
//!         Ok((q, s.delta()))
//!     } else {
//!         let mut r = kos::Receiver::setup(ch, PartyId(0), &session, &mut prg)?;
//!         let choices: Vec<bool> = (0..1000).map(|i| i % 3 == 0).collect();
//!         Ok((r.correlated(ch, &choices)?, 0))
//!     }
//! });
//! let (q, delta) = runs[0].output.as_ref().unwrap();
//! let (t, _) = runs[1].output.as_ref().unwrap();
//! for i in 0..1000 {
//!     assert_eq!(t[i], q[i] ^ if i % 3 == 0 { *delta } else { 0 });
//! }
//! ```

use tessera_mpc::{Channel, PartyId, Prg, SessionId};
use zeroize::Zeroize;

use crate::base;
use crate::block::xor_into;
use crate::error::Result;
use crate::ext::{ExtReceiver, ExtSender, ReceiverCore, SenderCore, public_api};
use crate::hash::AesCtr;

/// Number of base OTs and columns: the computational security parameter κ.
const KAPPA: usize = 128;

pub(crate) struct KosSenderCore {
    delta: u128,
    columns: Vec<AesCtr>,
}

impl Drop for KosSenderCore {
    fn drop(&mut self) {
        self.delta.zeroize();
    }
}

impl SenderCore for KosSenderCore {
    fn delta(&self) -> u128 {
        self.delta
    }

    fn msg_len(&self, rows: usize, _fixed: bool) -> usize {
        KAPPA * rows / 8
    }

    fn extend(&mut self, rows: usize, _fixed: bool, msg: &[u8], cols: &mut [u8]) {
        let cb = rows / 8;
        for (j, (col, u)) in cols.chunks_exact_mut(cb).zip(msg.chunks_exact(cb)).enumerate() {
            self.columns[j].fill(col);
            let mask = 0u8.wrapping_sub(((self.delta >> j) & 1) as u8);
            for (c, u) in col.iter_mut().zip(u) {
                *c ^= u & mask;
            }
        }
    }
}

pub(crate) struct KosReceiverCore {
    columns: Vec<[AesCtr; 2]>,
    prg: Prg,
    scratch: Vec<u8>,
}

impl ReceiverCore for KosReceiverCore {
    fn extend(
        &mut self,
        rows: usize,
        fixed: bool,
        choices: &mut [u8],
        cols: &mut [u8],
        msg: &mut Vec<u8>,
    ) {
        let cb = rows / 8;
        if !fixed {
            self.prg.fill_bytes(choices);
        }
        msg.resize(KAPPA * cb, 0);
        self.scratch.resize(cb, 0);
        for (j, (col, u)) in cols.chunks_exact_mut(cb).zip(msg.chunks_exact_mut(cb)).enumerate() {
            let [g0, g1] = &mut self.columns[j];
            g0.fill(col);
            g1.fill(&mut self.scratch);
            u.copy_from_slice(col);
            xor_into(u, &self.scratch);
            xor_into(u, choices);
        }
        self.scratch.zeroize();
    }
}

public_api!(KosSenderCore, KosReceiverCore);

/// The protocol's id for the extension from `sender` to `receiver`: the base OTs and the checks
/// derive theirs from it.
fn protocol_id(session: &SessionId, sender: PartyId, receiver: PartyId) -> SessionId {
    session.derive(b"tessera/ot/kos", &[sender, receiver])
}

impl Sender {
    /// Runs the 128 base OTs with `peer` (as base-OT receiver, choosing a fresh random Δ), bound
    /// to `session`. The receiver must pass the same `session`.
    pub fn setup<C: Channel + ?Sized>(
        ch: &mut C,
        peer: PartyId,
        session: &SessionId,
        prg: &mut Prg,
    ) -> Result<Self> {
        let me = ch.party();
        let sid = protocol_id(session, me, peer);
        let delta = prg.next_u128();
        let choices: Vec<bool> = (0..KAPPA).map(|j| (delta >> j) & 1 == 1).collect();
        let keys = base::receive(ch, peer, &choices, &sid, prg)?;
        let columns = keys.into_iter().map(AesCtr::new).collect();
        let core = KosSenderCore { delta, columns };
        Ok(Self { inner: ExtSender::new(core, me, peer, &sid, Prg::from_seed(&prg.next_seed())) })
    }
}

impl Receiver {
    /// Runs the 128 base OTs with `peer` (as base-OT sender), bound to `session`.
    pub fn setup<C: Channel + ?Sized>(
        ch: &mut C,
        peer: PartyId,
        session: &SessionId,
        prg: &mut Prg,
    ) -> Result<Self> {
        let me = ch.party();
        let sid = protocol_id(session, peer, me);
        let keys = base::send(ch, peer, KAPPA, &sid, prg)?;
        let columns = keys.into_iter().map(|[k0, k1]| [AesCtr::new(k0), AesCtr::new(k1)]).collect();
        let core =
            KosReceiverCore { columns, prg: Prg::from_seed(&prg.next_seed()), scratch: Vec::new() };
        Ok(Self { inner: ExtReceiver::new(core, me, peer, &sid, Prg::from_seed(&prg.next_seed())) })
    }

    #[cfg(test)]
    pub(crate) fn set_tamper(&mut self, tamper: crate::ext::Tamper) {
        self.inner.tamper = Some(tamper);
    }
}
