//! The crate's error type.

use fanaroff_core::{Invalid, IoError};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Errors of experiments, runs and sweeps.
#[derive(Debug, Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A file was read but its content is not valid (TOML or JSON syntax,
    /// an unknown key, a value of the wrong type).
    #[error("{path}: {msg}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        msg: String,
    },
    /// A setting outside its valid range, or settings that contradict each
    /// other.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// Reading or preparing the data failed.
    #[error(transparent)]
    Data(#[from] fanaroff_data::Error),
    /// Building, saving or loading a model failed.
    #[error(transparent)]
    Nn(#[from] fanaroff_nn::Error),
    /// The training loop or the predictive failed.
    #[error(transparent)]
    Train(#[from] fanaroff_train::Error),
    /// A Bayesian setting or layer failed.
    #[error(transparent)]
    Bayes(#[from] fanaroff_bayes::Error),
    /// A calibration metric failed.
    #[error(transparent)]
    Calibrate(#[from] fanaroff_calibrate::Error),
    /// A perturbation, attack or robustness measure failed.
    #[error(transparent)]
    Perturb(#[from] fanaroff_perturb::Error),
    /// Pruning failed.
    #[error(transparent)]
    Prune(#[from] fanaroff_prune::Error),
    /// A last-layer Laplace fit failed.
    #[error(transparent)]
    Laplace(#[from] fanaroff_laplace::Error),
    /// A tensor operation failed.
    #[error(transparent)]
    Tensor(#[from] fanaroff_tensor::Error),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// An [`Error::Invalid`].
pub(crate) fn invalid(what: impl Into<String>, msg: impl Into<String>) -> Error {
    Error::Invalid(Invalid::new(what, msg))
}

/// Maps an I/O error to [`Error::Io`] naming `path`.
pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| IoError::new(path, source).into()
}

/// Reads a file to a string, naming it in the error.
pub(crate) fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(io(path))
}
