//! # fanaroff
//!
//! Uncertainty-aware deep learning for Fanaroff-Riley radio-galaxy images.
//! This facade re-exports the member crates under one name so an application
//! can depend on `fanaroff` alone; libraries that need one piece can depend on
//! that crate directly.
//!
//! | module | crate | what it holds |
//! |---|---|---|
//! | [`tensor`] | `fanaroff-tensor` | tensors and reverse-mode autodiff |
//! | [`nn`] | `fanaroff-nn` | layers, losses, optimisers, checkpoints |
//! | [`data`] | `fanaroff-data` | MiraBest, FITS, synthetic galaxies, augmentation |
//! | [`calibrate`] | `fanaroff-calibrate` | calibration and uncertainty metrics |
#![deny(missing_docs)]

pub use fanaroff_calibrate as calibrate;
pub use fanaroff_data as data;
pub use fanaroff_nn as nn;
pub use fanaroff_tensor as tensor;
