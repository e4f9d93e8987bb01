//! An in-memory loader over an `[N, C, ...]` array of any element type.

use crate::error::{Result, config, input};
use crate::loader::{Batch, Loader, mix_seed};
use fanaroff_data::transform::Augment;
use fanaroff_data::{Dataset, Scaling};
use fanaroff_tensor::Tensor;
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;
use std::sync::Arc;

/// A per-example augmentation on raw (unscaled) values: receives one
/// example `[C, ...]` and its own RNG, returns the augmented example.
pub type AugmentFn = dyn Fn(ArrayViewD<'_, f32>, &mut StdRng) -> ArrayD<f32> + Send + Sync;

/// Labelled examples held in memory: `x [N, ...]` of any element type that
/// converts to `f32` (`u8` images, `f32` arrays), integer labels.
///
/// Per example, in parallel: convert to `f32`, augment the raw values (when
/// the loop asks for it, with an RNG seeded from `(batch seed, position)`),
/// then scale. Augmentation therefore sees the image as stored (background
/// 0), never standardised values.
///
/// # Example
/// ```
/// use fanaroff_train::{ArrayLoader, Loader};
/// use fanaroff_data::{Scaling, Standardize, SyntheticConfig};
/// use fanaroff_data::transform::Augment;
/// let ds = SyntheticConfig::default().with_seed(1).generate(6)?;
/// let loader = ArrayLoader::from_dataset(&ds, Scaling::Standardize(Standardize::MIRABEST))?
///     .with_augment(Augment::default().with_rotation(180.0).check()?);
/// let b = loader.batch(&[0, 3, 5], 42, true)?;
/// assert_eq!(b.inputs.shape(), &[3, 1, 150, 150]);
/// assert_eq!(b.labels.len(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ArrayLoader<T> {
    x: Arc<ArrayD<T>>,
    y: Vec<usize>,
    classes: usize,
    scaling: Option<Scaling>,
    augment: Option<Arc<AugmentFn>>,
}

impl<T> std::fmt::Debug for ArrayLoader<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArrayLoader")
            .field("shape", &self.x.shape())
            .field("classes", &self.classes)
            .field("scaling", &self.scaling)
            .field("augment", &self.augment.is_some())
            .finish()
    }
}

impl<T: Copy + Into<f32> + Send + Sync> ArrayLoader<T> {
    /// Wraps examples `x [N, ...]` (used as they are: no scaling) with
    /// labels in `0..classes`.
    ///
    /// # Errors
    /// [`InvalidInput`](fanaroff_core::Error::InvalidInput) for an empty set,
    /// a label count other than `N`, a label `>= classes` or a non-finite
    /// value; [`InvalidConfig`](fanaroff_core::Error::InvalidConfig) for
    /// fewer than 2 classes.
    pub fn new(x: ArrayD<T>, y: Vec<usize>, classes: usize) -> Result<Self> {
        if x.ndim() < 2 || x.shape()[0] == 0 {
            return Err(input(
                "ArrayLoader",
                format!("need a non-empty [N, ...] array, got {:?}", x.shape()),
            ));
        }
        if x.shape()[0] != y.len() {
            return Err(input(
                "ArrayLoader",
                format!("{} examples but {} labels", x.shape()[0], y.len()),
            ));
        }
        if classes < 2 {
            return Err(config(
                "ArrayLoader",
                format!("{classes} classes; need >= 2"),
            ));
        }
        if let Some((i, &bad)) = y.iter().enumerate().find(|(_, l)| **l >= classes) {
            return Err(input(
                "ArrayLoader",
                format!("label {bad} of example {i} out of range for {classes} classes"),
            ));
        }
        if x.iter().any(|&v| !v.into().is_finite()) {
            return Err(input("ArrayLoader", "inputs contain NaN or infinity"));
        }
        Ok(ArrayLoader {
            x: Arc::new(x.as_standard_layout().into_owned()),
            y,
            classes,
            scaling: None,
            augment: None,
        })
    }

    /// Scales every value after augmentation.
    pub fn with_scaling(mut self, scaling: Scaling) -> Self {
        self.scaling = Some(scaling);
        self
    }

    /// Sets a per-example training augmentation on raw values.
    pub fn with_augment_fn(mut self, f: Arc<AugmentFn>) -> Self {
        self.augment = Some(f);
        self
    }

    /// Applies an image [`Augment`] to every channel of an example
    /// (`[C, H, W]`) with the same geometric draw.
    pub fn with_augment(self, a: Augment) -> Self {
        self.with_augment_fn(Arc::new(
            move |ex: ArrayViewD<'_, f32>, rng: &mut StdRng| augment_channels(&a, ex, rng),
        ))
    }

    /// Every example prepared as the loop sees it without augmentation
    /// (converted and scaled), `[N, ...]`: inputs for prediction.
    pub fn inputs(&self) -> ArrayD<f32> {
        let all: Vec<usize> = (0..self.len()).collect();
        self.plain_batch(&all)
            .expect("shape of the stored examples")
    }

    /// Every example under one random draw of the loader's augmentation
    /// (example `i` with the RNG `mix(seed, i)`), scaled, `[N, ...]`: one
    /// pass of test-time augmentation. `None` without an augmentation.
    ///
    /// # Errors
    /// An augmentation that changes the example shape unevenly.
    pub fn augmented_inputs(&self, seed: u64) -> Result<Option<ArrayD<f32>>> {
        let Some(f) = &self.augment else {
            return Ok(None);
        };
        let all: Vec<usize> = (0..self.len()).collect();
        self.augmented_batch(f.as_ref(), &all, seed).map(Some)
    }

    /// Whether the loader has an augmentation.
    pub fn is_augmented(&self) -> bool {
        self.augment.is_some()
    }

    /// The labels.
    pub fn labels(&self) -> &[usize] {
        &self.y
    }

    /// The stored examples.
    pub fn examples(&self) -> &ArrayD<T> {
        &self.x
    }

    /// Example `i` as stored (standard layout, so one contiguous row).
    fn row(&self, i: usize) -> &[T] {
        let len = self.x.len() / self.x.shape()[0];
        let all = self.x.as_slice().expect("stored in standard layout");
        &all[i * len..(i + 1) * len]
    }

    /// Converts and scales `src` into `out` (same length).
    fn scale_into(&self, src: impl Iterator<Item = f32>, out: &mut [f32]) {
        match self.scaling {
            None => out.iter_mut().zip(src).for_each(|(o, v)| *o = v),
            Some(s) => out
                .iter_mut()
                .zip(src)
                .for_each(|(o, v)| *o = s.apply_value(v)),
        }
    }

    /// Example `i`, augmented with its own seeded RNG, scaled.
    fn prepare_augmented(&self, f: &AugmentFn, i: usize, seed: u64) -> ArrayD<f32> {
        let raw = self.x.index_axis(Axis(0), i).mapv(Into::into);
        let img = f(raw.view(), &mut StdRng::seed_from_u64(seed));
        let mut out = vec![0.0; img.len()];
        self.scale_into(img.iter().copied(), &mut out);
        ArrayD::from_shape_vec(img.raw_dim(), out).expect("same length")
    }

    /// The examples at `indices` without augmentation, straight into one
    /// `[B, ...]` buffer.
    fn plain_batch(&self, indices: &[usize]) -> Result<ArrayD<f32>> {
        let len = self.x.len() / self.x.shape()[0];
        // Every element is overwritten; the pool hands back last step's batch.
        let mut flat = fanaroff_tensor::pool::take_dirty(indices.len() * len);
        flat.par_chunks_mut(len.max(1))
            .zip(indices.par_iter())
            .for_each(|(out, &i)| self.scale_into(self.row(i).iter().map(|&v| v.into()), out));
        let mut full = vec![indices.len()];
        full.extend_from_slice(&self.x.shape()[1..]);
        ArrayD::from_shape_vec(IxDyn(&full), flat)
            .map_err(|e| input("ArrayLoader::batch", e.to_string()))
    }

    /// The examples at `indices`, each augmented in parallel.
    fn augmented_batch(&self, f: &AugmentFn, indices: &[usize], seed: u64) -> Result<ArrayD<f32>> {
        let examples: Vec<ArrayD<f32>> = indices
            .par_iter()
            .enumerate()
            .map(|(k, &i)| self.prepare_augmented(f, i, mix_seed(seed, k as u64)))
            .collect();
        let shape = examples[0].shape().to_vec();
        if examples.iter().any(|e| e.shape() != shape.as_slice()) {
            return Err(input(
                "ArrayLoader::batch",
                "augmentation gave examples of different shapes",
            ));
        }
        let len = examples[0].len();
        let mut flat = fanaroff_tensor::pool::take_dirty(indices.len() * len);
        for (out, e) in flat.chunks_mut(len.max(1)).zip(&examples) {
            out.iter_mut().zip(e.iter()).for_each(|(o, &v)| *o = v);
        }
        let mut full = vec![indices.len()];
        full.extend_from_slice(&shape);
        ArrayD::from_shape_vec(IxDyn(&full), flat)
            .map_err(|e| input("ArrayLoader::batch", e.to_string()))
    }
}

/// Same geometric draw for every channel: each channel starts from a copy
/// of the example's RNG.
fn augment_channels(a: &Augment, ex: ArrayViewD<'_, f32>, rng: &mut StdRng) -> ArrayD<f32> {
    let Ok(ex3) = ex.view().into_dimensionality::<ndarray::Ix3>() else {
        return ex.to_owned();
    };
    let start = rng.clone();
    let chans: Vec<_> = ex3
        .outer_iter()
        .map(|c| {
            let mut r = start.clone();
            let out = a.apply(c, &mut r);
            *rng = r;
            out
        })
        .collect();
    let views: Vec<_> = chans.iter().map(|c| c.view()).collect();
    ndarray::stack(Axis(0), &views)
        .map(|a| a.into_dyn())
        .unwrap_or_else(|_| ex.to_owned())
}

impl ArrayLoader<u8> {
    /// A loader over a [`Dataset`]'s images `[N, 1, H, W]` (0 … 255) with
    /// the given scaling applied after augmentation.
    ///
    /// # Errors
    /// As [`ArrayLoader::new`] (empty set, labels out of range).
    pub fn from_dataset(ds: &Dataset, scaling: Scaling) -> Result<Self> {
        Ok(ArrayLoader::new(
            ds.images().to_owned().into_dyn(),
            ds.labels().to_vec(),
            ds.num_classes().max(2),
        )?
        .with_scaling(scaling))
    }
}

impl<T: Copy + Into<f32> + Send + Sync> Loader for ArrayLoader<T> {
    fn len(&self) -> usize {
        self.y.len()
    }
    fn num_classes(&self) -> usize {
        self.classes
    }
    fn example_shape(&self) -> Vec<usize> {
        self.x.shape()[1..].to_vec()
    }
    fn label(&self, i: usize) -> usize {
        self.y[i]
    }
    fn batch(&self, indices: &[usize], seed: u64, augment: bool) -> Result<Batch> {
        let n = self.len();
        if indices.is_empty() {
            return Err(input("ArrayLoader::batch", "empty list of indices"));
        }
        if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
            return Err(input(
                "ArrayLoader::batch",
                format!("index {bad} out of range for {n} examples"),
            ));
        }
        let inputs = match (&self.augment, augment) {
            (Some(f), true) => self.augmented_batch(f.as_ref(), indices, seed)?,
            _ => self.plain_batch(indices)?,
        };
        Ok(Batch {
            inputs: Tensor::new(inputs),
            labels: indices.iter().map(|&i| self.y[i]).collect(),
            indices: indices.to_vec(),
            target: None,
        })
    }
}
