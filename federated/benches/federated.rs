//! Vertical LR and SecureBoost over a shaped 10 Mbit/s, 20 ms link: Tessera's packed protocol vs the
//! FATE-compatible Paillier baseline vs plaintext training, side by side in one run.
//!
//! `cargo bench -p tessera-federated --bench federated`
//! Environment: `FED_ITERS` (full-batch iterations, default 15), `FED_CREDIT_ROWS` (rows of
//! default-credit used by the Paillier protocols, default 1000; plaintext always uses all rows),
//! `FED_ONLY` (`lr` or `sb` to run one model), `FED_KEY_BITS` (default 2048), `FED_TREES` (SecureBoost trees, default 5), `FED_PLOTS` (folder for SVG plots, default `federated/plots`).
//! SecureBoost only: `FED_SB_CREDIT_ROWS` (default-credit training rows, default
//! `FED_CREDIT_ROWS`), `FED_SB_DATA` (`breast`, `credit` or both), `FED_SB_PROTOCOLS` (comma
//! list of `tessera`, `paillier`, `fate`, `goss`; default `tessera,fate`).

use std::time::Duration;

use criterion::Criterion;
use tessera_federated::boost::plaintext_boost;
use tessera_federated::plot::{Series, line_plot};
use tessera_federated::{
    BoostProtocol, HeteroLogisticRegression, HeteroSecureBoost, LrProtocol, PlainLr, Role,
    VerticalDataset, align, metrics,
};
use tessera_mpc::channel::LinkShape;
use tessera_mpc::harness::{Transport, run_parties};
use tessera_mpc::{ChannelConfig, PartyId};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Row {
    data: &'static str,
    protocol: &'static str,
    train_bytes: u64,
    train_rounds: u64,
    train_wall: Duration,
    predict_bytes: u64,
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
    ChannelConfig { max_frame_bytes: 1 << 30, recv_timeout: Duration::from_secs(3600) }
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
) -> Row {
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
    let mut row = Row {
        data: "",
        protocol: name,
        train_bytes: 0,
        train_rounds: 0,
        train_wall: Duration::ZERO,
        predict_bytes: 0,
        predict_wall: Duration::ZERO,
        acc: 0.0,
        auc: 0.0,
        ks: 0.0,
        roc: vec![],
        loss: vec![],
    };
    for r in runs {
        let (fit, scores, pstats) = r.output.expect("training failed");
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
        if let Some(s) = scores {
            let m = metrics::BinaryMetrics::evaluate(&y, &s);
            (row.acc, row.auc, row.ks) = (m.accuracy, m.auc, m.ks);
            row.roc = metrics::roc_curve(&y, &s);
            row.loss = fit.loss_history;
        }
    }
    row
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
        let (scores, pstats) = fit.model.predict(ch, peer, t, cfg.protocol_kind())?;
        Ok::<_, tessera_federated::Error>((fit.phases, fit.loss_history, scores, pstats))
    })
    .expect("harness");
    let y = test.0.labels.clone().unwrap_or_default();
    let mut row = Row {
        data: "",
        protocol: name,
        train_bytes: 0,
        train_rounds: 0,
        train_wall: Duration::ZERO,
        predict_bytes: 0,
        predict_wall: Duration::ZERO,
        acc: 0.0,
        auc: 0.0,
        ks: 0.0,
        roc: vec![],
        loss: vec![],
    };
    for r in runs {
        let (phases, loss, scores, pstats) = r.output.expect("training failed");
        row.train_bytes += phases.iter().map(|p| p.traffic.bytes_sent).sum::<u64>();
        if r.party.0 == 0 {
            row.train_rounds += phases.iter().map(|p| p.traffic.rounds).sum::<u64>();
        }
        row.train_wall = row.train_wall.max(phases.iter().map(|p| p.elapsed).sum());
        row.predict_bytes += pstats.traffic.bytes_sent;
        row.predict_wall = row.predict_wall.max(pstats.elapsed);
        if let Some(s) = scores {
            let m = metrics::BinaryMetrics::evaluate(&y, &s);
            (row.acc, row.auc, row.ks) = (m.accuracy, m.auc, m.ks);
            row.roc = metrics::roc_curve(&y, &s);
            row.loss = loss;
        }
    }
    row
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
        data: "",
        protocol: name,
        train_bytes: 0,
        train_rounds: 0,
        train_wall: wall,
        predict_bytes: 0,
        predict_wall: Duration::ZERO,
        acc: bm.accuracy,
        auc: bm.auc,
        ks: bm.ks,
        roc: metrics::roc_curve(&y, &s),
        loss: vec![],
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
    if rows.is_some() {
        rows_here.push(plaintext(
            lr,
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
    rows_here.push(plaintext(lr, train, test, "plaintext"));
    for (name, p) in [("tessera", LrProtocol::Tessera), ("FATE baseline", LrProtocol::FateBaseline)]
    {
        let r = federated(name, &lr.clone().protocol(p), train, test);
        println!(
            "  {name}: train {} B, {} rounds, {:.1?}; predict {} B; acc {:.4} AUC {:.4}",
            r.train_bytes, r.train_rounds, r.train_wall, r.predict_bytes, r.acc, r.auc
        );
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
    let y = g_test.labels.clone().unwrap_or_default();
    let start = std::time::Instant::now();
    let plain = plaintext_boost(cfg, &g_sub, &h_sub, (&g_test, &h_test)).expect("plaintext boost");
    let wall = start.elapsed();
    let m = metrics::BinaryMetrics::evaluate(&y, &plain);
    out.push(Row {
        data: label,
        protocol: "SB plaintext",
        train_bytes: 0,
        train_rounds: 0,
        train_wall: wall,
        predict_bytes: 0,
        predict_wall: Duration::ZERO,
        acc: m.accuracy,
        auc: m.auc,
        ks: m.ks,
        roc: metrics::roc_curve(&y, &plain),
        loss: vec![],
    });
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
        let mut r = boost(name, &cfg, (&g_sub, &h_sub), (&g_test, &h_test));
        println!(
            "  {name}: train {} B, {} rounds, {:.1?}; predict {} B; acc {:.4} AUC {:.4}",
            r.train_bytes, r.train_rounds, r.train_wall, r.predict_bytes, r.acc, r.auc
        );
        r.data = label;
        out.push(r);
    }
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
    let mut rows = Vec::new();
    if only != "sb" {
        run_dataset(
            "breast",
            ("breast_hetero_guest.csv", "breast_hetero_host.csv"),
            None,
            &lr,
            &mut rows,
        );
        run_dataset(
            "default-credit",
            ("default_credit_hetero_guest.csv", "default_credit_hetero_host.csv"),
            Some(credit_rows),
            &lr,
            &mut rows,
        );
    }
    let trees = env("FED_TREES", 5);
    let sb = HeteroSecureBoost::new()
        .key_bits(key_bits)
        .trees(trees)
        .max_depth(3)
        .max_bins(32)
        .learning_rate(0.3);
    if only != "lr" {
        println!("SecureBoost: {trees} trees, depth 3, 32 bins, learning rate 0.3, λ 1");
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
    }

    println!(
        "\n| data | protocol | train bytes | train rounds | train wall | predict bytes | accuracy | AUC | KS | bytes vs baseline (train / predict) |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let base_name =
            if r.protocol.starts_with("SB") { "SB FATE baseline" } else { "FATE baseline" };
        let base = rows.iter().find(|b| b.data == r.data && b.protocol == base_name);
        let ratio = match base {
            Some(b) if r.protocol.contains("tessera") => format!(
                "{:.1}× / {:.1}×",
                b.train_bytes as f64 / r.train_bytes as f64,
                b.predict_bytes as f64 / r.predict_bytes as f64
            ),
            _ => "–".into(),
        };
        println!(
            "| {} | {} | {} | {} | {:.1?} | {} | {:.4} | {:.4} | {:.4} | {} |",
            r.data,
            r.protocol,
            r.train_bytes,
            r.train_rounds,
            r.train_wall,
            r.predict_bytes,
            r.acc,
            r.auc,
            r.ks,
            ratio
        );
    }

    let dir = std::env::var("FED_PLOTS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/plots").into());
    if std::fs::create_dir_all(&dir).is_ok() {
        for data in ["breast", "default-credit"] {
            let roc: Vec<Series> = rows
                .iter()
                .filter(|r| r.data == data && !r.roc.is_empty())
                .map(|r| Series { name: r.protocol.into(), points: r.roc.clone() })
                .collect();
            if roc.is_empty() {
                continue;
            }
            let svg = line_plot(
                &format!("ROC, {data} (LR and SecureBoost)"),
                "false-positive rate",
                "true-positive rate",
                &roc,
            );
            let _ = std::fs::write(format!("{dir}/lr_roc_{data}.svg"), svg);
            let loss: Vec<Series> = rows
                .iter()
                .filter(|r| r.data == data && !r.loss.is_empty())
                .map(|r| Series {
                    name: if r.protocol.starts_with("SB") {
                        format!("{} (log-loss per tree)", r.protocol)
                    } else {
                        format!("{} (Taylor loss per iteration)", r.protocol)
                    },
                    points: r.loss.iter().enumerate().map(|(i, &l)| ((i + 1) as f64, l)).collect(),
                })
                .collect();
            let svg = line_plot(&format!("Training loss, {data}"), "iteration", "loss", &loss);
            let _ = std::fs::write(format!("{dir}/lr_loss_{data}.svg"), svg);
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
