//! An experiment as one TOML file: data, model, training, evaluation.

use crate::data::DataSpec;
use crate::error::{Error, Result, invalid, read_text};
use crate::model::ModelSpec;
use crate::step::StepSpec;
use crate::study::StudySpec;
use fanaroff_train::TrainConfig;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How a trained model is evaluated.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `samples` | 100 | weight draws for test error and calibration (1 for a deterministic model) |
/// | `entropy_samples` | 100 | draws for the entropy of MBFRConfident vs MBFRUncertain |
/// | `val_samples` | 4 | draws for the per-epoch validation |
/// | `bins` | 10 | equal-width bins of ECE and UCE |
/// | `batch_size` | 50 | images per forward pass |
/// | `weight_sampling` | true | variational layers sample weights at test time whatever their training estimator; `false` keeps local reparameterisation / Flipout noise |
/// | `val_tta` | 0 | select the model on `val_nll` / `val_acc` / `val_err` / `val_prob_ce` averaged over this many augmented copies of the validation images (the data section's augmentation; the attention study code's selection); 0: the images as they are |
/// | `draws_per_pass` | 1 | weight draws evaluated together in one forward pass at test time (same samples within float rounding). 10 makes the 20-draw predictive of the attention net with Bayesian gates about 0.68x as long (its backbone runs once per group); for the BBB LeNet grouping is slower (docs/performance.md) |
/// | `test_at_epochs` | none | epochs (1-based) after which the test images are also measured (`test_nll`, `test_acc`, `test_err` in the history, `val_samples` draws): a learning curve. Never used to select the model |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalSpec {
    /// Draws for test error and calibration.
    pub samples: usize,
    /// Draws for the entropy comparison.
    pub entropy_samples: usize,
    /// Draws for the per-epoch validation.
    pub val_samples: usize,
    /// Bins of ECE and UCE.
    pub bins: usize,
    /// Images per forward pass.
    pub batch_size: usize,
    /// Sample weights at test time whatever the training estimator.
    #[serde(skip_serializing_if = "is_true")]
    pub weight_sampling: bool,
    /// Augmented copies of the validation images per epoch (0: none).
    #[serde(skip_serializing_if = "is_zero")]
    pub val_tta: usize,
    /// Weight draws per forward pass at test time.
    #[serde(skip_serializing_if = "is_one")]
    pub draws_per_pass: usize,
    /// Epochs after which the test images are measured too.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub test_at_epochs: Vec<usize>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

fn is_true(b: &bool) -> bool {
    *b
}

impl Default for EvalSpec {
    fn default() -> Self {
        EvalSpec {
            samples: 100,
            entropy_samples: 100,
            val_samples: 4,
            bins: 10,
            batch_size: 50,
            weight_sampling: true,
            val_tta: 0,
            draws_per_pass: 1,
            test_at_epochs: Vec::new(),
        }
    }
}

impl EvalSpec {
    /// Checks the section.
    ///
    /// # Errors
    /// A zero count.
    pub fn check(&self) -> Result<()> {
        let fields = [
            ("samples", self.samples),
            ("entropy_samples", self.entropy_samples),
            ("val_samples", self.val_samples),
            ("bins", self.bins),
            ("batch_size", self.batch_size),
            ("draws_per_pass", self.draws_per_pass),
        ];
        match fields.iter().find(|(_, v)| *v == 0) {
            Some((k, _)) => Err(invalid(format!("evaluation.{k}"), "must be >= 1")),
            None => Ok(()),
        }
    }
}

/// One experiment: what to train on, what to train, how, and how to judge
/// it. Every section has defaults except the data source, which must be
/// named. The top-level `seed` seeds everything (data split, initial
/// weights, shuffling, augmentation, weight noise, evaluation draws);
/// `training.seed`, `training.checkpoint_dir` and `training.resume` are
/// set by [`run`](crate::run).
///
/// # Example
/// ```
/// use fanaroff_cli::Experiment;
/// let e = Experiment::from_toml(r#"
///     name = "bbb-cold"
///     seed = 2
///     [data]
///     synthetic = 64
///     [model]
///     kind = "bbb_lenet"
///     elbo = { temperature = 0.01 }
///     [training]
///     epochs = 3
/// "#).unwrap();
/// assert_eq!((e.seed, e.training.epochs), (2, 3));
/// // a typo is an error, not a default
/// assert!(Experiment::from_toml("name = \"x\"\n[training]\nepocs = 3").is_err());
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// A name for records and tables.
    #[serde(default = "unnamed")]
    pub name: String,
    /// Seed of everything random.
    #[serde(default)]
    pub seed: u64,
    /// The images.
    #[serde(default)]
    pub data: DataSpec,
    /// The network.
    #[serde(default)]
    pub model: ModelSpec,
    /// The training loop's settings.
    #[serde(default)]
    pub training: TrainConfig,
    /// The evaluation.
    #[serde(default)]
    pub evaluation: EvalSpec,
    /// A wrapper around the model's training step (default: none).
    #[serde(default, skip_serializing_if = "StepSpec::is_none")]
    pub step: StepSpec,
    /// What is done with the trained model (default: nothing more).
    #[serde(default, skip_serializing_if = "StudySpec::is_train")]
    pub study: StudySpec,
}

/// Files and run records written before augmentation was set in one
/// place had a switch `training.augment` beside `data.augment`: `false`
/// becomes an empty `data.augment`, `true` is dropped. `None` when the
/// file has no such key.
fn migrate_training_augment(mut doc: toml::Table) -> Option<toml::Table> {
    let training = doc.get_mut("training")?.as_table_mut()?;
    let on = training.remove("augment")?;
    if on.as_bool() == Some(false) {
        let data = doc
            .entry("data")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let Some(data) = data.as_table_mut() {
            data.insert("augment".into(), toml::Value::Table(toml::Table::new()));
        }
    }
    Some(doc)
}

fn unnamed() -> String {
    "experiment".into()
}

impl Experiment {
    /// Parses and checks an experiment from TOML text.
    ///
    /// # Errors
    /// [`Error::Parse`] for syntax errors, unknown keys and wrong types;
    /// [`Error::Invalid`] for values outside their range.
    pub fn from_toml(text: &str) -> Result<Self> {
        Self::parse(text, Path::new("<experiment>"))
    }

    /// Reads, parses and checks an experiment file.
    ///
    /// # Errors
    /// A missing or unreadable file; as [`from_toml`](Self::from_toml).
    pub fn from_file(path: &Path) -> Result<Self> {
        Self::parse(&read_text(path)?, path)
    }

    fn parse(text: &str, path: &Path) -> Result<Self> {
        let parse_error = |e: toml::de::Error| Error::Parse {
            path: path.to_path_buf(),
            msg: e.to_string(),
        };
        let migrated = migrate_training_augment(toml::from_str(text).map_err(parse_error)?);
        let e: Experiment = match migrated {
            Some(table) => table.try_into().map_err(parse_error)?,
            None => toml::from_str(text).map_err(parse_error)?,
        };
        e.check()?;
        Ok(e)
    }

    /// The experiment as TOML text (what [`run`](crate::run) stores beside
    /// its record).
    ///
    /// # Errors
    /// A user-defined prior that has no file form.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| invalid("experiment", e.to_string()))
    }

    /// Checks every section.
    ///
    /// # Errors
    /// The first invalid setting.
    pub fn check(&self) -> Result<()> {
        self.data.check()?;
        self.model.check()?;
        self.training.clone().check()?;
        self.evaluation.check()?;
        self.check_val_tta()?;
        self.check_test_epochs()?;
        self.step.check()?;
        self.study.check()
    }

    /// A learning-curve epoch that never comes (0, or past the last
    /// epoch) would silently measure nothing.
    fn check_test_epochs(&self) -> Result<()> {
        let last = self.training.epochs;
        match self
            .evaluation
            .test_at_epochs
            .iter()
            .find(|&&e| e == 0 || e > last)
        {
            Some(e) => Err(invalid(
                "evaluation.test_at_epochs",
                format!(
                    "epoch {e} is outside 1..={last} (epochs are 1-based and training runs {last})"
                ),
            )),
            None => Ok(()),
        }
    }

    /// Augmented validation needs an augmentation and reports only
    /// `val_nll`, `val_acc`, `val_err` and `val_prob_ce`.
    fn check_val_tta(&self) -> Result<()> {
        if self.evaluation.val_tta == 0 {
            return Ok(());
        }
        if self.data.augment.is_identity() {
            return Err(invalid(
                "evaluation.val_tta",
                "the data section has no augmentation to make copies with",
            ));
        }
        match &self.training.monitor {
            Some(m)
                if !["val_nll", "val_acc", "val_err", "val_prob_ce"]
                    .contains(&m.metric.as_str()) =>
            {
                Err(invalid(
                    "evaluation.val_tta",
                    format!(
                        "augmented validation reports val_nll, val_acc, val_err and val_prob_ce, not the monitored {:?}",
                        m.metric
                    ),
                ))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
        name = "full"
        seed = 7
        [data]
        synthetic = 64
        val_fraction = 0.25
        scaling = "symmetric"
        augment = { max_rotation = 90.0, max_shift = 2.0 }
        [model]
        kind = "bbb_lenet"
        variational = { prior = "gaussian:0.1", estimator = "Flipout" }
        elbo = { temperature = 0.1 }
        [training]
        epochs = 2
        batch_size = 16
        optimizer = { kind = "adam", lr = 5e-4 }
        [evaluation]
        samples = 8
    "#;

    #[test]
    fn every_section_parses_and_round_trips() {
        let e = Experiment::from_toml(FULL).unwrap();
        assert_eq!(e.data.val_fraction, 0.25);
        let m = e.model.settings::<crate::models::BbbLenet>().expect("kind");
        let (elbo, variational) = (&m.elbo, &m.variational);
        assert_eq!(elbo.temperature, 0.1);
        assert_eq!(variational.estimator, fanaroff_bayes::Estimator::Flipout);
        let again = Experiment::from_toml(&e.to_toml().unwrap()).unwrap();
        assert_eq!(again.to_toml().unwrap(), e.to_toml().unwrap());
    }

    #[test]
    fn the_old_training_augment_switch_is_read_as_data_augment() {
        let old = |on: bool| {
            format!(
                "[data]\nsynthetic = 64\naugment = {{ max_rotation = 90.0 }}\n\
                 [model]\nkind = \"lenet\"\n[training]\nepochs = 2\naugment = {on}\n"
            )
        };
        let off = Experiment::from_toml(&old(false)).unwrap();
        assert!(off.data.augment.is_identity());
        let on = Experiment::from_toml(&old(true)).unwrap();
        assert!(!on.data.augment.is_identity());
        // written back, the switch is gone
        assert!(!off.to_toml().unwrap().contains("[training]\naugment"));
        let again = Experiment::from_toml(&off.to_toml().unwrap()).unwrap();
        assert!(again.data.augment.is_identity());
    }

    #[test]
    fn val_tta_needs_an_augmentation_and_its_own_metrics() {
        let e = |aug: &str, monitor: &str| {
            Experiment::from_toml(&format!(
                "[data]\nsynthetic = 64\naugment = {aug}\n[model]\nkind = \"lenet\"\n\
                 [training]\nepochs = 2\n{monitor}\n[evaluation]\nval_tta = 4\n"
            ))
        };
        assert!(e("{ max_rotation = 90.0 }", "").is_ok());
        let none = e("{}", "").unwrap_err().to_string();
        assert!(none.contains("evaluation.val_tta"), "{none}");
        let ce = "monitor = { metric = \"val_prob_ce\" }";
        assert!(e("{ max_rotation = 90.0 }", ce).is_ok());
        let m = e(
            "{ max_rotation = 90.0 }",
            "monitor = { metric = \"val_uce\" }",
        );
        assert!(m.unwrap_err().to_string().contains("val_uce"));
    }

    #[test]
    fn typos_and_bad_values_are_errors() {
        for (bad, needle) in [
            ("[data]\nsynthetic = 64\nval_fraction = 1.5", "val_fraction"),
            ("[data]\nsynthetic = 64\nsynthtic = 3", "synthtic"),
            (
                "[data]\nsynthetic = 64\n[model]\nkind = \"resnet\"",
                "resnet",
            ),
            ("[data]\nsynthetic = 64\n[training]\nepochs = 0", "epochs"),
            (
                "[data]\nsynthetic = 64\n[evaluation]\nsamples = 0",
                "samples",
            ),
            (
                "[data]\nsynthetic = 64\n[model]\nkind = \"bbb_lenet\"\nvariational = { prior = \"gaussian:-1\" }",
                "prior",
            ),
            (
                "[data]\nsynthetic = 64\n[evaluation]\ndraws_per_pass = 0",
                "draws_per_pass",
            ),
            (
                "[data]\nsynthetic = 64\n[training]\nepochs = 3\n[evaluation]\ntest_at_epochs = [2, 4]",
                "epoch 4 is outside 1..=3",
            ),
            (
                "[data]\nsynthetic = 64\n[evaluation]\ntest_at_epochs = [0]",
                "test_at_epochs",
            ),
            ("[data]\nsynthetic = 64\nseed = \"x\"", "seed"),
            ("seed = 1", "source"),
        ] {
            let e = Experiment::from_toml(bad).unwrap_err().to_string();
            assert!(e.to_lowercase().contains(needle), "{bad:?} -> {e}");
        }
        let missing = Experiment::from_file(Path::new("/nonexistent/exp.toml")).unwrap_err();
        assert!(missing.to_string().contains("/nonexistent/exp.toml"));
    }
}
