//! A progress bar for a person watching.

use crate::callback::{BatchInfo, Callback, EpochContext};
use crate::error::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One progress bar per epoch on stderr (hidden when stderr is not a
/// terminal), showing the running mean loss.
#[derive(Debug, Default)]
pub struct Progress {
    bar: Option<ProgressBar>,
    loss_sum: f64,
}

impl Progress {
    /// A progress bar.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<M> Callback<M> for Progress {
    fn name(&self) -> String {
        "progress".into()
    }
    fn on_batch_start(&mut self, info: &BatchInfo) -> Result<()> {
        if info.step == 0 {
            let b = ProgressBar::with_draw_target(
                Some(info.steps as u64),
                ProgressDrawTarget::stderr(),
            );
            if let Ok(style) =
                ProgressStyle::with_template("{prefix} [{bar:25}] {pos}/{len} {elapsed} {msg}")
            {
                b.set_style(style.progress_chars("=> "));
            }
            b.set_prefix(format!("epoch {}/{}", info.epoch + 1, info.epochs));
            self.bar = Some(b);
            self.loss_sum = 0.0;
        }
        Ok(())
    }
    fn after_optimizer_step(&mut self, _model: &mut M, info: &BatchInfo) -> Result<()> {
        if let Some(b) = &self.bar {
            self.loss_sum += info.loss;
            b.set_message(format!(
                "loss {:.4}",
                self.loss_sum / (info.step + 1) as f64
            ));
            b.inc(1);
        }
        Ok(())
    }
    fn on_epoch_end(&mut self, _ctx: &mut EpochContext<'_, M>) -> Result<()> {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        Ok(())
    }
}
