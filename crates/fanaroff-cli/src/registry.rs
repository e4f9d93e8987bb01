//! The model kinds, studies and step wrappers experiment files can name.
//! Built-in ones are registered on first use; another crate adds its own
//! with [`register_model`], [`register_study`] and [`register_step`] before
//! reading experiment files, without editing this crate.

use crate::error::{Result, invalid};
use crate::model::{ModelSettings, ModelSetup};
use crate::step::{StepSettings, StepSetup};
use crate::study::{StudySettings, StudySetup};
use std::collections::BTreeMap;
use std::sync::{OnceLock, RwLock};

type Parser<T> = fn(toml::Table) -> Result<Box<T>>;

struct Registry {
    models: BTreeMap<&'static str, Parser<dyn ModelSetup>>,
    studies: BTreeMap<&'static str, Parser<dyn StudySetup>>,
    steps: BTreeMap<&'static str, Parser<dyn StepSetup>>,
}

fn registry() -> &'static RwLock<Registry> {
    static R: OnceLock<RwLock<Registry>> = OnceLock::new();
    R.get_or_init(|| RwLock::new(builtin()))
}

fn builtin() -> Registry {
    use crate::models::{AttentionModel, BbbLenet, Lenet, McDropoutLenet};
    use crate::studies::{
        AttentionStudySpec, EnsembleStudy, MapSpreadStudySpec, PruneStudySpec, RobustnessStudySpec,
        SprayStudy, TrainStudy, UncertaintyStudy,
    };
    let mut r = Registry {
        models: BTreeMap::new(),
        studies: BTreeMap::new(),
        steps: BTreeMap::new(),
    };
    r.add_model::<Lenet>();
    r.add_model::<McDropoutLenet>();
    r.add_model::<BbbLenet>();
    r.add_model::<AttentionModel>();
    r.add_study::<TrainStudy>();
    r.add_study::<PruneStudySpec>();
    r.add_study::<AttentionStudySpec>();
    r.add_study::<RobustnessStudySpec>();
    r.add_study::<EnsembleStudy>();
    r.add_study::<MapSpreadStudySpec>();
    r.add_study::<UncertaintyStudy>();
    r.add_study::<SprayStudy>();
    r.add_step::<crate::steps::MmdAdaptation>();
    r
}

impl Registry {
    fn add_model<T: ModelSettings>(&mut self) {
        self.models.insert(T::KIND, parse_model_as::<T>);
    }
    fn add_study<T: StudySettings>(&mut self) {
        self.studies.insert(T::KIND, parse_study_as::<T>);
    }
    fn add_step<T: StepSettings>(&mut self) {
        self.steps.insert(T::KIND, parse_step_as::<T>);
    }
}

fn parse_model_as<T: ModelSettings>(t: toml::Table) -> Result<Box<dyn ModelSetup>> {
    let s: T = t
        .try_into()
        .map_err(|e| invalid(format!("model ({})", T::KIND), e.to_string()))?;
    Ok(Box::new(s))
}

fn parse_study_as<T: StudySettings>(t: toml::Table) -> Result<Box<dyn StudySetup>> {
    let s: T = t
        .try_into()
        .map_err(|e| invalid(format!("study ({})", T::KIND), e.to_string()))?;
    Ok(Box::new(s))
}

fn parse_step_as<T: StepSettings>(t: toml::Table) -> Result<Box<dyn StepSetup>> {
    let s: T = t
        .try_into()
        .map_err(|e| invalid(format!("step ({})", T::KIND), e.to_string()))?;
    Ok(Box::new(s))
}

/// Makes `T::KIND` a step wrapper of experiment files (replacing one of
/// the same name).
pub fn register_step<T: StepSettings>() {
    let mut r = registry().write().unwrap_or_else(|e| e.into_inner());
    r.add_step::<T>();
}

/// The registered step wrappers, sorted.
pub fn step_kinds() -> Vec<&'static str> {
    let r = registry().read().unwrap_or_else(|e| e.into_inner());
    r.steps.keys().copied().collect()
}

/// Makes `T::KIND` a model kind of experiment files (replacing a kind of
/// the same name).
pub fn register_model<T: ModelSettings>() {
    let mut r = registry().write().unwrap_or_else(|e| e.into_inner());
    r.add_model::<T>();
}

/// Makes `T::KIND` a study of experiment files (replacing a study of the
/// same name).
pub fn register_study<T: StudySettings>() {
    let mut r = registry().write().unwrap_or_else(|e| e.into_inner());
    r.add_study::<T>();
}

/// The registered model kinds, sorted.
pub fn model_kinds() -> Vec<&'static str> {
    let r = registry().read().unwrap_or_else(|e| e.into_inner());
    r.models.keys().copied().collect()
}

/// The registered studies, sorted.
pub fn study_kinds() -> Vec<&'static str> {
    let r = registry().read().unwrap_or_else(|e| e.into_inner());
    r.studies.keys().copied().collect()
}

/// Parses `t` with the parser registered under `kind` in the map `pick`
/// selects; an unknown kind lists the valid ones.
fn lookup<T: ?Sized>(
    pick: fn(&Registry) -> &BTreeMap<&'static str, Parser<T>>,
    what: (&str, &str),
    kind: &str,
    t: toml::Table,
) -> Result<Box<T>> {
    let (parser, valid) = {
        let r = registry().read().unwrap_or_else(|e| e.into_inner());
        let map = pick(&r);
        let valid: Vec<&str> = map.keys().copied().collect();
        (map.get(kind).copied(), valid.join(", "))
    };
    match parser {
        Some(p) => p(t),
        None => Err(invalid(
            what.0,
            format!("unknown {} {kind:?}; valid: {valid}", what.1),
        )),
    }
}

pub(crate) fn parse_model(kind: &str, t: toml::Table) -> Result<Box<dyn ModelSetup>> {
    lookup(|r| &r.models, ("model.kind", "model kind"), kind, t)
}

pub(crate) fn parse_study(kind: &str, t: toml::Table) -> Result<Box<dyn StudySetup>> {
    lookup(|r| &r.studies, ("study.kind", "study"), kind, t)
}

pub(crate) fn parse_step(kind: &str, t: toml::Table) -> Result<Box<dyn StepSetup>> {
    lookup(|r| &r.steps, ("step.kind", "step"), kind, t)
}
