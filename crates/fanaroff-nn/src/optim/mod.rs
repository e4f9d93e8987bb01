//! Optimisers and learning-rate schedules.

mod adam;
mod schedule;
mod sgd;

pub use adam::{Adam, AdamConfig};
pub use schedule::{CosineLr, LrScheduler, ReduceOnPlateau, StepLr};
pub use sgd::{Sgd, SgdConfig};

use crate::error::Result;
use crate::module::Module;
use fanaroff_tensor::Gradients;
use ndarray::ArrayD;

/// Updates a model's parameters from gradients.
///
/// Parameters the backward pass did not reach (no gradient) are left alone,
/// as are parameters that do not require gradients. State is keyed by
/// parameter name, so it survives rebuilding the model and can be saved.
pub trait Optimizer {
    /// One update of every parameter that has a gradient.
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) when a gradient is
    /// not finite or does not match its parameter's shape.
    fn step(&mut self, model: &mut dyn Module, grads: &Gradients) -> Result<()>;

    /// The current learning rate.
    fn learning_rate(&self) -> f32;

    /// Sets the learning rate (schedulers call this).
    fn set_learning_rate(&mut self, lr: f32);

    /// Internal state as named arrays, for checkpoints.
    fn state(&self) -> Vec<(String, ArrayD<f32>)>;

    /// Restores state written by [`state`](Optimizer::state).
    ///
    /// # Errors
    /// [`Error::Checkpoint`](crate::Error::Checkpoint) for names this
    /// optimiser does not know.
    fn load_state(&mut self, state: Vec<(String, ArrayD<f32>)>) -> Result<()>;
}

/// Looks up each parameter's gradient and checks it before an update.
pub(crate) fn checked_grad<'g>(
    name: &str,
    param: &fanaroff_tensor::Tensor,
    grads: &'g Gradients,
) -> Result<Option<&'g ArrayD<f32>>> {
    if !param.is_requires_grad() {
        return Ok(None);
    }
    let Some(g) = grads.get(param) else {
        return Ok(None);
    };
    if g.shape() != param.shape() {
        return Err(crate::error::input(
            "optimizer",
            format!(
                "gradient of {name} has shape {:?}, parameter {:?}",
                g.shape(),
                param.shape()
            ),
        ));
    }
    if g.iter().any(|v| !v.is_finite()) {
        return Err(crate::error::input(
            "optimizer",
            format!("gradient of {name} is not finite"),
        ));
    }
    Ok(Some(g))
}
