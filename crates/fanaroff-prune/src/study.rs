//! The pruning study (Mohan et al. 2022, section "pruning"): every
//! criterion × pruned fraction on one trained model, each point pruned from
//! a fresh copy, optionally fine-tuned, and measured on the test images
//! with the same weight-draw seed, so that the curves of different criteria
//! are paired.
//!
//! The study computes one [`PrunePoint`] at a time and prints nothing: a
//! runner decides which points still need computing (resume), where rows go
//! and what is shown.
//!
//! ```
//! use fanaroff_bayes::{VariationalConfig, bbb_lenet};
//! use fanaroff_data::{Scaling, SyntheticConfig};
//! use fanaroff_nn::models::LeNetConfig;
//! use fanaroff_prune::{BoxError, PruneStudy, PruneSubject};
//! use fanaroff_train::ArrayLoader;
//! use rand::{SeedableRng, rngs::StdRng};
//!
//! let cfg = LeNetConfig { image_size: 54, ..LeNetConfig::default() };
//! let fresh = || -> Result<_, BoxError> {
//!     Ok(bbb_lenet(&cfg, &VariationalConfig::default(), &mut StdRng::seed_from_u64(0))?)
//! };
//! let images = SyntheticConfig::default().with_image_size(54).with_size_range(4.0, 20.0).with_seed(1).generate(8)?;
//! let test = ArrayLoader::from_dataset(&images, Scaling::Unit)?;
//! let study = PruneStudy {
//!     criteria: vec!["snr".parse()?, "magnitude".parse()?],
//!     fractions: vec![0.0, 0.5],
//!     samples: 4,
//!     ..PruneStudy::default()
//! };
//! let mut subject = PruneSubject::new(&fresh, &test, &test, 0);
//! let rows: Vec<_> = study
//!     .points()
//!     .iter()
//!     .map(|p| study.run_point(&mut subject, p))
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(rows.len(), 4);
//! assert!((rows[1].sparsity - 0.5).abs() < 1e-3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::criterion::Criterion;
use crate::error::{Result, config};
use crate::fisher::{Fisher, FisherPass};
use crate::prune::{PruneConfig, prune};
use crate::select::{Amount, LayerSet, Scope};
use crate::sparse::save_sparse;
use fanaroff_calibrate::{CalibrationReport, Predictions, ReportConfig};
use fanaroff_core::mean_std;
use fanaroff_nn::Module;
use fanaroff_train::{ArrayLoader, Loader, PredictConfig, per_sample_error, predict_samples};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::str::FromStr;

/// A pruning criterion by name, as experiment files and tables spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum CriterionName {
    /// `snr`: `|mu| / sigma`.
    Snr,
    /// `snr-db`: the SNR in decibels (same ranking).
    SnrDb,
    /// `fisher-adam`: Adam's second moment from the run's checkpoint.
    FisherAdam,
    /// `fisher-grad`: squared gradients over the training images.
    FisherGrad,
    /// `fisher-adam-obd`: `F mu^2 / 2` with Adam's Fisher.
    FisherAdamObd,
    /// `fisher-grad-obd`: `F mu^2 / 2` with the gradient Fisher.
    FisherGradObd,
    /// `magnitude`: `|mu|` or `|w|`.
    Magnitude,
    /// `random`: uniform scores seeded by the training seed.
    Random,
}

impl CriterionName {
    /// Every criterion, in table order.
    pub const ALL: [CriterionName; 8] = [
        CriterionName::Snr,
        CriterionName::SnrDb,
        CriterionName::FisherAdam,
        CriterionName::FisherGrad,
        CriterionName::FisherAdamObd,
        CriterionName::FisherGradObd,
        CriterionName::Magnitude,
        CriterionName::Random,
    ];

    /// The file spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CriterionName::Snr => "snr",
            CriterionName::SnrDb => "snr-db",
            CriterionName::FisherAdam => "fisher-adam",
            CriterionName::FisherGrad => "fisher-grad",
            CriterionName::FisherAdamObd => "fisher-adam-obd",
            CriterionName::FisherGradObd => "fisher-grad-obd",
            CriterionName::Magnitude => "magnitude",
            CriterionName::Random => "random",
        }
    }
}

impl FromStr for CriterionName {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|c| c.as_str()).collect();
                config::<crate::Error>(
                    "criterion",
                    format!("unknown criterion {s:?}; valid: {}", names.join(", ")),
                )
            })
    }
}

impl TryFrom<String> for CriterionName {
    type Error = crate::Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<CriterionName> for String {
    fn from(c: CriterionName) -> String {
        c.as_str().to_string()
    }
}

impl std::fmt::Display for CriterionName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Settings of the pruning study.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `criteria` | snr, fisher-adam, fisher-grad, magnitude, random | see [`CriterionName`] |
/// | `fractions` | 0, 0.1, …, 0.9 | pruned fractions of the selected weights |
/// | `layers` | `fully_connected` | `all`, `fully_connected`, `convolutional` or `{ names = [...] }` |
/// | `scope` | `per_layer` | `per_layer` or `global` |
/// | `samples` | 100 | weight draws per prediction (1 for a deterministic model) |
/// | `draw_seed` | `0x5eed` | seed of the weight draws, the same at every point |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PruneStudy {
    /// Criteria, in table order.
    pub criteria: Vec<CriterionName>,
    /// Pruned fractions.
    pub fractions: Vec<f64>,
    /// Which layers are pruned.
    pub layers: LayerSet,
    /// Per layer or one global ranking.
    pub scope: Scope,
    /// Weight draws per prediction.
    pub samples: usize,
    /// Seed of the weight draws.
    pub draw_seed: u64,
}

impl Default for PruneStudy {
    fn default() -> Self {
        use CriterionName::*;
        PruneStudy {
            criteria: vec![Snr, FisherAdam, FisherGrad, Magnitude, Random],
            fractions: (0..10).map(|i| f64::from(i) / 10.0).collect(),
            layers: LayerSet::FullyConnected,
            scope: Scope::PerLayer,
            samples: 100,
            draw_seed: 0x5eed,
        }
    }
}

/// One point of the study: a criterion and a fraction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PrunePoint {
    /// The criterion.
    pub criterion: CriterionName,
    /// The pruned fraction.
    pub fraction: f64,
}

/// The measurements of one point on the test images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PruneRow {
    /// The criterion.
    pub criterion: CriterionName,
    /// The asked fraction.
    pub fraction: f64,
    /// The pruned share of the selected weights actually reached.
    pub sparsity: f64,
    /// Test error, mean over single weight draws.
    pub test_error_mean: f64,
    /// Its standard deviation over draws.
    pub test_error_std: f64,
    /// NLL of the predictive mean.
    pub nll: f64,
    /// ECE (10 equal-width bins).
    pub ece: f64,
    /// UCE (10 bins).
    pub uce: f64,
    /// UCE of the images labelled FRI.
    pub uce_fri: f64,
    /// UCE of the images labelled FRII.
    pub uce_frii: f64,
    /// Bytes of the sparse file.
    pub sparse_bytes: usize,
    /// Bytes of the unpruned model's dense file.
    pub unmasked_bytes: usize,
}

/// Errors of the caller's closures (model copies, fine-tuning).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Fine-tuning of a pruned model (e.g. a few epochs of its training step).
pub type Finetune<'a, M> = &'a dyn Fn(&mut M) -> std::result::Result<(), BoxError>;

/// The trained model and the data a study prunes and measures.
pub struct PruneSubject<'a, M> {
    fresh: &'a dyn Fn() -> std::result::Result<M, BoxError>,
    train: &'a dyn Loader,
    test: &'a ArrayLoader<u8>,
    seed: u64,
    checkpoint: Option<PathBuf>,
    finetune: Option<Finetune<'a, M>>,
    scratch: PathBuf,
    gradient_fisher: Option<Fisher>,
}

impl<'a, M: Module> PruneSubject<'a, M> {
    /// A subject: `fresh` returns a new copy of the trained model, `train`
    /// feeds the gradient Fisher pass, `test` is measured, `seed` is the
    /// training seed (it seeds the random criterion).
    pub fn new(
        fresh: &'a dyn Fn() -> std::result::Result<M, BoxError>,
        train: &'a dyn Loader,
        test: &'a ArrayLoader<u8>,
        seed: u64,
    ) -> Self {
        PruneSubject {
            fresh,
            train,
            test,
            seed,
            checkpoint: None,
            finetune: None,
            scratch: std::env::temp_dir(),
            gradient_fisher: None,
        }
    }

    /// The training checkpoint folder whose Adam state the `fisher-adam`
    /// criteria read.
    pub fn checkpoint(mut self, dir: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(dir.into());
        self
    }

    /// Fine-tunes every pruned model (fraction > 0) before measuring it.
    pub fn finetune(mut self, f: Finetune<'a, M>) -> Self {
        self.finetune = Some(f);
        self
    }

    /// A folder for the sparse file whose size is measured [temp dir].
    pub fn scratch(mut self, dir: impl Into<PathBuf>) -> Self {
        self.scratch = dir.into();
        self
    }

    fn fresh(&self) -> Result<M> {
        (self.fresh)().map_err(external)
    }

    fn adam_fisher(&self) -> Result<Fisher> {
        let dir = self.checkpoint.as_ref().ok_or_else(|| {
            config::<crate::Error>(
                "criterion",
                "fisher-adam needs the training checkpoint (PruneSubject::checkpoint)",
            )
        })?;
        Fisher::from_checkpoint(dir)
    }

    fn gradient_fisher(&mut self) -> Result<Fisher> {
        if self.gradient_fisher.is_none() {
            let model = self.fresh()?;
            let f = Fisher::from_gradients(&model, self.train, &FisherPass::default())?;
            self.gradient_fisher = Some(f);
        }
        Ok(self.gradient_fisher.clone().expect("set above"))
    }

    fn criterion(&mut self, name: CriterionName) -> Result<Box<dyn Criterion>> {
        use CriterionName::*;
        Ok(match name {
            Snr => Box::new(crate::Snr::ratio()),
            SnrDb => Box::new(crate::Snr::db()),
            FisherAdam => Box::new(self.adam_fisher()?),
            FisherAdamObd => Box::new(self.adam_fisher()?.saliency()),
            FisherGrad => Box::new(self.gradient_fisher()?),
            FisherGradObd => Box::new(self.gradient_fisher()?.saliency()),
            Magnitude => Box::new(crate::Magnitude),
            Random => Box::new(crate::Random::new(self.seed ^ 0xbad5eed)),
        })
    }
}

fn external(e: BoxError) -> crate::Error {
    // a caller's failure (model copy, fine-tuning), kept as its own type
    crate::Error::Nn(fanaroff_nn::Error::External(e))
}

impl PruneStudy {
    /// Checks the settings.
    ///
    /// # Errors
    /// No criterion or fraction, a fraction outside [0, 1], zero samples.
    pub fn check(&self) -> Result<()> {
        if self.criteria.is_empty() || self.fractions.is_empty() {
            return Err(config::<crate::Error>(
                "study",
                "needs at least one criterion and fraction",
            ));
        }
        if let Some(f) = self.fractions.iter().find(|f| !(0.0..=1.0).contains(*f)) {
            return Err(config::<crate::Error>(
                "fractions",
                format!("{f} is outside [0, 1]"),
            ));
        }
        if self.samples == 0 {
            return Err(config::<crate::Error>("samples", "must be >= 1"));
        }
        Ok(())
    }

    /// Every point, criterion-major, in the order of the settings.
    pub fn points(&self) -> Vec<PrunePoint> {
        let mut out = Vec::new();
        for &criterion in &self.criteria {
            for &fraction in &self.fractions {
                out.push(PrunePoint {
                    criterion,
                    fraction,
                });
            }
        }
        out
    }

    /// Prunes a fresh copy of the subject's model at `point`, fine-tunes it
    /// if the subject says so, and measures it.
    ///
    /// # Errors
    /// Invalid settings, a criterion the model cannot use (SNR of a
    /// deterministic layer), prediction or I/O failures.
    pub fn run_point<M: Module>(
        &self,
        subject: &mut PruneSubject<'_, M>,
        point: &PrunePoint,
    ) -> Result<PruneRow> {
        self.check()?;
        let mut model = subject.fresh()?;
        let mut crit = subject.criterion(point.criterion)?;
        let cfg = PruneConfig {
            layers: self.layers.clone(),
            scope: self.scope,
            amount: Amount::Fraction(point.fraction),
        };
        let report = prune(&mut model, crit.as_mut(), &cfg)?;
        if let (Some(f), true) = (subject.finetune, point.fraction > 0.0) {
            f(&mut model).map_err(external)?;
        }
        let path = subject
            .scratch
            .join(format!("pruned-{}.sparse", std::process::id()));
        let size = save_sparse(&model, &path)?;
        let _ = std::fs::remove_file(&path);
        let m = self.measure(&model, subject.test)?;
        Ok(PruneRow {
            criterion: point.criterion,
            fraction: point.fraction,
            sparsity: report.sparsity(),
            test_error_mean: m[0],
            test_error_std: m[1],
            nll: m[2],
            ece: m[3],
            uce: m[4],
            uce_fri: m[5],
            uce_frii: m[6],
            sparse_bytes: size.sparse_bytes,
            unmasked_bytes: size.unmasked_bytes,
        })
    }

    /// Error over draws (mean, std), NLL, ECE, UCE, UCE of FRI and FRII.
    fn measure<M: Module>(&self, model: &M, test: &ArrayLoader<u8>) -> Result<[f64; 7]> {
        let samples = if fanaroff_nn::is_stochastic(model) {
            self.samples
        } else {
            1
        };
        let pcfg = PredictConfig::with_samples(samples)
            .batch_size(50)
            .seed(self.draw_seed);
        let s = predict_samples(model, test.inputs().view(), &pcfg)?;
        let (mean, std) = mean_std(&per_sample_error(s.view(), test.labels())?);
        let r = CalibrationReport::compute(
            &Predictions::from_samples(s.view()),
            test.labels(),
            &ReportConfig::default(),
        )
        .map_err(|e| external(Box::new(e)))?;
        let class = |k: usize| {
            r.class_uce
                .per_class
                .get(k)
                .copied()
                .flatten()
                .unwrap_or(f64::NAN)
        };
        Ok([mean, std, r.nll, r.ece, r.uce, class(0), class(1)])
    }
}
