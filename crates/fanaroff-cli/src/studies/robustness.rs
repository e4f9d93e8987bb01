//! `kind = "robustness"`: noise levels and attacks on the trained model
//! ([`RobustnessStudy`] of `fanaroff-perturb`), one row per test.

use crate::error::Result;
use crate::study::{StudyContext, StudySettings};
use fanaroff_perturb::RobustnessStudy;
use serde::{Deserialize, Serialize};

/// The [`RobustnessStudy`] keys (`snr`, `draws`, `pgd_eps`, `pgd_steps`,
/// `eot`, `one_pixel`). Rows are keyed by `test` and `level`.
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
        vec!["test".into(), "level".into()]
    }

    fn run(&self, ctx: &mut StudyContext<'_>) -> Result<()> {
        if ctx.done("all") {
            return Ok(());
        }
        let exp = ctx.experiment;
        let test = exp.data.loader(&ctx.data.test)?;
        let raw = test
            .examples()
            .mapv(f32::from)
            .into_dimensionality::<ndarray::Ix4>()
            .map_err(|e| crate::error::invalid("robustness", e.to_string()))?;
        let scaling = exp.data.scaling.scaling();
        let rows = self.study.run(
            ctx.model,
            exp.model.stochastic(),
            &raw,
            test.labels(),
            scaling,
            exp.seed,
        )?;
        // one key for the whole set: the tests share the clean baseline
        ctx.push_all("all", &rows)
    }
}
