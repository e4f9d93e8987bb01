//! Monte Carlo predictive distributions, as `[S, N, K]` probability samples.

use crate::error::{Result, config, input};
use crate::loader::mix_seed;
use fanaroff_nn::{Module, Pass};
use fanaroff_tensor::{NoGradGuard, Tensor};
use ndarray::{Array2, Array3, ArrayView3, ArrayViewD, Axis, s};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;

/// Settings of [`predict_samples`].
///
/// | name | default | meaning | valid range |
/// |---|---|---|---|
/// | `samples` | 100 | Monte Carlo draws `S` | >= 1 |
/// | `batch_size` | 50 | images per forward pass | >= 1 |
/// | `seed` | 0 | seeds draw `s` as `StdRng::seed_from_u64(mix(seed, s))` | |
/// | `weight_sampling` | true | variational layers sample weights whatever their training estimator | |
/// | `draws_per_pass` | 1 | draws evaluated together in one forward pass | >= 1 |
///
/// Draw `s` takes its weight noise from `mix(seed, s)` in every batch (one
/// network from the posterior per draw) and its per-example noise (dropout,
/// local reparameterisation, Flipout signs) from `mix(mix(seed, s), b + 1)`
/// for batch `b`, so no two examples share it. With `weight_sampling` off,
/// layers trained with local reparameterisation keep sampling
/// pre-activations, an approximation that draws independent weights per
/// output position (see [`fanaroff_nn::Pass`]).
///
/// With `draws_per_pass` `G > 1` (and `weight_sampling` on; off, it is
/// ignored) each forward pass evaluates `G` draws at once: the first
/// variational layer stacks their weights as extra output channels and
/// reads the input once (see [`fanaroff_nn::Pass::with_group`]).
/// Draw `s` keeps its weight noise, so a model whose only noise is in its
/// weights gives the same samples (within float rounding) for every `G`;
/// per-example noise (dropout) then comes from the first draw of the
/// group's batch seeds. Every weight-sampling layer of the model must
/// support groups (the variational layers of `fanaroff-bayes` do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PredictConfig {
    /// Number of draws.
    pub samples: usize,
    /// Forward-pass batch size.
    pub batch_size: usize,
    /// Base seed.
    pub seed: u64,
    /// Every variational layer samples weights (the posterior itself).
    pub weight_sampling: bool,
    /// Draws per forward pass.
    pub draws_per_pass: usize,
}

impl Default for PredictConfig {
    fn default() -> Self {
        PredictConfig {
            samples: 100,
            batch_size: 50,
            seed: 0,
            weight_sampling: true,
            draws_per_pass: 1,
        }
    }
}

impl PredictConfig {
    /// `samples` draws, other settings default.
    pub fn with_samples(samples: usize) -> Self {
        PredictConfig {
            samples,
            ..Self::default()
        }
    }
    /// Sets the batch size.
    pub fn batch_size(mut self, b: usize) -> Self {
        self.batch_size = b;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Sets whether variational layers sample weights whatever their
    /// training estimator.
    pub fn weight_sampling(mut self, on: bool) -> Self {
        self.weight_sampling = on;
        self
    }
    /// Sets the number of draws evaluated in one forward pass.
    pub fn draws_per_pass(mut self, g: usize) -> Self {
        self.draws_per_pass = g;
        self
    }
    /// Validates the settings.
    ///
    /// # Errors
    /// [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for zero
    /// samples, batch size or draws per pass.
    pub fn check(self) -> Result<Self> {
        if self.samples == 0 || self.batch_size == 0 || self.draws_per_pass == 0 {
            return Err(config(
                "PredictConfig",
                "samples, batch_size and draws_per_pass must be >= 1",
            ));
        }
        Ok(self)
    }
}

/// Checks a prediction input: a non-empty `[N, ...]` batch of finite values.
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) naming the problem.
pub fn check_input(x: &ArrayViewD<'_, f32>) -> Result<()> {
    if x.ndim() < 2 || x.shape()[0] == 0 {
        return Err(input(
            "predict",
            format!("need a non-empty batch [N, ...], got {:?}", x.shape()),
        ));
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(input("predict", "input contains NaN or infinity"));
    }
    Ok(())
}

/// Softmax probabilities `[N, K]` of one draw over `x` in batches of
/// `cfg.batch_size`, without recording a graph: weight noise from `seed`
/// in every batch, per-example noise from `mix(seed, b + 1)` in batch `b`
/// (see [`PredictConfig`]).
///
/// # Errors
/// Model errors; outputs that are not `[N, K]`.
pub fn one_draw<M: Module + ?Sized>(
    model: &M,
    x: &ArrayViewD<'_, f32>,
    cfg: &PredictConfig,
    seed: u64,
) -> Result<Array2<f32>> {
    let mut one = group_draws(model, x, cfg, &[seed])?;
    one.pop().ok_or_else(|| input("predict", "empty input"))
}

/// Softmax probabilities `[N, K]` of the draws `seeds` over `x`, all of
/// them evaluated in each forward pass (one pass per batch). A model that
/// returns a single block (no layer took part in the group: no weight
/// noise, or only per-example noise such as MC dropout) has that block
/// used for the first draw and runs the others one by one.
fn group_draws<M: Module + ?Sized>(
    model: &M,
    x: &ArrayViewD<'_, f32>,
    cfg: &PredictConfig,
    seeds: &[u64],
) -> Result<Vec<Array2<f32>>> {
    let cfg = cfg.check()?;
    let _guard = NoGradGuard::new();
    let n = x.shape()[0];
    let mut out: Vec<Array2<f32>> = Vec::new();
    for (b, start) in (0..n).step_by(cfg.batch_size).enumerate() {
        let end = (start + cfg.batch_size).min(n);
        let rows = end - start;
        let xb = Tensor::new(x.slice_axis(Axis(0), (start..end).into()).to_owned());
        let p = pass(model, &xb, seeds, b, cfg.weight_sampling)?;
        if out.is_empty() {
            out = vec![Array2::zeros((n, p.ncols())); seeds.len()];
        }
        let grouped = p.nrows() == rows * seeds.len();
        for (g, o) in out.iter_mut().enumerate() {
            let mut dst = o.slice_mut(s![start..end, ..]);
            if grouped {
                dst.assign(&p.slice(s![g * rows..(g + 1) * rows, ..]));
            } else if g == 0 {
                dst.assign(&p);
            } else {
                dst.assign(&pass(model, &xb, &seeds[g..=g], b, cfg.weight_sampling)?);
            }
        }
    }
    Ok(out)
}

/// One forward pass of batch `b` under the draws `seeds`; per-example noise
/// from `mix(seeds[0], b + 1)`.
fn pass<M: Module + ?Sized>(
    model: &M,
    xb: &Tensor,
    seeds: &[u64],
    b: usize,
    weight_sampling: bool,
) -> Result<Array2<f32>> {
    let rows = xb.shape()[0];
    let mut rng = StdRng::seed_from_u64(mix_seed(seeds[0], b as u64 + 1));
    let pass = Pass::new(&mut rng);
    let mut pass = match seeds {
        [one] => pass.with_draw(*one, weight_sampling),
        many => pass.with_group(many, rows),
    };
    probabilities(&model.forward(xb, &mut pass)?, rows, seeds.len())
}

/// Softmax of logits `[rows, K]` or `[draws * rows, K]`.
fn probabilities(logits: &Tensor, rows: usize, draws: usize) -> Result<Array2<f32>> {
    let r = logits.shape().first().copied().unwrap_or(0);
    if logits.ndim() != 2 || (r != rows && r != rows * draws) {
        return Err(input(
            "predict",
            format!("model output {:?} is not [N, K]", logits.shape()),
        ));
    }
    logits
        .softmax(1)?
        .data()
        .view()
        .into_dimensionality::<ndarray::Ix2>()
        .map(|v| v.to_owned())
        .map_err(|e| input("predict", e.to_string()))
}

/// Monte Carlo predictive samples: `S` stochastic forward passes over `x`
/// (`[N, ...]`, e.g. `[N, 1, 150, 150]`), softmax of each, stacked as
/// `[S, N, K]` (the layout `fanaroff-calibrate` splits into aleatoric and
/// epistemic parts). Draws run in parallel (rayon), each with its own
/// seeded RNG and gradient recording off, so results depend on the seed
/// only, not on the number of threads. A deterministic model returns `S`
/// identical slices.
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for an empty batch,
/// NaN input or outputs that are not `[N, K]`; model errors.
///
/// # Example
/// ```
/// use fanaroff_train::{predict_samples, PredictConfig};
/// use fanaroff_nn::{Dropout, Linear, LinearConfig, Sequential};
/// use ndarray::ArrayD;
/// use rand::{SeedableRng, rngs::StdRng};
/// let mut rng = StdRng::seed_from_u64(0);
/// let fc = Sequential::new()
///     .push("drop", Dropout::new(0.5).unwrap().monte_carlo(true))
///     .push("fc", Linear::new(LinearConfig::new(3, 2), &mut rng).unwrap());
/// let x = ArrayD::<f32>::ones(ndarray::IxDyn(&[5, 3]));
/// let p = predict_samples(&fc, x.view(), &PredictConfig::with_samples(8)).unwrap();
/// assert_eq!(p.shape(), &[8, 5, 2]);
/// assert!((p.sum() - 40.0).abs() < 1e-3);
/// ```
pub fn predict_samples<M: Module + ?Sized>(
    model: &M,
    x: ArrayViewD<'_, f32>,
    cfg: &PredictConfig,
) -> Result<Array3<f32>> {
    let cfg = cfg.check()?;
    check_input(&x)?;
    let per_pass = if cfg.weight_sampling {
        cfg.draws_per_pass
    } else {
        1
    };
    let seeds: Vec<u64> = (0..cfg.samples)
        .map(|s| mix_seed(cfg.seed, s as u64))
        .collect();
    let groups: Vec<Vec<Array2<f32>>> = seeds
        .par_chunks(per_pass)
        .map(|g| group_draws(model, &x, &cfg, g))
        .collect::<Result<_>>()?;
    stack(groups.into_iter().flatten().collect())
}

fn stack(draws: Vec<Array2<f32>>) -> Result<Array3<f32>> {
    let views: Vec<_> = draws.iter().map(|d| d.view()).collect();
    ndarray::stack(Axis(0), &views).map_err(|e| input("predict", e.to_string()))
}

/// The predictive mean `[N, K]` of samples `[S, N, K]`.
pub fn predictive_mean(samples: ArrayView3<'_, f32>) -> Array2<f32> {
    samples
        .mean_axis(Axis(0))
        .unwrap_or_else(|| Array2::zeros((0, 0)))
}

/// Error rate of each draw separately (argmax of slice `s` against
/// `labels`): the paper's "test error, mean over samples" is the mean of
/// this vector.
///
/// # Errors
/// [`InvalidInput`](fanaroff_core::Error::InvalidInput) when `labels` does not have `N` entries.
pub fn per_sample_error(samples: ArrayView3<'_, f32>, labels: &[usize]) -> Result<Vec<f64>> {
    if samples.shape()[1] != labels.len() || labels.is_empty() {
        return Err(input(
            "per_sample_error",
            format!("{} labels for samples {:?}", labels.len(), samples.shape()),
        ));
    }
    Ok(samples
        .outer_iter()
        .map(|p| error_rate(p.view(), labels))
        .collect())
}

/// Error rate of probabilities `[N, K]` against labels.
pub fn error_rate(probs: ndarray::ArrayView2<'_, f32>, labels: &[usize]) -> f64 {
    let wrong = probs
        .outer_iter()
        .zip(labels)
        .filter(|(row, y)| {
            let v: Vec<f32> = row.iter().copied().collect();
            argmax(&v) != **y
        })
        .count();
    wrong as f64 / labels.len().max(1) as f64
}

/// Index of the largest value (the first on ties).
pub fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (j, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = j;
        }
    }
    best
}
