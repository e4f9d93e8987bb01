//! The measurements of the `bench_attention` example, the twin of
//! `bench/torch_attention_reference.py bench` (same work, same JSON keys):
//! training epochs, forward + backward of one batch and test-set inference
//! of the attention-gated CNN, plain or with Bayes-by-backprop gates.

use crate::timing::{BenchResult, summarize, timed};
use fanaroff::data::{MiraBest, Scaling, Subset};
use fanaroff::nn::{Module, ModuleExt};
use fanaroff::tensor::NoGradGuard;
use fanaroff::train::{
    ArrayLoader, Batch, Loader, PredictConfig, StepContext, TrainConfig, Trainer, predict_samples,
};
use fanaroff_cli::{Built, Experiment};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Map, Value, json};
use std::path::Path;

/// How much to time.
#[derive(Debug, Clone, Copy)]
pub struct Repeats {
    /// Timed epochs and inference passes (after one warm-up each).
    pub repeats: usize,
    /// Timed forward + backward passes (after two warm-ups).
    pub minibatch: usize,
    /// Minibatch size (of the epochs, the timed batch and inference).
    pub batch: usize,
}

/// MBFRConfident's training images (all of them, with the paper's
/// augmentation) and test images, scaled to [-1, 1].
pub struct AttentionData {
    /// Training images, augmented.
    pub train: ArrayLoader<u8>,
    /// Test images.
    pub test: ArrayLoader<u8>,
}

impl AttentionData {
    /// Reads the full MiraBest release at `path`.
    ///
    /// # Errors
    /// A missing or unreadable release.
    pub fn open(path: &Path) -> BenchResult<Self> {
        let mb = MiraBest::open(path).map_err(|e| format!("--data {}: {e}", path.display()))?;
        let (train, test) = (
            mb.train().subset(Subset::MbFrConfident)?,
            mb.test().subset(Subset::MbFrConfident)?,
        );
        let augment = crate::bowles_augment();
        Ok(AttentionData {
            train: ArrayLoader::from_dataset(&train, Scaling::Symmetric)?.with_augment(augment),
            test: ArrayLoader::from_dataset(&test, Scaling::Symmetric)?,
        })
    }
}

/// The network as the experiment files build it (softmax x concat), plain
/// or with Bayesian gates, and its training step.
///
/// # Errors
/// Model errors.
pub fn model(bayes: bool) -> BenchResult<Built> {
    let (gates, bias) = if bayes {
        ("bayes", true)
    } else {
        ("plain", false)
    };
    let exp = Experiment::from_toml(&format!(
        "[data]\nsynthetic = 16\n[model]\nkind = \"attention_net\"\n\
         layers = {{ gates = \"{gates}\" }}\nnet = {{ gate_bias = {bias} }}"
    ))?;
    Ok(exp.model.build(&mut StdRng::seed_from_u64(0))?)
}

/// Timed training epochs (Adam lr 5e-5, after one warm-up epoch), with the
/// buffer pool's fresh allocations per timed epoch (0 in a steady state).
///
/// # Errors
/// Training errors.
pub fn epoch(bayes: bool, train: &dyn Loader, r: Repeats) -> BenchResult<Value> {
    let mut built = model(bayes)?;
    let cfg = TrainConfig::default()
        .epochs(1)
        .batch_size(r.batch)
        .adam(5e-5)
        .schedule(None)
        .restore_best(false)
        .progress(false)
        .log_epochs(false);
    let mut trainer = Trainer::new(cfg)?.step(built.step);
    let mut run = || -> BenchResult<()> { Ok(trainer.fit(&mut built.model, train).map(|_| ())?) };
    run()?;
    let before = fanaroff::tensor::pool::stats();
    let mut v = summarize(&timed(&mut run, r.repeats, 0)?);
    let pool = fanaroff::tensor::pool::stats().since(&before);
    let per = |x: u64| x as f64 / r.repeats as f64;
    v["pool_misses_per_epoch"] = json!(per(pool.misses));
    v["pool_missed_mib_per_epoch"] = json!(per(pool.missed_bytes) / 1048576.0);
    Ok(v)
}

/// Forward + backward of one training batch (the model's own step: the
/// ELBO for Bayesian gates).
///
/// # Errors
/// Model errors.
pub fn fwd_bwd(bayes: bool, batch: &Batch, r: Repeats) -> BenchResult<Value> {
    let built = model(bayes)?;
    let mut rng = StdRng::seed_from_u64(1);
    let (mut step, mut model) = (built.step, built.model);
    model.set_training(true);
    let mut pass = || -> BenchResult<()> {
        let mut ctx = StepContext {
            model: &model,
            rng: &mut rng,
            epoch: 0,
            step: 0,
            steps_per_epoch: 1,
        };
        step.step(batch, &mut ctx)?.loss.backward()?;
        Ok(())
    };
    Ok(summarize(&timed(&mut pass, r.minibatch, 2)?))
}

/// One forward pass without a graph over the test images, in batches.
///
/// # Errors
/// Model errors.
pub fn inference(bayes: bool, test: &ArrayLoader<u8>, r: Repeats) -> BenchResult<Value> {
    let mut model = model(bayes)?.model;
    model.set_training(false);
    let mut rng = StdRng::seed_from_u64(2);
    let all: Vec<usize> = (0..test.len()).collect();
    let mut pass = || -> BenchResult<()> {
        let _g = NoGradGuard::new();
        for idx in all.chunks(r.batch) {
            model.forward_rng(&test.batch(idx, 0, false)?.inputs, &mut rng)?;
        }
        Ok(())
    };
    Ok(summarize(&timed(&mut pass, r.repeats, 1)?))
}

/// The MC predictive of the Bayesian-gate network over the test images:
/// `draws` draws, `per_pass` of them in each forward pass (the backbone,
/// deterministic, runs once per pass); prints and returns the timing.
///
/// # Errors
/// Model errors; zero draws.
pub fn predictive(
    test: &ArrayLoader<u8>,
    r: Repeats,
    draws: usize,
    per_pass: usize,
) -> BenchResult<Value> {
    let mut model = model(true)?.model;
    model.set_training(false);
    let x = test
        .examples()
        .mapv(|v| Scaling::Symmetric.apply_value(f32::from(v)));
    let cfg = PredictConfig::with_samples(draws)
        .batch_size(r.batch)
        .draws_per_pass(per_pass);
    let mut pass = || -> BenchResult<()> {
        predict_samples(model.as_ref(), x.view(), &cfg)?;
        Ok(())
    };
    let v = summarize(&timed(&mut pass, r.repeats, 1)?);
    let median = v["median"].as_f64().unwrap_or(f64::NAN);
    println!("predictive_bayes, {draws} draws, {per_pass} per pass: median {median:.3} s");
    Ok(v)
}

/// `predictive_bayes_g<G>` (`_2`, `_3` for repeats) for each G of `per_pass`: the 20-draw
/// predictive of the Bayesian-gate network with G draws per pass (ours
/// only; the twin has no grouped draws).
///
/// # Errors
/// As [`predictive`].
pub fn predictives(
    test: &ArrayLoader<u8>,
    r: Repeats,
    per_pass: &[usize],
    out: &mut Map<String, Value>,
) -> BenchResult<()> {
    for &g in per_pass {
        // a repeated G (alternating settings) gets `_2`, `_3`, ...
        let base = format!("predictive_bayes_g{g}");
        let key = (2..)
            .map(|k| format!("{base}_{k}"))
            .find(|k| !out.contains_key(k))
            .filter(|_| out.contains_key(&base))
            .unwrap_or(base);
        out.insert(key, predictive(test, r, 20, g)?);
    }
    Ok(())
}

/// Which measurements to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    /// Forward + backward of one batch.
    pub fwd_bwd: bool,
    /// Inference over the test images.
    pub inference: bool,
    /// Training epochs.
    pub epoch: bool,
}

impl Parts {
    /// `only` is `all`, `epoch` (a training run alone) or `inference`
    /// (inference alone), so that each has its own peak memory;
    /// `no_epoch` drops the epochs from `all`.
    ///
    /// # Errors
    /// Another `only`.
    pub fn from_flags(only: &str, no_epoch: bool) -> BenchResult<Self> {
        let (f, i, e) = match only {
            "all" => (true, true, !no_epoch),
            "epoch" => (false, false, true),
            "inference" => (false, true, false),
            other => return Err(format!("--only {other}: all, epoch or inference").into()),
        };
        Ok(Parts {
            fwd_bwd: f,
            inference: i,
            epoch: e,
        })
    }
}

/// The chosen measurements of one network into `out` (`params_<tag>`,
/// `fwd_bwd_<tag>`, `inference_<tag>`, `epoch_<tag>`; `tag` is `det` or
/// `bayes`), printing the medians.
///
/// # Errors
/// Model and training errors.
pub fn measure(
    bayes: bool,
    data: &AttentionData,
    r: Repeats,
    which: Parts,
    out: &mut Map<String, Value>,
) -> BenchResult<()> {
    let tag = if bayes { "bayes" } else { "det" };
    let params = model(bayes)?.model.num_parameters();
    out.insert(format!("params_{tag}"), json!(params));
    let mut parts = Vec::new();
    if which.fwd_bwd {
        let first: Vec<usize> = (0..r.batch.min(data.train.len())).collect();
        let batch = data.train.batch(&first, 0, true)?;
        parts.push(("fwd_bwd", fwd_bwd(bayes, &batch, r)?));
    }
    if which.inference {
        parts.push(("inference", inference(bayes, &data.test, r)?));
    }
    if which.epoch {
        parts.push(("epoch", epoch(bayes, &data.train, r)?));
    }
    for (key, v) in parts {
        let median = v["median"].as_f64().unwrap_or(f64::NAN);
        println!("{key}_{tag:<5} median {median:.3} s");
        out.insert(format!("{key}_{tag}"), v);
    }
    Ok(())
}
