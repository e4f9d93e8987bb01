#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! | item | what |
//! |---|---|
//! | [`prior`] | [`Prior`] trait, Gaussian, Laplace, scale mixture, Student-t / Cauchy, custom |
//! | [`posterior`] | `sigma(rho)`, fused sampling ops, closed-form and Monte Carlo KL terms |
//! | [`BayesLinear`], [`BayesConv2d`] | variational layers, [`Estimator`], [`SampleMode`] |
//! | [`BayesModel`], [`BayesSequential`], [`bbb_lenet`] | models; baselines [`Deterministic`], [`mc_dropout_lenet`], [`Ensemble`] |
//! | [`Elbo`] | minibatch objective, [`KlWeighting`], [`Tempering`] |
//! | [`predict_samples`] | MC predictive `[S, N, K]`, parallel over draws |
//! | [`Trainer`] | training loop with validation, schedules, checkpoints and resume |
#![deny(missing_docs)]

mod error;
mod layers;
mod model;
mod objective;
pub mod posterior;
mod predict;
pub mod prior;
mod train;

pub use error::{Error, Result};
pub use layers::{
    BayesConv2d, BayesLinear, Estimator, KlEstimator, KlTerms, SampleMode, VariationalConfig,
    VariationalParams, WeightNoise,
};
pub use model::{
    BayesModel, BayesSequential, Deterministic, Ensemble, Layer, PlainModule, bbb_lenet,
    mc_dropout_lenet,
};
pub use objective::{Elbo, ElboOutput, KlWeighting, Tempering};
pub use posterior::{LogQGradient, SigmaTransform};
pub use predict::{
    PredictConfig, error_rate, mix_seed, per_sample_error, predict_ensemble, predict_samples,
    predictive_mean,
};
pub use prior::{
    CustomPrior, GaussianPrior, LaplacePrior, Prior, PriorSpec, ScaleMixturePrior, StudentTPrior,
};
pub use train::{
    AugmentFn, EpochRecord, History, Plateau, TrainConfig, TrainData, Trainer, write_atomic,
};
