//! The crate's error type.

use thiserror::Error;

/// Errors from variational layers, priors, objectives, prediction and training.
#[derive(Debug, Error)]
pub enum Error {
    /// A tensor operation failed (usually a shape mismatch).
    #[error(transparent)]
    Tensor(#[from] fanaroff_tensor::Error),
    /// A layer, loss, optimiser or checkpoint of `fanaroff-nn` failed.
    #[error(transparent)]
    Nn(#[from] fanaroff_nn::Error),
    /// A hyper-parameter outside its valid range.
    #[error("{what}: {msg}")]
    InvalidConfig {
        /// Which setting or type.
        what: &'static str,
        /// What was wrong.
        msg: String,
    },
    /// Input data the operation cannot use (empty batch, NaN, wrong shape ...).
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
    /// A training checkpoint or state file that cannot be used.
    #[error("checkpoint {path}: {msg}")]
    Checkpoint {
        /// The file.
        path: String,
        /// What was wrong.
        msg: String,
    },
    /// The loss became NaN or infinite during training.
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

pub(crate) fn config(what: &'static str, msg: impl Into<String>) -> Error {
    Error::InvalidConfig {
        what,
        msg: msg.into(),
    }
}

pub(crate) fn input(what: &'static str, msg: impl Into<String>) -> Error {
    Error::InvalidInput {
        what,
        msg: msg.into(),
    }
}
