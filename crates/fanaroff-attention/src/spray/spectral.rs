//! Spectral clustering (Ng, Jordan & Weiss 2002) on an affinity matrix.

use super::eigen::SymmetricEigen;
use super::kmeans::{KMeans, KMeansConfig, kmeans};
use super::laplacian::laplacian_spectrum;
use fanaroff_nn::Result;
use ndarray::{Array2, ArrayView2, s};
use rand::Rng;

/// A spectral clustering: the spectrum it used, the embedding and the
/// k-means result on it.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralClustering {
    /// Eigendecomposition of the normalised Laplacian, ascending.
    pub spectrum: SymmetricEigen,
    /// The spectral embedding `[N, k]`: the first `k` eigenvectors as
    /// columns, each row scaled to unit length (a zero row stays zero).
    pub embedding: Array2<f64>,
    /// k-means on the rows of `embedding`.
    pub kmeans: KMeans,
}

/// The first `k` eigenvectors (columns of `spectrum.vectors`) as rows of
/// points, each row normalised to unit Euclidean length. A row that is all
/// zero (possible for an isolated node whose own eigenvector is not among
/// the first `k`) stays zero instead of becoming NaN.
///
/// # Errors
/// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) unless
/// `1 <= k <= N`.
pub fn spectral_embedding(spectrum: &SymmetricEigen, k: usize) -> Result<Array2<f64>> {
    let n = spectrum.values.len();
    if k == 0 || k > n {
        return Err(fanaroff_core::config(
            "spectral_embedding",
            format!("k = {k} must be in 1..={n}"),
        ));
    }
    let mut u = spectrum.vectors.slice(s![.., ..k]).to_owned();
    for mut row in u.outer_iter_mut() {
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > 0.0 {
            row.mapv_inplace(|v| v / norm);
        }
    }
    Ok(u)
}

/// Spectral clustering of the affinity `w` into `km.k` clusters: the
/// normalised Laplacian ([`normalized_laplacian`](super::normalized_laplacian)),
/// its `k` eigenvectors of smallest eigenvalue, rows normalised
/// ([`spectral_embedding`]), then [`kmeans`] with `km` and `rng`.
///
/// # Errors
/// As [`normalized_laplacian`](super::normalized_laplacian),
/// [`spectral_embedding`] and [`kmeans`] (`k > N` is an
/// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig)).
pub fn spectral_clustering<R: Rng + ?Sized>(
    w: ArrayView2<'_, f64>,
    km: &KMeansConfig,
    rng: &mut R,
) -> Result<SpectralClustering> {
    let spectrum = laplacian_spectrum(w)?;
    cluster_spectrum(spectrum, km, rng)
}

/// [`spectral_clustering`] from an already computed Laplacian spectrum.
pub(crate) fn cluster_spectrum<R: Rng + ?Sized>(
    spectrum: SymmetricEigen,
    km: &KMeansConfig,
    rng: &mut R,
) -> Result<SpectralClustering> {
    let embedding = spectral_embedding(&spectrum, km.k)?;
    let kmeans = kmeans(embedding.view(), km, rng)?;
    Ok(SpectralClustering {
        spectrum,
        embedding,
        kmeans,
    })
}
