//! Authenticated additive shares: SPDZ's `[x]`.
//!
//! Party i holds a share x_i of every value and a share m_i of its MAC, with Σ x_i = x and
//! Σ m_i = α·x for the global key α = Σ α_i that nobody knows. Linear operations are local; a party
//! that changes its x_i or m_i without knowing α is caught by the MAC check with probability
//! 1 − 1/p.

use tessera_mpc::Field;
use tessera_mpc::field::slice;

use crate::{Error, Result};

/// This party's shares of a vector of secret values, with their MAC shares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shared<F> {
    pub(crate) value: Vec<F>,
    pub(crate) mac: Vec<F>,
}

impl<F: Field> Shared<F> {
    /// Builds shares from value and MAC shares of equal length.
    pub(crate) fn from_parts(value: Vec<F>, mac: Vec<F>) -> Self {
        debug_assert_eq!(value.len(), mac.len());
        Self { value, mac }
    }

    /// An empty vector.
    pub fn empty() -> Self {
        Self { value: Vec::new(), mac: Vec::new() }
    }

    /// The number of shared values.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether no values are held.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// The shares of elements `range`.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Result<Self> {
        if range.end > self.len() || range.start > range.end {
            return Err(Error::Misuse(format!("slice {range:?} of a vector of {}", self.len())));
        }
        Ok(Self { value: self.value[range.clone()].to_vec(), mac: self.mac[range].to_vec() })
    }

    /// The shares of `parts` laid end to end.
    pub fn concat(parts: &[&Self]) -> Self {
        let mut out = Self::empty();
        for p in parts {
            out.value.extend_from_slice(&p.value);
            out.mac.extend_from_slice(&p.mac);
        }
        out
    }

    /// Appends elements `range` of `other` (a caller bug if out of range).
    pub(crate) fn extend_from(&mut self, other: &Self, range: std::ops::Range<usize>) {
        self.value.extend_from_slice(&other.value[range.clone()]);
        self.mac.extend_from_slice(&other.mac[range]);
    }

    /// The shares of element `i` repeated `n` times (for broadcasting a scalar over a vector).
    pub fn repeat(&self, i: usize, n: usize) -> Result<Self> {
        if i >= self.len() {
            return Err(Error::Misuse(format!("index {i} of a vector of {}", self.len())));
        }
        Ok(Self { value: vec![self.value[i]; n], mac: vec![self.mac[i]; n] })
    }

    /// This party's value shares (not secret-revealing on their own, but not the value either).
    pub fn value_shares(&self) -> &[F] {
        &self.value
    }

    fn check_len(&self, other: usize) -> Result<()> {
        if self.len() != other {
            return Err(Error::Misuse(format!("vector lengths differ: {} vs {other}", self.len())));
        }
        Ok(())
    }

    /// `[x + y]`, local.
    pub fn add(&self, other: &Self) -> Result<Self> {
        self.check_len(other.len())?;
        Ok(Self {
            value: slice::add(&self.value, &other.value),
            mac: slice::add(&self.mac, &other.mac),
        })
    }

    /// `[x − y]`, local.
    pub fn sub(&self, other: &Self) -> Result<Self> {
        self.check_len(other.len())?;
        Ok(Self {
            value: slice::sub(&self.value, &other.value),
            mac: slice::sub(&self.mac, &other.mac),
        })
    }

    /// `[−x]`, local.
    pub fn neg(&self) -> Self {
        Self {
            value: self.value.iter().map(|v| -*v).collect(),
            mac: self.mac.iter().map(|v| -*v).collect(),
        }
    }

    /// `[k·x]` for a public scalar `k`, local.
    pub fn scale(&self, k: F) -> Self {
        Self {
            value: self.value.iter().map(|v| *v * k).collect(),
            mac: self.mac.iter().map(|v| *v * k).collect(),
        }
    }

    /// `[c_i·x_i]` for public `c`, element-wise, local.
    pub fn mul_public(&self, c: &[F]) -> Result<Self> {
        self.check_len(c.len())?;
        Ok(Self { value: slice::mul(&self.value, c), mac: slice::mul(&self.mac, c) })
    }

    /// `[x + c]` for public `c`: party 0 adds `c` to its share, every party adds `α_i·c` to its
    /// MAC share, so the MAC relation keeps holding.
    pub(crate) fn add_public(&self, c: &[F], alpha_i: F, is_first: bool) -> Result<Self> {
        self.check_len(c.len())?;
        let mut out = self.clone();
        if is_first {
            slice::add_assign(&mut out.value, c);
        }
        slice::add_scaled(&mut out.mac, alpha_i, c);
        Ok(out)
    }

    /// `Σ_i k_i·[x_i]`: a public linear combination of the elements.
    pub fn linear_combination(&self, k: &[F]) -> Result<Self> {
        self.check_len(k.len())?;
        Ok(Self {
            value: vec![slice::inner_product(&self.value, k)],
            mac: vec![slice::inner_product(&self.mac, k)],
        })
    }

    /// `[Σ x_i]`, the sum of all elements.
    pub fn sum(&self) -> Self {
        Self {
            value: vec![self.value.iter().copied().sum()],
            mac: vec![self.mac.iter().copied().sum()],
        }
    }
}
