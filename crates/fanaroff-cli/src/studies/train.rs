//! `kind = "train"`: train and evaluate, nothing more.

use crate::error::Result;
use crate::study::{StudyContext, StudySettings};
use serde::{Deserialize, Serialize};

/// The default study: the record's `metrics` are its result; no rows.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainStudy {}

impl StudySettings for TrainStudy {
    const KIND: &'static str = "train";
    fn run(&self, _ctx: &mut StudyContext<'_>) -> Result<()> {
        Ok(())
    }
}
