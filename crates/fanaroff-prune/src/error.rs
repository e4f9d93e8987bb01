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
    /// A setting outside its valid range (fraction outside [0, 1], NaN threshold).
    #[error("{what}: {msg}")]
    InvalidConfig {
        /// Which setting.
        what: &'static str,
        /// What was wrong.
        msg: String,
    },
    /// A model, layer selection or score that cannot be used (unknown layer
    /// name, no layer of the asked kind, NaN scores, a criterion that needs
    /// information the layer does not have).
    #[error("{what}: {msg}")]
    InvalidInput {
        /// Which function.
        what: &'static str,
        /// What was wrong.
        msg: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A caller's closure failed (a model copy or fine-tuning of a study).
    #[error(transparent)]
    External(Box<dyn std::error::Error + Send + Sync>),
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

pub(crate) fn input(what: &'static str, msg: impl Into<String>) -> Error {
    Error::InvalidInput {
        what,
        msg: msg.into(),
    }
}

pub(crate) fn config(what: &'static str, msg: impl Into<String>) -> Error {
    Error::InvalidConfig {
        what,
        msg: msg.into(),
    }
}
