//! A training loop for every [`BayesModel`]: ELBO minibatches, validation,
//! reduce-on-plateau, early stopping with the best checkpoint, a progress
//! bar, metrics history (CSV / JSON) and crash-safe checkpoints with resume.
//!
//! Determinism: epoch `e` draws everything (shuffling, augmentation, weight
//! noise) from `StdRng::seed_from_u64(mix_seed(seed, e))`, validation from
//! another seed derived from `(seed, e)`. Checkpoints hold the parameters,
//! the optimiser state and the loop's own state, so a run killed at any
//! point and resumed with the same settings ends with exactly the weights of
//! an uninterrupted run (same thread count).
//!
//! Checkpoint folder layout (every file written to a temporary name and
//! renamed, so a kill leaves either the old or the new version):
//!
//! ```text
//! ckpt-NNNNN.safetensors   parameters + "optim.*" optimiser state after epoch NNNNN
//! state.json               epochs done, checkpoint name, scheduler / early-stopping state, history
//! best.safetensors         parameters of the best epoch (by the monitored metric)
//! history.csv, history.json
//! ```

use crate::error::{Error, Result, config, input};
use crate::model::BayesModel;
use crate::objective::Elbo;
use crate::predict::{PredictConfig, mix_seed, predict_samples};
use fanaroff_nn::{AdamConfig, Module, ModuleExt, Optimizer, TensorFile, load_from, write_tensors};
use fanaroff_tensor::Tensor;
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{ArrayD, ArrayViewD, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Inputs `[N, ...]` (already scaled) and integer labels.
#[derive(Debug, Clone)]
pub struct TrainData {
    x: ArrayD<f32>,
    y: Vec<usize>,
}

impl TrainData {
    /// Checks and wraps a data set.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty set, a label count that differs
    /// from `N`, or non-finite inputs.
    pub fn new(x: ArrayD<f32>, y: Vec<usize>) -> Result<Self> {
        if x.ndim() < 2 || x.shape()[0] == 0 {
            return Err(input(
                "TrainData",
                format!("need a non-empty [N, ...] array, got {:?}", x.shape()),
            ));
        }
        if x.shape()[0] != y.len() {
            return Err(input(
                "TrainData",
                format!("{} images but {} labels", x.shape()[0], y.len()),
            ));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(input("TrainData", "inputs contain NaN or infinity"));
        }
        Ok(TrainData { x, y })
    }
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.y.len()
    }
    /// Always false (construction rejects empty sets).
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }
    /// The inputs.
    pub fn x(&self) -> &ArrayD<f32> {
        &self.x
    }
    /// The labels.
    pub fn y(&self) -> &[usize] {
        &self.y
    }
}

/// A per-minibatch augmentation: receives the batch `[B, ...]` and the
/// epoch's RNG, returns the augmented batch (same leading size).
pub type AugmentFn<'a> = dyn Fn(ArrayViewD<'_, f32>, &mut StdRng) -> ArrayD<f32> + Send + Sync + 'a;

/// Reduce-on-plateau settings (PyTorch semantics, mode "min", relative
/// threshold): multiply the rate by `factor` when the monitored value has
/// not improved by more than `threshold` (relative) for more than
/// `patience` epochs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Plateau {
    /// Multiplier, `0 < factor < 1` (paper: 0.95).
    pub factor: f32,
    /// Epochs without improvement tolerated (paper: 3).
    pub patience: usize,
    /// Relative improvement that counts (PyTorch default 1e-4).
    pub threshold: f64,
    /// Floor of the rate.
    pub min_lr: f32,
}

impl Default for Plateau {
    fn default() -> Self {
        Plateau {
            factor: 0.95,
            patience: 3,
            threshold: 1e-4,
            min_lr: 0.0,
        }
    }
}

/// Settings of [`Trainer`].
///
/// | name | default | meaning | valid range |
/// |---|---|---|---|
/// | `epochs` | 100 | epochs in total (a resumed run counts the finished ones) | >= 1 |
/// | `batch_size` | 50 | minibatch size (last partial batch kept) | >= 1 |
/// | `lr` | 1e-4 | Adam learning rate | > 0 |
/// | `weight_decay` | 0 | Adam L2 weight decay | >= 0 |
/// | `seed` | 0 | seeds shuffling, augmentation and noise | |
/// | `elbo` | `Elbo::default()` (T = 0.01, uniform) | objective | see [`Elbo`] |
/// | `plateau` | factor 0.95, patience 3 | LR schedule on the monitored value, `None` = constant | |
/// | `early_stopping` | `None` | stop after this many epochs without improvement | >= 1 |
/// | `val_samples` | 4 | MC draws for the validation predictive | >= 1 |
/// | `checkpoint_dir` | `None` | where checkpoints go; `None` = none | |
/// | `resume` | false | continue from `checkpoint_dir/state.json` if present | |
/// | `restore_best` | true | end with the best epoch's weights (needs validation data) | |
/// | `progress` | true | progress bar on a terminal | |
/// | `log_epochs` | true | one line per epoch on stderr | |
///
/// The monitored value is the validation NLL per image (of the predictive
/// mean over `val_samples` draws) when validation data is given, otherwise
/// the training loss per image.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// Total epochs.
    pub epochs: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Adam learning rate.
    pub lr: f32,
    /// Adam weight decay.
    pub weight_decay: f32,
    /// Seed.
    pub seed: u64,
    /// The objective.
    pub elbo: Elbo,
    /// Learning-rate schedule.
    pub plateau: Option<Plateau>,
    /// Early-stopping patience.
    pub early_stopping: Option<usize>,
    /// MC draws for validation.
    pub val_samples: usize,
    /// Checkpoint folder.
    pub checkpoint_dir: Option<PathBuf>,
    /// Resume from the checkpoint folder.
    pub resume: bool,
    /// Restore the best weights at the end.
    pub restore_best: bool,
    /// Show a progress bar.
    pub progress: bool,
    /// Print a line per epoch.
    pub log_epochs: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 100,
            batch_size: 50,
            lr: 1e-4,
            weight_decay: 0.0,
            seed: 0,
            elbo: Elbo::default(),
            plateau: Some(Plateau::default()),
            early_stopping: None,
            val_samples: 4,
            checkpoint_dir: None,
            resume: false,
            restore_best: true,
            progress: true,
            log_epochs: true,
        }
    }
}

impl TrainConfig {
    /// Sets the number of epochs.
    pub fn epochs(mut self, n: usize) -> Self {
        self.epochs = n;
        self
    }
    /// Sets the batch size.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }
    /// Sets the learning rate.
    pub fn lr(mut self, lr: f32) -> Self {
        self.lr = lr;
        self
    }
    /// Sets the weight decay.
    pub fn weight_decay(mut self, wd: f32) -> Self {
        self.weight_decay = wd;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Sets the objective.
    pub fn elbo(mut self, elbo: Elbo) -> Self {
        self.elbo = elbo;
        self
    }
    /// Sets (or removes) the plateau schedule.
    pub fn plateau(mut self, p: Option<Plateau>) -> Self {
        self.plateau = p;
        self
    }
    /// Sets (or removes) early stopping.
    pub fn early_stopping(mut self, patience: Option<usize>) -> Self {
        self.early_stopping = patience;
        self
    }
    /// Sets the validation draws.
    pub fn val_samples(mut self, n: usize) -> Self {
        self.val_samples = n;
        self
    }
    /// Sets the checkpoint folder.
    pub fn checkpoint_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.checkpoint_dir = Some(dir.into());
        self
    }
    /// Resume from the checkpoint folder when it holds a run.
    pub fn resume(mut self, on: bool) -> Self {
        self.resume = on;
        self
    }
    /// End with the best weights.
    pub fn restore_best(mut self, on: bool) -> Self {
        self.restore_best = on;
        self
    }
    /// Progress bar on or off.
    pub fn progress(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }
    /// Per-epoch log lines on or off.
    pub fn log_epochs(mut self, on: bool) -> Self {
        self.log_epochs = on;
        self
    }
    /// Validates the settings.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero epochs / batch size / validation
    /// draws / patience, a non-positive rate, negative weight decay, a
    /// plateau factor outside (0, 1), resume without a folder, or an
    /// invalid objective.
    pub fn check(self) -> Result<Self> {
        let bad = |m: &str| Err(config("TrainConfig", m.to_string()));
        if self.epochs == 0 || self.batch_size == 0 || self.val_samples == 0 {
            return bad("epochs, batch_size and val_samples must be >= 1");
        }
        let ok_rate = self.lr > 0.0 && self.lr.is_finite() && self.weight_decay >= 0.0;
        if !ok_rate {
            return bad("lr must be positive and weight_decay >= 0");
        }
        if let Some(p) = self.plateau
            && !(p.factor > 0.0 && p.factor < 1.0 && p.threshold >= 0.0 && p.min_lr >= 0.0)
        {
            return bad("plateau: need 0 < factor < 1, threshold >= 0, min_lr >= 0");
        }
        if self.early_stopping == Some(0) {
            return bad("early_stopping patience must be >= 1");
        }
        if self.resume && self.checkpoint_dir.is_none() {
            return bad("resume needs a checkpoint_dir");
        }
        self.elbo.check()?;
        Ok(self)
    }
}

/// Metrics of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch number, 1-based.
    pub epoch: usize,
    /// Learning rate used during the epoch.
    pub lr: f32,
    /// Training loss per image (sum of minibatch losses / N).
    pub loss: f64,
    /// Training NLL per image.
    pub nll: f64,
    /// Mean over minibatches of the KL estimate `ln q - ln p` (unweighted).
    pub kl: f64,
    /// Training accuracy (single draw per minibatch).
    pub acc: f64,
    /// Validation NLL per image of the predictive mean.
    pub val_nll: Option<f64>,
    /// Validation accuracy of the predictive mean.
    pub val_acc: Option<f64>,
    /// The monitored value.
    pub monitored: f64,
    /// Whether this epoch was the best so far.
    pub best: bool,
    /// Wall time of the epoch in seconds (training + validation).
    pub seconds: f64,
}

/// The outcome of [`Trainer::fit`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct History {
    /// One record per finished epoch (including those of earlier, resumed runs).
    pub records: Vec<EpochRecord>,
    /// The best epoch (1-based), if any.
    pub best_epoch: Option<usize>,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
}

impl History {
    /// The history as CSV text (header + one row per epoch; empty fields
    /// for missing validation values).
    pub fn to_csv(&self) -> String {
        let mut s =
            String::from("epoch,lr,loss,nll,kl,acc,val_nll,val_acc,monitored,best,seconds\n");
        let opt = |v: Option<f64>| v.map(|v| format!("{v}")).unwrap_or_default();
        for r in &self.records {
            s.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{:.3}\n",
                r.epoch,
                r.lr,
                r.loss,
                r.nll,
                r.kl,
                r.acc,
                opt(r.val_nll),
                opt(r.val_acc),
                r.monitored,
                r.best as u8,
                r.seconds
            ));
        }
        s
    }

    /// The history as pretty JSON.
    ///
    /// # Errors
    /// Serialisation errors (as [`Error::InvalidInput`]).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| input("History::to_json", e.to_string()))
    }

    /// Writes `history.csv` and `history.json` into `dir` (atomically).
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    pub fn write(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        write_atomic(&dir.join("history.csv"), self.to_csv().as_bytes())?;
        write_atomic(&dir.join("history.json"), self.to_json()?.as_bytes())
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename.
///
/// # Errors
/// [`Error::Io`] naming the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)
}

/// Sentinel for "no best value yet" (JSON cannot hold infinity).
const NO_BEST: f64 = f64::MAX;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct LoopState {
    version: u32,
    epochs_done: usize,
    checkpoint: String,
    seed: u64,
    batch_size: usize,
    lr: f32,
    plateau_best: f64,
    plateau_bad: usize,
    best_metric: f64,
    best_epoch: Option<usize>,
    stop_bad: usize,
    stopped_early: bool,
    history: Vec<EpochRecord>,
}

/// The training loop. See the [module docs](self) for the determinism and
/// checkpoint guarantees.
///
/// # Example
/// ```
/// use fanaroff_bayes::{BayesLinear, Elbo, TrainConfig, TrainData, Trainer, VariationalConfig};
/// use ndarray::{ArrayD, IxDyn};
/// use rand::{SeedableRng, rngs::StdRng};
/// // two separable blobs
/// let x = ArrayD::from_shape_fn(IxDyn(&[40, 2]), |i| if (i[0] % 2 == 0) == (i[1] == 0) { 1.0 } else { -1.0 });
/// let y: Vec<usize> = (0..40).map(|i| i % 2).collect();
/// let data = TrainData::new(x, y).unwrap();
/// let mut net = BayesLinear::new(2, 2, &VariationalConfig::default(), &mut StdRng::seed_from_u64(0)).unwrap();
/// let cfg = TrainConfig::default().epochs(30).batch_size(10).lr(0.05).progress(false).log_epochs(false);
/// let hist = Trainer::new(cfg).unwrap().fit(&mut net, &data, None, None).unwrap();
/// assert!(hist.records.last().unwrap().acc > 0.9);
/// ```
#[derive(Debug, Clone)]
pub struct Trainer {
    cfg: TrainConfig,
}

impl Trainer {
    /// A trainer with checked settings.
    ///
    /// # Errors
    /// As [`TrainConfig::check`].
    pub fn new(cfg: TrainConfig) -> Result<Self> {
        Ok(Trainer { cfg: cfg.check()? })
    }

    /// The settings.
    pub fn config(&self) -> &TrainConfig {
        &self.cfg
    }

    /// Trains `model` on `train`, validating on `val` after every epoch.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for labels out of range; [`Error::Diverged`]
    /// when the loss becomes non-finite; [`Error::Checkpoint`] when a resumed
    /// run's settings differ from the saved ones; I/O and model errors.
    pub fn fit<M: BayesModel>(
        &self,
        model: &mut M,
        train: &TrainData,
        val: Option<&TrainData>,
        augment: Option<&AugmentFn<'_>>,
    ) -> Result<History> {
        let c = &self.cfg;
        let mut opt = AdamConfig {
            weight_decay: c.weight_decay,
            ..AdamConfig::with_lr(c.lr)
        }
        .build()?;
        let mut st = LoopState {
            version: 1,
            epochs_done: 0,
            checkpoint: String::new(),
            seed: c.seed,
            batch_size: c.batch_size,
            lr: c.lr,
            plateau_best: NO_BEST,
            plateau_bad: 0,
            best_metric: NO_BEST,
            best_epoch: None,
            stop_bad: 0,
            stopped_early: false,
            history: Vec::new(),
        };
        let mut best_params: Option<Vec<(String, ArrayD<f32>)>> = None;
        if let Some(dir) = &c.checkpoint_dir {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                path: dir.display().to_string(),
                source,
            })?;
            let state_path = dir.join("state.json");
            if c.resume && state_path.exists() {
                st = self.load_state(dir, model, &mut opt)?;
                if st.best_epoch.is_some() && dir.join("best.safetensors").exists() {
                    let f = TensorFile::read(dir.join("best.safetensors"))?;
                    best_params = Some(
                        f.names()
                            .iter()
                            .map(|n| Ok((n.to_string(), f.f32(n)?)))
                            .collect::<Result<_>>()?,
                    );
                }
                if c.log_epochs {
                    eprintln!(
                        "resumed from {} after epoch {}",
                        state_path.display(),
                        st.epochs_done
                    );
                }
            }
        }
        opt.set_learning_rate(st.lr);

        let n = train.len();
        let m = n.div_ceil(c.batch_size);
        model.train();
        while st.epochs_done < c.epochs && !st.stopped_early {
            let epoch = st.epochs_done;
            let t0 = Instant::now();
            let mut rng = StdRng::seed_from_u64(mix_seed(c.seed, epoch as u64));
            let mut order: Vec<usize> = (0..n).collect();
            order.shuffle(&mut rng);
            let bar = if c.progress {
                let b = ProgressBar::new(m as u64);
                if let Ok(style) =
                    ProgressStyle::with_template("{prefix} [{bar:25}] {pos}/{len} {elapsed} {msg}")
                {
                    b.set_style(style.progress_chars("=> "));
                }
                b.set_prefix(format!("epoch {}/{}", epoch + 1, c.epochs));
                b
            } else {
                ProgressBar::hidden()
            };
            let (mut loss_sum, mut nll_sum, mut kl_sum, mut correct) = (0.0, 0.0, 0.0, 0usize);
            for (i, idx) in order.chunks(c.batch_size).enumerate() {
                let xb = train.x.select(Axis(0), idx);
                let xb = match augment {
                    Some(f) => {
                        let a = f(xb.view(), &mut rng);
                        if a.shape()[0] != idx.len() {
                            return Err(input(
                                "augment",
                                format!("returned {:?} for a batch of {}", a.shape(), idx.len()),
                            ));
                        }
                        a
                    }
                    None => xb,
                };
                let yb: Vec<usize> = idx.iter().map(|&j| train.y[j]).collect();
                let (logits, kl) = model.forward_kl(&Tensor::new(xb), &mut rng)?;
                let out = c.elbo.loss(&logits, &yb, &kl, i, m)?;
                let lv = out.loss.item()? as f64;
                if !lv.is_finite() {
                    return Err(Error::Diverged {
                        epoch,
                        step: i,
                        loss: lv,
                    });
                }
                let grads = out.loss.backward()?;
                opt.step(model as &mut dyn Module, &grads)?;
                loss_sum += lv;
                nll_sum += out.nll;
                kl_sum += out.kl;
                correct += out.correct;
                bar.set_message(format!(
                    "loss {:.4} nll {:.4} kl {:.4e} acc {:.3}",
                    loss_sum / ((i + 1) * c.batch_size).min(n) as f64,
                    nll_sum / ((i + 1) * c.batch_size).min(n) as f64,
                    kl_sum / (i + 1) as f64,
                    correct as f64 / ((i + 1) * c.batch_size).min(n) as f64
                ));
                bar.inc(1);
            }
            bar.finish_and_clear();
            let (val_nll, val_acc) = match val {
                Some(v) => {
                    model.eval();
                    let samples = if model.is_stochastic() {
                        c.val_samples
                    } else {
                        1
                    };
                    let p = predict_samples(
                        &*model,
                        v.x.view(),
                        &PredictConfig::with_samples(samples)
                            .batch_size(c.batch_size)
                            .seed(mix_seed(c.seed ^ 0x7661_6c69_6461_7465, epoch as u64)),
                    )?;
                    model.train();
                    let mean = crate::predict::predictive_mean(p.view());
                    let k = mean.shape()[1];
                    if let Some(&bad) = v.y.iter().find(|&&y| y >= k) {
                        return Err(input(
                            "validation",
                            format!("label {bad} out of range for {k} classes"),
                        ));
                    }
                    let nll = mean
                        .outer_iter()
                        .zip(&v.y)
                        .map(|(row, &y)| -(row[y].max(1e-12) as f64).ln())
                        .sum::<f64>()
                        / v.len() as f64;
                    let err = crate::predict::error_rate(mean.view(), &v.y);
                    (Some(nll), Some(1.0 - err))
                }
                None => (None, None),
            };
            let monitored = val_nll.unwrap_or(loss_sum / n as f64);
            let lr_used = opt.learning_rate();
            // best / early stopping
            let improved = monitored < st.best_metric;
            if improved {
                st.best_metric = monitored;
                st.best_epoch = Some(epoch + 1);
                st.stop_bad = 0;
                if c.restore_best || c.checkpoint_dir.is_some() {
                    let params: Vec<(String, ArrayD<f32>)> = model
                        .named_parameters()
                        .into_iter()
                        .map(|(n, t)| (n, t.data().clone()))
                        .collect();
                    if let Some(dir) = &c.checkpoint_dir {
                        write_tensors(dir.join("best.safetensors"), &params)?;
                    }
                    best_params = Some(params);
                }
            } else {
                st.stop_bad += 1;
                if let Some(p) = c.early_stopping
                    && st.stop_bad >= p
                {
                    st.stopped_early = true;
                }
            }
            // plateau schedule
            if let Some(p) = c.plateau
                && monitored.is_finite()
            {
                if st.plateau_best == NO_BEST || monitored < st.plateau_best * (1.0 - p.threshold) {
                    st.plateau_best = monitored;
                    st.plateau_bad = 0;
                } else {
                    st.plateau_bad += 1;
                }
                if st.plateau_bad > p.patience {
                    st.lr = (st.lr * p.factor).max(p.min_lr);
                    st.plateau_bad = 0;
                    opt.set_learning_rate(st.lr);
                }
            }
            let rec = EpochRecord {
                epoch: epoch + 1,
                lr: lr_used,
                loss: loss_sum / n as f64,
                nll: nll_sum / n as f64,
                kl: kl_sum / m as f64,
                acc: correct as f64 / n as f64,
                val_nll,
                val_acc,
                monitored,
                best: improved,
                seconds: t0.elapsed().as_secs_f64(),
            };
            if c.log_epochs {
                eprintln!(
                    "epoch {:4}/{}  {:6.2}s  lr {:.2e}  loss {:.4}  nll {:.4}  kl {:.4e}  acc {:.3}{}{}",
                    rec.epoch,
                    c.epochs,
                    rec.seconds,
                    rec.lr,
                    rec.loss,
                    rec.nll,
                    rec.kl,
                    rec.acc,
                    match (rec.val_nll, rec.val_acc) {
                        (Some(a), Some(b)) => format!("  val_nll {a:.4}  val_acc {b:.3}"),
                        _ => String::new(),
                    },
                    if rec.best { "  *" } else { "" }
                );
            }
            st.history.push(rec);
            st.epochs_done = epoch + 1;
            if let Some(dir) = &c.checkpoint_dir {
                self.save_state(dir, model, &opt, &mut st)?;
            }
        }
        if c.restore_best
            && val.is_some()
            && let Some(best) = &best_params
        {
            let map: std::collections::HashMap<&str, &ArrayD<f32>> =
                best.iter().map(|(n, a)| (n.as_str(), a)).collect();
            let mut err = None;
            model.visit_params_mut("", &mut |name, t| {
                if let Some(a) = map.get(name) {
                    match t.data_mut() {
                        Ok(d) if d.shape() == a.shape() => d.assign(a),
                        Ok(_) => {
                            err = Some(input("restore_best", format!("{name}: shape changed")))
                        }
                        Err(e) => err = Some(e.into()),
                    }
                }
            });
            if let Some(e) = err {
                return Err(e);
            }
        }
        Ok(History {
            records: st.history,
            best_epoch: st.best_epoch,
            stopped_early: st.stopped_early,
        })
    }

    fn save_state<M: BayesModel>(
        &self,
        dir: &Path,
        model: &M,
        opt: &dyn Optimizer,
        st: &mut LoopState,
    ) -> Result<()> {
        let name = format!("ckpt-{:05}.safetensors", st.epochs_done);
        let mut tensors: Vec<(String, ArrayD<f32>)> = model
            .named_parameters()
            .into_iter()
            .map(|(n, t)| (n, t.data().clone()))
            .collect();
        tensors.extend(
            model
                .named_buffers()
                .into_iter()
                .map(|(n, t)| (n, t.data().clone())),
        );
        tensors.extend(
            opt.state()
                .into_iter()
                .map(|(n, a)| (format!("optim.{n}"), a)),
        );
        write_tensors(dir.join(&name), &tensors)?;
        let previous = std::mem::replace(&mut st.checkpoint, name.clone());
        let json =
            serde_json::to_string_pretty(&*st).map_err(|e| input("save_state", e.to_string()))?;
        write_atomic(&dir.join("state.json"), json.as_bytes())?;
        if !previous.is_empty() && previous != name {
            let _ = std::fs::remove_file(dir.join(previous));
        }
        History {
            records: st.history.clone(),
            best_epoch: st.best_epoch,
            stopped_early: st.stopped_early,
        }
        .write(dir)
    }

    fn load_state<M: BayesModel>(
        &self,
        dir: &Path,
        model: &mut M,
        opt: &mut dyn Optimizer,
    ) -> Result<LoopState> {
        let path = dir.join("state.json");
        let p = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: p.clone(),
            source,
        })?;
        let st: LoopState = serde_json::from_str(&text).map_err(|e| Error::Checkpoint {
            path: p.clone(),
            msg: e.to_string(),
        })?;
        if st.seed != self.cfg.seed || st.batch_size != self.cfg.batch_size {
            return Err(Error::Checkpoint {
                path: p,
                msg: format!(
                    "saved run used seed {} and batch size {}, this one {} and {}; resume needs the same settings",
                    st.seed, st.batch_size, self.cfg.seed, self.cfg.batch_size
                ),
            });
        }
        let file = TensorFile::read(dir.join(&st.checkpoint))?;
        load_from(model as &mut dyn Module, &file, false)?;
        let state: Vec<(String, ArrayD<f32>)> = file
            .names()
            .iter()
            .filter_map(|n| {
                n.strip_prefix("optim.")
                    .map(|s| (n.to_string(), s.to_string()))
            })
            .map(|(full, short)| Ok((short, file.f32(&full)?)))
            .collect::<Result<_>>()?;
        opt.load_state(state)?;
        Ok(st)
    }
}
