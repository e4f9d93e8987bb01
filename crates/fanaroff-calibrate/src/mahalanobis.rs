//! The Mahalanobis out-of-distribution score on penultimate features (Lee
//! et al. 2018): class means and one shared covariance from the training
//! features; the score of a feature vector is its smallest squared
//! Mahalanobis distance to a class mean (higher = more likely out of
//! distribution).

use crate::error::{Error, Result};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

/// Class means and the Cholesky factor of the shared covariance.
#[derive(Debug, Clone, PartialEq)]
pub struct Mahalanobis {
    means: Array2<f64>,
    /// Lower-triangular `L` with `L L^T = Sigma + ridge I`.
    chol: Array2<f64>,
}

impl Mahalanobis {
    /// Fits class means and the shared (maximum-likelihood) covariance of
    /// `features` `[N, D]` with `labels` in `0..classes`; `ridge` times the
    /// mean variance is added to the diagonal so that the covariance of
    /// few images in many dimensions stays invertible.
    ///
    /// # Errors
    /// Empty or non-finite features, a label count that differs from `N`,
    /// a label out of range, a class without features, a negative ridge,
    /// a covariance that is not positive definite.
    ///
    /// # Example
    /// ```
    /// use fanaroff_calibrate::Mahalanobis;
    /// let f = ndarray::array![[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]];
    /// let m = Mahalanobis::fit(f.view(), &[0, 0, 0, 0], 1, 0.0)?;
    /// // variances 0.5 and 2: 1/0.5 + 4/2
    /// assert!((m.score(ndarray::array![[1.0, 2.0]].view())?[0] - 4.0).abs() < 1e-12);
    /// # Ok::<(), fanaroff_calibrate::Error>(())
    /// ```
    pub fn fit(
        features: ArrayView2<'_, f64>,
        labels: &[usize],
        classes: usize,
        ridge: f64,
    ) -> Result<Self> {
        check_features(features)?;
        let (n, d) = features.dim();
        if labels.len() != n {
            return Err(Error::shape(
                "labels",
                format!("{n}"),
                format!("{}", labels.len()),
            ));
        }
        if let Some(&y) = labels.iter().find(|&&y| y >= classes) {
            return Err(Error::param("label", y, format!("must be below {classes}")));
        }
        if !(ridge.is_finite() && ridge >= 0.0) {
            return Err(Error::param("ridge", ridge, "must be finite and >= 0"));
        }
        let mut means = Array2::<f64>::zeros((classes, d));
        let mut counts = vec![0usize; classes];
        for (row, &y) in features.outer_iter().zip(labels) {
            means.row_mut(y).scaled_add(1.0, &row);
            counts[y] += 1;
        }
        if let Some(c) = counts.iter().position(|&c| c == 0) {
            return Err(Error::Undefined {
                what: "the Mahalanobis score".into(),
                reason: format!("class {c} has no features"),
            });
        }
        for (mut m, &c) in means.outer_iter_mut().zip(&counts) {
            m /= c as f64;
        }
        let mut cov = Array2::<f64>::zeros((d, d));
        for (row, &y) in features.outer_iter().zip(labels) {
            let r: Array1<f64> = &row - &means.row(y);
            let col = r.view().insert_axis(Axis(1));
            cov += &col.dot(&col.t());
        }
        cov /= n as f64;
        let mean_var = cov.diag().sum() / d as f64;
        for i in 0..d {
            cov[[i, i]] += ridge * mean_var;
        }
        Ok(Mahalanobis {
            means,
            chol: cholesky(cov)?,
        })
    }

    /// The smallest squared Mahalanobis distance to a class mean, per row
    /// of `features` `[N, D]`.
    ///
    /// # Errors
    /// Empty or non-finite features; a feature width other than the fit's.
    pub fn score(&self, features: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        check_features(features)?;
        if features.ncols() != self.means.ncols() {
            return Err(Error::shape(
                "features",
                format!("{} columns", self.means.ncols()),
                format!("{} columns", features.ncols()),
            ));
        }
        Ok(features
            .outer_iter()
            .map(|f| {
                self.means
                    .outer_iter()
                    .map(|m| squared_norm_solved(&self.chol, (&f - &m).view()))
                    .fold(f64::INFINITY, f64::min)
            })
            .collect())
    }
}

fn check_features(f: ArrayView2<'_, f64>) -> Result<()> {
    if f.nrows() == 0 || f.ncols() == 0 {
        return Err(Error::empty(
            "features need at least one row and one column",
        ));
    }
    match f.indexed_iter().find(|(_, v)| !v.is_finite()) {
        Some(((i, j), &v)) => Err(Error::NonFinite {
            location: format!("features [{i}, {j}]"),
            value: v,
        }),
        None => Ok(()),
    }
}

/// `L` with `L L^T = a` for a symmetric positive-definite `a`.
fn cholesky(a: Array2<f64>) -> Result<Array2<f64>> {
    let d = a.nrows();
    let mut l = Array2::<f64>::zeros((d, d));
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum();
            if i == j {
                let v = a[[i, i]] - s;
                if v <= 0.0 || !v.is_finite() {
                    return Err(Error::Undefined {
                        what: "the Mahalanobis score".into(),
                        reason: "the feature covariance is not positive definite (raise the ridge)"
                            .into(),
                    });
                }
                l[[i, i]] = v.sqrt();
            } else {
                l[[i, j]] = (a[[i, j]] - s) / l[[j, j]];
            }
        }
    }
    Ok(l)
}

/// `|L^{-1} x|^2 = x^T (L L^T)^{-1} x`, by forward substitution.
fn squared_norm_solved(l: &Array2<f64>, x: ArrayView1<'_, f64>) -> f64 {
    let d = x.len();
    let mut z = vec![0.0; d];
    for i in 0..d {
        let s: f64 = (0..i).map(|k| l[[i, k]] * z[k]).sum();
        z[i] = (x[i] - s) / l[[i, i]];
    }
    z.iter().map(|v| v * v).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn nearest_class_and_correlated_covariance() {
        let f = array![
            [1.0, 0.0],
            [-1.0, 0.0],
            [0.0, 2.0],
            [0.0, -2.0],
            [11.0, 10.0],
            [9.0, 10.0],
            [10.0, 12.0],
            [10.0, 8.0]
        ];
        let m = Mahalanobis::fit(f.view(), &[0, 0, 0, 0, 1, 1, 1, 1], 2, 0.0).unwrap();
        let s = m.score(array![[1.0, 2.0], [10.0, 11.0]].view()).unwrap();
        assert!(
            (s[0] - 4.0).abs() < 1e-12 && (s[1] - 0.5).abs() < 1e-12,
            "{s:?}"
        );
        // a correlated covariance against its explicit inverse
        let a = array![[2.0, 0.6], [0.6, 1.0]];
        let l = cholesky(a.clone()).unwrap();
        let x = array![0.3, -1.2];
        let det = 2.0 * 1.0 - 0.36;
        let inv = array![[1.0 / det, -0.6 / det], [-0.6 / det, 2.0 / det]];
        let want = x.dot(&inv.dot(&x));
        assert!((squared_norm_solved(&l, x.view()) - want).abs() < 1e-12);
    }

    #[test]
    fn bad_input_is_an_error() {
        let f = array![[1.0, 0.0], [2.0, 0.0]];
        // a constant second column: singular without a ridge, fine with one
        assert!(Mahalanobis::fit(f.view(), &[0, 0], 1, 0.0).is_err());
        let m = Mahalanobis::fit(f.view(), &[0, 0], 1, 1e-3).unwrap();
        assert!(m.score(array![[1.0, 0.0, 0.0]].view()).is_err());
        assert!(m.score(array![[f64::NAN, 0.0]].view()).is_err());
        assert!(Mahalanobis::fit(f.view(), &[0, 1], 3, 1e-3).is_err()); // class 2 empty
        assert!(Mahalanobis::fit(f.view(), &[0, 3], 2, 1e-3).is_err());
        assert!(Mahalanobis::fit(f.view(), &[0], 1, 1e-3).is_err());
    }
}
