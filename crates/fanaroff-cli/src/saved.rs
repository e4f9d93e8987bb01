//! A finished run folder opened again: its record, its experiment, its
//! trained model, and what a user does with them afterwards (predict with
//! uncertainty, prune, look at attention maps).

use crate::data::RunData;
use crate::error::{Result, invalid};
use crate::experiment::Experiment;
use crate::record::{RECORD_FILE, RunRecord};
use crate::study::fresh_model;
use fanaroff_attention::AttentionNet;
use fanaroff_core::IoError;
use fanaroff_data::Dataset;
use fanaroff_nn::{Module, ModuleExt};
use fanaroff_prune::{Criterion, CriterionName, Fisher, FisherPass, PruneConfig, PruneReport};
use fanaroff_tensor::Tensor;
use fanaroff_train::{Classifier, ModuleClassifier, PredictConfig};
use ndarray::{Array3, Array4, ArrayD, ArrayView4};
use std::path::{Path, PathBuf};

/// A run folder written by [`run`](crate::run): `record.json`,
/// `experiment.toml` and `model.safetensors`, with the model rebuilt from
/// the experiment and its trained weights loaded (evaluation mode).
///
/// ```no_run
/// use fanaroff_cli::SavedRun;
/// let run = SavedRun::open("runs/bbb")?;
/// let data = run.data()?;
/// // 20 weight draws of the predictive on the test images: [20, N, 2].
/// let p = run.predict(data.test.images(), 20, 0)?;
/// assert_eq!(p.shape()[1], data.test.len());
/// # Ok::<(), fanaroff_cli::Error>(())
/// ```
pub struct SavedRun {
    dir: PathBuf,
    record: RunRecord,
    experiment: Experiment,
    model: Box<dyn Module>,
}

impl SavedRun {
    /// Opens the run folder `dir`.
    ///
    /// # Errors
    /// A folder without a record (the run has not finished) or without
    /// `model.safetensors`; a record whose experiment no longer parses;
    /// weights that do not fit the experiment's model.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let record_path = dir.join(RECORD_FILE);
        if !record_path.is_file() {
            return Err(IoError::new(
                record_path.clone(),
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no run record here (not a run folder, or the run has not finished)",
                ),
            )
            .into());
        }
        let record = RunRecord::read(&record_path)?;
        let experiment = Experiment::from_toml(&record.experiment)?;
        let weights = dir.join("model.safetensors");
        if !weights.is_file() {
            return Err(IoError::new(
                weights.clone(),
                std::io::Error::new(std::io::ErrorKind::NotFound, "no trained weights"),
            )
            .into());
        }
        let mut model = fresh_model(&experiment, &dir)?.model;
        model.as_mut().eval();
        Ok(SavedRun {
            dir,
            record,
            experiment,
            model,
        })
    }

    /// The run folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The run's record.
    pub fn record(&self) -> &RunRecord {
        &self.record
    }

    /// The experiment as it was run.
    pub fn experiment(&self) -> &Experiment {
        &self.experiment
    }

    /// The trained model (evaluation mode).
    pub fn model(&self) -> &dyn Module {
        &*self.model
    }

    /// Whether the model's predictions vary between weight draws.
    pub fn stochastic(&self) -> bool {
        self.experiment.model.stochastic()
    }

    /// The run's images, split exactly as the run split them.
    ///
    /// # Errors
    /// As [`DataSpec::load`](crate::DataSpec::load) (e.g. a MiraBest
    /// release that has moved).
    pub fn data(&self) -> Result<RunData> {
        self.experiment.data.load(self.experiment.seed)
    }

    /// Images `[N, 1, H, W]` bytes as the model sees them (the run's
    /// scaling), `[N, 1, H, W]` floats.
    ///
    /// # Errors
    /// No images.
    pub fn prepare(&self, images: ArrayView4<'_, u8>) -> Result<ArrayD<f32>> {
        if images.shape()[0] == 0 {
            return Err(invalid("images", "no images (N = 0)"));
        }
        let ds = Dataset::new(
            images.to_owned(),
            vec![0; images.shape()[0]],
            vec!["FRI".into(), "FRII".into()],
        )?;
        Ok(self.experiment.data.loader(&ds)?.inputs())
    }

    /// The predictive on `images` (`[N, 1, H, W]` bytes, as the readers
    /// give them): class probabilities of `draws` weight draws,
    /// `[draws, N, K]` (one draw for a deterministic model, whatever
    /// `draws` is). Batch size and weight sampling as the experiment's
    /// `[eval]`; the same `seed` gives the same draws.
    ///
    /// # Errors
    /// Zero draws; images of a size the model does not take.
    pub fn predict(
        &self,
        images: ArrayView4<'_, u8>,
        draws: usize,
        seed: u64,
    ) -> Result<Array3<f32>> {
        self.predict_batched(images, draws, seed, self.experiment.evaluation.batch_size)
    }

    /// [`predict`](Self::predict) with a batch size of its own (the draw
    /// plan depends on it).
    ///
    /// # Errors
    /// As [`predict`](Self::predict); a zero batch size.
    pub fn predict_batched(
        &self,
        images: ArrayView4<'_, u8>,
        draws: usize,
        seed: u64,
        batch_size: usize,
    ) -> Result<Array3<f32>> {
        let x = self.prepare(images)?;
        let eval = &self.experiment.evaluation;
        let cfg = PredictConfig::with_samples(draws)
            .batch_size(batch_size)
            .weight_sampling(eval.weight_sampling)
            .draws_per_pass(eval.draws_per_pass)
            .seed(seed);
        let classifier = ModuleClassifier::new(&*self.model, self.stochastic());
        Ok(classifier.predict(x.view(), &cfg)?)
    }

    /// Prunes `fraction` of the fully connected weights of each layer by
    /// `criterion`, in memory (the folder is not changed). The Fisher
    /// criteria read Adam's moments from the run's checkpoint
    /// (`fisher-adam*`) or pass over the training images (`fisher-grad*`);
    /// `random` is seeded by the run's seed, as in the pruning study.
    ///
    /// # Errors
    /// A fraction outside `[0, 1]`; a criterion the model has no scores
    /// for (`snr` on a deterministic model); a missing checkpoint.
    pub fn prune(&mut self, criterion: CriterionName, fraction: f64) -> Result<PruneReport> {
        let mut c = self.criterion(criterion)?;
        Ok(fanaroff_prune::prune(
            &mut *self.model,
            &mut *c,
            &PruneConfig::fraction(fraction),
        )?)
    }

    fn criterion(&self, name: CriterionName) -> Result<Box<dyn Criterion>> {
        use CriterionName::*;
        let adam = || Fisher::from_checkpoint(self.dir.join("ckpt"));
        let grad = || -> Result<Fisher> {
            let data = self.data()?;
            let train = self.experiment.data.loader(&data.train)?;
            Ok(Fisher::from_gradients(
                &*self.model,
                &train,
                &FisherPass::default(),
            )?)
        };
        Ok(match name {
            Snr => Box::new(fanaroff_prune::Snr::ratio()),
            SnrDb => Box::new(fanaroff_prune::Snr::db()),
            FisherAdam => Box::new(adam()?),
            FisherAdamObd => Box::new(adam()?.saliency()),
            FisherGrad => Box::new(grad()?),
            FisherGradObd => Box::new(grad()?.saliency()),
            Magnitude => Box::new(fanaroff_prune::Magnitude),
            Random => Box::new(fanaroff_prune::Random::new(
                self.experiment.seed ^ 0xbad5eed,
            )),
        })
    }

    /// The attention maps of an attention run on `images` (`[N, 1, H, W]`
    /// bytes): one `[N, H, W]` map per gate, upsampled to the image size,
    /// gate 1 (finest) first. `seed` drives the draw of a stochastic net.
    ///
    /// # Errors
    /// A run whose model is not an attention net; no images.
    pub fn attention_maps(
        &self,
        images: ArrayView4<'_, u8>,
        seed: u64,
    ) -> Result<Vec<ArrayD<f32>>> {
        let net = self
            .model
            .as_any()
            .and_then(|a| a.downcast_ref::<AttentionNet>())
            .ok_or_else(|| {
                invalid(
                    "attention_maps",
                    format!(
                        "the run's model ({}) is not an attention net",
                        self.experiment.model.label()
                    ),
                )
            })?;
        let x = Tensor::from_array(self.prepare(images)?);
        Ok(fanaroff_attention::attention_maps(net, &x, seed)?)
    }
}

/// `[N, H, W]` or `[N, 1, H, W]` images as `[N, 1, H, W]`.
///
/// # Errors
/// Any other shape.
pub fn as_nchw(images: ArrayD<u8>) -> Result<Array4<u8>> {
    let shape = images.shape().to_vec();
    let out = match shape.len() {
        3 => images.into_shape_with_order((shape[0], 1, shape[1], shape[2])),
        4 if shape[1] == 1 => images.into_shape_with_order((shape[0], 1, shape[2], shape[3])),
        _ => {
            return Err(invalid(
                "images",
                format!("expected [N, H, W] or [N, 1, H, W] images, got {shape:?}"),
            ));
        }
    };
    out.map_err(|e| invalid("images", e.to_string()))
}
