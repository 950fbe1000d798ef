//! Vertical logistic regression end to end: PSI alignment, training close to the plaintext
//! model, what the host receives, model files.

use std::sync::Mutex;

use tessera_federated::plot::{Series, line_plot};
use tessera_federated::{
    Error, HeteroLogisticRegression, LrModel, LrProtocol, PlainLr, Role, VerticalDataset, align,
    metrics, model,
};
use tessera_fhe::{PaillierPublicKey, paillier_keygen};
use tessera_mpc::{Channel, ChannelStats, PartyId, harness::run_in_memory};

fn breast() -> Option<(VerticalDataset, VerticalDataset)> {
    let root = tessera_federated::data::datasets_dir()?;
    let g = VerticalDataset::from_csv(root.join("fate/breast_hetero_guest.csv"), "id", Some("y"))
        .unwrap();
    let h =
        VerticalDataset::from_csv(root.join("fate/breast_hetero_host.csv"), "id", None).unwrap();
    Some((g, h))
}

/// Aligns both parties with the PSI, the host holding its rows in a different order and a few
/// rows the guest lacks.
fn aligned(g: &VerticalDataset, h: &VerticalDataset) -> (VerticalDataset, VerticalDataset) {
    let mut order: Vec<usize> = (0..h.len()).rev().collect();
    order.retain(|i| i % 50 != 7);
    let h = h.select(&order).unwrap();
    let runs = run_in_memory(2, |ch| {
        let mine = if ch.party().0 == 0 { g } else { &h };
        {
            let peer = PartyId(1 - ch.party().0);
            align(ch, peer, mine)
        }
    });
    let mut it = runs.into_iter().map(|r| r.output.unwrap());
    let (ga, ha) = (it.next().unwrap(), it.next().unwrap());
    assert_eq!(ga.ids, ha.ids, "PSI order is common");
    assert_eq!(ga.len(), order.len(), "exactly the intersection");
    // The PSI order is pseudorandom per run; sort by ID (same at both parties) so the
    // train/test split below, and so the test, is deterministic.
    let mut by_id: Vec<usize> = (0..ga.len()).collect();
    by_id.sort_by_key(|&i| ga.ids[i].parse::<u64>().unwrap_or(u64::MAX));
    (ga.select(&by_id).unwrap(), ha.select(&by_id).unwrap())
}

struct Trained {
    scores: Vec<f64>,
    train_bytes: u64,
    loss: Vec<f64>,
    models: Vec<LrModel>,
}

fn train(
    lr: &HeteroLogisticRegression,
    g: &VerticalDataset,
    h: &VerticalDataset,
    test: (&VerticalDataset, &VerticalDataset),
) -> Trained {
    let runs = run_in_memory(2, |ch| {
        let (role, data, test) =
            if ch.party().0 == 0 { (Role::Guest, g, test.0) } else { (Role::Host, h, test.1) };
        let peer = PartyId(1 - ch.party().0);
        let t = lr.fit(ch, peer, role, data)?;
        let (scores, _) = t.model.predict(ch, peer, test, lr.protocol_kind())?;
        Ok::<_, Error>((t, scores))
    });
    let mut train_bytes = 0;
    let mut out = Trained { scores: vec![], train_bytes: 0, loss: vec![], models: vec![] };
    for r in runs {
        let (t, scores) = r.output.unwrap();
        train_bytes += t.phases.iter().map(|p| p.traffic.bytes_sent).sum::<u64>();
        if let Some(s) = scores {
            out.scores = s;
            out.loss = t.loss_history.clone();
        }
        out.models.push(t.model);
    }
    out.train_bytes = train_bytes;
    out
}

#[test]
fn breast_matches_plaintext_and_beats_baseline_bytes() {
    let Some((g, h)) = breast() else { return };
    let (g, h) = aligned(&g, &h);
    let (g_train, g_test) = g.split_at(440).unwrap();
    let (h_train, h_test) = h.split_at(440).unwrap();
    let y_test = g_test.labels.clone().unwrap();
    // 512-bit keys keep the test fast; the benchmark uses 2048 bits.
    let lr = HeteroLogisticRegression::new()
        .key_bits(512)
        .epochs(4)
        .batch_size(Some(110))
        .learning_rate(0.2);
    let plain = PlainLr::fit(&lr, &g_train, &h_train).unwrap();
    let plain_m = metrics::BinaryMetrics::evaluate(&y_test, &plain.predict(&g_test, &h_test));
    let ours = train(&lr, &g_train, &h_train, (&g_test, &h_test));
    let ours_m = metrics::BinaryMetrics::evaluate(&y_test, &ours.scores);
    // Stated tolerance: within 3 accuracy points and 2 AUC points of plaintext training.
    assert!(plain_m.accuracy > 0.9, "{plain_m:?}");
    assert!((ours_m.accuracy - plain_m.accuracy).abs() <= 0.03, "{ours_m:?} vs {plain_m:?}");
    assert!(ours_m.auc >= plain_m.auc - 0.02, "{ours_m:?} vs {plain_m:?}");
    // The Taylor loss falls.
    assert_eq!(ours.loss.len(), 16);
    assert!(ours.loss[15] < ours.loss[0] - 0.1, "{:?}", ours.loss);

    let base = train(
        &lr.clone().protocol(LrProtocol::FateBaseline),
        &g_train,
        &h_train,
        (&g_test, &h_test),
    );
    let base_m = metrics::BinaryMetrics::evaluate(&y_test, &base.scores);
    assert!((base_m.accuracy - plain_m.accuracy).abs() <= 0.03, "{base_m:?} vs {plain_m:?}");
    // Same model up to fixed-point rounding: the two schedules compute the same gradients.
    for (a, b) in ours.models.iter().zip(&base.models) {
        for (x, y) in a.weights.iter().zip(&b.weights) {
            assert!((x - y).abs() < 1e-2, "{x} vs {y}");
        }
    }
    // With 512-bit keys (7 slots per ciphertext) and 4 epochs the setup dominates; the benchmark
    // measures the 2048-bit ratio.
    assert!(ours.train_bytes < base.train_bytes, "{} vs {}", ours.train_bytes, base.train_bytes);

    // Plots: the Taylor loss per batch and the ROC curves, as SVG.
    let dir = std::env::var("FED_PLOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    let loss = Series {
        name: "tessera (Taylor loss)".into(),
        points: ours.loss.iter().enumerate().map(|(i, &l)| ((i + 1) as f64, l)).collect(),
    };
    let roc = [
        ("plaintext", plain.predict(&g_test, &h_test)),
        ("tessera", ours.scores.clone()),
        ("FATE baseline", base.scores.clone()),
    ]
    .into_iter()
    .map(|(n, s)| Series { name: n.into(), points: metrics::roc_curve(&y_test, &s) })
    .collect::<Vec<_>>();
    for (file, svg) in [
        (
            "lr_loss_breast.svg",
            line_plot("Hetero LR on breast: loss per batch", "batch", "loss", &[loss]),
        ),
        (
            "lr_roc_breast.svg",
            line_plot(
                "Hetero LR on breast: ROC (test rows)",
                "false-positive rate",
                "true-positive rate",
                &roc,
            ),
        ),
    ] {
        assert!(svg.starts_with("<svg") && svg.contains("<polyline"));
        std::fs::write(dir.join(file), svg).unwrap();
    }

    // Each party saves and reloads its own part.
    let path = std::env::temp_dir().join(format!("tessera-lr-{}.json", std::process::id()));
    model::save_json(&ours.models[1], &path).unwrap();
    let back: LrModel = model::load_json(&path).unwrap();
    assert_eq!(back, ours.models[1]);
    assert_eq!(back.role, Role::Host);
    std::fs::remove_file(&path).unwrap();
}

/// A channel that keeps a copy of everything its party receives.
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

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Plain encodings of the labels that must never appear in what the host receives.
fn label_patterns(y: &[f64]) -> Vec<Vec<u8>> {
    let mut pats = Vec::new();
    let take = &y[..12];
    pats.push(take.iter().flat_map(|v| v.to_le_bytes()).collect());
    pats.push(take.iter().map(|&v| v as u8).collect());
    for scale in [1i64, 1 << 12] {
        pats.push(take.iter().flat_map(|v| (*v as i64 * scale).to_le_bytes()).collect());
        pats.push(
            take.iter().flat_map(|v| ((2.0 * v - 1.0) as i64 * scale).to_le_bytes()).collect(),
        );
    }
    pats
}

#[test]
fn host_receives_only_ciphertexts() {
    let Some((g, h)) = breast() else { return };
    let rows: Vec<usize> = (0..120).collect();
    let (g, h) = (g.select(&rows).unwrap(), h.select(&rows).unwrap());
    let y = g.labels.clone().unwrap();
    for protocol in [LrProtocol::Tessera, LrProtocol::FateBaseline] {
        let lr = HeteroLogisticRegression::new()
            .key_bits(512)
            .epochs(2)
            .batch_size(Some(60))
            .protocol(protocol);
        let log = Mutex::new(Vec::new());
        let runs = run_in_memory(2, |ch| {
            let peer = PartyId(1 - ch.party().0);
            if ch.party().0 == 0 {
                lr.fit(ch, peer, Role::Guest, &g).map(|_| ())
            } else {
                let mut rec = Recording { inner: ch, log: &log };
                lr.fit(&mut rec, peer, Role::Host, &h).map(|_| ())
            }
        });
        runs.into_iter().for_each(|r| r.output.unwrap());
        let msgs = log.into_inner().unwrap();
        for m in &msgs {
            for p in label_patterns(&y) {
                assert!(!contains(m, &p), "{protocol:?}: a plain label encoding crossed");
            }
        }
        // Message 0: row count, width, the guest's public key.
        let pk = PaillierPublicKey::from_bytes(&msgs[0][16..]).unwrap();
        let ct_len = pk.ciphertext_len();
        // A key that is not the guest's: decrypting with it gives nothing about the labels.
        let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::from_entropy();
        let (_, wrong_sk) = paillier_keygen(512, &mut rng).unwrap();
        let guest_cts: &[u8] = match protocol {
            // Message 1: the guest's encrypted rows, n × 2 ciphertexts (12 slots, 7 per ct), and
            // nothing else.
            LrProtocol::Tessera => {
                assert_eq!(msgs[1].len(), 120 * 2 * ct_len);
                // Per batch: exactly the packed aggregate (3 ciphertexts under the host's key).
                for m in &msgs[2..] {
                    assert_eq!(m.len() % ct_len, 0);
                    assert!(m.len() <= 3 * ct_len);
                }
                &msgs[1]
            }
            // Per batch: [[z]] (one ciphertext per sample), masked gradient ciphertexts, masked
            // 128-bit values.
            LrProtocol::FateBaseline => {
                assert_eq!(msgs[1].len(), 60 * ct_len);
                &msgs[1]
            }
        };
        // Decrypting with any key but the guest's yields noise: with the guest's key the
        // label slot (Tessera: slot 4 of each row's second ciphertext, value ±4096) or the
        // residual (baseline: |z| < 2^16) would be small.
        let mut small = 0;
        let stride = if protocol == LrProtocol::Tessera { 2 } else { 1 };
        for c in guest_cts.chunks_exact(ct_len).skip(stride - 1).step_by(stride).take(60) {
            let ct = pk.ciphertext_from_bytes(c).unwrap();
            let m = wrong_sk.decrypt(&ct);
            let two64 = num_bigint_dig::BigUint::from(1u8) << 64usize;
            let v = if protocol == LrProtocol::Tessera { (m >> 256usize) % &two64 } else { m };
            let negated = if v < two64 { &two64 - &v } else { v.clone() };
            if v.bits() <= 16 || negated.bits() <= 16 {
                small += 1;
            }
        }
        assert_eq!(small, 0, "{protocol:?}");
    }
}

#[test]
fn misaligned_rows_and_missing_labels_are_refused() {
    let ids: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    let x = vec![0.5; 10];
    let g =
        VerticalDataset::from_parts(ids.clone(), vec!["a".into()], x.clone(), Some(vec![1.0; 10]))
            .unwrap();
    let h = VerticalDataset::from_parts(ids[..9].to_vec(), vec!["b".into()], x[..9].to_vec(), None)
        .unwrap();
    let lr = HeteroLogisticRegression::new().key_bits(512).epochs(1);
    let runs = run_in_memory(2, |ch| {
        let (role, d) = if ch.party().0 == 0 { (Role::Guest, &g) } else { (Role::Host, &h) };
        {
            let peer = PartyId(1 - ch.party().0);
            lr.fit(ch, peer, role, d).map(|_| ())
        }
    });
    for r in runs {
        assert!(matches!(r.output, Err(Error::Misuse(ref m)) if m.contains("not aligned")));
    }
    let unlabeled = VerticalDataset::from_parts(ids, vec!["a".into()], x, None).unwrap();
    let runs = run_in_memory(1, |ch| lr.fit(ch, PartyId(1), Role::Guest, &unlabeled).map(|_| ()));
    assert!(matches!(runs[0].output, Err(Error::Misuse(ref m)) if m.contains("labels")));
}
