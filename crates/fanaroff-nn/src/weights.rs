//! What a maskable weight tensor shows to pruning criteria.

use crate::mask::Mask;
use ndarray::ArrayD;

/// One maskable weight tensor as [`Module::visit_weights`](crate::Module::visit_weights)
/// shows it: the name and values of the parameter that holds the weight
/// (or its posterior mean), the posterior standard deviation for layers with
/// a weight distribution, and the layer's mask slot.
///
/// A deterministic layer shows `weight` and no standard deviation; a
/// mean-field Gaussian layer shows `weight_mu` and `sigma(weight_rho)`.
#[derive(Debug)]
pub struct WeightView<'a> {
    /// Dotted name of the parameter holding the weight or its mean
    /// (`fc1.weight`, `fc1.weight_mu`).
    pub param: String,
    /// The weight (deterministic layers) or its posterior mean.
    pub mean: &'a ArrayD<f32>,
    /// Posterior standard deviation per weight (variational layers only).
    pub std: Option<ArrayD<f32>>,
    /// The layer's mask slot over this weight.
    pub mask: &'a Mask,
}

impl WeightView<'_> {
    /// Number of weights in the tensor.
    pub fn len(&self) -> usize {
        self.mean.len()
    }

    /// Whether the tensor has no weights.
    pub fn is_empty(&self) -> bool {
        self.mean.is_empty()
    }

    /// Whether this is a fully connected weight (`[out, in]`); convolution
    /// weights are `[out, in, kh, kw]`.
    pub fn is_fully_connected(&self) -> bool {
        self.mean.ndim() == 2
    }
}
