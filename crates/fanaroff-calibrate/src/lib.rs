//! # fanaroff-calibrate
//!
//! Calibration and uncertainty metrics with stated conventions, for
//! classifiers that output probabilities — or Monte Carlo samples of them,
//! as Bayesian neural networks, MC dropout and ensembles do.
//!
//! Plain `ndarray` in, numbers out: probabilities are `ArrayView2<f64>`
//! `[N, K]`, Monte Carlo predictive samples `ArrayView3<f64>` `[S, N, K]`,
//! labels `&[usize]`. [`Predictions`] wraps either and converts `f32`.
//! The crate does not depend on the autodiff core.
//!
//! | what | items |
//! |---|---|
//! | uncertainty | [`entropy`], [`normalised_entropy`], [`expected_entropy`], [`mutual_information`], [`class_variance`], [`max_probability`], [`Uncertainty`] |
//! | binned calibration | [`Binning`], [`ece()`], [`mce`], [`classwise_ece`], [`uce()`], [`class_uce`] (cUCE), [`binned_calibration`] |
//! | scores | [`brier`] (summed over classes), [`nll`], [`accuracy`], [`error_rate`] |
//! | ranking | [`auroc()`], [`aupr`], [`error_detection`], [`ood_detection`], [`accuracy_rejection`] |
//! | selective classification | [`risk_coverage()`] (AURC, AUGRC, excess AURC) |
//! | out-of-distribution scores | [`max_logit_score`], [`energy_score`], [`Mahalanobis`] (on features), [`fpr_at_tpr`]; entropy and mutual information above |
//! | conformal prediction | [`SplitConformal`] (LAC, APS, RAPS via [`ConformityScore`]; marginal or class-conditional), [`set_coverage`], [`mean_set_size`] |
//! | tests | [`paired_t_test`], [`mann_whitney_u`] |
//! | intervals | [`bootstrap()`], [`bootstrap_metric`] (seeded) |
//! | diagrams | [`reliability_diagram`], [`uncertainty_diagram`] (drawn by the `fanaroff-plot` crate) |
//! | recalibration | [`TemperatureScaling`], [`HistogramBinning`], [`IsotonicRegression`] |
//! | everything at once | [`CalibrationReport::compute`] |
//! | files | [`npy`], [`csv`], [`report::load_predictions`], [`report::load_labels`] |
//!
//! # Cargo features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `serde` | on | `Serialize` / `Deserialize` for the settings and result types, `CalibrationReport::to_json` and the report tool's `--json` (brings in `serde` and `serde_json`) |
//!
//! With `default-features = false` the crate depends only on `ndarray`,
//! `rand`, `statrs` and `thiserror`.
//!
//! # Conventions (they change numbers, so they are fixed and stated)
//!
//! - Natural logarithm everywhere; `0 ln 0 = 0`.
//! - Predicted class = argmax, ties to the lowest class index.
//! - Bins: equal-width bins are right-open `[b/B, (b+1)/B)`, the last one
//!   closed, so a confidence of exactly `1.0` is in the last bin and a value
//!   on an interior edge in the upper bin. Equal-mass edges are empirical
//!   quantiles and never split tied values (see [`binning`]). Empty bins
//!   contribute nothing. Default: 10 equal-width bins.
//! - Brier score is summed over classes, **not** divided by `K` (range `[0, 2]`).
//! - NLL floors the true-class probability at `1e-12`.
//! - UCE bins the normalised entropy `H / ln K`; cUCE is the mean of the UCEs
//!   computed on each true class separately.
//! - AUROC counts tied scores as one half; AUPR is average precision.
//! - Out-of-distribution scores are "higher = more likely out of
//!   distribution"; FPR at TPR takes in-distribution as the positive class.
//! - Conformal thresholds are the `ceil((n + 1)(1 - alpha))`-th smallest
//!   calibration score; a set holds the classes scored at or below it.
//! - Probabilities must be finite, in `[0, 1]`, with rows summing to 1 within
//!   [`DEFAULT_SUM_TOLERANCE`] (`1e-4`).
//!
//! # Example
//!
//! ```
//! use approx::assert_abs_diff_eq;
//! use fanaroff_calibrate::{ece, nll, Binning, CalibrationReport, Predictions, ReportConfig};
//! use ndarray::array;
//!
//! // 4 inputs, 2 classes (FRI = 0, FRII = 1)
//! let p = array![[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]];
//! let y = [0, 1, 1, 1];
//!
//! // Two equal-width bins: [0, 0.5) is empty; [0.5, 1] holds all four,
//! // mean confidence (0.9 + 0.8 + 0.7 + 0.6) / 4 = 0.75, accuracy 3/4.
//! let e = ece(p.view(), &y, Binning::new(2).unwrap()).unwrap();
//! assert_abs_diff_eq!(e, 0.0, epsilon = 1e-12);
//!
//! let l = nll(p.view(), &y).unwrap();
//! assert_abs_diff_eq!(l, -(0.9f64.ln() + 0.2f64.ln() + 0.7f64.ln() + 0.6f64.ln()) / 4.0, epsilon = 1e-12);
//!
//! // Everything at once, e.g. for MC samples [S, N, K] from a Bayesian net:
//! let samples = ndarray::stack![ndarray::Axis(0), p, p.mapv(|v| 1.0 - v)];
//! let preds = Predictions::from_samples(samples.view());
//! let report = CalibrationReport::compute(&preds, &y, &ReportConfig::default()).unwrap();
//! assert!(report.mean_mutual_information.unwrap() > 0.0);
//! ```
#![deny(missing_docs)]

pub mod auroc;
pub mod binning;
pub mod bootstrap;
pub mod conformal;
pub mod conformity;
pub mod csv;
pub mod ece;
pub mod error;
pub mod input;
pub mod mahalanobis;
pub mod npy;
pub mod ood;
pub mod rank_test;
pub mod recalibration;
pub mod rejection;
pub mod reliability;
pub mod report;
pub mod risk_coverage;
pub mod scores;
pub mod study_uce;
pub mod t_test;
pub mod temperature;
pub mod uce;
pub mod uncertainty;

pub use auroc::{Separation, aupr, auroc, error_detection, ood_detection, separation};
pub use binning::{BinAssignment, BinStrategy, Binning};
pub use bootstrap::{Bootstrap, ConfidenceInterval, bootstrap, bootstrap_metric};
pub use conformal::{
    ConformalPredictor, SplitConformal, conformal_quantile, mean_set_size, set_coverage,
};
pub use conformity::ConformityScore;
pub use ece::{ClasswiseEce, classwise_diagrams, classwise_ece, ece, mce, reliability_diagram};
pub use error::{Error, Result};
pub use input::{
    DEFAULT_SUM_TOLERANCE, Predictions, check_labels, check_probabilities, check_samples,
};
pub use mahalanobis::Mahalanobis;
pub use ood::{energy_score, fpr_at_tpr, max_logit_score};
pub use rank_test::{MannWhitney, mann_whitney_u};
pub use recalibration::{HistogramBinning, IsotonicRegression, Recalibrator};
pub use rejection::{
    RejectionCurve, accuracy_rejection, entropy_rejection_curve, rejection_fractions,
};
pub use reliability::{BinStat, DiagramKind, ReliabilityDiagram, binned_calibration};
pub use report::{CalibrationReport, ReportConfig};
pub use risk_coverage::{RiskCoverage, risk_coverage};
pub use scores::{NLL_PROBABILITY_FLOOR, accuracy, brier, error_rate, nll};
pub use study_uce::{STUDY_UCE_BINS, StudyUce, study_uce};
pub use t_test::{TTest, paired_t_test};
pub use temperature::{TemperatureScaling, softmax};
pub use uce::{ClassUce, class_uce, uce, uncertainty_diagram};
pub use uncertainty::{
    Uncertainty, class_variance, entropy, expected_entropy, max_probability, mutual_information,
    normalised_entropy, predicted_classes, predictive_mean,
};

// The README's examples, compiled and run by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
