//! Model-wide operations on any module holding variational layers, and the
//! deep ensemble.

use crate::config::Estimator;
use crate::error::{Result, config};
use crate::layers::{BayesConv2d, BayesLinear, Variational};
use fanaroff_nn::kl::{KlTerms, collect_kl};
use fanaroff_nn::{Module, join, walk_mut};
use fanaroff_tensor::Tensor;
use rand::RngCore;

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
    Ok(collect_kl(|| model.forward(x, rng))?)
}

/// Calls `f` with the dotted name and a handle of every variational layer
/// ([`BayesLinear`], [`BayesConv2d`]) of a model.
pub fn variational_layers_mut(
    model: &mut dyn Module,
    f: &mut dyn FnMut(&str, &mut dyn Variational),
) {
    walk_mut(model, "", &mut |name, m| {
        let Some(any) = m.as_any_mut() else { return };
        if any.is::<BayesLinear>() {
            if let Some(l) = any.downcast_mut::<BayesLinear>() {
                f(name, l);
            }
        } else if let Some(l) = any.downcast_mut::<BayesConv2d>() {
            f(name, l);
        }
    });
}

/// Sets the estimator of every variational layer of a model.
pub fn set_estimator(model: &mut dyn Module, e: Estimator) {
    variational_layers_mut(model, &mut |_, l| l.set_estimator(e));
}

/// Number of variational weights and biases of a model (half its
/// variational parameters).
pub fn num_weights(model: &dyn Module) -> usize {
    let mut n = 0;
    model.visit_params("", &mut |name, t| {
        if name.ends_with("_mu") {
            n += t.len();
        }
    });
    n
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
    fn forward(&self, x: &Tensor, rng: &mut dyn RngCore) -> fanaroff_nn::Result<Tensor> {
        let mut acc: Option<Tensor> = None;
        for m in &self.members {
            let y = m.forward(x, rng)?;
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
