//! The whole SpRAy analysis (Lapuschkin et al. 2019): pool the relevance
//! maps, build a kNN graph, pick the number of clusters by the eigengap,
//! cluster spectrally and embed with t-SNE for figures.

use super::affinity::{AffinityWeights, knn_affinity};
use super::kmeans::KMeansConfig;
use super::laplacian::{Eigengap, eigengap, laplacian_spectrum};
use super::pool::{MapNorm, pool_maps};
use super::spectral::cluster_spectrum;
use super::summary::{
    ClusterMaskFraction, ClusterSummary, cluster_mask_fractions, cluster_summaries,
};
use super::tsne::{Tsne, TsneConfig, tsne};
use fanaroff_nn::Result;
use ndarray::{Array1, Array2, ArrayView3};
use rand::Rng;

/// Settings of [`spray`].
///
/// | name | default | meaning | valid range |
/// |---|---|---|---|
/// | `grid` | 8 | maps are average-pooled to `grid x grid` features | `1..=min(H, W)` |
/// | `norm` | [`MapNorm::L1`] | per-map scaling before pooling | |
/// | `knn` | 10 | neighbours per point in the affinity graph | `1..N` |
/// | `weights` | [`AffinityWeights::Binary`] | edge weights of the graph | |
/// | `k_max` | 10 | eigengap analysis over the `k_max + 1` smallest eigenvalues | `1..N` |
/// | `clusters` | `None` | number of clusters; `None` takes the eigengap's suggestion | `1..=N` |
/// | `restarts` | 10 | k-means++ restarts | `>= 1` |
/// | `max_iter` | 300 | Lloyd iterations per restart | `>= 1` |
/// | `tsne` | `Some(TsneConfig::default())` | 2-D embedding of the features; `None` skips it | see [`TsneConfig`]; `perplexity < N` |
#[derive(Debug, Clone, PartialEq)]
pub struct SprayConfig {
    /// Pooling grid.
    pub grid: usize,
    /// Per-map scaling before pooling.
    pub norm: MapNorm,
    /// Neighbours in the kNN graph.
    pub knn: usize,
    /// Edge weights.
    pub weights: AffinityWeights,
    /// Largest number of clusters the eigengap may suggest.
    pub k_max: usize,
    /// Fixed number of clusters, or `None` for the eigengap's choice.
    pub clusters: Option<usize>,
    /// k-means restarts.
    pub restarts: usize,
    /// Lloyd iterations per restart.
    pub max_iter: usize,
    /// t-SNE settings, or `None` for no t-SNE.
    pub tsne: Option<TsneConfig>,
}

impl Default for SprayConfig {
    fn default() -> Self {
        SprayConfig {
            grid: 8,
            norm: MapNorm::L1,
            knn: 10,
            weights: AffinityWeights::Binary,
            k_max: 10,
            clusters: None,
            restarts: 10,
            max_iter: 300,
            tsne: Some(TsneConfig::default()),
        }
    }
}

impl SprayConfig {
    /// Checks the settings that do not depend on the data (the rest are
    /// checked by the steps of [`spray`]).
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for a zero
    /// `grid`, `knn`, `k_max`, `clusters`, `restarts` or `max_iter`, or as
    /// [`TsneConfig::check`].
    pub fn check(&self) -> Result<()> {
        let zero = [
            ("grid", self.grid),
            ("knn", self.knn),
            ("k_max", self.k_max),
            ("clusters", self.clusters.unwrap_or(1)),
            ("restarts", self.restarts),
            ("max_iter", self.max_iter),
        ];
        if let Some((name, _)) = zero.iter().find(|(_, v)| *v == 0) {
            return Err(fanaroff_core::config(
                format!("SprayConfig.{name}"),
                "must be >= 1",
            ));
        }
        self.tsne.as_ref().map_or(Ok(()), TsneConfig::check)
    }
}

/// Everything [`spray`] computed.
#[derive(Debug, Clone, PartialEq)]
pub struct SprayResult {
    /// Pooled features `[N, grid * grid]`.
    pub features: Array2<f64>,
    /// kNN affinity `[N, N]`.
    pub affinity: Array2<f64>,
    /// All eigenvalues of the normalised Laplacian, ascending.
    pub eigenvalues: Array1<f64>,
    /// Eigengap analysis over the first `k_max + 1` eigenvalues.
    pub eigengap: Eigengap,
    /// Number of clusters used (`clusters` or the eigengap's suggestion).
    pub k: usize,
    /// Cluster of each map, numbered in order of first appearance.
    pub labels: Vec<usize>,
    /// Spectral embedding `[N, k]` (rows normalised) that k-means ran on.
    pub embedding: Array2<f64>,
    /// k-means inertia in the spectral embedding.
    pub inertia: f64,
    /// t-SNE of the features, if asked for.
    pub tsne: Option<Tsne>,
}

impl SprayResult {
    /// [`cluster_summaries`] of this clustering, examples chosen in
    /// [`SprayResult::embedding`].
    ///
    /// # Errors
    /// As [`cluster_summaries`].
    pub fn summaries(
        &self,
        maps: ArrayView3<'_, f32>,
        correct: &[bool],
        m: usize,
    ) -> Result<Vec<ClusterSummary>> {
        cluster_summaries(&self.labels, correct, maps, self.embedding.view(), m)
    }

    /// [`cluster_mask_fractions`] of this clustering.
    ///
    /// # Errors
    /// As [`cluster_mask_fractions`].
    pub fn mask_fractions(
        &self,
        maps: ArrayView3<'_, f32>,
        masks: ArrayView3<'_, bool>,
    ) -> Result<Vec<ClusterMaskFraction>> {
        cluster_mask_fractions(&self.labels, maps, masks)
    }
}

/// Spectral relevance analysis of the maps `[N, H, W]`
/// ([`maps_view`](super::maps_view) accepts LRP's `[N, 1, H, W]` too):
/// [`pool_maps`] -> [`knn_affinity`] -> normalised Laplacian spectrum ->
/// [`eigengap`] -> spectral clustering (k-means on the row-normalised
/// first `k` eigenvectors) -> [`tsne`] of the pooled features. `rng`
/// draws the k-means seeds first, then the t-SNE start, so a seeded
/// generator gives the same result every time.
///
/// # Errors
/// As [`SprayConfig::check`] and each step: e.g. no maps, a NaN in a map,
/// `knn`, `k_max` or t-SNE perplexity not below `N`, `clusters > N`.
///
/// # Example
/// ```
/// use fanaroff_attention::{SprayConfig, TsneConfig, spray};
/// use ndarray::Array3;
/// use rand::{SeedableRng, rngs::StdRng};
///
/// // 12 maps of 8 x 8: relevance in the left half or in the right half.
/// let maps = Array3::from_shape_fn((12, 8, 8), |(n, _, j)| {
///     let left = n % 2 == 0;
///     if (j < 4) == left { 1.0 + 0.01 * n as f32 } else { 0.0 }
/// });
/// let cfg = SprayConfig {
///     grid: 4,
///     knn: 3,
///     k_max: 4,
///     tsne: Some(TsneConfig { perplexity: 3.0, iterations: 300, ..TsneConfig::default() }),
///     ..SprayConfig::default()
/// };
/// let r = spray(maps.view(), &cfg, &mut StdRng::seed_from_u64(0))?;
/// assert_eq!(r.eigengap.suggested_k, 2);
/// assert_eq!(&r.labels[..4], &[0, 1, 0, 1]);
/// let summary = r.summaries(maps.view(), &[true; 12], 3)?;
/// assert_eq!(summary[0].size, 6);
/// # Ok::<(), fanaroff_nn::Error>(())
/// ```
pub fn spray<R: Rng + ?Sized>(
    maps: ArrayView3<'_, f32>,
    cfg: &SprayConfig,
    rng: &mut R,
) -> Result<SprayResult> {
    cfg.check()?;
    let features = pool_maps(maps, cfg.grid, cfg.norm)?;
    let affinity = knn_affinity(features.view(), cfg.knn, cfg.weights)?;
    let spectrum = laplacian_spectrum(affinity.view())?;
    let eigengap = eigengap(spectrum.values.view(), cfg.k_max)?;
    let k = cfg.clusters.unwrap_or(eigengap.suggested_k);
    let eigenvalues = spectrum.values.clone();
    let km = KMeansConfig {
        k,
        restarts: cfg.restarts,
        max_iter: cfg.max_iter,
    };
    let clustering = cluster_spectrum(spectrum, &km, rng)?;
    let tsne = match &cfg.tsne {
        Some(t) => Some(tsne(features.view(), t, rng)?),
        None => None,
    };
    Ok(SprayResult {
        features,
        affinity,
        eigenvalues,
        eigengap,
        k,
        labels: clustering.kmeans.labels,
        embedding: clustering.embedding,
        inertia: clustering.kmeans.inertia,
        tsne,
    })
}
