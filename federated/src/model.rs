//! Per-party model files: each party saves and loads only its own part of a model as JSON.

use std::path::Path;

use serde::{Serialize, de::DeserializeOwned};

use crate::{Error, Result};

/// Writes `model` as pretty JSON.
pub fn save_json<T: Serialize>(model: &T, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let text = serde_json::to_string_pretty(model)?;
    std::fs::write(path, text).map_err(|source| Error::Io { file: path.into(), source })
}

/// Reads a model written by [`save_json`].
pub fn load_json<T: DeserializeOwned>(path: impl AsRef<Path>) -> Result<T> {
    let path = path.as_ref();
    let text =
        std::fs::read_to_string(path).map_err(|source| Error::Io { file: path.into(), source })?;
    Ok(serde_json::from_str(&text)?)
}
