//! Party identifiers.

use std::fmt;

/// The index of a party in a computation, from 0 to n − 1.
///
/// A newtype so a party index cannot be confused with a count, a length or a share value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PartyId(pub u16);

impl PartyId {
    /// The index as a `usize`, for indexing per-party arrays.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// All parties of an `n`-party computation in order.
    pub fn all(n: usize) -> impl Iterator<Item = PartyId> + Clone {
        (0..n).map(|i| PartyId(i as u16))
    }
}

impl fmt::Display for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{}", self.0)
    }
}

impl From<u16> for PartyId {
    fn from(v: u16) -> Self {
        PartyId(v)
    }
}
