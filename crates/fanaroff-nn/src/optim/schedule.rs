//! Learning-rate schedules, stepped once per epoch.

use crate::error::{Result, config, non_negative, positive};
use serde::{Deserialize, Serialize};

/// A rule that gives the learning rate for the next epoch.
pub trait LrScheduler {
    /// Advances one epoch. `metric` is the monitored value (validation loss)
    /// for schedules that react to it; others ignore it. Returns the new rate.
    fn step(&mut self, metric: Option<f64>) -> f32;

    /// The current rate.
    fn lr(&self) -> f32;
}

/// Multiplies the rate by `gamma` every `step_size` epochs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepLr {
    /// Rate at epoch 0.
    pub base: f32,
    /// Epochs between decays.
    pub step_size: usize,
    /// Decay factor.
    pub gamma: f32,
    /// Epochs stepped so far.
    pub epoch: usize,
}

impl StepLr {
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for a zero step
    /// size or a non-positive rate or gamma.
    pub fn new(base_lr: f32, step_size: usize, gamma: f32) -> Result<Self> {
        if step_size == 0 || !positive(gamma) || !positive(base_lr) {
            return Err(config(
                "StepLr",
                "step_size, gamma and base_lr must be positive",
            ));
        }
        Ok(StepLr {
            base: base_lr,
            step_size,
            gamma,
            epoch: 0,
        })
    }
}

impl LrScheduler for StepLr {
    fn step(&mut self, _: Option<f64>) -> f32 {
        self.epoch += 1;
        self.lr()
    }
    fn lr(&self) -> f32 {
        self.base * self.gamma.powi((self.epoch / self.step_size) as i32)
    }
}

/// Cosine annealing from the base rate to `eta_min` over `t_max` epochs:
///
/// ```text
/// lr_t = eta_min + (base - eta_min) (1 + cos(pi t / t_max)) / 2
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CosineLr {
    /// Rate at epoch 0.
    pub base: f32,
    /// Floor of the rate.
    pub eta_min: f32,
    /// Epochs of one half cosine.
    pub t_max: usize,
    /// Epochs stepped so far.
    pub epoch: usize,
}

impl CosineLr {
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) unless
    /// `t_max > 0` and `0 <= eta_min <= base_lr`.
    pub fn new(base_lr: f32, t_max: usize, eta_min: f32) -> Result<Self> {
        if t_max == 0 || !non_negative(eta_min) || eta_min > base_lr {
            return Err(config(
                "CosineLr",
                "need t_max > 0 and 0 <= eta_min <= base_lr",
            ));
        }
        Ok(CosineLr {
            base: base_lr,
            eta_min,
            t_max,
            epoch: 0,
        })
    }
}

impl LrScheduler for CosineLr {
    fn step(&mut self, _: Option<f64>) -> f32 {
        self.epoch = (self.epoch + 1).min(self.t_max);
        self.lr()
    }
    fn lr(&self) -> f32 {
        let c = (std::f32::consts::PI * self.epoch as f32 / self.t_max as f32).cos();
        self.eta_min + (self.base - self.eta_min) * (1.0 + c) / 2.0
    }
}

/// Multiplies the rate by `factor` when the monitored value (lower is
/// better) has not improved by more than a relative `threshold` for more
/// than `patience` epochs (PyTorch's `ReduceLROnPlateau`, mode "min",
/// threshold mode "rel", no cooldown). The BBB paper uses factor 0.95,
/// patience 3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReduceOnPlateau {
    /// The current rate.
    pub lr: f32,
    /// Multiplier on a plateau.
    pub factor: f32,
    /// Epochs without improvement tolerated.
    pub patience: usize,
    /// Relative improvement that counts.
    pub threshold: f64,
    /// Floor of the rate.
    pub min_lr: f32,
    /// Best monitored value so far (`f64::MAX` before the first, so that the
    /// state is valid JSON).
    pub best: f64,
    /// Epochs since the last improvement.
    pub bad_epochs: usize,
}

impl ReduceOnPlateau {
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) unless
    /// `0 < factor < 1`, `threshold >= 0` and `0 <= min_lr`.
    pub fn new(lr: f32, factor: f32, patience: usize, threshold: f64, min_lr: f32) -> Result<Self> {
        let valid = positive(factor)
            && factor < 1.0
            && non_negative(threshold as f32)
            && non_negative(min_lr)
            && positive(lr);
        if !valid {
            return Err(config(
                "ReduceOnPlateau",
                "need 0 < factor < 1, threshold >= 0, min_lr >= 0, lr > 0",
            ));
        }
        Ok(ReduceOnPlateau {
            lr,
            factor,
            patience,
            threshold,
            min_lr,
            best: f64::MAX,
            bad_epochs: 0,
        })
    }

    /// Epochs since the last improvement.
    pub fn bad_epochs(&self) -> usize {
        self.bad_epochs
    }
}

impl LrScheduler for ReduceOnPlateau {
    fn step(&mut self, metric: Option<f64>) -> f32 {
        let Some(m) = metric.filter(|m| !m.is_nan()) else {
            return self.lr;
        };
        if self.best == f64::MAX || m < self.best * (1.0 - self.threshold) {
            self.best = m;
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
        if self.bad_epochs > self.patience {
            self.lr = (self.lr * self.factor).max(self.min_lr);
            self.bad_epochs = 0;
        }
        self.lr
    }
    fn lr(&self) -> f32 {
        self.lr
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn step_lr_decays_every_step_size() {
        let mut s = StepLr::new(1.0, 2, 0.5).unwrap();
        let lrs: Vec<f32> = (0..5).map(|_| s.step(None)).collect();
        assert_eq!(lrs, vec![1.0, 0.5, 0.5, 0.25, 0.25]);
    }

    #[test]
    fn cosine_reaches_eta_min_halfway_at_mean() {
        let mut s = CosineLr::new(1.0, 4, 0.2).unwrap();
        let lrs: Vec<f32> = (0..5).map(|_| s.step(None)).collect();
        assert_abs_diff_eq!(lrs[1], 0.6, epsilon = 1e-6); // t = 2 of 4: midpoint
        assert_abs_diff_eq!(lrs[3], 0.2, epsilon = 1e-6);
        assert_abs_diff_eq!(lrs[4], 0.2, epsilon = 1e-6); // stays at the floor
    }

    #[test]
    fn plateau_waits_patience_then_reduces() {
        let mut s = ReduceOnPlateau::new(1.0, 0.5, 2, 0.0, 0.0).unwrap();
        assert_eq!(s.step(Some(1.0)), 1.0); // best = 1
        assert_eq!(s.step(Some(1.0)), 1.0); // bad 1
        assert_eq!(s.step(Some(1.5)), 1.0); // bad 2
        assert_eq!(s.step(Some(1.2)), 0.5); // bad 3 > patience: reduce
        assert_eq!(s.step(Some(0.5)), 0.5); // improvement resets
        assert!(ReduceOnPlateau::new(1.0, 1.5, 2, 0.0, 0.0).is_err());
    }
}
