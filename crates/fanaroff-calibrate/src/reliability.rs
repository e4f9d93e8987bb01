//! Reliability-diagram data: the per-bin statistics behind every binned
//! calibration error (ECE, MCE, classwise ECE, UCE), and their PNG rendering.
//!
//! A diagram pairs a *score* in `[0, 1]` (confidence, a class probability or
//! a normalised uncertainty) with a 0/1 *outcome* (correct, class present or
//! error). A perfectly calibrated score has `mean outcome = mean score` in
//! every bin.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::binning::Binning;
use crate::error::{Error, Result};

/// What a diagram's score and outcome are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum DiagramKind {
    /// Score = top-label confidence `max_k p_k`, outcome = correct (ECE).
    Confidence,
    /// Score = `p_k` of one class, outcome = `1[y = k]` (classwise ECE).
    Class(usize),
    /// Score = normalised entropy `H / ln K`, outcome = error (UCE).
    Uncertainty,
    /// Any other score / outcome pair given to [`binned_calibration`].
    Custom,
}

/// Statistics of one bin.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct BinStat {
    /// Lower edge of the bin.
    pub lower: f64,
    /// Upper edge of the bin.
    pub upper: f64,
    /// Number of values in the bin, `|b|`.
    pub count: usize,
    /// Mean score in the bin (mean confidence or mean uncertainty);
    /// `None` for an empty bin.
    pub mean_score: Option<f64>,
    /// Mean outcome in the bin (accuracy or error rate); `None` if empty.
    pub mean_outcome: Option<f64>,
}

impl BinStat {
    /// `|mean outcome - mean score|`, or `None` for an empty bin.
    pub fn gap(&self) -> Option<f64> {
        Some((self.mean_outcome? - self.mean_score?).abs())
    }
}

/// Per-bin statistics plus the summary calibration errors.
///
/// ```text
/// CE  = sum_b (|b| / N) | outcome_b - score_b |     (ECE for confidence, UCE for uncertainty)
/// MCE = max over non-empty bins | outcome_b - score_b |
/// ```
///
/// Empty bins contribute nothing to either sum or max.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ReliabilityDiagram {
    /// What the score and outcome are.
    pub kind: DiagramKind,
    /// The binning used.
    pub binning: Binning,
    /// Number of values `N`.
    pub n: usize,
    /// One entry per bin, in increasing score order (`B` entries).
    pub bins: Vec<BinStat>,
    /// The expected calibration error `CE` above.
    pub calibration_error: f64,
    /// The maximum calibration error `MCE` above.
    pub max_calibration_error: f64,
}

/// Bin `scores` and compare the per-bin mean score with the mean outcome.
///
/// This is the engine behind [`ece`](fn@crate::ece), [`uce`](fn@crate::uce) and
/// [`classwise_ece`](crate::classwise_ece); call it directly to calibrate
/// any other `[0, 1]` score against any 0/1 outcome.
///
/// ```text
/// score_b   = (1/|b|) sum_{n in b} score_n
/// outcome_b = (1/|b|) sum_{n in b} outcome_n
/// CE        = sum_b (|b| / N) | outcome_b - score_b |
/// ```
///
/// # Errors
/// [`Error::Empty`] for no values, [`Error::ShapeMismatch`] if the lengths
/// differ, [`Error::InvalidParameter`] for a score outside `[0, 1]`,
/// [`Error::NonFinite`] for a NaN score.
///
/// # Example
/// ```
/// use approx::assert_abs_diff_eq;
/// use fanaroff_calibrate::{binned_calibration, Binning, DiagramKind};
/// // one bin: mean score 0.75, mean outcome 0.5 -> CE = 0.25
/// let d = binned_calibration(&[0.7, 0.8], &[true, false], Binning::new(1).unwrap(), DiagramKind::Custom).unwrap();
/// assert_abs_diff_eq!(d.calibration_error, 0.25, epsilon = 1e-12);
/// ```
pub fn binned_calibration(
    scores: &[f64],
    outcomes: &[bool],
    binning: Binning,
    kind: DiagramKind,
) -> Result<ReliabilityDiagram> {
    crate::input::check_scores(scores, scores.len(), "scores")?;
    if outcomes.len() != scores.len() {
        return Err(Error::shape(
            "outcomes vs scores",
            format!("length {}", scores.len()),
            format!("length {}", outcomes.len()),
        ));
    }
    let assignment = binning.assign(scores)?;
    let b = binning.bins();
    let mut count = vec![0usize; b];
    let mut score_sum = vec![0.0f64; b];
    let mut outcome_sum = vec![0.0f64; b];
    for ((&bin, &s), &o) in assignment.index.iter().zip(scores).zip(outcomes) {
        count[bin] += 1;
        score_sum[bin] += s;
        outcome_sum[bin] += if o { 1.0 } else { 0.0 };
    }
    let n = scores.len();
    let mut ce = 0.0;
    let mut mce: f64 = 0.0;
    let bins = (0..b)
        .map(|i| {
            let (mean_score, mean_outcome) = if count[i] > 0 {
                let c = count[i] as f64;
                let (ms, mo) = (score_sum[i] / c, outcome_sum[i] / c);
                let gap = (mo - ms).abs();
                ce += c / n as f64 * gap;
                mce = mce.max(gap);
                (Some(ms), Some(mo))
            } else {
                (None, None)
            };
            BinStat {
                lower: assignment.edges[i],
                upper: assignment.edges[i + 1],
                count: count[i],
                mean_score,
                mean_outcome,
            }
        })
        .collect();
    Ok(ReliabilityDiagram {
        kind,
        binning,
        n,
        bins,
        calibration_error: ce,
        max_calibration_error: mce,
    })
}
