//! Deep supervision: a loss on every gate's classifier.

use crate::net::AttentionNet;
use fanaroff_nn::{Module, Pass, Reduction, cross_entropy};
use fanaroff_train::{
    Batch, Result, StepContext, StepOutput, TrainStep, check_logits, classifier_output,
};

/// The training step of the `DeepSupervision` and `FineTuned` aggregations
/// (first stage): the mean over gates of each gate classifier's
/// cross-entropy. For `Concat` it is the ordinary cross-entropy of the one
/// classifier. Metrics: `loss` and `acc` (of the aggregated prediction).
#[derive(Debug, Clone, Copy, Default)]
pub struct DeepSupervisionStep;

/// The step works on an [`AttentionNet`] behind any handle (`Box<dyn
/// Module>` too); another model is an error.
impl<M: Module + ?Sized> TrainStep<M> for DeepSupervisionStep {
    fn step(&mut self, batch: &Batch, ctx: &mut StepContext<'_, M>) -> Result<StepOutput> {
        let net = ctx
            .model
            .as_any()
            .and_then(|a| a.downcast_ref::<AttentionNet>())
            .ok_or_else(|| {
                fanaroff_core::input::<fanaroff_train::Error>(
                    "DeepSupervisionStep",
                    "the model is not an AttentionNet",
                )
            })?;
        let out = net.forward_all(&batch.inputs, &mut Pass::new(&mut *ctx.rng))?;
        check_logits(&out.logits, &batch.labels)?;
        let heads = if out.head_logits.is_empty() {
            vec![out.logits.clone()]
        } else {
            out.head_logits
        };
        let mut loss = cross_entropy(&heads[0], &batch.labels, Reduction::Mean)?;
        for h in &heads[1..] {
            loss = loss.add(&cross_entropy(h, &batch.labels, Reduction::Mean)?)?;
        }
        let loss = loss.mul_scalar(1.0 / heads.len() as f32);
        classifier_output(loss, &out.logits, &batch.labels)
    }
    fn describe(&self) -> serde_json::Value {
        serde_json::json!({"step": "deep_supervision"})
    }
}
