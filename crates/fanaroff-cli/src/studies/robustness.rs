//! `kind = "robustness"`: noise levels and attacks on the trained model
//! ([`RobustnessStudy`] of `fanaroff-perturb`), one row per test, and the
//! noise levels on the validation images too (`split = "val"`, from the
//! images without `data.train_snr` noise), so that a setting can be chosen
//! on noisy validation data.

use crate::error::Result;
use crate::study::{StudyContext, StudySettings};
use fanaroff_perturb::{RobustnessRow, RobustnessStudy};
use serde::{Deserialize, Serialize};

/// The [`RobustnessStudy`] keys (`snr`, `draws`, `pgd_eps`, `pgd_steps`,
/// `eot`, `one_pixel`). Rows are keyed by `split` (`test`, or `val` for
/// the noise tests on the validation images), `test` and `level`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RobustnessStudySpec {
    /// The study.
    #[serde(flatten)]
    pub study: RobustnessStudy,
}

impl StudySettings for RobustnessStudySpec {
    const KIND: &'static str = "robustness";

    fn check(&self) -> Result<()> {
        Ok(self.study.check()?)
    }

    fn row_keys(&self) -> Vec<String> {
        vec!["split".into(), "test".into(), "level".into()]
    }

    fn run(&self, ctx: &mut StudyContext<'_>) -> Result<()> {
        let exp = ctx.experiment;
        let scaling = exp.data.scaling.scaling();
        if !ctx.done("all") {
            let (raw, labels) = raw_images(ctx, &ctx.data.test)?;
            let rows = self.study.run(
                ctx.model,
                exp.model.stochastic(),
                &raw,
                &labels,
                scaling,
                exp.seed,
            )?;
            // one key for the whole set: the tests share the clean baseline
            ctx.push_all("all", &tagged("test", rows))?;
        }
        if !ctx.done("val") {
            // from the clean validation images: an oracle's (`data.train_snr`)
            // are noisy already
            let (raw, labels) = raw_images(ctx, &ctx.data.clean_val)?;
            let rows = self
                .study
                .noise(ctx.model, &raw, &labels, scaling, exp.seed ^ 0x7a1)?;
            ctx.push_all("val", &tagged("val", rows))?;
        }
        Ok(())
    }
}

/// A row of the study with the split it was measured on.
#[derive(Serialize)]
struct SplitRow {
    split: &'static str,
    #[serde(flatten)]
    row: RobustnessRow,
}

fn tagged(split: &'static str, rows: Vec<RobustnessRow>) -> Vec<SplitRow> {
    rows.into_iter()
        .map(|row| SplitRow { split, row })
        .collect()
}

/// The raw pixels (0-255) `[N, 1, H, W]` and labels of a split.
fn raw_images(
    ctx: &StudyContext<'_>,
    ds: &fanaroff_data::Dataset,
) -> Result<(ndarray::Array4<f32>, Vec<usize>)> {
    let loader = ctx.experiment.data.loader(ds)?;
    let raw = loader
        .examples()
        .mapv(f32::from)
        .into_dimensionality::<ndarray::Ix4>()
        .map_err(|e| crate::error::invalid("robustness", e.to_string()))?;
    Ok((raw, loader.labels().to_vec()))
}
