//! Proper scoring rules and accuracy: Brier score, negative log-likelihood,
//! accuracy and error rate.

use ndarray::ArrayView2;

use crate::error::Result;
use crate::input::check_pair;
use crate::uncertainty::argmax;

/// Smallest probability used inside the logarithm of [`nll`].
///
/// A prediction that gives the true class probability `0` would have
/// infinite NLL; it is charged `-ln(1e-12) = 27.63` instead, so one such
/// input cannot make the mean infinite. Probabilities above the floor are
/// used as they are.
pub const NLL_PROBABILITY_FLOOR: f64 = 1e-12;

/// Multiclass Brier score, **summed over classes, not divided by `K`**.
///
/// ```text
/// Brier = (1/N) sum_n sum_k (p_nk - 1[y_n = k])^2        in [0, 2]
/// ```
///
/// This is Brier's (1950) original definition. Libraries that average over
/// classes as well report `Brier / K`; for `K = 2` that is half of this value,
/// which is also what scikit-learn's binary `brier_score_loss` on
/// `p(class 1)` gives.
///
/// # Errors
/// As [`check_probabilities`](crate::check_probabilities) and
/// [`check_labels`](crate::check_labels).
///
/// # Example
/// ```
/// use approx::assert_abs_diff_eq;
/// use fanaroff_calibrate::brier;
/// use ndarray::array;
/// // (0.8-1)^2 + 0.2^2 = 0.08 ; 0.6^2 + (0.4-1)^2 = 0.72 ; mean 0.40
/// let b = brier(array![[0.8, 0.2], [0.6, 0.4]].view(), &[0, 1]).unwrap();
/// assert_abs_diff_eq!(b, 0.40, epsilon = 1e-12);
/// ```
pub fn brier(probs: ArrayView2<'_, f64>, labels: &[usize]) -> Result<f64> {
    check_pair(probs, labels)?;
    let total: f64 = probs
        .outer_iter()
        .zip(labels)
        .map(|(row, &y)| {
            row.iter()
                .enumerate()
                .map(|(k, &p)| {
                    let t = if k == y { 1.0 } else { 0.0 };
                    (p - t) * (p - t)
                })
                .sum::<f64>()
        })
        .sum();
    Ok(total / labels.len() as f64)
}

/// Mean negative log-likelihood of the true class (natural log).
///
/// ```text
/// NLL = -(1/N) sum_n ln max(p_{n, y_n}, 1e-12)
/// ```
///
/// See [`NLL_PROBABILITY_FLOOR`] for the floor.
///
/// # Errors
/// As [`brier`].
///
/// # Example
/// ```
/// use approx::assert_abs_diff_eq;
/// use fanaroff_calibrate::nll;
/// use ndarray::array;
/// let v = nll(array![[0.5, 0.5], [0.25, 0.75]].view(), &[0, 1]).unwrap();
/// assert_abs_diff_eq!(v, -(0.5f64.ln() + 0.75f64.ln()) / 2.0, epsilon = 1e-12);
/// ```
pub fn nll(probs: ArrayView2<'_, f64>, labels: &[usize]) -> Result<f64> {
    check_pair(probs, labels)?;
    let total: f64 = probs
        .outer_iter()
        .zip(labels)
        .map(|(row, &y)| -row[y].max(NLL_PROBABILITY_FLOOR).ln())
        .sum();
    Ok(total / labels.len() as f64)
}

/// Fraction of inputs whose predicted class (argmax, ties to the lowest
/// index) equals the label.
///
/// ```text
/// accuracy = (1/N) sum_n 1[argmax_k p_nk = y_n]
/// ```
///
/// # Errors
/// As [`brier`].
pub fn accuracy(probs: ArrayView2<'_, f64>, labels: &[usize]) -> Result<f64> {
    check_pair(probs, labels)?;
    let correct = probs
        .outer_iter()
        .zip(labels)
        .filter(|&(row, &y)| argmax(row) == y)
        .count();
    Ok(correct as f64 / labels.len() as f64)
}

/// Error rate `1 - accuracy`.
///
/// # Errors
/// As [`brier`].
pub fn error_rate(probs: ArrayView2<'_, f64>, labels: &[usize]) -> Result<f64> {
    Ok(1.0 - accuracy(probs, labels)?)
}
