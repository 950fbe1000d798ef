//! DID-bound TLS: each node's self-signed Ed25519 certificate carries the key its DID document
//! publishes, and custom rustls verifiers accept a peer only if its certificate carries exactly
//! the key of the DID it is expected (or claims) to be.
//!
//! The DID document of a node has two verification methods: `key-1` (signs transactions and
//! commitments) and `quic-<ip>-<port>` (the TLS certificate key; the method name publishes the
//! node's QUIC endpoint, because documents have no service entries yet). Certificate names,
//! issuers and validity periods carry no meaning here: identity is the key, and possession of it is
//! proven by the TLS 1.3 `CertificateVerify` signature, which rustls checks with the same parsed
//! key.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use tessera_ledger::{Did, DidDocument, PublicKey, SignatureSuite};

use crate::error::{Error, Result};

/// ALPN protocol id of the node transport.
pub const ALPN: &[u8] = b"tessera/1";

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), followed by the 32 key bytes.
const ED25519_SPKI_PREFIX: [u8; 12] =
    [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// The verification-method name that publishes a QUIC endpoint.
pub fn endpoint_method(addr: SocketAddr) -> Result<String> {
    match addr {
        SocketAddr::V4(a) => Ok(format!("quic-{}-{}", a.ip(), a.port())),
        SocketAddr::V6(_) => Err(Error::Usage("IPv6 endpoints are not supported yet".into())),
    }
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
    /// Reads endpoint and certificate key from a resolved DID document.
    pub fn from_document(doc: &DidDocument) -> Result<Self> {
        if doc.deactivated {
            return Err(Error::Identity(format!("{} is deactivated", doc.did())));
        }
        let m =
            doc.methods.iter().find(|m| m.id.starts_with("quic-")).ok_or_else(|| {
                Error::Identity(format!("{} publishes no QUIC endpoint", doc.did()))
            })?;
        let bad =
            || Error::Identity(format!("{}: malformed endpoint method {:?}", doc.did(), m.id));
        let rest = m.id.strip_prefix("quic-").ok_or_else(bad)?;
        let (ip, port) = rest.rsplit_once('-').ok_or_else(bad)?;
        let addr: SocketAddr = format!("{ip}:{port}").parse().map_err(|_| bad())?;
        let tls_key = match &m.key {
            k if k.suite() == SignatureSuite::Ed25519 => {
                k.as_bytes().try_into().map_err(|_| bad())?
            }
            _ => return Err(Error::Identity(format!("{}: TLS key is not Ed25519", doc.did()))),
        };
        Ok(Self { did: doc.did(), addr, tls_key })
    }
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

/// The DID document a node publishes: signing key and endpoint/certificate key.
pub fn node_document(
    name: &str,
    signing: PublicKey,
    tls_key: &[u8],
    addr: SocketAddr,
) -> Result<DidDocument> {
    let mut doc = DidDocument::new(name, crate::home::SIGNING_METHOD, signing);
    doc.methods.push(tessera_ledger::VerificationMethod {
        id: endpoint_method(addr)?,
        key: PublicKey::from_parts(SignatureSuite::Ed25519, tls_key)?,
    });
    Ok(doc)
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
        let doc = node_document("alice", sk.public_key(), kp.public_key_raw(), addr).unwrap();
        let info = PeerInfo::from_document(&doc).unwrap();
        assert_eq!(info.addr, addr);
        assert_eq!(info.tls_key.as_slice(), kp.public_key_raw());
    }
}
