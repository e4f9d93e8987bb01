//! Test-set metrics of a trained model: error over weight draws,
//! calibration, and entropy on confident vs uncertain images.

use crate::data::{DataSpec, RunData};
use crate::error::Result;
use crate::experiment::{EvalSpec, Experiment};
use fanaroff_calibrate::{
    Binning, CalibrationReport, Predictions, ReportConfig, STUDY_UCE_BINS, mann_whitney_u,
    mutual_information, normalised_entropy, study_uce,
};
use fanaroff_nn::Module;
use fanaroff_nn::ModuleExt;
use fanaroff_train::{
    Classifier, ModuleClassifier, PredictConfig, error_rate, per_sample_error, predictive_mean,
};
use ndarray::{Array3, ArrayD};
use std::collections::BTreeMap;

/// Evaluates `model` on the test and MBFRUncertain images of `data`.
///
/// Metrics (fractions, not percent, unless named `_study`):
/// - `test_error_mean` and `test_error_std`: mean and spread of the error
///   over single weight draws; `test_error_predictive`: error of the
///   predictive mean (`eval.samples` draws);
/// - `ece`, `uce`, `cuce` (`eval.bins` equal-width bins), `nll`, `brier`
///   (summed over classes), `error_detection_auroc` (entropy separating
///   wrong from right predictions; left out without errors);
/// - with `eval.entropy_samples` draws: the mean normalised predictive
///   entropy and mutual information (both divided by ln 2) on the confident
///   test images and on the uncertain images (`entropy_confident`,
///   `entropy_uncertain`, `mi_confident`, `mi_uncertain`), one-sided
///   Mann-Whitney p-values for "higher on the uncertain images"
///   (`entropy_mwu_p`, `mi_mwu_p`), the uncertain images' error
///   (`uncertain_error`), and UCE / cUCE in the BBB study's own convention
///   (`uce_study`, `cuce_study`: 8 bins, percent; see
///   [`study_uce`](fn@fanaroff_calibrate::study_uce)).
///
/// A deterministic model is evaluated with one draw.
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
    let classifier = ModuleClassifier::new(model, stochastic);
    evaluate_classifier(&classifier, spec, data, eval, seed)
}

/// [`evaluate`] for any [`Classifier`] (a model, a deep ensemble): it
/// decides how many of the asked draws it gives (one for a deterministic
/// model, one per member for an ensemble).
///
/// # Errors
/// Prediction or metric failures (e.g. non-finite outputs).
pub fn evaluate_classifier(
    classifier: &dyn Classifier,
    spec: &DataSpec,
    data: &RunData,
    eval: &EvalSpec,
    seed: u64,
) -> Result<BTreeMap<String, f64>> {
    let pass = Pass {
        classifier,
        eval,
        draws: eval.samples,
    };
    let mut metrics = test_metrics(&pass, spec, data, seed)?;
    let pass = Pass {
        draws: eval.entropy_samples,
        ..pass
    };
    metrics.extend(uncertainty_metrics(&pass, spec, data, seed)?);
    // JSON has no NaN: an undefined metric is left out.
    Ok(metrics.into_iter().filter(|(_, v)| v.is_finite()).collect())
}

/// A source of samples with the evaluation settings and the number of
/// draws to take.
struct Pass<'a> {
    classifier: &'a dyn Classifier,
    eval: &'a EvalSpec,
    draws: usize,
}

impl Pass<'_> {
    fn samples(&self, x: &ArrayD<f32>, seed: u64) -> Result<Array3<f32>> {
        let cfg = PredictConfig::with_samples(self.draws)
            .batch_size(self.eval.batch_size)
            .weight_sampling(self.eval.weight_sampling)
            .draws_per_pass(self.eval.draws_per_pass)
            .seed(seed);
        Ok(self.classifier.predict(x.view(), &cfg)?)
    }
}

/// Error over draws and calibration on the test images.
fn test_metrics(
    pass: &Pass<'_>,
    spec: &DataSpec,
    data: &RunData,
    seed: u64,
) -> Result<BTreeMap<String, f64>> {
    let test = spec.loader(&data.test)?;
    let samples = pass.samples(&test.inputs(), seed ^ 0x5eed)?;
    let errs = per_sample_error(samples.view(), test.labels())?;
    let (mean, std) = fanaroff_core::mean_std(&errs);
    let report = CalibrationReport::compute(
        &Predictions::from_samples(samples.view()),
        test.labels(),
        &ReportConfig {
            binning: Binning::new(pass.eval.bins)?,
            ..ReportConfig::default()
        },
    )?;
    // AUROC of entropy for telling errors from correct predictions (NaN when
    // every prediction is right).
    let detection = report.error_detection_entropy.map_or(f64::NAN, |s| s.auroc);
    Ok(BTreeMap::from([
        ("test_error_mean".into(), mean),
        ("test_error_std".into(), std),
        ("test_error_predictive".into(), report.error_rate),
        ("ece".into(), report.ece),
        ("uce".into(), report.uce),
        ("cuce".into(), report.class_uce.cuce),
        ("nll".into(), report.nll),
        ("brier".into(), report.brier),
        ("error_detection_auroc".into(), detection),
    ]))
}

/// Entropy and mutual information on confident vs uncertain images, their
/// rank tests, and the study-convention UCE.
fn uncertainty_metrics(
    pass: &Pass<'_>,
    spec: &DataSpec,
    data: &RunData,
    seed: u64,
) -> Result<BTreeMap<String, f64>> {
    let (test, unc) = (spec.loader(&data.test)?, spec.loader(&data.uncertain)?);
    let s_conf = pass.samples(&test.inputs(), seed ^ 0xe27)?;
    let s_unc = pass.samples(&unc.inputs(), seed ^ 0xe27)?;
    let (h_conf, mi_conf) = per_image_uncertainty(&s_conf)?;
    let (h_unc, mi_unc) = per_image_uncertainty(&s_unc)?;
    let p = |a: &[f64], b: &[f64]| mann_whitney_u(a, b).map_or(f64::NAN, |r| r.p_greater);
    let study = study_uce(s_conf.mapv(f64::from).view(), test.labels(), STUDY_UCE_BINS)?;
    let unc_mean = predictive_mean(s_unc.view());
    Ok(BTreeMap::from([
        ("entropy_confident".into(), mean_of(&h_conf)),
        ("entropy_uncertain".into(), mean_of(&h_unc)),
        ("entropy_mwu_p".into(), p(&h_unc, &h_conf)),
        ("mi_confident".into(), mean_of(&mi_conf)),
        ("mi_uncertain".into(), mean_of(&mi_unc)),
        ("mi_mwu_p".into(), p(&mi_unc, &mi_conf)),
        ("uce_study".into(), study.uce),
        ("cuce_study".into(), study.cuce),
        (
            "uncertain_error".into(),
            error_rate(unc_mean.view(), unc.labels()),
        ),
    ]))
}

/// Normalised predictive entropy and mutual information (both / ln K) of
/// each image.
fn per_image_uncertainty(samples: &Array3<f32>) -> Result<(Vec<f64>, Vec<f64>)> {
    let s = samples.mapv(f64::from);
    let ln_k = (s.shape()[2] as f64).ln();
    let mean = predictive_mean(samples.view()).mapv(f64::from);
    let h = normalised_entropy(mean.view())?.to_vec();
    let mi = mutual_information(s.view())?
        .iter()
        .map(|v| v / ln_k)
        .collect();
    Ok((h, mi))
}

fn mean_of(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
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
    built.model.as_mut().eval();
    evaluate_experiment(exp, &built.model, &data)
}
