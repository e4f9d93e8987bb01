//! Keep (and optionally restore) the best epoch's model.

use super::{from_state, to_state};
use crate::callback::{Callback, EpochContext};
use crate::error::Result;
use crate::history::History;
use fanaroff_nn::{Module, TensorFile, load_from, model_tensors, write_tensors};
use ndarray::ArrayD;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct BestState {
    best: Option<f64>,
    epoch: Option<usize>,
}

/// Snapshots parameters, buffers (batch-norm statistics) and masks whenever
/// the monitored value improves, writes them to `best.safetensors` in the
/// checkpoint folder, marks the epoch record as best, and (when `restore`)
/// puts the best snapshot back into the model at the end of training.
#[derive(Debug, Clone, Default)]
pub struct BestCheckpoint {
    restore: bool,
    state: BestState,
    snapshot: Option<Vec<(String, ArrayD<f32>)>>,
    file: Option<PathBuf>,
}

impl BestCheckpoint {
    /// Tracks the best epoch; `restore` ends training with its weights.
    pub fn new(restore: bool) -> Self {
        BestCheckpoint {
            restore,
            ..Self::default()
        }
    }

    /// The best epoch (1-based), if any.
    pub fn best_epoch(&self) -> Option<usize> {
        self.state.epoch
    }
}

impl<M: Module> Callback<M> for BestCheckpoint {
    fn name(&self) -> String {
        "best_checkpoint".into()
    }
    fn on_train_start(&mut self, _model: &mut M, dir: Option<&Path>, resumed: bool) -> Result<()> {
        self.file = dir.map(|d| d.join("best.safetensors"));
        if let Some(f) = &self.file
            && resumed
            && self.state.epoch.is_some()
            && f.exists()
        {
            let t = TensorFile::read(f)?;
            let snap = t
                .names()
                .iter()
                .map(|n| Ok((n.to_string(), t.f32(n)?)))
                .collect::<Result<Vec<_>>>()?;
            self.snapshot = Some(snap);
        }
        Ok(())
    }
    fn on_epoch_end(&mut self, ctx: &mut EpochContext<'_, M>) -> Result<()> {
        let v = ctx.monitor.as_min(ctx.record.monitored);
        if self.state.best.is_some_and(|b| v >= b) || v.is_nan() {
            return Ok(());
        }
        self.state = BestState {
            best: Some(v),
            epoch: Some(ctx.record.epoch),
        };
        ctx.record.best = true;
        if self.restore || self.file.is_some() {
            let snap = model_tensors(&*ctx.model);
            if let Some(f) = &self.file {
                write_tensors(f, &snap)?;
            }
            self.snapshot = Some(snap);
        }
        Ok(())
    }
    fn on_train_end(&mut self, model: &mut M, _history: &History) -> Result<()> {
        if let (true, Some(snap)) = (self.restore, &self.snapshot) {
            let file = TensorFile::from_arrays("best snapshot", snap.clone());
            load_from(model, &file, false)?;
        }
        Ok(())
    }
    fn state(&self) -> serde_json::Value {
        to_state(&self.state)
    }
    fn load_state(&mut self, state: serde_json::Value) -> Result<()> {
        self.state = from_state("best_checkpoint", state)?;
        Ok(())
    }
}
