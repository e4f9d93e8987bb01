//! Choosing the prior precision: by the Laplace evidence on the training
//! set, or by the negative log-likelihood of the predictive on validation
//! data.

use crate::error::{Result, config};
use crate::posterior::{LastLayerLaplace, check_features, check_labels};
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

/// How [`select_prior_precision`] picks the prior precision.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriorSelection {
    /// Keep the configured precision.
    Fixed,
    /// Maximise the log marginal likelihood over [1e-4, 1e4].
    MarginalLikelihood,
    /// Minimise the validation NLL of the probit predictive over
    /// laplace-torch's grid (100 values, 1e-4 to 1e2, log-spaced).
    ValidationNll,
}

/// Applies `how`, sets the chosen precision and returns it.
///
/// # Errors
/// `ValidationNll` without validation data; as the two searches.
pub fn select_prior_precision(
    la: &mut LastLayerLaplace,
    how: PriorSelection,
    val: Option<(ArrayView2<'_, f64>, &[usize])>,
) -> Result<f64> {
    let delta = match how {
        PriorSelection::Fixed => la.prior_precision(),
        PriorSelection::MarginalLikelihood => maximise_marginal_likelihood(la, 1e-4, 1e4)?,
        PriorSelection::ValidationNll => {
            let (f, y) = val.ok_or_else(|| {
                config::<crate::Error>("prior selection", "validation_nll needs validation data")
            })?;
            grid_search_nll(la, f, y, &log_grid(-4.0, 2.0, 100))?
        }
    };
    la.set_prior_precision(delta)?;
    Ok(delta)
}

/// `n` log-spaced values from 10^lo to 10^hi (numpy's `logspace`).
pub fn log_grid(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![10f64.powf(lo)];
    }
    (0..n)
        .map(|i| 10f64.powf(lo + (hi - lo) * i as f64 / (n - 1) as f64))
        .collect()
}

/// The prior precision in [lo, hi] with the largest log marginal
/// likelihood: the best of 81 log-spaced values, refined by golden-section
/// search on ln delta between its neighbours (relative precision 1e-8).
/// The posterior is not changed.
///
/// # Errors
/// A range that is not 0 < lo < hi, finite.
pub fn maximise_marginal_likelihood(la: &LastLayerLaplace, lo: f64, hi: f64) -> Result<f64> {
    if !(lo > 0.0 && hi > lo && hi.is_finite()) {
        return Err(config(
            "prior precision range",
            format!("[{lo}, {hi}]; need 0 < lo < hi"),
        ));
    }
    let (a, b) = (lo.ln(), hi.ln());
    let n = 81;
    let grid: Vec<f64> = (0..n)
        .map(|i| a + (b - a) * i as f64 / (n - 1) as f64)
        .collect();
    let values: Vec<f64> = grid
        .iter()
        .map(|&t| la.log_marginal_likelihood(t.exp()))
        .collect::<Result<_>>()?;
    let best = argmax(&values);
    let (mut x0, mut x1) = (grid[best.saturating_sub(1)], grid[(best + 1).min(n - 1)]);
    let f = |t: f64| la.log_marginal_likelihood(t.exp());
    let r = (5f64.sqrt() - 1.0) / 2.0;
    while x1 - x0 > 1e-8 {
        let (c, d) = (x1 - r * (x1 - x0), x0 + r * (x1 - x0));
        if f(c)? >= f(d)? {
            x1 = d;
        } else {
            x0 = c;
        }
    }
    Ok(((x0 + x1) / 2.0).exp())
}

/// The value of `grid` whose probit predictive has the smallest summed
/// NLL on `features` and `labels` (the first on ties, as laplace-torch's
/// grid search). Leaves the posterior at that precision.
///
/// # Errors
/// An empty grid or a value that is not positive; bad features or labels.
pub fn grid_search_nll(
    la: &mut LastLayerLaplace,
    features: ArrayView2<'_, f64>,
    labels: &[usize],
    grid: &[f64],
) -> Result<f64> {
    if grid.is_empty() {
        return Err(config("prior precision grid", "empty"));
    }
    check_features(features, &la.layout)?;
    check_labels(
        labels,
        features.nrows(),
        la.cfg.head.classes(la.layout.outputs),
    )?;
    let mut nll = Vec::with_capacity(grid.len());
    for &delta in grid {
        la.set_prior_precision(delta)?;
        let p = la.predict_probit(features)?;
        nll.push(
            -labels
                .iter()
                .enumerate()
                .map(|(i, &y)| p[[i, y]].ln())
                .sum::<f64>(),
        );
    }
    let best = argmin(&nll);
    la.set_prior_precision(grid[best])?;
    Ok(grid[best])
}

fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

fn argmin(v: &[f64]) -> usize {
    let neg: Vec<f64> = v.iter().map(|x| -x).collect();
    argmax(&neg)
}
