//! Input types and validation shared by every metric.
//!
//! All metrics take probabilities as `f64` `ndarray` views:
//! `ArrayView2<f64>` of shape `[N, K]` (one probability vector per row) or,
//! for Monte Carlo predictive samples, `ArrayView3<f64>` of shape `[S, N, K]`.
//! Labels are `&[usize]` of length `N` with values in `0..K`.
//! [`Predictions`] wraps either form and converts `f32` arrays losslessly.

use crate::error::{Error, Result};
use ndarray::{Array2, Array3, ArrayView2, ArrayView3, Axis};

/// Default tolerance on `|sum_k p_k - 1|` used by every metric function.
///
/// `1e-4` accepts softmax outputs computed in `f32` (rounding error about
/// `K * 6e-8`) and their Monte Carlo averages, while rejecting logits or
/// unnormalised scores passed by mistake.
pub const DEFAULT_SUM_TOLERANCE: f64 = 1e-4;

/// Check a `[N, K]` probability matrix.
///
/// Every entry must be finite and in `[0, 1]` and every row must sum to one
/// within `tolerance`:
///
/// ```text
/// 0 <= p_nk <= 1,   | sum_k p_nk - 1 | <= tolerance   for all n
/// ```
///
/// # Errors
/// [`Error::Empty`] if `N = 0` or `K = 0`, [`Error::InvalidProbability`] for a
/// negative, NaN, infinite or `> 1` entry, [`Error::NotNormalised`] for a row
/// whose sum is off by more than `tolerance`.
pub fn check_probabilities(probs: ArrayView2<'_, f64>, tolerance: f64) -> Result<()> {
    check_probabilities_at(probs, tolerance, None)
}

fn check_probabilities_at(
    probs: ArrayView2<'_, f64>,
    tolerance: f64,
    sample: Option<usize>,
) -> Result<()> {
    let (n, k) = probs.dim();
    if n == 0 {
        return Err(Error::empty("probabilities have no rows (N = 0)"));
    }
    if k == 0 {
        return Err(Error::empty("probabilities have no classes (K = 0)"));
    }
    let prefix = |s: String| match sample {
        Some(si) => format!("sample {si}, {s}"),
        None => s,
    };
    for (i, row) in probs.outer_iter().enumerate() {
        let mut sum = 0.0;
        for (j, &p) in row.iter().enumerate() {
            if !p.is_finite() || !(0.0..=1.0).contains(&p) {
                return Err(Error::InvalidProbability {
                    location: prefix(format!("[{i}, {j}]")),
                    value: p,
                });
            }
            sum += p;
        }
        if (sum - 1.0).abs() > tolerance {
            return Err(Error::NotNormalised {
                location: prefix(format!("row {i}")),
                sum,
                tolerance,
            });
        }
    }
    Ok(())
}

/// Check a `[S, N, K]` array of Monte Carlo predictive samples: every
/// `[N, K]` slice must pass [`check_probabilities`].
///
/// # Errors
/// As [`check_probabilities`], plus [`Error::Empty`] if `S = 0`.
pub fn check_samples(samples: ArrayView3<'_, f64>, tolerance: f64) -> Result<()> {
    if samples.len_of(Axis(0)) == 0 {
        return Err(Error::empty("no Monte Carlo samples (S = 0)"));
    }
    for (s, slice) in samples.outer_iter().enumerate() {
        check_probabilities_at(slice, tolerance, Some(s))?;
    }
    Ok(())
}

/// Check labels against `N` rows and `K` classes.
///
/// # Errors
/// [`Error::Empty`] if there are no labels, [`Error::ShapeMismatch`] if
/// `labels.len() != n`, [`Error::LabelOutOfRange`] if a label is `>= k`.
pub fn check_labels(labels: &[usize], n: usize, k: usize) -> Result<()> {
    if labels.is_empty() {
        return Err(Error::empty("no labels"));
    }
    if labels.len() != n {
        return Err(Error::shape(
            "labels vs probability rows",
            format!("{n} labels"),
            format!("{} labels", labels.len()),
        ));
    }
    if let Some((index, &label)) = labels.iter().enumerate().find(|&(_, &l)| l >= k) {
        return Err(Error::LabelOutOfRange {
            index,
            label,
            classes: k,
        });
    }
    Ok(())
}

/// Check probabilities and labels together (the common prologue of a metric).
pub(crate) fn check_pair(probs: ArrayView2<'_, f64>, labels: &[usize]) -> Result<()> {
    check_probabilities(probs, DEFAULT_SUM_TOLERANCE)?;
    check_labels(labels, probs.nrows(), probs.ncols())
}

/// Check that a score vector is finite and as long as required.
pub(crate) fn check_scores(scores: &[f64], n: usize, what: &str) -> Result<()> {
    if scores.is_empty() {
        return Err(Error::empty(format!("{what} is empty")));
    }
    if scores.len() != n {
        return Err(Error::shape(
            what,
            format!("length {n}"),
            format!("length {}", scores.len()),
        ));
    }
    if let Some((i, &v)) = scores.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite {
            location: format!("{what}[{i}]"),
            value: v,
        });
    }
    Ok(())
}

/// Predictions in one of the two forms the crate accepts.
///
/// | variant | shape | meaning |
/// |---|---|---|
/// | `Probs` | `[N, K]` | one predictive distribution per input (e.g. softmax of a deterministic net, or an already averaged MC predictive) |
/// | `Samples` | `[S, N, K]` | `S` Monte Carlo draws of the predictive distribution (Bayesian net, MC dropout, ensemble) |
///
/// The predictive mean of `Samples` is `p_nk = (1/S) sum_s p_snk`; every
/// metric that needs a single distribution uses that mean. Only `Samples`
/// carries epistemic information (mutual information, variance).
///
/// Values are stored as `f64`; `f32` inputs are converted losslessly by the
/// generic constructors.
///
/// # Example
/// ```
/// use fanaroff_calibrate::Predictions;
/// use ndarray::array;
/// let p = Predictions::from_probs(array![[0.9f32, 0.1], [0.2, 0.8]].view());
/// assert_eq!(p.num_rows(), 2);
/// assert_eq!(p.num_classes(), 2);
/// assert_eq!(p.num_samples(), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Predictions {
    /// Probabilities `[N, K]`.
    Probs(Array2<f64>),
    /// Monte Carlo predictive samples `[S, N, K]`.
    Samples(Array3<f64>),
}

impl Predictions {
    /// Wrap a `[N, K]` probability matrix (`f32` or `f64`).
    pub fn from_probs<A: Copy + Into<f64>>(probs: ArrayView2<'_, A>) -> Self {
        Predictions::Probs(probs.mapv(Into::into))
    }

    /// Wrap `[S, N, K]` Monte Carlo predictive samples (`f32` or `f64`).
    pub fn from_samples<A: Copy + Into<f64>>(samples: ArrayView3<'_, A>) -> Self {
        Predictions::Samples(samples.mapv(Into::into))
    }

    /// Number of inputs `N`.
    pub fn num_rows(&self) -> usize {
        match self {
            Predictions::Probs(p) => p.nrows(),
            Predictions::Samples(s) => s.len_of(Axis(1)),
        }
    }

    /// Number of classes `K`.
    pub fn num_classes(&self) -> usize {
        match self {
            Predictions::Probs(p) => p.ncols(),
            Predictions::Samples(s) => s.len_of(Axis(2)),
        }
    }

    /// Number of Monte Carlo samples `S`, or `None` for plain probabilities.
    pub fn num_samples(&self) -> Option<usize> {
        match self {
            Predictions::Probs(_) => None,
            Predictions::Samples(s) => Some(s.len_of(Axis(0))),
        }
    }

    /// Validate every probability vector (see [`check_probabilities`]).
    ///
    /// # Errors
    /// As [`check_probabilities`] and [`check_samples`].
    pub fn validate(&self, tolerance: f64) -> Result<()> {
        match self {
            Predictions::Probs(p) => check_probabilities(p.view(), tolerance),
            Predictions::Samples(s) => check_samples(s.view(), tolerance),
        }
    }

    /// The predictive mean `[N, K]`: the probabilities themselves, or
    /// `(1/S) sum_s p_s` for samples.
    ///
    /// # Errors
    /// [`Error::Empty`] if there are no samples.
    pub fn mean(&self) -> Result<Array2<f64>> {
        match self {
            Predictions::Probs(p) => Ok(p.clone()),
            Predictions::Samples(s) => crate::uncertainty::predictive_mean(s.view()),
        }
    }
}
