//! The adversarial channel wrapper against the coin toss: reflection and replay are refused,
//! rushing sees the honest message first, and equivocation splits the honest views.

use std::time::Duration;

use tessera_mpc::channel::adversary::{self, Action, Rule, Tamper};
use tessera_mpc::coin::Coins;
use tessera_mpc::harness::run_on;
use tessera_mpc::{Channel, ChannelConfig, Error, PartyId, Seed, SessionId};

fn network(n: usize, cheater_rules: impl Fn(PartyId) -> Vec<Rule>) -> Vec<Box<dyn Channel>> {
    let config = ChannelConfig { recv_timeout: Duration::from_secs(2), ..ChannelConfig::default() };
    adversary::network(n, config, cheater_rules)
}

/// Two coin tosses in one session; returns both seeds.
fn two_tosses(ch: &mut dyn Channel) -> Result<(Seed, Seed), Error> {
    let mut coins = Coins::new(SessionId::from_bytes([9; 32]));
    let a = coins.toss(ch, "t")?;
    let b = coins.toss(ch, "t")?;
    Ok((a, b))
}

#[test]
fn a_reflected_commitment_is_refused() {
    for n in [2, 3] {
        let runs = run_on(
            network(n, |p| {
                if p == PartyId(1) { vec![Rule::on("t", Action::Reflect)] } else { Vec::new() }
            }),
            |ch| two_tosses(&mut **ch),
        );
        // Every honest party stops: with the reflection error, or (with three parties) because
        // the other honest party stopped first and left.
        let mut caught = 0;
        for run in runs.iter().filter(|r| r.party != PartyId(1)) {
            match run.output {
                Err(Error::Reflected { peer: PartyId(1), step: "t" }) => caught += 1,
                Err(Error::PeerDisconnected { .. }) if n == 3 => {}
                ref other => panic!("n={n} {}: {other:?}", run.party),
            }
        }
        assert!(caught > 0, "n={n}: nobody caught the reflection");
    }
}

#[test]
fn a_replayed_toss_does_not_open() {
    let runs = run_on(
        network(2, |p| {
            if p == PartyId(1) {
                vec![Rule::on("t", Action::Replay { occurrence: 0 }).occurrence(1)]
            } else {
                Vec::new()
            }
        }),
        |ch| two_tosses(&mut **ch),
    );
    assert!(
        matches!(runs[0].output, Err(Error::OpeningMismatch { peer: PartyId(1), step: "t" })),
        "{:?}",
        runs[0].output
    );
}

#[test]
fn a_rushing_rewrite_sees_the_honest_message_first() {
    // The cheater's commitment is the honest one with one bit flipped: it waited for it.
    let runs = run_on(
        network(2, |p| {
            if p == PartyId(1) {
                vec![
                    Rule::on(
                        "t",
                        Action::Rewrite {
                            rush: true,
                            f: Box::new(|t: &Tamper<'_>| {
                                let mut m = t.rushed.expect("rushed").to_vec();
                                m[0] ^= 1;
                                m
                            }),
                        },
                    )
                    .message(0),
                ]
            } else {
                Vec::new()
            }
        }),
        |ch| two_tosses(&mut **ch),
    );
    // Its own opening then matches nothing it committed to.
    assert!(matches!(runs[0].output, Err(Error::OpeningMismatch { .. })), "{:?}", runs[0].output);
}

#[test]
fn honest_parties_without_a_cheater_agree() {
    let runs = run_on(network(3, |_| Vec::new()), |ch| two_tosses(&mut **ch));
    let first = runs[0].output.as_ref().map(|s| s.0.0).ok();
    assert!(first.is_some());
    for r in &runs {
        assert_eq!(r.output.as_ref().map(|s| s.0.0).ok(), first);
    }
}
