//! A node's view of its ledger: the local directory ([`LedgerDir`], the default for one host) or
//! a ledger served by another node ([`RemoteLedger`], over [`crate::ledgerwire`]), behind one
//! type, [`NodeLedger`], that the commands and jobs use.
//!
//! **Trust.** A remote ledger is pinned by its validator's `did:key` in the node's configuration:
//! the TLS handshake must prove that key, the genesis it serves must list it as a validator, and
//! every piece of state the client uses arrives as a receipt (or certified header) that the client
//! verifies against the genesis validator set before use, so a man in the middle or a corrupted
//! response cannot forge a grant or a DID document.
//!
//! **Freshness.** A genuine but old state receipt (a grant before its revocation) verifies, so
//! the client also keeps a minimum height: it sends it with every state query
//! ([`Request::FreshState`]; a service behind it answers [`ErrorCode::Behind`]) and refuses
//! every state receipt below it with [`Error::StaleLedger`]. The floor rises to the height of
//! every certified answer the client accepts (the service can never go back behind what it
//! showed this client), and a caller that knows more, such as the height of a revocation, raises
//! it with [`RemoteLedger::require_height`]. Across connections it is the caller's to carry; beyond
//! that, freshness is the validator's word (there is no gossip to check it).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use quinn::{Connection, Endpoint, VarInt};
use tessera_ledger::audit::{Answer, Checked, JobEvidence, Query, verify_answer};
use tessera_ledger::{
    Decode, Did, DidDocument, Encode, Genesis, Hash32, KeyPair, KeyRef, PublicKey, Receipt,
    ReceiptEntry, StateKey, Transaction, TxBody, verify_receipt,
};

use crate::error::{Error, Result};
use crate::home::{Home, RemoteLedger as RemoteConfig};
use crate::ledgerdir::{LedgerDir, next_nonce};
use crate::ledgerwire::{ErrorCode, MAX_RESPONSE, Request, Response};
use crate::tls;
use crate::transport::is_crypto;

/// How long to try to reach the ledger service.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closing client waits for its close frame to leave.
const CLOSE_GRACE: Duration = Duration::from_millis(20);
/// How long one request may take (sealing a block included).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A mutually authenticated connection to a ledger service, before any request: the raw
/// request/response layer under [`RemoteLedger`].
pub struct LedgerSession {
    rt: tokio::runtime::Runtime,
    endpoint: Endpoint,
    conn: Connection,
    uri: String,
}

impl std::fmt::Debug for LedgerSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerSession").field("uri", &self.uri).finish()
    }
}

/// A connection to a served ledger whose genesis has been fetched and checked.
pub struct RemoteLedger {
    session: LedgerSession,
    uri: String,
    genesis: Genesis,
    member: bool,
    /// No state receipt below this height is accepted (see the module's freshness note).
    min_height: AtomicU64,
}

impl std::fmt::Debug for RemoteLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteLedger").field("uri", &self.uri).finish()
    }
}

fn unavailable(uri: &str, why: impl std::fmt::Display) -> Error {
    Error::LedgerService(format!("{uri}: {why}"))
}

/// The Ed25519 key of a validator's `did:key`.
pub fn validator_key(did: &str) -> Result<[u8; 32]> {
    let d = Did::parse(did).map_err(|e| Error::invalid("validator DID", e))?;
    d.as_key()
        .and_then(tls::ed25519_bytes)
        .ok_or_else(|| Error::invalid("validator DID", "must be an Ed25519 did:key"))
}

impl LedgerSession {
    /// Connects with the node's TLS key to the ledger service `cfg` names; the handshake proves
    /// the service holds the pinned validator key.
    pub fn open(tls_pkcs8: &[u8], cfg: &RemoteConfig) -> Result<Self> {
        let vkey = validator_key(&cfg.validator)?;
        let addr = tls::endpoint_addr(&cfg.endpoint)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| Error::Transport(format!("runtime: {e}")))?;
        let client = tls::ledger_client_config(tls_pkcs8, vkey)?;
        let qcc = quinn::crypto::rustls::QuicClientConfig::try_from(client)
            .map_err(|e| Error::Transport(e.to_string()))?;
        let mut cc = quinn::ClientConfig::new(Arc::new(qcc));
        let mut t = quinn::TransportConfig::default();
        t.keep_alive_interval(Some(Duration::from_secs(2)));
        let idle = quinn::IdleTimeout::try_from(Duration::from_secs(30))
            .map_err(|e| Error::Transport(e.to_string()))?;
        t.max_idle_timeout(Some(idle));
        cc.transport_config(Arc::new(t));
        let bind: SocketAddr = if addr.is_ipv4() {
            SocketAddr::from(([0, 0, 0, 0], 0))
        } else {
            SocketAddr::from(([0u16; 8], 0))
        };
        let endpoint = {
            let _g = rt.enter();
            Endpoint::client(bind).map_err(|e| Error::Transport(format!("client socket: {e}")))?
        };
        let uri = cfg.endpoint.clone();
        let conn = rt.block_on(async {
            let connecting = endpoint
                .connect_with(cc, addr, "tessera-ledger")
                .map_err(|e| Error::Transport(e.to_string()))?;
            match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
                Ok(Ok(c)) => Ok(c),
                Ok(Err(e)) if is_crypto(&e) => Err(Error::Identity(format!(
                    "the ledger service at {uri} is not validator {} or refused us: {e}",
                    cfg.validator
                ))),
                Ok(Err(e)) => Err(unavailable(&uri, format!("unreachable: {e}"))),
                Err(_) => Err(unavailable(
                    &uri,
                    format!("unreachable (no answer within {CONNECT_TIMEOUT:?})"),
                )),
            }
        })?;
        Ok(Self { rt, endpoint, conn, uri })
    }

    /// Sends raw request bytes and returns the raw response (bounded by [`MAX_RESPONSE`]).
    pub fn request_bytes(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        raw_request(&self.rt, &self.conn, &self.uri, bytes)
    }

    /// Sends a request; error responses come back as `Ok(Response::Error)`.
    pub fn request(&self, req: &Request) -> Result<Response> {
        Response::from_wire(&self.request_bytes(&req.to_wire())?)
    }

    /// Whether the service has closed this connection.
    pub fn is_closed(&self) -> bool {
        self.conn.close_reason().is_some()
    }
}

impl Drop for LedgerSession {
    fn drop(&mut self) {
        // Give the endpoint driver a moment to send the close frame, so the service frees the
        // connection at once; waiting out QUIC's full draining period (3 PTO) is not needed.
        self.conn.close(VarInt::from_u32(0), b"bye");
        let ep = self.endpoint.clone();
        self.rt.block_on(async {
            let _ = tokio::time::timeout(CLOSE_GRACE, ep.wait_idle()).await;
        });
    }
}

impl RemoteLedger {
    /// Connects as `did` (with the node's TLS key) to the ledger `cfg` names, says hello, and
    /// fetches and checks its genesis.
    pub fn connect(tls_pkcs8: &[u8], did: &Did, cfg: &RemoteConfig) -> Result<Self> {
        Self::connect_with(tls_pkcs8, cfg, &Request::Hello { did: did.clone() })
    }

    /// Connects (with the new home's TLS key) as a recovery connection for backup `backup` of
    /// `did`: the service admits it while that backup's recovery key controls the DID, for the
    /// reads recovery needs and the rotation only (see [`crate::ledgerserve`]).
    pub fn connect_recovery(
        tls_pkcs8: &[u8],
        did: &Did,
        backup: &str,
        cfg: &RemoteConfig,
    ) -> Result<Self> {
        let hello = Request::RecoveryHello { did: did.clone(), backup: backup.to_owned() };
        Self::connect_with(tls_pkcs8, cfg, &hello)
    }

    fn connect_with(tls_pkcs8: &[u8], cfg: &RemoteConfig, hello: &Request) -> Result<Self> {
        let vkey = validator_key(&cfg.validator)?;
        let session = LedgerSession::open(tls_pkcs8, cfg)?;
        let uri = session.uri.clone();
        let member = match session.request(hello)? {
            Response::Hello { member } => member,
            other => return Err(unexpected(&uri, &other)),
        };
        let genesis = match session.request(&Request::Info)? {
            Response::Info { genesis_json } => Genesis::from_json(&genesis_json)?,
            other => return Err(unexpected(&uri, &other)),
        };
        let pk = PublicKey::from_parts(tessera_ledger::SignatureSuite::Ed25519, &vkey)?;
        if !genesis.validators.validators.iter().any(|v| v.key == pk) {
            return Err(Error::Identity(format!(
                "the ledger at {uri} does not list {} as a validator",
                cfg.validator
            )));
        }
        Ok(Self { session, uri, genesis, member, min_height: AtomicU64::new(0) })
    }

    /// Demands that every later state receipt come from a block at `height` or above (the floor
    /// only rises).
    pub fn require_height(&self, height: u64) {
        self.min_height.fetch_max(height, Ordering::Relaxed);
    }

    /// The height below which state receipts are refused.
    pub fn min_height(&self) -> u64 {
        self.min_height.load(Ordering::Relaxed)
    }

    fn unexpected(&self, r: &Response) -> Error {
        unexpected(&self.uri, r)
    }

    /// Sends a request on the session; error responses come back as `Ok(Response::Error)`.
    pub fn request(&self, req: &Request) -> Result<Response> {
        self.session.request(req)
    }

    /// Whether this node's DID was on the ledger when it connected.
    pub fn is_member(&self) -> bool {
        self.member
    }

    /// The genesis the service served (checked to list the pinned validator).
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// A state receipt, verified against the validator set and checked to speak for `key`;
    /// `None` if no block is certified yet (a fresh ledger holds none of the node's entries).
    pub fn state_receipt(&self, key: &StateKey) -> Result<Option<Receipt>> {
        let min_height = self.min_height();
        match self.request(&Request::FreshState { key: key.clone(), min_height })? {
            Response::Receipt(rc) => {
                self.check(&rc)?;
                self.check_fresh(rc.height())?;
                match &rc.entry {
                    ReceiptEntry::State { key: k, .. } if *k == key.to_bytes() => Ok(Some(rc)),
                    _ => Err(self.forged("a receipt for another entry")),
                }
            }
            Response::Error { code: ErrorCode::NoBlockYet, .. } if min_height == 0 => Ok(None),
            // The service says it is behind the floor. Its certified tip tells by how much (and
            // is refused as stale below the floor); a tip at the floor makes the answer a lie.
            Response::Error { code: ErrorCode::Behind | ErrorCode::NoBlockYet, .. } => {
                let h = self.height()?;
                Err(self.forged(&format!("'behind {min_height}' at certified height {h}")))
            }
            other => Err(self.unexpected(&other)),
        }
    }

    fn forged(&self, what: &str) -> Error {
        Error::Verification(format!("the ledger at {} served {what}", self.uri))
    }

    /// Checks that the receipt is genuine, and raises the freshness floor to its height.
    fn check(&self, rc: &Receipt) -> Result<()> {
        if rc.header.chain_id != self.genesis.chain_id() {
            return Err(self.forged("a receipt of another chain"));
        }
        verify_receipt(rc, &self.genesis.chain_id(), &self.genesis.validators)
            .map_err(|e| self.forged(&format!("an invalid receipt ({e})")))
    }

    /// Refuses a verified answer from below the floor, then raises the floor to its height.
    fn check_fresh(&self, height: u64) -> Result<()> {
        let min = self.min_height();
        if height < min {
            return Err(Error::StaleLedger { uri: self.uri.clone(), height, min });
        }
        self.require_height(height);
        Ok(())
    }

    /// A state value (verified).
    pub fn state_value(&self, key: &StateKey) -> Result<Option<Vec<u8>>> {
        Ok(match self.state_receipt(key)? {
            Some(Receipt { entry: ReceiptEntry::State { value, .. }, .. }) => value,
            _ => None,
        })
    }

    /// The latest certified height (verified; 0 for a fresh ledger).
    pub fn height(&self) -> Result<u64> {
        match self.request(&Request::Tip)? {
            Response::Tip { header, certificate } => {
                if header.chain_id != self.genesis.chain_id() {
                    return Err(self.forged("a header of another chain"));
                }
                if let Some(c) = certificate {
                    c.verify(&header, &self.genesis.validators)
                        .map_err(|e| self.forged(&format!("an invalid header ({e})")))?;
                } else if header.height != 0 {
                    return Err(self.forged("an uncertified header"));
                }
                self.check_fresh(header.height)?;
                Ok(header.height)
            }
            other => Err(self.unexpected(&other)),
        }
    }

    /// Submits a signed transaction; returns its id once its inclusion receipt verifies.
    pub fn submit_signed(&self, tx: &Transaction) -> Result<Hash32> {
        match self.request(&Request::Submit(Box::new(tx.clone())))? {
            Response::Receipt(rc) => {
                self.check(&rc)?;
                match &rc.entry {
                    ReceiptEntry::Transaction(b) if *b == tx.to_bytes() => {
                        // The block holding it is certified: later reads must not predate it.
                        self.require_height(rc.height());
                        Ok(tx.id(self.genesis.hash))
                    }
                    _ => Err(self.forged("a receipt for another transaction")),
                }
            }
            other => Err(self.unexpected(&other)),
        }
    }
}

impl RemoteLedger {
    /// An audit answer (supervisors only), checked against the validator set and the query.
    pub fn audit(&self, q: &Query) -> Result<(Answer, Vec<Checked>)> {
        match self.request(&Request::Audit(Box::new(q.clone())))? {
            Response::Answer(a) => {
                let checked = check_answer(&self.genesis, q, &a)
                    .map_err(|e| self.forged(&format!("an invalid audit answer ({e})")))?;
                Ok((*a, checked))
            }
            other => Err(self.unexpected(&other)),
        }
    }

    /// The grant evidence of a job (checked by [`crate::verify`]).
    pub fn job_evidence(&self, job: &str) -> Result<JobEvidence> {
        match self.request(&Request::JobEvidence(job.to_owned()))? {
            Response::Evidence(e) => Ok(*e),
            Response::Error { code: ErrorCode::NotFound, message } => {
                Err(Error::Ledger(tessera_ledger::Error::NotFound { what: "job", id: message }))
            }
            other => Err(self.unexpected(&other)),
        }
    }
}

/// Checks an audit answer against `genesis` (its chain and validator set).
fn check_answer(genesis: &Genesis, q: &Query, a: &Answer) -> Result<Vec<Checked>> {
    Ok(verify_answer(q, a, &genesis.chain_id(), &genesis.validators)?)
}

/// One request on its own stream: write, finish, read the bounded answer.
fn raw_request(
    rt: &tokio::runtime::Runtime,
    conn: &Connection,
    uri: &str,
    bytes: &[u8],
) -> Result<Vec<u8>> {
    rt.block_on(async {
        let io = async {
            let (mut s, mut r) = conn.open_bi().await.map_err(|e| e.to_string())?;
            s.write_all(bytes).await.map_err(|e| e.to_string())?;
            s.finish().map_err(|e| e.to_string())?;
            r.read_to_end(MAX_RESPONSE).await.map_err(|e| e.to_string())
        };
        match tokio::time::timeout(REQUEST_TIMEOUT, io).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(unavailable(uri, format!("request failed: {e}"))),
            Err(_) => Err(unavailable(uri, format!("no answer within {REQUEST_TIMEOUT:?}"))),
        }
    })
}

/// The error for an answer that is not the one expected.
fn unexpected(uri: &str, r: &Response) -> Error {
    match r {
        Response::Error { code, message } => match code {
            ErrorCode::Forbidden | ErrorCode::Unauthenticated => {
                Error::Identity(format!("the ledger at {uri} refused: {message}"))
            }
            ErrorCode::Rejected => Error::Rejected(message.clone()),
            ErrorCode::NotSupervisor => {
                Error::NotAuthorised(format!("the ledger at {uri} refused: {message}"))
            }
            _ => unavailable(uri, format!("{code:?}: {message}")),
        },
        _ => unavailable(uri, "unexpected answer"),
    }
}

/// The ledger a node uses: a local directory or a served ledger.
#[derive(Debug)]
pub enum NodeLedger {
    /// The embedded ledger in a directory on this host.
    Local(LedgerDir),
    /// A ledger served over the node transport.
    Remote(Box<RemoteLedger>),
}

impl NodeLedger {
    /// The ledger `home` is configured for.
    pub fn open(home: &Home) -> Result<Self> {
        match &home.config.ledger_remote {
            Some(cfg) => Ok(Self::Remote(Box::new(RemoteLedger::connect(
                home.tls_pkcs8(),
                &home.did(),
                cfg,
            )?))),
            None => Ok(Self::Local(LedgerDir::open(&home.config.ledger)?)),
        }
    }

    /// The ledger `home` is configured for, opened to recover `home`'s DID with backup
    /// `backup`: a served ledger is reached through a recovery connection (this home's TLS key
    /// is not the DID's yet), a local directory as usual.
    pub fn open_for_recovery(home: &Home, backup: &str) -> Result<Self> {
        match &home.config.ledger_remote {
            Some(cfg) => Ok(Self::Remote(Box::new(RemoteLedger::connect_recovery(
                home.tls_pkcs8(),
                &home.did(),
                backup,
                cfg,
            )?))),
            None => Self::open(home),
        }
    }

    /// The genesis (trust anchor).
    pub fn genesis(&self) -> &Genesis {
        match self {
            Self::Local(d) => d.genesis(),
            Self::Remote(r) => r.genesis(),
        }
    }

    /// The chain id.
    pub fn chain_id(&self) -> Hash32 {
        self.genesis().chain_id()
    }

    /// Where the ledger is, for messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Local(d) => d.path().display().to_string(),
            Self::Remote(r) => r.uri.clone(),
        }
    }

    /// A raw state value.
    pub fn state_value(&self, key: &StateKey) -> Result<Option<Vec<u8>>> {
        match self {
            Self::Local(d) => d.read(|l| Ok(l.state_value(key)?)),
            Self::Remote(r) => r.state_value(key),
        }
    }

    /// A typed state entry.
    pub fn state<T: Decode>(&self, key: &StateKey) -> Result<Option<T>> {
        Ok(self.state_value(key)?.map(|b| T::from_bytes(&b)).transpose()?)
    }

    /// A state receipt at the latest certified block.
    pub fn state_receipt(&self, key: &StateKey) -> Result<Receipt> {
        match self {
            Self::Local(d) => d.state_receipt(key),
            Self::Remote(r) => r.state_receipt(key)?.ok_or_else(|| {
                Error::Ledger(tessera_ledger::Error::Misuse("no certified block yet"))
            }),
        }
    }

    /// Resolves a `did:tessera` document.
    pub fn resolve(&self, did: &Did) -> Result<DidDocument> {
        match did {
            Did::Tessera(id) => self
                .state(&StateKey::Did(id.clone()))?
                .ok_or_else(|| tessera_ledger::Error::UnknownDid(did.to_string()).into()),
            Did::Key(_) => {
                Err(tessera_ledger::Error::InvalidDid("did:key has no stored document".into())
                    .into())
            }
        }
    }

    /// The key that may sign for `kref` now.
    pub fn resolve_key(&self, kref: &KeyRef) -> Result<PublicKey> {
        if let Did::Key(pk) = &kref.did {
            return Ok(*pk);
        }
        let doc = self.resolve(&kref.did)?;
        if doc.deactivated {
            return Err(tessera_ledger::Error::DidDeactivated(kref.did.to_string()).into());
        }
        doc.method(&kref.method).copied().ok_or_else(|| {
            tessera_ledger::Error::UnknownDid(format!("{}#{}", kref.did, kref.method)).into()
        })
    }

    /// Signs `body` as `signer` with the next nonce and has it sealed; returns the transaction id
    /// or the ledger's reason for rejecting it.
    pub fn submit(&self, signer: &KeyRef, key: &KeyPair, body: TxBody) -> Result<Hash32> {
        match self {
            Self::Local(d) => d.submit(signer, key, body),
            Self::Remote(r) => {
                let nonce = next_nonce(r.state_value(&StateKey::Nonce(signer.did.to_string()))?)?;
                let tx = Transaction::sign(&self.chain_id(), signer.clone(), nonce, body, key);
                r.submit_signed(&tx)
            }
        }
    }

    /// The latest height.
    pub fn height(&self) -> Result<u64> {
        match self {
            Self::Local(d) => d.height(),
            Self::Remote(r) => r.height(),
        }
    }

    /// An audit answer, checked against the validator set and the query either way (a local
    /// answer is checked too: the receipts are what a report rests on).
    pub fn audit(&self, q: &Query) -> Result<(Answer, Vec<Checked>)> {
        match self {
            Self::Local(d) => {
                let a = d.read(|l| Ok(l.audit(q)?))?;
                let checked = check_answer(d.genesis(), q, &a)
                    .map_err(|e| Error::Verification(format!("audit answer: {e}")))?;
                Ok((a, checked))
            }
            Self::Remote(r) => r.audit(q),
        }
    }

    /// The evidence that job `job`'s inputs were authorised.
    pub fn job_evidence(&self, job: &str) -> Result<JobEvidence> {
        match self {
            Self::Local(d) => d.read(|l| Ok(l.job_evidence(job)?)),
            Self::Remote(r) => r.job_evidence(job),
        }
    }
}
