//! `kind = "map_spread"`: how uncertain a Bayesian attention net's maps
//! are ([`MapSpreadStudy`] of `fanaroff-attention`), one row per group of
//! images.

use crate::error::{Result, invalid};
use crate::study::{StudyContext, StudySettings};
use fanaroff_attention::{AttentionNet, MapSpreadRow, MapSpreadStudy};
use fanaroff_nn::ModuleExt;
use serde::{Deserialize, Serialize};

/// The [`MapSpreadStudy`] keys (`draws`, `batch_size`). Rows are keyed by
/// `group`: `test_right`, `test_wrong` (the predictive mean over the draws)
/// and `uncertain` (MBFRUncertain, when the data has it); each holds
/// `images`, `spread_gate1` … (a map's summed standard deviation over
/// draws divided by its summed mean), `entropy` and `mutual_information`
/// (nats), means over the group's images.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapSpreadStudySpec {
    /// The study.
    #[serde(flatten)]
    pub study: MapSpreadStudy,
}

impl StudySettings for MapSpreadStudySpec {
    const KIND: &'static str = "map_spread";

    fn check(&self) -> Result<()> {
        if self.study.draws < 2 {
            return Err(invalid("study.draws", "must be >= 2"));
        }
        Ok(())
    }

    fn row_keys(&self) -> Vec<String> {
        vec!["group".into()]
    }

    fn run(&self, ctx: &mut StudyContext<'_>) -> Result<()> {
        if ctx.done("all") {
            return Ok(());
        }
        let mut model = ctx.fresh()?.model;
        model.as_mut().eval();
        let net = model
            .as_any()
            .and_then(|a| a.downcast_ref::<AttentionNet>())
            .ok_or_else(|| invalid("study", "map_spread needs an attention_net model"))?;
        let data = &ctx.experiment.data;
        let test = data.loader(&ctx.data.test)?;
        let uncertain = match ctx.data.uncertain.is_empty() {
            true => None,
            false => Some(data.loader(&ctx.data.uncertain)?),
        };
        let other = uncertain.as_ref().map(|u| ("uncertain", u));
        let rows = self.study.run(net, &test, other, ctx.experiment.seed)?;
        let rows: Vec<serde_json::Value> = rows.iter().map(flat).collect::<Result<_>>()?;
        ctx.push_all("all", &rows)
    }
}

/// The row with the per-gate spreads as numbered fields.
fn flat(row: &MapSpreadRow) -> Result<serde_json::Value> {
    let mut v = serde_json::to_value(row).map_err(|e| invalid("map_spread row", e.to_string()))?;
    let obj = v.as_object_mut().expect("a struct is an object");
    obj.remove("spread");
    for (k, s) in row.spread.iter().enumerate() {
        obj.insert(format!("spread_gate{}", k + 1), (*s).into());
    }
    Ok(v)
}
