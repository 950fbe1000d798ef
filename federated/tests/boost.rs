//! SecureBoost end to end: close to plaintext boosting (stated tolerances below) for the packed
//! RLWE protocol, the packed-Paillier schedule and the FATE baseline; what the host receives
//! (only ciphertexts, which a key it makes itself does not open); GOSS; softmax multiclass;
//! FATE's multi-round prediction agreeing with the one-message prediction.

use std::sync::{Arc, Mutex};

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use tessera_accelerator::Accelerator;
use tessera_federated::boost::{plaintext_boost, plaintext_boost_proba};
use tessera_federated::{
    BoostModel, BoostProtocol, Error, HeteroSecureBoost, Role, VerticalDataset, metrics, model,
};
use tessera_fhe::{Bfv, BfvParamId, BfvParameters};
use tessera_mpc::{Channel, ChannelStats, PartyId, harness::run_in_memory};

fn breast(rows: usize) -> Option<(VerticalDataset, VerticalDataset)> {
    let root = tessera_federated::data::datasets_dir()?;
    let g = VerticalDataset::from_csv(root.join("fate/breast_hetero_guest.csv"), "id", Some("y"))
        .unwrap();
    let h =
        VerticalDataset::from_csv(root.join("fate/breast_hetero_host.csv"), "id", None).unwrap();
    assert_eq!(g.ids, h.ids, "the FATE split is already aligned");
    let keep: Vec<usize> = (0..rows.min(g.len())).collect();
    Some((g.select(&keep).unwrap(), h.select(&keep).unwrap()))
}

/// Gaussian-ish blobs: `classes` centres in 4 dimensions, 2 columns at each party.
fn blobs(n: usize, classes: usize, seed: u64) -> (VerticalDataset, VerticalDataset) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut unif = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let ids: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let (mut gf, mut hf, mut y) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let c = i % classes;
        let centre = |d: usize| ((c * 7 + d * 3) % 5) as f64 - 2.0;
        let mut x = [0.0; 4];
        for (d, v) in x.iter_mut().enumerate() {
            *v = centre(d) + (unif() + unif() + unif() - 1.5) * 1.6;
        }
        gf.extend_from_slice(&x[..2]);
        hf.extend_from_slice(&x[2..]);
        y.push(c as f64);
    }
    let g = VerticalDataset::from_parts(ids.clone(), vec!["a".into(), "b".into()], gf, Some(y))
        .unwrap();
    let h = VerticalDataset::from_parts(ids, vec!["c".into(), "d".into()], hf, None).unwrap();
    (g, h)
}

struct Recording<'a> {
    inner: &'a mut dyn Channel,
    log: &'a Mutex<Vec<Vec<u8>>>,
}

impl Channel for Recording<'_> {
    fn party(&self) -> PartyId {
        self.inner.party()
    }
    fn num_parties(&self) -> usize {
        self.inner.num_parties()
    }
    fn send(&mut self, to: PartyId, payload: &[u8]) -> tessera_mpc::Result<()> {
        self.inner.send(to, payload)
    }
    fn recv(&mut self, from: PartyId) -> tessera_mpc::Result<Vec<u8>> {
        let m = self.inner.recv(from)?;
        self.log.lock().unwrap().push(m.clone());
        Ok(m)
    }
    fn stats(&self) -> ChannelStats {
        self.inner.stats()
    }
}

struct Run {
    /// Guest's per-row class probabilities on the test rows.
    proba: Vec<Vec<f64>>,
    train_bytes: u64,
    predict_bytes: u64,
    /// Everything the host received, in order.
    host_log: Vec<Vec<u8>>,
    models: Vec<BoostModel>,
}

fn run(
    cfg: &HeteroSecureBoost,
    train: (&VerticalDataset, &VerticalDataset),
    test: (&VerticalDataset, &VerticalDataset),
) -> Run {
    let protocol = cfg.protocol_kind();
    let log = Mutex::new(Vec::new());
    let runs = run_in_memory(2, |ch| {
        let peer = PartyId(1 - ch.party().0);
        let fit_predict = |ch: &mut dyn Channel, role, d, t| {
            let fit = cfg.fit(ch, peer, role, d)?;
            let (s, stats) = fit.model.predict_proba(ch, peer, t, protocol)?;
            Ok::<_, Error>((fit, s, stats))
        };
        if ch.party().0 == 0 {
            fit_predict(ch, Role::Guest, train.0, test.0)
        } else {
            let mut rec = Recording { inner: ch, log: &log };
            fit_predict(&mut rec, Role::Host, train.1, test.1)
        }
    });
    let (mut train_bytes, mut predict_bytes) = (0, 0);
    let mut proba = None;
    let mut models = Vec::new();
    for r in runs {
        let (fit, s, stats) = r.output.unwrap();
        train_bytes += fit.phases.iter().map(|p| p.traffic.bytes_sent).sum::<u64>();
        predict_bytes += stats.traffic.bytes_sent;
        proba = proba.or(s);
        models.push(fit.model);
    }
    Run {
        proba: proba.unwrap(),
        train_bytes,
        predict_bytes,
        host_log: log.into_inner().unwrap(),
        models,
    }
}

fn col(p: &[Vec<f64>]) -> Vec<f64> {
    p.iter().map(|r| r[0]).collect()
}

fn len_prefixed(mut b: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let len = u32::from_le_bytes(b[..4].try_into().unwrap()) as usize;
        out.push(&b[4..4 + len]);
        b = &b[4 + len..];
    }
    assert!(b.is_empty());
    out
}

/// Stated tolerance for the quantised protocols against plaintext boosting on the same bins:
/// accuracy within 2 points and AUC within 1 point.
fn assert_close(m: &metrics::BinaryMetrics, plain: &metrics::BinaryMetrics, what: &str) {
    assert!((m.accuracy - plain.accuracy).abs() <= 0.02, "{what}: {m:?} vs plaintext {plain:?}");
    assert!(m.auc >= plain.auc - 0.01, "{what}: {m:?} vs plaintext {plain:?}");
}

#[test]
fn packed_rlwe_matches_plaintext_and_the_host_sees_only_ciphertexts() {
    let Some((g, h)) = breast(569) else {
        println!("skipped: no datasets folder");
        return;
    };
    let (g_train, g_test) = g.split_at(450).unwrap();
    let (h_train, h_test) = h.split_at(450).unwrap();
    let y = g_test.labels.clone().unwrap();
    let cfg = HeteroSecureBoost::new().trees(2).max_depth(3).max_bins(8).stride_keys(true);
    let plain = plaintext_boost(&cfg, &g_train, &h_train, (&g_test, &h_test)).unwrap();
    let plain_m = metrics::BinaryMetrics::evaluate(&y, &plain);
    assert!(plain_m.auc > 0.95, "{plain_m:?}");

    let r = run(&cfg, (&g_train, &h_train), (&g_test, &h_test));
    let m = metrics::BinaryMetrics::evaluate(&y, &col(&r.proba));
    assert_close(&m, &plain_m, "packed RLWE");

    // What the host received: [setup: rows, scheme 3], [rotation keys], then per tree the
    // upload (sampling flag 0 and one seeded BFV ciphertext for 450 rows), decisions…
    let he = Bfv::new(
        BfvParameters::from_id(BfvParamId::N4096T30).unwrap(),
        Arc::new(Accelerator::probe()),
    )
    .unwrap();
    let log = &r.host_log;
    assert_eq!(log[0].len(), 9, "row count and scheme, no key material");
    assert_eq!(log[0][8], 3);
    let keys = len_prefixed(&log[1][1..]);
    assert_eq!(keys.len(), usize::from(log[1][0]));
    for k in &keys {
        he.galois_key_from_bytes(k).unwrap();
    }
    let upload = &log[2];
    assert_eq!(upload[0], 0, "no sampling");
    let cts = len_prefixed(&upload[1..]);
    assert_eq!(cts.len(), 1, "450 rows fit one ciphertext");
    let ct = he.ciphertext_from_bytes(cts[0]).unwrap();
    assert_eq!(cts[0].len(), 7 + 55_296 + 32, "seeded symmetric ciphertext");

    // Attack: the host decrypts with a key of its own. Real quantised gradients are below
    // 2^22 in magnitude (|g| < 1, scale ≤ 2^21 here); what it gets is uniform mod t.
    let t = he.params().plaintext_modulus as i64;
    let (_, own) = he.keygen(&mut ChaCha20Rng::seed_from_u64(1)).unwrap();
    let slots = he.decrypt_slots(&own, &ct).unwrap();
    let small = slots
        .iter()
        .map(|&v| if v as i64 > t / 2 { v as i64 - t } else { v as i64 })
        .filter(|v| v.abs() < 1 << 22)
        .count();
    assert!(small < slots.len() / 20, "{small} of {} slots look like gradients", slots.len());
    // And no message the host received carries the labels or a plaintext gradient vector:
    // every message after the keys is a ciphertext upload or a decision (≤ 9 bytes per open
    // node plus bit masks of the node's rows).
    for msg in &log[3..] {
        assert!(msg.len() < 450 || msg[0] == 0, "unexpected large plaintext message");
    }

    // Models save and load per party.
    let path = std::env::temp_dir().join(format!("tessera-boost-{}-bfv.json", std::process::id()));
    for part in &r.models {
        model::save_json(part, &path).unwrap();
        let back: BoostModel = model::load_json(&path).unwrap();
        assert_eq!(&back, part);
    }
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(r.models[1], BoostModel::Host(_)));
}

#[test]
fn paillier_schedules_match_plaintext_and_fate_predicts_alike() {
    let Some((g, h)) = breast(569) else {
        println!("skipped: no datasets folder");
        return;
    };
    let (g_train, g_test) = g.select(&(0..200).collect::<Vec<_>>()).unwrap().split_at(150).unwrap();
    let (h_train, h_test) = h.select(&(0..200).collect::<Vec<_>>()).unwrap().split_at(150).unwrap();
    let y = g_test.labels.clone().unwrap();
    let base = HeteroSecureBoost::new().key_bits(512).trees(2).max_depth(3).max_bins(8);
    let plain = plaintext_boost(&base, &g_train, &h_train, (&g_test, &h_test)).unwrap();
    let plain_m = metrics::BinaryMetrics::evaluate(&y, &plain);
    let mut bytes = Vec::new();
    for p in [BoostProtocol::TesseraPaillier, BoostProtocol::FateBaseline] {
        let r = run(&base.clone().protocol(p), (&g_train, &h_train), (&g_test, &h_test));
        let m = metrics::BinaryMetrics::evaluate(&y, &col(&r.proba));
        assert_close(&m, &plain_m, &format!("{p:?}"));
        bytes.push((r.train_bytes, r.predict_bytes));
        if p == BoostProtocol::FateBaseline {
            // FATE's multi-round prediction and the one-message prediction score alike on the
            // same models.
            let models = r.models;
            let runs = run_in_memory(2, |ch| {
                let peer = PartyId(1 - ch.party().0);
                let (mdl, d) =
                    if ch.party().0 == 0 { (&models[0], &g_test) } else { (&models[1], &h_test) };
                let fate = mdl.predict_proba(ch, peer, d, BoostProtocol::FateBaseline)?.0;
                let ours = mdl.predict_proba(ch, peer, d, BoostProtocol::Tessera)?.0;
                Ok::<_, Error>((fate, ours))
            });
            let (fate, ours) = runs[0].output.as_ref().unwrap();
            assert_eq!(fate, ours);
            assert_eq!(fate.as_ref().unwrap(), &r.proba);
        }
    }
    assert!(bytes[0].0 * 2 < bytes[1].0, "training: packed {:?} vs FATE {:?}", bytes[0], bytes[1]);
    assert!(
        bytes[0].1 * 4 < bytes[1].1,
        "prediction: packed {:?} vs FATE {:?}",
        bytes[0],
        bytes[1]
    );
}

#[test]
fn goss_uploads_only_the_sample_and_still_fits() {
    let (g, h) = blobs(600, 2, 7);
    let (g_train, g_test) = g.split_at(400).unwrap();
    let (h_train, h_test) = h.split_at(400).unwrap();
    let y = g_test.labels.clone().unwrap();
    let cfg = HeteroSecureBoost::new().trees(3).max_depth(2).max_bins(8).stride_keys(true);
    let plain = plaintext_boost(&cfg, &g_train, &h_train, (&g_test, &h_test)).unwrap();
    let plain_m = metrics::BinaryMetrics::evaluate(&y, &plain);
    let r = run(&cfg.clone().goss(0.2, 0.1), (&g_train, &h_train), (&g_test, &h_test));
    let m = metrics::BinaryMetrics::evaluate(&y, &col(&r.proba));
    // GOSS trains on 30% of the rows: within 3 accuracy points and 2 AUC points.
    assert!((m.accuracy - plain_m.accuracy).abs() <= 0.03, "{m:?} vs {plain_m:?}");
    assert!(m.auc >= plain_m.auc - 0.02, "{m:?} vs {plain_m:?}");
    // The host got a sampling bitmask with 80 + 40 rows and gradients of those rows only.
    let upload = &r.host_log[2];
    assert_eq!(upload[0], 1);
    let mask = &upload[1..1 + 50];
    assert_eq!(mask.iter().map(|b| b.count_ones()).sum::<u32>(), 120);
    assert_eq!(len_prefixed(&upload[51..]).len(), 1);
}

#[test]
fn softmax_multiclass_matches_plaintext() {
    let (g, h) = blobs(450, 3, 11);
    let (g_train, g_test) = g.split_at(300).unwrap();
    let (h_train, h_test) = h.split_at(300).unwrap();
    let y = g_test.labels.clone().unwrap();
    let cfg =
        HeteroSecureBoost::new().classes(3).trees(2).max_depth(2).max_bins(8).stride_keys(true);
    let plain = plaintext_boost_proba(&cfg, &g_train, &h_train, (&g_test, &h_test)).unwrap();
    let r = run(&cfg, (&g_train, &h_train), (&g_test, &h_test));
    let acc = |p: &[Vec<f64>]| argmax_accuracy(p, &y);
    let (a_fed, a_plain) = (acc(&r.proba), acc(&plain));
    assert!(a_plain > 0.6, "plaintext accuracy {a_plain}");
    assert!((a_fed - a_plain).abs() <= 0.02, "federated {a_fed} vs plaintext {a_plain}");
    for row in &r.proba {
        assert_eq!(row.len(), 3);
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
    // 2 rounds × 3 classes = 6 trees, each its own upload.
    let BoostModel::Guest(gm) = &r.models[0] else { panic!("guest model") };
    assert_eq!(gm.trees.len(), 6);
    assert_eq!(gm.classes, 3);
}

#[test]
fn misuse_and_bad_labels_are_refused() {
    let (g, h) = blobs(40, 3, 3);
    let cfg = HeteroSecureBoost::new().trees(1).max_depth(2).max_bins(4);
    // Labels 0..3 with the binary objective: the guest refuses before any traffic is wasted.
    let runs = run_in_memory(2, |ch| {
        let peer = PartyId(1 - ch.party().0);
        let (role, d) = if ch.party().0 == 0 { (Role::Guest, &g) } else { (Role::Host, &h) };
        cfg.fit(ch, peer, role, d).map(|_| ())
    });
    assert!(matches!(runs[0].output, Err(Error::Misuse(_))));
    // An impossible GOSS fraction is refused by both parties before any message.
    let bad = HeteroSecureBoost::new().goss(0.9, 0.5);
    let runs = run_in_memory(2, |ch| {
        let peer = PartyId(1 - ch.party().0);
        let (role, d) = if ch.party().0 == 0 { (Role::Guest, &g) } else { (Role::Host, &h) };
        bad.fit(ch, peer, role, d).map(|_| ())
    });
    assert!(runs.iter().all(|r| matches!(r.output, Err(Error::Misuse(_)))));
}

/// MNIST-like columns: 10 classes, and a host whose columns are partly constant (a blank
/// border) and partly two-valued (sparse pixels). On the wire (FATE schedule, one ciphertext
/// per value, so sizes are exact): the host announces one bin per constant column and two per
/// two-valued one, the root histogram has exactly that many ciphertexts, and the softmax model
/// (10 trees per round, FATE's multi-record prediction over all of them) stays within 2 points
/// of plaintext boosting.
#[test]
fn ten_classes_with_constant_and_sparse_host_columns() {
    let (n, classes) = (300, 10);
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let mut unif = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let (mut gf, mut hf, mut y) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let c = i % classes;
        // Guest: two noisy coordinates of the class; host: 6 constant, 6 two-valued and 4
        // noisy class coordinates.
        gf.push((c % 5) as f64 + unif() - 0.5);
        gf.push((c / 5) as f64 + unif() - 0.5);
        hf.extend(std::iter::repeat_n(0.0, 6));
        hf.extend((0..6).map(|j| f64::from(u8::from((i + j) % 7 == 0))));
        hf.extend((0..4).map(|j| ((c + j) % 10) as f64 + 2.0 * unif() - 1.0));
        y.push(c as f64);
    }
    let ids: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let g = VerticalDataset::from_parts(ids.clone(), vec!["a".into(), "b".into()], gf, Some(y))
        .unwrap();
    let names = (0..16).map(|j| format!("h{j}")).collect();
    let h = VerticalDataset::from_parts(ids, names, hf, None).unwrap();
    let (g_train, g_test) = g.split_at(200).unwrap();
    let (h_train, h_test) = h.split_at(200).unwrap();
    let cfg = HeteroSecureBoost::new()
        .classes(classes)
        .trees(2)
        .max_depth(2)
        .max_bins(8)
        .key_bits(512)
        .protocol(BoostProtocol::FateBaseline);
    let plain = plaintext_boost_proba(&cfg, &g_train, &h_train, (&g_test, &h_test)).unwrap();

    // The guest records what it receives.
    let log = Mutex::new(Vec::new());
    let runs = run_in_memory(2, |ch| {
        let peer = PartyId(1 - ch.party().0);
        if ch.party().0 == 0 {
            let mut rec = Recording { inner: ch, log: &log };
            let fit = cfg.fit(&mut rec, peer, Role::Guest, &g_train)?;
            let fate = fit.model.predict_proba(&mut rec, peer, &g_test, cfg.protocol_kind())?.0;
            let ours = fit.model.predict_proba(&mut rec, peer, &g_test, BoostProtocol::Tessera)?.0;
            Ok::<_, Error>(Some((fit.model, fate, ours)))
        } else {
            let fit = cfg.fit(ch, peer, Role::Host, &h_train)?;
            fit.model.predict_proba(ch, peer, &h_test, cfg.protocol_kind())?;
            fit.model.predict_proba(ch, peer, &h_test, BoostProtocol::Tessera)?;
            Ok(None)
        }
    });
    let mut outputs = runs.into_iter().map(|r| r.output.unwrap());
    let (model, fate, ours) = outputs.next().unwrap().unwrap();
    let log = log.into_inner().unwrap();
    let bins: Vec<u32> =
        log[0].chunks_exact(4).map(|b| u32::from_le_bytes(b.try_into().unwrap())).collect();
    assert_eq!(&bins[..12], &[1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
    assert!(bins[12..].iter().all(|&b| b == 8), "{bins:?}");
    // The root histogram: (g, h) per bin, one 1024-bit ciphertext each (512-bit key).
    let total: u32 = bins.iter().sum();
    assert_eq!(log[1].len(), 2 * total as usize * 128);

    let BoostModel::Guest(gm) = &model else { panic!("guest model") };
    assert_eq!(gm.trees.len(), 2 * classes);
    let (fate, ours) = (fate.unwrap(), ours.unwrap());
    assert_eq!(fate, ours, "FATE's multi-round prediction differs");
    let y = g_test.labels.clone().unwrap();
    let acc = |p: &[Vec<f64>]| argmax_accuracy(p, &y);
    let (a_fed, a_plain) = (acc(&fate), acc(&plain));
    assert!(a_plain > 0.5, "plaintext accuracy {a_plain}");
    assert!((a_fed - a_plain).abs() <= 0.02, "federated {a_fed} vs plaintext {a_plain}");
    for row in &fate {
        assert_eq!(row.len(), classes);
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
}

/// Share of rows whose most probable class is the label.
fn argmax_accuracy(p: &[Vec<f64>], y: &[f64]) -> f64 {
    let hits = p
        .iter()
        .zip(y)
        .filter(|(r, yi)| tessera_federated::boost::predict::argmax(r) == **yi as usize)
        .count();
    hits as f64 / y.len() as f64
}
