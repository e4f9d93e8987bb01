//! Conformity scores of split conformal prediction: how unusual class `k`
//! is for an image with predicted probabilities `p`. Larger is less
//! conforming; a prediction set holds the classes whose score is at most
//! the calibrated threshold.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use ndarray::ArrayView1;

/// A conformity score.
///
/// With `o(k)` the 1-based rank of class `k` when the probabilities are
/// sorted in decreasing order (ties by class index) and `C(k)` the sum of
/// the probabilities ranked before `k`:
///
/// ```text
/// LAC   s(k) = 1 - p_k
/// APS   s(k) = C(k) + u p_k                       (u = 1, or U(0, 1) when randomised)
/// RAPS  s(k) = C(k) + u p_k + lambda max(0, o(k) - k_reg)
/// ```
///
/// LAC (least ambiguous set-valued classifier, Sadinle et al. 2019) gives
/// the smallest sets on average; APS (adaptive prediction sets, Romano et
/// al. 2020) adapts the set size to how spread the prediction is; RAPS
/// (Angelopoulos et al. 2021) penalises long tails of unlikely classes.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ConformityScore {
    /// `1 - p_k`.
    Lac,
    /// Adaptive prediction sets.
    Aps {
        /// Draw `u ~ U(0, 1)` per image (exact coverage) instead of `u = 1`.
        randomised: bool,
    },
    /// Regularised adaptive prediction sets.
    Raps {
        /// Penalty per rank beyond `k_reg`.
        lambda: f64,
        /// Ranks without penalty.
        k_reg: usize,
        /// Draw `u ~ U(0, 1)` per image instead of `u = 1`.
        randomised: bool,
    },
}

impl ConformityScore {
    /// Whether scoring draws a uniform number per image.
    pub fn is_randomised(&self) -> bool {
        match self {
            ConformityScore::Lac => false,
            ConformityScore::Aps { randomised } | ConformityScore::Raps { randomised, .. } => {
                *randomised
            }
        }
    }

    /// Checks the parameters.
    ///
    /// # Errors
    /// A negative or non-finite `lambda`.
    pub fn check(&self) -> Result<()> {
        match self {
            ConformityScore::Raps { lambda, .. } if !(lambda.is_finite() && *lambda >= 0.0) => {
                Err(Error::param("lambda", lambda, "must be finite and >= 0"))
            }
            _ => Ok(()),
        }
    }

    /// The scores of every class for one probability vector, with the
    /// uniform number `u` in `[0, 1]` (ignored by LAC; pass 1 for the
    /// non-randomised scores).
    pub fn scores(&self, p: ArrayView1<'_, f64>, u: f64) -> Vec<f64> {
        match *self {
            ConformityScore::Lac => p.iter().map(|&v| 1.0 - v).collect(),
            ConformityScore::Aps { .. } => adaptive(p, u, 0.0, 0),
            ConformityScore::Raps { lambda, k_reg, .. } => adaptive(p, u, lambda, k_reg),
        }
    }
}

/// APS / RAPS scores of every class.
fn adaptive(p: ArrayView1<'_, f64>, u: f64, lambda: f64, k_reg: usize) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    // decreasing probability, ties by class index (a stable sort)
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    let mut out = vec![0.0; p.len()];
    let mut before = 0.0;
    for (rank0, &k) in order.iter().enumerate() {
        let penalty = lambda * (rank0 + 1).saturating_sub(k_reg) as f64;
        out[k] = before + u * p[k] + penalty;
        before += p[k];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::arr1;

    #[test]
    fn scores_by_hand() {
        let p = arr1(&[0.2, 0.5, 0.3]);
        assert_eq!(
            ConformityScore::Lac.scores(p.view(), 1.0),
            vec![0.8, 0.5, 0.7]
        );
        let aps = ConformityScore::Aps { randomised: false }.scores(p.view(), 1.0);
        // ranks: class 1 (0.5), class 2 (0.3), class 0 (0.2)
        for (got, want) in aps.iter().zip([1.0, 0.5, 0.8]) {
            assert!((got - want).abs() < 1e-12, "{aps:?}");
        }
        let half = ConformityScore::Aps { randomised: true }.scores(p.view(), 0.5);
        for (got, want) in half.iter().zip([0.9, 0.25, 0.65]) {
            assert!((got - want).abs() < 1e-12, "{half:?}");
        }
        let raps = ConformityScore::Raps {
            lambda: 0.1,
            k_reg: 1,
            randomised: false,
        };
        for (got, want) in raps.scores(p.view(), 1.0).iter().zip([1.2, 0.5, 0.9]) {
            assert!((got - want).abs() < 1e-12);
        }
        assert!(
            ConformityScore::Raps {
                lambda: -1.0,
                k_reg: 0,
                randomised: false
            }
            .check()
            .is_err()
        );
    }
}
