//! How a gate turns its one-channel score map into attention coefficients.

use fanaroff_nn::Result;
use fanaroff_tensor::Tensor;
use serde::{Deserialize, Serialize};

/// Normalisation of the gate's score map `psi` `[N, 1, H, W]`, per image
/// except `RangeBatch`.
///
/// | variant | alpha | range |
/// |---|---|---|
/// | `Softmax` | `exp(psi) / sum exp(psi)` over the H x W positions | sums to 1 (the paper's best) |
/// | `Sigmoid` | `1 / (1 + exp(-psi))` | (0, 1) per position |
/// | `Range` | `(psi - min) / (max - min + eps)` over the image | [0, 1] |
/// | `StdMean` | `(psi - mean) / sqrt(var + eps^2)` | zero mean, unit std (the paper's worst) |
/// | `RangeBatch` | as `Range` with min and max over the whole batch | [0, 1] over the batch (the study code's range: one image's attention depends on the others in its batch and on the batch size) |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalisation {
    /// Softmax over the spatial positions.
    #[default]
    Softmax,
    /// Element-wise sigmoid.
    Sigmoid,
    /// Min-max scaling to [0, 1].
    Range,
    /// Standardisation to zero mean and unit standard deviation.
    StdMean,
    /// Min-max scaling over the whole batch (the study code's `range_norm`).
    RangeBatch,
}

/// Added to denominators of `Range` and `StdMean`.
const EPS: f32 = 1e-6;

impl Normalisation {
    /// The paper's four in its order, then the study code's batch range.
    pub const ALL: [Normalisation; 5] = [
        Normalisation::Softmax,
        Normalisation::Sigmoid,
        Normalisation::Range,
        Normalisation::StdMean,
        Normalisation::RangeBatch,
    ];

    /// Short name for tables (`softmax`, `sigmoid`, `range`, `std_mean`,
    /// `range_batch`).
    pub fn name(self) -> &'static str {
        match self {
            Normalisation::Softmax => "softmax",
            Normalisation::Sigmoid => "sigmoid",
            Normalisation::Range => "range",
            Normalisation::StdMean => "std_mean",
            Normalisation::RangeBatch => "range_batch",
        }
    }

    /// Attention coefficients `[N, 1, H, W]` from scores `[N, 1, H, W]`.
    ///
    /// # Errors
    /// Shape errors for another input rank.
    pub fn apply(self, psi: &Tensor) -> Result<Tensor> {
        let s = psi.shape().to_vec();
        let flat = psi.reshape(&[s[0], s[1] * s[2] * s[3]])?;
        let out = match self {
            Normalisation::Softmax => flat.softmax(1)?,
            Normalisation::Sigmoid => flat.sigmoid(),
            Normalisation::Range => min_max(&flat)?,
            Normalisation::RangeBatch => min_max(&flat.reshape(&[1, flat.len()])?)?,
            Normalisation::StdMean => {
                let centred = flat.sub(&flat.mean_axes(&[1], true)?)?;
                let var = centred.square().mean_axes(&[1], true)?;
                centred.div(&var.add_scalar(EPS * EPS).sqrt())?
            }
        };
        Ok(out.reshape(&s)?)
    }
}

/// `(x - min) / (max - min + eps)` with min and max along axis 1 of `[R, L]`.
fn min_max(flat: &Tensor) -> Result<Tensor> {
    let max = flat.max_axis(1, true)?;
    let min = flat.neg().max_axis(1, true)?.neg();
    Ok(flat.sub(&min)?.div(&max.sub(&min)?.add_scalar(EPS))?)
}
