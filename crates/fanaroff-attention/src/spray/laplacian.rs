//! The symmetric normalised graph Laplacian and the eigengap heuristic.

use super::check_finite;
use super::eigen::{SymmetricEigen, symmetric_eigen};
use fanaroff_nn::Result;
use ndarray::{Array2, ArrayView1, ArrayView2};

/// The symmetric normalised Laplacian of the affinity matrix `w`:
///
/// ```text
/// L = I - D^{-1/2} W D^{-1/2},   D = diag(d),  d_i = sum_{j != i} W_ij
/// ```
///
/// The diagonal of `w` (self-loops) is ignored. An isolated node
/// (`d_i = 0`) gets a zero row and column, `L_ii = 0`, so it is a connected
/// component of its own with eigenvalue 0 and no NaN appears; this is
/// `scipy.sparse.csgraph.laplacian(w, normed=True)`.
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for an empty,
/// non-square, non-finite, negative or non-symmetric `w` (beyond
/// `1e-12 * max|W|`; within that, `(W + W^T) / 2` is used).
pub fn normalized_laplacian(w: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    let n = w.nrows();
    if n == 0 || w.ncols() != n {
        return Err(fanaroff_core::input(
            "normalized_laplacian",
            format!("need a non-empty square affinity, got {:?}", w.shape()),
        ));
    }
    check_finite("normalized_laplacian", w.iter().copied())?;
    let tol = 1e-12 * w.iter().fold(0.0f64, |s, v| s.max(v.abs()));
    for i in 0..n {
        for j in 0..n {
            if w[[i, j]] < 0.0 || (w[[i, j]] - w[[j, i]]).abs() > tol {
                return Err(fanaroff_core::input(
                    "normalized_laplacian",
                    format!("affinity must be symmetric and non-negative; see ({i}, {j})"),
                ));
            }
        }
    }
    let inv_sqrt: Vec<f64> = (0..n)
        .map(|i| {
            let d: f64 = (0..n).filter(|&j| j != i).map(|j| w[[i, j]]).sum();
            if d > 0.0 { 1.0 / d.sqrt() } else { 0.0 }
        })
        .collect();
    let mut l = Array2::zeros((n, n));
    for i in 0..n {
        for j in 0..n {
            l[[i, j]] = if i == j {
                if inv_sqrt[i] > 0.0 { 1.0 } else { 0.0 }
            } else {
                -0.5 * (w[[i, j]] + w[[j, i]]) * inv_sqrt[i] * inv_sqrt[j]
            };
        }
    }
    Ok(l)
}

/// The eigengap heuristic on the smallest Laplacian eigenvalues.
#[derive(Debug, Clone, PartialEq)]
pub struct Eigengap {
    /// The `k_max + 1` smallest eigenvalues, ascending.
    pub values: Vec<f64>,
    /// `gaps[i] = values[i + 1] - values[i]` for `i < k_max`.
    pub gaps: Vec<f64>,
    /// `1 + argmax gaps` (the first maximum on ties): the number of
    /// eigenvalues below the largest gap, in `1..=k_max`.
    pub suggested_k: usize,
}

/// Eigengap analysis of ascending eigenvalues: the gaps between the first
/// `k_max + 1` and the number of clusters they suggest.
///
/// # Errors
/// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) unless
/// `1 <= k_max < values.len()`.
pub fn eigengap(values: ArrayView1<'_, f64>, k_max: usize) -> Result<Eigengap> {
    if k_max == 0 || k_max >= values.len() {
        return Err(fanaroff_core::config(
            "eigengap",
            format!("k_max = {k_max} must be in 1..{}", values.len()),
        ));
    }
    let values: Vec<f64> = values.iter().take(k_max + 1).copied().collect();
    let gaps: Vec<f64> = values.windows(2).map(|p| p[1] - p[0]).collect();
    let mut best = 0;
    for (i, g) in gaps.iter().enumerate() {
        if *g > gaps[best] {
            best = i;
        }
    }
    Ok(Eigengap {
        values,
        gaps,
        suggested_k: best + 1,
    })
}

/// Eigendecomposition of the normalised Laplacian of `w`, ascending.
///
/// # Errors
/// As [`normalized_laplacian`] and [`symmetric_eigen`].
pub fn laplacian_spectrum(w: ArrayView2<'_, f64>) -> Result<SymmetricEigen> {
    symmetric_eigen(normalized_laplacian(w)?.view())
}
