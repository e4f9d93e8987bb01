//! Metrics history: one record per epoch, as CSV and JSON.

use crate::error::{Result, input, io};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Metrics of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch number, 1-based.
    pub epoch: usize,
    /// Learning rate used during the epoch.
    pub lr: f32,
    /// Training metrics (epoch means, see [`Metric`](crate::Metric)) and
    /// validation metrics (`val_*`), by name.
    pub metrics: BTreeMap<String, f64>,
    /// The monitored value.
    pub monitored: f64,
    /// Whether this epoch was the best so far by the monitored value.
    pub best: bool,
    /// Wall time of the epoch in seconds (training + validation).
    pub seconds: f64,
}

impl EpochRecord {
    /// A metric by name.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.metrics.get(name).copied()
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// One record per finished epoch (including those of earlier, resumed runs).
    pub records: Vec<EpochRecord>,
    /// The best epoch (1-based), if any.
    pub best_epoch: Option<usize>,
    /// Whether a callback (early stopping) ended the run.
    pub stopped_early: bool,
}

impl History {
    /// The values of one metric over the epochs (`None` where missing).
    pub fn series(&self, name: &str) -> Vec<Option<f64>> {
        self.records.iter().map(|r| r.get(name)).collect()
    }

    /// The history as CSV text: `epoch,lr,<metrics in name order>,monitored,best,seconds`,
    /// empty fields for missing values.
    pub fn to_csv(&self) -> String {
        let names: std::collections::BTreeSet<&str> = self
            .records
            .iter()
            .flat_map(|r| r.metrics.keys().map(String::as_str))
            .collect();
        let mut s = String::from("epoch,lr");
        for n in &names {
            s.push(',');
            s.push_str(n);
        }
        s.push_str(",monitored,best,seconds\n");
        for r in &self.records {
            s.push_str(&format!("{},{}", r.epoch, r.lr));
            for n in &names {
                s.push(',');
                if let Some(v) = r.get(n) {
                    s.push_str(&format!("{v}"));
                }
            }
            s.push_str(&format!(
                ",{},{},{:.3}\n",
                r.monitored, r.best as u8, r.seconds
            ));
        }
        s
    }

    /// The history as pretty JSON.
    ///
    /// # Errors
    /// Serialisation errors (non-finite values), as
    /// [`InvalidInput`](fanaroff_core::Error::InvalidInput).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| input("History::to_json", e.to_string()))
    }

    /// Writes `history.csv` and `history.json` into `dir` (atomically).
    ///
    /// # Errors
    /// [`Io`](fanaroff_core::Error::Io) when writing fails.
    pub fn write(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        write_atomic(&dir.join("history.csv"), self.to_csv().as_bytes())?;
        write_atomic(&dir.join("history.json"), self.to_json()?.as_bytes())
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a
/// killed process leaves the old file or the new one, never half of one.
///
/// # Errors
/// [`Io`](fanaroff_core::Error::Io) naming the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp).map_err(io(path))?;
        f.write_all(bytes).map_err(io(path))?;
        f.sync_all().map_err(io(path))?;
    }
    Ok(std::fs::rename(&tmp, path).map_err(io(path))?)
}
