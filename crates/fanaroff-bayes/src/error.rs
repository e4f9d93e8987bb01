//! The crate's error type.

use thiserror::Error;

/// Errors from variational layers, priors, objectives and prediction.
#[derive(Debug, Error)]
pub enum Error {
    /// A tensor operation failed (usually a shape mismatch).
    #[error(transparent)]
    Tensor(#[from] fanaroff_tensor::Error),
    /// A layer, loss, optimiser or checkpoint of `fanaroff-nn` failed.
    #[error(transparent)]
    Nn(fanaroff_nn::Error),
    /// The training loop, a loader or prediction of `fanaroff-train` failed.
    #[error(transparent)]
    Train(fanaroff_train::Error),
    /// A hyper-parameter outside its valid range, or input data the
    /// operation cannot use (empty batch, NaN, wrong shape ...).
    /// [`Error::core`], [`Error::is_invalid_config`] and
    /// [`Error::is_invalid_input`] look at it.
    #[error(transparent)]
    Core(#[from] fanaroff_core::Error),
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Unwraps this crate's own errors that travelled through a forward pass
/// (`fanaroff_nn::Error::External`), so they keep their type.
impl From<fanaroff_nn::Error> for Error {
    fn from(e: fanaroff_nn::Error) -> Self {
        match e {
            fanaroff_nn::Error::External(inner) => match inner.downcast::<Error>() {
                Ok(own) => *own,
                Err(other) => Error::Nn(fanaroff_nn::Error::External(other)),
            },
            other => Error::Nn(other),
        }
    }
}

impl From<fanaroff_train::Error> for Error {
    fn from(e: fanaroff_train::Error) -> Self {
        match e {
            fanaroff_train::Error::Nn(n) => n.into(),
            fanaroff_train::Error::External(inner) => match inner.downcast::<Error>() {
                Ok(own) => *own,
                Err(other) => Error::Train(fanaroff_train::Error::External(other)),
            },
            other => Error::Train(other),
        }
    }
}

/// Errors of the ELBO step travel through the training loop as themselves.
/// Into the layer-level error of `fanaroff-nn` (so models built from
/// variational layers return `fanaroff_nn::Result`); other errors are kept
/// whole in [`fanaroff_nn::Error::External`].
impl From<Error> for fanaroff_nn::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Nn(e) => e,
            Error::Tensor(e) => fanaroff_nn::Error::Tensor(e),
            other => fanaroff_nn::Error::External(Box::new(other)),
        }
    }
}

impl From<Error> for fanaroff_train::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Train(t) => t,
            Error::Nn(n) => fanaroff_train::Error::Nn(n),
            Error::Tensor(t) => fanaroff_train::Error::Tensor(t),
            other => fanaroff_train::Error::External(Box::new(other)),
        }
    }
}

fanaroff_core::core_variant!(Error);

pub(crate) use fanaroff_core::{config, input};
