//! The crate's error type.

use thiserror::Error;

/// Errors of the training loop, loaders, steps and checkpoints.
#[derive(Debug, Error)]
pub enum Error {
    /// A tensor operation failed (usually a shape mismatch).
    #[error(transparent)]
    Tensor(#[from] fanaroff_tensor::Error),
    /// A layer, loss, optimiser or checkpoint of `fanaroff-nn` failed.
    #[error(transparent)]
    Nn(#[from] fanaroff_nn::Error),
    /// A data-set operation of `fanaroff-data` failed.
    #[error(transparent)]
    Data(#[from] fanaroff_data::Error),
    /// A calibration metric of `fanaroff-calibrate` failed.
    #[error(transparent)]
    Calibrate(#[from] fanaroff_calibrate::Error),
    /// A training step or callback defined in another crate failed (e.g. the
    /// ELBO of `fanaroff-bayes`), kept as its own type.
    #[error(transparent)]
    External(Box<dyn std::error::Error + Send + Sync>),
    /// A setting outside its valid range, input data the loop cannot use
    /// (empty set, wrong shape, label out of range, NaN ...), or a failed
    /// read or write. [`Error::core`], [`Error::is_invalid_config`],
    /// [`Error::is_invalid_input`] and [`Error::io_kind`] look at it.
    #[error(transparent)]
    Core(#[from] fanaroff_core::Error),
    /// A training checkpoint that cannot be used (corrupt, or saved with other settings).
    #[error("checkpoint {path}: {msg}")]
    Checkpoint {
        /// The file.
        path: String,
        /// What was wrong.
        msg: String,
    },
    /// The loss became NaN or infinite.
    #[error("training diverged at epoch {epoch}, step {step}: loss = {loss}")]
    Diverged {
        /// Epoch (0-based).
        epoch: usize,
        /// Minibatch index inside the epoch.
        step: usize,
        /// The offending value.
        loss: f64,
    },
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;

fanaroff_core::core_variant!(Error);

pub(crate) use fanaroff_core::{config, input, io};
