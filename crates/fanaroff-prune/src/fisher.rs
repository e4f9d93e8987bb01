//! Diagonal Fisher information as a pruning criterion, from Adam's second
//! moment or from squared gradients over a pass of the training data.

use crate::criterion::Criterion;
use crate::error::{Error, Result, config, input};
use fanaroff_nn::{
    Adam, Module, ModuleExt, Optimizer, Reduction, TensorFile, WeightView, cross_entropy,
};
use fanaroff_tensor::Tensor;
use fanaroff_train::{Loader, mix_seed};
use ndarray::ArrayD;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// The diagonal of the Fisher information of each weight, keyed by
/// parameter name (`fc1.weight_mu`); the score of a weight is its entry.
///
/// Two estimates, which differ in what is squared and where:
///
/// * [`Fisher::from_adam`] / [`Fisher::from_checkpoint`]: Adam's second
///   moment `v`, an exponential moving average (horizon about
///   `1 / (1 - beta2)` = 1000 steps) of squared **minibatch** gradients of the
///   **training loss** (for BBB the ELBO: likelihood plus the KL's pull
///   toward the prior), collected **along the trajectory** while the
///   weights still moved. Free: it is already in the optimiser state
///   (Mohan et al. 2022 use it).
/// * [`Fisher::from_gradients`]: squared gradients of the **likelihood
///   alone** (summed cross-entropy) at the **final** weights, averaged over
///   one pass of the data and over weight draws. With `batch_size = 1` this
///   is the empirical Fisher `mean_n g_n^2`; a larger batch squares sums of
///   per-example gradients (cross terms included), faster but biased.
///
/// The score is the Fisher entry `F` itself (the paper's criterion), or with
/// [`Fisher::saliency`] the optimal-brain-damage estimate `F mu^2 / 2` of
/// the loss increase when the weight is set to zero, which also weighs how
/// far the weight is from zero.
#[derive(Debug, Clone)]
pub struct Fisher {
    label: &'static str,
    values: BTreeMap<String, ArrayD<f32>>,
    saliency: bool,
}

impl Fisher {
    /// From Adam's running average of squared gradients.
    pub fn from_adam(adam: &Adam) -> Self {
        Self::from_optimizer_state(&adam.state())
    }

    /// From optimiser state entries `adam.v.<param>` (as
    /// [`Optimizer::state`] writes them); other entries are ignored.
    pub fn from_optimizer_state(state: &[(String, ArrayD<f32>)]) -> Self {
        let values = state
            .iter()
            .filter_map(|(k, a)| Some((strip_v(k)?.to_string(), a.clone())))
            .collect();
        Fisher {
            label: "fisher-adam",
            values,
            saliency: false,
        }
    }

    /// From a training checkpoint of `fanaroff-train`: a `ckpt-NNNNN.safetensors`
    /// file, or a checkpoint folder (the file its `state.json` names).
    /// Reads the entries `optim.adam.v.<param>`.
    ///
    /// # Errors
    /// I/O and format errors;
    /// [`InvalidInput`](fanaroff_core::Error::InvalidInput) when the checkpoint
    /// holds no Adam state.
    pub fn from_checkpoint(path: impl AsRef<Path>) -> Result<Self> {
        let file = checkpoint_file(path.as_ref())?;
        let tf = TensorFile::read(&file)?;
        let mut values = BTreeMap::new();
        for name in tf.names() {
            if let Some(p) = name.strip_prefix("optim.").and_then(strip_v) {
                values.insert(p.to_string(), tf.f32(name)?);
            }
        }
        if values.is_empty() {
            return Err(input(
                "Fisher::from_checkpoint",
                format!(
                    "{} holds no Adam second moments (optim.adam.v.*)",
                    file.display()
                ),
            ));
        }
        Ok(Fisher {
            label: "fisher-adam",
            values,
            saliency: false,
        })
    }

    /// Scores `F mu^2 / 2` (optimal brain damage: the second-order loss
    /// increase of zeroing the weight) instead of `F`; the name gets `-obd`.
    pub fn saliency(mut self) -> Self {
        self.saliency = true;
        self
    }

    /// The estimate of one parameter.
    pub fn get(&self, param: &str) -> Option<&ArrayD<f32>> {
        self.values.get(param)
    }

    /// Names of the parameters with an estimate.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }
}

fn strip_v(k: &str) -> Option<&str> {
    k.strip_prefix("adam.v.")
}

fn checkpoint_file(path: &Path) -> Result<std::path::PathBuf> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let state = path.join("state.json");
    let text = std::fs::read_to_string(&state).map_err(fanaroff_core::io(&state))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        input::<Error>(
            "Fisher::from_checkpoint",
            format!("{}: {e}", state.display()),
        )
    })?;
    match v.get("checkpoint").and_then(|c| c.as_str()) {
        Some(name) if !name.is_empty() => Ok(path.join(name)),
        _ => Err(input(
            "Fisher::from_checkpoint",
            format!("{} names no checkpoint file", state.display()),
        )),
    }
}

impl Criterion for Fisher {
    fn name(&self) -> String {
        if self.saliency {
            format!("{}-obd", self.label)
        } else {
            self.label.into()
        }
    }
    fn scores(&mut self, layer: &str, w: &WeightView<'_>) -> Result<ArrayD<f32>> {
        let Some(f) = self.values.get(&w.param) else {
            return Err(input(
                "Fisher",
                format!(
                    "no Fisher estimate for {} (layer {layer}); the estimate has {} parameters",
                    w.param,
                    self.values.len()
                ),
            ));
        };
        if f.shape() != w.mean.shape() {
            return Err(input(
                "Fisher",
                format!(
                    "estimate for {} has shape {:?}, weight {:?}",
                    w.param,
                    f.shape(),
                    w.mean.shape()
                ),
            ));
        }
        if self.saliency {
            Ok(ndarray::Zip::from(f)
                .and(w.mean)
                .map_collect(|&f, &m| 0.5 * f * m * m))
        } else {
            Ok(f.clone())
        }
    }
}

/// Settings of the gradient pass of [`Fisher::from_gradients`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FisherPass {
    /// Examples per backward pass; 1 gives the empirical Fisher.
    pub batch_size: usize,
    /// Weight draws per batch for stochastic models (averaged).
    pub draws: usize,
    /// Seed of the weight noise.
    pub seed: u64,
}

impl Default for FisherPass {
    fn default() -> Self {
        FisherPass {
            batch_size: 1,
            draws: 1,
            seed: 0,
        }
    }
}

/// Batches processed by one parallel task (fixed, so sums do not depend on
/// the thread count).
const BATCHES_PER_TASK: usize = 8;

impl Fisher {
    /// Squared gradients of the summed cross-entropy with respect to every
    /// maskable weight (or its mean), averaged over every example of
    /// `loader` (no augmentation) and over `pass.draws` weight draws. The
    /// model is used as it is (set evaluation mode for dropout yourself).
    /// Deterministic by seed whatever the thread count.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for a zero batch
    /// size or draw count; model and loader errors.
    pub fn from_gradients<M: Module + ?Sized>(
        model: &M,
        loader: &dyn Loader,
        pass: &FisherPass,
    ) -> Result<Self> {
        if pass.batch_size == 0 || pass.draws == 0 {
            return Err(config(
                "FisherPass",
                "batch_size and draws must be at least 1",
            ));
        }
        let targets = weight_params(model);
        if targets.is_empty() {
            return Err(input(
                "Fisher::from_gradients",
                "the model has no maskable weights",
            ));
        }
        let starts: Vec<usize> = (0..loader.len()).step_by(pass.batch_size).collect();
        let partial: Vec<Result<Vec<ArrayD<f32>>>> = starts
            .par_chunks(BATCHES_PER_TASK)
            .map(|chunk| {
                let mut acc = zeros_like(&targets);
                for &s in chunk {
                    let idx: Vec<usize> = (s..(s + pass.batch_size).min(loader.len())).collect();
                    add_batch(model, loader, &idx, pass, &targets, &mut acc)?;
                }
                Ok(acc)
            })
            .collect();
        let mut total = zeros_like(&targets);
        for p in partial {
            for (t, a) in total.iter_mut().zip(p?) {
                *t += &a;
            }
        }
        let n = (loader.len() * pass.draws) as f32;
        let values = targets
            .into_iter()
            .zip(total)
            .map(|((name, _), a)| (name, a / n))
            .collect();
        Ok(Fisher {
            label: "fisher-grad",
            values,
            saliency: false,
        })
    }
}

/// The parameters behind the model's maskable weights, with their tensors.
fn weight_params<M: Module + ?Sized>(model: &M) -> Vec<(String, Tensor)> {
    let mut names = Vec::new();
    model.visit_weights("", &mut |_, w| names.push(w.param.clone()));
    model
        .named_parameters()
        .into_iter()
        .filter(|(n, _)| names.contains(n))
        .collect()
}

fn zeros_like(targets: &[(String, Tensor)]) -> Vec<ArrayD<f32>> {
    targets
        .iter()
        .map(|(_, t)| ArrayD::zeros(t.data().raw_dim()))
        .collect()
}

fn add_batch<M: Module + ?Sized>(
    model: &M,
    loader: &dyn Loader,
    idx: &[usize],
    pass: &FisherPass,
    targets: &[(String, Tensor)],
    acc: &mut [ArrayD<f32>],
) -> Result<()> {
    let batch = loader.batch(idx, 0, false)?;
    for d in 0..pass.draws {
        let mut rng = StdRng::seed_from_u64(mix_seed(mix_seed(pass.seed, idx[0] as u64), d as u64));
        let logits = model.forward_rng(&batch.inputs, &mut rng)?;
        fanaroff_train::check_logits(&logits, &batch.labels)?;
        let grads = cross_entropy(&logits, &batch.labels, Reduction::Sum)?.backward()?;
        for ((name, t), a) in targets.iter().zip(acc.iter_mut()) {
            if let Some(g) = grads.get(t) {
                if g.iter().any(|v| !v.is_finite()) {
                    return Err(input(
                        "Fisher::from_gradients",
                        format!("gradient of {name} is not finite"),
                    ));
                }
                ndarray::Zip::from(a).and(g).for_each(|a, &g| *a += g * g);
            }
        }
    }
    Ok(())
}
