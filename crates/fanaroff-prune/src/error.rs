//! The crate's error type.

use fanaroff_core::{Invalid, IoError};
use thiserror::Error;

/// Errors of pruning, scoring and sparse storage.
#[derive(Debug, Error)]
pub enum Error {
    /// A layer, checkpoint or optimiser operation of `fanaroff-nn` failed.
    #[error(transparent)]
    Nn(#[from] fanaroff_nn::Error),
    /// A tensor operation failed.
    #[error(transparent)]
    Tensor(#[from] fanaroff_tensor::Error),
    /// A loader of `fanaroff-train` failed.
    #[error(transparent)]
    Train(#[from] fanaroff_train::Error),
    /// A setting outside its valid range (fraction outside [0, 1], NaN threshold).
    #[error(transparent)]
    InvalidConfig(Invalid),
    /// A model, layer selection or score that cannot be used (unknown layer
    /// name, no layer of the asked kind, NaN scores, a criterion that needs
    /// information the layer does not have).
    #[error(transparent)]
    InvalidInput(Invalid),
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A sparse model file that cannot be used (corrupt, or for another model).
    #[error("sparse model {path}: {msg}")]
    Format {
        /// The file.
        path: String,
        /// What was wrong.
        msg: String,
    },
}

/// Result with this crate's [`Error`](enum@Error).
pub type Result<T> = std::result::Result<T, Error>;

fanaroff_core::invalid_variants!(Error);

pub(crate) use fanaroff_core::{config, input};
