//! The latent quantity of the DeepAdversaries paper: how far in the
//! penultimate layer a successful attack moves an image, relative to how
//! far apart the two classes are.

use crate::error::{Result, input};
use crate::steps::{latent, latent_distance};
use fanaroff_nn::Sequential;
use fanaroff_tensor::Tensor;
use ndarray::{Array4, ArrayD, Axis};
use rand::SeedableRng;

/// Distances between clean images and their misclassified perturbed copies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlipDistance {
    /// Mean Euclidean distance in the penultimate layer.
    pub mean: f64,
    /// Distance between the class centroids of the clean reference images.
    pub centroids: f64,
    /// Pairs measured.
    pub pairs: usize,
}

impl FlipDistance {
    /// `mean / centroids`: 1 means a flip moves an image as far as from one
    /// class centre to the other.
    pub fn normalised(&self) -> f64 {
        self.mean / self.centroids
    }
}

/// Measures the pairs `clean[i]`, `flipped[i]` (`[n, 1, H, W]`, model
/// input scale) in the penultimate layer of `model`, and the centroids of
/// the two classes over `reference` with `labels` (0 or 1). One weight
/// draw, seeded by `seed`, serves every image.
///
/// # Errors
/// No pairs, shapes that differ, a class missing from `reference`, model
/// failures.
pub fn flip_distance(
    model: &Sequential,
    clean: &Array4<f32>,
    flipped: &Array4<f32>,
    reference: &Array4<f32>,
    labels: &[usize],
    seed: u64,
) -> Result<FlipDistance> {
    if clean.is_empty() || reference.len_of(Axis(0)) != labels.len() {
        return Err(input(
            "flip_distance",
            format!(
                "{} pairs, {} reference images for {} labels",
                clean.len_of(Axis(0)),
                reference.len_of(Axis(0)),
                labels.len()
            ),
        ));
    }
    let end = model.len() - 1;
    let t = |x: &Array4<f32>| Tensor::new(x.clone().into_dyn());
    let d = latent_distance(model, end, &t(clean), &t(flipped), seed)?;
    let centroids = centroid_distance(model, end, &t(reference), labels, seed)?;
    Ok(FlipDistance {
        mean: d.iter().sum::<f64>() / d.len() as f64,
        centroids,
        pairs: d.len(),
    })
}

/// Euclidean distance between the mean features of class 0 and class 1.
fn centroid_distance(
    model: &Sequential,
    end: usize,
    x: &Tensor,
    labels: &[usize],
    seed: u64,
) -> Result<f64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let h = fanaroff_tensor::no_grad(|| latent(model, x, end, &mut rng))?;
    let h = h.data();
    let mean_of = |class: usize| -> Option<ArrayD<f32>> {
        let rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        h.select(Axis(0), &rows).mean_axis(Axis(0))
    };
    match (mean_of(0), mean_of(1)) {
        (Some(a), Some(b)) => Ok(f64::from((&a - &b).mapv(|v| v * v).sum()).sqrt()),
        _ => Err(input(
            "flip_distance",
            "both classes must be in the reference",
        )),
    }
}
