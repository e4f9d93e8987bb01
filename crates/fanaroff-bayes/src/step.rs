//! The ELBO as a training step of the generic loop.

use crate::objective::Elbo;
use fanaroff_nn::Module;
use fanaroff_nn::Pass;
use fanaroff_train::{Batch, Metric, StepContext, StepOutput, TrainStep, check_logits};

/// One minibatch of variational inference: a forward pass that collects the
/// KL of every variational layer of the model, then the [`Elbo`] loss for
/// minibatch `i` of `M`. Metrics: `loss` and `nll` per example, `kl` (the
/// unweighted `ln q - ln p` of the draw) per minibatch, `acc` of the draw.
///
/// # Example
/// ```
/// use fanaroff_bayes::{BayesLinear, Elbo, ElboStep, VariationalConfig};
/// use fanaroff_nn::LinearConfig;
/// use fanaroff_train::{ArrayLoader, TrainConfig, Trainer};
/// use ndarray::{ArrayD, IxDyn};
/// use rand::{SeedableRng, rngs::StdRng};
/// let x = ArrayD::from_shape_fn(IxDyn(&[40, 2]), |i| if (i[0] % 2 == 0) == (i[1] == 0) { 1.0f32 } else { -1.0 });
/// let y: Vec<usize> = (0..40).map(|i| i % 2).collect();
/// let data = ArrayLoader::new(x, y, 2)?;
/// let mut net = BayesLinear::new(LinearConfig::new(2, 2), &VariationalConfig::default(), &mut StdRng::seed_from_u64(0))?;
/// let cfg = TrainConfig::default().epochs(30).batch_size(10).adam(0.05).progress(false).log_epochs(false);
/// let hist = Trainer::new(cfg)?.step(ElboStep::new(Elbo::default())?).fit(&mut net, &data)?;
/// let last = hist.records.last().unwrap();
/// assert!(last.get("acc").unwrap() > 0.9 && last.get("kl").unwrap() > 0.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ElboStep {
    /// The objective.
    pub elbo: Elbo,
}

impl ElboStep {
    /// A step with a checked objective.
    ///
    /// # Errors
    /// As [`Elbo::check`].
    pub fn new(elbo: Elbo) -> crate::Result<Self> {
        Ok(ElboStep {
            elbo: elbo.check()?,
        })
    }
}

impl<M: Module + ?Sized> TrainStep<M> for ElboStep {
    fn step(
        &mut self,
        batch: &Batch,
        ctx: &mut StepContext<'_, M>,
    ) -> fanaroff_train::Result<StepOutput> {
        let mut pass = Pass::new(&mut *ctx.rng).collecting_kl();
        let logits = ctx.model.forward(&batch.inputs, &mut pass)?;
        let kl = pass.kl();
        check_logits(&logits, &batch.labels)?;
        let out = self
            .elbo
            .loss(&logits, &batch.labels, &kl, ctx.step, ctx.steps_per_epoch)?;
        let n = batch.labels.len() as f64;
        let loss_value = out.loss.item()? as f64;
        let metrics = vec![
            Metric::new("loss", loss_value, n),
            Metric::new("nll", out.nll, n),
            Metric::new("kl", out.kl, 1.0),
            Metric::new("acc", out.correct as f64, n),
        ];
        Ok(StepOutput {
            loss: out.loss,
            metrics,
        })
    }
    fn describe(&self) -> serde_json::Value {
        serde_json::json!({ "step": "elbo", "elbo": self.elbo })
    }
}
