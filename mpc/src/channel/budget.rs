//! Accounting of what peers have made this party buffer but it has not read yet.
//!
//! A peer controls how fast it sends; this party controls how fast it reads. Without a bound the
//! difference is memory the peer can grow at will, so every transport charges arriving bytes to a
//! [`LinkBudget`] before it holds them and releases them when `recv` hands the frame out. A charge
//! that would cross the link's cap or the session's cap fails and cuts the link, and the next
//! `recv` from that peer returns [`Error::MemoryCap`].
//!
//! Frames are assembled in a [`FrameBuf`], which grows only as bytes actually arrive, so a header
//! that announces a large frame costs nothing until the payload follows.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::ChannelConfig;
use crate::{Error, PartyId, Result};

/// What one queued frame costs besides its payload: the queue slot and the vector header, charged
/// so that a flood of empty frames is bounded too.
pub const FRAME_COST: usize = 64;

/// The smallest step by which a frame's buffer grows.
const MIN_GROWTH: usize = 64 << 10;

/// The session-wide counter of one channel: the sum over its links.
#[derive(Debug)]
struct Session {
    used: AtomicUsize,
    peak: AtomicUsize,
    cap: usize,
    link_cap: usize,
}

/// Why a link was cut, kept until `recv` reports it.
#[derive(Clone, Copy, Debug)]
struct Cut {
    buffered: usize,
    cap: usize,
    session: bool,
}

#[derive(Debug)]
struct Link {
    peer: PartyId,
    used: AtomicUsize,
    is_cut: AtomicBool,
    cut: Mutex<Option<Cut>>,
}

/// The receive budget of one channel, shared by all its links.
#[derive(Clone, Debug)]
pub struct BufferBudget {
    session: Arc<Session>,
}

impl BufferBudget {
    /// A budget with the caps of `config`.
    pub fn new(config: &ChannelConfig) -> Self {
        Self {
            session: Arc::new(Session {
                used: AtomicUsize::new(0),
                peak: AtomicUsize::new(0),
                cap: config.max_buffered_bytes,
                link_cap: config.max_buffered_bytes_per_link,
            }),
        }
    }

    /// A fresh counter for the link from `peer`, drawing on this session.
    pub fn link(&self, peer: PartyId) -> LinkBudget {
        LinkBudget {
            session: self.session.clone(),
            link: Arc::new(Link {
                peer,
                used: AtomicUsize::new(0),
                is_cut: AtomicBool::new(false),
                cut: Mutex::new(None),
            }),
        }
    }

    /// Bytes currently held for all links (queued frames and frames still arriving).
    pub fn buffered(&self) -> usize {
        self.session.used.load(Ordering::Acquire)
    }

    /// The most this session has ever held at once.
    pub fn peak(&self) -> usize {
        self.session.peak.load(Ordering::Acquire)
    }
}

/// One link's share of a [`BufferBudget`]; clones count against the same link.
#[derive(Clone, Debug)]
pub struct LinkBudget {
    session: Arc<Session>,
    link: Arc<Link>,
}

/// Adds `bytes` to `counter` unless the sum would exceed `cap`; returns the would-be sum on failure.
fn try_add(counter: &AtomicUsize, bytes: usize, cap: usize) -> Result<usize, usize> {
    counter
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
            u.checked_add(bytes).filter(|sum| *sum <= cap)
        })
        .map(|old| old + bytes)
        .map_err(|old| old.saturating_add(bytes))
}

fn saturating_sub(counter: &AtomicUsize, bytes: usize) {
    let _ = counter
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| Some(u.saturating_sub(bytes)));
}

impl LinkBudget {
    /// Reserves `bytes` before they are held. Over the link's or the session's cap nothing is
    /// reserved, the link is marked cut, and the error `recv` will report is returned.
    pub fn charge(&self, bytes: usize) -> Result<()> {
        if self.link.is_cut.load(Ordering::Acquire) {
            return Err(self
                .cut_error()
                .unwrap_or(Error::PeerDisconnected { peer: self.link.peer }));
        }
        let link_cap = self.session.link_cap;
        if let Err(buffered) = try_add(&self.link.used, bytes, link_cap) {
            return Err(self.cut_off(Cut { buffered, cap: link_cap, session: false }));
        }
        match try_add(&self.session.used, bytes, self.session.cap) {
            Ok(total) => {
                self.session.peak.fetch_max(total, Ordering::AcqRel);
                Ok(())
            }
            Err(buffered) => {
                saturating_sub(&self.link.used, bytes);
                Err(self.cut_off(Cut { buffered, cap: self.session.cap, session: true }))
            }
        }
    }

    /// Returns `bytes` once the frame they held has been handed out or dropped.
    pub fn release(&self, bytes: usize) {
        saturating_sub(&self.link.used, bytes);
        saturating_sub(&self.session.used, bytes);
    }

    /// Bytes currently held for this link.
    pub fn buffered(&self) -> usize {
        self.link.used.load(Ordering::Acquire)
    }

    /// Whether a charge failed: the link is cut and its queue should be dropped.
    pub fn is_cut(&self) -> bool {
        self.link.is_cut.load(Ordering::Acquire)
    }

    /// The error that cut this link, if one did.
    pub fn cut_error(&self) -> Option<Error> {
        let cut = *self.link.cut.lock().unwrap_or_else(|p| p.into_inner());
        cut.map(|c| Error::MemoryCap {
            peer: self.link.peer,
            buffered: c.buffered,
            cap: c.cap,
            session: c.session,
        })
    }

    fn cut_off(&self, cut: Cut) -> Error {
        let mut slot = self.link.cut.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(cut);
        drop(slot);
        self.link.is_cut.store(true, Ordering::Release);
        self.cut_error().unwrap_or(Error::PeerDisconnected { peer: self.link.peer })
    }
}

/// A frame being received: its buffer grows only as payload arrives, each growth charged first.
///
/// The buffer at most doubles what has arrived (and never passes the announced length), so a
/// peer must send half of what it makes this party hold, and copying stays linear. The frame's
/// charge ([`FRAME_COST`] plus its capacity) moves to the queue with [`FrameBuf::finish`] and is
/// released on drop otherwise.
#[derive(Debug)]
pub struct FrameBuf<'a> {
    budget: &'a LinkBudget,
    buf: Vec<u8>,
    filled: usize,
    len: usize,
    charged: usize,
}

impl<'a> FrameBuf<'a> {
    /// Starts a frame whose header announced `len` payload bytes; charges only [`FRAME_COST`].
    pub fn new(budget: &'a LinkBudget, len: usize) -> Result<Self> {
        budget.charge(FRAME_COST)?;
        Ok(Self { budget, buf: Vec::new(), filled: 0, len, charged: FRAME_COST })
    }

    /// Payload bytes that have arrived.
    pub fn received(&self) -> usize {
        self.filled
    }

    /// Whether the whole announced payload has arrived.
    pub fn is_complete(&self) -> bool {
        self.filled == self.len
    }

    /// Room for the next bytes, growing (and charging) the buffer when it is full.
    pub fn spare(&mut self) -> Result<&mut [u8]> {
        if self.filled == self.buf.len() && self.filled < self.len {
            let step = self.filled.max(MIN_GROWTH).min(self.len - self.filled);
            self.budget.charge(step)?;
            self.charged += step;
            self.buf.reserve_exact(step);
            self.buf.resize(self.filled + step, 0);
        }
        Ok(&mut self.buf[self.filled..])
    }

    /// Records that `n` bytes were written at the start of [`FrameBuf::spare`].
    pub fn advance(&mut self, n: usize) {
        self.filled = (self.filled + n).min(self.buf.len());
    }

    /// The complete payload; its charge stays until `recv` releases it with [`queued_cost`].
    pub fn finish(mut self) -> Vec<u8> {
        let keep = queued_cost(self.filled);
        self.budget.release(self.charged.saturating_sub(keep));
        self.charged = 0;
        self.buf.truncate(self.filled);
        std::mem::take(&mut self.buf)
    }
}

impl Drop for FrameBuf<'_> {
    fn drop(&mut self) {
        self.budget.release(self.charged);
    }
}

/// What a queued frame of `len` payload bytes is charged, to release when `recv` hands it out.
pub fn queued_cost(len: usize) -> usize {
    len.saturating_add(FRAME_COST)
}
