//! Loaders: clear errors naming file, row and column; MNIST and CIFAR-10 formats.

use std::io::Write;

use tessera_federated::data::{
    CIFAR_RECORD, load_cifar10_bin, load_idx_images, load_idx_labels, mnist_vertical,
};
use tessera_federated::{Error, VerticalDataset};

#[test]
fn parses_ids_labels_and_features() {
    let csv = "id,y,a,b\nu1,1,0.5,-2\nu2,0,1e-3,3\n";
    let d = VerticalDataset::from_csv_str("g.csv", csv, "id", Some("y")).unwrap();
    assert_eq!(d.ids, ["u1", "u2"]);
    assert_eq!(d.feature_names, ["a", "b"]);
    assert_eq!(d.features, [0.5, -2.0, 1e-3, 3.0]);
    assert_eq!(d.labels, Some(vec![1.0, 0.0]));
    let h = VerticalDataset::from_csv_str("h.csv", "b,id\n2,u2\n", "id", None).unwrap();
    assert_eq!(h.feature_names, ["b"]);
    assert_eq!(h.labels, None);
}

#[test]
fn bad_inputs_name_file_row_and_column() {
    let e = VerticalDataset::from_csv_str("guest.csv", "key,y,a\n1,0,2\n", "id", Some("y"))
        .unwrap_err();
    assert!(matches!(&e, Error::MissingColumn { column, .. } if column == "id"));
    assert_eq!(e.to_string(), "guest.csv: row 1 (header): no column named `id`");

    let e = VerticalDataset::from_csv_str(
        "guest.csv",
        "id,y,a\n1,0,2\n2,1,3\n1,1,4\n",
        "id",
        Some("y"),
    )
    .unwrap_err();
    assert!(matches!(&e, Error::DuplicateId { row: 4, first: 2, .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "guest.csv: row 4, column `id`: duplicate ID `1` (first seen at row 2)"
    );

    let e = VerticalDataset::from_csv_str("host.csv", "id,a,b\n1,0,2\n2,x7,3\n", "id", None)
        .unwrap_err();
    assert!(
        matches!(&e, Error::NonNumeric { row: 3, column, value, .. } if column == "a" && value == "x7")
    );
    assert_eq!(e.to_string(), "host.csv: row 3, column `a`: `x7` is not a finite number");

    let e = VerticalDataset::from_csv_str("host.csv", "id,a\n1,NaN\n", "id", None).unwrap_err();
    assert!(matches!(e, Error::NonNumeric { row: 2, .. }));
    let e = VerticalDataset::from_csv_str("host.csv", "id,a\n1,2,3\n", "id", None).unwrap_err();
    assert!(matches!(e, Error::RaggedRow { row: 2, expected: 2, got: 3, .. }));
    let e = VerticalDataset::from_csv_str("g.csv", "id,a\n1,2\n", "id", Some("y")).unwrap_err();
    assert!(matches!(&e, Error::MissingColumn { column, .. } if column == "y"));
    let e = VerticalDataset::from_csv("/nonexistent/x.csv", "id", None).unwrap_err();
    assert!(matches!(e, Error::Io { .. }));
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn idx_files_generated_and_malformed() {
    let dir = std::env::temp_dir().join(format!("tessera-fed-idx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Three 2×4 images and their labels.
    let mut img = vec![0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 4];
    img.extend((0..24u8).map(|v| v * 10));
    let lab = [0, 0, 8, 1, 0, 0, 0, 3, 7, 1, 9];
    std::fs::write(dir.join("img.gz"), gz(&img)).unwrap();
    std::fs::write(dir.join("lab.gz"), gz(&lab)).unwrap();
    let (n, r, c, px) = load_idx_images(dir.join("img.gz")).unwrap();
    assert_eq!((n, r, c, px.len()), (3, 2, 4, 24));
    let (g, h) = mnist_vertical(dir.join("img.gz"), dir.join("lab.gz"), 10).unwrap();
    assert_eq!(g.labels, Some(vec![7.0, 1.0, 9.0]));
    assert_eq!((g.num_features(), h.num_features()), (4, 4));
    // Left half of image 0's first row: pixels 0, 10 (scaled).
    assert_eq!(&g.row(0)[..2], &[0.0, 10.0 / 255.0]);
    assert_eq!(&h.row(0)[..2], &[20.0 / 255.0, 30.0 / 255.0]);
    // Truncated pixels and a wrong magic are errors, not panics.
    std::fs::write(dir.join("short"), &img[..30]).unwrap();
    assert!(matches!(load_idx_images(dir.join("short")), Err(Error::MalformedFile { .. })));
    std::fs::write(dir.join("magic"), gz(&lab)).unwrap();
    assert!(matches!(load_idx_images(dir.join("magic")), Err(Error::MalformedFile { .. })));
    std::fs::write(dir.join("tiny"), [0u8, 0, 8]).unwrap();
    assert!(load_idx_images(dir.join("tiny")).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Regressions found by `tessera-fuzz` (target `federated_idx`).
#[test]
fn idx_headers_found_by_the_fuzzer_are_errors() {
    let dir = std::env::temp_dir().join(format!("tessera-fed-idx-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A label file with the magic and only 3 bytes of count: computed `len - 8` (overflow).
    std::fs::write(dir.join("lab"), [0u8, 0, 8, 1, 0, 0, 0]).unwrap();
    assert!(matches!(load_idx_labels(dir.join("lab")), Err(Error::MalformedFile { .. })));
    // Zero images of 0 × 5 pixels: the pixel count matched, then `mnist_vertical` split the
    // pixels into chunks of 0 (panic); zero images of 65535 × 65535 named 2^31 columns.
    let lab0 = [0u8, 0, 8, 1, 0, 0, 0, 0];
    std::fs::write(dir.join("lab0"), lab0).unwrap();
    for (rows, cols) in [(0u32, 5u32), (65_535, 65_535), (3, 0)] {
        let mut img = vec![0u8, 0, 8, 3, 0, 0, 0, 0];
        img.extend(rows.to_be_bytes());
        img.extend(cols.to_be_bytes());
        std::fs::write(dir.join("img"), &img).unwrap();
        assert!(matches!(load_idx_images(dir.join("img")), Err(Error::MalformedFile { .. })));
        let r = mnist_vertical(dir.join("img"), dir.join("lab0"), 10);
        assert!(matches!(r, Err(Error::MalformedFile { .. })), "{rows} x {cols}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn real_mnist_when_present() {
    let Some(root) = tessera_federated::data::datasets_dir() else { return };
    let (g, h) = mnist_vertical(
        root.join("mnist/t10k-images-idx3-ubyte.gz"),
        root.join("mnist/t10k-labels-idx1-ubyte.gz"),
        10_000,
    )
    .unwrap();
    assert_eq!((g.len(), g.num_features(), h.num_features()), (10_000, 392, 392));
    // The first test image is a 7.
    assert_eq!(g.labels.as_ref().unwrap()[0], 7.0);
}

#[test]
fn cifar10_binary_records() {
    let dir = std::env::temp_dir().join(format!("tessera-fed-cifar-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut bytes = Vec::new();
    for label in [3u8, 9, 0] {
        bytes.push(label);
        bytes.extend((0..3072u32).map(|p| (p as u8).wrapping_add(label)));
    }
    std::fs::write(dir.join("batch.bin"), &bytes).unwrap();
    let imgs = load_cifar10_bin(dir.join("batch.bin")).unwrap();
    assert_eq!(imgs.iter().map(|i| i.label).collect::<Vec<_>>(), [3, 9, 0]);
    assert_eq!(imgs[1].pixels[1], 10);
    assert_eq!(imgs[2].pixels.len(), 3072);
    std::fs::write(dir.join("cut.bin"), &bytes[..2 * CIFAR_RECORD - 1]).unwrap();
    assert!(matches!(load_cifar10_bin(dir.join("cut.bin")), Err(Error::MalformedFile { .. })));
    bytes[CIFAR_RECORD] = 10;
    std::fs::write(dir.join("label.bin"), &bytes).unwrap();
    let e = load_cifar10_bin(dir.join("label.bin")).unwrap_err();
    assert!(e.to_string().contains("record 1"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn file_errors_name_the_path_and_label_and_empty_cells() {
    let dir = std::env::temp_dir().join(format!("tessera-fed-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("guest.csv");
    std::fs::write(&path, "id,y,a\n1,0,2\n2,yes,3\n").unwrap();
    let e = VerticalDataset::from_csv(&path, "id", Some("y")).unwrap_err();
    assert!(
        matches!(&e, Error::NonNumeric { row: 3, column, value, file } if column == "y" && value == "yes" && *file == path),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        format!("{}: row 3, column `y`: `yes` is not a finite number", path.display())
    );
    // An empty cell, an empty file and an ID column that is absent from a real file.
    std::fs::write(&path, "id,a,b\n1,,2\n").unwrap();
    let e = VerticalDataset::from_csv(&path, "id", None).unwrap_err();
    assert!(
        matches!(&e, Error::NonNumeric { row: 2, column, value, .. } if column == "a" && value.is_empty())
    );
    std::fs::write(&path, "").unwrap();
    assert!(matches!(
        VerticalDataset::from_csv(&path, "id", None),
        Err(Error::MissingColumn { .. })
    ));
    std::fs::write(&path, "uid,a\n1,2\n").unwrap();
    let e = VerticalDataset::from_csv(&path, "id", None).unwrap_err();
    assert!(e.to_string().starts_with(&path.display().to_string()), "{e}");
    // Blank lines are skipped but rows keep their line numbers.
    std::fs::write(&path, "id,a\n\n1,2\n1,3\n").unwrap();
    let e = VerticalDataset::from_csv(&path, "id", None).unwrap_err();
    assert!(matches!(e, Error::DuplicateId { row: 4, first: 3, .. }), "{e}");
    // A header alone is an empty data set, not an error.
    std::fs::write(&path, "id,a\n").unwrap();
    assert!(VerticalDataset::from_csv(&path, "id", None).unwrap().is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}
