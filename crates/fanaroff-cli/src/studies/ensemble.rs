//! `kind = "ensemble"`: the deep-ensemble baseline. The run's trained model
//! is the first member; the others are trained in `member<k>/` on the same
//! split with initialisation seeds `seed + 1000 k` (each a run of its own,
//! so a killed study resumes inside a member), and the members are
//! evaluated as one predictive.

use crate::ensemble::evaluate_ensemble;
use crate::error::{Result, invalid};
use crate::run::{RunOptions, run};
use crate::study::{StudyContext, StudySettings, StudySpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `members` (5): the ensemble's size, the trained model included. The row
/// holds the ensemble's test metrics (as the record's `metrics`, with
/// `test_error_mean` the members' mean error and `test_error_predictive`
/// the ensemble's) and `members`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnsembleStudy {
    /// Members, the trained model included.
    #[serde(default = "five")]
    pub members: usize,
}

fn five() -> usize {
    5
}

impl Default for EnsembleStudy {
    fn default() -> Self {
        EnsembleStudy { members: five() }
    }
}

impl StudySettings for EnsembleStudy {
    const KIND: &'static str = "ensemble";

    fn check(&self) -> Result<()> {
        if self.members < 2 {
            return Err(invalid("study.members", "an ensemble needs at least 2"));
        }
        Ok(())
    }

    fn run(&self, ctx: &mut StudyContext<'_>) -> Result<()> {
        if ctx.done("ensemble") {
            return Ok(());
        }
        let dirs = train_members(ctx, self.members)?;
        let mut row: BTreeMap<String, f64> = evaluate_ensemble(&dirs)?;
        row.insert("members".into(), self.members as f64);
        ctx.push("ensemble", &row)
    }
}

/// The folders of an ensemble's members: the trained model's, then
/// `members - 1` more trained in `member<k>/` on the same split with seeds
/// `seed + 1000 k` (each a run of its own, so a killed study resumes inside
/// a member).
///
/// # Errors
/// A stochastic model; a member's training failures.
pub(crate) fn train_members(ctx: &StudyContext<'_>, members: usize) -> Result<Vec<PathBuf>> {
    let exp = ctx.experiment;
    if exp.model.stochastic() {
        return Err(invalid(
            "study",
            format!(
                "ensemble members must be deterministic, not {}",
                exp.model.label()
            ),
        ));
    }
    let mut dirs = vec![ctx.trained_dir.to_path_buf()];
    for k in 1..members {
        let mut member = exp.clone();
        member.data.split_seed = Some(exp.data.split_seed.unwrap_or(exp.seed));
        member.seed = exp.seed + 1000 * k as u64;
        member.study = StudySpec::default();
        let dir = ctx.dir.join(format!("member{k}"));
        if !dir.join(crate::record::RECORD_FILE).exists() {
            run(&member, &RunOptions::new(&dir))?;
        }
        dirs.push(dir);
    }
    Ok(dirs)
}
