//! DID-bound TLS: each node's self-signed Ed25519 certificate carries the key its DID document
//! publishes, and custom rustls verifiers accept a peer only if its certificate carries exactly
//! the key of the DID it is expected (or claims) to be.
//!
//! The DID document of a node has two verification methods, `key-1` (signs transactions and
//! commitments) and `tls-1` (the TLS certificate key), and one service entry (W3C DID Core §5.4)
//! of type `TesseraNode` whose `serviceEndpoint` is the node's `quic://host:port`. Peers of a job
//! are found by resolving their DIDs on the ledger. Certificate names, issuers and validity
//! periods carry no meaning here: identity is the key, and possession of it is proven by the TLS
//! 1.3 `CertificateVerify` signature, which rustls checks with the same parsed key.
//!
//! The ledger service ([`crate::ledgerserve`]) uses the same certificates under its own ALPN: its
//! certificate carries the validator's Ed25519 key, and clients present their node certificate.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use tessera_ledger::{Did, DidDocument, PublicKey, Service, SignatureSuite};

use crate::error::{Error, Result};

/// ALPN protocol id of the node transport.
pub const ALPN: &[u8] = b"tessera/1";
/// ALPN protocol id of the ledger service.
pub const LEDGER_ALPN: &[u8] = b"tessera-ledger/1";
/// The verification method of a node's DID that its TLS certificate carries.
pub const TLS_METHOD: &str = "tls-1";
/// The service type under which a node publishes its QUIC endpoint.
pub const NODE_SERVICE: &str = "TesseraNode";

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), followed by the 32 key bytes.
const ED25519_SPKI_PREFIX: [u8; 12] =
    [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// The `quic://` URI of a socket address.
pub fn quic_uri(addr: SocketAddr) -> String {
    format!("quic://{addr}")
}

/// Resolves a `quic://host:port` URI to a socket address (host names through the system
/// resolver; the first address is used).
pub fn endpoint_addr(uri: &str) -> Result<SocketAddr> {
    let ep = tessera_ledger::Endpoint::parse(uri).map_err(|e| Error::invalid("endpoint", e))?;
    if ep.scheme != "quic" {
        return Err(Error::invalid("endpoint", format!("{uri:?} is not a quic:// endpoint")));
    }
    if let Ok(ip) = ep.host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, ep.port));
    }
    use std::net::ToSocketAddrs as _;
    (ep.host.as_str(), ep.port)
        .to_socket_addrs()
        .map_err(|e| Error::invalid("endpoint", format!("cannot resolve {}: {e}", ep.host)))?
        .next()
        .ok_or_else(|| Error::invalid("endpoint", format!("{} has no address", ep.host)))
}

/// A peer as its DID document describes it: QUIC endpoint and certificate key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerInfo {
    /// The DID.
    pub did: Did,
    /// Its QUIC endpoint.
    pub addr: SocketAddr,
    /// The Ed25519 key its certificate must carry.
    pub tls_key: [u8; 32],
}

impl PeerInfo {
    /// Reads endpoint (the `TesseraNode` service) and certificate key (method `tls-1`) from a
    /// resolved DID document.
    pub fn from_document(doc: &DidDocument) -> Result<Self> {
        if doc.deactivated {
            return Err(Error::Identity(format!("{} is deactivated", doc.did())));
        }
        let service = doc.service(NODE_SERVICE).ok_or_else(|| {
            Error::Identity(format!("{} publishes no {NODE_SERVICE} service", doc.did()))
        })?;
        let addr = endpoint_addr(&service.endpoint)
            .map_err(|e| Error::Identity(format!("{}: {e}", doc.did())))?;
        let key = doc.method(TLS_METHOD).ok_or_else(|| {
            Error::Identity(format!("{} publishes no TLS key ({TLS_METHOD})", doc.did()))
        })?;
        let tls_key = ed25519_bytes(key)
            .ok_or_else(|| Error::Identity(format!("{}: TLS key is not Ed25519", doc.did())))?;
        Ok(Self { did: doc.did(), addr, tls_key })
    }
}

/// The raw bytes of an Ed25519 public key.
pub fn ed25519_bytes(key: &PublicKey) -> Option<[u8; 32]> {
    if key.suite() != SignatureSuite::Ed25519 {
        return None;
    }
    key.as_bytes().try_into().ok()
}

/// The Ed25519 key of a DER certificate, parsed exactly as rustls/webpki parse it for signature
/// checks. Any other key type is refused.
pub fn certificate_key(cert: &CertificateDer<'_>) -> Result<[u8; 32], rustls::Error> {
    let ee = webpki::EndEntityCert::try_from(cert)
        .map_err(|_| rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding))?;
    let spki = ee.subject_public_key_info();
    let bytes = spki.as_ref();
    match bytes.split_at_checked(ED25519_SPKI_PREFIX.len()) {
        Some((prefix, key)) if prefix == ED25519_SPKI_PREFIX => key
            .try_into()
            .map_err(|_| rustls::Error::General("certificate key is not Ed25519".into())),
        _ => Err(rustls::Error::General("certificate key is not Ed25519".into())),
    }
}

/// A node's certificate and private key for rustls.
pub(crate) fn node_identity(
    tls_pkcs8: &[u8],
) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>)> {
    let kp = rcgen::KeyPair::try_from(tls_pkcs8).map_err(|e| Error::invalid("tls.key", e))?;
    let params = rcgen::CertificateParams::new(vec!["tessera-node".to_owned()])
        .map_err(|e| Error::Transport(format!("certificate: {e}")))?;
    let cert =
        params.self_signed(&kp).map_err(|e| Error::Transport(format!("certificate: {e}")))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(tls_pkcs8.to_vec()));
    Ok((cert.der().clone(), key))
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn verify13(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    rustls::crypto::verify_tls13_signature(
        message,
        cert,
        dss,
        &provider().signature_verification_algorithms,
    )
}

/// Checks the shape every node certificate has, and returns its key.
fn check_cert(
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
) -> Result<[u8; 32], rustls::Error> {
    if !intermediates.is_empty() {
        return Err(rustls::Error::General("node certificates are self-signed".into()));
    }
    certificate_key(end_entity)
}

/// The handshake-signature methods every verifier here shares (of `ServerCertVerifier` and
/// `ClientCertVerifier` alike): TLS 1.3 only, Ed25519 only, checked with the certificate's key.
/// One definition, so the client and server verifiers cannot drift apart.
macro_rules! tls13_ed25519_only {
    () => {
        fn verify_tls12_signature(
            &self,
            _m: &[u8],
            _c: &CertificateDer<'_>,
            _d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            Err(rustls::Error::General("TLS 1.2 is not used".into()))
        }

        fn verify_tls13_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify13(m, c, d)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            vec![SignatureScheme::ED25519]
        }
    };
}

/// Client side: the server must carry the key of the DID we dial.
#[derive(Debug)]
pub(crate) struct ExpectPeer {
    pub(crate) did: String,
    pub(crate) key: [u8; 32],
}

impl ServerCertVerifier for ExpectPeer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let key = check_cert(end_entity, intermediates)?;
        if key != self.key {
            tracing::warn!(did = %self.did, "server certificate does not carry the DID's key");
            return Err(rustls::Error::General(format!(
                "certificate key does not match {}",
                self.did
            )));
        }
        Ok(ServerCertVerified::assertion())
    }

    tls13_ed25519_only!();
}

/// Server side: the client must carry the key of one of the job's participants; which one it
/// is, is checked against its hello after the handshake.
#[derive(Debug)]
pub(crate) struct AnyParticipant {
    pub(crate) keys: Vec<[u8; 32]>,
}

impl ClientCertVerifier for AnyParticipant {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let key = check_cert(end_entity, intermediates)?;
        if !self.keys.contains(&key) {
            tracing::warn!("client certificate carries no participant's key");
            return Err(rustls::Error::General(
                "certificate key belongs to no participant of this job".into(),
            ));
        }
        Ok(ClientCertVerified::assertion())
    }

    tls13_ed25519_only!();
}

/// The rustls server configuration of a node for one job.
pub(crate) fn server_config(
    tls_pkcs8: &[u8],
    participant_keys: Vec<[u8; 32]>,
) -> Result<rustls::ServerConfig> {
    let (cert, key) = node_identity(tls_pkcs8)?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| Error::Transport(e.to_string()))?
        .with_client_cert_verifier(Arc::new(AnyParticipant { keys: participant_keys }))
        .with_single_cert(vec![cert], key)
        .map_err(|e| Error::Transport(e.to_string()))?;
    cfg.alpn_protocols = vec![ALPN.to_vec()];
    Ok(cfg)
}

/// The rustls client configuration for dialling `peer`.
pub(crate) fn client_config(tls_pkcs8: &[u8], peer: &PeerInfo) -> Result<rustls::ClientConfig> {
    let (cert, key) = node_identity(tls_pkcs8)?;
    let verifier = ExpectPeer { did: peer.did.to_string(), key: peer.tls_key };
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| Error::Transport(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_auth_cert(vec![cert], key)
        .map_err(|e| Error::Transport(e.to_string()))?;
    cfg.alpn_protocols = vec![ALPN.to_vec()];
    Ok(cfg)
}

/// The DID document a node publishes: signing key, certificate key and endpoint service.
pub fn node_document(
    name: &str,
    signing: PublicKey,
    tls_key: &[u8],
    endpoint: &str,
) -> Result<DidDocument> {
    endpoint_addr_syntax(endpoint)?;
    let mut doc = DidDocument::new(name, crate::home::SIGNING_METHOD, signing);
    doc.methods.push(tessera_ledger::VerificationMethod {
        id: TLS_METHOD.to_owned(),
        key: PublicKey::from_parts(SignatureSuite::Ed25519, tls_key)?,
    });
    doc.services.push(Service {
        id: "node".to_owned(),
        kind: NODE_SERVICE.to_owned(),
        endpoint: endpoint.to_owned(),
    });
    doc.validate()?;
    Ok(doc)
}

/// Checks that `uri` is a well-formed `quic://` endpoint, without resolving host names.
pub fn endpoint_addr_syntax(uri: &str) -> Result<()> {
    let ep = tessera_ledger::Endpoint::parse(uri).map_err(|e| Error::invalid("endpoint", e))?;
    if ep.scheme != "quic" {
        return Err(Error::invalid("endpoint", format!("{uri:?} is not a quic:// endpoint")));
    }
    Ok(())
}

/// Client side of the ledger service: any self-signed Ed25519 certificate (possession of its key
/// is proven by the handshake); which DID it belongs to is checked after the hello.
#[derive(Debug)]
pub(crate) struct AnyKey;

impl ClientCertVerifier for AnyKey {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        check_cert(end_entity, intermediates)?;
        Ok(ClientCertVerified::assertion())
    }

    tls13_ed25519_only!();
}

/// PKCS#8 v2 DER (RFC 5958, RFC 8410) of an Ed25519 key from its 32-byte seed, so the validator
/// key can be the ledger service's certificate key.
pub(crate) fn ed25519_pkcs8(seed: &[u8; 32], public: &[u8; 32]) -> zeroize::Zeroizing<Vec<u8>> {
    let mut v = zeroize::Zeroizing::new(Vec::with_capacity(85));
    v.extend_from_slice(&[
        0x30, 0x53, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ]);
    v.extend_from_slice(seed);
    v.extend_from_slice(&[0xa1, 0x23, 0x03, 0x21, 0x00]);
    v.extend_from_slice(public);
    v
}

/// The rustls server configuration of the ledger service.
pub(crate) fn ledger_server_config(tls_pkcs8: &[u8]) -> Result<rustls::ServerConfig> {
    let (cert, key) = node_identity(tls_pkcs8)?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| Error::Transport(e.to_string()))?
        .with_client_cert_verifier(Arc::new(AnyKey))
        .with_single_cert(vec![cert], key)
        .map_err(|e| Error::Transport(e.to_string()))?;
    cfg.alpn_protocols = vec![LEDGER_ALPN.to_vec()];
    Ok(cfg)
}

/// The rustls client configuration for the ledger service whose certificate must carry
/// `validator_key`.
pub(crate) fn ledger_client_config(
    tls_pkcs8: &[u8],
    validator_key: [u8; 32],
) -> Result<rustls::ClientConfig> {
    let (cert, key) = node_identity(tls_pkcs8)?;
    let verifier = ExpectPeer { did: "the ledger validator".into(), key: validator_key };
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| Error::Transport(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_auth_cert(vec![cert], key)
        .map_err(|e| Error::Transport(e.to_string()))?;
    cfg.alpn_protocols = vec![LEDGER_ALPN.to_vec()];
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_key_matches_generated_key() {
        let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let (cert, _) = node_identity(&kp.serialize_der()).unwrap();
        assert_eq!(certificate_key(&cert).unwrap().as_slice(), kp.public_key_raw());
    }

    #[test]
    fn garbage_certificate_is_refused_without_panic() {
        for len in 0..64 {
            let c = CertificateDer::from(vec![0x30u8; len]);
            assert!(certificate_key(&c).is_err());
        }
    }

    #[test]
    fn endpoint_round_trips_through_document() {
        let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let sk = tessera_ledger::KeyPair::generate(SignatureSuite::Ed25519).unwrap();
        let addr: SocketAddr = "127.0.0.1:4433".parse().unwrap();
        let uri = quic_uri(addr);
        let doc = node_document("alice", sk.public_key(), kp.public_key_raw(), &uri).unwrap();
        let info = PeerInfo::from_document(&doc).unwrap();
        assert_eq!(info.addr, addr);
        assert_eq!(info.tls_key.as_slice(), kp.public_key_raw());
        // The endpoint survives the ledger encoding.
        let back = <DidDocument as tessera_ledger::Decode>::from_bytes(
            &tessera_ledger::Encode::to_bytes(&doc),
        )
        .unwrap();
        assert_eq!(PeerInfo::from_document(&back).unwrap(), info);
        // No service, or a non-quic one, is an identity error rather than a guess.
        let mut none = doc.clone();
        none.services.clear();
        assert!(matches!(PeerInfo::from_document(&none), Err(Error::Identity(_))));
        assert!(
            node_document("a", sk.public_key(), kp.public_key_raw(), "https://x.org:1").is_err()
        );
        assert!(node_document("a", sk.public_key(), kp.public_key_raw(), "quic://x.org").is_err());
    }

    #[test]
    fn validator_seed_becomes_a_usable_certificate_key() {
        let sk = tessera_ledger::KeyPair::generate(SignatureSuite::Ed25519).unwrap();
        let public: [u8; 32] = sk.public_key().as_bytes().try_into().unwrap();
        let pkcs8 = ed25519_pkcs8(&sk.secret_bytes(), &public);
        let (cert, _) = node_identity(&pkcs8).unwrap();
        assert_eq!(certificate_key(&cert).unwrap(), public);
        ledger_server_config(&pkcs8).unwrap();
    }
}
