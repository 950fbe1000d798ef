//! Three parties on TCP loopback secret-share private inputs and open only their sum.
//!
//! `cargo run --release -p tessera-mpc --example three_party_sum`

use tessera_mpc::harness::{Transport, run_parties};
use tessera_mpc::{Channel, ChannelConfig, Field, Fp127, Prg, Ring, share};

/// Each party's private salary-like input (a vector, shared element-wise).
fn private_input(party: usize) -> Vec<Fp127> {
    (0..1000u64).map(|i| Fp127::from_u64(1000 * (party as u64 + 1) + i)).collect()
}

fn party_program(ch: &mut dyn Channel) -> Result<Vec<Fp127>, tessera_mpc::Error> {
    let me = ch.party().index();
    let n = ch.num_parties();
    let mut prg = Prg::from_entropy();
    let input = private_input(me);
    // 1. Split my input into n additive shares and hand one to each peer.
    let shares = share::share(&input, n, &mut prg)?;
    for peer in ch.peers() {
        ch.send(peer, &Fp127::encode_slice(&shares[peer.index()]))?;
    }
    // 2. Add up the shares I hold: my share of the sum of all inputs.
    let mut sum_share = shares[me].clone();
    for peer in ch.peers() {
        let theirs = Fp127::decode_exact(&ch.recv(peer)?, input.len())?;
        tessera_mpc::field::slice::add_assign(&mut sum_share, &theirs);
    }
    // 3. Open the sum: everyone broadcasts their share of it.
    ch.broadcast(&Fp127::encode_slice(&sum_share))?;
    let mut all = vec![Vec::new(); n];
    all[me] = sum_share;
    for peer in ch.peers() {
        all[peer.index()] = Fp127::decode_exact(&ch.recv(peer)?, input.len())?;
    }
    share::reconstruct(&all)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs = run_parties(3, Transport::TcpLoopback, ChannelConfig::default(), party_program)?;
    let expected: Vec<Fp127> = (0..1000u64).map(|i| Fp127::from_u64(6000 + 3 * i)).collect();
    for run in &runs {
        let sum = run.output.as_ref().map_err(|e| e.to_string())?;
        assert_eq!(sum, &expected, "party {} opened a wrong sum", run.party);
        println!(
            "{}: sum[0] = {}, sum[999] = {}; sent {} bytes in {} messages, {} rounds, {:.2?}",
            run.party,
            Field::to_u128(&sum[0]),
            Field::to_u128(&sum[999]),
            run.stats.bytes_sent,
            run.stats.messages_sent,
            run.stats.rounds,
            run.elapsed
        );
    }
    println!("all 3 parties agree on the sum of 1000-element private vectors over TCP loopback");
    Ok(())
}
