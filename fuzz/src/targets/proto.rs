//! Protocol messages: an honest party of base OT, KOS and SoftSpoken OT extension, the SPDZ
//! online phase, the TEE dealer (both sides) and ECDH-PSI, facing peers whose every message is
//! replayed from a fuzzed transcript.
//!
//! Seeds are real transcripts: the protocol runs between honest parties on a memory network
//! and the messages the party under test received are recorded. With the honest party's
//! randomness fixed, the unmutated transcript replays exactly (where the protocol takes no
//! fresh entropy), so mutations reach every later check. The party must end in `Ok` or a typed
//! error, never panic, never allocate beyond the cap, and never wait: a [`Scripted`] channel
//! answers a receive past the end of the transcript with `PeerDisconnected`.
//!
//! Transcript encoding: frames of `from u8 | len u16 LE | bytes` (a length past the end takes
//! what is left).

use std::collections::VecDeque;
use std::sync::OnceLock;

use tessera_mpc::channel::memory_network;
use tessera_mpc::{
    Channel, ChannelConfig, ChannelStats, Error as MpcError, Fp127, PartyId, Prg,
    Result as MpcResult, Ring, Seed, SessionId,
};
use tessera_ot::{base, kos, softspoken};
use tessera_protocols::psi::ecdh_psi;
use tessera_protocols::spdz::insecure_dealer::InsecureDealer;
use tessera_protocols::spdz::{ComputingChannel, Session, TeeDealer, TeeDealerPrep};

use crate::target::{Target, Verdict};

type F = Fp127;

/// A channel whose peers' messages come from a transcript; what this party sends is dropped.
pub struct Scripted {
    me: PartyId,
    n: usize,
    inbox: Vec<VecDeque<Vec<u8>>>,
}

impl Scripted {
    /// Party `me` of `n`, receiving the frames of `transcript`.
    pub fn new(me: PartyId, n: usize, transcript: &[u8]) -> Self {
        let mut inbox = vec![VecDeque::new(); n];
        let peers: Vec<usize> = (0..n).filter(|&i| i != me.index()).collect();
        let mut rest = transcript;
        while let Some((head, body)) = rest.split_first_chunk::<3>() {
            let from = peers[usize::from(head[0]) % peers.len()];
            let len = usize::from(u16::from_le_bytes([head[1], head[2]])).min(body.len());
            inbox[from].push_back(body[..len].to_vec());
            rest = &body[len..];
        }
        Self { me, n, inbox }
    }
}

impl Channel for Scripted {
    fn party(&self) -> PartyId {
        self.me
    }
    fn num_parties(&self) -> usize {
        self.n
    }
    fn send(&mut self, to: PartyId, _payload: &[u8]) -> MpcResult<()> {
        if to == self.me || to.index() >= self.n {
            return Err(MpcError::Misuse("bad peer"));
        }
        Ok(())
    }
    fn recv(&mut self, from: PartyId) -> MpcResult<Vec<u8>> {
        if from == self.me || from.index() >= self.n {
            return Err(MpcError::Misuse("bad peer"));
        }
        self.inbox[from.index()].pop_front().ok_or(MpcError::PeerDisconnected { peer: from })
    }
    fn stats(&self) -> ChannelStats {
        ChannelStats::default()
    }
}

/// Wraps a real channel and records every message it receives, as a transcript.
struct Recorder<'a> {
    inner: &'a mut dyn Channel,
    log: Vec<u8>,
}

impl Channel for Recorder<'_> {
    fn party(&self) -> PartyId {
        self.inner.party()
    }
    fn num_parties(&self) -> usize {
        self.inner.num_parties()
    }
    fn send(&mut self, to: PartyId, payload: &[u8]) -> MpcResult<()> {
        self.inner.send(to, payload)
    }
    fn recv(&mut self, from: PartyId) -> MpcResult<Vec<u8>> {
        let msg = self.inner.recv(from)?;
        // Peer index among the others, in order: the inverse of `Scripted::new`'s mapping.
        let me = self.inner.party().index();
        let slot = if from.index() > me { from.index() - 1 } else { from.index() };
        self.log.push(slot as u8);
        self.log.extend_from_slice(&(msg.len().min(u16::MAX as usize) as u16).to_le_bytes());
        self.log.extend_from_slice(&msg);
        Ok(msg)
    }
    fn stats(&self) -> ChannelStats {
        self.inner.stats()
    }
    fn begin_step(&mut self, step: &'static str) {
        self.inner.begin_step(step)
    }
}

/// One protocol role under test.
type Role = fn(&mut dyn Channel) -> Result<(), String>;

/// Runs `roles[i]` as party `i` on a memory network, recording what party `under_test` received.
fn capture(roles: &[Role], under_test: usize) -> Vec<u8> {
    let chans = memory_network(roles.len(), ChannelConfig::default());
    let mut log = Vec::new();
    std::thread::scope(|s| {
        let mut handles = Vec::new();
        for (i, mut ch) in chans.into_iter().enumerate() {
            let role = roles[i];
            handles.push(s.spawn(move || {
                if i == under_test {
                    let mut rec = Recorder { inner: &mut ch, log: Vec::new() };
                    let r = role(&mut rec);
                    (r, rec.log)
                } else {
                    (role(&mut ch), Vec::new())
                }
            }));
        }
        for (i, h) in handles.into_iter().enumerate() {
            let (r, l) = h.join().expect("capture thread");
            r.unwrap_or_else(|e| panic!("honest capture run failed at party {i}: {e}"));
            if i == under_test {
                log = l;
            }
        }
    });
    log
}

const SID: [u8; 32] = [0x5e; 32];

fn prg(party: usize) -> Prg {
    Prg::from_seed(&Seed([party as u8 + 1; 16]))
}

fn sid() -> SessionId {
    SessionId::from_bytes(SID)
}

const CHOICES: [bool; 8] = [true, false, false, true, true, true, false, true];

fn base_sender(ch: &mut dyn Channel) -> Result<(), String> {
    let peer = PartyId(1 - ch.party().0);
    base::send(ch, peer, CHOICES.len(), &sid(), &mut prg(ch.party().index()))
        .map(drop)
        .map_err(|e| e.to_string())
}

fn base_receiver(ch: &mut dyn Channel) -> Result<(), String> {
    let peer = PartyId(1 - ch.party().0);
    base::receive(ch, peer, &CHOICES, &sid(), &mut prg(ch.party().index()))
        .map(drop)
        .map_err(|e| e.to_string())
}

const EXT_N: usize = 200;

fn kos_sender(ch: &mut dyn Channel) -> Result<(), String> {
    let peer = PartyId(1 - ch.party().0);
    let mut s = kos::Sender::setup(ch, peer, &sid(), &mut prg(ch.party().index()))
        .map_err(|e| e.to_string())?;
    s.random(ch, EXT_N).map(drop).map_err(|e| e.to_string())
}

fn kos_receiver(ch: &mut dyn Channel) -> Result<(), String> {
    let peer = PartyId(1 - ch.party().0);
    let mut r = kos::Receiver::setup(ch, peer, &sid(), &mut prg(ch.party().index()))
        .map_err(|e| e.to_string())?;
    r.random(ch, EXT_N).map(drop).map_err(|e| e.to_string())
}

fn ss_sender(ch: &mut dyn Channel) -> Result<(), String> {
    let peer = PartyId(1 - ch.party().0);
    let mut s = softspoken::Sender::setup(ch, peer, 4, &sid(), &mut prg(ch.party().index()))
        .map_err(|e| e.to_string())?;
    s.correlated(ch, EXT_N).map(drop).map_err(|e| e.to_string())
}

fn ss_receiver(ch: &mut dyn Channel) -> Result<(), String> {
    let peer = PartyId(1 - ch.party().0);
    let mut r = softspoken::Receiver::setup(ch, peer, 4, &sid(), &mut prg(ch.party().index()))
        .map_err(|e| e.to_string())?;
    let choices: Vec<bool> = (0..EXT_N).map(|i| i % 3 == 0).collect();
    r.correlated(ch, &choices).map(drop).map_err(|e| e.to_string())
}

fn spdz_online(ch: &mut dyn Channel) -> Result<(), String> {
    let (me, n) = (ch.party(), ch.num_parties());
    let mut s = Session::<F, _>::new(ch, InsecureDealer::new(&Seed([9; 16]), me, n));
    let mine = [F::from_u64(3), F::from_u64(4)];
    let x = s
        .input(PartyId(0), (me == PartyId(0)).then_some(&mine[..]), 2)
        .map_err(|e| e.to_string())?;
    let y = s
        .input(PartyId(1), (me == PartyId(1)).then_some(&mine[..]), 2)
        .map_err(|e| e.to_string())?;
    let z = s.mul(&x, &y).map_err(|e| e.to_string())?;
    let out = s.output(&z).map_err(|e| e.to_string())?;
    s.check().map_err(|e| e.to_string())?;
    // Both parties input [3, 4]: an output that passed the MAC checks must be the product.
    // (Panics, not an error: a wrong output accepted is a broken property.)
    assert_eq!(out, [F::from_u64(9), F::from_u64(16)], "SPDZ accepted a wrong output");
    Ok(())
}

fn tee_party(ch: &mut dyn Channel) -> Result<(), String> {
    let prep = TeeDealerPrep::<F>::setup(ch).map_err(|e| e.to_string())?;
    let me = ch.party();
    let out = {
        let mut view = ComputingChannel::new(ch);
        let mut s = Session::new(&mut view, prep);
        let v = [F::from_u64(5)];
        let x = s
            .input(PartyId(0), (me == PartyId(0)).then_some(&v[..]), 1)
            .map_err(|e| e.to_string())?;
        let y = s.mul(&x, &x).map_err(|e| e.to_string())?;
        let out = s.output(&y).map_err(|e| e.to_string())?;
        assert_eq!(out, [F::from_u64(25)], "TEE-dealer SPDZ accepted a wrong output");
        s.into_preprocessing()
    };
    out.finish(ch).map_err(|e| e.to_string())
}

fn tee_dealer(ch: &mut dyn Channel) -> Result<(), String> {
    let mut d = TeeDealer::<F>::setup(ch).map_err(|e| e.to_string())?;
    d.serve(ch).map(drop).map_err(|e| e.to_string())
}

fn psi(ch: &mut dyn Channel) -> Result<(), String> {
    let peer = PartyId(1 - ch.party().0);
    let ids: Vec<String> = (0..6).map(|i| format!("row-{}", i + ch.party().index())).collect();
    ecdh_psi(ch, peer, &ids).map(drop).map_err(|e| e.to_string())
}

/// A protocol case: its roles, which one is under test (honest), and its party count.
struct Case {
    roles: &'static [Role],
    under_test: usize,
}

const OT_CASES: &[Case] = &[
    Case { roles: &[base_sender, base_receiver], under_test: 0 },
    Case { roles: &[base_sender, base_receiver], under_test: 1 },
    Case { roles: &[kos_sender, kos_receiver], under_test: 0 },
    Case { roles: &[kos_sender, kos_receiver], under_test: 1 },
    Case { roles: &[ss_sender, ss_receiver], under_test: 0 },
    Case { roles: &[ss_sender, ss_receiver], under_test: 1 },
];

const SPDZ_CASES: &[Case] = &[
    Case { roles: &[spdz_online, spdz_online], under_test: 0 },
    Case { roles: &[tee_party, tee_party, tee_dealer], under_test: 0 },
    Case { roles: &[tee_party, tee_party, tee_dealer], under_test: 1 },
    Case { roles: &[tee_party, tee_party, tee_dealer], under_test: 2 },
    Case { roles: &[psi, psi], under_test: 0 },
];

fn seeds_of(cases: &'static [Case], cache: &'static OnceLock<Vec<Vec<u8>>>) -> Vec<Vec<u8>> {
    cache
        .get_or_init(|| {
            cases
                .iter()
                .enumerate()
                .map(|(i, c)| [&[i as u8][..], &capture(c.roles, c.under_test)].concat())
                .collect()
        })
        .clone()
}

fn run_case(cases: &[Case], data: &[u8]) -> Verdict {
    let Some((&which, transcript)) = data.split_first() else {
        return Verdict::Rejected("empty".into());
    };
    let case = &cases[usize::from(which) % cases.len()];
    let me = PartyId(case.under_test as u16);
    let mut ch = Scripted::new(me, case.roles.len(), transcript);
    match (case.roles[case.under_test])(&mut ch) {
        Ok(()) => Verdict::Accepted,
        Err(e) => Verdict::Rejected(e),
    }
}

fn check_ot(data: &[u8]) -> Verdict {
    run_case(OT_CASES, data)
}

fn check_spdz(data: &[u8]) -> Verdict {
    run_case(SPDZ_CASES, data)
}

/// The protocol targets.
pub fn targets() -> Vec<Target> {
    static OT: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    static SPDZ: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    vec![
        Target {
            name: "ot_messages",
            about: "base OT, KOS and SoftSpoken (k = 4) setup and extension, both roles, vs a scripted peer",
            seeds: || seeds_of(OT_CASES, &OT),
            check: check_ot,
            max_len: 256 << 10,
            dict: &[],
            alloc_fixed: 8 << 20,
            ci_execs: 200,
        },
        Target {
            name: "spdz_messages",
            about: "SPDZ online (input, mul, output, MAC check), TEE dealer (party and dealer), ECDH-PSI, vs scripted peers",
            seeds: || seeds_of(SPDZ_CASES, &SPDZ),
            check: check_spdz,
            max_len: 64 << 10,
            dict: &[],
            alloc_fixed: 8 << 20,
            ci_execs: 200,
        },
    ]
}
