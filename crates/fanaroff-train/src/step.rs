//! The training-step trait: a batch in, a loss and named metrics out.

use crate::error::{Result, input};
use crate::loader::Batch;
use fanaroff_nn::{Module, ModuleExt, Reduction, cross_entropy};
use fanaroff_tensor::Tensor;
use rand::rngs::StdRng;

/// What a training step sees besides the batch.
pub struct StepContext<'a, M: ?Sized> {
    /// The model (forward passes take `&self`).
    pub model: &'a M,
    /// The epoch's RNG (weight noise, dropout, attack starts ...).
    pub rng: &'a mut StdRng,
    /// Epoch, 0-based.
    pub epoch: usize,
    /// Minibatch index in the epoch, 0-based.
    pub step: usize,
    /// Minibatches per epoch.
    pub steps_per_epoch: usize,
}

/// A named value accumulated over an epoch as `sum / count`: a per-example
/// mean when `count` is the batch size, a per-batch mean when it is 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// Name in the history (`loss`, `nll`, `acc` ...).
    pub name: String,
    /// Contribution of this batch.
    pub sum: f64,
    /// Weight of this batch.
    pub count: f64,
}

impl Metric {
    /// A metric contribution.
    pub fn new(name: &str, sum: f64, count: f64) -> Self {
        Metric {
            name: name.to_string(),
            sum,
            count,
        }
    }
}

/// The outcome of one training step.
#[derive(Debug, Clone)]
pub struct StepOutput {
    /// The differentiable loss the optimiser minimises.
    pub loss: Tensor,
    /// Named metrics of the batch (include `loss` to see it in the history).
    pub metrics: Vec<Metric>,
}

/// One minibatch of training: a batch and a context in, a loss tensor and
/// named metrics out. The loop does the rest (backward pass, optimiser,
/// masks, callbacks). Cross-entropy ([`CrossEntropyStep`]), the ELBO
/// (`fanaroff-bayes`), adversarial and MMD steps implement it.
pub trait TrainStep<M: ?Sized>: Send {
    /// Computes the loss of one batch.
    ///
    /// # Errors
    /// Model and shape errors; invalid batches.
    fn step(&mut self, batch: &Batch, ctx: &mut StepContext<'_, M>) -> Result<StepOutput>;

    /// The step's settings, stored in checkpoints so that a resumed run with
    /// other settings is refused. `Null` by default.
    fn describe(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

/// A boxed step is a step, so code that picks the step at run time (from a
/// file, say) can hand it to [`Trainer::step`](crate::Trainer::step).
impl<M: ?Sized, S: TrainStep<M> + ?Sized> TrainStep<M> for Box<S> {
    fn step(&mut self, batch: &Batch, ctx: &mut StepContext<'_, M>) -> Result<StepOutput> {
        (**self).step(batch, ctx)
    }

    fn describe(&self) -> serde_json::Value {
        (**self).describe()
    }
}

/// Number of rows of `logits [N, K]` whose argmax is the label.
pub fn correct(logits: &Tensor, labels: &[usize]) -> usize {
    let d = logits.data();
    d.outer_iter()
        .zip(labels)
        .filter(|(row, y)| {
            let mut best = 0;
            for (j, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = j;
                }
            }
            best == **y
        })
        .count()
}

/// The output of a classifier's step: its batch-mean `loss` and the metrics
/// `loss` (per example) and `acc` (argmax of `logits` against `labels`).
///
/// # Errors
/// When `loss` is not a scalar.
pub fn classifier_output(loss: Tensor, logits: &Tensor, labels: &[usize]) -> Result<StepOutput> {
    let n = labels.len() as f64;
    let metrics = vec![
        Metric::new("loss", loss.item()? as f64 * n, n),
        Metric::new("acc", correct(logits, labels) as f64, n),
    ];
    Ok(StepOutput { loss, metrics })
}

/// Checks that logits are `[N, K]` with `N` = number of labels, every label
/// `< K`, and every value finite.
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) naming the problem.
pub fn check_logits(logits: &Tensor, labels: &[usize]) -> Result<()> {
    if labels.is_empty() || logits.ndim() != 2 || logits.shape()[0] != labels.len() {
        return Err(input(
            "training step",
            format!(
                "model output {:?} does not fit {} labels (need [N, K], N > 0)",
                logits.shape(),
                labels.len()
            ),
        ));
    }
    let k = logits.shape()[1];
    if let Some(&bad) = labels.iter().find(|&&y| y >= k) {
        return Err(input(
            "training step",
            format!("label {bad} out of range for {k} model outputs"),
        ));
    }
    Ok(())
}

/// Mean cross-entropy of the logits: the ordinary classifier's step.
/// Metrics: `loss` (per example) and `acc`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CrossEntropyStep;

impl<M: Module + ?Sized> TrainStep<M> for CrossEntropyStep {
    fn step(&mut self, batch: &Batch, ctx: &mut StepContext<'_, M>) -> Result<StepOutput> {
        let logits = ctx.model.forward_rng(&batch.inputs, &mut *ctx.rng)?;
        check_logits(&logits, &batch.labels)?;
        let loss = cross_entropy(&logits, &batch.labels, Reduction::Mean)?;
        classifier_output(loss, &logits, &batch.labels)
    }
    fn describe(&self) -> serde_json::Value {
        serde_json::json!({"step": "cross_entropy"})
    }
}

/// Checks that probabilities `[N, K]` fit the labels (every label `< K`).
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) naming the label.
pub(crate) fn check_probs(p: ndarray::ArrayView2<'_, f32>, labels: &[usize]) -> Result<()> {
    let k = p.ncols();
    if p.nrows() != labels.len() {
        return Err(input(
            "validation",
            format!("{} predictions for {} labels", p.nrows(), labels.len()),
        ));
    }
    if let Some(&bad) = labels.iter().find(|&&y| y >= k) {
        return Err(input(
            "validation",
            format!("label {bad} out of range for {k} classes"),
        ));
    }
    Ok(())
}
