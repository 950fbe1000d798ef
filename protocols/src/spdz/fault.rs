//! Deliberate misbehaviour, for tests that check cheaters are caught (feature `test-faults`).

/// A way for one party to cheat. Each is applied once per affected operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Add 1 to this party's value share whenever it broadcasts shares to open a value.
    OpenShareOffset,
    /// Add 1 to this party's MAC shares of opened values before the MAC check.
    OpenMacOffset,
    /// As input owner, send the highest-numbered peer a masked input that differs from the one the
    /// other peers get (meaningful with three or more parties).
    InputEquivocation,
    /// Add 1 to this party's share of every `c` of the triples it uses online.
    TripleOffset,
    /// MASCOT: add 1 to this party's share of `c` during triple generation, before it is
    /// authenticated (a wrong triple with correct MACs, which only the sacrifice can catch).
    MascotTripleOffset,
    /// MASCOT: use a different value in one row of COPEe than in the others.
    MascotCopeeInconsistent,
    /// MASCOT: add (1, s) to this party's shares of c and ĉ of the first triple of each batch
    /// before they are authenticated, s the sacrifice coefficient that a zero sacrifice coin
    /// would give (what a cheater that fixed the coin by reflection would use): a wrong triple
    /// that passes the sacrifice with that s.
    MascotMatchedShift,
    /// MASCOT: as Gilboa sender, multiply the last limb of the first triple of each batch with
    /// b + 1 instead of b towards the highest-numbered peer: two different b's in one triple.
    MascotSplitB,
    /// VoleSpdz: add 1 to this party's share of `c` before it is authenticated.
    VoleSpdzTripleOffset,
    /// VoleSpdz: as value owner, authenticate x + 1 instead of x (the first value of each batch)
    /// towards the highest-numbered peer, keeping x as its own share.
    VoleSpdzInconsistentAuth,
    /// VoleSpdz: as [`Fault::MascotMatchedShift`], on VoleSpdz's c and ĉ.
    VoleSpdzMatchedShift,
    /// VoleSpdz: as [`Fault::MascotSplitB`], in VoleSpdz's Gilboa multiplications.
    VoleSpdzSplitB,
    /// Matrix triples: as evaluator, return an encryption of A_i·B_j − R + E (one entry of E is
    /// 1) while keeping −R as the share: a wrong product.
    MatrixWrongProduct,
    /// Matrix triples: as evaluator, multiply the peer's ciphertexts by A_i + E instead of the
    /// A_i that is then authenticated (an inconsistent left factor).
    MatrixWrongLeft,
    /// Matrix triples: add 1 to this party's share of C before it is authenticated.
    MatrixCorruptC,
}

/// Where a session or a preprocessing source keeps its injected fault; always empty unless the
/// `test-faults` feature is on.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FaultSlot {
    #[cfg(feature = "test-faults")]
    fault: Option<Fault>,
}

impl FaultSlot {
    /// Arms the slot with `fault`.
    #[cfg(feature = "test-faults")]
    pub(crate) fn set(&mut self, fault: Fault) {
        self.fault = Some(fault);
    }

    /// Whether this party should misbehave in the way `f` says.
    pub(crate) fn is(&self, f: Fault) -> bool {
        #[cfg(feature = "test-faults")]
        {
            self.fault == Some(f)
        }
        #[cfg(not(feature = "test-faults"))]
        {
            let _ = f;
            false
        }
    }
}
