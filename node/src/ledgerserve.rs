//! `tessera ledger start --listen`: the embedded single-validator ledger served to other hosts
//! over the node transport (QUIC, TLS 1.3 with mutual authentication), speaking
//! [`crate::ledgerwire`].
//!
//! **Identity.** The service's certificate carries the validator's Ed25519 key, so a client that
//! knows the validator's `did:key` knows it reaches the validator (and checks that the genesis it
//! is handed lists that key). Clients must present a self-signed Ed25519 certificate (no
//! certificate: the handshake fails). The first request on a connection is `Hello { did }`: if
//! the DID is on the ledger, its document's `tls-1` key must be the certificate's key (else the
//! connection is refused and closed); a DID not on the ledger yet is a *newcomer*, which may only
//! read its own DID and nonce entries and submit the `CreateDid` of that DID carrying this
//! certificate's key. Members may read any state and submit transactions signed by their own DID.
//! Every request before `Hello` is refused with `Unauthenticated`. Audit queries are answered
//! only to members that the ledger names as supervisors (genesis or governance), others get
//! `NotSupervisor`; a supervisor's connection may read but submits nothing except its own DID
//! document (the ledger itself refuses any other transaction a supervisor signs).
//!
//! **Recovery admission.** An owner recovering a lost key (`tessera did recover`, see
//! [`crate::recovery`]) works from a new home whose TLS key the DID's document does not carry
//! yet, so `Hello` refuses it. It opens with [`Request::RecoveryHello`] `{ did, backup }`
//! instead, and is admitted to a *recovery connection* only while the DID is active, backup
//! `backup` of it is on the ledger and that backup's recovery key `C_0` is a controller of the
//! DID. Such a connection may do exactly what recovery needs and nothing else:
//!
//! * read `Info`, `Tip`, the DID's document, that backup and the nonce of the recovery key's
//!   `did:key` (entries any member reads; the sealed shares are public by design);
//! * submit one kind of transaction: the recovery rotation, an `UpdateDid` of that DID signed by
//!   the recovery key's `did:key`, carrying exactly one approval, by the recovery key, which no
//!   longer names the recovery key as a controller, is active, and publishes *this
//!   certificate's* key as its `tls-1` key. Before the ledger sees it the service checks both
//!   signatures against `C_0` itself (the ledger's own execution rules, the k-of-n controller
//!   check, then decide as for any update);
//! * nothing else: no receipts, job evidence or audit queries, no other transaction kind, no
//!   transaction signed by any other key, no second hello (all `Forbidden`).
//!
//! A recovery connection is bounded, so it is not a free channel to the validator: at most
//! [`MAX_RECOVERY_CONNECTIONS`] at once (more are answered `Busy`), [`RECOVERY_REQUESTS`]
//! requests and [`RECOVERY_SUBMITS`] rotation attempts each, and a lifetime of
//! [`RECOVERY_LIFETIME`]; a spent budget or lifetime closes it. A rotation whose signatures do
//! not verify under `C_0` (someone without `k` shares) costs the service two signature checks and
//! is answered `Rejected` without reaching the ledger. Once the rotation lands the document
//! carries the new TLS key, the recovery key is no longer a controller (so the path is shut for
//! that backup), and the new home says `Hello` as a member.
//!
//! **Robustness.** Requests are read with a size bound and a timeout, decoded by the bounded
//! canonical decoder, and answered with typed error codes; the number of connections and of
//! streams per connection is capped. Ledger work runs on blocking threads through
//! [`LedgerDir`], so local processes may keep using the same directory.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use quinn::{Connection, Endpoint, TransportConfig, VarInt};
use tessera_ledger::recovery::RecoveryBackup;
use tessera_ledger::{Did, DidDocument, PublicKey, StateKey, Transaction, TxBody};
use tokio::sync::Mutex;

use crate::error::{Error, Result};
use crate::ledgerdir::LedgerDir;
use crate::ledgerwire::{ErrorCode, MAX_REQUEST, MAX_RESPONSE, Request, Response};
use crate::tls;
use crate::transport::peer_cert_key;

/// Most simultaneous client connections.
const MAX_CONNECTIONS: usize = 256;
/// Most simultaneous requests per connection.
const MAX_STREAMS: u32 = 8;
/// A request must arrive completely within this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle connections are closed after this.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Most simultaneous recovery connections (see the module doc).
pub const MAX_RECOVERY_CONNECTIONS: usize = 8;
/// Most requests on one recovery connection (a recovery needs about six).
pub const RECOVERY_REQUESTS: u32 = 32;
/// Most rotation attempts on one recovery connection.
pub const RECOVERY_SUBMITS: u32 = 3;
/// A recovery connection is closed this long after its admission.
pub const RECOVERY_LIFETIME: Duration = Duration::from_secs(120);

/// What a connection may do.
#[derive(Clone, Debug)]
enum Auth {
    /// No hello yet.
    None,
    /// A DID not on the ledger yet, proven to hold the certificate key.
    Newcomer(Did),
    /// A registered DID whose `tls-1` key is the certificate key.
    Member(Did),
    /// A connection admitted by [`Request::RecoveryHello`].
    Recovering(Arc<Recovery>),
}

/// What a recovery connection recovers, and its budget.
#[derive(Debug)]
struct Recovery {
    /// The identifier after `did:tessera:`.
    id: String,
    /// The backup id.
    backup: String,
    /// The backup's recovery key `C_0`.
    key: PublicKey,
    requests: AtomicU32,
    submits: AtomicU32,
    _slot: Slot,
}

impl Recovery {
    fn key_did(&self) -> Did {
        Did::Key(self.key)
    }

    /// The entries recovery reads: the DID, its backup and the recovery key's nonce.
    fn may_read(&self, key: &StateKey) -> bool {
        match key {
            StateKey::Did(id) => *id == self.id,
            StateKey::Recovery { did, backup } => *did == self.id && *backup == self.backup,
            StateKey::Nonce(d) => *d == self.key_did().to_string(),
            _ => false,
        }
    }
}

/// One of the [`MAX_RECOVERY_CONNECTIONS`] places, given back on drop.
#[derive(Debug)]
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(count: &Arc<AtomicUsize>) -> Option<Self> {
        count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_RECOVERY_CONNECTIONS).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(count.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A running ledger service; dropping it stops the service.
pub struct LedgerServer {
    rt: Option<tokio::runtime::Runtime>,
    endpoint: Endpoint,
    addr: SocketAddr,
    validator: Did,
}

impl std::fmt::Debug for LedgerServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerServer").field("addr", &self.addr).finish()
    }
}

fn server_transport() -> Result<Arc<TransportConfig>> {
    let mut t = TransportConfig::default();
    let idle =
        quinn::IdleTimeout::try_from(IDLE_TIMEOUT).map_err(|e| Error::Transport(e.to_string()))?;
    t.max_idle_timeout(Some(idle));
    t.max_concurrent_bidi_streams(VarInt::from_u32(MAX_STREAMS));
    t.max_concurrent_uni_streams(VarInt::from_u32(0));
    Ok(Arc::new(t))
}

impl LedgerServer {
    /// Serves `dir` on `listen` (port 0 picks a free port) until dropped.
    pub fn start(dir: LedgerDir, listen: SocketAddr) -> Result<Self> {
        let vkey = dir.validator_key()?;
        let public = tls::ed25519_bytes(&vkey.public_key())
            .ok_or_else(|| Error::invalid("validator.key", "not Ed25519"))?;
        if !dir.genesis().validators.validators.iter().any(|v| v.key == vkey.public_key()) {
            return Err(Error::invalid("validator.key", "not a validator of this ledger"));
        }
        let pkcs8 = tls::ed25519_pkcs8(&vkey.secret_bytes(), &public);
        let server = tls::ledger_server_config(&pkcs8)?;
        let qsc = quinn::crypto::rustls::QuicServerConfig::try_from(server)
            .map_err(|e| Error::Transport(e.to_string()))?;
        let mut sc = quinn::ServerConfig::with_crypto(Arc::new(qsc));
        sc.transport_config(server_transport()?);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::Transport(format!("runtime: {e}")))?;
        let endpoint = {
            let _g = rt.enter();
            Endpoint::server(sc, listen)
                .map_err(|e| Error::Transport(format!("cannot listen on {listen}: {e}")))?
        };
        let addr = endpoint.local_addr().map_err(|e| Error::io("ledger endpoint", e))?;
        let ep = endpoint.clone();
        // Opened once for the service, not once per request (see `LedgerDir::held`).
        let dir = Arc::new(dir.held());
        rt.spawn(accept_loop(ep, dir));
        tracing::info!("ledger service listening on {addr}");
        Ok(Self { rt: Some(rt), endpoint, addr, validator: Did::key(vkey.public_key()) })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `quic://` endpoint clients use.
    pub fn endpoint_uri(&self) -> String {
        tls::quic_uri(self.addr)
    }

    /// The validator's `did:key`, which clients pin.
    pub fn validator_did(&self) -> &Did {
        &self.validator
    }

    /// Blocks the calling thread while the service runs (until the process ends).
    pub fn wait(&self) -> ! {
        loop {
            std::thread::park();
        }
    }
}

impl Drop for LedgerServer {
    fn drop(&mut self) {
        self.endpoint.close(VarInt::from_u32(0), b"ledger service stopped");
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

async fn accept_loop(ep: Endpoint, dir: Arc<LedgerDir>) {
    let live = Arc::new(AtomicUsize::new(0));
    let recovering = Arc::new(AtomicUsize::new(0));
    while let Some(inc) = ep.accept().await {
        if live.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
            tracing::warn!("ledger service: too many connections; refusing one");
            inc.refuse();
            continue;
        }
        live.fetch_add(1, Ordering::Relaxed);
        let (dir, live, recovering) = (dir.clone(), live.clone(), recovering.clone());
        tokio::spawn(async move {
            match inc.await {
                Ok(conn) => serve_connection(conn, dir, recovering).await,
                Err(e) => tracing::warn!("ledger service: handshake refused: {e}"),
            }
            live.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

async fn serve_connection(conn: Connection, dir: Arc<LedgerDir>, recovering: Arc<AtomicUsize>) {
    let Some(cert_key) = peer_cert_key(&conn) else {
        conn.close(VarInt::from_u32(2), b"no client certificate");
        return;
    };
    let auth = Arc::new(Mutex::new(Auth::None));
    loop {
        let (mut send, mut recv) = match conn.accept_bi().await {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!("ledger service: connection ended: {e}");
                return;
            }
        };
        let (dir, auth, conn2, recovering) =
            (dir.clone(), auth.clone(), conn.clone(), recovering.clone());
        tokio::spawn(async move {
            let resp =
                match tokio::time::timeout(REQUEST_TIMEOUT, recv.read_to_end(MAX_REQUEST)).await {
                    Err(_) => Response::error(ErrorCode::Malformed, "request timed out"),
                    Ok(Err(quinn::ReadToEndError::TooLong)) => Response::error(
                        ErrorCode::TooLarge,
                        format!("requests are at most {MAX_REQUEST} bytes"),
                    ),
                    Ok(Err(e)) => {
                        tracing::debug!("ledger service: request stream failed: {e}");
                        return;
                    }
                    Ok(Ok(bytes)) => match Request::from_wire(&bytes) {
                        Err(e) => Response::error(ErrorCode::Malformed, e),
                        Ok(req) => handle(req, &dir, &auth, cert_key, &conn2, &recovering).await,
                    },
                };
            match &resp {
                Response::Error { code: ErrorCode::NoBlockYet, .. } => {}
                Response::Error { code, message } => {
                    tracing::warn!("ledger service: refused a request ({code:?}): {message}");
                }
                _ => {}
            }
            let mut bytes = resp.to_wire();
            if bytes.len() > MAX_RESPONSE {
                bytes = Response::error(ErrorCode::Internal, "answer too large; ask for fewer")
                    .to_wire();
            }
            let _ = send.write_all(&bytes).await;
            let _ = send.finish();
        });
    }
}

/// Maps a node error from the ledger directory to a response code.
fn code_of(e: &Error) -> ErrorCode {
    match e {
        Error::Rejected(_) => ErrorCode::Rejected,
        Error::NotAuthorised(_) => ErrorCode::NotSupervisor,
        Error::LedgerBusy(_) => ErrorCode::Busy,
        Error::Ledger(
            tessera_ledger::Error::NotFound { .. } | tessera_ledger::Error::UnknownDid(_),
        ) => ErrorCode::NotFound,
        Error::Ledger(tessera_ledger::Error::Misuse("no certified block yet")) => {
            ErrorCode::NoBlockYet
        }
        _ => ErrorCode::Internal,
    }
}

/// Runs blocking ledger work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> std::result::Result<T, Response> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Response::error(code_of(&e), e)),
        Err(_) => Err(Response::error(ErrorCode::Internal, "ledger task failed")),
    }
}

async fn handle(
    req: Request,
    dir: &Arc<LedgerDir>,
    auth: &Mutex<Auth>,
    cert_key: [u8; 32],
    conn: &Connection,
    recovering: &Arc<AtomicUsize>,
) -> Response {
    let current = {
        // The first hello takes the lock for its whole check, so two racing hellos cannot both
        // be admitted (and a second recovery hello cannot take a second slot).
        let mut guard = auth.lock().await;
        match (&req, &*guard) {
            (Request::Hello { did }, Auth::None) => {
                let r = hello(did.clone(), dir, cert_key).await;
                return admitted(r, &mut guard, conn);
            }
            (Request::RecoveryHello { did, backup }, Auth::None) => {
                let r = recovery_hello(did.clone(), backup.clone(), dir, recovering, conn).await;
                return admitted(r, &mut guard, conn);
            }
            _ => guard.clone(),
        }
    };
    if let Auth::Recovering(rec) = &current
        && rec.requests.fetch_add(1, Ordering::AcqRel) >= RECOVERY_REQUESTS
    {
        close_soon(conn, b"recovery request budget spent");
        return Response::error(
            ErrorCode::Forbidden,
            format!("a recovery connection makes at most {RECOVERY_REQUESTS} requests"),
        );
    }
    let r = match (req, current) {
        (Request::Hello { .. } | Request::RecoveryHello { .. }, _) => {
            Err(Response::error(ErrorCode::Forbidden, "hello was already given"))
        }
        (_, Auth::None) => {
            Err(Response::error(ErrorCode::Unauthenticated, "send Hello with your DID first"))
        }
        (
            Request::TxReceipt(_) | Request::Audit(_) | Request::JobEvidence(_),
            Auth::Recovering(_),
        ) => Err(Response::error(ErrorCode::Forbidden, RECOVERY_ONLY)),
        (Request::Submit(tx), Auth::Recovering(rec)) => {
            recovery_submit(*tx, rec, dir, cert_key, conn).await
        }
        (Request::Info, _) => {
            let d = dir.clone();
            blocking(move || Ok(d.genesis().to_json()?))
                .await
                .map(|genesis_json| Response::Info { genesis_json })
        }
        (Request::Tip, _) => {
            let d = dir.clone();
            blocking(move || {
                d.read(|l| {
                    let header = l.tip().clone();
                    let certificate = l.certificate(header.height)?;
                    Ok((header, certificate))
                })
            })
            .await
            .map(|(header, certificate)| Response::Tip { header, certificate })
        }
        (Request::State(key), a) => state(key, 0, a, dir).await,
        (Request::FreshState { key, min_height }, a) => state(key, min_height, a, dir).await,
        (Request::TxReceipt(id), Auth::Member(_)) => {
            let d = dir.clone();
            blocking(move || d.read(|l| Ok(l.tx_receipt(&id)?))).await.map(Response::Receipt)
        }
        (Request::TxReceipt(_), _) => {
            Err(Response::error(ErrorCode::Forbidden, "publish your DID first"))
        }
        (Request::Audit(q), Auth::Member(did)) => {
            let d = dir.clone();
            blocking(move || {
                d.read(|l| {
                    let s: Option<tessera_ledger::Supervisors> = l.state(&StateKey::Supervisors)?;
                    if !s.is_some_and(|s| s.0.contains(&did)) {
                        return Err(Error::NotAuthorised(format!(
                            "{did} is not a supervisor of this ledger"
                        )));
                    }
                    Ok(l.audit(&q)?)
                })
            })
            .await
            .map(|a| Response::Answer(Box::new(a)))
        }
        (Request::Audit(_), _) => Err(Response::error(
            ErrorCode::NotSupervisor,
            "audit queries are for the ledger's supervisors",
        )),
        (Request::JobEvidence(job), Auth::Member(_)) => {
            let d = dir.clone();
            blocking(move || d.read(|l| Ok(l.job_evidence(&job)?)))
                .await
                .map(|e| Response::Evidence(Box::new(e)))
        }
        (Request::JobEvidence(_), _) => {
            Err(Response::error(ErrorCode::Forbidden, "publish your DID first"))
        }
        (Request::Submit(tx), a) => {
            let allowed = match (&a, &tx.body) {
                (Auth::Member(did), _) => tx.signer.did == *did,
                (Auth::Newcomer(did), TxBody::CreateDid(doc)) => {
                    tx.signer.did == doc.did() && doc.did() == *did && carries_key(doc, cert_key)
                }
                _ => false,
            };
            if allowed {
                let d = dir.clone();
                blocking(move || {
                    let id = d.submit_signed(*tx)?;
                    d.read(|l| Ok(l.tx_receipt(&id)?))
                })
                .await
                .map(Response::Receipt)
            } else {
                Err(Response::error(
                    ErrorCode::Forbidden,
                    "a connection submits only its own DID's transactions (a newcomer: only the \
                     CreateDid that publishes this certificate's key)",
                ))
            }
        }
    };
    r.unwrap_or_else(|e| e)
}

/// A state receipt for `key` at the tip, if the connection may read it and the tip is at
/// `min_height` or above (a lagging or rolled-back ledger says so rather than serve an old one).
async fn state(
    key: StateKey,
    min_height: u64,
    a: Auth,
    dir: &Arc<LedgerDir>,
) -> std::result::Result<Response, Response> {
    let allowed = match (&a, &key) {
        (Auth::Member(_), _) => true,
        (Auth::Newcomer(did), StateKey::Did(id)) => *did == Did::Tessera(id.clone()),
        (Auth::Newcomer(did), StateKey::Nonce(d)) => did.to_string() == *d,
        (Auth::Recovering(rec), k) => rec.may_read(k),
        _ => false,
    };
    if !allowed {
        let why = if matches!(a, Auth::Recovering(_)) {
            RECOVERY_ONLY
        } else {
            "a DID not on the ledger may only read its own entries"
        };
        return Err(Response::error(ErrorCode::Forbidden, why));
    }
    let d = dir.clone();
    let rc = blocking(move || d.state_receipt(&key)).await?;
    if rc.height() < min_height {
        return Err(Response::error(
            ErrorCode::Behind,
            format!("this ledger is at height {}, below the requested {min_height}", rc.height()),
        ));
    }
    Ok(Response::Receipt(rc))
}

fn carries_key(doc: &DidDocument, key: [u8; 32]) -> bool {
    doc.method(tls::TLS_METHOD).and_then(tls::ed25519_bytes) == Some(key)
}

async fn hello(
    did: Did,
    dir: &Arc<LedgerDir>,
    cert_key: [u8; 32],
) -> std::result::Result<Auth, Response> {
    let Did::Tessera(id) = &did else {
        return Err(Response::error(ErrorCode::Forbidden, "only did:tessera nodes connect"));
    };
    let d = dir.clone();
    let key = StateKey::Did(id.clone());
    let doc: Option<DidDocument> = blocking(move || d.read(|l| Ok(l.state(&key)?))).await?;
    match doc {
        None => Ok(Auth::Newcomer(did)),
        Some(doc) if doc.deactivated => {
            Err(Response::error(ErrorCode::Forbidden, format!("{did} is deactivated")))
        }
        Some(doc) if carries_key(&doc, cert_key) => Ok(Auth::Member(did)),
        Some(_) => Err(Response::error(
            ErrorCode::Forbidden,
            format!("the certificate does not carry the TLS key of {did}"),
        )),
    }
}

/// The refusal of anything a recovery connection may not do.
const RECOVERY_ONLY: &str = "a recovery connection may only read its DID, its backup and the \
                             recovery key's nonce, and submit the rotation that key approves";

/// Closes `conn` once the answer being written has had time to leave.
fn close_soon(conn: &Connection, why: &'static [u8]) {
    let conn = conn.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        conn.close(VarInt::from_u32(2), why);
    });
}

/// Records an admission, or answers the refusal and ends the connection.
fn admitted(
    r: std::result::Result<Auth, Response>,
    guard: &mut Auth,
    conn: &Connection,
) -> Response {
    match r {
        Ok(a) => {
            let member = matches!(a, Auth::Member(_));
            *guard = a;
            Response::Hello { member }
        }
        Err(resp) => {
            // An identity mismatch ends the connection after the answer is written.
            close_soon(conn, b"identity refused");
            resp
        }
    }
}

/// Admits a recovery connection for backup `backup` of `did` (see the module doc).
async fn recovery_hello(
    did: Did,
    backup: String,
    dir: &Arc<LedgerDir>,
    recovering: &Arc<AtomicUsize>,
    conn: &Connection,
) -> std::result::Result<Auth, Response> {
    let Did::Tessera(id) = &did else {
        return Err(Response::error(ErrorCode::Forbidden, "only did:tessera DIDs are recovered"));
    };
    let Some(slot) = Slot::take(recovering) else {
        return Err(Response::error(
            ErrorCode::Busy,
            format!("{MAX_RECOVERY_CONNECTIONS} recoveries are under way; try again later"),
        ));
    };
    let (d, i, b) = (dir.clone(), id.clone(), backup.clone());
    let (doc, found) = blocking(move || {
        d.read(|l| {
            let doc: Option<DidDocument> = l.state(&StateKey::Did(i.clone()))?;
            let b: Option<RecoveryBackup> = l.state(&StateKey::Recovery { did: i, backup: b })?;
            Ok((doc, b))
        })
    })
    .await?;
    let doc = match doc {
        None => {
            return Err(Response::error(
                ErrorCode::NotFound,
                format!("{did} is not on the ledger (a new DID says Hello)"),
            ));
        }
        Some(d) if d.deactivated => {
            return Err(Response::error(ErrorCode::Forbidden, format!("{did} is deactivated")));
        }
        Some(d) => d,
    };
    let Some(found) = found else {
        return Err(Response::error(
            ErrorCode::NotFound,
            format!("{did} has no recovery backup {backup}"),
        ));
    };
    let key = found
        .validate()
        .and_then(|()| found.recovery_key())
        .map_err(|e| Response::error(ErrorCode::Internal, e))?;
    if !doc.controllers.contains(&Did::Key(key)) {
        return Err(Response::error(
            ErrorCode::Forbidden,
            format!("backup {backup}'s recovery key no longer controls {did}"),
        ));
    }
    tracing::info!("ledger service: recovery connection for {did} with backup {backup}");
    let conn = conn.clone();
    tokio::spawn(async move {
        tokio::time::sleep(RECOVERY_LIFETIME).await;
        conn.close(VarInt::from_u32(3), b"recovery connection lifetime over");
    });
    Ok(Auth::Recovering(Arc::new(Recovery {
        id: id.clone(),
        backup,
        key,
        requests: AtomicU32::new(0),
        submits: AtomicU32::new(0),
        _slot: slot,
    })))
}

/// Whether `tx` has the shape of the recovery rotation `rec` may submit (signatures aside).
fn rotation_shape(
    tx: &Transaction,
    rec: &Recovery,
    cert_key: [u8; 32],
) -> std::result::Result<(), &'static str> {
    let rk = rec.key_did();
    if tx.signer.did != rk {
        return Err(
            "a recovery connection submits only transactions signed by the backup's recovery key",
        );
    }
    let TxBody::UpdateDid { document, approvals } = &tx.body else {
        return Err("a recovery connection submits only the DID update that rotates its DID");
    };
    if document.id != rec.id || document.deactivated {
        return Err("the rotation must keep its DID active");
    }
    if !carries_key(document, cert_key) {
        return Err("the rotation must publish this connection's TLS key");
    }
    if document.controllers.contains(&rk) {
        return Err("the rotation must drop the spent recovery key as a controller");
    }
    match approvals.as_slice() {
        [a] if a.signer.did == rk => Ok(()),
        _ => Err("the rotation carries exactly one approval, by the recovery key"),
    }
}

/// A recovery connection's rotation: its shape and both signatures are checked against the
/// recovery key here, then the ledger executes it under its own rules.
async fn recovery_submit(
    tx: Transaction,
    rec: Arc<Recovery>,
    dir: &Arc<LedgerDir>,
    cert_key: [u8; 32],
    conn: &Connection,
) -> std::result::Result<Response, Response> {
    let n = rec.submits.fetch_add(1, Ordering::AcqRel);
    if n >= RECOVERY_SUBMITS {
        close_soon(conn, b"recovery attempts spent");
        return Err(Response::error(
            ErrorCode::Forbidden,
            format!("a recovery connection makes at most {RECOVERY_SUBMITS} attempts"),
        ));
    }
    rotation_shape(&tx, &rec, cert_key)
        .map_err(|why| Response::error(ErrorCode::Forbidden, why))?;
    let d = dir.clone();
    let checked = blocking(move || {
        let chain = d.genesis().chain_id();
        let cur: Option<DidDocument> = d.read(|l| Ok(l.state(&StateKey::Did(rec.id.clone()))?))?;
        let refuse = |code, why: String| Ok(Err(Response::error(code, why)));
        let Some(cur) = cur.filter(|c| !c.deactivated) else {
            return refuse(ErrorCode::Forbidden, format!("did:tessera:{} is not active", rec.id));
        };
        if !cur.controllers.contains(&rec.key_did()) {
            return refuse(
                ErrorCode::Forbidden,
                format!(
                    "backup {}'s recovery key no longer controls did:tessera:{}",
                    rec.backup, rec.id
                ),
            );
        }
        let TxBody::UpdateDid { document, approvals } = &tx.body else {
            return refuse(ErrorCode::Forbidden, RECOVERY_ONLY.to_owned());
        };
        let msg = tessera_ledger::did_update_message(&chain, &cur.id, cur.version, Some(document));
        let signed = rec.key.verify(&tx.signing_message(&chain), &tx.signature).is_ok()
            && approvals.iter().all(|a| rec.key.verify(&msg, &a.signature).is_ok());
        if !signed {
            return refuse(
                ErrorCode::Rejected,
                format!(
                    "the rotation is not signed and approved by backup {}'s recovery key over \
                     version {} of did:tessera:{}",
                    rec.backup, cur.version, rec.id
                ),
            );
        }
        let id = d.submit_signed(tx)?;
        tracing::info!(
            "ledger service: did:tessera:{} rotated by recovery with backup {}",
            rec.id,
            rec.backup
        );
        Ok(Ok(d.read(|l| Ok(l.tx_receipt(&id)?))?))
    })
    .await?;
    checked.map(Response::Receipt)
}
