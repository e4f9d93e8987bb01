//! Model-wide operations on any module holding variational layers, and the
//! deep ensemble.

use crate::error::{Result, config};
use fanaroff_nn::kl::KlTerms;
use fanaroff_nn::{Module, Pass, join};
use fanaroff_tensor::Tensor;
use rand::RngCore;

pub use fanaroff_nn::{set_estimator, variational_layers, variational_layers_mut};

/// One stochastic forward pass with the KL terms of every variational layer
/// the pass ran, wherever it sits in the model (inside user structs, on skip
/// paths, in two-input modules). Deterministic models give zero KL.
///
/// # Errors
/// The model's errors.
pub fn forward_kl<M: Module + ?Sized>(
    model: &M,
    x: &Tensor,
    rng: &mut dyn RngCore,
) -> Result<(Tensor, KlTerms)> {
    let mut pass = Pass::new(rng).collecting_kl();
    let y = model.forward(x, &mut pass)?;
    Ok((y, pass.kl()))
}

/// Number of variational weights and biases of a model (half its
/// variational parameters), wherever its variational layers come from.
pub fn num_weights(model: &dyn Module) -> usize {
    fanaroff_nn::num_variational_weights(model)
}

/// A deep ensemble: independently initialised and trained members; member
/// `s` plays the role of posterior sample `s` in prediction (see
/// [`predict_ensemble`](crate::predict_ensemble)). Parameters are named
/// `member<i>.<name>`.
#[derive(Debug, Clone)]
pub struct Ensemble<M> {
    /// The members.
    pub members: Vec<M>,
}

impl<M: Module> Ensemble<M> {
    /// An ensemble of the given members.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for an empty list.
    pub fn new(members: Vec<M>) -> Result<Self> {
        if members.is_empty() {
            return Err(config("Ensemble", "need at least one member"));
        }
        Ok(Ensemble { members })
    }
}

impl<M: Module> Module for Ensemble<M> {
    /// The mean of the members' logits (use
    /// [`predict_ensemble`](crate::predict_ensemble) for the mixture of
    /// softmaxes).
    fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> fanaroff_nn::Result<Tensor> {
        let mut acc: Option<Tensor> = None;
        for m in &self.members {
            let y = m.forward(x, pass)?;
            acc = Some(match acc {
                None => y,
                Some(a) => a.add(&y)?,
            });
        }
        let n = self.members.len() as f32;
        Ok(acc.expect("non-empty").mul_scalar(1.0 / n))
    }
    fn visit_children(&self, prefix: &str, f: &mut dyn FnMut(&str, &dyn Module)) {
        for (i, m) in self.members.iter().enumerate() {
            f(&join(prefix, &format!("member{i}")), m);
        }
    }
    fn visit_children_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut dyn Module)) {
        for (i, m) in self.members.iter_mut().enumerate() {
            f(&join(prefix, &format!("member{i}")), m);
        }
    }
}
