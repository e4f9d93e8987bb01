//! Uncertainty calibration error (UCE, Laves et al. 2019), per-class UCE and
//! cUCE as reported in the radio-galaxy literature.

use ndarray::ArrayView2;
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::binning::Binning;
use crate::error::{Error, Result};
use crate::input::check_pair;
use crate::reliability::{DiagramKind, ReliabilityDiagram, binned_calibration};
use crate::uncertainty::{argmax, entropy_of};

/// Normalised uncertainty and error indicator of each input.
fn uncertainty_and_error(
    probs: ArrayView2<'_, f64>,
    labels: &[usize],
) -> Result<(Vec<f64>, Vec<bool>)> {
    check_pair(probs, labels)?;
    let k = probs.ncols();
    if k < 2 {
        return Err(Error::TooFewClasses {
            what: "UCE (normalised entropy)".into(),
            classes: k,
        });
    }
    let ln_k = (k as f64).ln();
    let u = probs
        .outer_iter()
        .map(|r| (entropy_of(r) / ln_k).clamp(0.0, 1.0))
        .collect();
    let err = probs
        .outer_iter()
        .zip(labels)
        .map(|(r, &y)| argmax(r) != y)
        .collect();
    Ok((u, err))
}

/// Uncertainty reliability diagram: bins on `u_n = H[p_n] / ln K`, outcome
/// `err_n = 1[argmax_k p_nk != y_n]`.
///
/// # Errors
/// As [`check_probabilities`](crate::check_probabilities) and
/// [`check_labels`](crate::check_labels), plus [`Error::TooFewClasses`] if
/// `K < 2`.
pub fn uncertainty_diagram(
    probs: ArrayView2<'_, f64>,
    labels: &[usize],
    binning: Binning,
) -> Result<ReliabilityDiagram> {
    let (u, err) = uncertainty_and_error(probs, labels)?;
    binned_calibration(&u, &err, binning, DiagramKind::Uncertainty)
}

/// Uncertainty calibration error.
///
/// ```text
/// u_n   = H[p_n] / ln K          (normalised predictive entropy, natural log)
/// err_n = 1[argmax_k p_nk != y_n]
/// UCE   = sum_b (|b| / N) | err_b - u_b |
/// ```
///
/// Default in the literature: 10 equal-width bins.
///
/// # Errors
/// As [`uncertainty_diagram`].
///
/// # Example
/// ```
/// use approx::assert_abs_diff_eq;
/// use fanaroff_calibrate::{uce, Binning};
/// use ndarray::array;
/// // u = 0 for [1, 0] (correct), u = 1 for [0.5, 0.5] (argmax 0, label 1: error)
/// let v = uce(array![[1.0, 0.0], [0.5, 0.5]].view(), &[0, 1], Binning::new(2).unwrap()).unwrap();
/// assert_abs_diff_eq!(v, 0.0, epsilon = 1e-12);
/// ```
pub fn uce(probs: ArrayView2<'_, f64>, labels: &[usize], binning: Binning) -> Result<f64> {
    Ok(uncertainty_diagram(probs, labels, binning)?.calibration_error)
}

/// UCE computed separately on the inputs of each true class, and their mean.
///
/// ```text
/// UCE_k = UCE over { n : y_n = k }        (normalised by that subset's size N_k)
/// cUCE  = mean of UCE_k over the classes with N_k > 0
/// ```
///
/// For the two-class FRI / FRII problem, `cUCE = (UCE_FRI + UCE_FRII) / 2`.
/// With equal-mass binning the quantile edges are taken within each subset.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ClassUce {
    /// `UCE_k`, or `None` if class `k` has no inputs.
    pub per_class: Vec<Option<f64>>,
    /// Number of inputs `N_k` of each class.
    pub counts: Vec<usize>,
    /// Mean of the defined `UCE_k` (cUCE).
    pub cuce: f64,
}

/// Per-class UCE and cUCE (see [`ClassUce`]).
///
/// # Errors
/// As [`uncertainty_diagram`].
///
/// # Example
/// ```
/// use approx::assert_abs_diff_eq;
/// use fanaroff_calibrate::{class_uce, Binning};
/// use ndarray::array;
/// let p = array![[1.0, 0.0], [0.5, 0.5], [0.5, 0.5]];
/// // class 0: one input, u = 0, correct -> UCE_0 = 0
/// // class 1: u = 1, one error (row 1, argmax 0) and one error (row 2) -> UCE_1 = 0
/// let c = class_uce(p.view(), &[0, 1, 1], Binning::new(10).unwrap()).unwrap();
/// assert_abs_diff_eq!(c.cuce, 0.0, epsilon = 1e-12);
/// ```
pub fn class_uce(
    probs: ArrayView2<'_, f64>,
    labels: &[usize],
    binning: Binning,
) -> Result<ClassUce> {
    let (u, err) = uncertainty_and_error(probs, labels)?;
    let k = probs.ncols();
    let mut per_class = Vec::with_capacity(k);
    let mut counts = Vec::with_capacity(k);
    for class in 0..k {
        let idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        counts.push(idx.len());
        if idx.is_empty() {
            per_class.push(None);
            continue;
        }
        let su: Vec<f64> = idx.iter().map(|&i| u[i]).collect();
        let se: Vec<bool> = idx.iter().map(|&i| err[i]).collect();
        per_class.push(Some(
            binned_calibration(&su, &se, binning, DiagramKind::Uncertainty)?.calibration_error,
        ));
    }
    let defined: Vec<f64> = per_class.iter().flatten().copied().collect();
    let cuce = defined.iter().sum::<f64>() / defined.len() as f64;
    Ok(ClassUce {
        per_class,
        counts,
        cuce,
    })
}
