//! Test-set metrics of a trained model: error over weight draws,
//! calibration, and entropy on confident vs uncertain images.

use crate::data::{DataSpec, RunData};
use crate::error::Result;
use crate::experiment::{EvalSpec, Experiment};
use fanaroff_calibrate::{
    Binning, CalibrationReport, Predictions, ReportConfig, normalised_entropy,
};
use fanaroff_nn::Module;
use fanaroff_train::{
    PredictConfig, error_rate, per_sample_error, predict_samples, predictive_mean,
};
use ndarray::Array3;
use std::collections::BTreeMap;

/// Evaluates `model` on the test and MBFRUncertain images of `data`.
///
/// Metrics (fractions, not percent): `test_error_mean` and
/// `test_error_std` (mean and spread of the error over single weight
/// draws), `test_error_predictive` (error of the predictive mean), `ece`,
/// `uce`, `cuce` (bins from `eval.bins`), `nll`, `brier` (summed over
/// classes), `error_detection_auroc` (entropy separating wrong from right
/// predictions; left out without errors), and the
/// mean normalised predictive entropy on the confident test images and on
/// the uncertain images (`entropy_confident`, `entropy_uncertain`) with the
/// uncertain images' error (`uncertain_error`). A deterministic model is
/// evaluated with one draw.
///
/// # Errors
/// Prediction or metric failures (e.g. non-finite outputs).
pub fn evaluate<M: Module + ?Sized>(
    model: &M,
    stochastic: bool,
    spec: &DataSpec,
    data: &RunData,
    eval: &EvalSpec,
    seed: u64,
) -> Result<BTreeMap<String, f64>> {
    let draws = |n: usize| if stochastic { n } else { 1 };
    let test = spec.loader(&data.test)?;
    let samples = draw(
        model,
        &test.inputs(),
        draws(eval.samples),
        eval.batch_size,
        seed ^ 0x5eed,
    )?;
    let errs = per_sample_error(samples.view(), test.labels())?;
    let n = errs.len() as f64;
    let mean = errs.iter().sum::<f64>() / n;
    let var = errs.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let report = CalibrationReport::compute(
        &Predictions::from_samples(samples.view()),
        test.labels(),
        &ReportConfig {
            binning: Binning::new(eval.bins)?,
            ..ReportConfig::default()
        },
    )?;
    // AUROC of entropy for telling errors from correct predictions (NaN when
    // every prediction is right).
    let detection = report.error_detection_entropy.map_or(f64::NAN, |s| s.auroc);
    let unc = spec.loader(&data.uncertain)?;
    let k = draws(eval.entropy_samples);
    let s_conf = draw(model, &test.inputs(), k, eval.batch_size, seed ^ 0xe27)?;
    let s_unc = draw(model, &unc.inputs(), k, eval.batch_size, seed ^ 0xe27)?;
    let unc_mean = predictive_mean(s_unc.view());
    let metrics = BTreeMap::from([
        ("test_error_mean".into(), mean),
        ("test_error_std".into(), var.sqrt()),
        ("test_error_predictive".into(), report.error_rate),
        ("ece".into(), report.ece),
        ("uce".into(), report.uce),
        ("cuce".into(), report.class_uce.cuce),
        ("nll".into(), report.nll),
        ("brier".into(), report.brier),
        ("error_detection_auroc".into(), detection),
        ("entropy_confident".into(), mean_entropy(&s_conf)?),
        ("entropy_uncertain".into(), mean_entropy(&s_unc)?),
        (
            "uncertain_error".into(),
            error_rate(unc_mean.view(), unc.labels()),
        ),
    ]);
    // JSON has no NaN: an undefined metric is left out.
    Ok(metrics.into_iter().filter(|(_, v)| v.is_finite()).collect())
}

/// [`evaluate`] with an experiment's own data, model kind, evaluation
/// settings and seed.
///
/// # Errors
/// As [`evaluate`].
pub fn evaluate_experiment<M: Module + ?Sized>(
    exp: &Experiment,
    model: &M,
    data: &RunData,
) -> Result<BTreeMap<String, f64>> {
    evaluate(
        model,
        exp.model.stochastic(),
        &exp.data,
        data,
        &exp.evaluation,
        exp.seed,
    )
}

/// Evaluates weights saved by a run of `exp` (its `model.safetensors`).
///
/// # Errors
/// Missing data; a weights file that is missing or does not fit the model.
pub fn evaluate_saved(
    exp: &Experiment,
    weights: &std::path::Path,
) -> Result<BTreeMap<String, f64>> {
    use rand::SeedableRng;
    let data = exp.data.load(exp.seed)?;
    let mut built = exp
        .model
        .build(&mut rand::rngs::StdRng::seed_from_u64(exp.seed))?;
    fanaroff_nn::load_model(&mut built.model, weights, true)?;
    evaluate_experiment(exp, &built.model, &data)
}

fn draw<M: Module + ?Sized>(
    model: &M,
    x: &ndarray::ArrayD<f32>,
    samples: usize,
    batch: usize,
    seed: u64,
) -> Result<Array3<f32>> {
    let cfg = PredictConfig::with_samples(samples)
        .batch_size(batch)
        .seed(seed);
    Ok(predict_samples(model, x.view(), &cfg)?)
}

fn mean_entropy(samples: &Array3<f32>) -> Result<f64> {
    let mean = predictive_mean(samples.view()).mapv(f64::from);
    Ok(normalised_entropy(mean.view())?.mean().unwrap_or(f64::NAN))
}
