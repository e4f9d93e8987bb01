//! Expected calibration error of the top-label confidence (ECE), its maximum
//! (MCE), and the classwise ECE.

use ndarray::ArrayView2;
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::binning::Binning;
use crate::error::Result;
use crate::input::check_pair;
use crate::reliability::{DiagramKind, ReliabilityDiagram, binned_calibration};
use crate::uncertainty::argmax;

/// Top-label reliability diagram: bins on `conf_n = max_k p_nk`, outcome
/// `correct_n = 1[argmax_k p_nk = y_n]` (ties in the argmax go to the lowest
/// class index).
///
/// # Errors
/// As [`check_probabilities`](crate::check_probabilities) and
/// [`check_labels`](crate::check_labels).
pub fn reliability_diagram(
    probs: ArrayView2<'_, f64>,
    labels: &[usize],
    binning: Binning,
) -> Result<ReliabilityDiagram> {
    check_pair(probs, labels)?;
    let mut conf = Vec::with_capacity(labels.len());
    let mut correct = Vec::with_capacity(labels.len());
    for (row, &y) in probs.outer_iter().zip(labels) {
        let c = argmax(row);
        conf.push(row[c]);
        correct.push(c == y);
    }
    binned_calibration(&conf, &correct, binning, DiagramKind::Confidence)
}

/// Expected calibration error of the top-label confidence.
///
/// ```text
/// conf_n = max_k p_nk,   correct_n = 1[argmax_k p_nk = y_n]
/// ECE    = sum_b (|b| / N) | acc_b - conf_b |
/// acc_b  = mean of correct_n over bin b,  conf_b = mean of conf_n over bin b
/// ```
///
/// Bins follow `binning` (see [`Binning`] for edge rules). Result in `[0, 1]`.
///
/// # Errors
/// As [`reliability_diagram`].
///
/// # Example
/// ```
/// use approx::assert_abs_diff_eq;
/// use fanaroff_calibrate::{ece, Binning};
/// use ndarray::array;
/// let p = array![[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]];
/// // one bin: conf = (0.9 + 0.8 + 0.7) / 3 = 0.8, acc = 2/3 -> ECE = 0.1333...
/// let e = ece(p.view(), &[0, 1, 1], Binning::new(1).unwrap()).unwrap();
/// assert_abs_diff_eq!(e, 0.8 - 2.0 / 3.0, epsilon = 1e-12);
/// ```
pub fn ece(probs: ArrayView2<'_, f64>, labels: &[usize], binning: Binning) -> Result<f64> {
    Ok(reliability_diagram(probs, labels, binning)?.calibration_error)
}

/// Maximum calibration error: the largest `|acc_b - conf_b|` over non-empty
/// bins of the top-label reliability diagram.
///
/// ```text
/// MCE = max_{b : |b| > 0} | acc_b - conf_b |
/// ```
///
/// # Errors
/// As [`reliability_diagram`].
pub fn mce(probs: ArrayView2<'_, f64>, labels: &[usize], binning: Binning) -> Result<f64> {
    Ok(reliability_diagram(probs, labels, binning)?.max_calibration_error)
}

/// Classwise ECE: one reliability diagram per class on `p_nk` against
/// `1[y_n = k]`, averaged over the `K` classes.
///
/// ```text
/// ECE_k          = sum_b (|b| / N) | freq_b(y = k) - mean_b p_k |     (bins on p_nk, all N inputs)
/// classwise-ECE  = (1/K) sum_k ECE_k
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ClasswiseEce {
    /// `ECE_k` for each class `k`.
    pub per_class: Vec<f64>,
    /// Their mean over the `K` classes.
    pub mean: f64,
}

/// Classwise ECE (see [`ClasswiseEce`] for the formula).
///
/// # Errors
/// As [`reliability_diagram`].
///
/// # Example
/// ```
/// use approx::assert_abs_diff_eq;
/// use fanaroff_calibrate::{classwise_ece, Binning};
/// use ndarray::array;
/// let c = classwise_ece(array![[0.8, 0.2], [0.2, 0.8]].view(), &[0, 0], Binning::new(1).unwrap()).unwrap();
/// // class 0: mean p0 = 0.5, freq(y = 0) = 1 -> 0.5; class 1: mean p1 = 0.5, freq 0 -> 0.5
/// assert_abs_diff_eq!(c.mean, 0.5, epsilon = 1e-12);
/// ```
pub fn classwise_ece(
    probs: ArrayView2<'_, f64>,
    labels: &[usize],
    binning: Binning,
) -> Result<ClasswiseEce> {
    Ok(classwise_diagrams(probs, labels, binning)?.0)
}

/// Classwise ECE plus the per-class reliability diagrams
/// ([`DiagramKind::Class`]`(k)`: bins on `p_nk`, outcome `1[y_n = k]`).
///
/// # Errors
/// As [`reliability_diagram`].
pub fn classwise_diagrams(
    probs: ArrayView2<'_, f64>,
    labels: &[usize],
    binning: Binning,
) -> Result<(ClasswiseEce, Vec<ReliabilityDiagram>)> {
    check_pair(probs, labels)?;
    let k = probs.ncols();
    let mut diagrams = Vec::with_capacity(k);
    for class in 0..k {
        let scores = probs.column(class).to_vec();
        let hits: Vec<bool> = labels.iter().map(|&y| y == class).collect();
        diagrams.push(binned_calibration(
            &scores,
            &hits,
            binning,
            DiagramKind::Class(class),
        )?);
    }
    let per_class: Vec<f64> = diagrams.iter().map(|d| d.calibration_error).collect();
    let mean = per_class.iter().sum::<f64>() / k as f64;
    Ok((ClasswiseEce { per_class, mean }, diagrams))
}
