//! One log line per epoch through the `log` facade.

use crate::callback::{Callback, EpochContext};
use crate::error::Result;

/// Logs every epoch's record at `info` level (target `fanaroff_train`):
/// epoch, time, rate, every metric, and `*` for a new best. Install any
/// `log` backend to see it.
#[derive(Debug, Clone, Copy, Default)]
pub struct EpochLog {
    /// Total epochs (for "epoch 3/100").
    pub epochs: usize,
}

impl<M> Callback<M> for EpochLog {
    fn name(&self) -> String {
        "epoch_log".into()
    }
    fn on_epoch_end(&mut self, ctx: &mut EpochContext<'_, M>) -> Result<()> {
        let r = &ctx.record;
        let metrics: Vec<String> = r
            .metrics
            .iter()
            .map(|(k, v)| format!("{k} {}", fmt_value(*v)))
            .collect();
        log::info!(
            "epoch {:4}/{}  {:6.2}s  lr {:.2e}  {}{}",
            r.epoch,
            self.epochs,
            r.seconds,
            r.lr,
            metrics.join("  "),
            if r.best { "  *" } else { "" }
        );
        Ok(())
    }
}

fn fmt_value(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e4 || v.abs() < 1e-3) {
        format!("{v:.4e}")
    } else {
        format!("{v:.4}")
    }
}
