//! Heteroscedastic regression with uncertainty: a network with two
//! outputs per example, the mean `mu` and `s`, whose variance is
//! `softplus(s) + 1e-6`, trained on the Gaussian negative log-likelihood
//! (plus the KL of variational layers, as in the ELBO). Any layers work:
//! plain (aleatoric only), MC dropout and Bayes by backprop (aleatoric and
//! epistemic). Monte Carlo prediction splits the predictive variance into
//! the mean of the predicted variances (aleatoric) and the variance of the
//! predicted means over draws (epistemic).

use crate::error::Result;
use fanaroff_core::{config, input};
use fanaroff_nn::{Module, Pass};
use fanaroff_tensor::{NoGradGuard, Tensor};
use fanaroff_train::{Batch, Metric, StepContext, StepOutput, TrainStep, mix_seed};
use ndarray::{Array1, ArrayViewD, Axis, Ix2};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::sync::Arc;

const VAR_FLOOR: f32 = 1e-6;

/// One minibatch of heteroscedastic regression. The loaders of the
/// training loop carry class labels, so the step holds the real-valued
/// targets itself, by position in the training set (`Batch::indices`).
/// Loss: the summed Gaussian NLL of the batch plus `T / M` times the KL of
/// the draw (M minibatches per epoch; no KL without variational layers).
/// Metrics: `loss`, `nll` and `mse` per example, `kl` per minibatch.
#[derive(Debug, Clone)]
pub struct HeteroscedasticStep {
    targets: Arc<[f32]>,
    temperature: f64,
}

impl HeteroscedasticStep {
    /// A step for the training set's `targets`, with KL weight
    /// `temperature` (1: the ELBO).
    ///
    /// # Errors
    /// No or non-finite targets; a temperature that is negative or not finite.
    pub fn new(targets: Vec<f32>, temperature: f64) -> Result<Self> {
        if targets.is_empty() || targets.iter().any(|t| !t.is_finite()) {
            return Err(input(
                "HeteroscedasticStep",
                "targets must be non-empty and finite",
            ));
        }
        if !(temperature.is_finite() && temperature >= 0.0) {
            return Err(config(
                "HeteroscedasticStep",
                format!("temperature {temperature}; must be >= 0"),
            ));
        }
        Ok(HeteroscedasticStep {
            targets: targets.into(),
            temperature,
        })
    }

    fn batch_targets(&self, batch: &Batch) -> fanaroff_train::Result<Tensor> {
        let mut y = Vec::with_capacity(batch.indices.len());
        for &i in &batch.indices {
            let t = self.targets.get(i).ok_or_else(|| {
                input::<fanaroff_train::Error>(
                    "HeteroscedasticStep",
                    format!("example {i}; {} targets", self.targets.len()),
                )
            })?;
            y.push(*t);
        }
        Ok(Tensor::from_vec(y, &[batch.indices.len(), 1])?)
    }
}

/// The mean `[N, 1]` and variance `[N, 1]` of outputs `[N, 2]`.
///
/// # Errors
/// Outputs that are not `[N, 2]`.
pub fn mean_and_variance(out: &Tensor) -> fanaroff_nn::Result<(Tensor, Tensor)> {
    if out.ndim() != 2 || out.shape()[1] != 2 {
        return Err(input(
            "heteroscedastic head",
            format!("outputs {:?}; need [N, 2] (mean, variance)", out.shape()),
        ));
    }
    let var = out.slice(1, 1, 2)?.softplus().add_scalar(VAR_FLOOR);
    Ok((out.slice(1, 0, 1)?, var))
}

impl<M: Module + ?Sized> TrainStep<M> for HeteroscedasticStep {
    fn step(
        &mut self,
        batch: &Batch,
        ctx: &mut StepContext<'_, M>,
    ) -> fanaroff_train::Result<StepOutput> {
        let mut pass = Pass::new(&mut *ctx.rng).collecting_kl();
        let out = ctx.model.forward(&batch.inputs, &mut pass)?;
        let kl = pass.kl();
        let (mu, var) = mean_and_variance(&out)?;
        let y = self.batch_targets(batch)?;
        let sq = y.sub(&mu)?.square();
        let nll = var.log().add(&sq.div(&var)?)?.sum().mul_scalar(0.5);
        let w = self.temperature / ctx.steps_per_epoch.max(1) as f64;
        let loss = nll.add(&kl.weighted(w, w)?)?;
        let n = batch.indices.len() as f64;
        let metrics = vec![
            Metric::new("loss", loss.item()? as f64, n),
            Metric::new("nll", nll.item()? as f64, n),
            Metric::new("mse", sq.sum().item()? as f64, n),
            Metric::new("kl", kl.weighted(1.0, 1.0)?.item()? as f64, 1.0),
        ];
        Ok(StepOutput { loss, metrics })
    }
    fn describe(&self) -> serde_json::Value {
        serde_json::json!({ "step": "heteroscedastic", "temperature": self.temperature })
    }
}

/// Monte Carlo predictions of a heteroscedastic network: per example the
/// predictive mean and the two parts of its variance.
#[derive(Debug, Clone, PartialEq)]
pub struct RegressionPrediction {
    /// Mean of the predicted means over draws.
    pub mean: Array1<f64>,
    /// Mean of the predicted variances (the noise the model sees in the data).
    pub aleatoric: Array1<f64>,
    /// Variance of the predicted means over draws (the model's own doubt).
    pub epistemic: Array1<f64>,
}

impl RegressionPrediction {
    /// aleatoric + epistemic.
    pub fn total(&self) -> Array1<f64> {
        &self.aleatoric + &self.epistemic
    }

    /// The fraction of `targets` inside mean +- z sd of the total variance
    /// (z = 1: the 68 % interval of a Gaussian, z = 1.96: the 95 %).
    ///
    /// # Errors
    /// A target count other than the prediction's.
    pub fn coverage(&self, targets: &[f64], z: f64) -> Result<f64> {
        if targets.len() != self.mean.len() || targets.is_empty() {
            return Err(input(
                "coverage",
                format!(
                    "{} targets for {} predictions",
                    targets.len(),
                    self.mean.len()
                ),
            ));
        }
        let sd = self.total().mapv(f64::sqrt);
        let inside = targets
            .iter()
            .enumerate()
            .filter(|(i, t)| (*t - self.mean[*i]).abs() <= z * sd[*i])
            .count();
        Ok(inside as f64 / targets.len() as f64)
    }
}

/// `samples` draws of a heteroscedastic network on `x` (`[N, ...]`) in
/// batches, without gradients: draw `s` takes its weights from
/// `mix(seed, s)` and its per-example noise (dropout) from
/// `mix(mix(seed, s), b + 1)` in batch `b`, as `predict_samples` does.
///
/// # Errors
/// Zero samples or batch size, an empty input, outputs that are not `[N, 2]`.
pub fn predict_regression<M: Module + ?Sized>(
    model: &M,
    x: ArrayViewD<'_, f32>,
    samples: usize,
    batch_size: usize,
    seed: u64,
) -> Result<RegressionPrediction> {
    if samples == 0 || batch_size == 0 {
        return Err(config(
            "predict_regression",
            "samples and batch_size must be >= 1",
        ));
    }
    let n = x.shape().first().copied().unwrap_or(0);
    if n == 0 {
        return Err(input("predict_regression", "no examples"));
    }
    let _guard = NoGradGuard::new();
    let mut mu = ndarray::Array2::<f64>::zeros((samples, n));
    let mut var = ndarray::Array2::<f64>::zeros((samples, n));
    for s in 0..samples {
        let draw_seed = mix_seed(seed, s as u64);
        for (b, start) in (0..n).step_by(batch_size).enumerate() {
            let end = (start + batch_size).min(n);
            let xb = Tensor::new(x.slice_axis(Axis(0), (start..end).into()).to_owned());
            let mut rng = StdRng::seed_from_u64(mix_seed(draw_seed, b as u64 + 1));
            // the same weights in every batch of draw s
            let mut pass = Pass::new(&mut rng).with_draw(draw_seed, true);
            let (m, v) = mean_and_variance(&model.forward(&xb, &mut pass)?)?;
            let col = |t: &Tensor| {
                t.data()
                    .view()
                    .into_dimensionality::<Ix2>()
                    .map(|a| a.column(0).mapv(f64::from))
            };
            let (m, v) = (
                col(&m).map_err(|e| input::<crate::Error>("predict_regression", e.to_string()))?,
                col(&v).map_err(|e| input::<crate::Error>("predict_regression", e.to_string()))?,
            );
            mu.slice_mut(ndarray::s![s, start..end]).assign(&m);
            var.slice_mut(ndarray::s![s, start..end]).assign(&v);
        }
    }
    let mean = mu.mean_axis(Axis(0)).expect("samples >= 1");
    Ok(RegressionPrediction {
        epistemic: mu.var_axis(Axis(0), 0.0),
        aleatoric: var.mean_axis(Axis(0)).expect("samples >= 1"),
        mean,
    })
}
