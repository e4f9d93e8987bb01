//! `kind = "uncertainty"`: how well the trained model knows what it does
//! not know. On the test images: error, NLL, calibration, risk-coverage
//! and conformal prediction sets (calibrated on the validation images); on
//! shifted sets (MBFRUncertain, hybrids, synthetic galaxies, noisy copies):
//! how well each uncertainty score separates them from the test images.
//! For a deterministic model, the same for last-layer Laplace posteriors
//! fitted to it.

use crate::error::{Result, invalid};
use crate::studies::uncertainty_metrics::{Predicted, id_row, ood_rows, ood_scores};
use crate::studies::uncertainty_predict::{laplace_predicted, last_layer_view, model_predicted};
use crate::studies::uncertainty_sets::shifted_sets;
use crate::study::{StudyContext, StudySettings};
use fanaroff_calibrate::Mahalanobis;
use fanaroff_laplace::{
    HessianKind, LaplaceConfig, LastLayerLaplace, PriorSelection, Structure, linear_head,
    select_prior_precision,
};
use fanaroff_nn::{LastLayer, SampleMode, set_sample_mode};
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

impl UncertaintyStudy {
    fn rows(&self, ctx: &StudyContext<'_>) -> Result<Vec<Value>> {
        let exp = ctx.experiment;
        let stochastic = exp.model.stochastic();
        let mut mean_net = ctx.fresh()?.model;
        mean_net.set_training(false);
        set_sample_mode(&mut *mean_net, SampleMode::Mean);
        let seed = exp.seed ^ 0x0cc5;
        let predict = |x: &ndarray::ArrayD<f32>| {
            model_predicted(ctx.model, stochastic, &*mean_net, x, self.samples, seed)
        };
        let (xt, yt) = split(ctx, &ctx.data.test)?;
        let (xv, yv) = split(ctx, &ctx.data.val)?;
        let (test, val) = (predict(&xt)?, predict(&xv)?);
        let mut shifted = Vec::new();
        for set in shifted_sets(exp, ctx.data, self.synthetic, self.snr)? {
            log::info!("uncertainty: {} ({} images)", set.name, set.images.len());
            let (x, _) = split(ctx, &set.images)?;
            shifted.push((set.name, predict(&x)?));
        }
        let view = last_layer_view(&*mean_net);
        let (xtr, ytr) = split(ctx, &ctx.data.train)?;
        let train_features = match view {
            Some(v) => Some(fanaroff_laplace::penultimate_features(v, xtr.view(), 50)?),
            None => None,
        };
        let classes = test.mean.ncols();
        let maha = match &train_features {
            Some(f) => Some(Mahalanobis::fit(f.view(), &ytr, classes, 1e-3)?),
            None => None,
        };
        let labels = Labels {
            test: &yt,
            val: &yv,
        };
        let mut rows = self.method_rows(
            exp.model.label(),
            &test,
            &val,
            &shifted,
            maha.as_ref(),
            labels,
        )?;
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
            let la = fit_laplace(spec, v, (f, &ytr), (&val, &yv))?;
            log::info!(
                "uncertainty: {} at prior precision {:.4}",
                spec.method(),
                la.prior_precision()
            );
            let lp = |p: &Predicted| {
                laplace_predicted(
                    &la,
                    p.features.as_ref().expect("features"),
                    self.samples,
                    seed,
                )
            };
            let shifted_la: Vec<_> = shifted
                .iter()
                .map(|(n, p)| Ok((*n, lp(p)?)))
                .collect::<Result<_>>()?;
            rows.extend(self.method_rows(
                &spec.method(),
                &lp(&test)?,
                &lp(&val)?,
                &shifted_la,
                maha.as_ref(),
                labels,
            )?);
        }
        Ok(rows)
    }

    fn method_rows(
        &self,
        method: &str,
        test: &Predicted,
        val: &Predicted,
        shifted: &[(&'static str, Predicted)],
        maha: Option<&Mahalanobis>,
        labels: Labels<'_>,
    ) -> Result<Vec<Value>> {
        let id = id_row(test, labels.test, val, labels.val, self.alpha)?;
        let mut rows = vec![row(method, "test", "", &id)?];
        let inside = ood_scores(test, maha)?;
        for (name, p) in shifted {
            for (score, r) in ood_rows(&inside, &ood_scores(p, maha)?)? {
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

#[derive(Clone, Copy)]
struct Labels<'a> {
    test: &'a [usize],
    val: &'a [usize],
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
