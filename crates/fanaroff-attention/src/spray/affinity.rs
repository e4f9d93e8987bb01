//! The k-nearest-neighbour affinity graph between feature vectors.

use super::check_finite;
use fanaroff_nn::Result;
use ndarray::{Array2, ArrayView2};

/// Edge weights of the kNN graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AffinityWeights {
    /// Weight 1 for every edge (the plain kNN graph).
    #[default]
    Binary,
    /// `exp(-d^2 / (2 sigma^2))` with `sigma` the median of the distances
    /// from every point to its `k` nearest neighbours (the median
    /// heuristic). If that median is 0 (many duplicates) every edge gets
    /// weight 1.
    Gaussian,
}

/// Squared Euclidean distances between the rows of `x`.
pub(crate) fn squared_distances(x: ArrayView2<'_, f64>) -> Array2<f64> {
    let n = x.nrows();
    let mut d = Array2::zeros((n, n));
    for i in 0..n {
        for j in 0..i {
            let s: f64 = x
                .row(i)
                .iter()
                .zip(x.row(j))
                .map(|(a, b)| (a - b) * (a - b))
                .sum();
            d[[i, j]] = s;
            d[[j, i]] = s;
        }
    }
    d
}

/// The symmetric kNN affinity matrix `[N, N]` of the rows of `features`:
/// `W_ij > 0` if `j` is among the `k` nearest neighbours (Euclidean) of
/// `i` or `i` among those of `j` (the "or" symmetrisation), else 0; the
/// diagonal is 0. Ties in distance go to the lower index. Lapuschkin et al.
/// (2019) cluster on a kNN affinity; which weights, see
/// [`AffinityWeights`].
///
/// # Errors
/// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) unless
/// `1 <= k < N`; [`InvalidInput`](fanaroff_core::Error::InvalidInput) for
/// non-finite features or fewer than 2 rows.
pub fn knn_affinity(
    features: ArrayView2<'_, f64>,
    k: usize,
    weights: AffinityWeights,
) -> Result<Array2<f64>> {
    let n = features.nrows();
    if n < 2 {
        return Err(fanaroff_core::input(
            "knn_affinity",
            "need at least 2 points",
        ));
    }
    if k == 0 || k >= n {
        return Err(fanaroff_core::config(
            "knn_affinity",
            format!("k = {k} must be in 1..{n} for {n} points"),
        ));
    }
    check_finite("knn_affinity", features.iter().copied())?;
    let d2 = squared_distances(features);
    let mut neighbours = Vec::with_capacity(n);
    let mut knn_dist = Vec::with_capacity(n * k);
    for i in 0..n {
        let mut order: Vec<usize> = (0..n).filter(|&j| j != i).collect();
        order.sort_by(|&a, &b| d2[[i, a]].total_cmp(&d2[[i, b]]).then(a.cmp(&b)));
        order.truncate(k);
        knn_dist.extend(order.iter().map(|&j| d2[[i, j]].sqrt()));
        neighbours.push(order);
    }
    let sigma = match weights {
        AffinityWeights::Binary => 0.0,
        AffinityWeights::Gaussian => median(&mut knn_dist),
    };
    let mut w = Array2::zeros((n, n));
    for (i, list) in neighbours.iter().enumerate() {
        for &j in list {
            let v = if sigma > 0.0 {
                (-d2[[i, j]] / (2.0 * sigma * sigma)).exp()
            } else {
                1.0
            };
            w[[i, j]] = v;
            w[[j, i]] = v;
        }
    }
    Ok(w)
}

fn median(x: &mut [f64]) -> f64 {
    x.sort_by(f64::total_cmp);
    let m = x.len() / 2;
    if x.len() % 2 == 1 {
        x[m]
    } else {
        0.5 * (x[m - 1] + x[m])
    }
}
