//! Federated data loaders: CSV tables (FATE's format), MNIST IDX image and label files (raw or
//! gzip) and CIFAR-10 binary batches.
//!
//! An accepted table satisfies its own shape invariants and survives being written back as CSV
//! and read again; accepted IDX and CIFAR files give exactly the shapes their headers declare.
//! The file loaders take paths, so each input is written to a per-process scratch file first.

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use tessera_federated::VerticalDataset;
use tessera_federated::data::{
    CIFAR_RECORD, load_cifar10_bin, load_idx_images, load_idx_labels, mnist_vertical,
};

use crate::target::{SMALL_FIXED, Target, Verdict};

/// Shape invariants every loaded data set must satisfy.
pub fn dataset_invariants(t: &VerticalDataset) {
    assert_eq!(t.features.len(), t.ids.len() * t.feature_names.len(), "rows × features");
    if let Some(l) = &t.labels {
        assert_eq!(l.len(), t.ids.len(), "one label per row");
        assert!(l.iter().all(|v| v.is_finite()), "labels are finite");
    }
    assert!(t.features.iter().all(|v| v.is_finite()), "features are finite");
    let mut ids: Vec<&String> = t.ids.iter().collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), t.ids.len(), "ids are distinct");
}

fn to_csv(t: &VerticalDataset, id: &str, label: Option<&str>) -> String {
    let mut head = vec![id.to_string()];
    head.extend(label.map(str::to_string));
    head.extend(t.feature_names.iter().cloned());
    let mut out = head.join(",") + "\n";
    for (i, row_id) in t.ids.iter().enumerate() {
        let mut cells = vec![row_id.clone()];
        if let Some(l) = &t.labels {
            cells.push(format!("{:?}", l[i]));
        }
        cells.extend(t.row(i).iter().map(|v| format!("{v:?}")));
        out.push_str(&(cells.join(",") + "\n"));
    }
    out
}

fn check_csv(data: &[u8]) -> Verdict {
    let Some((&which, rest)) = data.split_first() else {
        return Verdict::Rejected("empty".into());
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return Verdict::Rejected("not UTF-8".into());
    };
    let label = (which % 2 == 0).then_some("y");
    let r = VerticalDataset::from_csv_str("fuzz.csv", text, "id", label);
    if let Ok(t) = &r {
        dataset_invariants(t);
        // Write it back (id first, then the label, so the header finds the same columns) and
        // read it again: the same values, bit for bit.
        let names_clash = t.feature_names.iter().any(|n| n == "id" || Some(n.as_str()) == label);
        let empty_names = t.feature_names.iter().any(|n| n.is_empty());
        if !names_clash && !empty_names {
            let again =
                VerticalDataset::from_csv_str("again.csv", &to_csv(t, "id", label), "id", label)
                    .expect("a written-back table parses");
            assert_eq!(&again, t, "CSV round trip");
        }
    }
    Verdict::of(&r)
}

fn scratch(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        // A RAM file system where there is one: each execution writes and reads two files.
        let shm = std::path::Path::new("/dev/shm");
        let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
        let d = base.join(format!("tessera-fuzz-files-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("scratch dir");
        d
    });
    // One file per thread: tests may run targets on several threads.
    dir.join(format!("{name}-{:?}", std::thread::current().id()))
}

fn write(path: &PathBuf, bytes: &[u8]) {
    std::fs::File::create(path).and_then(|mut f| f.write_all(bytes)).expect("scratch write");
}

fn check_idx(data: &[u8]) -> Verdict {
    let Some((&which, rest)) = data.split_first() else {
        return Verdict::Rejected("empty".into());
    };
    let images = scratch("images.idx");
    let labels = scratch("labels.idx");
    match which % 4 {
        0 => {
            write(&images, rest);
            let r = load_idx_images(&images);
            if let Ok((n, rows, cols, pixels)) = &r {
                assert_eq!(
                    Some(pixels.len()),
                    n.checked_mul(*rows).and_then(|v| v.checked_mul(*cols))
                );
            }
            Verdict::of(&r)
        }
        1 => {
            write(&labels, rest);
            Verdict::of(&load_idx_labels(&labels))
        }
        2 => {
            // An image file and a label file: the input split at its first 2 bytes' offset.
            let (cut, body) = match rest.split_first_chunk::<2>() {
                Some((c, b)) => (usize::from(u16::from_le_bytes(*c)).min(b.len()), b),
                None => (0, rest),
            };
            write(&images, &body[..cut]);
            write(&labels, &body[cut..]);
            let r = mnist_vertical(&images, &labels, 64);
            if let Ok((guest, host)) = &r {
                dataset_invariants(guest);
                dataset_invariants(host);
                assert_eq!(guest.ids, host.ids, "both halves have the same rows");
            }
            Verdict::of(&r)
        }
        _ => {
            write(&images, rest);
            let r = load_cifar10_bin(&images);
            if let Ok(v) = &r {
                assert_eq!(v.len() * CIFAR_RECORD, rest.len());
                assert!(v.iter().all(|i| i.label <= 9 && i.pixels.len() == CIFAR_RECORD - 1));
            }
            Verdict::of(&r)
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

fn idx_images(n: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut out =
        [0x0803u32, n, rows, cols].iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<u8>>();
    out.extend((0..n * rows * cols).map(|i| (i * 37) as u8));
    out
}

fn idx_labels(n: u32) -> Vec<u8> {
    let mut out = [0x0801u32, n].iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<u8>>();
    out.extend((0..n).map(|i| (i % 10) as u8));
    out
}

fn idx_seeds() -> Vec<Vec<u8>> {
    let img = idx_images(3, 4, 6);
    let lab = idx_labels(3);
    let mut pair = (img.len() as u16).to_le_bytes().to_vec();
    pair.extend_from_slice(&img);
    pair.extend_from_slice(&lab);
    let mut cifar = vec![3u8];
    cifar.extend((0..CIFAR_RECORD - 1).map(|i| i as u8));
    vec![
        [&[0u8][..], &img].concat(),
        [&[0u8][..], &gzip(&img)].concat(),
        [&[1u8][..], &lab].concat(),
        [&[1u8][..], &gzip(&lab)].concat(),
        [&[2u8][..], &pair].concat(),
        [&[3u8][..], &cifar].concat(),
    ]
}

fn csv_seeds() -> Vec<Vec<u8>> {
    let tables = [
        "id,y,x0,x1\n0,1,0.5,-1.25\n1,0,3,4e-3\n2,1,-0,7\n",
        "id,x0\n a , 1 \n b ,2\n\n",
        "x0,id,y\n1.5,r1,0\n",
    ];
    tables
        .iter()
        .flat_map(|t| [[&[0u8][..], t.as_bytes()].concat(), [&[1u8][..], t.as_bytes()].concat()])
        .collect()
}

const CSV_DICT: &[&[u8]] = &[
    b",",
    b"\n",
    b"\r\n",
    b"id",
    b"y",
    b"NaN",
    b"inf",
    b"-0",
    b"1e309",
    b"0x1p3",
    b" ",
    b"\xef\xbb\xbf",
];

/// The federated data targets.
pub fn targets() -> Vec<Target> {
    vec![
        Target {
            name: "federated_csv",
            about: "VerticalDataset::from_csv_str (with and without a label column)",
            seeds: csv_seeds,
            check: check_csv,
            max_len: 4096,
            dict: CSV_DICT,
            alloc_fixed: SMALL_FIXED,
            ci_execs: 4000,
        },
        Target {
            name: "federated_idx",
            about: "load_idx_images, load_idx_labels, mnist_vertical, load_cifar10_bin (raw and gzip)",
            seeds: idx_seeds,
            check: check_idx,
            max_len: 16 << 10,
            dict: &[b"\x00\x00\x08\x03", b"\x00\x00\x08\x01", b"\x1f\x8b"],
            alloc_fixed: SMALL_FIXED,
            ci_execs: 2000,
        },
    ]
}
