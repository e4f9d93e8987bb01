//! Uncertainty measures from a predictive distribution or from Monte Carlo
//! predictive samples: predictive entropy, its aleatoric / epistemic split,
//! class-probability variance and maximum probability.
//!
//! Conventions: natural logarithm; `0 ln 0 = 0`; variances are population
//! variances (divide by `S`, not `S - 1`).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayView3, Axis};
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::input::{DEFAULT_SUM_TOLERANCE, check_probabilities, check_samples};

/// Entropy of one probability vector, natural log, with `0 ln 0 = 0`.
///
/// ```text
/// H[p] = - sum_k p_k ln p_k
/// ```
///
/// No validation: the caller guarantees `p` is a probability vector.
pub fn entropy_of(p: ArrayView1<'_, f64>) -> f64 {
    // `0.0 - s` rather than `-s`: a certain prediction has entropy +0, not -0
    0.0 - p
        .iter()
        .filter(|&&v| v > 0.0)
        .map(|&v| v * v.ln())
        .sum::<f64>()
}

/// Predictive entropy of each row of a `[N, K]` probability matrix.
///
/// ```text
/// H_n = - sum_k p_nk ln p_nk        (natural log, 0 ln 0 = 0), in [0, ln K]
/// ```
///
/// # Errors
/// As [`check_probabilities`].
///
/// # Example
/// ```
/// use approx::assert_abs_diff_eq;
/// use fanaroff_calibrate::entropy;
/// use ndarray::array;
/// let h = entropy(array![[0.5, 0.5], [1.0, 0.0]].view()).unwrap();
/// assert_abs_diff_eq!(h[0], 2f64.ln(), epsilon = 1e-12);
/// assert_abs_diff_eq!(h[1], 0.0);
/// ```
pub fn entropy(probs: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
    check_probabilities(probs, DEFAULT_SUM_TOLERANCE)?;
    Ok(probs.outer_iter().map(entropy_of).collect())
}

/// Predictive entropy divided by its maximum `ln K`, so it lies in `[0, 1]`.
///
/// ```text
/// u_n = H_n / ln K
/// ```
///
/// This is the uncertainty that [UCE](fn@crate::uce) bins.
///
/// # Errors
/// As [`entropy`], plus [`Error::TooFewClasses`] if `K < 2` (`ln 1 = 0`).
pub fn normalised_entropy(probs: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
    let k = probs.ncols();
    let h = entropy(probs)?;
    if k < 2 {
        return Err(Error::TooFewClasses {
            what: "normalised entropy".into(),
            classes: k,
        });
    }
    let ln_k = (k as f64).ln();
    // Rounding can push H a hair above ln K for a uniform vector; clamp so
    // the value is a valid bin coordinate.
    Ok(h.mapv(|v| (v / ln_k).clamp(0.0, 1.0)))
}

/// Maximum probability (confidence) of each row.
///
/// ```text
/// conf_n = max_k p_nk
/// ```
///
/// # Errors
/// As [`check_probabilities`].
pub fn max_probability(probs: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
    check_probabilities(probs, DEFAULT_SUM_TOLERANCE)?;
    Ok(probs
        .outer_iter()
        .map(|r| r.iter().copied().fold(0.0, f64::max))
        .collect())
}

/// Predicted class of each row: `argmax_k p_nk`, ties resolved to the
/// lowest class index. No validation.
pub fn predicted_classes(probs: ArrayView2<'_, f64>) -> Vec<usize> {
    probs.outer_iter().map(argmax).collect()
}

pub(crate) fn argmax(row: ArrayView1<'_, f64>) -> usize {
    let mut best = 0;
    for (j, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = j;
        }
    }
    best
}

/// Predictive mean of Monte Carlo samples `[S, N, K] -> [N, K]`.
///
/// ```text
/// pbar_nk = (1/S) sum_s p_snk
/// ```
///
/// # Errors
/// [`Error::Empty`] if `S = 0`.
pub fn predictive_mean(samples: ArrayView3<'_, f64>) -> Result<Array2<f64>> {
    samples
        .mean_axis(Axis(0))
        .ok_or_else(|| Error::empty("no Monte Carlo samples (S = 0)"))
}

/// Expected entropy (the aleatoric part) of each input.
///
/// ```text
/// A_n = (1/S) sum_s H[p_sn]
/// ```
///
/// # Errors
/// As [`check_samples`].
pub fn expected_entropy(samples: ArrayView3<'_, f64>) -> Result<Array1<f64>> {
    check_samples(samples, DEFAULT_SUM_TOLERANCE)?;
    Ok(expected_entropy_unchecked(samples))
}

fn expected_entropy_unchecked(samples: ArrayView3<'_, f64>) -> Array1<f64> {
    let s = samples.len_of(Axis(0)) as f64;
    let n = samples.len_of(Axis(1));
    let mut out = Array1::zeros(n);
    for slice in samples.outer_iter() {
        for (o, row) in out.iter_mut().zip(slice.outer_iter()) {
            *o += entropy_of(row);
        }
    }
    out / s
}

/// Mutual information between the prediction and the model parameters
/// (the epistemic part, the BALD score) for each input.
///
/// ```text
/// MI_n = H[pbar_n] - (1/S) sum_s H[p_sn],    pbar_n = (1/S) sum_s p_sn
/// ```
///
/// Mathematically `MI_n >= 0` (entropy is concave); values that rounding makes
/// slightly negative are clamped to `0`.
///
/// # Errors
/// As [`check_samples`].
///
/// # Example
/// ```
/// use approx::assert_abs_diff_eq;
/// use fanaroff_calibrate::mutual_information;
/// use ndarray::array;
/// // Two confident draws that disagree: the mean is uniform (H = ln 2),
/// // each draw has H = 0, so all of the uncertainty is epistemic.
/// let s = array![[[1.0, 0.0]], [[0.0, 1.0]]];
/// let mi = mutual_information(s.view()).unwrap();
/// assert_abs_diff_eq!(mi[0], 2f64.ln(), epsilon = 1e-12);
/// ```
pub fn mutual_information(samples: ArrayView3<'_, f64>) -> Result<Array1<f64>> {
    check_samples(samples, DEFAULT_SUM_TOLERANCE)?;
    let mean = predictive_mean(samples)?;
    let total: Array1<f64> = mean.outer_iter().map(entropy_of).collect();
    let aleatoric = expected_entropy_unchecked(samples);
    Ok((total - aleatoric).mapv(|v| v.max(0.0)))
}

/// Variance over Monte Carlo samples of each class probability, `[N, K]`.
///
/// ```text
/// Var_nk = (1/S) sum_s (p_snk - pbar_nk)^2        (population variance)
/// ```
///
/// # Errors
/// As [`check_samples`].
pub fn class_variance(samples: ArrayView3<'_, f64>) -> Result<Array2<f64>> {
    check_samples(samples, DEFAULT_SUM_TOLERANCE)?;
    Ok(samples.var_axis(Axis(0), 0.0))
}

/// Every per-input uncertainty measure at once.
///
/// For plain probabilities only the first four fields are filled; the
/// sample-based ones are `None`. All vectors have length `N`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Uncertainty {
    /// `H[pbar_n]`, natural log (total predictive uncertainty).
    pub predictive_entropy: Vec<f64>,
    /// `H[pbar_n] / ln K`, in `[0, 1]`.
    pub normalised_entropy: Vec<f64>,
    /// `max_k pbar_nk`.
    pub max_probability: Vec<f64>,
    /// `argmax_k pbar_nk` (lowest index on ties).
    pub predicted_class: Vec<usize>,
    /// Aleatoric part `(1/S) sum_s H[p_sn]` (samples only).
    pub expected_entropy: Option<Vec<f64>>,
    /// Epistemic part `H[pbar_n] - (1/S) sum_s H[p_sn]` (samples only).
    pub mutual_information: Option<Vec<f64>>,
    /// Variance over samples of the predicted class's probability,
    /// `Var_s p_{s,n,yhat_n}` (samples only).
    pub predicted_class_variance: Option<Vec<f64>>,
    /// Mean over classes of the per-class variance, `(1/K) sum_k Var_nk`
    /// (samples only).
    pub mean_class_variance: Option<Vec<f64>>,
}

impl Uncertainty {
    /// Uncertainty measures of a `[N, K]` probability matrix.
    ///
    /// # Errors
    /// As [`normalised_entropy`].
    pub fn from_probs(probs: ArrayView2<'_, f64>) -> Result<Self> {
        let u = normalised_entropy(probs)?;
        Ok(Self::base(probs, u))
    }

    fn base(mean: ArrayView2<'_, f64>, normalised: Array1<f64>) -> Self {
        Uncertainty {
            predictive_entropy: mean.outer_iter().map(entropy_of).collect(),
            normalised_entropy: normalised.to_vec(),
            max_probability: mean
                .outer_iter()
                .map(|r| r.iter().copied().fold(0.0, f64::max))
                .collect(),
            predicted_class: predicted_classes(mean),
            expected_entropy: None,
            mutual_information: None,
            predicted_class_variance: None,
            mean_class_variance: None,
        }
    }

    /// Uncertainty measures of `[S, N, K]` Monte Carlo samples; the
    /// single-distribution measures use the predictive mean.
    ///
    /// # Errors
    /// As [`check_samples`], plus
    /// [`Error::TooFewClasses`] if `K < 2`.
    pub fn from_samples(samples: ArrayView3<'_, f64>) -> Result<Self> {
        check_samples(samples, DEFAULT_SUM_TOLERANCE)?;
        let mean = predictive_mean(samples)?;
        let mut out = Self::base(mean.view(), normalised_entropy(mean.view())?);
        let aleatoric = expected_entropy_unchecked(samples);
        let mi: Vec<f64> = out
            .predictive_entropy
            .iter()
            .zip(aleatoric.iter())
            .map(|(t, a)| (t - a).max(0.0))
            .collect();
        let var = samples.var_axis(Axis(0), 0.0);
        out.predicted_class_variance = Some(
            out.predicted_class
                .iter()
                .enumerate()
                .map(|(n, &c)| var[[n, c]])
                .collect(),
        );
        out.mean_class_variance = var.mean_axis(Axis(1)).map(|v| v.to_vec());
        out.expected_entropy = Some(aleatoric.to_vec());
        out.mutual_information = Some(mi);
        Ok(out)
    }
}
