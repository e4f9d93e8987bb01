//! Variational layers for models written once against a `LayerFactory`.

use crate::config::VariationalConfig;
use crate::error::{Error, Result};
use crate::layers::{BayesConv2d, BayesLinear};
use fanaroff_nn::models::{LayerFactory, LeNetConfig, McDropoutLayers};
use fanaroff_nn::{Conv2dConfig, LinearConfig, Module, Sequential};
use rand::RngCore;

/// Every weight layer variational, all with the same settings (prior,
/// estimator, sigma transform, initialisation): the Bayes-by-backprop
/// variant of any model built on [`LayerFactory`].
pub struct BayesLayers<'r> {
    cfg: VariationalConfig,
    rng: &'r mut dyn RngCore,
}

impl<'r> BayesLayers<'r> {
    /// Variational layers with settings `cfg` (checked), initialised from `rng`.
    ///
    /// # Errors
    /// As [`VariationalConfig::check`].
    pub fn new(cfg: &VariationalConfig, rng: &'r mut dyn RngCore) -> Result<Self> {
        Ok(BayesLayers {
            cfg: cfg.clone().check()?,
            rng,
        })
    }
}

impl LayerFactory for BayesLayers<'_> {
    type Error = Error;
    fn linear(&mut self, cfg: LinearConfig) -> Result<Box<dyn Module>> {
        Ok(Box::new(BayesLinear::new(cfg, &self.cfg, self.rng)?))
    }
    fn conv2d(&mut self, cfg: Conv2dConfig) -> Result<Box<dyn Module>> {
        Ok(Box::new(BayesConv2d::new(cfg, &self.cfg, self.rng)?))
    }
}

/// The paper's BBB LeNet (METHODS.md section 1): the one LeNet definition
/// ([`LeNetConfig::build`]) with [`BayesLayers`]. Layer names
/// `conv1..conv4`, `fc1..fc3`, parameters `<layer>.weight_mu` etc.
///
/// With the default sizes: 232,444 weights and biases, 464,888 variational
/// parameters.
///
/// # Errors
/// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for sizes that do not
/// fit or an invalid config.
///
/// # Example
/// ```
/// use fanaroff_bayes::{bbb_lenet, num_weights, VariationalConfig};
/// use fanaroff_nn::{ModuleExt, models::LeNetConfig};
/// use rand::{SeedableRng, rngs::StdRng};
/// let net = bbb_lenet(&LeNetConfig::default(), &VariationalConfig::default(), &mut StdRng::seed_from_u64(0))?;
/// assert_eq!(num_weights(&net), 232_444);
/// assert_eq!(net.num_parameters(), 464_888);
/// # Ok::<(), fanaroff_bayes::Error>(())
/// ```
pub fn bbb_lenet(
    lenet: &LeNetConfig,
    cfg: &VariationalConfig,
    rng: &mut dyn RngCore,
) -> Result<Sequential> {
    lenet.build(&mut BayesLayers::new(cfg, rng)?)
}

/// The MC-dropout baseline: the one LeNet definition with dropout `p`
/// before each fully connected layer, active at prediction time
/// ([`McDropoutLayers`]). Parameter names as the deterministic LeNet.
///
/// # Errors
/// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) unless `0 <= p < 1` and the sizes fit.
///
/// # Example
/// ```
/// use fanaroff_bayes::mc_dropout_lenet;
/// use fanaroff_nn::{ModuleExt, models::LeNetConfig};
/// use rand::{SeedableRng, rngs::StdRng};
/// let net = mc_dropout_lenet(&LeNetConfig::default(), 0.5, &mut StdRng::seed_from_u64(0))?;
/// assert!(net.is_stochastic());
/// assert_eq!(net.num_parameters(), 232_444);
/// # Ok::<(), fanaroff_bayes::Error>(())
/// ```
pub fn mc_dropout_lenet(cfg: &LeNetConfig, p: f32, rng: &mut dyn RngCore) -> Result<Sequential> {
    Ok(cfg.build(&mut McDropoutLayers::new(p, rng)?)?)
}
