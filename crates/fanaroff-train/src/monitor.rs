//! Which metric decides "best", early stopping and plateaus.

use serde::{Deserialize, Serialize};

/// Whether lower or higher is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Lower is better (losses, NLL, error, UCE).
    #[default]
    Min,
    /// Higher is better (accuracy).
    Max,
}

/// The monitored metric: a name from the epoch record (`val_nll`,
/// `val_err`, `val_uce`, `loss` ...) and a direction.
///
/// # Example
/// ```
/// use fanaroff_train::Monitor;
/// let m = Monitor::max("val_acc");
/// assert!(m.better(0.9, 0.8));
/// assert_eq!(m.as_min(0.9), -0.9);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Monitor {
    /// Metric name.
    pub metric: String,
    /// Direction.
    #[serde(default)]
    pub mode: Mode,
}

impl Monitor {
    /// Lower is better.
    pub fn min(metric: &str) -> Self {
        Monitor {
            metric: metric.to_string(),
            mode: Mode::Min,
        }
    }
    /// Higher is better.
    pub fn max(metric: &str) -> Self {
        Monitor {
            metric: metric.to_string(),
            mode: Mode::Max,
        }
    }
    /// Whether `a` is strictly better than `b`.
    pub fn better(&self, a: f64, b: f64) -> bool {
        self.as_min(a) < self.as_min(b)
    }
    /// The value on a lower-is-better scale (negated for `Max`), for
    /// schedules that only minimise.
    pub fn as_min(&self, v: f64) -> f64 {
        match self.mode {
            Mode::Min => v,
            Mode::Max => -v,
        }
    }
}
