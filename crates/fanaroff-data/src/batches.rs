//! Mini-batch iteration with seeded shuffling and parallel loading.

use ndarray::{Array1, Array4, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;

use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::transform::{Augment, Scaling};

/// One mini-batch, ready for a model.
#[derive(Debug, Clone)]
pub struct MiniBatch {
    /// Images `[B, 1, H', W']` as `f32`, augmented and scaled.
    pub images: Array4<f32>,
    /// Labels `[B]`.
    pub labels: Array1<usize>,
    /// Positions of these images in the dataset.
    pub indices: Vec<usize>,
}

/// Iterator over mini-batches of a [`Dataset`]; see [`Dataset::batches`].
///
/// Each image is loaded in parallel (rayon): converted to `f32` in 0 … 255,
/// augmented with its own RNG seeded from `(seed, position in the epoch)`,
/// then scaled. The output therefore depends on the seed only, never on
/// the number of threads.
///
/// # Example
/// ```
/// use fanaroff_data::{Scaling, Standardize, SyntheticConfig};
/// use fanaroff_data::transform::Augment;
/// let ds = SyntheticConfig::default().with_seed(1).generate(10)?;
/// let batches = ds
///     .batches(4)?
///     .shuffle(7)
///     .scaling(Scaling::Standardize(Standardize::MIRABEST))
///     .augment(Augment::default().with_rotation(180.0).check()?);
/// let sizes: Vec<usize> = batches.map(|b| b.labels.len()).collect();
/// assert_eq!(sizes, vec![4, 4, 2]);
/// # Ok::<(), fanaroff_data::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Batches<'a> {
    data: &'a Dataset,
    batch_size: usize,
    order: Vec<usize>,
    pos: usize,
    seed: u64,
    scaling: Scaling,
    augment: Option<Augment>,
    drop_last: bool,
}

impl Dataset {
    /// Mini-batches of `batch_size` images in dataset order, scaled with
    /// [`Scaling::Unit`]; configure with the [`Batches`] builder methods.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `batch_size` is 0.
    pub fn batches(&self, batch_size: usize) -> Result<Batches<'_>> {
        if batch_size == 0 {
            return Err(Error::param("batch_size", "0; must be >= 1"));
        }
        Ok(Batches {
            data: self,
            batch_size,
            order: (0..self.len()).collect(),
            pos: 0,
            seed: 0,
            scaling: Scaling::Unit,
            augment: None,
            drop_last: false,
        })
    }
}

impl Batches<'_> {
    /// Shuffles the order with a seed (use e.g. `base_seed + epoch` per epoch).
    /// The seed also drives augmentation.
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.seed = seed;
        self.order = (0..self.data.len()).collect();
        self.order.shuffle(&mut StdRng::seed_from_u64(seed));
        self
    }

    /// Sets the seed of the augmentation without shuffling.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the pixel scaling (default [`Scaling::Unit`]).
    pub fn scaling(mut self, scaling: Scaling) -> Self {
        self.scaling = scaling;
        self
    }

    /// Augments every image (validate it with [`Augment::check`] first).
    pub fn augment(mut self, augment: Augment) -> Self {
        self.augment = Some(augment);
        self
    }

    /// Drops a last, smaller batch.
    pub fn drop_last(mut self, drop: bool) -> Self {
        self.drop_last = drop;
        self
    }

    /// Number of batches still to come.
    pub fn remaining(&self) -> usize {
        let left = self.order.len() - self.pos;
        if self.drop_last {
            left / self.batch_size
        } else {
            left.div_ceil(self.batch_size)
        }
    }
}

/// SplitMix64 finaliser of `seed` combined with `i`.
fn mix(seed: u64, i: u64) -> u64 {
    fanaroff_core::mix64(
        seed ^ i
            .wrapping_add(0x632B_E59B_D9B4_E019)
            .wrapping_mul(fanaroff_core::GOLDEN_GAMMA),
    )
}

impl Iterator for Batches<'_> {
    type Item = MiniBatch;

    fn next(&mut self) -> Option<MiniBatch> {
        let left = self.order.len() - self.pos;
        if left == 0 || (self.drop_last && left < self.batch_size) {
            return None;
        }
        let take = left.min(self.batch_size);
        let start = self.pos;
        let indices: Vec<usize> = self.order[start..start + take].to_vec();
        self.pos += take;
        let (h, w) = self.data.image_size();
        let (oh, ow) = self
            .augment
            .as_ref()
            .map_or((h, w), |a| a.output_size(h, w));
        let mut images = Array4::<f32>::zeros((take, 1, oh, ow));
        let (scaling, augment, seed, data) = (self.scaling, &self.augment, self.seed, self.data);
        images
            .axis_iter_mut(Axis(0))
            .into_par_iter()
            .enumerate()
            .for_each(|(k, mut out)| {
                let raw = data.image(indices[k]).mapv(f32::from);
                let img = match augment {
                    Some(a) => {
                        let mut rng = StdRng::seed_from_u64(mix(seed, (start + k) as u64));
                        a.apply(raw.view(), &mut rng)
                    }
                    None => raw,
                };
                out.index_axis_mut(Axis(0), 0)
                    .zip_mut_with(&img, |o, &v| *o = scaling.apply_value(v));
            });
        let labels = indices.iter().map(|&i| self.data.labels()[i]).collect();
        Some(MiniBatch {
            images,
            labels,
            indices,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.remaining();
        (n, Some(n))
    }
}

impl ExactSizeIterator for Batches<'_> {}
