//! TCP links, for loopback benchmarks and real hosts.
//!
//! Each pair of parties shares one TCP connection: party `i` dials every `j < i` and accepts every
//! `j > i`, and a hello frame names the dialler. A reader thread per link parses frames into a
//! queue, so `send` never blocks on a peer that is itself busy sending (the classic deadlock of two
//! parties writing large messages at once), and `recv` can time out cleanly.
//!
//! The reader never allocates a frame at its announced length: it grows a [`FrameBuf`] as bytes
//! arrive, charging the link's [`LinkBudget`] first. When a charge would cross the per-link or the
//! session cap the reader shuts the socket and stops, and `recv` from that peer drops whatever was
//! queued and returns [`Error::MemoryCap`]. Bytes still in the kernel's socket buffer are bounded
//! by TCP's window, not by the caps.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, unbounded};

use super::budget::{BufferBudget, FrameBuf, LinkBudget, queued_cost};
use super::{Channel, ChannelConfig, ChannelStats, Counters, FRAME_HEADER_BYTES, check_peer};
use crate::{Error, PartyId, Result};

/// Magic bytes that open the hello frame, so a stray connection is refused early.
const HELLO_MAGIC: &[u8; 8] = b"TESSERA1";
/// How long a party keeps dialling a peer that is not listening yet.
const DIAL_PATIENCE: Duration = Duration::from_secs(30);

type Inbound = Result<Vec<u8>>;

/// One party's TCP links to every other party.
pub struct TcpChannel {
    me: PartyId,
    n: usize,
    writers: Vec<Option<TcpStream>>,
    readers: Vec<Option<(Receiver<Inbound>, LinkBudget)>>,
    config: ChannelConfig,
    counters: Counters,
    budget: BufferBudget,
}

/// Binds `n` listeners on 127.0.0.1 with OS-chosen ports, for tests and benchmarks.
pub fn bind_loopback(n: usize) -> Result<(Vec<TcpListener>, Vec<SocketAddr>)> {
    let mut listeners = Vec::with_capacity(n);
    let mut addrs = Vec::with_capacity(n);
    for _ in 0..n {
        let l = TcpListener::bind("127.0.0.1:0").map_err(|e| Error::Setup(format!("bind: {e}")))?;
        addrs.push(l.local_addr().map_err(|e| Error::Setup(format!("local_addr: {e}")))?);
        listeners.push(l);
    }
    Ok((listeners, addrs))
}

impl TcpChannel {
    /// Connects party `me` to every other party; `addrs[j]` is where party `j` listens and
    /// `listener` is this party's own bound listener.
    pub fn connect(
        me: PartyId,
        listener: &TcpListener,
        addrs: &[SocketAddr],
        config: ChannelConfig,
    ) -> Result<Self> {
        let n = addrs.len();
        if me.index() >= n {
            return Err(Error::Misuse("party id out of range"));
        }
        let mut streams: Vec<Option<TcpStream>> = (0..n).map(|_| None).collect();
        for (j, addr) in addrs.iter().enumerate().take(me.index()) {
            let mut s = dial(*addr)?;
            let mut hello = HELLO_MAGIC.to_vec();
            hello.extend_from_slice(&me.0.to_le_bytes());
            s.write_all(&hello).map_err(|e| Error::Setup(format!("hello to P{j}: {e}")))?;
            streams[j] = Some(s);
        }
        let deadline = Instant::now() + DIAL_PATIENCE;
        let mut pending = n - 1 - me.index();
        listener.set_nonblocking(true).map_err(|e| Error::Setup(e.to_string()))?;
        while pending > 0 {
            match listener.accept() {
                Ok((mut s, _)) => {
                    s.set_nonblocking(false).map_err(|e| Error::Setup(e.to_string()))?;
                    s.set_read_timeout(Some(Duration::from_secs(5)))
                        .map_err(|e| Error::Setup(e.to_string()))?;
                    let mut hello = [0u8; 10];
                    if s.read_exact(&mut hello).is_err() || &hello[..8] != HELLO_MAGIC {
                        continue; // not one of ours: drop it and keep listening
                    }
                    let j = usize::from(u16::from_le_bytes([hello[8], hello[9]]));
                    if j <= me.index() || j >= n || streams[j].is_some() {
                        continue;
                    }
                    streams[j] = Some(s);
                    pending -= 1;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if Instant::now() > deadline {
                        return Err(Error::Setup(format!("{pending} peer(s) never connected")));
                    }
                    thread::sleep(Duration::from_millis(2));
                }
                Err(e) => return Err(Error::Setup(format!("accept: {e}"))),
            }
        }
        let budget = BufferBudget::new(&config);
        let mut writers = Vec::with_capacity(n);
        let mut readers = Vec::with_capacity(n);
        for (j, stream) in streams.into_iter().enumerate() {
            match stream {
                None => {
                    writers.push(None);
                    readers.push(None);
                }
                Some(s) => {
                    s.set_nodelay(true).map_err(|e| Error::Setup(e.to_string()))?;
                    s.set_read_timeout(None).map_err(|e| Error::Setup(e.to_string()))?;
                    s.set_write_timeout(Some(config.recv_timeout))
                        .map_err(|e| Error::Setup(e.to_string()))?;
                    let read_half = s.try_clone().map_err(|e| Error::Setup(e.to_string()))?;
                    let (tx, rx) = unbounded();
                    let peer = PartyId(j as u16);
                    let max = config.max_frame_bytes;
                    let link = budget.link(peer);
                    let reader_link = link.clone();
                    thread::Builder::new()
                        .name(format!("tessera-rx-{me}-{peer}"))
                        .spawn(move || read_frames(read_half, peer, max, &reader_link, tx))
                        .map_err(|e| Error::Setup(e.to_string()))?;
                    writers.push(Some(s));
                    readers.push(Some((rx, link)));
                }
            }
        }
        Ok(Self { me, n, writers, readers, config, counters: Counters::default(), budget })
    }

    /// Bytes peers have sent that this party has not read yet (frames still arriving included).
    pub fn buffered_bytes(&self) -> usize {
        self.budget.buffered()
    }

    /// The most this party has held unread at once.
    pub fn peak_buffered_bytes(&self) -> usize {
        self.budget.peak()
    }

    /// Drops the link from `from` after its reader was cut off, releasing what it had queued.
    fn drop_cut_link(&mut self, from: PartyId) -> Error {
        let Some((rx, link)) = self.readers[from.index()].take() else {
            return Error::PeerDisconnected { peer: from };
        };
        while let Ok(item) = rx.try_recv() {
            if let Ok(msg) = item {
                link.release(queued_cost(msg.len()));
            }
        }
        link.cut_error().unwrap_or(Error::PeerDisconnected { peer: from })
    }
}

fn dial(addr: SocketAddr) -> Result<TcpStream> {
    let deadline = Instant::now() + DIAL_PATIENCE;
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Ok(s) => return Ok(s),
            Err(e) if Instant::now() > deadline => {
                return Err(Error::Setup(format!("could not reach {addr}: {e}")));
            }
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Reads frames until the stream ends or misbehaves, forwarding each (or the error) to `tx`.
fn read_frames(
    mut stream: TcpStream,
    peer: PartyId,
    max: usize,
    link: &LinkBudget,
    tx: Sender<Inbound>,
) {
    loop {
        match read_frame(&mut stream, peer, max, link) {
            Ok(payload) => {
                let cost = queued_cost(payload.len());
                if tx.send(Ok(payload)).is_err() {
                    link.release(cost);
                    return; // our own channel was dropped
                }
            }
            Err(e) => {
                if matches!(e, Error::MemoryCap { .. }) {
                    // Cut the peer off: it learns from the closed socket, we stop reading.
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                }
                let _ = tx.send(Err(e));
                return;
            }
        }
    }
}

/// Reads one frame, growing its buffer only as its bytes arrive.
fn read_frame(stream: &mut TcpStream, peer: PartyId, max: usize, link: &LinkBudget) -> Inbound {
    let mut header = [0u8; FRAME_HEADER_BYTES as usize];
    match read_fully(stream, &mut header) {
        Ok(0) => return Err(Error::PeerDisconnected { peer }),
        Ok(got) if got < header.len() => {
            return Err(Error::TruncatedFrame {
                peer,
                expected: FRAME_HEADER_BYTES,
                got: got as u64,
            });
        }
        Ok(_) => {}
        Err(source) => return Err(Error::Io { peer, source }),
    }
    let len = u32::from_le_bytes(header) as usize;
    if len > max {
        return Err(Error::FrameTooLarge { peer, len: len as u64, max });
    }
    let mut frame = FrameBuf::new(link, len)?;
    while !frame.is_complete() {
        let got =
            read_fully(stream, frame.spare()?).map_err(|source| Error::Io { peer, source })?;
        if got == 0 {
            return Err(Error::TruncatedFrame {
                peer,
                expected: FRAME_HEADER_BYTES + len as u64,
                got: FRAME_HEADER_BYTES + frame.received() as u64,
            });
        }
        frame.advance(got);
    }
    Ok(frame.finish())
}

/// Reads until `buf` is full or the stream ends; returns how many bytes arrived.
fn read_fully(stream: &mut TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(k) => filled += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset && filled == 0 => return Ok(0),
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

impl Channel for TcpChannel {
    fn party(&self) -> PartyId {
        self.me
    }

    fn num_parties(&self) -> usize {
        self.n
    }

    fn send(&mut self, to: PartyId, payload: &[u8]) -> Result<()> {
        check_peer(self.me, to, self.n)?;
        let len = u32::try_from(payload.len())
            .map_err(|_| Error::Misuse("a frame must be shorter than 4 GiB"))?;
        let stream =
            self.writers[to.index()].as_mut().ok_or(Error::PeerDisconnected { peer: to })?;
        let io_err = |source: io::Error| match source.kind() {
            ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
                Error::PeerDisconnected { peer: to }
            }
            _ => Error::Io { peer: to, source },
        };
        if payload.len() <= 16 << 10 {
            let mut frame = Vec::with_capacity(payload.len() + 4);
            frame.extend_from_slice(&len.to_le_bytes());
            frame.extend_from_slice(payload);
            stream.write_all(&frame).map_err(io_err)?;
        } else {
            stream.write_all(&len.to_le_bytes()).map_err(io_err)?;
            stream.write_all(payload).map_err(io_err)?;
        }
        self.counters.on_send(payload.len());
        Ok(())
    }

    fn recv(&mut self, from: PartyId) -> Result<Vec<u8>> {
        check_peer(self.me, from, self.n)?;
        let (rx, link) =
            self.readers[from.index()].as_ref().ok_or(Error::PeerDisconnected { peer: from })?;
        if link.is_cut() {
            return Err(self.drop_cut_link(from));
        }
        let msg = match rx.recv_timeout(self.config.recv_timeout) {
            Ok(Ok(msg)) => {
                link.release(queued_cost(msg.len()));
                msg
            }
            Ok(Err(Error::MemoryCap { .. })) => return Err(self.drop_cut_link(from)),
            Ok(Err(e)) => {
                self.readers[from.index()] = None;
                return Err(e);
            }
            Err(RecvTimeoutError::Timeout) => {
                return Err(Error::Timeout { peer: from, after: self.config.recv_timeout });
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Error::PeerDisconnected { peer: from });
            }
        };
        self.counters.on_recv(msg.len());
        Ok(msg)
    }

    fn stats(&self) -> ChannelStats {
        self.counters.snapshot()
    }
}

impl Drop for TcpChannel {
    fn drop(&mut self) {
        for s in self.writers.iter().flatten() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}
