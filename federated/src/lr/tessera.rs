//! Tessera's schedule for vertical LR (see the [module docs](super)): encrypted rows once,
//! then one packed aggregate per party, class and batch, for one guest and any number of hosts.

use std::ops::Range;

use rayon::prelude::*;
use tessera_fhe::{PaillierCiphertext, PaillierPublicKey, PaillierSecretKey};
use tessera_mpc::{Channel, PartyId};

use super::{
    ClassWeights, HeteroLogisticRegression, Parties, Role, dot, header, keygen, parse_header,
};
use crate::paillier::{
    decode_cts, encode_cts, encrypt_all, pack, quantise, slots_per_ciphertext, unpack, weighted_sum,
};
use crate::stats::{PhaseStats, PhaseTimer};
use crate::{Error, Result, VerticalDataset};

/// Another party's encrypted rows, under that party's key.
struct PeerRows {
    pk: PaillierPublicKey,
    /// Ciphertexts per row.
    k: usize,
    rows: Vec<PaillierCiphertext>,
}

impl PeerRows {
    fn parse(head: &[u8], body: &[u8], n: usize) -> Result<(Self, usize)> {
        let (width, pk) = parse_header(head, n)?;
        let k = width.div_ceil(slots_per_ciphertext(&pk));
        let count = n.checked_mul(k).ok_or(Error::PeerMessage("row count overflows"))?;
        let rows = decode_cts(&pk, body, count)?;
        Ok((Self { pk, k, rows }, width))
    }

    /// `Σ_i q_i·[[row i]]` over `batch`, one ciphertext per packed chunk.
    fn aggregate(&self, batch: &Range<usize>, q: &[i64]) -> Result<Vec<PaillierCiphertext>> {
        (0..self.k)
            .into_par_iter()
            .map(|c| {
                weighted_sum(
                    &self.pk,
                    batch.clone().zip(q).map(|(i, &qi)| (qi, &self.rows[i * self.k + c])),
                )
            })
            .collect()
    }
}

/// Parses a peer's setup (header and encrypted rows) as [`PeerRows`] does; returns the row
/// width and the number of ciphertexts (for the fuzz targets, `crate::fuzzing`).
pub(crate) fn parse_peer_rows(head: &[u8], body: &[u8], n: usize) -> Result<(usize, usize)> {
    let (rows, width) = PeerRows::parse(head, body, n)?;
    Ok((width, rows.rows.len()))
}

/// Own key pair and row width.
struct Own {
    pk: PaillierPublicKey,
    sk: PaillierSecretKey,
    width: usize,
    k: usize,
}

impl Own {
    /// Decrypts `k` packed ciphertexts into `width` fixed-point values (scale `2^(2s)`).
    fn open(&self, bytes: &[u8], s: u32) -> Result<Vec<f64>> {
        let cts = decode_cts(&self.pk, bytes, self.k)?;
        let slots = slots_per_ciphertext(&self.pk);
        let mut out = Vec::with_capacity(self.width);
        for (c, ct) in cts.iter().enumerate() {
            let count = slots.min(self.width - c * slots);
            let vals = unpack(&self.sk.decrypt(ct), self.pk.modulus(), count);
            out.extend(vals.into_iter().map(|v| v as f64 / f64::from(1u32 << s).powi(2)));
        }
        Ok(out)
    }
}

/// Splits `msg` into consecutive pieces of the given lengths, refusing a wrong total.
fn split<'a>(msg: &'a [u8], lens: &[usize]) -> Result<Vec<&'a [u8]>> {
    if lens.iter().sum::<usize>() != msg.len() {
        return Err(Error::PeerMessage("wrong aggregate length"));
    }
    let mut out = Vec::with_capacity(lens.len());
    let mut at = 0;
    for &l in lens {
        out.push(&msg[at..at + l]);
        at += l;
    }
    Ok(out)
}

/// Trains `classes` one-vs-rest models (one when binary) at this party.
pub(super) fn train(
    cfg: &HeteroLogisticRegression,
    ch: &mut dyn Channel,
    parties: &Parties,
    role: Role,
    data: &VerticalDataset,
    targets: &[Vec<f64>],
    classes: usize,
) -> Result<(Vec<ClassWeights>, Vec<PhaseStats>, Vec<f64>)> {
    let s = cfg.scale_bits;
    let n = data.len();
    let d = data.num_features();
    let me = ch.party();
    let timer = PhaseTimer::start("setup", ch);
    // The guest's encrypted rows carry 1 (intercept) and 2y_k − 1 per class (loss) after x.
    let width = if role == Role::Guest { d + 1 + classes } else { d };
    let (pk, sk) = keygen(cfg.key_bits)?;
    let slots = slots_per_ciphertext(&pk);
    let k = width.div_ceil(slots);
    let own = Own { pk, sk, width, k };
    let mut plain = Vec::with_capacity(n * k);
    for i in 0..n {
        let mut row: Vec<i64> = data.row(i).iter().map(|&x| quantise(x, s)).collect();
        if role == Role::Guest {
            row.push(quantise(1.0, s));
            for t in targets {
                row.push(quantise(2.0 * t[i] - 1.0, s));
            }
        }
        for chunk in row.chunks(slots) {
            plain.push(pack(chunk, own.pk.modulus()));
        }
    }
    let my_head = header(n, width, &own.pk);
    let mut weights: Vec<ClassWeights> = vec![(vec![0.0; d], 0.0); classes];
    let mut loss_history = Vec::new();
    let mut phases = Vec::new();
    match role {
        Role::Guest => {
            for &h in &parties.hosts {
                ch.send(h, &my_head)?;
            }
            let heads: Vec<Vec<u8>> =
                parties.hosts.iter().map(|&h| ch.recv(h)).collect::<std::result::Result<_, _>>()?;
            for head in &heads {
                let (host_features, _) = parse_header(head, n)?;
                cfg.check_batches_hide_labels(n, host_features)?;
            }
            let mine = encode_cts(&own.pk, &encrypt_all(&own.pk, &plain)?);
            for &h in &parties.hosts {
                ch.send(h, &mine)?;
            }
            let bodies: Vec<Vec<u8>> =
                parties.hosts.iter().map(|&h| ch.recv(h)).collect::<std::result::Result<_, _>>()?;
            // Relay each host's rows to the other hosts (header, then rows).
            for &h in &parties.hosts {
                for (j, &other) in parties.hosts.iter().enumerate() {
                    if other != h {
                        ch.send(h, &heads[j])?;
                        ch.send(h, &bodies[j])?;
                    }
                }
            }
            let hosts: Vec<PeerRows> = heads
                .iter()
                .zip(&bodies)
                .map(|(hd, b)| PeerRows::parse(hd, b, n).map(|p| p.0))
                .collect::<Result<_>>()?;
            phases.push(timer.finish(ch));
            let train_timer = PhaseTimer::start("train", ch);
            for _ in 0..cfg.epochs {
                for batch in cfg.batches(n) {
                    let loss = guest_step(
                        cfg,
                        ch,
                        parties,
                        data,
                        targets,
                        &own,
                        &hosts,
                        batch,
                        &mut weights,
                    )?;
                    loss_history.extend(loss);
                }
            }
            phases.push(train_timer.finish(ch));
        }
        Role::Host => {
            let g = parties.guest;
            ch.send(g, &my_head)?;
            let g_head = ch.recv(g)?;
            parse_header(&g_head, n)?;
            ch.send(g, &encode_cts(&own.pk, &encrypt_all(&own.pk, &plain)?))?;
            let (guest_rows, g_width) = PeerRows::parse(&g_head, &ch.recv(g)?, n)?;
            // The guest's rows end in the intercept and one label slot per class.
            if g_width < classes + 2 {
                return Err(Error::PeerMessage("guest row width too small for the classes"));
            }
            let mut others = Vec::new();
            for &h in parties.hosts.iter().filter(|&&h| h != me) {
                let head = ch.recv(g)?;
                let body = ch.recv(g)?;
                others.push((h, PeerRows::parse(&head, &body, n)?.0));
            }
            phases.push(timer.finish(ch));
            let train_timer = PhaseTimer::start("train", ch);
            for _ in 0..cfg.epochs {
                for batch in cfg.batches(n) {
                    host_step(
                        cfg,
                        ch,
                        parties,
                        data,
                        &own,
                        &guest_rows,
                        &others,
                        batch,
                        &mut weights,
                    )?;
                }
            }
            phases.push(train_timer.finish(ch));
        }
    }
    Ok((weights, phases, loss_history))
}

#[allow(clippy::too_many_arguments)]
fn host_step(
    cfg: &HeteroLogisticRegression,
    ch: &mut dyn Channel,
    parties: &Parties,
    data: &VerticalDataset,
    own: &Own,
    guest_rows: &PeerRows,
    others: &[(PartyId, PeerRows)],
    batch: Range<usize>,
    weights: &mut [ClassWeights],
) -> Result<()> {
    let s = cfg.scale_bits;
    let m = batch.len() as f64;
    let single = parties.hosts.len() == 1;
    let u: Vec<Vec<f64>> =
        weights.iter().map(|(w, _)| batch.clone().map(|i| dot(w, data.row(i))).collect()).collect();
    let q: Vec<Vec<i64>> =
        u.iter().map(|uk| uk.iter().map(|&v| quantise(v, s)).collect()).collect();
    // To the guest: Σ u_h·[[x̃_g]] per class, then Σ u_h·[[x_h']] per other host and class,
    // then (one host only) Σ u_h² per class for the guest's loss.
    let mut msg = Vec::new();
    for qk in &q {
        msg.extend(encode_cts(&guest_rows.pk, &guest_rows.aggregate(&batch, qk)?));
    }
    for (_, other) in others {
        for qk in &q {
            msg.extend(encode_cts(&other.pk, &other.aggregate(&batch, qk)?));
        }
    }
    if single {
        for uk in &u {
            msg.extend_from_slice(&uk.iter().map(|v| v * v).sum::<f64>().to_le_bytes());
        }
    }
    ch.send(parties.guest, &msg)?;
    // Back: per class, Σ (4z + Σ_{h'≠h} u_h')·[[x_h]] under our key.
    let reply = ch.recv(parties.guest)?;
    let ct = own.k * own.pk.ciphertext_len();
    let parts = split(&reply, &vec![ct; weights.len()])?;
    for ((w, _), (part, u_sent)) in weights.iter_mut().zip(parts.into_iter().zip(&u)) {
        let cross = own.open(part, s)?;
        // The first step uses the products sent above; later ones (FedBCD local steps)
        // recompute our own products and keep the cross term.
        let mut uk = u_sent.clone();
        for step in 0..cfg.local_steps {
            if step > 0 {
                uk = batch.clone().map(|i| dot(w, data.row(i))).collect();
            }
            let mut grad = cross.clone();
            for (i, &ui) in batch.clone().zip(&uk) {
                for (g, &x) in grad.iter_mut().zip(data.row(i)) {
                    *g += ui * x;
                }
            }
            for (wj, g) in w.iter_mut().zip(&grad) {
                *wj -= cfg.learning_rate * (0.25 * g / m + cfg.l2 * *wj);
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn guest_step(
    cfg: &HeteroLogisticRegression,
    ch: &mut dyn Channel,
    parties: &Parties,
    data: &VerticalDataset,
    targets: &[Vec<f64>],
    own: &Own,
    hosts: &[PeerRows],
    batch: Range<usize>,
    weights: &mut [ClassWeights],
) -> Result<Option<f64>> {
    let s = cfg.scale_bits;
    let m = batch.len() as f64;
    let classes = weights.len();
    let d = data.num_features();
    let single = hosts.len() == 1;
    // z_k = 0.25 (u_g + b) + 0.5 − y_k, and its quantisation times 4 (the hosts' weight).
    let z: Vec<Vec<f64>> = weights
        .iter()
        .zip(targets)
        .map(|((w, b), y)| {
            batch.clone().map(|i| 0.25 * (dot(w, data.row(i)) + b) + 0.5 - y[i]).collect()
        })
        .collect();
    let q4: Vec<Vec<i64>> =
        z.iter().map(|zk| zk.iter().map(|&v| 4 * quantise(v, s)).collect()).collect();
    // Receive every host's message and cut it into its parts.
    let own_ct = own.k * own.pk.ciphertext_len();
    let mut from_hosts = Vec::with_capacity(hosts.len());
    for &h in &parties.hosts {
        from_hosts.push(ch.recv(h)?);
    }
    let mut cross = vec![vec![0.0; own.width]; classes];
    let mut relayed: Vec<Vec<Vec<PaillierCiphertext>>> = hosts.iter().map(|_| Vec::new()).collect();
    let mut sum_sq = vec![0.0; classes];
    for (hi, msg) in from_hosts.iter().enumerate() {
        let mut lens = vec![own_ct; classes];
        for (oj, other) in hosts.iter().enumerate() {
            if oj != hi {
                lens.extend(std::iter::repeat_n(other.k * other.pk.ciphertext_len(), classes));
            }
        }
        if single {
            lens.extend(std::iter::repeat_n(8, classes));
        }
        let parts = split(msg, &lens)?;
        let mut it = parts.into_iter();
        for c in cross.iter_mut() {
            let part = it.next().ok_or(Error::PeerMessage("missing aggregate"))?;
            for (a, v) in c.iter_mut().zip(own.open(part, s)?) {
                *a += v;
            }
        }
        for (oj, other) in hosts.iter().enumerate() {
            if oj != hi {
                for _ in 0..classes {
                    let part = it.next().ok_or(Error::PeerMessage("missing aggregate"))?;
                    relayed[oj].push(decode_cts(&other.pk, part, other.k)?);
                }
            }
        }
        if single {
            for v in sum_sq.iter_mut() {
                let part = it.next().ok_or(Error::PeerMessage("missing loss aggregate"))?;
                let mut a = [0u8; 8];
                a.copy_from_slice(part);
                *v = f64::from_le_bytes(a);
            }
        }
    }
    // To each host: Σ 4z_k·[[x_h]] plus the other hosts' Σ u_h'·[[x_h]], per class.
    for (hi, host) in hosts.iter().enumerate() {
        let mut out = Vec::new();
        for (kk, qk) in q4.iter().enumerate() {
            let mut agg = host.aggregate(&batch, qk)?;
            // relayed[hi] holds, per other host in order, `classes` aggregates.
            for per_other in relayed[hi].chunks(classes) {
                let r = per_other.get(kk).ok_or(Error::PeerMessage("missing relay"))?;
                for (a, b) in agg.iter_mut().zip(r) {
                    *a = host.pk.add(a, b);
                }
            }
            out.extend(encode_cts(&host.pk, &agg));
        }
        ch.send(parties.hosts[hi], &out)?;
    }
    // Own update and the Taylor loss (one host only, mean over classes).
    let mut loss_sum = 0.0;
    for (kk, ((w, b), zk)) in weights.iter_mut().zip(&z).enumerate() {
        let ck = &cross[kk];
        let y = &targets[kk];
        if single {
            // log 2 − ½·y'u + ⅛·u², with Σ u_g·u_h = w·(X_gᵀu_h) + b·Σ u_h.
            let ug_uh = dot(w, &ck[..d]) + *b * ck[d];
            let mut loss = -0.5 * ck[d + 1 + kk] + 0.125 * (2.0 * ug_uh + sum_sq[kk]);
            for (i, &zi) in batch.clone().zip(zk) {
                let ug = 4.0 * (zi - 0.5 + y[i]);
                let ys = 2.0 * y[i] - 1.0;
                loss += std::f64::consts::LN_2 - 0.5 * ys * ug + 0.125 * ug * ug;
            }
            loss_sum += loss / m;
        }
        // The first step uses z from before the exchange; later ones (FedBCD local steps)
        // recompute z from the updated weights and keep the hosts' cross term.
        let mut zk = zk.clone();
        for step in 0..cfg.local_steps {
            if step > 0 {
                zk =
                    batch.clone().map(|i| 0.25 * (dot(w, data.row(i)) + *b) + 0.5 - y[i]).collect();
            }
            let mut grad = vec![0.0; d];
            for (i, &zi) in batch.clone().zip(&zk) {
                for (g, &x) in grad.iter_mut().zip(data.row(i)) {
                    *g += zi * x;
                }
            }
            for j in 0..d {
                let g = (grad[j] + 0.25 * ck[j]) / m + cfg.l2 * w[j];
                w[j] -= cfg.learning_rate * g;
            }
            let sum_z: f64 = zk.iter().sum();
            *b -= cfg.learning_rate * (sum_z + 0.25 * ck[d]) / m;
        }
    }
    Ok(single.then(|| loss_sum / classes as f64))
}
