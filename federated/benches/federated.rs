//! Vertical LR and SecureBoost over a shaped 10 Mbit/s, 20 ms link: Tessera's packed protocol vs the
//! FATE-compatible Paillier baseline vs plaintext training, side by side in one run.
//!
//! `cargo bench -p tessera-federated --bench federated`
//! Environment: `FED_ITERS` (full-batch iterations, default 15), `FED_CREDIT_ROWS` (rows of
//! default-credit used by the Paillier protocols, default 1000; plaintext always uses all rows),
//! `FED_ONLY` (comma-separated subset of `lr` (= `breast,credit`), `mnist`, `sb`; default all), `FED_BASE_ITERS`
//! (iterations the LR baseline runs, default `FED_ITERS`; its bytes at `FED_ITERS` are then
//! computed exactly from the measured per-iteration bytes), `FED_LOCAL_STEPS` (FedBCD local
//! steps per exchange for Tessera's LR on breast/credit, default 1; with `q > 1` plaintext and
//! the baseline are compared at `FED_ITERS × q` updates), `FED_MNIST_ROWS` (MNIST training
//! rows for the Paillier protocols, default 200), `FED_MNIST_EPOCHS` (default 5), `FED_KEY_BITS`
//! (default 2048), `FED_TREES` (SecureBoost trees, default 5), `FED_PLOTS` (folder for SVG plots, default `federated/plots`).
//! SecureBoost only: `FED_SB_CREDIT_ROWS` (default-credit training rows, default
//! `FED_CREDIT_ROWS`), `FED_SB_DATA` (`breast`, `credit`, `mnist`, or unset for breast and
//! credit), `FED_SB_PROTOCOLS` (comma list of `tessera`, `paillier`, `fate`, `goss`; default
//! `tessera,fate`), `FED_SB_DEPTH` (tree depth, default 3), `FED_SB_MNIST_ROWS` (MNIST training
//! rows of the 8,000, default 500; `FED_SB_DATA=mnist` trains the softmax objective over 10
//! classes, `FED_TREES` rounds of 10 class trees, and tests on the last 2,000 images; the FATE
//! baseline decrypts one Paillier ciphertext per value per host bin per histogrammed node, so
//! mind its cost: 15 min at 500 rows, 1 round, depth 2 on 2 cores, about doubling with depth 3).

use std::time::Duration;

use criterion::Criterion;
use tessera_federated::boost::plaintext_boost_proba;
use tessera_federated::boost::predict::argmax;
use tessera_federated::lr::{PlainLoss, predict_multiclass};
use tessera_federated::plot::{Series, line_plot};
use tessera_federated::{
    BoostProtocol, HeteroLogisticRegression, HeteroSecureBoost, LrProtocol, Parties, PlainLr, Role,
    VerticalDataset, align, metrics,
};
use tessera_mpc::channel::LinkShape;
use tessera_mpc::harness::{Transport, run_parties};
use tessera_mpc::{ChannelConfig, PartyId};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[derive(Default)]
struct Row {
    data: &'static str,
    protocol: &'static str,
    train_bytes: u64,
    train_rounds: u64,
    train_wall: Duration,
    predict_bytes: u64,
    predict_rounds: u64,
    predict_wall: Duration,
    acc: f64,
    auc: f64,
    ks: f64,
    roc: Vec<(f64, f64)>,
    loss: Vec<f64>,
}

fn transport() -> Transport {
    Transport::ShapedMemory(LinkShape::new(10.0, 20))
}

fn config() -> ChannelConfig {
    // Frames up to 1 GiB, so the buffering caps must hold at least one of them.
    ChannelConfig {
        max_frame_bytes: 1 << 30,
        recv_timeout: Duration::from_secs(3600),
        max_buffered_bytes_per_link: 2 << 30,
        max_buffered_bytes: 4 << 30,
    }
}

fn load(guest: &str, host: &str) -> Option<(VerticalDataset, VerticalDataset)> {
    let root = tessera_federated::data::datasets_dir()?;
    let g = VerticalDataset::from_csv(root.join("fate").join(guest), "id", Some("y")).ok()?;
    let h = VerticalDataset::from_csv(root.join("fate").join(host), "id", None).ok()?;
    Some((g, h))
}

fn psi(g: &VerticalDataset, h: &VerticalDataset) -> (VerticalDataset, VerticalDataset) {
    let runs = run_parties(2, transport(), config(), |ch| {
        let mine = if ch.party().0 == 0 { g } else { h };
        {
            let peer = PartyId(1 - ch.party().0);
            align(ch, peer, mine)
        }
    })
    .expect("harness");
    let bytes: u64 = runs.iter().map(|r| r.stats.bytes_sent).sum();
    let wall = runs.iter().map(|r| r.elapsed).max().unwrap_or_default();
    let mut it = runs.into_iter().map(|r| r.output.expect("psi"));
    let (ga, ha) = (it.next().unwrap(), it.next().unwrap());
    println!("  PSI ({} ∩ {} → {} rows): {bytes} bytes, {wall:.2?}", g.len(), h.len(), ga.len());
    (ga, ha)
}

fn federated(
    name: &'static str,
    lr: &HeteroLogisticRegression,
    train: (&VerticalDataset, &VerticalDataset),
    test: (&VerticalDataset, &VerticalDataset),
) -> (Row, u64) {
    let runs = run_parties(2, transport(), config(), |ch| {
        let me = ch.party().0;
        let (role, data, t) =
            if me == 0 { (Role::Guest, train.0, test.0) } else { (Role::Host, train.1, test.1) };
        let peer = PartyId(1 - me);
        let fit = lr.fit(ch, peer, role, data)?;
        let (scores, pstats) = fit.model.predict(ch, peer, t, lr.protocol_kind())?;
        Ok::<_, tessera_federated::Error>((fit, scores, pstats))
    })
    .expect("harness");
    let y = test.0.labels.clone().unwrap_or_default();
    let mut row = Row { protocol: name, ..Row::default() };
    let mut setup_bytes = 0;
    for r in runs {
        let (fit, scores, pstats) = r.output.expect("training failed");
        setup_bytes += tessera_federated::stats::total_bytes(&fit.phases, "setup");
        for p in &fit.phases {
            row.train_bytes += p.traffic.bytes_sent;
            row.train_wall = row.train_wall.max(p.elapsed);
            if r.party.0 == 0 {
                row.train_rounds += p.traffic.rounds;
            }
        }
        let wall: Duration = fit.phases.iter().map(|p| p.elapsed).sum();
        row.train_wall = row.train_wall.max(wall);
        row.predict_bytes += pstats.traffic.bytes_sent;
        row.predict_wall = row.predict_wall.max(pstats.elapsed);
        row.predict_rounds = row.predict_rounds.max(pstats.traffic.rounds);
        if let Some(s) = scores {
            let m = metrics::BinaryMetrics::evaluate(&y, &s);
            (row.acc, row.auc, row.ks) = (m.accuracy, m.auc, m.ks);
            row.roc = metrics::roc_curve(&y, &s);
            row.loss = fit.loss_history;
        }
    }
    (row, setup_bytes)
}

fn boost(
    name: &'static str,
    cfg: &HeteroSecureBoost,
    train: (&VerticalDataset, &VerticalDataset),
    test: (&VerticalDataset, &VerticalDataset),
) -> Row {
    let runs = run_parties(2, transport(), config(), |ch| {
        let me = ch.party().0;
        let (role, data, t) =
            if me == 0 { (Role::Guest, train.0, test.0) } else { (Role::Host, train.1, test.1) };
        let peer = PartyId(1 - me);
        let fit = cfg.fit(ch, peer, role, data)?;
        let (scores, pstats) = fit.model.predict_proba(ch, peer, t, cfg.protocol_kind())?;
        Ok::<_, tessera_federated::Error>((fit.phases, fit.loss_history, scores, pstats))
    })
    .expect("harness");
    let y = test.0.labels.clone().unwrap_or_default();
    let mut row = Row { protocol: name, ..Row::default() };
    for r in runs {
        let (phases, loss, scores, pstats) = r.output.expect("training failed");
        row.train_bytes += phases.iter().map(|p| p.traffic.bytes_sent).sum::<u64>();
        if r.party.0 == 0 {
            row.train_rounds += phases.iter().map(|p| p.traffic.rounds).sum::<u64>();
        }
        row.train_wall = row.train_wall.max(phases.iter().map(|p| p.elapsed).sum());
        row.predict_bytes += pstats.traffic.bytes_sent;
        row.predict_wall = row.predict_wall.max(pstats.elapsed);
        row.predict_rounds = row.predict_rounds.max(pstats.traffic.rounds);
        if let Some(p) = scores {
            (row.acc, row.auc, row.ks, row.roc) = proba_metrics(&y, &p);
            row.loss = loss;
        }
    }
    row
}

/// Accuracy, AUC, KS and ROC of per-row class probabilities: the binary metrics for one
/// column (`P(y = 1)`); for `k > 2` columns the argmax accuracy, the macro one-vs-rest AUC
/// (mean over classes of the AUC of `P(class c)` for "label = c") and no KS or ROC.
fn proba_metrics(y: &[f64], p: &[Vec<f64>]) -> (f64, f64, f64, Vec<(f64, f64)>) {
    let k = p.first().map_or(1, Vec::len);
    if k == 1 {
        let s: Vec<f64> = p.iter().map(|r| r[0]).collect();
        let m = metrics::BinaryMetrics::evaluate(y, &s);
        return (m.accuracy, m.auc, m.ks, metrics::roc_curve(y, &s));
    }
    let hits = p.iter().zip(y).filter(|(r, yi)| argmax(r) == **yi as usize).count();
    let macro_auc = (0..k)
        .map(|c| {
            let yc: Vec<f64> = y.iter().map(|&v| f64::from(u8::from(v as usize == c))).collect();
            let sc: Vec<f64> = p.iter().map(|r| r[c]).collect();
            metrics::auc(&yc, &sc)
        })
        .sum::<f64>()
        / k as f64;
    (hits as f64 / y.len().max(1) as f64, macro_auc, f64::NAN, vec![])
}

fn plaintext(
    lr: &HeteroLogisticRegression,
    train: (&VerticalDataset, &VerticalDataset),
    test: (&VerticalDataset, &VerticalDataset),
    name: &'static str,
) -> Row {
    let start = std::time::Instant::now();
    let m = PlainLr::fit(lr, train.0, train.1).expect("plaintext");
    let wall = start.elapsed();
    let s = m.predict(test.0, test.1);
    let y = test.0.labels.clone().unwrap_or_default();
    let bm = metrics::BinaryMetrics::evaluate(&y, &s);
    Row {
        protocol: name,
        train_wall: wall,
        acc: bm.accuracy,
        auc: bm.auc,
        ks: bm.ks,
        roc: metrics::roc_curve(&y, &s),
        ..Row::default()
    }
}

fn run_dataset(
    label: &'static str,
    files: (&str, &str),
    rows: Option<usize>,
    lr: &HeteroLogisticRegression,
    out: &mut Vec<Row>,
) {
    let Some((g, h)) = load(files.0, files.1) else { return };
    println!("{label}:");
    let (g, h) = psi(&g, &h);
    let cut = g.len() * 4 / 5;
    let (g_train, g_test) = g.split_at(cut).unwrap();
    let (h_train, h_test) = h.split_at(cut).unwrap();
    let mut rows_here = Vec::new();
    // With FED_LOCAL_STEPS = q > 1, Tessera makes `iters` exchanges of q FedBCD local steps
    // each; plaintext and the baseline are compared at the same number of updates, iters·q.
    let iters = env("FED_ITERS", 15);
    let q = env("FED_LOCAL_STEPS", 1).max(1);
    let updates = iters * q;
    if rows.is_some() {
        rows_here.push(plaintext(
            &lr.clone().epochs(updates),
            (&g_train, &h_train),
            (&g_test, &h_test),
            "plaintext (all rows)",
        ));
    }
    // The Paillier protocols may run on the first `rows` training rows (same test rows).
    let (g_sub, h_sub) = match rows {
        Some(k) if k < g_train.len() => {
            (g_train.split_at(k).unwrap().0, h_train.split_at(k).unwrap().0)
        }
        _ => (g_train.clone(), h_train.clone()),
    };
    let train = (&g_sub, &h_sub);
    let test = (&g_test, &h_test);
    rows_here.push(plaintext(&lr.clone().epochs(updates), train, test, "plaintext"));
    let ours_name: &'static str = if q == 1 {
        "tessera"
    } else {
        Box::leak(format!("tessera ({iters} exchanges × {q} local steps)").into_boxed_str())
    };
    let ours_cfg = lr.clone().protocol(LrProtocol::Tessera).epochs(iters).local_steps(q);
    let base_iters = env("FED_BASE_ITERS", updates).max(1);
    let base_name: &'static str = if base_iters == updates {
        "FATE baseline"
    } else {
        Box::leak(format!("FATE baseline ({base_iters} it.)").into_boxed_str())
    };
    let base_cfg = lr.clone().protocol(LrProtocol::FateBaseline).epochs(base_iters);
    for (name, p, cfg) in [
        (ours_name, LrProtocol::Tessera, &ours_cfg),
        (base_name, LrProtocol::FateBaseline, &base_cfg),
    ] {
        let its = if p == LrProtocol::Tessera { iters } else { base_iters };
        let (r, setup) = federated(name, cfg, train, test);
        println!(
            "  {name}: train {} B (setup {setup} B), {} rounds, {:.1?}; predict {} B; acc {:.4} AUC {:.4}",
            r.train_bytes, r.train_rounds, r.train_wall, r.predict_bytes, r.acc, r.auc
        );
        if p == LrProtocol::FateBaseline {
            // Every baseline iteration sends the same messages (fixed-size ciphertexts, fixed
            // counts; tested in tests/lr.rs), so its bytes at `updates` follow exactly.
            let per_iter = (r.train_bytes - setup) / its as u64;
            let exact = setup + per_iter * updates as u64;
            let ours =
                rows_here.iter().find(|x| x.protocol.starts_with("tessera")).map(|x| x.train_bytes);
            println!(
                "  FATE baseline at {updates} iterations: {setup} + {updates} × {per_iter} = {exact} B (exact); tessera / baseline: {:.1}×",
                ours.map_or(0.0, |o| exact as f64 / o as f64)
            );
            if its != updates {
                rows_here.push(Row {
                    protocol: "FATE baseline (exact bytes, not run)",
                    train_bytes: exact,
                    train_rounds: 3 * updates as u64 + 1,
                    predict_bytes: r.predict_bytes,
                    acc: f64::NAN,
                    auc: f64::NAN,
                    ks: f64::NAN,
                    ..Row::default()
                });
            }
        }
        rows_here.push(r);
    }
    for mut r in rows_here {
        r.data = label;
        out.push(r);
    }
}

fn run_boost(
    label: &'static str,
    files: (&str, &str),
    rows: Option<usize>,
    cfg: &HeteroSecureBoost,
    out: &mut Vec<Row>,
) {
    let Some((g, h)) = load(files.0, files.1) else { return };
    println!("{label} (SecureBoost):");
    let (g, h) = psi(&g, &h);
    let cut = g.len() * 4 / 5;
    let (g_train, g_test) = g.split_at(cut).unwrap();
    let (h_train, h_test) = h.split_at(cut).unwrap();
    let (g_sub, h_sub) = match rows {
        Some(k) if k < g_train.len() => {
            (g_train.split_at(k).unwrap().0, h_train.split_at(k).unwrap().0)
        }
        _ => (g_train.clone(), h_train.clone()),
    };
    boost_side_by_side(label, cfg, (&g_sub, &h_sub), (&g_test, &h_test), out);
}

/// Plaintext boosting, then the chosen protocols, on the same rows; prints each row and the
/// byte ratios against the FATE baseline.
fn boost_side_by_side(
    label: &'static str,
    cfg: &HeteroSecureBoost,
    (g_sub, h_sub): (&VerticalDataset, &VerticalDataset),
    (g_test, h_test): (&VerticalDataset, &VerticalDataset),
    out: &mut Vec<Row>,
) {
    let y = g_test.labels.clone().unwrap_or_default();
    let start = std::time::Instant::now();
    let plain =
        plaintext_boost_proba(cfg, g_sub, h_sub, (g_test, h_test)).expect("plaintext boost");
    let wall = start.elapsed();
    let (acc, auc, ks, roc) = proba_metrics(&y, &plain);
    println!("  SB plaintext: {wall:.1?}; acc {acc:.4} AUC {auc:.4}");
    out.push(Row {
        data: label,
        protocol: "SB plaintext",
        train_wall: wall,
        acc,
        auc,
        ks,
        roc,
        ..Row::default()
    });
    let first = out.len();
    let wanted = std::env::var("FED_SB_PROTOCOLS").unwrap_or_else(|_| "tessera,fate".into());
    for (key, name, cfg) in [
        ("tessera", "SB tessera", cfg.clone().protocol(BoostProtocol::Tessera)),
        (
            "goss",
            "SB tessera GOSS 0.2/0.1",
            cfg.clone().protocol(BoostProtocol::Tessera).goss(0.2, 0.1),
        ),
        ("paillier", "SB tessera-paillier", cfg.clone().protocol(BoostProtocol::TesseraPaillier)),
        ("fate", "SB FATE baseline", cfg.clone().protocol(BoostProtocol::FateBaseline)),
    ] {
        if !wanted.split(',').any(|w| w.trim() == key) {
            continue;
        }
        let mut r = boost(name, &cfg, (g_sub, h_sub), (g_test, h_test));
        println!(
            "  {name}: train {} B, {} rounds, {:.1?}; predict {} B, {:.1?}; acc {:.4} AUC {:.4}",
            r.train_bytes,
            r.train_rounds,
            r.train_wall,
            r.predict_bytes,
            r.predict_wall,
            r.acc,
            r.auc
        );
        r.data = label;
        out.push(r);
    }
    let here = &out[first..];
    if let Some(base) = here.iter().find(|r| r.protocol == "SB FATE baseline") {
        for r in here.iter().filter(|r| r.protocol.contains("tessera")) {
            println!(
                "  {} / FATE baseline bytes: train {:.1}×, predict {:.1}×",
                r.protocol,
                base.train_bytes as f64 / r.train_bytes as f64,
                base.predict_bytes as f64 / r.predict_bytes as f64
            );
        }
    }
}

/// ROC and training-loss plots of one model family on one data set, as SVG in `dir`.
fn write_plots(dir: &str, family: &str, data: &str, rows: &[&Row]) {
    let roc: Vec<Series> = rows
        .iter()
        .filter(|r| !r.roc.is_empty())
        .map(|r| Series { name: r.protocol.into(), points: r.roc.clone() })
        .collect();
    if roc.is_empty() {
        return;
    }
    let model = if family == "sb" { "SecureBoost" } else { "logistic regression" };
    let svg = line_plot(
        &format!("ROC, {data} ({model})"),
        "false-positive rate",
        "true-positive rate",
        &roc,
    );
    let _ = std::fs::write(format!("{dir}/{family}_roc_{data}.svg"), svg);
    let loss: Vec<Series> = rows
        .iter()
        .filter(|r| !r.loss.is_empty())
        .map(|r| Series {
            name: if family == "sb" {
                format!("{} (log-loss per tree)", r.protocol)
            } else {
                format!("{} (Taylor loss per iteration)", r.protocol)
            },
            points: r.loss.iter().enumerate().map(|(i, &l)| ((i + 1) as f64, l)).collect(),
        })
        .collect();
    let svg = line_plot(&format!("Training loss, {data} ({model})"), "iteration", "loss", &loss);
    let _ = std::fs::write(format!("{dir}/{family}_loss_{data}.svg"), svg);
}

/// MNIST's 10,000 images as left/right pixel halves (guest: left 392 pixels and labels): the
/// first 8,000 for training (and their first `rows`), the last 2,000 for testing.
struct MnistSplit {
    g_all: VerticalDataset,
    h_all: VerticalDataset,
    g_train: VerticalDataset,
    h_train: VerticalDataset,
    g_test: VerticalDataset,
    h_test: VerticalDataset,
}

fn mnist_split(rows: usize) -> Option<MnistSplit> {
    let root = tessera_federated::data::datasets_dir()?;
    let (g, h) = tessera_federated::data::mnist_vertical(
        root.join("mnist/t10k-images-idx3-ubyte.gz"),
        root.join("mnist/t10k-labels-idx1-ubyte.gz"),
        10_000,
    )
    .ok()?;
    let (g_all, g_test) = g.split_at(8000).ok()?;
    let (h_all, h_test) = h.split_at(8000).ok()?;
    let rows = rows.clamp(1, 8000);
    let g_train = g_all.split_at(rows).ok()?.0;
    let h_train = h_all.split_at(rows).ok()?.0;
    Some(MnistSplit { g_all, h_all, g_train, h_train, g_test, h_test })
}

/// SecureBoost on MNIST, softmax over 10 classes (one tree per class per round), left/right
/// pixel halves (guest: left 392 pixels and labels): trains on the first `rows` of the 8,000
/// training images, tests on the last 2,000.
fn run_boost_mnist(cfg: &HeteroSecureBoost, rows: usize, out: &mut Vec<Row>) {
    let Some(MnistSplit { g_train, h_train, g_test, h_test, .. }) = mnist_split(rows) else {
        return;
    };
    println!(
        "MNIST (SecureBoost softmax, 10 classes, {rows} of 8,000 train rows, 2,000 test rows, 392 + 392 pixels):"
    );
    let cfg = cfg.clone().classes(10);
    boost_side_by_side("MNIST", &cfg, (&g_train, &h_train), (&g_test, &h_test), out);
}

/// MNIST, 10 classes one-vs-rest, left/right pixel halves (guest: left and labels): Tessera's
/// multiclass training on the first `rows` of 8,000 training images, the baseline's prediction
/// message for the same models, and the baseline's training bytes from one measured class ×
/// `FED_BASE_ITERS` iterations (one-vs-rest trains each class with the same schedule, so
/// `setup + classes × iterations × per-iteration` is exact).
fn run_mnist(lr: &HeteroLogisticRegression, rows: usize, out: &mut Vec<Row>) {
    // FATE's Taylor loss is a least-squares fit: its step must stay below ~2 / (0.25 · 100) for
    // 784 pixels in [0, 1], so MNIST trains with a smaller rate in mini-batches of 50.
    let iters = env("FED_MNIST_EPOCHS", 5);
    let lr = &lr.clone().learning_rate(0.05).batch_size(Some(50)).epochs(iters);
    let Some(MnistSplit { g_all, h_all, g_train, h_train, g_test, h_test }) = mnist_split(rows)
    else {
        return;
    };
    let classes = 10;
    let base_iters = env("FED_BASE_ITERS", 1).max(1);
    let steps_per_epoch = rows.div_ceil(50) as u64;
    let y: Vec<f64> = g_test.labels.clone().unwrap_or_default();
    let acc = |p: &[f64]| p.iter().zip(&y).filter(|(a, b)| a == b).count() as f64 / y.len() as f64;
    println!(
        "MNIST ({rows} of 8,000 train rows, 2,000 test rows, 392 + 392 pixels, {classes} classes, {iters} epochs of batch 50, lr 0.05):"
    );
    let mut rows_here = Vec::new();
    for (name, gt, ht, loss) in [
        ("plaintext (all 8,000 rows)", &g_all, &h_all, PlainLoss::Logistic),
        ("plaintext", &g_train, &h_train, PlainLoss::Logistic),
        ("plaintext, Taylor loss (the protocols' model)", &g_train, &h_train, PlainLoss::Taylor),
    ] {
        let start = std::time::Instant::now();
        let m = PlainLr::fit_multiclass_with(lr, gt, ht, classes, loss).expect("plaintext");
        let wall = start.elapsed();
        let a = acc(&PlainLr::predict_classes(&m, &g_test, &h_test));
        rows_here.push(Row {
            data: "MNIST",
            protocol: name,
            train_wall: wall,
            acc: a,
            auc: f64::NAN,
            ks: f64::NAN,
            ..Row::default()
        });
    }
    let bits = lr.predict_bits_kind();
    let runs = run_parties(2, transport(), config(), |ch| {
        let me = ch.party().0;
        let (role, d, t) = if me == 0 {
            (Role::Guest, &g_train, &g_test)
        } else {
            (Role::Host, &h_train, &h_test)
        };
        let parties = Parties::two(ch.party(), PartyId(1 - me), role);
        let fit = lr.fit_multiclass(ch, &parties, role, d, classes)?;
        let ours = predict_multiclass(&fit.models, ch, &parties, t, LrProtocol::Tessera, bits)?;
        let base =
            predict_multiclass(&fit.models, ch, &parties, t, LrProtocol::FateBaseline, bits)?;
        Ok::<_, tessera_federated::Error>((fit, ours, base))
    })
    .expect("harness");
    let mut ours =
        Row { data: "MNIST", protocol: "tessera", auc: f64::NAN, ks: f64::NAN, ..Row::default() };
    let (mut base_predict, mut base_acc) = (0, 0.0);
    for r in runs {
        let (fit, (s_ours, p_ours), (s_base, p_base)) = r.output.expect("MNIST training failed");
        ours.train_bytes += fit.phases.iter().map(|p| p.traffic.bytes_sent).sum::<u64>();
        if r.party.0 == 0 {
            ours.train_rounds += fit.phases.iter().map(|p| p.traffic.rounds).sum::<u64>();
        }
        ours.train_wall = ours.train_wall.max(fit.phases.iter().map(|p| p.elapsed).sum());
        ours.predict_bytes += p_ours.traffic.bytes_sent;
        ours.predict_wall = ours.predict_wall.max(p_ours.elapsed);
        ours.predict_rounds = ours.predict_rounds.max(p_ours.traffic.rounds);
        base_predict += p_base.traffic.bytes_sent;
        if let (Some(so), Some(sb)) = (s_ours, s_base) {
            ours.acc = acc(&tessera_federated::lr::predict::argmax_classes(&so, y.len()));
            base_acc = acc(&tessera_federated::lr::predict::argmax_classes(&sb, y.len()));
            ours.loss = fit.loss_history;
        }
    }
    println!(
        "  tessera: train {} B, {} rounds, {:.1?}; predict {} B ({bits} bits), acc {:.4}; same models with float64 scores (FATE's message): {} B, acc {:.4}",
        ours.train_bytes,
        ours.train_rounds,
        ours.train_wall,
        ours.predict_bytes,
        ours.acc,
        base_predict,
        base_acc
    );
    // The baseline: one class (digit 0 against the rest), `base_iters` epochs, measured.
    let mut g0 = g_train.clone();
    g0.labels = g0.labels.map(|l| l.iter().map(|&v| if v == 0.0 { 1.0 } else { 0.0 }).collect());
    let base_cfg = lr.clone().protocol(LrProtocol::FateBaseline).epochs(base_iters);
    let (r, setup) = federated("FATE baseline", &base_cfg, (&g0, &h_train), (&g_test, &h_test));
    let per_iter = (r.train_bytes - setup) / base_iters as u64;
    let exact = setup + per_iter * (classes * iters) as u64;
    println!(
        "  FATE baseline: one class × {base_iters} epochs measured {} B ({:.1?}); {classes} classes × {iters} epochs = {setup} + {} × {per_iter} = {exact} B (exact); tessera / baseline: train {:.1}×, predict {:.1}×",
        r.train_bytes,
        r.train_wall,
        classes * iters,
        exact as f64 / ours.train_bytes as f64,
        base_predict as f64 / ours.predict_bytes as f64
    );
    rows_here.push(ours);
    rows_here.push(Row {
        data: "MNIST",
        protocol: "FATE baseline (exact bytes, not run)",
        train_bytes: exact,
        train_rounds: 3 * (classes * iters) as u64 * steps_per_epoch + 1,
        predict_bytes: base_predict,
        acc: base_acc,
        auc: f64::NAN,
        ks: f64::NAN,
        ..Row::default()
    });
    out.extend(rows_here);
}

fn main() {
    let iters = env("FED_ITERS", 15);
    let credit_rows = env("FED_CREDIT_ROWS", 1000);
    let key_bits = env("FED_KEY_BITS", 2048);
    let lr = HeteroLogisticRegression::new()
        .key_bits(key_bits)
        .epochs(iters)
        .batch_size(None)
        .learning_rate(0.15)
        .l2(0.01);
    println!(
        "vertical LR, 2 parties, 10 Mbit/s 20 ms link, {key_bits}-bit Paillier, full batch, {iters} iterations, lr 0.15, L2 0.01"
    );
    let only = std::env::var("FED_ONLY").unwrap_or_default();
    let wants = |k: &str| only.is_empty() || only.split(',').any(|x| x == k);
    let mut rows = Vec::new();
    if wants("lr") || wants("breast") {
        run_dataset(
            "breast",
            ("breast_hetero_guest.csv", "breast_hetero_host.csv"),
            None,
            &lr,
            &mut rows,
        );
    }
    if wants("lr") || wants("credit") {
        run_dataset(
            "default-credit",
            ("default_credit_hetero_guest.csv", "default_credit_hetero_host.csv"),
            Some(credit_rows),
            &lr,
            &mut rows,
        );
    }
    let trees = env("FED_TREES", 5);
    let depth = env("FED_SB_DEPTH", 3);
    let sb = HeteroSecureBoost::new()
        .key_bits(key_bits)
        .trees(trees)
        .max_depth(depth)
        .max_bins(32)
        .learning_rate(0.3);
    if wants("mnist") {
        run_mnist(&lr, env("FED_MNIST_ROWS", 200), &mut rows);
    }
    if wants("sb") {
        println!("SecureBoost: {trees} rounds, depth {depth}, 32 bins, learning rate 0.3, λ 1");
        let data = std::env::var("FED_SB_DATA").unwrap_or_default();
        if data.is_empty() || data == "breast" {
            run_boost(
                "breast",
                ("breast_hetero_guest.csv", "breast_hetero_host.csv"),
                None,
                &sb,
                &mut rows,
            );
        }
        if data.is_empty() || data == "credit" {
            run_boost(
                "default-credit",
                ("default_credit_hetero_guest.csv", "default_credit_hetero_host.csv"),
                Some(env("FED_SB_CREDIT_ROWS", credit_rows)),
                &sb,
                &mut rows,
            );
        }
        if data.split(',').any(|d| d == "mnist") {
            run_boost_mnist(&sb, env("FED_SB_MNIST_ROWS", 500), &mut rows);
        }
    }

    println!(
        "\n| data | protocol | train bytes | train rounds | train wall | predict bytes | predict rounds | predict wall | accuracy | AUC | KS | bytes vs baseline (train / predict) |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let sb = r.protocol.starts_with("SB");
        let base = rows.iter().find(|b| {
            b.data == r.data
                && if sb {
                    b.protocol == "SB FATE baseline"
                } else {
                    b.protocol == "FATE baseline"
                        || b.protocol == "FATE baseline (exact bytes, not run)"
                }
        });
        let ratio = match base {
            Some(b) if r.protocol.contains("tessera") => format!(
                "{:.1}× / {:.1}×",
                b.train_bytes as f64 / r.train_bytes as f64,
                b.predict_bytes as f64 / r.predict_bytes as f64
            ),
            _ => "–".into(),
        };
        let f4 = |v: f64| if v.is_nan() { "–".to_string() } else { format!("{v:.4}") };
        println!(
            "| {} | {} | {} | {} | {:.1?} | {} | {} | {:.1?} | {} | {} | {} | {} |",
            r.data,
            r.protocol,
            r.train_bytes,
            r.train_rounds,
            r.train_wall,
            r.predict_bytes,
            r.predict_rounds,
            r.predict_wall,
            f4(r.acc),
            f4(r.auc),
            f4(r.ks),
            ratio
        );
    }

    let dir = std::env::var("FED_PLOTS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/plots").into());
    if std::fs::create_dir_all(&dir).is_ok() {
        for data in ["breast", "default-credit"] {
            // One set of plots per model family, so an SB-only run leaves the LR plots alone.
            for (family, is_sb) in [("lr", false), ("sb", true)] {
                let mine: Vec<&Row> = rows
                    .iter()
                    .filter(|r| r.data == data && r.protocol.starts_with("SB") == is_sb)
                    .collect();
                write_plots(&dir, family, data, &mine);
            }
        }
        println!("plots in {dir}");
    }

    // A micro-benchmark of the metric code keeps criterion's harness in the loop.
    let y: Vec<f64> = (0..10_000).map(|i| f64::from(i % 2)).collect();
    let s: Vec<f64> = (0..10_000).map(|i| f64::from(i % 97) / 97.0).collect();
    let mut c = Criterion::default().configure_from_args().sample_size(10);
    c.bench_function("auc 10k", |b| b.iter(|| metrics::auc(&y, &s)));
    c.final_summary();
}
