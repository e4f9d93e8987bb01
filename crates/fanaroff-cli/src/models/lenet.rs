//! The LeNet of the BBB study, written once in `fanaroff-nn`, as three
//! model kinds: plain, MC dropout and Bayes by backprop.

use crate::error::{Result, invalid};
use crate::model::{Built, ModelSettings};
use fanaroff_bayes::{Elbo, ElboStep, VariationalConfig, bbb_lenet, mc_dropout_lenet};
use fanaroff_nn::models::{LeNetConfig, lenet};
use fanaroff_train::CrossEntropyStep;
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// `kind = "lenet"`: the deterministic LeNet, trained with cross-entropy.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lenet {
    /// Sizes.
    #[serde(default)]
    pub lenet: LeNetConfig,
}

impl ModelSettings for Lenet {
    const KIND: &'static str = "lenet";
    fn check(&self) -> Result<()> {
        self.lenet.clone().check()?;
        Ok(())
    }
    fn build(&self, rng: &mut dyn RngCore) -> Result<Built> {
        Ok(Built::new(lenet(&self.lenet, rng)?, CrossEntropyStep))
    }
}

/// `kind = "mc_dropout_lenet"`: dropout (`p`, 0.5) before each fully
/// connected layer, kept on at prediction.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McDropoutLenet {
    /// Sizes.
    #[serde(default)]
    pub lenet: LeNetConfig,
    /// Dropout probability.
    #[serde(default = "half")]
    pub p: f32,
}

fn half() -> f32 {
    0.5
}

impl Default for McDropoutLenet {
    fn default() -> Self {
        McDropoutLenet {
            lenet: LeNetConfig::default(),
            p: half(),
        }
    }
}

impl ModelSettings for McDropoutLenet {
    const KIND: &'static str = "mc_dropout_lenet";
    fn stochastic(&self) -> bool {
        true
    }
    fn check(&self) -> Result<()> {
        self.lenet.clone().check()?;
        check_dropout(self.p)
    }
    fn build(&self, rng: &mut dyn RngCore) -> Result<Built> {
        let model = mc_dropout_lenet(&self.lenet, self.p, rng)?;
        Ok(Built::new(model, CrossEntropyStep))
    }
}

/// A dropout probability in [0, 1).
pub(crate) fn check_dropout(p: f32) -> Result<()> {
    if (0.0..1.0).contains(&p) {
        Ok(())
    } else {
        Err(invalid("model.p", format!("{p} must be in [0, 1)")))
    }
}

/// `kind = "bbb_lenet"`: every layer variational, trained with the
/// tempered ELBO. `variational` is a [`VariationalConfig`] table (its
/// `prior` a string such as `"gaussian:0.1"`), `elbo` an [`Elbo`] table.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BbbLenet {
    /// Sizes.
    #[serde(default)]
    pub lenet: LeNetConfig,
    /// Prior, posterior and estimator settings.
    #[serde(default)]
    pub variational: VariationalConfig,
    /// The objective.
    #[serde(default)]
    pub elbo: Elbo,
}

impl ModelSettings for BbbLenet {
    const KIND: &'static str = "bbb_lenet";
    fn stochastic(&self) -> bool {
        true
    }
    fn check(&self) -> Result<()> {
        self.lenet.clone().check()?;
        self.variational.clone().check()?;
        self.elbo.check()?;
        Ok(())
    }
    fn build(&self, rng: &mut dyn RngCore) -> Result<Built> {
        let model = bbb_lenet(&self.lenet, &self.variational.clone().check()?, rng)?;
        Ok(Built::new(model, ElboStep::new(self.elbo.check()?)?))
    }
}
