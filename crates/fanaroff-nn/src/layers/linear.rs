//! Fully connected layer.

use crate::error::{Result, config};
use crate::init;
use crate::module::{Module, join};
use fanaroff_tensor::Tensor;
use rand::{Rng, RngCore};

/// `y = x W^T + b` with `W` of shape `[out, in]` (PyTorch layout).
///
/// # Example
/// ```
/// use fanaroff_nn::{Linear, Module};
/// use fanaroff_tensor::Tensor;
/// use rand::{SeedableRng, rngs::StdRng};
/// let mut rng = StdRng::seed_from_u64(0);
/// let fc = Linear::new(4, 2, true, &mut rng).unwrap();
/// let y = fc.forward(&Tensor::ones(&[3, 4]), &mut rng).unwrap();
/// assert_eq!(y.shape(), &[3, 2]);
/// ```
#[derive(Debug, Clone)]
pub struct Linear {
    /// `[out, in]`.
    pub weight: Tensor,
    /// `[out]`, if the layer has a bias.
    pub bias: Option<Tensor>,
}

impl Linear {
    /// A layer with PyTorch's default initialisation:
    /// `W, b ~ U(-1/sqrt(in), 1/sqrt(in))`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) for zero sizes.
    pub fn new<R: Rng + ?Sized>(
        in_features: usize,
        out_features: usize,
        bias: bool,
        rng: &mut R,
    ) -> Result<Self> {
        if in_features == 0 || out_features == 0 {
            return Err(config("Linear", "sizes must be positive"));
        }
        let weight = init::kaiming_uniform(&[out_features, in_features], 5f32.sqrt(), rng)?
            .requires_grad(true);
        let b = 1.0 / (in_features as f32).sqrt();
        let bias = if bias {
            Some(init::uniform(&[out_features], -b, b, rng)?.requires_grad(true))
        } else {
            None
        };
        Ok(Linear { weight, bias })
    }

    /// A layer from given tensors (`weight [out, in]`, `bias [out]`).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) when the shapes do not fit.
    pub fn from_tensors(weight: Tensor, bias: Option<Tensor>) -> Result<Self> {
        if weight.ndim() != 2 {
            return Err(config(
                "Linear",
                format!("weight must be [out, in], got {:?}", weight.shape()),
            ));
        }
        if let Some(b) = &bias
            && b.shape() != [weight.shape()[0]]
        {
            return Err(config(
                "Linear",
                format!(
                    "bias {:?} does not fit weight {:?}",
                    b.shape(),
                    weight.shape()
                ),
            ));
        }
        Ok(Linear {
            weight: weight.requires_grad(true),
            bias: bias.map(|b| b.requires_grad(true)),
        })
    }
}

/// `x W^T + b`, the shared kernel of deterministic and Bayesian linear layers.
///
/// # Errors
/// Shape mismatches between `x [N, in]`, `w [out, in]` and `b [out]`.
pub fn linear(x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Result<Tensor> {
    let y = x.matmul(&w.t()?)?;
    Ok(match b {
        Some(b) => y.add(b)?,
        None => y,
    })
}

impl Module for Linear {
    fn forward(&self, x: &Tensor, _rng: &mut dyn RngCore) -> Result<Tensor> {
        linear(x, &self.weight, self.bias.as_ref())
    }
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
        f(&join(prefix, "weight"), &self.weight);
        if let Some(b) = &self.bias {
            f(&join(prefix, "bias"), b);
        }
    }
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
        f(&join(prefix, "weight"), &mut self.weight);
        if let Some(b) = &mut self.bias {
            f(&join(prefix, "bias"), b);
        }
    }
}
