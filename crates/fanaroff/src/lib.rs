#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! | module | crate | what it holds |
//! |---|---|---|
//! | [`tensor`] | `fanaroff-tensor` | tensors and reverse-mode autodiff |
//! | [`nn`] | `fanaroff-nn` | layers, losses, optimisers, checkpoints |
//! | [`data`] | `fanaroff-data` | MiraBest, FITS, synthetic galaxies, augmentation |
//! | [`calibrate`] | `fanaroff-calibrate` | calibration and uncertainty metrics |
//! | [`train`] | `fanaroff-train` | the one training loop: steps, callbacks, loaders, checkpoints, MC predictive |
//! | [`bayes`] | `fanaroff-bayes` | Bayes-by-backprop layers, priors, ELBO step, baselines |
//! | [`laplace`] | `fanaroff-laplace` | last-layer Laplace posteriors of trained networks |
//! | [`prune`] | `fanaroff-prune` | pruning criteria (SNR, Fisher, magnitude, random), masks, sparse files |
//! | [`attention`] | `fanaroff-attention` | attention gates, the attention-gated CNN, attention maps |
//! | [`perturb`] | `fanaroff-perturb` | noise, PSF blur, shifts, FGSM / PGD / one-pixel attacks, MMD |
//! | [`cli`] | `fanaroff-cli` | experiment files, run records, sweeps (local and SLURM) |
//! | `plot` | `fanaroff-plot` | figures as PNG and SVG (feature `plot`, on by default) |
#![deny(missing_docs)]

pub use fanaroff_attention as attention;
pub use fanaroff_bayes as bayes;
pub use fanaroff_calibrate as calibrate;
pub use fanaroff_cli as cli;
pub use fanaroff_data as data;
pub use fanaroff_laplace as laplace;
pub use fanaroff_nn as nn;
pub use fanaroff_perturb as perturb;
#[cfg(feature = "plot")]
pub use fanaroff_plot as plot;
pub use fanaroff_prune as prune;
pub use fanaroff_tensor as tensor;
pub use fanaroff_train as train;
