//! # fanaroff-attention
//!
//! Attention-gated CNNs for radio-galaxy images (Bowles et al. 2021,
//! MNRAS 501, 4579): the [`AttentionGate`], its four [`Normalisation`]s,
//! and attention maps as a first-class output. Layers come from a
//! [`LayerFactory`](fanaroff_nn::models::LayerFactory), so the same gate is
//! ordinary, MC dropout or variational. Saliency to compare with: the
//! gradient, gradient x input and LRP ([`lrp`]) for any sequential model,
//! and through the gated network itself ([`lrp_attention`]). Spectral
//! relevance analysis ([`spray`], Lapuschkin et al. 2019) clusters the
//! maps to find the strategies the classifier uses.
#![deny(missing_docs)]

mod block_order;
mod combine;
mod crp;
mod crp_gated;
mod gate;
mod lrp_any;
mod lrp_gated;
mod map_spread;
mod maps;
mod net;
mod normalise;
mod reference_loss;
mod regions;
mod saliency;
mod spray;
mod step;
mod study;

pub use block_order::BlockOrder;
pub use crp::{concept_relevance, conditional_relevance, reference_images};
pub use crp_gated::{GatedLayer, concept_relevance_gated, conditional_relevance_gated};
pub use gate::{AttentionGate, GateConfig};
pub use lrp_any::{has_lrp_rules, lrp_any};
pub use lrp_gated::lrp_attention;
pub use map_spread::{MapSpreadRow, MapSpreadStudy};
pub use maps::{attention_map_stats, attention_maps, source_mass};
pub use net::{
    Aggregation, AttentionNet, AttentionNetConfig, AttentionOutput, Parts, attention_tap,
};
pub use normalise::Normalisation;
pub use reference_loss::ProbabilityCrossEntropyStep;
pub use regions::{RegionConfig, RegionMasks, region_masks};
pub use saliency::{InputRule, LrpConfig, gradient, gradient_x_input, lrp, per_pixel};
pub use spray::{
    AffinityWeights, ClusterMaskFraction, ClusterSummary, Eigengap, KMeans, KMeansConfig, MapNorm,
    SpectralClustering, SprayConfig, SprayResult, SymmetricEigen, Tsne, TsneConfig,
    cluster_mask_fractions, cluster_summaries, eigengap, kmeans, knn_affinity, laplacian_spectrum,
    maps_view, mask_fraction, normalized_laplacian, pool_maps, spectral_clustering,
    spectral_embedding, spray, symmetric_eigen, tsne,
};
pub use step::DeepSupervisionStep;
pub use study::{ExplainRow, ExplainStudy};

// The README's examples, compiled and run by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
