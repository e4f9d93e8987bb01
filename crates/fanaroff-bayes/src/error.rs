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

// The conversions below map variant to variant: a layer's invalid-input
// error is `Core` in this crate, in `fanaroff-nn` and in `fanaroff-train`
// alike, so nothing is boxed on the way up through a forward pass and
// nothing needs unboxing on the way back.

impl From<fanaroff_nn::Error> for Error {
    fn from(e: fanaroff_nn::Error) -> Self {
        match e {
            fanaroff_nn::Error::Tensor(t) => Error::Tensor(t),
            fanaroff_nn::Error::Core(c) => Error::Core(c),
            other => Error::Nn(other),
        }
    }
}

impl From<fanaroff_train::Error> for Error {
    fn from(e: fanaroff_train::Error) -> Self {
        match e {
            fanaroff_train::Error::Nn(n) => n.into(),
            fanaroff_train::Error::Tensor(t) => Error::Tensor(t),
            fanaroff_train::Error::Core(c) => Error::Core(c),
            other => Error::Train(other),
        }
    }
}

/// Into the layer-level error of `fanaroff-nn`, so models built from
/// variational layers return `fanaroff_nn::Result`.
impl From<Error> for fanaroff_nn::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Nn(e) => e,
            Error::Tensor(e) => fanaroff_nn::Error::Tensor(e),
            Error::Core(e) => fanaroff_nn::Error::Core(e),
            Error::Train(fanaroff_train::Error::Nn(e)) => e,
            Error::Train(other) => fanaroff_nn::Error::External(Box::new(other)),
        }
    }
}

/// Errors of the ELBO step travel through the training loop as themselves.
impl From<Error> for fanaroff_train::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Train(t) => t,
            Error::Nn(n) => fanaroff_train::Error::Nn(n),
            Error::Tensor(t) => fanaroff_train::Error::Tensor(t),
            Error::Core(c) => fanaroff_train::Error::Core(c),
        }
    }
}

fanaroff_core::core_variant!(Error);

pub(crate) use fanaroff_core::{config, input};
