//! An extra evaluation at chosen epochs, e.g. test accuracy along a
//! learning curve. Its metrics go into those epochs' records only; they
//! are never the monitored value, so model selection stays on validation.

use crate::callback::{Callback, EpochContext};
use crate::error::Result;
use crate::validation::{EvalInfo, Evaluate};
use std::collections::BTreeSet;

/// Runs `eval` after the listed epochs (1-based) and adds its metrics to
/// their records (give them a prefix, e.g.
/// [`Validation::with_prefix`](crate::Validation::with_prefix)`("test")`).
///
/// ```
/// use fanaroff_train::{ArrayLoader, Probe, TrainConfig, Trainer, Validation};
/// use fanaroff_nn::{Linear, LinearConfig, Sequential};
/// use ndarray::{ArrayD, IxDyn};
/// use rand::{SeedableRng, rngs::StdRng};
///
/// let x = ArrayD::from_shape_fn(IxDyn(&[20, 2]), |i| (i[0] * 3 + i[1]) as f32 / 20.0 - 0.5);
/// let y: Vec<usize> = (0..20).map(|i| i % 2).collect();
/// let (train, test) = (ArrayLoader::new(x.clone(), y.clone(), 2)?, ArrayLoader::new(x, y, 2)?);
/// let mut net = Sequential::new().push("fc", Linear::new(LinearConfig::new(2, 2), &mut StdRng::seed_from_u64(0))?);
/// let cfg = TrainConfig::default().epochs(3).batch_size(5).progress(false).log_epochs(false);
/// let probe = Probe::new(Validation::new(&test).with_prefix("test"), [2]);
/// let h = Trainer::new(cfg)?.callback(probe).fit(&mut net, &train)?;
/// assert!(h.records[0].get("test_acc").is_none());
/// assert!(h.records[1].get("test_acc").is_some());
/// # Ok::<(), fanaroff_train::Error>(())
/// ```
pub struct Probe<E> {
    eval: E,
    at: BTreeSet<usize>,
    seed: u64,
    batch_size: usize,
}

impl<E> Probe<E> {
    /// `eval` after each epoch in `at` (1-based).
    pub fn new(eval: E, at: impl IntoIterator<Item = usize>) -> Self {
        Probe {
            eval,
            at: at.into_iter().collect(),
            seed: 0,
            batch_size: 50,
        }
    }

    /// The minibatch size of its predictions (default 50).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// The seed handed to the evaluation (its MC draws).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

impl<M, E: Evaluate<M>> Callback<M> for Probe<E> {
    fn name(&self) -> String {
        "probe".into()
    }

    fn on_epoch_end(&mut self, ctx: &mut EpochContext<'_, M>) -> Result<()> {
        if !self.at.contains(&ctx.record.epoch) {
            return Ok(());
        }
        let info = EvalInfo {
            epoch: ctx.record.epoch - 1,
            seed: self.seed,
            batch_size: self.batch_size,
        };
        let metrics = self.eval.evaluate(ctx.model, &info)?;
        ctx.record.metrics.extend(metrics);
        Ok(())
    }
}
