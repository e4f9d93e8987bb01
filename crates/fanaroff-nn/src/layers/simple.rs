//! Parameter-free layers: activations, pooling, flattening, dropout.

use crate::error::{Result, config};
use crate::module::{Module, SampleMode};
use crate::pass::Pass;
use fanaroff_tensor::Tensor;

/// Elementwise activation functions as layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `max(x, 0)`.
    Relu,
    /// `tanh(x)`.
    Tanh,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `ln(1 + e^x)`.
    Softplus,
}

impl Module for Activation {
    fn forward(&self, x: &Tensor, _pass: &mut Pass<'_>) -> Result<Tensor> {
        Ok(match self {
            Activation::Relu => x.relu(),
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Softplus => x.softplus(),
        })
    }
}

/// Max pooling with a square window (no padding, floor mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPool2d {
    /// Window size.
    pub kernel: usize,
    /// Step between windows.
    pub stride: usize,
}

impl MaxPool2d {
    /// A pooling layer; `MaxPool2d::new(2, 2)` halves height and width.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for zero sizes.
    pub fn new(kernel: usize, stride: usize) -> Result<Self> {
        if kernel == 0 || stride == 0 {
            return Err(config("MaxPool2d", "kernel and stride must be positive"));
        }
        Ok(MaxPool2d { kernel, stride })
    }
}

impl Module for MaxPool2d {
    fn forward(&self, x: &Tensor, _pass: &mut Pass<'_>) -> Result<Tensor> {
        Ok(x.max_pool2d((self.kernel, self.kernel), (self.stride, self.stride))?)
    }
}

/// ReLU followed by max pooling, fused into one pass
/// ([`Tensor::relu_max_pool2d`]): the values and gradients of
/// [`Activation::Relu`] then [`MaxPool2d`], without the ReLU's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReluMaxPool2d {
    /// The pooling after the ReLU.
    pub pool: MaxPool2d,
}

impl ReluMaxPool2d {
    /// ReLU then a `kernel x kernel` max pool with step `stride`.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for zero sizes.
    pub fn new(kernel: usize, stride: usize) -> Result<Self> {
        Ok(ReluMaxPool2d {
            pool: MaxPool2d::new(kernel, stride)?,
        })
    }
}

impl Module for ReluMaxPool2d {
    fn forward(&self, x: &Tensor, _pass: &mut Pass<'_>) -> Result<Tensor> {
        let (k, s) = (self.pool.kernel, self.pool.stride);
        Ok(x.relu_max_pool2d((k, k), (s, s))?)
    }
    /// So that [`Sequential`](crate::Sequential) can fuse it with the
    /// convolution before it.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// Flattens `[N, ...]` into `[N, prod(...)]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flatten;

impl Module for Flatten {
    fn forward(&self, x: &Tensor, _pass: &mut Pass<'_>) -> Result<Tensor> {
        Ok(x.flatten(1)?)
    }
}

/// Inverted dropout: in training mode zeroes each value with probability `p`
/// and scales the rest by `1 / (1 - p)`; identity in evaluation mode unless
/// `mc` is set (Monte Carlo dropout keeps it active at prediction time).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dropout {
    /// Probability of zeroing a value.
    pub p: f32,
    /// Keep dropout active in evaluation mode (MC dropout).
    pub mc: bool,
    training: bool,
}

impl Dropout {
    /// A dropout layer, in training mode.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) unless `0 <= p < 1`.
    pub fn new(p: f32) -> Result<Self> {
        if !(0.0..1.0).contains(&p) {
            return Err(config("Dropout", format!("p = {p} must be in [0, 1)")));
        }
        Ok(Dropout {
            p,
            mc: false,
            training: true,
        })
    }

    /// Keeps dropout active at prediction time (MC dropout).
    pub fn monte_carlo(mut self, on: bool) -> Self {
        self.mc = on;
        self
    }
}

impl Module for Dropout {
    /// Active in training mode or as MC dropout, unless the pass runs at
    /// the mean; always active when the pass samples.
    fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> Result<Tensor> {
        let on = match pass.mode() {
            Some(SampleMode::Mean) => false,
            Some(_) => true,
            None => self.training || self.mc,
        };
        if on {
            Ok(x.dropout(self.p, pass.rng())?)
        } else {
            Ok(x.clone())
        }
    }
    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
    fn own_training_mode(&self) -> Option<bool> {
        Some(self.training)
    }
    /// `Sample` when dropout stays active at prediction time (MC dropout),
    /// `Mean` otherwise.
    fn sample_mode(&self) -> Option<SampleMode> {
        Some(if self.mc {
            SampleMode::Sample
        } else {
            SampleMode::Mean
        })
    }
    /// `Mean` switches MC dropout off; `Sample` and `Fixed` switch it on
    /// (`Fixed` draws from the caller's RNG like `Sample`).
    fn set_own_sample_mode(&mut self, mode: SampleMode) {
        self.mc = mode != SampleMode::Mean;
    }
}
