//! Accuracy–rejection curve: accuracy on the inputs that remain when the
//! most uncertain fraction is referred to a human.

use ndarray::ArrayView2;
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::input::{check_pair, check_scores};
use crate::uncertainty::{argmax, entropy_of};

/// Accuracy after rejecting the most uncertain fraction, at several fractions.
///
/// ```text
/// m(r)        = floor(r * N)           inputs rejected, the m most uncertain
/// accuracy(r) = (# correct among the N - m retained) / (N - m)
/// ```
///
/// **Ties** in the uncertainty at the cut are resolved by expectation over a
/// random order: if the cut keeps `j` of a tied group of `g` inputs of which
/// `c` are correct, the group contributes `j * c / g` correct predictions.
/// The curve is therefore a function of the (uncertainty, correct) pairs
/// alone, not of their order.
///
/// For a useful uncertainty the curve rises with `r`; a flat curve means the
/// score does not rank errors above correct predictions.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct RejectionCurve {
    /// Rejected fractions `r`, each in `[0, 1)`.
    pub fractions: Vec<f64>,
    /// Number of retained inputs `N - m(r)`.
    pub retained: Vec<usize>,
    /// Accuracy on the retained inputs.
    pub accuracy: Vec<f64>,
}

/// The evenly spaced fractions `0, 1/steps, ..., (steps-1)/steps`.
///
/// # Errors
/// [`Error::InvalidParameter`] if `steps == 0`.
pub fn rejection_fractions(steps: usize) -> Result<Vec<f64>> {
    if steps == 0 {
        return Err(Error::param("steps", steps, "must be at least 1"));
    }
    Ok((0..steps).map(|i| i as f64 / steps as f64).collect())
}

/// Accuracy–rejection curve of any uncertainty score (higher = less sure).
///
/// # Errors
/// [`Error::Empty`], [`Error::ShapeMismatch`] or [`Error::NonFinite`] for bad
/// scores; [`Error::InvalidParameter`] for a fraction outside `[0, 1)` or an
/// empty fraction list.
///
/// # Example
/// ```
/// use approx::assert_abs_diff_eq;
/// use fanaroff_calibrate::accuracy_rejection;
/// // the two most uncertain inputs are the two errors
/// let u = [0.9, 0.1, 0.8, 0.2];
/// let ok = [false, true, false, true];
/// let c = accuracy_rejection(&u, &ok, &[0.0, 0.25, 0.5]).unwrap();
/// assert_abs_diff_eq!(c.accuracy[0], 0.5);       // keep 4: 2 correct
/// assert_abs_diff_eq!(c.accuracy[1], 2.0 / 3.0); // reject 0.9, keep 3: 2 correct
/// assert_abs_diff_eq!(c.accuracy[2], 1.0);       // reject 0.9 and 0.8
/// ```
pub fn accuracy_rejection(
    uncertainty: &[f64],
    correct: &[bool],
    fractions: &[f64],
) -> Result<RejectionCurve> {
    check_scores(uncertainty, correct.len(), "uncertainty")?;
    if fractions.is_empty() {
        return Err(Error::param(
            "fractions",
            "[]",
            "need at least one fraction",
        ));
    }
    if let Some(&r) = fractions.iter().find(|r| !(0.0..1.0).contains(*r)) {
        return Err(Error::param("fraction", r, "must be in [0, 1)"));
    }
    let n = uncertainty.len();
    // Ascending uncertainty: the retained set is a prefix.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| uncertainty[a].total_cmp(&uncertainty[b]));
    // Tie groups: (start, end, correct count).
    let mut groups = Vec::new();
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && uncertainty[order[j]] == uncertainty[order[i]] {
            j += 1;
        }
        let c = order[i..j].iter().filter(|&&k| correct[k]).count();
        groups.push((i, j, c));
        i = j;
    }
    let mut retained = Vec::with_capacity(fractions.len());
    let mut accuracy = Vec::with_capacity(fractions.len());
    for &r in fractions {
        let keep = n - (r * n as f64).floor() as usize;
        let mut hits = 0.0;
        for &(start, end, c) in &groups {
            if start >= keep {
                break;
            }
            let taken = end.min(keep) - start;
            hits += taken as f64 * c as f64 / (end - start) as f64;
        }
        retained.push(keep);
        accuracy.push(hits / keep as f64);
    }
    Ok(RejectionCurve {
        fractions: fractions.to_vec(),
        retained,
        accuracy,
    })
}

/// Accuracy–rejection curve of the predictive entropy of `probs`, at the
/// fractions `0, 1/steps, ..., (steps-1)/steps`.
///
/// # Errors
/// As [`check_probabilities`](crate::check_probabilities),
/// [`check_labels`](crate::check_labels) and [`rejection_fractions`].
pub fn entropy_rejection_curve(
    probs: ArrayView2<'_, f64>,
    labels: &[usize],
    steps: usize,
) -> Result<RejectionCurve> {
    check_pair(probs, labels)?;
    let h: Vec<f64> = probs.outer_iter().map(entropy_of).collect();
    let ok: Vec<bool> = probs
        .outer_iter()
        .zip(labels)
        .map(|(r, &y)| argmax(r) == y)
        .collect();
    accuracy_rejection(&h, &ok, &rejection_fractions(steps)?)
}
