//! Attention and saliency maps of finished runs as figures: the pictures
//! the attention front ends draw after their grids have run.

use fanaroff::attention::{
    AttentionNet, LrpConfig, attention_map_stats, attention_maps, gradient, lrp_any, per_pixel,
};
use fanaroff::cli::{Experiment, RECORD_FILE, RunRecord, fresh_model};
use fanaroff::nn::{Module, ModuleExt};
use fanaroff::plot::{Figure, ImageGrid};
use fanaroff::tensor::Tensor;
use fanaroff::train::{ArrayLoader, Loader, PredictConfig, predict_samples, predictive_mean};
use ndarray::{Array2, ArrayD, Axis, Ix2};
use std::path::Path;
use std::path::PathBuf;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// A finished run's experiment, trained model and test images.
pub struct FinishedRun {
    /// The experiment the run trained.
    pub experiment: Experiment,
    /// The trained model.
    pub model: Box<dyn Module>,
    /// The test images as the model sees them.
    pub test: ArrayLoader<u8>,
    /// MBFRUncertain, when the data has it.
    pub uncertain: Option<ArrayLoader<u8>>,
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
        let uncertain = match data.uncertain.is_empty() {
            true => None,
            false => Some(experiment.data.loader(&data.uncertain)?),
        };
        let mut model = fresh_model(&experiment, dir)?.model;
        model.eval();
        Ok(FinishedRun {
            experiment,
            model,
            test,
            uncertain,
        })
    }

    /// The model as an attention net.
    ///
    /// # Errors
    /// A run of another model kind.
    pub fn attention_net(&self) -> Res<&AttentionNet> {
        let net = self
            .model
            .as_any()
            .and_then(|a| a.downcast_ref::<AttentionNet>());
        Ok(net.ok_or("not an attention_net run")?)
    }

    /// `per_kind` test images the model classifies right, then `per_kind`
    /// it gets wrong (fewer where there are fewer).
    ///
    /// # Errors
    /// Prediction failures.
    pub fn right_then_wrong(&self, per_kind: usize) -> Res<(Vec<usize>, Vec<bool>)> {
        let right = self.right()?;
        let mut rows: Vec<usize> = (0..right.len())
            .filter(|&i| right[i])
            .take(per_kind)
            .collect();
        rows.extend((0..right.len()).filter(|&i| !right[i]).take(per_kind));
        Ok((rows, right))
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
        .attention_net()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let (rows, _) = run.right_then_wrong(per_kind)?;
    let mut grid = ImageGrid::new(1 + net.num_gates());
    for &i in &rows {
        let (xi, img) = one_image(&run.test, i)?;
        grid.push(img.view(), None)?;
        for m in attention_maps(net, &xi, 0)? {
            grid.push(img.view(), Some(first(&m)?.view()))?;
        }
    }
    grid.save(path)?;
    Ok(())
}

/// Saliency of several finished runs side by side, one row per test image
/// (`per_kind` that the first run classifies right, then `per_kind` it gets
/// wrong): the image, then per run its gates' maps (attention nets),
/// |gradient| and |LRP| (models with LRP rules), saved as PNG at `path`.
/// The runs must share their test images.
///
/// # Errors
/// No run, unfinished runs, I/O and prediction failures.
pub fn saliency_figure(dirs: &[PathBuf], per_kind: usize, path: &Path) -> Res<()> {
    let mut runs: Vec<FinishedRun> = dirs
        .iter()
        .map(|d| FinishedRun::load(d))
        .collect::<Res<_>>()?;
    let lead = runs.first().ok_or("saliency_figure: no run")?;
    let (rows, right) = lead.right_then_wrong(per_kind)?;
    let labels = lead.test.labels().to_vec();
    let mut tiles: Vec<Vec<Array2<f32>>> = Vec::new();
    for &i in &rows {
        let (xi, img) = one_image(&runs[0].test, i)?;
        let mut row = vec![img];
        for run in &mut runs {
            // the first run's predicted class (two classes)
            let class = if right[i] { labels[i] } else { 1 - labels[i] };
            row.extend(explanations(run.model.as_mut(), &xi, class)?);
        }
        tiles.push(row);
    }
    let mut grid = ImageGrid::new(tiles.first().map_or(1, Vec::len));
    for row in &tiles {
        grid.push(row[0].view(), None)?;
        for m in &row[1..] {
            grid.push(row[0].view(), Some(m.view()))?;
        }
    }
    grid.save(path)?;
    Ok(())
}

/// One image's maps from `model`: gates, |gradient|, |LRP|, each `[H, W]`.
fn explanations(model: &mut dyn Module, x: &Tensor, class: usize) -> Res<Vec<Array2<f32>>> {
    let tile = |m: &ArrayD<f32>| first(&per_pixel(m).mapv(f32::abs));
    let mut maps = Vec::new();
    if let Some(net) = model
        .as_any()
        .and_then(|a| a.downcast_ref::<AttentionNet>())
    {
        for m in attention_maps(net, x, 0)? {
            maps.push(tile(&m)?);
        }
    }
    maps.push(tile(&gradient(model, x, &[class], 0)?)?);
    if let Some(r) = lrp_any(model, x, &[class], &LrpConfig::default())? {
        maps.push(tile(&r)?);
    }
    Ok(maps)
}

/// Mean and standard deviation over `draws` weight draws of the first two
/// gates' maps of the (Bayesian) attention run in `dir`: one row per image
/// (`per_kind` right and `per_kind` wrong test images, then `per_kind`
/// MBFRUncertain images); columns: the image, gate 1 mean and std, gate 2
/// mean and std. Saved as PNG at `path`.
///
/// # Errors
/// A run that is not an attention net, I/O and prediction failures.
pub fn spread_figure(dir: &Path, per_kind: usize, draws: usize, path: &Path) -> Res<()> {
    let run = FinishedRun::load(dir)?;
    let net = run
        .attention_net()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let (picked, _) = run.right_then_wrong(per_kind)?;
    let mut rows: Vec<(&ArrayLoader<u8>, usize)> =
        picked.into_iter().map(|i| (&run.test, i)).collect();
    if let Some(u) = &run.uncertain {
        rows.extend((0..u.len().min(per_kind)).map(|i| (u, i)));
    }
    let mut grid = ImageGrid::new(5);
    for (loader, i) in rows {
        let (xi, img) = one_image(loader, i)?;
        grid.push(img.view(), None)?;
        for (mean, std) in attention_map_stats(net, &xi, draws, 0)?.iter().take(2) {
            grid.push(img.view(), Some(first(mean)?.view()))?;
            grid.push(img.view(), Some(first(std)?.view()))?;
        }
    }
    grid.save(path)?;
    Ok(())
}

/// Image `i` of `loader`: the network input `[1, C, H, W]` and its raw
/// first channel `[H, W]`.
fn one_image(loader: &ArrayLoader<u8>, i: usize) -> Res<(Tensor, Array2<f32>)> {
    let x = loader.inputs();
    let xi = Tensor::new(x.slice_axis(Axis(0), (i..i + 1).into()).to_owned());
    let raw = loader.examples().index_axis(Axis(0), i).mapv(f32::from);
    Ok((xi, first(&raw)?))
}

/// The first `[H, W]` plane of a map or image stack.
fn first(m: &ArrayD<f32>) -> Res<Array2<f32>> {
    Ok(m.index_axis(Axis(0), 0)
        .to_owned()
        .into_dimensionality::<Ix2>()?)
}
