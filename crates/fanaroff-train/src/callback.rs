//! Callbacks: code that runs at fixed points of the loop.

use crate::error::Result;
use crate::history::{EpochRecord, History};
use crate::monitor::Monitor;
use fanaroff_nn::Optimizer;
use std::path::Path;

/// Where the loop is, for per-batch callbacks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchInfo {
    /// Epoch, 0-based.
    pub epoch: usize,
    /// Total epochs of the run.
    pub epochs: usize,
    /// Minibatch index in the epoch, 0-based.
    pub step: usize,
    /// Minibatches per epoch.
    pub steps: usize,
    /// Loss of this batch (after the step; NaN at batch start).
    pub loss: f64,
}

/// What epoch-end callbacks may read and change.
pub struct EpochContext<'a, M> {
    /// The model.
    pub model: &'a mut M,
    /// The optimiser (schedules set its rate).
    pub optimizer: &'a mut dyn Optimizer,
    /// This epoch's record (callbacks may add metrics or mark it best).
    pub record: &'a mut EpochRecord,
    /// The monitored metric (the record's `monitored` value is already set).
    pub monitor: &'a Monitor,
    /// Set to true to end the run after this epoch.
    pub stop: &'a mut bool,
    /// The checkpoint folder, if the run has one.
    pub dir: Option<&'a Path>,
}

/// Code the loop runs at batch start, after each optimiser step, at epoch
/// end and at the end of training. Callbacks with state that matters for
/// the rest of the run (schedules, early stopping, best checkpoint) return
/// it from [`state`](Callback::state), which the checkpoint stores under the
/// callback's [`name`](Callback::name) and hands back on resume.
pub trait Callback<M>: Send {
    /// A unique name (the key of the callback's state in checkpoints).
    fn name(&self) -> String;

    /// Before the first epoch (of this process): `dir` is the checkpoint
    /// folder, `resumed` whether the run continues a saved one.
    ///
    /// # Errors
    /// As the callback sees fit.
    fn on_train_start(
        &mut self,
        _model: &mut M,
        _dir: Option<&Path>,
        _resumed: bool,
    ) -> Result<()> {
        Ok(())
    }

    /// Before a batch is prepared.
    ///
    /// # Errors
    /// As the callback sees fit.
    fn on_batch_start(&mut self, _info: &BatchInfo) -> Result<()> {
        Ok(())
    }

    /// After the optimiser step (and the loop's re-application of masks).
    ///
    /// # Errors
    /// As the callback sees fit.
    fn after_optimizer_step(&mut self, _model: &mut M, _info: &BatchInfo) -> Result<()> {
        Ok(())
    }

    /// After the epoch's training and validation.
    ///
    /// # Errors
    /// As the callback sees fit.
    fn on_epoch_end(&mut self, _ctx: &mut EpochContext<'_, M>) -> Result<()> {
        Ok(())
    }

    /// After the last epoch.
    ///
    /// # Errors
    /// As the callback sees fit.
    fn on_train_end(&mut self, _model: &mut M, _history: &History) -> Result<()> {
        Ok(())
    }

    /// State to save in checkpoints (`Null`: nothing).
    fn state(&self) -> serde_json::Value {
        serde_json::Value::Null
    }

    /// Restores state written by [`state`](Callback::state).
    ///
    /// # Errors
    /// [`Error::Checkpoint`](crate::Error::Checkpoint) for state it cannot use.
    fn load_state(&mut self, _state: serde_json::Value) -> Result<()> {
        Ok(())
    }
}
