//! Decentralised identifiers: `did:tessera:<id>` (documents held in ledger state) and `did:key`
//! (W3C CCG did:key method: multibase base58btc `z` + multicodec varint + raw public key) for
//! Ed25519 (`0xed`), secp256k1 (`0xe7`, compressed) and SM2 (`0x1206`, compressed).
//!
//! A `did:tessera` document lists verification methods (named keys), optional controller DIDs with
//! a k-of-n threshold that may rotate keys or deactivate it, a version that every update increments
//! (so an approval cannot be replayed), and a deactivation flag.

use crate::codec::{Decode, Encode, MAX_ID_LEN, Reader, Writer};
use crate::error::{Error, Result};
use crate::keys::{PublicKey, SignatureSuite};

/// Bound on verification methods and controllers in one document.
pub const MAX_DOC_ENTRIES: usize = 16;

const ED25519_CODEC: [u8; 2] = [0xed, 0x01];
const SECP256K1_CODEC: [u8; 2] = [0xe7, 0x01];
const SM2_CODEC: [u8; 2] = [0x86, 0x24];

/// A decentralised identifier.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Did {
    /// `did:tessera:<id>`: resolved from ledger state.
    Tessera(String),
    /// `did:key:z…`: the key is the identifier.
    Key(PublicKey),
}

/// Checks an identifier: 1 to 128 characters of `[A-Za-z0-9._-]`.
pub(crate) fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
    if ok { Ok(()) } else { Err(Error::InvalidDid(format!("bad identifier {id:?}"))) }
}

impl Did {
    /// `did:tessera:<id>` after checking the identifier.
    pub fn tessera(id: &str) -> Result<Self> {
        check_id(id)?;
        Ok(Self::Tessera(id.to_owned()))
    }

    /// `did:key` for a public key.
    pub fn key(pk: PublicKey) -> Self {
        Self::Key(pk)
    }

    /// Parses a DID string.
    pub fn parse(s: &str) -> Result<Self> {
        if let Some(id) = s.strip_prefix("did:tessera:") {
            return Self::tessera(id);
        }
        let Some(mb) = s.strip_prefix("did:key:z") else {
            return Err(Error::InvalidDid(format!("unsupported DID {s:?}")));
        };
        if mb.len() > 80 {
            return Err(Error::InvalidDid("did:key too long".into()));
        }
        let raw = bs58::decode(mb)
            .into_vec()
            .map_err(|_| Error::InvalidDid("did:key is not base58btc".into()))?;
        let (codec, key) =
            raw.split_at_checked(2).ok_or(Error::InvalidDid("did:key too short".into()))?;
        let suite = match [codec[0], codec[1]] {
            ED25519_CODEC => SignatureSuite::Ed25519,
            SECP256K1_CODEC => SignatureSuite::Secp256k1,
            SM2_CODEC => SignatureSuite::Sm2,
            _ => return Err(Error::InvalidDid("did:key multicodec not supported".into())),
        };
        Ok(Self::Key(PublicKey::from_parts(suite, key)?))
    }

    /// The key of a `did:key`, if this is one.
    pub fn as_key(&self) -> Option<&PublicKey> {
        match self {
            Self::Key(k) => Some(k),
            Self::Tessera(_) => None,
        }
    }
}

impl core::fmt::Display for Did {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Tessera(id) => write!(f, "did:tessera:{id}"),
            Self::Key(pk) => {
                let codec = match pk.suite() {
                    SignatureSuite::Ed25519 => ED25519_CODEC,
                    SignatureSuite::Secp256k1 => SECP256K1_CODEC,
                    SignatureSuite::Sm2 => SM2_CODEC,
                };
                let mut raw = codec.to_vec();
                raw.extend_from_slice(pk.as_bytes());
                write!(f, "did:key:z{}", bs58::encode(raw).into_string())
            }
        }
    }
}

impl Encode for Did {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::Tessera(id) => {
                w.u8(1);
                w.str(id);
            }
            Self::Key(pk) => {
                w.u8(2);
                pk.encode(w);
            }
        }
    }
}

impl Decode for Did {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match r.u8()? {
            1 => {
                let id = r.string(MAX_ID_LEN)?;
                check_id(&id).map_err(|_| Error::Malformed("DID identifier"))?;
                Ok(Self::Tessera(id))
            }
            2 => Ok(Self::Key(PublicKey::decode(r)?)),
            _ => Err(Error::Malformed("DID tag")),
        }
    }
}

/// A key inside a DID: `did` plus the verification method's name (empty for `did:key`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyRef {
    /// The DID.
    pub did: Did,
    /// The verification method's id inside the document (ignored for `did:key`).
    pub method: String,
}

impl KeyRef {
    /// A reference to a `did:tessera` method.
    pub fn new(did: Did, method: &str) -> Self {
        Self { did, method: method.to_owned() }
    }
    /// A `did:key` reference.
    pub fn did_key(pk: PublicKey) -> Self {
        Self { did: Did::Key(pk), method: String::new() }
    }
}

impl Encode for KeyRef {
    fn encode(&self, w: &mut Writer) {
        self.did.encode(w);
        w.str(&self.method);
    }
}

impl Decode for KeyRef {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self { did: Did::decode(r)?, method: r.string(MAX_ID_LEN)? })
    }
}

/// A named key in a DID document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerificationMethod {
    /// Name unique inside the document (for example `key-1`).
    pub id: String,
    /// The key.
    pub key: PublicKey,
}

impl Encode for VerificationMethod {
    fn encode(&self, w: &mut Writer) {
        w.str(&self.id);
        self.key.encode(w);
    }
}

impl Decode for VerificationMethod {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self { id: r.string(MAX_ID_LEN)?, key: PublicKey::decode(r)? })
    }
}

/// A `did:tessera` document as held in state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DidDocument {
    /// The identifier after `did:tessera:`.
    pub id: String,
    /// Keys that may sign for this DID.
    pub methods: Vec<VerificationMethod>,
    /// DIDs that may update or deactivate this document; empty means the DID controls itself
    /// (any one of its own keys).
    pub controllers: Vec<Did>,
    /// How many distinct controllers must approve an update (1 ≤ k ≤ n when controllers exist).
    pub threshold: u8,
    /// Incremented by every update; approvals sign the version they replace.
    pub version: u64,
    /// A deactivated DID resolves but can no longer sign.
    pub deactivated: bool,
}

impl DidDocument {
    /// A self-controlled document with one key.
    pub fn new(id: &str, method: &str, key: PublicKey) -> Self {
        Self {
            id: id.to_owned(),
            methods: vec![VerificationMethod { id: method.to_owned(), key }],
            controllers: Vec::new(),
            threshold: 1,
            version: 0,
            deactivated: false,
        }
    }

    /// The DID this document describes.
    pub fn did(&self) -> Did {
        Did::Tessera(self.id.clone())
    }

    /// Looks up a verification method by name.
    pub fn method(&self, name: &str) -> Option<&PublicKey> {
        self.methods.iter().find(|m| m.id == name).map(|m| &m.key)
    }

    /// Structural checks: identifier syntax, 1..=16 unique methods with valid keys, unique
    /// controllers not including itself, and a threshold within 1..=n.
    pub fn validate(&self) -> Result<()> {
        check_id(&self.id)?;
        if self.methods.is_empty() || self.methods.len() > MAX_DOC_ENTRIES {
            return Err(Error::InvalidDid("a document needs 1 to 16 verification methods".into()));
        }
        for (i, m) in self.methods.iter().enumerate() {
            check_id(&m.id)?;
            m.key.validate()?;
            if self.methods[..i].iter().any(|o| o.id == m.id) {
                return Err(Error::InvalidDid("duplicate verification method id".into()));
            }
        }
        if self.controllers.len() > MAX_DOC_ENTRIES {
            return Err(Error::InvalidDid("too many controllers".into()));
        }
        for (i, c) in self.controllers.iter().enumerate() {
            if self.controllers[..i].contains(c) || *c == self.did() {
                return Err(Error::InvalidDid("duplicate or self controller".into()));
            }
        }
        let n = self.controllers.len().max(1);
        if self.threshold == 0 || usize::from(self.threshold) > n {
            return Err(Error::InvalidDid("threshold outside 1..=controllers".into()));
        }
        Ok(())
    }
}

impl Encode for DidDocument {
    fn encode(&self, w: &mut Writer) {
        w.str(&self.id);
        w.list(&self.methods);
        w.list(&self.controllers);
        w.u8(self.threshold);
        w.u64(self.version);
        w.bool(self.deactivated);
    }
}

impl Decode for DidDocument {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            id: r.string(MAX_ID_LEN)?,
            methods: r.list(MAX_DOC_ENTRIES)?,
            controllers: r.list(MAX_DOC_ENTRIES)?,
            threshold: r.u8()?,
            version: r.u64()?,
            deactivated: r.bool()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyPair;

    #[test]
    fn did_key_round_trip_every_suite() {
        for suite in [SignatureSuite::Ed25519, SignatureSuite::Secp256k1, SignatureSuite::Sm2] {
            let pk = KeyPair::generate(suite).unwrap().public_key();
            let s = Did::key(pk).to_string();
            assert_eq!(Did::parse(&s).unwrap(), Did::Key(pk));
        }
        assert!(Did::parse("did:web:example.com").is_err());
        assert!(Did::parse("did:key:z111").is_err());
        assert!(Did::parse("did:tessera:bad id").is_err());
        assert_eq!(Did::parse("did:tessera:alice").unwrap().to_string(), "did:tessera:alice");
    }

    #[test]
    fn known_did_key_vector() {
        // W3C did:key test vector for Ed25519 (did-method-key spec, "ed25519-x25519.json").
        let s = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
        let d = Did::parse(s).unwrap();
        assert_eq!(d.to_string(), s);
        assert_eq!(d.as_key().unwrap().suite(), SignatureSuite::Ed25519);
    }

    #[test]
    fn document_validation() {
        let pk = KeyPair::generate(SignatureSuite::Ed25519).unwrap().public_key();
        let mut d = DidDocument::new("alice", "key-1", pk);
        d.validate().unwrap();
        d.threshold = 2;
        assert!(d.validate().is_err());
        d.threshold = 1;
        d.controllers.push(d.did());
        assert!(d.validate().is_err());
    }
}
