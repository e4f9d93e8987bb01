//! Attention maps of a finished attention run as a figure: the one
//! picture the attention front ends draw after their grid has run.

use fanaroff::attention::{AttentionNet, attention_maps};
use fanaroff::cli::{Experiment, RECORD_FILE, RunRecord, fresh_model};
use fanaroff::nn::{Module, ModuleExt};
use fanaroff::plot::{Figure, ImageGrid};
use fanaroff::tensor::Tensor;
use fanaroff::train::{ArrayLoader, PredictConfig, predict_samples, predictive_mean};
use ndarray::{Axis, Ix2};
use std::path::Path;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// A finished run's experiment, trained model and test images.
pub struct FinishedRun {
    /// The experiment the run trained.
    pub experiment: Experiment,
    /// The trained model.
    pub model: Box<dyn Module>,
    /// The test images as the model sees them.
    pub test: ArrayLoader<u8>,
}

impl FinishedRun {
    /// Loads the run in `dir` (`record.json`, `model.safetensors`).
    ///
    /// # Errors
    /// An unfinished run, missing data or weights.
    pub fn load(dir: &Path) -> Res<Self> {
        let record = RunRecord::read(&dir.join(RECORD_FILE))?;
        let experiment = Experiment::from_toml(&record.experiment)?;
        let data = experiment.data.load(experiment.seed)?;
        let test = experiment.data.loader(&data.test)?;
        let mut model = fresh_model(&experiment, dir)?.model;
        model.eval();
        Ok(FinishedRun {
            experiment,
            model,
            test,
        })
    }

    /// Whether each test image is classified right (one forward pass).
    ///
    /// # Errors
    /// Prediction failures.
    pub fn right(&self) -> Res<Vec<bool>> {
        let x = self.test.inputs();
        let cfg = PredictConfig::with_samples(1).batch_size(32);
        let p = predictive_mean(predict_samples(self.model.as_ref(), x.view(), &cfg)?.view());
        let labels = self.test.labels();
        Ok(p.outer_iter()
            .zip(labels)
            .map(|(p, y)| usize::from(p[1] > p[0]) == *y)
            .collect())
    }
}

/// Attention maps of the run in `dir` over `per_kind` correctly and
/// `per_kind` wrongly classified test images, one row each (the image, then
/// each gate's map over it), saved as PNG at `path`.
///
/// # Errors
/// A run that is not an attention net, I/O and prediction failures.
pub fn attention_maps_figure(dir: &Path, per_kind: usize, path: &Path) -> Res<()> {
    let run = FinishedRun::load(dir)?;
    let net = run
        .model
        .as_any()
        .and_then(|a| a.downcast_ref::<AttentionNet>())
        .ok_or_else(|| format!("{}: not an attention_net run", dir.display()))?;
    let right = run.right()?;
    let mut rows: Vec<usize> = (0..right.len())
        .filter(|&i| right[i])
        .take(per_kind)
        .collect();
    rows.extend((0..right.len()).filter(|&i| !right[i]).take(per_kind));
    let x = run.test.inputs();
    let raw = run.test.examples().mapv(f32::from);
    let mut grid = ImageGrid::new(1 + net.num_gates());
    for &i in &rows {
        let xi = Tensor::new(x.slice_axis(Axis(0), (i..i + 1).into()).to_owned());
        let img = raw.index_axis(Axis(0), i).index_axis(Axis(0), 0).to_owned();
        let img = img.into_dimensionality::<Ix2>()?;
        grid.push(img.view(), None)?;
        for m in attention_maps(net, &xi, 0)? {
            let m = m
                .index_axis(Axis(0), 0)
                .to_owned()
                .into_dimensionality::<Ix2>()?;
            grid.push(img.view(), Some(m.view()))?;
        }
    }
    grid.save(path)?;
    Ok(())
}
