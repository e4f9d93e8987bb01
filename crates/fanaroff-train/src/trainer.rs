//! The training loop.

use crate::callback::{BatchInfo, Callback, EpochContext};
use crate::callbacks::{BestCheckpoint, EarlyStopping, EpochLog, Progress};
use crate::checkpoint::{self, LoopState};
use crate::config::TrainConfig;
use crate::error::{Error, Result, config, input, io};
use crate::history::{EpochRecord, History};
use crate::loader::{Loader, mix_seed};
use crate::monitor::Monitor;
use crate::step::{CrossEntropyStep, StepContext, TrainStep};
use crate::validation::{EvalInfo, Evaluate};
use fanaroff_nn::{Module, ModuleExt, Optimizer};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// The one training loop: a [`TrainStep`] per minibatch, any
/// [`Optimizer`], an optional [`Evaluate`] after each epoch, and
/// [`Callback`]s around it. Masks are re-applied after every optimiser step.
///
/// Determinism: epoch `e` shuffles and draws model noise from
/// `StdRng::seed_from_u64(mix_seed(seed, e))`; batch `i` of epoch `e` is
/// augmented from the seed `mix_seed(mix_seed(seed, e), i)` per example
/// position; validation has its own seeds. With a checkpoint folder a run
/// killed at any point and resumed with the same settings ends with exactly
/// the weights of an uninterrupted run (same thread count).
///
/// # Example
/// ```
/// use fanaroff_train::{ArrayLoader, TrainConfig, Trainer};
/// use fanaroff_nn::{Linear, LinearConfig};
/// use ndarray::{ArrayD, IxDyn};
/// use rand::{SeedableRng, rngs::StdRng};
/// // two separable blobs
/// let x = ArrayD::from_shape_fn(IxDyn(&[40, 2]), |i| if (i[0] % 2 == 0) == (i[1] == 0) { 1.0f32 } else { -1.0 });
/// let y: Vec<usize> = (0..40).map(|i| i % 2).collect();
/// let data = ArrayLoader::new(x, y, 2)?;
/// let mut net = Linear::new(LinearConfig::new(2, 2), &mut StdRng::seed_from_u64(0))?;
/// let cfg = TrainConfig::default().epochs(30).batch_size(10).adam(0.05).progress(false).log_epochs(false);
/// let hist = Trainer::new(cfg)?.fit(&mut net, &data)?;
/// assert!(hist.records.last().unwrap().get("acc").unwrap() > 0.9);
/// # Ok::<(), fanaroff_train::Error>(())
/// ```
pub struct Trainer<'a, M> {
    cfg: TrainConfig,
    step: Box<dyn TrainStep<M> + 'a>,
    optimizer: Option<Box<dyn Optimizer + 'a>>,
    validation: Option<Box<dyn Evaluate<M> + 'a>>,
    callbacks: Vec<Box<dyn Callback<M> + 'a>>,
}

impl<'a, M: Module + 'a> Trainer<'a, M> {
    /// A loop with checked settings and the cross-entropy step.
    ///
    /// # Errors
    /// As [`TrainConfig::check`].
    pub fn new(cfg: TrainConfig) -> Result<Self> {
        Ok(Trainer {
            cfg: cfg.check()?,
            step: Box::new(CrossEntropyStep),
            optimizer: None,
            validation: None,
            callbacks: Vec::new(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &TrainConfig {
        &self.cfg
    }

    /// Sets the training step.
    pub fn step(mut self, step: impl TrainStep<M> + 'a) -> Self {
        self.step = Box::new(step);
        self
    }

    /// Uses this optimiser instead of the configured one.
    pub fn optimizer(mut self, opt: impl Optimizer + 'a) -> Self {
        self.optimizer = Some(Box::new(opt));
        self
    }

    /// Evaluates after every epoch (e.g. [`Validation`](crate::Validation)).
    pub fn validation(mut self, eval: impl Evaluate<M> + 'a) -> Self {
        self.validation = Some(Box::new(eval));
        self
    }

    /// Adds a callback (after the built-in ones).
    pub fn callback(mut self, cb: impl Callback<M> + 'a) -> Self {
        self.callbacks.push(Box::new(cb));
        self
    }

    /// The user's callbacks (e.g. to read their state after [`fit`](Self::fit)).
    pub fn callbacks(&self) -> &[Box<dyn Callback<M> + 'a>] {
        &self.callbacks
    }

    fn monitor(&self) -> Monitor {
        self.cfg.monitor.clone().unwrap_or_else(|| {
            Monitor::min(if self.validation.is_some() {
                "val_nll"
            } else {
                "loss"
            })
        })
    }

    fn built_in_callbacks(&self, lr: f32) -> Result<Vec<Box<dyn Callback<M> + 'a>>> {
        let c = &self.cfg;
        let mut v: Vec<Box<dyn Callback<M> + 'a>> = vec![Box::new(BestCheckpoint::new(
            c.restore_best && self.validation.is_some(),
        ))];
        if let Some(p) = c.early_stopping {
            v.push(Box::new(EarlyStopping::new(p)));
        }
        if let Some(s) = &c.schedule {
            v.push(s.build(lr)?);
        }
        if c.progress {
            v.push(Box::new(Progress::new()));
        }
        if c.log_epochs {
            v.push(Box::new(EpochLog { epochs: c.epochs }));
        }
        Ok(v)
    }

    /// Trains `model` on `train`.
    ///
    /// # Errors
    /// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for an empty data
    /// set or labels the model cannot produce; [`Error::Diverged`] when the
    /// loss becomes non-finite; [`Error::Checkpoint`] when a resumed run's
    /// settings differ from the saved ones (naming them); step, model and I/O
    /// errors.
    pub fn fit(&mut self, model: &mut M, train: &dyn Loader) -> Result<History> {
        if train.is_empty() {
            return Err(input("Trainer::fit", "empty training set"));
        }
        let mut opt = match self.optimizer.take() {
            Some(o) => o,
            None => self.cfg.optimizer.build()?,
        };
        let mut cbs = self.built_in_callbacks(opt.learning_rate())?;
        let n_builtin = cbs.len();
        cbs.append(&mut self.callbacks);
        let result = self.run(model, train, &mut *opt, &mut cbs);
        self.callbacks = cbs.split_off(n_builtin);
        self.optimizer = Some(opt);
        result
    }

    fn fingerprint(&self) -> serde_json::Value {
        serde_json::json!({ "train": self.cfg.fingerprint(), "step": self.step.describe() })
    }

    fn start(
        &self,
        model: &mut M,
        opt: &mut dyn Optimizer,
        cbs: &mut [Box<dyn Callback<M> + 'a>],
    ) -> Result<LoopState> {
        let mut names = std::collections::BTreeSet::new();
        if let Some(dup) = cbs
            .iter()
            .map(|c| c.name())
            .find(|n| !names.insert(n.clone()))
        {
            return Err(config(
                "Trainer",
                format!("two callbacks are named {dup:?}"),
            ));
        }
        let dir = self.cfg.checkpoint_dir.as_deref();
        let mut st = LoopState::new(self.fingerprint(), opt.learning_rate());
        let mut resumed = false;
        if let Some(d) = dir {
            std::fs::create_dir_all(d).map_err(io(d))?;
            if self.cfg.resume && d.join("state.json").exists() {
                st = checkpoint::load(d, &st.fingerprint, model, opt, cbs)?;
                log::info!(
                    "resumed from {} after epoch {}",
                    d.display(),
                    st.epochs_done
                );
                resumed = true;
            }
        }
        for c in cbs.iter_mut() {
            c.on_train_start(model, dir, resumed)?;
        }
        Ok(st)
    }

    fn run(
        &mut self,
        model: &mut M,
        train: &dyn Loader,
        opt: &mut dyn Optimizer,
        cbs: &mut [Box<dyn Callback<M> + 'a>],
    ) -> Result<History> {
        let mut st = self.start(model, opt, cbs)?;
        let monitor = self.monitor();
        model.train();
        while st.epochs_done < self.cfg.epochs && !st.history.stopped_early {
            let t0 = Instant::now();
            let epoch = st.epochs_done;
            let lr = opt.learning_rate();
            let mut metrics = self.train_epoch(model, train, opt, cbs, epoch)?;
            if let Some(v) = &mut self.validation {
                let info = EvalInfo {
                    epoch,
                    seed: self.cfg.seed,
                    batch_size: self.cfg.batch_size,
                };
                metrics.extend(v.evaluate(model, &info)?);
            }
            let monitored = *metrics.get(&monitor.metric).ok_or_else(|| {
                let have: Vec<&String> = metrics.keys().collect();
                config::<Error>(
                    "Trainer",
                    format!(
                        "monitored metric {:?} is not produced; have {have:?}",
                        monitor.metric
                    ),
                )
            })?;
            let mut record = EpochRecord {
                epoch: epoch + 1,
                lr,
                metrics,
                monitored,
                best: false,
                seconds: 0.0,
            };
            let stop = self.end_epoch(model, opt, cbs, &mut record, &monitor, t0)?;
            st.history.best_epoch = if record.best {
                Some(record.epoch)
            } else {
                st.history.best_epoch
            };
            st.history.records.push(record);
            st.history.stopped_early |= stop;
            st.epochs_done = epoch + 1;
            st.lr = opt.learning_rate();
            if let Some(d) = self.cfg.checkpoint_dir.as_deref() {
                checkpoint::save(d, model, &*opt, cbs, &mut st)?;
            }
        }
        for c in cbs.iter_mut() {
            c.on_train_end(model, &st.history)?;
        }
        Ok(st.history)
    }

    fn end_epoch(
        &self,
        model: &mut M,
        opt: &mut dyn Optimizer,
        cbs: &mut [Box<dyn Callback<M> + 'a>],
        record: &mut EpochRecord,
        monitor: &Monitor,
        t0: Instant,
    ) -> Result<bool> {
        record.seconds = t0.elapsed().as_secs_f64();
        let mut stop = false;
        let dir = self.cfg.checkpoint_dir.as_deref();
        for c in cbs.iter_mut() {
            let mut ctx = EpochContext {
                model: &mut *model,
                optimizer: &mut *opt,
                record: &mut *record,
                monitor,
                stop: &mut stop,
                dir,
            };
            c.on_epoch_end(&mut ctx)?;
        }
        Ok(stop)
    }

    fn train_epoch(
        &mut self,
        model: &mut M,
        train: &dyn Loader,
        opt: &mut dyn Optimizer,
        cbs: &mut [Box<dyn Callback<M> + 'a>],
        epoch: usize,
    ) -> Result<BTreeMap<String, f64>> {
        let bs = self.cfg.batch_size;
        let epoch_seed = mix_seed(self.cfg.seed, epoch as u64);
        let mut rng = StdRng::seed_from_u64(epoch_seed);
        let per_pass = train.len().div_ceil(bs);
        let steps = per_pass * self.cfg.passes_per_epoch;
        let mut sums: BTreeMap<String, (f64, f64)> = BTreeMap::new();
        for pass in 0..self.cfg.passes_per_epoch {
            let mut order: Vec<usize> = (0..train.len()).collect();
            order.shuffle(&mut rng);
            for (j, idx) in order.chunks(bs).enumerate() {
                let at = BatchAt {
                    epoch,
                    epoch_seed,
                    step: pass * per_pass + j,
                    steps,
                    in_pass: j,
                    per_pass,
                };
                let metrics = self.train_batch(model, train, opt, cbs, idx, &at, &mut rng)?;
                for m in metrics {
                    let e = sums.entry(m.name).or_insert((0.0, 0.0));
                    e.0 += m.sum;
                    e.1 += m.count;
                }
            }
        }
        Ok(sums
            .into_iter()
            .map(|(k, (s, c))| (k, s / c.max(f64::MIN_POSITIVE)))
            .collect())
    }

    /// One optimiser step on the examples `idx`; returns the step's metrics.
    #[allow(clippy::too_many_arguments)]
    fn train_batch(
        &mut self,
        model: &mut M,
        train: &dyn Loader,
        opt: &mut dyn Optimizer,
        cbs: &mut [Box<dyn Callback<M> + 'a>],
        idx: &[usize],
        at: &BatchAt,
        rng: &mut StdRng,
    ) -> Result<Vec<crate::Metric>> {
        let mut info = BatchInfo {
            epoch: at.epoch,
            epochs: self.cfg.epochs,
            step: at.step,
            steps: at.steps,
            loss: f64::NAN,
        };
        for c in cbs.iter_mut() {
            c.on_batch_start(&info)?;
        }
        let batch = train.batch(idx, mix_seed(at.epoch_seed, at.step as u64), true)?;
        let mut ctx = StepContext {
            model: &*model,
            rng,
            epoch: at.epoch,
            step: at.in_pass,
            steps_per_epoch: at.per_pass,
        };
        let out = self.step.step(&batch, &mut ctx)?;
        let loss = out.loss.item()? as f64;
        if !loss.is_finite() {
            return Err(Error::Diverged {
                epoch: at.epoch,
                step: at.step,
                loss,
            });
        }
        let grads = out.loss.backward()?;
        // The graph holds the parameters: free it first, so the
        // optimiser updates them in place instead of copying each one.
        drop(out.loss);
        opt.step(model, &grads)?;
        model.enforce_masks();
        info.loss = loss;
        for c in cbs.iter_mut() {
            c.after_optimizer_step(model, &info)?;
        }
        Ok(out.metrics)
    }
}

/// Where a minibatch falls: its index in the epoch and in its pass.
struct BatchAt {
    epoch: usize,
    epoch_seed: u64,
    step: usize,
    steps: usize,
    in_pass: usize,
    per_pass: usize,
}

/// Whether `path` holds a finished or resumable run (a `state.json`).
pub fn has_checkpoint(dir: &Path) -> bool {
    dir.join("state.json").exists()
}
