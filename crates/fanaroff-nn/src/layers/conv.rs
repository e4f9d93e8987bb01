//! 2-D convolution layer.

use crate::error::{Result, config};
use crate::init;
use crate::layers::linear::weight_bias_visitors;
use crate::mask::Mask;
use crate::module::{ConvWeights, Module, join};
use crate::pass::Pass;
use fanaroff_tensor::Tensor;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::any::Any;

/// Shape of a square-kernel 2-D convolution (deterministic or variational).
///
/// | name | default | meaning |
/// |---|---|---|
/// | `in_channels` | | input channels, >= 1 |
/// | `out_channels` | | output channels, >= 1 |
/// | `kernel` | | kernel side, >= 1 |
/// | `stride` | 1 | step between windows, >= 1 |
/// | `padding` | 0 | zeros on every side |
/// | `bias` | true | add a bias per output channel |
///
/// # Example
/// ```
/// use fanaroff_nn::Conv2dConfig;
/// let c = Conv2dConfig::new(1, 6, 5).padding(1); // LeNet's first layer
/// assert_eq!(c.output_side(150), Some(148));
/// assert!(Conv2dConfig::new(1, 6, 5).stride(0).check().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conv2dConfig {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Kernel side.
    pub kernel: usize,
    /// Step between windows (rows and columns alike).
    pub stride: usize,
    /// Zero padding on every side.
    pub padding: usize,
    /// Whether the layer adds a bias.
    pub bias: bool,
}

impl Conv2dConfig {
    /// `in_channels -> out_channels` with a `kernel x kernel` window,
    /// stride 1, no padding, with a bias.
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize) -> Self {
        Conv2dConfig {
            in_channels,
            out_channels,
            kernel,
            stride: 1,
            padding: 0,
            bias: true,
        }
    }
    /// Sets the stride.
    pub fn stride(mut self, s: usize) -> Self {
        self.stride = s;
        self
    }
    /// Sets the padding.
    pub fn padding(mut self, p: usize) -> Self {
        self.padding = p;
        self
    }
    /// With or without a bias.
    pub fn bias(mut self, on: bool) -> Self {
        self.bias = on;
        self
    }
    /// Output side for an input side, `None` when the window does not fit.
    pub fn output_side(&self, input: usize) -> Option<usize> {
        let padded = input + 2 * self.padding;
        (padded >= self.kernel && self.stride > 0).then(|| (padded - self.kernel) / self.stride + 1)
    }
    /// Validates the sizes.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for zero channels, kernel or stride.
    pub fn check(self) -> Result<Self> {
        if self.in_channels == 0 || self.out_channels == 0 || self.kernel == 0 || self.stride == 0 {
            return Err(config(
                "Conv2d",
                "channels, kernel and stride must be positive",
            ));
        }
        Ok(self)
    }
    /// The weight shape `[O, C, k, k]`.
    pub fn weight_shape(&self) -> [usize; 4] {
        [
            self.out_channels,
            self.in_channels,
            self.kernel,
            self.kernel,
        ]
    }
}

/// Convolution over `[N, C, H, W]` with weight `[O, C, k, k]` (PyTorch layout).
///
/// # Example
/// ```
/// use fanaroff_nn::{Conv2d, Conv2dConfig, ModuleExt};
/// use fanaroff_tensor::Tensor;
/// use rand::{SeedableRng, rngs::StdRng};
/// let mut rng = StdRng::seed_from_u64(0);
/// let conv = Conv2d::new(Conv2dConfig::new(1, 6, 5).padding(1), &mut rng).unwrap();
/// let y = conv.forward_rng(&Tensor::zeros(&[2, 1, 150, 150]), &mut rng).unwrap();
/// assert_eq!(y.shape(), &[2, 6, 148, 148]);
/// ```
#[derive(Debug, Clone)]
pub struct Conv2d {
    /// `[O, C, k, k]`.
    pub weight: Tensor,
    /// `[O]`, if the layer has a bias.
    pub bias: Option<Tensor>,
    /// Step between windows (rows and columns alike).
    pub stride: usize,
    /// Zero padding on every side.
    pub padding: usize,
    /// Optional pruning mask over `weight`.
    pub mask: Mask,
}

impl Conv2d {
    /// A layer with PyTorch's default initialisation,
    /// `U(-1/sqrt(C k k), 1/sqrt(C k k))` for weight and bias.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for zero sizes or stride.
    pub fn new<R: Rng + ?Sized>(cfg: Conv2dConfig, rng: &mut R) -> Result<Self> {
        let cfg = cfg.check()?;
        let shape = cfg.weight_shape();
        let weight = init::kaiming_uniform(&shape, 5f32.sqrt(), rng)?.requires_grad(true);
        let b = 1.0 / ((cfg.in_channels * cfg.kernel * cfg.kernel) as f32).sqrt();
        let bias = if cfg.bias {
            Some(init::uniform(&[cfg.out_channels], -b, b, rng)?.requires_grad(true))
        } else {
            None
        };
        Ok(Conv2d {
            mask: Mask::new(&shape),
            weight,
            bias,
            stride: cfg.stride,
            padding: cfg.padding,
        })
    }
}

impl Module for Conv2d {
    fn forward(&self, x: &Tensor, _pass: &mut Pass<'_>) -> Result<Tensor> {
        let (s, p) = (self.stride, self.padding);
        let w = self.mask.apply(&self.weight)?;
        Ok(x.conv2d(&w, self.bias.as_ref(), (s, s), (p, p))?)
    }
    fn pointwise_weights(&self, _pass: &mut Pass<'_>) -> Option<Result<(Tensor, Option<Tensor>)>> {
        let one = self.weight.shape().get(2..) == Some(&[1, 1][..]);
        (one && self.stride == 1 && self.padding == 0).then(|| {
            let w = self.mask.apply(&self.weight)?;
            Ok((w, self.bias.clone()))
        })
    }
    fn conv_weights(&self, _pass: &mut Pass<'_>) -> Option<Result<ConvWeights>> {
        let weight = self.mask.apply(&self.weight);
        Some(weight.map(|weight| ConvWeights {
            weight,
            bias: self.bias.clone(),
            stride: self.stride,
            padding: self.padding,
        }))
    }
    weight_bias_visitors!();
}
