//! The study section of an experiment: what is done with the trained model
//! (nothing more than the test metrics, pruning, attention maps,
//! robustness …), and the context a study runs in.

use crate::data::RunData;
use crate::error::{Error, Result, invalid, read_text};
use crate::experiment::Experiment;
use crate::registry;
use fanaroff_nn::{Module, load_model};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::any::Any;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

/// The settings of one study: a TOML table (without `kind` and `from`)
/// that runs on a trained model and pushes rows. Implement it for a
/// `#[serde(deny_unknown_fields)]` struct and register the struct with
/// [`register_study`](crate::register_study).
pub trait StudySettings:
    Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static
{
    /// The `kind` that selects the study.
    const KIND: &'static str;

    /// Checks the settings.
    ///
    /// # Errors
    /// A value outside its range.
    fn check(&self) -> Result<()> {
        Ok(())
    }

    /// The row fields that tell rows apart (tables pair rows by them).
    fn row_keys(&self) -> Vec<String> {
        Vec::new()
    }

    /// Runs on `ctx`'s trained model and pushes rows. Rows whose key
    /// [`StudyContext::done`] reports were pushed by a killed earlier
    /// attempt: skip them.
    ///
    /// # Errors
    /// The study's failures.
    fn run(&self, ctx: &mut StudyContext<'_>) -> Result<()>;
}

/// Object-safe face of [`StudySettings`].
pub trait StudySetup: Debug + Send + Sync {
    /// The kind.
    fn kind(&self) -> &'static str;
    /// See [`StudySettings::check`].
    ///
    /// # Errors
    /// As the study's check.
    fn check(&self) -> Result<()>;
    /// See [`StudySettings::run`].
    ///
    /// # Errors
    /// As the study's run.
    fn run(&self, ctx: &mut StudyContext<'_>) -> Result<()>;
    /// See [`StudySettings::row_keys`].
    fn row_keys(&self) -> Vec<String>;
    /// The settings as a TOML table, without `kind`.
    ///
    /// # Errors
    /// Settings with no file form.
    fn to_table(&self) -> Result<toml::Table>;
    /// A boxed copy.
    fn clone_box(&self) -> Box<dyn StudySetup>;
    /// For [`StudySpec::settings`].
    fn as_any(&self) -> &dyn Any;
}

impl<T: StudySettings> StudySetup for T {
    fn kind(&self) -> &'static str {
        T::KIND
    }
    fn check(&self) -> Result<()> {
        StudySettings::check(self)
    }
    fn run(&self, ctx: &mut StudyContext<'_>) -> Result<()> {
        StudySettings::run(self, ctx)
    }
    fn row_keys(&self) -> Vec<String> {
        StudySettings::row_keys(self)
    }
    fn to_table(&self) -> Result<toml::Table> {
        toml::Table::try_from(self).map_err(|e| invalid("study", e.to_string()))
    }
    fn clone_box(&self) -> Box<dyn StudySetup> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The `[study]` section: `kind` (default `train`), optionally `from`, a
/// finished run folder whose model the study uses instead of training one,
/// and the study's own keys. Built-in studies:
///
/// | kind | what | rows |
/// |---|---|---|
/// | `train` | train and evaluate (the record's `metrics`) | none |
/// | `prune` | criteria × fractions ([`PruneStudy`](fanaroff_prune::PruneStudy)), optional fine-tuning | one per point |
/// | `robustness` | accuracy, entropy, latent distance under Gaussian noise; PGD and one-pixel success ([`RobustnessStudy`](fanaroff_perturb::RobustnessStudy)) | one per test |
/// | `ensemble` | the deep-ensemble baseline: `members - 1` more deterministic models on the same split, evaluated together | one |
/// | `attention` | accuracy, AUC, attention and saliency mass on sources ([`ExplainStudy`](fanaroff_attention::ExplainStudy)) | one |
/// | `uncertainty` | calibration, risk-coverage, conformal sets on the test images; OOD AUROC / FPR95 per score and shifted set; the same for last-layer Laplace posteriors ([`UncertaintyStudy`](crate::UncertaintyStudy)) | one per method × set × score |
///
/// ```
/// use fanaroff_cli::Experiment;
/// let e = Experiment::from_toml(r#"
///     [data]
///     synthetic = 16
///     [study]
///     kind = "prune"
///     criteria = ["snr", "magnitude"]
///     fractions = [0.0, 0.5]
/// "#)?;
/// assert_eq!(e.study.label(), "prune");
/// let bad = Experiment::from_toml("[data]\nsynthetic = 16\n[study]\nkind = \"prune\"\ncriteria = [\"snrr\"]");
/// assert!(bad.unwrap_err().to_string().contains("valid: snr, snr-db"));
/// # Ok::<(), fanaroff_cli::Error>(())
/// ```
pub struct StudySpec {
    setup: Box<dyn StudySetup>,
    from: Option<PathBuf>,
}

impl StudySpec {
    /// A study from typed settings, on a model trained by the same run.
    pub fn new(settings: impl StudySettings) -> Self {
        StudySpec {
            setup: Box::new(settings),
            from: None,
        }
    }

    /// Uses the model of the finished run in `dir` instead of training.
    pub fn from_run(mut self, dir: impl Into<PathBuf>) -> Self {
        self.from = Some(dir.into());
        self
    }

    /// The `kind` tag.
    pub fn label(&self) -> &'static str {
        self.setup.kind()
    }

    /// The run folder the study takes its model from, if any.
    pub fn source(&self) -> Option<&Path> {
        self.from.as_deref()
    }

    /// Whether this is the plain `train` study.
    pub fn is_train(&self) -> bool {
        self.label() == crate::studies::TrainStudy::KIND && self.from.is_none()
    }

    /// The typed settings, when they are a `T`.
    pub fn settings<T: 'static>(&self) -> Option<&T> {
        self.setup.as_any().downcast_ref()
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// As the study's check.
    pub fn check(&self) -> Result<()> {
        self.setup.check()
    }

    pub(crate) fn run(&self, ctx: &mut StudyContext<'_>) -> Result<()> {
        self.setup.run(ctx)
    }

    /// The fields that tell the study's rows apart.
    pub fn row_keys(&self) -> Vec<String> {
        self.setup.row_keys()
    }
}

impl Default for StudySpec {
    fn default() -> Self {
        StudySpec::new(crate::studies::TrainStudy {})
    }
}

impl Clone for StudySpec {
    fn clone(&self) -> Self {
        StudySpec {
            setup: self.setup.clone_box(),
            from: self.from.clone(),
        }
    }
}

impl Debug for StudySpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StudySpec({:?}, from {:?})", self.setup, self.from)
    }
}

impl Serialize for StudySpec {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let rest = self.setup.to_table().map_err(serde::ser::Error::custom)?;
        let mut t = toml::Table::new();
        t.insert("kind".into(), self.label().into());
        if let Some(f) = &self.from {
            t.insert("from".into(), f.display().to_string().into());
        }
        t.extend(rest);
        t.serialize(s)
    }
}

impl<'de> Deserialize<'de> for StudySpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut t = toml::Table::deserialize(d)?;
        let kind = match t.remove("kind") {
            Some(toml::Value::String(k)) => k,
            Some(other) => return Err(D::Error::custom(format!("kind: {other} is not a string"))),
            None => crate::studies::TrainStudy::KIND.to_string(),
        };
        let from = match t.remove("from") {
            Some(toml::Value::String(p)) => Some(PathBuf::from(p)),
            Some(other) => return Err(D::Error::custom(format!("from: {other} is not a path"))),
            None => None,
        };
        let setup = registry::parse_study(&kind, t).map_err(D::Error::custom)?;
        Ok(StudySpec { setup, from })
    }
}

/// What a study sees: the trained model, its experiment and data, the
/// folders, and the rows pushed so far (a killed attempt's too).
pub struct StudyContext<'a> {
    /// The experiment that trained the model (the source run's for `from`).
    pub experiment: &'a Experiment,
    /// The trained model.
    pub model: &'a dyn Module,
    /// The experiment's images.
    pub data: &'a RunData,
    /// The folder with the trained model's `model.safetensors` and `ckpt/`.
    pub trained_dir: &'a Path,
    /// This run's folder (scratch files go here).
    pub dir: &'a Path,
    rows: RowLog,
}

impl<'a> StudyContext<'a> {
    pub(crate) fn new(
        experiment: &'a Experiment,
        model: &'a dyn Module,
        data: &'a RunData,
        trained_dir: &'a Path,
        dir: &'a Path,
    ) -> Result<Self> {
        Ok(StudyContext {
            experiment,
            model,
            data,
            trained_dir,
            dir,
            rows: RowLog::open(dir.join(ROWS_FILE))?,
        })
    }

    /// A new copy of the trained model (built from the experiment, weights
    /// loaded from `trained_dir`) with its training step.
    ///
    /// # Errors
    /// A missing or mismatched weights file.
    pub fn fresh(&self) -> Result<crate::Built> {
        fresh_model(self.experiment, self.trained_dir)
    }

    /// Whether a row with this key was pushed (by this or an earlier attempt).
    pub fn done(&self, key: &str) -> bool {
        self.rows.rows.iter().any(|(k, _)| k == key)
    }

    /// Records a row under a unique key, atomically on disk, so a killed
    /// study resumes after it.
    ///
    /// # Errors
    /// A key pushed before; a row that is not a JSON object; an unwritable folder.
    pub fn push<R: Serialize>(&mut self, key: impl Into<String>, row: &R) -> Result<()> {
        self.push_all(&key.into(), std::slice::from_ref(row))
    }

    /// Records rows that are computed together under one key (all or
    /// none of them are kept on a kill).
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub fn push_all<R: Serialize>(&mut self, key: &str, rows: &[R]) -> Result<()> {
        if self.done(key) {
            return Err(invalid("study", format!("rows {key:?} pushed twice")));
        }
        for (i, row) in rows.iter().enumerate() {
            let v = serde_json::to_value(row).map_err(|e| invalid("study row", e.to_string()))?;
            if !v.is_object() {
                return Err(invalid("study row", "must serialise to a JSON object"));
            }
            let k = if i == 0 {
                key.to_string()
            } else {
                format!("{key}#{i}")
            };
            self.rows.rows.push((k, v));
        }
        self.rows.write()
    }

    pub(crate) fn into_rows(self) -> Vec<serde_json::Value> {
        self.rows.rows.into_iter().map(|(_, v)| v).collect()
    }
}

/// The rows file of an unfinished study inside its run folder.
pub const ROWS_FILE: &str = "rows.json";

/// Rows pushed so far, mirrored in a file.
struct RowLog {
    path: PathBuf,
    rows: Vec<(String, serde_json::Value)>,
}

impl RowLog {
    fn open(path: PathBuf) -> Result<Self> {
        let rows = if path.exists() {
            serde_json::from_str(&read_text(&path)?).map_err(|e| Error::Parse {
                path: path.clone(),
                msg: e.to_string(),
            })?
        } else {
            Vec::new()
        };
        Ok(RowLog { path, rows })
    }

    fn write(&self) -> Result<()> {
        let text = serde_json::to_string(&self.rows).map_err(|e| invalid("rows", e.to_string()))?;
        Ok(fanaroff_train::write_atomic(&self.path, text.as_bytes())?)
    }
}

/// The model of `exp` with the weights saved in `dir` (`model.safetensors`)
/// and its training step.
///
/// # Errors
/// A missing or mismatched weights file.
pub fn fresh_model(exp: &Experiment, dir: &Path) -> Result<crate::Built> {
    let mut b = exp.model.build(&mut StdRng::seed_from_u64(exp.seed))?;
    load_model(&mut b.model, dir.join("model.safetensors"), true)?;
    Ok(b)
}
