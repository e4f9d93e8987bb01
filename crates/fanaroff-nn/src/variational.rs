//! The contract of a Bayesian layer, seen from the model: [`Variational`],
//! and the model-wide walks over it.
//!
//! A layer whose weights are a distribution implements [`Variational`]
//! and returns itself from [`Module::as_variational`] and
//! [`Module::as_variational_mut`]. The walks below then find it wherever
//! it sits and whatever crate defines it: nothing downcasts to concrete
//! layer types. In its forward pass such a layer follows the [`Pass`]:
//! weight noise from [`Pass::weight_noise`], KL terms through
//! [`Pass::record_kl`], draw groups from [`Pass::group`].
//!
//! [`Pass`]: crate::Pass
//! [`Pass::weight_noise`]: crate::Pass::weight_noise
//! [`Pass::record_kl`]: crate::Pass::record_kl
//! [`Pass::group`]: crate::Pass::group

use crate::error::{Result, config};
use crate::kl::KlTerms;
use crate::module::{Module, walk, walk_mut};
use rand::RngCore;

/// How a forward pass turns the posterior into outputs.
///
/// ```text
/// Reparam:       w = mu + sigma * eps, one draw per forward pass, shared by
///                the whole minibatch (the paper's estimator)
/// LocalReparam:  sample pre-activations: a ~ N(x.mu + b_mu, x^2.sigma^2 + b_sigma^2),
///                independent per example (linear and conv)
/// Flipout:       w_n = mu + delta o (s_n r_n^T), one shared delta = sigma * eps and
///                random signs per example (per input/output channel for conv)
/// ```
///
/// With `Reparam` and `Flipout` the single-sample KL uses the same draw as
/// the forward pass; with `LocalReparam` there is no weight draw, so the KL
/// is closed form when the prior allows it and otherwise uses fresh draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Estimator {
    /// One weight draw per forward pass (Blundell et al.; the paper).
    #[default]
    Reparam,
    /// Local reparameterisation (Kingma et al. 2015).
    LocalReparam,
    /// Flipout (Wen et al. 2018).
    Flipout,
}

impl std::str::FromStr for Estimator {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "reparam" | "bbb" | "plain" => Ok(Estimator::Reparam),
            "local" | "local_reparam" | "lrt" => Ok(Estimator::LocalReparam),
            "flipout" => Ok(Estimator::Flipout),
            _ => Err(config(
                "Estimator",
                format!("unknown estimator {s:?}; use reparam, local or flipout"),
            )),
        }
    }
}

/// What every Bayesian layer offers to model-wide operations, whatever
/// its shape and whatever crate defines it.
pub trait Variational {
    /// The estimator of the forward pass in training.
    fn estimator(&self) -> Estimator;
    /// Changes the estimator (e.g. to compare estimators on one trained model).
    fn set_estimator(&mut self, e: Estimator);
    /// Number of weights and biases that carry a distribution.
    fn num_weights(&self) -> usize;
    /// The layer's KL terms alone (closed form, or Monte Carlo with fresh
    /// draws from `rng`).
    ///
    /// # Errors
    /// The layer's errors, as [`Error`](crate::Error).
    fn kl(&self, rng: &mut dyn RngCore) -> Result<KlTerms>;
}

/// Calls `f` with the dotted name and a handle of every variational layer
/// of a model.
pub fn variational_layers(model: &dyn Module, f: &mut dyn FnMut(&str, &dyn Variational)) {
    walk(model, "", &mut |name, m| {
        if let Some(v) = m.as_variational() {
            f(name, v);
        }
    });
}

/// Calls `f` with the dotted name and a mutable handle of every
/// variational layer of a model.
pub fn variational_layers_mut(
    model: &mut dyn Module,
    f: &mut dyn FnMut(&str, &mut dyn Variational),
) {
    walk_mut(model, "", &mut |name, m| {
        if let Some(v) = m.as_variational_mut() {
            f(name, v);
        }
    });
}

/// Sets the estimator of every variational layer of a model.
pub fn set_estimator(model: &mut dyn Module, e: Estimator) {
    variational_layers_mut(model, &mut |_, l| l.set_estimator(e));
}

/// Number of weights and biases with a distribution in a model.
pub fn num_variational_weights(model: &dyn Module) -> usize {
    let mut n = 0;
    variational_layers(model, &mut |_, l| n += l.num_weights());
    n
}
