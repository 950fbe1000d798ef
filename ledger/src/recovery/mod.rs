//! DID key recovery (placeholder while salvaging).
pub mod seal;
pub mod vss;
