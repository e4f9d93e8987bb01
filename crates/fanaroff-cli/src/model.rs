//! The model section of an experiment: one LeNet definition with plain,
//! MC-dropout or Bayes-by-backprop layers, and the training step that fits
//! each.

use crate::error::Result;
use fanaroff_bayes::{Elbo, ElboStep, VariationalConfig, bbb_lenet, mc_dropout_lenet};
use fanaroff_nn::Sequential;
use fanaroff_nn::models::{LeNetConfig, lenet};
use fanaroff_train::{CrossEntropyStep, TrainStep};
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// The model section of an [`Experiment`](crate::Experiment), tagged by
/// `kind`:
///
/// | kind | keys | training step |
/// |---|---|---|
/// | `lenet` | `lenet` | cross-entropy |
/// | `mc_dropout_lenet` | `lenet`, `p` (0.5) | cross-entropy, dropout kept on at prediction |
/// | `bbb_lenet` | `lenet`, `variational`, `elbo` | the tempered ELBO |
///
/// `lenet` is a [`LeNetConfig`] table, `variational` a
/// [`VariationalConfig`] table (its `prior` is a string such as
/// `"gaussian:0.1"` or a table), `elbo` an [`Elbo`] table (`temperature`,
/// `weighting`, `tempering`). Every key has a default.
///
/// # Example
/// ```
/// use fanaroff_cli::ModelSpec;
/// let m: ModelSpec = toml::from_str(r#"
///     kind = "bbb_lenet"
///     elbo = { temperature = 0.1 }
///     variational = { prior = "laplace:1" }
/// "#).unwrap();
/// assert_eq!(m.label(), "bbb_lenet");
/// assert!(toml::from_str::<ModelSpec>("kind = \"bbb_lenet\"\ntemprature = 1").is_err());
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ModelSpec {
    /// The deterministic LeNet.
    Lenet {
        /// Sizes.
        #[serde(default)]
        lenet: LeNetConfig,
    },
    /// The LeNet with Monte Carlo dropout before each fully connected layer.
    McDropoutLenet {
        /// Sizes.
        #[serde(default)]
        lenet: LeNetConfig,
        /// Dropout probability.
        #[serde(default = "half")]
        p: f32,
    },
    /// The Bayes-by-backprop LeNet (every layer variational).
    BbbLenet {
        /// Sizes.
        #[serde(default)]
        lenet: LeNetConfig,
        /// Prior, posterior and estimator settings.
        #[serde(default)]
        variational: VariationalConfig,
        /// The objective.
        #[serde(default)]
        elbo: Elbo,
    },
}

fn half() -> f32 {
    0.5
}

impl Default for ModelSpec {
    fn default() -> Self {
        ModelSpec::BbbLenet {
            lenet: LeNetConfig::default(),
            variational: VariationalConfig::default(),
            elbo: Elbo::default(),
        }
    }
}

/// A freshly initialised model and the step that trains it.
pub struct Built {
    /// The network.
    pub model: Sequential,
    /// Its training step.
    pub step: Box<dyn TrainStep<Sequential>>,
}

impl ModelSpec {
    /// The `kind` tag.
    pub fn label(&self) -> &'static str {
        match self {
            ModelSpec::Lenet { .. } => "lenet",
            ModelSpec::McDropoutLenet { .. } => "mc_dropout_lenet",
            ModelSpec::BbbLenet { .. } => "bbb_lenet",
        }
    }

    /// Whether predictions vary between draws (so MC samples are needed).
    pub fn stochastic(&self) -> bool {
        !matches!(self, ModelSpec::Lenet { .. })
    }

    /// Checks the settings without building.
    ///
    /// # Errors
    /// Invalid sizes, dropout probability, prior or objective.
    pub fn check(&self) -> Result<()> {
        match self {
            ModelSpec::Lenet { lenet } => {
                lenet.clone().check()?;
            }
            ModelSpec::McDropoutLenet { lenet, p } => {
                lenet.clone().check()?;
                if !(0.0..1.0).contains(p) {
                    return Err(crate::error::invalid(
                        "model.p",
                        format!("{p} must be in [0, 1)"),
                    ));
                }
            }
            ModelSpec::BbbLenet {
                lenet,
                variational,
                elbo,
            } => {
                lenet.clone().check()?;
                variational.clone().check()?;
                elbo.check()?;
            }
        }
        Ok(())
    }

    /// Builds the network, initialised from `rng`, and its training step.
    ///
    /// # Errors
    /// As [`check`](Self::check).
    pub fn build(&self, rng: &mut dyn RngCore) -> Result<Built> {
        Ok(match self {
            ModelSpec::Lenet { lenet: l } => Built {
                model: lenet(l, rng)?,
                step: Box::new(CrossEntropyStep),
            },
            ModelSpec::McDropoutLenet { lenet: l, p } => Built {
                model: mc_dropout_lenet(l, *p, rng)?,
                step: Box::new(CrossEntropyStep),
            },
            ModelSpec::BbbLenet {
                lenet: l,
                variational,
                elbo,
            } => Built {
                model: bbb_lenet(l, &variational.clone().check()?, rng)?,
                step: Box::new(ElboStep::new(elbo.check()?)?),
            },
        })
    }
}
