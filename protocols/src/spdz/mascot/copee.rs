//! COPEe: correlated oblivious product evaluation with errors, the authentication engine of
//! MASCOT.
//!
//! Keller–Orsini–Scholl, "MASCOT: Faster malicious arithmetic secure computation with oblivious
//! transfer" (CCS 2016), §4.1, Fig. 6. The MAC-key holder P_B fixes its key share α_B once and
//! runs k = log p base OTs on α_B's bits; afterwards the value owner P_A, for every value x,
//! expands the OT seeds with a PRG into t_l^0, t_l^1 and sends u_l = t_l^0 − t_l^1 + x, so that
//! P_B obtains q_l = t_l^{α_l} + α_l·u_l = t_l^0 + α_l·x. Then Σ 2^l·q_l − Σ 2^l·t_l^0 = α_B·x:
//! additive shares of α_B·x, at k field elements of communication per value and no further OT.
//! A P_A that uses different x in different rows is caught by MASCOT's authentication check
//! ([`super::Mascot`]), at the price of possibly learning a few bits of α_B (as in the paper).
//! Security: malicious, κ = 128 (base OT, AES-CTR PRG).

use tessera_mpc::{Channel, Field, PartyId, Prg, Seed, SessionId};
use zeroize::Zeroize;

use crate::Result;

/// Values per COPEe message, so one message stays below k·16·CHUNK bytes (8 MiB).
const CHUNK: usize = 4096;

/// The value owner's side of one COPEe instance: both seeds of every row.
pub(crate) struct CopeeSender<F> {
    peer: PartyId,
    rows: Vec<[Prg; 2]>,
    _field: std::marker::PhantomData<F>,
}

/// The key holder's side: the bits of α_B and the seed it chose in every row.
pub(crate) struct CopeeReceiver<F> {
    peer: PartyId,
    alpha_bits: Vec<F>,
    rows: Vec<Prg>,
}

fn seed_of(key: u128) -> Seed {
    Seed(key.to_le_bytes())
}

impl<F: Field> CopeeSender<F> {
    /// Runs the base OTs as sender (k = MODULUS_BITS of them), bound to `session`.
    pub(crate) fn setup(
        ch: &mut dyn Channel,
        peer: PartyId,
        session: &SessionId,
        prg: &mut Prg,
    ) -> Result<Self> {
        let mut keys = tessera_ot::base::send(ch, peer, F::MODULUS_BITS as usize, session, prg)?;
        let rows = keys
            .iter()
            .map(|[k0, k1]| [Prg::from_seed(&seed_of(*k0)), Prg::from_seed(&seed_of(*k1))])
            .collect();
        keys.iter_mut().for_each(|k| k.zeroize());
        Ok(Self { peer, rows, _field: std::marker::PhantomData })
    }

    /// Sends the COPEe message for `x` and returns this party's shares of α_B·x_i.
    ///
    /// `tamper` makes rows with odd index use x + 1 (tests of the consistency check only).
    pub(crate) fn extend(&mut self, ch: &mut dyn Channel, x: &[F], tamper: bool) -> Result<Vec<F>> {
        let mut shares = Vec::with_capacity(x.len());
        for xs in x.chunks(CHUNK) {
            let m = xs.len();
            let mut msg = vec![0u8; self.rows.len() * m * F::BYTES];
            let mut acc = vec![F::ZERO; m];
            let mut t0 = vec![F::ZERO; m];
            let mut t1 = vec![F::ZERO; m];
            // Rows from the top bit down, so the share is accumulated by doubling (Horner).
            for (l, [p0, p1]) in self.rows.iter_mut().enumerate().rev() {
                F::fill_random(p0, &mut t0);
                F::fill_random(p1, &mut t1);
                let out = &mut msg[l * m * F::BYTES..(l + 1) * m * F::BYTES];
                for (i, chunk) in out.chunks_exact_mut(F::BYTES).enumerate() {
                    let mut xi = xs[i];
                    if tamper && l % 2 == 1 {
                        xi += F::ONE;
                    }
                    (t0[i] - t1[i] + xi).write_le(chunk);
                    acc[i] = acc[i] + acc[i] + t0[i];
                }
            }
            ch.send(self.peer, &msg)?;
            shares.extend(acc.into_iter().map(|a| -a));
        }
        Ok(shares)
    }
}

impl<F: Field> CopeeReceiver<F> {
    /// Runs the base OTs as receiver, choosing the bits of `alpha`, bound to `session`.
    pub(crate) fn setup(
        ch: &mut dyn Channel,
        peer: PartyId,
        alpha: F,
        session: &SessionId,
        prg: &mut Prg,
    ) -> Result<Self> {
        let k = F::MODULUS_BITS as usize;
        let a = alpha.to_u128();
        let choices: Vec<bool> = (0..k).map(|l| (a >> l) & 1 == 1).collect();
        let mut keys = tessera_ot::base::receive(ch, peer, &choices, session, prg)?;
        let rows = keys.iter().map(|k| Prg::from_seed(&seed_of(*k))).collect();
        keys.zeroize();
        let alpha_bits = choices.iter().map(|b| F::from_u64(u64::from(*b))).collect();
        Ok(Self { peer, alpha_bits, rows })
    }

    /// Receives the COPEe message for `n` values and returns this party's shares of α_B·x_i.
    pub(crate) fn extend(&mut self, ch: &mut dyn Channel, n: usize) -> Result<Vec<F>> {
        let mut shares = Vec::with_capacity(n);
        let mut done = 0;
        while done < n {
            let m = CHUNK.min(n - done);
            let msg = ch.recv_exact(self.peer, self.rows.len() * m * F::BYTES)?;
            let mut acc = vec![F::ZERO; m];
            let mut t = vec![F::ZERO; m];
            for (l, prg) in self.rows.iter_mut().enumerate().rev() {
                F::fill_random(prg, &mut t);
                let bit = self.alpha_bits[l];
                let row = &msg[l * m * F::BYTES..(l + 1) * m * F::BYTES];
                for (i, chunk) in row.chunks_exact(F::BYTES).enumerate() {
                    let u = F::read_le(chunk)?;
                    // Multiplying by the bit (0 or 1) instead of branching keeps α's bits out of
                    // the timing.
                    acc[i] = acc[i] + acc[i] + t[i] + bit * u;
                }
            }
            shares.extend(acc);
            done += m;
        }
        Ok(shares)
    }
}
