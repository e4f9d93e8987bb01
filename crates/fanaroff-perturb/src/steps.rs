//! Defences as training steps: MMD domain adaptation and adversarial
//! training, each wrapping the model's own step (cross-entropy, ELBO ...).

use crate::attack::Attack;
use crate::classifier::ModuleClassifier;
use crate::mmd::Mmd;
use fanaroff_nn::{Module, Pass, Sequential};
use fanaroff_tensor::Tensor;
use fanaroff_train::{Batch, Metric, StepContext, StepOutput, TrainStep};
use ndarray::Ix4;
use rand::RngCore;

fn train_err(what: &'static str, e: impl std::fmt::Display) -> fanaroff_train::Error {
    fanaroff_core::input(what, e.to_string())
}

/// Latent features `[N, D]` of a sequential model: the output of its
/// layers before index `end` (e.g. `len - 1`: the penultimate layer),
/// flattened.
///
/// # Errors
/// Model failures.
pub fn latent(
    model: &Sequential,
    x: &Tensor,
    end: usize,
    rng: &mut dyn RngCore,
) -> fanaroff_nn::Result<Tensor> {
    let h = model.forward_until(x, end, &mut Pass::new(rng))?;
    Ok(if h.ndim() > 2 { h.flatten(1)? } else { h })
}

/// Domain adaptation: the inner step's loss on the labelled source batch
/// plus `lambda * MMD^2` between the latent features (layers before `end`)
/// of the source batch and of the unlabelled target batch
/// ([`Batch::target`], from a [`TwoStream`](fanaroff_train::TwoStream)
/// loader). Adds the metric `mmd2`.
pub struct MmdStep<S> {
    inner: S,
    mmd: Mmd,
    lambda: f64,
    end: usize,
}

impl<S> MmdStep<S> {
    /// Wraps `inner` with weight `lambda` (the paper: 0.01) on the MMD of
    /// the features before layer `end`.
    pub fn new(inner: S, mmd: Mmd, lambda: f64, end: usize) -> Self {
        MmdStep {
            inner,
            mmd,
            lambda,
            end,
        }
    }
}

/// Works on a [`Sequential`] behind any handle (`Box<dyn Module>` too);
/// another model is an error, since its features are not layer outputs.
impl<M: Module + ?Sized, S: TrainStep<M>> TrainStep<M> for MmdStep<S> {
    fn step(
        &mut self,
        batch: &Batch,
        ctx: &mut StepContext<'_, M>,
    ) -> fanaroff_train::Result<StepOutput> {
        let target = batch.target.as_ref().ok_or_else(|| {
            train_err("MmdStep", "no target batch: train with a TwoStream loader")
        })?;
        let source = Batch {
            target: None,
            ..batch.clone()
        };
        let mut out = self.inner.step(&source, ctx)?;
        let seq = ctx
            .model
            .as_any()
            .and_then(|a| a.downcast_ref::<Sequential>())
            .ok_or_else(|| train_err("MmdStep", "the model is not a Sequential"))?;
        let fs =
            latent(seq, &batch.inputs, self.end, ctx.rng).map_err(|e| train_err("MmdStep", e))?;
        let ft = latent(seq, target, self.end, ctx.rng).map_err(|e| train_err("MmdStep", e))?;
        let m = self
            .mmd
            .mmd2(&fs, &ft)
            .map_err(|e| train_err("MmdStep", e))?;
        out.metrics
            .push(Metric::new("mmd2", f64::from(m.item()?), 1.0));
        out.loss = out.loss.add(&m.mul_scalar(self.lambda as f32))?;
        Ok(out)
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "step": "mmd", "inner": self.inner.describe(), "lambda": self.lambda,
            "sigmas": self.mmd.sigmas(), "end": self.end,
        })
    }
}

/// Adversarial training: each batch is doubled with examples of an
/// [`Attack`] (PGD for Madry et al. 2018, FGSM, one pixel) made against the
/// current model, then passed to the inner step. Works for any model; the
/// attack's passes run the model in its training mode.
pub struct AdversarialStep<S> {
    inner: S,
    attack: Box<dyn Attack>,
    stochastic: bool,
}

impl<S> AdversarialStep<S> {
    /// Wraps `inner`; `stochastic` says whether the model's outputs vary by
    /// weight draw (the attack's EOT setting then applies).
    pub fn new(inner: S, attack: impl Attack + 'static, stochastic: bool) -> Self {
        AdversarialStep {
            inner,
            attack: Box::new(attack),
            stochastic,
        }
    }
}

impl<M: Module + ?Sized, S: TrainStep<M>> TrainStep<M> for AdversarialStep<S> {
    fn step(
        &mut self,
        batch: &Batch,
        ctx: &mut StepContext<'_, M>,
    ) -> fanaroff_train::Result<StepOutput> {
        let x = batch
            .inputs
            .data()
            .clone()
            .into_dimensionality::<Ix4>()
            .map_err(|e| train_err("AdversarialStep", e))?;
        let cls = ModuleClassifier::new(ctx.model, self.stochastic);
        let adv = self
            .attack
            .attack_batch(&cls, x.view(), &batch.labels, ctx.rng.next_u64())
            .map_err(|e| train_err("AdversarialStep", e))?;
        let inputs = Tensor::concat(&[batch.inputs.clone(), Tensor::new(adv.into_dyn())], 0)?;
        let mut labels = batch.labels.clone();
        labels.extend_from_slice(&batch.labels);
        let mut indices = batch.indices.clone();
        indices.extend_from_slice(&batch.indices);
        let doubled = Batch {
            inputs,
            labels,
            indices,
            target: None,
        };
        self.inner.step(&doubled, ctx)
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({ "step": "adversarial", "inner": self.inner.describe(), "attack": format!("{:?}", self.attack) })
    }
}

/// Euclidean distance between the latent features (layers before `end`)
/// of each clean image and its perturbed copy, with the same weight draw.
///
/// # Errors
/// Shapes that differ; model failures.
pub fn latent_distance(
    model: &Sequential,
    end: usize,
    clean: &Tensor,
    perturbed: &Tensor,
    seed: u64,
) -> crate::Result<Vec<f64>> {
    use rand::SeedableRng;
    if clean.shape() != perturbed.shape() {
        return Err(crate::error::input(
            "latent_distance",
            format!("{:?} vs {:?}", clean.shape(), perturbed.shape()),
        ));
    }
    let f = |x: &Tensor| {
        fanaroff_tensor::no_grad(|| {
            latent(model, x, end, &mut rand::rngs::StdRng::seed_from_u64(seed))
        })
    };
    let (a, b) = (f(clean)?, f(perturbed)?);
    let d = a.data() - b.data();
    Ok(d.outer_iter()
        .map(|r| f64::from(r.iter().map(|v| v * v).sum::<f32>()).sqrt())
        .collect())
}
