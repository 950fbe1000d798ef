//! Every target, one module per crate (or family) whose decoders it drives.

pub mod federated;
pub mod federated_wire;
pub mod fhe;
pub mod ledger;
pub mod mpc;
pub mod node;
pub mod proto;
pub mod tee;
#[cfg(feature = "tfhe")]
pub mod tfhe;

use crate::Target;

/// All targets, in the order `run.sh` and the tests run them.
pub fn all() -> Vec<Target> {
    let mut out = Vec::new();
    out.extend(mpc::targets());
    out.extend(proto::targets());
    out.extend(fhe::targets());
    #[cfg(feature = "tfhe")]
    out.extend(tfhe::targets());
    out.extend(ledger::targets());
    out.extend(tee::targets());
    out.extend(node::targets());
    out.extend(federated::targets());
    out.extend(federated_wire::targets());
    out
}

/// The target called `name`.
pub fn by_name(name: &str) -> Option<Target> {
    all().into_iter().find(|t| t.name == name)
}
