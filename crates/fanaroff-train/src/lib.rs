//! # fanaroff-train
//!
//! The one training loop of the workspace. Every crate that trains a model
//! (Bayes-by-backprop, pruning with fine-tuning, attention gating,
//! adversarial training, domain adaptation, cluster sweeps) plugs into it
//! instead of writing its own:
//!
//! | piece | what |
//! |---|---|
//! | [`TrainStep`] | a batch and a [`StepContext`] (model, RNG, epoch, step) in, a loss tensor and named [`Metric`]s out; [`CrossEntropyStep`] here, the ELBO in `fanaroff-bayes` |
//! | [`Loader`] | minibatches by index: [`ArrayLoader`] (any element type, any channels; augmentation on raw values before scaling, parallel), [`TwoStream`] (labelled source + unlabelled target) |
//! | [`Callback`] | code at batch start, after the optimiser step, at epoch end; [`BestCheckpoint`], [`EarlyStopping`], [`LrSchedule`], [`Progress`], [`EpochLog`] |
//! | [`Evaluate`] | per-epoch metrics on held-out data: [`Validation`] (MC predictive NLL, error, UCE) |
//! | [`TrainConfig`] | the settings as serde data; any [`Optimizer`](fanaroff_nn::Optimizer) |
//! | checkpoints | parameters, buffers, masks, optimiser, callback states (schedules, early stopping, best), history; atomic; bit-identical resume |
//! | [`predict_samples`] | Monte Carlo predictive `[S, N, K]` of any model |
//!
//! ```
//! use fanaroff_train::{ArrayLoader, TrainConfig, Trainer, Validation};
//! use fanaroff_nn::{Activation, Linear, LinearConfig, Sequential};
//! use ndarray::{ArrayD, IxDyn};
//! use rand::{SeedableRng, rngs::StdRng};
//!
//! let x = ArrayD::from_shape_fn(IxDyn(&[60, 2]), |i| ((i[0] * 7 + i[1] * 3) % 11) as f32 / 5.0 - 1.0);
//! let y: Vec<usize> = (0..60).map(|i| usize::from(x[[i, 0]] + x[[i, 1]] > 0.0)).collect();
//! let train = ArrayLoader::new(x.clone(), y.clone(), 2)?;
//! let val = ArrayLoader::new(x, y, 2)?;
//! let mut rng = StdRng::seed_from_u64(0);
//! let mut net = Sequential::new()
//!     .push("fc1", Linear::new(LinearConfig::new(2, 16), &mut rng)?)
//!     .push("relu", Activation::Relu)
//!     .push("fc2", Linear::new(LinearConfig::new(16, 2), &mut rng)?);
//! let cfg = TrainConfig::default().epochs(20).batch_size(10).adam(0.02).progress(false);
//! let history = Trainer::new(cfg)?.validation(Validation::new(&val)).fit(&mut net, &train)?;
//! assert!(history.records.last().unwrap().get("val_acc").unwrap() > 0.8);
//! # Ok::<(), fanaroff_train::Error>(())
//! ```
#![deny(missing_docs)]

mod array_loader;
mod augmented_validation;
mod callback;
mod callbacks;
mod checkpoint;
mod classifier;
mod config;
mod error;
mod history;
mod loader;
mod monitor;
mod predict;
mod step;
mod trainer;
mod tta;
mod two_stream;
mod validation;

pub use array_loader::{ArrayLoader, AugmentFn};
pub use augmented_validation::AugmentedValidation;
pub use callback::{BatchInfo, Callback, EpochContext};
pub use callbacks::{
    BestCheckpoint, EarlyStopping, EpochLog, LrSchedule, Probe, Progress, ScheduleConfig,
};
pub use classifier::{Classifier, ModuleClassifier};
pub use config::{OptimizerConfig, TrainConfig};
pub use error::{Error, Result};
pub use history::{EpochRecord, History, write_atomic};
pub use loader::{Batch, Loader, mix_seed};
pub use monitor::{Mode, Monitor};
pub use predict::{
    PredictConfig, argmax, check_input, error_rate, one_draw, per_sample_error, predict_samples,
    predictive_mean,
};
pub use step::{
    CrossEntropyStep, Metric, StepContext, StepOutput, TrainStep, check_logits, classifier_output,
    correct,
};
pub use trainer::{Trainer, has_checkpoint};
pub use tta::predict_augmented;
pub use two_stream::TwoStream;
pub use validation::{EvalInfo, Evaluate, Validation};

// The README's examples, compiled and run by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
