//! The ledger service's request/response protocol: one QUIC bidirectional stream per request,
//! carrying one request (client → server, then the client finishes its side) and one response
//! (server → client), both in the ledger's canonical bounded encoding
//! ([`tessera_ledger::codec`]) behind a version byte.
//!
//! Requests: `Hello` (which DID this connection speaks for; the server checks the TLS key),
//! `Info` (the genesis), `Tip` (latest certified header), `State` (a state receipt: DID documents,
//! nonces, data sets, grants, job records), `FreshState` (the same from a block at a minimum
//! height, else [`ErrorCode::Behind`]), `TxReceipt` and `Submit` (a signed transaction, sealed
//! into a block; the answer is its receipt), `Audit` (an audit query, supervisors only; the answer
//! carries receipts the client checks with [`tessera_ledger::audit::verify_answer`]) and
//! `JobEvidence` (the receipts showing a job's grants, for `tessera verify`). Every answer that
//! carries ledger data is a receipt or a certified header, so the client checks it against the
//! validator set itself. Sizes are bounded on both sides ([`MAX_REQUEST`], [`MAX_RESPONSE`]);
//! anything that does not decode is a typed [`ErrorCode::Malformed`] answer, never a panic.

use tessera_ledger::audit::{Answer, JobEvidence, Query};
use tessera_ledger::codec::{MAX_ID_LEN, MAX_TX_BYTES, Reader, Writer};
use tessera_ledger::{
    BlockHeader, CommitCertificate, Decode, Did, Encode, Hash32, Receipt, StateKey, Transaction,
};

use crate::error::{Error, Result};

/// Protocol version byte that starts every message.
pub const VERSION: u8 = 1;
/// Largest request: a maximal transaction plus framing.
pub const MAX_REQUEST: usize = MAX_TX_BYTES + 1024;
/// Largest response (receipts carry state values of up to 1 MiB and their proofs).
pub const MAX_RESPONSE: usize = 4 << 20;
/// Longest error message.
const MAX_MESSAGE: usize = 1024;
/// Longest genesis file.
const MAX_GENESIS: usize = 256 * 1024;
/// Longest identifier inside a state key (a `did:key` string fits).
const MAX_KEY_PART: usize = 256;

/// A request to the ledger service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// The DID this connection acts for; must come first.
    Hello {
        /// A `did:tessera` DID.
        did: Did,
    },
    /// The genesis (trust anchor) as JSON.
    Info,
    /// The latest certified header.
    Tip,
    /// A state receipt for a key at the latest certified block.
    State(StateKey),
    /// [`Request::State`] from a block at `min_height` or above: a service whose tip is lower
    /// answers [`ErrorCode::Behind`] instead of an old receipt (the client checks the height of
    /// what it gets either way).
    FreshState {
        /// The entry.
        key: StateKey,
        /// Lowest acceptable block height.
        min_height: u64,
    },
    /// The receipt of a transaction.
    TxReceipt(Hash32),
    /// Seal a signed transaction into a block.
    Submit(Box<Transaction>),
    /// An audit query (supervisors only).
    Audit(Box<Query>),
    /// The evidence that a job's inputs were authorised (members).
    JobEvidence(String),
    /// Instead of [`Request::Hello`]: this connection recovers `did` with its `backup`, from a
    /// new home whose TLS key the DID's document does not carry yet. The service admits it only
    /// while the backup's recovery key controls the DID, and then only for the reads recovery
    /// needs and the rotation that key approves (see [`crate::ledgerserve`]).
    RecoveryHello {
        /// The `did:tessera` DID being recovered.
        did: Did,
        /// The backup id.
        backup: String,
    },
}

/// Why the service refused or failed a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ErrorCode {
    /// No `Hello` yet on this connection.
    Unauthenticated = 1,
    /// The connection's identity may not do this (or its certificate is not its DID's).
    Forbidden = 2,
    /// The request did not decode.
    Malformed = 3,
    /// The request exceeded [`MAX_REQUEST`].
    TooLarge = 4,
    /// The ledger rejected the transaction.
    Rejected = 5,
    /// The entry does not exist.
    NotFound = 6,
    /// No block is certified yet (a fresh ledger): no state receipt can be issued.
    NoBlockYet = 7,
    /// The ledger is busy.
    Busy = 8,
    /// Anything else on the server.
    Internal = 9,
    /// Audit queries are for the ledger's supervisors only.
    NotSupervisor = 10,
    /// The service's ledger is below the height the client demands.
    Behind = 11,
}

impl ErrorCode {
    fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => Self::Unauthenticated,
            2 => Self::Forbidden,
            3 => Self::Malformed,
            4 => Self::TooLarge,
            5 => Self::Rejected,
            6 => Self::NotFound,
            7 => Self::NoBlockYet,
            8 => Self::Busy,
            9 => Self::Internal,
            10 => Self::NotSupervisor,
            11 => Self::Behind,
            _ => return None,
        })
    }
}

/// A response of the ledger service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// The request was refused or failed.
    Error {
        /// Why.
        code: ErrorCode,
        /// Human-readable detail.
        message: String,
    },
    /// Hello accepted: `member` if the DID is on the ledger with this certificate's key, else a
    /// newcomer that may only publish its own DID document (or, answering
    /// [`Request::RecoveryHello`], a recovery connection: `member` is false).
    Hello {
        /// Whether the DID is already registered.
        member: bool,
    },
    /// The genesis file.
    Info {
        /// Genesis JSON.
        genesis_json: String,
    },
    /// The latest header and (above genesis) its certificate.
    Tip {
        /// Header.
        header: BlockHeader,
        /// Certificate (none at height 0).
        certificate: Option<CommitCertificate>,
    },
    /// A receipt.
    Receipt(Receipt),
    /// An audit answer.
    Answer(Box<Answer>),
    /// A job's grant evidence.
    Evidence(Box<JobEvidence>),
}

impl Response {
    /// An error response.
    pub fn error(code: ErrorCode, message: impl std::fmt::Display) -> Self {
        let mut message = message.to_string();
        if message.len() > MAX_MESSAGE {
            let mut end = MAX_MESSAGE;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        Self::Error { code, message }
    }
}

fn encode_key(w: &mut Writer, k: &StateKey) {
    match k {
        StateKey::Did(s) => {
            w.u8(1);
            w.str(s);
        }
        StateKey::Nonce(s) => {
            w.u8(2);
            w.str(s);
        }
        StateKey::DataSet(s) => {
            w.u8(3);
            w.str(s);
        }
        StateKey::Grant { dataset, grant } => {
            w.u8(4);
            w.str(dataset);
            w.str(grant);
        }
        StateKey::Job(s) => {
            w.u8(5);
            w.str(s);
        }
        StateKey::Org(s) => {
            w.u8(6);
            w.str(s);
        }
        StateKey::Validators => w.u8(7),
        StateKey::Governance => w.u8(8),
        StateKey::Supervisors => w.u8(9),
        StateKey::Recovery { did, backup } => {
            w.u8(10);
            w.str(did);
            w.str(backup);
        }
    }
}

fn decode_key(r: &mut Reader<'_>) -> tessera_ledger::Result<StateKey> {
    Ok(match r.u8()? {
        1 => StateKey::Did(r.string(MAX_KEY_PART)?),
        2 => StateKey::Nonce(r.string(MAX_KEY_PART)?),
        3 => StateKey::DataSet(r.string(MAX_KEY_PART)?),
        4 => StateKey::Grant { dataset: r.string(MAX_KEY_PART)?, grant: r.string(MAX_KEY_PART)? },
        5 => StateKey::Job(r.string(MAX_KEY_PART)?),
        6 => StateKey::Org(r.string(MAX_KEY_PART)?),
        7 => StateKey::Validators,
        8 => StateKey::Governance,
        9 => StateKey::Supervisors,
        10 => StateKey::Recovery { did: r.string(MAX_KEY_PART)?, backup: r.string(MAX_KEY_PART)? },
        _ => return Err(tessera_ledger::Error::Malformed("state key tag")),
    })
}

fn malformed(e: tessera_ledger::Error) -> Error {
    Error::invalid("ledger service message", e)
}

fn check_version(r: &mut Reader<'_>) -> Result<()> {
    match r.u8().map_err(malformed)? {
        VERSION => Ok(()),
        v => Err(Error::invalid("ledger service message", format!("protocol version {v}"))),
    }
}

impl Request {
    /// The wire bytes.
    pub fn to_wire(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(VERSION);
        match self {
            Self::Hello { did } => {
                w.u8(1);
                did.encode(&mut w);
            }
            Self::Info => w.u8(2),
            Self::Tip => w.u8(3),
            Self::State(k) => {
                w.u8(4);
                encode_key(&mut w, k);
            }
            Self::TxReceipt(id) => {
                w.u8(5);
                w.raw(id);
            }
            Self::Submit(tx) => {
                w.u8(6);
                tx.encode(&mut w);
            }
            Self::Audit(q) => {
                w.u8(7);
                q.encode(&mut w);
            }
            Self::JobEvidence(job) => {
                w.u8(8);
                w.str(job);
            }
            Self::FreshState { key, min_height } => {
                w.u8(9);
                encode_key(&mut w, key);
                w.u64(*min_height);
            }
            Self::RecoveryHello { did, backup } => {
                w.u8(10);
                did.encode(&mut w);
                w.str(backup);
            }
        }
        w.into_bytes()
    }

    /// Decodes untrusted bytes (bounded by [`MAX_REQUEST`]).
    pub fn from_wire(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_REQUEST {
            return Err(Error::invalid("ledger service message", "request too large"));
        }
        let mut r = Reader::new(bytes);
        check_version(&mut r)?;
        let req = match r.u8().map_err(malformed)? {
            1 => Self::Hello { did: Did::decode(&mut r).map_err(malformed)? },
            2 => Self::Info,
            3 => Self::Tip,
            4 => Self::State(decode_key(&mut r).map_err(malformed)?),
            5 => Self::TxReceipt(r.array::<32>().map_err(malformed)?),
            6 => Self::Submit(Box::new(Transaction::decode(&mut r).map_err(malformed)?)),
            7 => Self::Audit(Box::new(Query::decode(&mut r).map_err(malformed)?)),
            8 => Self::JobEvidence(r.string(MAX_ID_LEN).map_err(malformed)?),
            9 => Self::FreshState {
                key: decode_key(&mut r).map_err(malformed)?,
                min_height: r.u64().map_err(malformed)?,
            },
            10 => Self::RecoveryHello {
                did: Did::decode(&mut r).map_err(malformed)?,
                backup: r.string(MAX_ID_LEN).map_err(malformed)?,
            },
            t => return Err(Error::invalid("ledger service message", format!("request tag {t}"))),
        };
        r.finish().map_err(malformed)?;
        Ok(req)
    }
}

impl Response {
    /// The wire bytes.
    pub fn to_wire(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(VERSION);
        match self {
            Self::Error { code, message } => {
                w.u8(0);
                w.u8(*code as u8);
                w.str(message);
            }
            Self::Hello { member } => {
                w.u8(1);
                w.bool(*member);
            }
            Self::Info { genesis_json } => {
                w.u8(2);
                w.str(genesis_json);
            }
            Self::Tip { header, certificate } => {
                w.u8(3);
                header.encode(&mut w);
                w.option(certificate.as_ref());
            }
            Self::Receipt(rc) => {
                w.u8(4);
                rc.encode(&mut w);
            }
            Self::Answer(a) => {
                w.u8(5);
                a.encode(&mut w);
            }
            Self::Evidence(e) => {
                w.u8(6);
                e.encode(&mut w);
            }
        }
        w.into_bytes()
    }

    /// Decodes untrusted bytes (bounded by [`MAX_RESPONSE`]).
    pub fn from_wire(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_RESPONSE {
            return Err(Error::invalid("ledger service message", "response too large"));
        }
        let mut r = Reader::new(bytes);
        check_version(&mut r)?;
        let resp = match r.u8().map_err(malformed)? {
            0 => {
                let code = r.u8().map_err(malformed)?;
                let code = ErrorCode::from_u8(code).ok_or_else(|| {
                    Error::invalid("ledger service message", format!("error code {code}"))
                })?;
                Self::Error { code, message: r.string(MAX_MESSAGE).map_err(malformed)? }
            }
            1 => Self::Hello { member: r.bool().map_err(malformed)? },
            2 => Self::Info { genesis_json: r.string(MAX_GENESIS).map_err(malformed)? },
            3 => Self::Tip {
                header: BlockHeader::decode(&mut r).map_err(malformed)?,
                certificate: r.option().map_err(malformed)?,
            },
            4 => Self::Receipt(Receipt::decode(&mut r).map_err(malformed)?),
            5 => Self::Answer(Box::new(Answer::decode(&mut r).map_err(malformed)?)),
            6 => Self::Evidence(Box::new(JobEvidence::decode(&mut r).map_err(malformed)?)),
            t => {
                return Err(Error::invalid("ledger service message", format!("response tag {t}")));
            }
        };
        r.finish().map_err(malformed)?;
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_ledger::{KeyPair, KeyRef, SignatureSuite, TxBody};

    fn samples() -> Vec<Request> {
        let k = KeyPair::generate(SignatureSuite::Ed25519).unwrap();
        let did = Did::tessera("alice").unwrap();
        let tx = Transaction::sign(
            &[7; 32],
            KeyRef::new(did.clone(), "key-1"),
            3,
            TxBody::Revoke { dataset: "d".into(), grant: "g".into() },
            &k,
        );
        vec![
            Request::Hello { did },
            Request::Info,
            Request::Tip,
            Request::State(StateKey::Grant { dataset: "d".into(), grant: "g".into() }),
            Request::State(StateKey::Nonce("did:tessera:alice".into())),
            Request::TxReceipt([9; 32]),
            Request::Submit(Box::new(tx)),
            Request::State(StateKey::Supervisors),
            Request::State(StateKey::Recovery { did: "alice".into(), backup: "b1".into() }),
            Request::Audit(Box::new(Query::ByDid {
                did: Did::tessera("bob").unwrap(),
                page: tessera_ledger::audit::Page { after: Some(vec![1; 12]), limit: 50 },
            })),
            Request::Audit(Box::new(Query::GrantHistory {
                dataset: "d".into(),
                grant: "g".into(),
                page: tessera_ledger::audit::Page::first(10),
            })),
            Request::JobEvidence("job-1".into()),
            Request::FreshState { key: StateKey::Did("alice".into()), min_height: 1 << 40 },
            Request::RecoveryHello { did: Did::tessera("alice").unwrap(), backup: "b1".into() },
        ]
    }

    #[test]
    fn requests_round_trip_and_garbage_is_a_typed_error() {
        for req in samples() {
            let bytes = req.to_wire();
            assert_eq!(Request::from_wire(&bytes).unwrap(), req);
            // Every truncation and a trailing byte are refused without panicking.
            for cut in 0..bytes.len() {
                assert!(matches!(Request::from_wire(&bytes[..cut]), Err(Error::Invalid { .. })));
            }
            let mut long = bytes.clone();
            long.push(0);
            assert!(Request::from_wire(&long).is_err());
            let mut v2 = bytes.clone();
            v2[0] = 2;
            assert!(Request::from_wire(&v2).is_err());
        }
        assert!(Request::from_wire(&vec![1u8; MAX_REQUEST + 1]).is_err());
        let r = Response::error(ErrorCode::Forbidden, "x".repeat(5000));
        let back = Response::from_wire(&r.to_wire()).unwrap();
        assert!(
            matches!(back, Response::Error { code: ErrorCode::Forbidden, message } if message.len() == 1024)
        );
        let a = Response::Answer(Box::new(Answer { items: vec![], next: Some(vec![7; 12]) }));
        let bytes = a.to_wire();
        assert_eq!(Response::from_wire(&bytes).unwrap(), a);
        for cut in 0..bytes.len() {
            assert!(Response::from_wire(&bytes[..cut]).is_err());
        }
        let nf = Response::error(ErrorCode::NotSupervisor, "no");
        assert_eq!(Response::from_wire(&nf.to_wire()).unwrap(), nf);
        for b in 0..=255u8 {
            let _ = Response::from_wire(&[VERSION, 0, b, 0, 0, 0, 0]);
            let _ = Response::from_wire(&[VERSION, 5, b, 0, 0, 0, 0, 1]);
            let _ = Request::from_wire(&[VERSION, b, 0, 0]);
        }
    }
}
