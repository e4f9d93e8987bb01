//! Variational layers: [`BayesLinear`] and [`BayesConv2d`].

use crate::config::{Estimator, VariationalConfig};
use crate::core::{Core, Kind};
use crate::error::{Error, Result, config};
use crate::params::{VariationalParams, WeightNoise};
use fanaroff_nn::kl::KlTerms;
use fanaroff_nn::{
    Conv2dConfig, ConvWeights, LinearConfig, Mask, Module, Pass, SampleMode, Variational, join,
};
use fanaroff_tensor::Tensor;
use rand::{Rng, RngCore};
use std::any::Any;

/// Turns this crate's error into the error of a forward pass, keeping its type.
fn to_nn(e: Error) -> fanaroff_nn::Error {
    e.into()
}

macro_rules! layer_common {
    ($ty:ident) => {
        impl Variational for $ty {
            fn estimator(&self) -> Estimator {
                self.core.cfg.estimator
            }
            fn set_estimator(&mut self, e: Estimator) {
                self.core.cfg.estimator = e;
            }
            fn num_weights(&self) -> usize {
                self.core.params.num_weights()
            }
            fn kl(&self, rng: &mut dyn RngCore) -> fanaroff_nn::Result<KlTerms> {
                self.core.kl(None, rng).map_err(to_nn)
            }
        }

        impl $ty {
            /// The variational tensors.
            pub fn params(&self) -> &VariationalParams {
                &self.core.params
            }
            /// Mutable access to the variational tensors (pruning, loading).
            pub fn params_mut(&mut self) -> &mut VariationalParams {
                &mut self.core.params
            }
            /// The layer's settings.
            pub fn config(&self) -> &VariationalConfig {
                &self.core.cfg
            }
            /// Changes the estimator.
            pub fn set_estimator(&mut self, e: Estimator) {
                self.core.cfg.estimator = e;
            }
            /// The mask over the weights.
            pub fn mask(&self) -> &Mask {
                &self.core.mask
            }
            /// Mutable access to the mask over the weights.
            pub fn mask_mut(&mut self) -> &mut Mask {
                &mut self.core.mask
            }
            /// Output and KL terms of one forward pass with given noise (the
            /// [`Estimator::Reparam`] computation with a fixed draw; the KL
            /// uses this draw, plus fresh draws from `rng` for a
            /// multi-sample KL estimator, or the closed form).
            ///
            /// # Errors
            /// An input that does not fit, an empty batch, noise of the wrong shape.
            pub fn forward_with_noise(
                &self,
                x: &Tensor,
                noise: &WeightNoise,
                rng: &mut dyn RngCore,
            ) -> Result<(Tensor, KlTerms)> {
                self.core.check_input(x)?;
                let mut pass = Pass::new(rng).collecting_kl();
                let y = self.core.forward_noise(x, noise, &mut pass)?;
                Ok((y, pass.kl()))
            }
            /// The KL terms alone (closed form, or Monte Carlo with fresh draws).
            ///
            /// # Errors
            /// Tensor errors.
            pub fn kl(&self, rng: &mut dyn RngCore) -> Result<KlTerms> {
                self.core.kl(None, rng)
            }
        }

        impl Module for $ty {
            fn forward(&self, x: &Tensor, pass: &mut Pass<'_>) -> fanaroff_nn::Result<Tensor> {
                self.core.forward(x, pass).map_err(to_nn)
            }
            fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Tensor)) {
                self.core.params.visit(prefix, f)
            }
            fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Tensor)) {
                self.core.params.visit_mut(prefix, f)
            }
            fn visit_masks(&self, prefix: &str, f: &mut dyn FnMut(&str, &Mask)) {
                f(&join(prefix, "weight_mask"), &self.core.mask)
            }
            fn visit_masks_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Mask)) {
                f(&join(prefix, "weight_mask"), &mut self.core.mask)
            }
            fn visit_weights(
                &self,
                prefix: &str,
                f: &mut dyn FnMut(&str, &fanaroff_nn::WeightView<'_>),
            ) {
                let p = &self.core.params;
                f(
                    prefix,
                    &fanaroff_nn::WeightView {
                        param: join(prefix, "weight_mu"),
                        mean: p.weight_mu.data(),
                        std: Some(p.weight_sigma(self.core.cfg.sigma)),
                        mask: &self.core.mask,
                    },
                )
            }
            /// Zeroes `weight_mu` where masked (`weight_rho` is kept; it
            /// never reaches the output of a masked weight).
            fn enforce_masks(&mut self) {
                self.core.mask.zero_masked(&mut self.core.params.weight_mu);
            }
            fn sample_mode(&self) -> Option<SampleMode> {
                Some(self.core.mode)
            }
            fn set_own_sample_mode(&mut self, mode: SampleMode) {
                self.core.mode = mode;
            }
            fn as_any_mut(&mut self) -> Option<&mut dyn Any> {
                Some(self)
            }
            fn as_variational(&self) -> Option<&dyn Variational> {
                Some(self)
            }
            fn as_variational_mut(&mut self) -> Option<&mut dyn Variational> {
                Some(self)
            }
            fn pointwise_weights(
                &self,
                pass: &mut Pass<'_>,
            ) -> Option<fanaroff_nn::Result<(Tensor, Option<Tensor>)>> {
                let w = self.core.pass_weights(pass)?;
                Some(w.map(|(w, b)| (w, Some(b))).map_err(to_nn))
            }
            fn conv_weights(
                &self,
                pass: &mut Pass<'_>,
            ) -> Option<fanaroff_nn::Result<ConvWeights>> {
                Some(self.core.conv_pass_weights(pass)?.map_err(to_nn))
            }
        }
    };
}

fn no_bias(what: &'static str) -> Error {
    config(
        what,
        "variational layers always have a bias (bias = false is not supported)",
    )
}

/// Fully connected variational layer: `y = x w^T + b` with
/// `w ~ N(weight_mu, sigma(weight_rho)^2)` (shape `[out, in]`, PyTorch
/// layout) and `b ~ N(bias_mu, sigma(bias_rho)^2)`. Its forward pass adds
/// its KL terms to the pass ([`Pass::record_kl`]).
///
/// # Example
/// ```
/// use fanaroff_bayes::{BayesLinear, VariationalConfig, forward_kl};
/// use fanaroff_nn::LinearConfig;
/// use fanaroff_tensor::Tensor;
/// use rand::{SeedableRng, rngs::StdRng};
/// let mut rng = StdRng::seed_from_u64(0);
/// let fc = BayesLinear::new(LinearConfig::new(4, 3), &VariationalConfig::default(), &mut rng)?;
/// let (y, kl) = forward_kl(&fc, &Tensor::ones(&[2, 4]), &mut rng)?;
/// assert_eq!(y.shape(), &[2, 3]);
/// assert!(kl.kl_value().is_finite());
/// # Ok::<(), fanaroff_bayes::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BayesLinear {
    core: Core,
}

impl BayesLinear {
    /// A layer initialised as the paper: `mu ~ U(-0.1, 0.1)`,
    /// `rho ~ U(-5, -4)` (see [`VariationalConfig`]).
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for zero sizes,
    /// no bias, or an invalid config.
    pub fn new<R: Rng + ?Sized>(
        shape: LinearConfig,
        cfg: &VariationalConfig,
        rng: &mut R,
    ) -> Result<Self> {
        let s = shape.check()?;
        if !s.bias {
            return Err(no_bias("BayesLinear"));
        }
        let cfg = cfg.clone().check()?;
        let params =
            VariationalParams::init(&[s.out_features, s.in_features], s.out_features, &cfg, rng)?;
        Ok(BayesLinear {
            core: Core::new(params, cfg, Kind::Linear),
        })
    }

    /// A layer from given tensors (`weight_* [out, in]`, `bias_* [out]`).
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) when the shapes do not fit.
    pub fn from_params(params: VariationalParams, cfg: &VariationalConfig) -> Result<Self> {
        let ws = params.weight_mu.shape().to_vec();
        if ws.len() != 2 {
            return Err(config(
                "BayesLinear",
                format!("weight must be [out, in], got {ws:?}"),
            ));
        }
        params.check_shapes("BayesLinear")?;
        Ok(BayesLinear {
            core: Core::new(params.marked(), cfg.clone().check()?, Kind::Linear),
        })
    }
}

/// 2-D convolutional variational layer (NCHW input, OIHW weights, square
/// kernel, equal stride and padding on both axes).
///
/// # Example
/// ```
/// use fanaroff_bayes::{BayesConv2d, VariationalConfig};
/// use fanaroff_nn::{Conv2dConfig, ModuleExt};
/// use fanaroff_tensor::Tensor;
/// use rand::{SeedableRng, rngs::StdRng};
/// let mut rng = StdRng::seed_from_u64(0);
/// let conv = BayesConv2d::new(Conv2dConfig::new(1, 6, 5).padding(1), &VariationalConfig::default(), &mut rng)?;
/// let y = conv.forward_rng(&Tensor::ones(&[2, 1, 12, 12]), &mut rng)?;
/// assert_eq!(y.shape(), &[2, 6, 10, 10]);
/// # Ok::<(), fanaroff_bayes::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BayesConv2d {
    core: Core,
}

impl BayesConv2d {
    /// A layer initialised as the paper.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for zero sizes,
    /// no bias, or an invalid config.
    pub fn new<R: Rng + ?Sized>(
        shape: Conv2dConfig,
        cfg: &VariationalConfig,
        rng: &mut R,
    ) -> Result<Self> {
        let s = shape.check()?;
        if !s.bias {
            return Err(no_bias("BayesConv2d"));
        }
        let cfg = cfg.clone().check()?;
        let params = VariationalParams::init(&s.weight_shape(), s.out_channels, &cfg, rng)?;
        let kind = Kind::Conv {
            stride: s.stride,
            padding: s.padding,
        };
        Ok(BayesConv2d {
            core: Core::new(params, cfg, kind),
        })
    }

    /// A layer from given tensors (`weight_* [out, in, k, k]`, `bias_* [out]`).
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) when the shapes do not fit.
    pub fn from_params(
        params: VariationalParams,
        stride: usize,
        padding: usize,
        cfg: &VariationalConfig,
    ) -> Result<Self> {
        let ws = params.weight_mu.shape().to_vec();
        if ws.len() != 4 || stride == 0 {
            return Err(config(
                "BayesConv2d",
                format!("weight must be [out, in, k, k] and stride > 0, got {ws:?}"),
            ));
        }
        params.check_shapes("BayesConv2d")?;
        let kind = Kind::Conv { stride, padding };
        Ok(BayesConv2d {
            core: Core::new(params.marked(), cfg.clone().check()?, kind),
        })
    }
}

layer_common!(BayesLinear);
layer_common!(BayesConv2d);
