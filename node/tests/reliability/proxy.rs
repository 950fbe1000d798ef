//! A shaping UDP relay on loopback (no root, no `tc netem`): a node publishes the relay's
//! address and listens behind it, so every QUIC packet to and from that node crosses the relay,
//! which drops each datagram with probability `loss` and delays the rest by `latency` plus up to
//! `jitter` (so packets also reorder). The shape can change while a job runs (a blackout is
//! `loss = 1`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::UdpSocket;

/// Loss and delay of every datagram, in both directions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Shape {
    pub(crate) latency: Duration,
    pub(crate) jitter: Duration,
    pub(crate) loss: f64,
}

impl Shape {
    pub(crate) fn new(latency_ms: u64, jitter_ms: u64, loss: f64) -> Self {
        Self {
            latency: Duration::from_millis(latency_ms),
            jitter: Duration::from_millis(jitter_ms),
            loss,
        }
    }
}

struct State {
    shape: Mutex<Shape>,
    rng: Mutex<u64>,
    passed: AtomicU64,
    dropped: AtomicU64,
}

impl State {
    /// `None`: drop it; otherwise the delay to apply.
    fn fate(&self) -> Option<Duration> {
        let shape = *self.shape.lock().unwrap();
        let (a, b) = {
            let mut r = self.rng.lock().unwrap();
            let mut draw = || {
                *r = r.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = *r;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
            };
            (draw(), draw())
        };
        if a < shape.loss {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        self.passed.fetch_add(1, Ordering::Relaxed);
        Some(shape.latency + shape.jitter.mul_f64(b))
    }
}

/// A running relay; stops when dropped.
pub(crate) struct Proxy {
    pub(crate) front: SocketAddr,
    state: Arc<State>,
    rt: Option<tokio::runtime::Runtime>,
}

impl Proxy {
    /// Relays datagrams sent to [`Proxy::front`] to `upstream` and its answers back.
    pub(crate) fn start(upstream: SocketAddr, seed: u64) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let front = Arc::new(rt.block_on(UdpSocket::bind("127.0.0.1:0")).unwrap());
        let addr = front.local_addr().unwrap();
        let state = Arc::new(State {
            shape: Mutex::new(Shape::new(0, 0, 0.0)),
            rng: Mutex::new(seed),
            passed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        });
        rt.spawn(relay(front, upstream, state.clone()));
        Self { front: addr, state, rt: Some(rt) }
    }

    pub(crate) fn set(&self, shape: Shape) {
        *self.state.shape.lock().unwrap() = shape;
    }

    /// Datagrams passed and dropped so far.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.state.passed.load(Ordering::Relaxed), self.state.dropped.load(Ordering::Relaxed))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// Sends `data` through `sock` (to `to`, or to its connected peer) after the shaped delay.
fn forward(state: &Arc<State>, sock: Arc<UdpSocket>, data: Vec<u8>, to: Option<SocketAddr>) {
    let Some(delay) = state.fate() else { return };
    tokio::spawn(async move {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let _ = match to {
            Some(a) => sock.send_to(&data, a).await,
            None => sock.send(&data).await,
        };
    });
}

async fn relay(front: Arc<UdpSocket>, upstream: SocketAddr, state: Arc<State>) {
    // One upstream socket per client, so the node's answers find their way back.
    let mut clients: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
    let mut buf = vec![0u8; 65_536];
    loop {
        let Ok((n, from)) = front.recv_from(&mut buf).await else { continue };
        let up = match clients.get(&from) {
            Some(u) => u.clone(),
            None => {
                let Ok(u) = UdpSocket::bind("127.0.0.1:0").await else { continue };
                if u.connect(upstream).await.is_err() {
                    continue;
                }
                let u = Arc::new(u);
                let (back, front2, st) = (u.clone(), front.clone(), state.clone());
                tokio::spawn(async move {
                    let mut b = vec![0u8; 65_536];
                    loop {
                        match back.recv(&mut b).await {
                            Ok(k) => forward(&st, front2.clone(), b[..k].to_vec(), Some(from)),
                            // An ICMP "port unreachable" while the node is between jobs.
                            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                        }
                    }
                });
                clients.insert(from, u.clone());
                u
            }
        };
        forward(&state, up, buf[..n].to_vec(), None);
    }
}
