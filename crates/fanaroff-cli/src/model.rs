//! The model section of an experiment: a `kind` and that kind's own keys,
//! resolved through the [registry](crate::registry), so that a crate
//! outside this one adds a model without editing it.

use crate::error::{Result, invalid};
use crate::registry;
use fanaroff_nn::Module;
use fanaroff_train::TrainStep;
use rand::RngCore;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::any::Any;
use std::fmt::Debug;

/// A training step for a model behind `Box<dyn Module>`.
pub type Step = Box<dyn TrainStep<Box<dyn Module>>>;

/// A freshly initialised model and the step that trains it.
pub struct Built {
    /// The network.
    pub model: Box<dyn Module>,
    /// Its training step.
    pub step: Step,
    /// A second training stage after the first (the fine-tuned
    /// aggregation's combination), if the kind has one.
    pub second_stage: Option<Stage>,
}

/// A training stage after the main one: `prepare` freezes what stays fixed,
/// then `epochs` of `step`.
pub struct Stage {
    /// Epochs of the stage.
    pub epochs: usize,
    /// Called on the trained model before the stage.
    pub prepare: fn(&mut dyn Module) -> Result<()>,
    /// The stage's training step.
    pub step: Step,
}

impl Built {
    /// A model and its step, one stage.
    pub fn new<M: Module + 'static>(
        model: M,
        step: impl TrainStep<Box<dyn Module>> + 'static,
    ) -> Self {
        Built {
            model: Box::new(model),
            step: Box::new(step),
            second_stage: None,
        }
    }
}

/// The settings of one model kind: a TOML table (without `kind`) that
/// builds a network and its training step. Implement it for a
/// `#[serde(deny_unknown_fields)]` struct and register the struct with
/// [`register_model`](crate::register_model).
///
/// # Example
/// ```
/// use fanaroff_cli::{Built, Experiment, ModelSettings, register_model};
/// use fanaroff_nn::models::{LeNetConfig, lenet};
/// use fanaroff_train::CrossEntropyStep;
/// use serde::{Deserialize, Serialize};
///
/// /// A LeNet with a wider first layer, as a downstream crate would add it.
/// #[derive(Debug, Clone, Default, Serialize, Deserialize)]
/// #[serde(deny_unknown_fields)]
/// struct WideLenet { width: usize }
///
/// impl ModelSettings for WideLenet {
///     const KIND: &'static str = "wide_lenet";
///     fn build(&self, rng: &mut dyn rand::RngCore) -> fanaroff_cli::Result<Built> {
///         let mut cfg = LeNetConfig::default();
///         cfg.channels[0] = self.width;
///         Ok(Built::new(lenet(&cfg, rng)?, CrossEntropyStep))
///     }
/// }
///
/// register_model::<WideLenet>();
/// let e = Experiment::from_toml("[data]\nsynthetic = 16\n[model]\nkind = \"wide_lenet\"\nwidth = 8")?;
/// assert_eq!(e.model.label(), "wide_lenet");
/// assert_eq!(e.model.settings::<WideLenet>().unwrap().width, 8);
/// # Ok::<(), fanaroff_cli::Error>(())
/// ```
pub trait ModelSettings:
    Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static
{
    /// The `kind` that selects these settings.
    const KIND: &'static str;

    /// Whether predictions vary between draws (so MC samples are needed).
    fn stochastic(&self) -> bool {
        false
    }

    /// Checks the settings without building.
    ///
    /// # Errors
    /// A value outside its range.
    fn check(&self) -> Result<()> {
        Ok(())
    }

    /// Builds the network, initialised from `rng`, and its training step.
    ///
    /// # Errors
    /// As [`check`](Self::check).
    fn build(&self, rng: &mut dyn RngCore) -> Result<Built>;
}

/// Object-safe face of [`ModelSettings`] (implemented for every one).
pub trait ModelSetup: Debug + Send + Sync {
    /// The kind.
    fn kind(&self) -> &'static str;
    /// See [`ModelSettings::stochastic`].
    fn stochastic(&self) -> bool;
    /// See [`ModelSettings::check`].
    ///
    /// # Errors
    /// As the kind's check.
    fn check(&self) -> Result<()>;
    /// See [`ModelSettings::build`].
    ///
    /// # Errors
    /// As the kind's build.
    fn build(&self, rng: &mut dyn RngCore) -> Result<Built>;
    /// The settings as a TOML table, without `kind`.
    ///
    /// # Errors
    /// Settings with no file form.
    fn to_table(&self) -> Result<toml::Table>;
    /// A boxed copy.
    fn clone_box(&self) -> Box<dyn ModelSetup>;
    /// For [`ModelSpec::settings`].
    fn as_any(&self) -> &dyn Any;
    /// For [`ModelSpec::settings_mut`].
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: ModelSettings> ModelSetup for T {
    fn kind(&self) -> &'static str {
        T::KIND
    }
    fn stochastic(&self) -> bool {
        ModelSettings::stochastic(self)
    }
    fn check(&self) -> Result<()> {
        ModelSettings::check(self)
    }
    fn build(&self, rng: &mut dyn RngCore) -> Result<Built> {
        ModelSettings::check(self)?;
        ModelSettings::build(self, rng)
    }
    fn to_table(&self) -> Result<toml::Table> {
        toml::Table::try_from(self).map_err(|e| invalid("model", e.to_string()))
    }
    fn clone_box(&self) -> Box<dyn ModelSetup> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// The model section of an [`Experiment`](crate::Experiment): `kind` and
/// its keys. Built-in kinds:
///
/// | kind | keys | training step |
/// |---|---|---|
/// | `lenet` | `lenet` | cross-entropy |
/// | `mc_dropout_lenet` | `lenet`, `p` (0.5) | cross-entropy, dropout kept on at prediction |
/// | `bbb_lenet` | `lenet`, `variational`, `elbo` | the tempered ELBO |
/// | `attention_net` | `net`, `layers`, `p`, `variational`, `elbo`, `finetune_epochs`, `init`, `loss` | see [`AttentionModel`](crate::models::AttentionModel) |
///
/// An unknown kind is an error that lists the registered ones.
///
/// # Example
/// ```
/// use fanaroff_cli::ModelSpec;
/// use fanaroff_cli::models::BbbLenet;
/// let m: ModelSpec = toml::from_str(r#"
///     kind = "bbb_lenet"
///     elbo = { temperature = 0.1 }
///     variational = { prior = "laplace:1" }
/// "#).unwrap();
/// assert_eq!(m.label(), "bbb_lenet");
/// assert_eq!(m.settings::<BbbLenet>().unwrap().elbo.temperature, 0.1);
/// assert!(toml::from_str::<ModelSpec>("kind = \"bbb_lenet\"\ntemprature = 1").is_err());
/// let e = toml::from_str::<ModelSpec>("kind = \"resnet\"").unwrap_err().to_string();
/// assert!(e.contains("resnet") && e.contains("bbb_lenet"));
/// ```
pub struct ModelSpec(Box<dyn ModelSetup>);

impl ModelSpec {
    /// A section from typed settings.
    pub fn new(settings: impl ModelSettings) -> Self {
        ModelSpec(Box::new(settings))
    }

    /// The `kind` tag.
    pub fn label(&self) -> &'static str {
        self.0.kind()
    }

    /// Whether predictions vary between draws.
    pub fn stochastic(&self) -> bool {
        self.0.stochastic()
    }

    /// Checks the settings without building.
    ///
    /// # Errors
    /// As the kind's check.
    pub fn check(&self) -> Result<()> {
        self.0.check()
    }

    /// Builds the network, initialised from `rng`, and its training step.
    ///
    /// # Errors
    /// As [`check`](Self::check).
    pub fn build(&self, rng: &mut dyn RngCore) -> Result<Built> {
        self.0.build(rng)
    }

    /// The typed settings, when the kind's settings are a `T`.
    pub fn settings<T: 'static>(&self) -> Option<&T> {
        self.0.as_any().downcast_ref()
    }

    /// The typed settings, mutable.
    pub fn settings_mut<T: 'static>(&mut self) -> Option<&mut T> {
        self.0.as_any_mut().downcast_mut()
    }
}

impl Default for ModelSpec {
    fn default() -> Self {
        ModelSpec::new(crate::models::BbbLenet::default())
    }
}

impl Clone for ModelSpec {
    fn clone(&self) -> Self {
        ModelSpec(self.0.clone_box())
    }
}

impl Debug for ModelSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for ModelSpec {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let rest = self.0.to_table().map_err(serde::ser::Error::custom)?;
        let mut t = toml::Table::new();
        t.insert("kind".into(), self.label().into());
        t.extend(rest);
        t.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ModelSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let mut t = toml::Table::deserialize(d)?;
        let kind = match t.remove("kind") {
            Some(toml::Value::String(k)) => k,
            Some(other) => {
                return Err(serde::de::Error::custom(format!(
                    "kind: {other} is not a string"
                )));
            }
            None => return Err(serde::de::Error::missing_field("kind")),
        };
        registry::parse_model(&kind, t)
            .map(ModelSpec)
            .map_err(serde::de::Error::custom)
    }
}
