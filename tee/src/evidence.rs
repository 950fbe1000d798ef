//! Evidence as it arrives from a prover: one variant per kind of TEE, and its wire encoding.
//!
//! ```text
//! "TTEE" | version 1 | kind | fields, each as u32_le(length) || bytes
//!   kind 1 SGX, 2 TDX:   quote, collateral JSON
//!   kind 3 SEV-SNP:      product (1 byte: 1 Milan, 2 Genoa, 3 Turin), report, VCEK (DER)
//!   kind 0x7F simulated: encoded SimulatedEvidence (decoded only with `insecure-simulated`)
//! ```
//!
//! Decoding checks every length against the bytes present and the per-field limits before
//! allocating, and leaves all cryptographic checks to the [`Verifier`](crate::Verifier).

pub use crate::amd::SnpEvidence;
pub use crate::intel::DcapEvidence;

use crate::claims::Platform;
use crate::error::{Result, TeeError};
use crate::policy::AmdProduct;

const MAGIC: &[u8; 4] = b"TTEE";
const VERSION: u8 = 1;
const KIND_SGX: u8 = 1;
const KIND_TDX: u8 = 2;
const KIND_SNP: u8 = 3;
const KIND_SIMULATED: u8 = 0x7F;
/// Largest encoded evidence accepted (real evidence is under 40 KiB).
pub const MAX_EVIDENCE_LEN: usize = 2 * 1024 * 1024;

/// Attestation evidence of any supported kind.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub enum Evidence {
    /// An Intel SGX DCAP quote (version 3) with its collateral.
    Sgx(DcapEvidence),
    /// An Intel TDX DCAP quote (version 4 or 5) with its collateral.
    Tdx(DcapEvidence),
    /// An AMD SEV-SNP report with the chip's VCEK.
    SevSnp(SnpEvidence),
    /// Evidence from the simulated backend: **insecure**, anyone can forge it.
    #[cfg(feature = "insecure-simulated")]
    Simulated(crate::simulated::SimulatedEvidence),
}

fn product_byte(p: AmdProduct) -> u8 {
    match p {
        AmdProduct::Milan => 1,
        AmdProduct::Genoa => 2,
        AmdProduct::Turin => 3,
    }
}

fn push_field(out: &mut Vec<u8>, field: &[u8]) -> Result<()> {
    let len = u32::try_from(field.len())
        .map_err(|_| TeeError::InvalidArgument("evidence field longer than 4 GiB"))?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(field);
    Ok(())
}

/// A cursor over untrusted bytes that never reads past the end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn bad(why: &'static str) -> TeeError {
        TeeError::malformed("evidence encoding", why)
    }

    fn byte(&mut self) -> Result<u8> {
        let (b, rest) = self.0.split_first().ok_or(Self::bad("truncated"))?;
        self.0 = rest;
        Ok(*b)
    }

    fn field(&mut self) -> Result<&'a [u8]> {
        let (len, rest) = self.0.split_first_chunk::<4>().ok_or(Self::bad("truncated length"))?;
        let len = usize::try_from(u32::from_le_bytes(*len)).map_err(|_| Self::bad("length"))?;
        if len > rest.len() {
            return Err(Self::bad("field longer than the input"));
        }
        let (field, rest) = rest.split_at(len);
        self.0 = rest;
        Ok(field)
    }
}

impl Evidence {
    /// The platform this evidence claims to come from.
    pub fn platform(&self) -> Platform {
        match self {
            Self::Sgx(_) => Platform::IntelSgx,
            Self::Tdx(_) => Platform::IntelTdx,
            Self::SevSnp(_) => Platform::AmdSevSnp,
            #[cfg(feature = "insecure-simulated")]
            Self::Simulated(_) => Platform::Simulated,
        }
    }

    /// Encodes the evidence for transport (module docs give the format).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = MAGIC.to_vec();
        out.push(VERSION);
        match self {
            Self::Sgx(e) | Self::Tdx(e) => {
                out.push(if matches!(self, Self::Sgx(_)) { KIND_SGX } else { KIND_TDX });
                push_field(&mut out, e.quote())?;
                push_field(&mut out, &e.collateral_json()?)?;
            }
            Self::SevSnp(e) => {
                out.push(KIND_SNP);
                out.push(product_byte(e.product()));
                push_field(&mut out, e.report())?;
                push_field(&mut out, e.vcek_der())?;
            }
            #[cfg(feature = "insecure-simulated")]
            Self::Simulated(e) => {
                out.push(KIND_SIMULATED);
                push_field(&mut out, &e.to_bytes())?;
            }
        }
        Ok(out)
    }

    /// Decodes [`to_bytes`](Self::to_bytes) output from an untrusted peer.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_EVIDENCE_LEN {
            return Err(Reader::bad("longer than 2 MiB"));
        }
        let (magic, rest) = bytes.split_first_chunk::<4>().ok_or(Reader::bad("truncated"))?;
        if magic != MAGIC {
            return Err(Reader::bad("wrong magic"));
        }
        let mut r = Reader(rest);
        if r.byte()? != VERSION {
            return Err(Reader::bad("unknown version"));
        }
        let evidence = match r.byte()? {
            kind @ (KIND_SGX | KIND_TDX) => {
                let quote = r.field()?.to_vec();
                let dcap = DcapEvidence::new(quote, r.field()?)?;
                if kind == KIND_SGX { Self::Sgx(dcap) } else { Self::Tdx(dcap) }
            }
            KIND_SNP => {
                let product = match r.byte()? {
                    1 => AmdProduct::Milan,
                    2 => AmdProduct::Genoa,
                    3 => AmdProduct::Turin,
                    _ => return Err(Reader::bad("unknown AMD product")),
                };
                let report = r.field()?.to_vec();
                Self::SevSnp(SnpEvidence::new(report, r.field()?.to_vec(), product)?)
            }
            #[cfg(feature = "insecure-simulated")]
            KIND_SIMULATED => {
                Self::Simulated(crate::simulated::SimulatedEvidence::from_bytes(r.field()?)?)
            }
            #[cfg(not(feature = "insecure-simulated"))]
            KIND_SIMULATED => {
                return Err(Reader::bad(
                    "simulated evidence (this build has no simulated backend)",
                ));
            }
            _ => return Err(Reader::bad("unknown evidence kind")),
        };
        if !r.0.is_empty() {
            return Err(Reader::bad("trailing bytes"));
        }
        Ok(evidence)
    }
}
