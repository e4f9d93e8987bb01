//! # fanaroff-prune
//!
//! Pruning of Bayesian and deterministic networks (Mohan et al. 2022,
//! MNRAS 511, 3722): score every weight with a [`Criterion`], remove the
//! lowest-scoring ones per layer or globally, by fraction or threshold, over
//! the layers you choose; the result is written into the layers' pruning
//! masks ([`fanaroff_nn::Mask`]), so a pruned weight is exactly zero in every
//! forward pass, weight draw and training step, adds no KL, and is saved and
//! loaded with the model. Fine-tune afterwards with the ordinary training
//! loop of `fanaroff-train` (it keeps masked weights at zero). Store a
//! pruned model compactly with [`save_sparse`].
//!
//! | criterion | score | needs |
//! |---|---|---|
//! | [`Snr`] | `\|mu\| / sigma` (or in dB) | a variational layer |
//! | [`Fisher`] | diagonal Fisher information: Adam's `v`, or squared gradients | optimiser state or data |
//! | [`Magnitude`] | `\|mu\|` or `\|w\|` | |
//! | [`Random`] | uniform, seeded | |
//!
//! ```
//! use fanaroff_bayes::{VariationalConfig, bbb_lenet};
//! use fanaroff_nn::models::LeNetConfig;
//! use fanaroff_prune::{PruneConfig, Snr, prune};
//! use rand::{SeedableRng, rngs::StdRng};
//!
//! let mut rng = StdRng::seed_from_u64(0);
//! let cfg = LeNetConfig { image_size: 54, ..LeNetConfig::default() };
//! let mut model = bbb_lenet(&cfg, &VariationalConfig::default(), &mut rng)?;
//! // the paper: 30 % of the fully connected weights by lowest SNR
//! let report = prune(&mut model, &mut Snr::ratio(), &PruneConfig::fraction(0.3))?;
//! assert!((report.sparsity() - 0.3).abs() < 1e-3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod criterion;
mod error;
mod fisher;
mod prune;
mod select;
mod sparse;
mod study;

pub use criterion::{Criterion, Magnitude, Random, Snr};
pub use error::{Error, Result};
pub use fisher::{Fisher, FisherPass};
pub use prune::{LayerReport, PruneConfig, PruneReport, prune, sparsity_by_layer};
pub use select::{Amount, LayerSet, Scope};
pub use sparse::{SparseSize, dense_size, load_sparse, save_sparse};
pub use study::{
    BoxError, CriterionName, Finetune, PrunePoint, PruneRow, PruneStudy, PruneSubject,
};

// The README's examples, compiled and run by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
