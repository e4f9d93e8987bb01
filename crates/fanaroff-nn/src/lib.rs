//! # fanaroff-nn
//!
//! Neural-network building blocks on [`fanaroff_tensor`]: the [`Module`]
//! trait with a named parameter registry (containers only name their
//! children; parameters, buffers, masks and modes recurse), layers
//! ([`Linear`], [`Conv2d`], [`BatchNorm2d`], [`Dropout`], [`MaxPool2d`],
//! [`Flatten`], [`Sequential`]) built from config structs ([`LinearConfig`],
//! [`Conv2dConfig`]), pruning [`Mask`]s, the forward-pass context [`Pass`] (RNG, KL
//! terms, weight-draw plan, taps) and the [`Variational`] view of
//! Bayesian layers, models written once against a
//! [`LayerFactory`](models::LayerFactory) ([`models::LeNetConfig::build`]),
//! losses, optimisers ([`Sgd`], [`Adam`]/AdamW), learning-rate schedules
//! with public state, initialisers and safetensors checkpoints whose names
//! and layouts match PyTorch's `state_dict`.
//!
//! One training step:
//!
//! ```
//! use fanaroff_nn::{Activation, AdamConfig, Linear, LinearConfig, ModuleExt, Optimizer, Reduction, Sequential, cross_entropy};
//! use fanaroff_tensor::Tensor;
//! use rand::{SeedableRng, rngs::StdRng};
//!
//! # fn main() -> fanaroff_nn::Result<()> {
//! let mut rng = StdRng::seed_from_u64(0);
//! let mut model = Sequential::new()
//!     .push("fc1", Linear::new(LinearConfig::new(2, 16), &mut rng)?)
//!     .push("relu", Activation::Relu)
//!     .push("fc2", Linear::new(LinearConfig::new(16, 2), &mut rng)?);
//! let mut opt = AdamConfig::with_lr(0.05).build()?;
//! // XOR-like data
//! let x = Tensor::from_vec(vec![0., 0., 0., 1., 1., 0., 1., 1.], &[4, 2])?;
//! let y = [0, 1, 1, 0];
//! let mut first = f32::NAN;
//! for step in 0..200 {
//!     let loss = cross_entropy(&model.forward_rng(&x, &mut rng)?, &y, Reduction::Mean)?;
//!     if step == 0 { first = loss.item()?; }
//!     let grads = loss.backward()?;
//!     opt.step(&mut model, &grads)?;
//! }
//! let last = cross_entropy(&model.forward_rng(&x, &mut rng)?, &y, Reduction::Mean)?.item()?;
//! assert!(last < 0.1 * first);
//! # Ok(())
//! # }
//! ```
//!
//! Gradients are not stored inside parameters: [`Tensor::backward`](fanaroff_tensor::Tensor::backward)
//! returns a fresh [`Gradients`](fanaroff_tensor::Gradients) store each time,
//! so there is nothing to zero between steps; accumulate over micro-batches
//! with [`GradAccumulator`].
#![deny(missing_docs)]

pub mod checkpoint;
mod children;
mod error;
mod grad_accum;
pub mod init;
pub mod kl;
mod last_layer;
mod layers;
mod loss;
mod mask;
pub mod models;
mod module;
mod optim;
mod pass;
mod variational;
mod weights;

pub use checkpoint::{
    TensorFile, load_from, load_model, load_present, model_tensors, save_model, write_tensors,
};
pub use error::{Error, Result};
pub use grad_accum::GradAccumulator;
pub use last_layer::{LastLayer, PENULTIMATE};
pub use layers::{
    Activation, BatchNorm2d, Conv2d, Conv2dConfig, Dropout, Flatten, Linear, LinearConfig,
    MaxPool2d, ReluMaxPool2d, Sequential, linear,
};
pub use loss::{Reduction, cross_entropy, gaussian_nll_loss, mse_loss, nll_loss};
pub use mask::Mask;
pub use module::{
    ConvWeights, Module, ModuleExt, SampleMode, in_training_mode, is_stochastic, join,
    set_sample_mode, walk, walk_mut,
};
pub use optim::{
    Adam, AdamConfig, CosineLr, LrScheduler, Optimizer, ReduceOnPlateau, Sgd, SgdConfig, StepLr,
};
pub use pass::{DrawGroup, Pass};
pub use variational::{
    Estimator, Variational, num_variational_weights, set_estimator, variational_layers,
    variational_layers_mut,
};
pub use weights::WeightView;

// The README's examples, compiled and run by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
