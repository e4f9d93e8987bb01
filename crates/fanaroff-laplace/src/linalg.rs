//! The dense linear algebra a posterior needs: Cholesky factor, log
//! determinant and inverse of a symmetric positive-definite matrix.

use crate::error::{Error, Result};
use ndarray::Array2;

/// Lower-triangular `L` with `L L^T = a`.
///
/// # Errors
/// [`Error::NotPositiveDefinite`] for a non-positive pivot or a non-finite
/// entry.
pub(crate) fn cholesky(a: &Array2<f64>, what: &str) -> Result<Array2<f64>> {
    let n = a.nrows();
    let mut l = Array2::<f64>::zeros((n, n));
    for j in 0..n {
        let mut d = a[[j, j]];
        for k in 0..j {
            d -= l[[j, k]] * l[[j, k]];
        }
        if !(d.is_finite() && d > 0.0) {
            return Err(Error::NotPositiveDefinite { what: what.into() });
        }
        let d = d.sqrt();
        l[[j, j]] = d;
        for i in j + 1..n {
            let mut s = a[[i, j]];
            for k in 0..j {
                s -= l[[i, k]] * l[[j, k]];
            }
            l[[i, j]] = s / d;
        }
    }
    Ok(l)
}

/// ln det(a) from its Cholesky factor.
pub(crate) fn log_det(l: &Array2<f64>) -> f64 {
    2.0 * l.diag().iter().map(|v| v.ln()).sum::<f64>()
}

/// a^-1 from the Cholesky factor `L` of `a`: solves L X = I, then
/// a^-1 = X^T X.
pub(crate) fn inverse(l: &Array2<f64>) -> Array2<f64> {
    let n = l.nrows();
    let mut x = Array2::<f64>::zeros((n, n));
    for c in 0..n {
        for i in c..n {
            let mut s = if i == c { 1.0 } else { 0.0 };
            for k in c..i {
                s -= l[[i, k]] * x[[k, c]];
            }
            x[[i, c]] = s / l[[i, i]];
        }
    }
    x.t().dot(&x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn known_factor_determinant_and_inverse() {
        // [[4, 2], [2, 3]] = L L^T with L = [[2, 0], [1, sqrt 2]]; det 8
        let a = array![[4.0, 2.0], [2.0, 3.0]];
        let l = cholesky(&a, "a").unwrap();
        assert!((l[[1, 1]] - 2f64.sqrt()).abs() < 1e-15 && l[[0, 1]] == 0.0);
        assert!((log_det(&l) - 8f64.ln()).abs() < 1e-14);
        let inv = inverse(&l);
        let expect = array![[3.0, -2.0], [-2.0, 4.0]] / 8.0;
        assert!((inv - expect).iter().all(|v| v.abs() < 1e-15));
    }

    #[test]
    fn indefinite_and_nan_are_errors() {
        assert!(cholesky(&array![[1.0, 2.0], [2.0, 1.0]], "a").is_err());
        assert!(cholesky(&array![[f64::NAN]], "a").is_err());
    }
}
