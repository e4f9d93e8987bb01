//! Stop when the monitored value stops improving.

use super::{from_state, to_state};
use crate::callback::{Callback, EpochContext};
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// Ends the run after `patience` epochs without improvement of the
/// monitored value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    /// Epochs without improvement tolerated.
    pub patience: usize,
    /// Best monitored value so far (lower-is-better scale).
    pub best: Option<f64>,
    /// Epochs since the last improvement.
    pub bad_epochs: usize,
}

impl EarlyStopping {
    /// Stops after `patience` (>= 1) epochs without improvement.
    pub fn new(patience: usize) -> Self {
        EarlyStopping {
            patience,
            best: None,
            bad_epochs: 0,
        }
    }
}

impl<M> Callback<M> for EarlyStopping {
    fn name(&self) -> String {
        "early_stopping".into()
    }
    fn on_epoch_end(&mut self, ctx: &mut EpochContext<'_, M>) -> Result<()> {
        let v = ctx.monitor.as_min(ctx.record.monitored);
        if self.best.is_none_or(|b| v < b) {
            self.best = Some(v);
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
            if self.bad_epochs >= self.patience {
                *ctx.stop = true;
            }
        }
        Ok(())
    }
    fn state(&self) -> serde_json::Value {
        to_state(self)
    }
    fn load_state(&mut self, state: serde_json::Value) -> Result<()> {
        *self = from_state("early_stopping", state)?;
        Ok(())
    }
}
