//! The ledger service attacked in-process: requests without a hello, garbage and oversized
//! requests, a client without a certificate, a certificate that is not the claimed DID's, a
//! newcomer reaching beyond its own entries, a member submitting another DID's transaction, a
//! client pinned to another validator, and an unreachable service. Each is refused with a typed
//! answer and the service keeps serving.

mod service_wire;
use service_wire::{code, tls_key};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tessera_ledger::{Did, KeyRef, StateKey, Transaction, TxBody};
use tessera_node::Error;
use tessera_node::home::{Home, RemoteLedger as RemoteConfig};
use tessera_node::ledgerclient::{LedgerSession, NodeLedger, RemoteLedger};
use tessera_node::ledgerdir::LedgerDir;
use tessera_node::ledgerserve::LedgerServer;
use tessera_node::ledgerwire::{ErrorCode, MAX_REQUEST, Request, Response};
use tessera_node::ops;

struct Fixture {
    dir: tempfile::TempDir,
    server: LedgerServer,
    remote: RemoteConfig,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let ledger = LedgerDir::create(&dir.path().join("ledger"), "svc-test").unwrap();
    let server = LedgerServer::start(ledger, SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let remote = RemoteConfig {
        endpoint: server.endpoint_uri(),
        validator: server.validator_did().to_string(),
    };
    Fixture { dir, server, remote }
}

impl Fixture {
    fn home(&self, name: &str) -> Home {
        let mut h =
            Home::init(&self.dir.path().join(name), name, "ed25519", None, Path::new("")).unwrap();
        h.config.ledger_remote = Some(self.remote.clone());
        h.save().unwrap();
        Home::load(&self.dir.path().join(name)).unwrap()
    }

    /// A raw session with `home`'s TLS key (no hello sent).
    fn session(&self, home: &Home) -> LedgerSession {
        LedgerSession::open(&tls_key(home), &self.remote).unwrap()
    }
}

#[test]
fn requests_without_hello_malformed_or_oversized_are_refused_and_service_survives() {
    let f = fixture();
    let alice = f.home("alice");
    let s = f.session(&alice);
    // Before hello: nothing but hello.
    for req in [Request::Info, Request::Tip, Request::State(StateKey::Did("alice".into()))] {
        assert_eq!(code(s.request(&req).unwrap()), ErrorCode::Unauthenticated);
    }
    // Garbage of many shapes: typed Malformed answers, never a dropped service.
    for bytes in [vec![], vec![1], vec![1, 99], vec![7, 1, 2, 3], vec![1, 4, 9, 0xff, 0xff]] {
        let r = Response::from_wire(&s.request_bytes(&bytes).unwrap()).unwrap();
        assert_eq!(code(r), ErrorCode::Malformed, "{bytes:?}");
    }
    let r = Response::from_wire(&s.request_bytes(&vec![0u8; MAX_REQUEST + 1]).unwrap()).unwrap();
    assert_eq!(code(r), ErrorCode::TooLarge);
    // The same connection still works, and a hello makes alice a newcomer.
    let hello = s.request(&Request::Hello { did: Did::tessera("alice").unwrap() }).unwrap();
    assert_eq!(hello, Response::Hello { member: false });
    // A second hello is refused.
    let again = s.request(&Request::Hello { did: Did::tessera("bob").unwrap() }).unwrap();
    assert_eq!(code(again), ErrorCode::Forbidden);
    // A newcomer reads only its own entries.
    assert_eq!(
        code(s.request(&Request::State(StateKey::DataSet("x".into()))).unwrap()),
        ErrorCode::Forbidden
    );
    // and may submit only the CreateDid that publishes this certificate's key.
    let chain = f.server_chain();
    let tx = Transaction::sign(
        &chain,
        alice.key_ref(),
        1,
        TxBody::Revoke { dataset: "d".into(), grant: "g".into() },
        alice.key(),
    );
    assert_eq!(code(s.request(&Request::Submit(Box::new(tx))).unwrap()), ErrorCode::Forbidden);
    drop(s);
    // After all that, alice publishes her DID through the service and is a member.
    ops::did_create(&alice).unwrap();
    let l = NodeLedger::open(&alice).unwrap();
    let NodeLedger::Remote(r) = &l else { panic!("not remote") };
    assert!(r.is_member());
    let doc = l.resolve(&alice.did()).unwrap();
    assert_eq!(
        doc.service("TesseraNode").unwrap().endpoint,
        alice.config.published_endpoint(),
        "the endpoint is published in the DID document"
    );
    assert!(l.height().unwrap() >= 1);

    // Freshness: every answer raises the client's floor; one below the floor (a replayed old
    // receipt, or a rolled-back service) is refused with a typed error.
    let h = l.height().unwrap();
    assert_eq!(r.min_height(), h);
    r.require_height(h + 5);
    r.require_height(h); // the floor only rises
    match l.resolve(&alice.did()) {
        Err(Error::StaleLedger { height, min, .. }) => assert_eq!((height, min), (h, h + 5)),
        other => panic!("stale receipt accepted: {other:?}"),
    }
    assert!(matches!(l.height(), Err(Error::StaleLedger { .. })));
}

#[test]
fn a_service_behind_the_clients_height_is_refused_and_an_old_receipt_is_stale() {
    let f = fixture();
    let alice = f.home("alice");
    ops::did_create(&alice).unwrap();
    let s = f.session(&alice);
    assert_eq!(
        s.request(&Request::Hello { did: alice.did() }).unwrap(),
        Response::Hello { member: true }
    );
    let key = StateKey::Did("alice".into());
    let receipt =
        |min_height| match s.request(&Request::FreshState { key: key.clone(), min_height }) {
            Ok(Response::Receipt(rc)) => Ok(rc),
            Ok(Response::Error { code, .. }) => Err(code),
            other => panic!("unexpected answer {other:?}"),
        };
    let old = receipt(0).unwrap();

    // The chain moves on (a rejected revocation still seals a block).
    let dir = LedgerDir::open(&f.dir.path().join("ledger")).unwrap();
    let k = tessera_ledger::KeyPair::generate(tessera_ledger::SignatureSuite::Ed25519).unwrap();
    let revoke = TxBody::Revoke { dataset: "d".into(), grant: "g".into() };
    assert!(dir.submit(&KeyRef::did_key(k.public_key()), &k, revoke).is_err());
    let now = dir.height().unwrap();
    assert!(now > old.height());

    // The service serves at or above a demanded height, and says when it cannot.
    assert_eq!(receipt(now).unwrap().height(), now);
    assert_eq!(receipt(now + 1), Err(ErrorCode::Behind));
    // The old receipt is genuine, but a verifier that knows the chain reached `now` refuses it.
    let (chain, set) = (dir.chain_id(), &dir.genesis().validators);
    tessera_ledger::verify_receipt(&old, &chain, set).unwrap();
    assert!(matches!(
        tessera_ledger::verify_fresh_receipt(&old, &chain, set, now),
        Err(tessera_ledger::Error::StaleReceipt { .. })
    ));

    // The client sends its floor: a service behind it is refused with a typed error.
    let r = RemoteLedger::connect(&tls_key(&alice), &alice.did(), &f.remote).unwrap();
    r.require_height(now + 1);
    match r.state_receipt(&key) {
        Err(Error::StaleLedger { height, min, .. }) => assert_eq!((height, min), (now, now + 1)),
        other => panic!("a ledger behind the client was accepted: {other:?}"),
    }
}

impl Fixture {
    fn server_chain(&self) -> tessera_ledger::Hash32 {
        LedgerDir::open(&self.dir.path().join("ledger")).unwrap().chain_id()
    }
}

#[test]
fn a_certificate_that_is_not_the_dids_is_refused() {
    let f = fixture();
    let alice = f.home("alice");
    ops::did_create(&alice).unwrap();
    let mallory = f.home("mallory");
    // mallory (her own TLS key) claims to be alice: refused, and the connection is closed.
    let s = f.session(&mallory);
    let r = s.request(&Request::Hello { did: alice.did() }).unwrap();
    assert_eq!(code(r), ErrorCode::Forbidden);
    let t = Instant::now();
    while !s.is_closed() && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(s.is_closed(), "the service keeps talking to an impostor");
    // Through the client API the same attempt is an identity error (exit code 6).
    let e = RemoteLedger::connect(&tls_key(&mallory), &alice.did(), &f.remote).unwrap_err();
    assert!(matches!(e, Error::Identity(_)), "{e}");
    assert_eq!(e.exit_code(), 6);
    // As a newcomer, mallory cannot publish a DID document carrying someone else's TLS key.
    let s = f.session(&mallory);
    s.request(&Request::Hello { did: mallory.did() }).unwrap();
    let mut doc = ops::my_document(&mallory).unwrap();
    doc.methods[1].key = ops::my_document(&alice).unwrap().methods[1].key;
    let tx = Transaction::sign(
        &f.server_chain(),
        mallory.key_ref(),
        1,
        TxBody::CreateDid(doc),
        mallory.key(),
    );
    assert_eq!(code(s.request(&Request::Submit(Box::new(tx))).unwrap()), ErrorCode::Forbidden);
    // A member submits only transactions its own DID signed.
    ops::did_create(&mallory).unwrap();
    let s = f.session(&mallory);
    assert_eq!(
        s.request(&Request::Hello { did: mallory.did() }).unwrap(),
        Response::Hello { member: true }
    );
    let forged_signer = KeyRef::new(alice.did(), "key-1");
    let tx = Transaction::sign(
        &f.server_chain(),
        forged_signer,
        1,
        TxBody::Revoke { dataset: "d".into(), grant: "g".into() },
        mallory.key(),
    );
    assert_eq!(code(s.request(&Request::Submit(Box::new(tx))).unwrap()), ErrorCode::Forbidden);
}

#[test]
fn a_ledger_without_the_pinned_validator_key_is_refused() {
    let f = fixture();
    let alice = f.home("alice");
    let other = tessera_ledger::KeyPair::generate(tessera_ledger::SignatureSuite::Ed25519).unwrap();
    let wrong = RemoteConfig {
        endpoint: f.remote.endpoint.clone(),
        validator: Did::key(other.public_key()).to_string(),
    };
    let e = RemoteLedger::connect(&tls_key(&alice), &alice.did(), &wrong).unwrap_err();
    assert!(matches!(e, Error::Identity(_)), "{e}");
}

#[test]
fn an_unreachable_ledger_is_a_clear_error() {
    let f = fixture();
    let alice = f.home("alice");
    let free = tessera_node::home::free_loopback_addr().unwrap();
    let gone = RemoteConfig { endpoint: format!("quic://{free}"), validator: f.remote.validator };
    let t = Instant::now();
    let e = RemoteLedger::connect(&tls_key(&alice), &alice.did(), &gone).unwrap_err();
    assert!(matches!(e, Error::LedgerService(_)), "{e}");
    assert!(e.to_string().contains("unreachable"), "{e}");
    assert_eq!(e.exit_code(), 4);
    assert!(t.elapsed() < Duration::from_secs(20));
    drop(f.server);
}

/// Accepts any server certificate: this client only wants to show that the server refuses a
/// client without a certificate.
#[derive(Debug)]
struct AnyServer;

impl rustls::client::danger::ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _e: &rustls::pki_types::CertificateDer<'_>,
        _i: &[rustls::pki_types::CertificateDer<'_>],
        _n: &rustls::pki_types::ServerName<'_>,
        _o: &[u8],
        _t: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _m: &[u8],
        _c: &rustls::pki_types::CertificateDer<'_>,
        _d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _m: &[u8],
        _c: &rustls::pki_types::CertificateDer<'_>,
        _d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        vec![rustls::SignatureScheme::ED25519]
    }
}

#[test]
fn a_client_without_certificate_is_refused_at_the_handshake() {
    let f = fixture();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyServer))
        .with_no_client_auth();
    cfg.alpn_protocols = vec![tessera_node::tls::LEDGER_ALPN.to_vec()];
    let qcc = quinn::crypto::rustls::QuicClientConfig::try_from(cfg).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let answered = rt.block_on(async {
        let ep = quinn::Endpoint::client(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let cc = quinn::ClientConfig::new(Arc::new(qcc));
        let attempt = async {
            let conn = ep.connect_with(cc, f.server.addr(), "x").ok()?.await.ok()?;
            let (mut s, mut r) = conn.open_bi().await.ok()?;
            s.write_all(&Request::Info.to_wire()).await.ok()?;
            s.finish().ok()?;
            r.read_to_end(1 << 20).await.ok()
        };
        tokio::time::timeout(Duration::from_secs(10), attempt).await.ok().flatten()
    });
    assert!(answered.is_none(), "a client without a certificate got an answer");
    // The service still serves authenticated clients.
    let alice = f.home("alice");
    ops::did_create(&alice).unwrap();
}
