//! Named BFV parameter sets, each checked against the HomomorphicEncryption.org security
//! tables (Albrecht et al., "Homomorphic Encryption Standard", 2018, Table 1: classical
//! security, ternary secret, error σ ≈ 3.2): for 128-bit security `log q ≤ 54` at `N = 2048`,
//! `≤ 109` at `N = 4096`, `≤ 218` at `N = 8192`.

use tessera_accelerator::ntt_primes;

use crate::Error;

/// Bits of each RNS prime. Decryption's fixed-point scaling needs primes below 2^60.
pub const PRIME_BITS: u32 = 54;

/// Identifies a parameter set on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum BfvParamId {
    /// `N = 4096`, `log q ≈ 108` (2 × 54-bit primes), `t = 65537`: 128-bit security
    /// (bound 109). Packs 4096 values of up to 16 bits.
    N4096T65537 = 1,
    /// `N = 8192`, `log q ≈ 216` (4 × 54-bit primes), `t = 2^40`-range prime
    /// `≡ 1 mod 16384`: 128-bit security (bound 218). Room for scalar products of 40-bit values,
    /// e.g. SPDZ field elements in coefficient encoding.
    N8192T40 = 2,
    /// `N = 4096`, `log q ≈ 108` (2 × 54-bit primes), `t` the largest prime below `2^30` that
    /// is `≡ 1 mod 8192`: 128-bit security (bound 109). SIMD slots of 30 bits for sums of
    /// quantised values (SecureBoost's gradient histograms), with room (`Δ ≈ 2^78`) for a plaintext
    /// slot-mask product per ciphertext followed by thousands of additions and rotations.
    N4096T30 = 3,
}

/// A BFV parameter set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BfvParameters {
    /// Wire identifier.
    pub id: BfvParamId,
    /// Ring dimension `N` (power of two).
    pub n: usize,
    /// RNS primes `q_i ≡ 1 (mod 2N)`, each below `2^PRIME_BITS`.
    pub moduli: Vec<u64>,
    /// Plaintext modulus `t`.
    pub plaintext_modulus: u64,
    /// Classical security in bits from the HE standard table.
    pub security_bits: u32,
}

impl BfvParameters {
    /// The set named by `id`.
    pub fn from_id(id: BfvParamId) -> Result<Self, Error> {
        let bad = |_| Error::InvalidParameters("prime generation failed");
        Ok(match id {
            BfvParamId::N4096T65537 => Self {
                id,
                n: 4096,
                moduli: ntt_primes(PRIME_BITS, 4096, 2).map_err(bad)?,
                plaintext_modulus: 65_537,
                security_bits: 128,
            },
            BfvParamId::N8192T40 => Self {
                id,
                n: 8192,
                moduli: ntt_primes(PRIME_BITS, 8192, 4).map_err(bad)?,
                plaintext_modulus: ntt_primes(40, 8192, 1).map_err(bad)?[0],
                security_bits: 128,
            },
            BfvParamId::N4096T30 => Self {
                id,
                n: 4096,
                moduli: ntt_primes(PRIME_BITS, 4096, 2).map_err(bad)?,
                plaintext_modulus: ntt_primes(30, 4096, 1).map_err(bad)?[0],
                security_bits: 128,
            },
        })
    }

    /// Parses a wire identifier.
    pub fn id_from_byte(b: u8) -> Result<BfvParamId, Error> {
        match b {
            1 => Ok(BfvParamId::N4096T65537),
            2 => Ok(BfvParamId::N8192T40),
            3 => Ok(BfvParamId::N4096T30),
            _ => Err(Error::InvalidParameters("unknown BFV parameter id")),
        }
    }

    /// Bits of `q = Π q_i`.
    pub fn log_q(&self) -> u32 {
        self.moduli.iter().map(|&q| 64 - q.leading_zeros()).sum()
    }

    /// The HE-standard bound on `log q` for 128-bit classical security at this `N`.
    pub fn max_log_q_128(&self) -> Option<u32> {
        match self.n {
            1024 => Some(27),
            2048 => Some(54),
            4096 => Some(109),
            8192 => Some(218),
            16384 => Some(438),
            32768 => Some(881),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_sets_respect_the_security_table() {
        for id in [BfvParamId::N4096T65537, BfvParamId::N8192T40, BfvParamId::N4096T30] {
            let p = BfvParameters::from_id(id).unwrap();
            assert!(p.log_q() <= p.max_log_q_128().unwrap(), "{id:?}: log q = {}", p.log_q());
            assert_eq!(BfvParameters::id_from_byte(id as u8).unwrap(), id);
            for &q in &p.moduli {
                assert_eq!(q % (2 * p.n as u64), 1);
                assert!(q < 1 << PRIME_BITS);
            }
            // SIMD slots need a prime t ≡ 1 mod 2N.
            let t = p.plaintext_modulus;
            assert!(t == 65_537 || tessera_accelerator::is_prime(t), "{id:?}");
            assert_eq!(t % (2 * p.n as u64), 1, "{id:?}");
        }
        assert!(BfvParameters::id_from_byte(0).is_err());
    }
}
