//! The crate's error type.

use thiserror::Error;

/// Errors from layers, losses, optimisers and checkpoints.
#[derive(Debug, Error)]
pub enum Error {
    /// A tensor operation failed (usually a shape mismatch).
    #[error(transparent)]
    Tensor(#[from] fanaroff_tensor::Error),
    /// A hyper-parameter outside its valid range, input data that the
    /// operation cannot use (labels out of range, NaN ...), or a failed
    /// read or write: the kinds every crate shares. [`Error::core`],
    /// [`Error::is_invalid_config`], [`Error::is_invalid_input`] and
    /// [`Error::io_kind`] look at it.
    #[error(transparent)]
    Core(#[from] fanaroff_core::Error),
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

fanaroff_core::core_variant!(Error);

pub(crate) use fanaroff_core::{config, input};

/// `x > 0` and not NaN.
pub(crate) fn positive(x: f32) -> bool {
    x > 0.0
}

/// `x >= 0` and not NaN.
pub(crate) fn non_negative(x: f32) -> bool {
    x >= 0.0
}
