//! The loss the attention study's own code trains with.
//!
//! Bowles et al.'s network ends in a softmax, and their training script
//! applies PyTorch's `CrossEntropyLoss` to those probabilities, which
//! applies a second softmax: the loss is `-ln softmax(softmax(z))_y`. For two
//! classes that bounds the loss between `ln(1 + e^-1) = 0.313` and
//! `ln(1 + e) = 1.313`. Its gradient with respect to the probabilities
//! never vanishes, even for a confident correct prediction (about ±0.27
//! there), but with respect to the logits it passes the first softmax,
//! so it does vanish where that softmax saturates (logits far apart, as
//! in a range- or sigmoid-gated net at initialisation): a different
//! objective from the ordinary cross-entropy. This step reproduces it so the difference can be measured.

use fanaroff_nn::{Module, ModuleExt, Reduction, cross_entropy};
use fanaroff_train::{
    Batch, Result, StepContext, StepOutput, TrainStep, check_logits, classifier_output,
};

/// Cross-entropy of the softmax probabilities (the reference code's
/// "double softmax" loss), averaged over the batch. Metrics: `loss` and
/// `acc`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProbabilityCrossEntropyStep;

impl<M: Module + ?Sized> TrainStep<M> for ProbabilityCrossEntropyStep {
    fn step(&mut self, batch: &Batch, ctx: &mut StepContext<'_, M>) -> Result<StepOutput> {
        let logits = ctx.model.forward_rng(&batch.inputs, &mut *ctx.rng)?;
        check_logits(&logits, &batch.labels)?;
        let probs = logits.softmax(1)?;
        let loss = cross_entropy(&probs, &batch.labels, Reduction::Mean)?;
        classifier_output(loss, &logits, &batch.labels)
    }
    fn describe(&self) -> serde_json::Value {
        serde_json::json!({"step": "probability_cross_entropy"})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fanaroff_nn::Sequential;
    use fanaroff_tensor::Tensor;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// The loss of fixed logits (an empty model passes the input through).
    fn loss_of(logits: Vec<f32>, labels: Vec<usize>) -> f32 {
        let n = labels.len();
        let batch = Batch {
            inputs: Tensor::from_vec(logits, &[n, 2]).unwrap(),
            labels,
            indices: (0..n).collect(),
            target: None,
        };
        let model = Sequential::new();
        let mut rng = StdRng::seed_from_u64(0);
        let mut ctx = StepContext {
            model: &model,
            rng: &mut rng,
            epoch: 0,
            step: 0,
            steps_per_epoch: 1,
        };
        let out = ProbabilityCrossEntropyStep.step(&batch, &mut ctx).unwrap();
        out.loss.item().unwrap()
    }

    #[test]
    fn known_values_and_bounds() {
        // equal logits: p = (1/2, 1/2), softmax again (1/2, 1/2): ln 2
        assert!((loss_of(vec![0.0, 0.0], vec![0]) - std::f32::consts::LN_2).abs() < 1e-6);
        // certain and right: p = (1, 0), loss ln(1 + 1/e)
        let right = loss_of(vec![50.0, -50.0], vec![0]);
        assert!(
            (right - (1.0 + (-1.0f32).exp()).ln()).abs() < 1e-5,
            "{right}"
        );
        // certain and wrong: ln(1 + e)
        let wrong = loss_of(vec![50.0, -50.0], vec![1]);
        assert!((wrong - (1.0 + 1.0f32.exp()).ln()).abs() < 1e-5, "{wrong}");
        // the batch mean of the two
        let both = loss_of(vec![50.0, -50.0, 50.0, -50.0], vec![0, 1]);
        assert!((both - (right + wrong) / 2.0).abs() < 1e-5);
    }
}
