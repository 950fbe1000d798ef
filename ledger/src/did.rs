//! Decentralised identifiers: `did:tessera:<id>` (documents held in ledger state) and `did:key`
//! (W3C CCG did:key method: multibase base58btc `z` + multicodec varint + raw public key) for
//! Ed25519 (`0xed`), secp256k1 (`0xe7`, compressed) and SM2 (`0x1206`, compressed).
//!
//! A `did:tessera` document lists verification methods (named keys), optional controller DIDs with
//! a k-of-n threshold that may rotate keys or deactivate it, a version that every update increments
//! (so an approval cannot be replayed), a deactivation flag, and service endpoints (W3C DID Core
//! §5.4: `id`, `type`, `serviceEndpoint`), for example a node's `quic://host:port`. Services are
//! part of the encoded document, so the signatures and state proofs that cover a document cover
//! its endpoints too; they are checked (bounded, parseable) whenever a document is decoded.

use crate::codec::{Decode, Encode, MAX_ID_LEN, Reader, Writer};
use crate::error::{Error, Result};
use crate::keys::{PublicKey, SignatureSuite};

/// Bound on verification methods and controllers in one document.
pub const MAX_DOC_ENTRIES: usize = 16;
/// Bound on service entries in one document.
pub const MAX_SERVICES: usize = 4;
/// Longest `serviceEndpoint` URI.
pub const MAX_ENDPOINT_LEN: usize = 256;
/// Longest DNS host name in an endpoint (RFC 1035 §2.3.4).
const MAX_HOST_LEN: usize = 253;

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

/// A service entry of a DID document (W3C DID Core §5.4).
///
/// `endpoint` is a URI `<scheme>://<host>:<port>` where scheme is lower-case ASCII letters,
/// digits, `+`, `-` or `.`, host is an IPv4 address, a bracketed IPv6 address or a DNS name, and
/// port is 1 to 65535; no path, user info or query. Tessera nodes publish `type = "TesseraNode"`,
/// `serviceEndpoint = "quic://<ip>:<port>"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// Fragment id unique inside the document (for example `node`).
    pub id: String,
    /// The service type (for example `TesseraNode`).
    pub kind: String,
    /// The `serviceEndpoint` URI.
    pub endpoint: String,
}

/// A parsed service endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The URI scheme (for example `quic`).
    pub scheme: String,
    /// The host: an IP address (IPv6 without brackets) or a DNS name.
    pub host: String,
    /// The port (never 0).
    pub port: u16,
}

impl Endpoint {
    /// Parses `<scheme>://<host>:<port>`; anything else is [`Error::InvalidEndpoint`].
    pub fn parse(uri: &str) -> Result<Self> {
        let bad = |why: &str| Error::InvalidEndpoint(format!("{why} in {:?}", truncate(uri)));
        if uri.is_empty() || uri.len() > MAX_ENDPOINT_LEN {
            return Err(bad("length outside 1..=256"));
        }
        let (scheme, rest) = uri.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let scheme_ok = scheme.bytes().next().is_some_and(|c| c.is_ascii_lowercase())
            && scheme.bytes().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.')
            });
        if !scheme_ok {
            return Err(bad("bad scheme"));
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (ip, port) = v6.split_once("]:").ok_or_else(|| bad("bad IPv6 host"))?;
            ip.parse::<std::net::Ipv6Addr>().map_err(|_| bad("bad IPv6 address"))?;
            (ip, port)
        } else {
            let (host, port) = rest.rsplit_once(':').ok_or_else(|| bad("no port"))?;
            if host.parse::<std::net::Ipv4Addr>().is_err() && !is_dns_name(host) {
                return Err(bad("bad host"));
            }
            (host, port)
        };
        if port.is_empty() || !port.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad("bad port"));
        }
        let port: u16 = port.parse().map_err(|_| bad("port above 65535"))?;
        if port == 0 {
            return Err(bad("port 0"));
        }
        Ok(Self { scheme: scheme.to_owned(), host: host.to_owned(), port })
    }
}

fn truncate(s: &str) -> &str {
    let mut end = s.len().min(64);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A DNS name: dot-separated labels of 1 to 63 letters, digits or inner hyphens, not all-numeric
/// in the last label (so a malformed IPv4 address is not taken for a name).
fn is_dns_name(h: &str) -> bool {
    if h.is_empty() || h.len() > MAX_HOST_LEN {
        return false;
    }
    let labels_ok = h.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    });
    let last_alpha =
        h.rsplit('.').next().is_some_and(|l| l.bytes().any(|c| c.is_ascii_alphabetic()));
    labels_ok && last_alpha
}

impl Service {
    /// Structural checks: id and type are identifiers, the endpoint parses.
    pub fn validate(&self) -> Result<()> {
        check_id(&self.id)?;
        check_id(&self.kind)?;
        Endpoint::parse(&self.endpoint)?;
        Ok(())
    }

    /// The parsed endpoint.
    pub fn parsed_endpoint(&self) -> Result<Endpoint> {
        Endpoint::parse(&self.endpoint)
    }
}

impl Encode for Service {
    fn encode(&self, w: &mut Writer) {
        w.str(&self.id);
        w.str(&self.kind);
        w.str(&self.endpoint);
    }
}

impl Decode for Service {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let s = Self {
            id: r.string(MAX_ID_LEN)?,
            kind: r.string(MAX_ID_LEN)?,
            endpoint: r.string(MAX_ENDPOINT_LEN)?,
        };
        s.validate()?;
        Ok(s)
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
    /// (any one of its own keys). The DID may list itself beside others (for example beside a
    /// recovery key, threshold 1: either its own keys or the recovery key).
    pub controllers: Vec<Did>,
    /// How many distinct controllers must approve an update (1 ≤ k ≤ n when controllers exist).
    pub threshold: u8,
    /// Incremented by every update; approvals sign the version they replace.
    pub version: u64,
    /// A deactivated DID resolves but can no longer sign.
    pub deactivated: bool,
    /// Service endpoints (at most [`MAX_SERVICES`], unique ids).
    pub services: Vec<Service>,
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
            services: Vec::new(),
        }
    }

    /// The first service of type `kind`.
    pub fn service(&self, kind: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.kind == kind)
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
    /// controllers (the DID itself may be one), and a threshold within 1..=n.
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
            if self.controllers[..i].contains(c) {
                return Err(Error::InvalidDid("duplicate controller".into()));
            }
        }
        if self.services.len() > MAX_SERVICES {
            return Err(Error::InvalidDid("too many services".into()));
        }
        for (i, sv) in self.services.iter().enumerate() {
            sv.validate()?;
            if self.services[..i].iter().any(|o| o.id == sv.id) {
                return Err(Error::InvalidDid("duplicate service id".into()));
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
        w.list(&self.services);
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
            services: r.list(MAX_SERVICES)?,
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
    fn endpoints_parse_or_are_refused() {
        let e = Endpoint::parse("quic://127.0.0.1:4433").unwrap();
        assert_eq!((e.scheme.as_str(), e.host.as_str(), e.port), ("quic", "127.0.0.1", 4433));
        let e = Endpoint::parse("quic://[::1]:9").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("::1", 9));
        let e = Endpoint::parse("quic://node-a.example.org:443").unwrap();
        assert_eq!(e.host, "node-a.example.org");
        let long = format!("quic://{}.org:1", "a".repeat(300));
        for bad in [
            "",
            "127.0.0.1:4433",
            "quic://127.0.0.1",
            "quic://127.0.0.1:0",
            "quic://127.0.0.1:65536",
            "quic://127.0.0.1:44a",
            "quic://127.0.0.1:+1",
            "quic://999.1.1.1:1",
            "quic://[::1:1",
            "quic://[zz]:1",
            "quic://a b:1",
            "quic://-a.org:1",
            "quic://user@host.org:1",
            "quic://host.org:1/path",
            "QUIC://host.org:1",
            "quic://:1",
            long.as_str(),
        ] {
            assert!(
                matches!(Endpoint::parse(bad), Err(Error::InvalidEndpoint(_))),
                "accepted {bad:?}"
            );
        }
    }

    #[test]
    fn services_are_encoded_signed_over_and_checked_on_decode() {
        let pk = KeyPair::generate(SignatureSuite::Ed25519).unwrap().public_key();
        let mut d = DidDocument::new("alice", "key-1", pk);
        d.services.push(Service {
            id: "node".into(),
            kind: "TesseraNode".into(),
            endpoint: "quic://127.0.0.1:4433".into(),
        });
        d.validate().unwrap();
        let bytes = d.to_bytes();
        assert_eq!(DidDocument::from_bytes(&bytes).unwrap(), d);
        assert_eq!(d.service("TesseraNode").unwrap().parsed_endpoint().unwrap().port, 4433);
        // Changing the endpoint changes the encoding (hence every hash and signature over it).
        let mut moved = d.clone();
        moved.services[0].endpoint = "quic://127.0.0.1:4434".into();
        assert_ne!(moved.to_bytes(), bytes);
        // A malformed endpoint in the bytes is a typed error, not a panic or a silent accept.
        let at = bytes.windows(4).position(|w| w == b"4433").unwrap();
        let mut bad = bytes.clone();
        bad[at] = b'x';
        assert!(matches!(DidDocument::from_bytes(&bad), Err(Error::InvalidEndpoint(_))));
        // Too many or duplicate services are refused.
        let mut dup = d.clone();
        dup.services.push(d.services[0].clone());
        assert!(dup.validate().is_err());
        let mut many = d.clone();
        for i in 0..MAX_SERVICES {
            let mut s = d.services[0].clone();
            s.id = format!("n{i}");
            many.services.push(s);
        }
        assert!(many.validate().is_err());
        assert!(DidDocument::from_bytes(&many.to_bytes()).is_err());
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
        d.validate().unwrap();
        d.controllers.push(d.did());
        assert!(d.validate().is_err(), "a controller named twice");
    }
}
