//! Shared loading of the real evidence files in `../shared/datasets/tee/`, with pinned hashes.
#![allow(dead_code, unreachable_pub)]

use sha2::{Digest, Sha256};

/// The dataset folder, relative to the repository root.
pub const DATASET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/datasets/tee");

/// Pinned SHA-256 of every file the tests read.
const PINNED: &[(&str, &str)] = &[
    ("intel/TrustedRootCA.der", "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"),
    ("intel/sgx_quote", "f8b81014b6e443609746822194910f5dc1c92c322fa0584298d1e33e505ca3b5"),
    (
        "intel/sgx_quote_collateral.json",
        "bdd694bbe50f3a2a1cfe12f9e2bd83125921107a368edcf10780a5523b8501ce",
    ),
    ("intel/tdx_quote", "c42f9164325024bca2757bc8819b11879a0a369132ea4e2b7c85df4805ea72db"),
    (
        "intel/tdx_quote_collateral.json",
        "b0a5f5fd620a8881b1eda45261fdf30dd930b49aff93231556645c81fcb4c0bc",
    ),
    ("intel/tdx_quote_td15ex", "fd88575b046315787daac21cb3657d03d95d74760a9c5006ad689fa5c2c498f7"),
    (
        "intel/tdx_quote_td15ex_collateral.json",
        "29e1cb0c2dc98c2cc7f241cc142bdf9d61dee288276d33ae45d5fb2b6b5cc0b0",
    ),
    ("amd/ark.pem", "8c109952166431ffad8cb9a3d54f3d20ffbbb58164f0d54be3457bf0ece9e0d8"),
    ("amd/ask.pem", "8da3a65af1cb7cb90a21fac78431a2431a9ee7811f48c36569c53fb80ad31fee"),
    ("amd/report_milan.hex", "3d956e9104969a038031a6b63dd6c4b60000619d37702065994f7da76f88ae7d"),
    ("amd/vcek_milan.der", "3bbfb6ee259f75a95d13168cfdf2e034181bb93c7c016825731cbe8ea16c95e1"),
];

/// Reads a dataset file and checks its pinned hash; `None` (with a printed notice) when the
/// dataset folder is absent. A present file with the wrong hash fails the test.
pub fn load(name: &str) -> Option<Vec<u8>> {
    let path = format!("{DATASET}/{name}");
    let Ok(bytes) = std::fs::read(&path) else {
        println!("SKIPPED: TEE dataset file {path} is absent (see shared/datasets/README.md)");
        return None;
    };
    let pinned = PINNED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, h)| *h)
        .unwrap_or_else(|| panic!("{name} has no pinned hash"));
    assert_eq!(hex::encode(Sha256::digest(&bytes)), pinned, "{path} differs from the pinned file");
    Some(bytes)
}

/// Loads several files, or `None` if any is absent.
pub fn load_all<const N: usize>(names: [&str; N]) -> Option<[Vec<u8>; N]> {
    let mut out = Vec::with_capacity(N);
    for n in names {
        out.push(load(n)?);
    }
    out.try_into().ok()
}

/// Unwraps a dataset load or returns from the test with the notice already printed.
#[macro_export]
macro_rules! require {
    ($e:expr) => {
        match $e {
            Some(v) => v,
            None => return,
        }
    };
}

/// Decodes lowercase/uppercase hex with optional whitespace.
pub fn unhex(s: &str) -> Vec<u8> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(clean).expect("valid hex")
}

/// Fixed-size hex.
pub fn hex_array<const N: usize>(s: &str) -> [u8; N] {
    unhex(s).try_into().expect("length")
}
