//! The LeNet-style CNN of the radio-galaxy Bayes-by-backprop study
//! (Mohan et al. 2022), with ordinary layers.

use super::factory::{LayerFactory, PlainLayers};
use crate::error::{Result, config};
use crate::layers::{Activation, Conv2dConfig, Flatten, LinearConfig, ReluMaxPool2d, Sequential};
use rand::RngCore;

/// Sizes of [`lenet`].
///
/// | name | default | meaning |
/// |---|---|---|
/// | `in_channels` | 1 | image channels |
/// | `image_size` | 150 | height = width of the input |
/// | `classes` | 2 | outputs (FRI, FRII) |
/// | `channels` | [6, 16, 26, 32] | widths of the four conv layers |
/// | `hidden` | [120, 84] | widths of the two hidden fc layers |
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeNetConfig {
    /// Image channels.
    pub in_channels: usize,
    /// Height and width of the (square) input.
    pub image_size: usize,
    /// Number of classes.
    pub classes: usize,
    /// Output channels of the four convolutions.
    pub channels: [usize; 4],
    /// Widths of the two hidden fully connected layers.
    pub hidden: [usize; 2],
}

impl Default for LeNetConfig {
    fn default() -> Self {
        LeNetConfig {
            in_channels: 1,
            image_size: 150,
            classes: 2,
            channels: [6, 16, 26, 32],
            hidden: [120, 84],
        }
    }
}

impl LeNetConfig {
    /// Validates the sizes.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for zero
    /// channels or widths, or an image too small for four stages.
    pub fn check(self) -> Result<Self> {
        let zero = self.in_channels == 0
            || self.classes == 0
            || self.channels.contains(&0)
            || self.hidden.contains(&0);
        if zero {
            return Err(config(
                "LeNetConfig",
                "channels, widths and classes must be positive",
            ));
        }
        self.feature_side()?;
        Ok(self)
    }

    /// Side of the feature map after the four conv (5x5, pad 1) + pool (2x2)
    /// stages: 150 -> 148 -> 74 -> 72 -> 36 -> 34 -> 17 -> 15 -> 7.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) when the image
    /// is too small for four stages.
    pub fn feature_side(&self) -> Result<usize> {
        let mut s = self.image_size;
        for _ in 0..4 {
            if s < 5 {
                return Err(config(
                    "LeNetConfig",
                    format!(
                        "image size {} too small for four conv stages",
                        self.image_size
                    ),
                ));
            }
            s = (s - 2) / 2;
            if s == 0 {
                return Err(config(
                    "LeNetConfig",
                    format!(
                        "image size {} too small for four conv stages",
                        self.image_size
                    ),
                ));
            }
        }
        Ok(s)
    }
}

impl LeNetConfig {
    /// Builds the LeNet with the layers of `factory`: four blocks of conv
    /// 5x5 (padding 1) -> ReLU -> max-pool 2x2 (fused: `relu_pool1`..), flatten, fc -> ReLU -> fc ->
    /// ReLU -> fc. Returns logits. Parameter names (`conv1.weight` ...
    /// `fc3.bias`, or `conv1.weight_mu` ... for variational layers) match
    /// the PyTorch reference models; a factory's extra layer before each fc
    /// layer is named `drop1`..`drop3`.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for sizes that
    /// do not fit; the factory's errors.
    ///
    /// # Example
    /// ```
    /// use fanaroff_nn::{ModuleExt, models::{LeNetConfig, McDropoutLayers}};
    /// use rand::{SeedableRng, rngs::StdRng};
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let net = LeNetConfig::default().build(&mut McDropoutLayers::new(0.5, &mut rng)?)?;
    /// assert_eq!(net.num_parameters(), 232_444);
    /// assert!(net.is_stochastic());
    /// # Ok::<(), fanaroff_nn::Error>(())
    /// ```
    pub fn build<F: LayerFactory>(
        &self,
        factory: &mut F,
    ) -> std::result::Result<Sequential, F::Error> {
        let side = self.feature_side()?;
        let mut net = Sequential::new();
        let mut cin = self.in_channels;
        for (i, &cout) in self.channels.iter().enumerate() {
            let conv = factory.conv2d(Conv2dConfig::new(cin, cout, 5).padding(1))?;
            net = net
                .push_boxed(&format!("conv{}", i + 1), conv)
                .push(&format!("relu_pool{}", i + 1), ReluMaxPool2d::new(2, 2)?);
            cin = cout;
        }
        net = net.push("flatten", Flatten);
        let widths = [
            cin * side * side,
            self.hidden[0],
            self.hidden[1],
            self.classes,
        ];
        for i in 0..3 {
            if let Some(extra) = factory.before_linear()? {
                net = net.push_boxed(&format!("drop{}", i + 1), extra);
            }
            let fc = factory.linear(LinearConfig::new(widths[i], widths[i + 1]))?;
            net = net.push_boxed(&format!("fc{}", i + 1), fc);
            if i < 2 {
                net = net.push(&format!("relu{}", i + 5), Activation::Relu);
            }
        }
        Ok(net)
    }
}

/// The LeNet with ordinary layers: `cfg.build(&mut PlainLayers::new(rng))`.
///
/// With the defaults: 232,444 parameters, input `[N, 1, 150, 150]`.
///
/// # Errors
/// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for sizes that do not fit.
///
/// # Example
/// ```
/// use fanaroff_nn::{ModuleExt, models::{lenet, LeNetConfig}};
/// use rand::{SeedableRng, rngs::StdRng};
/// let net = lenet(&LeNetConfig::default(), &mut StdRng::seed_from_u64(0)).unwrap();
/// assert_eq!(net.num_parameters(), 232_444);
/// ```
pub fn lenet(cfg: &LeNetConfig, rng: &mut dyn RngCore) -> Result<Sequential> {
    cfg.build(&mut PlainLayers::new(rng))
}
