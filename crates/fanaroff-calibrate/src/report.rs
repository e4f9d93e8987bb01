//! One-call calibration report ([`CalibrationReport::compute`]) and the
//! command-line logic of the `04_calibration_report` example
//! ([`ReportArgs`], [`run`]), kept here so tests can drive the same path.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use ndarray::{Array2, Array3, ArrayView2};
use rand::SeedableRng;
use rand::rngs::StdRng;
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::auroc::{Separation, separation};
use crate::binning::{BinStrategy, Binning};
use crate::bootstrap::{Bootstrap, ConfidenceInterval, bootstrap_metric};
use crate::ece::{ClasswiseEce, classwise_ece, reliability_diagram};
use crate::error::{Error, Result};
use crate::input::{DEFAULT_SUM_TOLERANCE, Predictions, check_labels};
use crate::npy::{NpyData, read_npy};
use crate::rejection::{RejectionCurve, accuracy_rejection, rejection_fractions};
use crate::reliability::ReliabilityDiagram;
use crate::scores::{accuracy, brier, nll};
use crate::uce::{ClassUce, class_uce, uce, uncertainty_diagram};
use crate::uncertainty::Uncertainty;

/// Settings of a [`CalibrationReport`].
///
/// | field | default | meaning | valid range |
/// |---|---|---|---|
/// | `binning` | 10 equal-width bins | bins for ECE, MCE, classwise ECE, UCE | `bins >= 1` |
/// | `sum_tolerance` | `1e-4` | allowed `|sum_k p_k - 1|` | `[0, 0.5)` |
/// | `rejection_steps` | 10 | accuracy–rejection curve at `0, 1/steps, ...` | `>= 1` |
/// | `bootstrap` | `None` | percentile-bootstrap intervals for the headline metrics | see [`Bootstrap`] |
/// | `seed` | 0 | seed of the bootstrap RNG (`StdRng`) | any |
///
/// # Example
/// ```
/// use fanaroff_calibrate::{Binning, BinStrategy, Bootstrap, ReportConfig};
/// let cfg = ReportConfig {
///     binning: Binning::new(15).unwrap().with_strategy(BinStrategy::EqualMass),
///     bootstrap: Some(Bootstrap::new(200, 0.95).unwrap()),
///     seed: 42,
///     ..ReportConfig::default()
/// };
/// assert!(cfg.check().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ReportConfig {
    /// Binning for every binned metric.
    pub binning: Binning,
    /// Tolerance on the row sums of the probabilities.
    pub sum_tolerance: f64,
    /// Number of points of the accuracy–rejection curve.
    pub rejection_steps: usize,
    /// Bootstrap intervals, if wanted.
    pub bootstrap: Option<Bootstrap>,
    /// Seed of the bootstrap RNG.
    pub seed: u64,
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig {
            binning: Binning::default(),
            sum_tolerance: DEFAULT_SUM_TOLERANCE,
            rejection_steps: 10,
            bootstrap: None,
            seed: 0,
        }
    }
}

impl ReportConfig {
    /// Validate the settings (fields are public, so check before use).
    ///
    /// # Errors
    /// [`Error::ZeroBins`] or [`Error::InvalidParameter`] naming the field.
    pub fn check(&self) -> Result<()> {
        if self.binning.bins() == 0 {
            return Err(Error::ZeroBins);
        }
        if !(0.0..0.5).contains(&self.sum_tolerance) {
            return Err(Error::param(
                "sum_tolerance",
                self.sum_tolerance,
                "must be in [0, 0.5)",
            ));
        }
        if self.rejection_steps == 0 {
            return Err(Error::param("rejection_steps", 0, "must be at least 1"));
        }
        if let Some(b) = self.bootstrap {
            Bootstrap::new(b.resamples(), b.level())?;
        }
        Ok(())
    }
}

/// Every metric of the crate for one set of predictions and labels.
///
/// Single-distribution metrics use the predictive mean `pbar` (the
/// probabilities themselves for `[N, K]` input). Conventions: natural log;
/// Brier summed over classes (not divided by `K`); NLL floors `p` at
/// `1e-12`; ECE/UCE bins as in [`Binning`]; AUROC counts ties as one half.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct CalibrationReport {
    /// Number of inputs `N`.
    pub n: usize,
    /// Number of classes `K`.
    pub classes: usize,
    /// Number of Monte Carlo samples `S` (`None` for plain probabilities).
    pub samples: Option<usize>,
    /// The binning used.
    pub binning: Binning,
    /// Accuracy of `argmax pbar`.
    pub accuracy: f64,
    /// `1 - accuracy`.
    pub error_rate: f64,
    /// Mean negative log-likelihood (natural log).
    pub nll: f64,
    /// Brier score summed over classes, in `[0, 2]` (divide by `K` for the
    /// per-class convention).
    pub brier: f64,
    /// Top-label ECE.
    pub ece: f64,
    /// Top-label MCE.
    pub mce: f64,
    /// Classwise ECE (per class and mean).
    pub classwise_ece: ClasswiseEce,
    /// UCE on normalised entropy.
    pub uce: f64,
    /// UCE per true class, and cUCE (their mean).
    pub class_uce: ClassUce,
    /// Mean predictive entropy `H[pbar]` (nats).
    pub mean_entropy: f64,
    /// Mean normalised entropy `H[pbar] / ln K`.
    pub mean_normalised_entropy: f64,
    /// Mean confidence `max_k pbar_k`.
    pub mean_confidence: f64,
    /// Mean expected entropy (aleatoric), samples only.
    pub mean_expected_entropy: Option<f64>,
    /// Mean mutual information (epistemic), samples only.
    pub mean_mutual_information: Option<f64>,
    /// Errors vs correct separated by predictive entropy; `None` when every
    /// prediction is right (or every one wrong).
    pub error_detection_entropy: Option<Separation>,
    /// Errors vs correct separated by mutual information (samples only).
    pub error_detection_mi: Option<Separation>,
    /// Accuracy–rejection curve, predictive entropy as the score.
    pub rejection: RejectionCurve,
    /// Top-label reliability diagram (confidence vs accuracy).
    pub reliability: ReliabilityDiagram,
    /// Uncertainty diagram (normalised entropy vs error), the UCE bins.
    pub uncertainty_diagram: ReliabilityDiagram,
    /// Bootstrap intervals keyed by metric name (`accuracy`, `nll`, `brier`,
    /// `ece`, `uce`), if requested.
    pub intervals: Option<BTreeMap<String, ConfidenceInterval>>,
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// `Ok(Some)` for a defined separation, `Ok(None)` if undefined.
fn optional(r: Result<Separation>) -> Result<Option<Separation>> {
    match r {
        Ok(s) => Ok(Some(s)),
        Err(Error::Undefined { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

impl CalibrationReport {
    /// Compute every metric.
    ///
    /// # Errors
    /// Invalid configuration ([`ReportConfig::check`]), invalid probabilities
    /// or labels (see [`check_probabilities`](crate::check_probabilities),
    /// [`check_labels`]), [`Error::TooFewClasses`] if `K < 2`.
    ///
    /// # Example
    /// ```
    /// use fanaroff_calibrate::{CalibrationReport, Predictions, ReportConfig};
    /// use ndarray::array;
    /// let p = Predictions::from_probs(array![[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]].view());
    /// let r = CalibrationReport::compute(&p, &[0, 1, 1], &ReportConfig::default()).unwrap();
    /// assert!((r.accuracy - 2.0 / 3.0).abs() < 1e-12);
    /// println!("{r}"); // a table
    /// ```
    pub fn compute(preds: &Predictions, labels: &[usize], config: &ReportConfig) -> Result<Self> {
        let pbar = checked_mean(preds, labels, config)?;
        let (n, k) = pbar.dim();
        let p = pbar.view();
        let unc = match preds {
            Predictions::Probs(_) => Uncertainty::from_probs(p)?,
            Predictions::Samples(s) => Uncertainty::from_samples(s.view())?,
        };
        let b = config.binning;
        let reliability = reliability_diagram(p, labels, b)?;
        let uncertainty_diagram = uncertainty_diagram(p, labels, b)?;
        let correct: Vec<bool> = unc
            .predicted_class
            .iter()
            .zip(labels)
            .map(|(a, y)| a == y)
            .collect();
        let errors: Vec<bool> = correct.iter().map(|c| !c).collect();
        let error_detection_entropy = optional(separation(&unc.predictive_entropy, &errors))?;
        let error_detection_mi = match &unc.mutual_information {
            Some(mi) => optional(separation(mi, &errors))?,
            None => None,
        };
        let rejection = accuracy_rejection(
            &unc.predictive_entropy,
            &correct,
            &rejection_fractions(config.rejection_steps)?,
        )?;
        let intervals = bootstrap_intervals(p, labels, config)?;
        let acc = fraction_true(&correct);
        Ok(CalibrationReport {
            n,
            classes: k,
            samples: preds.num_samples(),
            binning: b,
            accuracy: acc,
            error_rate: 1.0 - acc,
            nll: nll(p, labels)?,
            brier: brier(p, labels)?,
            ece: reliability.calibration_error,
            mce: reliability.max_calibration_error,
            classwise_ece: classwise_ece(p, labels, b)?,
            uce: uncertainty_diagram.calibration_error,
            class_uce: class_uce(p, labels, b)?,
            mean_entropy: mean(&unc.predictive_entropy),
            mean_normalised_entropy: mean(&unc.normalised_entropy),
            mean_confidence: mean(&unc.max_probability),
            mean_expected_entropy: unc.expected_entropy.as_deref().map(mean),
            mean_mutual_information: unc.mutual_information.as_deref().map(mean),
            error_detection_entropy,
            error_detection_mi,
            rejection,
            reliability,
            uncertainty_diagram,
            intervals,
        })
    }

    /// Convenience for a `[N, K]` `f64` probability matrix.
    ///
    /// # Errors
    /// As [`compute`](Self::compute).
    pub fn from_probs(
        probs: ArrayView2<'_, f64>,
        labels: &[usize],
        config: &ReportConfig,
    ) -> Result<Self> {
        Self::compute(&Predictions::from_probs(probs), labels, config)
    }

    /// The report as pretty-printed JSON (feature `serde`).
    ///
    /// # Errors
    /// [`Error::Json`] (not expected for a computed report).
    #[cfg(feature = "serde")]
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)?)
    }
}

/// The predictions' mean probabilities after checking the configuration,
/// the predictions and the labels; each row renormalised (the MC mean of
/// valid rows is valid up to rounding, and the metrics' tolerance checks
/// must not trip on it).
fn checked_mean(
    preds: &Predictions,
    labels: &[usize],
    config: &ReportConfig,
) -> Result<Array2<f64>> {
    config.check()?;
    preds.validate(config.sum_tolerance)?;
    let k = preds.num_classes();
    check_labels(labels, preds.num_rows(), k)?;
    if k < 2 {
        return Err(Error::TooFewClasses {
            what: "a calibration report".into(),
            classes: k,
        });
    }
    let mut pbar = preds.mean()?;
    for mut row in pbar.outer_iter_mut() {
        let s = row.sum();
        row /= s;
    }
    Ok(pbar)
}

/// Bootstrap intervals of accuracy, NLL, Brier, ECE and UCE, when the
/// configuration asks for them (one RNG from `config.seed`, in that order).
fn bootstrap_intervals(
    p: ArrayView2<'_, f64>,
    labels: &[usize],
    config: &ReportConfig,
) -> Result<Option<BTreeMap<String, ConfidenceInterval>>> {
    let Some(params) = config.bootstrap else {
        return Ok(None);
    };
    let b = config.binning;
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut m = BTreeMap::new();
    let mut put = |name: &str, ci: ConfidenceInterval| m.insert(name.to_string(), ci);
    put(
        "accuracy",
        bootstrap_metric(p, labels, accuracy, params, &mut rng)?,
    );
    put("nll", bootstrap_metric(p, labels, nll, params, &mut rng)?);
    put(
        "brier",
        bootstrap_metric(p, labels, brier, params, &mut rng)?,
    );
    let ece = |q: ArrayView2<'_, f64>, y: &[usize]| crate::ece::ece(q, y, b);
    put("ece", bootstrap_metric(p, labels, ece, params, &mut rng)?);
    let uce_b = |q: ArrayView2<'_, f64>, y: &[usize]| uce(q, y, b);
    put("uce", bootstrap_metric(p, labels, uce_b, params, &mut rng)?);
    Ok(Some(m))
}

fn fraction_true(correct: &[bool]) -> f64 {
    correct.iter().filter(|&&c| c).count() as f64 / correct.len() as f64
}

impl fmt::Display for CalibrationReport {
    /// A human-readable table of the headline metrics, then the per-class
    /// numbers, the rejection curve and the reliability bins.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_headline(f)?;
        writeln!(f)?;
        self.write_classes(f)?;
        writeln!(f)?;
        self.write_rejection(f)?;
        self.write_bins(f)
    }
}

impl CalibrationReport {
    /// The confidence interval of a metric, if bootstrapped, as text.
    fn interval_text(&self, name: &str) -> String {
        self.intervals
            .as_ref()
            .and_then(|m| m.get(name))
            .map(|c| {
                format!(
                    "  [{:.4}, {:.4}] ({:.0}%)",
                    c.lower,
                    c.upper,
                    c.level * 100.0
                )
            })
            .unwrap_or_default()
    }

    /// The title line and one row per headline metric.
    fn write_headline(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let form = match self.samples {
            Some(s) => format!("{s} MC samples"),
            None => "probabilities".to_string(),
        };
        let strategy = match self.binning.strategy() {
            BinStrategy::EqualWidth => "equal-width",
            BinStrategy::EqualMass => "equal-mass",
        };
        writeln!(
            f,
            "calibration report: N = {}, K = {}, {}, {} {} bins",
            self.n,
            self.classes,
            form,
            self.binning.bins(),
            strategy
        )?;
        writeln!(f, "{:-<64}", "")?;
        let mut row = |name: &str, v: f64, key: &str| {
            writeln!(f, "{name:<36} {v:>10.4}{}", self.interval_text(key))
        };
        row("accuracy", self.accuracy, "accuracy")?;
        row("error rate", self.error_rate, "")?;
        row("NLL (nats)", self.nll, "nll")?;
        row("Brier (sum over classes, not /K)", self.brier, "brier")?;
        row("ECE (top-label)", self.ece, "ece")?;
        row("MCE", self.mce, "")?;
        row("classwise ECE", self.classwise_ece.mean, "")?;
        row("UCE (H / ln K)", self.uce, "uce")?;
        row("cUCE (mean of per-class UCE)", self.class_uce.cuce, "")?;
        row("mean confidence", self.mean_confidence, "")?;
        row("mean predictive entropy (nats)", self.mean_entropy, "")?;
        row("mean normalised entropy", self.mean_normalised_entropy, "")?;
        if let Some(v) = self.mean_expected_entropy {
            row("mean expected entropy (aleatoric)", v, "")?;
        }
        if let Some(v) = self.mean_mutual_information {
            row("mean mutual information (epistemic)", v, "")?;
        }
        self.write_error_detection(f)
    }

    /// How well entropy (and mutual information) single out the errors.
    fn write_error_detection(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = |s: &Option<Separation>| match s {
            Some(s) => format!("AUROC {:.4}  AUPR {:.4}", s.auroc, s.aupr),
            None => "undefined (no errors or no correct predictions)".to_string(),
        };
        let entropy = sep(&self.error_detection_entropy);
        writeln!(f, "{:<36} {}", "errors by entropy", entropy)?;
        if self.samples.is_some() {
            let mi = sep(&self.error_detection_mi);
            writeln!(f, "{:<36} {}", "errors by mutual information", mi)?;
        }
        Ok(())
    }

    /// Per-class ECE, count and UCE.
    fn write_classes(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<8} {:>10} {:>8} {:>10}",
            "class", "ECE_k", "N_k", "UCE_k"
        )?;
        for k in 0..self.classes {
            let u = match self.class_uce.per_class[k] {
                Some(v) => format!("{v:.4}"),
                None => "-".to_string(),
            };
            writeln!(
                f,
                "{:<8} {:>10.4} {:>8} {:>10}",
                k, self.classwise_ece.per_class[k], self.class_uce.counts[k], u
            )?;
        }
        Ok(())
    }

    /// The accuracy-rejection curve.
    fn write_rejection(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "accuracy-rejection (most uncertain by entropy referred first)"
        )?;
        writeln!(f, "{:<10} {:>9} {:>10}", "rejected", "retained", "accuracy")?;
        let r = &self.rejection;
        for ((fraction, retained), accuracy) in r.fractions.iter().zip(&r.retained).zip(&r.accuracy)
        {
            writeln!(f, "{fraction:<10.2} {retained:>9} {accuracy:>10.4}")?;
        }
        Ok(())
    }

    /// The reliability and uncertainty diagrams' bins.
    fn write_bins(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let diagrams = [
            (
                "reliability bins",
                &self.reliability,
                "mean conf",
                "accuracy",
            ),
            (
                "uncertainty bins",
                &self.uncertainty_diagram,
                "mean unc",
                "error",
            ),
        ];
        let fmt_opt = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.4}"));
        for (title, d, score, outcome) in diagrams {
            writeln!(f)?;
            writeln!(f, "{title}")?;
            writeln!(
                f,
                "{:<17} {:>6} {:>10} {:>10}",
                "bin", "count", score, outcome
            )?;
            for b in &d.bins {
                writeln!(
                    f,
                    "[{:.3}, {:.3}{} {:>6} {:>10} {:>10}",
                    b.lower,
                    b.upper,
                    if b.upper >= 1.0 { "]" } else { ")" },
                    b.count,
                    fmt_opt(b.mean_score),
                    fmt_opt(b.mean_outcome)
                )?;
            }
        }
        Ok(())
    }
}

/// Read predictions from a `.npy` file (`[N, K]` or `[S, N, K]`, float) or
/// a CSV file (see [`crate::csv`]), chosen by extension (`.npy`; anything
/// else is read as text).
///
/// # Errors
/// [`Error::Io`], [`Error::Npy`], [`Error::Csv`], or
/// [`Error::ShapeMismatch`] for an array that is not 2-D or 3-D.
pub fn load_predictions(path: impl AsRef<Path>) -> Result<Predictions> {
    let path = path.as_ref();
    if is_npy(path) {
        let a = read_npy(path)?;
        let values = a.to_f64();
        match a.shape.as_slice() {
            &[n, k] => Array2::from_shape_vec((n, k), values)
                .map(Predictions::Probs)
                .map_err(|e| Error::shape("npy predictions", "[N, K]", e.to_string())),
            &[s, n, k] => Array3::from_shape_vec((s, n, k), values)
                .map(Predictions::Samples)
                .map_err(|e| Error::shape("npy predictions", "[S, N, K]", e.to_string())),
            other => Err(Error::shape(
                format!("predictions in {}", path.display()),
                "[N, K] probabilities or [S, N, K] samples",
                format!("{other:?}"),
            )),
        }
    } else {
        let text = std::fs::read_to_string(path).map_err(fanaroff_core::io(path))?;
        crate::csv::parse_predictions(&text)
    }
}

/// Read labels from a `.npy` file (integer dtype, or float with integral
/// values; shape `[N]` or `[N, 1]`) or a CSV file.
///
/// # Errors
/// [`Error::Io`], [`Error::Npy`], [`Error::Csv`], [`Error::ShapeMismatch`]
/// for another shape, [`Error::InvalidParameter`] for a negative or
/// fractional label.
pub fn load_labels(path: impl AsRef<Path>) -> Result<Vec<usize>> {
    let path = path.as_ref();
    if !is_npy(path) {
        let text = std::fs::read_to_string(path).map_err(fanaroff_core::io(path))?;
        return crate::csv::parse_labels(&text);
    }
    let a = read_npy(path)?;
    match a.shape.as_slice() {
        [_] | [_, 1] => {}
        other => {
            return Err(Error::shape(
                format!("labels in {}", path.display()),
                "[N] or [N, 1]",
                format!("{other:?}"),
            ));
        }
    }
    let bad = |i: usize, v: String| {
        Error::param(
            format!("label [{i}]"),
            v,
            "labels must be non-negative integers",
        )
    };
    match &a.data {
        NpyData::Int(v) => v
            .iter()
            .enumerate()
            .map(|(i, &x)| usize::try_from(x).map_err(|_| bad(i, x.to_string())))
            .collect(),
        NpyData::Float(v) => v
            .iter()
            .enumerate()
            .map(|(i, &x)| crate::csv::label_from_f64(x).map_err(|_| bad(i, x.to_string())))
            .collect(),
    }
}

fn is_npy(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
}

/// What [`run`] reads, computes and draws: the files, the report settings,
/// JSON or a table, and where the diagrams go. The `fanaroff calibrate`
/// command (and the `04_calibration_report` example) build it from flags.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportArgs {
    /// Predictions file.
    pub probs: PathBuf,
    /// Labels file.
    pub labels: PathBuf,
    /// Report settings.
    pub config: ReportConfig,
    /// Print JSON instead of a table.
    pub json: bool,
    /// Reliability diagram path (`None`: no figure).
    pub png: Option<PathBuf>,
    /// Uncertainty-diagram path (`None`: no figure).
    pub uce_png: Option<PathBuf>,
}

impl ReportArgs {
    /// A table report of `probs` against `labels` with `config`, and no
    /// figures.
    ///
    /// # Errors
    /// Invalid settings.
    ///
    /// ```
    /// use fanaroff_calibrate::ReportConfig;
    /// use fanaroff_calibrate::report::ReportArgs;
    /// let a = ReportArgs::new("p.npy", "y.csv", ReportConfig::default())
    ///     .unwrap()
    ///     .figures(Some("out/rel.png".into()), None);
    /// assert_eq!(a.uce_png.unwrap(), std::path::Path::new("out/rel_uce.png"));
    /// ```
    pub fn new(
        probs: impl Into<PathBuf>,
        labels: impl Into<PathBuf>,
        config: ReportConfig,
    ) -> Result<Self> {
        config.check()?;
        Ok(ReportArgs {
            probs: probs.into(),
            labels: labels.into(),
            config,
            json: false,
            png: None,
            uce_png: None,
        })
    }

    /// Draws the reliability diagram to `png` and the uncertainty diagram
    /// to `uce_png` (by default `png`'s name with `_uce`).
    pub fn figures(mut self, png: Option<PathBuf>, uce_png: Option<PathBuf>) -> Self {
        self.uce_png = uce_png.or_else(|| png.as_ref().map(|p| sibling_with_suffix(p, "_uce")));
        self.png = png;
        self
    }
}

/// `dir/name.png` -> `dir/name{suffix}.png`.
fn sibling_with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let stem = p
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = p
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    p.with_file_name(format!("{stem}{suffix}{ext}"))
}

/// What [`run`] produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutput {
    /// The report.
    pub report: CalibrationReport,
    /// The text to print (table or JSON).
    pub text: String,
    /// Figure files written.
    pub written: Vec<PathBuf>,
}

/// Draws one diagram into a file (the `04_calibration_report` example passes
/// `fanaroff-plot`'s writer; this crate draws nothing itself).
pub type DiagramWriter<'a> = dyn FnMut(&ReliabilityDiagram, &Path) -> Result<()> + 'a;

/// Load the files, compute the report, write the diagrams through `write`
/// and format the output: everything the `04_calibration_report` example does
/// except printing.
///
/// # Errors
/// Any loading, validation, computation or writing error.
pub fn run(args: &ReportArgs, write: &mut DiagramWriter<'_>) -> Result<RunOutput> {
    let preds = load_predictions(&args.probs)?;
    let labels = load_labels(&args.labels)?;
    let report = CalibrationReport::compute(&preds, &labels, &args.config)?;
    let mut written = Vec::new();
    if let Some(p) = &args.png {
        write(&report.reliability, p)?;
        written.push(p.clone());
    }
    if let Some(p) = &args.uce_png {
        write(&report.uncertainty_diagram, p)?;
        written.push(p.clone());
    }
    let text = if args.json {
        json_text(&report)?
    } else {
        let mut t = report.to_string();
        if !written.is_empty() {
            t.push('\n');
        }
        for p in &written {
            let _ = writeln!(t, "wrote {}", p.display());
        }
        t.trim_end().to_string()
    };
    Ok(RunOutput {
        report,
        text,
        written,
    })
}

#[cfg(feature = "serde")]
fn json_text(report: &CalibrationReport) -> Result<String> {
    report.to_json()
}

#[cfg(not(feature = "serde"))]
fn json_text(_: &CalibrationReport) -> Result<String> {
    Err(Error::Usage(
        "--json needs fanaroff-calibrate's `serde` feature".into(),
    ))
}
