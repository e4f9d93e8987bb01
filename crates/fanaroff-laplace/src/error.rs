//! The crate's error type.

/// Everything that can go wrong in `fanaroff-laplace`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting outside its range, input that cannot be used (NaN
    /// features, labels out of range, a model without a linear last
    /// layer), or a failed read or write.
    #[error(transparent)]
    Core(#[from] fanaroff_core::Error),
    /// The model's forward pass failed.
    #[error(transparent)]
    Model(#[from] fanaroff_nn::Error),
    /// A matrix that must be positive definite is not (a prior precision
    /// of zero with a singular Hessian, or non-finite entries).
    #[error("{what} is not positive definite")]
    NotPositiveDefinite {
        /// Which matrix.
        what: String,
    },
}

impl From<fanaroff_tensor::Error> for Error {
    fn from(e: fanaroff_tensor::Error) -> Self {
        Error::Model(e.into())
    }
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;

fanaroff_core::core_variant!(Error);

pub(crate) use fanaroff_core::{config, input};
