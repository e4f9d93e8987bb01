#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! | item | what |
//! |---|---|
//! | [`prior`] | [`Prior`] trait, Gaussian, Laplace, scale mixture, Student-t / Cauchy, custom |
//! | [`posterior`] | `sigma(rho)`, fused sampling ops, closed-form and Monte Carlo KL terms |
//! | [`BayesLinear`], [`BayesConv2d`] | variational layers (any place in any model), [`Estimator`], [`SampleMode`], masks |
//! | [`BayesLayers`], [`bbb_lenet`] | the variational variant of any model written against `LayerFactory`; baselines [`mc_dropout_lenet`], [`Ensemble`] |
//! | [`forward_kl`], [`set_estimator`], [`variational_layers_mut`] | model-wide operations |
//! | [`Elbo`], [`ElboStep`] | minibatch objective, [`KlWeighting`], [`Tempering`]; the step for `fanaroff-train`'s loop |
//! | [`predict_samples`] | MC predictive `[S, N, K]`, parallel over draws (from `fanaroff-train`) |
#![deny(missing_docs)]

mod config;
mod core;
mod error;
mod factory;
mod group;
pub mod laplace_mixture;
mod layers;
mod model;
mod objective;
mod params;
pub mod posterior;
mod predict;
pub mod prior;
mod regression;
mod step;

pub use config::{Estimator, KlEstimator, VariationalConfig};
pub use error::{Error, Result};
pub use factory::{BayesLayers, bbb_lenet, mc_dropout_lenet};
pub use fanaroff_nn::SampleMode;
pub use fanaroff_nn::Variational;
pub use fanaroff_nn::kl::KlTerms;
pub use fanaroff_train::{
    PredictConfig, error_rate, mix_seed, per_sample_error, predict_samples, predictive_mean,
};
pub use laplace_mixture::LaplaceMixturePrior;
pub use layers::{BayesConv2d, BayesLinear};
pub use model::{
    Ensemble, forward_kl, num_weights, set_estimator, variational_layers, variational_layers_mut,
};
pub use objective::{Elbo, ElboOutput, KlWeighting, Tempering};
pub use params::{VariationalParams, WeightNoise};
pub use posterior::{LogQGradient, SigmaTransform};
pub use predict::predict_ensemble;
pub use prior::{
    CustomPrior, GaussianPrior, LaplacePrior, Prior, PriorSpec, ScaleMixturePrior, StudentTPrior,
};
pub use regression::{
    HeteroscedasticStep, RegressionPrediction, mean_and_variance, predict_regression,
};
pub use step::ElboStep;
