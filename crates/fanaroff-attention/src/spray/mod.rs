//! SpRAy, spectral relevance analysis (Lapuschkin et al. 2019, Nature
//! Communications 10, 1096): clusters of relevance maps reveal the
//! strategies a classifier uses, among them "Clever Hans" strategies that
//! look at artefacts rather than the object.
//!
//! The steps, each usable alone: [`pool_maps`] (maps to features),
//! [`knn_affinity`] (graph), [`normalized_laplacian`] and
//! [`symmetric_eigen`] (spectrum), [`eigengap`] (how many clusters),
//! [`spectral_clustering`] with [`kmeans`], [`tsne`] (2-D figure),
//! [`cluster_summaries`] and [`cluster_mask_fractions`] (what each cluster
//! holds); [`spray`] runs them in order.

mod affinity;
mod eigen;
mod kmeans;
mod laplacian;
mod pipeline;
mod pool;
mod spectral;
mod summary;
mod tsne;

pub use affinity::{AffinityWeights, knn_affinity};
pub use eigen::{SymmetricEigen, symmetric_eigen};
pub use kmeans::{KMeans, KMeansConfig, kmeans};
pub use laplacian::{Eigengap, eigengap, laplacian_spectrum, normalized_laplacian};
pub use pipeline::{SprayConfig, SprayResult, spray};
pub use pool::{MapNorm, maps_view, pool_maps};
pub use spectral::{SpectralClustering, spectral_clustering, spectral_embedding};
pub use summary::{
    ClusterMaskFraction, ClusterSummary, cluster_mask_fractions, cluster_summaries, mask_fraction,
};
pub use tsne::{Tsne, TsneConfig, tsne};

use fanaroff_nn::Result;

/// An [`InvalidInput`](fanaroff_core::Error::InvalidInput) error from `what`
/// at the first non-finite value.
fn check_finite(what: &str, values: impl Iterator<Item = f64>) -> Result<()> {
    for (i, v) in values.enumerate() {
        if !v.is_finite() {
            return Err(fanaroff_core::input(
                what,
                format!("non-finite value {v} at flat index {i}"),
            ));
        }
    }
    Ok(())
}
