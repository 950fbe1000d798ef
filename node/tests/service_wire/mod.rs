//! Helpers for the tests that speak the ledger service's wire protocol directly.

use tessera_node::home::Home;
use tessera_node::ledgerwire::{ErrorCode, Response};

/// The TLS key of `home`, as `LedgerSession::open` takes it.
pub(crate) fn tls_key(home: &Home) -> Vec<u8> {
    let hex_text = std::fs::read_to_string(home.dir.join("tls.key")).unwrap();
    hex::decode(hex_text.trim()).unwrap()
}

/// The code of a refusal (panics on any other answer).
pub(crate) fn code(r: Response) -> ErrorCode {
    match r {
        Response::Error { code, .. } => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}
