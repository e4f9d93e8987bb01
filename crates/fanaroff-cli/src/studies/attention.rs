//! `kind = "attention"`: where the trained model looks
//! ([`ExplainStudy`] of `fanaroff-attention`), one row.

use crate::error::{Result, invalid};
use crate::study::{StudyContext, StudySettings};
use fanaroff_attention::ExplainStudy;
use fanaroff_calibrate::auroc;
use fanaroff_nn::{Module, ModuleExt};
use fanaroff_train::{ArrayLoader, PredictConfig, predict_augmented};
use serde::{Deserialize, Serialize};

/// The [`ExplainStudy`] keys (`batch_size`, `saliency`, `lrp`) and `tta`.
/// The row holds test accuracy and AUC, the source area, each gate's
/// attention mass as `attention_mass_gate1` … and the gradient, gradient ×
/// input and LRP masses; with `tta = N` also `tta_accuracy` and `tta_auc`
/// over every prediction on N random augmented copies of the test images
/// (the data section's augmentation; the attention study code's test
/// protocol uses 360).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttentionStudySpec {
    /// The study.
    #[serde(flatten)]
    pub study: ExplainStudy,
    /// Augmented copies of the test images (0: none).
    #[serde(default)]
    pub tta: usize,
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
        let mut row = flat(&row)?;
        if self.tta > 0 {
            let copies = ctx.experiment.data.train_loader(&ctx.data.test)?;
            let seed = ctx.experiment.seed ^ 0x77a;
            let (acc, auc) = tta_scores(model.as_ref(), &copies, self.tta, seed)?;
            row["tta_accuracy"] = acc.into();
            row["tta_auc"] = auc.into();
        }
        ctx.push("test", &row)
    }
}

/// Accuracy and AUROC of p(class 1) over every prediction on `reps`
/// augmented copies of `copies`' images.
fn tta_scores(
    model: &dyn Module,
    copies: &ArrayLoader<u8>,
    reps: usize,
    seed: u64,
) -> Result<(f64, f64)> {
    if !copies.is_augmented() {
        return Err(invalid("study.tta", "the data section has no augmentation"));
    }
    let cfg = PredictConfig::with_samples(1).batch_size(32).seed(seed);
    let p = predict_augmented(model, copies, reps, &cfg)?;
    let labels = copies.labels();
    let (mut correct, mut scores, mut positives) = (0usize, Vec::new(), Vec::new());
    for pass in p.outer_iter() {
        for (row, &y) in pass.outer_iter().zip(labels) {
            correct += usize::from(usize::from(row[1] > row[0]) == y);
            scores.push(f64::from(row[1]));
            positives.push(y == 1);
        }
    }
    Ok((
        correct as f64 / scores.len() as f64,
        auroc(&scores, &positives)?,
    ))
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
