//! Seeded percentile-bootstrap confidence intervals for any metric.

use ndarray::{ArrayView2, Axis};
use rand::Rng;
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::input::check_pair;

/// Bootstrap parameters.
///
/// | name | default | meaning | valid range |
/// |---|---|---|---|
/// | `resamples` | 1000 | number of bootstrap resamples `R` | `>= 1` |
/// | `level` | 0.95 | coverage of the two-sided interval | `(0, 1)` |
///
/// # Example
/// ```
/// use fanaroff_calibrate::Bootstrap;
/// let b = Bootstrap::new(200, 0.9).unwrap();
/// assert_eq!(b.resamples(), 200);
/// assert!(Bootstrap::new(0, 0.9).is_err());
/// assert!(Bootstrap::new(10, 1.0).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Bootstrap {
    resamples: usize,
    level: f64,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap {
            resamples: 1000,
            level: 0.95,
        }
    }
}

impl Bootstrap {
    /// Checked constructor.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `resamples == 0` or `level` is not in `(0, 1)`.
    pub fn new(resamples: usize, level: f64) -> Result<Self> {
        if resamples == 0 {
            return Err(Error::param("resamples", resamples, "must be at least 1"));
        }
        if !(level > 0.0 && level < 1.0) {
            return Err(Error::param("level", level, "must be in (0, 1)"));
        }
        Ok(Bootstrap { resamples, level })
    }

    /// Number of resamples `R`.
    pub fn resamples(&self) -> usize {
        self.resamples
    }

    /// Interval coverage, e.g. `0.95`.
    pub fn level(&self) -> f64 {
        self.level
    }
}

/// A point estimate with a percentile-bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ConfidenceInterval {
    /// The statistic on the full data.
    pub estimate: f64,
    /// Lower end: the `(1 - level) / 2` quantile of the resampled statistics.
    pub lower: f64,
    /// Upper end: the `(1 + level) / 2` quantile of the resampled statistics.
    pub upper: f64,
    /// Coverage level.
    pub level: f64,
    /// Resamples on which the statistic was defined (and used).
    pub resamples: usize,
}

/// Percentile bootstrap of a statistic of `n` items.
///
/// Each resample draws `n` indices uniformly with replacement from `rng`
/// and passes them to `statistic`; the interval ends are the empirical
/// quantiles of the resampled values, with linear interpolation between
/// order statistics:
///
/// ```text
/// q(a) = v_(floor(h)) + (h - floor(h)) (v_(floor(h)+1) - v_(floor(h))),   h = a (R' - 1)
/// lower = q((1 - level) / 2),   upper = q((1 + level) / 2)
/// ```
///
/// where `v_(0) <= ... <= v_(R'-1)` are the `R'` defined resampled values.
/// Resamples on which the statistic returns [`Error::Undefined`] (e.g.
/// AUROC of a resample without errors) are skipped and not counted in `R'`;
/// any other error is returned. The same `rng` state gives the same interval.
///
/// # Errors
/// [`Error::Empty`] if `n == 0`; [`Error::Undefined`] if the statistic is
/// undefined on the full data or on every resample; errors of `statistic`.
///
/// # Example
/// ```
/// use fanaroff_calibrate::{bootstrap, Bootstrap};
/// use rand::{SeedableRng, rngs::StdRng};
/// let x = [1.0, 2.0, 3.0, 4.0, 5.0];
/// let mean = |idx: &[usize]| Ok(idx.iter().map(|&i| x[i]).sum::<f64>() / idx.len() as f64);
/// let mut rng = StdRng::seed_from_u64(7);
/// let ci = bootstrap(x.len(), Bootstrap::new(500, 0.9).unwrap(), &mut rng, mean).unwrap();
/// assert_eq!(ci.estimate, 3.0);
/// assert!(ci.lower < 3.0 && 3.0 < ci.upper);
/// ```
pub fn bootstrap<R, F>(
    n: usize,
    params: Bootstrap,
    rng: &mut R,
    mut statistic: F,
) -> Result<ConfidenceInterval>
where
    R: Rng + ?Sized,
    F: FnMut(&[usize]) -> Result<f64>,
{
    if n == 0 {
        return Err(Error::empty("bootstrap of zero items"));
    }
    let all: Vec<usize> = (0..n).collect();
    let estimate = statistic(&all)?;
    let mut values = Vec::with_capacity(params.resamples);
    let mut idx = vec![0usize; n];
    for _ in 0..params.resamples {
        for slot in idx.iter_mut() {
            *slot = rng.random_range(0..n);
        }
        match statistic(&idx) {
            Ok(v) => values.push(v),
            Err(Error::Undefined { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    if values.is_empty() {
        return Err(Error::Undefined {
            what: "bootstrap interval".into(),
            reason: "the statistic was undefined on every resample".into(),
        });
    }
    values.sort_by(f64::total_cmp);
    let alpha = (1.0 - params.level) / 2.0;
    Ok(ConfidenceInterval {
        estimate,
        lower: quantile(&values, alpha),
        upper: quantile(&values, 1.0 - alpha),
        level: params.level,
        resamples: values.len(),
    })
}

/// Linear-interpolation quantile of sorted, non-empty `v`.
fn quantile(v: &[f64], a: f64) -> f64 {
    let h = a * (v.len() - 1) as f64;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// Bootstrap a metric of `(probs, labels)` by resampling rows.
///
/// `metric` is any of the crate's `fn(ArrayView2<f64>, &[usize]) -> Result<f64>`
/// metrics or a closure around one, e.g. `|p, y| ece(p, y, binning)`.
///
/// # Errors
/// As [`check_probabilities`](crate::check_probabilities),
/// [`check_labels`](crate::check_labels) and [`bootstrap`].
///
/// # Example
/// ```
/// use fanaroff_calibrate::{bootstrap_metric, nll, Bootstrap};
/// use ndarray::array;
/// use rand::{SeedableRng, rngs::StdRng};
/// let p = array![[0.9, 0.1], [0.4, 0.6], [0.7, 0.3], [0.2, 0.8]];
/// let y = [0, 1, 1, 1];
/// let ci = bootstrap_metric(p.view(), &y, nll, Bootstrap::new(200, 0.95).unwrap(), &mut StdRng::seed_from_u64(1)).unwrap();
/// assert!(ci.lower <= ci.upper && ci.resamples == 200);
/// ```
pub fn bootstrap_metric<R, M>(
    probs: ArrayView2<'_, f64>,
    labels: &[usize],
    mut metric: M,
    params: Bootstrap,
    rng: &mut R,
) -> Result<ConfidenceInterval>
where
    R: Rng + ?Sized,
    M: FnMut(ArrayView2<'_, f64>, &[usize]) -> Result<f64>,
{
    check_pair(probs, labels)?;
    bootstrap(labels.len(), params, rng, |idx| {
        let p = probs.select(Axis(0), idx);
        let y: Vec<usize> = idx.iter().map(|&i| labels[i]).collect();
        metric(p.view(), &y)
    })
}
