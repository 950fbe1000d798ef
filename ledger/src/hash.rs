//! Hash functions: SHA-256, SHA-512 and SM3 for content digests; SHA-256 or SM3 (fixed in the
//! genesis file) for the ledger's own structures (headers, Merkle trees, transaction ids).
//!
//! The ledger hash always yields 32 bytes, so every tree node and header field has one size.
//! SHA-512 is offered for content digests (data set contents and schemas) only.

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::{Error, Result};
use sha2::Digest as _;

/// A 32-byte ledger digest.
pub type Hash32 = [u8; 32];

/// Hash chosen in the genesis file for headers, trees and identifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LedgerHash {
    /// SHA-256 (FIPS 180-4).
    Sha256,
    /// SM3 (GB/T 32905-2016).
    Sm3,
}

impl LedgerHash {
    /// Hash of the concatenation of `parts`.
    pub fn hash(self, parts: &[&[u8]]) -> Hash32 {
        let mut out = [0u8; 32];
        match self {
            Self::Sha256 => {
                let mut h = sha2::Sha256::new();
                for p in parts {
                    h.update(p);
                }
                out.copy_from_slice(&h.finalize());
            }
            Self::Sm3 => {
                let mut h = sm3::Sm3::new();
                for p in parts {
                    sm3::Digest::update(&mut h, p);
                }
                out.copy_from_slice(&sm3::Digest::finalize(h));
            }
        }
        out
    }

    /// Name used in genesis files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sm3 => "sm3",
        }
    }

    /// Parses a genesis-file name.
    pub fn from_name(s: &str) -> Result<Self> {
        match s {
            "sha256" => Ok(Self::Sha256),
            "sm3" => Ok(Self::Sm3),
            _ => Err(Error::InvalidGenesis(format!("unknown ledger hash {s:?}"))),
        }
    }
}

impl Encode for LedgerHash {
    fn encode(&self, w: &mut Writer) {
        w.u8(match self {
            Self::Sha256 => 1,
            Self::Sm3 => 3,
        });
    }
}

impl Decode for LedgerHash {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match r.u8()? {
            1 => Ok(Self::Sha256),
            3 => Ok(Self::Sm3),
            _ => Err(Error::Malformed("ledger hash tag")),
        }
    }
}

/// Algorithms for content digests carried in transactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlg {
    /// SHA-256, 32 bytes.
    Sha256,
    /// SHA-512, 64 bytes.
    Sha512,
    /// SM3, 32 bytes.
    Sm3,
}

impl HashAlg {
    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 | Self::Sm3 => 32,
            Self::Sha512 => 64,
        }
    }

    /// Digest of `data`.
    pub fn digest(self, data: &[u8]) -> TaggedHash {
        let bytes = match self {
            Self::Sha256 => LedgerHash::Sha256.hash(&[data]).to_vec(),
            Self::Sm3 => LedgerHash::Sm3.hash(&[data]).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        };
        TaggedHash { alg: self, bytes }
    }
}

/// A content digest together with the algorithm that made it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TaggedHash {
    alg: HashAlg,
    bytes: Vec<u8>,
}

impl TaggedHash {
    /// Wraps a digest, checking its length against the algorithm.
    pub fn new(alg: HashAlg, bytes: Vec<u8>) -> Result<Self> {
        if bytes.len() != alg.output_len() {
            return Err(Error::Malformed("digest length does not match algorithm"));
        }
        Ok(Self { alg, bytes })
    }
    /// The algorithm.
    pub fn alg(&self) -> HashAlg {
        self.alg
    }
    /// The digest bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl Encode for TaggedHash {
    fn encode(&self, w: &mut Writer) {
        w.u8(match self.alg {
            HashAlg::Sha256 => 1,
            HashAlg::Sha512 => 2,
            HashAlg::Sm3 => 3,
        });
        w.raw(&self.bytes);
    }
}

impl Decode for TaggedHash {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let alg = match r.u8()? {
            1 => HashAlg::Sha256,
            2 => HashAlg::Sha512,
            3 => HashAlg::Sm3,
            _ => return Err(Error::Malformed("hash algorithm tag")),
        };
        let bytes = r.take(alg.output_len())?.to_vec();
        Ok(Self { alg, bytes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn known_answers() {
        // FIPS 180-2 and GB/T 32905 "abc" vectors.
        assert_eq!(
            hex(&LedgerHash::Sha256.hash(&[b"a", b"bc"])),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&LedgerHash::Sm3.hash(&[b"abc"])),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        assert!(hex(HashAlg::Sha512.digest(b"abc").bytes()).starts_with("ddaf35a193617aba"));
    }
}
