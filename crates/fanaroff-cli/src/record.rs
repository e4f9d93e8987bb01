//! What a finished run leaves behind: metrics, settings, seed, versions and
//! times, as one JSON file written atomically.

use crate::error::{Error, Result, read_text};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Every metric [`evaluate`](crate::evaluate) can record. A metric that
/// is undefined for a run (AUROC without errors) is left out of its record.
pub const METRICS: [&str; 18] = [
    "test_error_mean",
    "test_error_std",
    "test_error_predictive",
    "ece",
    "uce",
    "cuce",
    "nll",
    "brier",
    "error_detection_auroc",
    "entropy_confident",
    "entropy_uncertain",
    "entropy_mwu_p",
    "mi_confident",
    "mi_uncertain",
    "mi_mwu_p",
    "uce_study",
    "cuce_study",
    "uncertain_error",
];

/// Checks a metric name: one of [`METRICS`] or one the record has.
///
/// # Errors
/// An unknown name, listing the valid ones.
pub fn check_metric(name: &str) -> Result<()> {
    if METRICS.contains(&name) {
        Ok(())
    } else {
        Err(crate::error::invalid(
            "metric",
            format!("unknown metric {name:?}; valid: {}", METRICS.join(", ")),
        ))
    }
}

/// The file name of a record inside a run folder.
pub const RECORD_FILE: &str = "record.json";

/// The outcome of one [`run`](crate::run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The experiment's name.
    pub name: String,
    /// Its seed.
    pub seed: u64,
    /// The experiment as run (TOML text).
    pub experiment: String,
    /// What the images were.
    pub data: String,
    /// Image counts: train, val, test, uncertain.
    pub counts: [usize; 4],
    /// Test and uncertainty metrics (see [`evaluate`](crate::evaluate)).
    pub metrics: BTreeMap<String, f64>,
    /// The study the run did (`train`: none beyond `metrics`).
    #[serde(default = "train_study")]
    pub study: String,
    /// The fields that tell the study's rows apart (e.g. criterion and
    /// fraction); tables pair rows by them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub row_keys: Vec<String>,
    /// The study's rows (JSON objects), in the order the study made them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<serde_json::Value>,
    /// Epochs finished, over all attempts.
    pub epochs_run: usize,
    /// The epoch whose weights were kept (1-based), if validation chose one.
    pub best_epoch: Option<usize>,
    /// The epoch a crashed earlier attempt had reached (0: none).
    pub resumed_after_epoch: usize,
    /// Training seconds summed over the epochs of all attempts.
    pub train_seconds: f64,
    /// Evaluation seconds.
    pub eval_seconds: f64,
    /// Threads of the numeric pool.
    pub threads: usize,
    /// Versions: `fanaroff` and the compiler's target.
    pub versions: BTreeMap<String, String>,
    /// Unix time (s) when this attempt started and when it finished.
    pub started: u64,
    /// Unix time (s) of the end.
    pub finished: u64,
}

impl RunRecord {
    /// The value of a metric: NaN when it is undefined for this run.
    ///
    /// # Errors
    /// A name that is not a metric (a typo), listing the valid ones.
    ///
    /// ```
    /// # let r: fanaroff_cli::RunRecord = serde_json::from_str(r#"{"name":"x","seed":0,"experiment":"","data":"","counts":[0,0,0,0],"metrics":{"nll":0.3},"epochs_run":1,"best_epoch":null,"resumed_after_epoch":0,"train_seconds":0,"eval_seconds":0,"threads":1,"versions":{},"started":0,"finished":0}"#).unwrap();
    /// assert_eq!(r.metric("nll").unwrap(), 0.3);
    /// assert!(r.metric("error_detection_auroc").unwrap().is_nan());
    /// assert!(r.metric("nnl").unwrap_err().to_string().contains("valid: test_error_mean"));
    /// ```
    pub fn metric(&self, name: &str) -> Result<f64> {
        match self.metrics.get(name) {
            Some(v) => Ok(*v),
            None => check_metric(name).map(|()| f64::NAN),
        }
    }

    /// Reads a record file.
    ///
    /// # Errors
    /// A missing, unreadable or malformed file.
    pub fn read(path: &Path) -> Result<Self> {
        serde_json::from_str(&read_text(path)?).map_err(|e| Error::Parse {
            path: path.to_path_buf(),
            msg: e.to_string(),
        })
    }

    /// Writes the record atomically: a killed process leaves no half file.
    ///
    /// # Errors
    /// An unwritable folder.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::Parse {
            path: path.to_path_buf(),
            msg: e.to_string(),
        })?;
        Ok(fanaroff_train::write_atomic(path, text.as_bytes())?)
    }
}

fn train_study() -> String {
    "train".into()
}

/// The package version and build target, for records.
pub fn versions() -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "fanaroff".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
        ("arch".to_string(), std::env::consts::ARCH.to_string()),
        ("os".to_string(), std::env::consts::OS.to_string()),
    ])
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
