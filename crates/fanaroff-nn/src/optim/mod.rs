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
    /// [`InvalidInput`](fanaroff_core::Error::InvalidInput) when a gradient is
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

/// Calls `update(name, values, gradient)` for every parameter that requires
/// gradients and received one. All gradients are checked (shape, finite
/// values) before any parameter changes, so an error leaves the model as it
/// was.
pub(crate) fn for_each_update(
    model: &mut dyn Module,
    grads: &Gradients,
    mut update: impl FnMut(&str, &mut ArrayD<f32>, &ArrayD<f32>),
) -> Result<()> {
    let mut err: Option<crate::Error> = None;
    model.visit_params("", &mut |name, p| {
        if err.is_some() || !p.is_requires_grad() {
            return;
        }
        let Some(g) = grads.get(p) else { return };
        if g.shape() != p.shape() {
            err = Some(crate::error::input(
                "optimizer",
                format!(
                    "gradient of {name} has shape {:?}, parameter {:?}",
                    g.shape(),
                    p.shape()
                ),
            ));
        } else if !p.is_leaf() {
            err = Some(crate::error::input(
                "optimizer",
                format!("parameter {name} is not a leaf tensor"),
            ));
        } else if g.iter().any(|v| !v.is_finite()) {
            err = Some(crate::error::input(
                "optimizer",
                format!("gradient of {name} is not finite"),
            ));
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    model.visit_params_mut("", &mut |name, p| {
        if !p.is_requires_grad() {
            return;
        }
        if let Some(g) = grads.get(p)
            && let Ok(values) = p.data_mut()
        {
            update(name, values, g);
        }
    });
    Ok(())
}
