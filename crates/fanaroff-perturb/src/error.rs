//! The crate's error type.

use thiserror::Error;

/// Errors of perturbations, attacks and robustness measures.
#[derive(Debug, Error)]
pub enum Error {
    /// A setting outside its valid range (negative budget, zero steps,
    /// SNR <= 0), or input that cannot be used (wrong shape, NaN or
    /// infinite values, labels that do not match). [`Error::core`],
    /// [`Error::is_invalid_config`] and [`Error::is_invalid_input`] look at
    /// it.
    #[error(transparent)]
    Core(#[from] fanaroff_core::Error),
    /// The model failed.
    #[error(transparent)]
    Nn(#[from] fanaroff_nn::Error),
    /// A tensor operation failed.
    #[error(transparent)]
    Tensor(#[from] fanaroff_tensor::Error),
    /// Prediction failed.
    #[error(transparent)]
    Train(#[from] fanaroff_train::Error),
    /// An uncertainty measure failed.
    #[error(transparent)]
    Calibrate(#[from] fanaroff_calibrate::Error),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

fanaroff_core::core_variant!(Error);

pub(crate) use fanaroff_core::{config, input};

/// Checks that `x` is `[N, C, H, W]` with `N > 0` and finite values.
pub(crate) fn check_images(what: &'static str, x: &ndarray::ArrayView4<'_, f32>) -> Result<()> {
    if x.shape()[0] == 0 {
        return Err(input(what, "empty batch"));
    }
    if let Some(v) = x.iter().find(|v| !v.is_finite()) {
        return Err(input(what, format!("non-finite value {v} in the images")));
    }
    Ok(())
}
