//! Loading vertically partitioned data: CSV with an ID column and an optional label (FATE's
//! format), MNIST IDX files (gzip) and the CIFAR-10 binary format.
//!
//! Every error names the file, the row and the column; no input can make the loaders panic, and
//! allocations are bounded by the size of the file actually read.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// One party's columns of a vertically partitioned data set: identifiers, features and, at the
/// guest, labels.
#[derive(Clone, Debug, PartialEq)]
pub struct VerticalDataset {
    /// Row identifiers (distinct).
    pub ids: Vec<String>,
    /// Feature column names.
    pub feature_names: Vec<String>,
    /// Row-major features: row `i` is `features[i * d .. (i + 1) * d]`.
    pub features: Vec<f64>,
    /// Labels, at the guest only.
    pub labels: Option<Vec<f64>>,
}

impl VerticalDataset {
    /// Reads a CSV file whose header names an ID column and, if `label_column` is given, a label
    /// column; every other column is a feature.
    pub fn from_csv(
        path: impl AsRef<Path>,
        id_column: &str,
        label_column: Option<&str>,
    ) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|source| Error::Io { file: path.to_path_buf(), source })?;
        Self::from_csv_str(path, &text, id_column, label_column)
    }

    /// Parses CSV text; `file` only names the source in errors.
    pub fn from_csv_str(
        file: impl AsRef<Path>,
        text: &str,
        id_column: &str,
        label_column: Option<&str>,
    ) -> Result<Self> {
        let file: PathBuf = file.as_ref().to_path_buf();
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let header: Vec<&str> = match lines.next() {
            Some((_, h)) => h.split(',').map(str::trim).collect(),
            None => {
                return Err(Error::MissingColumn { file, column: id_column.to_string() });
            }
        };
        let find = |name: &str| header.iter().position(|h| *h == name);
        let id_idx = find(id_column)
            .ok_or_else(|| Error::MissingColumn { file: file.clone(), column: id_column.into() })?;
        let label_idx = match label_column {
            Some(l) => Some(
                find(l)
                    .ok_or_else(|| Error::MissingColumn { file: file.clone(), column: l.into() })?,
            ),
            None => None,
        };
        let feature_idx: Vec<usize> =
            (0..header.len()).filter(|&c| c != id_idx && Some(c) != label_idx).collect();
        let feature_names = feature_idx.iter().map(|&c| header[c].to_string()).collect();

        let mut ids = Vec::new();
        let mut features = Vec::new();
        let mut labels = label_idx.map(|_| Vec::new());
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (line_no, line) in lines {
            let row = line_no + 1;
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            if cells.len() != header.len() {
                return Err(Error::RaggedRow {
                    file,
                    row,
                    expected: header.len(),
                    got: cells.len(),
                });
            }
            let number = |c: usize| -> Result<f64> {
                let cell = cells.get(c).copied().unwrap_or_default();
                cell.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                    Error::NonNumeric {
                        file: file.clone(),
                        row,
                        column: header.get(c).copied().unwrap_or_default().to_string(),
                        value: cell.to_string(),
                    }
                })
            };
            let id = cells.get(id_idx).copied().unwrap_or_default().to_string();
            if let Some(&first) = seen.get(&id) {
                return Err(Error::DuplicateId { file, row, column: id_column.into(), id, first });
            }
            for &c in &feature_idx {
                features.push(number(c)?);
            }
            if let (Some(l), Some(labels)) = (label_idx, labels.as_mut()) {
                labels.push(number(l)?);
            }
            seen.insert(id.clone(), row);
            ids.push(id);
        }
        Ok(Self { ids, feature_names, features, labels })
    }

    /// Builds a data set from parts, checking the shapes.
    pub fn from_parts(
        ids: Vec<String>,
        feature_names: Vec<String>,
        features: Vec<f64>,
        labels: Option<Vec<f64>>,
    ) -> Result<Self> {
        if features.len() != ids.len() * feature_names.len() {
            return Err(Error::Misuse("features are not rows × feature names".into()));
        }
        if labels.as_ref().is_some_and(|l| l.len() != ids.len()) {
            return Err(Error::Misuse("one label per row is needed".into()));
        }
        Ok(Self { ids, feature_names, features, labels })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Number of feature columns.
    pub fn num_features(&self) -> usize {
        self.feature_names.len()
    }

    /// Row `i`'s features.
    pub fn row(&self, i: usize) -> &[f64] {
        let d = self.num_features();
        &self.features[i * d..(i + 1) * d]
    }

    /// The rows `order` (e.g. the PSI's aligned rows), in that order.
    pub fn select(&self, order: &[usize]) -> Result<Self> {
        if let Some(&bad) = order.iter().find(|&&i| i >= self.len()) {
            return Err(Error::Misuse(format!("row {bad} out of range ({} rows)", self.len())));
        }
        let mut features = Vec::with_capacity(order.len() * self.num_features());
        for &i in order {
            features.extend_from_slice(self.row(i));
        }
        Ok(Self {
            ids: order.iter().map(|&i| self.ids[i].clone()).collect(),
            feature_names: self.feature_names.clone(),
            features,
            labels: self.labels.as_ref().map(|l| order.iter().map(|&i| l[i]).collect()),
        })
    }

    /// Splits rows into the first `k` and the rest (train/test after alignment).
    pub fn split_at(&self, k: usize) -> Result<(Self, Self)> {
        let k = k.min(self.len());
        let a: Vec<usize> = (0..k).collect();
        let b: Vec<usize> = (k..self.len()).collect();
        Ok((self.select(&a)?, self.select(&b)?))
    }
}

/// The data-set folder: `$TESSERA_DATASETS`, else `<repo>/../shared/datasets`; `None` (after
/// printing why) when it is absent, so tests and benchmarks can skip.
pub fn datasets_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TESSERA_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("data sets not found at {}: skipping", dir.display());
        None
    }
}

fn read_maybe_gz(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let io = |source| Error::Io { file: path.to_path_buf(), source };
    let raw = std::fs::read(path).map_err(io)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..]).take(limit).read_to_end(&mut out).map_err(io)?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// The largest decompressed IDX file accepted (the 60,000-image MNIST train set is 47 MB).
const IDX_LIMIT: u64 = 256 << 20;

fn be_u32(bytes: &[u8], at: usize) -> Option<usize> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

/// Reads an IDX image file (gzip or raw): returns `(count, rows, cols, pixels)`.
pub fn load_idx_images(path: impl AsRef<Path>) -> Result<(usize, usize, usize, Vec<u8>)> {
    let path = path.as_ref();
    let bytes = read_maybe_gz(path, IDX_LIMIT)?;
    let bad = |what: &str| Error::MalformedFile { file: path.to_path_buf(), what: what.into() };
    if be_u32(&bytes, 0) != Some(0x0803) {
        return Err(bad("not an IDX image file (magic 0x00000803)"));
    }
    let (n, r, c) = match (be_u32(&bytes, 4), be_u32(&bytes, 8), be_u32(&bytes, 12)) {
        (Some(n), Some(r), Some(c)) => (n, r, c),
        _ => return Err(bad("truncated header")),
    };
    if n == 0 || r == 0 || c == 0 {
        // Zero images leave the dimensions unchecked by the pixel count (and zero-sized images
        // cannot be split into rows).
        return Err(bad("image count and dimensions must be non-zero"));
    }
    let want = n.checked_mul(r).and_then(|v| v.checked_mul(c));
    if want != Some(bytes.len() - 16) {
        return Err(bad("pixel count does not match the header"));
    }
    Ok((n, r, c, bytes[16..].to_vec()))
}

/// Reads an IDX label file (gzip or raw).
pub fn load_idx_labels(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    let path = path.as_ref();
    let bytes = read_maybe_gz(path, IDX_LIMIT)?;
    let bad = |what: &str| Error::MalformedFile { file: path.to_path_buf(), what: what.into() };
    if be_u32(&bytes, 0) != Some(0x0801) {
        return Err(bad("not an IDX label file (magic 0x00000801)"));
    }
    // A 4- to 7-byte file has the magic but no count: `len - 8` must not be computed then.
    match (be_u32(&bytes, 4), bytes.len().checked_sub(8)) {
        (Some(count), Some(len)) if count == len => {}
        _ => return Err(bad("label count does not match the header")),
    }
    Ok(bytes[8..].to_vec())
}

/// MNIST split by pixel columns: the guest gets the left half of each image and the labels, the
/// host the right half; pixels scaled to `[0, 1]`. Row ids are the image indices.
pub fn mnist_vertical(
    images: impl AsRef<Path>,
    labels: impl AsRef<Path>,
    limit: usize,
) -> Result<(VerticalDataset, VerticalDataset)> {
    let (n, rows, cols, pixels) = load_idx_images(&images)?;
    let y = load_idx_labels(&labels)?;
    if y.len() != n {
        return Err(Error::MalformedFile {
            file: labels.as_ref().to_path_buf(),
            what: format!("{} labels for {n} images", y.len()),
        });
    }
    let n = n.min(limit);
    let half = cols / 2;
    let names = |from: usize, to: usize| -> Vec<String> {
        (0..rows).flat_map(|r| (from..to).map(move |c| format!("px{r}_{c}"))).collect()
    };
    let (mut left, mut right) = (Vec::new(), Vec::new());
    for img in pixels.chunks_exact(rows * cols).take(n) {
        for row in img.chunks_exact(cols) {
            left.extend(row[..half].iter().map(|&p| f64::from(p) / 255.0));
            right.extend(row[half..].iter().map(|&p| f64::from(p) / 255.0));
        }
    }
    let ids: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let guest = VerticalDataset::from_parts(
        ids.clone(),
        names(0, half),
        left,
        Some(y[..n].iter().map(|&l| f64::from(l)).collect()),
    )?;
    let host = VerticalDataset::from_parts(ids, names(half, cols), right, None)?;
    Ok((guest, host))
}

/// One CIFAR-10 image: its label (0–9) and 3,072 pixel bytes (1,024 red, green, blue).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CifarImage {
    /// Class index, 0–9.
    pub label: u8,
    /// Channel-major 32×32 pixels.
    pub pixels: Vec<u8>,
}

/// Bytes of one record of the CIFAR-10 binary format: a label byte and 3,072 pixels.
pub const CIFAR_RECORD: usize = 1 + 3072;

/// Reads a CIFAR-10 binary batch (`data_batch_N.bin`): records of one label byte and 3,072
/// pixel bytes.
pub fn load_cifar10_bin(path: impl AsRef<Path>) -> Result<Vec<CifarImage>> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| Error::Io { file: path.into(), source })?;
    if bytes.is_empty() || !bytes.len().is_multiple_of(CIFAR_RECORD) {
        return Err(Error::MalformedFile {
            file: path.into(),
            what: format!(
                "{} bytes is not a whole number of {CIFAR_RECORD}-byte records",
                bytes.len()
            ),
        });
    }
    bytes
        .chunks_exact(CIFAR_RECORD)
        .enumerate()
        .map(|(i, rec)| {
            let label = rec[0];
            if label > 9 {
                return Err(Error::MalformedFile {
                    file: path.into(),
                    what: format!("record {i}: label {label} is not a CIFAR-10 class"),
                });
            }
            Ok(CifarImage { label, pixels: rec[1..].to_vec() })
        })
        .collect()
}
