//! Layer factories: one model definition, several kinds of layers.

use crate::error::{Error, Result, config};
use crate::layers::{Conv2d, Conv2dConfig, Dropout, Linear, LinearConfig};
use crate::module::Module;
use rand::RngCore;

/// Makes the weight layers of a model. A model is written once against this
/// trait ([`LeNetConfig::build`](crate::models::LeNetConfig::build)); the
/// factory decides whether its layers are ordinary ([`PlainLayers`]),
/// MC dropout ([`McDropoutLayers`]) or variational (`BayesLayers` in
/// `fanaroff-bayes`). Parameter names come from the model, so every variant
/// keeps the same dotted names.
pub trait LayerFactory {
    /// The error type of the factory's constructors.
    type Error: From<Error>;

    /// A fully connected layer.
    ///
    /// # Errors
    /// Invalid sizes or settings.
    fn linear(&mut self, cfg: LinearConfig) -> std::result::Result<Box<dyn Module>, Self::Error>;

    /// A 2-D convolution.
    ///
    /// # Errors
    /// Invalid sizes or settings.
    fn conv2d(&mut self, cfg: Conv2dConfig) -> std::result::Result<Box<dyn Module>, Self::Error>;

    /// A layer the model places before each fully connected layer (dropout
    /// for MC dropout), or `None` (the default).
    ///
    /// # Errors
    /// Invalid settings.
    fn before_linear(&mut self) -> std::result::Result<Option<Box<dyn Module>>, Self::Error> {
        Ok(None)
    }
}

/// Ordinary layers with PyTorch's default initialisation.
pub struct PlainLayers<'r> {
    rng: &'r mut dyn RngCore,
}

impl<'r> PlainLayers<'r> {
    /// Layers initialised from `rng`.
    pub fn new(rng: &'r mut dyn RngCore) -> Self {
        PlainLayers { rng }
    }
}

impl LayerFactory for PlainLayers<'_> {
    type Error = Error;
    fn linear(&mut self, cfg: LinearConfig) -> Result<Box<dyn Module>> {
        Ok(Box::new(Linear::new(cfg, self.rng)?))
    }
    fn conv2d(&mut self, cfg: Conv2dConfig) -> Result<Box<dyn Module>> {
        Ok(Box::new(Conv2d::new(cfg, self.rng)?))
    }
}

/// Ordinary layers plus Monte Carlo dropout with probability `p` before
/// every fully connected layer (active at prediction time).
pub struct McDropoutLayers<'r> {
    plain: PlainLayers<'r>,
    p: f32,
}

impl<'r> McDropoutLayers<'r> {
    /// MC dropout with probability `p`.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) unless `0 <= p < 1`.
    pub fn new(p: f32, rng: &'r mut dyn RngCore) -> Result<Self> {
        if !(0.0..1.0).contains(&p) {
            return Err(config(
                "McDropoutLayers",
                format!("p = {p} must be in [0, 1)"),
            ));
        }
        Ok(McDropoutLayers {
            plain: PlainLayers::new(rng),
            p,
        })
    }
}

impl LayerFactory for McDropoutLayers<'_> {
    type Error = Error;
    fn linear(&mut self, cfg: LinearConfig) -> Result<Box<dyn Module>> {
        self.plain.linear(cfg)
    }
    fn conv2d(&mut self, cfg: Conv2dConfig) -> Result<Box<dyn Module>> {
        self.plain.conv2d(cfg)
    }
    fn before_linear(&mut self) -> Result<Option<Box<dyn Module>>> {
        Ok(Some(Box::new(Dropout::new(self.p)?.monte_carlo(true))))
    }
}
