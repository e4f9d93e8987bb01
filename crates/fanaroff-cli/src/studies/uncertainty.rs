//! `kind = "uncertainty"`: how well the trained model knows what it does
//! not know. On the test images: error, NLL, calibration, risk-coverage
//! and conformal prediction sets (calibrated on the validation images); on
//! shifted sets (MBFRUncertain, hybrids, synthetic galaxies, noisy copies):
//! how well each uncertainty score separates them from the test images.
//! For a deterministic model, the same for last-layer Laplace posteriors
//! fitted to it.

use crate::error::{Result, invalid};
use crate::studies::ensemble::train_members;
use crate::studies::uncertainty_metrics::{Predicted, id_row, ood_rows, ood_scores};
use crate::studies::uncertainty_predict::{
    ensemble_predicted, laplace_predicted, last_layer_view, model_predicted,
};
use crate::studies::uncertainty_sets::shifted_sets;
use crate::study::{StudyContext, StudySettings};
use fanaroff_calibrate::Mahalanobis;
use fanaroff_calibrate::npy::{write_npy_f64, write_npy_i64};
use fanaroff_laplace::{
    HessianKind, LaplaceConfig, LastLayerLaplace, PriorSelection, Structure, linear_head,
    penultimate_features, select_prior_precision,
};
use fanaroff_nn::{LastLayer, SampleMode, set_sample_mode};
use ndarray::ArrayD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Settings. Rows are keyed by `method` (the model kind, or
/// `laplace_<hessian>_<structure>_<prior>`), `set` (`test` for the
/// in-distribution row, else the shifted set) and `score` (empty for the
/// test row; `max_softmax`, `entropy`, `mutual_information`, `max_logit`,
/// `energy`, `mahalanobis`).
///
/// | key | default | meaning |
/// |---|---|---|
/// | `samples` | 20 | Monte Carlo draws of stochastic models and Laplace posteriors |
/// | `alpha` | 0.1 | miscoverage of the conformal sets (LAC; marginal and per class) |
/// | `snr` | 5 | peak signal-to-noise ratio of the noisy test copies |
/// | `synthetic` | 200 | synthetic galaxies as a shifted set (MiraBest data only; 0: none) |
/// | `laplace` | `[]` | last-layer Laplace posteriors: `{ hessian, structure, prior }` each |
/// | `members` | 0 | with >= 2, also the deep ensemble of the (deterministic) model and `members - 1` more on the same split (method `ensemble`; trained as the `ensemble` study trains them) |
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UncertaintyStudy {
    /// Monte Carlo draws.
    #[serde(default = "twenty")]
    pub samples: usize,
    /// Conformal miscoverage.
    #[serde(default = "tenth")]
    pub alpha: f64,
    /// Noise level of the noisy copies.
    #[serde(default = "five")]
    pub snr: f64,
    /// Synthetic galaxies.
    #[serde(default = "two_hundred")]
    pub synthetic: usize,
    /// Laplace posteriors on the trained (deterministic) model.
    #[serde(default)]
    pub laplace: Vec<LaplaceSpec>,
    /// Deep-ensemble size (0: none), the trained model included.
    #[serde(default)]
    pub members: usize,
}

/// One last-layer Laplace posterior: `hessian` (`ggn`), `structure`
/// (`kron`) and `prior` (`marginal_likelihood`, `validation_nll` or `fixed`
/// at precision 1).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaplaceSpec {
    /// The curvature.
    #[serde(default)]
    pub hessian: HessianKind,
    /// Its structure.
    #[serde(default = "kron")]
    pub structure: Structure,
    /// How the prior precision is chosen.
    #[serde(default = "evidence")]
    pub prior: PriorSelection,
}

fn twenty() -> usize {
    20
}
fn tenth() -> f64 {
    0.1
}
fn five() -> f64 {
    5.0
}
fn two_hundred() -> usize {
    200
}
fn kron() -> Structure {
    Structure::Kron
}
fn evidence() -> PriorSelection {
    PriorSelection::MarginalLikelihood
}

impl Default for UncertaintyStudy {
    fn default() -> Self {
        UncertaintyStudy {
            samples: twenty(),
            alpha: tenth(),
            snr: five(),
            synthetic: two_hundred(),
            laplace: Vec::new(),
            members: 0,
        }
    }
}

impl LaplaceSpec {
    /// `laplace_<hessian>_<structure>_<prior>`, with the settings' file names.
    fn method(&self) -> String {
        let name = |v: serde_json::Result<Value>| {
            v.ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        };
        format!(
            "laplace_{}_{}_{}",
            name(serde_json::to_value(self.hessian)),
            name(serde_json::to_value(self.structure)),
            name(serde_json::to_value(self.prior))
        )
    }
}

impl StudySettings for UncertaintyStudy {
    const KIND: &'static str = "uncertainty";

    fn check(&self) -> Result<()> {
        if self.samples == 0 {
            return Err(invalid("study.samples", "0; need >= 1"));
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(invalid(
                "study.alpha",
                format!("{}; must be in (0, 1)", self.alpha),
            ));
        }
        if self.members == 1 {
            return Err(invalid(
                "study.members",
                "1; an ensemble needs >= 2 (0: none)",
            ));
        }
        if !(self.snr.is_finite() && self.snr > 0.0) {
            return Err(invalid("study.snr", format!("{}; must be > 0", self.snr)));
        }
        Ok(())
    }

    fn row_keys(&self) -> Vec<String> {
        vec!["method".into(), "set".into(), "score".into()]
    }

    fn run(&self, ctx: &mut StudyContext<'_>) -> Result<()> {
        if ctx.done("all") {
            return Ok(());
        }
        let rows = self.rows(ctx)?;
        ctx.push_all("all", &rows)
    }
}

/// Images of a split, scaled as in training, and their labels.
fn split(
    ctx: &StudyContext<'_>,
    ds: &fanaroff_data::Dataset,
) -> Result<(ndarray::ArrayD<f32>, Vec<usize>)> {
    let loader = ctx.experiment.data.loader(ds)?;
    Ok((loader.inputs(), loader.labels().to_vec()))
}

/// The study's images: test, validation (conformal calibration, Laplace
/// prior) and training (Mahalanobis, Laplace fit) with labels, and the
/// shifted sets.
struct Images {
    test: (ArrayD<f32>, Vec<usize>),
    val: (ArrayD<f32>, Vec<usize>),
    train: (ArrayD<f32>, Vec<usize>),
    shifted: Vec<(&'static str, ArrayD<f32>)>,
}

/// One method's predictions on every set.
struct Predictions {
    test: Predicted,
    val: Predicted,
    shifted: Vec<(&'static str, Predicted)>,
}

impl Images {
    fn load(ctx: &StudyContext<'_>, synthetic: usize, snr: f64) -> Result<Self> {
        let mut shifted = Vec::new();
        for set in shifted_sets(ctx.experiment, ctx.data, synthetic, snr)? {
            shifted.push((set.name, split(ctx, &set.images)?.0));
        }
        Ok(Images {
            test: split(ctx, &ctx.data.test)?,
            val: split(ctx, &ctx.data.val)?,
            train: split(ctx, &ctx.data.train)?,
            shifted,
        })
    }

    /// `f` on the test, validation and shifted images.
    fn predict(&self, f: impl Fn(&ArrayD<f32>) -> Result<Predicted>) -> Result<Predictions> {
        let mut shifted = Vec::new();
        for (name, x) in &self.shifted {
            log::info!("uncertainty: {name} ({} images)", x.shape()[0]);
            shifted.push((*name, f(x)?));
        }
        Ok(Predictions {
            test: f(&self.test.0)?,
            val: f(&self.val.0)?,
            shifted,
        })
    }
}

impl UncertaintyStudy {
    fn rows(&self, ctx: &StudyContext<'_>) -> Result<Vec<Value>> {
        let exp = ctx.experiment;
        let stochastic = exp.model.stochastic();
        let mut mean_net = ctx.fresh()?.model;
        mean_net.set_training(false);
        set_sample_mode(&mut *mean_net, SampleMode::Mean);
        let seed = exp.seed ^ 0x0cc5;
        let images = Images::load(ctx, self.synthetic, self.snr)?;
        let model = images.predict(|x| {
            model_predicted(ctx.model, stochastic, &*mean_net, x, self.samples, seed)
        })?;
        let view = last_layer_view(&*mean_net);
        let train_features = match view {
            Some(v) => Some(penultimate_features(v, images.train.0.view(), 50)?),
            None => None,
        };
        let maha = match &train_features {
            Some(f) => Some(Mahalanobis::fit(
                f.view(),
                &images.train.1,
                model.test.mean.ncols(),
                1e-3,
            )?),
            None => None,
        };
        let mut rows = self.method_rows(exp.model.label(), &model, maha.as_ref(), &images)?;
        save_predictive(
            ctx.dir,
            exp.model.label(),
            &model.test,
            Some(&images.test.1),
        )?;
        if self.members >= 2 {
            rows.extend(self.ensemble_rows(ctx, &images)?);
        }
        for spec in &self.laplace {
            let (Some(v), Some(f)) = (view, &train_features) else {
                return Err(invalid(
                    "study.laplace",
                    "the model exposes no penultimate features and last layer",
                ));
            };
            if stochastic {
                return Err(invalid(
                    "study.laplace",
                    format!("needs a deterministic model, not {}", exp.model.label()),
                ));
            }
            let la = fit_laplace(spec, v, (f, &images.train.1), (&model.val, &images.val.1))?;
            log::info!(
                "uncertainty: {} at prior precision {:.4}",
                spec.method(),
                la.prior_precision()
            );
            let lp = |p: &Predicted| match &p.features {
                Some(f) => laplace_predicted(&la, f, self.samples, seed),
                None => Err(invalid("study.laplace", "no features")),
            };
            let preds = Predictions {
                test: lp(&model.test)?,
                val: lp(&model.val)?,
                shifted: model
                    .shifted
                    .iter()
                    .map(|(n, p)| Ok((*n, lp(p)?)))
                    .collect::<Result<_>>()?,
            };
            rows.extend(self.method_rows(&spec.method(), &preds, maha.as_ref(), &images)?);
            save_predictive(ctx.dir, &spec.method(), &preds.test, None)?;
        }
        Ok(rows)
    }

    /// The deep ensemble of the trained model and `members - 1` more
    /// trained on the same split (as the `ensemble` study trains them).
    fn ensemble_rows(&self, ctx: &StudyContext<'_>, images: &Images) -> Result<Vec<Value>> {
        let dirs = train_members(ctx, self.members)?;
        let mut nets = Vec::new();
        for d in &dirs {
            let mut m = crate::study::fresh_model(ctx.experiment, d)?.model;
            m.set_training(false);
            nets.push(m);
        }
        let preds = images.predict(|x| ensemble_predicted(&nets, x))?;
        save_predictive(ctx.dir, "ensemble", &preds.test, None)?;
        self.method_rows("ensemble", &preds, None, images)
    }

    fn method_rows(
        &self,
        method: &str,
        p: &Predictions,
        maha: Option<&Mahalanobis>,
        images: &Images,
    ) -> Result<Vec<Value>> {
        let id = id_row(&p.test, &images.test.1, &p.val, &images.val.1, self.alpha)?;
        let mut rows = vec![row(method, "test", "", &id)?];
        let inside = ood_scores(&p.test, maha)?;
        for (name, q) in &p.shifted {
            for (score, r) in ood_rows(&inside, &ood_scores(q, maha)?)? {
                rows.push(row(method, name, score, &r)?);
            }
        }
        Ok(rows)
    }
}

/// A Laplace posterior on the last layer of `view`, fitted to the training
/// features and labels, its prior precision chosen as `spec` says (the
/// validation NLL on `val`).
fn fit_laplace(
    spec: &LaplaceSpec,
    view: &dyn LastLayer,
    train: (&ndarray::Array2<f64>, &[usize]),
    val: (&Predicted, &[usize]),
) -> Result<LastLayerLaplace> {
    let cfg = LaplaceConfig {
        hessian: spec.hessian,
        structure: spec.structure,
        ..LaplaceConfig::default()
    };
    let head = linear_head(view.last_layer()?)?;
    let mut la = LastLayerLaplace::fit(train.0.view(), train.1, head, cfg)?;
    let val_features = val
        .0
        .features
        .as_ref()
        .ok_or_else(|| invalid("study.laplace", "no validation features"))?;
    select_prior_precision(&mut la, spec.prior, Some((val_features.view(), val.1)))?;
    Ok(la)
}

/// Writes a method's predictive on the test images as
/// `uncertainty/<method>_test.npy` `[N, K]` in the run folder (and the test
/// labels as `uncertainty/labels_test.npy`), for reliability diagrams with
/// any binning: `fanaroff calibrate --probs ... --labels ... --strategy mass`.
fn save_predictive(
    dir: &std::path::Path,
    method: &str,
    p: &Predicted,
    labels: Option<&[usize]>,
) -> Result<()> {
    let out = dir.join("uncertainty");
    std::fs::create_dir_all(&out).map_err(fanaroff_core::io(&out))?;
    let m = &p.mean;
    let data: Vec<f64> = m.iter().copied().collect();
    write_npy_f64(
        out.join(format!("{method}_test.npy")),
        &[m.nrows(), m.ncols()],
        &data,
    )?;
    if let Some(y) = labels {
        let y: Vec<i64> = y.iter().map(|&v| v as i64).collect();
        write_npy_i64(out.join("labels_test.npy"), &[y.len()], &y)?;
    }
    Ok(())
}

fn row(method: &str, set: &str, score: &str, metrics: &impl Serialize) -> Result<Value> {
    let mut m = Map::new();
    m.insert("method".into(), method.into());
    m.insert("set".into(), set.into());
    m.insert("score".into(), score.into());
    if let Value::Object(o) =
        serde_json::to_value(metrics).map_err(|e| invalid("study row", e.to_string()))?
    {
        m.extend(o);
    }
    Ok(Value::Object(m))
}
