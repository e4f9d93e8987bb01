//! `[step]`: a wrapper around the model's own training step, chosen by
//! `kind` from the registry (e.g. `mmd`, domain adaptation). The wrapper
//! may also replace the training loader (a second, unlabelled stream).

use crate::data::RunData;
use crate::error::Result;
use crate::experiment::Experiment;
use crate::model::Step;
use crate::registry;
use fanaroff_nn::Module;
use fanaroff_train::{ArrayLoader, Loader};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt::Debug;

/// What a step wrapper returns: the step the loop runs and the loader it
/// draws batches from.
pub type Wrapped = (Step, Box<dyn Loader>);

/// What a step wrapper sees: the freshly built model, the training
/// loader the loop would use, and the experiment and images it comes from.
pub struct StepInput<'a> {
    /// The model about to be trained.
    pub model: &'a dyn Module,
    /// The training loader (scaling and augmentation applied).
    pub train: ArrayLoader<u8>,
    /// The experiment.
    pub experiment: &'a Experiment,
    /// Its images.
    pub data: &'a RunData,
}

/// The settings of one step wrapper: a TOML table (without `kind`).
/// Implement it for a `#[serde(deny_unknown_fields)]` struct and register
/// the struct with [`register_step`](crate::register_step).
pub trait StepSettings:
    Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static
{
    /// The `kind` that selects the wrapper.
    const KIND: &'static str;

    /// Checks the settings.
    ///
    /// # Errors
    /// A value outside its range.
    fn check(&self) -> Result<()> {
        Ok(())
    }

    /// Wraps the model kind's step `inner` (see [`StepInput`]).
    ///
    /// # Errors
    /// A model or data the wrapper cannot use.
    fn wrap(&self, inner: Step, input: StepInput<'_>) -> Result<Wrapped>;
}

/// Object-safe face of [`StepSettings`].
pub trait StepSetup: Debug + Send + Sync {
    /// The kind.
    fn kind(&self) -> &'static str;
    /// See [`StepSettings::check`].
    ///
    /// # Errors
    /// As the wrapper's check.
    fn check(&self) -> Result<()>;
    /// See [`StepSettings::wrap`].
    ///
    /// # Errors
    /// As the wrapper's.
    fn wrap(&self, inner: Step, input: StepInput<'_>) -> Result<Wrapped>;
    /// The settings as a TOML table, without `kind`.
    ///
    /// # Errors
    /// Settings with no file form.
    fn to_table(&self) -> Result<toml::Table>;
    /// A boxed copy.
    fn clone_box(&self) -> Box<dyn StepSetup>;
}

impl<T: StepSettings> StepSetup for T {
    fn kind(&self) -> &'static str {
        T::KIND
    }
    fn check(&self) -> Result<()> {
        StepSettings::check(self)
    }
    fn wrap(&self, inner: Step, input: StepInput<'_>) -> Result<Wrapped> {
        StepSettings::wrap(self, inner, input)
    }
    fn to_table(&self) -> Result<toml::Table> {
        toml::Table::try_from(self).map_err(|e| crate::error::invalid("step", e.to_string()))
    }
    fn clone_box(&self) -> Box<dyn StepSetup> {
        Box::new(self.clone())
    }
}

/// The `[step]` section: none (the model kind's step alone) or a
/// registered wrapper.
#[derive(Debug, Default)]
pub struct StepSpec(Option<Box<dyn StepSetup>>);

impl Clone for StepSpec {
    fn clone(&self) -> Self {
        StepSpec(self.0.as_ref().map(|s| s.clone_box()))
    }
}

impl PartialEq for StepSpec {
    fn eq(&self, other: &Self) -> bool {
        let table = |s: &StepSpec| s.0.as_ref().map(|s| (s.kind(), s.to_table().ok()));
        table(self) == table(other)
    }
}

impl StepSpec {
    /// Whether the section is absent.
    pub fn is_none(&self) -> bool {
        self.0.is_none()
    }

    /// Checks the wrapper's settings.
    ///
    /// # Errors
    /// As the wrapper's check.
    pub fn check(&self) -> Result<()> {
        self.0.as_ref().map_or(Ok(()), |s| s.check())
    }

    /// The step and loader of the training loop: `inner` and the input's
    /// loader as they are without a wrapper.
    ///
    /// # Errors
    /// As the wrapper's.
    pub fn wrap(&self, inner: Step, input: StepInput<'_>) -> Result<Wrapped> {
        match &self.0 {
            None => Ok((inner, Box::new(input.train))),
            Some(s) => s.wrap(inner, input),
        }
    }
}

impl Serialize for StepSpec {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut t = toml::Table::new();
        if let Some(setup) = &self.0 {
            t.insert("kind".into(), setup.kind().into());
            t.extend(setup.to_table().map_err(serde::ser::Error::custom)?);
        }
        t.serialize(s)
    }
}

impl<'de> Deserialize<'de> for StepSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut t = toml::Table::deserialize(d)?;
        let kind = match t.remove("kind") {
            Some(toml::Value::String(k)) => k,
            _ => return Err(D::Error::custom("step: kind must name a step wrapper")),
        };
        let setup = registry::parse_step(&kind, t).map_err(D::Error::custom)?;
        Ok(StepSpec(Some(setup)))
    }
}
