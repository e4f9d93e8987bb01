//! The LeNet-style CNN of the radio-galaxy Bayes-by-backprop study
//! (Mohan et al. 2022), with ordinary layers.

use crate::error::{Result, config};
use crate::layers::{Activation, Conv2d, Flatten, Linear, MaxPool2d, Sequential};
use rand::Rng;

/// Sizes of [`lenet`].
///
/// | name | default | meaning |
/// |---|---|---|
/// | `in_channels` | 1 | image channels |
/// | `image_size` | 150 | height = width of the input |
/// | `classes` | 2 | outputs (FRI, FRII) |
/// | `channels` | [6, 16, 26, 32] | widths of the four conv layers |
/// | `hidden` | [120, 84] | widths of the two hidden fc layers |
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Side of the feature map after the four conv (5x5, pad 1) + pool (2x2)
    /// stages: 150 -> 148 -> 74 -> 72 -> 36 -> 34 -> 17 -> 15 -> 7.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) when the image
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

/// Builds the LeNet: four blocks of conv 5x5 (padding 1) -> ReLU -> max-pool
/// 2x2, flatten, fc -> ReLU -> fc -> ReLU -> fc. Returns logits; apply
/// `log_softmax` or [`cross_entropy`](crate::cross_entropy). Parameter names
/// (`conv1.weight` ... `fc3.bias`) match the PyTorch reference model.
///
/// With the defaults: 232,444 parameters, input `[N, 1, 150, 150]`.
///
/// # Errors
/// [`Error::InvalidConfig`](crate::Error::InvalidConfig) for sizes that do not fit.
///
/// # Example
/// ```
/// use fanaroff_nn::{ModuleExt, models::{lenet, LeNetConfig}};
/// use rand::{SeedableRng, rngs::StdRng};
/// let net = lenet(&LeNetConfig::default(), &mut StdRng::seed_from_u64(0)).unwrap();
/// assert_eq!(net.num_parameters(), 232_444);
/// ```
pub fn lenet<R: Rng + ?Sized>(cfg: &LeNetConfig, rng: &mut R) -> Result<Sequential> {
    let side = cfg.feature_side()?;
    let mut net = Sequential::new();
    let mut cin = cfg.in_channels;
    for (i, &cout) in cfg.channels.iter().enumerate() {
        net = net
            .push(
                &format!("conv{}", i + 1),
                Conv2d::new(cin, cout, 5, 1, 1, true, rng)?,
            )
            .push(&format!("relu{}", i + 1), Activation::Relu)
            .push(&format!("pool{}", i + 1), MaxPool2d::new(2, 2)?);
        cin = cout;
    }
    let flat = cin * side * side;
    Ok(net
        .push("flatten", Flatten)
        .push("fc1", Linear::new(flat, cfg.hidden[0], true, rng)?)
        .push("relu5", Activation::Relu)
        .push("fc2", Linear::new(cfg.hidden[0], cfg.hidden[1], true, rng)?)
        .push("relu6", Activation::Relu)
        .push("fc3", Linear::new(cfg.hidden[1], cfg.classes, true, rng)?))
}
