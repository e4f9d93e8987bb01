//! Training settings as data.

use crate::callbacks::ScheduleConfig;
use crate::error::{Result, config};
use crate::monitor::Monitor;
use fanaroff_nn::{AdamConfig, Optimizer, SgdConfig};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The optimiser, described as data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OptimizerConfig {
    /// Adam / AdamW.
    Adam(AdamConfig),
    /// SGD with momentum.
    Sgd(SgdConfig),
}

impl OptimizerConfig {
    /// Builds the optimiser.
    ///
    /// # Errors
    /// Invalid settings.
    pub fn build(&self) -> Result<Box<dyn Optimizer>> {
        Ok(match *self {
            OptimizerConfig::Adam(c) => Box::new(c.build()?),
            OptimizerConfig::Sgd(c) => Box::new(c.build()?),
        })
    }
}

/// Settings of the [`Trainer`](crate::Trainer); every field has a default,
/// so a file names only what it changes.
///
/// | name | default | meaning | valid range |
/// |---|---|---|---|
/// | `epochs` | 100 | epochs in total (a resumed run counts the finished ones) | >= 1 |
/// | `batch_size` | 50 | minibatch size (last partial batch kept) | >= 1 |
/// | `passes_per_epoch` | 1 | shuffled passes over the training set per epoch, each with fresh augmentation, before one validation (the attention study code's epoch is 72 passes); an ELBO's KL weights sum to one per pass | >= 1 |
/// | `seed` | 0 | seeds shuffling, augmentation, noise and validation draws | |
/// | `optimizer` | Adam, lr 1e-4 | any [`OptimizerConfig`] (or [`Trainer::optimizer`](crate::Trainer::optimizer)) | |
/// | `schedule` | plateau 0.95 / 3 | [`ScheduleConfig`] on the monitored value, `None` = constant rate | |
/// | `early_stopping` | `None` | stop after this many epochs without improvement | >= 1 |
/// | `monitor` | `None` | metric for best / plateau / stopping; `None`: `val_nll` with validation, else `loss` | |
/// | `restore_best` | true | end with the best epoch's weights (with validation only) | |
/// | `checkpoint_dir` | `None` | where checkpoints go | |
/// | `resume` | false | continue from `checkpoint_dir/state.json` if present | |
/// | `progress` | true | progress bar on stderr | |
/// | `log_epochs` | true | one `log::info!` line per epoch | |
///
/// # Example
/// ```
/// use fanaroff_train::TrainConfig;
/// let cfg: TrainConfig = serde_json::from_str(r#"{"epochs": 5, "batch_size": 16}"#).unwrap();
/// assert_eq!((cfg.epochs, cfg.batch_size, cfg.seed), (5, 16, 0));
/// assert!(serde_json::from_str::<TrainConfig>(r#"{"epocs": 5}"#).is_err()); // typo
/// let constant: TrainConfig = serde_json::from_str(r#"{"schedule": "none"}"#).unwrap();
/// assert_eq!(constant.schedule, None);
/// let back: TrainConfig = serde_json::from_str(&serde_json::to_string(&constant).unwrap()).unwrap();
/// assert_eq!(back.schedule, None);
/// assert!(TrainConfig::default().epochs(0).check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Total epochs.
    pub epochs: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Passes over the training set per epoch.
    #[serde(skip_serializing_if = "is_one")]
    pub passes_per_epoch: usize,
    /// Seed of everything random in the loop.
    pub seed: u64,
    /// The optimiser.
    pub optimizer: OptimizerConfig,
    /// Learning-rate schedule (`"none"` in a file: a constant rate).
    #[serde(with = "schedule_or_none")]
    pub schedule: Option<ScheduleConfig>,
    /// Early-stopping patience.
    pub early_stopping: Option<usize>,
    /// The monitored metric.
    pub monitor: Option<Monitor>,
    /// Restore the best weights at the end.
    pub restore_best: bool,
    /// Checkpoint folder.
    pub checkpoint_dir: Option<PathBuf>,
    /// Resume from the checkpoint folder.
    pub resume: bool,
    /// Show a progress bar.
    pub progress: bool,
    /// Log a line per epoch.
    pub log_epochs: bool,
}

fn is_one(v: &usize) -> bool {
    *v == 1
}

/// `schedule = "none"` in a file for a constant rate, so that a file
/// without the key keeps the default schedule and TOML (which has no null)
/// can still say "no schedule".
mod schedule_or_none {
    use super::ScheduleConfig;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Word(String),
        Schedule(ScheduleConfig),
    }

    pub fn serialize<S: Serializer>(v: &Option<ScheduleConfig>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            None => Repr::Word("none".into()).serialize(s),
            Some(c) => Repr::Schedule(*c).serialize(s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<ScheduleConfig>, D::Error> {
        match Repr::deserialize(d)? {
            Repr::Word(w) if w == "none" => Ok(None),
            Repr::Word(w) => Err(serde::de::Error::custom(format!(
                "schedule {w:?}: use \"none\" or a table with kind = plateau | step | cosine"
            ))),
            Repr::Schedule(c) => Ok(Some(c)),
        }
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 100,
            batch_size: 50,
            passes_per_epoch: 1,
            seed: 0,
            optimizer: OptimizerConfig::Adam(AdamConfig::with_lr(1e-4)),
            schedule: Some(ScheduleConfig::paper_plateau()),
            early_stopping: None,
            monitor: None,
            restore_best: true,
            checkpoint_dir: None,
            resume: false,
            progress: true,
            log_epochs: true,
        }
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty),* $(,)?) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, v: $ty) -> Self {
                self.$name = v;
                self
            }
        )*
    };
}

impl TrainConfig {
    setters! {
        /// Sets the number of epochs.
        epochs: usize,
        /// Sets the batch size.
        batch_size: usize,
        /// Sets the passes over the training set per epoch.
        passes_per_epoch: usize,
        /// Sets the seed.
        seed: u64,
        /// Sets the optimiser.
        optimizer: OptimizerConfig,
        /// Sets (or removes) the schedule.
        schedule: Option<ScheduleConfig>,
        /// Sets (or removes) early stopping.
        early_stopping: Option<usize>,
        /// Sets the monitored metric.
        monitor: Option<Monitor>,
        /// End with the best weights.
        restore_best: bool,
        /// Resume from the checkpoint folder when it holds a run.
        resume: bool,
        /// Progress bar on or off.
        progress: bool,
        /// Per-epoch log lines on or off.
        log_epochs: bool,
    }

    /// Adam with learning rate `lr` and otherwise default moments.
    pub fn adam(self, lr: f32) -> Self {
        self.optimizer(OptimizerConfig::Adam(AdamConfig::with_lr(lr)))
    }

    /// Sets the checkpoint folder.
    pub fn checkpoint_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.checkpoint_dir = Some(dir.into());
        self
    }

    /// The learning rate of the configured optimiser.
    pub fn lr(&self) -> f32 {
        match self.optimizer {
            OptimizerConfig::Adam(c) => c.lr,
            OptimizerConfig::Sgd(c) => c.lr,
        }
    }

    /// Validates the settings.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for zero epochs /
    /// batch size / patience, an invalid optimiser or schedule, or resume
    /// without a folder.
    pub fn check(self) -> Result<Self> {
        if self.epochs == 0 || self.batch_size == 0 || self.passes_per_epoch == 0 {
            return Err(config(
                "TrainConfig",
                "epochs, batch_size and passes_per_epoch must be >= 1",
            ));
        }
        if self.early_stopping == Some(0) {
            return Err(config(
                "TrainConfig",
                "early_stopping patience must be >= 1",
            ));
        }
        if self.resume && self.checkpoint_dir.is_none() {
            return Err(config("TrainConfig", "resume needs a checkpoint_dir"));
        }
        self.optimizer.build()?;
        if let Some(s) = &self.schedule {
            s.build::<()>(self.lr())?;
        }
        Ok(self)
    }

    /// The settings that must match when a run is resumed (everything but
    /// `epochs`, `resume`, `progress`, `log_epochs` and `checkpoint_dir`).
    pub(crate) fn fingerprint(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let Some(m) = v.as_object_mut() {
            for k in [
                "epochs",
                "resume",
                "progress",
                "log_epochs",
                "checkpoint_dir",
            ] {
                m.remove(k);
            }
        }
        v
    }
}
