//! Fully connected layer.

use crate::error::{Result, config};
use crate::init;
use crate::mask::Mask;
use crate::module::{Module, join};
use crate::pass::Pass;
use fanaroff_tensor::Tensor;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::any::Any;

/// Sizes of a fully connected layer (deterministic or variational).
///
/// | name | default | meaning |
/// |---|---|---|
/// | `in_features` | | inputs per example, >= 1 |
/// | `out_features` | | outputs per example, >= 1 |
/// | `bias` | true | add a bias |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinearConfig {
    /// Inputs per example.
    pub in_features: usize,
    /// Outputs per example.
    pub out_features: usize,
    /// Whether the layer adds a bias.
    pub bias: bool,
}

impl LinearConfig {
    /// `in_features -> out_features` with a bias.
    pub fn new(in_features: usize, out_features: usize) -> Self {
        LinearConfig {
            in_features,
            out_features,
            bias: true,
        }
    }
    /// With or without a bias.
    pub fn bias(mut self, on: bool) -> Self {
        self.bias = on;
        self
    }
    /// Validates the sizes.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for zero sizes.
    pub fn check(self) -> Result<Self> {
        if self.in_features == 0 || self.out_features == 0 {
            return Err(config("Linear", "sizes must be positive"));
        }
        Ok(self)
    }
}

/// `y = x W^T + b` with `W` of shape `[out, in]` (PyTorch layout).
///
/// # Example
/// ```
/// use fanaroff_nn::{Linear, LinearConfig, ModuleExt};
/// use fanaroff_tensor::Tensor;
/// use rand::{SeedableRng, rngs::StdRng};
/// let mut rng = StdRng::seed_from_u64(0);
/// let fc = Linear::new(LinearConfig::new(4, 2), &mut rng).unwrap();
/// let y = fc.forward_rng(&Tensor::ones(&[3, 4]), &mut rng).unwrap();
/// assert_eq!(y.shape(), &[3, 2]);
/// ```
#[derive(Debug, Clone)]
pub struct Linear {
    /// `[out, in]`.
    pub weight: Tensor,
    /// `[out]`, if the layer has a bias.
    pub bias: Option<Tensor>,
    /// Optional pruning mask over `weight`.
    pub mask: Mask,
}

impl Linear {
    /// A layer with PyTorch's default initialisation:
    /// `W, b ~ U(-1/sqrt(in), 1/sqrt(in))`.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for zero sizes.
    pub fn new<R: Rng + ?Sized>(cfg: LinearConfig, rng: &mut R) -> Result<Self> {
        let LinearConfig {
            in_features,
            out_features,
            bias,
        } = cfg.check()?;
        let weight = init::kaiming_uniform(&[out_features, in_features], 5f32.sqrt(), rng)?
            .requires_grad(true);
        let b = 1.0 / (in_features as f32).sqrt();
        let bias = if bias {
            Some(init::uniform(&[out_features], -b, b, rng)?.requires_grad(true))
        } else {
            None
        };
        Ok(Linear {
            mask: Mask::new(weight.shape()),
            weight,
            bias,
        })
    }

    /// A layer from given tensors (`weight [out, in]`, `bias [out]`).
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) when the shapes do not fit.
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
            mask: Mask::new(weight.shape()),
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
    let y = x.matmul_t(w)?;
    Ok(match b {
        Some(b) => y.add(b)?,
        None => y,
    })
}

/// The parameter visitors of a layer with `weight`, optional `bias` and a mask
/// (deterministic linear and convolution layers).
macro_rules! weight_bias_visitors {
    () => {
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
        fn visit_masks(&self, prefix: &str, f: &mut dyn FnMut(&str, &Mask)) {
            f(&join(prefix, "weight_mask"), &self.mask);
        }
        fn visit_masks_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Mask)) {
            f(&join(prefix, "weight_mask"), &mut self.mask);
        }
        fn visit_weights(
            &self,
            prefix: &str,
            f: &mut dyn FnMut(&str, &crate::weights::WeightView<'_>),
        ) {
            f(
                prefix,
                &crate::weights::WeightView {
                    param: join(prefix, "weight"),
                    mean: self.weight.data(),
                    std: None,
                    mask: &self.mask,
                },
            );
        }
        fn enforce_masks(&mut self) {
            self.mask.zero_masked(&mut self.weight);
        }
        fn as_any_mut(&mut self) -> Option<&mut dyn Any> {
            Some(self)
        }
        fn as_any(&self) -> Option<&dyn Any> {
            Some(self)
        }
    };
}
pub(crate) use weight_bias_visitors;

impl Module for Linear {
    fn forward(&self, x: &Tensor, _pass: &mut Pass<'_>) -> Result<Tensor> {
        linear(x, &self.mask.apply(&self.weight)?, self.bias.as_ref())
    }
    weight_bias_visitors!();
}
