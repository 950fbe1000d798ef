//! 2-D convolution as one matrix product after **im2col** (Chellapilla–Puri–Simard, "High
//! performance convolutional neural networks for document processing", IWFHR 2006, §2.1): each
//! output pixel's receptive field becomes a row of a patch matrix, so a convolution is
//! `patches (OH·OW × KH·KW·C_in) · kernel (KH·KW·C_in × C_out)`, served by a matrix triple of that
//! shape ([`Conv2dShape::matmul_shape`]) or, without one, by element-wise triples.
//!
//! im2col on shares is local and exact: every patch entry is an input share (value and MAC share
//! copied) or a padding zero (shares and MAC shares zero), so the MAC relation holds on the patch
//! matrix. The price of this choice, against a convolution-specific triple (Rivinius–Reisert–
//! Rausch–Küsters, PETS 2023): the online product opens the patch matrix minus the triple's `A`,
//! about `KH·KW / stride²` times the input's size, and the triple is that much larger.
//!
//! Layouts, row-major: input `H × W × C_in`, kernel `KH × KW × C_in × C_out` (already the
//! `KH·KW·C_in × C_out` matrix), output `OH × OW × C_out` with
//! `OH = (H + 2·padding − KH) / stride + 1` (likewise `OW`).

use tessera_mpc::Field;

use super::MAX_DIMENSION;
use crate::spdz::Shared;
use crate::{Error, Result};

/// The shape of a 2-D convolution with channels, stride and zero padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2dShape {
    /// Input rows `H`.
    pub height: usize,
    /// Input columns `W`.
    pub width: usize,
    /// Input channels `C_in`.
    pub in_channels: usize,
    /// Output channels `C_out`.
    pub out_channels: usize,
    /// Kernel rows `KH`.
    pub kernel_height: usize,
    /// Kernel columns `KW`.
    pub kernel_width: usize,
    /// Step between receptive fields, both directions.
    pub stride: usize,
    /// Zeros added on every side.
    pub padding: usize,
}

impl Conv2dShape {
    /// Checks the shape and returns `(OH, OW)`.
    pub fn output_size(&self) -> Result<(usize, usize)> {
        let dims = [
            self.height,
            self.width,
            self.in_channels,
            self.out_channels,
            self.kernel_height,
            self.kernel_width,
            self.stride,
        ];
        if dims.iter().any(|&d| d == 0 || d > MAX_DIMENSION) || self.padding > MAX_DIMENSION {
            return Err(Error::Misuse(format!("convolution shape {self:?}")));
        }
        let out = |size: usize, k: usize| -> Result<usize> {
            let padded = size + 2 * self.padding;
            if k > padded {
                return Err(Error::Misuse(format!(
                    "kernel larger than the padded input: {self:?}"
                )));
            }
            Ok((padded - k) / self.stride + 1)
        };
        Ok((out(self.height, self.kernel_height)?, out(self.width, self.kernel_width)?))
    }

    /// The matrix product `(m, k, n) = (OH·OW, KH·KW·C_in, C_out)` the convolution becomes.
    pub fn matmul_shape(&self) -> Result<(usize, usize, usize)> {
        let (oh, ow) = self.output_size()?;
        let m = oh * ow;
        let k = self.kernel_height * self.kernel_width * self.in_channels;
        if m > MAX_DIMENSION * MAX_DIMENSION || k > MAX_DIMENSION * MAX_DIMENSION {
            return Err(Error::Misuse(format!("convolution too large: {self:?}")));
        }
        Ok((m, k, self.out_channels))
    }

    /// Input elements `H·W·C_in`.
    pub fn input_len(&self) -> usize {
        self.height * self.width * self.in_channels
    }

    /// Kernel elements `KH·KW·C_in·C_out`.
    pub fn kernel_len(&self) -> usize {
        self.kernel_height * self.kernel_width * self.in_channels * self.out_channels
    }
}

/// For each patch-matrix entry, the input index it copies (`None`: padding).
fn patch_sources(s: &Conv2dShape) -> Result<Vec<Option<usize>>> {
    let (oh, ow) = s.output_size()?;
    let mut out = Vec::with_capacity(oh * ow * s.kernel_height * s.kernel_width * s.in_channels);
    for oy in 0..oh {
        for ox in 0..ow {
            for dy in 0..s.kernel_height {
                for dx in 0..s.kernel_width {
                    let y = (oy * s.stride + dy).checked_sub(s.padding).filter(|&y| y < s.height);
                    let x = (ox * s.stride + dx).checked_sub(s.padding).filter(|&x| x < s.width);
                    for c in 0..s.in_channels {
                        out.push(match (y, x) {
                            (Some(y), Some(x)) => Some((y * s.width + x) * s.in_channels + c),
                            _ => None,
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The patch matrix of a public input (plaintext reference and tests).
pub fn im2col_plain<F: Field>(input: &[F], shape: &Conv2dShape) -> Result<Vec<F>> {
    if input.len() != shape.input_len() {
        return Err(Error::Misuse(format!("convolution input of {} elements", input.len())));
    }
    patch_sources(shape)?
        .into_iter()
        .map(|src| Ok(src.and_then(|i| input.get(i).copied()).unwrap_or(F::ZERO)))
        .collect()
}

/// The patch matrix of a shared input: values and MAC shares gathered alike, padding zero.
pub(crate) fn im2col_shared<F: Field>(input: &Shared<F>, shape: &Conv2dShape) -> Result<Shared<F>> {
    if input.len() != shape.input_len() {
        return Err(Error::Misuse(format!("convolution input of {} elements", input.len())));
    }
    let sources = patch_sources(shape)?;
    let gather = |xs: &[F]| -> Vec<F> {
        sources.iter().map(|src| src.and_then(|i| xs.get(i).copied()).unwrap_or(F::ZERO)).collect()
    };
    Ok(Shared::from_parts(gather(&input.value), gather(&input.mac)))
}

#[cfg(test)]
mod tests {
    use tessera_mpc::{Fp127, Ring};

    use super::*;

    #[test]
    fn shapes_follow_the_output_size_formula() {
        let s = Conv2dShape {
            height: 32,
            width: 32,
            in_channels: 16,
            out_channels: 16,
            kernel_height: 3,
            kernel_width: 3,
            stride: 1,
            padding: 1,
        };
        assert_eq!(s.matmul_shape().unwrap(), (1024, 144, 16));
        let s2 = Conv2dShape { stride: 2, padding: 0, ..s };
        assert_eq!(s2.output_size().unwrap(), (15, 15));
        assert!(Conv2dShape { kernel_height: 40, ..s2 }.output_size().is_err());
        assert!(Conv2dShape { stride: 0, ..s }.output_size().is_err());
    }

    #[test]
    fn padding_entries_are_zero_and_the_rest_are_copies() {
        let s = Conv2dShape {
            height: 2,
            width: 2,
            in_channels: 1,
            out_channels: 1,
            kernel_height: 3,
            kernel_width: 3,
            stride: 1,
            padding: 1,
        };
        let input: Vec<Fp127> = (1..=4).map(Fp127::from_u64).collect();
        let p = im2col_plain(&input, &s).unwrap();
        assert_eq!(p.len(), 4 * 9);
        // Output (0, 0): the window centred on input (0, 0).
        let first: Vec<u64> = p[..9].iter().map(|v| v.to_u128() as u64).collect();
        assert_eq!(first, [0, 0, 0, 0, 1, 2, 0, 3, 4]);
    }
}
