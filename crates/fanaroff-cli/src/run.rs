//! `run`: an experiment in, a trained model and a [`RunRecord`] out, in a
//! folder that makes a killed run resumable.

use crate::error::{Result, io};
use crate::evaluate::evaluate_experiment;
use crate::experiment::Experiment;
use crate::record::{RECORD_FILE, RunRecord, unix_now, versions};
use fanaroff_nn::save_model;
use fanaroff_train::{Trainer, Validation, has_checkpoint};
use rand::SeedableRng;
use rand::rngs::StdRng;
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

/// Trains and evaluates `exp` in `opts.dir`; resumes from the folder's
/// checkpoint when an earlier attempt was killed (a checkpoint of a
/// different experiment is refused). Writes `record.json` last and
/// atomically, so its presence means the run finished.
///
/// # Errors
/// Invalid experiment, missing data, training or evaluation failures,
/// unwritable folder.
pub fn run(exp: &Experiment, opts: &RunOptions) -> Result<RunRecord> {
    exp.check()?;
    let started = unix_now();
    std::fs::create_dir_all(&opts.dir).map_err(io(&opts.dir))?;
    let exp_text = exp.to_toml()?;
    let exp_path = opts.dir.join("experiment.toml");
    fanaroff_train::write_atomic(&exp_path, exp_text.as_bytes())?;
    if let Some(t) = opts.threads {
        fanaroff_tensor::set_num_threads(t)?;
    }
    let data = exp.data.load(exp.seed)?;
    let train = exp.data.train_loader(&data.train)?;
    let val = exp.data.loader(&data.val)?;
    let mut built = exp.model.build(&mut StdRng::seed_from_u64(exp.seed))?;
    let ckpt = opts.dir.join("ckpt");
    let resumed_after = resumed_epochs(&ckpt);
    let tcfg = exp
        .training
        .clone()
        .seed(exp.seed)
        .checkpoint_dir(ckpt)
        .resume(true)
        .progress(opts.progress);
    let samples = if exp.model.stochastic() {
        exp.evaluation.val_samples
    } else {
        1
    };
    let history = Trainer::new(tcfg)?
        .step(built.step)
        .validation(Validation::new(&val).samples(samples)?)
        .fit(&mut built.model, &train)?;
    let t_eval = Instant::now();
    let metrics = evaluate_experiment(exp, &built.model, &data)?;
    let eval_seconds = t_eval.elapsed().as_secs_f64();
    save_model(&built.model, opts.dir.join("model.safetensors"))?;
    let record = RunRecord {
        name: exp.name.clone(),
        seed: exp.seed,
        experiment: exp_text,
        data: data.source.clone(),
        counts: [
            data.train.len(),
            data.val.len(),
            data.test.len(),
            data.uncertain.len(),
        ],
        metrics,
        epochs_run: history.records.len(),
        best_epoch: history.best_epoch,
        resumed_after_epoch: resumed_after,
        train_seconds: history.records.iter().map(|r| r.seconds).sum(),
        eval_seconds,
        threads: fanaroff_tensor::num_threads(),
        versions: versions(),
        started,
        finished: unix_now(),
    };
    record.write(&opts.dir.join(RECORD_FILE))?;
    Ok(record)
}

/// Epochs an earlier attempt finished (0 without a checkpoint).
fn resumed_epochs(ckpt: &Path) -> usize {
    if !has_checkpoint(ckpt) {
        return 0;
    }
    let history = std::fs::read_to_string(ckpt.join("history.csv")).unwrap_or_default();
    history.lines().count().saturating_sub(1)
}
