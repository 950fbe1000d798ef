//! Matrix triple generation: HE cross terms, authentication through input masks, sacrifice.

use std::sync::Arc;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tessera_accelerator::Accelerator;
use tessera_fhe::matrix::{
    MatCiphertext, MatPublicKey, MatSecretKey, MatrixHe, MatrixTiling, PreparedPlain,
    SeededCiphertext,
};
use tessera_mpc::coin::Coins;
use tessera_mpc::{Channel, Field, Fp127, PartyId, Ring, SessionId};

use super::linalg::matmul;
use super::sacrifice::{Candidates, sacrifice};
use super::triple::{MatrixShape, MatrixTriple};
use crate::spdz::mac_check::{OpenedLog, coin_error};
use crate::spdz::{Fault, Preprocessing, Shared};
use crate::{Error, Result};

/// Step of the public-key exchange.
pub(crate) const KEYS_STEP: &str = "spdz/matrix/keys";
/// Step in which each party sends its encrypted right-matrix share.
pub(crate) const UPLOAD_STEP: &str = "spdz/matrix/upload";
/// Step in which each party returns the masked products.
pub(crate) const RETURN_STEP: &str = "spdz/matrix/return";
/// Step in which each party broadcasts its masked C shares for authentication.
pub(crate) const AUTH_STEP: &str = "spdz/matrix/auth";

/// Largest matrix side accepted, so a shape cannot ask for unbounded work or memory.
pub const MAX_DIMENSION: usize = 1 << 12;

/// Counters of what a [`MatrixTripleGen`] has made and sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MatrixStats {
    /// Checked triples produced.
    pub triples: u64,
    /// Ciphertexts uploaded (encrypted right-matrix tiles).
    pub uploads: u64,
    /// Ciphertexts returned to peers (masked products).
    pub returns: u64,
}

/// One party's matrix-triple generator: its HE key, its peers' public keys and the coins of the
/// sacrifice. Every party must create it and draw from it with the same calls in the same order.
/// After any failure it is locked ([`Error::Aborted`]).
pub struct MatrixTripleGen {
    me: PartyId,
    parties: usize,
    he: Arc<MatrixHe>,
    sk: MatSecretKey,
    peer_keys: Vec<Option<MatPublicKey>>,
    coins: Coins,
    rng: ChaCha20Rng,
    aborted: bool,
    stats: MatrixStats,
    fault: crate::spdz::fault::FaultSlot,
}

fn to_u128(xs: &[Fp127]) -> Vec<u128> {
    xs.iter().map(Field::to_u128).collect()
}

fn from_u128(xs: &[u128]) -> Vec<Fp127> {
    xs.iter().map(|&v| Fp127::from_u128(v)).collect()
}

impl MatrixTripleGen {
    /// Agrees on a fresh session id with every peer, makes this party's HE key and exchanges
    /// public keys (one message of about 0.9 MB per peer). `acc` runs the NTTs.
    pub fn setup(ch: &mut dyn Channel, acc: Arc<Accelerator>) -> Result<Self> {
        let sid = SessionId::agree(ch, b"tessera/spdz/matrix").map_err(coin_error)?;
        let he = Arc::new(MatrixHe::new(acc)?);
        let mut rng = ChaCha20Rng::from_entropy();
        let (pk, sk) = he.keygen(&mut rng)?;
        ch.begin_step(KEYS_STEP);
        ch.broadcast(&pk.to_bytes())?;
        let mut peer_keys: Vec<Option<MatPublicKey>> =
            (0..ch.num_parties()).map(|_| None).collect();
        for peer in ch.peers() {
            let key = MatPublicKey::from_bytes(&he, &ch.recv(peer)?)?;
            peer_keys[peer.index()] = Some(key);
        }
        Ok(Self {
            me: ch.party(),
            parties: ch.num_parties(),
            he,
            sk,
            peer_keys,
            coins: Coins::new(sid.derive(b"tessera/spdz/matrix/checks", &[])),
            rng,
            aborted: false,
            stats: MatrixStats::default(),
            fault: Default::default(),
        })
    }

    /// Makes this party cheat in the given way (tests only).
    #[cfg(feature = "test-faults")]
    pub fn inject_fault(&mut self, fault: Fault) {
        self.fault.set(fault);
    }

    fn faulty(&self, f: Fault) -> bool {
        self.fault.is(f)
    }

    /// What has been made so far.
    pub fn stats(&self) -> MatrixStats {
        self.stats
    }

    /// Whether an earlier failure locked this generator.
    pub fn is_aborted(&self) -> bool {
        self.aborted
    }

    /// One checked matrix triple of `shape`, authenticated under `prep`'s MAC key (use it in a
    /// session on the same `prep`). Locks this generator and `prep` on any failure.
    pub fn generate<P: Preprocessing<Fp127>>(
        &mut self,
        ch: &mut dyn Channel,
        prep: &mut P,
        shape: MatrixShape,
    ) -> Result<MatrixTriple<Fp127>> {
        if self.aborted {
            return Err(Error::Aborted);
        }
        let r = self.generate_inner(ch, prep, shape);
        if r.is_err() {
            self.aborted = true;
            prep.abort();
        }
        r
    }

    fn generate_inner<P: Preprocessing<Fp127>>(
        &mut self,
        ch: &mut dyn Channel,
        prep: &mut P,
        shape: MatrixShape,
    ) -> Result<MatrixTriple<Fp127>> {
        let (m, k, n) = shape.dims();
        if [m, k, n].iter().any(|&d| d == 0 || d > MAX_DIMENSION) {
            return Err(Error::Misuse(format!("matrix triple shape {m}×{k}×{n}")));
        }
        let tiling = MatrixTiling::new(m, k, n, self.he.ring_degree())?;
        let alpha_i = prep.mac_key_share();
        let first = self.me.index() == 0;
        // 1. Random shares A_i, A'_i, B_i are this party's own input masks: authenticated
        //    already, known in the clear to their owner only (Preprocessing::input_masks).
        let (mk, kn, mn) = (m * k, k * n, m * n);
        let mut a = Shared::from_parts(vec![Fp127::ZERO; mk], vec![Fp127::ZERO; mk]);
        let mut a2 = a.clone();
        let mut b = Shared::from_parts(vec![Fp127::ZERO; kn], vec![Fp127::ZERO; kn]);
        let mut own = None;
        for owner in PartyId::all(self.parties) {
            let masks = prep.input_masks(ch, owner, 2 * mk + kn)?;
            a = a.add(&masks.shares.slice(0..mk)?)?;
            a2 = a2.add(&masks.shares.slice(mk..2 * mk)?)?;
            b = b.add(&masks.shares.slice(2 * mk..2 * mk + kn)?)?;
            if owner == self.me {
                own = masks.clear;
            }
        }
        let own = own.ok_or_else(|| Error::Misuse("own input masks missing".into()))?;
        if own.len() != 2 * mk + kn {
            return Err(Error::Misuse("own input masks have the wrong length".into()));
        }
        let (a_i, rest) = own.split_at(mk);
        let (a2_i, b_i) = rest.split_at(mk);
        // 2. Cross terms A_i·B_j by HE; C_i = A_i·B_i + Σ_j (−R_ij) + Σ_j D_ji.
        let mut c_i = matmul(a_i, b_i, m, k, n);
        let mut c2_i = matmul(a2_i, b_i, m, k, n);
        self.cross_terms(ch, &tiling, (a_i, a2_i, b_i), (&mut c_i, &mut c2_i))?;
        if self.faulty(Fault::MatrixCorruptC) {
            c_i[0] += Fp127::ONE;
        }
        // 3. Authenticate C_i, C'_i: every owner opens its values minus its input masks.
        let mut log = OpenedLog::default();
        let mut c = Shared::from_parts(vec![Fp127::ZERO; mn], vec![Fp127::ZERO; mn]);
        let mut c2 = c.clone();
        let mut mine = c_i;
        mine.extend_from_slice(&c2_i);
        for owner in PartyId::all(self.parties) {
            let masks = prep.input_masks(ch, owner, 2 * mn)?;
            ch.begin_step(AUTH_STEP);
            let eps = if owner == self.me {
                let r =
                    masks.clear.as_ref().filter(|r| r.len() == 2 * mn).ok_or_else(|| {
                        Error::Misuse("own input masks have the wrong length".into())
                    })?;
                let eps: Vec<Fp127> = mine.iter().zip(r).map(|(x, r)| *x - *r).collect();
                let msg = Fp127::encode_slice(&eps);
                ch.broadcast(&msg)?;
                log.record_broadcast(owner.index(), &msg);
                eps
            } else {
                let msg = ch.recv(owner)?;
                let eps = Fp127::decode_exact(&msg, 2 * mn)?;
                log.record_broadcast(owner.index(), &msg);
                eps
            };
            let share = masks.shares.add_public(&eps, alpha_i, first)?;
            c = c.add(&share.slice(0..mn)?)?;
            c2 = c2.add(&share.slice(mn..2 * mn)?)?;
        }
        // 4. Sacrifice (A', C') to check (A, B, C).
        let cand = Candidates { shape, a, a2, b, c, c2 };
        let triple = sacrifice(ch, &mut self.coins, alpha_i, log, cand)?;
        self.stats.triples += 1;
        Ok(triple)
    }

    /// Runs both roles with every peer: upload Enc_i(B_i) to all, return
    /// Enc_j(A_i·B_j − R_ij) and Enc_j(A'_i·B_j − R'_ij) to each j, decrypt what comes back.
    fn cross_terms(
        &mut self,
        ch: &mut dyn Channel,
        tiling: &MatrixTiling,
        (a_i, a2_i, b_i): (&[Fp127], &[Fp127], &[Fp127]),
        (c_i, c2_i): (&mut [Fp127], &mut [Fp127]),
    ) -> Result<()> {
        let he = Arc::clone(&self.he);
        let (tm, tk, tn) = tiling.tiles();
        let peers = ch.peers();
        // Upload: this party's B_i, tile by tile, one message per ciphertext.
        ch.begin_step(UPLOAD_STEP);
        for poly in tiling.encode_right(&to_u128(b_i))? {
            let ct = he.encrypt(&self.sk, &poly, &mut self.rng)?;
            ch.broadcast(&ct.to_bytes())?;
            self.stats.uploads += 1;
        }
        // Evaluate for each peer with this party's A_i and A'_i.
        let mut left_a = to_u128(a_i);
        if self.faulty(Fault::MatrixWrongLeft) {
            left_a[0] = (Fp127::from_u128(left_a[0]) + Fp127::ONE).to_u128();
        }
        let prep_left = |vals: &[u128]| -> Result<Vec<PreparedPlain>> {
            tiling
                .encode_left(vals)?
                .iter()
                .map(|p| he.prepare_plain(p).map_err(Error::from))
                .collect()
        };
        let lefts = [prep_left(&left_a)?, prep_left(&to_u128(a2_i))?];
        let ring = he.ring_degree();
        ch.begin_step(RETURN_STEP);
        for &peer in &peers {
            let mut uploads = Vec::with_capacity(tk * tn);
            for _ in 0..tk * tn {
                let ct = SeededCiphertext::from_bytes(&he, &ch.recv(peer)?)?;
                uploads.push(he.prepare(&ct)?);
            }
            // Taken out while in use (a failure locks the generator, so it need not come back).
            let mut key = self.peer_keys[peer.index()]
                .take()
                .ok_or_else(|| Error::Misuse(format!("no public key of {peer}")))?;
            for (left, out) in lefts.iter().zip([&mut *c_i, &mut *c2_i]) {
                let mut masks = Vec::with_capacity(tm * tn);
                for ti in 0..tm {
                    for tj in 0..tn {
                        let terms: Vec<_> = (0..tk)
                            .map(|tl| (&uploads[tl * tn + tj], &left[ti * tk + tl]))
                            .collect();
                        let mask = self.uniform_mask(ring);
                        let mut sent = mask.clone();
                        if self.faulty(Fault::MatrixWrongProduct) && ti == 0 && tj == 0 {
                            // Coefficient of C[0][0] in tile (0, 0).
                            let pos = tiling.kt - 1;
                            sent[pos] = (Fp127::from_u128(sent[pos]) + Fp127::ONE).to_u128();
                        }
                        let ct = he.multiply_accumulate(&mut key, &terms, &sent, &mut self.rng)?;
                        ch.send(peer, &ct.to_bytes())?;
                        self.stats.returns += 1;
                        masks.push(mask);
                    }
                }
                // The decryptor gets A_i·B_j + R: this party keeps −R.
                for (o, r) in out.iter_mut().zip(from_u128(&tiling.decode_product(&masks)?)) {
                    *o -= r;
                }
            }
            self.peer_keys[peer.index()] = Some(key);
        }
        // Decrypt what each peer returned for this party's B_i.
        for &peer in &peers {
            for out in [&mut *c_i, &mut *c2_i] {
                let mut polys = Vec::with_capacity(tm * tn);
                for _ in 0..tm * tn {
                    let ct = MatCiphertext::from_bytes(&he, &ch.recv(peer)?)?;
                    polys.push(he.decrypt(&self.sk, &ct)?);
                }
                for (o, d) in out.iter_mut().zip(from_u128(&tiling.decode_product(&polys)?)) {
                    *o += d;
                }
            }
        }
        Ok(())
    }

    /// `len` coefficients uniform in `[0, p)`.
    fn uniform_mask(&mut self, len: usize) -> Vec<u128> {
        use rand_core::RngCore;
        (0..len)
            .map(|_| {
                loop {
                    let v = ((u128::from(self.rng.next_u64()) << 64)
                        | u128::from(self.rng.next_u64()))
                        >> 1;
                    if v < Fp127::MODULUS {
                        break v;
                    }
                }
            })
            .collect()
    }
}
