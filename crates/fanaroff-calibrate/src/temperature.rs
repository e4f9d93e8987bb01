//! Temperature scaling (Guo et al. 2017): one scalar `t > 0` that divides
//! the logits, fitted by minimising the validation NLL.

use ndarray::{Array2, ArrayView1, ArrayView2};
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::input::check_labels;

/// Smallest temperature the fit will return.
pub const MIN_TEMPERATURE: f64 = 1e-3;
/// Largest temperature the fit will return.
pub const MAX_TEMPERATURE: f64 = 1e3;

/// A fitted temperature.
///
/// ```text
/// softmax(z / t)_k = exp(z_k / t) / sum_j exp(z_j / t)
/// NLL(t)           = (1/N) sum_n [ logsumexp_j(z_nj / t) - z_{n,y_n} / t ]
/// t*               = argmin_{t in [1e-3, 1e3]} NLL(t)
/// ```
///
/// # Optimiser
/// `NLL` is convex in the inverse temperature `b = 1/t` (a log-sum-exp of
/// linear functions minus a linear function), hence unimodal in `s = ln t`.
/// The fit scans `s` on a grid of step 0.25 over `[ln 1e-3, ln 1e3]`,
/// brackets the best grid point by its neighbours, and refines by golden-
/// section search to `|Δs| < 1e-9`. The result is finally compared with
/// `t = 1` and the better is kept, so **the fitted temperature never raises
/// the NLL on the data it was fitted on** (the uncalibrated model is `t = 1`).
/// When the data are separable and the optimum runs off to `t -> 0`, the fit
/// stops at [`MIN_TEMPERATURE`].
///
/// Temperature scaling does not change the argmax, hence not the accuracy.
///
/// # Example
/// ```
/// use fanaroff_calibrate::TemperatureScaling;
/// use ndarray::array;
/// // Every input has logit margin m = 4, and 3 of 4 are right. NLL is
/// // minimised where sigmoid(m / t) = 3/4, i.e. t = 4 / ln 3 = 3.641.
/// let z = array![[4.0, 0.0], [0.0, 4.0], [4.0, 0.0], [0.0, 4.0]];
/// let y = [0, 1, 1, 1];
/// let ts = TemperatureScaling::fit(z.view(), &y).unwrap();
/// assert!((ts.temperature - 4.0 / 3f64.ln()).abs() < 1e-6);
/// assert!(ts.nll_after <= ts.nll_before);
/// let p = ts.apply(z.view()).unwrap();
/// assert!((p[[0, 0]] + p[[0, 1]] - 1.0).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct TemperatureScaling {
    /// The fitted temperature `t*`.
    pub temperature: f64,
    /// Validation NLL at `t = 1`.
    pub nll_before: f64,
    /// Validation NLL at `t = t*` (never larger than `nll_before`).
    pub nll_after: f64,
}

impl TemperatureScaling {
    /// A scaler with a given temperature (no fit).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `t` is not finite and positive.
    pub fn with_temperature(t: f64) -> Result<Self> {
        if !(t.is_finite() && t > 0.0) {
            return Err(Error::param("temperature", t, "must be finite and > 0"));
        }
        Ok(TemperatureScaling {
            temperature: t,
            nll_before: f64::NAN,
            nll_after: f64::NAN,
        })
    }

    /// Fit `t` on validation logits `[N, K]` and labels.
    ///
    /// # Errors
    /// [`Error::Empty`] for no rows or classes, [`Error::NonFinite`] for a NaN
    /// or infinite logit, label errors as [`check_labels`].
    pub fn fit(logits: ArrayView2<'_, f64>, labels: &[usize]) -> Result<Self> {
        check_logits(logits)?;
        check_labels(labels, logits.nrows(), logits.ncols())?;
        let f = |s: f64| nll_at(logits, labels, s.exp());
        let (lo, hi) = (MIN_TEMPERATURE.ln(), MAX_TEMPERATURE.ln());
        let steps = ((hi - lo) / 0.25).ceil() as usize;
        let grid: Vec<f64> = (0..=steps)
            .map(|i| lo + (hi - lo) * i as f64 / steps as f64)
            .collect();
        let values: Vec<f64> = grid.iter().map(|&s| f(s)).collect();
        let best = values
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i);
        let a = grid[best.saturating_sub(1)];
        let b = grid[(best + 1).min(steps)];
        let s = golden_section(f, a, b, 1e-9);
        let (mut t, mut after) = (s.exp(), f(s));
        if values[best] < after {
            t = grid[best].exp();
            after = values[best];
        }
        let before = nll_at(logits, labels, 1.0);
        if before <= after {
            t = 1.0;
            after = before;
        }
        Ok(TemperatureScaling {
            temperature: t,
            nll_before: before,
            nll_after: after,
        })
    }

    /// Convenience for `f32` logits.
    ///
    /// # Errors
    /// As [`fit`](Self::fit).
    pub fn fit_f32(logits: ArrayView2<'_, f32>, labels: &[usize]) -> Result<Self> {
        Self::fit(logits.mapv(f64::from).view(), labels)
    }

    /// Calibrated probabilities `softmax(z / t)` for logits `[N, K]`.
    ///
    /// # Errors
    /// [`Error::Empty`] or [`Error::NonFinite`] for bad logits.
    pub fn apply(&self, logits: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        check_logits(logits)?;
        let mut out = logits.to_owned();
        for mut row in out.outer_iter_mut() {
            let scaled = row.mapv(|z| z / self.temperature);
            let lse = log_sum_exp(scaled.view());
            row.assign(&scaled.mapv(|v| (v - lse).exp()));
        }
        Ok(out)
    }

    /// Mean NLL of `softmax(z / t)` on `(logits, labels)` at this temperature.
    ///
    /// # Errors
    /// As [`fit`](Self::fit).
    pub fn nll(&self, logits: ArrayView2<'_, f64>, labels: &[usize]) -> Result<f64> {
        check_logits(logits)?;
        check_labels(labels, logits.nrows(), logits.ncols())?;
        Ok(nll_at(logits, labels, self.temperature))
    }
}

impl TemperatureScaling {
    /// Temperature scaling of *probabilities* (e.g. an MC-averaged
    /// predictive, which has no logits): logits are recovered up to a
    /// constant as `ln p`, so
    ///
    /// ```text
    /// q_k = p_k^(1/t) / sum_j p_j^(1/t)        (a zero probability stays zero)
    /// ```
    ///
    /// For logits use [`TemperatureScaling::apply`].
    ///
    /// # Errors
    /// As [`check_probabilities`](crate::check_probabilities).
    pub fn apply_to_probs(&self, probs: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        crate::input::check_probabilities(probs, crate::input::DEFAULT_SUM_TOLERANCE)?;
        let inv_t = 1.0 / self.temperature;
        let mut q = probs.mapv(|p| {
            if p > 0.0 {
                p.ln() * inv_t
            } else {
                f64::NEG_INFINITY
            }
        });
        for mut row in q.outer_iter_mut() {
            let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            row.mapv_inplace(|v| (v - m).exp());
            let s = row.sum();
            row /= s;
        }
        Ok(q)
    }
}

/// Plain softmax of logits `[N, K]` (temperature 1).
///
/// # Errors
/// [`Error::Empty`] or [`Error::NonFinite`] for bad logits.
pub fn softmax(logits: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    TemperatureScaling {
        temperature: 1.0,
        nll_before: f64::NAN,
        nll_after: f64::NAN,
    }
    .apply(logits)
}

fn check_logits(logits: ArrayView2<'_, f64>) -> Result<()> {
    if logits.nrows() == 0 || logits.ncols() == 0 {
        return Err(Error::empty(format!(
            "logits of shape {:?}",
            logits.shape()
        )));
    }
    if let Some(((i, j), &v)) = logits.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite {
            location: format!("logits[{i}, {j}]"),
            value: v,
        });
    }
    Ok(())
}

fn log_sum_exp(v: ArrayView1<'_, f64>) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + v.iter().map(|&x| (x - m).exp()).sum::<f64>().ln()
}

/// Exact mean NLL of softmax(z / t) (no probability floor).
fn nll_at(logits: ArrayView2<'_, f64>, labels: &[usize], t: f64) -> f64 {
    let total: f64 = logits
        .outer_iter()
        .zip(labels)
        .map(|(row, &y)| {
            let scaled = row.mapv(|z| z / t);
            log_sum_exp(scaled.view()) - scaled[y]
        })
        .sum();
    total / labels.len() as f64
}

/// Golden-section minimisation of a unimodal `f` on `[a, b]`.
fn golden_section(f: impl Fn(f64) -> f64, mut a: f64, mut b: f64, tol: f64) -> f64 {
    let inv_phi = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - inv_phi * (b - a);
    let mut d = a + inv_phi * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    while (b - a).abs() > tol {
        if fc <= fd {
            b = d;
            d = c;
            fd = fc;
            c = b - inv_phi * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + inv_phi * (b - a);
            fd = f(d);
        }
    }
    (a + b) / 2.0
}
