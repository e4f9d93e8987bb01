//! The variational tensors of one layer and the noise of one weight draw.

use crate::config::VariationalConfig;
use crate::error::{Result, config};
use crate::posterior::SigmaTransform;
use fanaroff_nn::join;
use fanaroff_tensor::Tensor;
use ndarray::ArrayD;
use rand::Rng;

/// The four variational tensors of a layer (PyTorch names `weight_mu`,
/// `weight_rho`, `bias_mu`, `bias_rho`).
#[derive(Debug, Clone)]
pub struct VariationalParams {
    /// Mean of the weights.
    pub weight_mu: Tensor,
    /// Free scale parameter of the weights.
    pub weight_rho: Tensor,
    /// Mean of the biases.
    pub bias_mu: Tensor,
    /// Free scale parameter of the biases.
    pub bias_rho: Tensor,
}

impl VariationalParams {
    pub(crate) fn init<R: Rng + ?Sized>(
        wshape: &[usize],
        cout: usize,
        cfg: &VariationalConfig,
        rng: &mut R,
    ) -> Result<Self> {
        let (ml, mh) = cfg.mu_init;
        let (rl, rh) = cfg.rho_init;
        Ok(VariationalParams {
            weight_mu: Tensor::rand_uniform(wshape, ml, mh, rng)?.requires_grad(true),
            weight_rho: Tensor::rand_uniform(wshape, rl, rh, rng)?.requires_grad(true),
            bias_mu: Tensor::rand_uniform(&[cout], ml, mh, rng)?.requires_grad(true),
            bias_rho: Tensor::rand_uniform(&[cout], rl, rh, rng)?.requires_grad(true),
        })
    }

    pub(crate) fn visit(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        f(&join(prefix, "weight_mu"), &self.weight_mu);
        f(&join(prefix, "weight_rho"), &self.weight_rho);
        f(&join(prefix, "bias_mu"), &self.bias_mu);
        f(&join(prefix, "bias_rho"), &self.bias_rho);
    }

    pub(crate) fn visit_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        f(&join(prefix, "weight_mu"), &mut self.weight_mu);
        f(&join(prefix, "weight_rho"), &mut self.weight_rho);
        f(&join(prefix, "bias_mu"), &mut self.bias_mu);
        f(&join(prefix, "bias_rho"), &mut self.bias_rho);
    }

    /// Number of weights and biases (half the number of variational parameters).
    pub fn num_weights(&self) -> usize {
        self.weight_mu.len() + self.bias_mu.len()
    }

    /// Posterior standard deviation `sigma(rho)` of every weight (not the biases).
    pub fn weight_sigma(&self, sigma: SigmaTransform) -> ArrayD<f32> {
        self.weight_rho
            .data()
            .mapv(|r| sigma.sigma(r as f64) as f32)
    }

    /// Signal-to-noise ratio `|mu| / sigma` of every weight (not the biases).
    pub fn weight_snr(&self, sigma: SigmaTransform) -> ArrayD<f32> {
        let mut out = self.weight_mu.data().mapv(f32::abs);
        ndarray::Zip::from(&mut out)
            .and(self.weight_rho.data())
            .for_each(|o, &r| *o /= sigma.sigma(r as f64) as f32);
        out
    }
}

impl VariationalParams {
    /// Checks that `weight_rho` has the shape of `weight_mu` and the biases
    /// are `[out]`.
    pub(crate) fn check_shapes(&self, what: &'static str) -> Result<()> {
        let ws = self.weight_mu.shape();
        let ok = self.weight_rho.shape() == ws
            && self.bias_mu.shape() == [ws[0]]
            && self.bias_rho.shape() == [ws[0]];
        if !ok {
            return Err(config(
                what,
                format!(
                    "shapes do not fit: weight_mu {:?}, weight_rho {:?}, bias_mu {:?}, bias_rho {:?}",
                    ws,
                    self.weight_rho.shape(),
                    self.bias_mu.shape(),
                    self.bias_rho.shape()
                ),
            ));
        }
        Ok(())
    }

    /// The same tensors, each marked as requiring gradients.
    pub(crate) fn marked(self) -> Self {
        let keep = |t: Tensor| {
            if t.is_requires_grad() {
                t
            } else {
                t.requires_grad(true)
            }
        };
        VariationalParams {
            weight_mu: keep(self.weight_mu),
            weight_rho: keep(self.weight_rho),
            bias_mu: keep(self.bias_mu),
            bias_rho: keep(self.bias_rho),
        }
    }
}

/// Noise for one forward pass with the [`Estimator::Reparam`](crate::Estimator::Reparam) estimator.
#[derive(Debug, Clone)]
pub struct WeightNoise {
    /// `eps` of the weights (shape of `weight_mu`).
    pub weight_eps: ArrayD<f32>,
    /// `eps` of the biases (shape of `bias_mu`).
    pub bias_eps: ArrayD<f32>,
}

impl Drop for WeightNoise {
    /// Hands large noise arrays back to the tensor buffer pool, so the next
    /// draw of the same layer reuses their memory.
    fn drop(&mut self) {
        let empty = || ArrayD::zeros(ndarray::IxDyn(&[0]));
        fanaroff_tensor::pool::recycle_array(std::mem::replace(&mut self.weight_eps, empty()));
        fanaroff_tensor::pool::recycle_array(std::mem::replace(&mut self.bias_eps, empty()));
    }
}
