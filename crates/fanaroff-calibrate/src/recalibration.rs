//! Non-parametric recalibrators fitted on validation probabilities:
//! histogram binning and isotonic regression, both one-vs-rest per class.
//!
//! For each class `k` a map `g_k : [0, 1] -> [0, 1]` is fitted on the pairs
//! `(p_nk, 1[y_n = k])`; a new probability vector is recalibrated as
//!
//! ```text
//! q_k = g_k(p_k) / sum_j g_j(p_j)          (uniform 1/K if the sum is 0)
//! ```
//!
//! Renormalisation means the result is a probability vector again; it can
//! change the argmax (unlike [temperature scaling](crate::TemperatureScaling)).

use ndarray::{Array2, ArrayView2};
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::binning::Binning;
use crate::error::{Error, Result};
use crate::input::{DEFAULT_SUM_TOLERANCE, check_pair, check_probabilities};

/// Something that maps probabilities `[N, K]` to recalibrated probabilities.
pub trait Recalibrator {
    /// Recalibrate each row of `probs`.
    ///
    /// # Errors
    /// Bad probabilities, or a class count different from the fit's.
    fn apply(&self, probs: ArrayView2<'_, f64>) -> Result<Array2<f64>>;
}

fn check_apply(probs: ArrayView2<'_, f64>, k: usize) -> Result<()> {
    check_probabilities(probs, DEFAULT_SUM_TOLERANCE)?;
    if probs.ncols() != k {
        return Err(Error::shape(
            "classes of the recalibrated probabilities",
            format!("{k} (as fitted)"),
            probs.ncols().to_string(),
        ));
    }
    Ok(())
}

fn renormalise(mut q: Array2<f64>) -> Array2<f64> {
    let k = q.ncols() as f64;
    for mut row in q.outer_iter_mut() {
        let s = row.sum();
        if s > 0.0 {
            row /= s;
        } else {
            row.fill(1.0 / k);
        }
    }
    q
}

/// Histogram binning (Zadrozny & Elkan 2001), one-vs-rest.
///
/// ```text
/// g_k(p) = (# { n in bin(p) : y_n = k }) / |bin(p)|      bins on p_nk from the fit
/// ```
///
/// Bins follow the [`Binning`] rules (equal-mass edges are the quantiles of
/// the validation `p_nk`). A bin that was empty at fit time maps to its
/// midpoint.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct HistogramBinning {
    /// Per class: `B + 1` bin edges.
    pub edges: Vec<Vec<f64>>,
    /// Per class: the calibrated value of each of the `B` bins.
    pub values: Vec<Vec<f64>>,
}

impl HistogramBinning {
    /// Fit on validation probabilities and labels.
    ///
    /// # Errors
    /// As [`check_probabilities`] and
    /// [`check_labels`](crate::check_labels).
    ///
    /// # Example
    /// ```
    /// use fanaroff_calibrate::{Binning, HistogramBinning, Recalibrator};
    /// use ndarray::array;
    /// let p = array![[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.2, 0.8]];
    /// let h = HistogramBinning::fit(p.view(), &[0, 1, 1, 1], Binning::new(2).unwrap()).unwrap();
    /// // class 0, upper bin: half of the p0 = 0.9 inputs are class 0 -> 0.5
    /// let q = h.apply(array![[0.9, 0.1]].view()).unwrap();
    /// assert!((q[[0, 0]] - 0.5).abs() < 1e-12);
    /// ```
    pub fn fit(probs: ArrayView2<'_, f64>, labels: &[usize], binning: Binning) -> Result<Self> {
        check_pair(probs, labels)?;
        let mut edges = Vec::new();
        let mut values = Vec::new();
        for k in 0..probs.ncols() {
            let p = probs.column(k).to_vec();
            let a = binning.assign(&p)?;
            let b = binning.bins();
            let mut count = vec![0usize; b];
            let mut hits = vec![0usize; b];
            for (&bin, &y) in a.index.iter().zip(labels) {
                count[bin] += 1;
                hits[bin] += usize::from(y == k);
            }
            let v = (0..b)
                .map(|i| {
                    if count[i] > 0 {
                        hits[i] as f64 / count[i] as f64
                    } else {
                        (a.edges[i] + a.edges[i + 1]) / 2.0
                    }
                })
                .collect();
            edges.push(a.edges);
            values.push(v);
        }
        Ok(HistogramBinning { edges, values })
    }
}

impl Recalibrator for HistogramBinning {
    fn apply(&self, probs: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        check_apply(probs, self.edges.len())?;
        let mut q = probs.to_owned();
        for ((i, k), v) in q.indexed_iter_mut() {
            let _ = i;
            let e = &self.edges[k];
            let interior = &e[1..e.len() - 1];
            let bin = interior.partition_point(|&x| x <= *v);
            *v = self.values[k][bin];
        }
        Ok(renormalise(q))
    }
}

/// Isotonic regression (Zadrozny & Elkan 2002), one-vs-rest.
///
/// `g_k` is the non-decreasing function minimising
/// `sum_n (g_k(p_nk) - 1[y_n = k])^2`, found by pool-adjacent-violators
/// (equal `p_nk` are pooled first). Between fitted points `g_k` is linearly
/// interpolated; outside the fitted range it is constant (clipped), as in
/// scikit-learn's `IsotonicRegression(out_of_bounds="clip")`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct IsotonicRegression {
    /// Per class: distinct fitted inputs, increasing.
    pub x: Vec<Vec<f64>>,
    /// Per class: fitted non-decreasing values at `x`.
    pub y: Vec<Vec<f64>>,
}

impl IsotonicRegression {
    /// Fit on validation probabilities and labels.
    ///
    /// # Errors
    /// As [`check_probabilities`] and
    /// [`check_labels`](crate::check_labels).
    ///
    /// # Example
    /// ```
    /// use fanaroff_calibrate::{IsotonicRegression, Recalibrator};
    /// use ndarray::array;
    /// // class 1 outcomes 0, 1, 0 at p1 = 0.2, 0.6, 0.8: PAV pools the last two -> 0.5
    /// let p = array![[0.8, 0.2], [0.4, 0.6], [0.2, 0.8]];
    /// let iso = IsotonicRegression::fit(p.view(), &[0, 1, 0]).unwrap();
    /// assert_eq!(iso.y[1], vec![0.0, 0.5, 0.5]);
    /// ```
    pub fn fit(probs: ArrayView2<'_, f64>, labels: &[usize]) -> Result<Self> {
        check_pair(probs, labels)?;
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for k in 0..probs.ncols() {
            let mut pairs: Vec<(f64, f64)> = probs
                .column(k)
                .iter()
                .zip(labels)
                .map(|(&p, &y)| (p, if y == k { 1.0 } else { 0.0 }))
                .collect();
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (x, y) = pav(&pairs);
            xs.push(x);
            ys.push(y);
        }
        Ok(IsotonicRegression { x: xs, y: ys })
    }

    fn eval(&self, k: usize, p: f64) -> f64 {
        let (x, y) = (&self.x[k], &self.y[k]);
        let j = x.partition_point(|&v| v <= p);
        if j == 0 {
            return y[0];
        }
        if j == x.len() {
            return y[x.len() - 1];
        }
        let (x0, x1, y0, y1) = (x[j - 1], x[j], y[j - 1], y[j]);
        y0 + (p - x0) / (x1 - x0) * (y1 - y0)
    }
}

/// Pool-adjacent-violators on pairs sorted by x; returns the distinct x and
/// the fitted value at each.
fn pav(pairs: &[(f64, f64)]) -> (Vec<f64>, Vec<f64>) {
    // Pool equal x first: (x, sum y, weight).
    let mut pts: Vec<(f64, f64, f64)> = Vec::new();
    for &(x, y) in pairs {
        match pts.last_mut() {
            Some(last) if last.0 == x => {
                last.1 += y;
                last.2 += 1.0;
            }
            _ => pts.push((x, y, 1.0)),
        }
    }
    // Blocks: (sum y, weight, number of points).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
    for &(_, s, w) in &pts {
        blocks.push((s, w, 1));
        while blocks.len() >= 2 {
            let n = blocks.len();
            let (s1, w1, c1) = blocks[n - 2];
            let (s2, w2, c2) = blocks[n - 1];
            if s1 / w1 > s2 / w2 {
                blocks.truncate(n - 2);
                blocks.push((s1 + s2, w1 + w2, c1 + c2));
            } else {
                break;
            }
        }
    }
    let x = pts.iter().map(|p| p.0).collect();
    let y = blocks
        .iter()
        .flat_map(|&(s, w, c)| std::iter::repeat_n(s / w, c))
        .collect();
    (x, y)
}

impl Recalibrator for IsotonicRegression {
    fn apply(&self, probs: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        check_apply(probs, self.x.len())?;
        let mut q = probs.to_owned();
        for ((_, k), v) in q.indexed_iter_mut() {
            *v = self.eval(k, *v);
        }
        Ok(renormalise(q))
    }
}
