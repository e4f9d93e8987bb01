//! `run`: an experiment in, a trained model and a [`RunRecord`] out, in a
//! folder that makes a killed run resumable.

use crate::data::RunData;
use crate::error::{Result, invalid, io};
use crate::evaluate::evaluate_experiment;
use crate::experiment::Experiment;
use crate::record::{RECORD_FILE, RunRecord, unix_now, versions};
use crate::step::StepInput;
use crate::study::{ROWS_FILE, StudyContext, fresh_model};
use fanaroff_nn::ModuleExt;
use fanaroff_nn::{Module, save_model};
use fanaroff_train::{
    ArrayLoader, AugmentedValidation, Evaluate, Probe, Trainer, Validation, has_checkpoint,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where and how a run happens (not part of the experiment).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The run folder: `experiment.toml`, `ckpt/`, `model.safetensors`,
    /// and last `record.json`.
    pub dir: PathBuf,
    /// Threads of the numeric pool (`None`: all cores). Results are
    /// reproducible for the same seed and thread count.
    pub threads: Option<usize>,
    /// Progress bar on stderr.
    pub progress: bool,
}

impl RunOptions {
    /// A run in `dir`, all cores, no progress bar.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        RunOptions {
            dir: dir.into(),
            threads: None,
            progress: false,
        }
    }

    /// Sets the thread count.
    pub fn threads(mut self, n: Option<usize>) -> Self {
        self.threads = n;
        self
    }

    /// Shows a progress bar.
    pub fn progress(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }
}

/// Trains and evaluates `exp` in `opts.dir`, then runs its study; resumes
/// from the folder's checkpoint and rows when an earlier attempt was killed
/// (a checkpoint of a different experiment is refused). With `[study]
/// from = DIR` the model of that finished run is used instead of training
/// (a run of another model kind is refused). Writes `record.json` last and
/// atomically, so its presence means the run finished.
///
/// # Errors
/// Invalid experiment, missing data, training, study or evaluation
/// failures, unwritable folder.
pub fn run(exp: &Experiment, opts: &RunOptions) -> Result<RunRecord> {
    exp.check()?;
    let started = unix_now();
    std::fs::create_dir_all(&opts.dir).map_err(io(&opts.dir))?;
    let exp_text = exp.to_toml()?;
    fanaroff_train::write_atomic(&opts.dir.join("experiment.toml"), exp_text.as_bytes())?;
    if let Some(t) = opts.threads {
        set_threads(t)?;
    }
    let trained = match exp.study.source() {
        Some(src) => Trained::from_run(exp, src)?,
        None => Trained::train(exp, opts)?,
    };
    let mut ctx = StudyContext::new(
        &trained.experiment,
        trained.model.as_ref(),
        &trained.data,
        &trained.dir,
        &opts.dir,
    )?;
    exp.study.run(&mut ctx)?;
    let rows = ctx.into_rows();
    let t = &trained;
    let record = RunRecord {
        name: exp.name.clone(),
        seed: exp.seed,
        experiment: exp_text,
        data: t.data.source.clone(),
        counts: [
            t.data.train.len(),
            t.data.val.len(),
            t.data.test.len(),
            t.data.uncertain.len(),
        ],
        metrics: t.metrics.clone(),
        study: exp.study.label().to_string(),
        row_keys: exp.study.row_keys(),
        rows,
        epochs_run: t.epochs_run,
        best_epoch: t.best_epoch,
        resumed_after_epoch: t.resumed_after,
        train_seconds: t.train_seconds,
        eval_seconds: t.eval_seconds,
        threads: fanaroff_tensor::num_threads(),
        versions: versions(),
        started,
        finished: unix_now(),
    };
    record.write(&opts.dir.join(RECORD_FILE))?;
    let _ = std::fs::remove_file(opts.dir.join(ROWS_FILE));
    Ok(record)
}

/// Runs `exp`'s study again, from scratch, on the model of the finished
/// run in `dir` (or of its `from` run) with the current code; the new rows.
/// A `train` study has none.
///
/// # Errors
/// An unfinished run, a model of another kind, the study's failures.
pub(crate) fn rerun_study(exp: &Experiment, dir: &Path) -> Result<Vec<serde_json::Value>> {
    if exp.study.is_train() {
        return Ok(Vec::new());
    }
    let trained = Trained::from_run(exp, exp.study.source().unwrap_or(dir))?;
    let rows_file = dir.join(ROWS_FILE);
    let _ = std::fs::remove_file(&rows_file);
    let mut ctx = StudyContext::new(
        &trained.experiment,
        trained.model.as_ref(),
        &trained.data,
        &trained.dir,
        dir,
    )?;
    exp.study.run(&mut ctx)?;
    let rows = ctx.into_rows();
    let _ = std::fs::remove_file(&rows_file);
    Ok(rows)
}

/// A trained model, where it lives, and what training and evaluating it
/// measured.
struct Trained {
    experiment: Experiment,
    model: Box<dyn Module>,
    data: RunData,
    dir: PathBuf,
    metrics: BTreeMap<String, f64>,
    epochs_run: usize,
    best_epoch: Option<usize>,
    resumed_after: usize,
    train_seconds: f64,
    eval_seconds: f64,
}

impl Trained {
    /// Trains `exp` in `opts.dir` (resuming) and evaluates it.
    fn train(exp: &Experiment, opts: &RunOptions) -> Result<Self> {
        let data = exp.data.load(exp.seed)?;
        let train = exp.data.train_loader(&data.train)?;
        let val = exp.data.loader(&data.val)?;
        let val_augmented = exp.data.train_loader(&data.val)?;
        let test = exp.data.loader(&data.test)?;
        let built = exp.model.build(&mut StdRng::seed_from_u64(exp.seed))?;
        let ckpt = opts.dir.join("ckpt");
        let resumed_after = resumed_epochs(&ckpt);
        let samples = if exp.model.stochastic() {
            exp.evaluation.val_samples
        } else {
            1
        };
        let tcfg = exp
            .training
            .clone()
            .seed(exp.seed)
            .checkpoint_dir(ckpt)
            .resume(true)
            .progress(opts.progress);
        let mut model = built.model;
        let input = StepInput {
            model: model.as_ref(),
            train,
            experiment: exp,
            data: &data,
        };
        let (step, train) = exp.step.wrap(built.step, input)?;
        let mut trainer = Trainer::new(tcfg.clone())?
            .step(step)
            .validation(validation(exp, &val, &val_augmented, samples)?);
        if !exp.evaluation.test_at_epochs.is_empty() {
            let probe = Validation::new(&test).samples(samples)?.with_prefix("test");
            trainer = trainer.callback(
                Probe::new(probe, exp.evaluation.test_at_epochs.iter().copied())
                    .seed(exp.seed)
                    .batch_size(exp.evaluation.batch_size),
            );
        }
        let history = trainer.fit(&mut model, train.as_ref())?;
        let mut seconds: f64 = history.records.iter().map(|r| r.seconds).sum();
        if let Some(stage) = built.second_stage {
            (stage.prepare)(model.as_mut())?;
            let cfg = tcfg
                .epochs(stage.epochs)
                .checkpoint_dir(opts.dir.join("ckpt_stage2"));
            let h = Trainer::new(cfg)?
                .step(stage.step)
                .validation(validation(exp, &val, &val_augmented, samples)?)
                .fit(&mut model, train.as_ref())?;
            seconds += h.records.iter().map(|r| r.seconds).sum::<f64>();
        }
        let t_eval = Instant::now();
        // batch norm uses its running statistics, as in validation
        model.as_mut().eval();
        let metrics = evaluate_experiment(exp, &model, &data)?;
        let eval_seconds = t_eval.elapsed().as_secs_f64();
        save_model(&model, opts.dir.join("model.safetensors"))?;
        Ok(Trained {
            experiment: exp.clone(),
            model,
            data,
            dir: opts.dir.clone(),
            metrics,
            epochs_run: history.records.len(),
            best_epoch: history.best_epoch,
            resumed_after,
            train_seconds: seconds,
            eval_seconds,
        })
    }

    /// The model of the finished run in `src`, which must be of the same
    /// model kind as `exp`.
    fn from_run(exp: &Experiment, src: &Path) -> Result<Self> {
        let rec = RunRecord::read(&src.join(RECORD_FILE))?;
        let source = Experiment::from_toml(&rec.experiment)?;
        if source.model.label() != exp.model.label() {
            return Err(invalid(
                "study.from",
                format!(
                    "{} is a run of model kind {:?}, this experiment's model is {:?}",
                    src.display(),
                    source.model.label(),
                    exp.model.label()
                ),
            ));
        }
        let data = source.data.load(source.seed)?;
        let model = fresh_model(&source, src)?.model;
        Ok(Trained {
            experiment: source,
            model,
            data,
            dir: src.to_path_buf(),
            metrics: rec.metrics,
            epochs_run: rec.epochs_run,
            best_epoch: rec.best_epoch,
            resumed_after: 0,
            train_seconds: rec.train_seconds,
            eval_seconds: rec.eval_seconds,
        })
    }
}
/// The per-epoch validation of `exp`: the predictive over `samples` draws
/// on the validation images as they are (with `val_prob_ce` when the
/// training monitors it), or, with `evaluation.val_tta`, averaged over
/// that many augmented copies of them.
fn validation<'a>(
    exp: &Experiment,
    val: &'a ArrayLoader<u8>,
    val_augmented: &'a ArrayLoader<u8>,
    samples: usize,
) -> Result<Box<dyn Evaluate<Box<dyn Module>> + 'a>> {
    Ok(match exp.evaluation.val_tta {
        0 => {
            let prob_ce = exp
                .training
                .monitor
                .as_ref()
                .is_some_and(|m| m.metric == "val_prob_ce");
            let v = Validation::new(val).samples(samples)?;
            Box::new(v.with_probability_ce(prob_ce))
        }
        reps => Box::new(AugmentedValidation::new(val_augmented, reps)?),
    })
}

/// Epochs an earlier attempt finished (0 without a checkpoint).
fn resumed_epochs(ckpt: &Path) -> usize {
    if !has_checkpoint(ckpt) {
        return 0;
    }
    let history = std::fs::read_to_string(ckpt.join("history.csv")).unwrap_or_default();
    history.lines().count().saturating_sub(1)
}

/// Sizes the numeric thread pool. The pool of a process is sized once:
/// asking again for the size it has is fine (a second run in the same
/// process), another size is an error saying so.
fn set_threads(t: usize) -> Result<()> {
    match fanaroff_tensor::set_num_threads(t) {
        Ok(()) => Ok(()),
        Err(_) if fanaroff_tensor::num_threads() == t => Ok(()),
        Err(e) => Err(invalid(
            "threads",
            format!(
                "{t} asked, but this process's thread pool already runs {} ({e}); \
                 set the threads before the first computation, or RAYON_NUM_THREADS",
                fanaroff_tensor::num_threads()
            ),
        )),
    }
}
