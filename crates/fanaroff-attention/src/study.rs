//! The attention study (Bowles et al. 2021): how well a trained network
//! classifies the test images and where it looks, as the fraction of each
//! gate's attention and of each saliency map's absolute mass that falls on
//! source pixels (non-zero pixels of the processed image).
//!
//! Works on any model: an [`AttentionNet`] adds its gates' maps and uses
//! the gated LRP rules, a [`Sequential`] the plain LRP, and any other model
//! gets the gradient maps alone. Prints nothing; returns one
//! [`ExplainRow`].
//!
//! ```
//! use fanaroff_attention::{AttentionNetConfig, ExplainStudy};
//! use fanaroff_data::{Scaling, SyntheticConfig};
//! use fanaroff_nn::ModuleExt;
//! use fanaroff_nn::models::PlainLayers;
//! use fanaroff_train::ArrayLoader;
//! use rand::{SeedableRng, rngs::StdRng};
//!
//! let cfg = AttentionNetConfig { blocks: vec![vec![4], vec![4], vec![8]], inter_channels: 4, ..Default::default() };
//! let mut net = cfg.build(&mut PlainLayers::new(&mut StdRng::seed_from_u64(0)))?;
//! net.eval();
//! let images = SyntheticConfig::default().with_image_size(32).with_size_range(3.0, 12.0).generate(8)?;
//! let test = ArrayLoader::from_dataset(&images, Scaling::Symmetric)?;
//! let row = ExplainStudy::default().run(&mut net, &test)?;
//! assert_eq!(row.attention_mass.len(), 2);
//! assert!((0.0..=1.0).contains(&row.lrp_mass.unwrap()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::lrp_any::{has_lrp_rules, lrp_any};
use crate::maps::{attention_maps, source_mass};
use crate::net::AttentionNet;
use crate::saliency::{LrpConfig, gradient, gradient_x_input, per_pixel};
use fanaroff_calibrate::auroc;
use fanaroff_nn::{Module, Result};
use fanaroff_tensor::Tensor;
use fanaroff_train::{ArrayLoader, Loader, PredictConfig, predict_samples, predictive_mean};
use ndarray::{Array4, ArrayD, Axis, Ix4};
use serde::{Deserialize, Serialize};

/// Settings of the attention study.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `batch_size` | 32 | images per forward pass |
/// | `saliency` | true | also gradient, gradient × input and LRP masses |
/// | `lrp` | epsilon 1e-6 | the LRP rules ([`LrpConfig`]) |
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExplainStudy {
    /// Images per forward pass.
    pub batch_size: usize,
    /// Whether to measure the saliency maps too.
    pub saliency: bool,
    /// LRP settings.
    pub lrp: LrpConfig,
}

impl Default for ExplainStudy {
    fn default() -> Self {
        ExplainStudy {
            batch_size: 32,
            saliency: true,
            lrp: LrpConfig::default(),
        }
    }
}

/// What the study measured on the test images (masses are means over
/// images of the fraction of a map's absolute mass on source pixels).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplainRow {
    /// Accuracy of the predicted class (one forward pass, eval mode).
    pub test_accuracy: f64,
    /// AUROC of p(class 1).
    pub test_auc: f64,
    /// Mean fraction of an image that is source: a map that ignores the
    /// images scores about this.
    pub source_area: f64,
    /// Each gate's attention mass (empty without gates).
    pub attention_mass: Vec<f64>,
    /// Gradient mass.
    pub gradient_mass: Option<f64>,
    /// Gradient × input mass.
    pub gradient_x_input_mass: Option<f64>,
    /// LRP mass (gated or plain rules; `None` for other models).
    pub lrp_mass: Option<f64>,
}

/// The test images by batch: network inputs and raw pixels.
struct Batches<'a> {
    test: &'a ArrayLoader<u8>,
    raw: Array4<f32>,
    size: usize,
}

impl Batches<'_> {
    fn ranges(&self) -> Vec<std::ops::Range<usize>> {
        let n = self.test.len();
        (0..n)
            .step_by(self.size)
            .map(|s| s..(s + self.size).min(n))
            .collect()
    }
    fn inputs(&self, r: std::ops::Range<usize>) -> Tensor {
        Tensor::new(self.test.inputs().slice_axis(Axis(0), r.into()).to_owned())
    }
    fn raw(&self, r: std::ops::Range<usize>) -> Array4<f32> {
        self.raw.slice_axis(Axis(0), r.into()).to_owned()
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

impl ExplainStudy {
    /// Measures `model` (in evaluation mode) on `test`.
    ///
    /// # Errors
    /// A model in training mode, an empty test set, prediction failures.
    pub fn run(&self, model: &mut dyn Module, test: &ArrayLoader<u8>) -> Result<ExplainRow> {
        let raw = test
            .examples()
            .mapv(f32::from)
            .into_dimensionality::<Ix4>()
            .map_err(shape)?;
        let area = raw.iter().filter(|&&p| p != 0.0).count() as f64 / raw.len().max(1) as f64;
        let b = Batches {
            test,
            raw,
            size: self.batch_size.max(1),
        };
        let (classes, accuracy, auc) = predictions(model, test, self.batch_size)?;
        let attention_mass = match model
            .as_any()
            .and_then(|a| a.downcast_ref::<AttentionNet>())
        {
            Some(net) => gate_masses(net, &b)?,
            None => Vec::new(),
        };
        let mut row = ExplainRow {
            test_accuracy: accuracy,
            test_auc: auc,
            source_area: area,
            attention_mass,
            gradient_mass: None,
            gradient_x_input_mass: None,
            lrp_mass: None,
        };
        if self.saliency {
            let m: &dyn Module = model;
            row.gradient_mass = Some(mass_of(&b, &classes, |x, c| gradient(m, x, c, 0))?);
            row.gradient_x_input_mass =
                Some(mass_of(&b, &classes, |x, c| gradient_x_input(m, x, c, 0))?);
            row.lrp_mass = self.lrp_mass(model, &b, &classes)?;
        }
        Ok(row)
    }

    fn lrp_mass(
        &self,
        model: &mut dyn Module,
        b: &Batches<'_>,
        c: &[usize],
    ) -> Result<Option<f64>> {
        if !has_lrp_rules(model) {
            return Ok(None);
        }
        let mass = mass_of(b, c, |x, cl| {
            Ok(lrp_any(model, x, cl, &self.lrp)?.expect("the model has LRP rules"))
        })?;
        Ok(Some(mass))
    }
}

fn shape(e: ndarray::ShapeError) -> fanaroff_nn::Error {
    fanaroff_nn::Error::External(Box::new(e))
}

/// Predicted classes, accuracy and AUROC of p(class 1).
fn predictions(
    model: &dyn Module,
    test: &ArrayLoader<u8>,
    batch: usize,
) -> Result<(Vec<usize>, f64, f64)> {
    let cfg = PredictConfig::with_samples(1).batch_size(batch.max(1));
    let s = predict_samples(model, test.inputs().view(), &cfg).map_err(external)?;
    let p = predictive_mean(s.view());
    let classes: Vec<usize> = p
        .outer_iter()
        .map(|r| (0..r.len()).fold(0, |best, k| if r[k] > r[best] { k } else { best }))
        .collect();
    let labels = test.labels();
    let right = classes.iter().zip(labels).filter(|(c, y)| c == y).count();
    let scores: Vec<f64> = p.column(1).iter().map(|&v| f64::from(v)).collect();
    let positives: Vec<bool> = labels.iter().map(|&y| y == 1).collect();
    let auc = auroc(&scores, &positives).unwrap_or(f64::NAN);
    Ok((classes, right as f64 / labels.len().max(1) as f64, auc))
}

fn external<E: std::error::Error + Send + Sync + 'static>(e: E) -> fanaroff_nn::Error {
    fanaroff_nn::Error::External(Box::new(e))
}

/// Mean source mass of each gate's map.
fn gate_masses(net: &AttentionNet, b: &Batches<'_>) -> Result<Vec<f64>> {
    let mut per_gate = vec![Vec::new(); net.num_gates()];
    for r in b.ranges() {
        for (k, m) in attention_maps(net, &b.inputs(r.clone()), 0)?
            .iter()
            .enumerate()
        {
            per_gate[k].extend(source_mass(&b.raw(r.clone()), m)?);
        }
    }
    Ok(per_gate.iter().map(|v| mean(v)).collect())
}

/// Mean source mass of the absolute per-pixel map `explain` gives.
fn mass_of(
    b: &Batches<'_>,
    classes: &[usize],
    mut explain: impl FnMut(&Tensor, &[usize]) -> Result<ArrayD<f32>>,
) -> Result<f64> {
    let mut all = Vec::new();
    for r in b.ranges() {
        let map = per_pixel(&explain(&b.inputs(r.clone()), &classes[r.clone()])?);
        all.extend(source_mass(&b.raw(r), &map.mapv(f32::abs))?);
    }
    Ok(mean(&all))
}
