//! Reliability-diagram data: the per-bin statistics behind every binned
//! calibration error (ECE, MCE, classwise ECE, UCE), and their PNG rendering.
//!
//! A diagram pairs a *score* in `[0, 1]` (confidence, a class probability or
//! a normalised uncertainty) with a 0/1 *outcome* (correct, class present or
//! error). A perfectly calibrated score has `mean outcome = mean score` in
//! every bin.

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::binning::Binning;
use crate::error::{Error, Result};
use crate::plot::{Chart, Color};

/// What a diagram's score and outcome are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

impl ReliabilityDiagram {
    /// Render the diagram as a 720 x 540 PNG.
    ///
    /// Bars span each bin's edges with height = mean outcome (accuracy, or
    /// error for an uncertainty diagram); red dots ("bin mean") mark
    /// (mean score, mean outcome) of each non-empty bin; the grey diagonal is
    /// perfect calibration; the title states the calibration error, the
    /// binning and `N`.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Png`] if the file cannot be written.
    pub fn write_png(&self, path: impl AsRef<Path>) -> Result<()> {
        self.chart().write_png(path)
    }

    /// The [`Chart`] that [`write_png`](Self::write_png) draws, for callers
    /// who want to add series or render to memory.
    pub fn chart(&self) -> Chart {
        let (name, x_label, y_label) = match self.kind {
            DiagramKind::Confidence => ("ECE", "confidence", "accuracy"),
            DiagramKind::Uncertainty => ("UCE", "uncertainty (H / ln K)", "error"),
            DiagramKind::Class(_) => ("class ECE", "p(class)", "frequency"),
            DiagramKind::Custom => ("CE", "score", "outcome"),
        };
        let class = match self.kind {
            DiagramKind::Class(k) => format!(" class {k}"),
            _ => String::new(),
        };
        let title = format!(
            "{name}{class} = {:.4}  ({} {} bins, N = {})",
            self.calibration_error,
            self.binning.bins(),
            self.binning.strategy().name(),
            self.n
        );
        let mut lefts = Vec::new();
        let mut rights = Vec::new();
        let mut heights = Vec::new();
        let mut px = Vec::new();
        let mut py = Vec::new();
        for bin in &self.bins {
            if let (Some(s), Some(o)) = (bin.mean_score, bin.mean_outcome) {
                lefts.push(bin.lower);
                rights.push(bin.upper);
                heights.push(o);
                px.push(s);
                py.push(o);
            }
        }
        Chart::new(title)
            .x_label(x_label)
            .y_label(y_label)
            .x_range(0.0, 1.0)
            .y_range(0.0, 1.0)
            .bars(y_label, &lefts, &rights, &heights, Color::BLUE)
            .line("ideal", &[0.0, 1.0], &[0.0, 1.0], Color::GREY)
            .points("bin mean", &px, &py, Color::RED)
    }
}
