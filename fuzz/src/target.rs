//! What a fuzz target is: seeds from real encodings, a check that asserts properties of one
//! input, and the bounds the input and its allocations must respect.

use std::fmt::Display;

/// What a target made of one input (a broken property is a panic, not a verdict).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The decoder accepted the input and the value passed every property.
    Accepted,
    /// The decoder refused it with this (typed) error, rendered.
    Rejected(String),
}

impl Verdict {
    /// `Accepted` for `Ok`, the rendered error for `Err`.
    pub fn of<T, E: Display>(r: &Result<T, E>) -> Self {
        match r {
            Ok(_) => Self::Accepted,
            Err(e) => Self::Rejected(e.to_string()),
        }
    }
}

/// One fuzz target: one format of untrusted bytes.
pub struct Target {
    /// Short name, used on the command line and in `docs/RELIABILITY.md`.
    pub name: &'static str,
    /// The decoder(s) it drives, in words.
    pub about: &'static str,
    /// Real encodings to start from.
    pub seeds: fn() -> Vec<Vec<u8>>,
    /// Runs one input: decodes it and asserts the properties (round trip, validation).
    pub check: fn(&[u8]) -> Verdict,
    /// Longest input the mutator produces.
    pub max_len: usize,
    /// Tokens the mutator may insert (keywords of a text format).
    pub dict: &'static [&'static [u8]],
    /// Largest single allocation allowed regardless of the input's size (decoders may expand
    /// a seed or a fixed-size structure).
    pub alloc_fixed: usize,
    /// Executions the `cargo test` run gives it (a few seconds at most on the build machine).
    pub ci_execs: u64,
}

impl Target {
    /// The allocation cap for an input of `len` bytes: the fixed allowance plus 16 bytes of
    /// allocation per input byte (a decoded value may be a few times its encoding).
    pub fn alloc_cap(&self, len: usize) -> usize {
        self.alloc_fixed.saturating_add(len.saturating_mul(16))
    }
}

/// A default allowance for decoders that expand nothing: 1 MiB.
pub const SMALL_FIXED: usize = 1 << 20;
