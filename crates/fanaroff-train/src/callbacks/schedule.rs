//! Learning-rate schedules as a callback, with their state saved.

use super::{from_state, to_state};
use crate::callback::{Callback, EpochContext};
use crate::error::Result;
use fanaroff_nn::{CosineLr, LrScheduler, ReduceOnPlateau, StepLr};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A schedule described as data (for configuration files).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScheduleConfig {
    /// [`ReduceOnPlateau`] on the monitored value (the BBB paper: factor
    /// 0.95, patience 3).
    Plateau {
        /// Multiplier, `0 < factor < 1`.
        factor: f32,
        /// Epochs without improvement tolerated.
        patience: usize,
        /// Relative improvement that counts (PyTorch default 1e-4).
        threshold: f64,
        /// Floor of the rate.
        min_lr: f32,
    },
    /// [`StepLr`]: multiply by `gamma` every `step_size` epochs.
    Step {
        /// Epochs between decays.
        step_size: usize,
        /// Decay factor.
        gamma: f32,
    },
    /// [`CosineLr`] from the base rate to `eta_min` over `t_max` epochs.
    Cosine {
        /// Epochs of the half cosine.
        t_max: usize,
        /// Final rate.
        eta_min: f32,
    },
}

impl ScheduleConfig {
    /// The paper's plateau schedule: factor 0.95, patience 3, threshold 1e-4.
    pub fn paper_plateau() -> Self {
        ScheduleConfig::Plateau {
            factor: 0.95,
            patience: 3,
            threshold: 1e-4,
            min_lr: 0.0,
        }
    }

    /// The schedule as a callback starting from `lr`.
    ///
    /// # Errors
    /// Invalid settings, as [`Error::Nn`](crate::Error::Nn).
    pub fn build<M>(&self, lr: f32) -> Result<Box<dyn Callback<M>>> {
        Ok(match *self {
            ScheduleConfig::Plateau {
                factor,
                patience,
                threshold,
                min_lr,
            } => Box::new(LrSchedule::new(ReduceOnPlateau::new(
                lr, factor, patience, threshold, min_lr,
            )?)),
            ScheduleConfig::Step { step_size, gamma } => {
                Box::new(LrSchedule::new(StepLr::new(lr, step_size, gamma)?))
            }
            ScheduleConfig::Cosine { t_max, eta_min } => {
                Box::new(LrSchedule::new(CosineLr::new(lr, t_max, eta_min)?))
            }
        })
    }
}

/// Steps any [`LrScheduler`] once per epoch with the monitored value (on a
/// lower-is-better scale) and sets the optimiser's rate; the scheduler's
/// whole state is saved in checkpoints.
#[derive(Debug, Clone)]
pub struct LrSchedule<S> {
    /// The scheduler (its state is public).
    pub scheduler: S,
}

impl<S> LrSchedule<S> {
    /// Wraps a scheduler.
    pub fn new(scheduler: S) -> Self {
        LrSchedule { scheduler }
    }
}

impl<M, S> Callback<M> for LrSchedule<S>
where
    S: LrScheduler + Serialize + DeserializeOwned + Send,
{
    fn name(&self) -> String {
        "lr_schedule".into()
    }
    fn on_epoch_end(&mut self, ctx: &mut EpochContext<'_, M>) -> Result<()> {
        let m = ctx.record.monitored;
        let metric = m.is_finite().then(|| ctx.monitor.as_min(m));
        let lr = self.scheduler.step(metric);
        ctx.optimizer.set_learning_rate(lr);
        Ok(())
    }
    fn state(&self) -> serde_json::Value {
        to_state(&self.scheduler)
    }
    fn load_state(&mut self, state: serde_json::Value) -> Result<()> {
        self.scheduler = from_state("lr_schedule", state)?;
        Ok(())
    }
}
