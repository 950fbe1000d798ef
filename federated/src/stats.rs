//! Per-phase traffic: the channel counters between two points of a protocol run.

use std::time::{Duration, Instant};

use tessera_mpc::{Channel, ChannelStats};

/// What one phase (setup, training, prediction) put on the wire, as seen by one party.
#[derive(Clone, Debug, PartialEq)]
pub struct PhaseStats {
    /// Phase name.
    pub phase: &'static str,
    /// Traffic during the phase.
    pub traffic: ChannelStats,
    /// Wall time of the phase.
    pub elapsed: Duration,
}

/// Starts measuring a phase on `ch`.
pub(crate) struct PhaseTimer {
    phase: &'static str,
    start: ChannelStats,
    started: Instant,
}

impl PhaseTimer {
    pub(crate) fn start(phase: &'static str, ch: &dyn Channel) -> Self {
        Self { phase, start: ch.stats(), started: Instant::now() }
    }

    /// The counters' difference, except that a phase which sent anything counts at least one
    /// round: the channel counts a round when a send follows a receive, so a phase that opens
    /// with a send right after the previous phase's last send (one-message prediction after
    /// training) would otherwise show none.
    pub(crate) fn finish(self, ch: &dyn Channel) -> PhaseStats {
        let mut traffic = ch.stats() - self.start;
        if traffic.messages_sent > 0 {
            traffic.rounds = traffic.rounds.max(1);
        }
        PhaseStats { phase: self.phase, traffic, elapsed: self.started.elapsed() }
    }
}

/// Sums phases by name (e.g. both parties' "train" traffic).
pub fn total_bytes(phases: &[PhaseStats], phase: &str) -> u64 {
    phases.iter().filter(|p| p.phase == phase).map(|p| p.traffic.bytes_sent).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_mpc::PartyId;
    use tessera_mpc::harness::run_in_memory;

    #[test]
    fn a_phase_that_only_continues_a_send_run_still_counts_one_round() {
        let runs = run_in_memory(2, |ch| {
            if ch.party().0 == 0 {
                let first = PhaseTimer::start("train", ch);
                ch.send(PartyId(1), b"last training message")?;
                let first = first.finish(ch);
                let second = PhaseTimer::start("predict", ch);
                ch.send(PartyId(1), b"one-message prediction")?;
                let second = second.finish(ch);
                let idle = PhaseTimer::start("idle", ch).finish(ch);
                Ok::<_, tessera_mpc::Error>(vec![first, second, idle])
            } else {
                ch.recv(PartyId(0))?;
                ch.recv(PartyId(0))?;
                Ok(vec![])
            }
        });
        let phases = runs.into_iter().next().unwrap().output.unwrap();
        let rounds: Vec<u64> = phases.iter().map(|p| p.traffic.rounds).collect();
        // The channel alone counts 1, 0, 0: the second send continues the first's run.
        assert_eq!(rounds, [1, 1, 0]);
        assert_eq!(phases[1].traffic.messages_sent, 1);
    }
}
