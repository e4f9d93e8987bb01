//! [`Dataset`]: images, labels, class names and per-image metadata.

use ndarray::{Array1, Array4, ArrayView2, ArrayView4, Axis};
use rand::Rng;
use rand::seq::SliceRandom;

use crate::error::{Error, Result};
use crate::mirabest::{LabelCode, SourceName};
use crate::transform::Scaling;

/// Where one image came from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SampleInfo {
    /// File name as stored in the release (empty for synthetic images).
    pub filename: String,
    /// MiraBest label code, when known.
    pub code: Option<LabelCode>,
    /// Source name, position, redshift and size parsed from the file name.
    pub source: Option<SourceName>,
    /// Batch or generator the image came from (e.g. `data_batch_3`, `test_batch`, `synthetic`).
    pub origin: String,
}

/// A labelled set of single-channel images, shaped like MiraBest.
///
/// * `images`: `[N, 1, H, W]` `u8` (150 × 150 for MiraBest), row 0 = FITS row 0;
/// * `labels`: class index `0..num_classes` per image;
/// * `class_names`: e.g. `["FRI", "FRII"]` or the ten codes `"100"`…`"310"`;
/// * `samples`: per-image [`SampleInfo`].
///
/// Images stay `u8` in memory (4 × smaller than `f32`); [`Dataset::to_f32`]
/// converts with a [`Scaling`] when a model needs them.
///
/// # Example
/// ```
/// use fanaroff_data::{Dataset, Scaling};
/// use ndarray::Array4;
/// let ds = Dataset::new(Array4::zeros((3, 1, 4, 4)), vec![0, 1, 1], vec!["FRI".into(), "FRII".into()])?;
/// assert_eq!(ds.class_counts(), vec![1, 2]);
/// let x = ds.to_f32(Scaling::Unit);
/// assert_eq!(x.shape(), &[3, 1, 4, 4]);
/// # Ok::<(), fanaroff_data::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Dataset {
    images: Array4<u8>,
    labels: Vec<usize>,
    class_names: Vec<String>,
    samples: Vec<SampleInfo>,
}

impl Dataset {
    /// Builds a dataset without per-image metadata.
    ///
    /// # Errors
    /// [`Error::Shape`] if the numbers of images and labels differ, the
    /// images have more than one channel, or a label is not below
    /// `class_names.len()`.
    pub fn new(images: Array4<u8>, labels: Vec<usize>, class_names: Vec<String>) -> Result<Self> {
        let n = labels.len();
        Self::with_samples(images, labels, class_names, vec![SampleInfo::default(); n])
    }

    /// Builds a dataset with per-image metadata.
    ///
    /// # Errors
    /// As [`Dataset::new`], and if `samples` does not have one entry per image.
    pub fn with_samples(
        images: Array4<u8>,
        labels: Vec<usize>,
        class_names: Vec<String>,
        samples: Vec<SampleInfo>,
    ) -> Result<Self> {
        let n = images.len_of(Axis(0));
        if labels.len() != n || samples.len() != n {
            return Err(Error::Shape(format!(
                "{n} images but {} labels and {} sample records",
                labels.len(),
                samples.len()
            )));
        }
        if images.len_of(Axis(1)) != 1 {
            return Err(Error::Shape(format!(
                "images must have 1 channel, got {}",
                images.len_of(Axis(1))
            )));
        }
        if let Some(&bad) = labels.iter().find(|&&l| l >= class_names.len()) {
            return Err(Error::Shape(format!(
                "label {bad} but only {} class names",
                class_names.len()
            )));
        }
        let images = if images.is_standard_layout() {
            images
        } else {
            images.as_standard_layout().into_owned()
        };
        Ok(Dataset {
            images,
            labels,
            class_names,
            samples,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// `true` when there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Images, `[N, 1, H, W]`.
    pub fn images(&self) -> ArrayView4<'_, u8> {
        self.images.view()
    }

    /// Image `i` as `[H, W]`.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn image(&self, i: usize) -> ArrayView2<'_, u8> {
        self.images
            .index_axis(Axis(0), i)
            .index_axis_move(Axis(0), 0)
    }

    /// Image height and width.
    pub fn image_size(&self) -> (usize, usize) {
        (self.images.shape()[2], self.images.shape()[3])
    }

    /// Class index of every image.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// Labels as an `ndarray` vector.
    pub fn labels_array(&self) -> Array1<usize> {
        Array1::from(self.labels.clone())
    }

    /// Class names; `labels()[i]` indexes into this.
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }

    /// Per-image metadata.
    pub fn samples(&self) -> &[SampleInfo] {
        &self.samples
    }

    /// Number of images of each class, indexed like [`Dataset::class_names`].
    pub fn class_counts(&self) -> Vec<usize> {
        let mut c = vec![0; self.class_names.len()];
        for &l in &self.labels {
            c[l] += 1;
        }
        c
    }

    /// Images converted to `f32` with the given scaling, `[N, 1, H, W]`
    /// (parallel over images).
    pub fn to_f32(&self, scaling: Scaling) -> Array4<f32> {
        scaling.apply(self.images.view())
    }

    /// Decomposes into `(images, labels, class_names, samples)`.
    pub fn into_parts(self) -> (Array4<u8>, Vec<usize>, Vec<String>, Vec<SampleInfo>) {
        (self.images, self.labels, self.class_names, self.samples)
    }

    /// The images at `indices`, in that order (repeats allowed).
    ///
    /// # Errors
    /// [`Error::Shape`] if an index is out of range.
    pub fn select(&self, indices: &[usize]) -> Result<Dataset> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(Error::Shape(format!(
                "index {bad} out of range for a dataset of {}",
                self.len()
            )));
        }
        Ok(Dataset {
            images: self.images.select(Axis(0), indices),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            class_names: self.class_names.clone(),
            samples: indices.iter().map(|&i| self.samples[i].clone()).collect(),
        })
    }

    /// Keeps the images for which `keep(label, info)` is true; labels and class
    /// names are unchanged.
    pub fn filter(&self, mut keep: impl FnMut(usize, &SampleInfo) -> bool) -> Dataset {
        let idx: Vec<usize> = (0..self.len())
            .filter(|&i| keep(self.labels[i], &self.samples[i]))
            .collect();
        // Indices come from 0..len, so selection cannot fail.
        self.select_unchecked(&idx)
    }

    pub(crate) fn select_unchecked(&self, idx: &[usize]) -> Dataset {
        Dataset {
            images: self.images.select(Axis(0), idx),
            labels: idx.iter().map(|&i| self.labels[i]).collect(),
            class_names: self.class_names.clone(),
            samples: idx.iter().map(|&i| self.samples[i].clone()).collect(),
        }
    }

    /// Replaces the labels and class names (same number of images).
    ///
    /// # Errors
    /// As [`Dataset::new`].
    pub fn relabel(self, labels: Vec<usize>, class_names: Vec<String>) -> Result<Dataset> {
        Dataset::with_samples(self.images, labels, class_names, self.samples)
    }

    /// Concatenates datasets with identical class names and image sizes.
    ///
    /// # Errors
    /// [`Error::Shape`] if the list is empty or the parts do not agree.
    pub fn concat(parts: &[&Dataset]) -> Result<Dataset> {
        let first = parts
            .first()
            .ok_or_else(|| Error::Shape("nothing to concatenate".into()))?;
        for p in parts {
            if p.class_names != first.class_names || p.image_size() != first.image_size() {
                return Err(Error::Shape(
                    "datasets with different class names or image sizes".into(),
                ));
            }
        }
        let views: Vec<_> = parts.iter().map(|p| p.images.view()).collect();
        let images = ndarray::concatenate(Axis(0), &views)
            .map_err(|e| Error::Shape(format!("cannot concatenate images: {e}")))?;
        Ok(Dataset {
            images,
            labels: parts
                .iter()
                .flat_map(|p| p.labels.iter().copied())
                .collect(),
            class_names: first.class_names.clone(),
            samples: parts
                .iter()
                .flat_map(|p| p.samples.iter().cloned())
                .collect(),
        })
    }

    /// A copy with the images in random order.
    pub fn shuffled(&self, rng: &mut impl Rng) -> Dataset {
        let mut idx: Vec<usize> = (0..self.len()).collect();
        idx.shuffle(rng);
        self.select_unchecked(&idx)
    }
}
