//! The crate's error type.

use fanaroff_core::{Invalid, IoError};
use thiserror::Error;

/// Errors from layers, losses, optimisers and checkpoints.
#[derive(Debug, Error)]
pub enum Error {
    /// A tensor operation failed (usually a shape mismatch).
    #[error(transparent)]
    Tensor(#[from] fanaroff_tensor::Error),
    /// A hyper-parameter outside its valid range.
    #[error(transparent)]
    InvalidConfig(Invalid),
    /// Input data that the operation cannot use (labels out of range, NaN ...).
    #[error(transparent)]
    InvalidInput(Invalid),
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// An error of a layer defined in another crate (e.g. a variational
    /// layer of `fanaroff-bayes`), kept as its own type.
    #[error(transparent)]
    External(Box<dyn std::error::Error + Send + Sync>),
    /// A checkpoint that cannot be used with this model.
    #[error("checkpoint {path}: {msg}")]
    Checkpoint {
        /// The file.
        path: String,
        /// What was wrong.
        msg: String,
    },
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;

fanaroff_core::invalid_variants!(Error);

pub(crate) use fanaroff_core::{config, input};

/// `x > 0` and not NaN.
pub(crate) fn positive(x: f32) -> bool {
    x > 0.0
}

/// `x >= 0` and not NaN.
pub(crate) fn non_negative(x: f32) -> bool {
    x >= 0.0
}
