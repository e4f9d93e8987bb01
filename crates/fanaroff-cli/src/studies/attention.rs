//! `kind = "attention"`: where the trained model looks
//! ([`ExplainStudy`] of `fanaroff-attention`), one row.

use crate::error::{Result, invalid};
use crate::study::{StudyContext, StudySettings};
use fanaroff_attention::ExplainStudy;
use fanaroff_nn::ModuleExt;
use serde::{Deserialize, Serialize};

/// The [`ExplainStudy`] keys (`batch_size`, `saliency`, `lrp`). The row
/// holds test accuracy and AUC, the source area, each gate's attention
/// mass as `attention_mass_gate1` … and the gradient, gradient × input and
/// LRP masses.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttentionStudySpec {
    /// The study.
    #[serde(flatten)]
    pub study: ExplainStudy,
}

impl StudySettings for AttentionStudySpec {
    const KIND: &'static str = "attention";

    fn run(&self, ctx: &mut StudyContext<'_>) -> Result<()> {
        if ctx.done("test") {
            return Ok(());
        }
        let mut model = ctx.fresh()?.model;
        model.as_mut().eval();
        let test = ctx.experiment.data.loader(&ctx.data.test)?;
        let row = self.study.run(model.as_mut(), &test)?;
        ctx.push("test", &flat(&row)?)
    }
}

/// The row with the per-gate masses as numbered fields, so tables see them.
fn flat(row: &fanaroff_attention::ExplainRow) -> Result<serde_json::Value> {
    let mut v = serde_json::to_value(row).map_err(|e| invalid("attention row", e.to_string()))?;
    let obj = v.as_object_mut().expect("a struct is an object");
    obj.remove("attention_mass");
    for (k, m) in row.attention_mass.iter().enumerate() {
        obj.insert(format!("attention_mass_gate{}", k + 1), (*m).into());
    }
    Ok(v)
}
