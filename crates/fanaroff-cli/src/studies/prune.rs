//! `kind = "prune"`: the pruning study of `fanaroff-prune` on the run's
//! trained model, with optional fine-tuning by the model's own step.

use crate::error::Result;
use crate::study::{StudyContext, StudySettings, fresh_model};
use fanaroff_nn::Module;
use fanaroff_prune::{BoxError, PruneStudy, PruneSubject};
use fanaroff_train::{TrainConfig, Trainer};
use serde::{Deserialize, Serialize};

/// The [`PruneStudy`] keys plus `finetune_epochs` (0: none) and
/// `finetune_lr` (5e-4): each pruned model is trained that many epochs
/// with its kind's training step before it is measured.
///
/// Rows: [`PruneRow`](fanaroff_prune::PruneRow), keyed by criterion and
/// fraction.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PruneStudySpec {
    /// The study.
    #[serde(flatten)]
    pub study: PruneStudy,
    /// Fine-tuning epochs of every pruned model.
    #[serde(default)]
    pub finetune_epochs: usize,
    /// Adam learning rate of the fine-tuning.
    #[serde(default = "finetune_lr")]
    pub finetune_lr: f32,
}

fn finetune_lr() -> f32 {
    5e-4
}

impl StudySettings for PruneStudySpec {
    const KIND: &'static str = "prune";

    fn check(&self) -> Result<()> {
        Ok(self.study.check()?)
    }

    fn row_keys(&self) -> Vec<String> {
        vec!["criterion".into(), "fraction".into()]
    }

    fn run(&self, ctx: &mut StudyContext<'_>) -> Result<()> {
        let (exp, trained) = (ctx.experiment, ctx.trained_dir);
        let fresh = || -> std::result::Result<Box<dyn Module>, BoxError> {
            Ok(fresh_model(exp, trained)?.model)
        };
        let train = exp.data.train_loader(&ctx.data.train)?;
        let test = exp.data.loader(&ctx.data.test)?;
        let finetune = |m: &mut Box<dyn Module>| -> std::result::Result<(), BoxError> {
            let step = fresh_model(exp, trained)?.step;
            let cfg = TrainConfig::default()
                .epochs(self.finetune_epochs)
                .adam(self.finetune_lr)
                .seed(exp.seed + 1000)
                .progress(false)
                .log_epochs(false);
            Trainer::new(cfg)?.step(step).fit(m, &train)?;
            Ok(())
        };
        let mut subject = PruneSubject::new(&fresh, &train, &test, exp.seed)
            .checkpoint(trained.join("ckpt"))
            .scratch(ctx.dir);
        if self.finetune_epochs > 0 {
            subject = subject.finetune(&finetune);
        }
        for p in &self.study.points() {
            let key = format!("{}@{}", p.criterion, p.fraction);
            if !ctx.done(&key) {
                let row = self.study.run_point(&mut subject, p)?;
                ctx.push(key, &row)?;
            }
        }
        Ok(())
    }
}
