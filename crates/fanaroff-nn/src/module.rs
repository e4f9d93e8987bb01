//! The [`Module`] trait and the parameter registry built on it.

use crate::error::Result;
use fanaroff_tensor::{Gradients, Tensor};
use rand::RngCore;

/// A layer or a model: a forward function plus named parameters.
///
/// Parameters are leaf tensors that require gradients; their names are
/// dotted paths (`conv1.weight`) that map one-to-one onto PyTorch
/// `state_dict` keys and safetensors entries. Buffers are non-trained state
/// (batch-norm running statistics) saved in checkpoints alongside.
///
/// `forward` takes `&self` so one model can serve several threads at once
/// (Monte Carlo prediction); anything random draws from the `rng` argument.
pub trait Module: Send + Sync {
    /// Computes the output for a batch.
    ///
    /// # Errors
    /// Shape mismatches and invalid inputs, as [`Error`](crate::Error).
    fn forward(&self, x: &Tensor, rng: &mut dyn RngCore) -> Result<Tensor>;

    /// Calls `f` with the name and tensor of every parameter, in a fixed order.
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor));

    /// Calls `f` with the name and a mutable handle of every parameter.
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor));

    /// Calls `f` with every buffer (state that is saved but not trained).
    fn visit_buffers(&self, _prefix: &str, _f: &mut dyn FnMut(&str, &Tensor)) {}

    /// Calls `f` with a mutable handle of every buffer.
    fn visit_buffers_mut(&mut self, _prefix: &str, _f: &mut dyn FnMut(&str, &mut Tensor)) {}

    /// Switches training behaviour (dropout, batch-norm statistics) on or off.
    fn set_training(&mut self, _training: bool) {}
}

/// Joins a prefix and a name with a dot (no dot for an empty prefix).
pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Conveniences every [`Module`] gets for free.
pub trait ModuleExt: Module {
    /// All parameters with their names, in registry order.
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut v = Vec::new();
        self.visit_params("", &mut |n, t| v.push((n.to_string(), t.clone())));
        v
    }

    /// All buffers with their names.
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        let mut v = Vec::new();
        self.visit_buffers("", &mut |n, t| v.push((n.to_string(), t.clone())));
        v
    }

    /// Total number of scalar parameters.
    fn num_parameters(&self) -> usize {
        let mut n = 0;
        self.visit_params("", &mut |_, t| n += t.len());
        n
    }

    /// Switches to training mode.
    fn train(&mut self) {
        self.set_training(true);
    }

    /// Switches to evaluation mode.
    fn eval(&mut self) {
        self.set_training(false);
    }

    /// Freezes or unfreezes every parameter (whether gradients reach it).
    fn set_requires_grad(&mut self, on: bool) {
        self.visit_params_mut("", &mut |_, t| {
            let taken = std::mem::replace(t, Tensor::scalar(0.0));
            *t = taken.requires_grad(on);
        });
    }

    /// Gradients of every parameter by name, zeros where the pass did not
    /// reach a parameter.
    fn named_gradients(&self, grads: &Gradients) -> Vec<(String, ndarray::ArrayD<f32>)> {
        let mut v = Vec::new();
        self.visit_params("", &mut |n, t| {
            let g = grads
                .get(t)
                .cloned()
                .unwrap_or_else(|| ndarray::ArrayD::zeros(t.data().raw_dim()));
            v.push((n.to_string(), g));
        });
        v
    }
}

impl<M: Module + ?Sized> ModuleExt for M {}

impl<M: Module + ?Sized> Module for Box<M> {
    fn forward(&self, x: &Tensor, rng: &mut dyn RngCore) -> Result<Tensor> {
        (**self).forward(x, rng)
    }
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        (**self).visit_params(prefix, f)
    }
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        (**self).visit_params_mut(prefix, f)
    }
    fn visit_buffers(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        (**self).visit_buffers(prefix, f)
    }
    fn visit_buffers_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        (**self).visit_buffers_mut(prefix, f)
    }
    fn set_training(&mut self, training: bool) {
        (**self).set_training(training)
    }
}
