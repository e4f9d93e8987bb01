//! Photon (Poisson) noise and Gaussian noise at a chosen signal-to-noise
//! ratio.

use crate::error::{Result, config};
use crate::perturbation::{Perturbation, clip};
use ndarray::{Array2, ArrayView2};
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal, Poisson as PoissonDist};

/// Poisson noise: a pixel of value `v` becomes `k / scale` with
/// `k ~ Poisson(v * scale)`; `scale` is the number of counts per unit of
/// pixel value, so a larger scale means a longer exposure and less noise
/// (relative noise `1 / sqrt(v * scale)`). Zero pixels stay zero; results
/// are clipped to 255.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Poisson {
    scale: f64,
}

impl Poisson {
    /// Poisson noise at `scale` counts per unit.
    ///
    /// # Errors
    /// `scale` not finite and > 0.
    pub fn new(scale: f64) -> Result<Self> {
        if !(scale.is_finite() && scale > 0.0) {
            return Err(config(
                "Poisson",
                format!("scale {scale} must be finite and > 0"),
            ));
        }
        Ok(Poisson { scale })
    }
}

impl Perturbation for Poisson {
    fn name(&self) -> String {
        format!("poisson({})", self.scale)
    }

    fn apply(&self, image: ArrayView2<'_, f32>, rng: &mut StdRng) -> Array2<f32> {
        image.mapv(|v| {
            let lambda = f64::from(v.max(0.0)) * self.scale;
            match PoissonDist::new(lambda) {
                Ok(d) => clip((d.sample(rng) / self.scale) as f32),
                Err(_) => 0.0, // lambda == 0: no counts
            }
        })
    }
}

/// Additive Gaussian noise with standard deviation `peak / snr`, where
/// `peak` is the image's brightest pixel: every image gets the same peak
/// signal-to-noise ratio. Results are clipped to `[0, 255]` (so the sky,
/// at 0, gains only positive noise: the mean of the clipped noise there
/// is `0.4 sigma`). An all-zero image is returned unchanged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GaussianSnr {
    snr: f64,
}

impl GaussianSnr {
    /// Gaussian noise at peak SNR `snr`.
    ///
    /// # Errors
    /// `snr` not finite and > 0.
    pub fn new(snr: f64) -> Result<Self> {
        if !(snr.is_finite() && snr > 0.0) {
            return Err(config(
                "GaussianSnr",
                format!("snr {snr} must be finite and > 0"),
            ));
        }
        Ok(GaussianSnr { snr })
    }
}

impl Perturbation for GaussianSnr {
    fn name(&self) -> String {
        format!("gaussian_snr({})", self.snr)
    }

    fn apply(&self, image: ArrayView2<'_, f32>, rng: &mut StdRng) -> Array2<f32> {
        let peak = image.iter().copied().fold(0.0f32, f32::max);
        let sigma = f64::from(peak) / self.snr;
        match Normal::new(0.0, sigma) {
            Ok(d) if sigma > 0.0 => image.mapv(|v| clip(v + d.sample(rng) as f32)),
            _ => image.to_owned(),
        }
    }
}
