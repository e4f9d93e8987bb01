//! The crate's error type.

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
    /// A setting outside its valid range (fraction outside [0, 1], NaN
    /// threshold); a model, layer selection or score that cannot be used
    /// (unknown layer name, no layer of the asked kind, NaN scores, a
    /// criterion that needs information the layer does not have); or a
    /// failed read or write. [`Error::core`], [`Error::is_invalid_config`],
    /// [`Error::is_invalid_input`] and [`Error::io_kind`] look at it.
    #[error(transparent)]
    Core(#[from] fanaroff_core::Error),
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

fanaroff_core::core_variant!(Error);

pub(crate) use fanaroff_core::{config, input};
