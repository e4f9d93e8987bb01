//! 2-D convolution layer.

use crate::error::{Result, config};
use crate::init;
use crate::module::{Module, join};
use fanaroff_tensor::Tensor;
use rand::{Rng, RngCore};

/// Convolution over `[N, C, H, W]` with weight `[O, C, k, k]` (PyTorch layout).
///
/// # Example
/// ```
/// use fanaroff_nn::{Conv2d, Module};
/// use fanaroff_tensor::Tensor;
/// use rand::{SeedableRng, rngs::StdRng};
/// let mut rng = StdRng::seed_from_u64(0);
/// let conv = Conv2d::new(1, 6, 5, 1, 1, true, &mut rng).unwrap(); // LeNet's first layer
/// let y = conv.forward(&Tensor::zeros(&[2, 1, 150, 150]), &mut rng).unwrap();
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
}

impl Conv2d {
    /// A square-kernel layer with PyTorch's default initialisation,
    /// `U(-1/sqrt(C k k), 1/sqrt(C k k))` for weight and bias.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) for zero sizes or stride.
    pub fn new<R: Rng + ?Sized>(
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        bias: bool,
        rng: &mut R,
    ) -> Result<Self> {
        if in_channels == 0 || out_channels == 0 || kernel == 0 || stride == 0 {
            return Err(config(
                "Conv2d",
                "channels, kernel and stride must be positive",
            ));
        }
        let shape = [out_channels, in_channels, kernel, kernel];
        let weight = init::kaiming_uniform(&shape, 5f32.sqrt(), rng)?.requires_grad(true);
        let b = 1.0 / ((in_channels * kernel * kernel) as f32).sqrt();
        let bias = if bias {
            Some(init::uniform(&[out_channels], -b, b, rng)?.requires_grad(true))
        } else {
            None
        };
        Ok(Conv2d {
            weight,
            bias,
            stride,
            padding,
        })
    }
}

impl Module for Conv2d {
    fn forward(&self, x: &Tensor, _rng: &mut dyn RngCore) -> Result<Tensor> {
        let (s, p) = (self.stride, self.padding);
        Ok(x.conv2d(&self.weight, self.bias.as_ref(), (s, s), (p, p))?)
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
