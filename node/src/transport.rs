//! QUIC links between the parties of a job, adapted to the synchronous [`Channel`] trait.
//!
//! Each node runs one `quinn` endpoint per job with DID-bound mutual TLS ([`crate::tls`]). Party
//! `i` dials every party `j < i` and accepts every party `j > i`; each pair shares one
//! bidirectional stream. After the handshake the dialler sends a hello naming the job and its
//! party index, and the acceptor checks that the certificate key the handshake proved is the key
//! of that party's DID (the handshake itself already refused keys of no participant).
//!
//! The channel owns a tokio runtime. Every link has a writer task fed by an unbounded queue (so
//! `send` never blocks, as the trait promises) and a reader task that cuts frames (4-byte
//! little-endian length, then payload; frames above the configured maximum are refused before
//! any allocation) into a queue that `recv` drains with a timeout. Counters include the 4-byte
//! header, as every other `Channel` does; the setup hello is not counted. QUIC keep-alives and an
//! idle timeout turn a vanished peer into [`tessera_mpc::Error::PeerDisconnected`].
//!
//! What a peer can make a node hold is bounded as on every `tessera-mpc` transport: the reader
//! grows each frame only as its bytes arrive and charges them to the link's
//! [`LinkBudget`] first (caps from [`ChannelConfig`]). A peer that would cross the per-link or
//! the session cap has its connection closed, and `recv` from it drops what it had queued and
//! returns [`tessera_mpc::Error::MemoryCap`]. Below that, QUIC's own buffering is bounded by its
//! flow-control windows, and a peer may open only the one stream a link uses.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use quinn::{Connection, Endpoint, RecvStream, SendStream, TransportConfig, VarInt};
use serde::{Deserialize, Serialize};
use tessera_mpc::channel::budget::{BufferBudget, FrameBuf, LinkBudget, queued_cost};
use tessera_mpc::{Channel, ChannelConfig, ChannelStats, PartyId};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::tls::{self, PeerInfo};

/// Largest hello or acknowledgement accepted during setup.
const MAX_HELLO: usize = 4096;

/// Settings of a job's mesh.
#[derive(Clone, Debug)]
pub struct MeshConfig {
    /// The job these links serve (both sides must agree).
    pub job_id: String,
    /// This party's index in `parties`.
    pub me: usize,
    /// Every party, in party order (this one included).
    pub parties: Vec<PeerInfo>,
    /// How long to keep trying to reach peers.
    pub connect_timeout: Duration,
    /// QUIC idle timeout: a peer silent this long (despite keep-alives) is gone.
    pub idle_timeout: Duration,
    /// Frame size, buffering caps and receive timeout.
    pub channel: ChannelConfig,
    /// Local address to listen on (default: this party's published address; differs behind
    /// NAT or when the published endpoint is a host name).
    pub bind: Option<SocketAddr>,
    /// Fault injection for reliability tests: this party dies at a chosen channel operation.
    /// Never set by the CLI.
    pub cut: Option<CutPlan>,
}

/// How a party dies under a [`CutPlan`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CutMode {
    /// As a killed process: the QUIC endpoint stops at once and sends nothing more, so peers
    /// notice only through the idle timeout.
    Vanish,
    /// As a crash the OS reports: every connection is closed, so peers notice at once.
    Close,
}

/// A fault for reliability tests: the party's links die just before its `at_op`-th channel
/// operation (sends and receives counted from 0 after the mesh is up), so that operation and
/// every later one fail. `fired` records the step label ([`Channel::begin_step`]) the party
/// was in and when, so a test can tell which phase of the job the cut hit; `ops` counts the
/// operations seen (a plan that never fires measures a job's length).
#[derive(Clone, Debug)]
pub struct CutPlan {
    /// The operation the cut happens at.
    pub at_op: u64,
    /// How the party dies.
    pub mode: CutMode,
    /// Set to the step label and the time when the cut happens.
    pub fired: Arc<std::sync::OnceLock<(&'static str, Instant)>>,
    /// Channel operations this party has started.
    pub ops: Arc<std::sync::atomic::AtomicU64>,
    /// Each step this party began, with the number of operations before it.
    pub steps: Arc<std::sync::Mutex<Vec<(u64, &'static str)>>>,
}

impl CutPlan {
    /// A cut at operation `at_op`.
    pub fn new(at_op: u64, mode: CutMode) -> Self {
        Self { at_op, mode, fired: Arc::default(), ops: Arc::default(), steps: Arc::default() }
    }
}

impl MeshConfig {
    /// Default timeouts for `parties`.
    pub fn new(job_id: &str, me: usize, parties: Vec<PeerInfo>) -> Self {
        Self {
            job_id: job_id.to_owned(),
            me,
            parties,
            connect_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(10),
            channel: ChannelConfig::default(),
            bind: None,
            cut: None,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Hello {
    job: String,
    party: usize,
    did: String,
}

enum Incoming {
    Frame(Vec<u8>),
    TooLarge(u64),
    /// The peer crossed a buffering cap; the link's budget says which.
    OverCap,
    Closed,
    Failed(String),
}

/// The application error code a node closes a connection with when it refuses the peer's
/// identity (its hello names a DID, job or certificate it does not accept).
const CLOSE_IDENTITY_REFUSED: u32 = 2;

/// The application error code a node closes a connection with when the peer crossed a cap.
const CLOSE_OVER_CAP: u32 = 3;

struct Link {
    conn: Connection,
    out: Option<mpsc::UnboundedSender<Vec<u8>>>,
    inc: mpsc::UnboundedReceiver<Incoming>,
    writer: Option<JoinHandle<()>>,
    budget: LinkBudget,
}

impl Link {
    /// After a cut: drops what the peer had queued, releasing its charge, and names the cap.
    fn drop_queued(&mut self, peer: PartyId) -> tessera_mpc::Error {
        while let Ok(inc) = self.inc.try_recv() {
            if let Incoming::Frame(buf) = inc {
                self.budget.release(queued_cost(buf.len()));
            }
        }
        self.budget.cut_error().unwrap_or(tessera_mpc::Error::PeerDisconnected { peer })
    }
}

/// One party's QUIC links to the other parties of a job.
pub struct QuicChannel {
    rt: Option<tokio::runtime::Runtime>,
    endpoint: Endpoint,
    me: PartyId,
    links: Vec<Option<Link>>,
    dids: Vec<String>,
    config: ChannelConfig,
    stats: ChannelStats,
    last_was_send: bool,
    budget: BufferBudget,
    /// The step label of the current protocol step.
    step: &'static str,
    /// Channel operations so far, and the fault plan they count towards.
    ops: u64,
    cut: Option<CutPlan>,
    cut_done: bool,
}

impl std::fmt::Debug for QuicChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuicChannel").field("me", &self.me).field("stats", &self.stats).finish()
    }
}

fn transport_config(idle: Duration) -> Result<Arc<TransportConfig>> {
    let mut t = TransportConfig::default();
    let idle = quinn::IdleTimeout::try_from(idle).map_err(|e| Error::Transport(e.to_string()))?;
    t.max_idle_timeout(Some(idle));
    t.keep_alive_interval(Some(Duration::from_millis(500)));
    // Large windows: MPC rounds send megabytes at once on a single stream.
    t.stream_receive_window(VarInt::from_u32(64 << 20));
    t.receive_window(VarInt::from_u32(256 << 20));
    t.send_window(256 << 20);
    t.max_concurrent_uni_streams(VarInt::from_u32(0));
    // A link is one bidirectional stream; more would be windows of data nobody reads.
    t.max_concurrent_bidi_streams(VarInt::from_u32(1));
    Ok(Arc::new(t))
}

/// Whether a connection error came from the TLS handshake (an identity refusal).
pub(crate) fn is_crypto(e: &quinn::ConnectionError) -> bool {
    let code = match e {
        quinn::ConnectionError::TransportError(t) => u64::from(t.code),
        quinn::ConnectionError::ConnectionClosed(c) => u64::from(c.error_code),
        _ => return false,
    };
    (0x100..0x200).contains(&code)
}

async fn write_frame(s: &mut SendStream, payload: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(payload.len())
        .map_err(|_| std::io::Error::other("frame larger than 4 GiB"))?;
    s.write_all(&len.to_le_bytes()).await.map_err(std::io::Error::other)?;
    s.write_all(payload).await.map_err(std::io::Error::other)
}

async fn read_small(r: &mut RecvStream) -> std::result::Result<Vec<u8>, String> {
    let mut h = [0u8; 4];
    r.read_exact(&mut h).await.map_err(|e| e.to_string())?;
    let len = u32::from_le_bytes(h) as usize;
    if len > MAX_HELLO {
        return Err(format!("setup message of {len} bytes"));
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
    Ok(buf)
}

pub(crate) fn peer_cert_key(conn: &Connection) -> Option<[u8; 32]> {
    let id = conn.peer_identity()?;
    let certs = id.downcast::<Vec<rustls::pki_types::CertificateDer<'static>>>().ok()?;
    tls::certificate_key(certs.first()?).ok()
}

/// Reads frames from a peer into a queue until the stream ends, fails or crosses a cap.
async fn reader(
    mut r: RecvStream,
    conn: Connection,
    tx: mpsc::UnboundedSender<Incoming>,
    max: usize,
    budget: LinkBudget,
) {
    loop {
        match read_frame(&mut r, max, &budget).await {
            Ok(buf) => {
                let cost = queued_cost(buf.len());
                if tx.send(Incoming::Frame(buf)).is_err() {
                    budget.release(cost);
                    return;
                }
            }
            Err(inc) => {
                if matches!(inc, Incoming::OverCap) {
                    conn.close(VarInt::from_u32(CLOSE_OVER_CAP), b"receive buffer cap exceeded");
                }
                let _ = tx.send(inc);
                return;
            }
        }
    }
}

/// Reads one frame, growing its buffer only as its bytes arrive.
async fn read_frame(
    r: &mut RecvStream,
    max: usize,
    budget: &LinkBudget,
) -> std::result::Result<Vec<u8>, Incoming> {
    let mut h = [0u8; 4];
    match r.read_exact(&mut h).await {
        Ok(()) => {}
        Err(quinn::ReadExactError::FinishedEarly(0)) => return Err(Incoming::Closed),
        Err(e) => return Err(Incoming::Failed(e.to_string())),
    }
    let len = u32::from_le_bytes(h) as usize;
    if len > max {
        return Err(Incoming::TooLarge(len as u64));
    }
    let mut frame = FrameBuf::new(budget, len).map_err(|_| Incoming::OverCap)?;
    while !frame.is_complete() {
        let room = frame.spare().map_err(|_| Incoming::OverCap)?;
        match r.read(room).await {
            Ok(Some(k)) => frame.advance(k),
            Ok(None) => {
                return Err(Incoming::Failed(format!(
                    "stream ended {} bytes into a frame of {len}",
                    frame.received()
                )));
            }
            Err(e) => return Err(Incoming::Failed(e.to_string())),
        }
    }
    Ok(frame.finish())
}

/// Writes queued frames to a peer; when the queue closes, finishes the stream and waits until
/// the peer has read everything.
async fn writer(mut s: SendStream, mut rx: mpsc::UnboundedReceiver<Vec<u8>>) {
    while let Some(frame) = rx.recv().await {
        if let Err(e) = write_frame(&mut s, &frame).await {
            tracing::debug!("link write failed: {e}");
            return;
        }
    }
    let _ = s.finish();
    let _ = s.stopped().await;
}

impl QuicChannel {
    /// Connects this party to every other party of the job.
    pub fn connect(tls_pkcs8: &[u8], cfg: &MeshConfig) -> Result<Self> {
        let n = cfg.parties.len();
        let me_info = cfg
            .parties
            .get(cfg.me)
            .ok_or_else(|| Error::Usage("party index out of range".into()))?
            .clone();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::Transport(format!("runtime: {e}")))?;
        let transport = transport_config(cfg.idle_timeout)?;
        let keys: Vec<[u8; 32]> = cfg.parties.iter().map(|p| p.tls_key).collect();
        let server = tls::server_config(tls_pkcs8, keys)?;
        let qsc = quinn::crypto::rustls::QuicServerConfig::try_from(server)
            .map_err(|e| Error::Transport(e.to_string()))?;
        let mut sc = quinn::ServerConfig::with_crypto(Arc::new(qsc));
        sc.transport_config(transport.clone());
        let bind = cfg.bind.unwrap_or(me_info.addr);
        let endpoint = {
            let _g = rt.enter();
            Endpoint::server(sc, bind)
                .map_err(|e| Error::Transport(format!("cannot listen on {bind}: {e}")))?
        };
        tracing::info!(job = %cfg.job_id, party = cfg.me, "listening on {bind}");
        let deadline = Instant::now() + cfg.connect_timeout;
        let links = rt.block_on(mesh(tls_pkcs8, cfg, &endpoint, transport, deadline));
        let links = match links {
            Ok(l) => l,
            Err(e) => {
                endpoint.close(VarInt::from_u32(1), b"setup failed");
                return Err(e);
            }
        };
        let budget = BufferBudget::new(&cfg.channel);
        let mut out = Vec::with_capacity(n);
        {
            let _g = rt.enter();
            for (j, l) in links.into_iter().enumerate() {
                out.push(l.map(|(conn, s, r)| {
                    let (otx, orx) = mpsc::unbounded_channel();
                    let (itx, irx) = mpsc::unbounded_channel();
                    let link = budget.link(crate::pid(j));
                    let max = cfg.channel.max_frame_bytes;
                    tokio::spawn(reader(r, conn.clone(), itx, max, link.clone()));
                    let w = tokio::spawn(writer(s, orx));
                    Link { conn, out: Some(otx), inc: irx, writer: Some(w), budget: link }
                }));
            }
        }
        Ok(Self {
            rt: Some(rt),
            endpoint,
            me: crate::pid(cfg.me),
            links: out,
            dids: cfg.parties.iter().map(|p| p.did.to_string()).collect(),
            config: cfg.channel,
            stats: ChannelStats::default(),
            last_was_send: false,
            budget,
            step: "node/mesh",
            ops: 0,
            cut: cfg.cut.clone(),
            cut_done: false,
        })
    }

    /// Counts one channel operation; kills the links when the fault plan says so.
    fn tick(&mut self) -> tessera_mpc::Result<()> {
        const CUT: tessera_mpc::Error = tessera_mpc::Error::Misuse("links cut by a fault plan");
        if self.cut_done {
            return Err(CUT);
        }
        let op = self.ops;
        self.ops += 1;
        let Some(plan) = self.cut.as_ref() else { return Ok(()) };
        plan.ops.store(self.ops, std::sync::atomic::Ordering::Relaxed);
        if plan.at_op != op {
            return Ok(());
        }
        let _ = plan.fired.set((self.step, Instant::now()));
        tracing::warn!(op, step = self.step, mode = ?plan.mode, "fault plan: cutting every link");
        self.cut_done = true;
        match plan.mode {
            CutMode::Vanish => {
                // Tasks (endpoint driver included) stop without sending another packet.
                if let Some(rt) = self.rt.take() {
                    rt.shutdown_background();
                }
            }
            CutMode::Close => {
                for l in self.links.iter().flatten() {
                    l.conn.close(VarInt::from_u32(4), b"fault plan: crashed");
                }
                self.endpoint.close(VarInt::from_u32(4), b"fault plan: crashed");
            }
        }
        Err(CUT)
    }

    /// Bytes peers have sent that this party has not read yet (frames still arriving included).
    pub fn buffered_bytes(&self) -> usize {
        self.budget.buffered()
    }

    /// The most this party has held unread at once.
    pub fn peak_buffered_bytes(&self) -> usize {
        self.budget.peak()
    }

    /// The DID of party `p`.
    pub fn did_of(&self, p: PartyId) -> &str {
        self.dids.get(p.index()).map_or("?", String::as_str)
    }

    fn link(&mut self, p: PartyId) -> tessera_mpc::Result<&mut Link> {
        self.links
            .get_mut(p.index())
            .and_then(Option::as_mut)
            .ok_or(tessera_mpc::Error::Misuse("no link to that party"))
    }

    /// Flushes every link, waits (briefly) until peers have read everything, and closes.
    pub fn shutdown(&mut self) {
        let Some(rt) = self.rt.take() else { return };
        let mut writers = Vec::new();
        for l in self.links.iter_mut().flatten() {
            l.out = None;
            if let Some(w) = l.writer.take() {
                writers.push(w);
            }
        }
        rt.block_on(async {
            let _ = tokio::time::timeout(Duration::from_secs(5), async {
                for w in writers {
                    let _ = w.await;
                }
            })
            .await;
        });
        for l in self.links.iter().flatten() {
            l.conn.close(VarInt::from_u32(0), b"done");
        }
        self.endpoint.close(VarInt::from_u32(0), b"done");
        rt.block_on(async {
            let _ = tokio::time::timeout(Duration::from_secs(1), self.endpoint.wait_idle()).await;
        });
    }
}

impl Drop for QuicChannel {
    fn drop(&mut self) {
        self.shutdown();
    }
}

type Established = Option<(Connection, SendStream, RecvStream)>;

async fn mesh(
    tls_pkcs8: &[u8],
    cfg: &MeshConfig,
    endpoint: &Endpoint,
    transport: Arc<TransportConfig>,
    deadline: Instant,
) -> Result<Vec<Established>> {
    let n = cfg.parties.len();
    let mut links: Vec<Established> = (0..n).map(|_| None).collect();
    // Dial every lower party while accepting every higher one; a failed dial ends the setup.
    let mut dials = tokio::task::JoinSet::new();
    for j in 0..cfg.me {
        let peer = cfg.parties[j].clone();
        let client = tls::client_config(tls_pkcs8, &peer)?;
        let qcc = quinn::crypto::rustls::QuicClientConfig::try_from(client)
            .map_err(|e| Error::Transport(e.to_string()))?;
        let mut cc = quinn::ClientConfig::new(Arc::new(qcc));
        cc.transport_config(transport.clone());
        let ep = endpoint.clone();
        let hello = Hello {
            job: cfg.job_id.clone(),
            party: cfg.me,
            did: cfg.parties[cfg.me].did.to_string(),
        };
        dials.spawn(async move { dial(ep, cc, j, peer, hello, deadline).await });
    }
    let expected = n - 1 - cfg.me;
    let mut accepted = 0;
    while accepted < expected || !dials.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::select! {
            done = dials.join_next(), if !dials.is_empty() => {
                let Some(done) = done else { continue };
                let (j, est) = done.map_err(|e| Error::Transport(e.to_string()))??;
                links[j] = Some(est);
            }
            inc = tokio::time::timeout(left, endpoint.accept()), if accepted < expected => {
                let inc = match inc {
                    Ok(Some(inc)) => inc,
                    Ok(None) => return Err(Error::Transport("endpoint closed".into())),
                    Err(_) => {
                        let missing: Vec<String> = (cfg.me + 1..n)
                            .filter(|j| links[*j].is_none())
                            .map(|j| cfg.parties[j].did.to_string())
                            .collect();
                        return Err(Error::Peer {
                            peer: missing.join(", "),
                            reason: format!("did not connect within {:?}", cfg.connect_timeout),
                        });
                    }
                };
                match accept_one(inc, cfg).await {
                    Ok((j, est)) if links[j].is_none() => {
                        tracing::info!(peer = %cfg.parties[j].did, "accepted peer");
                        links[j] = Some(est);
                        accepted += 1;
                    }
                    Ok((j, _)) => tracing::warn!(party = j, "duplicate connection refused"),
                    Err(e) => tracing::warn!("refused an incoming connection: {e}"),
                }
            }
        }
    }
    Ok(links)
}

async fn accept_one(
    inc: quinn::Incoming,
    cfg: &MeshConfig,
) -> Result<(usize, (Connection, SendStream, RecvStream))> {
    let conn = inc.await.map_err(|e| {
        if is_crypto(&e) {
            Error::Identity(format!("handshake refused: {e}"))
        } else {
            Error::Transport(e.to_string())
        }
    })?;
    let (mut s, mut r) = tokio::time::timeout(Duration::from_secs(10), conn.accept_bi())
        .await
        .map_err(|_| Error::Transport("no hello".into()))?
        .map_err(|e| Error::Transport(e.to_string()))?;
    let raw = read_small(&mut r).await.map_err(Error::Transport)?;
    let hello: Hello = serde_json::from_slice(&raw).map_err(|e| Error::invalid("hello", e))?;
    let refuse = |why: String| {
        conn.close(VarInt::from_u32(CLOSE_IDENTITY_REFUSED), why.as_bytes());
        Error::Identity(why)
    };
    if hello.job != cfg.job_id {
        return Err(refuse(format!("hello for another job {:?}", hello.job)));
    }
    let Some(claimed) = cfg.parties.get(hello.party).filter(|_| hello.party > cfg.me) else {
        return Err(refuse(format!("bad party index {}", hello.party)));
    };
    if claimed.did.to_string() != hello.did || peer_cert_key(&conn) != Some(claimed.tls_key) {
        return Err(refuse(format!(
            "certificate does not carry the key of {} (claimed {})",
            claimed.did, hello.did
        )));
    }
    write_frame(&mut s, b"ok").await.map_err(|e| Error::Transport(e.to_string()))?;
    Ok((hello.party, (conn, s, r)))
}

async fn dial(
    ep: Endpoint,
    cc: quinn::ClientConfig,
    j: usize,
    peer: PeerInfo,
    hello: Hello,
    deadline: Instant,
) -> Result<(usize, (Connection, SendStream, RecvStream))> {
    let unreachable = |why: String| Error::Peer { peer: peer.did.to_string(), reason: why };
    let conn = loop {
        let connecting = ep
            .connect_with(cc.clone(), peer.addr, "tessera-node")
            .map_err(|e| Error::Transport(e.to_string()))?;
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, connecting).await {
            Ok(Ok(c)) => break c,
            Ok(Err(e)) if is_crypto(&e) => {
                return Err(Error::Identity(format!(
                    "TLS handshake with {} at {} refused: {e}",
                    peer.did, peer.addr
                )));
            }
            Ok(Err(e)) if Instant::now() < deadline => {
                tracing::debug!(peer = %peer.did, "connect attempt failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(Err(e)) => return Err(unreachable(format!("unreachable at {}: {e}", peer.addr))),
            Err(_) => return Err(unreachable(format!("unreachable at {}", peer.addr))),
        }
    };
    // In TLS 1.3 the server checks the client certificate after the client considers the
    // handshake done: a refusal arrives as a crypto-coded close right after.
    let failed = |why: String| match conn.close_reason() {
        Some(e) if is_crypto(&e) => {
            Error::Identity(format!("{} refused our certificate: {e}", peer.did))
        }
        Some(quinn::ConnectionError::ApplicationClosed(c))
            if c.error_code == VarInt::from_u32(CLOSE_IDENTITY_REFUSED) =>
        {
            Error::Identity(format!(
                "{} refused us: {}",
                peer.did,
                String::from_utf8_lossy(&c.reason)
            ))
        }
        // Any other close before the acknowledgement (the peer stopped, failed its own setup
        // or crashed) is the peer leaving, not a verdict on our identity.
        Some(quinn::ConnectionError::ApplicationClosed(c)) => {
            unreachable(format!("closed the connection: {}", String::from_utf8_lossy(&c.reason)))
        }
        _ => unreachable(why),
    };
    let (mut s, mut r) = conn.open_bi().await.map_err(|e| failed(e.to_string()))?;
    let raw = serde_json::to_vec(&hello).map_err(|e| Error::Transport(e.to_string()))?;
    write_frame(&mut s, &raw).await.map_err(|e| failed(e.to_string()))?;
    let ack = tokio::time::timeout(Duration::from_secs(10), read_small(&mut r))
        .await
        .map_err(|_| failed("no acknowledgement".into()))?;
    match ack {
        Ok(a) if a == b"ok" => {}
        Ok(_) => return Err(unreachable("bad acknowledgement".into())),
        Err(e) => return Err(failed(e)),
    }
    tracing::info!(peer = %peer.did, "connected to peer");
    Ok((j, (conn, s, r)))
}

impl Channel for QuicChannel {
    fn party(&self) -> PartyId {
        self.me
    }

    fn num_parties(&self) -> usize {
        self.links.len()
    }

    fn send(&mut self, to: PartyId, payload: &[u8]) -> tessera_mpc::Result<()> {
        self.tick()?;
        if payload.len() > self.config.max_frame_bytes {
            return Err(tessera_mpc::Error::FrameTooLarge {
                peer: to,
                len: payload.len() as u64,
                max: self.config.max_frame_bytes,
            });
        }
        let link = self.link(to)?;
        let sent = link.out.as_ref().is_some_and(|o| o.send(payload.to_vec()).is_ok());
        if !sent {
            return Err(tessera_mpc::Error::PeerDisconnected { peer: to });
        }
        self.stats.bytes_sent += payload.len() as u64 + tessera_mpc::channel::FRAME_HEADER_BYTES;
        self.stats.messages_sent += 1;
        if !self.last_was_send {
            self.stats.rounds += 1;
            self.last_was_send = true;
        }
        Ok(())
    }

    fn recv(&mut self, from: PartyId) -> tessera_mpc::Result<Vec<u8>> {
        self.tick()?;
        let timeout = self.config.recv_timeout;
        let rt = self.rt.as_ref().ok_or(tessera_mpc::Error::Misuse("channel shut down"))?;
        let handle = rt.handle().clone();
        let did = self.did_of(from).to_owned();
        let link = self.link(from)?;
        if link.budget.is_cut() {
            return Err(link.drop_queued(from));
        }
        let got = handle.block_on(async { tokio::time::timeout(timeout, link.inc.recv()).await });
        match got {
            Ok(Some(Incoming::OverCap)) => {
                let e = link.drop_queued(from);
                tracing::error!(peer = %did, "link cut: {e}");
                Err(e)
            }
            Ok(Some(Incoming::Frame(buf))) => {
                link.budget.release(queued_cost(buf.len()));
                self.stats.bytes_received +=
                    buf.len() as u64 + tessera_mpc::channel::FRAME_HEADER_BYTES;
                self.stats.messages_received += 1;
                self.last_was_send = false;
                Ok(buf)
            }
            Ok(Some(Incoming::TooLarge(len))) => Err(tessera_mpc::Error::FrameTooLarge {
                peer: from,
                len,
                max: self.config.max_frame_bytes,
            }),
            Ok(Some(Incoming::Failed(why))) => {
                tracing::error!(peer = %did, "link failed: {why}");
                Err(tessera_mpc::Error::PeerDisconnected { peer: from })
            }
            Ok(Some(Incoming::Closed) | None) => {
                tracing::error!(peer = %did, "peer closed the link");
                Err(tessera_mpc::Error::PeerDisconnected { peer: from })
            }
            Err(_) => Err(tessera_mpc::Error::Timeout { peer: from, after: timeout }),
        }
    }

    fn begin_step(&mut self, step: &'static str) {
        self.step = step;
        if let Some(plan) = &self.cut
            && let Ok(mut steps) = plan.steps.lock()
        {
            steps.push((self.ops, step));
        }
    }

    fn stats(&self) -> ChannelStats {
        self.stats
    }
}

#[cfg(test)]
#[path = "transport_limits.rs"]
mod limits;

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_ledger::Did;

    const MIB: usize = 1 << 20;

    /// Three parties over QUIC, party `i`'s limits set by `configure(i, ..)`; returns what each
    /// party's `program` returned.
    fn run_quic<T: Send>(
        configure: impl Fn(usize, &mut ChannelConfig) + Sync,
        program: impl Fn(&mut QuicChannel) -> tessera_mpc::Result<T> + Sync,
    ) -> Vec<tessera_mpc::Result<T>> {
        let keys: Vec<rcgen::KeyPair> =
            (0..3).map(|_| rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap()).collect();
        let parties: Vec<PeerInfo> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| PeerInfo {
                did: Did::tessera(&format!("p{i}")).unwrap(),
                addr: crate::home::free_loopback_addr().unwrap(),
                tls_key: k.public_key_raw().try_into().unwrap(),
            })
            .collect();
        std::thread::scope(|s| {
            let hs: Vec<_> = (0..3)
                .map(|i| {
                    let pkcs8 = keys[i].serialize_der();
                    let mut cfg = MeshConfig::new("t", i, parties.clone());
                    cfg.channel.recv_timeout = Duration::from_secs(20);
                    configure(i, &mut cfg.channel);
                    let program = &program;
                    s.spawn(move || {
                        let mut ch = QuicChannel::connect(&pkcs8, &cfg).unwrap();
                        program(&mut ch)
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        })
    }

    fn exchange(ch: &mut dyn Channel) -> tessera_mpc::Result<()> {
        let me = ch.party().index();
        for round in 0..3usize {
            ch.broadcast(&vec![me as u8; 10 + 1000 * round + me])?;
            for p in ch.peers() {
                let m = ch.recv(p)?;
                assert_eq!(m, vec![p.index() as u8; 10 + 1000 * round + p.index()]);
            }
        }
        Ok(())
    }

    #[test]
    fn counters_match_the_in_memory_channel() {
        let quic = run_quic(
            |_, c| c.max_frame_bytes = MIB,
            |ch| {
                exchange(ch)?;
                Ok(ch.stats())
            },
        );
        let mem = tessera_mpc::harness::run_in_memory(3, |ch: &mut dyn Channel| {
            exchange(ch)?;
            Ok::<_, tessera_mpc::Error>(ch.stats())
        });
        for (q, m) in quic.into_iter().zip(mem) {
            assert_eq!(q.unwrap(), m.output.unwrap());
        }
    }

    #[test]
    fn oversized_frame_is_refused_by_the_receiver() {
        // Party 1 accepts at most 64-byte frames; party 0 (whose own limit is larger) sends 65.
        let limit = |i: usize, c: &mut ChannelConfig| c.max_frame_bytes = [MIB, 64, MIB][i];
        let runs = run_quic(limit, |ch| {
            match ch.party().index() {
                0 => {
                    ch.send(crate::pid(1), &[7u8; 64])?;
                    ch.send(crate::pid(1), &[7u8; 65])?;
                }
                1 => {
                    assert_eq!(ch.recv(crate::pid(0))?.len(), 64);
                    let e = ch.recv(crate::pid(0)).unwrap_err();
                    assert!(
                        matches!(e, tessera_mpc::Error::FrameTooLarge { len: 65, max: 64, .. }),
                        "{e}"
                    );
                    // The sender's own limit applies on its side too.
                    assert!(ch.send(crate::pid(2), &[0u8; 65]).is_err());
                }
                _ => {}
            }
            Ok(())
        });
        for r in runs {
            r.unwrap();
        }
    }

    #[test]
    fn flooding_peer_is_cut_off_within_the_cap() {
        // Party 0 sends party 1 64 legal 1 MiB frames that party 1 does not read; party 1 holds
        // at most 4 MiB from it, cuts it off, and still talks to party 2.
        let tight = |_: usize, c: &mut ChannelConfig| {
            c.max_frame_bytes = MIB;
            c.max_buffered_bytes_per_link = 4 * MIB;
            c.max_buffered_bytes = 6 * MIB;
        };
        let runs = run_quic(tight, |ch| {
            let (p0, p1, p2) = (crate::pid(0), crate::pid(1), crate::pid(2));
            match ch.party().index() {
                0 => {
                    let frame = vec![0xeeu8; MIB];
                    for _ in 0..64 {
                        if ch.send(p1, &frame).is_err() {
                            break;
                        }
                    }
                }
                1 => {
                    let deadline = Instant::now() + Duration::from_secs(10);
                    let cut =
                        |ch: &QuicChannel| ch.links[0].as_ref().is_some_and(|l| l.budget.is_cut());
                    while !cut(ch) && Instant::now() < deadline {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    assert!(ch.peak_buffered_bytes() <= 4 * MIB, "{}", ch.peak_buffered_bytes());
                    assert!(ch.peak_buffered_bytes() >= 3 * MIB, "{}", ch.peak_buffered_bytes());
                    let e = ch.recv(p0).unwrap_err();
                    assert!(
                        matches!(e, tessera_mpc::Error::MemoryCap { session: false, cap, .. }
                            if cap == 4 * MIB),
                        "{e}"
                    );
                    // Only what party 2 may have sent is still held.
                    assert_eq!(ch.links[0].as_ref().map(|l| l.budget.buffered()), Some(0));
                    assert!(ch.buffered_bytes() <= queued_cost(6), "{}", ch.buffered_bytes());
                    assert_eq!(ch.exchange(p2, b"still here")?, b"and me");
                }
                _ => assert_eq!(ch.exchange(p1, b"and me")?, b"still here"),
            }
            Ok(())
        });
        for r in runs {
            r.unwrap();
        }
    }
}
