//! Reliability of the node and the ledger service (issue #20, items 3 and 4): jobs under load,
//! peers cut at random points of a job, lossy and slow links, and the ledger service killed
//! with SIGKILL under a stream of submissions. Each scenario has a small version that runs in
//! the normal test suite and an `#[ignore]`d soak whose figures docs/RELIABILITY.md records:
//!
//! ```text
//! cargo test -p tessera-node --release --test reliability -- --ignored --nocapture --test-threads=1
//! ```

mod cluster;
mod faults;
mod ledger_kill;
mod load;
mod lossy;
mod proxy;
